//! `DecodeAuthorizationMessage` on EC2's denials, through the handlers: the document's shape,
//! its own permission, and who can read a message.

use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, Utc};
use serde_json::{json, Value as Json};

use crate::{
    error::AwsError,
    principal::{Caller, CredentialKind, Principal},
    profile::BehaviourProfile,
    services::{ec2, sts, Call},
    state::World,
    value::Value,
};

const A: &str = "111111111111";
const B: &str = "222222222222";
const REGION: &str = "us-east-1";

fn t0() -> DateTime<Utc> {
    "2026-01-05T10:00:00Z".parse().unwrap()
}

fn world() -> World {
    World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline())
}

fn caller(account: &str, name: &str, user_id: &str) -> Caller {
    Caller {
        principal: Principal::User {
            account: account.to_string(),
            name: name.to_string(),
            path: "/".to_string(),
            user_id: user_id.to_string(),
        },
        access_key_id: "AKIAWANAEXAMPLE00001".to_string(),
        credential_kind: CredentialKind::LongTerm,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        token_issued: None,
        via_service: None,
    }
}

/// The built-in administrator of `account` (AdministratorAccess).
fn admin(account: &str) -> Caller {
    caller(account, "admin", "AIDAWANAEXAMPLE000001")
}

/// A user of account A whose only policy is `policy`.
fn user(world: &mut World, name: &str, policy: &str) -> Caller {
    let (iam, ids) = world.iam_and_ids(A).unwrap();
    let id = iam.create_user(ids, A, t0(), name, None, Vec::new()).unwrap().id.clone();
    iam.put_user_policy(name, "inline", policy).unwrap();
    caller(A, name, &id)
}

fn ec2_call(world: &mut World, caller: &Caller, action: &str, params: Value) -> Result<Value, AwsError> {
    let call = Call { caller, region: REGION, now: t0(), action, params: &params };
    ec2::handle(world, &call).expect("an EC2 operation")
}

fn decode(world: &mut World, caller: &Caller, encoded: &str) -> Result<Value, AwsError> {
    let params = Value::structure().with("EncodedMessage", encoded);
    let call = Call { caller, region: REGION, now: t0(), action: "DecodeAuthorizationMessage", params: &params };
    sts::handle(world, &call).expect("an STS operation")
}

/// The encoded message at the end of EC2's `UnauthorizedOperation`.
fn encoded_message(error: &AwsError) -> String {
    assert_eq!(error.code, "UnauthorizedOperation", "{error:?}");
    let (_, encoded) = error.message.split_once("Encoded authorization failure message: ").expect("an encoded message");
    encoded.to_string()
}

fn decoded_json(out: &Value) -> Json {
    let text = out.get("DecodedMessage").and_then(Value::as_str).expect("DecodedMessage");
    serde_json::from_str(text).expect("the decoded message is JSON")
}

const NO_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#;

fn describe_denied(world: &mut World, name: &str) -> (Caller, String) {
    let nobody = user(world, name, NO_EC2);
    let denied = ec2_call(world, &nobody, "DescribeInstances", Value::structure()).unwrap_err();
    (nobody, encoded_message(&denied))
}

