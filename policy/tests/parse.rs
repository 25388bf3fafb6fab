//! Parsing: accepted shapes and AWS's exact MalformedPolicyDocument texts.

use rstest::rstest;
use wana_policy::{
    ActionBlock, AwsPrincipal, BaseOperator, Effect, Policy, PolicyError, PolicyKind,
    PrincipalBlock, ResourceBlock, SetQualifier,
};

fn identity_doc(statement: &str) -> String {
    format!(r#"{{"Version": "2012-10-17", "Statement": [{statement}]}}"#)
}

#[rstest]
#[case::not_json("{", "Syntax errors in policy.")]
#[case::not_an_object("[]", "Syntax errors in policy.")]
#[case::unknown_top_level(
    r#"{"Version": "2012-10-17", "Statment": []}"#,
    "Syntax errors in policy."
)]
#[case::bad_version(r#"{"Version": "2012-10-18", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#, "Syntax errors in policy.")]
#[case::missing_statement(r#"{"Version": "2012-10-17"}"#, "Syntax errors in policy.")]
#[case::empty_statement(
    r#"{"Version": "2012-10-17", "Statement": []}"#,
    "Syntax errors in policy."
)]
#[case::statement_not_object(
    r#"{"Version": "2012-10-17", "Statement": ["s3:*"]}"#,
    "Syntax errors in policy."
)]
#[case::unknown_statement_field(&identity_doc(r#"{"Effect": "Allow", "Actions": "s3:*", "Resource": "*"}"#), "Syntax errors in policy.")]
#[case::missing_effect(&identity_doc(r#"{"Action": "s3:*", "Resource": "*"}"#), "Syntax errors in policy.")]
#[case::bad_effect(&identity_doc(r#"{"Effect": "Permit", "Action": "s3:*", "Resource": "*"}"#), "Syntax errors in policy.")]
#[case::lowercase_effect(&identity_doc(r#"{"Effect": "allow", "Action": "s3:*", "Resource": "*"}"#), "The policy failed legacy parsing")]
#[case::action_and_not_action(&identity_doc(r#"{"Effect": "Allow", "Action": "s3:*", "NotAction": "iam:*", "Resource": "*"}"#), "Syntax errors in policy.")]
#[case::resource_and_not_resource(&identity_doc(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "NotResource": "*"}"#), "Syntax errors in policy.")]
#[case::action_not_string(&identity_doc(r#"{"Effect": "Allow", "Action": 5, "Resource": "*"}"#), "Syntax errors in policy.")]
#[case::unknown_operator(&identity_doc(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEqual": {"aws:username": "bob"}}}"#), "Syntax errors in policy.")]
#[case::condition_without_operator(&identity_doc(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"aws:username": "bob"}}"#), "Syntax errors in policy.")]
#[case::bad_date(&identity_doc(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"DateLessThan": {"aws:CurrentTime": "tomorrow"}}}"#), "The policy failed legacy parsing")]
#[case::short_arn(&identity_doc(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3::bucket"}"#), "The policy failed legacy parsing")]
#[case::principal_in_identity(&identity_doc(r#"{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}"#), "Policy document should not specify a principal.")]
#[case::duplicate_sid(&identity_doc(r#"{"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}, {"Sid": "A", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}"#), "Statement IDs (SID) in a single policy must be unique.")]
#[case::missing_action(&identity_doc(r#"{"Effect": "Allow", "Resource": "*"}"#), "Policy statement must contain actions.")]
#[case::empty_action(&identity_doc(r#"{"Effect": "Allow", "Action": [], "Resource": "*"}"#), "Policy statement must contain actions.")]
#[case::missing_resource(&identity_doc(r#"{"Effect": "Allow", "Action": "s3:*"}"#), "Policy statement must contain resources.")]
#[case::resource_not_arn(&identity_doc(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "my-bucket"}"#), "Resource my-bucket must be in ARN format or \"*\".")]
#[case::empty_resource_string(&identity_doc(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": ""}"#), "Resource  must be in ARN format or \"*\".")]
#[case::bad_partition(&identity_doc(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:amazon:s3:::b"}"#), "Partition \"amazon\" is not valid for resource \"arn:amazon:s3:::b\".")]
#[case::vendor_missing_in_resource(&identity_doc(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws"}"#), "Resource vendor must be fully qualified and cannot contain regexes.")]
#[case::iam_region(&identity_doc(r#"{"Effect": "Allow", "Action": "iam:*", "Resource": "arn:aws:iam:us-east-1:111122223333:user/x"}"#), "IAM resource arn:aws:iam:us-east-1:111122223333:user/x cannot contain region information.")]
#[case::action_without_vendor(&identity_doc(r#"{"Effect": "Allow", "Action": "CreateUser", "Resource": "*"}"#), "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")]
#[case::action_two_colons(&identity_doc(r#"{"Effect": "Allow", "Action": "iam:Create:User", "Resource": "*"}"#), "Actions/Condition can contain only one colon.")]
#[case::bad_vendor(&identity_doc(r#"{"Effect": "Allow", "Action": "i am:CreateUser", "Resource": "*"}"#), "Vendor i am is not valid")]
#[case::condition_key_without_vendor(&identity_doc(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": {"username": "bob"}}}"#), "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")]
fn identity_policy_errors(#[case] json: &str, #[case] expected: &str) {
    let error = Policy::parse(json, PolicyKind::Identity).expect_err("must be refused");
    assert_eq!(error.to_string(), expected, "detail: {}", error.detail());
    assert!(!error.detail().is_empty());
}

