//! `doctor` and `cleanup`, and the sandbox half of `repro`: loading `wana.toml`, the guards, the
//! question asked once before a run, and the exit codes of the sandbox backend.

use std::{
    io::{BufRead, Write},
    path::PathBuf,
    process::ExitCode,
    str::FromStr,
    time::Duration,
};

use clap::Args;
use wana_harness::{
    sandbox::{
        self,
        cleanup::{self, CleanupOptions},
        guards, identity, Connected, SandboxConfig, SandboxError,
    },
    BackendKind,
};

use crate::{out::outln, UsageError};

/// The backend refused, or is unavailable (bad config, missing profile, expired credentials).
pub const EXIT_REFUSED: u8 = 3;
/// Cleanup could not delete everything.
pub const EXIT_LEAKED: u8 = 4;
/// Ctrl-C: the run stopped, teardown ran.
pub const EXIT_INTERRUPTED: u8 = 130;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The backend to check; only the sandbox needs checking.
    #[arg(long, default_value = "sandbox", value_parser = BackendKind::from_str)]
    pub backend: BackendKind,
    /// The config file (default: wana.toml at the workspace root).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// Where earlier runs acted; only the sandbox keeps anything after a run.
    #[arg(long, default_value = "sandbox", value_parser = BackendKind::from_str)]
    pub backend: BackendKind,
    /// The config file (default: wana.toml at the workspace root).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Only what runs left that started at least this long ago (`90s`, `30m`, `24h`, `7d`).
    #[arg(long, value_parser = parse_age)]
    pub older_than: Option<Duration>,
    /// Delete what was found; without it cleanup only lists (a dry run).
    #[arg(long)]
    pub yes: bool,
}

/// `24h`, `30m`, `90s`, `7d`, or plain seconds.
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let value: u64 = number.parse().map_err(|_| format!("{text:?} is not an age such as 24h, 30m or 90s"))?;
    let seconds = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: the unit is one of s, m, h, d")),
    };
    Ok(Duration::from_secs(value * seconds))
}

fn refused(err: &SandboxError) -> ExitCode {
    eprintln!("error: {err}");
    ExitCode::from(EXIT_REFUSED)
}

fn only_sandbox(backend: BackendKind, command: &str) -> anyhow::Result<()> {
    if backend != BackendKind::Sandbox {
        return Err(UsageError(format!(
            "`{command}` is about the sandbox backend; the {backend} backend keeps nothing between runs"
        ))
        .into());
    }
    Ok(())
}

/// The trap ids, for reading run ids out of resource names.
fn trap_ids() -> Vec<String> {
    wana_scenarios::catalog().iter().map(|t| t.id.to_string()).collect()
}

pub fn doctor(args: &DoctorArgs) -> anyhow::Result<ExitCode> {
    only_sandbox(args.backend, "doctor")?;
    let config = match SandboxConfig::load(args.config.as_deref()) {
        Ok(config) => config,
        Err(err) => return Ok(refused(&err)),
    };
    outln!("config: {}", config.path.display());
    match &config.endpoint_url {
        Some(url) => outln!("region: {} (endpoint {url})", config.region),
        None => outln!("region: {}", config.region),
    }
    outln!("ledgers: {}", config.runs_dir.display());
    let runtime = crate::runtime()?;
    let mut resolved = Vec::new();
    let mut healthy = true;
    for name in config.accounts.keys() {
        match runtime.block_on(identity::resolve(&config, name, None)) {
            Ok(account) => {
                let id = &account.identity;
                let aliases = match &id.aliases {
                    Ok(a) if a.is_empty() => "no alias".to_string(),
                    Ok(a) => format!("alias {}", a.join(", ")),
                    Err(err) => format!("alias unreadable ({err})"),
                };
                outln!("account {name}: {} -> account {} ({aliases}), acting as {}", id.profile_label(), id.account_id, id.arn);
                resolved.push(account.identity);
            }
            Err(err) => {
                healthy = false;
                outln!("account {name}: {err}");
            }
        }
    }
    let failures = guards::check(&config, &resolved, &[]);
    if failures.is_empty() && healthy {
        outln!("guards: pass");
    } else {
        healthy = false;
        for failure in &failures {
            outln!("guards: refused: {failure}");
        }
    }
    outln!("traps:");
    for trap in wana_scenarios::catalog() {
        let Some(scenario) = trap.scenario else { continue };
        let needs = scenario.accounts();
        let missing: Vec<&str> = needs.iter().copied().filter(|n| !config.accounts.contains_key(*n)).collect();
        let status = if !missing.is_empty() {
            format!("cannot run: no [accounts.{}] in the config", missing.join("], [accounts."))
        } else {
            let mine: Vec<_> = resolved.iter().filter(|i| needs.contains(&i.name.as_str())).cloned().collect();
            let trap_failures = guards::check(&config, &mine, needs);
            if mine.len() < needs.len() {
                "cannot run: an account it needs did not resolve".to_string()
            } else if let Some(failure) = trap_failures.first() {
                format!("refused: {failure}")
            } else {
                "ready".to_string()
            }
        };
        outln!("  {:<30} accounts {:<6} {status}", trap.id, needs.join(","));
    }
    Ok(if healthy { ExitCode::SUCCESS } else { ExitCode::from(EXIT_REFUSED) })
}

