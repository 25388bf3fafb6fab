//! Launch templates: CreateLaunchTemplate, CreateLaunchTemplateVersion, DescribeLaunchTemplates,
//! DescribeLaunchTemplateVersions, ModifyLaunchTemplate, DeleteLaunchTemplate,
//! DeleteLaunchTemplateVersions, and what RunInstances does with its `LaunchTemplate` member.
//!
//! Input members (botocore `RequestLaunchTemplateData`, EC2 query names): `ImageId`,
//! `InstanceType`, `KeyName`, `BlockDeviceMapping.N.{DeviceName, NoDevice, Ebs.*}`,
//! `IamInstanceProfile.{Arn, Name}`, `TagSpecification.N.{ResourceType, Tag.M.*}`, `UserData`,
//! `Placement.AvailabilityZone`, `DisableApiTermination`, `MetadataOptions.*` (see
//! `metadata_options`); other members are not kept. Output:
//! `LaunchTemplate` and `LaunchTemplateVersion` with `ResponseLaunchTemplateData` under their
//! `locationName`s (`launchTemplateData`, `blockDeviceMappingSet`, `tagSpecificationSet`, …).
//!
//! Authorization, as the caller: each operation is its own IAM action (`ec2:CreateLaunchTemplate`
//! on `launch-template/*`, `ec2:DescribeLaunchTemplates` and `ec2:DescribeLaunchTemplateVersions`
//! on `*`, the others on the template's ARN `arn:aws:ec2:<region>:<account>:launch-template/<id>`);
//! tags on creation need `ec2:CreateTags` with `ec2:CreateAction` (EC2 User Guide, "IAM
//! permissions required for Amazon EC2 launch templates"). A template may name an instance
//! profile without `iam:PassRole`: the launch checks it (same page: resource-level permissions
//! cannot restrict what a template names; whoever launches needs the permissions for it).
//!
//! RunInstances with `LaunchTemplate`: the template's version (`Version`, default `$Default`)
//! gives every member the request leaves out; a member the request gives replaces the
//! template's whole (RunInstances API reference: "Any parameters that you specify in
//! RunInstances override the same parameters in the launch template"; whether tag
//! specifications and block device mappings merge item by item is not confirmed: here they
//! replace). The launch then takes the ordinary path, as the caller. Its authorization adds, as
//! AWS's IAM examples for launch templates use them: `ec2:RunInstances` on the template's ARN,
//! and on the instance the condition keys `ec2:LaunchTemplate` (the template's ARN) and
//! `ec2:IsLaunchTemplateResource` ("true" unless the request overrides the instance type:
//! chosen; AWS evaluates it per parameter). No `ec2:DescribeLaunchTemplateVersions` is needed
//! to launch (none is documented for RunInstances). Instances get the system tags
//! `aws:ec2launchtemplate:id` and `aws:ec2launchtemplate:version`.
//!
//! Not confirmed, chosen: naming both or neither of `LaunchTemplateId` and `LaunchTemplateName`
//! (`InvalidParameterCombination` / `MissingParameter`, texts below); the text for a tag
//! specification of CreateLaunchTemplate that is not `launch-template` (AWS's, from
//! aws-cloudformation/cloudformation-coverage-roadmap#979, whose quotes arrived mangled: straight
//! quotes here); DescribeLaunchTemplateVersions without a template; no paging of
//! DescribeLaunchTemplateVersions (`MaxResults`, `NextToken` are ignored there: every match is
//! answered; DescribeLaunchTemplates pages, see `paging`).

use crate::{
    error::AwsError,
    state::{
        ec2::{
            launch_templates::{
                self as lt, LaunchTemplate, LaunchTemplateData, NewTemplate, NewVersion, ProfileRef, TagSpec,
                TemplateRef, TemplateVersion,
            },
            BlockDeviceSpec,
        },
        World,
    },
    value::Value,
};

