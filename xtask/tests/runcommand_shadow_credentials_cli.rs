//! `runcommand-shadow-credentials` with the real AWS CLI against `cargo xtask emulator`, as an
//! operator would type it: a bucket, the instance role and profile, two managed instances, a stale
//! key left in root's `~/.aws/credentials` on one, the report's document through
//! `ssm send-command`, `ssm get-command-invocation` and `ssm list-command-invocations --details`
//! for the outcome, the report's fixed document, and `s3api list-objects-v2` for the objects.
//! The scripts run for real inside each instance's sandbox, with the real AWS CLI there too.

mod common;

use std::time::{Duration, Instant};

use common::{cli, ok, print_env, start_emulator};
use serde_json::{json, Value};
use wana_harness::{AwsCli, CliCredentials};
use wana_scenarios::runcommand_shadow_credentials::{self as trap, access_key_type, fixed_upload_document, upload_document};

const BUCKET: &str = "wana-cli-reports";

/// Polls `get-command-invocation` until the invocation has ended.
async fn ended(cli: &AwsCli, creds: &CliCredentials, command_id: &str, instance_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let out = cli.run(creds, &["ssm", "get-command-invocation", "--command-id", command_id, "--instance-id", instance_id]).await.unwrap();
        if out.success() {
            let value: Value = out.json().unwrap();
            if matches!(value["Status"].as_str(), Some("Success" | "Failed" | "TimedOut" | "Cancelled")) {
                return value;
            }
        } else {
            assert_eq!(out.error_code(), Some("InvocationDoesNotExist"), "{}", out.stderr);
        }
        assert!(Instant::now() < deadline, "the invocation did not end: {}", out.stdout);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn send(cli: &AwsCli, creds: &CliCredentials, args: &[&str]) -> String {
    let mut all = vec!["ssm", "send-command"];
    all.extend_from_slice(args);
    let sent = ok(cli, creds, &all).await;
    sent["Command"]["CommandId"].as_str().unwrap().to_string()
}

async fn shell(cli: &AwsCli, creds: &CliCredentials, instances: &[&str], commands: &[&str]) -> String {
    let parameters = json!({ "commands": commands }).to_string();
    let mut args = vec!["--document-name", "AWS-RunShellScript", "--parameters", &parameters, "--instance-ids"];
    args.extend_from_slice(instances);
    send(cli, creds, &args).await
}

#[tokio::test]
async fn the_reports_document_fails_on_the_instance_with_roots_stale_file_until_the_exports() {
    let emulator = start_emulator(&["--latency-scale", "60"]);
    let cli = cli();
    let a = print_env(trap::ACCOUNT, emulator.port);
    let dir = std::env::temp_dir().join(format!("wana-shadow-cli-{}-{}", std::process::id(), emulator.port));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        format!("file://{}", path.display())
    };

    ok(&cli, &a, &["s3api", "create-bucket", "--bucket", BUCKET]).await;
    let trust = file("trust.json", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#);
    ok(&cli, &a, &["iam", "create-role", "--role-name", "uploader", "--assume-role-policy-document", &trust]).await;
    let policy = file("put.json", &json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":format!("arn:aws:s3:::{BUCKET}/*")}]}).to_string());
    ok(&cli, &a, &["iam", "put-role-policy", "--role-name", "uploader", "--policy-name", "put", "--policy-document", &policy]).await;
    ok(&cli, &a, &["iam", "attach-role-policy", "--role-name", "uploader", "--policy-arn", trap::MANAGED_POLICY_ARN]).await;
    ok(&cli, &a, &["iam", "create-instance-profile", "--instance-profile-name", "uploader"]).await;
    ok(&cli, &a, &["iam", "add-role-to-instance-profile", "--instance-profile-name", "uploader", "--role-name", "uploader"]).await;

    // A key someone once put on an instance, deleted since.
    ok(&cli, &a, &["iam", "create-user", "--user-name", "legacy"]).await;
    let key = ok(&cli, &a, &["iam", "create-access-key", "--user-name", "legacy"]).await;
    let (key_id, secret) = (key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_string(), key["AccessKey"]["SecretAccessKey"].as_str().unwrap().to_string());
    ok(&cli, &a, &["iam", "delete-access-key", "--user-name", "legacy", "--access-key-id", &key_id]).await;

    // Two instances with the profile, retried while the profile propagates; both managed nodes.
    let images = ok(&cli, &a, &["ec2", "describe-images", "--owners", "amazon", "--filters", &format!("Name=name,Values={}", trap::IMAGE_NAME_PATTERN)]).await;
    let image = images["Images"][0]["ImageId"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    let launched = loop {
        let out = cli.run(&a, &["ec2", "run-instances", "--image-id", &image, "--instance-type", "t3.micro", "--count", "2", "--iam-instance-profile", "Name=uploader"]).await.unwrap();
        if out.success() {
            break out.json().unwrap();
        }
        assert!(Instant::now() < deadline, "{}", out.stderr);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let healthy = launched["Instances"][0]["InstanceId"].as_str().unwrap().to_string();
    let stale = launched["Instances"][1]["InstanceId"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let nodes = ok(&cli, &a, &["ssm", "describe-instance-information", "--filters", "Key=PingStatus,Values=Online"]).await;
        if nodes["InstanceInformationList"].as_array().is_some_and(|l| l.len() == 2) {
            break;
        }
        assert!(Instant::now() < deadline, "the instances did not register: {nodes:#}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // The report's files on both; root's stale credentials file on one.
    let setup = shell(&cli, &a, &[&healthy, &stale], &["mkdir -p /tmp/reports", "echo hoge > /tmp/reports/hogehoge.txt", "echo mochi > /tmp/reports/mochimochi.txt"]).await;
    for id in [&healthy, &stale] {
        assert_eq!(ended(&cli, &a, &setup, id).await["Status"], "Success");
    }
    let credentials = format!("printf '[default]\\naws_access_key_id = {key_id}\\naws_secret_access_key = {secret}\\n' > /root/.aws/credentials");
    let plant = shell(&cli, &a, &[&stale], &["mkdir -p /root/.aws", &credentials]).await;
    assert_eq!(ended(&cli, &a, &plant, &stale).await["Status"], "Success");

    // The report's document: Success on one instance, the CLI's InvalidAccessKeyId on the other.
    let upload = file("upload.yml", &upload_document(BUCKET));
    ok(&cli, &a, &["ssm", "create-document", "--name", "cred-test", "--content", &upload, "--document-type", "Command", "--document-format", "YAML"]).await;
    let command = send(&cli, &a, &["--document-name", "cred-test", "--instance-ids", &healthy, &stale]).await;
    let good = ended(&cli, &a, &command, &healthy).await;
    assert_eq!(good["Status"], "Success", "{good:#}");
    let bad = ended(&cli, &a, &command, &stale).await;
    assert_eq!((bad["Status"].as_str(), bad["ResponseCode"].as_i64()), (Some("Failed"), Some(1)), "{bad:#}");
    let stderr = bad["StandardErrorContent"].as_str().unwrap();
    assert!(stderr.contains(&format!("upload failed: ./hogehoge.txt to s3://{BUCKET}/{stale}/hogehoge.txt {}", trap::INVALID_KEY_LINE)), "{stderr}");
    assert!(stderr.ends_with("failed to run commands: exit status 1"), "{stderr}");
    let listed = ok(&cli, &a, &["ssm", "list-command-invocations", "--command-id", &command, "--details"]).await;
    let invocations = listed["CommandInvocations"].as_array().unwrap();
    assert_eq!(invocations.len(), 2);
    let plugin = &invocations.iter().find(|i| i["InstanceId"] == stale.as_str()).unwrap()["CommandPlugins"][0];
    assert_eq!(plugin["Name"], "testdocuments");
    assert!(plugin["Output"].as_str().unwrap().contains("InvalidAccessKeyId"), "{plugin:#}");

    // The report's diagnosis: the two tables.
    let list = shell(&cli, &a, &[&healthy, &stale], &["aws configure list"]).await;
    let table = |v: Value| v["StandardOutputContent"].as_str().unwrap().to_string();
    assert_eq!(access_key_type(&table(ended(&cli, &a, &list, &healthy).await)), Some("iam-role"));
    assert_eq!(access_key_type(&table(ended(&cli, &a, &list, &stale).await)), Some("shared-credentials-file"));

    // The report's fix, and the objects in the bucket.
    let fixed = file("fixed.yml", &fixed_upload_document(BUCKET, true));
    ok(&cli, &a, &["ssm", "create-document", "--name", "cred-test-fixed", "--content", &fixed, "--document-type", "Command", "--document-format", "YAML"]).await;
    let command = send(&cli, &a, &["--document-name", "cred-test-fixed", "--instance-ids", &stale]).await;
    let after = ended(&cli, &a, &command, &stale).await;
    assert_eq!(after["Status"], "Success", "{after:#}");
    let objects = ok(&cli, &a, &["s3api", "list-objects-v2", "--bucket", BUCKET]).await;
    let keys: Vec<&str> = objects["Contents"].as_array().unwrap().iter().filter_map(|o| o["Key"].as_str()).collect();
    for id in [&healthy, &stale] {
        for name in trap::UPLOADED_FILES {
            assert!(keys.contains(&format!("{id}/{name}").as_str()), "{keys:?}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `cargo xtask repro runcommand-shadow-credentials --json`: the scripts run in the instances'
/// sandboxes; one report, reproduced and fixed, exit 0.
#[test]
fn repro_reports_the_trap_reproduced_and_fixed() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["repro", "runcommand-shadow-credentials", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    let report: Value = serde_json::from_str(text.trim()).expect("one JSON object");
    assert_eq!(report["trap"], "runcommand-shadow-credentials");
    assert_eq!(report["verdict"], "reproduced-and-fixed");
    let notes = report["narrative_notes"].to_string();
    assert!(notes.contains(trap::INVALID_KEY_LINE), "{notes}");
    assert!(notes.contains("shared-credentials-file"), "{notes}");
}
