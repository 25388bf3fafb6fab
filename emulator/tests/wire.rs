//! The emulator on the wire, with hand-built requests: every malformed or unauthenticated
//! request gets the AWS error envelope of its protocol, never a panic or a dropped connection.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::{
    http_request::{sign, SignableBody, SignableRequest, SigningSettings},
    sign::v4,
};
use rstest::rstest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wana_emulator::{Emulator, EmulatorConfig, DEFAULT_ACCOUNTS};

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

async fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig::default()).await.unwrap()
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

#[rstest]
#[case::iam_unknown_action("iam", "Action=DescribeUnicorns&Version=2010-05-08", 400, "<Code>InvalidAction</Code>")]
#[case::sts_unknown_action("sts", "Action=GetUnicorn&Version=2011-06-15", 400, "<Code>InvalidAction</Code>")]
#[case::ec2_not_emulated_action("ec2", "Action=DescribeUnicorns&Version=2016-11-15", 400, "<Response><Errors><Error><Code>InvalidAction</Code>")]
#[case::missing_required_member("iam", "Action=CreateUser&Version=2010-05-08", 400, "<Code>ValidationError</Code>")]
#[case::malformed_percent_encoding("iam", "Action=CreateUser&UserName=%ZZ%&Version=2010-05-08", 400, "<Code>")]
#[case::binary_garbage("iam", "\u{0}\u{1}\u{2}Action", 400, "<Code>")]
#[tokio::test]
async fn bad_query_requests_get_query_errors(
    #[case] service: &str,
    #[case] body: &str,
    #[case] status: u16,
    #[case] fragment: &str,
) {
    let emulator = emulator().await;
    let (key, secret) = admin_a();
    let host = emulator.addr().to_string();
    let reply = send(&emulator, signed(form(body), &host, service, key, secret, SystemTime::now())).await;
    assert_eq!(reply.status, status, "{}", reply.body);
    assert!(reply.body.contains(fragment), "{}", reply.body);
}

#[tokio::test]
async fn malformed_json_gets_a_serialization_error_in_json() {
    let emulator = emulator().await;
    let (key, secret) = admin_a();
    let host = emulator.addr().to_string();
    let reply = send(
        &emulator,
        signed(json("TrentService.ListKeys", "{\"Limit\":"), &host, "kms", key, secret, SystemTime::now()),
    )
    .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains("\"__type\""), "{}", reply.body);
    assert!(reply.body.contains("SerializationException"), "{}", reply.body);
}

/// The authentication failures of each protocol family, per the dossier's table.
#[rstest]
#[case::query_unknown_key("sts", false, "AKIAWANAUNKNOWN00000", 403, "<Code>InvalidClientTokenId</Code>")]
#[case::query_wrong_secret("sts", false, "", 403, "<Code>SignatureDoesNotMatch</Code>")]
#[case::ec2_unknown_key("ec2", false, "AKIAWANAUNKNOWN00000", 401, "<Code>AuthFailure</Code><Message>AWS was not able to validate the provided access credentials</Message>")]
#[case::ec2_wrong_secret("ec2", false, "", 403, "<Code>SignatureDoesNotMatch</Code>")]
#[case::json_unknown_key("kms", true, "AKIAWANAUNKNOWN00000", 400, "UnrecognizedClientException")]
#[case::json_wrong_secret("kms", true, "", 400, "InvalidSignatureException")]
#[tokio::test]
async fn authentication_failures_use_each_protocols_code(
    #[case] service: &str,
    #[case] is_json: bool,
    #[case] key_override: &str,
    #[case] status: u16,
    #[case] fragment: &str,
) {
    let emulator = emulator().await;
    let (key, secret) = admin_a();
    let (key, secret) = if key_override.is_empty() { (key, "wrong-secret") } else { (key_override, secret) };
    let request = match (is_json, service) {
        (true, _) => json("TrentService.ListKeys", "{}"),
        (false, "ec2") => form("Action=DescribeInstances&Version=2016-11-15"),
        (false, _) => form("Action=GetCallerIdentity&Version=2011-06-15"),
    };
    let host = emulator.addr().to_string();
    let reply = send(&emulator, signed(request, &host, service, key, secret, SystemTime::now())).await;
    assert_eq!(reply.status, status, "{}", reply.body);
    assert!(reply.body.contains(fragment), "{}", reply.body);
}

