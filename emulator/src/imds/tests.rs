use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, Duration, Utc};

use super::{answer, MetadataResponse};
use crate::{
    principal::{Caller, CredentialKind, Principal},
    profile::BehaviourProfile,
    protocol::ServiceId,
    services::{handle, Call},
    state::World,
    value::Value,
};

const ACCOUNT: &str = "111111111111";
const REGION: &str = "us-east-1";

fn t0() -> DateTime<Utc> {
    "2026-01-05T10:00:00Z".parse().unwrap()
}

fn admin() -> Caller {
    Caller {
        principal: Principal::User {
            account: ACCOUNT.to_string(),
            name: "admin".to_string(),
            path: "/".to_string(),
            user_id: "AIDAWANAEXAMPLE000001".to_string(),
        },
        access_key_id: "AKIAWANAADMINA000001".to_string(),
        credential_kind: CredentialKind::LongTerm,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        token_issued: None,
        via_service: None,
    }
}

fn call(world: &mut World, now: DateTime<Utc>, action: &str, params: &Value) -> Value {
    let caller = admin();
    let call = Call { caller: &caller, region: REGION, now, action, params };
    handle(ServiceId::Ec2, world, &call).unwrap().unwrap()
}

/// A world with one instance launched at `t0` with `options` (RunInstances' `MetadataOptions`,
/// if any), running from `t0 + 5 s`; returns its id.
fn world_with_instance_options(options: Option<Value>) -> (World, String) {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let mut params = Value::structure()
        .with("ImageId", "ami-374db956")
        .with("MinCount", "1")
        .with("MaxCount", "1")
        .with("InstanceType", "t2.micro")
        .with(
            "TagSpecification",
            Value::List(vec![Value::structure().with("ResourceType", "instance").with(
                "Tag",
                Value::List(vec![Value::structure().with("Key", "Name").with("Value", "web")]),
            )]),
        );
    if let Some(options) = options {
        params.push("MetadataOptions", options);
    }
    let out = call(&mut world, t0(), "RunInstances", &params);
    let id = format!("{out:?}").split("i-").nth(1).map(|r| format!("i-{}", &r[..17])).unwrap();
    world.run_due(t0() + Duration::seconds(5));
    (world, id)
}

fn world_with_instance() -> (World, String) {
    world_with_instance_options(None)
}

fn request(world: &mut World, now: DateTime<Utc>, id: &str, path: &str, token: Option<&str>) -> MetadataResponse {
    let mut headers = http::HeaderMap::new();
    if let Some(token) = token {
        headers.insert("x-aws-ec2-metadata-token", token.parse().unwrap());
    }
    answer(world, now, id, "GET", path, &headers)
}

fn get(world: &mut World, now: DateTime<Utc>, id: &str, token: Option<&str>) -> u16 {
    request(world, now, id, "/latest/meta-data/instance-id", token).status
}

fn put_token(world: &mut World, now: DateTime<Utc>, id: &str, ttl: &str) -> MetadataResponse {
    let mut headers = http::HeaderMap::new();
    headers.insert("x-aws-ec2-metadata-token-ttl-seconds", ttl.parse().unwrap());
    answer(world, now, id, "PUT", "/latest/api/token", &headers)
}

