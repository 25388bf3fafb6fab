//! XML responses of the awsQuery and EC2 protocols: a small escaping writer and the success and
//! error envelopes the clients parse.
//!
//! Envelopes, as the clients read them:
//! * awsQuery success: root `{Action}Response`, whose first child must be `{Action}Result` when the
//!   operation has output (aws-sdk-sts `de_get_caller_identity` fails with "expected
//!   GetCallerIdentityResult tag" otherwise; botocore `_find_result_wrapped_shape` indexes it).
//!   Operations without output (IAM `DeleteUser`) answer only `ResponseMetadata`, as IAM does.
//! * awsQuery error: `ErrorResponse/Error/{Type,Code,Message}` plus `RequestId`
//!   (aws-sdk-sts `rest_xml_wrapped_errors.rs`, botocore `QueryParser._do_error_parse`).
//! * EC2 success: `{Action}Response` with `requestId` and the members directly inside, lists as
//!   `item` (botocore `EC2QueryParser._inject_response_metadata`).
//! * EC2 error: `Response/Errors/Error/{Code,Message}` plus `RequestID`, capital D
//!   (botocore `EC2QueryParser._do_error_parse`).

use chrono::{DateTime, SecondsFormat, Utc};

use crate::{
    error::{AwsError, Fault},
    value::Value,
};

use super::{EncodedResponse, ServiceWire, REQUEST_ID_HEADER};

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
const QUERY_CONTENT_TYPE: &str = "text/xml";
/// What EC2 itself answers with.
const EC2_CONTENT_TYPE: &str = "text/xml;charset=UTF-8";
/// What S3 answers with.
const REST_XML_CONTENT_TYPE: &str = "application/xml";

/// Builds an XML document as text. Everything written through it is escaped, so the result is
/// well-formed XML 1.0 whatever the values hold.
#[derive(Debug, Default)]
pub(crate) struct XmlWriter {
    out: String,
}

impl XmlWriter {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn declaration(&mut self) -> &mut Self {
        self.out.push_str(XML_DECLARATION);
        self
    }

    pub(crate) fn open(&mut self, name: &str) -> &mut Self {
        self.out.push('<');
        push_name(&mut self.out, name);
        self.out.push('>');
        self
    }

    /// Opens the root element with its `xmlns`. An empty namespace writes no attribute.
    pub(crate) fn open_root(&mut self, name: &str, namespace: &str) -> &mut Self {
        self.out.push('<');
        push_name(&mut self.out, name);
        if !namespace.is_empty() {
            self.out.push_str(" xmlns=\"");
            push_escaped(&mut self.out, namespace);
            self.out.push('"');
        }
        self.out.push('>');
        self
    }

    pub(crate) fn close(&mut self, name: &str) -> &mut Self {
        self.out.push_str("</");
        push_name(&mut self.out, name);
        self.out.push('>');
        self
    }

    pub(crate) fn text(&mut self, text: &str) -> &mut Self {
        push_escaped(&mut self.out, text);
        self
    }

