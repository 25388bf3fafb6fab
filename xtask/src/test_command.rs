//! `test`: the project's one test command (README and .ci/run call it).
//!
//! 1. Makes sure `<workspace>/.venv` holds the AWS CLI version the emulator is checked against,
//!    and `.venv-localstack` and `.venv-moto` the pinned LocalStack and moto (host mode).
//! 2. Installs Debian's `chromium` when `/usr/bin/chromium` is missing (`apt-get install -y
//!    --no-install-recommends chromium`, after `apt-get update` if the first try fails): the
//!    report test renders a report.html in it, and fails without it. Builds the fuzz
//!    targets (without instrumentation) (`crate::fuzz::check_all`), which are outside the workspace, unless arguments
//!    narrow the run.
//! 3. Runs `cargo test --workspace --all-targets` with `WANA_AWS_CLI` pointing at it, so tests that
//!    drive the real CLI find it (and fail, never skip, when it is missing).
//!
//! Doc tests are not run: `--all-targets` leaves them out, and compiling each example against the
//! AWS SDK would double the time of a test run; the crates that could hold them set
//! `doctest = false` so no example looks tested when it is not.

use std::{
    path::{Path, PathBuf},
    process::{Command, ExitCode},
};

use anyhow::{bail, Context as _};
use clap::Args;
use wana_harness::aws_cli::{workspace_root, AWS_CLI_ENV, AWS_CLI_VERSION};

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Extra arguments for `cargo test`, after `--`: a test name filter, `-p <crate>` to test one
    /// crate, `-- --nocapture` for the test binaries.
    #[arg(last = true)]
    pub cargo_args: Vec<String>,
}

pub fn run(args: &TestArgs) -> anyhow::Result<ExitCode> {
    let root = workspace_root();
    let aws = ensure_aws_cli(&root, "xtask test")?;
    // scenarios/tests/on_endpoints.rs starts LocalStack (host mode) and moto's server from these.
    for server in [wana_localstack::Server::Localstack, wana_localstack::Server::Moto] {
        let started = std::time::Instant::now();
        let venv = wana_localstack::host::install(server, &root)?;
        eprintln!(
            "xtask test: {} ready in {} ({:.0} s)",
            server.requirements().join(" "),
            venv.display(),
            started.elapsed().as_secs_f64()
        );
    }

    if let Err(err) = ensure_chromium("xtask test") {
        // The other tests still run; xtask/tests/report_chromium.rs fails and names the cause.
        eprintln!("xtask test: ERROR: {err:#}\nxtask test: the report test will fail without Chromium");
    }

    // The fuzz targets (policy/fuzz, emulator/fuzz) are outside the workspace: build them here so
    // CI notices when a change breaks one (a run narrowed by arguments skips them).
    if args.cargo_args.is_empty() {
        crate::fuzz::check_all(&root)?;
    }

    let cargo_args = cargo_test_args(&args.cargo_args);
    eprintln!("xtask test: cargo {}", cargo_args.join(" "));
    let status = crate::inner_cargo()
        .current_dir(&root)
        .args(&cargo_args)
        .env(AWS_CLI_ENV, &aws)
        .status()
        .context("cannot run cargo test")?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE, // killed by a signal
    })
}

/// `test --workspace --all-targets` plus the user's arguments; `--workspace` is left out when the
/// user names packages, because cargo would otherwise ignore `-p` and test everything.
fn cargo_test_args(extra: &[String]) -> Vec<String> {
    let names_packages = extra.iter().take_while(|arg| *arg != "--").any(|arg| {
        arg == "-p"
            || arg == "--package"
            || arg.starts_with("--package=")
            || (arg.starts_with("-p") && arg.len() > 2)
    });
    let mut args = vec!["test".to_string()];
    if !names_packages {
        args.push("--workspace".to_string());
    }
    args.push("--all-targets".to_string());
    args.extend(extra.iter().cloned());
    args
}

