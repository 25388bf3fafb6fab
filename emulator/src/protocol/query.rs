//! Decoding of awsQuery and EC2 query requests: a flat list of `dotted.key=value` form
//! parameters becomes a [`Value::Struct`] tree.
//!
//! The two dialects differ only in how lists are spelled (botocore `serialize.py`,
//! `QuerySerializer` and `EC2Serializer`, and `aws-smithy-query` agree):
//!
//! * awsQuery: `Name.member.N` for lists (or `Name.{memberName}.N` when the model names the list
//!   member, e.g. Auto Scaling's `item`), `Name.entry.N.key` / `Name.entry.N.value` for maps,
//!   `Name=` (empty value) for an empty list.
//! * EC2: `Name.N` for lists, no `member` level.
//!
//! Scalars stay [`Value::Str`]: only the handler knows the member's shape.
//!
//! Malformed input — bad percent-encoding, invalid UTF-8, list indexes that are not positive
//! integers, a key used both as a scalar and as a structure — is answered with
//! `MalformedQueryString` and status 400. AWS's common-errors table documents that code as "The
//! query string contains a syntax error" (it lists status 404 for it, which no client relies on;
//! 400 is what every other client-side syntax error of the query services uses).

use crate::{error::AwsError, value::Value};

use super::{DecodedRequest, Protocol, RawRequest};

/// The longest dotted key accepted. Real models nest a handful of levels
/// (`LaunchTemplateData.BlockDeviceMapping.1.Ebs.Iops`); the cap keeps hostile keys from
/// driving the recursive tree conversion arbitrarily deep.
const MAX_KEY_SEGMENTS: usize = 64;

/// SigV4 presigned-URL parameters travel with the query string but are not operation input.
const SIGV4_QUERY_PARAMETER_PREFIX: &str = "X-Amz-";

pub(crate) fn malformed(message: impl Into<String>) -> AwsError {
    AwsError::new("MalformedQueryString", 400, message)
}

/// AWS's common error for a request without an `Action` parameter.
fn missing_action() -> AwsError {
    AwsError::new(
        "MissingAction",
        400,
        "The request is missing an action or a required parameter.",
    )
}

/// Decodes an awsQuery or EC2 query request.
pub(crate) fn decode(
    protocol: Protocol,
    request: &RawRequest<'_>,
) -> Result<DecodedRequest, AwsError> {
    let dialect = match protocol {
        Protocol::Ec2Query => Dialect::Ec2,
        _ => Dialect::AwsQuery,
    };
    let mut pairs = parse_form(request.query.as_bytes())?;
    if carries_form_body(request)? {
        pairs.extend(parse_form(request.body)?);
    }

    let mut action = None;
    let mut root = Node::Branch(Vec::new());
    for (key, value) in pairs {
        match key.as_str() {
            "Action" => {
                if action.replace(value).is_some() {
                    return Err(malformed("The parameter Action appears more than once."));
                }
            }
            // `Version` names the API, which routing already used; it is not operation input.
            "Version" => {}
            k if k.starts_with(SIGV4_QUERY_PARAMETER_PREFIX) => {}
            _ => insert(&mut root, &key, value)?,
        }
    }
    let action = action
        .filter(|a| !a.is_empty())
        .ok_or_else(missing_action)?;
    let params = input_structure(root, dialect)?;
    Ok(DecodedRequest { action, params })
}

/// Whether the body holds form parameters. Query clients send
/// `application/x-www-form-urlencoded; charset=utf-8`; a body without a content type is read
/// as a form too (curl's default). A body of any other type cannot be query input.
fn carries_form_body(request: &RawRequest<'_>) -> Result<bool, AwsError> {
    if request.body.is_empty() {
        return Ok(false);
    }
    let Some(content_type) = request.content_type else {
        return Ok(true);
    };
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Ok(true)
    } else {
        Err(malformed(format!(
            "The request body must be application/x-www-form-urlencoded, not {media_type}."
        )))
    }
}