#[tokio::test]
async fn a_request_signed_far_in_the_past_is_refused_for_clock_skew() {
    let emulator = emulator().await;
    let (key, secret) = admin_a();
    let host = emulator.addr().to_string();
    let an_hour_ago = SystemTime::now() - std::time::Duration::from_secs(3600);
    let reply = send(
        &emulator,
        signed(form("Action=GetCallerIdentity&Version=2011-06-15"), &host, "sts", key, secret, an_hour_ago),
    )
    .await;
    assert_eq!(reply.status, 403);
    assert!(reply.body.contains("<Code>SignatureDoesNotMatch</Code>"), "{}", reply.body);
    assert!(reply.body.contains("Signature expired: "), "{}", reply.body);
    assert!(reply.body.contains(" - 15 min.)"), "{}", reply.body);

    let ec2 = send(
        &emulator,
        signed(form("Action=DescribeInstances&Version=2016-11-15"), &host, "ec2", key, secret, an_hour_ago),
    )
    .await;
    assert_eq!(ec2.status, 400);
    assert!(ec2.body.contains("<Code>RequestExpired</Code>"), "{}", ec2.body);
}

#[tokio::test]
async fn unsigned_and_half_signed_requests_are_refused() {
    let emulator = emulator().await;
    let unsigned = send(&emulator, form("Action=GetCallerIdentity&Version=2011-06-15")).await;
    assert_eq!(unsigned.status, 403);
    assert!(unsigned.body.contains("<Code>MissingAuthenticationToken</Code>"), "{}", unsigned.body);

    let mut half = form("Action=GetCallerIdentity&Version=2011-06-15");
    half.headers.push(("authorization", "AWS4-HMAC-SHA256 Credential=AKIAWANAADMINA000001/20240101/us-east-1/sts/aws4_request".to_string()));
    let reply = send(&emulator, half).await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("<Code>IncompleteSignature</Code>"), "{}", reply.body);
}

#[tokio::test]
async fn every_reply_carries_a_request_id_and_the_connection_survives_errors() {
    let emulator = emulator().await;
    let (key, secret) = admin_a();
    let host = emulator.addr().to_string();
    for _ in 0..3 {
        let reply = send(
            &emulator,
            signed(form("Action=Nope&Version=2010-05-08"), &host, "iam", key, secret, SystemTime::now()),
        )
        .await;
        assert_eq!(reply.status, 400);
        assert!(reply.headers.contains("x-amzn-requestid"), "{}", reply.headers);
    }
    let ok = send(
        &emulator,
        signed(form("Action=GetCallerIdentity&Version=2011-06-15"), &host, "sts", key, secret, SystemTime::now()),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.body.contains("<Arn>arn:aws:iam::111111111111:user/admin</Arn>"), "{}", ok.body);
}

fn s3(method: &'static str, path: &'static str) -> Req<'static> {
    Req { method, path, headers: Vec::new(), body: Vec::new() }
}

#[tokio::test]
async fn s3_is_routed_by_method_and_path_and_answers_in_rest_xml() {
    let emulator = emulator().await;
    let (key, secret) = admin_a();
    let host = emulator.addr().to_string();
    let list = send(&emulator, signed(s3("GET", "/"), &host, "s3", key, secret, SystemTime::now())).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"), "{}", list.body);
    assert!(list.headers.contains("x-amz-request-id"), "{}", list.headers);

    // Routed, not emulated: S3's own NotImplemented, never a query-protocol error.
    let location = send(&emulator, signed(s3("GET", "/reports?location"), &host, "s3", key, secret, SystemTime::now())).await;
    assert_eq!(location.status, 501, "{}", location.body);
    assert!(location.body.contains("<Error><Code>NotImplemented</Code>"), "{}", location.body);

    let unknown_key = send(
        &emulator,
        signed(s3("GET", "/"), &host, "s3", "AKIAUNKNOWNUNKNOWN00", secret, SystemTime::now()),
    )
    .await;
    assert_eq!(unknown_key.status, 403);
    assert!(
        unknown_key.body.contains(
            "<Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message>"
        ),
        "{}",
        unknown_key.body
    );
}

