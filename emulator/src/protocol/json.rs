//! The awsJson1.1 protocol (KMS, SSM): `X-Amz-Target: {Prefix}.{Operation}` and a JSON object.
//!
//! Wire facts this follows:
//! * Timestamps are epoch seconds as a JSON number (smithy `awsJson1_1`; botocore
//!   `JSONSerializer.TIMESTAMP_FORMAT = 'unixtimestamp'`; the SDK's `expect_timestamp_or_null`
//!   with `EpochSeconds` reads any number). Blobs are base64 strings.
//! * Errors are `{"__type": code, "message": text}`. KMS's error shapes all name their member
//!   `message`; the SDK (`json_errors.rs`) and botocore (`BaseJSONParser._do_error_parse`) read
//!   `message` or `Message` and strip any `namespace#` prefix or `:url` suffix from `__type`.
//! * A request the JSON front end rejects before dispatch — a body that is not a JSON object, a
//!   missing or foreign `X-Amz-Target` — is answered 400 with only `__type`
//!   (`SerializationException`, `UnknownOperationException`) and no message, as AWS's own
//!   front end answers (observed for Athena, Kinesis and DynamoDB). An error with an empty
//!   message is therefore written without a `message` key.

use serde_json::{Map, Number};

use crate::{error::AwsError, value::Value};

use super::{
    base64_encode, query_error_header, DecodedRequest, EncodedResponse, RawRequest, ServiceWire,
    REQUEST_ID_HEADER,
};

const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

fn unknown_operation() -> AwsError {
    AwsError::new("UnknownOperationException", 400, "")
}

fn serialization_error() -> AwsError {
    AwsError::new("SerializationException", 400, "")
}

pub(crate) fn decode(
    wire: &ServiceWire,
    request: &RawRequest<'_>,
) -> Result<DecodedRequest, AwsError> {
    let action = operation_from_target(wire, request.target).ok_or_else(unknown_operation)?;
    let params = if request.body.iter().all(u8::is_ascii_whitespace) {
        Value::Struct(Vec::new())
    } else {
        let document: serde_json::Value =
            serde_json::from_slice(request.body).map_err(|_| serialization_error())?;
        match document {
            serde_json::Value::Object(members) => object_to_value(members),
            _ => return Err(serialization_error()),
        }
    };
    Ok(DecodedRequest {
        action: action.to_string(),
        params,
    })
}

/// `TrentService.Encrypt` → `Encrypt`, when the prefix is this service's.
fn operation_from_target<'a>(wire: &ServiceWire, target: Option<&'a str>) -> Option<&'a str> {
    let prefix = wire.json_target_prefix?;
    let operation = target?.strip_prefix(prefix)?.strip_prefix('.')?;
    let is_identifier = !operation.is_empty()
        && operation
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    is_identifier.then_some(operation)
}

/// JSON objects become structures. A null member is an absent member in every Smithy JSON
/// protocol, so it is dropped; null list elements are kept (sparse lists).
fn object_to_value(members: Map<String, serde_json::Value>) -> Value {
    Value::Struct(
        members
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k, json_to_value(v)))
            .collect(),
    )
}

fn json_to_value(json: serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            // Beyond i64 (or fractional): a double is the best the value tree can hold.
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::Str(s),
        serde_json::Value::Array(items) => {
            Value::List(items.into_iter().map(json_to_value).collect())
        }
        serde_json::Value::Object(members) => object_to_value(members),
    }
}

pub(crate) fn value_to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::Number((*i).into()),
        Value::Float(f) => float_to_json(*f),
        Value::Str(s) => serde_json::Value::String(s.clone()),
        Value::Timestamp(t) => epoch_seconds_to_json(t.timestamp_millis()),
        Value::Blob(bytes) => serde_json::Value::String(base64_encode(bytes)),
        Value::List(items) => serde_json::Value::Array(items.iter().map(value_to_json).collect()),
        // Absent members are left out of a structure; a map keeps a null value as null.
        Value::Struct(fields) => serde_json::Value::Object(
            fields
                .iter()
                .filter(|(_, v)| *v != Value::Null)
                .map(|(k, v)| (k.clone(), value_to_json(v)))
                .collect(),
        ),
        Value::Map(entries) => serde_json::Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), value_to_json(v)))
                .collect(),
        ),
    }
}

