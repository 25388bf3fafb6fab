//! Reading Auto Scaling's awsQuery members: lists (`AvailabilityZones.member.N`), structures
//! (`LaunchTemplate.LaunchTemplateId`, `Tags.member.N.Key`, `BlockDeviceMappings.member.N.Ebs.*`),
//! numbers and booleans, which the query protocol carries as text; and the model's length
//! constraints, worded by `crate::validation`.

use crate::{
    error::AwsError,
    state::autoscaling::{BlockDeviceMapping, Ebs, GroupTag},
    validation::{self, Violations},
    value::Value,
};

/// A member of the wrong shape or type.
pub(super) fn invalid_type(name: &str) -> AwsError {
    AwsError::validation(format!("Invalid value for parameter {name}"))
}

pub(super) fn text<'a>(params: &'a Value, name: &str) -> Option<&'a str> {
    params.get(name).and_then(Value::as_str)
}

/// A required string member; absent is Coral's `Member must not be null`.
pub(super) fn required<'a>(params: &'a Value, name: &str) -> Result<&'a str, AwsError> {
    match params.get(name) {
        Some(Value::Str(s)) => Ok(s),
        Some(_) => Err(invalid_type(name)),
        None => Err(AwsError::validation(validation::null(&validation::coral_name(name)))),
    }
}

pub(super) fn integer(params: &Value, name: &str) -> Result<Option<i64>, AwsError> {
    match params.get(name) {
        None => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| invalid_type(name)),
    }
}

pub(super) fn required_integer(params: &Value, name: &str) -> Result<i64, AwsError> {
    integer(params, name)?.ok_or_else(|| AwsError::validation(validation::null(&validation::coral_name(name))))
}

pub(super) fn boolean(params: &Value, name: &str) -> Result<Option<bool>, AwsError> {
    match params.get(name) {
        None => Ok(None),
        Some(v) => v.as_bool().map(Some).ok_or_else(|| invalid_type(name)),
    }
}

/// A list of strings; the query protocol spells an empty list `Name=`.
pub(super) fn strings(params: &Value, name: &str) -> Result<Vec<String>, AwsError> {
    match params.get(name) {
        None => Ok(Vec::new()),
        Some(Value::Str(s)) if s.is_empty() => Ok(Vec::new()),
        Some(Value::List(items)) => {
            items.iter().map(|i| i.as_str().map(str::to_string).ok_or_else(|| invalid_type(name))).collect()
        }
        Some(_) => Err(invalid_type(name)),
    }
}

/// A list of structures.
pub(super) fn structures<'a>(params: &'a Value, name: &str) -> Result<&'a [Value], AwsError> {
    match params.get(name) {
        None => Ok(&[]),
        Some(Value::Str(s)) if s.is_empty() => Ok(&[]),
        Some(Value::List(items)) if items.iter().all(|i| matches!(i, Value::Struct(_) | Value::Map(_))) => Ok(items),
        Some(_) => Err(invalid_type(name)),
    }
}

/// `VPCZoneIdentifier`: subnet ids separated by commas (spaces around them are tolerated).
pub(super) fn subnets(params: &Value) -> Option<Vec<String>> {
    text(params, "VPCZoneIdentifier")
        .map(|ids| ids.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())
}

/// `LaunchTemplate {LaunchTemplateId | LaunchTemplateName, Version}`: exactly one of the two
/// names ("Valid requests must contain either launchTemplateId or LaunchTemplateName", AWS's
/// wording as public reports quote it, for neither and for both).
pub(super) struct TemplateSpec {
    pub id: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
}

