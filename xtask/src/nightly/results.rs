//! `results.json`: everything a nightly run found, for machines (the drift report and JUnit file
//! are built from the same values), and the other backends' runs it was compared with.

use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use wana_harness::{BackendKind, RunReport};

use super::drift::Comparison;

/// The format's version, bumped when a field changes meaning.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub format: u32,
    pub backend: BackendKind,
    /// RFC 3339, when the nightly run started.
    pub started_at: String,
    /// `full` (account ids, resource ids and timestamps hidden) or `secrets-only`
    /// (`--no-redact`). Secrets are hidden at both levels.
    pub redaction: String,
    pub interrupted: bool,
    /// Why no run could start (`--backend` unavailable or refused), if so.
    pub backend_unavailable: Option<String>,
    pub exit_code: u8,
    pub runs: Vec<RunEntry>,
    pub not_run: Vec<NotRun>,
    /// Each run against its accepted snapshot, where they differ.
    pub drift: Vec<Comparison>,
    /// The emulator against another backend, where they differ.
    pub disagreements: Vec<Comparison>,
    /// Runs of other backends this run was compared with (from the `results.json` that was in the
    /// output directory before, and from `--compare-with`), kept so that the next run can compare
    /// with them too.
    pub other_backends: Vec<RunEntry>,
}

/// One finished run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEntry {
    #[serde(flatten)]
    pub report: RunReport,
    /// The accepted snapshot's file name, when there is one.
    pub snapshot: Option<String>,
    pub snapshot_status: SnapshotStatus,
    /// This run's outcome as a snapshot, relative to the output directory.
    pub new_snapshot: Option<String>,
    pub started_at: String,
    pub duration_seconds: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotStatus {
    Unchanged,
    Drifted,
    /// No accepted snapshot for this trap, backend and profile yet.
    Missing,
    Unreadable,
}

impl SnapshotStatus {
    pub fn name(self) -> &'static str {
        match self {
            SnapshotStatus::Unchanged => "unchanged",
            SnapshotStatus::Drifted => "drifted",
            SnapshotStatus::Missing => "no snapshot",
            SnapshotStatus::Unreadable => "unreadable",
        }
    }
}

/// A planned run that did not run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotRun {
    pub trap: String,
    pub profile: String,
    pub reason: String,
}

/// The runs of backends other than `backend` found in a `results.json`: its own runs when it was
/// written for another backend, and the other backends it carried.
pub fn other_backend_runs(path: &Path, backend: BackendKind) -> anyhow::Result<Vec<RunEntry>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let results: Results = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a results.json of cargo xtask nightly",
            path.display()
        )
    })?;
    Ok(results
        .runs
        .into_iter()
        .chain(results.other_backends)
        .filter(|entry| entry.report.backend != backend)
        .collect())
}

/// Adds `newer` to `runs`, replacing what `runs` holds for the same backend, trap and profile.
pub fn merge(runs: &mut Vec<RunEntry>, newer: Vec<RunEntry>) {
    for entry in newer {
        runs.retain(|kept| {
            (kept.report.backend, &kept.report.trap, kept.report.profile)
                != (
                    entry.report.backend,
                    &entry.report.trap,
                    entry.report.profile,
                )
        });
        runs.push(entry);
    }
}