/// Smithy JSON writes the non-finite doubles as the strings `NaN`, `Infinity`, `-Infinity`.
fn float_to_json(f: f64) -> serde_json::Value {
    match Number::from_f64(f) {
        Some(n) => serde_json::Value::Number(n),
        None => serde_json::Value::String(super::xml::float_text(f)),
    }
}

/// Whole seconds as an integer (`1714564800`), otherwise seconds with milliseconds
/// (`1714564800.123`): AWS's timestamps carry millisecond precision.
fn epoch_seconds_to_json(millis: i64) -> serde_json::Value {
    if millis % 1000 == 0 {
        serde_json::Value::Number((millis / 1000).into())
    } else {
        float_to_json(millis as f64 / 1000.0)
    }
}

fn json_response(
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: &serde_json::Value,
) -> EncodedResponse {
    // Serializing a `serde_json::Value` cannot fail: its keys are strings and numbers finite.
    let body = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    EncodedResponse {
        status,
        headers,
        body,
    }
}

fn base_headers(request_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("Content-Type", CONTENT_TYPE.to_string()),
        (REQUEST_ID_HEADER, request_id.to_string()),
    ]
}

pub(crate) fn encode_output(output: &Value, request_id: &str) -> EncodedResponse {
    let body = match output {
        Value::Struct(_) | Value::Map(_) => value_to_json(output),
        _ => serde_json::Value::Object(Map::new()),
    };
    json_response(200, base_headers(request_id), &body)
}

