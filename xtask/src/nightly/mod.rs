//! `nightly --backend <b> --out DIR`: every runnable trap (or those of `--traps`), with the files
//! CI keeps: `junit.xml` (test results), `results.json` (everything, for machines), `report.md`
//! (the drift report), and `snapshots/` (each run's outcome in the accepted snapshots' format).
//!
//! Exit codes: 0 every verdict as expected; 1 a verdict off its expectation (or, with
//! `--fail-on-drift`, drift from an accepted snapshot); 2 usage; 3 the backend is unavailable or
//! refused (nothing ran); 4 a run's teardown failed on a sandbox (something may be left: `cargo xtask cleanup`); 130
//! interrupted (Ctrl-C or SIGTERM).

mod drift;
mod execute;
mod junit;
mod markdown;
mod results;
mod snapshot;
#[cfg(test)]
mod workflow_tests;

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    str::FromStr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

use anyhow::Context as _;
use chrono::{SecondsFormat, Utc};
use clap::Args;
use wana_harness::{
    aws_cli::workspace_root, BackendKind, Redactor, Verdict,
};

use self::{
    drift::{compare, without_account_names, Comparison, Difference, DriftKind},
    execute::{execute, Finished, Outcome, Planned},
    results::{merge, other_backend_runs, NotRun, Results, RunEntry, SnapshotStatus},
    snapshot::Accepted,
};
use crate::{
    out::outln,
    repro::{selected_profiles, ProfileSelection},
    target::{Target, TargetArgs},
    UsageError,
};

pub const EXIT_VERDICT_OFF: u8 = 1;
use crate::sandbox_cli::{
    EXIT_INTERRUPTED, EXIT_LEAKED as EXIT_LEAKED_RESOURCES, EXIT_REFUSED as EXIT_BACKEND_UNAVAILABLE,
};

#[derive(Debug, Args)]
pub struct NightlyArgs {
    /// Where to run: emulator, localstack, moto, endpoint (with --endpoint) or sandbox.
    #[arg(long, value_parser = BackendKind::from_str)]
    pub backend: BackendKind,
    #[command(flatten)]
    pub target: TargetArgs,
    /// The traps to run, comma-separated (default: every runnable trap).
    #[arg(long, value_delimiter = ',', value_name = "TRAP,...")]
    pub traps: Vec<String>,
    /// Where to write junit.xml, results.json, report.md and the runs' snapshots (created when
    /// missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Keep account ids, resource ids and timestamps in the files written. Secrets are hidden
    /// whatever this says.
    #[arg(long)]
    pub no_redact: bool,
    /// The accepted snapshots to compare with (default: the workspace's snapshots/).
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
    /// A results.json of a nightly run on another backend, to compare with the emulator's runs
    /// (repeatable). A results.json already in --out is read too.
    #[arg(long, value_name = "FILE")]
    pub compare_with: Vec<PathBuf>,
    /// Exit 1 also when a run drifted from its accepted snapshot, not only when a verdict is off
    /// its expectation.
    #[arg(long)]
    pub fail_on_drift: bool,
    /// Also write report.md and a self-contained report.html into DIR: one report listing every
    /// run, each with its sequence diagram. Not --out itself, whose report.md is the drift report.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// The language of that report's labels: ja or en (default: from LC_ALL, LC_MESSAGES, LANG).
    #[arg(long, value_parser = wana_i18n::Lang::from_str)]
    pub lang: Option<wana_i18n::Lang>,
}

