//! `--backend sandbox` as a user runs it, pointed at `cargo xtask emulator` through `wana.toml`'s
//! `endpoint_url`, with named profiles in a shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`):
//! the guards and the question before a run, `doctor`, a run killed with SIGKILL whose leftovers
//! `cleanup` lists and deletes, and Ctrl-C (SIGINT), after which teardown runs and the exit code is
//! 130.

mod common;

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;
use wana_harness::CliCredentials;

const TRAP: &str = "cmk-start-external-role";

struct Sandbox {
    emulator: common::RunningEmulator,
    dir: tempfile::TempDir,
}

/// A served emulator (AWS's latencies 100 times shorter) and a sandbox config for it whose waits
/// are 10 times shorter; profiles `sbx-a`, `sbx-b`, `sbx-c` hold the three accounts' keys.
fn sandbox(allowed: &[&str]) -> Sandbox {
    let emulator = common::start_emulator(&["--latency-scale", "100"]);
    let dir = tempfile::tempdir().unwrap();
    let mut credentials = String::new();
    for account in ["a", "b", "c"] {
        let keys = common::print_env(account, emulator.port);
        credentials.push_str(&format!(
            "[sbx-{account}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            keys.access_key_id, keys.secret_access_key
        ));
    }
    std::fs::write(dir.path().join("credentials"), credentials).unwrap();
    std::fs::write(dir.path().join("config"), "").unwrap();
    let allowed: Vec<String> = allowed.iter().map(|id| format!("{id:?}")).collect();
    let config = format!(
        "region = \"us-east-1\"\nendpoint_url = \"http://127.0.0.1:{}\"\ntime_scale = 10\nruns_dir = \"runs\"\n\
         allowed_account_ids = [{}]\n[accounts.a]\nprofile = \"sbx-a\"\n[accounts.b]\nprofile = \"sbx-b\"\n\
         [accounts.c]\nprofile = \"sbx-c\"\n",
        emulator.port,
        allowed.join(", ")
    );
    std::fs::write(dir.path().join("wana.toml"), config).unwrap();
    Sandbox { emulator, dir }
}

impl Sandbox {
    fn config(&self) -> PathBuf {
        self.dir.path().join("wana.toml")
    }

    fn runs(&self) -> PathBuf {
        self.dir.path().join("runs")
    }

