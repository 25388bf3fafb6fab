//! `fuzz`: runs every cargo-fuzz target of the project's fuzz crates (`policy/fuzz`,
//! `emulator/fuzz`), each for `--minutes`, and reports per target the executions done, the corpus
//! size and whether it crashed (exit 1 on any crash, naming the crash file).
//!
//! cargo-fuzz is installed from crates.io (`cargo install cargo-fuzz --locked`) when missing; the
//! targets are built and run with the nightly toolchain (`cargo +nightly fuzz run`), optimized,
//! into `target/fuzz`, so a fuzz build never waits on the debug builds' lock. Each target reads
//! the committed seeds (`<crate>/seeds/<target>/`) and grows its own corpus
//! (`<crate>/corpus/<target>/`, not committed); a crash is written to `<crate>/artifacts/<target>/`.
//!
//! [`check_all`] is the CI step of `xtask test`: it builds the targets without instrumentation.

use std::{
    path::{Path, PathBuf},
    process::{Command, ExitCode, Stdio},
    time::Instant,
};

use anyhow::{bail, Context as _};
use clap::Args;
use wana_harness::aws_cli::workspace_root;

/// The fuzz crates, relative to the workspace root. Their targets are their `fuzz_targets/*.rs`.
pub const FUZZ_CRATES: [&str; 2] = ["policy/fuzz", "emulator/fuzz"];

/// A test input that runs longer than this is a hang, reported as a crash.
const TIMEOUT_SECONDS: u32 = 30;

/// Fuzz the decoders (cargo-fuzz, nightly): every target for --minutes each; exit 1 on a crash.
#[derive(Debug, Args)]
pub struct FuzzArgs {
    /// How long each target runs, in minutes (fractions allowed: 0.5).
    #[arg(long, default_value_t = 1.0)]
    pub minutes: f64,
    /// Run only this target (`parse`, `query`, `json`, `cbor`, `xml`, `sigv4`, `template`,
    /// `aws_chunked`, `imds`).
    #[arg(long)]
    pub target: Option<String>,
}

/// One fuzz target: its crate directory and name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    crate_dir: PathBuf,
    name: String,
}

pub fn run(args: &FuzzArgs) -> anyhow::Result<ExitCode> {
    if !(args.minutes > 0.0 && args.minutes.is_finite()) {
        bail!(crate::UsageError(format!("--minutes must be a positive number, not {}", args.minutes)));
    }
    let root = workspace_root();
    let mut targets = all_targets(&root)?;
    if let Some(name) = &args.target {
        targets.retain(|t| &t.name == name);
        if targets.is_empty() {
            let names: Vec<_> = all_targets(&root)?.into_iter().map(|t| t.name).collect();
            bail!(crate::UsageError(format!("no fuzz target {name}; the targets: {}", names.join(", "))));
        }
    }
    if !nightly_installed() {
        bail!("cargo-fuzz needs the nightly toolchain, which is not installed (rustup toolchain list)");
    }
    ensure_cargo_fuzz()?;
    let seconds = (args.minutes * 60.0).round().max(1.0) as u64;
    let mut crashed = Vec::new();
    for target in &targets {
        let report = run_target(&root, target, seconds)?;
        println!("{}", report.line(&target.name));
        if let Some(file) = report.crash {
            crashed.push(file);
        }
    }
    if crashed.is_empty() {
        println!("fuzz: {} targets, no crash", targets.len());
        Ok(ExitCode::SUCCESS)
    } else {
        for file in &crashed {
            eprintln!("fuzz: crash input: {file}");
        }
        Ok(ExitCode::FAILURE)
    }
}

