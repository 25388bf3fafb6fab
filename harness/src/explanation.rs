//! `cargo xtask explain <trap>`: a run of a trap on the emulator, and every call of it that was
//! denied, outer and inner, with who made it, the policies consulted and what decided.
//!
//! The emulator's authorization log holds every decision with its consulted policies and
//! deciding statement ([`crate::explain::DeniedCall`]). Who made each call is read from the same
//! log:
//! - a call with a `via` service was made by that service with the caller's identity (EC2 using a
//!   volume's key for the caller: a forward access session);
//! - a call whose principal is a service (`autoscaling.amazonaws.com`) is the service itself,
//!   asking a role's trust policy to let it assume the role;
//! - a call by a session of a role that a service assumed in this run (the log has that service's
//!   allowed `sts:AssumeRole` on the role) was made by the service as that role: Auto Scaling as
//!   its service-linked role, or, for a role EC2 assumed with an instance id as the session name
//!   (as EC2 names instance credentials), software on that instance: the SSM Agent for SSM's
//!   calls;
//! - a call refused at authentication was made by a service with a key it stored (the emulator
//!   logs authentication only for those: a request from outside with a bad key is answered
//!   before it reaches the log), such as a CloudWatch alarm's action with its creator's key;
//! - anything else is a request from outside (the scenario's principals, a person's CLI).
//!
//! Other backends keep no such log: on real AWS the answer is in CloudTrail, which this does not
//! read, so the command says so instead.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use wana_emulator::{state::World, BehaviourProfile};
use wana_i18n::{tr, Lang};

pub use crate::origin::Origin;
use crate::origin::{origin, services_assuming};
use crate::{
    backend::Backend,
    explain::{denied_in, DeniedCall},
    redact::Redactor,
    scenario::{run_scenario_on, Scenario},
    verdict::Verdict,
    HarnessError,
};

/// What `explain` says on a backend without the emulator's authorization log.
pub const UNAVAILABLE: &str = "explain needs the emulator's authorization log; on a sandbox use CloudTrail";

/// A run and its denied calls, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub trap: String,
    /// The behaviour profile the run used (`current`, `legacy-2016`).
    pub profile: String,
    pub verdict: Verdict,
    pub matches_expectation: bool,
    /// Why the run stopped, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub denied_calls: Vec<ExplainedCall>,
}

/// One denied call and who made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainedCall {
    pub origin: Origin,
    #[serde(flatten)]
    pub call: DeniedCall,
}

/// Runs `scenario` once on a fresh emulator and explains every call of the run that was
/// denied. The run itself is the one `repro` makes (teardown included).
pub async fn explain_on_emulator(scenario: &dyn Scenario, profile: BehaviourProfile) -> Result<Explanation, HarnessError> {
    let backend = Backend::start_emulator(profile).await?;
    let inspector = backend.emulator().expect("an emulator backend has an emulator").inspector();
    let report = run_scenario_on(scenario, backend).await;
    let denied_calls = inspector.inspect(explained_calls);
    Ok(Explanation {
        trap: report.trap,
        profile: profile.name().to_string(),
        verdict: report.verdict,
        matches_expectation: report.matches_expectation,
        error: report.error,
        denied_calls,
    })
}

/// Every denial of the world's log with who made it, oldest first.
pub fn explained_calls(world: &World) -> Vec<ExplainedCall> {
    let assumed_by = services_assuming(world);
    denied_in(world, 0)
        .into_iter()
        .map(|call| {
            let origin = origin(&call, &assumed_by);
            ExplainedCall { origin, call }
        })
        .collect()
}

impl Explanation {
    /// The readable form: a header, then each denied call with who made it, the principal,
    /// action and resource, the policies consulted, and the statement that decided or "no
    /// statement allowed". Secrets always go; ids too with a full `redactor`.
    pub fn render_text(&self, redactor: &Redactor) -> String {
        self.render_text_in(redactor, Lang::En)
    }

    /// [`Explanation::render_text`] in `lang`. What the emulator and the policy engine wrote
    /// (policy names, the deciding statement, the explanation after "why") stays English.
    pub fn render_text_in(&self, redactor: &Redactor, lang: Lang) -> String {
        let mut out = String::new();
        let expectation = if self.matches_expectation {
            tr!(lang, "explain.as_expected")
        } else {
            tr!(lang, "explain.not_expected")
        };
        let _ = writeln!(
            out,
            "{}",
            tr!(
                lang,
                "explain.header",
                trap = self.trap,
                profile = self.profile,
                verdict = self.verdict,
                expectation = expectation
            )
        );
        if let Some(error) = &self.error {
            let _ = writeln!(out, "{}", tr!(lang, "explain.stopped", error = error));
        }
        let count = match self.denied_calls.len() {
            0 => tr!(lang, "explain.none_denied"),
            1 => tr!(lang, "explain.one_denied"),
            n => tr!(lang, "explain.n_denied", n = n),
        };
        let _ = writeln!(out, "{count}");
        let labels = Labels::new(lang);
        for (index, explained) in self.denied_calls.iter().enumerate() {
            let call = &explained.call;
            let _ = writeln!(out);
            let _ = writeln!(out, "{}", tr!(lang, "explain.call_denied", index = index + 1, action = call.action));
            let _ = writeln!(out, "   {} {}", labels.made_by, explained.origin.describe_in(&call.action, lang));
            let _ = writeln!(out, "   {} {}", labels.principal, call.principal);
            let _ = writeln!(out, "   {} {}", labels.resource, call.resource);
            if call.consulted.is_empty() {
                let _ = writeln!(out, "   {} {}", labels.consulted, tr!(lang, "explain.no_policy"));
            }
            for (i, policy) in call.consulted.iter().enumerate() {
                let label = if i == 0 { labels.consulted.as_str() } else { labels.blank.as_str() };
                let _ = writeln!(out, "   {label} {}: {}", policy_kind(&policy.kind, lang), policy.name);
            }
            let outside = |kind: &str| call.consulted.iter().any(|policy| policy.kind == kind);
            let decided = match &call.deciding_statement {
                Some(statement) => statement.clone(),
                None if outside("service rule") => tr!(lang, "explain.decided.service_rule"),
                None if outside("authentication") => tr!(lang, "explain.decided.authentication"),
                None => tr!(lang, "explain.decided.no_statement"),
            };
            let _ = writeln!(out, "   {} {decided}", labels.decided_by);
            let _ = writeln!(out, "   {} {}", labels.why, call.explanation);
        }
        redactor.redact_text(&out)
    }