    /// `xtask <args>` with the sandbox's profile files and nothing of the developer's.
    fn xtask(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command
            .args(args)
            .env("AWS_SHARED_CREDENTIALS_FILE", self.dir.path().join("credentials"))
            .env("AWS_CONFIG_FILE", self.dir.path().join("config"));
        for name in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "CI"] {
            command.env_remove(name);
        }
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.xtask(args).stdin(Stdio::null()).output().unwrap()
    }

    fn repro(&self) -> Child {
        let config = self.config();
        self.xtask(&["repro", TRAP, "--backend", "sandbox", "--config", config.to_str().unwrap(), "--yes"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn customer(&self) -> CliCredentials {
        common::print_env("c", self.emulator.port)
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The ledger lines of the one run in `runs`, once one has the `ec2-instance` line with its id
/// (the run is then in the middle: the instance exists, teardown has not begun).
fn wait_for_instance_line(runs: &Path, child: &mut Child) -> (PathBuf, Vec<Value>) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended before it was interrupted: {status}");
        }
        for entry in std::fs::read_dir(runs).into_iter().flatten() {
            let path = entry.unwrap().path();
            let lines: Vec<Value> = std::fs::read_to_string(&path)
                .unwrap_or_default()
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            if lines.iter().any(|l| l["kind"] == "ec2-instance" && l["id"].is_string()) {
                return (path, lines);
            }
        }
        assert!(started.elapsed() < Duration::from_secs(120), "no instance line in the ledger");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn ledger_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

/// What of the run's ledger still exists in the customer's account, as the AWS CLI sees it:
/// (kind, id) pairs as cleanup names them.
async fn still_there(s: &Sandbox, lines: &[Value]) -> BTreeSet<(String, String)> {
    let cli = common::cli();
    let c = s.customer();
    let mut found = BTreeSet::new();
    for line in lines.iter().filter(|l| l["event"] == "create") {
        let kind = line["kind"].as_str().unwrap();
        let id = line["id"].as_str().or(line["name"].as_str());
        let Some(id) = id else { continue };
        let exists = match kind {
            "ec2-instance" => {
                let out = common::ok(&cli, &c, &["ec2", "describe-instances", "--instance-ids", id]).await;
                let state = out["Reservations"][0]["Instances"][0]["State"]["Name"].as_str().unwrap_or_default().to_string();
                !matches!(state.as_str(), "terminated" | "shutting-down")
            }
            "kms-key" => {
                let out = common::ok(&cli, &c, &["kms", "describe-key", "--key-id", id]).await;
                out["KeyMetadata"]["KeyState"] != "PendingDeletion"
            }
            "kms-alias" => {
                let out = common::ok(&cli, &c, &["kms", "list-aliases"]).await;
                out["Aliases"].as_array().unwrap().iter().any(|a| a["AliasName"] == id)
            }
            "iam-role" => cli.run(&c, &["iam", "get-role", "--role-name", id]).await.unwrap().success(),
            other => panic!("the trap does not create a {other}"),
        };
        if exists {
            found.insert((kind.to_string(), id.to_string()));
        }
    }
    found
}

/// The resources a `cleanup` listing names: (kind, id) of its indented lines.
fn listed(stdout: &str) -> BTreeSet<(String, String)> {
    stdout
        .lines()
        .filter(|l| l.starts_with("  "))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            Some((words.next()?.to_string(), words.next()?.to_string()))
        })
        .collect()
}

#[test]
fn a_run_refuses_an_account_off_the_allow_list_before_creating_anything() {
    let s = sandbox(&["111111111111", "333333333333"]);
    let config = s.config();
    let out = s.run(&["repro", TRAP, "--backend", "sandbox", "--config", config.to_str().unwrap(), "--yes"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("account b (profile \"sbx-b\") is account 222222222222, which is not in allowed_account_ids"),
        "{}",
        text(&out.stderr)
    );
    assert!(!s.runs().exists(), "no ledger: nothing was created");
}

#[test]
fn a_run_asks_once_and_no_answer_creates_nothing() {
    let s = sandbox(&["111111111111", "222222222222", "333333333333"]);
    let config = s.config();
    let out = s.run(&["repro", TRAP, "--backend", "sandbox", "--config", config.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("wana will act in region us-east-1 through http://127.0.0.1:"), "{stderr}");
    assert!(stderr.contains("c: account 333333333333 (no alias) as arn:aws:iam::333333333333:user/admin, from profile \"sbx-c\""), "{stderr}");
    assert_eq!(stderr.matches("Go ahead? [y/N]").count(), 1, "{stderr}");
    assert!(stderr.contains("not confirmed; nothing was created"), "{stderr}");
    assert!(!s.runs().exists());
}

#[test]
fn doctor_prints_each_profile_the_guards_and_which_traps_can_run() {
    let s = sandbox(&["111111111111", "222222222222", "333333333333"]);
    let config = s.config();
    let out = s.run(&["doctor", "--backend", "sandbox", "--config", config.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("region: us-east-1 (endpoint http://127.0.0.1:"), "{stdout}");
    assert!(stdout.contains("account a: profile \"sbx-a\" -> account 111111111111 (no alias), acting as arn:aws:iam::111111111111:user/admin"), "{stdout}");
    assert!(stdout.contains("guards: pass"), "{stdout}");
    assert!(stdout.lines().any(|l| l.contains("cmk-start-external-role") && l.contains("b,c") && l.ends_with("ready")), "{stdout}");

    let narrow = sandbox(&["111111111111"]);
    let config = narrow.config();
    let out = narrow.run(&["doctor", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stdout).contains("guards: refused: account b (profile \"sbx-b\") is account 222222222222"), "{}", text(&out.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_lists_exactly_what_a_killed_run_left_and_deletes_it_with_yes() {
    let s = sandbox(&["111111111111", "222222222222", "333333333333"]);
    let mut child = s.repro();
    let (ledger, _) = wait_for_instance_line(&s.runs(), &mut child);
    // SAFETY: the child is ours and still running.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
    child.wait().unwrap();
    // A request sent just before the kill is still answered by the emulator.
    std::thread::sleep(Duration::from_millis(300));
    let lines = ledger_lines(&ledger);
    assert!(!lines.iter().any(|l| l["event"] == "teardown"), "killed before teardown");
    let left = still_there(&s, &lines).await;
    assert!(left.iter().any(|(kind, _)| kind == "ec2-instance") && left.iter().any(|(kind, _)| kind == "kms-key"), "{left:?}");

    let config = s.config();
    let config = config.to_str().unwrap();
    let dry = s.run(&["cleanup", "--config", config]);
    let stdout = text(&dry.stdout);
    assert!(dry.status.success(), "{stdout}{}", text(&dry.stderr));
    assert_eq!(listed(&stdout), left, "the dry run lists exactly what the killed run left:\n{stdout}");
    assert!(stdout.contains("Dry run: nothing was deleted"), "{stdout}");
    assert_eq!(still_there(&s, &lines).await, left, "a dry run deletes nothing");
    let instance_line = stdout.lines().find(|l| l.trim_start().starts_with("ec2-instance")).unwrap();
    assert!(instance_line.contains("account c") && instance_line.contains("(found by ledger)"), "{instance_line}");

    let young = s.run(&["cleanup", "--config", config, "--older-than", "1h"]);
    assert!(text(&young.stdout).contains("Nothing left by earlier runs."), "the run started moments ago");

    let deleted = s.run(&["cleanup", "--config", config, "--yes"]);
    assert!(deleted.status.success(), "{}{}", text(&deleted.stdout), text(&deleted.stderr));
    assert_eq!(still_there(&s, &lines).await, BTreeSet::new(), "{}", text(&deleted.stdout));
    assert_eq!(ledger_lines(&ledger).last().unwrap()["event"], "cleaned");
    let again = s.run(&["cleanup", "--config", config]);
    assert!(text(&again.stdout).contains("Nothing left by earlier runs."), "{}", text(&again.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_stops_the_run_tears_down_and_exits_130() {
    a_signal_stops_the_run_tears_down_and_exits_130(libc::SIGINT).await;
}

/// What a CI system sends when a job is cancelled or times out.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_the_run_tears_down_and_exits_130() {
    a_signal_stops_the_run_tears_down_and_exits_130(libc::SIGTERM).await;
}

async fn a_signal_stops_the_run_tears_down_and_exits_130(signal: libc::c_int) {
    let s = sandbox(&["111111111111", "222222222222", "333333333333"]);
    let mut child = s.repro();
    let (ledger, _) = wait_for_instance_line(&s.runs(), &mut child);
    // SAFETY: the child is ours and still running.
    unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(130), "{stdout}{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(stdout.contains("interrupted (Ctrl-C or SIGTERM); teardown ran"), "{stdout}");
    assert!(stdout.contains("ec2:TerminateInstances") && stdout.contains("kms:ScheduleKeyDeletion"), "{stdout}");
    let lines = ledger_lines(&ledger);
    assert_eq!(lines.last().unwrap()["event"], "teardown");
    assert_eq!(lines.last().unwrap()["ok"], true);
    assert_eq!(still_there(&s, &lines).await, BTreeSet::new(), "teardown left nothing");
}

/// The nightly command on a sandbox: the same config and guards as `repro`, asked nothing with
/// --yes, and the files CI keeps.
#[test]
fn nightly_runs_on_the_sandbox_config_it_is_given() {
    let s = sandbox(&["111111111111", "222222222222", "333333333333"]);
    let config = s.config();
    let out_dir = s.dir.path().join("nightly");
    let out = s.run(&[
        "nightly", "--backend", "sandbox", "--config", config.to_str().unwrap(), "--yes",
        "--traps", TRAP, "--out", out_dir.to_str().unwrap(),
    ]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(!stderr.contains("Go ahead?"), "--yes asks nothing: {stderr}");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["backend"], "sandbox");
    assert_eq!(results["runs"][0]["verdict"], "reproduced-and-fixed", "{results}");
    assert!(out_dir.join("junit.xml").is_file() && out_dir.join("report.md").is_file());
    let ledgers: Vec<_> = std::fs::read_dir(s.runs()).unwrap().collect();
    assert_eq!(ledgers.len(), 1, "one run, one ledger");

    // The same guards: an account off the allow-list refuses before anything runs (exit 3).
    let refused = sandbox(&["111111111111"]);
    let config = refused.config();
    let out_dir = refused.dir.path().join("nightly");
    let out = refused.run(&[
        "nightly", "--backend", "sandbox", "--config", config.to_str().unwrap(), "--yes",
        "--traps", TRAP, "--out", out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(!refused.runs().exists(), "nothing was created");
}

/// Every trap at once against one emulator (the sandbox backend runs different traps side by
/// side on shared accounts) concludes what each concludes alone on its own emulator (issue 15).
#[tokio::test(flavor = "multi_thread")]
async fn all_traps_at_once_on_one_emulator_conclude_as_each_does_alone() {
    let s = sandbox(&["111111111111", "222222222222", "333333333333"]);
    let config = s.config();
    let out_dir = s.dir.path().join("nightly");
    let out = s.run(&[
        "nightly", "--backend", "sandbox", "--config", config.to_str().unwrap(), "--yes",
        "--out", out_dir.to_str().unwrap(),
    ]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("results.json")).unwrap()).unwrap();
    let runs = results["runs"].as_array().unwrap();
    let catalog = wana_scenarios::catalog();
    assert_eq!(runs.len(), catalog.iter().filter(|t| t.is_runnable()).count(), "{results}");
    for run in runs {
        let trap = run["trap"].as_str().unwrap();
        let scenario = catalog.iter().find(|t| t.id == trap).unwrap().scenario.unwrap();
        let alone = wana_harness::run_scenario(
            scenario,
            wana_harness::BackendKind::Emulator,
            wana_harness::BehaviourProfile::Current,
        )
        .await;
        assert_eq!(run["verdict"], alone.verdict.to_string(), "{trap}: together vs alone");
    }
}
