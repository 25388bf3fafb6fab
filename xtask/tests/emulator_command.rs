//! `cargo xtask emulator` serving for real: the ready line, the AWS CLI reaching it with the
//! `--print-env` values, and a clean exit on SIGTERM.

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