use super::decode::{
    any_matches, boolean, filters, invalid_filter, required, strings, tag_filter, tag_specifications, text,
};
use super::encode::tag_set;
use super::decode::block_device_specs;
use super::metadata_options::{launch_options, template_options_params, template_options_value};
use super::{authorize, dry_run, paging, Call};

/// The resource types a template's data may tag.
const DATA_TAG_TYPES: [&str; 4] = ["instance", "volume", "network-interface", "spot-instances-request"];

fn any_template(call: &Call<'_>) -> String {
    format!("arn:aws:ec2:{}:{}:launch-template/*", call.region, call.account())
}

// ---------------------------------------------------------------------------------------------
// Reading requests.

/// `LaunchTemplateId` or `LaunchTemplateName` of `params`: exactly one.
fn template_ref(params: &Value) -> Result<TemplateRef<'_>, AwsError> {
    match (text(params, "LaunchTemplateId"), text(params, "LaunchTemplateName")) {
        (Some(id), None) => Ok(TemplateRef::Id(id)),
        (None, Some(name)) => Ok(TemplateRef::Name(name)),
        (Some(_), Some(_)) => Err(AwsError::new(
            "InvalidParameterCombination",
            400,
            "You can specify either the launch template ID or the launch template name in the request, but not both.",
        )),
        (None, None) => Err(AwsError::new(
            "MissingParameter",
            400,
            "The request must contain the parameter launchTemplateName or launchTemplateId",
        )),
    }
}

/// The template a request names, cloned out of the world.
fn named_template(world: &World, call: &Call<'_>, params: &Value) -> Result<LaunchTemplate, AwsError> {
    lt::find_template(world, call.account(), call.region, template_ref(params)?).cloned()
}

/// `LaunchTemplateData` (`RequestLaunchTemplateData`); absent is empty.
fn template_data(params: &Value) -> Result<LaunchTemplateData, AwsError> {
    let Some(data) = params.get("LaunchTemplateData") else {
        return Ok(LaunchTemplateData::default());
    };
    let owned = |name: &str| text(data, name).map(str::to_string);
    let block_devices = match data.get("BlockDeviceMapping") {
        None => None,
        Some(_) => Some(block_device_specs(data)?),
    };
    let tag_specifications = match data.get("TagSpecification") {
        None => None,
        Some(_) => Some(
            tag_specifications(data, &DATA_TAG_TYPES)?
                .into_iter()
                .map(|(resource_type, tags)| TagSpec { resource_type, tags })
                .collect(),
        ),
    };
    Ok(LaunchTemplateData {
        image_id: owned("ImageId"),
        instance_type: owned("InstanceType"),
        key_name: owned("KeyName"),
        block_devices,
        iam_instance_profile: data
            .get("IamInstanceProfile")
            .map(|p| ProfileRef { arn: text(p, "Arn").map(str::to_string), name: text(p, "Name").map(str::to_string) }),
        tag_specifications,
        user_data: owned("UserData"),
        availability_zone: data.get("Placement").and_then(|p| text(p, "AvailabilityZone")).map(str::to_string),
        disable_api_termination: boolean(data, "DisableApiTermination")?,
        metadata_options: match data.get("MetadataOptions") {
            None => None,
            Some(_) => Some(launch_options(data)?),
        },
    })
}

/// CreateLaunchTemplate's own `TagSpecification.N`: tags for the template, whose resource type
/// must be `launch-template`.
fn template_tags(params: &Value) -> Result<Vec<crate::state::ec2::Tag>, AwsError> {
    for spec in params.get("TagSpecification").map(Value::as_list).unwrap_or_default() {
        if text(spec, "ResourceType").is_some_and(|t| t != "launch-template") {
            return Err(AwsError::invalid_parameter_value(
                "The value for the ResourceType member of the TagSpecification request parameter must be 'launch-template'. Verify the ResourceType and try again.",
            ));
        }
    }
    Ok(tag_specifications(params, &["launch-template"])?.into_iter().flat_map(|(_, tags)| tags).collect())
}