/// Builds every fuzz crate's targets, for CI: `cargo build --bins` on the default toolchain into
/// `target/fuzz-check`, libFuzzer linked but without the instrumentation only nightly gives. A
/// full `cargo +nightly fuzz build` from a cold cache took 5 minutes here (FUZZING.md), over
/// CI's budget for it, and needs a nightly toolchain that a new machine may not have; this build
/// catches what breaks a target (an entry point renamed, a signature changed, a link error) in
/// about a minute cold and a second warm.
pub fn check_all(root: &Path) -> anyhow::Result<()> {
    for crate_dir in FUZZ_CRATES {
        let started = Instant::now();
        let status = crate::inner_cargo()
            .current_dir(root)
            .env_remove("CARGO_TARGET_DIR")
            .args(["build", "--bins", "--manifest-path"])
            .arg(root.join(crate_dir).join("Cargo.toml"))
            .arg("--target-dir")
            .arg(root.join("target").join("fuzz-check"))
            .status()
            .with_context(|| format!("cannot run cargo build for {crate_dir}"))?;
        if !status.success() {
            bail!("the fuzz targets of {crate_dir} do not compile ({status})");
        }
        eprintln!("xtask test: fuzz targets of {crate_dir} built in {:.0} s", started.elapsed().as_secs_f64());
    }
    Ok(())
}