#[test]
fn an_implicit_deny_decodes_into_awss_shape() {
    let mut world = world();
    let (nobody, encoded) = describe_denied(&mut world, "nobody");
    let out = decode(&mut world, &admin(A), &encoded).unwrap();
    let user_id = nobody.principal.user_id();
    assert_eq!(
        decoded_json(&out),
        json!({
            "allowed": false,
            "explicitDeny": false,
            "matchedStatements": { "items": [] },
            "failures": { "items": [] },
            "context": {
                "principal": { "id": user_id, "name": "nobody", "arn": "arn:aws:iam::111111111111:user/nobody" },
                "action": "ec2:DescribeInstances",
                "resource": "*",
                "conditions": { "items": [
                    { "key": "ec2:Region", "values": { "items": [{ "value": "us-east-1" }] } },
                    { "key": "aws:Region", "values": { "items": [{ "value": "us-east-1" }] } },
                    { "key": "aws:Service", "values": { "items": [{ "value": "ec2" }] } },
                ] },
            },
        })
    );
    // AWS's key order, as its examples print it.
    let text = out.get("DecodedMessage").and_then(Value::as_str).unwrap();
    assert!(text.starts_with(r#"{"allowed":false,"explicitDeny":false,"matchedStatements":"#), "{text}");
}

#[test]
fn an_explicit_deny_names_the_statement_and_the_launchs_resource_keys() {
    let mut world = world();
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"ec2:*","Resource":"*"},
        {"Sid":"NoLaunchWithoutTokens","Effect":"Deny","Action":["ec2:RunInstances"],"Resource":"arn:aws:ec2:*:*:instance/*",
         "Condition":{"StringNotEquals":{"ec2:MetadataHttpTokens":"required"}}}]}"#;
    let operator = user(&mut world, "operator", policy);
    let params = Value::structure()
        .with("ImageId", "ami-374db956")
        .with("MinCount", "1")
        .with("MaxCount", "1");
    let denied = ec2_call(&mut world, &operator, "RunInstances", params).unwrap_err();
    assert!(denied.message.contains("with an explicit deny in an identity-based policy"), "{}", denied.message);
    let decoded = decoded_json(&decode(&mut world, &admin(A), &encoded_message(&denied)).unwrap());
    assert_eq!(decoded["explicitDeny"], json!(true));
    let user_id = operator.principal.user_id();
    assert_eq!(
        decoded["matchedStatements"],
        json!({ "items": [{
            "statementId": "NoLaunchWithoutTokens",
            "effect": "DENY",
            "principals": { "items": [{ "value": user_id }] },
            "principalGroups": { "items": [] },
            "actions": { "items": [{ "value": "ec2:RunInstances" }] },
            "resources": { "items": [{ "value": "arn:aws:ec2:*:*:instance/*" }] },
            "conditions": { "items": [
                { "key": "ec2:MetadataHttpTokens", "values": { "items": [{ "value": "required" }] } },
            ] },
        }] })
    );
    let context = &decoded["context"];
    assert_eq!(context["action"], "ec2:RunInstances");
    assert_eq!(context["resource"], "arn:aws:ec2:us-east-1:111111111111:instance/*");
    let conditions: Vec<(String, String)> = context["conditions"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| (item["key"].as_str().unwrap().to_string(), item["values"]["items"][0]["value"].as_str().unwrap().to_string()))
        .collect();
    for expected in [
        ("ec2:InstanceType", "m1.small"),
        ("aws:Resource", "instance/*"),
        ("aws:Account", A),
        ("aws:Type", "instance"),
        ("aws:ARN", "arn:aws:ec2:us-east-1:111111111111:instance/*"),
    ] {
        assert!(
            conditions.iter().any(|(k, v)| k == expected.0 && v == expected.1),
            "{expected:?} in {conditions:?}"
        );
    }
}

#[test]
fn the_message_is_opaque_and_the_same_for_the_same_denial() {
    let mut world = world();
    let (nobody, encoded) = describe_denied(&mut world, "nobody");
    assert!(
        encoded.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "URL-safe base64 without padding, as AWS's: {encoded}"
    );
    assert!(!encoded.contains("eyJhbGxvd2Vk"), "not plain base64 of the JSON: {encoded}");
    let again = ec2_call(&mut world, &nobody, "DescribeInstances", Value::structure()).unwrap_err();
    assert_eq!(encoded_message(&again), encoded);
}

#[test]
fn decoding_is_its_own_permission() {
    let mut world = world();
    let (nobody, encoded) = describe_denied(&mut world, "nobody");
    let denied = decode(&mut world, &nobody, &encoded).unwrap_err();
    assert_eq!(denied.code, "AccessDenied");
    assert_eq!(denied.status, 403);
    assert_eq!(
        denied.message,
        "User: arn:aws:iam::111111111111:user/nobody is not authorized to perform: \
         sts:DecodeAuthorizationMessage on resource: * because no identity-based policy allows the \
         sts:DecodeAuthorizationMessage action"
    );
    let decoder = user(
        &mut world,
        "decoder",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:DecodeAuthorizationMessage","Resource":"*"}]}"#,
    );
    let out = decode(&mut world, &decoder, &encoded).unwrap();
    assert_eq!(decoded_json(&out)["context"]["principal"]["name"], "nobody");
    // The decision is in the authorization log like any other.
    let last = world.authz_log.records().last().unwrap();
    assert_eq!((last.action.as_str(), last.allowed), ("sts:DecodeAuthorizationMessage", true));
}

