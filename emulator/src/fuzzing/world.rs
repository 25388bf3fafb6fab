//! The fuzz entry points that need a [`World`]: SigV4 authentication, S3's payload rules over an
//! aws-chunked body, and the instance-metadata endpoint. The world is built once per process and
//! reused (a fresh one per input would cost more than the decoding).

use std::{
    net::{IpAddr, Ipv4Addr},
    sync::{Mutex, OnceLock},
};

use chrono::{DateTime, Duration, Utc};

use super::{header_map, lines};
use crate::{
    accounts::DEFAULT_ACCOUNTS,
    principal::{Caller, CredentialKind, Principal},
    profile::BehaviourProfile,
    protocol::{aws_chunked as chunked, Protocol, ServiceId},
    services::{handle, Call},
    sigv4::{self as auth, SignatureHeader, SignedRequest},
    state::World,
    value::Value,
};

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_607_200, 0).expect("a valid instant") // 2026-01-05T10:00:00Z
}

fn plain_world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| World::new(BehaviourProfile::Current, t0()))
}

/// The `Authorization` header: line 1 its value, line 2 `X-Amz-Date`, line 3 the other headers
/// (`name: value`, separated by `\r`), line 4 the request target, the rest the body. Whatever
/// parses has every field taken from the header as sent, and is then authenticated against the
/// built-in accounts' keys.
pub fn sigv4(data: &[u8]) {
    let Some((lines, body)) = lines(data, 4) else {
        return;
    };
    let value = lines[0];
    let parsed = match auth::parse_authorization(value) {
        Ok(parsed) => parsed,
        Err(failure) => {
            let _ = (failure.reason(), failure.to_aws_error(Protocol::AwsQuery), failure.to_aws_error(Protocol::RestXml));
            return;
        }
    };
    for field in [&parsed.access_key_id, &parsed.date, &parsed.region, &parsed.service, &parsed.signature] {
        assert!(value.contains(field.as_str()), "{field:?} is not in the header");
    }
    assert!(parsed.signed_headers.iter().all(|h| value.contains(h.as_str())));
    let mut headers = header_map(lines[2]);
    if let Ok(date) = http::HeaderValue::from_str(lines[1]) {
        headers.insert("x-amz-date", date);
    }
    // The path as the server takes it from the request target.
    let Ok(uri) = lines[3].parse::<http::Uri>() else {
        return;
    };
    let request = SignedRequest {
        method: "POST",
        path_and_query: uri.path_and_query().map_or("/", |p| p.as_str()),
        headers: &headers,
        body,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    let now = t0();
    if let Err(failure) = auth::authenticate(plain_world(), now, now, &request, &parsed) {
        let _ = failure.to_aws_error(Protocol::AwsJson11);
    }
}

/// S3's aws-chunked body: line 1 `x-amz-content-sha256` (a `STREAMING-…` mode), line 2
/// `x-amz-decoded-content-length`, line 3 `x-amz-trailer` (empty: none), the rest the body. The
/// decoder's chunks are slices of the body, in order, so the payload is no longer than the body;
/// writing the chunks back out and decoding again gives the same chunks; and S3's payload, when
/// it is accepted, is exactly as long as declared.
pub fn aws_chunked(data: &[u8]) {
    let Some((lines, body)) = lines(data, 3) else {
        return;
    };
    if let Ok(decoded) = chunked::decode(body) {
        let payload = decoded.payload();
        assert!(payload.len() <= body.len(), "the payload is longer than the body");
        assert!(decoded.chunks.last().is_some_and(|c| c.data.is_empty()), "no final empty chunk");
        let mut again = Vec::new();
        for chunk in &decoded.chunks {
            again.extend_from_slice(format!("{:x}", chunk.data.len()).as_bytes());
            if let Some(signature) = chunk.signature {
                again.extend_from_slice(format!(";chunk-signature={signature}").as_bytes());
            }
            again.extend_from_slice(b"\r\n");
            if !chunk.data.is_empty() {
                again.extend_from_slice(chunk.data);
                again.extend_from_slice(b"\r\n");
            }
        }
        for (name, value) in &decoded.trailers {
            again.extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
        }
        if let Some(signature) = &decoded.trailer_signature {
            again.extend_from_slice(format!("x-amz-trailer-signature:{signature}\r\n").as_bytes());
        }
        again.extend_from_slice(b"\r\n");
        let redecoded = chunked::decode(&again).unwrap_or_else(|e| panic!("a re-encoded body does not decode: {e:?}"));
        assert_eq!(redecoded.payload(), payload);
        assert_eq!(redecoded.trailers, decoded.trailers);
        assert_eq!(redecoded.trailer_signature, decoded.trailer_signature);
    }
    let mut headers = http::HeaderMap::new();
    for (name, value) in [
        ("x-amz-content-sha256", lines[0]),
        ("x-amz-decoded-content-length", lines[1]),
        ("x-amz-trailer", lines[2]),
        ("x-amz-date", "20260105T100000Z"),
    ] {
        if let (false, Ok(value)) = (value.is_empty(), http::HeaderValue::from_str(value)) {
            headers.insert(name, value);
        }
    }
    let request = SignedRequest {
        method: "PUT",
        path_and_query: "/bucket/key",
        headers: &headers,
        body,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    let signature = SignatureHeader {
        access_key_id: DEFAULT_ACCOUNTS[0].access_key_id.to_string(),
        date: "20260105".into(),
        region: "us-east-1".into(),
        service: "s3".into(),
        signed_headers: vec!["host".into(), "x-amz-date".into()],
        signature: "0".repeat(64),
    };
    if let Ok(payload) = auth::s3_payload(plain_world(), &request, &signature) {
        assert!(payload.body.len() <= body.len(), "the stored body is longer than the request's");
        if lines[0].starts_with("STREAMING-") {
            assert_eq!(Some(payload.body.len() as u64), lines[1].trim().parse().ok());
        }
    }
}

fn admin(account: &str) -> Caller {
    Caller {
        principal: Principal::User {
            account: account.to_string(),
            name: "admin".to_string(),
            path: "/".to_string(),
            user_id: "AIDAWANAEXAMPLE000001".to_string(),
        },
        access_key_id: DEFAULT_ACCOUNTS[0].access_key_id.to_string(),
        credential_kind: CredentialKind::LongTerm,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        token_issued: None,
        via_service: None,
    }
}

/// A world with one running instance whose profile's role EC2 may assume, with instance tags in
/// its metadata; returns the instance id.
fn world_with_instance() -> (World, String) {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let caller = admin(DEFAULT_ACCOUNTS[0].id);
    let run = |world: &mut World, service, action: &str, params: Value| {
        let call = Call { caller: &caller, region: "us-east-1", now: t0(), action, params: &params };
        handle(service, world, &call)
            .expect("an operation of the service")
            .unwrap_or_else(|e| panic!("{action}: {e:?}"))
    };
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    run(&mut world, ServiceId::Iam, "CreateRole", Value::structure().with("RoleName", "web").with("AssumeRolePolicyDocument", trust));
    run(&mut world, ServiceId::Iam, "CreateInstanceProfile", Value::structure().with("InstanceProfileName", "web"));
    run(
        &mut world,
        ServiceId::Iam,
        "AddRoleToInstanceProfile",
        Value::structure().with("InstanceProfileName", "web").with("RoleName", "web"),
    );
    let params = Value::structure()
        .with("ImageId", "ami-374db956")
        .with("MinCount", "1")
        .with("MaxCount", "1")
        .with("InstanceType", "t2.micro")
        .with("IamInstanceProfile", Value::structure().with("Name", "web"))
        .with("MetadataOptions", Value::structure().with("InstanceMetadataTags", "enabled"))
        .with(
            "TagSpecification",
            Value::List(vec![Value::structure().with("ResourceType", "instance").with(
                "Tag",
                Value::List(vec![Value::structure().with("Key", "Name").with("Value", "web")]),
            )]),
        );
    let out = run(&mut world, ServiceId::Ec2, "RunInstances", params);
    let id = format!("{out:?}").split("i-").nth(1).map(|r| format!("i-{}", &r[..17])).expect("an instance id");
    world.run_due(t0() + Duration::seconds(5));
    (world, id)
}

/// The metadata endpoint: line 1 the method, line 2 the path, line 3 the headers (`name: value`,
/// separated by `\r`); with a body starting `T`, a token is fetched first and sent as
/// `X-aws-ec2-metadata-token`, so that IMDSv2 paths are reached. Every answer is one of the
/// statuses IMDS gives, and an error page is HTML.
pub fn imds(data: &[u8]) {
    static WORLD: Mutex<Option<(World, String)>> = Mutex::new(None);
    let Some((lines, rest)) = lines(data, 3) else {
        return;
    };
    let mut guard = WORLD.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    // Tokens and issued credentials pile up in the world: start again now and then.
    if guard.as_ref().is_none_or(|(world, _)| world.access_keys.len() > 200 || world.metadata.values().any(|m| m.tokens.len() > 200)) {
        *guard = Some(world_with_instance());
    }
    let (world, id) = guard.as_mut().expect("a world");
    let now = t0() + Duration::minutes(1);
    let mut headers = header_map(lines[2]);
    if rest.first() == Some(&b'T') {
        let mut put = http::HeaderMap::new();
        put.insert("x-aws-ec2-metadata-token-ttl-seconds", http::HeaderValue::from_static("60"));
        let token = crate::imds::answer(world, now, id, "PUT", "/latest/api/token", &put);
        assert_eq!(token.status, 200, "{token:?}");
        headers.insert("x-aws-ec2-metadata-token", token.body.parse().expect("a token is a header value"));
    }
    let answer = crate::imds::answer(world, now, id, lines[0], lines[1], &headers);
    assert!([200, 400, 401, 403, 404].contains(&answer.status), "{answer:?}");
    if answer.status != 200 {
        assert_eq!(answer.content_type, "text/html");
    }
}
