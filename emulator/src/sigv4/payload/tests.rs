//! S3's payload rules against AWS's published example of a signed streaming upload (S3 API
//! reference, "Example: PUT Object" under "Transferring payload in multiple chunks"): 66,560
//! bytes of `a` in chunks of 65,536, 1,024 and 0 bytes, whose signatures AWS documents. A pass
//! means the request signature, the chain of chunk signatures and the trailer signature are
//! computed as S3 computes them, not merely consistently with themselves.

use std::net::{IpAddr, Ipv4Addr};

use chrono::{TimeZone, Utc};
use rstest::rstest;
use sha2::{Digest, Sha256};

use super::*;
use crate::{
    profile::BehaviourProfile,
    sigv4::{authenticate, parse_authorization},
    state::{AccessKey, KeyOwner, KeyStatus},
};

const KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const CHUNK_1: &str = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
const CHUNK_2: &str = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
const CHUNK_FINAL: &str = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";
/// The signature of the trailers `first:1st`, `second:2nd`, `third:3rd` after the final chunk
/// (the AWS Common Runtime's test of the same example).
const TRAILER: &str = "df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c";

fn example_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2013, 5, 24, 0, 0, 0).single().unwrap()
}

/// A world where AWS's example key belongs to account A's administrator.
fn world() -> World {
    let mut world = World::new(BehaviourProfile::Current, example_time());
    world.access_keys.insert(
        KEY.to_string(),
        AccessKey {
            id: KEY.to_string(),
            secret: SECRET.to_string(),
            created: example_time(),
            status: KeyStatus::Active,
            owner: KeyOwner::User { account: "111111111111".to_string(), user_name: "admin".to_string() },
        },
    );
    world
}

fn chunked_body(signatures: [&str; 3], tamper: bool) -> Vec<u8> {
    let mut body = Vec::new();
    for (size, signature) in [65536usize, 1024, 0].into_iter().zip(signatures) {
        body.extend_from_slice(format!("{size:x};chunk-signature={signature}\r\n").as_bytes());
        let mut data = vec![b'a'; size];
        if tamper && size == 1024 {
            data[10] = b'b';
        }
        body.extend_from_slice(&data);
        if size > 0 {
            body.extend_from_slice(b"\r\n");
        }
    }
    body.extend_from_slice(b"\r\n");
    body
}

fn example_headers(content_sha256: &str, decoded_length: Option<&str>) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    headers.insert("host", "s3.amazonaws.com".parse().unwrap());
    headers.insert("x-amz-date", "20130524T000000Z".parse().unwrap());
    headers.insert("x-amz-storage-class", "REDUCED_REDUNDANCY".parse().unwrap());
    headers.insert("content-encoding", "aws-chunked".parse().unwrap());
    headers.insert("content-length", "66824".parse().unwrap());
    headers.insert("x-amz-content-sha256", content_sha256.parse().unwrap());
    if let Some(length) = decoded_length {
        headers.insert("x-amz-decoded-content-length", length.parse().unwrap());
    }
    headers
}

fn example_authorization() -> SignatureHeader {
    parse_authorization(&format!(
        "AWS4-HMAC-SHA256 Credential={KEY}/20130524/us-east-1/s3/aws4_request, SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class, Signature={SEED}"
    ))
    .unwrap()
}

fn request<'a>(headers: &'a http::HeaderMap, body: &'a [u8]) -> SignedRequest<'a> {
    SignedRequest {
        method: "PUT",
        path_and_query: "/examplebucket/chunkObject.txt",
        headers,
        body,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
    }
}

#[test]
fn aws_example_streaming_upload_authenticates_and_decodes() {
    let world = world();
    let headers = example_headers("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", Some("66560"));
    let body = chunked_body([CHUNK_1, CHUNK_2, CHUNK_FINAL], false);
    let request = request(&headers, &body);
    let auth = example_authorization();
    // The request's own signature is AWS's: the declared payload hash is what was signed.
    let caller = authenticate(&world, example_time(), example_time(), &request, &auth).expect("AWS's seed signature");
    assert_eq!(caller.principal.arn(), "arn:aws:iam::111111111111:user/admin");
    let payload = s3_payload(&world, &request, &auth).expect("AWS's chunk signatures");
    assert_eq!(payload.body, vec![b'a'; 66560]);
    assert!(payload.trailers.is_empty());
}

#[rstest]
#[case::tampered_data([CHUNK_1, CHUNK_2, CHUNK_FINAL], true)]
#[case::chunk_signature_out_of_order([CHUNK_2, CHUNK_1, CHUNK_FINAL], false)]
#[case::final_signature_wrong([CHUNK_1, CHUNK_2, CHUNK_1], false)]
fn a_broken_chain_of_chunk_signatures_is_signature_does_not_match(#[case] signatures: [&str; 3], #[case] tamper: bool) {
    let world = world();
    let headers = example_headers("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", Some("66560"));
    let body = chunked_body(signatures, tamper);
    let error = s3_payload(&world, &request(&headers, &body), &example_authorization()).unwrap_err();
    assert_eq!((error.code.as_ref(), error.status), ("SignatureDoesNotMatch", 403));
}

