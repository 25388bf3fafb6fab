//! Entry points for the cargo-fuzz targets in `emulator/fuzz/` (built only with the `fuzzing`
//! feature, hidden from the documentation: not part of the emulator's API).
//!
//! Each function takes arbitrary bytes, feeds them to one decoder the way the server would, and
//! asserts what must hold for every input: no panic, and where it is cheap an invariant (a
//! decoded body is no longer than the bytes it came from; encoding what was decoded and decoding
//! that again reaches a fixed point). The inputs are laid out as a few `\n`-separated lines
//! (operation, path, headers) followed by a body, so that the seed files in
//! `emulator/fuzz/seeds/` are readable.

mod world;

pub use world::{aws_chunked, imds, sigv4};

use crate::{
    protocol::{self, DecodedRequest, Protocol, RawRequest, ServiceId},
    template::{Catalog, Lookup, Node, Pseudo, Resources, Scope, Template, TypeSupport},
    value::Value,
};

/// Splits `data` into `n` UTF-8 lines and the rest (the body). `None` when a line is not UTF-8
/// or there are fewer than `n` lines: the server would never see such a request line.
pub(crate) fn lines(data: &[u8], n: usize) -> Option<(Vec<&str>, &[u8])> {
    let mut rest = data;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let end = rest.iter().position(|b| *b == b'\n')?;
        out.push(std::str::from_utf8(&rest[..end]).ok()?);
        rest = &rest[end + 1..];
    }
    Some((out, rest))
}

/// `name: value` lines as a header map, skipping what HTTP would not carry.
pub(crate) fn header_map(text: &str) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    for line in text.split('\r') {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.trim().as_bytes()),
            http::HeaderValue::from_str(value.trim()),
        ) {
            headers.append(name, value);
        }
    }
    headers
}

fn raw<'a>(
    method: &'a str,
    path: &'a str,
    query: &'a str,
    target: Option<&'a str>,
    content_type: Option<&'a str>,
    body: &'a [u8],
) -> RawRequest<'a> {
    RawRequest { method, path, query, target, content_type, host: None, headers: None, body }
}

/// Decodes, then encodes what was decoded as `protocol`'s output and error: neither may panic.
fn decode_and_encode(protocol: Protocol, service: ServiceId, request: &RawRequest<'_>) -> Option<DecodedRequest> {
    let wire = service.wire();
    match protocol::decode(protocol, wire, request) {
        Ok(decoded) => {
            assert!(!decoded.action.is_empty(), "an operation was decoded without a name");
            let _ = protocol::encode_output(protocol, wire, &decoded.action, &decoded.params, "rid");
            Some(decoded)
        }
        Err(error) => {
            assert!((400..600).contains(&error.status), "a decoding error is not an HTTP error: {error:?}");
            let _ = protocol::encode_error(protocol, wire, &error, "rid");
            None
        }
    }
}

/// awsQuery and EC2 query: line 1 the query string, line 2 the content type (empty: none), the
/// rest the form body; decoded by IAM's and EC2's dialects.
pub fn query(data: &[u8]) {
    let Some((lines, body)) = lines(data, 2) else {
        return;
    };
    let content_type = (!lines[1].is_empty()).then_some(lines[1]);
    for (protocol, service) in [(Protocol::AwsQuery, ServiceId::Iam), (Protocol::Ec2Query, ServiceId::Ec2)] {
        decode_and_encode(protocol, service, &raw("POST", "/", lines[0], None, content_type, body));
    }
}

/// awsJson 1.1 (KMS): line 1 the `X-Amz-Target`, the rest the body. What decodes, encoded and
/// decoded again, encodes to the same bytes.
pub fn json(data: &[u8]) {
    let Some((lines, body)) = lines(data, 1) else {
        return;
    };
    let request = raw("POST", "/", "", Some(lines[0]), Some("application/x-amz-json-1.1"), body);
    let Some(first) = decode_and_encode(Protocol::AwsJson11, ServiceId::Kms, &request) else {
        return;
    };
    assert_fixed_point(Protocol::AwsJson11, ServiceId::Kms, &request, first);
}

/// Smithy RPC v2 CBOR (CloudWatch): line 1 the path, the rest the body; the same fixed point.
pub fn cbor(data: &[u8]) {
    let Some((lines, body)) = lines(data, 1) else {
        return;
    };
    let request = raw("POST", lines[0], "", None, Some("application/cbor"), body);
    let Some(first) = decode_and_encode(Protocol::RpcV2Cbor, ServiceId::CloudWatch, &request) else {
        return;
    };
    assert_fixed_point(Protocol::RpcV2Cbor, ServiceId::CloudWatch, &request, first);
}