pub fn run(args: &NightlyArgs) -> anyhow::Result<ExitCode> {
    let backend = args.backend;
    args.target.check(backend)?;
    let planned = plan(backend, &args.traps)?;
    if args.report.as_deref().is_some_and(|dir| same_dir(dir, &args.out)) {
        return Err(UsageError(
            "--report must name another directory than --out (report.md there is the drift report)".into(),
        )
        .into());
    }
    let snapshots_dir = match &args.snapshots {
        Some(dir) if !dir.is_dir() => {
            return Err(
                UsageError(format!("--snapshots {}: not a directory", dir.display())).into(),
            )
        }
        Some(dir) => dir.clone(),
        None => workspace_root().join("snapshots"),
    };
    let mut others = Vec::new();
    let previous = args.out.join("results.json");
    if previous.is_file() {
        match other_backend_runs(&previous, backend) {
            Ok(runs) => merge(&mut others, runs),
            Err(err) => eprintln!(
                "nightly: ignoring the earlier {}: {err:#}",
                previous.display()
            ),
        }
    }
    for path in &args.compare_with {
        let runs = other_backend_runs(path, backend)
            .map_err(|err| UsageError(format!("--compare-with: {err:#}")))?;
        merge(&mut others, runs);
    }
    std::fs::create_dir_all(args.out.join("snapshots"))
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    if backend == BackendKind::Emulator
        && planned
            .iter()
            .any(|run| run.scenario.runs_aws_cli_on_instances())
        && std::env::var_os(wana_harness::aws_cli::AWS_CLI_ENV).is_none_or(|v| v.is_empty())
    {
        // The emulator's instances run the real AWS CLI from `<workspace>/.venv`.
        crate::test_command::ensure_aws_cli(&workspace_root(), "xtask nightly")?;
    }

    let started_at = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    // On a sandbox: the guards for every account the planned traps use, and one question.
    let mut needs: Vec<&str> = planned.iter().flat_map(|run| run.scenario.accounts()).copied().collect();
    needs.sort_unstable();
    needs.dedup();
    let target = Target::prepare(backend, &args.target, &needs);
    let runtime = crate::runtime()?;
    let interrupted = Arc::new(AtomicBool::new(false));
    watch_interrupts(&runtime, interrupted.clone())?;
    let (unavailable, outcomes) = match target {
        Err(refused) => (Some(refused), Vec::new()),
        Ok(target) => match runtime.block_on(target.probe()) {
            Some(unavailable) => (Some(unavailable), Vec::new()),
            None => (None, runtime.block_on(execute(Arc::new(target), &planned, interrupted.clone()))),
        },
    };

    let redactor = if args.no_redact {
        Redactor::secrets_only()
    } else {
        Redactor::full()
    };
    let mut results = Results {
        format: results::FORMAT,
        backend,
        started_at,
        redaction: if args.no_redact {
            "secrets-only"
        } else {
            "full"
        }
        .into(),
        interrupted: interrupted.load(Ordering::SeqCst),
        backend_unavailable: unavailable.as_deref().map(|r| redactor.redact_text(r)),
        exit_code: 0,
        runs: Vec::new(),
        not_run: Vec::new(),
        drift: Vec::new(),
        disagreements: Vec::new(),
        other_backends: Vec::new(),
    };
    if let Some(reason) = &results.backend_unavailable {
        for run in &planned {
            results.not_run.push(NotRun {
                trap: run.trap.into(),
                profile: run.profile.name().into(),
                reason: format!("the {backend} backend is unavailable: {reason}"),
            });
        }
    }
    let mut reports = Vec::new();
    for outcome in outcomes {
        match outcome {
            Outcome::Finished(finished) => {
                reports.push(finished.report.clone());
                let (entry, comparison) = judge(&finished, &snapshots_dir, &args.out, &redactor)?;
                results.runs.push(entry);
                results.drift.extend(comparison);
            }
            Outcome::Interrupted(run) => results.not_run.push(NotRun {
                trap: run.trap.into(),
                profile: run.profile.name().into(),
                reason: "not started: the nightly run was interrupted".into(),
            }),
        }
    }
    results.disagreements = disagreements(&results.runs, &others);
    results.other_backends = others;
    results.exit_code = exit_code(&results, args.fail_on_drift);

    write_files(
        &results,
        &args.out,
        args.snapshots.is_some().then_some(&snapshots_dir),
    )?;
    for entry in &results.runs {
        let report = &entry.report;
        let expectation = if report.matches_expectation {
            "as expected".to_string()
        } else {
            format!(
                "expected {}",
                report
                    .expected_verdict
                    .map_or("none".into(), |v| v.to_string())
            )
        };
        outln!(
            "{} ({}): {}, {expectation}; snapshot {}",
            report.trap,
            report.profile,
            report.verdict,
            entry.snapshot_status.name()
        );
    }
    if let Some(reason) = &results.backend_unavailable {
        eprintln!("nightly: the {backend} backend is unavailable or refused: {reason}");
    }
    outln!(
        "wrote {} (junit.xml, results.json, report.md, snapshots/)",
        args.out.display()
    );
    if let Some(dir) = &args.report {
        let lang = wana_i18n::Lang::choose(args.lang);
        let files = wana_harness::write_report(dir, &reports, lang, &redactor)?;
        outln!(
            "{}",
            wana_i18n::tr!(lang, "report.written", markdown = files.markdown.display(), html = files.html.display())
        );
    }
    Ok(ExitCode::from(results.exit_code))
}

