//! `alarm-recover` as its source report ran it: the real AWS CLI against
//! `cargo xtask emulator --profile legacy-2016`, a role session and an IAM user (both with
//! PowerUserAccess) each running `create-stack --template-body file://ec2.json`, then
//! `set-alarm-state` and `describe-alarm-history`, then the fix with `update-stack` as the user.
//! And `cargo xtask repro alarm-recover` as a user runs it: the narrative, `--json`, exit codes.
//!
//! The CLI comes from `.venv` (installed by `cargo xtask test`) or `WANA_AWS_CLI`; without it
//! these tests fail.

mod common;

use std::{
    path::PathBuf,
    process::{Command, Output},
    time::{Duration, Instant},
};

use common::{ok, print_env, start_emulator};

use serde_json::Value;
use wana_harness::{AwsCli, CliCredentials};
use wana_scenarios::alarm_recover::{
    EC2_JSON, EC2_UPDATE_JSON, RENEWED_ALARM, ROLE_NAME, ROLE_STACK, USER_NAME, USER_STACK,
};

const UNVALIDATED: &str = "Encountered error calling EC2 recover. (401: AWS was not able to validate the provided access credentials)";
const POWER_USER: &str = "arn:aws:iam::aws:policy/PowerUserAccess";

fn text<'a>(value: &'a Value, what: &str) -> &'a str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {value}"))
}

/// A folder of this test run holding the report's two templates, as `file://` arguments.
fn templates() -> (String, String) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("alarm-recover-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ec2 = dir.join("ec2.json");
    let update = dir.join("ec2_update.json");
    std::fs::write(&ec2, EC2_JSON).unwrap();
    std::fs::write(&update, EC2_UPDATE_JSON).unwrap();
    (
        format!("file://{}", ec2.display()),
        format!("file://{}", update.display()),
    )
}

/// `describe-stacks`: the stack's status and its outputs by key.
async fn stack(cli: &AwsCli, creds: &CliCredentials, name: &str) -> (String, Value) {
    let described = ok(
        cli,
        creds,
        &["cloudformation", "describe-stacks", "--stack-name", name],
    )
    .await;
    let stack = &described["Stacks"][0];
    let outputs: serde_json::Map<String, Value> = stack["Outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                text(&o["OutputKey"], "OutputKey").to_string(),
                o["OutputValue"].clone(),
            )
        })
        .collect();
    (
        text(&stack["StackStatus"], "StackStatus").to_string(),
        Value::Object(outputs),
    )
}

