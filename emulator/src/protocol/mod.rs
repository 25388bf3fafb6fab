//! Wire protocols: decode an HTTP request into an action and a [`Value`], encode a handler's
//! [`Value`] or [`AwsError`] into the caller's protocol.
//!
//! Codecs are generic: no handler builds XML, JSON or CBOR, and no codec knows a service's
//! operations. What a codec needs from a service (XML namespace, JSON target prefix, CBOR service
//! name) is in [`ServiceWire`].

use crate::{error::AwsError, value::Value};

/// The protocols the real clients speak to the services wana emulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// EC2's own query dialect: `InstanceId.1=`, `<item>` lists, `<Response><Errors>` errors.
    Ec2Query,
    /// IAM, STS, CloudFormation, Auto Scaling, and CloudWatch for the AWS CLI.
    AwsQuery,
    /// KMS and SSM: `X-Amz-Target` and `application/x-amz-json-1.1`.
    AwsJson11,
    /// CloudWatch for the Rust SDK: `smithy-protocol: rpc-v2-cbor`.
    RpcV2Cbor,
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

// The codec entry points below are the whole interface between the server and the codecs.
//
// pub fn decode(protocol: Protocol, wire: &ServiceWire, request: &RawRequest<'_>) -> Result<DecodedRequest, AwsError>;
// pub fn encode_output(protocol: Protocol, wire: &ServiceWire, action: &str, output: &Value, request_id: &str) -> EncodedResponse;
// pub fn encode_error(protocol: Protocol, wire: &ServiceWire, error: &AwsError, request_id: &str) -> EncodedResponse;

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
    pub body: &'a [u8],
}
