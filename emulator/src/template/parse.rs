//! Parsing: JSON and YAML bodies (YAML's short-form tags become the long forms), the top-level
//! sections, and the declarations of parameters, resources and outputs.

use serde_json::{Map, Number, Value as Json};

use super::{format_error, OutputDecl, ParameterDecl, ResourceDecl, Template};
use crate::error::AwsError;

const TOP_LEVEL: [&str; 10] = [
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
];

const RESOURCE_ATTRIBUTES: [&str; 10] = [
    "Type",
    "Properties",
    "DependsOn",
    "Condition",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "UpdatePolicy",
    "CreationPolicy",
    "Metadata",
    "Description",
];

/// Parses a template body into its JSON tree. A body whose first character is `{` is JSON (as
/// AWS decides); anything else is YAML, whose short-form tags become the long forms.
pub fn parse_body(body: &str) -> Result<Json, AwsError> {
    if body.trim_start().starts_with('{') {
        serde_json::from_str::<Json>(body)
            .map_err(|e| format_error(format!("JSON not well-formed. (line {}, column {})", e.line(), e.column())))
    } else {
        let yaml: serde_yaml::Value = serde_yaml::from_str(body).map_err(|e| {
            let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
            format_error(format!("YAML not well-formed. (line {line}, column {column})"))
        })?;
        yaml_to_json(yaml)
    }
}

/// YAML's short forms (`!Ref X`, `!GetAtt A.B`, `!Sub …`) are the long forms with a tag.
fn yaml_to_json(yaml: serde_yaml::Value) -> Result<Json, AwsError> {
    use serde_yaml::Value as Y;
    Ok(match yaml {
        Y::Null => Json::Null,
        Y::Bool(b) => Json::Bool(b),
        Y::Number(n) => yaml_number(&n),
        Y::String(s) => Json::String(s),
        Y::Sequence(items) => Json::Array(items.into_iter().map(yaml_to_json).collect::<Result<_, _>>()?),
        Y::Mapping(mapping) => {
            let mut map = Map::new();
            for (key, value) in mapping {
                let key = match key {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_string(),
                    _ => return Err(format_error("YAML not well-formed. (mapping keys must be scalars)")),
                };
                map.insert(key, yaml_to_json(value)?);
            }
            Json::Object(map)
        }
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!').to_string();
            let value = yaml_to_json(tagged.value)?;
            let (key, value) = match name.as_str() {
                "Ref" | "Condition" => (name, value),
                "GetAtt" => {
                    let value = match value {
                        Json::String(s) => match s.split_once('.') {
                            Some((resource, attribute)) => Json::Array(vec![resource.into(), attribute.into()]),
                            None => Json::String(s),
                        },
                        other => other,
                    };
                    ("Fn::GetAtt".to_string(), value)
                }
                _ => (format!("Fn::{name}"), value),
            };
            let mut map = Map::new();
            map.insert(key, value);
            Json::Object(map)
        }
    })
}

fn yaml_number(n: &serde_yaml::Number) -> Json {
    if let Some(i) = n.as_i64() {
        Json::Number(i.into())
    } else if let Some(u) = n.as_u64() {
        Json::Number(u.into())
    } else {
        n.as_f64().and_then(Number::from_f64).map(Json::Number).unwrap_or_else(|| Json::String(n.to_string()))
    }
}

