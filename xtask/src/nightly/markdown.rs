//! `report.md`: the drift report a person reads (GitHub shows it as the job's summary).
//!
//! First what needs attention (verdicts off expectation, drift from the accepted snapshots,
//! disagreements between the emulator and another backend), then a table of every run.

use std::fmt::Write as _;

use super::{
    drift::{Comparison, Difference},
    results::{Results, SnapshotStatus},
};

/// How many differences of one comparison the report lists; `results.json` has them all.
const MAX_LISTED: usize = 15;
/// Longer texts (a CLI's whole output) are cut in the report; `results.json` has them whole.
const MAX_TEXT: usize = 600;

pub fn render(results: &Results, snapshots_shown_as: &str) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# wana nightly on {}\n", results.backend);
    let runs = &results.runs;
    let off = runs
        .iter()
        .filter(|e| !e.report.matches_expectation)
        .count();
    let drifted = runs
        .iter()
        .filter(|e| {
            matches!(
                e.snapshot_status,
                SnapshotStatus::Drifted | SnapshotStatus::Unreadable
            )
        })
        .count();
    let missing = runs
        .iter()
        .filter(|e| e.snapshot_status == SnapshotStatus::Missing)
        .count();
    if let Some(reason) = &results.backend_unavailable {
        let _ = writeln!(
            md,
            "**The {} backend is unavailable or refused; nothing ran.** {}\n",
            results.backend,
            inline(reason)
        );
    }
    if results.interrupted {
        let _ = writeln!(
            md,
            "**Interrupted**: {} planned runs did not start.\n",
            results.not_run.len()
        );
    }
    let _ = writeln!(
        md,
        "{} runs: {} as expected, {off} not; {drifted} drifted from their accepted snapshot, \
         {missing} have none yet; {} disagree with another backend.\n",
        runs.len(),
        runs.len() - off,
        results.disagreements.len()
    );

    if off > 0 {
        md.push_str("## Verdicts off expectation\n\n");
        for entry in runs.iter().filter(|e| !e.report.matches_expectation) {
            let report = &entry.report;
            let expected = report
                .expected_verdict
                .map_or_else(|| "none".to_string(), |v| v.to_string());
            let _ = write!(
                md,
                "- **{}** ({}): {}, expected {expected}",
                report.trap, report.profile, report.verdict
            );
            if let Some(error) = &report.error {
                let _ = write!(md, ": {}", inline(error));
            }
            md.push('\n');
        }
        md.push('\n');
    }

    if !results.drift.is_empty() {
        md.push_str("## Drift from the accepted snapshots\n\n");
        for comparison in &results.drift {
            let _ = writeln!(
                md,
                "### {} ({}) against `{snapshots_shown_as}/{}`\n",
                comparison.trap, comparison.profile, comparison.reference
            );
            list(&mut md, comparison, "accepted", "now");
            if let Some(entry) = runs.iter().find(|e| {
                e.report.trap == comparison.trap && e.report.profile.name() == comparison.profile
            }) {
                if let Some(new) = &entry.new_snapshot {
                    let _ = writeln!(
                        md,
                        "To accept this outcome, copy `{new}` of this run's \
                         output to `{snapshots_shown_as}/{}`.\n",
                        comparison.reference
                    );
                }
            }
        }
    }

    if !results.disagreements.is_empty() {
        md.push_str("## Where the emulator and another backend disagree\n\n");
        for comparison in &results.disagreements {
            let _ = writeln!(
                md,
                "### {} ({}): {} against {}\n",
                comparison.trap, comparison.profile, comparison.observed, comparison.reference
            );
            list(
                &mut md,
                comparison,
                &comparison.reference,
                &comparison.observed,
            );
        }
    }

    if !results.not_run.is_empty() {
        md.push_str("## Not run\n\n");
        for not_run in &results.not_run {
            let _ = writeln!(
                md,
                "- {} ({}): {}",
                not_run.trap,
                not_run.profile,
                inline(&not_run.reason)
            );
        }
        md.push('\n');
    }

    if !runs.is_empty() {
        md.push_str("## Runs\n\n| trap | profile | verdict | expected | snapshot | seconds |\n");
        md.push_str("|---|---|---|---|---|---|\n");
        for entry in runs {
            let report = &entry.report;
            let expected = match report.expected_verdict {
                Some(v) if report.matches_expectation => format!("{v} ✓"),
                Some(v) => format!("{v} ✗"),
                None => "none".to_string(),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {expected} | {} | {:.1} |",
                report.trap,
                report.profile,
                report.verdict,
                entry.snapshot_status.name(),
                entry.duration_seconds
            );
        }
    }
    md
}

fn list(md: &mut String, comparison: &Comparison, reference: &str, observed: &str) {
    for difference in comparison.differences.iter().take(MAX_LISTED) {
        let _ = writeln!(md, "- {}", item(difference, reference, observed));
    }
    if comparison.differences.len() > MAX_LISTED {
        let _ = writeln!(
            md,
            "- … and {} more (results.json lists them all)",
            comparison.differences.len() - MAX_LISTED
        );
    }
    md.push('\n');
}

/// A difference as a list item: what and where in bold, each side as code.
fn item(difference: &Difference, reference: &str, observed: &str) -> String {
    let mut text = format!("**{}**", difference.kind.title());
    if let Some(step) = &difference.step {
        let _ = write!(text, " at {}", code(step));
    }
    for (label, value) in [
        (reference, &difference.reference),
        (observed, &difference.observed),
    ] {
        if let Some(value) = value {
            let _ = write!(text, "\n  - {label}: {}", code(value));
        }
    }
    text
}

/// Text on one line, cut to a readable length.
fn inline(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > MAX_TEXT {
        let cut: String = one_line.chars().take(MAX_TEXT).collect();
        format!("{cut} …")
    } else {
        one_line
    }
}

/// A code span that survives backticks inside the text.
fn code(text: &str) -> String {
    let text = inline(text);
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_hold_backticks_and_long_texts_are_cut() {
        assert_eq!(code("AccessDenied: no"), "`AccessDenied: no`");
        assert_eq!(code("run `aws s3 ls`"), "`` run `aws s3 ls` ``");
        let long = "x".repeat(MAX_TEXT + 50);
        assert!(code(&long).ends_with(" …`"));
        assert_eq!(inline("a\n  b"), "a b");
    }
}
