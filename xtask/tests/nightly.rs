//! `cargo xtask nightly` as CI runs it: the built binary on the emulator, the files it writes read
//! the way CI reads them (junit.xml with a JUnit parser, results.json as JSON, report.md as
//! text), drift found when an accepted snapshot is edited, and nothing secret in what it writes.
//!
//! Runs with an instance that runs scripts need root and the AWS CLI (`WANA_AWS_CLI`), as the
//! scenario tests do; `cargo xtask test` provides both.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use serde_json::Value;
use wana_emulator::DEFAULT_ACCOUNTS;

fn xtask() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.env_remove("RUST_LOG");
    command
}

fn nightly(args: &[&str]) -> Output {
    xtask()
        .arg("nightly")
        .args(args)
        .output()
        .expect("the xtask binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn path(dir: &Path) -> &str {
    dir.to_str().unwrap()
}

fn workspace_snapshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../snapshots")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn junit(dir: &Path) -> junit_parser::TestSuites {
    let file = std::fs::File::open(dir.join("junit.xml")).expect("junit.xml is written");
    junit_parser::from_reader(std::io::BufReader::new(file)).expect("junit.xml parses as JUnit")
}

/// Every file under `dir`, with its text.
fn files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path, text));
        }
    }
    out
}

/// What must never be in a file written: the emulator's administrator secrets, the secrets and
/// session tokens it mints (`wanaSecret…`, `IQoJwanaSessionToken…`), any STS-shaped token.
fn assert_no_secret(dir: &Path) {
    let written = files(dir);
    assert!(written.len() >= 4, "{written:?}");
    for (path, text) in &written {
        for account in DEFAULT_ACCOUNTS {
            assert!(
                !text.contains(account.secret_access_key),
                "{} holds a secret",
                path.display()
            );
        }
        for shape in [
            "wanaSecret",
            "wanaAdminSecret",
            "IQoJ",
            "SessionToken\": \"I",
        ] {
            assert!(!text.contains(shape), "{} holds {shape}…", path.display());
        }
    }
}

fn assert_no_account_id(dir: &Path) {
    for (path, text) in files(dir) {
        for account in DEFAULT_ACCOUNTS {
            assert!(
                !text.contains(account.id),
                "{} holds account id {}",
                path.display(),
                account.id
            );
        }
    }
}

fn runnable_traps() -> Vec<&'static str> {
    wana_scenarios::catalog()
        .iter()
        .filter(|trap| trap.is_runnable())
        .map(|trap| trap.id)
        .collect()
}

