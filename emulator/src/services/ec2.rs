//! EC2 over the ec2 query protocol: instances, images, EBS volumes and the account's EBS
//! encryption defaults.
//!
//! Input members arrive under their query names (`InstanceId.N` → `InstanceId`, `Filter.N.Name`
//! / `Filter.N.Value.M`, `BlockDeviceMapping.N.Ebs.VolumeSize`, `IamInstanceProfile.Name`,
//! `TagSpecification.N.Tag.M.Key`); output members are written under the model's
//! `locationName`s (`reservationSet`, `instancesSet`, `instanceState`, `reason`, `dnsName`,
//! `blockDeviceMapping`, `imageOwnerId`, `volumeSet`, `status`, `attachmentSet`, …), which are the
//! names botocore's EC2 parser and the Rust SDK's `protocol_serde::shape_*` deserializers read.
//!
//! Every operation is authorized first, through `crate::authz`, as the caller; a denial is EC2's
//! `UnauthorizedOperation` (HTTP 403) with an encoded authorization message.

use base64::Engine as _;
use wana_policy::{Decision, Outcome};

use crate::{
    authz::{denied_message, AuthzRequest},
    error::AwsError,
    state::{
        ec2::{
            self as model, BlockDeviceSpec, EbsSpec, Image, Instance, InstanceProfileAssociation, InstanceStateName,
            LaunchSpec, StateChange, Tag, Volume, VolumeSpec,
        },
        World,
    },
    value::Value,
};

use super::Call;

