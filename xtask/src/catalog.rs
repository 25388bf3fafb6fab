//! `list` and `show`: reading the trap catalog.

use std::process::ExitCode;

use clap::Args;
use wana_scenarios::TrapInfo;

use crate::{
    out::{out, outln},
    UsageError,
};

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The trap id, as `cargo xtask list` shows it.
    pub trap: String,
}

pub fn list() -> anyhow::Result<ExitCode> {
    let catalog = wana_scenarios::catalog();
    let width = catalog.iter().map(|trap| trap.id.len()).max().unwrap_or(0);
    for trap in catalog {
        let status = if trap.is_runnable() {
            "runnable"
        } else {
            "not runnable yet"
        };
        outln!("{:width$}  [{status}]  {}", trap.id, trap.summary);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let trap = find_trap(&args.trap)?;
    out!("{}", trap.narrative);
    if !trap.narrative.ends_with('\n') {
        outln!();
    }
    outln!();
    if let Some(scenario) = trap.scenario {
        outln!(
            "On a sandbox account: accounts {}, about {} minutes, cost: {}.",
            scenario.accounts().join(", "),
            scenario.expected_duration().as_secs().div_ceil(60),
            scenario.cost_hint()
        );
        outln!("Run it: cargo xtask repro {}", trap.id);
    } else {
        outln!("This trap has no runnable scenario yet.");
    }
    Ok(ExitCode::SUCCESS)
}

/// The trap with this id, or a usage error that lists the known ids.
pub fn find_trap(id: &str) -> anyhow::Result<&'static TrapInfo> {
    wana_scenarios::find(id).ok_or_else(|| {
        UsageError(format!(
            "unknown trap {id:?}; known traps: {}",
            wana_scenarios::known_ids()
        ))
        .into()
    })
}