/// Returns the absolute path of `.venv/bin/aws`, installing `awscli==AWS_CLI_VERSION` first
/// unless that exact version is already there.
pub(crate) fn ensure_aws_cli(root: &Path, who: &str) -> anyhow::Result<PathBuf> {
    let venv = root.join(".venv");
    let aws = venv.join("bin").join("aws");
    if installed_version_matches(&aws) {
        eprintln!(
            "{who}: AWS CLI {AWS_CLI_VERSION} found in {}",
            venv.display()
        );
        return Ok(aws);
    }

    let python = venv.join("bin").join("python");
    if !python.is_file() {
        eprintln!("{who}: creating {}", venv.display());
        run_checked(
            Command::new("python3").arg("-m").arg("venv").arg(&venv),
            "python3 -m venv .venv (needs python3 with the venv module)",
        )?;
    }
    eprintln!(
        "{who}: installing awscli=={AWS_CLI_VERSION} into {}",
        venv.display()
    );
    run_checked(
        Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--quiet",
            &format!("awscli=={AWS_CLI_VERSION}"),
        ]),
        "pip install awscli",
    )?;
    if !installed_version_matches(&aws) {
        bail!(
            "{} does not report aws-cli/{AWS_CLI_VERSION} after the install",
            aws.display()
        );
    }
    Ok(aws)
}

/// Where Debian's `chromium` package puts the browser the report test drives.
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";

/// Installs Debian's `chromium` (without recommends) unless [`CHROMIUM`] is there, saying how
/// long it took; `apt-get update` first only when the install fails without it.
pub(crate) fn ensure_chromium(who: &str) -> anyhow::Result<()> {
    if Path::new(CHROMIUM).is_file() {
        eprintln!("{who}: Chromium found at {CHROMIUM}");
        return Ok(());
    }
    eprintln!("{who}: {CHROMIUM} is missing: installing Debian's chromium (apt-get)");
    let started = std::time::Instant::now();
    let install = || {
        let mut command = Command::new("apt-get");
        command
            .args(["install", "-y", "--no-install-recommends", "chromium"])
            .env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    let what = "apt-get install -y --no-install-recommends chromium (needs root and Debian's package lists)";
    if run_checked(&mut install(), what).is_err() {
        eprintln!("{who}: the install failed; running apt-get update and trying again");
        run_checked(Command::new("apt-get").arg("update"), "apt-get update")?;
        run_checked(&mut install(), what)?;
    }
    if !Path::new(CHROMIUM).is_file() {
        bail!("the chromium package installed, but {CHROMIUM} is not there");
    }
    eprintln!(
        "{who}: Chromium installed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `aws --version` prints `aws-cli/1.46.3 Python/… botocore/…` (on stdout or, in older
/// releases, stderr).
fn installed_version_matches(aws: &Path) -> bool {
    if !aws.is_file() {
        return false;
    }
    let Ok(output) = Command::new(aws).arg("--version").output() else {
        return false;
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output.status.success() && reports_version(&text, AWS_CLI_VERSION)
}

fn reports_version(version_output: &str, version: &str) -> bool {
    version_output
        .split_whitespace()
        .any(|word| word == format!("aws-cli/{version}"))
}

fn run_checked(command: &mut Command, what: &str) -> anyhow::Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot run {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn cargo_arguments_test_the_workspace_unless_packages_are_named() {
        assert_eq!(
            cargo_test_args(&strings(&["redact", "--", "--nocapture"])),
            strings(&[
                "test",
                "--workspace",
                "--all-targets",
                "redact",
                "--",
                "--nocapture"
            ])
        );
        assert_eq!(
            cargo_test_args(&strings(&["-p", "wana-harness"])),
            strings(&["test", "--all-targets", "-p", "wana-harness"])
        );
        assert_eq!(
            cargo_test_args(&strings(&["--package=xtask"])),
            strings(&["test", "--all-targets", "--package=xtask"])
        );
        // `-p` after `--` belongs to the test binaries, not to cargo.
        assert_eq!(
            cargo_test_args(&strings(&["--", "-p"])),
            strings(&["test", "--workspace", "--all-targets", "--", "-p"])
        );
    }

    #[test]
    fn version_check_wants_the_exact_version() {
        let output = "aws-cli/1.46.3 Python/3.11.7 Linux/6.1 botocore/1.40.3\n";
        assert!(reports_version(output, "1.46.3"));
        assert!(!reports_version(output, "1.46.30"));
        assert!(!reports_version("aws-cli/1.46.30 Python/3.11.7", "1.46.3"));
        assert!(!reports_version("aws-cli/2.15.0 Python/3.11.6", "1.46.3"));
    }
}
