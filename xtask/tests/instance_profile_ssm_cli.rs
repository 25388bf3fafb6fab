//! `instance-profile-ssm` with the real AWS CLI against `cargo xtask emulator`, typed as the
//! report's author did: `iam create-role` with a trust policy file, `create-instance-profile`,
//! `add-role-to-instance-profile` (a second time for another role: refused), `run-instances`
//! with the profile, `update-assume-role-policy` with `ssm.amazonaws.com` (nothing changes),
//! `attach-role-policy` with AmazonSSMManagedInstanceCore, and `ssm describe-instance-information`
//! until the instance is a managed node.
//!
//! The emulator runs as its own process, in wall time, with `--latency-scale 60`: the SSM Agent's
//! backoff (up to 30 minutes) and health pings (5 minutes) shrink to seconds, so registration
//! after the fix shows within seconds.

mod common;

use std::{
    process::Command,
    time::{Duration, Instant},
};

use common::{cli, ok, print_env, start_emulator};
use serde_json::Value;
use wana_harness::{AwsCli, CliCredentials};
use wana_scenarios::instance_profile_ssm::{self as trap, trust_policy};

async fn managed_nodes(cli: &AwsCli, creds: &CliCredentials, instance_id: &str) -> Vec<Value> {
    let filter = format!("Key=InstanceIds,Values={instance_id}");
    let out = ok(cli, creds, &["ssm", "describe-instance-information", "--filters", &filter]).await;
    out["InstanceInformationList"].as_array().cloned().unwrap_or_default()
}

