//! Tests of IAM's policy simulator on the wire: the AWS CLI's own examples, the shape of a
//! recorded AWS answer, every layer (boundaries, SCPs), and what wana evaluates beyond AWS's
//! simulator (a role's trust policy, a key policy).

use std::net::{IpAddr, Ipv4Addr};

use chrono::TimeZone;

use super::*;
use crate::{
    principal::{Caller, CredentialKind},
    profile::BehaviourProfile,
    state::organizations::{FeatureSet, NewPolicy as NewOrgPolicy, PolicyType},
};

const ADMIN_KEY: &str = "AKIAWANAADMINA000001";
const ACCOUNT: &str = "111111111111";
/// The AWS CLI's `simulate-custom-policy` example policy, verbatim.
const CLI_EXAMPLE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}"#;
/// The policy of a recorded AWS answer, as `json.dumps` wrote it.
const PUT_OBJECT: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}}"#;
const ONLY_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
const DENY_DELETE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}"#;
const USER_ARN: &str = "arn:aws:iam::111111111111:user/alejandro";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().expect("valid time")
}

fn world() -> World {
    World::new(BehaviourProfile::default(), now()).with_port(crate::dispatch::pipeline())
}

fn admin(world: &World, key: &str) -> Caller {
    Caller {
        principal: world.principal_of(&world.access_keys[key]).expect("an admin"),
        access_key_id: key.to_string(),
        credential_kind: CredentialKind::LongTerm,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        token_issued: None,
        via_service: None,
    }
}

fn send(world: &mut World, key: &str, action: &str, params: Value) -> Result<Value, AwsError> {
    let caller = admin(world, key);
    let call = Call { caller: &caller, region: "us-east-1", now: now(), action, params: &params };
    handle(world, &call).expect("an operation of IAM")
}

fn run(world: &mut World, action: &str, members: &[(&str, &str)]) -> Value {
    let params = members.iter().fold(Value::structure(), |p, (name, value)| p.with(name, *value));
    send(world, ADMIN_KEY, action, params).unwrap_or_else(|e| panic!("{action}: {e}"))
}

fn list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|i| Value::from(*i)).collect())
}

fn context(key: &str, value: &str, kind: &str) -> Value {
    Value::List(vec![Value::structure()
        .with("ContextKeyName", key)
        .with("ContextKeyValues", list(&[value]))
        .with("ContextKeyType", kind)])
}

fn results(answer: &Value) -> &[Value] {
    answer.get("EvaluationResults").map(Value::as_list).unwrap_or(&[])
}

fn text<'a>(value: &'a Value, member: &str) -> &'a str {
    value.get(member).and_then(Value::as_str).unwrap_or_default()
}

/// `(SourcePolicyId, SourcePolicyType, start, end)` of a matched statement.
type Matched = (String, Option<String>, (i64, i64), (i64, i64));

fn matched(result: &Value) -> Vec<Matched> {
    let at = |p: &Value, m: &str| {
        let p = p.get(m).unwrap();
        (p.get("Line").and_then(Value::as_i64).unwrap(), p.get("Column").and_then(Value::as_i64).unwrap())
    };
    result
        .get("MatchedStatements")
        .map(Value::as_list)
        .unwrap_or(&[])
        .iter()
        .map(|s| {
            (
                text(s, "SourcePolicyId").to_string(),
                s.get("SourcePolicyType").and_then(Value::as_str).map(str::to_string),
                at(s, "StartPosition"),
                at(s, "EndPosition"),
            )
        })
        .collect()
}

fn missing(result: &Value) -> Vec<&str> {
    result.get("MissingContextValues").map(Value::as_list).unwrap_or(&[]).iter().filter_map(Value::as_str).collect()
}

fn detail(result: &Value, member: &str, field: &str) -> Option<bool> {
    result.get(member)?.get(field)?.as_bool()
}

fn custom(world: &mut World, policy: &str, actions: &[&str], extra: Value) -> Value {
    let mut params = Value::structure().with("PolicyInputList", list(&[policy])).with("ActionNames", list(actions));
    for (name, value) in extra.entries() {
        params = params.with(name, value.clone());
    }
    send(world, ADMIN_KEY, "SimulateCustomPolicy", params).unwrap()
}

