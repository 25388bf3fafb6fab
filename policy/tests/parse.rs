//! Parsing: accepted shapes and AWS's exact MalformedPolicyDocument texts.

use rstest::rstest;
use wana_policy::{
    ActionBlock, AwsPrincipal, BaseOperator, Effect, Policy, PolicyError, PolicyKind,
    PrincipalBlock, ResourceBlock, SetQualifier,
};

const IAM_PATH: &str = "IAM resource path must either be \"*\", root, or start with user/, federated-user/, role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/.";

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
// IAM resource paths: the recorded AWS answer to create-policy-version for `*/cdk-...` (quoted
// in a public repository, see parse.rs) reads exactly this; LocalStack's validator, checked
// against AWS by snapshot tests, gives the same text with the full list.
#[case::iam_path_wildcard_type(&identity_doc(r#"{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::111122223333:*/cdk-hnb659fds-*"}"#), IAM_PATH)]
#[case::iam_path_bucket_name(&identity_doc(r#"{"Effect": "Allow", "Action": "iam:GetRole", "Resource": "arn:aws:iam::111122223333:my-role"}"#), IAM_PATH)]
#[case::iam_path_empty(&identity_doc(r#"{"Effect": "Allow", "Action": "iam:GetRole", "Resource": "arn:aws:iam::111122223333:"}"#), IAM_PATH)]
#[case::iam_path_in_not_resource(&identity_doc(r#"{"Effect": "Deny", "Action": "iam:*", "NotResource": "arn:aws:iam::*:roles/x"}"#), IAM_PATH)]
// moto and LocalStack: S3 bucket and object ARNs stay global.
#[case::s3_bucket_region(&identity_doc(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:us-east-1::bucket"}"#), "Resource arn:aws:s3:us-east-1::bucket can not contain region information.")]
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

/// Documents AWS stores that wana used to refuse (issue 13).
#[rstest]
// Condition keys without a vendor prefix: IAM stores them (issue 13's measurement against AWS;
// moto's and LocalStack's validators, written against IAM, check vendors on actions only).
#[case::condition_key_without_vendor(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": {"username": "bob"}}}"#)]
// Date values: IAM User Guide, "Condition operators": "the W3C implementation of the ISO 8601
// date formats" (https://www.w3.org/TR/NOTE-datetime: YYYY-MM, offsets); signed years and a
// lower-case `t` from issue 13's AWS-derived cases.
#[case::date_year_month(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2024-06"}}}"#)]
#[case::date_offset(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"DateLessThan": {"aws:CurrentTime": "2024-06-01T12:00+09:00"}}}"#)]
#[case::date_signed_year(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"DateLessThan": {"aws:CurrentTime": "+2030-01-01T00:00:00Z"}}}"#)]
#[case::date_lower_case_t(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"DateLessThan": {"aws:CurrentTime": "2030-01-01t00:00:00z"}}}"#)]
// S3 access points are regional (S3 User Guide, "Configuring IAM policies for using access
// points": `arn:aws:s3:us-west-2:123456789012:accesspoint/my-access-point`).
#[case::s3_access_point_with_region(r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:us-west-2:123456789012:accesspoint/my-access-point/object/*"}"#)]
// IAM resource types and the two other forms IAM's message names.
#[case::iam_root(r#"{"Effect": "Allow", "Action": "iam:*", "Resource": "arn:aws:iam::111122223333:root"}"#)]
#[case::iam_star(r#"{"Effect": "Allow", "Action": "iam:*", "Resource": "arn:aws:iam::*:*"}"#)]
#[case::iam_user_variable(r#"{"Effect": "Allow", "Action": "iam:*", "Resource": "arn:aws:iam::111122223333:user/${aws:username}"}"#)]
#[case::iam_account_variable(r#"{"Effect": "Allow", "Action": "iam:*", "Resource": "arn:aws:iam::${aws:PrincipalAccount}:role/x"}"#)]
#[case::iam_managed_policy(r#"{"Effect": "Allow", "Action": "iam:AttachRolePolicy", "Resource": "arn:aws:iam::aws:policy/ReadOnlyAccess"}"#)]
#[case::iam_oidc_provider(r#"{"Effect": "Allow", "Action": "iam:*", "Resource": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}"#)]
fn documents_aws_stores(#[case] statement: &str) {
    let json = identity_doc(statement);
    if let Err(error) = Policy::parse(&json, PolicyKind::Identity) {
        panic!("refused: {error} ({})", error.detail());
    }
    Policy::parse_managed(&json).expect("and as a managed policy");
}