/// A scalar of the template as CloudFormation reads it: numbers and booleans are text too.
fn scalar_text(value: &Json) -> Option<String> {
    match value {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Template {
    /// Parses a body and checks its structure (sections, parameter and resource declarations).
    /// References and types are checked by [`Template::check`].
    pub fn parse(body: &str) -> Result<Template, AwsError> {
        let root = parse_body(body)?;
        let Json::Object(root) = root else {
            return Err(format_error("unsupported structure."));
        };
        let unknown: Vec<&str> = root.keys().map(String::as_str).filter(|k| !TOP_LEVEL.contains(k)).collect();
        if !unknown.is_empty() {
            return Err(format_error(format!("Invalid template property or properties [{}]", unknown.join(", "))));
        }
        if let Some(version) = root.get("AWSTemplateFormatVersion") {
            if scalar_text(version).as_deref() != Some("2010-09-09") {
                // Eucalyptus's wording of AWS's answer.
                return Err(format_error("unsupported value for AWSTemplateFormatVersion."));
            }
        }
        if let Some(transform) = root.get("Transform") {
            return Err(AwsError::validation(format!(
                "wana: template transforms are not emulated (Transform: {transform})"
            )));
        }
        let description = match root.get("Description") {
            None => None,
            Some(Json::String(s)) => Some(s.clone()),
            Some(_) => return Err(format_error("Every Description member must be a string.")),
        };
        let parameters = parse_parameters(root.get("Parameters"))?;
        let mappings = match root.get("Mappings") {
            None => Map::new(),
            Some(Json::Object(m)) => m.clone(),
            Some(_) => return Err(format_error("Every Mappings member must be a map")),
        };
        let conditions = match root.get("Conditions") {
            None => Vec::new(),
            Some(Json::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Some(_) => return Err(format_error("Every Conditions member must be an object.")),
        };
        let resources = parse_resources(root.get("Resources"))?;
        let outputs = parse_outputs(root.get("Outputs"))?;
        Ok(Template { body: body.to_string(), description, parameters, mappings, conditions, resources, outputs })
    }
}

/// Logical ids and parameter names: ASCII letters and digits only.
fn is_alphanumeric(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn parse_parameters(section: Option<&Json>) -> Result<Vec<ParameterDecl>, AwsError> {
    let Some(section) = section else { return Ok(Vec::new()) };
    let Json::Object(section) = section else {
        return Err(format_error("Every Parameters member must be an object."));
    };
    let mut out = Vec::new();
    for (name, decl) in section {
        if !is_alphanumeric(name) {
            return Err(format_error(format!("Parameter name {name} is non alphanumeric.")));
        }
        let Json::Object(decl) = decl else {
            return Err(format_error("Any Parameters member must be a JSON object."));
        };
        let type_name = match decl.get("Type") {
            Some(Json::String(t)) => t.clone(),
            _ => {
                return Err(format_error(format!(
                    "[/Parameters/{name}] Every Parameters object must contain a Type member."
                )))
            }
        };
        if !is_parameter_type(&type_name) {
            return Err(format_error(format!("Unrecognized parameter type: {type_name}")));
        }
        if type_name.starts_with("AWS::SSM::Parameter") {
            return Err(AwsError::validation(format!(
                "wana: parameter type {type_name} needs Systems Manager parameters, which are not emulated yet"
            )));
        }
        let default = match decl.get("Default") {
            None => None,
            Some(Json::Array(items)) => Some(items.iter().filter_map(scalar_text).collect::<Vec<_>>().join(",")),
            Some(v) => Some(
                scalar_text(v)
                    .ok_or_else(|| format_error(format!("Default member of parameter {name} must be a string")))?,
            ),
        };
        let allowed_values = match decl.get("AllowedValues") {
            None => None,
            Some(Json::Array(items)) => Some(items.iter().filter_map(scalar_text).collect()),
            Some(_) => return Err(format_error("Every AllowedValues member must be a list.")),
        };
        let no_echo = decl.get("NoEcho").and_then(scalar_text).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let description = decl.get("Description").and_then(scalar_text);
        out.push(ParameterDecl { name: name.clone(), type_name, default, allowed_values, no_echo, description });
    }
    Ok(out)
}

fn is_parameter_type(t: &str) -> bool {
    let inner = t.strip_prefix("List<").and_then(|r| r.strip_suffix('>'));
    match inner {
        Some(inner) => inner == "Number" || (inner.starts_with("AWS::") && !inner.starts_with("AWS::SSM::")),
        None => matches!(t, "String" | "Number" | "CommaDelimitedList") || t.starts_with("AWS::"),
    }
}

fn parse_resources(section: Option<&Json>) -> Result<Vec<ResourceDecl>, AwsError> {
    let resources = match section {
        Some(Json::Object(m)) if !m.is_empty() => m,
        _ => return Err(format_error("At least one Resources member must be defined.")),
    };
    let mut out = Vec::new();
    for (logical_id, decl) in resources {
        if !is_alphanumeric(logical_id) {
            return Err(format_error(format!("Resource name {logical_id} is non alphanumeric.")));
        }
        let Json::Object(decl) = decl else {
            return Err(format_error(format!("[/Resources/{logical_id}] Every Resources object must be an object.")));
        };
        if let Some(bad) = decl.keys().find(|k| !RESOURCE_ATTRIBUTES.contains(&k.as_str())) {
            return Err(AwsError::validation(format!("Invalid template resource property '{bad}'")));
        }
        let type_name = match decl.get("Type") {
            Some(Json::String(t)) => t.clone(),
            _ => {
                return Err(format_error(format!(
                    "[/Resources/{logical_id}] Every Resources object must contain a Type member."
                )))
            }
        };
        let properties = match decl.get("Properties") {
            None | Some(Json::Null) => Json::Null,
            Some(p @ Json::Object(_)) => p.clone(),
            Some(_) => {
                return Err(format_error(format!(
                    "[/Resources/{logical_id}/Properties] Every Properties member must be an object."
                )))
            }
        };
        let depends_on = match decl.get("DependsOn") {
            None => Vec::new(),
            Some(Json::String(s)) => vec![s.clone()],
            Some(Json::Array(items)) => {
                items.iter().map(|i| i.as_str().map(str::to_string)).collect::<Option<Vec<_>>>().ok_or_else(|| {
                    format_error(format!(
                        "[/Resources/{logical_id}/DependsOn] DependsOn must be a string or list of strings."
                    ))
                })?
            }
            Some(_) => {
                return Err(format_error(format!(
                    "[/Resources/{logical_id}/DependsOn] DependsOn must be a string or list of strings."
                )))
            }
        };
        let condition = match decl.get("Condition") {
            None => None,
            Some(Json::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(format_error(format!("[/Resources/{logical_id}/Condition] Condition must be a string.")))
            }
        };
        let deletion_policy = match decl.get("DeletionPolicy") {
            None => None,
            Some(Json::String(s))
                if matches!(s.as_str(), "Delete" | "Retain" | "RetainExceptOnCreate" | "Snapshot") =>
            {
                Some(s.clone())
            }
            Some(other) => {
                return Err(format_error(format!(
                    "Unrecognized DeletionPolicy {} for resource {logical_id}",
                    scalar_text(other).unwrap_or_default()
                )))
            }
        };
        out.push(ResourceDecl {
            logical_id: logical_id.clone(),
            type_name,
            properties,
            depends_on,
            condition,
            deletion_policy,
        });
    }
    Ok(out)
}

fn parse_outputs(section: Option<&Json>) -> Result<Vec<OutputDecl>, AwsError> {
    let Some(section) = section else { return Ok(Vec::new()) };
    let Json::Object(section) = section else {
        return Err(format_error("Every Outputs member must be an object."));
    };
    let mut out = Vec::new();
    for (key, decl) in section {
        let Json::Object(decl) = decl else {
            return Err(format_error(format!("[/Outputs/{key}] Every Outputs member must be an object.")));
        };
        let Some(value) = decl.get("Value") else {
            return Err(format_error(format!("[/Outputs/{key}] Every Outputs member must contain a Value object")));
        };
        out.push(OutputDecl {
            key: key.clone(),
            value: value.clone(),
            description: decl.get("Description").cloned(),
            condition: decl.get("Condition").and_then(Json::as_str).map(str::to_string),
            export_name: decl.get("Export").and_then(|e| e.get("Name")).cloned(),
        });
    }
    Ok(out)
}
