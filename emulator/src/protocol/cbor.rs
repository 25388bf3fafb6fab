//! Smithy RPC v2 CBOR (CloudWatch for the Rust SDK).
//!
//! Wire facts this follows:
//! * Requests are `POST {prefix?}/service/{ServiceName}/operation/{Operation}`; the service name
//!   may carry its namespace with `.` (`com.amazonaws.cloudwatch.GraniteServiceVersion20100801`),
//!   which servers should accept (smithy-rs server `rpc_v2_cbor/router.rs`).
//! * A path that names no operation of the service is answered 404 `UnknownOperationException`
//!   and a body that is not CBOR 400 `SerializationException`, as the smithy-rs server does
//!   (`rpc_v2_cbor/runtime_error.rs`).
//! * Responses carry `smithy-protocol: rpc-v2-cbor` and `Content-Type: application/cbor`.
//! * Timestamps are tag 1 around epoch seconds. The SDK (`aws-smithy-cbor` `Decoder::timestamp`)
//!   accepts an integer or any float width, botocore (`BaseCBORParser._parse_tag`) an int or a
//!   float; this encoder always writes a 64-bit float, as the smithy-rs encoder does
//!   (`Encoder::timestamp`), so millisecond fractions survive (see [`epoch_seconds`]).
//! * Doubles: the SDK reads them with `minicbor::Decoder::f64`, which accepts f16/f32/f64 but not
//!   integers, so [`Value::Float`] is always written as a float and [`Value::Int`] always as an
//!   integer — handlers must answer doubles with `Value::Float`.
//! * Errors are a map with `__type` and `message` (the SDK's `cbor_errors.rs` reads `__type`,
//!   `message`/`Message`/`errorMessage`). For an `awsQueryCompatible` service the query error
//!   code also goes in `x-amzn-query-error: Code;Sender`, which the SDK
//!   (`aws_query_compatible_errors.rs`) and botocore (`_do_query_compatible_error_parse`) prefer
//!   over `__type` when matching modeled errors.
//!
//! Decoding uses `ciborium` (definite and indefinite lengths, a recursion limit, no
//! preallocation from declared lengths); encoding is written out here so the bytes are exactly
//! the ones documented above (definite lengths, shortest integer heads, 64-bit floats).

use chrono::{DateTime, Utc};

use crate::{error::AwsError, value::Value};

use super::{
    query_error_header, DecodedRequest, EncodedResponse, RawRequest, ServiceWire, REQUEST_ID_HEADER,
};

const CONTENT_TYPE: &str = "application/cbor";
const SMITHY_PROTOCOL_HEADER: &str = "smithy-protocol";
const SMITHY_PROTOCOL: &str = "rpc-v2-cbor";
/// CBOR tag 1: epoch-based date/time.
const EPOCH_TIMESTAMP_TAG: u64 = 1;

fn unknown_operation(path: &str) -> AwsError {
    AwsError::new(
        "UnknownOperationException",
        404,
        format!("The request path {path} does not name an operation of this service."),
    )
}

fn serialization_error(message: impl Into<String>) -> AwsError {
    AwsError::new("SerializationException", 400, message)
}

pub(crate) fn decode(
    wire: &ServiceWire,
    request: &RawRequest<'_>,
) -> Result<DecodedRequest, AwsError> {
    let action =
        operation_from_path(wire, request.path).ok_or_else(|| unknown_operation(request.path))?;
    if !request.method.eq_ignore_ascii_case("POST") {
        return Err(unknown_operation(request.path));
    }
    let params = if request.body.is_empty() {
        Value::Struct(Vec::new())
    } else {
        decode_body(request.body)?
    };
    Ok(DecodedRequest {
        action: action.to_string(),
        params,
    })
}

/// `/service/GraniteServiceVersion20100801/operation/PutMetricData` → `PutMetricData`.
fn operation_from_path<'a>(wire: &ServiceWire, path: &'a str) -> Option<&'a str> {
    let expected_service = wire.cbor_service_name?;
    let start = path.rfind("/service/")?;
    let rest = &path[start + "/service/".len()..];
    let (service, operation) = rest.split_once("/operation/")?;
    let service_name = service.rsplit('.').next()?;
    let is_identifier =
        |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let namespace_ok = service.split('.').all(is_identifier);
    (service_name == expected_service && namespace_ok && is_identifier(operation))
        .then_some(operation)
}

