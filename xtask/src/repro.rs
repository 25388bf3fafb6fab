//! `repro <trap>`: run a trap's scenario and report each run.

use std::{process::ExitCode, str::FromStr};

use clap::Args;
use wana_harness::{BackendKind, BehaviourProfile, Redactor, RunReport};
use wana_i18n::{tr, Lang};

use crate::{
    catalog::find_trap,
    out::{out, outln},
    target::{Target, TargetArgs},
    EXIT_NOT_RUNNABLE,
};

#[derive(Debug, Args)]
pub struct ReproArgs {
    /// The trap id, as `cargo xtask list` shows it (or `--all`).
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub trap: Option<String>,
    /// Every runnable trap, one after the other, in the catalog's order (one exit code: the
    /// worst; one --report listing every run).
    #[arg(long)]
    pub all: bool,
    /// Where to run: the embedded emulator, LocalStack, moto, any endpoint (with --endpoint),
    /// or a real sandbox account.
    #[arg(long, default_value = "emulator", value_parser = BackendKind::from_str)]
    pub backend: BackendKind,
    /// AWS behaviour to emulate: current, legacy-2016, or all. Default: the profiles the
    /// scenario declares (emulator) or current (other backends).
    #[arg(long, value_parser = ProfileSelection::from_str)]
    pub profile: Option<ProfileSelection>,
    /// Print one JSON object per run instead of the narrative report.
    #[arg(long)]
    pub json: bool,
    /// Also redact account ids, key ids, resource ids and timestamps (secrets are always
    /// redacted).
    #[arg(long)]
    pub redact: bool,
    /// Also write report.md and a self-contained report.html (sequence diagram, verdict, fix)
    /// into DIR, one report listing every run (created when missing).
    #[arg(long, value_name = "DIR")]
    pub report: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// The language of the narrative report and of --report's labels: en or ja. Default: from
    /// LC_ALL, LC_MESSAGES or LANG. `--json` is always English.
    #[arg(long, value_parser = Lang::from_str)]
    pub lang: Option<Lang>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileSelection {
    One(BehaviourProfile),
    All,
}

impl FromStr for ProfileSelection {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "all" {
            return Ok(ProfileSelection::All);
        }
        s.parse()
            .map(ProfileSelection::One)
            .map_err(|_| format!("unknown profile {s:?} (expected current, legacy-2016 or all)"))
    }
}

pub fn run(args: &ReproArgs) -> anyhow::Result<ExitCode> {
    let ids: Vec<&str> = match &args.trap {
        Some(id) => vec![id.as_str()],
        None => wana_scenarios::catalog().iter().filter(|trap| trap.is_runnable()).map(|trap| trap.id).collect(),
    };
    let mut reports = Vec::new();
    let mut worst = 0u8;
    // One runtime for every trap: the Ctrl-C watcher lives on it (a second runtime would find
    // the watcher of a dropped one, which reads as an interruption).
    let runtime = crate::runtime()?;
    runtime.block_on(async { wana_harness::interrupt::watch() });
    for (index, id) in ids.iter().enumerate() {
        if index > 0 && !args.json {
            outln!();
        }
        let code = run_trap(args, id, &runtime, &mut reports)?;
        if code == crate::sandbox_cli::EXIT_INTERRUPTED {
            write_report(args, &reports, &redactor(args))?;
            return Ok(ExitCode::from(code));
        }
        // 4 (something left behind) outranks 3 (not runnable), which outranks 1 (a mismatch).
        worst = worst.max(code);
    }
    write_report(args, &reports, &redactor(args))?;
    Ok(ExitCode::from(worst))
}

fn redactor(args: &ReproArgs) -> Redactor {
    if args.redact {
        Redactor::full()
    } else {
        Redactor::secrets_only()
    }
}

