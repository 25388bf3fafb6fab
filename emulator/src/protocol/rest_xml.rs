//! restXml (S3): the operation comes from the HTTP method, the path, the query string and
//! the host, not from an `Action` member. Addressing follows S3's two styles:
//!
//! * path style, `http://127.0.0.1:4599/<bucket>/<key>`: what botocore and the Rust SDK use
//!   against an IP endpoint (botocore `S3RegionRedirector` / the S3 endpoint rules' `isIP`);
//! * virtual-hosted style, `Host: <bucket>.s3.<region>.amazonaws.com` or `<bucket>.localhost`:
//!   the bucket is the host's first label.
//!
//! Members are bound as the S3 model (botocore `s3/2006-03-01/service-2.json`) binds them:
//! `Bucket` and `Key` from the URI; query-string and header members under their model names
//! (`prefix` → `Prefix`, `x-amz-checksum-crc32` → `ChecksumCRC32`); the payload as `Body`
//! (PutObject), `Policy` (PutBucketPolicy) or the parsed `CreateBucketConfiguration`. Outputs
//! go the other way: header-bound members become headers, `Body` and GetBucketPolicy's `Policy`
//! are the raw payload, and a structure member is the XML document (`ListBucketResult`).

use percent_encoding::percent_decode_str;

use super::{DecodedRequest, EncodedResponse, RawRequest, ServiceWire, REQUEST_ID_HEADER};
use crate::{error::AwsError, value::Value};

/// The bucket a virtual-hosted request names in its `Host`, if any.
fn virtual_host_bucket(host: &str) -> Option<&str> {
    let host = host.rsplit_once(':').map_or(host, |(name, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            name
        } else {
            host
        }
    });
    let (first, rest) = host.split_once('.')?;
    let s3_host = rest.starts_with("s3.") || rest.starts_with("s3-") || rest == "s3" || rest == "localhost";
    (s3_host && !first.is_empty() && !first.chars().all(|c| c.is_ascii_digit())).then_some(first)
}

/// Which S3 operation a request is, by S3's routing table (the `http` traits of the S3 model).
fn operation(method: &str, has_bucket: bool, has_key: bool, query: &[(String, String)]) -> Option<&'static str> {
    let has = |name: &str| query.iter().any(|(k, _)| k == name);
    Some(match (method, has_bucket, has_key) {
        ("GET", false, false) => "ListBuckets",
        ("PUT", true, false) if has("policy") => "PutBucketPolicy",
        ("GET", true, false) if has("policy") => "GetBucketPolicy",
        ("DELETE", true, false) if has("policy") => "DeleteBucketPolicy",
        ("GET", true, false) if has("location") => "GetBucketLocation",
        ("GET", true, false) if query.iter().any(|(k, v)| k == "list-type" && v == "2") => "ListObjectsV2",
        ("GET", true, false) => "ListObjects",
        ("PUT", true, false) => "CreateBucket",
        ("HEAD", true, false) => "HeadBucket",
        ("DELETE", true, false) => "DeleteBucket",
        ("PUT", true, true) => "PutObject",
        ("GET", true, true) => "GetObject",
        ("HEAD", true, true) => "HeadObject",
        ("DELETE", true, true) => "DeleteObject",
        _ => return None,
    })
}

/// Query-string members, by wire name (ListObjectsV2, ListBuckets).
const QUERY_MEMBERS: [(&str, &str); 9] = [
    ("prefix", "Prefix"),
    ("delimiter", "Delimiter"),
    ("encoding-type", "EncodingType"),
    ("max-keys", "MaxKeys"),
    ("continuation-token", "ContinuationToken"),
    ("fetch-owner", "FetchOwner"),
    ("start-after", "StartAfter"),
    ("max-buckets", "MaxBuckets"),
    ("bucket-region", "BucketRegion"),
];

/// Header-bound input members, by header name (lower case).
const HEADER_MEMBERS: [(&str, &str); 11] = [
    ("content-type", "ContentType"),
    ("content-md5", "ContentMD5"),
    ("x-amz-sdk-checksum-algorithm", "ChecksumAlgorithm"),
    ("x-amz-checksum-crc32", "ChecksumCRC32"),
    ("x-amz-checksum-crc32c", "ChecksumCRC32C"),
    ("x-amz-checksum-crc64nvme", "ChecksumCRC64NVME"),
    ("x-amz-checksum-sha1", "ChecksumSHA1"),
    ("x-amz-checksum-sha256", "ChecksumSHA256"),
    ("x-amz-checksum-type", "ChecksumType"),
    ("x-amz-checksum-mode", "ChecksumMode"),
    ("x-amz-expected-bucket-owner", "ExpectedBucketOwner"),
];

