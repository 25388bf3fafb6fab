//! `junit.xml`: the run as test results, in the JUnit XML dialect GitHub's and GitLab's test
//! reports read (`<testsuites>` of `<testsuite>` of `<testcase>`, with `<failure>`, `<error>`,
//! `<skipped>` and `<system-out>`).
//!
//! One testsuite per trap. Each run (a trap under one profile) gives a testcase per phase that
//! has steps, named after the phase, and a `verdict` testcase:
//! - a phase fails when its steps drifted from the accepted snapshot (the failure names the step
//!   with its error code and message, then and now), and is an error when the run broke at its
//!   last step (the step's code and message);
//! - `verdict` fails when the verdict is not the scenario's expectation, is an error when the run
//!   itself broke, is skipped when the backend cannot run the trap and is not expected to, and
//!   fails on run-level drift (trap vanished, fix broke).

use std::fmt::Write as _;

use wana_harness::{Phase, RunReport, Verdict};

use super::{
    drift::{step_key, step_outcome, Comparison, Difference},
    results::{Results, RunEntry},
};

const PHASES: [Phase; 6] = [
    Phase::Provision,
    Phase::Trigger,
    Phase::Observe,
    Phase::Fix,
    Phase::Verify,
    Phase::Teardown,
];

enum Status {
    Passed,
    Failure {
        kind: String,
        message: String,
        text: String,
    },
    Error {
        kind: String,
        message: String,
        text: String,
    },
    Skipped {
        message: String,
    },
}

struct Case {
    classname: String,
    name: String,
    time: Option<f64>,
    status: Status,
    output: String,
}

struct Suite {
    trap: String,
    cases: Vec<Case>,
    time: f64,
    started_at: Option<String>,
}

impl Suite {
    /// (tests, failures, errors, skipped)
    fn counts(&self) -> (usize, usize, usize, usize) {
        let count = |f: fn(&Status) -> bool| self.cases.iter().filter(|c| f(&c.status)).count();
        (
            self.cases.len(),
            count(|s| matches!(s, Status::Failure { .. })),
            count(|s| matches!(s, Status::Error { .. })),
            count(|s| matches!(s, Status::Skipped { .. })),
        )
    }
}

/// The suite of `trap`, made on first use.
fn suite<'a>(suites: &'a mut Vec<Suite>, trap: &str) -> &'a mut Suite {
    let index = match suites.iter().position(|s| s.trap == trap) {
        Some(index) => index,
        None => {
            suites.push(Suite {
                trap: trap.to_string(),
                cases: Vec::new(),
                time: 0.0,
                started_at: None,
            });
            suites.len() - 1
        }
    };
    &mut suites[index]
}

