//! The real AWS CLI on an emulated instance: no keys anywhere, only the instance's metadata
//! service (`AWS_EC2_METADATA_SERVICE_ENDPOINT` pointing at the instance's listener, as
//! `169.254.169.254` would be inside the instance). botocore's credential chain must reach the
//! `iam-role` provider, fetch an IMDSv2 token, read the role name and its credentials, and sign
//! with them: the emulator then sees the instance role's session.

use std::{process::Stdio, time::Duration};

use aws_sdk_ec2::types::IamInstanceProfileSpecification;
use serde_json::{json, Value};
use wana_emulator::EmulatorConfig;
use wana_harness::{AwsCli, Backend, Principal};

const ROLE: &str = "role-for-ec2";
const PROFILE: &str = "for-ec2";

/// Runs `aws <args>` as software on the instance would: a fresh HOME without any AWS files, no
/// key variables, the instance's metadata endpoint.
async fn aws_on_instance(backend: &Backend, metadata: &str, args: &[&str]) -> (bool, String, String) {
    let cli = AwsCli::locate().expect("the AWS CLI is installed by `cargo xtask test`");
    let home = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(cli.executable());
    command
        .args(args)
        .env_clear()
        .env("HOME", home.path())
        .env("AWS_DEFAULT_REGION", backend.region())
        .env("AWS_ENDPOINT_URL", backend.endpoint_url().unwrap())
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", metadata)
        .env("AWS_PAGER", "")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    let out = tokio::time::timeout(Duration::from_secs(60), command.output()).await.expect("the CLI answers").unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A role trusted by `trusted`, in a profile, on a running instance; returns the instance id.
async fn instance_with_role(backend: &Backend, admin: &Principal, trusted: &str) -> String {
    let iam = admin.iam();
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": trusted}, "Action": "sts:AssumeRole"}]});
    iam.create_role().role_name(ROLE).assume_role_policy_document(trust.to_string()).send().await.unwrap();
    iam.create_instance_profile().instance_profile_name(PROFILE).send().await.unwrap();
    iam.add_role_to_instance_profile().instance_profile_name(PROFILE).role_name(ROLE).send().await.unwrap();
    let ec2 = aws_sdk_ec2::Client::new(&admin.config);
    let launched = ec2
        .run_instances()
        .image_id("ami-374db956")
        .instance_type("t2.micro".into())
        .min_count(1)
        .max_count(1)
        .iam_instance_profile(IamInstanceProfileSpecification::builder().name(PROFILE).build())
        .send()
        .await
        .unwrap();
    backend.emulator().unwrap().clock().advance(Duration::from_secs(60));
    launched.instances()[0].instance_id().unwrap().to_string()
}

async fn backend() -> Backend {
    let config = EmulatorConfig { instance_profile_propagation: Duration::ZERO, ..EmulatorConfig::default() };
    Backend::start_emulator_with(config).await.expect("the emulator starts")
}

#[tokio::test]
async fn the_cli_on_an_instance_signs_with_the_instance_roles_session() {
    let backend = backend().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let instance_id = instance_with_role(&backend, &admin, "ec2.amazonaws.com").await;
    let emulator = backend.emulator().unwrap();
    let imds = emulator.serve_instance_metadata(&instance_id).await.unwrap();
    let metadata = format!("http://{}/", imds.addr());

    let (ok, listed, err) = aws_on_instance(&backend, &metadata, &["configure", "list"]).await;
    assert!(ok, "{err}");
    let access_key = listed.lines().find(|l| l.trim_start().starts_with("access_key")).unwrap_or_default();
    assert!(access_key.contains("iam-role"), "the key comes from the instance role:\n{listed}");

    let (ok, identity, err) = aws_on_instance(&backend, &metadata, &["sts", "get-caller-identity", "--output", "json"]).await;
    assert!(ok, "{err}");
    let identity: Value = serde_json::from_str(&identity).unwrap();
    assert_eq!(identity["Arn"], format!("arn:aws:sts::111111111111:assumed-role/{ROLE}/{instance_id}"));

    // The role has no permissions: SSM refuses it, naming the session.
    let (ok, _, err) = aws_on_instance(&backend, &metadata, &["ssm", "get-parameter", "--name", "/app/db"]).await;
    assert!(!ok);
    assert!(err.contains("(AccessDeniedException) when calling the GetParameter operation"), "{err}");
    assert!(err.contains(&format!("assumed-role/{ROLE}/{instance_id} is not authorized to perform: ssm:GetParameter")), "{err}");
}

/// A role EC2 may not assume: the metadata service has no credentials to give, so the CLI
/// finds none at all.
#[tokio::test]
async fn the_cli_on_an_instance_whose_role_does_not_trust_ec2_has_no_credentials() {
    let backend = backend().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let instance_id = instance_with_role(&backend, &admin, "ssm.amazonaws.com").await;
    let imds = backend.emulator().unwrap().serve_instance_metadata(&instance_id).await.unwrap();
    let metadata = format!("http://{}/", imds.addr());

    let (ok, _, err) = aws_on_instance(&backend, &metadata, &["sts", "get-caller-identity"]).await;
    assert!(!ok);
    assert!(err.contains("Unable to locate credentials"), "{err}");
}
