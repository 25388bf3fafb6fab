//! `cargo xtask …`: wana's command line.
//!
//! Exit codes: 0 success; 1 a failure (a run whose verdict differs from its expectation, a
//! failed test run, an error); 2 a usage error (unknown trap, account, option); 3 the trap has no
//! runnable scenario yet, or the backend refused or is unavailable (`sandbox_cli`); 4 cleanup
//! left resources behind; 130 interrupted by Ctrl-C (teardown ran).

mod backends;
mod bench;
mod catalog;
mod check;
mod emulator;
mod endpoints;
mod explain;
mod fuzz;
mod nightly;
mod out;
mod repro;
mod sandbox_cli;
mod target;
mod test_command;
mod workshop;
mod texts;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "wana (罠): AWS permission traps as runnable scenarios",
    after_help = "Exit codes: 0 ok, 1 failure or unexpected verdict, 2 usage error, \
                  3 trap not runnable yet, or the backend refused or is unavailable, \
                  4 cleanup left resources behind, 130 interrupted (teardown ran)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the traps, one line each, and whether they can be run yet.
    List(catalog::ListArgs),
    /// Print a trap's narrative: what you see, why, the fix, the facts.
    Show(catalog::ShowArgs),
    /// Reproduce a trap: provision, trigger, observe, fix, verify, tear down.
    Repro(repro::ReproArgs),
    /// Run a trap on the emulator and explain every denied call: who, what, which policies
    /// were consulted, which statement decided.
    Explain(explain::ExplainArgs),
    /// Check a fix of your own: set the trap up, apply FILE instead of the reference fix, say
    /// whether the failure is gone and what the fix grants beyond the need (exit 0, 1 or 5).
    Check(check::CheckArgs),
    /// Run a workshop: the trap set up and its failure shown, the AWS CLI environment printed,
    /// then v (verify), h (hint), q (quit); `workshop verify` from another terminal.
    Workshop(workshop::WorkshopArgs),
    /// Run the traps for CI: junit.xml, results.json and the drift report (report.md) in --out.
    Nightly(nightly::NightlyArgs),
    /// Serve the emulator for the AWS CLI or an SDK, or print the environment to reach it.
    Emulator(emulator::EmulatorArgs),
    /// The project's test command: installs the AWS CLI into .venv, then runs every test.
    Test(test_command::TestArgs),
    /// Run the benchmarks in release mode (figures go to BENCHMARKS.md).
    Bench(bench::BenchArgs),
    /// Check the sandbox config: each profile's account, alias and region, and the guards.
    Doctor(sandbox_cli::DoctorArgs),
    /// List (and with --yes delete) what earlier sandbox runs left behind.
    Cleanup(sandbox_cli::CleanupArgs),
    /// LocalStack in host mode (no Docker): install into .venv-localstack, start, stop.
    Localstack(endpoints::ServerArgs),
    /// moto's server: install into .venv-moto, start, stop.
    Moto(endpoints::ServerArgs),
    /// The table of what each backend reproduces, from the recorded runs in snapshots/.
    Backends(backends::BackendsArgs),
    Fuzz(fuzz::FuzzArgs),
}

/// An error that is the user's to fix (exit code 2), as opposed to a failure (exit code 1).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

pub const EXIT_USAGE: u8 = 2;
pub const EXIT_NOT_RUNNABLE: u8 = 3;

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List(args) => catalog::list(&args),
        Command::Show(args) => catalog::show(&args),
        Command::Repro(args) => repro::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Workshop(args) => workshop::run(&args),
        Command::Nightly(args) => nightly::run(&args),
        Command::Emulator(args) => emulator::run(&args),
        Command::Test(args) => test_command::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Doctor(args) => sandbox_cli::doctor(&args),
        Command::Cleanup(args) => sandbox_cli::cleanup(&args),
        Command::Localstack(args) => endpoints::run(wana_localstack::Server::Localstack, &args),
        Command::Moto(args) => endpoints::run(wana_localstack::Server::Moto, &args),
        Command::Backends(args) => backends::run(&args),
        Command::Fuzz(args) => fuzz::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            if err.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Logs go to stderr so that stdout stays clean for `--json` and `--print-env`; `RUST_LOG`
/// overrides the default level, `warn`.
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// A multi-threaded runtime for the commands that talk to a backend.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// `cargo` as a child of `cargo xtask`: the variables cargo set for running xtask itself
/// (`CARGO_PKG_NAME`, `CARGO_MANIFEST_DIR`, ...) are removed, because build scripts that watch
/// them (ring's does) would otherwise see a changed environment and rebuild, with their
/// dependents, on every switch between `cargo xtask test` and a plain `cargo test`.
pub fn inner_cargo() -> std::process::Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = std::process::Command::new(cargo);
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let set_for_xtask = name.starts_with("CARGO_PKG_")
            || matches!(
                name,
                "CARGO_MANIFEST_DIR" | "CARGO_MANIFEST_PATH" | "CARGO_MANIFEST_LINKS" | "CARGO_CRATE_NAME"
                    | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE"
            );
        if set_for_xtask {
            command.env_remove(name);
        }
    }
    command
}
