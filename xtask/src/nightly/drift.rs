//! Comparing two outcomes of one trap: a run against its accepted snapshot, or the emulator's
//! run against another backend's.
//!
//! Both sides are fully redacted reports (the snapshot form), so ids, timestamps and secrets never
//! differ; what differs is what AWS (or the emulator) did: the verdict, a step that appeared or
//! went away, an error code or message, a value the scenario recorded.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use wana_harness::{RunReport, Step, Verdict};

/// What kind of difference; the names are the drift report's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriftKind {
    /// The reference reproduced the trap; the observed run's trigger succeeded.
    TrapVanished,
    /// The reference's fix worked; the observed run's did not.
    FixBroke,
    /// Any other change of verdict.
    VerdictChanged,
    /// Same verdict, another reason for the run's error or unsupported verdict.
    RunErrorChanged,
    /// The same call failed on both sides, with another code or message.
    ErrorTextChanged,
    /// The same call succeeded on one side and failed on the other.
    OutcomeChanged,
    /// The same call succeeded on both sides, with other recorded values or note.
    DetailChanged,
    /// A call the reference does not have.
    NewStep,
    /// A call of the reference that the observed run did not make.
    MissingStep,
    /// The scenario's explanations differ (they often quote what AWS said).
    NotesChanged,
    /// The accepted snapshot exists but cannot be read as a run report.
    SnapshotUnreadable,
}

impl DriftKind {
    /// How the report names it, as a heading a person reads.
    pub fn title(self) -> &'static str {
        match self {
            DriftKind::TrapVanished => "trap vanished",
            DriftKind::FixBroke => "fix broke",
            DriftKind::VerdictChanged => "verdict changed",
            DriftKind::RunErrorChanged => "run error changed",
            DriftKind::ErrorTextChanged => "error text changed",
            DriftKind::OutcomeChanged => "outcome changed",
            DriftKind::DetailChanged => "detail changed",
            DriftKind::NewStep => "new step",
            DriftKind::MissingStep => "missing step",
            DriftKind::NotesChanged => "notes changed",
            DriftKind::SnapshotUnreadable => "snapshot unreadable",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DriftKind::TrapVanished => "trap-vanished",
            DriftKind::FixBroke => "fix-broke",
            DriftKind::VerdictChanged => "verdict-changed",
            DriftKind::RunErrorChanged => "run-error-changed",
            DriftKind::ErrorTextChanged => "error-text-changed",
            DriftKind::OutcomeChanged => "outcome-changed",
            DriftKind::DetailChanged => "detail-changed",
            DriftKind::NewStep => "new-step",
            DriftKind::MissingStep => "missing-step",
            DriftKind::NotesChanged => "notes-changed",
            DriftKind::SnapshotUnreadable => "snapshot-unreadable",
        }
    }
}

/// One difference between the reference and the observed outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    pub kind: DriftKind,
    /// The phase of the step concerned (`trigger`); `None` for run-level differences.
    pub phase: Option<String>,
    /// `[phase] principal → call` of the step concerned.
    pub step: Option<String>,
    /// What the reference says (the accepted snapshot, or the emulator).
    pub reference: Option<String>,
    /// What the observed run says.
    pub observed: Option<String>,
}

/// The differences of one run against one reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub trap: String,
    pub profile: String,
    /// `snapshots/<file>` or a backend name.
    pub reference: String,
    /// The backend whose run is compared with the reference.
    pub observed: String,
    pub differences: Vec<Difference>,
}

/// Every difference between `reference` and `observed`, run-level ones first, then the steps in
/// the observed run's order. Both must be redacted the same way.
pub fn compare(reference: &RunReport, observed: &RunReport) -> Vec<Difference> {
    let mut out = Vec::new();
    if let Some(kind) = verdict_drift(reference.verdict, observed.verdict) {
        out.push(Difference {
            kind,
            phase: None,
            step: None,
            reference: Some(verdict_text(reference)),
            observed: Some(verdict_text(observed)),
        });
    } else if reference.error != observed.error {
        out.push(Difference {
            kind: DriftKind::RunErrorChanged,
            phase: None,
            step: None,
            reference: reference.error.clone(),
            observed: observed.error.clone(),
        });
    }
    compare_steps(&reference.steps, &observed.steps, &mut out);
    if reference.narrative_notes != observed.narrative_notes {
        let gone: Vec<&String> = reference
            .narrative_notes
            .iter()
            .filter(|note| !observed.narrative_notes.contains(note))
            .collect();
        let new: Vec<&String> = observed
            .narrative_notes
            .iter()
            .filter(|note| !reference.narrative_notes.contains(note))
            .collect();
        let join = |notes: Vec<&String>| {
            (!notes.is_empty()).then(|| {
                notes
                    .iter()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(" / ")
            })
        };
        out.push(Difference {
            kind: DriftKind::NotesChanged,
            phase: None,
            step: None,
            reference: join(gone),
            observed: join(new),
        });
    }
    out
}