/// Encodes `decoded.params` as a request body and decodes it again twice: the second and third
/// encodings must be equal (the first may differ: a timestamp's sub-millisecond digits, a map's
/// duplicate keys and null members are dropped by the first decoding).
fn assert_fixed_point(protocol: Protocol, service: ServiceId, request: &RawRequest<'_>, first: DecodedRequest) {
    // An output's body is the same document a request's body is: the members, encoded.
    let encode = |params: &Value| protocol::encode_output(protocol, service.wire(), "Fuzz", params, "rid").body;
    let again = |body: &[u8]| {
        let request = RawRequest { body, ..*request };
        protocol::decode(protocol, service.wire(), &request)
            .unwrap_or_else(|e| panic!("what the encoder wrote does not decode: {e:?}"))
    };
    let second = again(&encode(&first.params));
    assert_eq!(second.action, first.action);
    let second_bytes = encode(&second.params);
    let third = again(&second_bytes);
    assert_eq!(encode(&third.params), second_bytes, "decode ∘ encode is not stable");
}

/// restXml (S3): line 1 the method, line 2 the path, line 3 the query string, line 4 the `Host`,
/// line 5 the headers (`name: value`, separated by `\r`), the rest the body (the
/// `CreateBucketConfiguration` document for a `PUT /bucket`).
pub fn xml(data: &[u8]) {
    let Some((lines, body)) = lines(data, 5) else {
        return;
    };
    let headers = header_map(lines[4]);
    let request = RawRequest {
        method: lines[0],
        path: lines[1],
        query: lines[2],
        target: None,
        content_type: None,
        host: (!lines[3].is_empty()).then_some(lines[3]),
        headers: Some(&headers),
        body,
    };
    if let Some(decoded) = decode_and_encode(Protocol::RestXml, ServiceId::S3, &request) {
        if let Some(Value::Blob(blob)) = decoded.params.get("Body") {
            assert!(blob.len() <= body.len(), "the decoded body is longer than the request's");
        }
    }
}

/// A catalog that knows every type with a `::` and every attribute, so that the checks after
/// parsing run as far as they can.
struct Everything;

impl Catalog for Everything {
    fn support(&self, type_name: &str) -> TypeSupport {
        if type_name.starts_with("AWS::") {
            TypeSupport::Emulated
        } else if type_name.contains("::") {
            TypeSupport::NotEmulated
        } else {
            TypeSupport::Unknown
        }
    }

    fn has_attribute(&self, _: &str, attribute: &str) -> bool {
        !attribute.is_empty()
    }
}

/// Resources that all exist, with made-up physical ids and attributes.
struct Created;

impl Resources for Created {
    fn physical_id(&self, logical_id: &str) -> Lookup<String> {
        Lookup::Found(format!("{logical_id}-1"))
    }

    fn attribute(&self, logical_id: &str, attribute: &str) -> Lookup<Node> {
        Lookup::Found(Node::Str(format!("{logical_id}.{attribute}")))
    }
}

/// CloudFormation templates, JSON or YAML (as CreateStack decides: a body starting with `{` is
/// JSON): parsed, checked, and for a template that passes, its parameters given their defaults,
/// its conditions evaluated, its creation order computed and every resource and output resolved
/// as CreateStack would.
pub fn template(data: &[u8]) {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let template = match Template::parse(body) {
        Ok(template) => template,
        Err(error) => {
            assert_eq!(error.code, "ValidationError", "{error:?}");
            return;
        }
    };
    if template.check(&Everything).is_err() {
        return;
    }
    let given: Vec<_> = template
        .parameters
        .iter()
        .filter(|p| p.default.is_none())
        .map(|p| crate::template::GivenParameter { key: p.name.clone(), value: Some("a,b".into()), use_previous: false })
        .collect();
    let Ok(parameters) = template.resolve_parameters(&given, &[]) else {
        return;
    };
    let pseudo = Pseudo {
        account: "111111111111".into(),
        region: "us-east-1".into(),
        stack_name: "fuzz".into(),
        stack_id: "arn:aws:cloudformation:us-east-1:111111111111:stack/fuzz/1".into(),
        notification_arns: Vec::new(),
    };
    let Ok(scope) = Scope::new(&template, &pseudo, &parameters, &Created) else {
        return;
    };
    if let Ok(order) = template.creation_order() {
        assert_eq!(order.len(), template.resources.len(), "the creation order lost or added a resource");
    }
    for resource in &template.resources {
        if scope.included(resource.condition.as_deref()) {
            let _ = scope.properties(resource).map(|node| node.to_json_text());
        }
    }
    let _ = scope.outputs();
}
