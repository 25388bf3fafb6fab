use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, Duration, Utc};

use super::answer;
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

/// A world with one running-or-pending instance; returns its id.
fn world_with_instance() -> (World, String) {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let params = Value::structure()
        .with("ImageId", "ami-374db956")
        .with("MinCount", "1")
        .with("MaxCount", "1")
        .with("InstanceType", "t2.micro");
    let caller = admin();
    let call = Call { caller: &caller, region: REGION, now: t0(), action: "RunInstances", params: &params };
    let out = handle(ServiceId::Ec2, &mut world, &call).unwrap().unwrap();
    let id = format!("{out:?}").split("i-").nth(1).map(|r| format!("i-{}", &r[..17])).unwrap();
    (world, id)
}

fn get(world: &mut World, now: DateTime<Utc>, id: &str, token: Option<&str>) -> u16 {
    let mut headers = http::HeaderMap::new();
    if let Some(token) = token {
        headers.insert("x-aws-ec2-metadata-token", token.parse().unwrap());
    }
    answer(world, now, id, "GET", "/latest/meta-data/instance-id", &headers).status
}

fn token(world: &mut World, now: DateTime<Utc>, id: &str, ttl: &str) -> String {
    let mut headers = http::HeaderMap::new();
    headers.insert("x-aws-ec2-metadata-token-ttl-seconds", ttl.parse().unwrap());
    let reply = answer(world, now, id, "PUT", "/latest/api/token", &headers);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

#[test]
fn http_tokens_required_refuses_requests_without_a_live_token() {
    let (mut world, id) = world_with_instance();
    assert_eq!(get(&mut world, t0(), &id, None), 200);
    for regional in world.accounts.get_mut(ACCOUNT).unwrap().regions.values_mut() {
        if let Some(instance) = regional.ec2.instances.get_mut(&id) {
            instance.metadata_http_tokens = "required".to_string();
        }
    }
    assert_eq!(get(&mut world, t0(), &id, None), 401);
    let token = token(&mut world, t0(), &id, "300");
    assert_eq!(get(&mut world, t0(), &id, Some(&token)), 200);
    assert_eq!(get(&mut world, t0() + Duration::seconds(299), &id, Some(&token)), 200);
    assert_eq!(get(&mut world, t0() + Duration::seconds(300), &id, Some(&token)), 401);
}

#[test]
fn documents_are_laid_out_as_imds_lays_them_out() {
    let text = super::document(&[("Code", Some("Success".to_string())), ("kernelId", None)]);
    assert_eq!(text, "{\n  \"Code\" : \"Success\",\n  \"kernelId\" : null\n}");
}