#[test]
fn managed_policies_report_a_missing_version_before_anything_else() {
    // LocalStack's validator (snapshot-tested against IAM): syntax, then the version, then
    // legacy parsing, presence rules, Sids, actions and resource formats. Issue 13 measured the
    // same order on AWS: the version text comes first.
    let no_version_no_resource = r#"{"Statement": {"Effect": "Allow", "Action": "s3:*"}}"#;
    assert_eq!(
        Policy::parse_managed(no_version_no_resource)
            .unwrap_err()
            .to_string(),
        "Policy document must be version 2012-10-17 or greater."
    );
    let legacy_and_bad_arn = r#"{"Version": "2008-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "bucket"}}"#;
    assert_eq!(
        Policy::parse_managed(legacy_and_bad_arn)
            .unwrap_err()
            .to_string(),
        "Policy document must be version 2012-10-17 or greater."
    );
    // Syntax still comes first.
    assert_eq!(
        Policy::parse_managed(r#"{"Statement": []}"#)
            .unwrap_err()
            .to_string(),
        "Syntax errors in policy."
    );
    // Inline policies may still omit Version.
    assert!(Policy::parse(
        r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#,
        PolicyKind::Identity
    )
    .is_ok());
}

#[rstest]
// Text that is not JSON: the CreateRole answer quoted in issue 13 and reproduced by versitygw's
// IAM trust-policy parser ("This policy contains invalid Json").
#[case::not_json(r#"{"Version": "2012-10-17", "Statement": "#, "This policy contains invalid Json")]
// IAM's CreateRole answer (issue 13; versitygw's and LocalStack's emulators use the same text).
#[case::identity_action(r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "s3:GetObject"}}"#, "AssumeRole policy may only specify STS AssumeRole actions.")]
#[case::everything(r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*"}}"#, "AssumeRole policy may only specify STS AssumeRole actions.")]
#[case::sts_wildcard(r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:*"}}"#, "AssumeRole policy may only specify STS AssumeRole actions.")]
#[case::other_sts_action(r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["sts:AssumeRole", "sts:GetCallerIdentity"]}}"#, "AssumeRole policy may only specify STS AssumeRole actions.")]
#[case::not_action(r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Principal": {"AWS": "*"}, "NotAction": "iam:*"}}"#, "AssumeRole policy may only specify STS AssumeRole actions.")]
fn trust_policy_errors(#[case] json: &str, #[case] expected: &str) {
    let error = Policy::parse_trust_policy(json).expect_err("must be refused");
    assert_eq!(error.to_string(), expected, "detail: {}", error.detail());
}

#[test]
fn trust_policies_take_every_assume_role_action() {
    let json = r#"{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity", "sts:SetContext"]},
        {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::111122223333:saml-provider/idp"}, "Action": "sts:AssumeRoleWithSAML"},
        {"Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"}, "Action": "STS:assumerolewithwebidentity"}]}"#;
    let policy = Policy::parse_trust_policy(json).expect("valid trust policy");
    assert_eq!(policy.statements.len(), 3);
    // Identity and bucket policies are not held to the STS-only rule.
    assert!(Policy::parse(
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}}"#,
        PolicyKind::Resource
    )
    .is_ok());
    // JSON errors elsewhere keep the generic text.
    assert_eq!(
        Policy::parse("{", PolicyKind::Resource)
            .unwrap_err()
            .to_string(),
        "Syntax errors in policy."
    );
}

#[test]
fn condition_keys_without_a_vendor_never_match() {
    use wana_policy::{evaluate, EvaluationInput, NamedPolicy, PrincipalInfo, RequestContext};
    // Issue 13: AWS stores the key and never matches it, so a positive operator never holds and
    // a negated one always does (IAM User Guide, "Condition operators": a missing key makes
    // StringNotEquals true).
    let policy = |operator: &str| {
        NamedPolicy::new(
            "p",
            Policy::parse(
                &identity_doc(&format!(
                    r#"{{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {{"{operator}": {{"username": "bob"}}}}}}"#
                )),
                PolicyKind::Identity,
            )
            .unwrap(),
        )
    };
    let context = RequestContext::new(
        PrincipalInfo::user("111122223333", "arn:aws:iam::111122223333:user/bob"),
        "s3:GetObject",
        "arn:aws:s3:::b/k",
    )
    .with_key("username", "bob");
    let decide = |operator: &str| {
        let policies = [policy(operator)];
        evaluate(
            &context,
            &EvaluationInput {
                identity_policies: &policies,
                ..EvaluationInput::default()
            },
        )
        .is_allowed()
    };
    assert!(!decide("StringEquals"));
    assert!(decide("StringNotEquals"));
}