// ---------------------------------------------------------------------------------------------
// Output shapes.

fn template_value(template: &LaunchTemplate) -> Value {
    let value = Value::structure()
        .with("launchTemplateId", template.id.as_str())
        .with("launchTemplateName", template.name.as_str())
        .with("createTime", template.create_time)
        .with("createdBy", template.created_by.as_str())
        .with("defaultVersionNumber", template.default_version)
        .with("latestVersionNumber", template.latest_version());
    if template.tags.is_empty() {
        value
    } else {
        value.with("tagSet", tag_set(&template.tags))
    }
}

fn block_device_value(device: &BlockDeviceSpec) -> Value {
    let mut value = Value::structure().with("deviceName", device.device_name.as_str());
    if device.no_device {
        value.push("noDevice", "");
    }
    if let Some(ebs) = &device.ebs {
        value.push(
            "ebs",
            Value::structure()
                .with_opt("encrypted", ebs.encrypted)
                .with_opt("deleteOnTermination", ebs.delete_on_termination)
                .with_opt("iops", ebs.iops)
                .with_opt("kmsKeyId", ebs.kms_key_id.as_deref())
                .with_opt("snapshotId", ebs.snapshot_id.as_deref())
                .with_opt("volumeSize", ebs.volume_size)
                .with_opt("volumeType", ebs.volume_type.as_deref())
                .with_opt("throughput", ebs.throughput),
        );
    }
    value
}

/// `ResponseLaunchTemplateData`, members in the model's order.
fn data_value(data: &LaunchTemplateData) -> Value {
    let mut value = Value::structure();
    if let Some(profile) = &data.iam_instance_profile {
        value.push(
            "iamInstanceProfile",
            Value::structure().with_opt("arn", profile.arn.as_deref()).with_opt("name", profile.name.as_deref()),
        );
    }
    if let Some(devices) = &data.block_devices {
        value.push("blockDeviceMappingSet", devices.iter().map(block_device_value).collect::<Value>());
    }
    let mut value = value
        .with_opt("imageId", data.image_id.as_deref())
        .with_opt("instanceType", data.instance_type.as_deref())
        .with_opt("keyName", data.key_name.as_deref());
    if let Some(zone) = &data.availability_zone {
        value.push("placement", Value::structure().with("availabilityZone", zone.as_str()));
    }
    let mut value = value
        .with_opt("disableApiTermination", data.disable_api_termination)
        .with_opt("userData", data.user_data.as_deref());
    if let Some(options) = &data.metadata_options {
        value.push("metadataOptions", template_options_value(options));
    }
    if let Some(specs) = &data.tag_specifications {
        let specs: Value = specs
            .iter()
            .map(|s| Value::structure().with("resourceType", s.resource_type.as_str()).with("tagSet", tag_set(&s.tags)))
            .collect();
        value.push("tagSpecificationSet", specs);
    }
    value
}

fn version_value(template: &LaunchTemplate, version: &TemplateVersion) -> Value {
    Value::structure()
        .with("launchTemplateId", template.id.as_str())
        .with("launchTemplateName", template.name.as_str())
        .with("versionNumber", version.number)
        .with_opt("versionDescription", version.description.as_deref())
        .with("createTime", version.create_time)
        .with("createdBy", version.created_by.as_str())
        .with("defaultVersion", version.number == template.default_version)
        .with("launchTemplateData", data_value(&version.data))
}

// ---------------------------------------------------------------------------------------------
// Operations.

