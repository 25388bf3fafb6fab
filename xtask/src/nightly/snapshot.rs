//! Accepted outcome snapshots: `snapshots/<trap>@<backend>[-<profile>].snap`, insta's format (a
//! `---` header, then the fully redacted run report as JSON).
//!
//! The scenario tests own the emulator's snapshots and insta checks them; the nightly run reads
//! them (and the other backends' ones, which only it reads) as the last accepted outcome, and
//! writes each run's outcome in the same format next to its results, so that accepting a new
//! outcome is copying one file.

use std::path::Path;

use wana_harness::{BackendKind, BehaviourProfile, RunReport};

/// What the snapshot directory holds for one run.
#[derive(Debug, Clone, PartialEq)]
pub enum Accepted {
    Found { file: String, report: RunReport },
    Unreadable { file: String, reason: String },
    Missing,
}

/// The file names a run's snapshot may have, the most specific first: with the profile (a trap
/// that runs under several profiles on the backend), then without.
pub fn candidate_names(trap: &str, backend: BackendKind, profile: BehaviourProfile) -> [String; 2] {
    [
        format!("{trap}@{backend}-{}.snap", profile.name()),
        format!("{trap}@{backend}.snap"),
    ]
}

/// The name a new snapshot of this run gets: with the profile when the trap runs under several
/// profiles on this backend, as the scenario tests name them.
pub fn new_name(
    trap: &str,
    backend: BackendKind,
    profile: BehaviourProfile,
    several_profiles: bool,
) -> String {
    let [with_profile, without] = candidate_names(trap, backend, profile);
    if several_profiles {
        with_profile
    } else {
        without
    }
}

/// The accepted snapshot of a run, if `dir` has one.
pub fn find_accepted(
    dir: &Path,
    trap: &str,
    backend: BackendKind,
    profile: BehaviourProfile,
) -> Accepted {
    for file in candidate_names(trap, backend, profile) {
        let path = dir.join(&file);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        return match parse(&text) {
            Ok(report) => Accepted::Found { file, report },
            Err(reason) => Accepted::Unreadable { file, reason },
        };
    }
    Accepted::Missing
}

/// Reads an insta snapshot holding a run report.
pub fn parse(text: &str) -> Result<RunReport, String> {
    let body = strip_header(text);
    serde_json::from_str(body).map_err(|err| format!("not a run report: {err}"))
}

/// The text after insta's metadata header (`---`, `key: value` lines, `---`); a file without
/// one is all body.
fn strip_header(text: &str) -> &str {
    let Some(after_open) = text.strip_prefix("---\n") else {
        return text;
    };
    match after_open.find("\n---\n") {
        Some(end) => &after_open[end + "\n---\n".len()..],
        None => text,
    }
}

/// A fully redacted report in insta's JSON snapshot format, ready to be copied into
/// `snapshots/`.
pub fn render(report: &RunReport) -> String {
    let body = serde_json::to_string_pretty(report).expect("reports serialize");
    format!("---\nsource: cargo xtask nightly\n---\n{body}\n")
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn workspace_snapshots() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../snapshots")
    }

    #[test]
    fn profiled_names_come_first_and_new_names_follow_the_scenario_tests() {
        assert_eq!(
            candidate_names(
                "alarm-recover",
                BackendKind::Emulator,
                BehaviourProfile::Legacy2016
            ),
            [
                "alarm-recover@emulator-legacy-2016.snap".to_string(),
                "alarm-recover@emulator.snap".to_string()
            ]
        );
        assert_eq!(
            new_name(
                "alarm-recover",
                BackendKind::Emulator,
                BehaviourProfile::Current,
                true
            ),
            "alarm-recover@emulator-current.snap"
        );
        assert_eq!(
            new_name(
                "cmk-start-external-role",
                BackendKind::Sandbox,
                BehaviourProfile::Current,
                false
            ),
            "cmk-start-external-role@sandbox.snap"
        );
    }

    /// Every accepted snapshot in the workspace reads as a report, and writing it back gives the
    /// same JSON text insta wrote: copying a nightly's snapshot into `snapshots/` changes nothing
    /// but the header when the outcome is the same.
    #[test]
    fn the_workspace_snapshots_read_and_render_back_to_the_same_body() {
        let mut seen = 0;
        for entry in std::fs::read_dir(workspace_snapshots()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("snap") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let report = parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let name = path.file_name().unwrap().to_str().unwrap();
            assert!(
                name.starts_with(&format!("{}@{}", report.trap, report.backend)),
                "{name}"
            );
            assert_eq!(
                strip_header(&render(&report)),
                strip_header(&text),
                "{name}"
            );
            seen += 1;
        }
        assert!(seen >= 6, "the workspace has the emulator's snapshots");
    }

    #[test]
    fn find_accepted_prefers_the_profiled_file_and_reports_unreadable_ones() {
        let dir = tempfile::tempdir().unwrap();
        let found = find_accepted(
            &workspace_snapshots(),
            "alarm-recover",
            BackendKind::Emulator,
            BehaviourProfile::Legacy2016,
        );
        let Accepted::Found { file, report } = found else {
            panic!("{found:?}")
        };
        assert_eq!(file, "alarm-recover@emulator-legacy-2016.snap");
        assert_eq!(report.profile, BehaviourProfile::Legacy2016);

        assert_eq!(
            find_accepted(
                dir.path(),
                "alarm-recover",
                BackendKind::Sandbox,
                BehaviourProfile::Current
            ),
            Accepted::Missing
        );
        std::fs::write(
            dir.path().join("alarm-recover@sandbox.snap"),
            "---\nsource: x\n---\n{\"trap\": 1}\n",
        )
        .unwrap();
        let unreadable = find_accepted(
            dir.path(),
            "alarm-recover",
            BackendKind::Sandbox,
            BehaviourProfile::Current,
        );
        let Accepted::Unreadable { file, reason } = unreadable else {
            panic!("{unreadable:?}")
        };
        assert_eq!(file, "alarm-recover@sandbox.snap");
        assert!(reason.starts_with("not a run report"), "{reason}");
    }
}
