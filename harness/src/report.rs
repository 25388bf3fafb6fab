//! Run reports: the `--json` object and the narrative text a person reads.
//!
//! Both forms always pass through at least secrets-only redaction; the caller chooses whether ids
//! are redacted too (snapshots) or kept (a human debugging a sandbox run).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use wana_emulator::BehaviourProfile;

use wana_i18n::{tr, Lang};

use crate::{
    backend::BackendKind,
    narration::Narration,
    outcome::{Phase, Step},
    redact::Redactor,
    verdict::Verdict,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub trap: String,
    pub backend: BackendKind,
    #[serde(with = "profile_name")]
    pub profile: BehaviourProfile,
    pub verdict: Verdict,
    /// What the scenario says this backend and profile should conclude; `None` when the trap has
    /// no runnable scenario yet and so no expectation.
    pub expected_verdict: Option<Verdict>,
    pub matches_expectation: bool,
    /// Why the run could not conclude anything about AWS (verdicts `error` and `unsupported`).
    pub error: Option<String>,
    pub steps: Vec<Step>,
    /// The scenario's explanations of what happened and why.
    pub narrative_notes: Vec<String>,
    /// The teardown failed on a backend where leftovers cost money (a sandbox account): something
    /// the run created may still exist (`cargo xtask cleanup` finds it; exit code 4).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub left_resources: bool,
    /// The calls services made for the run's principals (EC2 using a key as the caller, Auto
    /// Scaling as its role, the SSM Agent as an instance role), each under the step it belongs
    /// to: read from the emulator's authorization log, empty on other backends. For the HTML
    /// report ([`crate::report_html`]); not part of the JSON form, so snapshots stay as they are.
    #[serde(skip)]
    pub inner_calls: Vec<crate::report_html::inner::InnerCall>,
    /// The notes as messages of the catalog, for the text form in another language; never in
    /// the JSON form (which stays English), and always equal (see [`Narration`]).
    #[serde(skip)]
    pub narration: Narration,
}

impl RunReport {
    /// The report for a trap that has no runnable scenario: verdict `unsupported`, no expectation.
    pub fn not_runnable(trap: &str, backend: BackendKind, profile: BehaviourProfile) -> RunReport {
        RunReport {
            trap: trap.to_string(),
            backend,
            profile,
            verdict: Verdict::Unsupported,
            expected_verdict: None,
            matches_expectation: false,
            error: Some(format!("trap {trap} has no runnable scenario yet")),
            steps: Vec::new(),
            narrative_notes: Vec::new(),
            left_resources: false,
            inner_calls: Vec::new(),
            narration: Narration::default(),
        }
    }

    /// A copy with every text field redacted. Whatever `redactor`'s level, secrets go.
    pub fn redacted(&self, redactor: &Redactor) -> RunReport {
        let redactor = &self.report_redactor(redactor);
        let text = |t: &str| redactor.redact_text(t);
        RunReport {
            trap: self.trap.clone(),
            backend: self.backend,
            profile: self.profile,
            verdict: self.verdict,
            expected_verdict: self.expected_verdict,
            matches_expectation: self.matches_expectation,
            error: self.error.as_deref().map(text),
            steps: self.steps.iter().map(|s| s.redacted(redactor)).collect(),
            narrative_notes: self.narrative_notes.iter().map(|n| text(n)).collect(),
            left_resources: self.left_resources,
            inner_calls: self.inner_calls.iter().map(|c| c.redacted(redactor)).collect(),
            narration: self.narration.redacted(redactor),
        }
    }

    /// `redactor`, plus the run's names on backends where they carry a random suffix.
    fn report_redactor(&self, redactor: &Redactor) -> Redactor {
        // On shared backends names carry the run's random suffix; full redaction makes it stable.
        // The emulator's run id has none (`wana-<trap>`): its names are stable already.
        let mut redactor = redactor.clone();
        if self.backend != BackendKind::Emulator {
            redactor.add_trap(&self.trap);
        }
        redactor
    }

    /// One line of JSON (the `--json` form).
    pub fn to_json_line(&self, redactor: &Redactor) -> String {
        serde_json::to_string(&self.redacted(redactor)).expect("reports serialize")
    }

    /// The narrative form in English: a header, one line per step with the exact AWS text, the
    /// notes, and the verdict against the expectation.
    pub fn render_text(&self, redactor: &Redactor) -> String {
        self.render_text_in(redactor, Lang::En)
    }