fn decode_body(body: &[u8]) -> Result<Value, AwsError> {
    let mut remaining = body;
    let item: ciborium::Value = ciborium::de::from_reader(&mut remaining)
        .map_err(|e| serialization_error(format!("The request body is not valid CBOR: {e}")))?;
    if !remaining.is_empty() {
        return Err(serialization_error(
            "The request body has data after its CBOR item.",
        ));
    }
    match item {
        ciborium::Value::Map(entries) => map_to_struct(entries),
        _ => Err(serialization_error("The request body must be a CBOR map.")),
    }
}

/// CBOR maps become structures; a null member is an absent member.
fn map_to_struct(entries: Vec<(ciborium::Value, ciborium::Value)>) -> Result<Value, AwsError> {
    let mut fields = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        let ciborium::Value::Text(name) = key else {
            return Err(serialization_error("CBOR map keys must be text strings."));
        };
        if value.is_null() {
            continue;
        }
        fields.push((name, cbor_to_value(value)?));
    }
    Ok(Value::Struct(fields))
}

fn cbor_to_value(item: ciborium::Value) -> Result<Value, AwsError> {
    Ok(match item {
        ciborium::Value::Null => Value::Null,
        ciborium::Value::Bool(b) => Value::Bool(b),
        ciborium::Value::Integer(i) => Value::Int(
            i64::try_from(i128::from(i))
                .map_err(|_| serialization_error("An integer is outside the 64-bit range."))?,
        ),
        ciborium::Value::Float(f) => Value::Float(f),
        ciborium::Value::Text(s) => Value::Str(s),
        ciborium::Value::Bytes(b) => Value::Blob(b),
        ciborium::Value::Array(items) => Value::List(
            items
                .into_iter()
                .map(cbor_to_value)
                .collect::<Result<_, _>>()?,
        ),
        ciborium::Value::Map(entries) => map_to_struct(entries)?,
        ciborium::Value::Tag(EPOCH_TIMESTAMP_TAG, inner) => {
            Value::Timestamp(epoch_to_timestamp(*inner)?)
        }
        // Other tags (bignums, decimal fractions) have no shape in the services emulated; the
        // tagged item is kept so a handler can still see what was sent.
        ciborium::Value::Tag(_, inner) => cbor_to_value(*inner)?,
        // `ciborium::Value` is non-exhaustive.
        _ => return Err(serialization_error("Unsupported CBOR item.")),
    })
}

fn epoch_to_timestamp(item: ciborium::Value) -> Result<DateTime<Utc>, AwsError> {
    let invalid = || serialization_error("A timestamp is not a valid epoch-seconds number.");
    match item {
        ciborium::Value::Integer(i) => {
            let seconds = i64::try_from(i128::from(i)).map_err(|_| invalid())?;
            DateTime::from_timestamp(seconds, 0).ok_or_else(invalid)
        }
        ciborium::Value::Float(f) if f.is_finite() => {
            // Microsecond rounding undoes the binary representation error of a decimal
            // fraction (…800.123 is stored as …800.12299990654) without inventing precision.
            let micros = (f * 1_000_000.0).round();
            if micros.abs() >= i64::MAX as f64 {
                return Err(invalid());
            }
            DateTime::from_timestamp_micros(micros as i64).ok_or_else(invalid)
        }
        _ => Err(invalid()),
    }
}

/// Writes CBOR items with definite lengths.
#[derive(Debug, Default)]
struct CborWriter {
    out: Vec<u8>,
}