/// What a user does before forcing a recover: wait until the instance runs.
async fn wait_until_running(cli: &AwsCli, creds: &CliCredentials, instance_id: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let described = ok(
            cli,
            creds,
            &["ec2", "describe-instances", "--instance-ids", instance_id],
        )
        .await;
        let state = described["Reservations"][0]["Instances"][0]["State"]["Name"].clone();
        if state == "running" {
            return;
        }
        assert!(Instant::now() < deadline, "{instance_id} is still {state}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The report's `set-alarm-state` command.
async fn set_alarm(cli: &AwsCli, creds: &CliCredentials, alarm: &str) {
    ok(
        cli,
        creds,
        &[
            "cloudwatch",
            "set-alarm-state",
            "--alarm-name",
            alarm,
            "--state-value",
            "ALARM",
            "--state-reason",
            "Manual Update to ALARM",
        ],
    )
    .await;
}

/// `describe-alarm-history --history-item-type Action`: the newest item.
async fn action_item(cli: &AwsCli, creds: &CliCredentials, alarm: &str) -> Value {
    let history = ok(
        cli,
        creds,
        &[
            "cloudwatch",
            "describe-alarm-history",
            "--alarm-name",
            alarm,
            "--history-item-type",
            "Action",
        ],
    )
    .await;
    let items = history["AlarmHistoryItems"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{history}");
    assert_eq!(items[0]["AlarmName"], alarm);
    assert_eq!(items[0]["HistoryItemType"], "Action");
    items[0].clone()
}

fn history_data(item: &Value) -> Value {
    serde_json::from_str(text(&item["HistoryData"], "HistoryData")).unwrap()
}

#[tokio::test]
async fn the_report_commands_through_the_aws_cli_on_legacy_2016() {
    let emulator = start_emulator(&["--profile", "legacy-2016"]);
    let cli = AwsCli::locate().expect("the AWS CLI is installed by `cargo xtask test`");
    let admin = print_env("a", emulator.port);
    let region = admin.region.clone();
    let recover = format!("arn:aws:automate:{region}:ec2:recover");

    // The report's two identities, both with PowerUserAccess.
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}"#;
    let role = ok(
        &cli,
        &admin,
        &[
            "iam",
            "create-role",
            "--role-name",
            ROLE_NAME,
            "--assume-role-policy-document",
            trust,
        ],
    )
    .await;
    ok(
        &cli,
        &admin,
        &[
            "iam",
            "attach-role-policy",
            "--role-name",
            ROLE_NAME,
            "--policy-arn",
            POWER_USER,
        ],
    )
    .await;
    ok(
        &cli,
        &admin,
        &["iam", "create-user", "--user-name", USER_NAME],
    )
    .await;
    ok(
        &cli,
        &admin,
        &[
            "iam",
            "attach-user-policy",
            "--user-name",
            USER_NAME,
            "--policy-arn",
            POWER_USER,
        ],
    )
    .await;
    let key = ok(
        &cli,
        &admin,
        &["iam", "create-access-key", "--user-name", USER_NAME],
    )
    .await;
    let user = CliCredentials {
        access_key_id: text(&key["AccessKey"]["AccessKeyId"], "AccessKeyId").to_string(),
        secret_access_key: text(&key["AccessKey"]["SecretAccessKey"], "SecretAccessKey")
            .to_string(),
        ..admin.clone()
    };
    let assumed = ok(
        &cli,
        &admin,
        &[
            "sts",
            "assume-role",
            "--role-arn",
            text(&role["Role"]["Arn"], "Arn"),
            "--role-session-name",
            "cfn-deploy",
        ],
    )
    .await;
    let credentials = &assumed["Credentials"];
    let session = CliCredentials {
        access_key_id: text(&credentials["AccessKeyId"], "AccessKeyId").to_string(),
        secret_access_key: text(&credentials["SecretAccessKey"], "SecretAccessKey").to_string(),
        session_token: Some(text(&credentials["SessionToken"], "SessionToken").to_string()),
        ..admin.clone()
    };
    assert!(session.access_key_id.starts_with("ASIA") && user.access_key_id.starts_with("AKIA"));
    let me = ok(&cli, &session, &["sts", "get-caller-identity"]).await;
    assert_eq!(
        me["Arn"],
        format!("arn:aws:sts::111111111111:assumed-role/{ROLE_NAME}/cfn-deploy")
    );

    // Both stacks from the same file; both complete without error.
    let (ec2_json, ec2_update_json) = templates();
    for (creds, name) in [(&session, ROLE_STACK), (&user, USER_STACK)] {
        let created = ok(
            &cli,
            creds,
            &[
                "cloudformation",
                "create-stack",
                "--stack-name",
                name,
                "--template-body",
                &ec2_json,
            ],
        )
        .await;
        assert!(
            text(&created["StackId"], "StackId").contains(&format!(":stack/{name}/")),
            "{created}"
        );
    }
    let (status, role_outputs) = stack(&cli, &session, ROLE_STACK).await;
    assert_eq!(status, "CREATE_COMPLETE");
    let (status, user_outputs) = stack(&cli, &user, USER_STACK).await;
    assert_eq!(status, "CREATE_COMPLETE");
    let role_alarm = text(&role_outputs["RecoveryAlarm"], "RecoveryAlarm").to_string();
    let user_alarm = text(&user_outputs["RecoveryAlarm"], "RecoveryAlarm").to_string();
    assert!(
        role_alarm.starts_with(&format!("{ROLE_STACK}-RecoveryAlarm-")),
        "{role_alarm}"
    );
    assert!(
        user_alarm.starts_with(&format!("{USER_STACK}-RecoveryAlarm-")),
        "{user_alarm}"
    );
    wait_until_running(
        &cli,
        &session,
        text(&role_outputs["InstanceID"], "InstanceID"),
    )
    .await;
    wait_until_running(&cli, &user, text(&user_outputs["InstanceID"], "InstanceID")).await;

    // The role-created alarm: 401.
    set_alarm(&cli, &session, &role_alarm).await;
    let item = action_item(&cli, &session, &role_alarm).await;
    let summary = text(&item["HistorySummary"], "HistorySummary");
    assert!(summary.contains(UNVALIDATED), "{summary}");
    let data = history_data(&item);
    assert_eq!(data["actionState"], "Failed");
    assert_eq!(data["error"], UNVALIDATED);
    assert_eq!(data["notificationResource"], recover.as_str());

    // The user-created alarm: the recover ran.
    set_alarm(&cli, &user, &user_alarm).await;
    let item = action_item(&cli, &user, &user_alarm).await;
    assert_eq!(
        item["HistorySummary"],
        format!("Successfully executed action {recover}")
    );
    assert_eq!(history_data(&item)["actionState"], "Succeeded");

    // describe-alarms shows the two alike: the same fields, none naming who created them.
    let described = ok(
        &cli,
        &session,
        &[
            "cloudwatch",
            "describe-alarms",
            "--alarm-names",
            &role_alarm,
            &user_alarm,
        ],
    )
    .await;
    let alarms = described["MetricAlarms"].as_array().unwrap();
    assert_eq!(alarms.len(), 2, "{described}");
    let fields =
        |alarm: &Value| -> Vec<String> { alarm.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(fields(&alarms[0]), fields(&alarms[1]));
    let rendered = described.to_string();
    for identity in [ROLE_NAME, "cfn-deploy", USER_NAME, "assumed-role", ":user/"] {
        assert!(!rendered.contains(identity), "{identity} in {rendered}");
    }

    // The fix: the user updates the role's stack with the named alarm; the role fires it again.
    ok(
        &cli,
        &user,
        &[
            "cloudformation",
            "update-stack",
            "--stack-name",
            ROLE_STACK,
            "--template-body",
            &ec2_update_json,
        ],
    )
    .await;
    let (status, outputs) = stack(&cli, &user, ROLE_STACK).await;
    assert_eq!(status, "UPDATE_COMPLETE");
    assert_eq!(outputs["RecoveryAlarm"], RENEWED_ALARM);
    assert_eq!(
        outputs["InstanceID"], role_outputs["InstanceID"],
        "the instance is kept"
    );
    set_alarm(&cli, &session, RENEWED_ALARM).await;
    let item = action_item(&cli, &session, RENEWED_ALARM).await;
    assert_eq!(
        item["HistorySummary"],
        format!("Successfully executed action {recover}")
    );

    // The old alarm went with the replacement.
    let remaining = ok(&cli, &admin, &["cloudwatch", "describe-alarms"]).await;
    let names: Vec<&str> = remaining["MetricAlarms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| text(&a["AlarmName"], "AlarmName"))
        .collect();
    assert_eq!(names, [RENEWED_ALARM, user_alarm.as_str()]);
}

// ---------------------------------------------------------------------------------------------
// `cargo xtask repro alarm-recover`

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("the xtask binary runs")
}

#[test]
fn repro_runs_both_profiles_and_tells_the_story() {
    let output = xtask(&["repro", "alarm-recover"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (legacy, current) = text.split_once("\n\n").expect("one block per profile");
    assert!(
        legacy.starts_with("alarm-recover on emulator (profile legacy-2016)\n"),
        "{legacy}"
    );
    assert!(
        legacy.contains(&format!(": Failed: {UNVALIDATED}")),
        "{legacy}"
    );
    assert!(
        legacy.contains("[fix] wana-alarm-deployer@a → cloudformation:UpdateStack: ok"),
        "{legacy}"
    );
    assert!(
        legacy.ends_with("verdict: reproduced-and-fixed, as expected (reproduced-and-fixed)"),
        "{legacy}"
    );
    assert!(
        current.starts_with("alarm-recover on emulator (profile current)\n"),
        "{current}"
    );
    assert!(
        current.contains("AWSServiceRoleForCloudWatchEvents"),
        "{current}"
    );
    assert!(
        current.ends_with("verdict: not-reproduced, as expected (not-reproduced)\n"),
        "{current}"
    );
    assert!(
        !text.contains("wanaAdminSecret"),
        "secrets are always redacted"
    );
}

#[test]
fn repro_json_prints_one_object_per_run() {
    let output = xtask(&["repro", "alarm-recover", "--json", "--profile", "all"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reports: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    let runs: Vec<(&Value, &Value)> = reports
        .iter()
        .map(|r| (&r["profile"], &r["verdict"]))
        .collect();
    assert_eq!(
        runs,
        [
            (&"current".into(), &"not-reproduced".into()),
            (&"legacy-2016".into(), &"reproduced-and-fixed".into())
        ]
    );
    for report in &reports {
        assert_eq!(report["trap"], "alarm-recover");
        assert_eq!(report["backend"], "emulator");
        assert_eq!(report["matches_expectation"], true);
        for step in report["steps"].as_array().unwrap() {
            for key in ["principal", "call", "ok", "error_code", "error_message"] {
                assert!(step.get(key).is_some(), "{key} missing in {step}");
            }
        }
    }
    let failed: Vec<&Value> = reports[1]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["ok"] == false)
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["error_message"], UNVALIDATED);
}

#[test]
fn repro_of_one_profile_runs_only_that_one() {
    let output = xtask(&[
        "repro",
        "alarm-recover",
        "--profile",
        "current",
        "--json",
        "--redact",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["verdict"], "not-reproduced");
    assert!(
        !stdout.contains("111111111111"),
        "ids are redacted: {stdout}"
    );
}