    /// `<name>text</name>`; an empty text gives `<name></name>`, which every client reads as "".
    pub(crate) fn text_element(&mut self, name: &str, text: &str) -> &mut Self {
        self.open(name).text(text).close(name)
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}

/// Escapes markup characters and keeps the text inside XML 1.0's character range.
///
/// Tab, line feed and carriage return are written as character references so that no parser's
/// whitespace normalization alters them (a raw CR would be read back as LF). The other C0
/// controls, U+FFFE and U+FFFF cannot appear in XML 1.0 even as references (the SDK's
/// `validate_references` and expat reject them), so they become U+FFFD.
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

/// Element names come from handlers (model member names), but a name is written defensively:
/// anything outside the XML name characters becomes `_`, so the document stays well-formed.
fn push_name(out: &mut String, name: &str) {
    if name.is_empty() {
        out.push('_');
        return;
    }
    for (i, c) in name.chars().enumerate() {
        let allowed = c.is_alphanumeric() || c == '_' || (i > 0 && matches!(c, '-' | '.'));
        let allowed = allowed && !(i == 0 && c.is_numeric());
        out.push(if allowed { c } else { '_' });
    }
}

/// How a dialect spells containers and timestamps.
#[derive(Debug, Clone, Copy)]
struct XmlDialect {
    /// The element of each list item; `None` writes lists flattened (restXml's `@xmlFlattened`:
    /// every item is an element named as the member, with no wrapper).
    list_item: Option<&'static str>,
    map_entry: &'static str,
    timestamp: fn(&DateTime<Utc>) -> String,
}

const AWS_QUERY: XmlDialect = XmlDialect {
    list_item: Some("member"),
    map_entry: "entry",
    timestamp: query_timestamp,
};

const EC2: XmlDialect = XmlDialect {
    list_item: Some("item"),
    map_entry: "item",
    timestamp: ec2_timestamp,
};

/// S3 (restXml): lists are flattened; a wrapped list (`<Buckets><Bucket>…`) is written by the
/// handler as a structure holding the flattened list. Timestamps carry milliseconds.
const REST_XML: XmlDialect = XmlDialect {
    list_item: None,
    map_entry: "entry",
    timestamp: ec2_timestamp,
};

/// IAM and STS write whole seconds (`2024-05-01T12:00:00Z`); CloudFormation and Auto Scaling
/// add milliseconds when there are some. Both parse in botocore (`dateutil`) and the SDK
/// (`DateTimeWithOffset` / `DateTime`), so the fraction is written only when it is not zero.
pub(crate) fn query_timestamp(t: &DateTime<Utc>) -> String {
    if t.timestamp_subsec_millis() == 0 {
        t.to_rfc3339_opts(SecondsFormat::Secs, true)
    } else {
        t.to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

/// EC2 always writes milliseconds: `2024-05-01T12:00:00.000Z`.
pub(crate) fn ec2_timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Smithy's text form of a double: the non-finite values have names.
pub(crate) fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else {
        f.to_string()
    }
}

fn write_member(w: &mut XmlWriter, dialect: XmlDialect, name: &str, value: &Value) {
    match value {
        // Absent members are left out; a null list element has no XML form either.
        Value::Null => {}
        Value::Struct(fields) => {
            w.open(name);
            write_members(w, dialect, fields);
            w.close(name);
        }
        Value::List(items) => match dialect.list_item {
            Some(list_item) => {
                w.open(name);
                for item in items {
                    write_member(w, dialect, list_item, item);
                }
                w.close(name);
            }
            None => {
                for item in items {
                    write_member(w, dialect, name, item);
                }
            }
        },
        Value::Map(entries) => {
            w.open(name);
            for (key, entry_value) in entries {
                w.open(dialect.map_entry).text_element("key", key);
                write_member(w, dialect, "value", entry_value);
                w.close(dialect.map_entry);
            }
            w.close(name);
        }
        Value::Bool(b) => {
            w.text_element(name, if *b { "true" } else { "false" });
        }
        Value::Int(i) => {
            w.text_element(name, &i.to_string());
        }
        Value::Float(f) => {
            w.text_element(name, &float_text(*f));
        }
        Value::Str(s) => {
            w.text_element(name, s);
        }
        Value::Timestamp(t) => {
            w.text_element(name, &(dialect.timestamp)(t));
        }
        Value::Blob(bytes) => {
            w.text_element(name, &super::base64_encode(bytes));
        }
    }
}

fn write_members(w: &mut XmlWriter, dialect: XmlDialect, fields: &[(String, Value)]) {
    for (name, value) in fields {
        write_member(w, dialect, name, value);
    }
}

/// The members a handler answered; a non-structure output counts as no members.
fn output_members(output: &Value) -> &[(String, Value)] {
    match output {
        Value::Struct(fields) | Value::Map(fields) => fields,
        _ => &[],
    }
}

fn xml_response(
    status: u16,
    content_type: &'static str,
    request_id: &str,
    body: String,
) -> EncodedResponse {
    EncodedResponse {
        status,
        headers: vec![
            ("Content-Type", content_type.to_string()),
            (REQUEST_ID_HEADER, request_id.to_string()),
        ],
        body: body.into_bytes(),
    }
}

pub(crate) fn encode_query_output(
    wire: &ServiceWire,
    action: &str,
    output: &Value,
    request_id: &str,
) -> EncodedResponse {
    let response = format!("{action}Response");
    let result = format!("{action}Result");
    let members = output_members(output);
    let mut w = XmlWriter::new();
    w.open_root(&response, wire.xml_namespace);
    if members.iter().any(|(_, v)| *v != Value::Null) {
        w.open(&result);
        write_members(&mut w, AWS_QUERY, members);
        w.close(&result);
    }
    w.open("ResponseMetadata")
        .text_element("RequestId", request_id)
        .close("ResponseMetadata")
        .close(&response);
    xml_response(200, QUERY_CONTENT_TYPE, request_id, w.finish())
}

pub(crate) fn encode_query_error(
    wire: &ServiceWire,
    error: &AwsError,
    request_id: &str,
) -> EncodedResponse {
    let fault = match error.fault {
        Fault::Sender => "Sender",
        Fault::Receiver => "Receiver",
    };
    let mut w = XmlWriter::new();
    w.open_root("ErrorResponse", wire.xml_namespace)
        .open("Error")
        .text_element("Type", fault)
        .text_element("Code", &error.code)
        .text_element("Message", &error.message)
        .close("Error")
        .text_element("RequestId", request_id)
        .close("ErrorResponse");
    xml_response(error.status, QUERY_CONTENT_TYPE, request_id, w.finish())
}

pub(crate) fn encode_ec2_output(
    wire: &ServiceWire,
    action: &str,
    output: &Value,
    request_id: &str,
) -> EncodedResponse {
    let response = format!("{action}Response");
    let mut w = XmlWriter::new();
    w.declaration()
        .open_root(&response, wire.xml_namespace)
        .text_element("requestId", request_id);
    write_members(&mut w, EC2, output_members(output));
    w.close(&response);
    xml_response(200, EC2_CONTENT_TYPE, request_id, w.finish())
}

pub(crate) fn encode_ec2_error(error: &AwsError, request_id: &str) -> EncodedResponse {
    let mut w = XmlWriter::new();
    w.declaration()
        .open("Response")
        .open("Errors")
        .open("Error")
        .text_element("Code", &error.code)
        .text_element("Message", &error.message)
        .close("Error")
        .close("Errors")
        .text_element("RequestID", request_id)
        .close("Response");
    xml_response(error.status, EC2_CONTENT_TYPE, request_id, w.finish())
}

/// A restXml document (S3): `root` with the service's namespace and `fields` inside, lists
/// flattened as S3 writes them.
pub(crate) fn rest_xml_document(wire: &ServiceWire, root: &str, fields: &[(String, Value)]) -> String {
    let mut w = XmlWriter::new();
    w.declaration().open_root(root, wire.xml_namespace);
    write_members(&mut w, REST_XML, fields);
    w.close(root);
    w.finish()
}

/// restXml (S3) error: a bare `Error` root with `Code`, `Message`, `RequestId` and `HostId`
/// (botocore `RestXMLParser._do_error_parse`, aws-sdk-s3 `parse_error_metadata`; S3 API
/// reference, "Error responses"). `host_id` is also sent as `x-amz-id-2`, as S3 does.
pub(crate) fn encode_rest_xml_error(error: &AwsError, request_id: &str, host_id: &str) -> EncodedResponse {
    let mut w = XmlWriter::new();
    w.declaration()
        .open("Error")
        .text_element("Code", &error.code)
        .text_element("Message", &error.message)
        .text_element("RequestId", request_id)
        .text_element("HostId", host_id)
        .close("Error");
    let mut response = xml_response(error.status, REST_XML_CONTENT_TYPE, request_id, w.finish());
    response.headers.push(("x-amz-request-id", request_id.to_string()));
    response.headers.push(("x-amz-id-2", host_id.to_string()));
    response
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rstest::rstest;

    use super::*;

    const IAM: ServiceWire = ServiceWire {
        signing_name: "iam",
        api_version: "2010-05-08",
        xml_namespace: "https://iam.amazonaws.com/doc/2010-05-08/",
        json_target_prefix: None,
        cbor_service_name: None,
        query_compatible: false,
    };
    const EC2_WIRE: ServiceWire = ServiceWire {
        signing_name: "ec2",
        api_version: "2016-11-15",
        xml_namespace: "http://ec2.amazonaws.com/doc/2016-11-15/",
        ..IAM
    };

    fn at(seconds: i64, millis: u32) -> DateTime<Utc> {
        Utc.timestamp_opt(seconds, millis * 1_000_000)
            .single()
            .unwrap()
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

    #[rstest]
    #[case::markup("a&b<c>d\"e'f", "a&amp;b&lt;c&gt;d&quot;e&apos;f")]
    #[case::whitespace_controls("a\tb\nc\rd", "a&#x9;b&#xA;c&#xD;d")]
    #[case::forbidden_controls("a\u{0}b\u{1b}c\u{fffe}", "a\u{fffd}b\u{fffd}c\u{fffd}")]
    #[case::unicode_kept("été ✓ 𝄞", "été ✓ 𝄞")]
    fn text_is_escaped(#[case] text: &str, #[case] expected: &str) {
        let mut w = XmlWriter::new();
        w.text(text);
        assert_eq!(w.finish(), expected);
    }

    #[rstest]
    #[case::plain("UserName", "UserName")]
    #[case::markup("a<b", "a_b")]
    #[case::leading_digit("1a", "_a")]
    #[case::empty("", "_")]
    fn element_names_stay_well_formed(#[case] name: &str, #[case] expected: &str) {
        let mut w = XmlWriter::new();
        w.open(name);
        assert_eq!(w.finish(), format!("<{expected}>"));
    }

    #[rstest]
    #[case::whole_seconds(
        at(1_714_564_800, 0),
        "2024-05-01T12:00:00Z",
        "2024-05-01T12:00:00.000Z"
    )]
    #[case::milliseconds(
        at(1_714_564_800, 123),
        "2024-05-01T12:00:00.123Z",
        "2024-05-01T12:00:00.123Z"
    )]
    fn timestamps(#[case] t: DateTime<Utc>, #[case] query: &str, #[case] ec2: &str) {
        assert_eq!(
            (query_timestamp(&t), ec2_timestamp(&t)),
            (query.to_string(), ec2.to_string())
        );
    }

    #[rstest]
    #[case(1.5, "1.5")]
    #[case(2.0, "2")]
    #[case(-0.25, "-0.25")]
    #[case(f64::NAN, "NaN")]
    #[case(f64::INFINITY, "Infinity")]
    #[case(f64::NEG_INFINITY, "-Infinity")]
    fn floats(#[case] f: f64, #[case] expected: &str) {
        assert_eq!(float_text(f), expected);
    }

    #[test]
    fn query_output_writes_every_value_variant() {
        let output = Value::structure()
            .with(
                "User",
                Value::structure()
                    .with("UserName", "bob & co")
                    .with("CreateDate", at(1_714_564_800, 0))
                    .with(
                        "Tags",
                        Value::List(vec![Value::structure().with("Key", "k").with("Value", "v")]),
                    ),
            )
            .with("IsTruncated", false)
            .with("Count", 3)
            .with("Ratio", 0.5)
            .with("Blob", Value::Blob(b"hi".to_vec()))
            .with(
                "Names",
                Value::List(vec!["a".into(), Value::Null, "b".into()]),
            )
            .with("Empty", Value::List(Vec::new()))
            .with("Summary", Value::Map(vec![("Users".into(), Value::Int(2))]))
            .with("Marker", Value::Null);
        let response = encode_query_output(&IAM, "GetUser", &output, "req-1");
        assert_eq!(
            body(&response),
            "<GetUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><GetUserResult>\
             <User><UserName>bob &amp; co</UserName><CreateDate>2024-05-01T12:00:00Z</CreateDate>\
             <Tags><member><Key>k</Key><Value>v</Value></member></Tags></User>\
             <IsTruncated>false</IsTruncated><Count>3</Count><Ratio>0.5</Ratio><Blob>aGk=</Blob>\
             <Names><member>a</member><member>b</member></Names><Empty></Empty>\
             <Summary><entry><key>Users</key><value>2</value></entry></Summary>\
             </GetUserResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetUserResponse>"
        );
        assert_eq!(response.status, 200);
        assert_eq!(header(&response, "content-type"), Some("text/xml"));
        assert_eq!(header(&response, "x-amzn-requestid"), Some("req-1"));
    }

    #[rstest]
    #[case::empty_struct(Value::structure())]
    #[case::only_nulls(Value::structure().with("Marker", Value::Null))]
    #[case::null(Value::Null)]
    fn query_output_without_members_has_no_result_element(#[case] output: Value) {
        let response = encode_query_output(&IAM, "DeleteUser", &output, "req-2");
        assert_eq!(
            body(&response),
            "<DeleteUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
             <ResponseMetadata><RequestId>req-2</RequestId></ResponseMetadata></DeleteUserResponse>"
        );
    }

    #[rstest]
    #[case::sender(
        AwsError::new("NoSuchEntity", 404, "The user with name x cannot be found."),
        "Sender"
    )]
    #[case::receiver(AwsError::internal("boom <now>"), "Receiver")]
    fn query_error_envelope(#[case] error: AwsError, #[case] fault: &str) {
        let response = encode_query_error(&IAM, &error, "req-3");
        let message = error.message.replace('<', "&lt;").replace('>', "&gt;");
        assert_eq!(
            body(&response),
            format!(
                "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>{fault}</Type>\
                 <Code>{}</Code><Message>{message}</Message></Error><RequestId>req-3</RequestId></ErrorResponse>",
                error.code
            )
        );
        assert_eq!(response.status, error.status);
        assert_eq!(header(&response, "content-type"), Some("text/xml"));
        assert_eq!(header(&response, "x-amzn-requestid"), Some("req-3"));
    }

    #[test]
    fn ec2_output_lists_are_items_and_members_sit_in_the_response() {
        let output = Value::structure()
            .with(
                "reservationSet",
                Value::List(vec![Value::structure().with("reservationId", "r-1").with(
                    "instancesSet",
                    Value::List(vec![Value::structure()
                        .with("instanceId", "i-1")
                        .with("launchTime", at(1_714_564_800, 0))
                        .with("ebsOptimized", false)
                        .with("tagSet", Value::List(Vec::new()))]),
                )]),
            )
            .with("nextToken", Value::Null);
        let response = encode_ec2_output(&EC2_WIRE, "DescribeInstances", &output, "req-4");
        assert_eq!(
            body(&response),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>req-4</requestId>\
             <reservationSet><item><reservationId>r-1</reservationId><instancesSet><item><instanceId>i-1</instanceId>\
             <launchTime>2024-05-01T12:00:00.000Z</launchTime><ebsOptimized>false</ebsOptimized><tagSet></tagSet>\
             </item></instancesSet></item></reservationSet></DescribeInstancesResponse>"
        );
        assert_eq!(
            header(&response, "content-type"),
            Some("text/xml;charset=UTF-8")
        );
    }

    #[test]
    fn ec2_error_envelope_says_request_id_with_capital_d() {
        let error = AwsError::new(
            "InvalidInstanceID.NotFound",
            400,
            "The instance ID 'i-1' does not exist",
        );
        let response = encode_ec2_error(&error, "req-5");
        assert_eq!(
            body(&response),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>\
             <Message>The instance ID &apos;i-1&apos; does not exist</Message></Error></Errors>\
             <RequestID>req-5</RequestID></Response>"
        );
        assert_eq!(response.status, 400);
    }
}