/// Header-bound output members, by member name: the header each is written to.
const OUTPUT_HEADERS: [(&str, &str); 14] = [
    ("ETag", "ETag"),
    ("ContentLength", "Content-Length"),
    ("ContentType", "Content-Type"),
    ("LastModified", "Last-Modified"),
    ("AcceptRanges", "accept-ranges"),
    ("ServerSideEncryption", "x-amz-server-side-encryption"),
    ("ChecksumCRC32", "x-amz-checksum-crc32"),
    ("ChecksumCRC32C", "x-amz-checksum-crc32c"),
    ("ChecksumCRC64NVME", "x-amz-checksum-crc64nvme"),
    ("ChecksumSHA1", "x-amz-checksum-sha1"),
    ("ChecksumSHA256", "x-amz-checksum-sha256"),
    ("ChecksumType", "x-amz-checksum-type"),
    ("Location", "Location"),
    ("BucketRegion", "x-amz-bucket-region"),
];

fn malformed_xml() -> AwsError {
    AwsError::new(
        "MalformedXML",
        400,
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

/// `<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint>...`: the
/// members S3 reads (`LocationConstraint`), as a structure. Anything that is not well-formed
/// XML with that root is `MalformedXML`; unknown elements are ignored.
fn create_bucket_configuration(body: &[u8]) -> Result<Value, AwsError> {
    use xmlparser::{ElementEnd, Token, Tokenizer};
    let text = std::str::from_utf8(body).map_err(|_| malformed_xml())?;
    let mut stack: Vec<String> = Vec::new();
    let mut root_seen = false;
    let mut location: Option<String> = None;
    for token in Tokenizer::from(text) {
        match token.map_err(|_| malformed_xml())? {
            Token::ElementStart { local, .. } => {
                if stack.is_empty() {
                    if root_seen || local.as_str() != "CreateBucketConfiguration" {
                        return Err(malformed_xml());
                    }
                    root_seen = true;
                }
                stack.push(local.as_str().to_string());
            }
            Token::ElementEnd { end, .. } => match end {
                ElementEnd::Open => {}
                ElementEnd::Close(_, local) => {
                    if stack.pop().as_deref() != Some(local.as_str()) {
                        return Err(malformed_xml());
                    }
                }
                ElementEnd::Empty => {
                    let closed = stack.pop();
                    if stack.len() == 1 && closed.as_deref() == Some("LocationConstraint") {
                        location.get_or_insert_with(String::new);
                    }
                }
            },
            Token::Text { text } | Token::Cdata { text, .. } => {
                if stack.len() == 2 && stack[1] == "LocationConstraint" {
                    location.get_or_insert_with(String::new).push_str(text.as_str());
                } else if stack.is_empty() && !text.as_str().trim().is_empty() {
                    return Err(malformed_xml());
                }
            }
            _ => {}
        }
    }
    if !root_seen || !stack.is_empty() {
        return Err(malformed_xml());
    }
    Ok(Value::structure().with_opt("LocationConstraint", location.map(|l| l.trim().to_string())))
}

pub(super) fn decode(request: &RawRequest<'_>) -> Result<DecodedRequest, AwsError> {
    let query: Vec<(String, String)> =
        form_urlencoded::parse(request.query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let path = request.path.strip_prefix('/').unwrap_or(request.path);
    let decode_part = |part: &str| percent_decode_str(part).decode_utf8_lossy().into_owned();
    let (bucket, key) = match request.host.and_then(virtual_host_bucket) {
        Some(bucket) => (Some(bucket.to_string()), (!path.is_empty()).then(|| decode_part(path))),
        None => match path.split_once('/') {
            Some((bucket, key)) => (Some(decode_part(bucket)), (!key.is_empty()).then(|| decode_part(key))),
            None if path.is_empty() => (None, None),
            None => (Some(decode_part(path)), None),
        },
    };
    let action = operation(request.method, bucket.is_some(), key.is_some(), &query).ok_or_else(|| {
        AwsError::new(
            "MethodNotAllowed",
            405,
            "The specified method is not allowed against this resource.",
        )
    })?;
    let mut params = Value::structure();
    if let Some(bucket) = bucket {
        params = params.with("Bucket", bucket);
    }
    if let Some(key) = key {
        params = params.with("Key", key);
    }
    for (wire, member) in QUERY_MEMBERS {
        if let Some((_, value)) = query.iter().find(|(k, _)| k == wire) {
            params = params.with(member, value.as_str());
        }
    }
    if let Some(headers) = request.headers {
        for (wire, member) in HEADER_MEMBERS {
            if let Some(value) = headers.get(wire).and_then(|v| v.to_str().ok()) {
                params = params.with(member, value);
            }
        }
    }
    match action {
        "PutObject" => params = params.with("Body", Value::Blob(request.body.to_vec())),
        "PutBucketPolicy" => {
            params = match std::str::from_utf8(request.body) {
                Ok(text) => params.with("Policy", text),
                Err(_) => params.with("Policy", Value::Blob(request.body.to_vec())),
            }
        }
        "CreateBucket" if !request.body.iter().all(u8::is_ascii_whitespace) => {
            params = params.with("CreateBucketConfiguration", create_bucket_configuration(request.body)?);
        }
        _ => {}
    }
    Ok(DecodedRequest { action: action.to_string(), params })
}

/// `Last-Modified` and the other HTTP-date headers: `Wed, 12 Oct 2009 17:50:00 GMT`.
fn http_date(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// S3 answers these with 204 No Content.
fn status(action: &str) -> u16 {
    match action {
        "DeleteBucket" | "DeleteObject" | "DeleteBucketPolicy" | "PutBucketPolicy" => 204,
        _ => 200,
    }
}

/// The extended request id S3 sends as `x-amz-id-2` and `HostId`: opaque base64, derived here
/// from the request id so that runs stay deterministic.
fn host_id(request_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("wana-host-id:{request_id}"));
    super::base64_encode(&[digest.as_slice(), &digest[..12]].concat())
}

/// A handler's output as S3 sends it: header members as headers, `Body` or GetBucketPolicy's
/// `Policy` as the payload, a structure member as the XML document.
pub(super) fn encode_output(wire: &ServiceWire, action: &str, output: &Value, request_id: &str) -> EncodedResponse {
    let host_id = host_id(request_id);
    let mut headers: Vec<(&'static str, String)> = vec![
        (REQUEST_ID_HEADER, request_id.to_string()),
        ("x-amz-request-id", request_id.to_string()),
        ("x-amz-id-2", host_id),
    ];
    let mut body = Vec::new();
    let mut content_type = None;
    for (name, value) in output.entries() {
        if let Some((_, header)) = OUTPUT_HEADERS.iter().find(|(member, _)| member == name) {
            let text = match value {
                Value::Timestamp(t) => http_date(t),
                Value::Int(i) => i.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Str(s) => s.clone(),
                _ => continue,
            };
            if *header == "Content-Type" {
                content_type = Some(text);
            } else {
                headers.push((header, text));
            }
            continue;
        }
        match (name.as_str(), value) {
            ("Body", Value::Blob(bytes)) => body = bytes.clone(),
            ("Policy", Value::Str(text)) if action == "GetBucketPolicy" => body = text.clone().into_bytes(),
            (root, Value::Struct(fields)) => {
                body = super::xml::rest_xml_document(wire, root, fields).into_bytes();
                content_type.get_or_insert_with(|| "application/xml".to_string());
            }
            _ => {}
        }
    }
    if let Some(content_type) = content_type {
        headers.push(("Content-Type", content_type));
    }
    EncodedResponse { status: status(action), headers, body }
}

pub(super) fn encode_error(error: &AwsError, request_id: &str) -> EncodedResponse {
    super::xml::encode_rest_xml_error(error, request_id, &host_id(request_id))
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn raw<'a>(method: &'a str, path: &'a str, query: &'a str, host: Option<&'a str>) -> RawRequest<'a> {
        RawRequest { method, path, query, target: None, content_type: None, host, headers: None, body: b"" }
    }

    #[rstest]
    #[case::list_buckets("GET", "/", "", None, "ListBuckets", None, None)]
    #[case::create_bucket("PUT", "/reports", "", None, "CreateBucket", Some("reports"), None)]
    #[case::head_bucket("HEAD", "/reports", "", None, "HeadBucket", Some("reports"), None)]
    #[case::list_v2("GET", "/reports", "list-type=2&prefix=a", None, "ListObjectsV2", Some("reports"), None)]
    #[case::policy("PUT", "/reports", "policy", None, "PutBucketPolicy", Some("reports"), None)]
    #[case::put_object("PUT", "/reports/2024/a%20b.txt", "", None, "PutObject", Some("reports"), Some("2024/a b.txt"))]
    #[case::get_object("GET", "/reports/k", "", None, "GetObject", Some("reports"), Some("k"))]
    #[case::delete_object("DELETE", "/reports/k", "", None, "DeleteObject", Some("reports"), Some("k"))]
    #[case::virtual_host("PUT", "/logs/x.txt", "", Some("reports.s3.us-east-1.amazonaws.com"), "PutObject", Some("reports"), Some("logs/x.txt"))]
    #[case::virtual_host_local("GET", "/", "list-type=2", Some("reports.localhost:4599"), "ListObjectsV2", Some("reports"), None)]
    #[case::ip_host_is_path_style("GET", "/", "", Some("127.0.0.1:4599"), "ListBuckets", None, None)]
    fn routes_by_method_path_and_host(
        #[case] method: &str,
        #[case] path: &str,
        #[case] query: &str,
        #[case] host: Option<&str>,
        #[case] action: &str,
        #[case] bucket: Option<&str>,
        #[case] key: Option<&str>,
    ) {
        let decoded = decode(&raw(method, path, query, host)).unwrap();
        assert_eq!(decoded.action, action);
        assert_eq!(decoded.params.get("Bucket").and_then(Value::as_str), bucket);
        assert_eq!(decoded.params.get("Key").and_then(Value::as_str), key);
    }

    #[test]
    fn headers_query_and_payload_bind_to_model_members() {
        let mut headers = http::HeaderMap::new();
        headers.insert("content-type", "text/plain".parse().unwrap());
        headers.insert("x-amz-checksum-crc32", "DUoRhQ==".parse().unwrap());
        headers.insert("x-amz-sdk-checksum-algorithm", "CRC32".parse().unwrap());
        headers.insert("x-amz-unknown", "ignored".parse().unwrap());
        let request = RawRequest { headers: Some(&headers), body: b"hello world", ..raw("PUT", "/reports/a.txt", "", None) };
        let decoded = decode(&request).unwrap();
        let member = |name: &str| decoded.params.get(name).cloned();
        assert_eq!(member("ContentType"), Some(Value::from("text/plain")));
        assert_eq!(member("ChecksumCRC32"), Some(Value::from("DUoRhQ==")));
        assert_eq!(member("ChecksumAlgorithm"), Some(Value::from("CRC32")));
        assert_eq!(member("Body"), Some(Value::Blob(b"hello world".to_vec())));
        assert_eq!(decoded.params.entries().len(), 6, "Bucket, Key and the four above: {:?}", decoded.params);

        let list = decode(&raw("GET", "/reports", "list-type=2&prefix=logs%2F&delimiter=%2F&max-keys=2&continuation-token=abc%3D&encoding-type=url", None)).unwrap();
        let member = |name: &str| list.params.get(name).and_then(Value::as_str).map(str::to_string);
        assert_eq!(
            ["Prefix", "Delimiter", "MaxKeys", "ContinuationToken", "EncodingType"].map(member),
            [Some("logs/"), Some("/"), Some("2"), Some("abc="), Some("url")].map(|v| v.map(str::to_string))
        );
    }

    #[rstest]
    #[case::constraint(
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>",
        Some("eu-west-1")
    )]
    #[case::declaration_and_whitespace(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CreateBucketConfiguration>\n  <LocationConstraint> ap-northeast-1 </LocationConstraint>\n</CreateBucketConfiguration>",
        Some("ap-northeast-1")
    )]
    #[case::empty_element("<CreateBucketConfiguration><LocationConstraint/></CreateBucketConfiguration>", Some(""))]
    #[case::without_constraint("<CreateBucketConfiguration></CreateBucketConfiguration>", None)]
    fn create_bucket_configuration_is_read(#[case] body: &str, #[case] constraint: Option<&str>) {
        let request = RawRequest { body: body.as_bytes(), ..raw("PUT", "/reports", "", None) };
        let decoded = decode(&request).unwrap();
        let configuration = decoded.params.get("CreateBucketConfiguration").unwrap();
        assert_eq!(configuration.get("LocationConstraint").and_then(Value::as_str), constraint);
    }

    #[rstest]
    #[case::not_xml("eu-west-1")]
    #[case::unclosed("<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint>")]
    #[case::mismatched("<CreateBucketConfiguration><LocationConstraint>eu-west-1</Location></CreateBucketConfiguration>")]
    #[case::other_root("<Configuration><LocationConstraint>eu-west-1</LocationConstraint></Configuration>")]
    #[case::two_roots("<CreateBucketConfiguration/><CreateBucketConfiguration/>")]
    #[case::not_utf8("<CreateBucketConfiguration>\u{fffd}")]
    fn a_body_that_is_not_the_configuration_is_malformed_xml(#[case] body: &str) {
        let body = if body.contains('\u{fffd}') { b"<CreateBucketConfiguration>\xff".to_vec() } else { body.as_bytes().to_vec() };
        let request = RawRequest { body: &body, ..raw("PUT", "/reports", "", None) };
        let error = decode(&request).unwrap_err();
        assert_eq!((error.code.as_ref(), error.status), ("MalformedXML", 400));
    }

    fn header<'r>(response: &'r EncodedResponse, name: &str) -> Option<&'r str> {
        response.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }


    #[test]
    fn header_members_become_headers_and_the_body_is_the_payload() {
        let modified = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2009, 10, 12, 17, 50, 0).single().unwrap();
        let output = Value::structure()
            .with("ETag", "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"")
            .with("LastModified", modified)
            .with("ContentLength", 11)
            .with("ContentType", "text/plain")
            .with("ChecksumCRC32", "DUoRhQ==")
            .with("Body", Value::Blob(b"hello world".to_vec()));
        let response = encode_output(super::super::ServiceId::S3.wire(), "GetObject", &output, "req-1");
        assert_eq!(response.status, 200);
        assert_eq!(response.body, b"hello world");
        assert_eq!(header(&response, "ETag"), Some("\"5eb63bbbe01eeed093cb22bb8f5acdc3\""));
        assert_eq!(header(&response, "Last-Modified"), Some("Mon, 12 Oct 2009 17:50:00 GMT"));
        assert_eq!(header(&response, "Content-Length"), Some("11"));
        assert_eq!(header(&response, "Content-Type"), Some("text/plain"));
        assert_eq!(header(&response, "x-amz-checksum-crc32"), Some("DUoRhQ=="));
        assert_eq!(header(&response, "x-amz-request-id"), Some("req-1"));
        assert!(header(&response, "x-amz-id-2").is_some());
    }

    #[rstest]
    #[case("DeleteObject", 204)]
    #[case("DeleteBucket", 204)]
    #[case("DeleteBucketPolicy", 204)]
    #[case("PutBucketPolicy", 204)]
    #[case("PutObject", 200)]
    fn deletes_answer_no_content(#[case] action: &str, #[case] status: u16) {
        let response = encode_output(super::super::ServiceId::S3.wire(), action, &Value::structure(), "req-2");
        assert_eq!((response.status, response.body.len()), (status, 0));
    }

    #[test]
    fn a_structure_member_is_the_document_and_a_policy_is_raw() {
        let output = Value::structure().with(
            "ListBucketResult",
            Value::structure()
                .with("Name", "reports")
                .with("Contents", Value::List(vec![Value::structure().with("Key", "a"), Value::structure().with("Key", "b")])),
        );
        let response = encode_output(super::super::ServiceId::S3.wire(), "ListObjectsV2", &output, "req-3");
        assert_eq!(
            String::from_utf8(response.body.clone()).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>reports</Name><Contents><Key>a</Key></Contents><Contents><Key>b</Key></Contents></ListBucketResult>"
        );
        assert_eq!(header(&response, "Content-Type"), Some("application/xml"));
        let policy = encode_output(super::super::ServiceId::S3.wire(), "GetBucketPolicy", &Value::structure().with("Policy", "{\"Version\":\"2012-10-17\"}"), "req-4");
        assert_eq!(policy.body, b"{\"Version\":\"2012-10-17\"}");
    }

    #[test]
    fn errors_carry_request_id_and_host_id() {
        let response = encode_error(&AwsError::new("NoSuchBucket", 404, "The specified bucket does not exist"), "req-5");
        let body = String::from_utf8(response.body.clone()).unwrap();
        let host_id = header(&response, "x-amz-id-2").unwrap().to_string();
        assert_eq!(
            body,
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><RequestId>req-5</RequestId><HostId>{host_id}</HostId></Error>")
        );
        assert_eq!(response.status, 404);
    }

    #[test]
    fn a_method_s3_does_not_route_is_method_not_allowed() {
        let error = decode(&raw("POST", "/", "", None)).unwrap_err();
        assert_eq!((error.code.as_ref(), error.status), ("MethodNotAllowed", 405));
    }
}