/// The AWS CLI's two `simulate-custom-policy` examples, answered as the CLI documents.
#[test]
fn the_aws_cli_examples_answer_as_documented() {
    let mut world = world();
    let extra = Value::structure().with("ContextEntries", context("aws:CurrentTime", "2019-04-25T11:00:00Z", "date"));
    let answer = custom(&mut world, CLI_EXAMPLE, &["dynamodb:CreateBackup"], extra);
    let result = &results(&answer)[0];
    assert_eq!(
        (text(result, "EvalActionName"), text(result, "EvalResourceName"), text(result, "EvalDecision")),
        ("dynamodb:CreateBackup", "*", "allowed")
    );
    assert_eq!(matched(result), [("PolicyInputList.1".to_string(), None, (1, 38), (1, 167))]);
    assert!(missing(result).is_empty());
    assert!(result.get("EvalDecisionDetails").is_none() && result.get("ResourceSpecificResults").is_none());

    let extra = Value::structure().with("ContextEntries", context("aws:CurrentTime", "2014-04-25T11:00:00Z", "date"));
    let answer = custom(&mut world, CLI_EXAMPLE, &["dynamodb:CreateBackup"], extra);
    let result = &results(&answer)[0];
    assert_eq!(text(result, "EvalDecision"), "implicitDeny");
    assert!(matched(result).is_empty() && missing(result).is_empty());
}

#[test]
fn a_condition_key_the_request_lacks_is_missing() {
    let mut world = world();
    let answer = custom(&mut world, CLI_EXAMPLE, &["dynamodb:CreateBackup", "s3:GetObject"], Value::structure());
    let [dynamodb, s3] = results(&answer) else { panic!("two results") };
    assert_eq!((text(dynamodb, "EvalDecision"), missing(dynamodb)), ("implicitDeny", vec!["aws:CurrentTime"]));
    // The statement does not cover S3: nothing of it is missing there.
    assert!(missing(s3).is_empty());
}

/// The shape of a recorded AWS answer: a managed policy attached to a user, a bucket named.
#[test]
fn a_principals_policies_are_simulated_as_aws_answers() {
    let mut world = world();
    run(&mut world, "CreateUser", &[("UserName", "alejandro")]);
    let created = run(&mut world, "CreatePolicy", &[("PolicyName", "Put"), ("PolicyDocument", PUT_OBJECT)]);
    let arn = created.get("Policy").map(|p| text(p, "Arn").to_string()).unwrap();
    run(&mut world, "AttachUserPolicy", &[("UserName", "alejandro"), ("PolicyArn", &arn)]);
    let params = Value::structure()
        .with("PolicySourceArn", USER_ARN)
        .with("ActionNames", list(&["s3:PutObject", "s3:GetObjectVersion"]))
        .with("ResourceArns", list(&["arn:aws:s3:::bucket"]));
    let answer = send(&mut world, ADMIN_KEY, "SimulatePrincipalPolicy", params).unwrap();
    let [put, get] = results(&answer) else { panic!("two results") };
    assert_eq!((text(put, "EvalDecision"), text(get, "EvalDecision")), ("allowed", "implicitDeny"));
    assert_eq!(matched(put), [("Put".to_string(), Some("IAM Policy".to_string()), (1, 41), (1, 113))]);
    assert_eq!(put.get("EvalDecisionDetails"), Some(&Value::Map(Vec::new())));
    let specific = &put.get("ResourceSpecificResults").map(Value::as_list).unwrap()[0];
    assert_eq!((text(specific, "EvalResourceName"), text(specific, "EvalResourceDecision")), ("arn:aws:s3:::bucket", "allowed"));
    assert_eq!(matched(specific), matched(put));
    assert!(put.get("OrganizationsDecisionDetail").is_none(), "no organization");
    assert_eq!(answer.get("IsTruncated").and_then(Value::as_bool), Some(false));
}

#[test]
fn an_explicit_deny_names_its_statement() {
    let mut world = world();
    run(&mut world, "CreateUser", &[("UserName", "alejandro")]);
    run(&mut world, "PutUserPolicy", &[("UserName", "alejandro"), ("PolicyName", "NoDelete"), ("PolicyDocument", DENY_DELETE)]);
    let params = Value::structure().with("PolicySourceArn", USER_ARN).with("ActionNames", list(&["s3:DeleteBucket"]));
    let answer = send(&mut world, ADMIN_KEY, "SimulatePrincipalPolicy", params).unwrap();
    let result = &results(&answer)[0];
    assert_eq!(text(result, "EvalDecision"), "explicitDeny");
    assert_eq!(matched(result), [("NoDelete".to_string(), Some("IAM Policy".to_string()), (1, 89), (1, 147))]);
}

