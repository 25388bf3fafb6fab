//! `cross-account-ami-asg` with the real AWS CLI against `cargo xtask emulator`, typed as the
//! report's author would: account A makes an encrypted AMI and shares it, account B launches it
//! by hand (it works), then from an Auto Scaling group (it fails, as
//! `aws autoscaling describe-scaling-activities` shows), then runs the report's
//! `aws kms create-grant` and the group's next retry reaches `InService`.
//!
//! The emulator runs as its own process, in wall time; `cargo xtask emulator` shortens AWS's
//! service latencies (transitions, Auto Scaling's retry backoff) by its default
//! `--latency-scale`, so the whole story takes seconds.

mod common;

use std::time::{Duration, Instant};

use common::{cli, ok, print_env, start_emulator};
use serde_json::{json, Value};
use wana_harness::{AwsCli, CliCredentials};
use wana_scenarios::cross_account_ami_asg::{self as trap, REPORT_OPERATIONS};

/// Polls `aws <args>` until `done` holds for its output; fails the test after a minute.
async fn until(cli: &AwsCli, creds: &CliCredentials, args: &[&str], done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = ok(cli, creds, args).await;
        if done(&out) {
            return out;
        }
        assert!(Instant::now() < deadline, "aws {args:?} did not reach the expected state in a minute: {out:#}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn the_reports_grant_typed_with_the_cli_lets_the_group_launch() {
    let emulator = start_emulator(&[]);
    let cli = cli();
    let a = print_env(trap::OWNER, emulator.port);
    let b = print_env(trap::CONSUMER, emulator.port);
    let account = |creds: &CliCredentials| {
        let cli = &cli;
        let creds = creds.clone();
        async move { ok(cli, &creds, &["sts", "get-caller-identity"]).await["Account"].as_str().unwrap().to_string() }
    };
    let (account_a, account_b) = (account(&a).await, account(&b).await);

    // A: the key with the report's key policy, an AMI encrypted with it, shared with B.
    let policy = trap::report_key_policy(&account_a, &account_b, true).to_string();
    let key = ok(&cli, &a, &["kms", "create-key", "--policy", &policy]).await;
    let key_arn = key["KeyMetadata"]["Arn"].as_str().unwrap().to_string();
    let copied = ok(
        &cli,
        &a,
        &["ec2", "copy-image", "--source-image-id", trap::SOURCE_IMAGE_ID, "--source-region", &a.region, "--name", "shared-encrypted", "--encrypted", "--kms-key-id", &key_arn],
    )
    .await;
    let image_id = copied["ImageId"].as_str().unwrap().to_string();
    until(&cli, &a, &["ec2", "describe-images", "--image-ids", &image_id], |out| out["Images"][0]["State"] == "available").await;
    let permission = format!("Add=[{{UserId={account_b}}}]");
    ok(&cli, &a, &["ec2", "modify-image-attribute", "--image-id", &image_id, "--launch-permission", &permission]).await;

    // B sees the shared image and launches it by hand: running.
    let visible = ok(&cli, &b, &["ec2", "describe-images", "--executable-users", "self", "--image-ids", &image_id]).await;
    assert_eq!(visible["Images"][0]["OwnerId"], account_a.as_str());
    let launched = ok(&cli, &b, &["ec2", "run-instances", "--image-id", &image_id, "--instance-type", "t2.micro", "--count", "1"]).await;
    let direct = launched["Instances"][0]["InstanceId"].as_str().unwrap().to_string();
    let running = until(&cli, &b, &["ec2", "describe-instances", "--instance-ids", &direct], |out| {
        out["Reservations"][0]["Instances"][0]["State"]["Name"] != "pending"
    })
    .await;
    assert_eq!(running["Reservations"][0]["Instances"][0]["State"]["Name"], "running", "{running:#}");

    // B: a launch template and a group for the same AMI: the launch fails.
    let data = json!({"ImageId": image_id, "InstanceType": "t2.micro"}).to_string();
    ok(&cli, &b, &["ec2", "create-launch-template", "--launch-template-name", "shared-ami", "--launch-template-data", &data]).await;
    let zone = format!("{}a", b.region);
    ok(
        &cli,
        &b,
        &["autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", "shared-ami-asg", "--launch-template", "LaunchTemplateName=shared-ami,Version=$Latest", "--min-size", "1", "--max-size", "1", "--desired-capacity", "1", "--availability-zones", &zone],
    )
    .await;
    let activities = until(&cli, &b, &["autoscaling", "describe-scaling-activities", "--auto-scaling-group-name", "shared-ami-asg"], |out| {
        out["Activities"].as_array().is_some_and(|list| list.iter().any(|a| a["StatusCode"] == "Failed"))
    })
    .await;
    let failed = activities["Activities"].as_array().unwrap().iter().find(|a| a["StatusCode"] == "Failed").unwrap().clone();
    let text = format!("{} {}", failed["Description"], failed["StatusMessage"]);
    assert!(
        text.contains("Client.InternalError: Client error on launch") || text.contains("encrypted with an inaccessible AWS KMS key"),
        "{failed:#}"
    );
    assert!(failed["Cause"].as_str().unwrap().contains("increasing the capacity from 0 to 1"), "{failed:#}");

    // The report's fix, typed from B.
    let grantee = trap::service_linked_role_arn(&account_b);
    let mut args = vec!["kms", "create-grant", "--key-id", &key_arn, "--grantee-principal", &grantee, "--operations"];
    args.extend(REPORT_OPERATIONS);
    let grant = ok(&cli, &b, &args).await;
    assert!(grant["GrantId"].as_str().is_some_and(|id| !id.is_empty()));

    let group = until(&cli, &b, &["autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", "shared-ami-asg"], |out| {
        out["AutoScalingGroups"][0]["Instances"].as_array().is_some_and(|list| list.iter().any(|i| i["LifecycleState"] == "InService"))
    })
    .await;
    assert_eq!(group["AutoScalingGroups"][0]["DesiredCapacity"], 1);
    let listed = ok(&cli, &a, &["kms", "list-grants", "--key-id", &key_arn]).await;
    assert!(listed["Grants"].as_array().unwrap().iter().any(|g| g["GranteePrincipal"] == grantee.as_str()), "{listed:#}");

    ok(&cli, &b, &["autoscaling", "delete-auto-scaling-group", "--auto-scaling-group-name", "shared-ami-asg", "--force-delete"]).await;
}