#[test]
fn every_trap_runs_on_the_emulator_and_the_three_files_say_so() {
    let out = tempfile::tempdir().unwrap();
    let output = nightly(&["--backend", "emulator", "--out", path(out.path())]);
    let stderr = text(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stderr}\n{}",
        text(&output.stdout)
    );

    let suites = junit(out.path());
    let names: Vec<&str> = suites.suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, runnable_traps(), "one testsuite per trap");
    for suite in &suites.suites {
        let verdicts = suite
            .cases
            .iter()
            .filter(|c| c.original_name == "verdict")
            .count();
        let expected = if suite.name == "alarm-recover" { 2 } else { 1 };
        assert_eq!(
            verdicts, expected,
            "{}: a verdict case per profile",
            suite.name
        );
        for case in &suite.cases {
            assert!(
                [
                    "provision",
                    "trigger",
                    "observe",
                    "fix",
                    "verify",
                    "teardown",
                    "verdict"
                ]
                .contains(&case.original_name.as_str()),
                "{}",
                case.name
            );
            assert!(case.status.is_success(), "{}: {:?}", case.name, case.status);
        }
        assert_eq!(suite.tests as usize, suite.cases.len());
    }
    // AWS's refusals are in the phases' output, with their code and message.
    let ssm = suites
        .suites
        .iter()
        .find(|s| s.name == "instance-profile-ssm")
        .unwrap();
    let provision = ssm
        .cases
        .iter()
        .find(|c| c.original_name == "provision")
        .unwrap();
    let output = provision.system_out.as_deref().unwrap();
    assert!(
        output.contains("→ iam:AddRoleToInstanceProfile: LimitExceeded: Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1\n"),
        "{output}"
    );

    let results = read_json(&out.path().join("results.json"));
    assert_eq!(results["backend"], "emulator");
    assert_eq!(results["redaction"], "full");
    assert_eq!(results["exit_code"], 0);
    let runs = results["runs"].as_array().unwrap();
    assert_eq!(
        runs.len(),
        runnable_traps().len() + 1,
        "alarm-recover runs under two profiles"
    );
    for run in runs {
        assert_eq!(run["matches_expectation"], true, "{}", run["trap"]);
        assert_eq!(run["snapshot_status"], "unchanged", "{}", run["trap"]);
    }
    assert_eq!(results["drift"], Value::Array(Vec::new()));

    let report = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(
        report.starts_with("# wana nightly on emulator\n"),
        "{report}"
    );
    assert!(
        report.contains("6 runs: 6 as expected, 0 not; 0 drifted"),
        "{report}"
    );
    assert!(!report.contains("## Drift"), "{report}");

    // Each run's outcome, written as a snapshot, is the accepted one.
    for run in runs {
        let file = run["snapshot"].as_str().unwrap();
        let body = |p: &Path| {
            let text = std::fs::read_to_string(p).unwrap();
            text.splitn(3, "---\n").nth(2).unwrap().to_string()
        };
        assert_eq!(
            body(&out.path().join("snapshots").join(file)),
            body(&workspace_snapshots().join(file))
        );
    }
    assert_no_secret(out.path());
    assert_no_account_id(out.path());
}

#[test]
fn no_redact_keeps_account_ids_but_never_secrets() {
    let out = tempfile::tempdir().unwrap();
    let output = nightly(&[
        "--backend",
        "emulator",
        "--traps",
        "runcommand-shadow-credentials,cmk-start-external-role",
        "--no-redact",
        "--out",
        path(out.path()),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let results = read_json(&out.path().join("results.json"));
    assert_eq!(results["redaction"], "secrets-only");
    let traps: Vec<&str> = results["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["trap"].as_str().unwrap())
        .collect();
    assert_eq!(
        traps,
        ["cmk-start-external-role", "runcommand-shadow-credentials"],
        "the catalog's order"
    );
    let results_text = std::fs::read_to_string(out.path().join("results.json")).unwrap();
    let junit_text = std::fs::read_to_string(out.path().join("junit.xml")).unwrap();
    // cmk-start-external-role acts in account c.
    assert!(results_text.contains("333333333333"));
    assert!(junit_text.contains("333333333333"));
    assert_no_secret(out.path());
    // Snapshots are the redacted form whatever --no-redact says.
    assert_no_account_id(&out.path().join("snapshots"));
}

/// Copies the accepted snapshots into a directory of the test's own, to edit.
fn snapshot_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(workspace_snapshots()).unwrap() {
        let from = entry.unwrap().path();
        std::fs::copy(&from, dir.path().join(from.file_name().unwrap())).unwrap();
    }
    dir
}

fn edit_snapshot(dir: &Path, file: &str, edit: impl FnOnce(&mut Value)) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let (header, body) = text.split_at(text.match_indices("---\n").nth(1).unwrap().0 + 4);
    let mut value: Value = serde_json::from_str(body).unwrap();
    edit(&mut value);
    std::fs::write(
        &path,
        format!(
            "{header}{}\n",
            serde_json::to_string_pretty(&value).unwrap()
        ),
    )
    .unwrap();
}

fn comparison<'a>(results: &'a Value, key: &str, trap: &str, profile: &str) -> &'a Value {
    results[key]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["trap"] == trap && c["profile"] == profile)
        .unwrap_or_else(|| panic!("no {key} for {trap} ({profile}): {:#}", results[key]))
}

