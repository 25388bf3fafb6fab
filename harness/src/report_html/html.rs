//! `report.html`: one page, its CSS inline, its diagrams inline SVG, no script.

use std::fmt::Write as _;

use serde_json::Value;
use wana_i18n::{tr, Lang};

use super::{diagram, esc, expectation, failures, fix_steps, phase_name};
use crate::report::RunReport;

const CSS: &str = "
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, 'Segoe UI', 'Noto Sans', 'Noto Sans CJK JP', sans-serif;
  margin: 24px; color: #1f2937; background: #ffffff; line-height: 1.5; }
h1 { font-size: 1.6rem; margin: 0 0 12px; }
h2 { font-size: 1.3rem; border-bottom: 2px solid #d1d5db; padding-bottom: 4px; margin-top: 32px; }
h3 { font-size: 1.05rem; margin: 20px 0 8px; }
table.facts { border-collapse: collapse; }
table.facts th { text-align: left; padding: 3px 16px 3px 0; color: #4b5563; font-weight: 600; }
table.facts td { padding: 3px 0; }
.ok { color: #166534; font-weight: 700; }
.off { color: #c62828; font-weight: 700; }
.diagram { margin: 0; overflow-x: auto; border: 1px solid #e5e7eb; border-radius: 6px; padding: 8px; }
.caption { color: #4b5563; font-size: 0.9rem; margin: 6px 0 0; }
ul.failures li { margin-bottom: 8px; }
code, pre { font-family: ui-monospace, 'DejaVu Sans Mono', monospace; font-size: 0.85rem; }
pre { background: #f3f4f6; padding: 8px; border-radius: 4px; overflow-x: auto; white-space: pre-wrap; }
.code { color: #c62828; font-weight: 700; }
table.steps { border-collapse: collapse; font-size: 0.9rem; }
table.steps th, table.steps td { border: 1px solid #e5e7eb; padding: 3px 6px; text-align: left; vertical-align: top; }
tr.failed td { color: #c62828; }
";

pub(super) fn page(runs: &[RunReport], lang: Lang) -> String {
    let title = match runs {
        [one] => tr!(lang, "report.title_one", trap = one.trap),
        _ => tr!(lang, "report.title"),
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{title}</h1>\n",
        lang = lang.code(),
        title = esc(&title),
    );
    if runs.len() > 1 {
        let _ = write!(out, "<nav><h3>{}</h3><ul>", esc(&tr!(lang, "report.runs")));
        for (index, run) in runs.iter().enumerate() {
            let class = if run.matches_expectation { "ok" } else { "off" };
            let _ = write!(
                out,
                "<li><a href=\"#run-{n}\">{trap} — {backend} ({profile})</a>: <span class=\"{class}\">{verdict}</span></li>",
                n = index + 1,
                trap = esc(&run.trap),
                backend = run.backend,
                profile = run.profile,
                verdict = run.verdict,
            );
        }
        out.push_str("</ul></nav>\n");
    }
    for (index, run) in runs.iter().enumerate() {
        section(&mut out, run, lang, index + 1);
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn section(out: &mut String, run: &RunReport, lang: Lang, number: usize) {
    let _ = write!(
        out,
        "<section class=\"run\" id=\"run-{number}\">\n<h2>{} — {} ({})</h2>\n<table class=\"facts\">",
        esc(&run.trap),
        run.backend,
        run.profile
    );
    let class = if run.matches_expectation { "ok" } else { "off" };
    let rows = [
        (tr!(lang, "report.trap"), esc(&run.trap)),
        (tr!(lang, "report.backend"), run.backend.to_string()),
        (tr!(lang, "report.profile"), run.profile.to_string()),
        (
            tr!(lang, "report.verdict"),
            format!("<span class=\"{class} verdict\">{}</span>", run.verdict),
        ),
        (
            tr!(lang, "report.expectation"),
            format!(
                "<span class=\"{class}\">{}</span>",
                esc(&expectation(lang, run))
            ),
        ),
    ];
    for (name, value) in rows {
        let _ = write!(out, "<tr><th>{}</th><td>{value}</td></tr>", esc(&name));
    }
    out.push_str("</table>\n");
    if let Some(error) = &run.error {
        let _ = write!(
            out,
            "<h3>{}</h3><pre>{}</pre>\n",
            esc(&tr!(lang, "report.error")),
            esc(error)
        );
    }

    let _ = write!(out, "<h3>{}</h3>\n", esc(&tr!(lang, "report.diagram")));
    if run.steps.iter().any(diagram::drawn) {
        let _ = write!(
            out,
            "<figure class=\"diagram\">{}<figcaption class=\"caption\">{}</figcaption></figure>\n",
            diagram::render(run, lang, &format!("run{number}")),
            esc(&tr!(lang, "report.diagram_caption"))
        );
        if run.inner_calls.is_empty() && run.backend != crate::backend::BackendKind::Emulator {
            let _ = write!(
                out,
                "<p class=\"caption\">{}</p>\n",
                esc(&tr!(lang, "report.no_inner_calls"))
            );
        }
    } else {
        let _ = write!(out, "<p>{}</p>\n", esc(&tr!(lang, "report.no_steps")));
    }

    let _ = write!(out, "<h3>{}</h3>\n", esc(&tr!(lang, "report.failures")));
    let failures = failures(run, lang);
    if failures.is_empty() {
        let _ = write!(out, "<p>{}</p>\n", esc(&tr!(lang, "report.no_failures")));
    } else {
        out.push_str("<ul class=\"failures\">");
        for failure in failures {
            let _ = write!(
                out,
                "<li>{} <span class=\"code\">{}</span><br><code>{}</code></li>",
                esc(&failure.title),
                esc(&failure.code),
                esc(&failure.detail)
            );
        }
        out.push_str("</ul>\n");
    }

    let _ = write!(out, "<h3>{}</h3>\n", esc(&tr!(lang, "report.fix")));
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
        let _ = write!(
            out,
            "<p><strong>{} → {}</strong>: {}</p>",
            esc(&step.principal),
            esc(&step.call),
            esc(&result)
        );
        if step.detail != Value::Null {
            let json = serde_json::to_string_pretty(&step.detail).unwrap_or_default();
            let _ = write!(out, "<pre>{}</pre>", esc(&json));
        }
        out.push('\n');
    }
    if !any_fix {
        let _ = write!(out, "<p>{}</p>\n", esc(&tr!(lang, "report.no_fix")));
    }

    let notes: Vec<&String> = run
        .steps
        .iter()
        .filter_map(|s| s.note.as_ref())
        .chain(&run.narrative_notes)
        .collect();
    if !notes.is_empty() {
        let _ = write!(
            out,
            "<h3>{}</h3>\n<ul class=\"notes\">",
            esc(&tr!(lang, "report.notes"))
        );
        for note in notes {
            let _ = write!(out, "<li>{}</li>", esc(note));
        }
        out.push_str("</ul>\n");
    }

    let _ = write!(
        out,
        "<details><summary>{}</summary><table class=\"steps\"><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        esc(&tr!(lang, "report.all_steps")),
        esc(&tr!(lang, "report.column.phase")),
        esc(&tr!(lang, "report.column.principal")),
        esc(&tr!(lang, "report.column.call")),
        esc(&tr!(lang, "report.column.result")),
    );
    for (index, step) in run.steps.iter().enumerate() {
        let (class, result) = if step.ok {
            (
                "",
                match &step.detail {
                    Value::Null => tr!(lang, "report.ok"),
                    detail => format!("{} {detail}", tr!(lang, "report.ok")),
                },
            )
        } else {
            (
                " class=\"failed\"",
                format!(
                    "{}: {}",
                    step.error_code.as_deref().unwrap_or("Error"),
                    step.error_message.as_deref().unwrap_or("")
                ),
            )
        };
        let _ = write!(
            out,
            "<tr{class}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            index + 1,
            esc(&phase_name(lang, step.phase)),
            esc(&step.principal),
            esc(&step.call),
            esc(&result)
        );
    }
    out.push_str("</table></details>\n</section>\n");
}
