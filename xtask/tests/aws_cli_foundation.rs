//! The workshop flow with the real AWS CLI: start `cargo xtask emulator`, apply the exports of
//! `--print-env a`, and poke at STS and IAM the way a participant would.
//!
//! The CLI comes from `.venv` (installed by `cargo xtask test`); without it these tests fail.

mod common;

use common::{cli, ok, print_env, start_emulator};
use wana_harness::{AwsCli, CliCredentials, CliOutput};

async fn fails(cli: &AwsCli, creds: &CliCredentials, args: &[&str]) -> CliOutput {
    let out = cli.run(creds, args).await.unwrap();
    assert!(!out.success(), "aws {args:?} should fail: {}", out.stdout);
    out
}

#[tokio::test]
async fn workshop_flow_with_the_real_aws_cli() {
    let emulator = start_emulator(&[]);
    let cli = cli();
    let admin = print_env("a", emulator.port);

    let me = ok(&cli, &admin, &["sts", "get-caller-identity"]).await;
    assert_eq!(me["Account"], "111111111111");
    assert_eq!(me["Arn"], "arn:aws:iam::111111111111:user/admin");

    // A new user with a key of its own is denied until a policy is attached.
    let created = ok(&cli, &admin, &["iam", "create-user", "--user-name", "dana"]).await;
    assert_eq!(created["User"]["Arn"], "arn:aws:iam::111111111111:user/dana");
    let key = ok(&cli, &admin, &["iam", "create-access-key", "--user-name", "dana"]).await;
    let dana = CliCredentials {
        access_key_id: key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_string(),
        secret_access_key: key["AccessKey"]["SecretAccessKey"].as_str().unwrap().to_string(),
        ..admin.clone()
    };
    let denied = fails(&cli, &dana, &["iam", "list-users"]).await;
    assert_eq!(denied.error_code(), Some("AccessDenied"));
    assert_eq!(denied.error_operation(), Some("ListUsers"));
    assert_eq!(
        denied.error_message(),
        Some("User: arn:aws:iam::111111111111:user/dana is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::111111111111:user/ because no identity-based policy allows the iam:ListUsers action")
    );
    ok(
        &cli,
        &admin,
        &["iam", "attach-user-policy", "--user-name", "dana", "--policy-arn", "arn:aws:iam::aws:policy/ReadOnlyAccess"],
    )
    .await;
    let users = ok(&cli, &dana, &["iam", "list-users"]).await;
    let names: Vec<&str> = users["Users"].as_array().unwrap().iter().map(|u| u["UserName"].as_str().unwrap()).collect();
    assert_eq!(names, ["admin", "dana"]);

    // Bad credentials.
    let bogus = CliCredentials { access_key_id: "AKIAWANABOGUS0000000".to_string(), ..admin.clone() };
    let out = fails(&cli, &bogus, &["sts", "get-caller-identity"]).await;
    assert_eq!(out.error_code(), Some("InvalidClientTokenId"));
    assert_eq!(out.error_message(), Some("The security token included in the request is invalid."));
    let wrong_secret = CliCredentials { secret_access_key: "wrong".repeat(8), ..admin.clone() };
    let out = fails(&cli, &wrong_secret, &["iam", "list-users"]).await;
    assert_eq!(out.error_code(), Some("SignatureDoesNotMatch"));

    // Role assumption follows the trust policy.
    let trust_dana = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/dana"},"Action":"sts:AssumeRole"}]}"#;
    let trust_ec2 = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    ok(&cli, &admin, &["iam", "create-role", "--role-name", "Ec2Role", "--assume-role-policy-document", trust_ec2]).await;
    ok(&cli, &admin, &["iam", "create-role", "--role-name", "DanaRole", "--assume-role-policy-document", trust_dana])
        .await;
    ok(
        &cli,
        &admin,
        &["iam", "attach-role-policy", "--role-name", "DanaRole", "--policy-arn", "arn:aws:iam::aws:policy/PowerUserAccess"],
    )
    .await;
    let role = ok(&cli, &admin, &["iam", "get-role", "--role-name", "DanaRole"]).await;
    // botocore decodes the URL-encoded document back into JSON.
    assert_eq!(role["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"], "arn:aws:iam::111111111111:user/dana");

    let out = fails(
        &cli,
        &dana,
        &["sts", "assume-role", "--role-arn", "arn:aws:iam::111111111111:role/Ec2Role", "--role-session-name", "s1"],
    )
    .await;
    assert_eq!(out.error_code(), Some("AccessDenied"));
    assert_eq!(
        out.error_message(),
        Some("User: arn:aws:iam::111111111111:user/dana is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/Ec2Role")
    );
    let session = ok(
        &cli,
        &dana,
        &["sts", "assume-role", "--role-arn", "arn:aws:iam::111111111111:role/DanaRole", "--role-session-name", "s1"],
    )
    .await;
    let session_creds = CliCredentials {
        access_key_id: session["Credentials"]["AccessKeyId"].as_str().unwrap().to_string(),
        secret_access_key: session["Credentials"]["SecretAccessKey"].as_str().unwrap().to_string(),
        session_token: Some(session["Credentials"]["SessionToken"].as_str().unwrap().to_string()),
        ..admin.clone()
    };
    assert!(session_creds.access_key_id.starts_with("ASIA"));
    let me = ok(&cli, &session_creds, &["sts", "get-caller-identity"]).await;
    assert_eq!(me["Arn"], "arn:aws:sts::111111111111:assumed-role/DanaRole/s1");
    // PowerUserAccess: no IAM user management.
    let out = fails(&cli, &session_creds, &["iam", "create-user", "--user-name", "eve"]).await;
    assert_eq!(out.error_code(), Some("AccessDenied"));
    // Dropping the session token makes the temporary key unknown.
    let tokenless = CliCredentials { session_token: None, ..session_creds.clone() };
    let out = fails(&cli, &tokenless, &["sts", "get-caller-identity"]).await;
    assert_eq!(out.error_code(), Some("InvalidClientTokenId"));
}

#[tokio::test]
async fn malformed_policies_and_unknown_operations_get_aws_errors_in_the_cli() {
    let emulator = start_emulator(&["--profile", "legacy-2016"]);
    let cli = cli();
    let admin = print_env("b", emulator.port);
    let me = ok(&cli, &admin, &["sts", "get-caller-identity"]).await;
    assert_eq!(me["Account"], "222222222222");

    let out = fails(
        &cli,
        &admin,
        &["iam", "create-policy", "--policy-name", "Bad", "--policy-document", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}"#],
    )
    .await;
    assert_eq!(out.error_code(), Some("MalformedPolicyDocument"), "{}", out.stderr);

    let out = fails(
        &cli,
        &admin,
        &["iam", "put-user-policy", "--user-name", "admin", "--policy-name", "P", "--policy-document", "[1,2"],
    )
    .await;
    assert_eq!(out.error_code(), Some("MalformedPolicyDocument"), "{}", out.stderr);

    // A service the emulator does not have yet still answers in its own protocol.
    let out = fails(&cli, &admin, &["ec2", "describe-vpcs"]).await;
    assert_eq!(out.error_code(), Some("InvalidAction"), "{}", out.stderr);
}
