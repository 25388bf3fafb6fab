//! S3 through the real AWS CLI (awscli 1.46.3) against an in-process emulator: `aws s3 mb`,
//! `aws s3 cp` up and down, `aws s3api list-objects-v2`, `aws s3 rm`, bucket policies, and the
//! report's failure line for a stale access key, word for word. A temporary key sent without
//! its session token fails the same way, and an expired session with S3's `ExpiredToken`.
//! Files stay under 8 MB so that the CLI uploads with one PutObject (no multipart upload).

use std::{path::Path, time::Duration};

use serde_json::json;
use wana_emulator::BehaviourProfile;
use wana_harness::{assume::assume_role, AwsCli, Backend, CliCredentials, CliOutput, Principal};

const BUCKET: &str = "report-bucket";
const STALE_LINE_END: &str = "An error occurred (InvalidAccessKeyId) when calling the PutObject operation: The AWS Access Key Id you provided does not exist in our records.";

async fn aws(cli: &AwsCli, creds: &CliCredentials, args: &[&str]) -> CliOutput {
    cli.run(creds, args).await.expect("the CLI runs")
}

/// The one `upload failed:` line the CLI printed, if any.
fn upload_failed_line(output: &CliOutput) -> Option<String> {
    output.stderr.lines().find(|l| l.starts_with("upload failed: ")).map(|l| l.trim_end().to_string())
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

#[tokio::test]
async fn buckets_objects_and_policies_through_the_aws_cli() {
    let cli = AwsCli::locate().expect("the AWS CLI is part of the test setup");
    let backend = Backend::start_emulator(BehaviourProfile::Current).await.expect("emulator starts");
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let a = admin.cli_credentials();
    let dir = tempfile::tempdir().unwrap();

    let made = aws(&cli, &a, &["s3", "mb", &format!("s3://{BUCKET}")]).await;
    assert!(made.success(), "{made:?}");
    assert_eq!(made.stdout.trim(), format!("make_bucket: {BUCKET}"));

    // A 5 MB file of varied bytes and a small one under a prefix.
    let big: Vec<u8> = (0..5_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let big_path = write(dir.path(), "big.bin", &big);
    let small_path = write(dir.path(), "a.txt", b"hello from the report\n");
    for (path, key) in [(&big_path, "data/big.bin"), (&small_path, "logs/a.txt")] {
        let up = aws(&cli, &a, &["s3", "cp", path, &format!("s3://{BUCKET}/{key}")]).await;
        assert!(up.success(), "{up:?}");
        assert!(up.stdout.contains(&format!("upload: {path} to s3://{BUCKET}/{key}")) || up.stdout.contains(&format!("to s3://{BUCKET}/{key}")), "{up:?}");
    }
    let down_path = dir.path().join("down.bin");
    let down = aws(&cli, &a, &["s3", "cp", &format!("s3://{BUCKET}/data/big.bin"), &down_path.to_string_lossy()]).await;
    assert!(down.success(), "{down:?}");
    assert!(std::fs::read(&down_path).unwrap() == big, "the downloaded bytes are the uploaded ones");

    let listed = aws(&cli, &a, &["s3api", "list-objects-v2", "--bucket", BUCKET]).await;
    assert!(listed.success(), "{listed:?}");
    let listed = listed.json().unwrap();
    let contents: Vec<(String, u64)> = listed["Contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["Key"].as_str().unwrap().to_string(), o["Size"].as_u64().unwrap()))
        .collect();
    assert_eq!(contents, [("data/big.bin".to_string(), 5_000_000), ("logs/a.txt".to_string(), 22)]);
    // The CLI sent a CRC32 with each upload; S3 keeps it and lists it.
    assert_eq!(listed["Contents"][0]["ChecksumAlgorithm"], json!(["CRC32"]));
    let by_prefix = aws(&cli, &a, &["s3api", "list-objects-v2", "--bucket", BUCKET, "--delimiter", "/"]).await.json().unwrap();
    assert_eq!(by_prefix["CommonPrefixes"], json!([{"Prefix": "data/"}, {"Prefix": "logs/"}]));

    // Account B may not write until the bucket policy lets it.
    let b = Principal::account_admin(&backend, "b").unwrap().cli_credentials();
    let refused = aws(&cli, &b, &["s3", "cp", &small_path, &format!("s3://{BUCKET}/from-b.txt")]).await;
    assert_eq!((refused.error_code(), refused.error_message()), (Some("AccessDenied"), Some("Access Denied")), "{refused:?}");
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "AccountB", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                       "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{BUCKET}/*")}]
    })
    .to_string();
    let policy_file = write(dir.path(), "policy.json", policy.as_bytes());
    let put = aws(&cli, &a, &["s3api", "put-bucket-policy", "--bucket", BUCKET, "--policy", &format!("file://{policy_file}")]).await;
    assert!(put.success(), "{put:?}");
    let got = aws(&cli, &a, &["s3api", "get-bucket-policy", "--bucket", BUCKET]).await;
    assert_eq!(got.json().unwrap()["Policy"], json!(policy));
    let allowed = aws(&cli, &b, &["s3", "cp", &small_path, &format!("s3://{BUCKET}/from-b.txt")]).await;
    assert!(allowed.success(), "{allowed:?}");
    let not_owner = aws(&cli, &b, &["s3api", "get-bucket-policy", "--bucket", BUCKET]).await;
    assert_eq!(not_owner.error_code(), Some("AccessDenied"), "{not_owner:?}");

    let bad = aws(&cli, &a, &["s3api", "put-bucket-policy", "--bucket", BUCKET, "--policy", "{\"Statement\": ["]).await;
    assert_eq!((bad.error_code(), bad.error_message()), (Some("MalformedPolicy"), Some("This policy contains invalid Json")));

    // Remove everything: rb refuses a bucket with objects.
    let rb = aws(&cli, &a, &["s3", "rb", &format!("s3://{BUCKET}")]).await;
    assert_eq!(rb.error_code(), Some("BucketNotEmpty"), "{rb:?}");
    let rm = aws(&cli, &a, &["s3", "rm", &format!("s3://{BUCKET}/logs/a.txt")]).await;
    assert!(rm.success() && rm.stdout.contains(&format!("delete: s3://{BUCKET}/logs/a.txt")), "{rm:?}");
    let left = aws(&cli, &a, &["s3api", "list-objects-v2", "--bucket", BUCKET]).await.json().unwrap();
    let keys: Vec<&str> = left["Contents"].as_array().unwrap().iter().map(|o| o["Key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["data/big.bin", "from-b.txt"]);
    let gone = aws(&cli, &a, &["s3", "cp", &format!("s3://{BUCKET}/logs/a.txt"), &dir.path().join("x").to_string_lossy()]).await;
    assert!(!gone.success());
    assert!(gone.stderr.contains("(404)") || gone.stderr.contains("NoSuchKey"), "{gone:?}");
}

#[tokio::test]
async fn stale_and_incomplete_keys_fail_as_in_the_report() {
    let cli = AwsCli::locate().expect("the AWS CLI is part of the test setup");
    let backend = Backend::start_emulator(BehaviourProfile::Current).await.expect("emulator starts");
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let a = admin.cli_credentials();
    assert!(aws(&cli, &a, &["s3", "mb", &format!("s3://{BUCKET}")]).await.success());
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "report.csv", b"id,value\n1,2\n");
    let target = format!("s3://{BUCKET}/reports/report.csv");

    // Keys of a user that no longer exists, as in /root/.aws/credentials.
    let stale = CliCredentials {
        access_key_id: "AKIAQ3EGRYXN5STALE01".to_string(),
        secret_access_key: "abcdefghijklmnopqrstuvwxyz0123456789ABCD".to_string(),
        session_token: None,
        ..a.clone()
    };
    let failed = aws(&cli, &stale, &["s3", "cp", &file, &target]).await;
    assert!(!failed.success());
    let line = upload_failed_line(&failed).unwrap_or_else(|| panic!("{failed:?}"));
    assert!(line.starts_with("upload failed: ") && line.contains(&format!("report.csv to {target} ")), "{line}");
    assert!(line.ends_with(STALE_LINE_END), "{line}");

    // The right key with the wrong secret.
    let wrong_secret = CliCredentials { secret_access_key: "not-the-secret".to_string(), ..a.clone() };
    let failed = aws(&cli, &wrong_secret, &["s3", "cp", &file, &target]).await;
    assert_eq!(failed.error_code(), Some("SignatureDoesNotMatch"), "{failed:?}");
    assert_eq!(
        failed.error_message(),
        Some("The request signature we calculated does not match the signature you provided. Check your key and signing method.")
    );

    // A role session: fine with its token, InvalidAccessKeyId without it, ExpiredToken later.
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}"#;
    let iam = admin.iam();
    let role = iam.create_role().role_name("Uploader").assume_role_policy_document(trust).send().await.unwrap().role.unwrap();
    let put_only = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{BUCKET}/*")}]});
    iam.put_role_policy().role_name("Uploader").policy_name("put").policy_document(put_only.to_string()).send().await.unwrap();
    let session = assume_role(&admin, role.arn(), "upload", None, "uploader@a").await.unwrap().cli_credentials();
    let ok = aws(&cli, &session, &["s3", "cp", &file, &target]).await;
    assert!(ok.success(), "{ok:?}");
    let no_token = CliCredentials { session_token: None, ..session.clone() };
    let failed = aws(&cli, &no_token, &["s3", "cp", &file, &target]).await;
    let line = upload_failed_line(&failed).unwrap_or_else(|| panic!("{failed:?}"));
    assert!(line.ends_with(STALE_LINE_END), "{line}");
    // The session may put but not read.
    let read = aws(&cli, &session, &["s3api", "list-objects-v2", "--bucket", BUCKET]).await;
    assert_eq!((read.error_code(), read.error_message()), (Some("AccessDenied"), Some("Access Denied")), "{read:?}");

    backend.emulator().unwrap().clock().advance(Duration::from_secs(2 * 3600));
    let expired = aws(&cli, &session, &["s3", "cp", &file, &target]).await;
    assert_eq!(
        (expired.error_code(), expired.error_message()),
        (Some("ExpiredToken"), Some("The provided token has expired.")),
        "{expired:?}"
    );
}