    /// One JSON object, redacted like the text.
    pub fn to_json_line(&self, redactor: &Redactor) -> String {
        let value = serde_json::to_value(self).expect("explanations serialize");
        serde_json::to_string(&redactor.redact_json(&value)).expect("JSON values serialize")
    }
}

/// The labels of the text form, padded to one column width (a CJK character is two columns).
struct Labels {
    made_by: String,
    principal: String,
    resource: String,
    consulted: String,
    decided_by: String,
    why: String,
    blank: String,
}

impl Labels {
    fn new(lang: Lang) -> Labels {
        let texts = [
            tr!(lang, "explain.label.made_by"),
            tr!(lang, "explain.label.principal"),
            tr!(lang, "explain.label.resource"),
            tr!(lang, "explain.label.consulted"),
            tr!(lang, "explain.label.decided_by"),
            tr!(lang, "explain.label.why"),
        ];
        let width = texts.iter().map(|t| columns(t)).max().unwrap_or(0);
        let pad = |t: &str| format!("{t}{}", " ".repeat(width - columns(t)));
        let [made_by, principal, resource, consulted, decided_by, why] = texts.map(|t| pad(&t));
        Labels { made_by, principal, resource, consulted, decided_by, why, blank: " ".repeat(width) }
    }
}

/// The columns `text` takes on a terminal: two for a CJK character, one for anything else.
fn columns(text: &str) -> usize {
    text.chars()
        .map(|c| if ('\u{3000}'..='\u{9fff}').contains(&c) || ('\u{ff00}'..='\u{ffef}').contains(&c) { 2 } else { 1 })
        .sum()
}

/// A kind of consulted policy as the emulator names it, in `lang` (unknown kinds as written).
fn policy_kind(kind: &str, lang: Lang) -> String {
    match kind {
        "identity policy" => tr!(lang, "explain.kind.identity"),
        "key policy" => tr!(lang, "explain.kind.key_policy"),
        "trust policy" => tr!(lang, "explain.kind.trust_policy"),
        "bucket policy" => tr!(lang, "explain.kind.bucket_policy"),
        "resource policy" => tr!(lang, "explain.kind.resource_policy"),
        "grants" => tr!(lang, "explain.kind.grants"),
        "permissions boundary" => tr!(lang, "explain.kind.permissions_boundary"),
        "session policy" => tr!(lang, "explain.kind.session_policy"),
        "service control policy" => tr!(lang, "explain.kind.scp"),
        "resource control policy" => tr!(lang, "explain.kind.rcp"),
        "service rule" => tr!(lang, "explain.kind.service_rule"),
        "authentication" => tr!(lang, "explain.kind.authentication"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::{role_of_arn, session_of_arn};

    #[test]
    fn role_and_session_arns_are_read_with_paths() {
        assert_eq!(
            role_of_arn("arn:aws:iam::111111111111:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"),
            Some(("111111111111".to_string(), "AWSServiceRoleForAutoScaling".to_string()))
        );
        assert_eq!(
            session_of_arn("arn:aws:sts::111111111111:assumed-role/R/i-0123"),
            Some(("111111111111".to_string(), "R".to_string(), "i-0123".to_string()))
        );
        assert_eq!(session_of_arn("arn:aws:iam::111111111111:user/u"), None);
    }

    #[test]
    fn origins_are_described_as_a_reader_names_them() {
        let agent = Origin::ServiceRoleSession {
            service: "ec2.amazonaws.com".into(),
            role: "NodeRole".into(),
            instance: Some("i-0123".into()),
        };
        assert_eq!(
            agent.describe("ssm:UpdateInstanceInformation"),
            "the SSM Agent on i-0123, as its instance role NodeRole (delivered by ec2.amazonaws.com; inner call)"
        );
        let asg = Origin::ServiceRoleSession {
            service: "autoscaling.amazonaws.com".into(),
            role: "AWSServiceRoleForAutoScaling".into(),
            instance: None,
        };
        assert_eq!(
            asg.describe("kms:CreateGrant"),
            "Auto Scaling (autoscaling.amazonaws.com) as its role AWSServiceRoleForAutoScaling (inner call)"
        );
        assert_eq!(
            Origin::ForwardAccess { service: "ec2.us-east-1.amazonaws.com".into(), caller_assumed_by: None }
                .describe("kms:CreateGrant"),
            "EC2 (ec2.us-east-1.amazonaws.com) for the caller, with the caller's identity (inner call)"
        );
    }
}
