//! Tests of AssumeRole's session policies on the STS wire: what is stored with the session,
//! `PackedPolicySize`, and the errors for documents and sizes STS refuses.

use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, TimeZone, Utc};
use rstest::rstest;

use super::*;
use crate::{profile::BehaviourProfile, state::iam::NewRole};

const ACCOUNT: &str = "111111111111";
const ADMIN_KEY: &str = "AKIAWANAADMINA000001";
const TRUST_ACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}"#;
const READ_BUCKET: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*"}]}"#;
const ROLE_ARN: &str = "arn:aws:iam::111111111111:role/Deployer";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().expect("valid time")
}

fn world() -> World {
    let mut world = World::new(BehaviourProfile::default(), now()).with_port(crate::dispatch::pipeline());
    world
        .create_role(ACCOUNT, now(), NewRole { name: "Deployer", trust_policy: TRUST_ACCOUNT, ..NewRole::default() })
        .unwrap();
    world
}

fn assume(world: &mut World, members: &[(&str, Value)]) -> Result<Value, AwsError> {
    let caller = Caller {
        principal: world.principal_of(&world.access_keys[ADMIN_KEY]).unwrap(),
        access_key_id: ADMIN_KEY.to_string(),
        credential_kind: CredentialKind::LongTerm,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        token_issued: None,
        via_service: None,
    };
    let params = members
        .iter()
        .cloned()
        .fold(Value::structure().with("RoleArn", ROLE_ARN).with("RoleSessionName", "s1"), |p, (name, value)| p.with(name, value));
    let call = Call { caller: &caller, region: "us-east-1", now: now(), action: "AssumeRole", params: &params };
    handle(world, &call).expect("an STS operation")
}

fn arns(arns: &[&str]) -> Value {
    Value::List(arns.iter().map(|arn| Value::structure().with("arn", *arn)).collect())
}

fn session_of(world: &World, answer: &Value) -> Session {
    let key = answer.get("Credentials").and_then(|c| c.get("AccessKeyId")).and_then(Value::as_str).unwrap();
    match &world.access_keys[key].owner {
        KeyOwner::Session(session) => session.clone(),
        KeyOwner::User { .. } => panic!("a session key"),
    }
}

fn error(result: Result<Value, AwsError>) -> (String, u16, String) {
    let error = result.expect_err("expected an error");
    (error.code.to_string(), error.status, error.message)
}

#[test]
fn a_session_without_session_policies_reports_no_packed_size() {
    let mut world = world();
    let answer = assume(&mut world, &[]).unwrap();
    assert!(answer.get("PackedPolicySize").is_none());
    assert!(session_of(&world, &answer).policies.is_empty());
}

#[test]
fn session_policies_are_stored_with_the_session_and_their_packed_size_reported() {
    let mut world = world();
    let managed = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    let answer = assume(&mut world, &[("Policy", Value::from(READ_BUCKET)), ("PolicyArns", arns(&[managed]))]).unwrap();
    // 117 characters of policy and 38 of ARN are 155 of 2048: 8%, rounded up.
    assert_eq!(answer.get("PackedPolicySize").and_then(Value::as_i64), Some(8));
    let session = session_of(&world, &answer);
    assert_eq!(session.policies.arns, [managed]);
    let inline = session.policies.inline.expect("the inline session policy");
    assert_eq!(inline.name, "inline session policy");
    assert_eq!(inline.policy.statements.len(), 1);
}

#[rstest]
#[case::invalid_json("{\"Version\":", "MalformedPolicyDocument")]
#[case::principal_in_an_identity_policy(
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#,
    "MalformedPolicyDocument"
)]
fn an_inline_session_policy_must_be_an_identity_policy(#[case] document: &str, #[case] code: &str) {
    let mut world = world();
    let (got, status, message) = error(assume(&mut world, &[("Policy", Value::from(document))]));
    let expected = wana_policy::Policy::parse(document, wana_policy::PolicyKind::Identity).unwrap_err().to_string();
    assert_eq!((got.as_str(), status, message), (code, 400, expected));
    // No session was issued.
    assert!(world.access_keys.values().all(|k| matches!(k.owner, KeyOwner::User { .. })));
}

#[test]
fn sizes_beyond_the_limits_are_refused() {
    let mut world = world();
    let padding = " ".repeat(2100);
    let long = format!("{{\"Version\":\"2012-10-17\",{padding}\"Statement\":[]}}");
    let (code, _, message) = error(assume(&mut world, &[("Policy", Value::from(long.as_str()))]));
    assert_eq!(code, "ValidationError");
    assert!(message.ends_with("at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048"), "{message}");

    let eleven: Vec<String> = (0..11).map(|i| format!("arn:aws:iam::111111111111:policy/P{i}")).collect();
    let eleven: Vec<&str> = eleven.iter().map(String::as_str).collect();
    assert_eq!(
        error(assume(&mut world, &[("PolicyArns", arns(&eleven))])),
        (
            "ValidationError".into(),
            400,
            "1 validation error detected: Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to 10".into()
        )
    );

    // Each part within its own limit, together over the packed budget.
    let resources: Vec<String> = (0..36).map(|i| format!("\"arn:aws:s3:::bucket-number-{i:02}/reports/*\"")).collect();
    let big = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":[{}]}}]}}"#,
        resources.join(",")
    );
    assert!(big.len() <= 2048 && session_policies::packed_size(Some(&big), &[]) <= 100, "{}", big.len());
    let ten: Vec<String> = (0..10).map(|i| format!("arn:aws:iam::111111111111:policy/a-rather-long-policy-name-{i}")).collect();
    let ten: Vec<&str> = ten.iter().map(String::as_str).collect();
    let packed = session_policies::packed_size(Some(&big), &ten.iter().map(|a| a.to_string()).collect::<Vec<_>>());
    assert!(packed > 100);
    assert_eq!(
        error(assume(&mut world, &[("Policy", Value::from(big.as_str())), ("PolicyArns", arns(&ten))])),
        (
            "PackedPolicyTooLarge".into(),
            400,
            format!("Packed policy consumes {packed}% of allotted space, please use smaller policy.")
        )
    );
}