/// Whether two paths name one directory (either may not exist yet).
fn same_dir(a: &Path, b: &Path) -> bool {
    let full = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()));
    full(a) == full(b)
}

/// The runs to make: the runnable traps (or those named), each under the profiles it declares
/// on this backend, in the catalog's order.
fn plan(backend: BackendKind, names: &[String]) -> anyhow::Result<Vec<Planned>> {
    for name in names {
        let trap = crate::catalog::find_trap(name)?;
        if !trap.is_runnable() {
            return Err(UsageError(format!("trap {name} has no runnable scenario yet")).into());
        }
    }
    let mut planned = Vec::new();
    for trap in wana_scenarios::catalog() {
        let Some(scenario) = trap.scenario else {
            continue;
        };
        if !names.is_empty() && !names.iter().any(|name| name == trap.id) {
            continue;
        }
        let profiles = selected_profiles(None::<ProfileSelection>, backend, scenario.profiles());
        let several_profiles = profiles.len() > 1;
        for profile in profiles {
            planned.push(Planned {
                trap: trap.id,
                scenario,
                profile,
                several_profiles,
            });
        }
    }
    Ok(planned)
}

/// The first Ctrl-C (SIGINT) or SIGTERM stops the runs under way (the harness tears each down and reports
/// it interrupted) and starts no other; a second one ends the process at once.
fn watch_interrupts(
    runtime: &tokio::runtime::Runtime,
    flag: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let _guard = runtime.enter();
    // The harness stops every run at the first Ctrl-C, also one not yet under way.
    wana_harness::interrupt::watch();
    // Registered here, before any run starts, so that no SIGINT or SIGTERM is missed.
    let mut interrupts =
        wana_harness::interrupt::Signals::register().context("cannot watch for Ctrl-C and SIGTERM")?;
    runtime.spawn(async move {
        if !interrupts.next().await {
            return;
        }
        flag.store(true, Ordering::SeqCst);
        eprintln!(
            "nightly: interrupted: the runs under way stop and tear down, no other starts; \
             Ctrl-C again stops at once"
        );
        if interrupts.next().await {
            eprintln!(
                "nightly: stopped at once; on real accounts, `cargo xtask cleanup` finds what \
                 the runs left"
            );
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
    });
    Ok(())
}

/// A finished run as results.json keeps it, and its drift from the accepted snapshot. Writes the
/// run's own snapshot into `out/snapshots/`.
fn judge(
    finished: &Finished,
    snapshots_dir: &Path,
    out: &Path,
    redactor: &Redactor,
) -> anyhow::Result<(RunEntry, Option<Comparison>)> {
    let run = &finished.planned;
    let backend = finished.report.backend;
    // The snapshot form: ids, timestamps and secrets hidden whatever --no-redact says.
    let outcome = finished.report.redacted(&Redactor::full());
    let accepted = snapshot::find_accepted(snapshots_dir, run.trap, backend, run.profile);
    let (file, status, differences) = match accepted {
        Accepted::Found { file, report } => {
            let differences = compare(&report, &outcome);
            let status = if differences.is_empty() {
                SnapshotStatus::Unchanged
            } else {
                SnapshotStatus::Drifted
            };
            (Some(file), status, differences)
        }
        Accepted::Unreadable { file, reason } => {
            let difference = Difference {
                kind: DriftKind::SnapshotUnreadable,
                phase: None,
                step: None,
                reference: None,
                observed: Some(reason),
            };
            (Some(file), SnapshotStatus::Unreadable, vec![difference])
        }
        Accepted::Missing => (None, SnapshotStatus::Missing, Vec::new()),
    };
    let new_name = file.clone().unwrap_or_else(|| {
        snapshot::new_name(run.trap, backend, run.profile, run.several_profiles)
    });
    let new_path = out.join("snapshots").join(&new_name);
    std::fs::write(&new_path, snapshot::render(&outcome))
        .with_context(|| format!("cannot write {}", new_path.display()))?;
    let comparison = (!differences.is_empty()).then(|| Comparison {
        trap: run.trap.into(),
        profile: run.profile.name().into(),
        reference: file.clone().unwrap_or_default(),
        observed: backend.name().into(),
        differences,
    });
    let entry = RunEntry {
        report: finished.report.redacted(redactor),
        snapshot: file,
        snapshot_status: status,
        new_snapshot: Some(format!("snapshots/{new_name}")),
        started_at: finished.started_at.clone(),
        duration_seconds: finished.duration_seconds,
    };
    Ok((entry, comparison))
}

/// Where the emulator and another backend concluded differently, or met AWS's answers
/// differently, for the same trap and profile. Runs that could not conclude anything about AWS
/// (`unsupported`, `error`) are not compared: they are reported as such.
fn disagreements(runs: &[RunEntry], others: &[RunEntry]) -> Vec<Comparison> {
    let concluded =
        |entry: &RunEntry| !matches!(entry.report.verdict, Verdict::Unsupported | Verdict::Error);
    let comparable =
        |entry: &RunEntry| without_account_names(&entry.report.redacted(&Redactor::full()));
    let mut out = Vec::new();
    for run in runs.iter().filter(|e| concluded(e)) {
        for other in others.iter().filter(|e| concluded(e)) {
            let same =
                other.report.trap == run.report.trap && other.report.profile == run.report.profile;
            let (emulator, elsewhere) = match (run.report.backend, other.report.backend) {
                (BackendKind::Emulator, b) if b != BackendKind::Emulator => (run, other),
                (a, BackendKind::Emulator) if a != BackendKind::Emulator => (other, run),
                _ => continue,
            };
            if !same {
                continue;
            }
            let differences = compare(&comparable(emulator), &comparable(elsewhere));
            if !differences.is_empty() {
                out.push(Comparison {
                    trap: run.report.trap.clone(),
                    profile: run.report.profile.name().into(),
                    reference: BackendKind::Emulator.name().into(),
                    observed: elsewhere.report.backend.name().into(),
                    differences,
                });
            }
        }
    }
    out
}

fn exit_code(results: &Results, fail_on_drift: bool) -> u8 {
    if results.backend_unavailable.is_some() {
        EXIT_BACKEND_UNAVAILABLE
    } else if results.interrupted {
        EXIT_INTERRUPTED
    } else if results.runs.iter().any(|e| e.report.left_resources) {
        EXIT_LEAKED_RESOURCES
    } else if results.runs.iter().any(|e| !e.report.matches_expectation)
        || (fail_on_drift && !results.drift.is_empty())
    {
        EXIT_VERDICT_OFF
    } else {
        0
    }
}

fn write_files(
    results: &Results,
    out: &Path,
    snapshots_dir: Option<&PathBuf>,
) -> anyhow::Result<()> {
    let write = |name: &str, text: String| {
        let path = out.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    let json = serde_json::to_string_pretty(results).expect("results serialize");
    write("results.json", json + "\n")?;
    write("junit.xml", junit::render(results))?;
    let shown_as =
        snapshots_dir.map_or_else(|| "snapshots".to_string(), |dir| dir.display().to_string());
    write("report.md", markdown::render(results, &shown_as))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use wana_harness::{BehaviourProfile, RunReport};

    use super::*;
    use crate::nightly::results::{RunEntry, SnapshotStatus, FORMAT};

    fn results(left_resources: bool, matches_expectation: bool) -> Results {
        let mut report =
            RunReport::not_runnable("t", BackendKind::Sandbox, BehaviourProfile::Current);
        report.left_resources = left_resources;
        report.matches_expectation = matches_expectation;
        Results {
            format: FORMAT,
            backend: BackendKind::Sandbox,
            started_at: "2026-01-02T03:04:05Z".into(),
            redaction: "full".into(),
            interrupted: false,
            backend_unavailable: None,
            exit_code: 0,
            runs: vec![RunEntry {
                report,
                snapshot: None,
                snapshot_status: SnapshotStatus::Missing,
                new_snapshot: None,
                started_at: "2026-01-02T03:04:05Z".into(),
                duration_seconds: 1.0,
            }],
            not_run: Vec::new(),
            drift: Vec::new(),
            disagreements: Vec::new(),
            other_backends: Vec::new(),
        }
    }

    #[test]
    fn exit_codes_put_leftovers_before_verdicts_and_after_interruption() {
        assert_eq!(exit_code(&results(false, true), false), 0);
        assert_eq!(exit_code(&results(false, false), false), EXIT_VERDICT_OFF);
        assert_eq!(exit_code(&results(true, false), false), EXIT_LEAKED_RESOURCES);
        assert_eq!(exit_code(&results(true, true), false), 4);
        let mut interrupted = results(true, false);
        interrupted.interrupted = true;
        assert_eq!(exit_code(&interrupted, false), 130);
        let mut unavailable = results(false, true);
        unavailable.backend_unavailable = Some("no credentials".into());
        assert_eq!(exit_code(&unavailable, false), 3);
    }
}
