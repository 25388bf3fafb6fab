//! Template properties as the other services' requests: the inputs of PutMetricAlarm and
//! RunInstances, policy documents, tags, and the lists of names a property holds.

use super::engine::Failure;
use crate::{template::Node, value::Value};

pub(super) fn member<'v>(value: &'v Value, names: &[&str]) -> Option<&'v Value> {
    names.iter().find_map(|n| value.get(n))
}

pub(super) fn next_marker(output: &Value) -> Option<String> {
    let truncated = output.get("IsTruncated").and_then(Value::as_bool).unwrap_or(false);
    truncated.then(|| output.get("Marker").and_then(Value::as_str).map(str::to_string)).flatten()
}

/// A list property of strings (scalars become text).
pub(super) fn strings(node: Option<&Node>) -> Vec<String> {
    node.and_then(Node::as_list).unwrap_or_default().iter().filter_map(Node::text).collect()
}

/// A policy document property: an object is sent as its JSON text, a string as it is.
pub(super) fn document(node: Option<&Node>) -> String {
    match node {
        Some(Node::Str(s)) => s.clone(),
        Some(other) => other.to_json_text(),
        None => String::new(),
    }
}

/// `Policies: [{PolicyName, PolicyDocument}]` as (name, document text).
pub(super) fn inline_policies(node: Option<&Node>) -> Vec<(String, String)> {
    node.and_then(Node::as_list)
        .unwrap_or_default()
        .iter()
        .map(|p| (p.get("PolicyName").and_then(Node::text).unwrap_or_default(), document(p.get("PolicyDocument"))))
        .collect()
}

pub(super) fn tag_pairs(properties: &Node) -> Vec<(String, String)> {
    properties
        .get("Tags")
        .and_then(Node::as_list)
        .unwrap_or_default()
        .iter()
        .map(|t| {
            (
                t.get("Key").and_then(Node::text).unwrap_or_default(),
                t.get("Value").and_then(Node::text).unwrap_or_default(),
            )
        })
        .collect()
}

/// `Tags: [{Key, Value}]` as the query services' tag list.
pub(super) fn tags(properties: &Node) -> Option<Value> {
    let pairs = tag_pairs(properties);
    (!pairs.is_empty()).then(|| {
        pairs.iter().map(|(k, v)| Value::structure().with("Key", k.as_str()).with("Value", v.as_str())).collect()
    })
}

/// The inline policy's entities as (request member, put action, name).
pub(super) fn policy_entities(properties: &Node) -> Vec<(&'static str, &'static str, String)> {
    let mut out = Vec::new();
    for (property, member, action) in [
        ("Roles", "RoleName", "PutRolePolicy"),
        ("Users", "UserName", "PutUserPolicy"),
        ("Groups", "GroupName", "PutGroupPolicy"),
    ] {
        for name in strings(properties.get(property)) {
            out.push((member, action, name));
        }
    }
    out
}

pub(super) fn policy_targets(logical_id: &str, properties: &Node) -> Result<(), Failure> {
    if policy_entities(properties).is_empty() {
        return Err(Failure::new(format!(
            "Properties validation failed for resource {logical_id} with message: At least one of [Groups,Roles,Users] must be non-empty."
        )));
    }
    Ok(())
}

/// A scalar property as the query text the wire would carry.
pub(super) fn text_value(node: &Node) -> Option<Value> {
    node.text().map(Value::Str)
}

pub(super) fn number_error(logical_id: &str, property: &str, expected: &str) -> Failure {
    Failure::new(format!(
        "Properties validation failed for resource {logical_id} with message: #/{property}: expected type: {expected}, found: String"
    ))
}