pub(crate) fn encode_error(
    wire: &ServiceWire,
    error: &AwsError,
    request_id: &str,
) -> EncodedResponse {
    let mut body = Map::new();
    body.insert(
        "__type".to_string(),
        serde_json::Value::String(error.code.to_string()),
    );
    if !error.message.is_empty() {
        body.insert(
            "message".to_string(),
            serde_json::Value::String(error.message.clone()),
        );
    }
    if let Some(reason) = &error.reason {
        body.insert("Reason".to_string(), serde_json::Value::String(reason.to_string()));
    }
    let mut headers = base_headers(request_id);
    if wire.query_compatible {
        headers.push(query_error_header(error));
    }
    json_response(error.status, headers, &serde_json::Value::Object(body))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use rstest::rstest;

    use super::*;

    const KMS: ServiceWire = ServiceWire {
        signing_name: "kms",
        api_version: "2014-11-01",
        xml_namespace: "",
        json_target_prefix: Some("TrentService"),
        cbor_service_name: None,
        query_compatible: false,
    };

    fn request<'a>(target: Option<&'a str>, body: &'a str) -> RawRequest<'a> {
        RawRequest {
            method: "POST",
            path: "/",
            query: "",
            target,
            content_type: Some("application/x-amz-json-1.1"),
            host: None,
            headers: None,
            body: body.as_bytes(),
        }
    }

    fn body(response: &EncodedResponse) -> &str {
        std::str::from_utf8(&response.body).unwrap()
    }

    fn header<'a>(response: &'a EncodedResponse, name: &str) -> Option<&'a str> {
        response
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn decodes_the_target_and_every_json_type() {
        let body = r#"{"KeyId":"alias/a","Plaintext":"aGk=","NumberOfBytes":32,"Ratio":0.5,"Big":18446744073709551615,
            "DryRun":false,"GrantTokens":["t1",null],"EncryptionContext":{"k":"v"},"Missing":null}"#;
        let decoded = decode(&KMS, &request(Some("TrentService.Encrypt"), body)).unwrap();
        assert_eq!(decoded.action, "Encrypt");
        let expected = Value::structure()
            .with("KeyId", "alias/a")
            .with("Plaintext", "aGk=")
            .with("NumberOfBytes", 32)
            .with("Ratio", 0.5)
            .with("Big", 18_446_744_073_709_551_615_f64)
            .with("DryRun", false)
            .with("GrantTokens", Value::List(vec!["t1".into(), Value::Null]))
            .with("EncryptionContext", Value::structure().with("k", "v"));
        assert_eq!(decoded.params, expected);
    }

    #[rstest]
    #[case::empty("")]
    #[case::whitespace(" \n")]
    #[case::empty_object("{}")]
    fn an_empty_body_is_an_empty_structure(#[case] body: &str) {
        let decoded = decode(&KMS, &request(Some("TrentService.ListKeys"), body)).unwrap();
        assert_eq!(decoded.params, Value::structure());
    }

    /// Found by the `json` fuzz target: serde_json's default number parser may miss the nearest
    /// double by one unit in the last place (`32.5e30` became `3.2499999999999998e31`), so a
    /// metric value or a number member came back changed. AWS reads decimal numbers exactly.
    #[rstest]
    #[case::fuzz_crash("32.5e30", 3.25e31)]
    #[case::many_digits("0.30000000000000004", 0.300_000_000_000_000_04)]
    #[case::near_max("1.7976931348623157e308", f64::MAX)]
    fn numbers_decode_to_the_nearest_double_and_encode_back_unchanged(#[case] text: &str, #[case] expected: f64) {
        let body = format!(r#"{{"V":{text}}}"#);
        let decoded = decode(&KMS, &request(Some("TrentService.Encrypt"), &body)).unwrap();
        assert_eq!(decoded.params.get("V"), Some(&Value::Float(expected)));
        let encoded = encode_output(&decoded.params, "rid").body;
        let again = decode(&KMS, &request(Some("TrentService.Encrypt"), std::str::from_utf8(&encoded).unwrap())).unwrap();
        assert_eq!(again.params, decoded.params);
    }

    #[rstest]
    #[case::missing(None)]
    #[case::other_service(Some("AmazonSSM.GetParameter"))]
    #[case::prefix_only(Some("TrentService"))]
    #[case::empty_operation(Some("TrentService."))]
    #[case::no_prefix(Some("Encrypt"))]
    #[case::longer_prefix(Some("TrentServiceX.Encrypt"))]
    #[case::not_an_identifier(Some("TrentService.En/crypt"))]
    fn a_wrong_target_is_an_unknown_operation(#[case] target: Option<&str>) {
        let error = decode(&KMS, &request(target, "{}")).unwrap_err();
        assert_eq!(
            (error.code.as_ref(), error.status, error.message.as_str()),
            ("UnknownOperationException", 400, "")
        );
    }

    #[rstest]
    #[case::truncated("{")]
    #[case::not_json("KeyId=x")]
    #[case::array("[]")]
    #[case::string("\"x\"")]
    #[case::null("null")]
    #[case::trailing_comma(r#"{"a":1,}"#)]
    #[case::two_documents("{}{}")]
    #[case::trailing_garbage("{}x")]
    fn a_body_that_is_not_a_json_object_is_a_serialization_error(#[case] body: &str) {
        let error = decode(&KMS, &request(Some("TrentService.Encrypt"), body)).unwrap_err();
        assert_eq!(
            (error.code.as_ref(), error.status),
            ("SerializationException", 400)
        );
    }

    #[test]
    fn invalid_utf8_bytes_are_a_serialization_error() {
        let raw = RawRequest {
            body: b"{\"a\":\"\xff\"}",
            ..request(Some("TrentService.Encrypt"), "")
        };
        assert_eq!(
            decode(&KMS, &raw).unwrap_err().code,
            "SerializationException"
        );
    }

    #[test]
    fn deep_nesting_is_a_serialization_error_not_a_stack_overflow() {
        let body = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        let error = decode(&KMS, &request(Some("TrentService.Encrypt"), &body)).unwrap_err();
        assert_eq!(error.code, "SerializationException");
    }

    #[test]
    fn a_wire_without_target_prefix_knows_no_operation() {
        let wire = ServiceWire {
            json_target_prefix: None,
            ..KMS
        };
        assert_eq!(
            decode(&wire, &request(Some("TrentService.Encrypt"), "{}"))
                .unwrap_err()
                .code,
            "UnknownOperationException"
        );
    }

    #[test]
    fn encodes_every_value_variant() {
        let output = Value::structure()
            .with("KeyId", "k\"1\u{1}")
            .with(
                "CreationDate",
                Utc.timestamp_opt(1_714_564_800, 0).single().unwrap(),
            )
            .with(
                "DeletionDate",
                Utc.timestamp_opt(1_714_564_800, 123_000_000)
                    .single()
                    .unwrap(),
            )
            .with("CiphertextBlob", Value::Blob(vec![0, 1, 2, 255]))
            .with("Enabled", true)
            .with("Size", -7)
            .with("Ratio", 2.0)
            .with("Odd", f64::NAN)
            .with("Big", f64::NEG_INFINITY)
            .with("Aliases", Value::List(vec!["a".into(), Value::Null]))
            .with(
                "Tags",
                Value::Map(vec![("t".into(), "v".into()), ("n".into(), Value::Null)]),
            )
            .with("Nested", Value::structure().with("Gone", Value::Null))
            .with("NextMarker", Value::Null);
        let response = encode_output(&output, "req-1");
        assert_eq!(
            body(&response),
            r#"{"KeyId":"k\"1\u0001","CreationDate":1714564800,"DeletionDate":1714564800.123,"CiphertextBlob":"AAEC/w==","Enabled":true,"Size":-7,"Ratio":2.0,"Odd":"NaN","Big":"-Infinity","Aliases":["a",null],"Tags":{"t":"v","n":null},"Nested":{}}"#
        );
        assert_eq!(response.status, 200);
        assert_eq!(
            header(&response, "content-type"),
            Some("application/x-amz-json-1.1")
        );
        assert_eq!(header(&response, "x-amzn-requestid"), Some("req-1"));
    }

    #[rstest]
    #[case::empty_struct(Value::structure())]
    #[case::null(Value::Null)]
    fn an_output_without_members_is_an_empty_object(#[case] output: Value) {
        assert_eq!(body(&encode_output(&output, "r")), "{}");
    }

    #[rstest]
    #[case::with_message(
        AwsError::new("NotFoundException", 400, "Key 'x' does not exist"),
        r#"{"__type":"NotFoundException","message":"Key 'x' does not exist"}"#
    )]
    #[case::front_end_rejection(
        AwsError::new("UnknownOperationException", 400, ""),
        r#"{"__type":"UnknownOperationException"}"#
    )]
    #[case::server_fault(
        AwsError::internal("oops"),
        r#"{"__type":"InternalFailure","message":"oops"}"#
    )]
    fn error_envelope(#[case] error: AwsError, #[case] expected: &str) {
        let response = encode_error(&KMS, &error, "req-2");
        assert_eq!(body(&response), expected);
        assert_eq!(response.status, error.status);
        assert_eq!(
            header(&response, "content-type"),
            Some("application/x-amz-json-1.1")
        );
        assert_eq!(header(&response, "x-amzn-requestid"), Some("req-2"));
        assert_eq!(header(&response, "x-amzn-query-error"), None);
    }

    #[rstest]
    #[case::sender(
        AwsError::new("ResourceNotFound", 404, "no"),
        "ResourceNotFound;Sender"
    )]
    #[case::receiver(
        AwsError::new("InternalServiceError", 500, "no"),
        "InternalServiceError;Receiver"
    )]
    fn query_compatible_errors_carry_the_query_code(
        #[case] error: AwsError,
        #[case] expected: &str,
    ) {
        let wire = ServiceWire {
            query_compatible: true,
            ..KMS
        };
        assert_eq!(
            header(&encode_error(&wire, &error, "r"), "x-amzn-query-error"),
            Some(expected)
        );
    }

    #[test]
    fn decode_reads_back_what_encode_writes() {
        let value = Value::structure()
            .with("S", "text \u{7f} é")
            .with("I", i64::MIN)
            .with("F", 1.25)
            .with("B", true)
            .with(
                "L",
                Value::List(vec![
                    Value::Int(1),
                    Value::structure().with("X", "y"),
                    Value::List(Vec::new()),
                ]),
            )
            .with(
                "N",
                Value::structure().with("Deep", Value::structure().with("Deeper", 0.1)),
            );
        let encoded = encode_output(&value, "r");
        let raw = RawRequest {
            body: &encoded.body,
            ..request(Some("TrentService.Op"), "")
        };
        assert_eq!(decode(&KMS, &raw).unwrap().params, value);
    }

    #[test]
    fn maps_read_back_as_structures() {
        let value = Value::structure().with("M", Value::Map(vec![("a".into(), "1".into())]));
        let encoded = encode_output(&value, "r");
        let raw = RawRequest {
            body: &encoded.body,
            ..request(Some("TrentService.Op"), "")
        };
        assert_eq!(
            decode(&KMS, &raw).unwrap().params,
            Value::structure().with("M", Value::structure().with("a", "1"))
        );
    }
}
