//! `explain <trap>`: run the trap on the emulator and print every call of the run that was
//! denied, outer and inner, with who made it, the principal, action and resource, the policies
//! consulted and the statement that decided (or "no statement allowed").
//!
//! Exit codes: 0 explained (the run concluded what the scenario expects); 1 the run concluded
//! something else, or failed; 2 a usage error; 3 the trap is not runnable yet, or the backend
//! keeps no authorization log (anything but the emulator).

use std::{process::ExitCode, str::FromStr};

use clap::Args;
use wana_harness::{
    aws_cli::AWS_CLI_ENV,
    explanation::explain_on_emulator,
    BackendKind, Redactor,
};
use wana_i18n::{tr, Lang};

use crate::{
    catalog::find_trap,
    out::{out, outln},
    repro::{selected_profiles, ProfileSelection},
    EXIT_NOT_RUNNABLE,
};

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The trap id, as `cargo xtask list` shows it.
    pub trap: String,
    /// Only the emulator keeps the authorization log this reads; any other backend is refused
    /// (exit code 3).
    #[arg(long, default_value = "emulator", value_parser = BackendKind::from_str)]
    pub backend: BackendKind,
    /// AWS behaviour to emulate: current, legacy-2016, or all. Default: the profiles the
    /// scenario declares.
    #[arg(long, value_parser = ProfileSelection::from_str)]
    pub profile: Option<ProfileSelection>,
    /// Print one JSON object per run instead of the text.
    #[arg(long)]
    pub json: bool,
    /// Also redact account ids, key ids, resource ids and timestamps (secrets are always
    /// redacted).
    #[arg(long)]
    pub redact: bool,
    /// The language of the text: en or ja. Default: from LC_ALL, LC_MESSAGES or LANG. `--json`
    /// is always English.
    #[arg(long, value_parser = Lang::from_str)]
    pub lang: Option<Lang>,
}

pub fn run(args: &ExplainArgs) -> anyhow::Result<ExitCode> {
    let lang = Lang::choose(args.lang);
    let trap = find_trap(&args.trap)?;
    if args.backend != BackendKind::Emulator {
        eprintln!("{}", tr!(lang, "explain.unavailable", backend = args.backend));
        return Ok(ExitCode::from(EXIT_NOT_RUNNABLE));
    }
    let Some(scenario) = trap.scenario else {
        eprintln!("{}", tr!(lang, "explain.not_runnable", id = trap.id));
        return Ok(ExitCode::from(EXIT_NOT_RUNNABLE));
    };
    if scenario.runs_aws_cli_on_instances() && std::env::var_os(AWS_CLI_ENV).is_none() {
        // The emulator's instances run the real AWS CLI from `<workspace>/.venv`.
        crate::test_command::ensure_aws_cli(&wana_harness::aws_cli::workspace_root(), "xtask explain")?;
    }
    let redactor = if args.redact { Redactor::full() } else { Redactor::secrets_only() };
    let runtime = crate::runtime()?;
    runtime.block_on(async { wana_harness::interrupt::watch() });
    let mut all_match = true;
    let profiles = selected_profiles(args.profile, BackendKind::Emulator, scenario.profiles());
    for (index, profile) in profiles.into_iter().enumerate() {
        let explanation = runtime.block_on(explain_on_emulator(scenario, profile))?;
        all_match &= explanation.matches_expectation;
        if args.json {
            outln!("{}", explanation.to_json_line(&redactor));
        } else {
            if index > 0 {
                outln!();
            }
            out!("{}", explanation.render_text_in(&redactor, lang));
        }
        if wana_harness::interrupt::interrupted() {
            eprintln!("{}", tr!(lang, "cli.interrupted"));
            return Ok(ExitCode::from(crate::sandbox_cli::EXIT_INTERRUPTED));
        }
    }
    Ok(if all_match { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