#[test]
fn an_edited_snapshot_is_reported_as_drift() {
    let snapshots = snapshot_copy();
    // The accepted error text of instance-profile-ssm's first refusal becomes an older one.
    let mut refused = (String::new(), String::new());
    edit_snapshot(
        snapshots.path(),
        "instance-profile-ssm@emulator.snap",
        |value| {
            let step = value["steps"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .find(|s| s["ok"] == false)
                .unwrap();
            refused = (
                format!(
                    "[{}] {} → {}",
                    step["phase"].as_str().unwrap(),
                    step["principal"].as_str().unwrap(),
                    step["call"].as_str().unwrap()
                ),
                format!(
                    "{}: {}",
                    step["error_code"].as_str().unwrap(),
                    step["error_message"].as_str().unwrap()
                ),
            );
            step["error_message"] = Value::String("An older text".into());
        },
    );
    // Accepted: the trap reproduced under `current`; the run finds it does not.
    edit_snapshot(
        snapshots.path(),
        "alarm-recover@emulator-current.snap",
        |value| {
            value["verdict"] = Value::String("reproduced-and-fixed".into());
        },
    );
    // Accepted: one step fewer; the run makes it.
    let mut dropped = String::new();
    edit_snapshot(
        snapshots.path(),
        "cross-account-ami-asg@emulator.snap",
        |value| {
            let step = value["steps"].as_array_mut().unwrap().remove(1);
            dropped = format!(
                "[{}] {} → {}",
                step["phase"].as_str().unwrap(),
                step["principal"].as_str().unwrap(),
                step["call"].as_str().unwrap()
            );
        },
    );
    // No accepted snapshot at all.
    std::fs::remove_file(
        snapshots
            .path()
            .join("alarm-recover@emulator-legacy-2016.snap"),
    )
    .unwrap();

    let out = tempfile::tempdir().unwrap();
    let traps = "alarm-recover,instance-profile-ssm,cross-account-ami-asg";
    let args = [
        "--backend",
        "emulator",
        "--traps",
        traps,
        "--snapshots",
        path(snapshots.path()),
        "--out",
        path(out.path()),
    ];
    let output = nightly(&args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "drift alone keeps the exit code: {}",
        text(&output.stderr)
    );

    let results = read_json(&out.path().join("results.json"));
    let ssm = comparison(&results, "drift", "instance-profile-ssm", "current");
    assert_eq!(ssm["reference"], "instance-profile-ssm@emulator.snap");
    let difference = &ssm["differences"][0];
    assert_eq!(difference["kind"], "error-text-changed");
    assert_eq!(difference["step"], refused.0.as_str());
    assert_eq!(difference["observed"], refused.1.as_str());
    let code = refused.1.split(':').next().unwrap();
    assert_eq!(difference["reference"], format!("{code}: An older text"));
    let alarm = comparison(&results, "drift", "alarm-recover", "current");
    assert_eq!(alarm["differences"][0]["kind"], "trap-vanished");
    let asg = comparison(&results, "drift", "cross-account-ami-asg", "current");
    assert_eq!(asg["differences"][0]["kind"], "new-step");
    assert_eq!(asg["differences"][0]["step"], dropped.as_str());
    let status = |trap: &str, profile: &str| {
        results["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["trap"] == trap && r["profile"] == profile)
            .unwrap()["snapshot_status"]
            .clone()
    };
    assert_eq!(status("alarm-recover", "legacy-2016"), "missing");
    assert_eq!(status("instance-profile-ssm", "current"), "drifted");
    assert!(
        out.path()
            .join("snapshots/alarm-recover@emulator-legacy-2016.snap")
            .is_file(),
        "a new snapshot to accept"
    );

    let report = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(
        report.contains("3 drifted from their accepted snapshot, 1 have none yet"),
        "{report}"
    );
    assert!(report.contains(&format!("- **error text changed** at `{}`\n  - accepted: `{code}: An older text`\n  - now: `{}`", refused.0, refused.1)), "{report}");
    assert!(
        report.contains(
            "- **trap vanished**\n  - accepted: `reproduced-and-fixed`\n  - now: `not-reproduced`"
        ),
        "{report}"
    );
    assert!(
        report.contains(&format!("- **new step** at `{dropped}`")),
        "{report}"
    );
    assert!(
        report.contains("copy `snapshots/instance-profile-ssm@emulator.snap` of this run's output"),
        "{report}"
    );

    let suites = junit(out.path());
    let case = |suite: &str, class: &str, name: &str| {
        suites
            .suites
            .iter()
            .find(|s| s.name == suite)
            .unwrap()
            .cases
            .iter()
            .find(|c| c.classname.as_deref() == Some(class) && c.original_name == name)
            .unwrap_or_else(|| panic!("{suite} {class} {name}"))
            .clone()
    };
    let phase = refused.0[1..].split(']').next().unwrap();
    let drifted = case(
        "instance-profile-ssm",
        "instance-profile-ssm (current)",
        phase,
    );
    let failure = drifted.status.failure_as_ref();
    assert_eq!(failure.failure_type, "error-text-changed");
    assert_eq!(
        failure.message,
        format!(
            "error text changed at {}: accepted {code}: An older text; now {}",
            refused.0, refused.1
        )
    );
    let vanished = case("alarm-recover", "alarm-recover (current)", "verdict");
    assert_eq!(
        vanished.status.failure_as_ref().failure_type,
        "trap-vanished"
    );
    assert!(
        case("alarm-recover", "alarm-recover (legacy-2016)", "verdict")
            .status
            .is_success()
    );
    assert_eq!(suites.failures, 3);

    // With --fail-on-drift the same drift fails the run.
    let strict = tempfile::tempdir().unwrap();
    let output = nightly(&[
        "--backend",
        "emulator",
        "--traps",
        "instance-profile-ssm",
        "--snapshots",
        path(snapshots.path()),
        "--out",
        path(strict.path()),
        "--fail-on-drift",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert_no_secret(out.path());
    assert_no_account_id(out.path());
}

#[test]
fn the_emulator_is_compared_with_another_backends_results() {
    let first = tempfile::tempdir().unwrap();
    let output = nightly(&[
        "--backend",
        "emulator",
        "--traps",
        "instance-profile-ssm",
        "--out",
        path(first.path()),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));

    // The same results as a sandbox run would give them if AWS's text differed.
    let mut sandbox = read_json(&first.path().join("results.json"));
    sandbox["backend"] = "sandbox".into();
    let run = &mut sandbox["runs"][0];
    run["backend"] = "sandbox".into();
    let step = run["steps"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["ok"] == false)
        .unwrap();
    step["error_message"] = "AWS words it otherwise".into();
    // A real account's id redacts to `<account>`, the emulator's to `<account-a>`: not a difference.
    let run_text = serde_json::to_string(&run)
        .unwrap()
        .replace("<account-a>", "<account>");
    *run = serde_json::from_str(&run_text).unwrap();

    // A results.json in --out, and the same given with --compare-with: both are read.
    for given in [false, true] {
        let out = tempfile::tempdir().unwrap();
        let saved = if given {
            first.path().join("sandbox.json")
        } else {
            out.path().join("results.json")
        };
        std::fs::write(&saved, serde_json::to_string(&sandbox).unwrap()).unwrap();
        let mut args = vec![
            "--backend",
            "emulator",
            "--traps",
            "instance-profile-ssm",
            "--out",
            path(out.path()),
        ];
        if given {
            args.extend(["--compare-with", saved.to_str().unwrap()]);
        }
        let output = nightly(&args);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let results = read_json(&out.path().join("results.json"));
        let disagreement = comparison(&results, "disagreements", "instance-profile-ssm", "current");
        assert_eq!(
            (
                disagreement["reference"].as_str(),
                disagreement["observed"].as_str()
            ),
            (Some("emulator"), Some("sandbox"))
        );
        let differences = disagreement["differences"].as_array().unwrap();
        assert_eq!(differences.len(), 1, "{differences:#?}");
        assert_eq!(differences[0]["kind"], "error-text-changed");
        assert!(differences[0]["observed"]
            .as_str()
            .unwrap()
            .ends_with(": AWS words it otherwise"));
        assert_eq!(
            results["other_backends"][0]["backend"], "sandbox",
            "kept for the next run"
        );
        let report = std::fs::read_to_string(out.path().join("report.md")).unwrap();
        assert!(
            report.contains("## Where the emulator and another backend disagree"),
            "{report}"
        );
        assert!(report.contains("  - sandbox: `"), "{report}");
    }
}

#[test]
fn unknown_traps_are_usage_errors_and_an_unavailable_backend_exits_3_with_its_files() {
    let out = tempfile::tempdir().unwrap();
    let output = nightly(&[
        "--backend",
        "emulator",
        "--traps",
        "nope",
        "--out",
        path(out.path()),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("known traps: alarm-recover"),
        "{}",
        text(&output.stderr)
    );
    let output = nightly(&[
        "--backend",
        "emulator",
        "--out",
        path(out.path()),
        "--compare-with",
        "/nonexistent/results.json",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let output = nightly(&["--backend", "mars", "--out", path(out.path())]);
    assert_eq!(output.status.code(), Some(2));

    // No credentials, no configuration: the sandbox backend cannot start, and says so.
    let home = tempfile::tempdir().unwrap();
    let mut command = xtask();
    for (name, _) in std::env::vars() {
        if name.starts_with("AWS_") {
            command.env_remove(name);
        }
    }
    let output = command
        .args([
            "nightly",
            "--backend",
            "sandbox",
            "--traps",
            "instance-profile-ssm",
            "--out",
            path(out.path()),
        ])
        .current_dir(home.path())
        .env("HOME", home.path())
        .env("CI", "true")
        .env("AWS_CONFIG_FILE", home.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.path().join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    let results = read_json(&out.path().join("results.json"));
    assert!(results["backend_unavailable"].is_string(), "{results:#}");
    assert_eq!(results["runs"], Value::Array(Vec::new()));
    let suites = junit(out.path());
    assert_eq!(suites.errors, 1);
    let report = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(
        report.contains("**The sandbox backend is unavailable or refused; nothing ran.**"),
        "{report}"
    );
}

#[test]
fn ctrl_c_stops_the_run_under_way_tears_down_and_exits_130() {
    let out = tempfile::tempdir().unwrap();
    let mut child = xtask()
        .args([
            "nightly",
            "--backend",
            "emulator",
            "--traps",
            "runcommand-shadow-credentials",
            "--out",
            path(out.path()),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let read = std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
        assert!(read > 0, "the run ended before it started: {seen}");
        seen.push_str(&line);
        if line.contains("runcommand-shadow-credentials (current) started") {
            break;
        }
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    std::io::Read::read_to_string(&mut stderr, &mut seen).unwrap();
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(130), "{seen}");
    assert!(seen.contains("nightly: interrupted"), "{seen}");
    let results = read_json(&out.path().join("results.json"));
    assert_eq!(results["interrupted"], true);
    assert_eq!(results["exit_code"], 130);
    // The run under way stops at once and its teardown runs (the harness's Ctrl-C rule); its
    // report says so and counts as an error, never as a verdict about AWS.
    assert_eq!(results["runs"][0]["verdict"], "error");
    assert_eq!(results["runs"][0]["error"], "interrupted (Ctrl-C or SIGTERM); teardown ran");
}