/// Splits `application/x-www-form-urlencoded` data into decoded pairs, strictly: unlike
/// `form_urlencoded::parse`, a `%` not followed by two hex digits or bytes that are not UTF-8
/// are errors rather than silently replaced, so a corrupted request never reaches a handler
/// with altered values.
pub(crate) fn parse_form(data: &[u8]) -> Result<Vec<(String, String)>, AwsError> {
    let mut pairs = Vec::new();
    for piece in data.split(|&b| b == b'&') {
        if piece.is_empty() {
            continue;
        }
        let (key, value) = match piece.iter().position(|&b| b == b'=') {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (piece, &b""[..]),
        };
        let key = decode_component(key)?;
        if key.is_empty() {
            return Err(malformed("A parameter has an empty name."));
        }
        pairs.push((key, decode_component(value)?));
    }
    Ok(pairs)
}

fn decode_component(raw: &[u8]) -> Result<String, AwsError> {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => bytes.push(b' '),
            b'%' => {
                let high = raw.get(i + 1).and_then(|&b| hex_digit(b));
                let low = raw.get(i + 2).and_then(|&b| hex_digit(b));
                match (high, low) {
                    (Some(h), Some(l)) => bytes.push(h << 4 | l),
                    _ => {
                        return Err(malformed(
                            "The query string contains an invalid percent-encoding.",
                        ))
                    }
                }
                i += 2;
            }
            b => bytes.push(b),
        }
        i += 1;
    }
    String::from_utf8(bytes).map_err(|_| malformed("The query string is not valid UTF-8."))
}

fn hex_digit(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    AwsQuery,
    Ec2,
}

/// The parameters as a tree of key segments, children in order of first appearance.
#[derive(Debug)]
enum Node {
    Leaf(String),
    Branch(Vec<(String, Node)>),
}

fn insert(root: &mut Node, key: &str, value: String) -> Result<(), AwsError> {
    let segments: Vec<&str> = key.split('.').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(malformed(format!(
            "The parameter name {key} is not well formed."
        )));
    }
    if segments.len() > MAX_KEY_SEGMENTS {
        return Err(malformed(format!(
            "The parameter name {key} is nested too deeply."
        )));
    }
    let Some((last, parents)) = segments.split_last() else {
        return Err(malformed("A parameter has an empty name."));
    };
    let mut node = root;
    for segment in parents {
        let Node::Branch(children) = node else {
            return Err(conflict(key));
        };
        let position = match children.iter().position(|(name, _)| name == segment) {
            Some(p) => p,
            None => {
                children.push((segment.to_string(), Node::Branch(Vec::new())));
                children.len() - 1
            }
        };
        node = &mut children[position].1;
    }
    let Node::Branch(children) = node else {
        return Err(conflict(key));
    };
    if children.iter().any(|(name, _)| name == last) {
        // Either the same key twice, or a key that is both a scalar and a prefix of others.
        return Err(conflict(key));
    }
    children.push((last.to_string(), Node::Leaf(value)));
    Ok(())
}

fn conflict(key: &str) -> AwsError {
    malformed(format!(
        "The parameter {key} is given more than once or conflicts with another parameter."
    ))
}

/// A segment made of digits is a list index (or map entry number): 1-based, no leading zero,
/// so that `1` and `01` cannot name the same element twice.
fn parse_index(segment: &str, path: &str) -> Result<Option<u32>, AwsError> {
    if !segment.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let bad_index = || {
        let parameter = join(path, segment);
        malformed(format!(
            "The parameter {parameter} has an invalid list index {segment}; indexes start at 1."
        ))
    };
    if segment.starts_with('0') {
        return Err(bad_index());
    }
    segment.parse::<u32>().map(Some).map_err(|_| bad_index())
}

