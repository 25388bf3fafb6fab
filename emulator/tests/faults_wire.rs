//! Injected faults on the wire: each service's throttling and internal error in its protocol's
//! envelope, latency added, authentication errors never replaced by a fault, and a faulted
//! request changing nothing.

use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::{
    http_request::{sign, SignableBody, SignableRequest, SigningSettings},
    sign::v4,
};
use rstest::rstest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wana_emulator::{Emulator, EmulatorConfig, FaultProfile, DEFAULT_ACCOUNTS};

// The request helpers of `wire.rs` (integration tests share no module without one of their own).
struct Reply {
    status: u16,
    headers: String,
    body: String,
}

struct Req<'a> {
    method: &'a str,
    path: &'a str,
    headers: Vec<(&'a str, String)>,
    body: Vec<u8>,
}

/// Signs like an SDK would, with the given key and secret, for `service` in us-east-1.
fn signed(mut req: Req<'_>, host: &str, service: &str, key: &str, secret: &str, at: SystemTime) -> Req<'static> {
    req.headers.push(("host", host.to_string()));
    let identity = Credentials::new(key, secret, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(at)
        .settings(settings(service))
        .build()
        .unwrap();
    let signable = SignableRequest::new(
        req.method,
        req.path,
        req.headers.iter().map(|(k, v)| (*k, v.as_str())),
        SignableBody::Bytes(&req.body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params.into()).unwrap().into_parts();
    let mut headers: Vec<(&'static str, String)> =
        req.headers.into_iter().map(|(k, v)| (leak(k), v)).collect();
    for (name, value) in instructions.headers() {
        headers.push((leak(name), value.to_string()));
    }
    Req { method: leak(req.method), path: leak(req.path), headers, body: req.body }
}

/// What the SDKs sign with: S3 adds `x-amz-content-sha256` and signs the path as sent.
fn settings(service: &str) -> SigningSettings {
    let mut settings = SigningSettings::default();
    if service == "s3" {
        settings.payload_checksum_kind = aws_sigv4::http_request::PayloadChecksumKind::XAmzSha256;
        settings.uri_path_normalization_mode = aws_sigv4::http_request::UriPathNormalizationMode::Disabled;
        settings.percent_encoding_mode = aws_sigv4::http_request::PercentEncodingMode::Single;
    }
    settings
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

async fn send(emulator: &Emulator, req: Req<'_>) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(emulator.addr()).await.unwrap();
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.path);
    let mut has_host = false;
    for (name, value) in &req.headers {
        has_host |= name.eq_ignore_ascii_case("host");
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !has_host {
        head.push_str(&format!("host: {}\r\n", emulator.addr()));
    }
    head.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n", req.body.len()));
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&req.body).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (headers, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
    let status = headers.split_whitespace().nth(1).unwrap().parse().unwrap();
    Reply { status, headers: headers.to_ascii_lowercase(), body: body.to_string() }
}

fn form(body: &str) -> Req<'static> {
    Req {
        method: "POST",
        path: "/",
        headers: vec![("content-type", "application/x-www-form-urlencoded; charset=utf-8".to_string())],
        body: body.as_bytes().to_vec(),
    }
}

fn json(target: &str, body: &str) -> Req<'static> {
    Req {
        method: "POST",
        path: "/",
        headers: vec![
            ("content-type", "application/x-amz-json-1.1".to_string()),
            ("x-amz-target", target.to_string()),
        ],
        body: body.as_bytes().to_vec(),
    }
}

fn admin_a() -> (&'static str, &'static str) {
    (DEFAULT_ACCOUNTS[0].access_key_id, DEFAULT_ACCOUNTS[0].secret_access_key)
}

fn s3(method: &'static str, path: &'static str) -> Req<'static> {
    Req { method, path, headers: Vec::new(), body: Vec::new() }
}


async fn faulted(spec: &str) -> Emulator {
    let faults: FaultProfile = spec.parse().unwrap();
    Emulator::start(EmulatorConfig { faults, ..EmulatorConfig::default() }).await.unwrap()
}

/// One request of each protocol, as admin@a.
fn request(service: &str) -> Req<'static> {
    match service {
        "iam" => form("Action=ListUsers&Version=2010-05-08"),
        "sts" => form("Action=GetCallerIdentity&Version=2011-06-15"),
        "ec2" => form("Action=DescribeInstances&Version=2016-11-15"),
        "monitoring" => form("Action=DescribeAlarms&Version=2010-08-01"),
        "cloudformation" => form("Action=ListStacks&Version=2010-05-15"),
        "autoscaling" => form("Action=DescribeAutoScalingGroups&Version=2011-01-01"),
        "kms" => json("TrentService.ListKeys", "{}"),
        "ssm" => json("AmazonSSM.DescribeInstanceInformation", "{}"),
        "organizations" => json("AWSOrganizationsV20161128.DescribeOrganization", "{}"),
        "s3" => s3("GET", "/"),
        other => panic!("no request for {other}"),
    }
}

async fn send_as_admin(emulator: &Emulator, service: &str) -> Reply {
    let (key, secret) = admin_a();
    let host = emulator.addr().to_string();
    send(emulator, signed(request(service), &host, service, key, secret, SystemTime::now())).await
}

#[rstest]
#[case::iam("iam", 400, "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>")]
#[case::sts("sts", 400, "<Code>Throttling</Code><Message>Rate exceeded</Message>")]
#[case::ec2("ec2", 503, "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>")]
#[case::cloudwatch("monitoring", 400, "<Code>Throttling</Code><Message>Rate exceeded</Message>")]
#[case::cloudformation("cloudformation", 400, "<Code>Throttling</Code><Message>Rate exceeded</Message>")]
#[case::autoscaling("autoscaling", 400, "<Code>Throttling</Code><Message>Rate exceeded</Message>")]
#[case::kms("kms", 400, "\"__type\":\"ThrottlingException\"")]
#[case::ssm("ssm", 400, "\"__type\":\"ThrottlingException\"")]
#[case::organizations("organizations", 400, "\"__type\":\"TooManyRequestsException\"")]
#[case::s3("s3", 503, "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>")]
#[tokio::test]
async fn throttling_is_each_services_own_error_in_its_envelope(#[case] service: &str, #[case] status: u16, #[case] body: &str) {
    let emulator = faulted("throttle=1/2").await;
    let first = send_as_admin(&emulator, service).await;
    // Organizations answers its own error to an account outside an organization: not a fault.
    assert!(!first.body.contains(body), "the first request is not faulted: {}", first.body);
    let second = send_as_admin(&emulator, service).await;
    assert_eq!(second.status, status, "{}", second.body);
    assert!(second.body.contains(body), "{}", second.body);
    assert!(second.headers.contains("x-amzn-requestid") || second.headers.contains("x-amz-request-id"), "{}", second.headers);
    let third = send_as_admin(&emulator, service).await;
    assert!(!third.body.contains(body), "a retry goes through: {}", third.body);
    assert_eq!(third.status, first.status);
}

#[rstest]
#[case::iam("iam", "<Type>Receiver</Type><Code>ServiceFailure</Code>")]
#[case::sts("sts", "<Code>InternalFailure</Code>")]
#[case::ec2("ec2", "<Code>InternalError</Code><Message>An internal error has occurred</Message>")]
#[case::kms("kms", "\"__type\":\"KMSInternalException\"")]
#[case::ssm("ssm", "\"__type\":\"InternalServerError\"")]
#[case::organizations("organizations", "\"__type\":\"ServiceException\"")]
#[case::s3("s3", "<Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message>")]
#[tokio::test]
async fn internal_errors_are_500s_in_each_services_words(#[case] service: &str, #[case] body: &str) {
    let emulator = faulted("error=1/1").await;
    let reply = send_as_admin(&emulator, service).await;
    assert_eq!(reply.status, 500, "{}", reply.body);
    assert!(reply.body.contains(body), "{}", reply.body);
}

#[tokio::test]
async fn a_faulted_request_changes_nothing() {
    let emulator = faulted("error=1/2").await;
    let (key, secret) = admin_a();
    let host = emulator.addr().to_string();
    let create = |name: &str| signed(form(&format!("Action=CreateUser&UserName={name}&Version=2010-05-08")), &host, "iam", key, secret, SystemTime::now());
    assert_eq!(send(&emulator, create("first")).await.status, 200);
    let faulted = send(&emulator, create("second")).await;
    assert_eq!(faulted.status, 500, "{}", faulted.body);
    assert!(emulator.inspect(|world| !world.iam(DEFAULT_ACCOUNTS[0].id).unwrap().users.contains_key("second")));
    // The retry creates the user once: no EntityAlreadyExists from a half-done first attempt.
    let retried = send(&emulator, create("second")).await;
    assert_eq!(retried.status, 200, "{}", retried.body);
}

#[tokio::test]
async fn authentication_errors_are_never_replaced_by_a_fault() {
    let emulator = faulted("throttle=1/1,error=1/1").await;
    let host = emulator.addr().to_string();
    let (key, _) = admin_a();
    for _ in 0..3 {
        let reply = send(&emulator, signed(request("sts"), &host, "sts", key, "not-the-secret", SystemTime::now())).await;
        assert_eq!(reply.status, 403, "{}", reply.body);
        assert!(reply.body.contains("<Code>SignatureDoesNotMatch</Code>"), "{}", reply.body);
    }
    // Faults were on: the same key, correctly signed, is throttled.
    let throttled = send_as_admin(&emulator, "sts").await;
    assert!(throttled.body.contains("<Code>Throttling</Code>"), "{}", throttled.body);
}

#[tokio::test]
async fn latency_is_added_to_every_http_request() {
    let emulator = faulted("latency=150ms").await;
    let started = Instant::now();
    let reply = send_as_admin(&emulator, "sts").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(started.elapsed() >= Duration::from_millis(150), "{:?}", started.elapsed());
}

#[tokio::test]
async fn without_a_profile_nothing_is_faulted() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    for _ in 0..20 {
        assert_eq!(send_as_admin(&emulator, "iam").await.status, 200);
    }
}
