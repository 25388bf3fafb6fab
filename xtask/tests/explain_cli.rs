//! `cargo xtask explain` as a user meets it: the built binary, its output and exit codes.

use std::process::{Command, Output};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("the xtask binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn explain_prints_the_refused_grant_as_json() {
    let output = xtask(&["explain", "cmk-start-external-role", "--json", "--redact"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON object per run: {stdout}");
    let value: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(value["trap"], "cmk-start-external-role");
    assert_eq!(value["verdict"], "reproduced-and-fixed");
    let calls = value["denied_calls"].as_array().unwrap();
    let grant = calls.iter().find(|c| c["action"] == "kms:CreateGrant").unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(grant["origin"]["kind"], "forward-access");
    assert_eq!(grant["origin"]["service"], "ec2.us-east-1.amazonaws.com");
    assert_eq!(grant["principal"], "arn:aws:sts::<account-c>:assumed-role/ThirdPartyRole/scheduled-start");
    assert!(grant["consulted"].as_array().unwrap().iter().any(|c| c["kind"] == "key policy"), "{grant}");
    assert!(grant.get("deciding_statement").is_none(), "no statement allowed: {grant}");
    assert!(!stdout.contains("wanaAdminSecret"), "no secret is printed");
}

#[test]
fn explain_on_another_backend_says_it_is_unavailable() {
    for backend in ["sandbox", "localstack"] {
        let output = xtask(&["explain", "cmk-start-external-role", "--backend", backend]);
        assert_eq!(output.status.code(), Some(3), "{backend}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains("explain needs the emulator's authorization log; on a sandbox use CloudTrail"),
            "{stderr}"
        );
        assert!(output.stdout.is_empty(), "nothing ran on {backend}");
    }
}

#[test]
fn explain_of_an_unknown_trap_is_a_usage_error() {
    let output = xtask(&["explain", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("unknown trap \"nope\""), "{}", text(&output.stderr));
}
