//! Wire protocols: decode an HTTP request into an action and a [`Value`], encode a handler's
//! [`Value`] or [`AwsError`] into the caller's protocol.
//!
//! Codecs are generic: no handler builds XML, JSON or CBOR, and no codec knows a service's
//! operations. What a codec needs from a service (XML namespace, JSON target prefix, CBOR service
//! name) is in [`ServiceWire`].
//!
//! One file per concern: `query` decodes awsQuery and EC2 forms, `xml` writes their responses,
//! `json` is awsJson1.1 and `cbor` is Smithy RPC v2 CBOR. Each file's header lists the client
//! code (botocore, the Rust SDK) its wire facts were read from.

pub mod aws_chunked;
mod cbor;
mod json;
mod query;
mod rest_xml;
mod service;
mod xml;

pub use service::ServiceId;

use crate::{
    error::{AwsError, Fault},
    value::Value,
};

/// The protocols the real clients speak to the services wana emulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// EC2's own query dialect: `InstanceId.1=`, `<item>` lists, `<Response><Errors>` errors.
    Ec2Query,
    /// IAM, STS, CloudFormation, Auto Scaling, and CloudWatch for the AWS CLI.
    AwsQuery,
    /// KMS, SSM and Organizations: `X-Amz-Target` and `application/x-amz-json-1.1`.
    AwsJson11,
    /// CloudWatch for the Rust SDK: `smithy-protocol: rpc-v2-cbor`.
    RpcV2Cbor,
    /// S3: the operation from method, path and host; XML documents without an envelope.
    RestXml,
}

/// What the codecs need to know about a service's wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceWire {
    /// The SigV4 signing name, as in the credential scope (`iam`, `monitoring`, ...).
    pub signing_name: &'static str,
    /// The query `Version` parameter that identifies the service in an unsigned request.
    pub api_version: &'static str,
    /// The namespace of query and EC2 XML documents.
    pub xml_namespace: &'static str,
    /// The `X-Amz-Target` prefix of awsJson services (`TrentService`, `AmazonSSM`).
    pub json_target_prefix: Option<&'static str>,
    /// The service name in rpcv2Cbor paths (`GraniteServiceVersion20100801`).
    pub cbor_service_name: Option<&'static str>,
    /// `awsQueryCompatible` services add `x-amzn-query-error` to JSON and CBOR errors.
    pub query_compatible: bool,
}

/// A request after decoding: the operation and its input members.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedRequest {
    pub action: String,
    pub params: Value,
}

/// An encoded HTTP response, ready for the server to send.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedResponse {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// The request-id header every protocol answers with (`x-amzn-requestid` for botocore, read
/// case-insensitively by the SDK's `apply_request_id`).
pub(crate) const REQUEST_ID_HEADER: &str = "x-amzn-RequestId";

/// Decodes a request of `protocol` into its operation name and input members.
///
/// Errors are client errors in the protocol's own terms: `MissingAction` / `MalformedQueryString`
/// for the query protocols, `UnknownOperationException` / `SerializationException` for awsJson
/// and rpcv2Cbor. Decoding never panics on any input.
pub fn decode(
    protocol: Protocol,
    wire: &ServiceWire,
    request: &RawRequest<'_>,
) -> Result<DecodedRequest, AwsError> {
    match protocol {
        Protocol::AwsQuery | Protocol::Ec2Query => query::decode(protocol, request),
        Protocol::AwsJson11 => json::decode(wire, request),
        Protocol::RpcV2Cbor => cbor::decode(wire, request),
        Protocol::RestXml => rest_xml::decode(request),
    }
}

/// Encodes a handler's output (a [`Value::Struct`]) as the successful response to `action`.
pub fn encode_output(
    protocol: Protocol,
    wire: &ServiceWire,
    action: &str,
    output: &Value,
    request_id: &str,
) -> EncodedResponse {
    match protocol {
        Protocol::AwsQuery => xml::encode_query_output(wire, action, output, request_id),
        Protocol::Ec2Query => xml::encode_ec2_output(wire, action, output, request_id),
        Protocol::AwsJson11 => json::encode_output(output, request_id),
        Protocol::RpcV2Cbor => cbor::encode_output(output, request_id),
        Protocol::RestXml => rest_xml::encode_output(wire, action, output, request_id),
    }
}

/// Encodes an error in the protocol's error envelope, with the error's HTTP status.
pub fn encode_error(
    protocol: Protocol,
    wire: &ServiceWire,
    error: &AwsError,
    request_id: &str,
) -> EncodedResponse {
    match protocol {
        Protocol::AwsQuery => xml::encode_query_error(wire, error, request_id),
        Protocol::Ec2Query => xml::encode_ec2_error(error, request_id),
        Protocol::AwsJson11 => json::encode_error(wire, error, request_id),
        Protocol::RpcV2Cbor => cbor::encode_error(wire, error, request_id),
        Protocol::RestXml => rest_xml::encode_error(error, request_id),
    }
}

