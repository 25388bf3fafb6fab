//! `bench`: the project's benchmarks, in release mode. Figures are recorded in BENCHMARKS.md;
//! speed targets are checked here, never by timed tests.
//!
//! - `wana-policy` `evaluate`: policy decisions per second for a 20-statement policy.
//! - `wana-harness` `emulator`: requests per second and latency percentiles of a fixed mix of
//!   signed SDK calls, with one client task and with eight.
//! - with `--peers`, `wana-harness` `peers`: the emulator and moto's server side by side (moto
//!   installed into `.venv-moto` first), the same calls from the same SDK load generator; and
//!   `replay`: the same calls signed once and replayed as bytes by a bare HTTP load generator.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use wana_harness::aws_cli::workspace_root;

const BENCHES: [(&str, &str); 2] = [("wana-policy", "evaluate"), ("wana-harness", "emulator")];
const PEERS: [(&str, &str); 2] = [("wana-harness", "peers"), ("wana-harness", "replay")];

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Also measure moto's server beside the emulator (installs moto into .venv-moto).
    #[arg(long)]
    pub peers: bool,
}

pub fn run(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let mut benches = BENCHES.to_vec();
    if args.peers {
        wana_localstack::host::install(wana_localstack::Server::Moto, &workspace_root())?;
        benches.extend(PEERS);
    }
    for (package, bench) in benches {
        eprintln!("xtask bench: cargo bench -p {package} --bench {bench}");
        let status = crate::inner_cargo()
            .current_dir(workspace_root())
            .args(["bench", "-p", package, "--bench", bench])
            .status()
            .context("cannot run cargo bench")?;
        if !status.success() {
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}
