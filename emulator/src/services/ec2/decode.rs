//! Reading EC2 query members: scalars, lists (`InstanceId.N`), filters (`Filter.N.Name` /
//! `Filter.N.Value.M`) with EC2's glob matching, and tag specifications.

use crate::{
    error::AwsError,
    state::ec2::{BlockDeviceSpec, EbsSpec, Tag},
    value::Value,
};

fn invalid_value(name: &str, text: &str) -> AwsError {
    AwsError::invalid_parameter_value(format!("Value ({text}) for parameter {name} is invalid."))
}

pub(super) fn text<'a>(params: &'a Value, name: &str) -> Option<&'a str> {
    params.get(name).and_then(Value::as_str)
}

pub(super) fn required<'a>(params: &'a Value, name: &str) -> Result<&'a str, AwsError> {
    match params.get(name) {
        Some(Value::Str(s)) if !s.is_empty() => Ok(s),
        Some(Value::Str(_)) | None => Err(AwsError::missing_parameter(name)),
        Some(_) => Err(invalid_value(name, "a structure")),
    }
}

pub(super) fn boolean(params: &Value, name: &str) -> Result<Option<bool>, AwsError> {
    match params.get(name) {
        None => Ok(None),
        Some(v) => v.as_bool().map(Some).ok_or_else(|| invalid_value(name, v.as_str().unwrap_or(""))),
    }
}

pub(super) fn integer(params: &Value, name: &str) -> Result<Option<i64>, AwsError> {
    match params.get(name) {
        None => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| invalid_value(name, v.as_str().unwrap_or(""))),
    }
}

/// A list of strings (`InstanceId.N`); a lone `InstanceId` without index counts as one item.
pub(super) fn strings(params: &Value, name: &str) -> Vec<String> {
    match params.get(name) {
        Some(Value::Str(s)) => vec![s.clone()],
        Some(v) => v.as_list().iter().filter_map(Value::as_str).map(str::to_string).collect(),
        None => Vec::new(),
    }
}

/// `Filter.N.Name` / `Filter.N.Value.M`.
pub(super) struct Filter {
    pub(super) name: String,
    pub(super) values: Vec<String>,
}

pub(super) fn filters(params: &Value) -> Result<Vec<Filter>, AwsError> {
    params
        .get("Filter")
        .map(Value::as_list)
        .unwrap_or_default()
        .iter()
        .map(|filter| {
            let name = text(filter, "Name").ok_or_else(|| AwsError::missing_parameter("Filter.Name"))?;
            Ok(Filter { name: name.to_string(), values: strings(filter, "Value") })
        })
        .collect()
}

pub(super) fn invalid_filter(name: &str) -> AwsError {
    AwsError::invalid_parameter_value(format!("The filter '{name}' is invalid"))
}

/// EC2 filter values may use `*` (any run) and `?` (any one character).
pub(super) fn glob(pattern: &str, candidate: &str) -> bool {
    fn go(p: &[char], c: &[char]) -> bool {
        match (p.first(), c.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], c) || (!c.is_empty() && go(p, &c[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &c[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &c[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let c: Vec<char> = candidate.chars().collect();
    go(&p, &c)
}

/// Whether any of a filter's values matches any of the candidates.
pub(super) fn any_matches(filter: &Filter, candidates: &[String]) -> bool {
    filter.values.iter().any(|pattern| candidates.iter().any(|c| glob(pattern, c)))
}

/// The tag filters every taggable resource understands; `None` when `name` is not one.
pub(super) fn tag_filter(filter: &Filter, tags: &[Tag]) -> Option<bool> {
    let name = filter.name.as_str();
    if let Some(key) = name.strip_prefix("tag:") {
        let values: Vec<String> = tags.iter().filter(|t| t.key == key).map(|t| t.value.clone()).collect();
        return Some(any_matches(filter, &values));
    }
    match name {
        "tag-key" => Some(any_matches(filter, &tags.iter().map(|t| t.key.clone()).collect::<Vec<_>>())),
        "tag-value" => Some(any_matches(filter, &tags.iter().map(|t| t.value.clone()).collect::<Vec<_>>())),
        _ => None,
    }
}

/// `TagSpecification.N.ResourceType` / `.Tag.M.{Key,Value}`: the tags for each resource type.
pub(super) fn tag_specifications(params: &Value, allowed: &[&str]) -> Result<Vec<(String, Vec<Tag>)>, AwsError> {
    let mut specs = Vec::new();
    for spec in params.get("TagSpecification").map(Value::as_list).unwrap_or_default() {
        let resource_type =
            text(spec, "ResourceType").ok_or_else(|| AwsError::missing_parameter("TagSpecification.ResourceType"))?;
        if !allowed.contains(&resource_type) {
            return Err(AwsError::invalid_parameter_value(format!(
                "'{resource_type}' is not a valid taggable resource type for this operation."
            )));
        }
        let tags = spec
            .get("Tag")
            .map(Value::as_list)
            .unwrap_or_default()
            .iter()
            .map(|tag| Tag {
                key: text(tag, "Key").unwrap_or_default().to_string(),
                value: text(tag, "Value").unwrap_or_default().to_string(),
            })
            .collect();
        specs.push((resource_type.to_string(), tags));
    }
    Ok(specs)
}

pub(super) fn tags_for(specs: &[(String, Vec<Tag>)], resource_type: &str) -> Vec<Tag> {
    specs.iter().filter(|(t, _)| t == resource_type).flat_map(|(_, tags)| tags.clone()).collect()
}

/// `BlockDeviceMapping.N.{DeviceName, NoDevice, VirtualName, Ebs.*}`.
pub(super) fn block_device_specs(params: &Value) -> Result<Vec<BlockDeviceSpec>, AwsError> {
    let mut specs = Vec::new();
    for mapping in params.get("BlockDeviceMapping").map(Value::as_list).unwrap_or_default() {
        let ebs = match mapping.get("Ebs") {
            None => None,
            Some(ebs) => Some(EbsSpec {
                volume_size: integer(ebs, "VolumeSize")?,
                volume_type: text(ebs, "VolumeType").map(str::to_string),
                iops: integer(ebs, "Iops")?,
                throughput: integer(ebs, "Throughput")?,
                encrypted: boolean(ebs, "Encrypted")?,
                kms_key_id: text(ebs, "KmsKeyId").map(str::to_string),
                delete_on_termination: boolean(ebs, "DeleteOnTermination")?,
                snapshot_id: text(ebs, "SnapshotId").map(str::to_string),
            }),
        };
        specs.push(BlockDeviceSpec {
            device_name: text(mapping, "DeviceName").unwrap_or_default().to_string(),
            no_device: mapping.get("NoDevice").is_some(),
            ebs,
        });
    }
    Ok(specs)
}
