//! `--report DIR`: a run's report as `report.md` and a self-contained `report.html`.
//!
//! The page carries its CSS and its sequence diagram (inline SVG) inside it and names no other
//! resource (a Content-Security-Policy of `default-src 'none'` says so to the browser too), so it
//! opens offline and can be mailed as one file. For each run: the trap, backend, profile, verdict
//! and whether it matched the expectation; the sequence diagram ([`diagram`]) with the calls
//! services made for the run's principals under their step ([`inner`]) and the refused calls in
//! red; the refused calls in words; the fix applied; the notes; every recorded call.
//!
//! Every text goes through the [`Redactor`] the caller passes (secrets always; ids too with a
//! full one) and is escaped: policies, scripts and notes are untrusted input. Labels come from
//! the i18n catalog (`i18n/messages/report.toml`); AWS's codes, messages and the emulator's
//! explanations stay in English, as AWS writes them.
//!
//! [`write_report`] is what `repro --report`, `nightly --report` and `workshop` call: one report
//! listing every run it is given.

mod diagram;
mod html;
pub mod inner;
mod markdown;

use std::path::{Path, PathBuf};

use wana_i18n::{tr, Lang};

pub use inner::InnerCall;

use crate::{
    outcome::{Phase, Step},
    redact::Redactor,
    report::RunReport,
};

/// The two files a report is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFiles {
    pub markdown: PathBuf,
    pub html: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write the report into {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Writes `dir/report.md` and `dir/report.html` (creating `dir`) for `runs`, in `lang`, with
/// every text redacted by `redactor`.
pub fn write_report(
    dir: &Path,
    runs: &[RunReport],
    lang: Lang,
    redactor: &Redactor,
) -> Result<ReportFiles, ReportError> {
    let write = |path: PathBuf, text: String| {
        std::fs::write(&path, text).map_err(|source| ReportError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    };
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    Ok(ReportFiles {
        markdown: write(dir.join("report.md"), render_markdown(runs, lang, redactor))?,
        html: write(dir.join("report.html"), render_html(runs, lang, redactor))?,
    })
}

/// The page: one section per run.
pub fn render_html(runs: &[RunReport], lang: Lang, redactor: &Redactor) -> String {
    let runs: Vec<RunReport> = runs.iter().map(|r| r.redacted(redactor)).collect();
    html::page(&runs, lang)
}

/// The Markdown form: the same content, the diagram as a list of calls.
pub fn render_markdown(runs: &[RunReport], lang: Lang, redactor: &Redactor) -> String {
    let runs: Vec<RunReport> = runs.iter().map(|r| r.redacted(redactor)).collect();
    markdown::document(&runs, lang)
}

/// Text made safe for HTML and SVG, in element content and in quoted attributes.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters (a terminal's escape sequences in a script's output) are shown,
            // not passed on.
            c if c.is_control() && c != '\n' && c != '\t' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn phase_name(lang: Lang, phase: Phase) -> String {
    match phase {
        Phase::Provision => tr!(lang, "report.phase.provision"),
        Phase::Trigger => tr!(lang, "report.phase.trigger"),
        Phase::Observe => tr!(lang, "report.phase.observe"),
        Phase::Fix => tr!(lang, "report.phase.fix"),
        Phase::Verify => tr!(lang, "report.phase.verify"),
        Phase::Teardown => tr!(lang, "report.phase.teardown"),
    }
}

/// Whether the verdict is the expected one, in words.
pub(crate) fn expectation(lang: Lang, report: &RunReport) -> String {
    match report.expected_verdict {
        Some(expected) if report.matches_expectation => {
            tr!(lang, "report.matches", expected = expected)
        }
        Some(expected) => tr!(lang, "report.does_not_match", expected = expected),
        None => tr!(lang, "report.no_expectation"),
    }
}

/// A refused call, for the list under the diagram: what, by whom, the code, and why.
pub(crate) struct Failure {
    pub title: String,
    pub code: String,
    pub detail: String,
}

/// The run's failed steps and refused inner calls, teardown left out, in order.
pub(crate) fn failures(report: &RunReport, lang: Lang) -> Vec<Failure> {
    let mut out = Vec::new();
    for (index, step) in report
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| diagram::drawn(s))
    {
        if !step.ok {
            out.push(Failure {
                title: format!(
                    "{} → {} ({})",
                    step.principal,
                    step.call,
                    phase_name(lang, step.phase)
                ),
                code: step.error_code.clone().unwrap_or_else(|| "Error".into()),
                detail: step.error_message.clone().unwrap_or_default(),
            });
        }
        for call in report
            .inner_calls
            .iter()
            .filter(|c| c.step == index && !c.allowed)
        {
            out.push(Failure {
                title: format!(
                    "{} → {}: {}",
                    diagram::service_display(&call.from_service()),
                    diagram::service_display(&call.to_service()),
                    diagram::inner_label(lang, call)
                ),
                code: diagram::denied_code(&call.action).to_string(),
                detail: format!("{} — {}", call.resource, call.explanation),
            });
        }
    }
    out
}

/// The steps of the fix phase.
pub(crate) fn fix_steps(report: &RunReport) -> impl Iterator<Item = &Step> {
    report.steps.iter().filter(|s| s.phase == Phase::Fix)
}

#[cfg(test)]
mod tests;