pub(super) fn create_launch_template(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = required(call.params, "LaunchTemplateName")?;
    let data = template_data(call.params)?;
    let tags = template_tags(call.params)?;
    let resource = any_template(call);
    authorize(world, call, "ec2:CreateLaunchTemplate", &resource, Vec::new())?;
    if !tags.is_empty() {
        let context = vec![("ec2:CreateAction", "CreateLaunchTemplate".to_string())];
        authorize(world, call, "ec2:CreateTags", &resource, context)?;
    }
    dry_run(call)?;
    let spec = NewTemplate {
        name: name.to_string(),
        description: text(call.params, "VersionDescription").map(str::to_string),
        data,
        tags,
        created_by: call.caller.principal.arn(),
    };
    let template = lt::create_template(world, call.account(), call.region, spec, call.now)?;
    Ok(Value::structure().with("launchTemplate", template_value(&template)))
}

pub(super) fn create_launch_template_version(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let template = named_template(world, call, call.params)?;
    let data = template_data(call.params)?;
    authorize(world, call, "ec2:CreateLaunchTemplateVersion", &template.arn(call.region, call.account()), Vec::new())?;
    dry_run(call)?;
    let spec = NewVersion {
        source_version: text(call.params, "SourceVersion").map(str::to_string),
        description: text(call.params, "VersionDescription").map(str::to_string),
        data,
        created_by: call.caller.principal.arn(),
    };
    let version = lt::create_version(world, call.account(), call.region, &template.id, spec, call.now)?;
    let template = lt::find_template(world, call.account(), call.region, TemplateRef::Id(&template.id))?;
    Ok(Value::structure().with("launchTemplateVersion", version_value(template, &version)))
}