pub fn handle(world: &mut World, call: &Call<'_>) -> Option<Result<Value, AwsError>> {
    Some(match call.action {
        "RunInstances" => run_instances(world, call),
        "DescribeInstances" => describe_instances(world, call),
        "DescribeInstanceStatus" => describe_instance_status(world, call),
        "StartInstances" => start_instances(world, call),
        "StopInstances" => stop_instances(world, call),
        "RebootInstances" => reboot_instances(world, call),
        "TerminateInstances" => terminate_instances(world, call),
        "DescribeImages" => describe_images(world, call),
        "CreateVolume" => create_volume(world, call),
        "DescribeVolumes" => describe_volumes(world, call),
        "DeleteVolume" => delete_volume(world, call),
        "DescribeAvailabilityZones" => describe_availability_zones(world, call),
        "EnableEbsEncryptionByDefault" => set_ebs_encryption_by_default(world, call, true),
        "DisableEbsEncryptionByDefault" => set_ebs_encryption_by_default(world, call, false),
        "GetEbsEncryptionByDefault" => get_ebs_encryption_by_default(world, call),
        "ModifyEbsDefaultKmsKeyId" => modify_ebs_default_kms_key_id(world, call),
        "ResetEbsDefaultKmsKeyId" => reset_ebs_default_kms_key_id(world, call),
        "GetEbsDefaultKmsKeyId" => get_ebs_default_kms_key_id(world, call),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Authorization.

fn instance_arn(region: &str, account: &str, id: &str) -> String {
    format!("arn:aws:ec2:{region}:{account}:instance/{id}")
}

fn volume_arn(region: &str, account: &str, id: &str) -> String {
    format!("arn:aws:ec2:{region}:{account}:volume/{id}")
}

/// Asks `crate::authz` whether the caller may perform `action` on `resource`; a denial is
/// EC2's `UnauthorizedOperation`.
fn authorize(
    world: &mut World,
    call: &Call<'_>,
    action: &str,
    resource: &str,
    context: Vec<(&'static str, String)>,
) -> Result<(), AwsError> {
    let mut request = AuthzRequest::new(action, resource);
    request.context.push(("ec2:Region", call.region.to_string()));
    request.context.extend(context);
    let decision = world.authorize(call.facts(), &request);
    if decision.is_allowed() {
        Ok(())
    } else {
        Err(unauthorized(call, action, resource, &decision))
    }
}

/// EC2's form of an access denial: the IAM sentence inside EC2's own, followed by the
/// authorization message encoded. AWS encrypts that message for `sts:DecodeAuthorizationMessage`;
/// here it is the same JSON document in URL-safe base64, deterministic and without secrets.
fn unauthorized(call: &Call<'_>, action: &str, resource: &str, decision: &Decision) -> AwsError {
    let principal = &call.caller.principal;
    let arn = principal.arn();
    let sentence = denied_message(&arn, action, resource, decision);
    let explicit_deny = matches!(decision.outcome, Outcome::ExplicitDeny { .. });
    let decoded = serde_json::json!({
        "allowed": false,
        "explicitDeny": explicit_deny,
        "matchedStatements": { "items": [] },
        "failures": { "items": [] },
        "context": {
            "principal": { "id": principal.user_id(), "arn": arn },
            "action": action,
            "resource": resource,
            "conditions": { "items": [] },
        },
    });
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(decoded.to_string());
    AwsError::new(
        "UnauthorizedOperation",
        403,
        format!(
            "You are not authorized to perform this operation. {sentence}. Encoded authorization failure message: {encoded}"
        ),
    )
}

/// `DryRun`: once authorized, EC2 answers that the request would have succeeded.
fn dry_run(call: &Call<'_>) -> Result<(), AwsError> {
    if boolean(call.params, "DryRun")?.unwrap_or(false) {
        Err(AwsError::new("DryRunOperation", 412, "Request would have succeeded, but DryRun flag is set."))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Input.

fn invalid_value(name: &str, text: &str) -> AwsError {
    AwsError::invalid_parameter_value(format!("Value ({text}) for parameter {name} is invalid."))
}

fn text<'a>(params: &'a Value, name: &str) -> Option<&'a str> {
    params.get(name).and_then(Value::as_str)
}

fn required<'a>(params: &'a Value, name: &str) -> Result<&'a str, AwsError> {
    match params.get(name) {
        Some(Value::Str(s)) if !s.is_empty() => Ok(s),
        Some(Value::Str(_)) | None => Err(AwsError::missing_parameter(name)),
        Some(_) => Err(invalid_value(name, "a structure")),
    }
}

fn boolean(params: &Value, name: &str) -> Result<Option<bool>, AwsError> {
    match params.get(name) {
        None => Ok(None),
        Some(v) => v.as_bool().map(Some).ok_or_else(|| invalid_value(name, v.as_str().unwrap_or(""))),
    }
}

fn integer(params: &Value, name: &str) -> Result<Option<i64>, AwsError> {
    match params.get(name) {
        None => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| invalid_value(name, v.as_str().unwrap_or(""))),
    }
}

/// A list of strings (`InstanceId.N`); a lone `InstanceId` without index counts as one item.
fn strings(params: &Value, name: &str) -> Vec<String> {
    match params.get(name) {
        Some(Value::Str(s)) => vec![s.clone()],
        Some(v) => v.as_list().iter().filter_map(Value::as_str).map(str::to_string).collect(),
        None => Vec::new(),
    }
}

/// `Filter.N.Name` / `Filter.N.Value.M`.
struct Filter {
    name: String,
    values: Vec<String>,
}

fn filters(params: &Value) -> Result<Vec<Filter>, AwsError> {
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

fn invalid_filter(name: &str) -> AwsError {
    AwsError::invalid_parameter_value(format!("The filter '{name}' is invalid"))
}

/// EC2 filter values may use `*` (any run) and `?` (any one character).
fn glob(pattern: &str, candidate: &str) -> bool {
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
fn any_matches(filter: &Filter, candidates: &[String]) -> bool {
    filter.values.iter().any(|pattern| candidates.iter().any(|c| glob(pattern, c)))
}

/// The tag filters every taggable resource understands; `None` when `name` is not one.
fn tag_filter(filter: &Filter, tags: &[Tag]) -> Option<bool> {
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
fn tag_specifications(params: &Value, allowed: &[&str]) -> Result<Vec<(String, Vec<Tag>)>, AwsError> {
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

fn tags_for(specs: &[(String, Vec<Tag>)], resource_type: &str) -> Vec<Tag> {
    specs.iter().filter(|(t, _)| t == resource_type).flat_map(|(_, tags)| tags.clone()).collect()
}

// ---------------------------------------------------------------------------------------------
// Output.

fn state_value(state: InstanceStateName) -> Value {
    Value::structure().with("code", state.code()).with("name", state.name())
}

fn tag_set(tags: &[Tag]) -> Value {
    tags.iter().map(|t| Value::structure().with("key", t.key.as_str()).with("value", t.value.as_str())).collect()
}

fn instance_value(instance: &Instance, region: &str) -> Value {
    let devices: Value = instance
        .block_devices
        .iter()
        .map(|d| {
            Value::structure().with("deviceName", d.device_name.as_str()).with(
                "ebs",
                Value::structure()
                    .with("volumeId", d.volume_id.as_str())
                    .with("status", "attached")
                    .with("attachTime", d.attach_time)
                    .with("deleteOnTermination", d.delete_on_termination),
            )
        })
        .collect();
    let mut value = Value::structure()
        .with("instanceId", instance.id.as_str())
        .with("imageId", instance.image_id.as_str())
        .with("instanceState", state_value(instance.state))
        .with("privateDnsName", instance.private_dns_name(region))
        .with("dnsName", "")
        .with("reason", instance.state_transition_reason.as_str())
        .with_opt("keyName", instance.key_name.as_deref())
        .with("amiLaunchIndex", instance.ami_launch_index)
        .with("productCodes", Value::List(Vec::new()))
        .with("instanceType", instance.instance_type.as_str())
        .with("launchTime", instance.launch_time)
        .with(
            "placement",
            Value::structure()
                .with("availabilityZone", instance.availability_zone.as_str())
                .with("groupName", "")
                .with("tenancy", "default"),
        )
        .with("monitoring", Value::structure().with("state", "disabled"))
        .with("privateIpAddress", instance.private_ip_address.as_str())
        .with("groupSet", Value::List(Vec::new()))
        .with("architecture", instance.architecture.as_str())
        .with("rootDeviceType", "ebs")
        .with("rootDeviceName", instance.root_device_name.as_str())
        .with("blockDeviceMapping", devices)
        .with("virtualizationType", "hvm")
        .with_opt("clientToken", instance.client_token.as_deref())
        .with("hypervisor", "xen")
        .with("ebsOptimized", false)
        .with("enaSupport", true)
        .with("sourceDestCheck", true)
        .with("platformDetails", "Linux/UNIX")
        .with("usageOperation", "RunInstances");
    if let Some(reason) = &instance.state_reason {
        value.push(
            "stateReason",
            Value::structure().with("code", reason.code.as_str()).with("message", reason.message.as_str()),
        );
    }
    if !instance.tags.is_empty() {
        value.push("tagSet", tag_set(&instance.tags));
    }
    if let Some(profile) = &instance.iam_instance_profile {
        value.push(
            "iamInstanceProfile",
            Value::structure().with("arn", profile.arn.as_str()).with("id", profile.id.as_str()),
        );
    }
    value
}

fn reservation_value(reservation_id: &str, owner_id: &str, instances: Vec<Value>) -> Value {
    Value::structure()
        .with("reservationId", reservation_id)
        .with("ownerId", owner_id)
        .with("groupSet", Value::List(Vec::new()))
        .with("instancesSet", Value::List(instances))
}

fn state_changes(changes: &[StateChange]) -> Value {
    changes
        .iter()
        .map(|c| {
            Value::structure()
                .with("instanceId", c.instance_id.as_str())
                .with("currentState", state_value(c.current))
                .with("previousState", state_value(c.previous))
        })
        .collect()
}

fn volume_value(volume: &Volume) -> Value {
    let attachments: Value = volume
        .attachment
        .iter()
        .map(|a| {
            Value::structure()
                .with("volumeId", volume.id.as_str())
                .with("instanceId", a.instance_id.as_str())
                .with("device", a.device.as_str())
                .with("status", "attached")
                .with("attachTime", a.attach_time)
                .with("deleteOnTermination", a.delete_on_termination)
        })
        .collect();
    let mut value = Value::structure()
        .with("volumeId", volume.id.as_str())
        .with("size", volume.size)
        .with("snapshotId", volume.snapshot_id.as_deref().unwrap_or(""))
        .with("availabilityZone", volume.availability_zone.as_str())
        .with("status", volume.state.name())
        .with("createTime", volume.create_time)
        .with("attachmentSet", attachments)
        .with("volumeType", volume.volume_type.as_str())
        .with_opt("iops", volume.iops)
        .with_opt("throughput", volume.throughput)
        .with("encrypted", volume.encrypted)
        .with("multiAttachEnabled", false);
    if volume.encrypted {
        value = value.with_opt("kmsKeyId", volume.kms_key_id.as_deref());
    }
    if !volume.tags.is_empty() {
        value.push("tagSet", tag_set(&volume.tags));
    }
    value
}

fn image_value(image: &Image) -> Value {
    let devices: Value = image
        .block_devices
        .iter()
        .map(|d| {
            let ebs = Value::structure()
                .with("snapshotId", d.snapshot.snapshot_id.as_str())
                .with("volumeSize", d.snapshot.size)
                .with("deleteOnTermination", d.delete_on_termination)
                .with("volumeType", d.volume_type.as_str())
                .with("encrypted", d.snapshot.encrypted);
            let ebs =
                if d.snapshot.encrypted { ebs.with_opt("kmsKeyId", d.snapshot.kms_key_id.as_deref()) } else { ebs };
            Value::structure().with("deviceName", d.device_name.as_str()).with("ebs", ebs)
        })
        .collect();
    Value::structure()
        .with("imageId", image.id.as_str())
        .with("imageLocation", image.image_location.as_str())
        .with("imageState", "available")
        .with("imageOwnerId", image.owner_id.as_str())
        .with("creationDate", image.creation_date.as_str())
        .with("isPublic", image.public)
        .with("architecture", image.architecture.as_str())
        .with("imageType", "machine")
        .with("sriovNetSupport", "simple")
        .with("enaSupport", image.ena_support)
        .with("platformDetails", image.platform_details.as_str())
        .with("usageOperation", "RunInstances")
        .with_opt("imageOwnerAlias", image.owner_alias.as_deref())
        .with("name", image.name.as_str())
        .with("description", image.description.as_str())
        .with("rootDeviceType", "ebs")
        .with("rootDeviceName", image.root_device_name.as_str())
        .with("blockDeviceMapping", devices)
        .with("virtualizationType", "hvm")
        .with("hypervisor", "xen")
}

// ---------------------------------------------------------------------------------------------
// Instances.

fn run_instances(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let params = call.params;
    let account = call.account();
    let region = call.region;
    let image_id = required(params, "ImageId")?;
    let min_count = integer(params, "MinCount")?.ok_or_else(|| AwsError::missing_parameter("MinCount"))?;
    let max_count = integer(params, "MaxCount")?.ok_or_else(|| AwsError::missing_parameter("MaxCount"))?;
    let instance_type = text(params, "InstanceType").unwrap_or("m1.small");
    let block_devices = block_device_specs(params)?;
    let tags = tag_specifications(params, &["instance", "volume"])?;

    let any_instance = instance_arn(region, account, "*");
    authorize(world, call, "ec2:RunInstances", &any_instance, vec![("ec2:InstanceType", instance_type.to_string())])?;
    if !tags.is_empty() {
        // Tagging on creation needs ec2:CreateTags too, with the creating action as context.
        authorize(
            world,
            call,
            "ec2:CreateTags",
            &any_instance,
            vec![("ec2:CreateAction", "RunInstances".to_string())],
        )?;
    }
    let iam_instance_profile = match params.get("IamInstanceProfile") {
        None => None,
        Some(spec) => Some(instance_profile(world, call, spec)?),
    };
    dry_run(call)?;

    let spec = LaunchSpec {
        image_id: image_id.to_string(),
        instance_type: instance_type.to_string(),
        min_count,
        max_count,
        block_devices,
        iam_instance_profile,
        instance_tags: tags_for(&tags, "instance"),
        volume_tags: tags_for(&tags, "volume"),
        availability_zone: params.get("Placement").and_then(|p| text(p, "AvailabilityZone")).map(str::to_string),
        key_name: text(params, "KeyName").map(str::to_string),
        disable_api_termination: boolean(params, "DisableApiTermination")?.unwrap_or(false),
        client_token: text(params, "ClientToken").map(str::to_string),
    };
    let launched = model::launch(world, call.facts(), account, &spec)?;
    let instances = launched
        .instance_ids
        .iter()
        .filter_map(|id| model::instance(world, account, region, id))
        .map(|i| instance_value(i, region))
        .collect();
    Ok(reservation_value(&launched.reservation_id, &launched.owner_id, instances))
}

/// `BlockDeviceMapping.N.{DeviceName, NoDevice, VirtualName, Ebs.*}`.
fn block_device_specs(params: &Value) -> Result<Vec<BlockDeviceSpec>, AwsError> {
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

/// Resolves `IamInstanceProfile.{Name|Arn}` in the caller's account and checks `iam:PassRole`
/// on its role, for EC2.
fn instance_profile(world: &mut World, call: &Call<'_>, spec: &Value) -> Result<InstanceProfileAssociation, AwsError> {
    let account = call.account();
    let (parameter, given, name) = match (text(spec, "Arn"), text(spec, "Name")) {
        (Some(arn), _) => {
            let name = arn
                .strip_prefix(&format!("arn:aws:iam::{account}:instance-profile/"))
                .and_then(|path_and_name| path_and_name.rsplit('/').next())
                .unwrap_or("");
            ("iamInstanceProfile.arn", arn, name)
        }
        (None, Some(name)) => ("iamInstanceProfile.name", name, name),
        (None, None) => return Err(AwsError::missing_parameter("IamInstanceProfile.Name")),
    };
    let invalid = || {
        let what = if parameter.ends_with("arn") { "ARN" } else { "name" };
        AwsError::invalid_parameter_value(format!(
            "Value ({given}) for parameter {parameter} is invalid. Invalid IAM Instance Profile {what}"
        ))
    };
    let profile = world
        .account(account)
        .and_then(|a| a.iam.instance_profiles.get(name))
        .filter(|p| parameter.ends_with("name") || p.arn == given)
        .cloned()
        .ok_or_else(invalid)?;
    let role_arn = profile
        .roles
        .first()
        .and_then(|role| world.account(account).and_then(|a| a.iam.roles.get(role)))
        .map(|role| role.arn.clone());
    if let Some(role_arn) = role_arn {
        let mut request = AuthzRequest::new("iam:PassRole", &role_arn);
        request.context.push(("iam:PassedToService", "ec2.amazonaws.com".to_string()));
        let decision = world.authorize(call.facts(), &request);
        if !decision.is_allowed() {
            return Err(unauthorized(call, "iam:PassRole", &role_arn, &decision));
        }
    }
    Ok(InstanceProfileAssociation { arn: profile.arn.clone(), id: profile.id.clone() })
}

fn instance_matches(filter: &Filter, instance: &Instance) -> Result<bool, AwsError> {
    let one = |value: &str| any_matches(filter, &[value.to_string()]);
    Ok(match filter.name.as_str() {
        "instance-id" => one(&instance.id),
        "instance-state-name" => one(instance.state.name()),
        "instance-state-code" => one(&instance.state.code().to_string()),
        "image-id" => one(&instance.image_id),
        "instance-type" => one(&instance.instance_type),
        "availability-zone" => one(&instance.availability_zone),
        "reservation-id" => one(&instance.reservation_id),
        "owner-id" => one(&instance.owner_id),
        "private-ip-address" => one(&instance.private_ip_address),
        "key-name" => instance.key_name.as_deref().is_some_and(one),
        "iam-instance-profile.arn" => instance.iam_instance_profile.as_ref().is_some_and(|p| one(&p.arn)),
        "block-device-mapping.volume-id" => {
            any_matches(filter, &instance.block_devices.iter().map(|d| d.volume_id.clone()).collect::<Vec<_>>())
        }
        _ => tag_filter(filter, &instance.tags).ok_or_else(|| invalid_filter(&filter.name))?,
    })
}

/// The caller's instances that the request names (all when it names none), in launch order.
fn selected_instances<'w>(world: &'w World, call: &Call<'_>, ids: &[String]) -> Result<Vec<&'w Instance>, AwsError> {
    let account = call.account();
    let region = call.region;
    let named = model::existing_instances(world, account, region, ids)?;
    let all =
        model::state(world, account, region).map(|s| s.instances.values().collect::<Vec<_>>()).unwrap_or_default();
    Ok(all.into_iter().filter(|i| named.is_empty() || named.contains(&i.id.as_str())).collect())
}

fn describe_instances(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    authorize(world, call, "ec2:DescribeInstances", "*", Vec::new())?;
    dry_run(call)?;
    let ids = strings(call.params, "InstanceId");
    let filters = filters(call.params)?;
    let mut reservations: Vec<(String, String, Vec<Value>)> = Vec::new();
    for instance in selected_instances(world, call, &ids)? {
        let mut keep = true;
        for filter in &filters {
            keep &= instance_matches(filter, instance)?;
        }
        if !keep {
            continue;
        }
        let value = instance_value(instance, call.region);
        match reservations.iter_mut().find(|(id, _, _)| *id == instance.reservation_id) {
            Some((_, _, instances)) => instances.push(value),
            None => reservations.push((instance.reservation_id.clone(), instance.owner_id.clone(), vec![value])),
        }
    }
    let reservations: Value =
        reservations.into_iter().map(|(id, owner, instances)| reservation_value(&id, &owner, instances)).collect();
    Ok(Value::structure().with("reservationSet", reservations))
}

fn status_summary(instance: &Instance) -> Value {
    if instance.state == InstanceStateName::Running {
        Value::structure().with("status", "ok").with(
            "details",
            Value::List(vec![Value::structure().with("name", "reachability").with("status", "passed")]),
        )
    } else {
        Value::structure().with("status", "not-applicable")
    }
}

fn describe_instance_status(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    authorize(world, call, "ec2:DescribeInstanceStatus", "*", Vec::new())?;
    dry_run(call)?;
    let ids = strings(call.params, "InstanceId");
    let include_all = boolean(call.params, "IncludeAllInstances")?.unwrap_or(false);
    let filters = filters(call.params)?;
    let mut statuses = Vec::new();
    for instance in selected_instances(world, call, &ids)? {
        if !include_all && instance.state != InstanceStateName::Running {
            continue;
        }
        let mut keep = true;
        for filter in &filters {
            let one = |value: &str| any_matches(filter, &[value.to_string()]);
            keep &= match filter.name.as_str() {
                "instance-state-name" => one(instance.state.name()),
                "instance-state-code" => one(&instance.state.code().to_string()),
                "availability-zone" => one(&instance.availability_zone),
                "instance-status.status" | "system-status.status" => {
                    one(if instance.state == InstanceStateName::Running { "ok" } else { "not-applicable" })
                }
                other => return Err(invalid_filter(other)),
            };
        }
        if !keep {
            continue;
        }
        statuses.push(
            Value::structure()
                .with("instanceId", instance.id.as_str())
                .with("availabilityZone", instance.availability_zone.as_str())
                .with("availabilityZoneId", model::zone_id(&instance.availability_zone))
                .with("instanceState", state_value(instance.state))
                .with("systemStatus", status_summary(instance))
                .with("instanceStatus", status_summary(instance)),
        );
    }
    Ok(Value::structure().with("instanceStatusSet", Value::List(statuses)))
}

/// The checks every state-changing instance operation makes, in EC2's order: well-formed ids,
/// existing instances, then the caller's permission on each instance.
fn authorized_instances(world: &mut World, call: &Call<'_>, action: &str) -> Result<Vec<String>, AwsError> {
    let ids = strings(call.params, "InstanceId");
    if ids.is_empty() {
        return Err(AwsError::missing_parameter("InstanceId"));
    }
    model::existing_instances(world, call.account(), call.region, &ids)?;
    for id in &ids {
        let arn = instance_arn(call.region, call.account(), id);
        authorize(world, call, action, &arn, Vec::new())?;
    }
    dry_run(call)?;
    Ok(ids)
}

fn start_instances(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let ids = authorized_instances(world, call, "ec2:StartInstances")?;
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let changes = model::start_instances(world, call.facts(), call.account(), &ids)?;
    Ok(Value::structure().with("instancesSet", state_changes(&changes)))
}

fn stop_instances(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    boolean(call.params, "Force")?;
    let ids = authorized_instances(world, call, "ec2:StopInstances")?;
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let changes = model::stop_instances(world, call.account(), call.region, &ids, call.now)?;
    Ok(Value::structure().with("instancesSet", state_changes(&changes)))
}

fn reboot_instances(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let ids = authorized_instances(world, call, "ec2:RebootInstances")?;
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    model::reboot_instances(world, call.account(), call.region, &ids)?;
    Ok(Value::structure().with("return", true))
}

fn terminate_instances(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let ids = authorized_instances(world, call, "ec2:TerminateInstances")?;
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let changes = model::terminate_instances(world, call.account(), call.region, &ids, call.now)?;
    Ok(Value::structure().with("instancesSet", state_changes(&changes)))
}

// ---------------------------------------------------------------------------------------------
// Images.

fn describe_images(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    authorize(world, call, "ec2:DescribeImages", "*", Vec::new())?;
    dry_run(call)?;
    let account = call.account();
    let ids = strings(call.params, "ImageId");
    let owners = strings(call.params, "Owner");
    let filters = filters(call.params)?;
    if let Some(bad) = ids.iter().find(|id| !model::is_well_formed_id(id, "ami")) {
        return Err(model::malformed_image_id(bad));
    }
    let visible = model::visible_images(world, account, call.region);
    let missing: Vec<&str> =
        ids.iter().filter(|id| !visible.iter().any(|i| &i.id == *id)).map(String::as_str).collect();
    if !missing.is_empty() {
        return Err(model::image_not_found(&missing));
    }
    let mut images = Vec::new();
    for image in &visible {
        if !ids.is_empty() && !ids.contains(&image.id) {
            continue;
        }
        let owned = |owner: &String| match owner.as_str() {
            "self" => image.owner_id == account,
            "amazon" => image.owner_alias.as_deref() == Some("amazon"),
            other => image.owner_id == other,
        };
        if !owners.is_empty() && !owners.iter().any(owned) {
            continue;
        }
        let mut keep = true;
        for filter in &filters {
            let one = |value: &str| any_matches(filter, &[value.to_string()]);
            keep &= match filter.name.as_str() {
                "image-id" => one(&image.id),
                "name" => one(&image.name),
                "description" => one(&image.description),
                "owner-id" => one(&image.owner_id),
                "owner-alias" => image.owner_alias.as_deref().is_some_and(one),
                "state" => one("available"),
                "architecture" => one(&image.architecture),
                "is-public" => one(if image.public { "true" } else { "false" }),
                "root-device-type" => one("ebs"),
                "root-device-name" => one(&image.root_device_name),
                "image-type" => one("machine"),
                "virtualization-type" => one("hvm"),
                other => return Err(invalid_filter(other)),
            };
        }
        if keep {
            images.push(image_value(image));
        }
    }
    Ok(Value::structure().with("imagesSet", Value::List(images)))
}

// ---------------------------------------------------------------------------------------------
// Volumes.

fn create_volume(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let params = call.params;
    let account = call.account();
    let availability_zone = required(params, "AvailabilityZone")?;
    let tags = tag_specifications(params, &["volume"])?;
    let spec = VolumeSpec {
        availability_zone: availability_zone.to_string(),
        size: integer(params, "Size")?,
        volume_type: text(params, "VolumeType").map(str::to_string),
        iops: integer(params, "Iops")?,
        throughput: integer(params, "Throughput")?,
        encrypted: boolean(params, "Encrypted")?,
        kms_key_id: text(params, "KmsKeyId").map(str::to_string),
        snapshot_id: text(params, "SnapshotId").map(str::to_string),
        tags: tags_for(&tags, "volume"),
    };
    let any_volume = volume_arn(call.region, account, "*");
    authorize(world, call, "ec2:CreateVolume", &any_volume, Vec::new())?;
    if !tags.is_empty() {
        authorize(world, call, "ec2:CreateTags", &any_volume, vec![("ec2:CreateAction", "CreateVolume".to_string())])?;
    }
    dry_run(call)?;
    let id = model::create_volume(world, call.facts(), account, &spec)?;
    let volume = model::existing_volume(world, account, call.region, &id)?;
    Ok(volume_value(volume))
}

fn volume_matches(filter: &Filter, volume: &Volume) -> Result<bool, AwsError> {
    let one = |value: &str| any_matches(filter, &[value.to_string()]);
    let attachment = volume.attachment.as_ref();
    Ok(match filter.name.as_str() {
        "volume-id" => one(&volume.id),
        "status" => one(volume.state.name()),
        "size" => one(&volume.size.to_string()),
        "volume-type" => one(&volume.volume_type),
        "encrypted" => one(if volume.encrypted { "true" } else { "false" }),
        "availability-zone" => one(&volume.availability_zone),
        "snapshot-id" => one(volume.snapshot_id.as_deref().unwrap_or("")),
        "attachment.instance-id" => attachment.is_some_and(|a| one(&a.instance_id)),
        "attachment.device" => attachment.is_some_and(|a| one(&a.device)),
        "attachment.status" => attachment.is_some_and(|_| one("attached")),
        "attachment.delete-on-termination" => {
            attachment.is_some_and(|a| one(if a.delete_on_termination { "true" } else { "false" }))
        }
        _ => tag_filter(filter, &volume.tags).ok_or_else(|| invalid_filter(&filter.name))?,
    })
}

fn describe_volumes(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    authorize(world, call, "ec2:DescribeVolumes", "*", Vec::new())?;
    dry_run(call)?;
    let account = call.account();
    let ids = strings(call.params, "VolumeId");
    for id in &ids {
        model::existing_volume(world, account, call.region, id)?;
    }
    let filters = filters(call.params)?;
    let mut volumes = Vec::new();
    if let Some(state) = model::state(world, account, call.region) {
        for volume in state.volumes.values() {
            if !ids.is_empty() && !ids.contains(&volume.id) {
                continue;
            }
            let mut keep = true;
            for filter in &filters {
                keep &= volume_matches(filter, volume)?;
            }
            if keep {
                volumes.push(volume_value(volume));
            }
        }
    }
    Ok(Value::structure().with("volumeSet", Value::List(volumes)))
}

fn delete_volume(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let account = call.account();
    let volume_id = required(call.params, "VolumeId")?;
    model::existing_volume(world, account, call.region, volume_id)?;
    authorize(world, call, "ec2:DeleteVolume", &volume_arn(call.region, account, volume_id), Vec::new())?;
    dry_run(call)?;
    model::delete_volume(world, account, call.region, volume_id)?;
    Ok(Value::structure().with("return", true))
}

// ---------------------------------------------------------------------------------------------
// Availability zones.

fn describe_availability_zones(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    authorize(world, call, "ec2:DescribeAvailabilityZones", "*", Vec::new())?;
    dry_run(call)?;
    let zones = model::availability_zones(call.region);
    let names = strings(call.params, "ZoneName");
    if let Some(unknown) = names.iter().find(|n| !zones.contains(n)) {
        return Err(AwsError::invalid_parameter_value(format!("The zone '{unknown}' does not exist.")));
    }
    let filters = filters(call.params)?;
    let mut values = Vec::new();
    for zone in &zones {
        if !names.is_empty() && !names.contains(zone) {
            continue;
        }
        let zone_id = model::zone_id(zone);
        let mut keep = true;
        for filter in &filters {
            let one = |value: &str| any_matches(filter, &[value.to_string()]);
            keep &= match filter.name.as_str() {
                "zone-name" => one(zone),
                "zone-id" => one(&zone_id),
                "region-name" => one(call.region),
                "state" => one("available"),
                "zone-type" => one("availability-zone"),
                other => return Err(invalid_filter(other)),
            };
        }
        if keep {
            values.push(
                Value::structure()
                    .with("zoneName", zone.as_str())
                    .with("zoneId", zone_id)
                    .with("zoneState", "available")
                    .with("regionName", call.region)
                    .with("messageSet", Value::List(Vec::new()))
                    .with("optInStatus", "opt-in-not-required")
                    .with("groupName", call.region)
                    .with("networkBorderGroup", call.region)
                    .with("zoneType", "availability-zone"),
            );
        }
    }
    Ok(Value::structure().with("availabilityZoneInfo", Value::List(values)))
}

// ---------------------------------------------------------------------------------------------
// EBS encryption by default.

fn set_ebs_encryption_by_default(world: &mut World, call: &Call<'_>, enabled: bool) -> Result<Value, AwsError> {
    let action = if enabled { "ec2:EnableEbsEncryptionByDefault" } else { "ec2:DisableEbsEncryptionByDefault" };
    authorize(world, call, action, "*", Vec::new())?;
    dry_run(call)?;
    model::set_ebs_encryption_by_default(world, call.account(), call.region, enabled);
    Ok(Value::structure().with("ebsEncryptionByDefault", enabled))
}

fn get_ebs_encryption_by_default(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    authorize(world, call, "ec2:GetEbsEncryptionByDefault", "*", Vec::new())?;
    dry_run(call)?;
    let enabled = model::ebs_encryption_by_default(world, call.account(), call.region);
    Ok(Value::structure().with("ebsEncryptionByDefault", enabled).with("sseType", "sse-ebs"))
}

fn modify_ebs_default_kms_key_id(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let key_id = required(call.params, "KmsKeyId")?;
    authorize(world, call, "ec2:ModifyEbsDefaultKmsKeyId", "*", Vec::new())?;
    dry_run(call)?;
    let arn = model::volume_key_arn(world, call.facts(), key_id);
    model::set_ebs_default_kms_key_id(world, call.account(), call.region, Some(arn.clone()));
    Ok(Value::structure().with("kmsKeyId", arn))
}

fn reset_ebs_default_kms_key_id(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    authorize(world, call, "ec2:ResetEbsDefaultKmsKeyId", "*", Vec::new())?;
    dry_run(call)?;
    model::set_ebs_default_kms_key_id(world, call.account(), call.region, None);
    let key = model::ebs_default_kms_key_id(world, call.account(), call.region);
    Ok(Value::structure().with("kmsKeyId", key))
}

fn get_ebs_default_kms_key_id(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    authorize(world, call, "ec2:GetEbsDefaultKmsKeyId", "*", Vec::new())?;
    dry_run(call)?;
    let key = model::ebs_default_kms_key_id(world, call.account(), call.region);
    Ok(Value::structure().with("kmsKeyId", key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_values_are_globs() {
        assert!(glob("i-*", "i-0123"));
        assert!(glob("run?ing", "running"));
        assert!(!glob("stopped", "stopping"));
        assert!(glob("*", ""));
    }
}
