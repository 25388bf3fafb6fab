//! S3 on the wire, with hand-built requests in the forms real clients send: botocore's
//! aws-chunked upload with a trailing checksum (what it sends over HTTPS), payload digests that
//! do not match, virtual-hosted addressing, and S3's error documents (no body for HEAD).

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::{
    http_request::{sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings, UriPathNormalizationMode},
    sign::v4,
};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wana_emulator::{Emulator, EmulatorConfig, DEFAULT_ACCOUNTS};

struct Reply {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

/// A request signed as the SDKs sign S3 requests: `x-amz-content-sha256` set to `payload_hash`
/// (the body's digest when `None`), the path signed as sent.
fn signed(
    method: &str,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    payload_hash: Option<&str>,
    key: (&str, &str),
) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    all.push(("host".to_string(), host.to_string()));
    let identity = Credentials::new(key.0, key.1, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .unwrap();
    let hash = payload_hash.map(str::to_string).unwrap_or_else(|| hex::encode(Sha256::digest(body)));
    let signable = SignableRequest::new(
        method,
        path,
        all.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Precomputed(hash),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params.into()).unwrap().into_parts();
    for (name, value) in instructions.headers() {
        all.push((name.to_string(), value.to_string()));
    }
    all
}

async fn send(emulator: &Emulator, method: &str, path: &str, headers: &[(String, String)], body: &[u8]) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(emulator.addr()).await.unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP response");
    let headers = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = headers.split_whitespace().nth(1).unwrap().parse().unwrap();
    Reply { status, headers, body: raw[split + 4..].to_vec() }
}

fn admin_a() -> (&'static str, &'static str) {
    (DEFAULT_ACCOUNTS[0].access_key_id, DEFAULT_ACCOUNTS[0].secret_access_key)
}

async fn request(emulator: &Emulator, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8], payload_hash: Option<&str>) -> Reply {
    let host = emulator.addr().to_string();
    let signed = signed(method, path, &host, headers, body, payload_hash, admin_a());
    send(emulator, method, path, &signed, body).await
}

async fn emulator_with_bucket() -> Emulator {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let created = request(&emulator, "PUT", "/reports", &[], b"", None).await;
    assert_eq!(created.status, 200, "{}", created.text());
    assert_eq!(created.header("location").as_deref(), Some("/reports"));
    emulator
}

/// What botocore's `AwsChunkedWrapper` sends for `hello world` with a CRC32 trailer.
const CHUNKED: &[u8] = b"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
const CHUNKED_HEADERS: [(&str, &str); 4] = [
    ("content-encoding", "aws-chunked"),
    ("x-amz-decoded-content-length", "11"),
    ("x-amz-trailer", "x-amz-checksum-crc32"),
    ("x-amz-sdk-checksum-algorithm", "CRC32"),
];

#[tokio::test]
async fn an_aws_chunked_upload_with_a_trailing_checksum_stores_the_decoded_body() {
    let emulator = emulator_with_bucket().await;
    let put = request(&emulator, "PUT", "/reports/hello.txt", &CHUNKED_HEADERS, CHUNKED, Some("STREAMING-UNSIGNED-PAYLOAD-TRAILER")).await;
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(put.header("etag").as_deref(), Some("\"5eb63bbbe01eeed093cb22bb8f5acdc3\""));
    assert_eq!(put.header("x-amz-checksum-crc32").as_deref(), Some("DUoRhQ=="));

    let get = request(&emulator, "GET", "/reports/hello.txt", &[("x-amz-checksum-mode", "ENABLED")], b"", None).await;
    assert_eq!(get.status, 200);
    assert_eq!(get.body, b"hello world");
    assert_eq!(get.header("content-length").as_deref(), Some("11"));
    assert_eq!(get.header("x-amz-checksum-crc32").as_deref(), Some("DUoRhQ=="));
    assert!(get.header("last-modified").is_some_and(|d| d.ends_with(" GMT")));

    let head = request(&emulator, "HEAD", "/reports/hello.txt", &[], b"", None).await;
    assert_eq!((head.status, head.body.len()), (200, 0));
    assert_eq!(head.header("content-length").as_deref(), Some("11"), "HEAD tells the object's size");
}