    /// The narrative form in `lang`. AWS's own words (error codes and messages, ids, the
    /// values of a step) stay as AWS returned them; a note recorded as plain English only stays
    /// English.
    pub fn render_text_in(&self, redactor: &Redactor, lang: Lang) -> String {
        let report = self.redacted(redactor);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}",
            tr!(lang, "narration.header", trap = report.trap, backend = report.backend, profile = report.profile)
        );
        for (index, step) in report.steps.iter().enumerate() {
            let _ = writeln!(out, "{}", render_step(step, lang));
            let note = match report.narration.step_notes.get(&index) {
                Some(note) => Some(note.render(lang)),
                None => step.note.clone(),
            };
            if let Some(note) = note {
                let _ = writeln!(out, "    {}", tr!(lang, "narration.step_note", note = note));
            }
        }
        for (index, note) in report.narrative_notes.iter().enumerate() {
            let note = match report.narration.notes.get(index) {
                Some(Some(message)) => message.render(lang),
                _ => note.clone(),
            };
            let _ = writeln!(out, "  - {note}");
        }
        if let Some(error) = &report.error {
            let _ = writeln!(out, "{error}");
        }
        let expectation = match report.expected_verdict {
            Some(expected) if report.matches_expectation => {
                tr!(lang, "narration.as_expected", expected = expected)
            }
            Some(expected) => {
                tr!(lang, "narration.does_not_match", expected = expected)
            }
            None => tr!(lang, "narration.no_expectation"),
        };
        let verdict = verdict_shown(report.verdict, lang);
        let _ = writeln!(
            out,
            "{}",
            tr!(lang, "narration.verdict_line", verdict = verdict, expectation = expectation)
        );
        if lang != Lang::En {
            let _ = writeln!(out, "  {}", verdict_meaning(report.verdict, lang));
        }
        out
    }
}

/// `[phase] principal → call: ok {detail}` or `[phase] principal → call: Code: message`.
fn render_step(step: &Step, lang: Lang) -> String {
    let outcome = if step.ok {
        match &step.detail {
            Value::Null => tr!(lang, "narration.ok"),
            detail => format!("{} {detail}", tr!(lang, "narration.ok")),
        }
    } else {
        format!(
            "{}: {}",
            step.error_code.as_deref().unwrap_or("Error"),
            step.error_message.as_deref().unwrap_or("")
        )
    };
    format!(
        "[{}] {} → {}: {outcome}",
        phase_name(step.phase, lang),
        step.principal,
        step.call
    )
}

/// A phase as the reader's language names it (in English, its name in the JSON form).
pub fn phase_name(phase: Phase, lang: Lang) -> String {
    match phase {
        Phase::Provision => tr!(lang, "narration.phase.provision"),
        Phase::Trigger => tr!(lang, "narration.phase.trigger"),
        Phase::Observe => tr!(lang, "narration.phase.observe"),
        Phase::Fix => tr!(lang, "narration.phase.fix"),
        Phase::Verify => tr!(lang, "narration.phase.verify"),
        Phase::Teardown => tr!(lang, "narration.phase.teardown"),
    }
}

/// A verdict as the text form shows it: its name (`fix-failed`), followed in a language other
/// than English by what the name says in that language.
pub fn verdict_shown(verdict: Verdict, lang: Lang) -> String {
    match lang {
        Lang::En => verdict.to_string(),
        _ => tr!(lang, "narration.verdict_with_name", verdict = verdict, name = verdict_name(verdict, lang)),
    }
}

/// A verdict in words (`reproduced and fixed`).
pub fn verdict_name(verdict: Verdict, lang: Lang) -> String {
    match verdict {
        Verdict::ReproducedAndFixed => tr!(lang, "narration.verdict.reproduced_and_fixed"),
        Verdict::NotReproduced => tr!(lang, "narration.verdict.not_reproduced"),
        Verdict::FixFailed => tr!(lang, "narration.verdict.fix_failed"),
        Verdict::Unsupported => tr!(lang, "narration.verdict.unsupported"),
        Verdict::Error => tr!(lang, "narration.verdict.error"),
    }
}

/// What a verdict means, in one sentence.
pub fn verdict_meaning(verdict: Verdict, lang: Lang) -> String {
    match verdict {
        Verdict::ReproducedAndFixed => tr!(lang, "narration.meaning.reproduced_and_fixed"),
        Verdict::NotReproduced => tr!(lang, "narration.meaning.not_reproduced"),
        Verdict::FixFailed => tr!(lang, "narration.meaning.fix_failed"),
        Verdict::Unsupported => tr!(lang, "narration.meaning.unsupported"),
        Verdict::Error => tr!(lang, "narration.meaning.error"),
    }
}