/// One trap's runs (each profile): printed, their reports added to `reports`; the exit code.
fn run_trap(args: &ReproArgs, id: &str, runtime: &tokio::runtime::Runtime, reports: &mut Vec<RunReport>) -> anyhow::Result<u8> {
    let lang = Lang::choose(args.lang);
    let trap = find_trap(id)?;
    args.target.check(args.backend)?;
    let redactor = redactor(args);

    let Some(scenario) = trap.scenario else {
        let profiles = selected_profiles(args.profile, args.backend, &[BehaviourProfile::Current]);
        for profile in profiles {
            let report = RunReport::not_runnable(trap.id, args.backend, profile);
            if args.json {
                outln!("{}", report.to_json_line(&redactor));
            }
            reports.push(report);
        }
        if !args.json {
            outln!("{}", tr!(lang, "cli.repro.not_runnable", id = trap.id));
        }
        eprintln!("{}", tr!(lang, "cli.repro.not_runnable_short", id = trap.id));
        return Ok(EXIT_NOT_RUNNABLE);
    };

    if scenario.runs_aws_cli_on_instances() && args.backend == BackendKind::Emulator {
        // The emulator's instances run the real AWS CLI from `<workspace>/.venv`.
        crate::test_command::ensure_aws_cli(&wana_harness::aws_cli::workspace_root(), "xtask repro")?;
    }
    let profiles = selected_profiles(args.profile, args.backend, scenario.profiles());
    // On a sandbox: the guards and the one question before anything is created.
    let Ok(target) = Target::prepare(args.backend, &args.target, scenario.accounts()) else {
        return Ok(crate::sandbox_cli::EXIT_REFUSED);
    };
    let mut all_match = true;
    let mut left_resources = false;
    for (index, profile) in profiles.into_iter().enumerate() {
        let report = runtime.block_on(target.run(scenario, profile));
        all_match &= report.matches_expectation;
        left_resources |= report.left_resources;
        if args.json {
            outln!("{}", report.to_json_line(&redactor));
        } else {
            if index > 0 {
                outln!();
            }
            out!("{}", report.render_text_in(&redactor, lang));
        }
        reports.push(report);
        if wana_harness::interrupt::interrupted() {
            eprintln!("{}", tr!(lang, "cli.interrupted"));
            return Ok(crate::sandbox_cli::EXIT_INTERRUPTED);
        }
    }
    Ok(if left_resources {
        eprintln!("{}", tr!(lang, "cli.repro.teardown_failed"));
        crate::sandbox_cli::EXIT_LEAKED
    } else if all_match {
        0
    } else {
        1
    })
}

/// `--report DIR`: the runs' report, said on stderr so that `--json` output stays one object a
/// line.
fn write_report(args: &ReproArgs, reports: &[RunReport], redactor: &Redactor) -> anyhow::Result<()> {
    let Some(dir) = &args.report else {
        return Ok(());
    };
    let lang = wana_i18n::Lang::choose(args.lang);
    let files = wana_harness::write_report(dir, reports, lang, redactor)?;
    eprintln!(
        "{}",
        wana_i18n::tr!(lang, "report.written", markdown = files.markdown.display(), html = files.html.display())
    );
    Ok(())
}

/// The profiles to run: as asked, else what the scenario declares on the emulator. Other
/// backends are real AWS (or its imitation) as it is today, hence `current`.
pub(crate) fn selected_profiles(
    selection: Option<ProfileSelection>,
    backend: BackendKind,
    declared: &[BehaviourProfile],
) -> Vec<BehaviourProfile> {
    match selection {
        Some(ProfileSelection::One(profile)) => vec![profile],
        Some(ProfileSelection::All) => BehaviourProfile::ALL.to_vec(),
        None if backend == BackendKind::Emulator && !declared.is_empty() => declared.to_vec(),
        None => vec![BehaviourProfile::Current],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_selection_parses_all_and_each_profile() {
        assert_eq!("all".parse(), Ok(ProfileSelection::All));
        assert_eq!(
            "legacy-2016".parse(),
            Ok(ProfileSelection::One(BehaviourProfile::Legacy2016))
        );
        assert!("2016"
            .parse::<ProfileSelection>()
            .unwrap_err()
            .contains("current, legacy-2016 or all"));
    }

    #[test]
    fn default_profiles_are_the_declared_ones_on_the_emulator_only() {
        let both = &BehaviourProfile::ALL[..];
        assert_eq!(selected_profiles(None, BackendKind::Emulator, both), both);
        assert_eq!(
            selected_profiles(None, BackendKind::Sandbox, both),
            [BehaviourProfile::Current]
        );
        assert_eq!(
            selected_profiles(
                Some(ProfileSelection::One(BehaviourProfile::Legacy2016)),
                BackendKind::Emulator,
                &[BehaviourProfile::Current]
            ),
            [BehaviourProfile::Legacy2016]
        );
        assert_eq!(
            selected_profiles(Some(ProfileSelection::All), BackendKind::Localstack, &[]),
            both
        );
    }
}