pub(super) fn launch_template(params: &Value) -> Result<Option<TemplateSpec>, AwsError> {
    let Some(spec) = params.get("LaunchTemplate") else {
        return Ok(None);
    };
    if !matches!(spec, Value::Struct(_) | Value::Map(_)) {
        return Err(invalid_type("LaunchTemplate"));
    }
    let id = text(spec, "LaunchTemplateId").map(str::to_string);
    let name = text(spec, "LaunchTemplateName").map(str::to_string);
    if id.is_some() == name.is_some() {
        return Err(AwsError::validation("Valid requests must contain either launchTemplateId or LaunchTemplateName"));
    }
    let mut violations = Violations::new();
    if let Some(id) = &id {
        violations.length("launchTemplate.launchTemplateId", id, 1, 255);
    }
    if let Some(name) = &name {
        violations.length("launchTemplate.launchTemplateName", name, 3, 128);
    }
    let version = text(spec, "Version").map(str::to_string);
    if let Some(version) = &version {
        violations.length("launchTemplate.version", version, 1, 255);
    }
    finish(violations)?;
    Ok(Some(TemplateSpec { id, name, version }))
}

/// `Tags.member.N.{Key, Value, PropagateAtLaunch, ResourceId, ResourceType}`.
pub(super) fn tags(params: &Value) -> Result<Vec<GroupTag>, AwsError> {
    let mut violations = Violations::new();
    let mut tags = Vec::new();
    for (i, tag) in structures(params, "Tags")?.iter().enumerate() {
        let key = required(tag, "Key")?;
        let value = text(tag, "Value").unwrap_or_default();
        violations.length(&format!("tags.{}.member.key", i + 1), key, 1, 128);
        violations.length(&format!("tags.{}.member.value", i + 1), value, 0, 256);
        tags.push(GroupTag {
            key: key.to_string(),
            value: value.to_string(),
            propagate_at_launch: boolean(tag, "PropagateAtLaunch")?.unwrap_or(false),
        });
    }
    finish(violations)?;
    Ok(tags)
}

/// `BlockDeviceMappings.member.N.{DeviceName, VirtualName, NoDevice, Ebs.*}`. A launch
/// configuration's `Ebs` has no `KmsKeyId` (model `Ebs`).
pub(super) fn block_device_mappings(params: &Value) -> Result<Vec<BlockDeviceMapping>, AwsError> {
    let mut mappings = Vec::new();
    for mapping in structures(params, "BlockDeviceMappings")? {
        let ebs = match mapping.get("Ebs") {
            None => None,
            Some(ebs) => Some(Ebs {
                snapshot_id: text(ebs, "SnapshotId").map(str::to_string),
                volume_size: integer(ebs, "VolumeSize")?,
                volume_type: text(ebs, "VolumeType").map(str::to_string),
                delete_on_termination: boolean(ebs, "DeleteOnTermination")?,
                iops: integer(ebs, "Iops")?,
                encrypted: boolean(ebs, "Encrypted")?,
                throughput: integer(ebs, "Throughput")?,
            }),
        };
        mappings.push(BlockDeviceMapping {
            device_name: required(mapping, "DeviceName")?.to_string(),
            virtual_name: text(mapping, "VirtualName").map(str::to_string),
            no_device: boolean(mapping, "NoDevice")?.unwrap_or(false),
            ebs,
        });
    }
    Ok(mappings)
}

/// `MaxRecords`: at most 100 (API reference); the wording of the refusal is the emulator's.
pub(super) fn max_records(params: &Value, default: usize) -> Result<usize, AwsError> {
    match integer(params, "MaxRecords")? {
        None => Ok(default),
        Some(n) if (1..=100).contains(&n) => Ok(n as usize),
        Some(n) => Err(AwsError::validation(format!("MaxRecords must be between 1 and 100, got {n}."))),
    }
}

/// The index a `NextToken` stands for: the emulator's tokens are positions.
pub(super) fn next_token(params: &Value) -> Result<usize, AwsError> {
    match text(params, "NextToken") {
        None | Some("") => Ok(0),
        Some(token) => token
            .parse()
            .map_err(|_| AwsError::new("InvalidNextToken", 400, format!("The token '{token}' is invalid."))),
    }
}

/// Length bounds of a name member (`XmlStringMaxLen255` and the like).
pub(super) fn check_length(member: &str, value: &str, min: usize, max: usize) -> Result<(), AwsError> {
    let mut violations = Violations::new();
    violations.length(member, value, min, max);
    finish(violations)
}

pub(super) fn finish(violations: Violations) -> Result<(), AwsError> {
    match violations.message() {
        Some(message) => Err(AwsError::validation(message)),
        None => Ok(()),
    }
}