#[rstest]
#[case::missing_principal(r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#, "Missing required field Principal")]
#[case::both_principals(r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "NotPrincipal": "*", "Action": "s3:*"}}"#, "Syntax errors in policy.")]
#[case::bad_principal_type(r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"User": "bob"}, "Action": "s3:*"}}"#, "Syntax errors in policy.")]
#[case::bare_principal_arn(r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "arn:aws:iam::111122223333:root", "Action": "s3:*"}}"#, "Syntax errors in policy.")]
#[case::explicit_empty_resource(r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": []}}"#, "Policy statement must contain resources.")]
fn resource_policy_errors(#[case] json: &str, #[case] expected: &str) {
    let error = Policy::parse(json, PolicyKind::Resource).expect_err("must be refused");
    assert_eq!(error.to_string(), expected, "detail: {}", error.detail());
}

#[test]
fn trust_policies_refuse_resources() {
    let json = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
        "Action": "sts:AssumeRole", "Resource": "*"}}"#;
    assert_eq!(
        Policy::parse_trust_policy(json).unwrap_err().to_string(),
        "Has prohibited field Resource"
    );
    assert!(Policy::parse(json, PolicyKind::Resource).is_ok());
}

#[test]
fn managed_policies_need_the_current_version() {
    let legacy = Policy::parse(
        r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#,
        PolicyKind::Identity,
    )
    .expect("inline policies may omit Version");
    assert_eq!(
        legacy.require_current_version().unwrap_err().to_string(),
        "Policy document must be version 2012-10-17 or greater."
    );
    let current = Policy::parse(
        &identity_doc(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}"#),
        PolicyKind::Identity,
    )
    .unwrap();
    assert!(current.require_current_version().is_ok());
}

#[test]
fn single_statement_object_and_string_forms() {
    let policy = Policy::parse(
        r#"{"Version": "2008-10-17", "Id": "x", "Statement": {"Sid": "One", "Effect": "Deny", "NotAction": "iam:*", "NotResource": "arn:aws:iam::*:role/*"}}"#,
        PolicyKind::Identity,
    )
    .unwrap();
    assert_eq!(policy.version.as_deref(), Some("2008-10-17"));
    assert_eq!(policy.id.as_deref(), Some("x"));
    let statement = &policy.statements[0];
    assert_eq!(statement.sid.as_deref(), Some("One"));
    assert_eq!(statement.effect, Effect::Deny);
    assert!(
        matches!(&statement.action, ActionBlock::NotAction(p) if p.len() == 1 && p[0].as_str() == "iam:*")
    );
    assert!(
        matches!(&statement.resource, Some(ResourceBlock::NotResource(p)) if p[0].as_str() == "arn:aws:iam::*:role/*")
    );
}