#[tokio::test]
async fn a_declared_body_over_the_limit_is_refused_at_once() {
    let emulator = emulator().await;
    let mut stream = tokio::net::TcpStream::connect(emulator.addr()).await.unwrap();
    let head = format!("POST / HTTP/1.1\r\nhost: {}\r\ncontent-length: 99999999999\r\n\r\n", emulator.addr());
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    // No body follows: the answer must come without waiting for one.
    tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut raw))
        .await
        .expect("the emulator answered instead of waiting for the body")
        .unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("<Code>RequestEntityTooLarge</Code>"), "{text}");
}

async fn http(addr: std::net::SocketAddr, method: &str, path: &str, headers: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!("{method} {path} HTTP/1.1\r\nhost: 169.254.169.254\r\n{headers}connection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    (head.split_whitespace().nth(1).unwrap().parse().unwrap(), body.to_string())
}

#[tokio::test]
async fn instance_metadata_is_unsigned_and_answers_only_for_its_instance() {
    let emulator = emulator().await;
    let (key, secret) = admin_a();
    let host = emulator.addr().to_string();
    let run = send(
        &emulator,
        signed(
            form("Action=RunInstances&Version=2016-11-15&ImageId=ami-374db956&MinCount=1&MaxCount=1&InstanceType=t2.micro"),
            &host,
            "ec2",
            key,
            secret,
            SystemTime::now(),
        ),
    )
    .await;
    assert_eq!(run.status, 200, "{}", run.body);
    let instance_id = run.body.split("<instanceId>").nth(1).and_then(|r| r.split('<').next()).unwrap().to_string();

    let imds = emulator.serve_instance_metadata(&instance_id).await.unwrap();
    let (status, body) = http(imds.addr(), "GET", "/latest/meta-data/instance-id", "").await;
    assert_eq!((status, body.as_str()), (200, instance_id.as_str()));

    let (status, token) = http(imds.addr(), "PUT", "/latest/api/token", "x-aws-ec2-metadata-token-ttl-seconds: 21600\r\n").await;
    assert_eq!(status, 200);
    assert_eq!(token.len(), 56, "{token}");
    let (status, _) = http(imds.addr(), "PUT", "/latest/api/token", "x-aws-ec2-metadata-token-ttl-seconds: 21601\r\n").await;
    assert_eq!(status, 400);

    let (status, page) = http(imds.addr(), "GET", "/latest/meta-data/no-such-thing", "").await;
    assert_eq!(status, 404);
    assert!(page.contains("<title>404 - Not Found</title>"), "{page}");

    // A metadata endpoint for an instance that does not exist answers nothing about anyone.
    let stranger = emulator.serve_instance_metadata("i-00000000000000000").await.unwrap();
    assert_eq!(http(stranger.addr(), "GET", "/latest/meta-data/instance-id", "").await.0, 404);
}

/// An image registered by account A and shared with account B through the query wire: the
/// nested `LaunchPermission.Add.N.UserId` members, B's view with `ExecutableBy.1=self`, and the
/// permission list in EC2's XML.
#[tokio::test]
async fn an_image_shared_on_the_wire_is_listed_for_the_other_account() {
    let emulator = emulator().await;
    let host = emulator.addr().to_string();
    let (key_a, secret_a) = admin_a();
    let (key_b, secret_b) = (DEFAULT_ACCOUNTS[1].access_key_id, DEFAULT_ACCOUNTS[1].secret_access_key);
    let ec2 = |body: String, key: &'static str, secret: &'static str| {
        signed(form(&format!("Version=2016-11-15&{body}")), &host, "ec2", key, secret, SystemTime::now())
    };
    let registered = send(
        &emulator,
        ec2(
            "Action=RegisterImage&Name=wire-image&RootDeviceName=/dev/xvda&BlockDeviceMapping.1.DeviceName=/dev/xvda\
             &BlockDeviceMapping.1.Ebs.SnapshotId=snap-0a1b2c3d4e5f60001"
                .to_string(),
            key_a,
            secret_a,
        ),
    )
    .await;
    assert_eq!(registered.status, 200, "{}", registered.body);
    let image_id = registered.body.split("<imageId>").nth(1).and_then(|r| r.split('<').next()).unwrap().to_string();

    let share = format!("Action=ModifyImageAttribute&ImageId={image_id}&LaunchPermission.Add.1.UserId=222222222222");
    let shared = send(&emulator, ec2(share, key_a, secret_a)).await;
    assert_eq!(shared.status, 200, "{}", shared.body);
    let listed = send(&emulator, ec2("Action=DescribeImages&ExecutableBy.1=self".to_string(), key_b, secret_b)).await;
    assert!(listed.body.contains(&format!("<imageId>{image_id}</imageId>")), "{}", listed.body);
    let attribute = format!("Action=DescribeImageAttribute&ImageId={image_id}&Attribute=launchPermission");
    let permissions = send(&emulator, ec2(attribute.clone(), key_a, secret_a)).await;
    assert!(
        permissions.body.contains("<launchPermission><item><userId>222222222222</userId></item></launchPermission>"),
        "{}",
        permissions.body
    );
    let refused = send(&emulator, ec2(attribute, key_b, secret_b)).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains(&format!("<Code>AuthFailure</Code><Message>Not authorized for image:{image_id}</Message>")), "{}", refused.body);
}