mod profile_name {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};
    use wana_emulator::BehaviourProfile;

    pub fn serialize<S: Serializer>(profile: &BehaviourProfile, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(profile.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BehaviourProfile, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::outcome::StepError;

    /// A report as a cmk-start-external-role run could produce it, with real-looking values.
    fn fixed_report() -> RunReport {
        let denied = StepError::new(
            "AccessDeniedException",
            "User: arn:aws:sts::111111111111:assumed-role/ThirdPartyRole/wana is not authorized \
             to perform: kms:CreateGrant on resource: \
             arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        );
        RunReport {
            trap: "cmk-start-external-role".into(),
            backend: BackendKind::Emulator,
            profile: BehaviourProfile::Current,
            verdict: Verdict::ReproducedAndFixed,
            expected_verdict: Some(Verdict::ReproducedAndFixed),
            matches_expectation: true,
            error: None,
            steps: vec![
                Step::succeeded(Phase::Provision, "admin@b", "sts:AssumeRole").with_detail(json!({
                    "AssumedRoleUser": "arn:aws:sts::111111111111:assumed-role/ThirdPartyRole/wana",
                    "Credentials": {
                        "AccessKeyId": "ASIAWANAAAAAAAAAAAAB",
                        "SecretAccessKey": "wanaSecretAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
                        "SessionToken": "IQoJwanaSessionTokenAAAAAAAAAAAAAAAAAAAAAAAB"
                    }
                })),
                Step::succeeded(Phase::Trigger, "ThirdPartyRole@a", "ec2:StartInstances")
                    .with_detail(
                        json!({ "InstanceId": "i-00000000000000001", "State": "pending" }),
                    ),
                Step::failed(
                    Phase::Observe,
                    "ec2.amazonaws.com",
                    "kms:CreateGrant",
                    &denied,
                )
                .with_note("EC2 asks KMS with the caller's forward access session"),
                Step::succeeded(Phase::Observe, "ThirdPartyRole@a", "ec2:DescribeInstances")
                    .with_detail(json!({
                        "State": "stopped",
                        "StateReason": "Client.InternalError: Client error on launch"
                    })),
            ],
            narrative_notes: vec!["The role may start the instance but not use its key.".into()],
            left_resources: false,
            inner_calls: Vec::new(),
            narration: Narration::default(),
        }
    }

    #[test]
    fn json_report_has_the_documented_shape() {
        let line = fixed_report().to_json_line(&Redactor::full());
        assert!(!line.contains('\n'), "one JSON object per line");
        let value: Value = serde_json::from_str(&line).unwrap();
        insta::assert_json_snapshot!("cmk_report_full_redaction", value);
    }

    #[test]
    fn json_report_round_trips() {
        let report = fixed_report().redacted(&Redactor::secrets_only());
        let back: RunReport =
            serde_json::from_str(&report.to_json_line(&Redactor::secrets_only())).unwrap();
        assert_eq!(back, report);
    }

    #[test]
    fn secrets_never_appear_even_when_ids_are_kept() {
        let line = fixed_report().to_json_line(&Redactor::secrets_only());
        assert!(!line.contains("wanaSecretAAAA"), "{line}");
        assert!(!line.contains("IQoJwanaSessionToken"), "{line}");
        let text = fixed_report().render_text(&Redactor::secrets_only());
        assert!(
            !text.contains("wanaSecretAAAA") && !text.contains("IQoJwana"),
            "{text}"
        );
        // ids stay readable at this level
        assert!(line.contains("i-00000000000000001"));
        assert!(line.contains("111111111111"));
    }

    #[test]
    fn text_report_shows_each_step_with_the_exact_aws_message() {
        let text = fixed_report().render_text(&Redactor::secrets_only());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "cmk-start-external-role on emulator (profile current)"
        );
        assert_eq!(
            lines[2],
            r#"[trigger] ThirdPartyRole@a → ec2:StartInstances: ok {"InstanceId":"i-00000000000000001","State":"pending"}"#
        );
        assert_eq!(
            lines[3],
            "[observe] ec2.amazonaws.com → kms:CreateGrant: AccessDeniedException: User: \
             arn:aws:sts::111111111111:assumed-role/ThirdPartyRole/wana is not authorized to \
             perform: kms:CreateGrant on resource: \
             arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        );
        assert_eq!(
            lines[4],
            "    note: EC2 asks KMS with the caller's forward access session"
        );
        assert_eq!(
            lines[6],
            "  - The role may start the instance but not use its key."
        );
        assert_eq!(
            *lines.last().unwrap(),
            "verdict: reproduced-and-fixed, as expected (reproduced-and-fixed)"
        );
    }

    #[test]
    fn text_report_flags_a_verdict_that_differs_from_the_expectation() {
        let mut report = fixed_report();
        report.verdict = Verdict::NotReproduced;
        report.matches_expectation = false;
        let text = report.render_text(&Redactor::secrets_only());
        assert!(
            text.ends_with(
                "verdict: not-reproduced, DOES NOT MATCH the expected reproduced-and-fixed\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn not_runnable_report_is_unsupported_and_says_why() {
        let report = RunReport::not_runnable(
            "alarm-recover",
            BackendKind::Emulator,
            BehaviourProfile::Legacy2016,
        );
        let value: Value = serde_json::from_str(&report.to_json_line(&Redactor::full())).unwrap();
        assert_eq!(value["verdict"], json!("unsupported"));
        assert_eq!(value["profile"], json!("legacy-2016"));
        assert_eq!(value["expected_verdict"], Value::Null);
        assert_eq!(value["matches_expectation"], json!(false));
        assert!(report
            .render_text(&Redactor::full())
            .contains("no runnable scenario yet"));
    }
}