fn verdict_drift(reference: Verdict, observed: Verdict) -> Option<DriftKind> {
    match (reference, observed) {
        (a, b) if a == b => None,
        (Verdict::ReproducedAndFixed, Verdict::NotReproduced) => Some(DriftKind::TrapVanished),
        (Verdict::ReproducedAndFixed, Verdict::FixFailed) => Some(DriftKind::FixBroke),
        _ => Some(DriftKind::VerdictChanged),
    }
}

fn verdict_text(report: &RunReport) -> String {
    match &report.error {
        Some(error) => format!("{} ({error})", report.verdict),
        None => report.verdict.to_string(),
    }
}

/// `[phase] principal → call`: what identifies a step on both sides.
pub fn step_key(step: &Step) -> String {
    format!("[{}] {} → {}", step.phase, step.principal, step.call)
}

/// What came back: `ok {detail}` or `Code: message`.
pub fn step_outcome(step: &Step) -> String {
    if step.ok {
        match &step.detail {
            Value::Null => "ok".to_string(),
            detail => format!("ok {detail}"),
        }
    } else {
        format!(
            "{}: {}",
            step.error_code.as_deref().unwrap_or("Error"),
            step.error_message.as_deref().unwrap_or("")
        )
    }
}

fn same_call(a: &Step, b: &Step) -> bool {
    a.phase == b.phase && a.principal == b.principal && a.call == b.call
}

/// Aligns the two step lists on their calls (longest common subsequence, so a step inserted or
/// removed does not shift every later one), then compares the aligned pairs.
fn compare_steps(reference: &[Step], observed: &[Step], out: &mut Vec<Difference>) {
    let (n, m) = (reference.len(), observed.len());
    // lcs[i][j]: length of the longest common subsequence of reference[i..] and observed[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if same_call(&reference[i], &observed[j]) {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && same_call(&reference[i], &observed[j]) {
            if let Some(difference) = compare_pair(&reference[i], &observed[j]) {
                out.push(difference);
            }
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(one_sided(
                DriftKind::NewStep,
                &observed[j],
                None,
                Some(&observed[j]),
            ));
            j += 1;
        } else {
            out.push(one_sided(
                DriftKind::MissingStep,
                &reference[i],
                Some(&reference[i]),
                None,
            ));
            i += 1;
        }
    }
}

fn one_sided(
    kind: DriftKind,
    step: &Step,
    reference: Option<&Step>,
    observed: Option<&Step>,
) -> Difference {
    Difference {
        kind,
        phase: Some(step.phase.to_string()),
        step: Some(step_key(step)),
        reference: reference.map(step_outcome),
        observed: observed.map(step_outcome),
    }
}

fn compare_pair(reference: &Step, observed: &Step) -> Option<Difference> {
    let kind = if reference.ok != observed.ok {
        DriftKind::OutcomeChanged
    } else if !reference.ok
        && (reference.error_code != observed.error_code
            || reference.error_message != observed.error_message)
    {
        DriftKind::ErrorTextChanged
    } else if reference.detail != observed.detail || reference.note != observed.note {
        DriftKind::DetailChanged
    } else {
        return None;
    };
    let text = |step: &Step| match (&step.note, kind) {
        (Some(note), DriftKind::DetailChanged) if reference.note != observed.note => {
            format!("{} (note: {note})", step_outcome(step))
        }
        _ => step_outcome(step),
    };
    Some(Difference {
        kind,
        phase: Some(observed.phase.to_string()),
        step: Some(step_key(observed)),
        reference: Some(text(reference)),
        observed: Some(text(observed)),
    })
}

/// Which account a placeholder names (`<account-a>`) is what the emulator's redaction knows and a
/// real account's does not: across backends only "an account" is compared.
pub fn without_account_names(report: &RunReport) -> RunReport {
    let json = serde_json::to_string(report).expect("reports serialize");
    let mut plain = String::with_capacity(json.len());
    let mut rest = json.as_str();
    while let Some(at) = rest.find("<account-") {
        plain.push_str(&rest[..at]);
        let after = &rest[at + "<account-".len()..];
        match after.find('>') {
            Some(end)
                if after[..end]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-') =>
            {
                plain.push_str("<account>");
                rest = &after[end + 1..];
            }
            _ => {
                plain.push_str("<account-");
                rest = after;
            }
        }
    }
    plain.push_str(rest);
    serde_json::from_str(&plain).expect("only placeholders changed")
}

#[cfg(test)]
#[path = "drift_tests.rs"]
mod tests;