#[tokio::test]
async fn auto_scaling_speaks_aws_query_with_member_lists_and_its_error_envelope() {
    let emulator = emulator().await;
    let (key, secret) = admin_a();
    let host = emulator.addr().to_string();
    let call = |body: &str| signed(form(body), &host, "autoscaling", key, secret, SystemTime::now());
    let lc = "Action=CreateLaunchConfiguration&Version=2011-01-01&LaunchConfigurationName=lc\
              &ImageId=ami-374db956&InstanceType=t2.micro\
              &BlockDeviceMappings.member.1.DeviceName=%2Fdev%2Fxvda&BlockDeviceMappings.member.1.Ebs.Encrypted=true";
    let reply = send(&emulator, call(lc)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let group = "Action=CreateAutoScalingGroup&Version=2011-01-01&AutoScalingGroupName=web\
                 &LaunchConfigurationName=lc&MinSize=0&MaxSize=2&DesiredCapacity=0\
                 &AvailabilityZones.member.1=us-east-1a&Tags.member.1.Key=team&Tags.member.1.Value=web";
    let reply = send(&emulator, call(group)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("<CreateAutoScalingGroupResponse"), "{}", reply.body);

    let reply = send(&emulator, call("Action=DescribeAutoScalingGroups&Version=2011-01-01")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply.body.contains("<DescribeAutoScalingGroupsResult><AutoScalingGroups><member><AutoScalingGroupName>web"),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("<AvailabilityZones><member>us-east-1a</member></AvailabilityZones>"), "{}", reply.body);
    let reply = send(&emulator, call("Action=DescribeLaunchConfigurations&Version=2011-01-01")).await;
    assert!(reply.body.contains("<Ebs><Encrypted>true</Encrypted></Ebs>"), "{}", reply.body);

    let reply = send(&emulator, call(group)).await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.body.contains("<ErrorResponse") && reply.body.contains("<Code>AlreadyExists</Code>"),
        "{}",
        reply.body
    );
}

/// Admin A's signed query request, signed at the emulator's time (the clock may have moved).
async fn admin_query(emulator: &Emulator, service: &str, body: &str) -> Reply {
    let (key, secret) = admin_a();
    let at: SystemTime = emulator.clock().now().into();
    let reply = send(emulator, signed(form(body), &emulator.addr().to_string(), service, key, secret, at)).await;
    assert_eq!(reply.status, 200, "{body}: {}", reply.body);
    reply
}

fn between<'t>(text: &'t str, open: &str, close: &str) -> &'t str {
    text.split(open).nth(1).and_then(|rest| rest.split(close).next()).unwrap_or_else(|| panic!("no {open} in {text}"))
}

/// A role trusting `service`, in an instance profile of the same name, and an instance launched
/// with that profile; returns the instance id.
async fn instance_with_role(emulator: &Emulator, name: &str, service: &str) -> String {
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let trust: String = trust.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
    let v = "Version=2010-05-08";
    admin_query(emulator, "iam", &format!("Action=CreateRole&{v}&RoleName={name}&AssumeRolePolicyDocument={trust}")).await;
    admin_query(emulator, "iam", &format!("Action=CreateInstanceProfile&{v}&InstanceProfileName={name}")).await;
    admin_query(emulator, "iam", &format!("Action=AddRoleToInstanceProfile&{v}&InstanceProfileName={name}&RoleName={name}")).await;
    // EC2 learns of the new profile once IAM's change has propagated, as on AWS.
    emulator.clock().advance(wana_emulator::AWS_INSTANCE_PROFILE_PROPAGATION);
    let run = admin_query(
        emulator,
        "ec2",
        &format!("Action=RunInstances&Version=2016-11-15&ImageId=ami-374db956&MinCount=1&MaxCount=1&InstanceType=t2.micro&IamInstanceProfile.Name={name}"),
    )
    .await;
    between(&run.body, "<instanceId>", "<").to_string()
}

