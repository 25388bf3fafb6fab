//! `cargo xtask check` through its binary: the exit codes a trainer's script relies on, the
//! narration in both languages, and AWS's own error for a malformed policy.

use std::process::{Command, Output};

use serde_json::Value;

fn fixes(trap: &str, file: &str) -> String {
    format!("{}/../scenarios/fixes/{trap}/{file}", env!("CARGO_MANIFEST_DIR"))
}

fn check(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).arg("check").args(args).env("LANG", "C").output().expect("xtask runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

const TRAP: &str = "cmk-start-external-role";

#[test]
fn the_reference_fix_resolves_and_exits_0() {
    let output = check(&[TRAP, "--fix", &fixes(TRAP, "reference.json")]);
    let said = text(&output);
    assert_eq!(output.status.code(), Some(0), "{said}");
    assert!(said.contains("Before the fix: StartInstances by ThirdPartyRole answered pending; the instance is stopped (Client.InternalError"), "{said}");
    assert!(said.contains("Applied as admin@c: kms:PutKeyPolicy on arn:aws:kms:"), "{said}");
    assert!(said.contains("After the fix: the failure is gone."), "{said}");
    assert!(said.contains("Verdict: resolved, and no broader than needed."), "{said}");
}

#[test]
fn a_wrong_fix_is_not_resolved_and_exits_1_in_japanese_too() {
    let output = check(&[TRAP, "--fix", &fixes(TRAP, "wrong-without-create-grant.json"), "--lang", "ja"]);
    let said = text(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains("修正後: 障害はまだ残っています。"), "{said}");
    assert!(said.contains("判定: 解消していません。"), "{said}");
    // AWS's own words stay English.
    assert!(said.contains("Client.InternalError"), "{said}");
}

#[test]
fn an_over_broad_fix_exits_5_and_names_what_is_broader_in_json() {
    let output = check(&[TRAP, "--fix", &fixes(TRAP, "broader-key-policy-kms-star.json"), "--json"]);
    assert_eq!(output.status.code(), Some(5), "{}", text(&output));
    let value: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(value["verdict"], "broader");
    assert_eq!(value["gone"], true);
    let labels: Vec<&str> = value["findings"].as_array().unwrap().iter().filter_map(|f| f["label"].as_str()).collect();
    assert!(labels.contains(&"kms:*") && labels.contains(&"missing kms:ViaService"), "{labels:?}");
}

#[test]
fn a_malformed_policy_gets_awss_error_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "${RoleArn}"}, "Action": "kms:CreateGrant"}]}"#).unwrap();
    let output = check(&[TRAP, "--fix", path.to_str().unwrap(), "--kind", "key-policy"]);
    let said = text(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains("AWS refused the fix: MalformedPolicyDocumentException: "), "{said}");
    assert!(!said.contains("panicked"), "{said}");
}

#[test]
fn usage_errors_exit_2_and_other_backends_exit_3() {
    let wrong_kind = check(&[TRAP, "--fix", &fixes(TRAP, "reference.json"), "--kind", "script"]);
    assert_eq!(wrong_kind.status.code(), Some(2), "{}", text(&wrong_kind));
    assert!(text(&wrong_kind).contains("takes no script fix; it takes: key-policy, iam-policy, grant, trust-policy"));
    let missing = check(&[TRAP, "--fix", "/nonexistent/fix.json"]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    let unknown = check(&["no-such-trap", "--fix", &fixes(TRAP, "reference.json")]);
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown));
    // LocalStack's EC2 never asks KMS for the caller: the trap does not reproduce there.
    let elsewhere = check(&[TRAP, "--fix", &fixes(TRAP, "reference.json"), "--backend", "localstack"]);
    assert_eq!(elsewhere.status.code(), Some(3), "{}", text(&elsewhere));
    assert!(text(&elsewhere).contains("does not reproduce on localstack"), "{}", text(&elsewhere));
}

#[test]
fn alarm_recover_is_checked_under_the_profile_where_it_reproduces() {
    let trap = "alarm-recover";
    let output = check(&[trap, "--fix", &fixes(trap, "reference.json")]);
    let said = text(&output);
    assert_eq!(output.status.code(), Some(0), "{said}");
    assert!(said.contains("(profile legacy-2016)") && said.contains("reproduces only under the legacy-2016 profile"), "{said}");
}