#[test]
fn trailers_are_signed_after_the_final_chunk() {
    let signing = ChunkSigning {
        key: aws_sigv4::sign::v4::generate_signing_key(SECRET, example_time().into(), "us-east-1", "s3").as_ref().to_vec(),
        amz_date: "20130524T000000Z".to_string(),
        scope: "20130524/us-east-1/s3/aws4_request".to_string(),
        seed: SEED.to_string(),
        signed_trailer: true,
    };
    let mut body = chunked_body([CHUNK_1, CHUNK_2, CHUNK_FINAL], false);
    body.truncate(body.len() - 2);
    body.extend_from_slice(format!("first:1st\r\nsecond:2nd\r\nthird:3rd\r\nx-amz-trailer-signature:{TRAILER}\r\n\r\n").as_bytes());
    let decoded = aws_chunked::decode(&body).unwrap();
    signing.verify(&decoded).expect("the Common Runtime's trailer signature");

    let forged = String::from_utf8(body).unwrap().replace("third:3rd", "third:4th");
    let decoded = aws_chunked::decode(forged.as_bytes()).unwrap();
    assert_eq!(signing.verify(&decoded).unwrap_err().code, "SignatureDoesNotMatch");
}

fn plain(content_sha256: Option<&str>, body: &[u8]) -> Result<S3Payload, AwsError> {
    let world = world();
    let mut headers = http::HeaderMap::new();
    if let Some(value) = content_sha256 {
        headers.insert("x-amz-content-sha256", value.parse().unwrap());
    }
    s3_payload(&world, &request(&headers, body), &example_authorization())
}

#[test]
fn a_hex_digest_must_be_the_bodys() {
    let digest = hex::encode(Sha256::digest(b"hello"));
    assert_eq!(plain(Some(&digest), b"hello").unwrap().body, b"hello");
    assert_eq!(plain(Some(&digest.to_uppercase()), b"hello").unwrap().body, b"hello");
    let error = plain(Some(&digest), b"hellO").unwrap_err();
    assert_eq!((error.code.as_ref(), error.status), ("XAmzContentSHA256Mismatch", 400));
    assert_eq!(error.message, "The provided 'x-amz-content-sha256' header does not match what was computed.");
}

#[test]
fn an_unsigned_payload_is_taken_as_sent() {
    assert_eq!(plain(Some("UNSIGNED-PAYLOAD"), b"anything").unwrap().body, b"anything");
}

#[rstest]
#[case::missing(None, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256")]
#[case::not_a_digest(Some("abc"), "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD")]
#[case::digest_too_long(Some("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), "InvalidArgument", "or a valid sha256 value.")]
fn the_payload_hash_header_is_required_and_must_be_a_known_value(
    #[case] value: Option<&str>,
    #[case] code: &str,
    #[case] message: &str,
) {
    let error = plain(value, b"").unwrap_err();
    assert_eq!((error.code.as_ref(), error.status), (code, 400));
    assert!(error.message.contains(message), "{}", error.message);
}

fn unsigned_trailer(headers: &[(&str, &str)], body: &[u8]) -> Result<S3Payload, AwsError> {
    let world = world();
    let mut map = http::HeaderMap::new();
    map.insert("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER".parse().unwrap());
    for (name, value) in headers {
        map.insert(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
    }
    s3_payload(&world, &request(&map, body), &example_authorization())
}

const BOTOCORE_BODY: &[u8] = b"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";

#[test]
fn botocore_unsigned_trailer_upload_gives_body_and_checksum() {
    let payload = unsigned_trailer(
        &[("x-amz-decoded-content-length", "11"), ("x-amz-trailer", "x-amz-checksum-crc32")],
        BOTOCORE_BODY,
    )
    .unwrap();
    assert_eq!(payload.body, b"hello world");
    assert_eq!(payload.trailers, [("x-amz-checksum-crc32".to_string(), "DUoRhQ==".to_string())]);
}

#[rstest]
#[case::no_decoded_length(&[("x-amz-trailer", "x-amz-checksum-crc32")], BOTOCORE_BODY, "MissingContentLength", 411)]
#[case::wrong_decoded_length(&[("x-amz-decoded-content-length", "12"), ("x-amz-trailer", "x-amz-checksum-crc32")], BOTOCORE_BODY, "IncompleteBody", 400)]
#[case::undeclared_trailer(&[("x-amz-decoded-content-length", "11")], BOTOCORE_BODY, "MalformedTrailerError", 400)]
#[case::declared_trailer_missing(&[("x-amz-decoded-content-length", "11"), ("x-amz-trailer", "x-amz-checksum-sha256")], BOTOCORE_BODY, "MalformedTrailerError", 400)]
#[case::unsupported_trailer(&[("x-amz-decoded-content-length", "11"), ("x-amz-trailer", "x-amz-meta-a")], BOTOCORE_BODY, "InvalidRequest", 400)]
#[case::truncated(&[("x-amz-decoded-content-length", "11"), ("x-amz-trailer", "x-amz-checksum-crc32")], &BOTOCORE_BODY[..20], "IncompleteBody", 400)]
fn broken_streaming_uploads_get_s3s_errors(
    #[case] headers: &[(&str, &str)],
    #[case] body: &[u8],
    #[case] code: &str,
    #[case] status: u16,
) {
    let error = unsigned_trailer(headers, body).unwrap_err();
    assert_eq!((error.code.as_ref(), error.status), (code, status));
}
