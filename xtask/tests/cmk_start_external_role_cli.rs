//! `cmk-start-external-role` with the real AWS CLI against `cargo xtask emulator`: what a user
//! types. The vendor's session starts the instance and it falls back to `stopped`; the customer
//! adds the report's two statements to the key policy with `aws kms put-key-policy --policy
//! file://…`; the same session's start then reaches `running`.
//!
//! The emulator runs as its own process here, so its clock is wall time: each transition takes
//! its real 5 seconds. The CLI comes from `.venv` (installed by `cargo xtask test`, or named by
//! `WANA_AWS_CLI`); without it this test fails.

mod common;

use std::time::{Duration, Instant};

use common::{ok, print_env, start_emulator};

use serde_json::{json, Value};
use wana_harness::{AwsCli, CliCredentials, CliOutput};
use wana_scenarios::cmk_start_external_role as trap;

async fn run(cli: &AwsCli, creds: &CliCredentials, args: &[&str]) -> CliOutput {
    cli.run(creds, args).await.unwrap()
}

/// `aws ec2 describe-instances` until the instance leaves `pending`/`stopping`; returns it.
async fn settled(cli: &AwsCli, creds: &CliCredentials, instance_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let described = ok(
            cli,
            creds,
            &["ec2", "describe-instances", "--instance-ids", instance_id],
        )
        .await;
        let instance = described["Reservations"][0]["Instances"][0].clone();
        let state = instance["State"]["Name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if !["pending", "stopping", "shutting-down"].contains(&state.as_str()) {
            return instance;
        }
        assert!(
            Instant::now() < deadline,
            "{instance_id} is still {state} after a minute"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[tokio::test]
async fn the_reports_key_policy_put_with_the_cli_lets_the_vendor_start_the_instance() {
    let emulator = start_emulator(&[]);
    let cli = AwsCli::locate().expect("the AWS CLI is installed by `cargo xtask test`");
    let customer = print_env(trap::CUSTOMER, emulator.port);
    let vendor = print_env(trap::VENDOR, emulator.port);
    let region = customer.region.clone();

    // The customer: a key with the default policy, an instance on it, stopped.
    let key = ok(&cli, &customer, &["kms", "create-key"]).await;
    let key_arn = key["KeyMetadata"]["Arn"].as_str().unwrap().to_string();
    let mappings = json!([{
        "DeviceName": "/dev/xvda",
        "Ebs": {"Encrypted": true, "KmsKeyId": key_arn}
    }])
    .to_string();
    let launched = ok(
        &cli,
        &customer,
        &[
            "ec2",
            "run-instances",
            "--image-id",
            trap::IMAGE_ID,
            "--instance-type",
            "t2.micro",
            "--count",
            "1",
            "--block-device-mappings",
            &mappings,
        ],
    )
    .await;
    let instance_id = launched["Instances"][0]["InstanceId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        settled(&cli, &customer, &instance_id).await["State"]["Name"],
        "running"
    );
    ok(
        &cli,
        &customer,
        &["ec2", "stop-instances", "--instance-ids", &instance_id],
    )
    .await;
    assert_eq!(
        settled(&cli, &customer, &instance_id).await["State"]["Name"],
        "stopped"
    );

    // The vendor's role: trusted by the vendor's account with an external id; EC2 only.
    let vendor_account = ok(&cli, &vendor, &["sts", "get-caller-identity"]).await["Account"]
        .as_str()
        .unwrap()
        .to_string();
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{vendor_account}:root")},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": trap::EXTERNAL_ID}}
        }]
    })
    .to_string();
    let role = ok(
        &cli,
        &customer,
        &[
            "iam",
            "create-role",
            "--role-name",
            trap::ROLE_NAME,
            "--assume-role-policy-document",
            &trust,
        ],
    )
    .await;
    let role_arn = role["Role"]["Arn"].as_str().unwrap().to_string();
    let permissions = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:StartInstances","ec2:StopInstances","ec2:Describe*"],"Resource":"*"}]}"#;
    ok(
        &cli,
        &customer,
        &[
            "iam",
            "put-role-policy",
            "--role-name",
            trap::ROLE_NAME,
            "--policy-name",
            trap::ROLE_POLICY_NAME,
            "--policy-document",
            permissions,
        ],
    )
    .await;

    // Without the external id the vendor is refused; with it, it gets a session.
    let refused = run(
        &cli,
        &vendor,
        &[
            "sts",
            "assume-role",
            "--role-arn",
            &role_arn,
            "--role-session-name",
            trap::SESSION_NAME,
        ],
    )
    .await;
    assert_eq!(
        refused.error_code(),
        Some("AccessDenied"),
        "{}",
        refused.stderr
    );
    let assumed = ok(
        &cli,
        &vendor,
        &[
            "sts",
            "assume-role",
            "--role-arn",
            &role_arn,
            "--role-session-name",
            trap::SESSION_NAME,
            "--external-id",
            trap::EXTERNAL_ID,
        ],
    )
    .await;
    let session = CliCredentials {
        access_key_id: assumed["Credentials"]["AccessKeyId"]
            .as_str()
            .unwrap()
            .to_string(),
        secret_access_key: assumed["Credentials"]["SecretAccessKey"]
            .as_str()
            .unwrap()
            .to_string(),
        session_token: Some(
            assumed["Credentials"]["SessionToken"]
                .as_str()
                .unwrap()
                .to_string(),
        ),
        ..customer.clone()
    };

    // The trap: the start is accepted, then the instance is stopped again.
    let started = ok(
        &cli,
        &session,
        &["ec2", "start-instances", "--instance-ids", &instance_id],
    )
    .await;
    let change = &started["StartingInstances"][0];
    assert_eq!(
        change["PreviousState"],
        json!({"Code": 80, "Name": "stopped"})
    );
    assert_eq!(
        change["CurrentState"],
        json!({"Code": 0, "Name": "pending"})
    );
    let fallen_back = settled(&cli, &session, &instance_id).await;
    assert_eq!(fallen_back["State"]["Name"], "stopped");
    assert_eq!(
        fallen_back["StateReason"],
        json!({"Code": "Client.InternalError", "Message": "Client.InternalError: Client error on launch"})
    );

    // The fix: the report's statements added to the key policy, put from a file.
    let current = run(
        &cli,
        &customer,
        &[
            "kms",
            "get-key-policy",
            "--key-id",
            &key_arn,
            "--policy-name",
            "default",
            "--query",
            "Policy",
            "--output",
            "text",
        ],
    )
    .await;
    assert!(current.success(), "{}", current.stderr);
    let policy = trap::with_statements(
        current.stdout.trim(),
        trap::report_statements(&role_arn, &region),
    )
    .unwrap();
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cmk-start-external-role-{}.json", emulator.port));
    std::fs::write(&file, &policy).unwrap();
    let put = run(
        &cli,
        &customer,
        &[
            "kms",
            "put-key-policy",
            "--key-id",
            &key_arn,
            "--policy-name",
            "default",
            "--policy",
            &format!("file://{}", file.display()),
        ],
    )
    .await;
    let _ = std::fs::remove_file(&file);
    assert!(put.success(), "{}", put.stderr);
    let stored = ok(
        &cli,
        &customer,
        &[
            "kms",
            "get-key-policy",
            "--key-id",
            &key_arn,
            "--policy-name",
            "default",
        ],
    )
    .await;
    let stored: Value = serde_json::from_str(stored["Policy"].as_str().unwrap()).unwrap();
    assert_eq!(stored["Statement"].as_array().unwrap().len(), 3);

    // The same session, the same command: now it runs.
    let started = ok(
        &cli,
        &session,
        &["ec2", "start-instances", "--instance-ids", &instance_id],
    )
    .await;
    assert_eq!(
        started["StartingInstances"][0]["CurrentState"]["Name"],
        "pending"
    );
    let running = settled(&cli, &session, &instance_id).await;
    assert_eq!(running["State"]["Name"], "running");
    assert_eq!(running.get("StateReason"), None, "{running}");
}