fn join(path: &str, segment: &str) -> String {
    if path.is_empty() {
        segment.to_string()
    } else {
        format!("{path}.{segment}")
    }
}

/// The top level is always the operation's input structure, whatever its members look like
/// (a lone `Names.1` is a member holding a list, not a list of inputs).
fn input_structure(root: Node, dialect: Dialect) -> Result<Value, AwsError> {
    let Node::Branch(children) = root else {
        return Err(malformed("The request parameters do not form a structure."));
    };
    let mut fields = Vec::with_capacity(children.len());
    for (name, child) in children {
        if parse_index(&name, "")?.is_some() || (dialect == Dialect::AwsQuery && is_wrapper(&name))
        {
            return Err(malformed(format!(
                "The parameter {name} is not a member name."
            )));
        }
        let value = to_value(child, dialect, &name)?;
        fields.push((name, value));
    }
    Ok(Value::Struct(fields))
}

/// Whether a branch's children are list elements: all indexes, none, or (an error) a mix.
fn are_elements(children: &[(String, Node)], path: &str) -> Result<bool, AwsError> {
    let mut indexes = 0;
    for (name, _) in children {
        if parse_index(name, path)?.is_some() {
            indexes += 1;
        }
    }
    match indexes {
        0 => Ok(false),
        n if n == children.len() => Ok(true),
        _ => Err(malformed(format!(
            "The parameter {path} mixes list elements with other members."
        ))),
    }
}

/// The elements of a list or map, ordered by their number (`10` after `9`, not after `1`).
fn ordered_elements(children: Vec<(String, Node)>, path: &str) -> Result<Vec<Node>, AwsError> {
    let mut numbered = Vec::with_capacity(children.len());
    for (name, node) in children {
        let index = parse_index(&name, path)?.ok_or_else(|| {
            malformed(format!(
                "The parameter {path}.{name} has an invalid list index {name}."
            ))
        })?;
        numbered.push((index, node));
    }
    numbered.sort_by_key(|(index, _)| *index);
    Ok(numbered.into_iter().map(|(_, node)| node).collect())
}

/// awsQuery's wrappers: `member` for lists, `entry` for maps.
fn is_wrapper(name: &str) -> bool {
    name == "member" || name == "entry"
}

fn to_value(node: Node, dialect: Dialect, path: &str) -> Result<Value, AwsError> {
    let mut children = match node {
        Node::Leaf(text) => return Ok(Value::Str(text)),
        Node::Branch(children) => children,
    };
    if dialect == Dialect::AwsQuery && children.len() == 1 {
        let sole_is_wrapper = is_wrapper(&children[0].0);
        // A list member named by the model is lower case (`item`); members of structures are
        // PascalCase, so `Outer.Inner.1` stays a structure holding a flattened list.
        let sole_is_named_list = match &children[0] {
            (name, Node::Branch(grandchildren)) => {
                name.starts_with(|c: char| c.is_ascii_lowercase())
                    && !grandchildren.is_empty()
                    && are_elements(grandchildren, &join(path, name))?
            }
            _ => false,
        };
        if let Some((name, sole)) = children.pop() {
            let wrapper_path = join(path, &name);
            if sole_is_wrapper {
                let Node::Branch(elements) = sole else {
                    return Err(malformed(format!(
                        "The parameter {wrapper_path} needs an index, as in {wrapper_path}.1."
                    )));
                };
                if !are_elements(&elements, &wrapper_path)? {
                    return Err(malformed(format!(
                        "The parameter {wrapper_path} must be followed by a list index."
                    )));
                }
                let elements = ordered_elements(elements, &wrapper_path)?;
                return if name == "entry" {
                    map_entries(elements, dialect, &wrapper_path)
                } else {
                    list(elements, dialect, &wrapper_path)
                };
            }
            if sole_is_named_list {
                // A list whose member the model names (Auto Scaling's `Name.item.N`).
                if let Node::Branch(elements) = sole {
                    return list(
                        ordered_elements(elements, &wrapper_path)?,
                        dialect,
                        &wrapper_path,
                    );
                }
            }
            children.push((name, sole));
        }
    }
    if dialect == Dialect::AwsQuery && children.iter().any(|(name, _)| is_wrapper(name)) {
        return Err(malformed(format!(
            "The parameter {path} mixes list or map elements with other members."
        )));
    }
    if are_elements(&children, path)? {
        return list(ordered_elements(children, path)?, dialect, path);
    }
    let mut fields = Vec::with_capacity(children.len());
    for (name, child) in children {
        let child_path = join(path, &name);
        fields.push((name, to_value(child, dialect, &child_path)?));
    }
    Ok(Value::Struct(fields))
}