impl CborWriter {
    /// A major type with its argument in the shortest form (RFC 8949 §3, preferred serialization).
    fn head(&mut self, major: u8, argument: u64) {
        let major = major << 5;
        match argument {
            0..=23 => self.out.push(major | argument as u8),
            24..=0xff => self.out.extend_from_slice(&[major | 24, argument as u8]),
            0x100..=0xffff => {
                self.out.push(major | 25);
                self.out.extend_from_slice(&(argument as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                self.out.push(major | 26);
                self.out.extend_from_slice(&(argument as u32).to_be_bytes());
            }
            _ => {
                self.out.push(major | 27);
                self.out.extend_from_slice(&argument.to_be_bytes());
            }
        }
    }

    fn integer(&mut self, i: i64) {
        if i >= 0 {
            self.head(0, i as u64);
        } else {
            // Major type 1 holds -1 - n; `!i` is exactly that for a negative i64.
            self.head(1, !i as u64);
        }
    }

    fn float(&mut self, f: f64) {
        self.out.push(0xfb);
        self.out.extend_from_slice(&f.to_bits().to_be_bytes());
    }

    fn text(&mut self, s: &str) {
        self.head(3, s.len() as u64);
        self.out.extend_from_slice(s.as_bytes());
    }

    fn bytes(&mut self, b: &[u8]) {
        self.head(2, b.len() as u64);
        self.out.extend_from_slice(b);
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::Null => self.out.push(0xf6),
            Value::Bool(false) => self.out.push(0xf4),
            Value::Bool(true) => self.out.push(0xf5),
            Value::Int(i) => self.integer(*i),
            Value::Float(f) => self.float(*f),
            Value::Str(s) => self.text(s),
            Value::Blob(b) => self.bytes(b),
            Value::Timestamp(t) => {
                self.head(6, EPOCH_TIMESTAMP_TAG);
                self.float(epoch_seconds(t));
            }
            Value::List(items) => {
                self.head(4, items.len() as u64);
                for item in items {
                    self.value(item);
                }
            }
            // Absent members are left out of a structure; a map keeps a null value as null.
            Value::Struct(fields) => {
                let present = fields.iter().filter(|(_, v)| *v != Value::Null);
                self.head(5, present.clone().count() as u64);
                for (name, v) in present {
                    self.text(name);
                    self.value(v);
                }
            }
            Value::Map(entries) => {
                self.head(5, entries.len() as u64);
                for (key, v) in entries {
                    self.text(key);
                    self.value(v);
                }
            }
        }
    }
}

/// Epoch seconds with millisecond precision, as a double that reads back as the same
/// millisecond. The nearest double to `….123` may lie just below it, and the SDK truncates
/// (`DateTime::from_secs_f64` keeps `(fraction * 1e9) as u32` nanoseconds, then
/// `Decoder::timestamp` drops everything below the millisecond), so it would read `….122`. The
/// next double up is still within a microsecond, which rounding readers (botocore, this
/// module's decoder) map back to the same millisecond.
fn epoch_seconds(t: &DateTime<Utc>) -> f64 {
    let millis = t.timestamp_millis();
    let seconds = millis as f64 / 1000.0;
    let truncated_millis =
        |s: f64| i64::from(((s - s.floor()) * 1_000_000_000.0) as u32 / 1_000_000);
    if truncated_millis(seconds) == millis.rem_euclid(1000) {
        seconds
    } else {
        seconds.next_up()
    }
}

pub(crate) fn encode_value(value: &Value) -> Vec<u8> {
    let mut writer = CborWriter::default();
    writer.value(value);
    writer.out
}

fn base_headers(request_id: &str) -> Vec<(&'static str, String)> {
    vec![
        (SMITHY_PROTOCOL_HEADER, SMITHY_PROTOCOL.to_string()),
        ("Content-Type", CONTENT_TYPE.to_string()),
        (REQUEST_ID_HEADER, request_id.to_string()),
    ]
}

pub(crate) fn encode_output(output: &Value, request_id: &str) -> EncodedResponse {
    let body = match output {
        Value::Struct(_) | Value::Map(_) => encode_value(output),
        _ => encode_value(&Value::Struct(Vec::new())),
    };
    EncodedResponse {
        status: 200,
        headers: base_headers(request_id),
        body,
    }
}

pub(crate) fn encode_error(
    wire: &ServiceWire,
    error: &AwsError,
    request_id: &str,
) -> EncodedResponse {
    let mut body = Value::structure().with("__type", error.code.as_ref());
    if !error.message.is_empty() {
        body = body.with("message", error.message.as_str());
    }
    let mut headers = base_headers(request_id);
    if wire.query_compatible {
        headers.push(query_error_header(error));
    }
    EncodedResponse {
        status: error.status,
        headers,
        body: encode_value(&body),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rstest::rstest;

    use super::*;

    const CLOUDWATCH: ServiceWire = ServiceWire {
        signing_name: "monitoring",
        api_version: "2010-08-01",
        xml_namespace: "http://monitoring.amazonaws.com/doc/2010-08-01/",
        json_target_prefix: None,
        cbor_service_name: Some("GraniteServiceVersion20100801"),
        query_compatible: true,
    };

    const PUT_METRIC_DATA: &str = "/service/GraniteServiceVersion20100801/operation/PutMetricData";

    fn request<'a>(path: &'a str, body: &'a [u8]) -> RawRequest<'a> {
        RawRequest {
            method: "POST",
            path,
            query: "",
            target: None,
            content_type: Some(CONTENT_TYPE),
            host: None,
            headers: None,
            body,
        }
    }

    fn header<'a>(response: &'a EncodedResponse, name: &str) -> Option<&'a str> {
        response
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A text string head and bytes, for hand-built request bodies.
    fn text(s: &str) -> Vec<u8> {
        let mut w = CborWriter::default();
        w.text(s);
        w.out
    }

    fn at_millis(millis: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(millis).single().unwrap()
    }

    #[rstest]
    #[case::plain(PUT_METRIC_DATA, Some("PutMetricData"))]
    #[case::namespaced_service(
        "/service/com.amazonaws.cloudwatch.GraniteServiceVersion20100801/operation/GetMetricData",
        Some("GetMetricData")
    )]
    #[case::path_prefix(
        "/v1/service/GraniteServiceVersion20100801/operation/ListMetrics",
        Some("ListMetrics")
    )]
    #[case::other_service("/service/OtherService/operation/PutMetricData", None)]
    #[case::no_operation("/service/GraniteServiceVersion20100801/operation/", None)]
    #[case::trailing_slash(
        "/service/GraniteServiceVersion20100801/operation/PutMetricData/",
        None
    )]
    #[case::no_service_segment("/operation/PutMetricData", None)]
    #[case::root("/", None)]
    #[case::bad_namespace(
        "/service/com.x#GraniteServiceVersion20100801/operation/PutMetricData",
        None
    )]
    #[case::empty_namespace_part(
        "/service/.GraniteServiceVersion20100801/operation/PutMetricData",
        None
    )]
    fn operations_come_from_the_path(#[case] path: &str, #[case] expected: Option<&str>) {
        assert_eq!(operation_from_path(&CLOUDWATCH, path), expected);
    }

    #[rstest]
    #[case::wrong_path(request("/service/GraniteServiceVersion20100801/op/X", b""))]
    #[case::not_post(RawRequest { method: "GET", ..request(PUT_METRIC_DATA, b"") })]
    fn a_request_naming_no_operation_is_a_404(#[case] raw: RawRequest<'_>) {
        let error = decode(&CLOUDWATCH, &raw).unwrap_err();
        assert_eq!(
            (error.code.as_ref(), error.status),
            ("UnknownOperationException", 404)
        );
    }

    #[test]
    fn an_empty_body_is_an_empty_structure() {
        let decoded = decode(&CLOUDWATCH, &request(PUT_METRIC_DATA, b"")).unwrap();
        assert_eq!(
            (decoded.action.as_str(), decoded.params),
            ("PutMetricData", Value::structure())
        );
    }

    /// The SDK writes structures as indefinite-length maps (`aws-smithy-cbor` `begin_map`).
    #[test]
    fn decodes_indefinite_lengths_tags_and_every_item_type() {
        let mut body = vec![0xbf];
        body.extend(text("Namespace"));
        body.extend(text("App"));
        body.extend(text("MetricData"));
        body.push(0x9f);
        body.push(0xbf);
        body.extend(text("MetricName"));
        body.extend([0x7f, 0x62, b'C', b'P', 0x61, b'U', 0xff]); // indefinite text "CPU"
        body.extend(text("Value"));
        body.extend([0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
        body.extend(text("Half"));
        body.extend([0xf9, 0x3c, 0x00]); // f16 1.0
        body.extend(text("Timestamp"));
        body.extend([0xc1, 0xfb, 0x41, 0xd9, 0x8c, 0x8b, 0xb0, 0x07, 0xdf, 0x3b]);
        body.extend(text("Seconds"));
        body.extend([0xc1, 0x1a, 0x66, 0x32, 0x2e, 0xc0]); // tag 1, integer 1714564800
        body.extend(text("Counts"));
        body.extend([0x83, 0x01, 0x38, 0x18, 0xf6]); // [1, -25, null]
        body.extend(text("Blob"));
        body.extend([0x42, 0x00, 0xff]);
        body.extend(text("Flag"));
        body.push(0xf5);
        body.extend(text("Gone"));
        body.push(0xf6);
        body.extend([0xff, 0xff, 0xff]);

        let decoded = decode(&CLOUDWATCH, &request(PUT_METRIC_DATA, &body)).unwrap();
        let expected = Value::structure().with("Namespace", "App").with(
            "MetricData",
            Value::List(vec![Value::structure()
                .with("MetricName", "CPU")
                .with("Value", 1.5)
                .with("Half", 1.0)
                .with("Timestamp", at_millis(1_714_564_800_123))
                .with("Seconds", at_millis(1_714_564_800_000))
                .with(
                    "Counts",
                    Value::List(vec![Value::Int(1), Value::Int(-25), Value::Null]),
                )
                .with("Blob", Value::Blob(vec![0, 255]))
                .with("Flag", true)]),
        );
        assert_eq!(decoded.params, expected);
    }

    #[rstest]
    #[case::garbage(&[0xff, 0x00])]
    #[case::truncated_map(&[0xa1, 0x61, b'a'])]
    #[case::not_a_map(&[0x83, 1, 2, 3])]
    #[case::text_at_top(&[0x61, b'a'])]
    #[case::trailing_data(&[0xa0, 0x00])]
    #[case::integer_key(&[0xa1, 0x01, 0x02])]
    #[case::nested_integer_key(&[0xa1, 0x61, b'a', 0xa1, 0x01, 0x02])]
    #[case::invalid_utf8_text(&[0xa1, 0x61, b'a', 0x61, 0xff])]
    #[case::integer_beyond_i64(&[0xa1, 0x61, b'a', 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]
    #[case::timestamp_of_text(&[0xa1, 0x61, b'a', 0xc1, 0x61, b'x'])]
    #[case::timestamp_nan(&[0xa1, 0x61, b'a', 0xc1, 0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0])]
    #[case::timestamp_out_of_range(&[0xa1, 0x61, b'a', 0xc1, 0xfb, 0x7f, 0xef, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]
    #[case::huge_declared_bytes(&[0xa1, 0x61, b'a', 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]
    #[case::huge_declared_array(&[0xa1, 0x61, b'a', 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]
    fn malformed_bodies_are_serialization_errors(#[case] body: &[u8]) {
        let error = decode(&CLOUDWATCH, &request(PUT_METRIC_DATA, body)).unwrap_err();
        assert_eq!(
            (error.code.as_ref(), error.status),
            ("SerializationException", 400),
            "{error}"
        );
    }

    #[test]
    fn deep_nesting_is_a_serialization_error_not_a_stack_overflow() {
        let mut body = vec![0xa1, 0x61, b'a'];
        body.extend(std::iter::repeat_n(0x81, 100_000));
        body.push(0x00);
        assert_eq!(
            decode(&CLOUDWATCH, &request(PUT_METRIC_DATA, &body))
                .unwrap_err()
                .code,
            "SerializationException"
        );
    }

    #[test]
    fn deeply_nested_tags_are_a_serialization_error_not_a_stack_overflow() {
        let mut body = vec![0xa1, 0x61, b'a'];
        body.extend(std::iter::repeat_n(0xc2, 100_000));
        body.push(0x00);
        assert_eq!(
            decode(&CLOUDWATCH, &request(PUT_METRIC_DATA, &body))
                .unwrap_err()
                .code,
            "SerializationException"
        );
    }

    #[rstest]
    #[case(0, "00")]
    #[case(23, "17")]
    #[case(24, "1818")]
    #[case(255, "18ff")]
    #[case(256, "190100")]
    #[case(65_535, "19ffff")]
    #[case(65_536, "1a00010000")]
    #[case(4_294_967_296, "1b0000000100000000")]
    #[case(i64::MAX, "1b7fffffffffffffff")]
    #[case(-1, "20")]
    #[case(-24, "37")]
    #[case(-25, "3818")]
    #[case(-257, "390100")]
    #[case(i64::MIN, "3b7fffffffffffffff")]
    fn integers_use_the_shortest_head(#[case] i: i64, #[case] expected: &str) {
        assert_eq!(hex(&encode_value(&Value::Int(i))), expected);
    }

    #[rstest]
    #[case::float_is_always_64_bit(Value::Float(1.5), "fb3ff8000000000000")]
    #[case::whole_float_stays_a_float(Value::Float(2.0), "fb4000000000000000")]
    #[case::timestamp(Value::Timestamp(at_millis(1_714_564_800_000)), "c1fb41d98c8bb0000000")]
    #[case::timestamp_millis(
        Value::Timestamp(at_millis(1_714_564_800_123)),
        "c1fb41d98c8bb007df3c"
    )]
    #[case::blob(Value::Blob(vec![0, 255]), "4200ff")]
    #[case::text(Value::Str("é".into()), "62c3a9")]
    #[case::bools(Value::List(vec![true.into(), false.into(), Value::Null]), "83f5f4f6")]
    #[case::struct_skips_nulls(Value::structure().with("a", 1).with("b", Value::Null), "a1616101")]
    #[case::map_keeps_nulls(Value::Map(vec![("a".into(), Value::Null)]), "a16161f6")]
    #[case::empty_struct(Value::structure(), "a0")]
    fn encodes_each_value_variant(#[case] value: Value, #[case] expected: &str) {
        assert_eq!(hex(&encode_value(&value)), expected);
    }

    /// What `aws-smithy-cbor` makes of a tag-1 double: `DateTime::from_secs_f64`, then
    /// truncation to the millisecond.
    fn sdk_millis(seconds: f64) -> i64 {
        let whole = seconds.floor();
        let nanos = ((seconds - whole) * 1_000_000_000.0) as u32;
        whole as i64 * 1000 + i64::from(nanos / 1_000_000)
    }

    #[test]
    fn timestamps_read_back_as_the_same_millisecond_by_truncating_and_rounding_readers() {
        for millis in (1_714_564_800_000_i64..1_714_564_802_000).chain(-2_000..2_000) {
            let seconds = epoch_seconds(&at_millis(millis));
            assert_eq!(
                sdk_millis(seconds),
                millis,
                "truncating reader, {millis} ms"
            );
            assert_eq!(
                (seconds * 1000.0).round() as i64,
                millis,
                "rounding reader, {millis} ms"
            );
        }
    }

    #[test]
    fn output_headers_and_body() {
        let response = encode_output(&Value::structure().with("NextToken", "t"), "req-1");
        assert_eq!(hex(&response.body), "a1694e657874546f6b656e6174");
        assert_eq!(response.status, 200);
        assert_eq!(header(&response, "smithy-protocol"), Some("rpc-v2-cbor"));
        assert_eq!(header(&response, "content-type"), Some("application/cbor"));
        assert_eq!(header(&response, "x-amzn-requestid"), Some("req-1"));
        assert_eq!(hex(&encode_output(&Value::Null, "r").body), "a0");
    }

    #[test]
    fn error_envelope_of_a_query_compatible_service() {
        let error = AwsError::new("ResourceNotFound", 404, "no");
        let response = encode_error(&CLOUDWATCH, &error, "req-2");
        // {"__type": "ResourceNotFound", "message": "no"}
        let mut expected = vec![0xa2];
        expected.extend(text("__type"));
        expected.extend(text("ResourceNotFound"));
        expected.extend(text("message"));
        expected.extend(text("no"));
        assert_eq!(hex(&response.body), hex(&expected));
        assert_eq!(response.status, 404);
        assert_eq!(
            header(&response, "x-amzn-query-error"),
            Some("ResourceNotFound;Sender")
        );
        assert_eq!(header(&response, "smithy-protocol"), Some("rpc-v2-cbor"));
        assert_eq!(header(&response, "content-type"), Some("application/cbor"));
        assert_eq!(header(&response, "x-amzn-requestid"), Some("req-2"));
    }

    #[test]
    fn error_envelope_without_query_compatibility_or_message() {
        let wire = ServiceWire {
            query_compatible: false,
            ..CLOUDWATCH
        };
        let response = encode_error(&wire, &AwsError::new("InternalServiceError", 500, ""), "r");
        let mut expected = vec![0xa1];
        expected.extend(text("__type"));
        expected.extend(text("InternalServiceError"));
        assert_eq!(hex(&response.body), hex(&expected));
        assert_eq!(header(&response, "x-amzn-query-error"), None);
    }

    #[test]
    fn decode_reads_back_what_encode_writes() {
        let value = Value::structure()
            .with("S", "text é")
            .with("I", i64::MIN)
            .with("J", i64::MAX)
            .with("F", -0.1)
            .with("B", false)
            .with("T", at_millis(1_714_564_800_123))
            .with("Early", at_millis(-1_500))
            .with("Blob", Value::Blob(b"\x00bytes\xff".to_vec()))
            .with(
                "L",
                Value::List(vec![
                    Value::Null,
                    Value::structure().with("X", 1),
                    Value::List(Vec::new()),
                ]),
            )
            .with("N", Value::structure().with("Deep", Value::structure()));
        let body = encode_output(&value, "r").body;
        assert_eq!(
            decode(&CLOUDWATCH, &request(PUT_METRIC_DATA, &body))
                .unwrap()
                .params,
            value
        );
    }

    /// Arbitrary bytes only ever produce a result or an error.
    #[test]
    fn arbitrary_bodies_never_panic() {
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..5000 {
            let mut body = Vec::new();
            for _ in 0..(state % 24) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                body.push((state >> 24) as u8);
            }
            let _ = decode(&CLOUDWATCH, &request(PUT_METRIC_DATA, &body));
        }
    }
}