fn token(world: &mut World, now: DateTime<Utc>, id: &str, ttl: &str) -> String {
    let reply = put_token(world, now, id, ttl);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

/// ModifyInstanceMetadataOptions at `now`, as the AWS CLI sends it (`--http-endpoint enabled`
/// with every other option).
fn modify(world: &mut World, now: DateTime<Utc>, id: &str, options: &[(&str, &str)]) {
    let mut params = Value::structure().with("InstanceId", id);
    for (name, value) in options {
        params.push(name, *value);
    }
    call(world, now, "ModifyInstanceMetadataOptions", &params);
}

#[test]
fn http_tokens_required_refuses_requests_without_a_live_token() {
    let (mut world, id) = world_with_instance();
    let t1 = t0() + Duration::seconds(10);
    assert_eq!(get(&mut world, t1, &id, None), 200);
    modify(&mut world, t1, &id, &[("HttpTokens", "required"), ("HttpEndpoint", "enabled")]);
    // While the change is pending the instance still answers IMDSv1.
    assert_eq!(get(&mut world, t1, &id, None), 200);
    let t2 = t1 + Duration::seconds(2);
    world.run_due(t2);
    assert_eq!(get(&mut world, t2, &id, None), 401);
    let token = token(&mut world, t2, &id, "300");
    assert_eq!(get(&mut world, t2, &id, Some(&token)), 200);
    assert_eq!(get(&mut world, t2 + Duration::seconds(299), &id, Some(&token)), 200);
    assert_eq!(get(&mut world, t2 + Duration::seconds(300), &id, Some(&token)), 401);

    // Back to optional: IMDSv1 works again.
    modify(&mut world, t2, &id, &[("HttpTokens", "optional"), ("HttpEndpoint", "enabled")]);
    world.run_due(t2 + Duration::seconds(2));
    assert_eq!(get(&mut world, t2 + Duration::seconds(2), &id, None), 200);
}

#[test]
fn a_launch_with_http_tokens_required_refuses_imdsv1_from_the_start() {
    let options = Value::structure().with("HttpTokens", "required");
    let (mut world, id) = world_with_instance_options(Some(options));
    let t1 = t0() + Duration::seconds(5);
    assert_eq!(get(&mut world, t1, &id, None), 401);
    let token = token(&mut world, t1, &id, "60");
    assert_eq!(request(&mut world, t1, &id, "/latest/meta-data/instance-id", Some(&token)).body, id);
}

#[test]
fn a_disabled_endpoint_answers_forbidden_to_everything() {
    let options = Value::structure().with("HttpEndpoint", "disabled");
    let (mut world, id) = world_with_instance_options(Some(options));
    let t1 = t0() + Duration::seconds(5);
    let refused = request(&mut world, t1, &id, "/latest/meta-data/instance-id", None);
    assert_eq!((refused.status, refused.content_type), (403, "text/html"));
    assert!(refused.body.contains("<title>403 - Forbidden</title>"), "{}", refused.body);
    assert_eq!(put_token(&mut world, t1, &id, "60").status, 403);

    // Turning it on again takes effect once the change is applied.
    modify(&mut world, t1, &id, &[("HttpEndpoint", "enabled")]);
    assert_eq!(get(&mut world, t1, &id, None), 403);
    world.run_due(t1 + Duration::seconds(2));
    assert_eq!(get(&mut world, t1 + Duration::seconds(2), &id, None), 200);
}

#[test]
fn disabling_the_endpoint_of_a_running_instance_cuts_it_off_once_applied() {
    let (mut world, id) = world_with_instance();
    let t1 = t0() + Duration::seconds(10);
    modify(&mut world, t1, &id, &[("HttpEndpoint", "disabled")]);
    world.run_due(t1 + Duration::seconds(2));
    assert_eq!(get(&mut world, t1 + Duration::seconds(2), &id, None), 403);
}

#[test]
fn instance_tags_are_in_the_metadata_only_when_enabled() {
    let (mut world, id) = world_with_instance();
    let t1 = t0() + Duration::seconds(10);
    assert_eq!(request(&mut world, t1, &id, "/latest/meta-data/tags/instance", None).status, 404);
    assert!(!request(&mut world, t1, &id, "/latest/meta-data/", None).body.contains("tags/"));

    modify(&mut world, t1, &id, &[("InstanceMetadataTags", "enabled")]);
    world.run_due(t1 + Duration::seconds(2));
    let t2 = t1 + Duration::seconds(2);
    assert!(request(&mut world, t2, &id, "/latest/meta-data/", None).body.ends_with("tags/"));
    assert_eq!(request(&mut world, t2, &id, "/latest/meta-data/tags/instance", None).body, "Name");
    assert_eq!(request(&mut world, t2, &id, "/latest/meta-data/tags/instance/Name", None).body, "web");
    assert_eq!(request(&mut world, t2, &id, "/latest/meta-data/tags/instance/Other", None).status, 404);
}

#[test]
fn documents_are_laid_out_as_imds_lays_them_out() {
    let text = super::document(&[("Code", Some("Success".to_string())), ("kernelId", None)]);
    assert_eq!(text, "{\n  \"Code\" : \"Success\",\n  \"kernelId\" : null\n}");
}
