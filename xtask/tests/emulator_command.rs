//! `cargo xtask emulator` serving for real: the ready line, the AWS CLI reaching it with the
//! `--print-env` values, a clean exit on SIGTERM, and `--instance-profile-propagation`.

mod common;

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::Duration,
};

use wana_harness::{AwsCli, CliCredentials};

#[tokio::test]
async fn the_served_emulator_answers_the_aws_cli_and_stops_on_sigterm() {
    let cli = AwsCli::locate().expect("the AWS CLI is part of the test setup");
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["emulator", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = lines.next().expect("a first line").unwrap();
    assert!(ready.contains("ready on http://127.0.0.1:"), "{ready}");
    let endpoint = ready
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap()
        .to_string();
    // Keep reading stdout in the background so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});

    let account = wana_emulator::accounts::find("b").unwrap();
    let creds = CliCredentials {
        access_key_id: account.access_key_id.into(),
        secret_access_key: account.secret_access_key.into(),
        session_token: None,
        region: "us-east-1".into(),
        endpoint_url: Some(endpoint),
    };
    let output = cli
        .run(&creds, &["sts", "get-caller-identity"])
        .await
        .unwrap();
    assert!(output.success(), "{output:?}");
    assert_eq!(output.json().unwrap()["Account"], "222222222222");

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the emulator ignored SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}

/// `aws ec2 run-instances --iam-instance-profile Name=<new profile>` right after creating the
/// profile, on an emulator started with `extra`.
async fn launch_with_a_new_profile(extra: &[&str]) -> wana_harness::CliOutput {
    let emulator = common::start_emulator(extra);
    let cli = common::cli();
    let admin = common::print_env("a", emulator.port);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    common::ok(&cli, &admin, &["iam", "create-role", "--role-name", "app", "--assume-role-policy-document", trust]).await;
    common::ok(&cli, &admin, &["iam", "create-instance-profile", "--instance-profile-name", "app"]).await;
    common::ok(&cli, &admin, &["iam", "add-role-to-instance-profile", "--instance-profile-name", "app", "--role-name", "app"])
        .await;
    let args = ["ec2", "run-instances", "--image-id", "ami-374db956", "--count", "1", "--iam-instance-profile", "Name=app"];
    cli.run(&admin, &args).await.unwrap()
}

#[tokio::test]
async fn the_propagation_window_is_a_setting_of_the_served_emulator() {
    // A window far longer than the test: the launch right after creating the profile is refused.
    let refused = launch_with_a_new_profile(&["--instance-profile-propagation", "3600"]).await;
    assert_eq!(refused.error_code(), Some("InvalidParameterValue"), "{refused:?}");
    assert_eq!(
        refused.error_message(),
        Some("Value (app) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name")
    );
    // No window: the same commands launch.
    let launched = launch_with_a_new_profile(&["--instance-profile-propagation", "0"]).await;
    assert!(launched.success(), "{launched:?}");
}