/// The JUnit document of a nightly run's results.
pub fn render(results: &Results) -> String {
    let mut suites: Vec<Suite> = Vec::new();
    for entry in &results.runs {
        let comparison = results
            .drift
            .iter()
            .find(|c| c.trap == entry.report.trap && c.profile == entry.report.profile.name());
        let suite = suite(&mut suites, &entry.report.trap);
        suite.cases.extend(run_cases(entry, comparison));
        suite.time += entry.duration_seconds;
        suite
            .started_at
            .get_or_insert_with(|| entry.started_at.clone());
    }
    for not_run in &results.not_run {
        let status = match &results.backend_unavailable {
            Some(_) => Status::Error {
                kind: "backend-unavailable".into(),
                message: not_run.reason.clone(),
                text: not_run.reason.clone(),
            },
            None => Status::Skipped {
                message: not_run.reason.clone(),
            },
        };
        suite(&mut suites, &not_run.trap).cases.push(Case {
            classname: classname(&not_run.trap, &not_run.profile),
            name: "verdict".into(),
            time: None,
            status,
            output: String::new(),
        });
    }
    // The catalog's order, whatever order the runs finished in.
    let order = |trap: &str| {
        wana_scenarios::catalog()
            .iter()
            .position(|t| t.id == trap)
            .unwrap_or(usize::MAX)
    };
    suites.sort_by_key(|s| order(&s.trap));

    let (mut tests, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
    for suite in &suites {
        let (t, f, e, s) = suite.counts();
        (tests, failures, errors, skipped) = (tests + t, failures + f, errors + e, skipped + s);
    }
    let total_time: f64 = suites.iter().map(|s| s.time).sum();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" \
         skipped=\"{skipped}\" time=\"{total_time:.3}\">",
        attr(&format!("wana nightly on {}", results.backend))
    );
    for suite in &suites {
        let (tests, failures, errors, skipped) = suite.counts();
        // JUnit's timestamp is ISO 8601 without a zone.
        let timestamp = suite
            .started_at
            .as_deref()
            .map(|t| format!(" timestamp=\"{}\"", attr(t.trim_end_matches('Z'))))
            .unwrap_or_default();
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" \
             skipped=\"{skipped}\" time=\"{:.3}\"{timestamp}>",
            attr(&suite.trap),
            suite.time
        );
        let _ = writeln!(
            xml,
            "    <properties><property name=\"backend\" value=\"{}\"/></properties>",
            attr(results.backend.name())
        );
        for case in &suite.cases {
            write_case(&mut xml, case);
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

fn classname(trap: &str, profile: &str) -> String {
    format!("{trap} ({profile})")
}

fn run_cases(entry: &RunEntry, comparison: Option<&Comparison>) -> Vec<Case> {
    let report = &entry.report;
    let classname = classname(&report.trap, report.profile.name());
    let differences: &[Difference] = comparison.map_or(&[], |c| &c.differences);
    let reference = comparison.map_or("", |c| c.reference.as_str());
    let broke_at = (report.verdict == Verdict::Error)
        .then(|| report.steps.last().filter(|step| !step.ok))
        .flatten();

    let mut cases = Vec::new();
    for phase in PHASES {
        let steps: Vec<_> = report.steps.iter().filter(|s| s.phase == phase).collect();
        let drifted: Vec<&Difference> = differences
            .iter()
            .filter(|d| d.phase.as_deref() == Some(phase.name()))
            .collect();
        if steps.is_empty() && drifted.is_empty() {
            continue;
        }
        let drift_text = drift_lines(&drifted, reference);
        let status = match broke_at {
            Some(step) if step.phase == phase => Status::Error {
                kind: step.error_code.clone().unwrap_or_else(|| "Error".into()),
                message: format!("{}: {}", step_key(step), step_outcome(step)),
                text: [report.error.clone().unwrap_or_default(), drift_text].join("\n"),
            },
            _ if !drifted.is_empty() => Status::Failure {
                kind: drifted[0].kind.name().into(),
                message: summary(&drifted),
                text: drift_text,
            },
            _ => Status::Passed,
        };
        let output = steps
            .iter()
            .map(|step| format!("{}: {}\n", step_key(step), step_outcome(step)))
            .collect();
        cases.push(Case {
            classname: classname.clone(),
            name: phase.name().into(),
            time: None,
            status,
            output,
        });
    }

    let run_level: Vec<&Difference> = differences.iter().filter(|d| d.phase.is_none()).collect();
    cases.push(Case {
        classname,
        name: "verdict".into(),
        time: Some(entry.duration_seconds),
        status: verdict_status(report, &run_level, reference),
        output: verdict_output(entry),
    });
    cases
}

fn verdict_status(report: &RunReport, run_level: &[&Difference], reference: &str) -> Status {
    let expected = report
        .expected_verdict
        .map_or_else(|| "none".to_string(), |v| v.to_string());
    if report.verdict == Verdict::Error {
        let error = report.error.clone().unwrap_or_default();
        return Status::Error {
            kind: "error".into(),
            message: format!("the run broke: {error}"),
            text: error,
        };
    }
    if report.verdict == Verdict::Unsupported
        && report.expected_verdict == Some(Verdict::Unsupported)
    {
        return Status::Skipped {
            message: report
                .error
                .clone()
                .unwrap_or_else(|| format!("{} cannot run this trap", report.backend)),
        };
    }
    if !report.matches_expectation {
        let last_failure = report
            .steps
            .iter()
            .rev()
            .find(|s| !s.ok)
            .map(|s| format!("; last failed step {}: {}", step_key(s), step_outcome(s)))
            .unwrap_or_default();
        let reason = report
            .error
            .as_deref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        return Status::Failure {
            kind: "verdict".into(),
            message: format!(
                "verdict {}{reason}, expected {expected}{last_failure}",
                report.verdict
            ),
            text: drift_lines(run_level, reference),
        };
    }
    if !run_level.is_empty() {
        return Status::Failure {
            kind: run_level[0].kind.name().into(),
            message: summary(run_level),
            text: drift_lines(run_level, reference),
        };
    }
    Status::Passed
}

fn verdict_output(entry: &RunEntry) -> String {
    let mut out = String::new();
    for note in &entry.report.narrative_notes {
        let _ = writeln!(out, "- {note}");
    }
    let _ = writeln!(
        out,
        "snapshot: {} ({})",
        entry.snapshot.as_deref().unwrap_or("none"),
        entry.snapshot_status.name()
    );
    out
}

/// The first difference in one line, with how many more there are.
fn summary(differences: &[&Difference]) -> String {
    let first = differences[0];
    let mut text = describe(first, "accepted", "now");
    if differences.len() > 1 {
        let _ = write!(text, " (and {} more)", differences.len() - 1);
    }
    text
}

fn drift_lines(differences: &[&Difference], reference: &str) -> String {
    if differences.is_empty() {
        return String::new();
    }
    let mut text = format!("against {reference}:\n");
    for difference in differences {
        let _ = writeln!(text, "{}", describe(difference, "accepted", "now"));
    }
    text
}

/// `error text changed at [observe] a → b: accepted X; now Y`.
pub fn describe(difference: &Difference, reference: &str, observed: &str) -> String {
    let mut text = difference.kind.title().to_string();
    if let Some(step) = &difference.step {
        let _ = write!(text, " at {step}");
    }
    let mut sides = Vec::new();
    if let Some(value) = &difference.reference {
        sides.push(format!("{reference} {value}"));
    }
    if let Some(value) = &difference.observed {
        sides.push(format!("{observed} {value}"));
    }
    if !sides.is_empty() {
        let _ = write!(text, ": {}", sides.join("; "));
    }
    text
}

fn write_case(xml: &mut String, case: &Case) {
    let time = case
        .time
        .map(|t| format!(" time=\"{t:.3}\""))
        .unwrap_or_default();
    let _ = write!(
        xml,
        "    <testcase classname=\"{}\" name=\"{}\"{time}>",
        attr(&case.classname),
        attr(&case.name)
    );
    match &case.status {
        Status::Passed => {}
        Status::Failure {
            kind,
            message,
            text,
        } => {
            let _ = write!(
                xml,
                "\n      <failure type=\"{}\" message=\"{}\">{}</failure>",
                attr(kind),
                attr(message),
                text_node(text)
            );
        }
        Status::Error {
            kind,
            message,
            text,
        } => {
            let _ = write!(
                xml,
                "\n      <error type=\"{}\" message=\"{}\">{}</error>",
                attr(kind),
                attr(message),
                text_node(text)
            );
        }
        Status::Skipped { message } => {
            let _ = write!(xml, "\n      <skipped message=\"{}\"/>", attr(message));
        }
    }
    if !case.output.is_empty() {
        let _ = write!(
            xml,
            "\n      <system-out>{}</system-out>",
            text_node(&case.output)
        );
    }
    if matches!(case.status, Status::Passed) && case.output.is_empty() {
        xml.push_str("</testcase>\n");
    } else {
        xml.push_str("\n    </testcase>\n");
    }
}

/// Characters XML 1.0 allows; others (control characters a CLI may print) are dropped.
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// Element text as CDATA, as Surefire writes it: read back verbatim by every JUnit reader
/// (some skip entity references in element text). A `]]>` inside is split across two sections.
fn text_node(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let clean: String = text.chars().filter(|c| allowed(*c)).collect();
    format!("<![CDATA[{}]]>", clean.replace("]]>", "]]]]><![CDATA[>"))
}

fn attr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().filter(|c| allowed(*c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[path = "junit_tests.rs"]
mod tests;
