//! IAM's policy simulator, permissions boundaries, session policies and AWS Organizations through
//! the real AWS CLI (awscli 1.46.3) against an in-process emulator: `aws iam
//! simulate-custom-policy` answers the CLI's own documented example word for word, `aws iam
//! simulate-principal-policy` sees a user's policies, its boundary and its organization's SCPs,
//! and `aws organizations` speaks awsJson 1.1.

use serde_json::{json, Value};
use wana_emulator::BehaviourProfile;
use wana_harness::{AwsCli, Backend, CliCredentials, CliOutput, Principal};

/// The policy of the CLI's `simulate-custom-policy` example (awscli/examples/iam).
const CLI_EXAMPLE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}"#;
const LIST_REPOSITORIES: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"codecommit:ListRepositories","Resource":"*"}]}"#;
const ONLY_CODECOMMIT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"codecommit:*","Resource":"*"}]}"#;
const DENY_DELETE_BUCKET: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}"#;
const USER: &str = "arn:aws:iam::111111111111:user/alejandro";

async fn aws(cli: &AwsCli, creds: &CliCredentials, args: &[&str]) -> CliOutput {
    let output = cli.run(creds, args).await.expect("the CLI runs");
    assert!(output.success(), "aws {}: {output:?}", args.join(" "));
    output
}

async fn aws_json(cli: &AwsCli, creds: &CliCredentials, args: &[&str]) -> Value {
    aws(cli, creds, args).await.json().expect("JSON output")
}

#[tokio::test]
async fn the_simulator_through_the_aws_cli() {
    let cli = AwsCli::locate().expect("the AWS CLI is part of the test setup");
    let backend = Backend::start_emulator(BehaviourProfile::Current).await.expect("emulator starts");
    let a = Principal::account_admin(&backend, "a").unwrap().cli_credentials();

    // The CLI's example, answered exactly as its documentation shows (the CLI drops the
    // pagination members).
    #[rustfmt::skip]
    let answer = aws_json(&cli, &a, &[
        "iam", "simulate-custom-policy",
        "--policy-input-list", CLI_EXAMPLE,
        "--action-names", "dynamodb:CreateBackup",
        "--context-entries", "ContextKeyName='aws:CurrentTime',ContextKeyValues='2019-04-25T11:00:00Z',ContextKeyType=date",
    ]).await;
    assert_eq!(
        answer,
        json!({"EvaluationResults": [{
            "EvalActionName": "dynamodb:CreateBackup",
            "EvalResourceName": "*",
            "EvalDecision": "allowed",
            "MatchedStatements": [{
                "SourcePolicyId": "PolicyInputList.1",
                "StartPosition": {"Line": 1, "Column": 38},
                "EndPosition": {"Line": 1, "Column": 167}
            }],
            "MissingContextValues": []
        }]})
    );

    // A user's inline policy, then its permissions boundary.
    aws(&cli, &a, &["iam", "create-user", "--user-name", "alejandro"]).await;
    #[rustfmt::skip]
    aws(&cli, &a, &[
        "iam", "put-user-policy", "--user-name", "alejandro",
        "--policy-name", "Grant-Access-To-CodeCommit-ListRepo", "--policy-document", LIST_REPOSITORIES,
    ]).await;
    let simulate = ["iam", "simulate-principal-policy", "--policy-source-arn", USER, "--action-names", "codecommit:ListRepositories"];
    let answer = aws_json(&cli, &a, &simulate).await;
    let result = &answer["EvaluationResults"][0];
    assert_eq!(result["EvalDecision"], "allowed");
    assert_eq!(result["MatchedStatements"][0]["SourcePolicyId"], "Grant-Access-To-CodeCommit-ListRepo");
    assert_eq!(result["MatchedStatements"][0]["StartPosition"], json!({"Line": 1, "Column": 39}));
    assert!(result.get("PermissionsBoundaryDecisionDetail").is_none());

    let boundary = aws_json(&cli, &a, &["iam", "create-policy", "--policy-name", "Edge", "--policy-document", ONLY_CODECOMMIT]).await;
    let boundary_arn = boundary["Policy"]["Arn"].as_str().unwrap().to_string();
    aws(&cli, &a, &["iam", "put-user-permissions-boundary", "--user-name", "alejandro", "--permissions-boundary", &boundary_arn]).await;
    let user = aws_json(&cli, &a, &["iam", "get-user", "--user-name", "alejandro"]).await;
    assert_eq!(
        user["User"]["PermissionsBoundary"],
        json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary_arn})
    );
    aws(&cli, &a, &["iam", "attach-user-policy", "--user-name", "alejandro", "--policy-arn", "arn:aws:iam::aws:policy/AdministratorAccess"]).await;
    #[rustfmt::skip]
    let answer = aws_json(&cli, &a, &[
        "iam", "simulate-principal-policy", "--policy-source-arn", USER,
        "--action-names", "codecommit:ListRepositories", "iam:CreateUser",
    ]).await;
    let [list, create] = answer["EvaluationResults"].as_array().unwrap().as_slice() else { panic!("two results") };
    assert_eq!(list["EvalDecision"], "allowed");
    assert_eq!(list["PermissionsBoundaryDecisionDetail"], json!({"AllowedByPermissionsBoundary": true}));
    assert_eq!(create["EvalDecision"], "implicitDeny");
    assert_eq!(create["PermissionsBoundaryDecisionDetail"], json!({"AllowedByPermissionsBoundary": false}));
}

