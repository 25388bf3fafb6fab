//! The command line as a user meets it: the built `xtask` binary, its output and exit codes.

use std::process::{Command, Output};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("the xtask binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn list_shows_every_trap_with_its_status() {
    let output = xtask(&["list"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    for id in [
        "alarm-recover",
        "cross-account-ami-asg",
        "cmk-start-external-role",
        "runcommand-shadow-credentials",
        "instance-profile-ssm",
    ] {
        let line = text
            .lines()
            .find(|line| line.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("{id} missing from:\n{text}"));
        let trap = wana_scenarios::find(id).unwrap();
        let status = if trap.is_runnable() {
            "[runnable]"
        } else {
            "[not runnable yet]"
        };
        assert!(line.contains(status), "{line}");
        assert!(line.contains(trap.summary), "{line}");
    }
}

#[test]
fn show_prints_the_narrative() {
    let output = xtask(&["show", "alarm-recover"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("2017"), "{text}");
    assert!(text.contains("401: AWS was not able to validate the provided access credentials"));
}

/// `cargo xtask show <trap> | head`: the reader closes the pipe before the narrative is
/// written; the command must end quietly, not panic on the broken pipe.
#[test]
fn show_into_a_closed_pipe_exits_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["show", "alarm-recover"])
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the xtask binary runs");
    // Close the read end at once, as `head` does once it has its lines.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let err = stderr(&output);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(output.status.code(), Some(0), "{err}");
}

#[test]
fn show_of_an_unknown_trap_fails_and_lists_the_known_ones() {
    let output = xtask(&["show", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("unknown trap \"nope\""), "{err}");
    assert!(
        err.contains("alarm-recover") && err.contains("instance-profile-ssm"),
        "{err}"
    );
}

#[test]
fn print_env_gives_a_copy_paste_block_for_the_aws_cli() {
    let output = xtask(&["emulator", "--print-env", "a", "--port", "4599"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE\n\
         export AWS_ACCESS_KEY_ID=AKIAWANAADMINA000001\n\
         export AWS_SECRET_ACCESS_KEY=wanaAdminSecretForAccountA00000000000001\n\
         export AWS_REGION=us-east-1\n\
         export AWS_DEFAULT_REGION=us-east-1\n\
         export AWS_ENDPOINT_URL=http://127.0.0.1:4599\n"
    );
}

#[test]
fn print_env_of_an_unknown_account_fails() {
    let output = xtask(&["emulator", "--print-env", "z"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).is_empty(), "nothing to eval on failure");
    assert!(
        stderr(&output).contains("a (111111111111)"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn repro_of_an_unknown_trap_is_a_usage_error() {
    let output = xtask(&["repro", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("known traps: alarm-recover"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn repro_rejects_an_unknown_profile() {
    let output = xtask(&["repro", "alarm-recover", "--profile", "2016"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("current, legacy-2016 or all"),
        "{}",
        stderr(&output)
    );
}

/// A trap without a scenario must say so and fail, never pass quietly.
#[test]
fn repro_of_a_trap_without_scenario_says_it_is_not_runnable() {
    for trap in wana_scenarios::catalog()
        .iter()
        .filter(|trap| !trap.is_runnable())
    {
        let output = xtask(&["repro", trap.id]);
        assert_eq!(output.status.code(), Some(3), "{}", trap.id);
        let text = stdout(&output);
        assert!(
            text.contains("is not runnable yet") && text.contains("unsupported"),
            "{text}"
        );

        let output = xtask(&["repro", trap.id, "--json", "--profile", "all"]);
        assert_eq!(output.status.code(), Some(3), "{}", trap.id);
        let reports: Vec<serde_json::Value> = stdout(&output)
            .lines()
            .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
            .collect();
        assert_eq!(reports.len(), 2, "one report per profile");
        for (report, profile) in reports.iter().zip(["current", "legacy-2016"]) {
            assert_eq!(report["trap"], trap.id);
            assert_eq!(report["backend"], "emulator");
            assert_eq!(report["profile"], profile);
            assert_eq!(report["verdict"], "unsupported");
            assert!(report["steps"].as_array().unwrap().is_empty());
        }
    }
}

/// `repro --all`: every runnable trap in the catalog's order, one JSON line per run (alarm-recover
/// runs under both of its profiles), each as expected, exit 0; a trap named too is refused.
#[test]
fn repro_all_runs_every_trap_once() {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["repro", "--all", "--json"])
        .env_remove("RUST_LOG")
        .env("WANA_AWS_CLI", std::env::var("WANA_AWS_CLI").unwrap_or_default())
        .output()
        .expect("the xtask binary runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let runs: Vec<serde_json::Value> =
        stdout(&output).lines().map(|line| serde_json::from_str(line).expect("one JSON object a line")).collect();
    let traps: Vec<&str> = runs.iter().map(|run| run["trap"].as_str().unwrap()).collect();
    let mut expected = Vec::new();
    for trap in wana_scenarios::catalog().iter().filter(|trap| trap.is_runnable()) {
        let profiles = if trap.id == "alarm-recover" { 2 } else { 1 };
        expected.extend(std::iter::repeat_n(trap.id, profiles));
    }
    assert_eq!(traps, expected);
    assert!(runs.iter().all(|run| run["matches_expectation"] == true), "{runs:#?}");

    let both = xtask(&["repro", "alarm-recover", "--all"]);
    assert_eq!(both.status.code(), Some(2), "{}", stderr(&both));
}