#[test]
fn the_permissions_boundary_is_simulated_and_detailed() {
    let mut world = world();
    run(&mut world, "CreatePolicy", &[("PolicyName", "Edge"), ("PolicyDocument", ONLY_S3)]);
    run(&mut world, "CreateUser", &[("UserName", "alejandro"), ("PermissionsBoundary", "arn:aws:iam::111111111111:policy/Edge")]);
    run(&mut world, "AttachUserPolicy", &[("UserName", "alejandro"), ("PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess")]);
    let params = Value::structure().with("PolicySourceArn", USER_ARN).with("ActionNames", list(&["iam:CreateUser", "s3:ListBucket"]));
    let answer = send(&mut world, ADMIN_KEY, "SimulatePrincipalPolicy", params.clone()).unwrap();
    let [iam, s3] = results(&answer) else { panic!("two results") };
    assert_eq!(text(iam, "EvalDecision"), "implicitDeny");
    assert_eq!(detail(iam, "PermissionsBoundaryDecisionDetail", "AllowedByPermissionsBoundary"), Some(false));
    assert_eq!(text(s3, "EvalDecision"), "allowed");
    assert_eq!(detail(s3, "PermissionsBoundaryDecisionDetail", "AllowedByPermissionsBoundary"), Some(true));
    // A boundary given as input replaces the user's.
    let wide = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}"#;
    let answer = send(&mut world, ADMIN_KEY, "SimulatePrincipalPolicy", params.with("PermissionsBoundaryPolicyInputList", list(&[wide]))).unwrap();
    let [iam, s3] = results(&answer) else { panic!("two results") };
    assert_eq!((text(iam, "EvalDecision"), text(s3, "EvalDecision")), ("allowed", "implicitDeny"));
}

#[test]
fn the_organizations_scps_are_simulated_for_a_member() {
    let mut world = world();
    world.create_organization(ACCOUNT, FeatureSet::All, now()).unwrap();
    let suffix = world.ids.lower_suffix("p", 10);
    let org = world.organization.as_mut().unwrap();
    let root = org.root.id.clone();
    org.enable_type(&root, PolicyType::ServiceControl).unwrap();
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}"#;
    let id = org.create_policy(suffix, NewOrgPolicy { name: "NoDelete", description: "", kind: PolicyType::ServiceControl, content: deny }).unwrap().id.clone();
    org.attach_policy(&id, "222222222222").unwrap();
    let params = Value::structure()
        .with("PolicySourceArn", "arn:aws:iam::222222222222:user/admin")
        .with("ActionNames", list(&["s3:DeleteBucket", "s3:ListBucket"]));
    let answer = send(&mut world, "AKIAWANAADMINB000002", "SimulatePrincipalPolicy", params).unwrap();
    let [delete, list_bucket] = results(&answer) else { panic!("two results") };
    assert_eq!(text(delete, "EvalDecision"), "explicitDeny");
    assert_eq!(detail(delete, "OrganizationsDecisionDetail", "AllowedByOrganizations"), Some(false));
    assert_eq!(text(list_bucket, "EvalDecision"), "allowed");
    assert_eq!(detail(list_bucket, "OrganizationsDecisionDetail", "AllowedByOrganizations"), Some(true));
    // The management account is not restricted by SCPs: no detail.
    let params = Value::structure().with("PolicySourceArn", "arn:aws:iam::111111111111:user/admin").with("ActionNames", list(&["s3:DeleteBucket"]));
    let answer = send(&mut world, ADMIN_KEY, "SimulatePrincipalPolicy", params).unwrap();
    assert_eq!(text(&results(&answer)[0], "EvalDecision"), "allowed");
    assert!(results(&answer)[0].get("OrganizationsDecisionDetail").is_none());
}

#[test]
fn ordered_organization_inputs_are_levels_of_scps() {
    let mut world = world();
    let only_ec2 = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#;
    let level = |policy: &str| Value::structure().with("ServiceControlPolicyInputList", list(&[policy]));
    let extra = Value::structure()
        .with("OrderedOrganizationPolicyInputList", Value::List(vec![level(ONLY_S3), level(only_ec2)]));
    let answer = custom(&mut world, ONLY_S3, &["s3:GetObject"], extra);
    let result = &results(&answer)[0];
    assert_eq!(text(result, "EvalDecision"), "implicitDeny");
    assert_eq!(detail(result, "OrganizationsDecisionDetail", "AllowedByOrganizations"), Some(false));
}

