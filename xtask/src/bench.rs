//! `bench`: the project's benchmarks, in release mode. Figures are recorded in BENCHMARKS.md;
//! speed targets are checked here, never by timed tests.
//!
//! - `wana-policy` `evaluate`: policy decisions per second for a 20-statement policy.
//! - `wana-harness` `emulator`: requests per second and latency percentiles of a fixed mix of
//!   signed SDK calls, with one client task and with eight.

use std::process::ExitCode;

use anyhow::Context as _;
use wana_harness::aws_cli::workspace_root;

const BENCHES: [(&str, &str); 2] = [("wana-policy", "evaluate"), ("wana-harness", "emulator")];

pub fn run() -> anyhow::Result<ExitCode> {
    for (package, bench) in BENCHES {
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