/// Looks at Systems Manager for `window` of wall time; the instance must stay absent.
async fn stays_unmanaged(cli: &AwsCli, creds: &CliCredentials, instance_id: &str, window: Duration) {
    let deadline = Instant::now() + window;
    while Instant::now() < deadline {
        let nodes = managed_nodes(cli, creds, instance_id).await;
        assert!(nodes.is_empty(), "the instance is not managed yet: {nodes:#?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn the_reports_commands_register_the_instance_only_after_attach_role_policy() {
    let emulator = start_emulator(&["--latency-scale", "60"]);
    let cli = cli();
    let a = print_env(trap::ACCOUNT, emulator.port);
    let dir = std::env::temp_dir().join(format!("wana-ssm-cli-{}-{}", std::process::id(), emulator.port));
    std::fs::create_dir_all(&dir).unwrap();
    let trust_file = dir.join("assume-role-policy.json");
    std::fs::write(&trust_file, trust_policy(&["ec2.amazonaws.com"]).to_string()).unwrap();
    let trust_arg = format!("file://{}", trust_file.display());

    ok(&cli, &a, &["iam", "create-role", "--role-name", "role-for-ec2", "--assume-role-policy-document", &trust_arg]).await;
    ok(&cli, &a, &["iam", "create-instance-profile", "--instance-profile-name", "for-ec2"]).await;
    ok(&cli, &a, &["iam", "add-role-to-instance-profile", "--instance-profile-name", "for-ec2", "--role-name", "role-for-ec2"]).await;

    // A second role for the same profile: refused, with IAM's quota error.
    ok(&cli, &a, &["iam", "create-role", "--role-name", "role-for-ssm", "--assume-role-policy-document", &trust_arg]).await;
    let second = cli
        .run(&a, &["iam", "add-role-to-instance-profile", "--instance-profile-name", "for-ec2", "--role-name", "role-for-ssm"])
        .await
        .unwrap();
    assert!(!second.success());
    assert!(
        second.stderr.contains(
            "An error occurred (LimitExceeded) when calling the AddRoleToInstanceProfile operation: \
             Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"
        ),
        "{}",
        second.stderr
    );

    // Launch with the profile, retrying while EC2 does not know it yet.
    let images = ok(&cli, &a, &["ec2", "describe-images", "--owners", "amazon", "--filters", &format!("Name=name,Values={}", trap::IMAGE_NAME_PATTERN)]).await;
    let image_id = images["Images"][0]["ImageId"].as_str().expect("an Amazon Linux 2023 image").to_string();
    let run = ["ec2", "run-instances", "--image-id", &image_id, "--instance-type", "t3.micro", "--iam-instance-profile", "Name=for-ec2"];
    let deadline = Instant::now() + Duration::from_secs(30);
    let launched = loop {
        let out = cli.run(&a, &run).await.unwrap();
        if out.success() {
            break out.json().unwrap();
        }
        assert_eq!(out.error_code(), Some("InvalidParameterValue"), "{}", out.stderr);
        assert!(Instant::now() < deadline, "the profile never propagated: {}", out.stderr);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let instance_id = launched["Instances"][0]["InstanceId"].as_str().unwrap().to_string();
    assert_eq!(launched["Instances"][0]["IamInstanceProfile"]["Arn"].as_str().map(|arn| arn.ends_with(":instance-profile/for-ec2")), Some(true));

    // Running, but never a managed node.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = ok(&cli, &a, &["ec2", "describe-instances", "--instance-ids", &instance_id]).await;
        if out["Reservations"][0]["Instances"][0]["State"]["Name"] == "running" {
            break;
        }
        assert!(Instant::now() < deadline, "the instance did not start: {out:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stays_unmanaged(&cli, &a, &instance_id, Duration::from_secs(3)).await;

    // The report's first attempt: trust ssm.amazonaws.com too. Nothing changes.
    std::fs::write(&trust_file, trust_policy(&["ec2.amazonaws.com", "ssm.amazonaws.com"]).to_string()).unwrap();
    ok(&cli, &a, &["iam", "update-assume-role-policy", "--role-name", "role-for-ec2", "--policy-document", &trust_arg]).await;
    stays_unmanaged(&cli, &a, &instance_id, Duration::from_secs(3)).await;

    // The fix: the managed policy on the role in the profile. The agent's next try registers.
    ok(&cli, &a, &["iam", "attach-role-policy", "--role-name", "role-for-ec2", "--policy-arn", trap::MANAGED_POLICY_ARN]).await;
    let attached = Instant::now();
    let node = loop {
        let nodes = managed_nodes(&cli, &a, &instance_id).await;
        if let Some(node) = nodes.into_iter().find(|n| n["PingStatus"] == "Online") {
            break node;
        }
        assert!(attached.elapsed() < Duration::from_secs(40), "the instance did not register within 40 s of the fix");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(node["InstanceId"], instance_id.as_str());
    assert_eq!(node["ResourceType"], "EC2Instance");
    assert_eq!(node["PlatformType"], "Linux");
    let status = ok(&cli, &a, &["ssm", "describe-instance-associations-status", "--instance-id", &instance_id]).await;
    assert_eq!(status["InstanceAssociationStatusInfos"], Value::Array(Vec::new()));
}

/// `cargo xtask repro instance-profile-ssm --json`: one report, the trap reproduced and fixed,
/// exit 0; the text form tells the story with the quota error and the refused agent call.
#[test]
fn repro_reports_the_trap_reproduced_and_fixed() {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask")).args(["repro", "instance-profile-ssm", "--json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    let reports: Vec<Value> = text.lines().map(|line| serde_json::from_str(line).expect("one JSON object per line")).collect();
    assert_eq!(reports.len(), 1, "{text}");
    assert_eq!(reports[0]["trap"], "instance-profile-ssm");
    assert_eq!(reports[0]["verdict"], "reproduced-and-fixed");

    let output = Command::new(env!("CARGO_BIN_EXE_xtask")).args(["repro", "instance-profile-ssm"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains(trap::QUOTA_MESSAGE), "{text}");
    assert!(text.contains("ssm:UpdateInstanceInformation"), "{text}");
    assert!(text.contains("verdict: reproduced-and-fixed"), "{text}");
}