#[test]
fn principal_forms() {
    let policy = Policy::parse(
        r#"{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Allow", "Principal": {"AWS": ["111122223333", "arn:aws:iam::444455556666:root", "arn:aws:iam::444455556666:role/R", "*"],
                                              "Service": "ec2.amazonaws.com", "Federated": "cognito-identity.amazonaws.com",
                                              "CanonicalUser": "abc"},
             "Action": "s3:*"},
            {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:user/bob"}, "Action": "s3:*"}]}"#,
        PolicyKind::Resource,
    )
    .unwrap();
    let PrincipalBlock::Principal(star) = policy.statements[0].principal.as_ref().unwrap() else {
        panic!()
    };
    assert!(star.everyone);
    let PrincipalBlock::Principal(mixed) = policy.statements[1].principal.as_ref().unwrap() else {
        panic!()
    };
    assert!(mixed.everyone);
    assert_eq!(
        mixed.aws,
        vec![
            AwsPrincipal::Account("111122223333".into()),
            AwsPrincipal::Account("444455556666".into()),
            AwsPrincipal::Arn("arn:aws:iam::444455556666:role/R".into()),
        ]
    );
    assert_eq!(mixed.services, vec!["ec2.amazonaws.com".to_string()]);
    assert_eq!(mixed.federated.len(), 1);
    assert_eq!(mixed.canonical_users.len(), 1);
    assert!(policy.statements[1].resource.is_none());
    assert!(matches!(
        policy.statements[2].principal,
        Some(PrincipalBlock::NotPrincipal(_))
    ));
}

#[test]
fn condition_values_may_be_booleans_numbers_and_lists() {
    let policy = Policy::parse(
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:CreateGrant",
            "Resource": "*", "Condition": {
                "Bool": {"kms:GrantIsForAWSResource": true},
                "NumericLessThanEquals": {"s3:max-keys": [10, 2.5]},
                "ForAnyValue:StringLikeIfExists": {"kms:EncryptionContextKeys": ["Dept", "Team*"], "aws:TagKeys": "x"},
                "SomeFutureOperator": {}}}}"#,
        PolicyKind::Resource,
    )
    .unwrap();
    let conditions = &policy.statements[0].conditions;
    assert_eq!(
        conditions.len(),
        4,
        "one per operator and key; the empty unknown operator is ignored"
    );
    assert_eq!(conditions[0].operator.base, BaseOperator::Bool);
    assert_eq!(conditions[0].values[0].as_str(), "true");
    assert_eq!(
        conditions[1]
            .values
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>(),
        vec!["10", "2.5"]
    );
    assert_eq!(
        conditions[2].operator.qualifier,
        Some(SetQualifier::ForAnyValue)
    );
    assert!(conditions[2].operator.if_exists);
    assert_eq!(conditions[3].key, "aws:TagKeys");
}

#[test]
fn condition_keys_with_several_colons_are_valid() {
    let json = identity_doc(
        r#"{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
            "Condition": {"StringEquals": {"kms:EncryptionContext:Dept": "IT"}}}"#,
    );
    assert!(Policy::parse(&json, PolicyKind::Identity).is_ok());
}

#[test]
fn errors_compare_by_kind() {
    let error = Policy::parse("nope", PolicyKind::Identity).unwrap_err();
    assert!(matches!(error, PolicyError::Syntax { .. }));
    assert!(
        error.detail().starts_with("invalid JSON"),
        "{}",
        error.detail()
    );
}