/// Standard base64 with padding: what every protocol uses for blobs.
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `x-amzn-query-error: {Code};{Sender|Receiver}`, the header through which an
/// `awsQueryCompatible` service gives its JSON and CBOR errors their query error code.
pub(crate) fn query_error_header(error: &AwsError) -> (&'static str, String) {
    let fault = match error.fault {
        Fault::Sender => "Sender",
        Fault::Receiver => "Receiver",
    };
    ("x-amzn-query-error", format!("{};{fault}", error.code))
}

/// The parts of an HTTP request a codec reads.
#[derive(Debug, Clone, Copy)]
pub struct RawRequest<'a> {
    pub method: &'a str,
    /// The path without the query string.
    pub path: &'a str,
    /// The raw query string, without `?` (may be empty).
    pub query: &'a str,
    /// `X-Amz-Target` for awsJson, if present.
    pub target: Option<&'a str>,
    pub content_type: Option<&'a str>,
    /// The `Host` header, for S3's virtual-hosted addressing.
    pub host: Option<&'a str>,
    /// Every header, for restXml's header-bound members (S3's `Content-Type`,
    /// `x-amz-checksum-crc32`); `None` where a codec reads none.
    pub headers: Option<&'a http::HeaderMap>,
    pub body: &'a [u8],
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    const WIRE: ServiceWire = ServiceWire {
        signing_name: "monitoring",
        api_version: "2010-08-01",
        xml_namespace: "http://monitoring.amazonaws.com/doc/2010-08-01/",
        json_target_prefix: Some("GraniteServiceVersion20100801"),
        cbor_service_name: Some("GraniteServiceVersion20100801"),
        query_compatible: true,
    };

    fn content_type(response: &EncodedResponse) -> Option<&str> {
        response
            .headers
            .iter()
            .find(|(n, _)| *n == "Content-Type")
            .map(|(_, v)| v.as_str())
    }

    #[rstest]
    #[case::query(
        Protocol::AwsQuery,
        "POST",
        "/",
        None,
        "Action=ListMetrics&Namespace=App",
        "text/xml"
    )]
    #[case::ec2(Protocol::Ec2Query, "GET", "/", None, "", "text/xml;charset=UTF-8")]
    #[case::json(
        Protocol::AwsJson11,
        "POST",
        "/",
        Some("GraniteServiceVersion20100801.ListMetrics"),
        "{\"Namespace\":\"App\"}",
        "application/x-amz-json-1.1"
    )]
    #[case::cbor(
        Protocol::RpcV2Cbor,
        "POST",
        "/service/GraniteServiceVersion20100801/operation/ListMetrics",
        None,
        "",
        "application/cbor"
    )]
    fn each_protocol_decodes_and_encodes_through_the_entry_points(
        #[case] protocol: Protocol,
        #[case] method: &str,
        #[case] path: &str,
        #[case] target: Option<&str>,
        #[case] body: &str,
        #[case] expected_content_type: &str,
    ) {
        // The CBOR case's body is built below: {"Namespace": "App"}.
        let cbor_body = [&[0xa1, 0x69][..], b"Namespace", &[0x63], b"App"].concat();
        let body = if protocol == Protocol::RpcV2Cbor {
            cbor_body.as_slice()
        } else {
            body.as_bytes()
        };
        let query = if protocol == Protocol::Ec2Query {
            "Action=ListMetrics&Namespace=App"
        } else {
            ""
        };
        let request = RawRequest {
            method,
            path,
            query,
            target,
            content_type: None,
            host: None,
            headers: None,
            body,
        };
        let decoded = decode(protocol, &WIRE, &request).unwrap();
        assert_eq!(decoded.action, "ListMetrics");
        assert_eq!(
            decoded.params.get("Namespace").and_then(Value::as_str),
            Some("App")
        );

        let output = encode_output(
            protocol,
            &WIRE,
            "ListMetrics",
            &Value::structure().with("NextToken", "t"),
            "rid",
        );
        assert_eq!(
            (output.status, content_type(&output)),
            (200, Some(expected_content_type))
        );
        let error = encode_error(
            protocol,
            &WIRE,
            &AwsError::new("InvalidNextToken", 400, "bad"),
            "rid",
        );
        assert_eq!(
            (error.status, content_type(&error)),
            (400, Some(expected_content_type))
        );
        assert!(error
            .headers
            .contains(&(REQUEST_ID_HEADER, "rid".to_string())));
    }

    #[test]
    fn the_query_error_header_names_code_and_fault() {
        assert_eq!(
            query_error_header(&AwsError::internal("x")),
            ("x-amzn-query-error", "InternalFailure;Receiver".to_string())
        );
    }
}