/// PutMetricAlarm's input. Numbers may be given as strings in a template ("60"), as
/// CloudFormation accepts; they are passed on typed, as the SDKs send them.
pub(super) fn alarm_input(logical_id: &str, name: &str, properties: &Node) -> Result<Value, Failure> {
    let mut input = Value::structure().with("AlarmName", name);
    for (key, value) in properties.entries() {
        let converted = match key.as_str() {
            "AlarmName" => continue,
            "Period" | "EvaluationPeriods" | "DatapointsToAlarm" => {
                let text = value.text().unwrap_or_default();
                Value::Int(text.trim().parse().map_err(|_| number_error(logical_id, key, "Integer"))?)
            }
            "Threshold" => {
                let text = value.text().unwrap_or_default();
                Value::Float(text.trim().parse().map_err(|_| number_error(logical_id, key, "Number"))?)
            }
            "ActionsEnabled" => match value.text().as_deref() {
                Some("true") => Value::Bool(true),
                Some("false") => Value::Bool(false),
                _ => return Err(number_error(logical_id, key, "Boolean")),
            },
            "AlarmActions" | "OKActions" | "InsufficientDataActions" => {
                Value::List(strings(Some(value)).into_iter().map(Value::Str).collect())
            }
            "Dimensions" | "Tags" => {
                let (k, v) = if key == "Dimensions" { ("Name", "Value") } else { ("Key", "Value") };
                value
                    .as_list()
                    .unwrap_or_default()
                    .iter()
                    .map(|d| {
                        Value::structure()
                            .with(k, d.get(k).and_then(Node::text).unwrap_or_default())
                            .with(v, d.get(v).and_then(Node::text).unwrap_or_default())
                    })
                    .collect()
            }
            _ => match text_value(value) {
                Some(v) => v,
                None => continue,
            },
        };
        input.push(key, converted);
    }
    Ok(input)
}

/// RunInstances' input in ec2Query member names, one instance.
pub(super) fn instance_input(logical_id: &str, properties: &Node) -> Result<Value, Failure> {
    let mut input = Value::structure().with("MinCount", "1").with("MaxCount", "1");
    let mut placement = Value::structure();
    for (key, value) in properties.entries() {
        match key.as_str() {
            "ImageId"
            | "InstanceType"
            | "KeyName"
            | "SubnetId"
            | "UserData"
            | "PrivateIpAddress"
            | "KernelId"
            | "RamdiskId"
            | "InstanceInitiatedShutdownBehavior"
            | "EbsOptimized"
            | "DisableApiTermination" => {
                if let Some(v) = text_value(value) {
                    input.push(key, v);
                }
            }
            "AvailabilityZone" | "Tenancy" => {
                if let Some(v) = text_value(value) {
                    placement.push(key, v);
                }
            }
            "PlacementGroupName" => {
                if let Some(v) = text_value(value) {
                    placement.push("GroupName", v);
                }
            }
            "IamInstanceProfile" => {
                let profile = value.text().unwrap_or_default();
                let member = if profile.starts_with("arn:") { "Arn" } else { "Name" };
                input.push("IamInstanceProfile", Value::structure().with(member, profile));
            }
            "SecurityGroupIds" => {
                input.push("SecurityGroupId", strings(Some(value)).into_iter().map(Value::Str).collect::<Value>())
            }
            "SecurityGroups" => {
                input.push("SecurityGroup", strings(Some(value)).into_iter().map(Value::Str).collect::<Value>())
            }
            "Monitoring" => {
                if let Some(v) = text_value(value) {
                    input.push("Monitoring", Value::structure().with("Enabled", v));
                }
            }
            "BlockDeviceMappings" => {
                let mut mappings = Vec::new();
                for mapping in value.as_list().unwrap_or_default() {
                    let mut out = Value::structure();
                    for (member, v) in mapping.entries() {
                        match member.as_str() {
                            "DeviceName" | "VirtualName" => {
                                if let Some(v) = text_value(v) {
                                    out.push(member, v);
                                }
                            }
                            "NoDevice" => out.push("NoDevice", ""),
                            "Ebs" => {
                                let mut ebs = Value::structure();
                                for (name, v) in v.entries() {
                                    if let Some(v) = text_value(v) {
                                        ebs.push(name, v);
                                    }
                                }
                                out.push("Ebs", ebs);
                            }
                            other => {
                                return Err(Failure::new(format!(
                                    "Properties validation failed for resource {logical_id} with message: #/BlockDeviceMappings: extraneous key [{other}] is not permitted"
                                )))
                            }
                        }
                    }
                    mappings.push(out);
                }
                input.push("BlockDeviceMapping", Value::List(mappings));
            }
            "Tags" => {
                if let Some(tags) = tags(properties) {
                    input.push(
                        "TagSpecification",
                        Value::List(vec![Value::structure().with("ResourceType", "instance").with("Tag", tags)]),
                    );
                }
            }
            _ => {}
        }
    }
    if !placement.entries().is_empty() {
        input.push("Placement", placement);
    }
    Ok(input)
}
