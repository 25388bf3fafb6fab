//! The references a value makes (`Ref`, `Fn::GetAtt`, `Fn::Sub` variables, conditions), found
//! without evaluating it, and the splitting of `Fn::Sub` strings.

use serde_json::Value as Json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Reference {
    Ref(String),
    /// A resource and, when it is a literal, the attribute.
    GetAtt(String, Option<String>),
    Condition(String),
}

/// Every reference in a tree, in document order. Both branches of `Fn::If` count, as they do for
/// AWS's dependency analysis.
pub(super) fn collect_references(node: &Json, out: &mut Vec<Reference>) {
    match node {
        Json::Array(items) => items.iter().for_each(|i| collect_references(i, out)),
        Json::Object(map) if map.len() == 1 => {
            let (key, value) = map.iter().next().expect("one member");
            match key.as_str() {
                "Ref" => match value {
                    Json::String(name) => out.push(Reference::Ref(name.clone())),
                    other => collect_references(other, out),
                },
                "Fn::GetAtt" => match getatt_target(value) {
                    Some((resource, attribute)) => {
                        out.push(Reference::GetAtt(resource, attribute));
                        if let Json::Array(items) = value {
                            items.iter().skip(1).for_each(|i| collect_references(i, out));
                        }
                    }
                    None => collect_references(value, out),
                },
                "Fn::Sub" => {
                    let (text, vars) = match value {
                        Json::String(s) => (Some(s.as_str()), None),
                        Json::Array(items) => {
                            (items.first().and_then(Json::as_str), items.get(1).and_then(Json::as_object))
                        }
                        _ => (None, None),
                    };
                    if let Some(vars) = vars {
                        vars.values().for_each(|v| collect_references(v, out));
                    }
                    if let Some(text) = text {
                        for part in parse_sub(text) {
                            if let SubPart::Var(name) = part {
                                if vars.is_some_and(|v| v.contains_key(&name)) {
                                    continue;
                                }
                                match name.split_once('.') {
                                    Some((resource, attribute)) if !name.starts_with("AWS::") => {
                                        out.push(Reference::GetAtt(resource.to_string(), Some(attribute.to_string())))
                                    }
                                    _ => out.push(Reference::Ref(name)),
                                }
                            }
                        }
                    }
                }
                "Fn::If" => {
                    if let Json::Array(items) = value {
                        if let Some(Json::String(condition)) = items.first() {
                            out.push(Reference::Condition(condition.clone()));
                        }
                        items.iter().skip(1).for_each(|i| collect_references(i, out));
                    }
                }
                "Condition" => match value {
                    Json::String(name) => out.push(Reference::Condition(name.clone())),
                    other => collect_references(other, out),
                },
                _ => collect_references(value, out),
            }
        }
        Json::Object(map) => map.values().for_each(|v| collect_references(v, out)),
        _ => {}
    }
}

/// `["Res", "Attr"]` or `"Res.Attr"`.
fn getatt_target(value: &Json) -> Option<(String, Option<String>)> {
    match value {
        Json::Array(items) => {
            let resource = items.first()?.as_str()?.to_string();
            let attribute = items.get(1).and_then(Json::as_str).map(str::to_string);
            Some((resource, attribute))
        }
        Json::String(s) => {
            let (resource, attribute) = s.split_once('.')?;
            Some((resource.to_string(), Some(attribute.to_string())))
        }
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SubPart {
    Literal(String),
    Var(String),
}

/// Splits an `Fn::Sub` string: `${Name}` is a variable, `${!Text}` is the literal `${Text}`.
pub(super) fn parse_sub(text: &str) -> Vec<SubPart> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        literal.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        if let Some(escaped) = after.strip_prefix('!') {
            literal.push_str("${");
            rest = escaped;
            continue;
        }
        match after.find('}') {
            Some(end) => {
                if !literal.is_empty() {
                    parts.push(SubPart::Literal(std::mem::take(&mut literal)));
                }
                parts.push(SubPart::Var(after[..end].trim().to_string()));
                rest = &after[end + 1..];
            }
            None => {
                literal.push_str("${");
                rest = after;
            }
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        parts.push(SubPart::Literal(literal));
    }
    parts
}