#[tokio::test]
async fn an_organizations_scp_through_the_aws_cli() {
    let cli = AwsCli::locate().expect("the AWS CLI is part of the test setup");
    let backend = Backend::start_emulator(BehaviourProfile::Current).await.expect("emulator starts");
    let a = Principal::account_admin(&backend, "a").unwrap().cli_credentials();
    let b = Principal::account_admin(&backend, "b").unwrap().cli_credentials();

    let not_in_use = cli.run(&b, &["organizations", "describe-organization"]).await.unwrap();
    assert_eq!(not_in_use.error_code(), Some("AWSOrganizationsNotInUseException"));
    let created = aws_json(&cli, &a, &["organizations", "create-organization"]).await;
    assert_eq!(created["Organization"]["MasterAccountId"], "111111111111");
    let accounts = aws_json(&cli, &a, &["organizations", "list-accounts"]).await;
    let ids: Vec<&str> = accounts["Accounts"].as_array().unwrap().iter().map(|a| a["Id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["111111111111", "222222222222", "333333333333"]);
    let roots = aws_json(&cli, &a, &["organizations", "list-roots"]).await;
    let root = roots["Roots"][0]["Id"].as_str().unwrap().to_string();
    aws(&cli, &a, &["organizations", "enable-policy-type", "--root-id", &root, "--policy-type", "SERVICE_CONTROL_POLICY"]).await;
    #[rustfmt::skip]
    let policy = aws_json(&cli, &a, &[
        "organizations", "create-policy", "--name", "NoDeleteBucket", "--description", "keep the buckets",
        "--type", "SERVICE_CONTROL_POLICY", "--content", DENY_DELETE_BUCKET,
    ]).await;
    let policy_id = policy["Policy"]["PolicySummary"]["Id"].as_str().unwrap().to_string();
    aws(&cli, &a, &["organizations", "attach-policy", "--policy-id", &policy_id, "--target-id", "222222222222"]).await;
    let duplicate = cli.run(&a, &["organizations", "attach-policy", "--policy-id", &policy_id, "--target-id", "222222222222"]).await.unwrap();
    assert_eq!(duplicate.error_code(), Some("DuplicatePolicyAttachmentException"));
    let last = cli.run(&a, &["organizations", "detach-policy", "--policy-id", "p-FullAWSAccess", "--target-id", "333333333333"]).await.unwrap();
    assert_eq!(last.error_code(), Some("ConstraintViolationException"));
    #[rustfmt::skip]
    let attached = aws_json(&cli, &a, &[
        "organizations", "list-policies-for-target", "--target-id", "222222222222", "--filter", "SERVICE_CONTROL_POLICY",
    ]).await;
    let names: Vec<&str> = attached["Policies"].as_array().unwrap().iter().map(|p| p["Name"].as_str().unwrap()).collect();
    assert_eq!(names, ["FullAWSAccess", "NoDeleteBucket"]);

    // Account b's administrator, simulated and for real.
    #[rustfmt::skip]
    let answer = aws_json(&cli, &b, &[
        "iam", "simulate-principal-policy", "--policy-source-arn", "arn:aws:iam::222222222222:user/admin",
        "--action-names", "s3:DeleteBucket",
    ]).await;
    let result = &answer["EvaluationResults"][0];
    assert_eq!(result["EvalDecision"], "explicitDeny");
    assert_eq!(result["OrganizationsDecisionDetail"], json!({"AllowedByOrganizations": false}));
    aws(&cli, &b, &["s3", "mb", "s3://kept-by-the-scp"]).await;
    let refused = cli.run(&b, &["s3api", "delete-bucket", "--bucket", "kept-by-the-scp"]).await.unwrap();
    assert_eq!(refused.error_code(), Some("AccessDenied"), "{refused:?}");
}

#[tokio::test]
async fn a_session_policy_through_the_aws_cli() {
    let cli = AwsCli::locate().expect("the AWS CLI is part of the test setup");
    let backend = Backend::start_emulator(BehaviourProfile::Current).await.expect("emulator starts");
    let a = Principal::account_admin(&backend, "a").unwrap().cli_credentials();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}"#;
    aws(&cli, &a, &["iam", "create-role", "--role-name", "Ops", "--assume-role-policy-document", trust]).await;
    aws(&cli, &a, &["iam", "attach-role-policy", "--role-name", "Ops", "--policy-arn", "arn:aws:iam::aws:policy/AdministratorAccess"]).await;
    #[rustfmt::skip]
    let session = aws_json(&cli, &a, &[
        "sts", "assume-role", "--role-arn", "arn:aws:iam::111111111111:role/Ops", "--role-session-name", "scoped",
        "--policy", ONLY_CODECOMMIT,
    ]).await;
    // 96 characters of 2048: 4.7%, rounded up.
    assert_eq!(session["PackedPolicySize"], 5);
    let credentials = &session["Credentials"];
    let scoped = CliCredentials {
        access_key_id: credentials["AccessKeyId"].as_str().unwrap().to_string(),
        secret_access_key: credentials["SecretAccessKey"].as_str().unwrap().to_string(),
        session_token: credentials["SessionToken"].as_str().map(str::to_string),
        ..a.clone()
    };
    let refused = cli.run(&scoped, &["iam", "list-users"]).await.unwrap();
    assert_eq!(refused.error_code(), Some("AccessDenied"));
    assert_eq!(
        refused.error_message(),
        Some(
            "User: arn:aws:sts::111111111111:assumed-role/Ops/scoped is not authorized to perform: iam:ListUsers on \
             resource: arn:aws:iam::111111111111:user/ because no session policy allows the iam:ListUsers action"
        )
    );
}