/// The instance's role credentials, as `curl` and the SDKs fetch them, sign a request whose
/// caller is the role session `assumed-role/<role>/<instance-id>`; the session is reused, another
/// role name is not found, and the identity document and placement describe the instance.
#[tokio::test]
async fn instance_metadata_serves_the_profile_roles_credentials() {
    let emulator = emulator().await;
    let instance_id = instance_with_role(&emulator, "WebServer", "ec2.amazonaws.com").await;
    let imds = emulator.serve_instance_metadata(&instance_id).await.unwrap();

    let (status, listing) = http(imds.addr(), "GET", "/latest/meta-data/", "").await;
    assert_eq!(status, 200);
    assert!(listing.lines().any(|l| l == "iam/") && listing.lines().any(|l| l == "instance-id"), "{listing}");
    assert_eq!(http(imds.addr(), "GET", "/latest/meta-data/iam/security-credentials/", "").await, (200, "WebServer".to_string()));
    let (status, body) = http(imds.addr(), "GET", "/latest/meta-data/iam/security-credentials/WebServer", "").await;
    assert_eq!(status, 200, "{body}");
    let creds: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((creds["Code"].as_str(), creds["Type"].as_str()), (Some("Success"), Some("AWS-HMAC")));
    let key = creds["AccessKeyId"].as_str().unwrap().to_string();
    assert!(key.starts_with("ASIA"), "{key}");
    let expiration: chrono::DateTime<chrono::Utc> = creds["Expiration"].as_str().unwrap().parse().unwrap();
    assert!(expiration > emulator.clock().now() + chrono::Duration::hours(1), "{expiration}");

    // Signed like the SDK's instance-role provider signs: key, secret and session token.
    let mut req = form("Action=GetCallerIdentity&Version=2011-06-15");
    req.headers.push(("x-amz-security-token", creds["Token"].as_str().unwrap().to_string()));
    let at: SystemTime = emulator.clock().now().into();
    let who = send(&emulator, signed(req, &emulator.addr().to_string(), "sts", &key, creds["SecretAccessKey"].as_str().unwrap(), at)).await;
    assert_eq!(who.status, 200, "{}", who.body);
    let account = DEFAULT_ACCOUNTS[0].id;
    assert_eq!(between(&who.body, "<Arn>", "<"), format!("arn:aws:sts::{account}:assumed-role/WebServer/{instance_id}"));

    // The same session until five minutes before it expires, then a new one.
    let (_, again) = http(imds.addr(), "GET", "/latest/meta-data/iam/security-credentials/WebServer", "").await;
    assert!(again.contains(&key), "{again}");
    let until_rotation = (expiration - emulator.clock().now() - chrono::Duration::minutes(4)).to_std().unwrap();
    emulator.clock().advance(until_rotation);
    let (_, rotated) = http(imds.addr(), "GET", "/latest/meta-data/iam/security-credentials/WebServer", "").await;
    let rotated: serde_json::Value = serde_json::from_str(&rotated).unwrap();
    assert_ne!(rotated["AccessKeyId"].as_str(), Some(key.as_str()));

    assert_eq!(http(imds.addr(), "GET", "/latest/meta-data/iam/security-credentials/Other", "").await.0, 404);
    let (status, info) = http(imds.addr(), "GET", "/latest/meta-data/iam/info", "").await;
    assert_eq!(status, 200);
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["InstanceProfileArn"].as_str(), Some(format!("arn:aws:iam::{account}:instance-profile/WebServer").as_str()));
    assert!(info["InstanceProfileId"].as_str().unwrap().starts_with("AIPA"), "{info}");

    assert_eq!(http(imds.addr(), "GET", "/latest/meta-data/placement/region", "").await, (200, "us-east-1".to_string()));
    let (_, zone) = http(imds.addr(), "GET", "/latest/meta-data/placement/availability-zone", "").await;
    assert!(zone.starts_with("us-east-1"), "{zone}");
    let (status, document) = http(imds.addr(), "GET", "/latest/dynamic/instance-identity/document", "").await;
    assert_eq!(status, 200);
    let document: serde_json::Value = serde_json::from_str(&document).unwrap();
    assert_eq!(document["instanceId"].as_str(), Some(instance_id.as_str()));
    assert_eq!(document["accountId"].as_str(), Some(account));
    assert_eq!(document["availabilityZone"].as_str(), Some(zone.as_str()));
    assert_eq!(document["instanceType"].as_str(), Some("t2.micro"));
    assert_eq!(http(imds.addr(), "GET", "/latest/meta-data/iam/nothing", "").await.0, 404);
}