fn list(elements: Vec<Node>, dialect: Dialect, path: &str) -> Result<Value, AwsError> {
    let items = elements
        .into_iter()
        .map(|element| to_value(element, dialect, path))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Value::List(items))
}

/// `Name.entry.N.key` / `Name.entry.N.value` pairs. A missing value is a null value.
fn map_entries(elements: Vec<Node>, dialect: Dialect, path: &str) -> Result<Value, AwsError> {
    let mut entries = Vec::with_capacity(elements.len());
    for element in elements {
        let Node::Branch(parts) = element else {
            return Err(malformed(format!(
                "The map entries of {path} need a key and a value."
            )));
        };
        let mut key = None;
        let mut value = Value::Null;
        for (name, part) in parts {
            match (name.as_str(), part) {
                ("key", Node::Leaf(k)) => key = Some(k),
                ("value", v) => value = to_value(v, dialect, &join(path, "value"))?,
                (other, _) => {
                    return Err(malformed(format!(
                        "The map entry part {path}.N.{other} is not key or value."
                    )))
                }
            }
        }
        let key = key.ok_or_else(|| malformed(format!("A map entry of {path} has no key.")))?;
        entries.push((key, value));
    }
    Ok(Value::Map(entries))
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded; charset=utf-8");

    fn post(body: &str) -> RawRequest<'_> {
        RawRequest {
            method: "POST",
            path: "/",
            query: "",
            target: None,
            content_type: FORM,
            host: None,
            headers: None,
            body: body.as_bytes(),
        }
    }

    fn decode_query(body: &str) -> Result<DecodedRequest, AwsError> {
        decode(Protocol::AwsQuery, &post(body))
    }

    fn decode_ec2(body: &str) -> Result<DecodedRequest, AwsError> {
        decode(Protocol::Ec2Query, &post(body))
    }

    fn s(text: &str) -> Value {
        Value::Str(text.to_string())
    }

    fn strs(items: &[&str]) -> Value {
        Value::List(items.iter().map(|i| s(i)).collect())
    }

    #[test]
    fn action_and_version_are_taken_out_of_the_parameters() {
        let decoded = decode_query("Action=GetUser&Version=2010-05-08&UserName=bob").unwrap();
        assert_eq!(decoded.action, "GetUser");
        assert_eq!(decoded.params, Value::structure().with("UserName", "bob"));
    }

    #[test]
    fn get_requests_carry_their_parameters_in_the_query_string() {
        let request = RawRequest {
            method: "GET",
            path: "/",
            query: "Action=ListUsers&Version=2010-05-08&PathPrefix=%2Fdev%2F&MaxItems=10",
            target: None,
            content_type: None,
            host: None,
            headers: None,
            body: b"",
        };
        let decoded = decode(Protocol::AwsQuery, &request).unwrap();
        assert_eq!(decoded.action, "ListUsers");
        assert_eq!(
            decoded.params,
            Value::structure()
                .with("PathPrefix", "/dev/")
                .with("MaxItems", "10")
        );
    }

    #[test]
    fn presigned_url_parameters_are_not_operation_input() {
        let request = RawRequest {
            method: "GET",
            path: "/",
            query: "Action=GetCallerIdentity&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc",
            target: None,
            content_type: None,
            host: None,
            headers: None,
            body: b"",
        };
        assert_eq!(
            decode(Protocol::AwsQuery, &request).unwrap().params,
            Value::structure()
        );
    }

    #[rstest]
    #[case::plus_is_space("Path=a+b", "a b")]
    #[case::percent_escapes("Path=%2Fa%20b%2F", "/a b/")]
    #[case::utf8("Path=%C3%A9t%C3%A9", "été")]
    #[case::escaped_plus("Path=1%2B1%3D2", "1+1=2")]
    #[case::no_equals_sign("Path", "")]
    #[case::empty_value("Path=", "")]
    fn form_values_are_percent_decoded(#[case] parameter: &str, #[case] expected: &str) {
        let decoded = decode_query(&format!("Action=A&{parameter}")).unwrap();
        assert_eq!(decoded.params.get("Path"), Some(&s(expected)));
    }

    #[test]
    fn list_members_are_ordered_by_their_number_not_their_text() {
        let body = "Action=A&Names.member.10=j&Names.member.2=b&Names.member.1=a&Names.member.9=i";
        assert_eq!(
            decode_query(body).unwrap().params,
            Value::structure().with("Names", strs(&["a", "b", "i", "j"]))
        );
    }

    #[test]
    fn lists_of_structures_and_nested_lists() {
        let body = "Action=TagUser&UserName=bob\
            &Tags.member.2.Key=team&Tags.member.2.Value=core\
            &Tags.member.1.Key=env&Tags.member.1.Value=dev\
            &Filters.member.1.Name=n&Filters.member.1.Values.member.2=y&Filters.member.1.Values.member.1=x";
        let expected = Value::structure()
            .with("UserName", "bob")
            .with(
                "Tags",
                Value::List(vec![
                    Value::structure().with("Key", "env").with("Value", "dev"),
                    Value::structure().with("Key", "team").with("Value", "core"),
                ]),
            )
            .with(
                "Filters",
                Value::List(vec![Value::structure()
                    .with("Name", "n")
                    .with("Values", strs(&["x", "y"]))]),
            );
        assert_eq!(decode_query(body).unwrap().params, expected);
    }

    #[test]
    fn map_entries_become_a_map_in_entry_order() {
        let body = "Action=A&Context.entry.2.key=b&Context.entry.2.value=2\
            &Context.entry.1.key=a&Context.entry.1.value=1&Context.entry.3.key=c";
        let expected = Value::structure().with(
            "Context",
            Value::Map(vec![
                ("a".into(), s("1")),
                ("b".into(), s("2")),
                ("c".into(), Value::Null),
            ]),
        );
        assert_eq!(decode_query(body).unwrap().params, expected);
    }

    #[test]
    fn map_values_may_be_structures() {
        let body = "Action=A&M.entry.1.key=k&M.entry.1.value.Name=n";
        let expected = Value::structure().with(
            "M",
            Value::Map(vec![("k".into(), Value::structure().with("Name", "n"))]),
        );
        assert_eq!(decode_query(body).unwrap().params, expected);
    }

    #[test]
    fn nested_structures_keep_first_appearance_order() {
        let body = "Action=A&Policy.Name=p&Outer.Inner.Leaf=x&Policy.Document=d";
        let expected = Value::structure()
            .with(
                "Policy",
                Value::structure().with("Name", "p").with("Document", "d"),
            )
            .with(
                "Outer",
                Value::structure().with("Inner", Value::structure().with("Leaf", "x")),
            );
        assert_eq!(decode_query(body).unwrap().params, expected);
    }

    #[test]
    fn a_named_list_member_is_a_list() {
        // Auto Scaling's PerformanceFactorReferenceSetRequest names its member `item`.
        let body = "Action=A&Set.item.2.Id=b&Set.item.1.Id=a";
        let expected = Value::structure().with(
            "Set",
            Value::List(vec![
                Value::structure().with("Id", "a"),
                Value::structure().with("Id", "b"),
            ]),
        );
        assert_eq!(decode_query(body).unwrap().params, expected);
    }

    #[rstest]
    #[case::query_flattened_list(Protocol::AwsQuery, "Action=A&Names.1=a&Names.2=b")]
    #[case::ec2_list(Protocol::Ec2Query, "Action=A&InstanceId.1=a&InstanceId.2=b")]
    #[case::query_member_list(Protocol::AwsQuery, "Action=A&Names.member.1=a&Names.member.2=b")]
    fn a_lone_list_parameter_is_still_a_member_of_the_input(
        #[case] protocol: Protocol,
        #[case] body: &str,
    ) {
        let params = decode(protocol, &post(body)).unwrap().params;
        let (name, _) = &params.entries()[0];
        assert_eq!(params, Value::structure().with(name, strs(&["a", "b"])));
    }

    #[test]
    fn a_pascal_case_member_holding_a_flattened_list_stays_a_structure() {
        let params = decode_query("Action=A&Outer.Inner.1=a").unwrap().params;
        assert_eq!(
            params,
            Value::structure().with("Outer", Value::structure().with("Inner", strs(&["a"])))
        );
    }

    #[test]
    fn an_empty_list_is_an_empty_value() {
        // botocore writes `Name=` for an empty list; `Value::as_list` reads it as empty.
        let decoded = decode_query("Action=A&Names=").unwrap();
        assert_eq!(decoded.params.get("Names"), Some(&s("")));
        assert!(decoded
            .params
            .get("Names")
            .map(Value::as_list)
            .unwrap_or_default()
            .is_empty());
    }

    #[test]
    fn ec2_lists_have_no_member_level() {
        let body = "Action=DescribeInstances&Version=2016-11-15&InstanceId.2=i-2&InstanceId.1=i-1\
            &Filter.1.Name=tag%3AName&Filter.1.Value.1=web&Filter.1.Value.2=db\
            &Filter.2.Name=instance-state-name&Filter.2.Value.1=running&MaxResults=5";
        let decoded = decode_ec2(body).unwrap();
        assert_eq!(decoded.action, "DescribeInstances");
        let expected = Value::structure()
            .with("InstanceId", strs(&["i-1", "i-2"]))
            .with(
                "Filter",
                Value::List(vec![
                    Value::structure()
                        .with("Name", "tag:Name")
                        .with("Value", strs(&["web", "db"])),
                    Value::structure()
                        .with("Name", "instance-state-name")
                        .with("Value", strs(&["running"])),
                ]),
            )
            .with("MaxResults", "5");
        assert_eq!(decoded.params, expected);
    }

    #[test]
    fn ec2_has_no_member_keyword() {
        let decoded = decode_ec2("Action=A&Thing.member=x").unwrap();
        assert_eq!(
            decoded.params,
            Value::structure().with("Thing", Value::structure().with("member", "x"))
        );
    }

    #[rstest]
    #[case::no_action("UserName=bob", "MissingAction")]
    #[case::empty_action("Action=&UserName=bob", "MissingAction")]
    #[case::action_twice("Action=A&Action=B", "MalformedQueryString")]
    #[case::bad_percent_escape("Action=A&Name=%zz", "MalformedQueryString")]
    #[case::truncated_percent_escape("Action=A&Name=%4", "MalformedQueryString")]
    #[case::not_utf8("Action=A&Name=%ff%fe", "MalformedQueryString")]
    #[case::member_not_a_number("Action=A&Names.member.x=a", "MalformedQueryString")]
    #[case::member_zero("Action=A&Names.member.0=a", "MalformedQueryString")]
    #[case::member_leading_zero("Action=A&Names.member.01=a", "MalformedQueryString")]
    #[case::member_without_index("Action=A&Names.member=a", "MalformedQueryString")]
    #[case::index_overflow("Action=A&Names.member.99999999999=a", "MalformedQueryString")]
    #[case::entry_without_key("Action=A&M.entry.1.value=v", "MalformedQueryString")]
    #[case::entry_with_other_part(
        "Action=A&M.entry.1.key=k&M.entry.1.other=v",
        "MalformedQueryString"
    )]
    #[case::member_mixed_with_members("Action=A&L.member.1=a&L.Other=b", "MalformedQueryString")]
    #[case::index_mixed_with_members("Action=A&L.1=a&L.Other=b", "MalformedQueryString")]
    #[case::scalar_and_structure("Action=A&P=1&P.Name=2", "MalformedQueryString")]
    #[case::structure_and_scalar("Action=A&P.Name=2&P=1", "MalformedQueryString")]
    #[case::same_key_twice("Action=A&P=1&P=2", "MalformedQueryString")]
    #[case::empty_segment("Action=A&P..Name=1", "MalformedQueryString")]
    #[case::trailing_dot("Action=A&P.=1", "MalformedQueryString")]
    #[case::empty_name("Action=A&=1", "MalformedQueryString")]
    #[case::index_at_top_level("Action=A&1=x", "MalformedQueryString")]
    #[case::wrapper_at_top_level("Action=A&member.1=x", "MalformedQueryString")]
    fn malformed_query_input_is_a_400(#[case] body: &str, #[case] code: &str) {
        let error = decode_query(body).unwrap_err();
        assert_eq!((error.code.as_ref(), error.status), (code, 400), "{error}");
    }

    #[rstest]
    #[case::zero_index("Action=A&InstanceId.0=i")]
    #[case::mixed("Action=A&Filter.1.Name=n&Filter.Name=m")]
    fn malformed_ec2_input_is_a_400(#[case] body: &str) {
        let error = decode_ec2(body).unwrap_err();
        assert_eq!(
            (error.code.as_ref(), error.status),
            ("MalformedQueryString", 400)
        );
    }

    #[test]
    fn keys_nested_too_deeply_are_refused() {
        let key = vec!["A"; MAX_KEY_SEGMENTS + 1].join(".");
        let error = decode_query(&format!("Action=A&{key}=1")).unwrap_err();
        assert_eq!(error.code, "MalformedQueryString");
    }

    #[test]
    fn a_body_that_is_not_a_form_is_refused() {
        let request = RawRequest {
            content_type: Some("application/json"),
            ..post("{\"Action\":\"A\"}")
        };
        assert_eq!(
            decode(Protocol::AwsQuery, &request).unwrap_err().code,
            "MalformedQueryString"
        );
    }

    #[test]
    fn a_body_without_content_type_is_read_as_a_form() {
        let request = RawRequest {
            content_type: None,
            ..post("Action=GetCallerIdentity")
        };
        assert_eq!(
            decode(Protocol::AwsQuery, &request).unwrap().action,
            "GetCallerIdentity"
        );
    }

    #[test]
    fn parameters_may_be_split_between_url_and_body() {
        let request = RawRequest {
            query: "Action=GetUser",
            ..post("UserName=bob")
        };
        let decoded = decode(Protocol::AwsQuery, &request).unwrap();
        assert_eq!(
            (decoded.action.as_str(), decoded.params.get("UserName")),
            ("GetUser", Some(&s("bob")))
        );
    }

    /// Arbitrary bytes only ever produce a result or an error.
    #[test]
    fn arbitrary_input_never_panics() {
        let alphabet = b"Action=&.%0123456789abcdefxmemberntry+\xff\xc3A";
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..5000 {
            let mut body = Vec::new();
            for _ in 0..(state % 40) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                body.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            let request = RawRequest {
                body: &body,
                ..post("")
            };
            let _ = decode(Protocol::AwsQuery, &request);
            let _ = decode(Protocol::Ec2Query, &request);
        }
    }
}