/// Beyond AWS's simulator: a role's trust policy decides `sts:AssumeRole` on the role.
#[test]
fn a_roles_trust_policy_is_evaluated_for_assuming_it() {
    let mut world = world();
    run(&mut world, "CreateUser", &[("UserName", "alejandro")]);
    run(&mut world, "AttachUserPolicy", &[("UserName", "alejandro"), ("PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess")]);
    let trust_service = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let trust_user = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/alejandro"},"Action":"sts:AssumeRole"}]}"#;
    run(&mut world, "CreateRole", &[("RoleName", "ForEc2"), ("AssumeRolePolicyDocument", trust_service)]);
    run(&mut world, "CreateRole", &[("RoleName", "ForAlejandro"), ("AssumeRolePolicyDocument", trust_user)]);
    let simulate = |world: &mut World, role: &str| {
        let params = Value::structure()
            .with("PolicySourceArn", USER_ARN)
            .with("ActionNames", list(&["sts:AssumeRole"]))
            .with("ResourceArns", list(&[&format!("arn:aws:iam::111111111111:role/{role}")]));
        send(world, ADMIN_KEY, "SimulatePrincipalPolicy", params).unwrap()
    };
    // AWS's simulator would answer `allowed` from AdministratorAccess alone.
    let answer = simulate(&mut world, "ForEc2");
    assert_eq!(text(&results(&answer)[0], "EvalDecision"), "implicitDeny");
    let answer = simulate(&mut world, "ForAlejandro");
    let result = &results(&answer)[0];
    assert_eq!(text(result, "EvalDecision"), "allowed");
    assert!(
        matched(result).iter().any(|m| m.0 == "ForAlejandro trust policy" && m.1.as_deref() == Some("Resource Policy")),
        "{:?}",
        matched(result)
    );
}

#[test]
fn a_resource_policy_given_as_input_speaks_for_the_caller_it_names() {
    let mut world = world();
    let deny_all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:ListQueues","Resource":"*"}]}"#;
    let resource_policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/alejandro"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]}"#;
    let extra = Value::structure()
        .with("ResourceArns", list(&["arn:aws:s3:::bucket/report.csv"]))
        .with("ResourcePolicy", resource_policy)
        .with("CallerArn", USER_ARN);
    let answer = custom(&mut world, deny_all, &["s3:GetObject"], extra);
    let result = &results(&answer)[0];
    assert_eq!(text(result, "EvalDecision"), "allowed");
    assert_eq!(matched(result)[0].0, "ResourcePolicy");
}

#[rstest::rstest]
#[case::unknown_user(
    &[("PolicySourceArn", "arn:aws:iam::111111111111:user/nobody"), ("ActionNames", "")],
    ("NoSuchEntity", 404, "The user with name nobody cannot be found.")
)]
#[case::unknown_role(
    &[("PolicySourceArn", "arn:aws:iam::111111111111:role/nothing"), ("ActionNames", "")],
    ("NoSuchEntity", 404, "The role with name nothing cannot be found.")
)]
#[case::not_an_entity(
    &[("PolicySourceArn", "arn:aws:s3:::some-bucket-name"), ("ActionNames", "")],
    ("InvalidInput", 400, "ARN arn:aws:s3:::some-bucket-name is not valid.")
)]
fn a_principal_must_be_a_user_or_role_of_the_account(#[case] members: &[(&str, &str)], #[case] expected: (&str, u16, &str)) {
    let mut world = world();
    let params = members.iter().fold(Value::structure(), |p, (name, value)| {
        if *name == "ActionNames" { p.with(name, list(&["s3:GetObject"])) } else { p.with(name, *value) }
    });
    let error = send(&mut world, ADMIN_KEY, "SimulatePrincipalPolicy", params).unwrap_err();
    assert_eq!((error.code.as_ref(), error.status, error.message.as_str()), expected);
}

#[test]
fn a_malformed_input_policy_is_invalid_input() {
    let mut world = world();
    let params = Value::structure().with("PolicyInputList", list(&["{"])).with("ActionNames", list(&["s3:GetObject"]));
    let error = send(&mut world, ADMIN_KEY, "SimulateCustomPolicy", params).unwrap_err();
    let expected = wana_policy::Policy::parse("{", wana_policy::PolicyKind::Identity).unwrap_err().to_string();
    assert_eq!((error.code.as_ref(), error.message), ("InvalidInput", expected));
}
