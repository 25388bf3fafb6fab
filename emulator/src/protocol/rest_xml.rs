//! restXml input (S3): the operation comes from the HTTP method, the path, the query string and
//! the host, not from an `Action` member. Addressing follows S3's two styles:
//!
//! * path style, `http://127.0.0.1:4599/<bucket>/<key>`: what botocore and the Rust SDK use
//!   against an IP endpoint (botocore `S3RegionRedirector` / the S3 endpoint rules' `isIP`);
//! * virtual-hosted style, `Host: <bucket>.s3.<region>.amazonaws.com` or `<bucket>.localhost`:
//!   the bucket is the host's first label.
//!
//! The decoded members are named as in the S3 model: `Bucket`, `Key`, `Body`, and the query
//! string's parameters under their wire names (`list-type`, `prefix`) in `Query`.

use percent_encoding::percent_decode_str;

use super::{DecodedRequest, RawRequest};
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
    if !request.body.is_empty() {
        params = params.with("Body", Value::Blob(request.body.to_vec()));
    }
    if !query.is_empty() {
        params = params.with("Query", Value::Map(query.into_iter().map(|(k, v)| (k, Value::from(v))).collect()));
    }
    Ok(DecodedRequest { action: action.to_string(), params })
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn raw<'a>(method: &'a str, path: &'a str, query: &'a str, host: Option<&'a str>) -> RawRequest<'a> {
        RawRequest { method, path, query, target: None, content_type: None, host, body: b"" }
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
    fn a_method_s3_does_not_route_is_method_not_allowed() {
        let error = decode(&raw("POST", "/", "", None)).unwrap_err();
        assert_eq!((error.code.as_ref(), error.status), ("MethodNotAllowed", 405));
    }
}