#[tokio::test]
async fn a_trailing_checksum_that_does_not_match_is_bad_digest() {
    let emulator = emulator_with_bucket().await;
    let forged: Vec<u8> = String::from_utf8(CHUNKED.to_vec()).unwrap().replace("hello world", "hello_world").into_bytes();
    let put = request(&emulator, "PUT", "/reports/hello.txt", &CHUNKED_HEADERS, &forged, Some("STREAMING-UNSIGNED-PAYLOAD-TRAILER")).await;
    assert_eq!(put.status, 400);
    assert!(put.text().contains("<Code>BadDigest</Code><Message>The CRC32 you specified did not match the calculated checksum.</Message>"), "{}", put.text());
    let get = request(&emulator, "GET", "/reports/hello.txt", &[], b"", None).await;
    assert_eq!(get.status, 404, "nothing was stored");
}

#[tokio::test]
async fn a_truncated_chunked_body_is_incomplete() {
    let emulator = emulator_with_bucket().await;
    let put = request(&emulator, "PUT", "/reports/x", &CHUNKED_HEADERS, &CHUNKED[..20], Some("STREAMING-UNSIGNED-PAYLOAD-TRAILER")).await;
    assert_eq!(put.status, 400);
    assert!(put.text().contains("<Code>IncompleteBody</Code>"), "{}", put.text());
}

#[tokio::test]
async fn a_body_that_is_not_the_signed_digest_is_a_content_sha256_mismatch() {
    let emulator = emulator_with_bucket().await;
    let declared = hex::encode(Sha256::digest(b"what was signed"));
    let put = request(&emulator, "PUT", "/reports/x", &[], b"what was sent", Some(&declared)).await;
    assert_eq!(put.status, 400);
    let text = put.text();
    assert!(text.contains("<Code>XAmzContentSHA256Mismatch</Code>"), "{text}");
    assert!(text.contains("<RequestId>") && text.contains("<HostId>"), "{text}");
    let host_id = put.header("x-amz-id-2").unwrap();
    assert!(text.contains(&format!("<HostId>{host_id}</HostId>")), "{text}");
}

#[tokio::test]
async fn s3_errors_name_the_unknown_key_and_head_errors_have_no_body() {
    let emulator = emulator_with_bucket().await;
    let host = emulator.addr().to_string();
    let stale = signed("PUT", "/reports/x", &host, &[], b"x", None, ("AKIASTALEKEY00000000", "not-a-secret"));
    let refused = send(&emulator, "PUT", "/reports/x", &stale, b"x").await;
    assert_eq!(refused.status, 403);
    assert!(refused.text().contains(
        "<Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message>"
    ));
    let missing = request(&emulator, "HEAD", "/nowhere", &[], b"", None).await;
    assert_eq!((missing.status, missing.body.len()), (404, 0));
    let listed = request(&emulator, "GET", "/nowhere?list-type=2", &[], b"", None).await;
    assert_eq!(listed.status, 404);
    assert!(listed.text().contains("<Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>"));
}

#[tokio::test]
async fn virtual_hosted_requests_name_the_bucket_in_the_host() {
    let emulator = emulator_with_bucket().await;
    let host = format!("reports.localhost:{}", emulator.addr().port());
    let put = signed("PUT", "/notes/a.txt", &host, &[], b"vhost", None, admin_a());
    assert_eq!(send(&emulator, "PUT", "/notes/a.txt", &put, b"vhost").await.status, 200);
    let get = request(&emulator, "GET", "/reports/notes/a.txt", &[], b"", None).await;
    assert_eq!(get.body, b"vhost");
    let list = request(&emulator, "GET", "/reports?list-type=2&prefix=notes%2F", &[], b"", None).await;
    assert!(list.text().contains("<Key>notes/a.txt</Key>"), "{}", list.text());
    assert!(list.text().contains("<KeyCount>1</KeyCount>"), "{}", list.text());
}
