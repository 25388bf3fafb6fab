//! `report.md`: the report's content in Markdown, the diagram as the list of calls it draws.

use std::fmt::Write as _;

use serde_json::Value;
use wana_i18n::{tr, Lang};

use super::{diagram, expectation, failures, fix_steps, phase_name};
use crate::report::RunReport;

pub(super) fn document(runs: &[RunReport], lang: Lang) -> String {
    let title = match runs {
        [one] => tr!(lang, "report.title_one", trap = one.trap),
        _ => tr!(lang, "report.title"),
    };
    let mut out = format!("# {}\n\n", text(&title));
    if runs.len() > 1 {
        let _ = writeln!(out, "## {}\n", text(&tr!(lang, "report.runs")));
        for run in runs {
            let _ = writeln!(
                out,
                "- {} — {} ({}): `{}`",
                text(&run.trap),
                run.backend,
                run.profile,
                run.verdict
            );
        }
        out.push('\n');
    }
    for run in runs {
        section(&mut out, run, lang);
    }
    out
}

fn section(out: &mut String, run: &RunReport, lang: Lang) {
    let _ = writeln!(
        out,
        "## {} — {} ({})\n",
        text(&run.trap),
        run.backend,
        run.profile
    );
    let _ = writeln!(out, "| | |\n|---|---|");
    let rows = [
        (tr!(lang, "report.trap"), text(&run.trap)),
        (tr!(lang, "report.backend"), run.backend.to_string()),
        (tr!(lang, "report.profile"), run.profile.to_string()),
        (tr!(lang, "report.verdict"), format!("**{}**", run.verdict)),
        (
            tr!(lang, "report.expectation"),
            text(&expectation(lang, run)),
        ),
    ];
    for (name, value) in rows {
        let _ = writeln!(out, "| {} | {value} |", text(&name));
    }
    out.push('\n');
    if let Some(error) = &run.error {
        let _ = writeln!(
            out,
            "### {}\n\n{}",
            text(&tr!(lang, "report.error")),
            fenced(error, "")
        );
    }

    let _ = writeln!(out, "### {}\n", text(&tr!(lang, "report.diagram")));
    let _ = writeln!(out, "{}\n", text(&tr!(lang, "report.diagram_in_html")));
    let mut phase = None;
    let mut number = 0;
    for (index, step) in run
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| diagram::drawn(s))
    {
        if phase != Some(step.phase) {
            phase = Some(step.phase);
            let _ = writeln!(out, "\n**{}**\n", text(&phase_name(lang, step.phase)));
        }
        number += 1;
        let result = if step.ok {
            String::new()
        } else {
            format!(
                " — ✗ **{}**",
                text(step.error_code.as_deref().unwrap_or("Error"))
            )
        };
        let _ = writeln!(
            out,
            "{number}. {} → {}: {}{result}",
            text(&step.principal),
            text(&diagram::service_display(&super::inner::step_service(
                &step.call
            ))),
            text(&step.call)
        );
        for call in run.inner_calls.iter().filter(|c| c.step == index) {
            let result = if call.allowed {
                String::new()
            } else {
                format!(" — ✗ **{}**", diagram::denied_code(&call.action))
            };
            let _ = writeln!(
                out,
                "    - {} → {}: {}{result}",
                diagram::service_display(&call.from_service()),
                text(diagram::service_display(&call.to_service())),
                text(&diagram::inner_label(lang, call))
            );
        }
    }
    out.push('\n');

    let _ = writeln!(out, "### {}\n", text(&tr!(lang, "report.failures")));
    let failures = failures(run, lang);
    if failures.is_empty() {
        let _ = writeln!(out, "{}\n", text(&tr!(lang, "report.no_failures")));
    }
    for failure in failures {
        let _ = writeln!(
            out,
            "- {} **{}**\n\n  {}\n",
            text(&failure.title),
            text(&failure.code),
            text(&failure.detail)
        );
    }

    let _ = writeln!(out, "### {}\n", text(&tr!(lang, "report.fix")));
    let mut any_fix = false;
    for step in fix_steps(run) {
        any_fix = true;
        let result = if step.ok {
            tr!(lang, "report.ok")
        } else {
            format!(
                "{}: {}",
                step.error_code.as_deref().unwrap_or("Error"),
                step.error_message.as_deref().unwrap_or("")
            )
        };
        let _ = writeln!(
            out,
            "- {} → {}: {}",
            text(&step.principal),
            text(&step.call),
            text(&result)
        );
        if step.detail != Value::Null {
            let json = serde_json::to_string_pretty(&step.detail).unwrap_or_default();
            let _ = writeln!(out, "\n{}", indent(&fenced(&json, "json")));
        }
    }
    if !any_fix {
        let _ = writeln!(out, "{}", text(&tr!(lang, "report.no_fix")));
    }
    out.push('\n');

    let notes: Vec<&String> = run
        .steps
        .iter()
        .filter_map(|s| s.note.as_ref())
        .chain(&run.narrative_notes)
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(out, "### {}\n", text(&tr!(lang, "report.notes")));
        for note in notes {
            let _ = writeln!(out, "- {}", text(note));
        }
        out.push('\n');
    }
}

/// Untrusted text made inert in Markdown: no HTML, no links, no emphasis, no table breaks.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push(' '),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A fenced code block whose fence is longer than any run of backticks inside.
fn fenced(body: &str, info: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}{info}\n{body}\n{fence}\n")
}

fn indent(block: &str) -> String {
    block.lines().map(|line| format!("  {line}\n")).collect()
}
