//! `list` and `show`: reading the trap catalog.

use std::{process::ExitCode, str::FromStr};

use clap::Args;
use wana_i18n::{tr, Lang};
use wana_scenarios::TrapInfo;

use crate::{
    out::{out, outln},
    texts, UsageError,
};

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The language to read: en or ja. Default: from LC_ALL, LC_MESSAGES or LANG.
    #[arg(long, value_parser = Lang::from_str)]
    pub lang: Option<Lang>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The trap id, as `cargo xtask list` shows it.
    pub trap: String,
    /// The language to read: en or ja. Default: from LC_ALL, LC_MESSAGES or LANG.
    #[arg(long, value_parser = Lang::from_str)]
    pub lang: Option<Lang>,
}

pub fn list(args: &ListArgs) -> anyhow::Result<ExitCode> {
    let lang = Lang::choose(args.lang);
    let catalog = wana_scenarios::catalog();
    let width = catalog.iter().map(|trap| trap.id.len()).max().unwrap_or(0);
    for trap in catalog {
        let status = if trap.is_runnable() {
            tr!(lang, "common.runnable")
        } else {
            tr!(lang, "common.not_runnable")
        };
        outln!("{:width$}  [{status}]  {}", trap.id, texts::summary(trap, lang));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let lang = Lang::choose(args.lang);
    let trap = find_trap(&args.trap)?;
    let narrative = texts::narrative(trap, lang);
    out!("{}", narrative);
    if !narrative.ends_with('\n') {
        outln!();
    }
    outln!();
    if let Some(scenario) = trap.scenario {
        outln!(
            "{}",
            tr!(
                lang,
                "cli.show.sandbox",
                accounts = scenario.accounts().join(", "),
                minutes = scenario.expected_duration().as_secs().div_ceil(60),
                cost = texts::cost_hint(trap, lang).unwrap_or_default()
            )
        );
        outln!("{}", tr!(lang, "cli.show.run_it", id = trap.id));
    } else {
        outln!("{}", tr!(lang, "cli.show.not_runnable"));
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