pub(super) fn describe_launch_templates(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    authorize(world, call, "ec2:DescribeLaunchTemplates", "*", Vec::new())?;
    dry_run(call)?;
    let ids = strings(call.params, "LaunchTemplateId");
    let names = strings(call.params, "LaunchTemplateName");
    let filters = filters(call.params)?;
    let page = paging::page_request(call.params, paging::LAUNCH_TEMPLATES)?;
    if let Some(bad) = ids.iter().find(|id| !crate::state::ec2::is_well_formed_id(id, "lt")) {
        return Err(lt::malformed_template_id(bad));
    }
    let all = lt::all_templates(world, call.account(), call.region);
    if ids.iter().any(|id| !all.iter().any(|t| &t.id == id)) {
        return Err(lt::some_templates_not_found("InvalidLaunchTemplateId.NotFound"));
    }
    if names.iter().any(|name| !all.iter().any(|t| &t.name == name)) {
        return Err(lt::some_templates_not_found("InvalidLaunchTemplateName.NotFoundException"));
    }
    let mut values = Vec::new();
    for template in all {
        let unnamed = ids.is_empty() && names.is_empty();
        let selected = unnamed || ids.contains(&template.id) || names.contains(&template.name);
        if !selected {
            continue;
        }
        let mut keep = true;
        for filter in &filters {
            let one = |value: &str| any_matches(filter, &[value.to_string()]);
            keep &= match filter.name.as_str() {
                "launch-template-name" => one(&template.name),
                "create-time" => one(&template.create_time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
                _ => tag_filter(filter, &template.tags).ok_or_else(|| invalid_filter(&filter.name))?,
            };
        }
        if keep {
            values.push(template_value(template));
        }
    }
    let (values, next) = page.of(values);
    Ok(Value::structure().with("launchTemplates", Value::List(values)).with_opt("nextToken", next))
}

pub(super) fn describe_launch_template_versions(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let template = named_template(world, call, call.params)?;
    authorize(world, call, "ec2:DescribeLaunchTemplateVersions", "*", Vec::new())?;
    dry_run(call)?;
    let versions = strings(call.params, "LaunchTemplateVersion");
    let filters = filters(call.params)?;
    let selected =
        lt::select_versions(&template, &versions, text(call.params, "MinVersion"), text(call.params, "MaxVersion"))?;
    let mut values = Vec::new();
    for version in selected {
        let mut keep = true;
        for filter in &filters {
            let one = |value: Option<&str>| value.is_some_and(|v| any_matches(filter, &[v.to_string()]));
            keep &= match filter.name.as_str() {
                "is-default-version" => {
                    one(Some(if version.number == template.default_version { "true" } else { "false" }))
                }
                "image-id" => one(version.data.image_id.as_deref()),
                "instance-type" => one(version.data.instance_type.as_deref()),
                other => return Err(invalid_filter(other)),
            };
        }
        if keep {
            values.push(version_value(&template, version));
        }
    }
    Ok(Value::structure().with("launchTemplateVersionSet", Value::List(values)))
}

pub(super) fn modify_launch_template(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let template = named_template(world, call, call.params)?;
    authorize(world, call, "ec2:ModifyLaunchTemplate", &template.arn(call.region, call.account()), Vec::new())?;
    dry_run(call)?;
    let template = match text(call.params, "SetDefaultVersion") {
        Some(version) => lt::set_default_version(world, call.account(), call.region, &template.id, version)?,
        None => template,
    };
    Ok(Value::structure().with("launchTemplate", template_value(&template)))
}

pub(super) fn delete_launch_template(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let template = named_template(world, call, call.params)?;
    authorize(world, call, "ec2:DeleteLaunchTemplate", &template.arn(call.region, call.account()), Vec::new())?;
    dry_run(call)?;
    let template = lt::delete_template(world, call.account(), call.region, &template.id)?;
    Ok(Value::structure().with("launchTemplate", template_value(&template)))
}

pub(super) fn delete_launch_template_versions(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let versions = strings(call.params, "LaunchTemplateVersion");
    if versions.is_empty() {
        return Err(AwsError::missing_parameter("LaunchTemplateVersion"));
    }
    let template = named_template(world, call, call.params)?;
    let arn = template.arn(call.region, call.account());
    authorize(world, call, "ec2:DeleteLaunchTemplateVersions", &arn, Vec::new())?;
    dry_run(call)?;
    let (deleted, failed) = lt::delete_versions(world, call.account(), call.region, &template.id, &versions)?;
    let item = || {
        Value::structure()
            .with("launchTemplateId", template.id.as_str())
            .with("launchTemplateName", template.name.as_str())
    };
    let deleted: Value = deleted.into_iter().map(|n| item().with("versionNumber", n)).collect();
    let failed: Value = failed
        .into_iter()
        .map(|f| {
            item()
                .with_opt("versionNumber", f.version.trim().parse::<i64>().ok())
                .with("responseError", Value::structure().with("code", f.code).with("message", f.message))
        })
        .collect();
    Ok(Value::structure()
        .with("successfullyDeletedLaunchTemplateVersionSet", deleted)
        .with("unsuccessfullyDeletedLaunchTemplateVersionSet", failed))
}

// ---------------------------------------------------------------------------------------------
// RunInstances with a launch template.

/// A RunInstances request completed from its launch template.
pub(super) struct FromTemplate {
    /// The request's members over the template version's, read by RunInstances as its own.
    pub(super) params: Value,
    template_id: String,
    arn: String,
    version: i64,
    instance_type_overridden: bool,
}

/// Resolves RunInstances' `LaunchTemplate.{LaunchTemplateId | LaunchTemplateName, Version}`;
/// `None` when the request names no template.
pub(super) fn from_launch_template(world: &World, call: &Call<'_>) -> Result<Option<FromTemplate>, AwsError> {
    let Some(spec) = call.params.get("LaunchTemplate") else {
        return Ok(None);
    };
    let template = lt::find_template(world, call.account(), call.region, template_ref(spec)?)?;
    let version = template.version(text(spec, "Version").unwrap_or("$Default"))?;
    let mut params = run_instances_params(&version.data);
    for (name, value) in call.params.entries() {
        if name != "LaunchTemplate" {
            set_member(&mut params, name, value.clone());
        }
    }
    Ok(Some(FromTemplate {
        params,
        template_id: template.id.clone(),
        arn: template.arn(call.region, call.account()),
        version: version.number,
        instance_type_overridden: call.params.get("InstanceType").is_some(),
    }))
}

impl FromTemplate {
    /// The condition keys a launch from a template adds to the instance's authorization.
    pub(super) fn instance_context(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ec2:LaunchTemplate", self.arn.clone()),
            ("ec2:IsLaunchTemplateResource", (!self.instance_type_overridden).to_string()),
        ]
    }

    /// `ec2:RunInstances` on the template itself, which is always a template resource.
    pub(super) fn authorize(&self, world: &mut World, call: &Call<'_>) -> Result<(), AwsError> {
        let context =
            vec![("ec2:LaunchTemplate", self.arn.clone()), ("ec2:IsLaunchTemplateResource", "true".to_string())];
        authorize(world, call, "ec2:RunInstances", &self.arn, context)
    }

    /// Puts the template's system tags on the launched instances.
    pub(super) fn tag_instances(&self, world: &mut World, call: &Call<'_>, instance_ids: &[String]) {
        lt::tag_launched_instances(world, call.account(), call.region, instance_ids, &self.template_id, self.version);
    }
}