pub fn cleanup(args: &CleanupArgs) -> anyhow::Result<ExitCode> {
    only_sandbox(args.backend, "cleanup")?;
    let config = match SandboxConfig::load(args.config.as_deref()) {
        Ok(config) => config,
        Err(err) => return Ok(refused(&err)),
    };
    let options = CleanupOptions { older_than: args.older_than, traps: trap_ids(), ..CleanupOptions::default() };
    let runtime = crate::runtime()?;
    let plan = match runtime.block_on(cleanup::plan(&config, None, &options)) {
        Ok(plan) => plan,
        Err(err) => return Ok(refused(&err)),
    };
    for warning in &plan.warnings {
        eprintln!("warning: {warning}");
    }
    if plan.leftovers.is_empty() {
        outln!("Nothing left by earlier runs.");
        return Ok(ExitCode::SUCCESS);
    }
    outln!("Left by earlier runs ({}), in the order they would be deleted:", plan.leftovers.len());
    for leftover in &plan.leftovers {
        outln!("  {leftover}");
    }
    if !args.yes {
        outln!("Dry run: nothing was deleted. Run again with --yes to delete these.");
        return Ok(ExitCode::SUCCESS);
    }
    let outcome = runtime.block_on(cleanup::execute(&plan));
    for deleted in &outcome.deleted {
        outln!("deleted {} {}", deleted.kind, deleted.id);
    }
    for (leftover, err) in &outcome.failed {
        outln!("NOT deleted {} {} (account {}): {err}", leftover.kind, leftover.id, leftover.account);
    }
    Ok(if outcome.failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_LEAKED) })
}

/// Before sandbox runs: the config, the accounts the traps need, the guards, and the question
/// asked once (skipped with `--yes` or `CI=true`). `Err` is why not, already printed (exit
/// code 3).
pub fn prepare(config: Option<&std::path::Path>, needs: &[&str], yes: bool) -> Result<Connected, String> {
    let refuse = |err: SandboxError| {
        eprintln!("error: {err}");
        err.to_string()
    };
    let config = match config {
        Some(path) => SandboxConfig::load(Some(path)),
        None => sandbox::default_config(),
    }
    .map_err(refuse)?;
    let runtime = crate::runtime().map_err(|err| {
        eprintln!("error: {err}");
        err.to_string()
    })?;
    let connected = runtime.block_on(sandbox::connect(&config, needs, None)).map_err(refuse)?;
    eprint!("{}", connected.summary());
    eprintln!(
        "Everything it creates carries the run id (in names, and the tags wana:run-id, wana:trap, \
         wana:expires-at) and is listed in a ledger under {}.",
        config.runs_dir.display()
    );
    if !sandbox::confirmation_skipped(yes) && !ask("Go ahead? [y/N] ") {
        return Err(refuse(SandboxError::NotConfirmed));
    }
    Ok(connected)
}

/// Asks on standard error and reads one answer; no answer (closed input) is a no.
fn ask(question: &str) -> bool {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    match std::io::stdin().lock().read_line(&mut answer) {
        Ok(0) | Err(_) => false,
        Ok(_) => matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_a_person_writes_them() {
        assert_eq!(parse_age("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_age("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_age("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_age("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_age("90"), Ok(Duration::from_secs(90)));
        assert!(parse_age("1w").unwrap_err().contains("one of s, m, h, d"));
        assert!(parse_age("h").unwrap_err().contains("not an age"));
    }
}