fn nightly_installed() -> bool {
    nightly_cargo().arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

fn fuzz_target_dir(root: &Path) -> PathBuf {
    root.join("target").join("fuzz")
}

/// `cargo +nightly`, through rustup's proxy, without the toolchain choice that running xtask
/// itself left in the environment.
fn nightly_cargo() -> Command {
    let mut command = Command::new("cargo");
    command.arg("+nightly");
    for name in ["RUSTUP_TOOLCHAIN", "CARGO", "RUSTC", "RUSTDOC", "CARGO_TARGET_DIR"] {
        command.env_remove(name);
    }
    command
}

fn cargo_fuzz_installed() -> bool {
    nightly_cargo()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn ensure_cargo_fuzz() -> anyhow::Result<()> {
    if cargo_fuzz_installed() {
        return Ok(());
    }
    eprintln!("fuzz: installing cargo-fuzz (cargo install cargo-fuzz --locked)");
    let status = Command::new("cargo")
        .args(["install", "cargo-fuzz", "--locked"])
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .context("cannot run cargo install")?;
    if !status.success() || !cargo_fuzz_installed() {
        bail!("cargo install cargo-fuzz failed ({status})");
    }
    Ok(())
}

/// Every target of every fuzz crate, in crate order, targets sorted by name.
fn all_targets(root: &Path) -> anyhow::Result<Vec<Target>> {
    let mut targets = Vec::new();
    for crate_dir in FUZZ_CRATES {
        let dir = root.join(crate_dir);
        let sources = dir.join("fuzz_targets");
        let mut names: Vec<String> = std::fs::read_dir(&sources)
            .with_context(|| format!("cannot list {}", sources.display()))?
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.strip_suffix(".rs").map(str::to_string))
            .collect();
        names.sort();
        targets.extend(names.into_iter().map(|name| Target { crate_dir: dir.clone(), name }));
    }
    Ok(targets)
}

/// What one run of a target did.
#[derive(Debug, Default, PartialEq, Eq)]
struct RunReport {
    executions: Option<u64>,
    corpus: usize,
    seconds: u64,
    /// The input that crashed the target, as libFuzzer wrote it.
    crash: Option<String>,
}

impl RunReport {
    fn line(&self, name: &str) -> String {
        let executions = self.executions.map_or("?".to_string(), |n| n.to_string());
        let outcome = match &self.crash {
            Some(file) => format!("CRASHED, input in {file}"),
            None => "no crash".to_string(),
        };
        format!(
            "fuzz {name}: {executions} executions in {} s, corpus {} inputs, {outcome}",
            self.seconds, self.corpus
        )
    }
}

fn run_target(root: &Path, target: &Target, seconds: u64) -> anyhow::Result<RunReport> {
    let corpus = target.crate_dir.join("corpus").join(&target.name);
    let seeds = target.crate_dir.join("seeds").join(&target.name);
    let artifacts = target.crate_dir.join("artifacts").join(&target.name);
    for dir in [&corpus, &artifacts] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    eprintln!("fuzz: {} for {seconds} s", target.name);
    let started = Instant::now();
    let mut command = nightly_cargo();
    command
        .current_dir(&target.crate_dir)
        .args(["fuzz", "run", "-O", "--target-dir"])
        .arg(fuzz_target_dir(root))
        .arg(&target.name)
        .arg(&corpus);
    if seeds.is_dir() {
        command.arg(&seeds);
    }
    let output = command
        .args(["--", &format!("-max_total_time={seconds}"), &format!("-timeout={TIMEOUT_SECONDS}"), "-print_final_stats=1"])
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .output()
        .context("cannot run cargo +nightly fuzz run")?;
    let log = String::from_utf8_lossy(&output.stderr);
    let mut report = parse_log(&log);
    report.seconds = started.elapsed().as_secs();
    report.corpus = std::fs::read_dir(&corpus).map(|d| d.count()).unwrap_or(0);
    if !output.status.success() && report.crash.is_none() {
        // Not a crash libFuzzer reported: the build failed, or cargo-fuzz did.
        let tail: Vec<&str> = log.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!("cargo fuzz run {} failed ({}):\n{}", target.name, output.status, tail.join("\n"));
    }
    Ok(report)
}

/// Reads libFuzzer's output: `stat::number_of_executed_units: N` (from `-print_final_stats`),
/// else the last `#N` status line; and `Test unit written to <file>` after a crash.
fn parse_log(log: &str) -> RunReport {
    let mut report = RunReport::default();
    let (mut stat, mut status) = (None, None);
    for line in log.lines() {
        if let Some(n) = line.strip_prefix("stat::number_of_executed_units:") {
            stat = n.trim().parse().ok();
        } else if let Some(file) = line.split("Test unit written to ").nth(1) {
            report.crash = Some(file.trim().to_string());
        } else if let Some(n) = line.strip_prefix('#').and_then(|r| r.split_whitespace().next()) {
            status = n.parse::<u64>().ok().or(status);
        }
    }
    report.executions = stat.or(status);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_run_reports_its_executions() {
        let log = "#2\tINITED cov: 620 ft: 1145 corp: 10/1093b exec/s: 0 rss: 53Mb\n\
                   #524288\tpulse  cov: 700 ft: 1300 corp: 40/3Kb lim: 4096 exec/s: 8738 rss: 60Mb\n\
                   Done 600000 runs in 61 second(s)\n\
                   stat::number_of_executed_units: 600123\n\
                   stat::average_exec_per_sec:     9838\n";
        assert_eq!(parse_log(log), RunReport { executions: Some(600_123), ..RunReport::default() });
    }

    #[test]
    fn a_crash_names_its_input() {
        let log = "#1024\tNEW    cov: 710 ft: 1310 corp: 41/3Kb\n\
                   thread '<unnamed>' panicked at emulator/src/protocol/query.rs:12:5:\n\
                   ==123== ERROR: libFuzzer: deadly signal\n\
                   artifact_prefix='/w/emulator/fuzz/artifacts/query/'; Test unit written to /w/emulator/fuzz/artifacts/query/crash-da39a3ee\n\
                   Base64: QUJD\n\
                   stat::number_of_executed_units: 1030\n";
        let report = parse_log(log);
        assert_eq!(report.executions, Some(1030));
        assert_eq!(report.crash.as_deref(), Some("/w/emulator/fuzz/artifacts/query/crash-da39a3ee"));
        let line = RunReport { seconds: 3, corpus: 41, ..report }.line("query");
        assert_eq!(
            line,
            "fuzz query: 1030 executions in 3 s, corpus 41 inputs, CRASHED, input in /w/emulator/fuzz/artifacts/query/crash-da39a3ee"
        );
    }

    #[test]
    fn every_fuzz_crate_has_targets_and_seeds_for_each() {
        let targets = all_targets(&workspace_root()).unwrap();
        let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
        for expected in ["parse", "query", "json", "cbor", "xml", "sigv4", "template", "aws_chunked", "imds"] {
            assert!(names.contains(&expected), "no fuzz target {expected} in {names:?}");
        }
        for target in &targets {
            let seeds = target.crate_dir.join("seeds").join(&target.name);
            let count = std::fs::read_dir(&seeds).map(|d| d.count()).unwrap_or(0);
            assert!(count > 0, "{} has no seeds in {}", target.name, seeds.display());
        }
    }
}