fn set_member(target: &mut Value, name: &str, value: Value) {
    if let Value::Struct(fields) = target {
        match fields.iter_mut().find(|(k, _)| k == name) {
            Some(field) => field.1 = value,
            None => fields.push((name.to_string(), value)),
        }
    }
}

/// A version's data as the RunInstances members it stands for.
fn run_instances_params(data: &LaunchTemplateData) -> Value {
    let mut params = Value::structure()
        .with_opt("ImageId", data.image_id.as_deref())
        .with_opt("InstanceType", data.instance_type.as_deref())
        .with_opt("KeyName", data.key_name.as_deref())
        .with_opt("UserData", data.user_data.as_deref())
        .with_opt("DisableApiTermination", data.disable_api_termination);
    if let Some(devices) = &data.block_devices {
        let devices: Value = devices
            .iter()
            .map(|d| {
                let mut mapping = Value::structure().with("DeviceName", d.device_name.as_str());
                if d.no_device {
                    mapping.push("NoDevice", "");
                }
                if let Some(ebs) = &d.ebs {
                    mapping.push(
                        "Ebs",
                        Value::structure()
                            .with_opt("VolumeSize", ebs.volume_size)
                            .with_opt("VolumeType", ebs.volume_type.as_deref())
                            .with_opt("Iops", ebs.iops)
                            .with_opt("Throughput", ebs.throughput)
                            .with_opt("Encrypted", ebs.encrypted)
                            .with_opt("KmsKeyId", ebs.kms_key_id.as_deref())
                            .with_opt("DeleteOnTermination", ebs.delete_on_termination)
                            .with_opt("SnapshotId", ebs.snapshot_id.as_deref()),
                    );
                }
                mapping
            })
            .collect();
        params.push("BlockDeviceMapping", devices);
    }
    if let Some(profile) = &data.iam_instance_profile {
        params.push(
            "IamInstanceProfile",
            Value::structure().with_opt("Arn", profile.arn.as_deref()).with_opt("Name", profile.name.as_deref()),
        );
    }
    if let Some(specs) = &data.tag_specifications {
        // The emulator creates no network interfaces or Spot requests: their tags have nothing to go to.
        let specs: Value = specs
            .iter()
            .filter(|s| matches!(s.resource_type.as_str(), "instance" | "volume"))
            .map(|s| {
                let tags: Value = s
                    .tags
                    .iter()
                    .map(|t| Value::structure().with("Key", t.key.as_str()).with("Value", t.value.as_str()))
                    .collect();
                Value::structure().with("ResourceType", s.resource_type.as_str()).with("Tag", tags)
            })
            .collect();
        params.push("TagSpecification", specs);
    }
    if let Some(zone) = &data.availability_zone {
        params.push("Placement", Value::structure().with("AvailabilityZone", zone.as_str()));
    }
    if let Some(options) = &data.metadata_options {
        params.push("MetadataOptions", template_options_params(options));
    }
    params
}