/// A role whose trust policy does not name `ec2.amazonaws.com` is listed, but EC2 cannot assume
/// it, so there are no credentials; the refusal is in the authorization log. An instance without
/// a profile has no `iam/` at all.
#[tokio::test]
async fn instance_metadata_serves_no_credentials_when_ec2_may_not_assume_the_role() {
    let emulator = emulator().await;
    let instance_id = instance_with_role(&emulator, "LambdaOnly", "lambda.amazonaws.com").await;
    let imds = emulator.serve_instance_metadata(&instance_id).await.unwrap();
    assert_eq!(http(imds.addr(), "GET", "/latest/meta-data/iam/security-credentials/", "").await, (200, "LambdaOnly".to_string()));
    assert_eq!(http(imds.addr(), "GET", "/latest/meta-data/iam/security-credentials/LambdaOnly", "").await.0, 404);
    let refused = emulator.inspect(|world| {
        world.authz_log.records().any(|r| {
            r.action == "sts:AssumeRole" && r.resource.ends_with(":role/LambdaOnly") && !r.allowed
                && r.acting_service.as_deref() == Some("ec2.amazonaws.com")
        })
    });
    assert!(refused, "the refused sts:AssumeRole is logged");

    let run = admin_query(&emulator, "ec2", "Action=RunInstances&Version=2016-11-15&ImageId=ami-374db956&MinCount=1&MaxCount=1&InstanceType=t2.micro").await;
    let bare = emulator.serve_instance_metadata(between(&run.body, "<instanceId>", "<")).await.unwrap();
    assert_eq!(http(bare.addr(), "GET", "/latest/meta-data/iam/security-credentials/", "").await.0, 404);
    assert_eq!(http(bare.addr(), "GET", "/latest/meta-data/iam/info", "").await.0, 404);
    let (_, listing) = http(bare.addr(), "GET", "/latest/meta-data/", "").await;
    assert!(!listing.contains("iam/"), "{listing}");
}

/// IMDSv2 tokens: a live token of this instance is accepted; an unknown one, another instance's,
/// or an expired one gets the 401 page.
#[tokio::test]
async fn instance_metadata_checks_the_session_tokens_it_issued() {
    let emulator = emulator().await;
    let instance_id = instance_with_role(&emulator, "Tokens", "ec2.amazonaws.com").await;
    let imds = emulator.serve_instance_metadata(&instance_id).await.unwrap();
    let (_, token) = http(imds.addr(), "PUT", "/latest/api/token", "x-aws-ec2-metadata-token-ttl-seconds: 60\r\n").await;
    let with = |t: &str| format!("x-aws-ec2-metadata-token: {t}\r\n");
    assert_eq!(http(imds.addr(), "GET", "/latest/meta-data/instance-id", &with(&token)).await, (200, instance_id.clone()));

    let (status, page) = http(imds.addr(), "GET", "/latest/meta-data/instance-id", &with("AQAEAnotAtokenOfThisInstance")).await;
    assert_eq!(status, 401);
    assert!(page.contains("<title>401 - Unauthorized</title>"), "{page}");

    let other = instance_with_role(&emulator, "Other", "ec2.amazonaws.com").await;
    let other = emulator.serve_instance_metadata(&other).await.unwrap();
    assert_eq!(http(other.addr(), "GET", "/latest/meta-data/instance-id", &with(&token)).await.0, 401);

    emulator.clock().advance(std::time::Duration::from_secs(61));
    assert_eq!(http(imds.addr(), "GET", "/latest/meta-data/instance-id", &with(&token)).await.0, 401);
    // Without a token, IMDSv1 still answers (HttpTokens=optional).
    assert_eq!(http(imds.addr(), "GET", "/latest/meta-data/instance-id", "").await.0, 200);
}