#[test]
fn a_message_is_not_valid_in_another_account_or_when_altered() {
    let mut world = world();
    let (_, encoded) = describe_denied(&mut world, "nobody");
    let mut altered = encoded.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    for (who, message) in [
        (admin(B), encoded.clone()),
        (admin(A), altered),
        (admin(A), format!("{}\n{}", &encoded[..40], &encoded[40..])),
        (admin(A), "not-a-message".to_string()),
    ] {
        let error = decode(&mut world, &who, &message).unwrap_err();
        assert_eq!(
            (error.code.as_ref(), error.status, error.message.as_str()),
            ("InvalidAuthorizationMessageException", 400, "Message is not valid"),
            "{message}"
        );
    }
}

#[test]
fn the_encoded_message_is_required_and_bounded() {
    let mut world = world();
    let call = Call {
        caller: &admin(A),
        region: REGION,
        now: t0(),
        action: "DecodeAuthorizationMessage",
        params: &Value::structure(),
    };
    let missing = sts::handle(&mut world, &call).unwrap().unwrap_err();
    assert_eq!(
        (missing.code.as_ref(), missing.message.as_str()),
        ("ValidationError", "1 validation error detected: Value null at 'encodedMessage' failed to satisfy constraint: Member must not be null")
    );
    let long = "A".repeat(10_241);
    let too_long = decode(&mut world, &admin(A), &long).unwrap_err();
    assert_eq!(too_long.code, "ValidationError");
    assert!(
        too_long.message.ends_with("failed to satisfy constraint: Member must have length less than or equal to 10240"),
        "{}",
        too_long.message
    );
}

/// A Deny in the user's permissions boundary decides: the message names that statement, and the
/// log lists the boundary among what was consulted.
#[test]
fn a_boundarys_deny_is_the_matched_statement_and_is_logged_as_consulted() {
    use crate::{
        authz::{ConsultedKind, ConsultedPolicy},
        state::iam::NewPolicy,
    };

    let mut world = world();
    let operator = user(&mut world, "operator", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#);
    let boundary = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
        {"Sid":"NoDescribe","Effect":"Deny","Action":"ec2:Describe*","Resource":"*"}]}"#;
    let (iam, ids) = world.iam_and_ids(A).unwrap();
    let arn = iam.create_policy(ids, A, t0(), NewPolicy { name: "Edge", document: boundary, ..NewPolicy::default() }).unwrap().arn.clone();
    iam.put_user_permissions_boundary("operator", &arn).unwrap();

    let denied = ec2_call(&mut world, &operator, "DescribeInstances", Value::structure()).unwrap_err();
    assert!(denied.message.contains("with an explicit deny in a permissions boundary"), "{}", denied.message);
    let record = world.authz_log.records().last().unwrap().clone();
    assert!(
        record.consulted.contains(&ConsultedPolicy { kind: ConsultedKind::PermissionsBoundary, name: arn.clone() }),
        "{:?}",
        record.consulted
    );
    assert_eq!(record.deciding.map(|d| (d.policy, d.sid)), Some((arn, Some("NoDescribe".to_string()))));

    let decoded = decoded_json(&decode(&mut world, &admin(A), &encoded_message(&denied)).unwrap());
    assert_eq!(decoded["explicitDeny"], json!(true));
    let matched = &decoded["matchedStatements"]["items"][0];
    assert_eq!(matched["statementId"], "NoDescribe");
    assert_eq!(matched["actions"], json!({ "items": [{ "value": "ec2:Describe*" }] }));
}
