//! Launch templates: named, versioned sets of launch parameters that RunInstances (and, later,
//! Auto Scaling) launches from.
//!
//! A template holds numbered, immutable versions; one is the default. A new version may start
//! from a source version, whose parameters it inherits except those it names (EC2 API reference,
//! `CreateLaunchTemplateVersion`, `SourceVersion`). Versions are addressed by number, `$Latest`
//! or `$Default`.
//!
//! AWS texts, with their sources:
//! * `InvalidLaunchTemplateName.NotFoundException` "The specified launch template, with template
//!   name <name>, does not exist." (AWS CLI output quoted in getmoto/moto#5477);
//!   DescribeLaunchTemplates, naming templates that do not exist: "At least one of the launch
//!   templates specified in the request does not exist." (a failure observed on AWS, quoted in
//!   the alchemy-run provider tests found by code search);
//! * `InvalidLaunchTemplateId.NotFound` "The specified launch template, with template ID
//!   lt-…, does not exist." (aws/karpenter-provider-aws#5665, cartography-cncf/cartography#1519);
//! * `InvalidLaunchTemplateName.AlreadyExistsException` "Launch template name already in use."
//!   (github-aws-runners/terraform-aws-github-runner#1382);
//! * `InvalidLaunchTemplateName.MalformedException` "A launch template name must be between 3
//!   and 128 characters, and may contain letters, numbers, and the following characters: - ( ) .
//!   / _." (terraform-aws-github-runner#932; the code, validated on AWS, in LocalStack's
//!   `test_raise_invalid_launch_template_name`); name limits from the model (`LaunchTemplateName`:
//!   3–128, `[a-zA-Z0-9\(\)\.\-/_]+`);
//! * `InvalidLaunchTemplateId.VersionNotFound` "Could not find the specified version <v> for the
//!   launch template with ID lt-…." (eksctl-io/eksctl#7786; the code for ModifyLaunchTemplate to
//!   a missing default version validated in LocalStack's `test_raise_modify_to_invalid_default_version`);
//! * `MissingParameter` "No launch template data was provided. Launch template data is required
//!   to create a launch template." (awsdocs/aws-cloudformation-user-guide#453; the code for empty
//!   data validated in LocalStack's `test_raise_when_launch_template_data_missing`).
//!
//! Not confirmed, chosen: `InvalidLaunchTemplateId.Malformed` "The specified ID for the launch
//! template, <id>, is malformed." (the code is AWS's, the text follows the NotFound one); a version
//! that is neither a number nor `$Latest`/`$Default` answers VersionNotFound like a missing one;
//! the VersionNotFound text names the template's id even when the request named the template;
//! version numbers keep counting after the newest versions are deleted; a DeleteLaunchTemplateVersions
//! of the default version fails for that version with `unexpectedError`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{is_well_formed_id, BlockDeviceSpec, MetadataOptionsChange, Tag, World};
use crate::error::AwsError;

/// `IamInstanceProfile` of a template: kept as the request named it and resolved at launch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileRef {
    pub arn: Option<String>,
    pub name: Option<String>,
}

/// One `TagSpecification` of a template's data (tags for the resources a launch creates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagSpec {
    pub resource_type: String,
    pub tags: Vec<Tag>,
}

/// The launch parameters a version holds; `None` (or an absent list) is a parameter the version
/// does not set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchTemplateData {
    pub image_id: Option<String>,
    pub instance_type: Option<String>,
    pub key_name: Option<String>,
    pub block_devices: Option<Vec<BlockDeviceSpec>>,
    pub iam_instance_profile: Option<ProfileRef>,
    pub tag_specifications: Option<Vec<TagSpec>>,
    /// Base64 text, as given.
    pub user_data: Option<String>,
    pub availability_zone: Option<String>,
    pub disable_api_termination: Option<bool>,
    /// `MetadataOptions`: the options the template names (the others keep AWS's defaults).
    pub metadata_options: Option<MetadataOptionsChange>,
}

impl LaunchTemplateData {
    pub fn is_empty(&self) -> bool {
        *self == LaunchTemplateData::default()
    }

    /// These parameters, with the source version's for those these do not set.
    pub fn over(self, source: &LaunchTemplateData) -> LaunchTemplateData {
        let source = source.clone();
        LaunchTemplateData {
            image_id: self.image_id.or(source.image_id),
            instance_type: self.instance_type.or(source.instance_type),
            key_name: self.key_name.or(source.key_name),
            block_devices: self.block_devices.or(source.block_devices),
            iam_instance_profile: self.iam_instance_profile.or(source.iam_instance_profile),
            tag_specifications: self.tag_specifications.or(source.tag_specifications),
            user_data: self.user_data.or(source.user_data),
            availability_zone: self.availability_zone.or(source.availability_zone),
            disable_api_termination: self.disable_api_termination.or(source.disable_api_termination),
            metadata_options: self.metadata_options.or(source.metadata_options),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateVersion {
    pub number: i64,
    pub description: Option<String>,
    pub create_time: DateTime<Utc>,
    /// The ARN of the principal that created the version.
    pub created_by: String,
    pub data: LaunchTemplateData,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchTemplate {
    pub id: String,
    pub name: String,
    pub create_time: DateTime<Utc>,
    pub created_by: String,
    pub default_version: i64,
    pub tags: Vec<Tag>,
    pub versions: BTreeMap<i64, TemplateVersion>,
    /// The number the next version gets.
    next_version: i64,
}

impl LaunchTemplate {
    /// `LatestVersionNumber`: the highest version that exists.
    pub fn latest_version(&self) -> i64 {
        self.versions.keys().next_back().copied().unwrap_or(self.default_version)
    }

    /// The version a `Version` text names (`$Latest`, `$Default` or a number).
    pub fn version(&self, version: &str) -> Result<&TemplateVersion, AwsError> {
        let number = match version {
            "$Latest" => Some(self.latest_version()),
            "$Default" => Some(self.default_version),
            text => text.trim().parse::<i64>().ok(),
        };
        number.and_then(|n| self.versions.get(&n)).ok_or_else(|| version_not_found(version, &self.id))
    }

    pub fn arn(&self, region: &str, account: &str) -> String {
        format!("arn:aws:ec2:{region}:{account}:launch-template/{}", self.id)
    }
}

/// How a request names a template: `LaunchTemplateId` or `LaunchTemplateName`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateRef<'a> {
    Id(&'a str),
    Name(&'a str),
}

/// What CreateLaunchTemplate asks for.
#[derive(Debug, Clone, Default)]
pub struct NewTemplate {
    pub name: String,
    pub description: Option<String>,
    pub data: LaunchTemplateData,
    pub tags: Vec<Tag>,
    pub created_by: String,
}

/// What CreateLaunchTemplateVersion asks for.
#[derive(Debug, Clone, Default)]
pub struct NewVersion {
    /// `SourceVersion`: the version whose parameters the new one inherits.
    pub source_version: Option<String>,
    pub description: Option<String>,
    pub data: LaunchTemplateData,
    pub created_by: String,
}

/// One version DeleteLaunchTemplateVersions could not delete, with `ResponseError`'s code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionNotDeleted {
    pub version: String,
    pub code: &'static str,
    pub message: String,
}

// ---------------------------------------------------------------------------------------------
// Errors.

pub fn template_name_not_found(name: &str) -> AwsError {
    AwsError::new(
        "InvalidLaunchTemplateName.NotFoundException",
        400,
        format!("The specified launch template, with template name {name}, does not exist."),
    )
}

pub fn template_id_not_found(id: &str) -> AwsError {
    AwsError::new(
        "InvalidLaunchTemplateId.NotFound",
        400,
        format!("The specified launch template, with template ID {id}, does not exist."),
    )
}

/// DescribeLaunchTemplates' answer when some of the templates it names do not exist.
pub fn some_templates_not_found(code: &'static str) -> AwsError {
    AwsError::new(code, 400, "At least one of the launch templates specified in the request does not exist.")
}

pub fn malformed_template_id(id: &str) -> AwsError {
    AwsError::new(
        "InvalidLaunchTemplateId.Malformed",
        400,
        format!("The specified ID for the launch template, {id}, is malformed."),
    )
}

pub fn malformed_template_name() -> AwsError {
    AwsError::new(
        "InvalidLaunchTemplateName.MalformedException",
        400,
        "A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.",
    )
}

fn name_in_use() -> AwsError {
    AwsError::new("InvalidLaunchTemplateName.AlreadyExistsException", 400, "Launch template name already in use.")
}

fn version_not_found(version: &str, id: &str) -> AwsError {
    AwsError::new(
        "InvalidLaunchTemplateId.VersionNotFound",
        400,
        format!("Could not find the specified version {version} for the launch template with ID {id}."),
    )
}

fn no_data() -> AwsError {
    AwsError::new(
        "MissingParameter",
        400,
        "No launch template data was provided. Launch template data is required to create a launch template.",
    )
}

fn is_valid_name(name: &str) -> bool {
    (3..=128).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'(' | b')' | b'.' | b'-' | b'/' | b'_'))
}

// ---------------------------------------------------------------------------------------------
// Lookups.

fn templates<'w>(world: &'w World, account: &str, region: &str) -> impl Iterator<Item = &'w LaunchTemplate> {
    world.regional(account, region).into_iter().flat_map(|r| r.ec2.launch_templates.values())
}

/// The template a request names, or EC2's error for a malformed or unknown one.
pub fn find_template<'w>(
    world: &'w World,
    account: &str,
    region: &str,
    template: TemplateRef<'_>,
) -> Result<&'w LaunchTemplate, AwsError> {
    match template {
        TemplateRef::Id(id) => {
            if !is_well_formed_id(id, "lt") {
                return Err(malformed_template_id(id));
            }
            templates(world, account, region).find(|t| t.id == id).ok_or_else(|| template_id_not_found(id))
        }
        TemplateRef::Name(name) => {
            templates(world, account, region).find(|t| t.name == name).ok_or_else(|| template_name_not_found(name))
        }
    }
}

/// The account's templates in this region, in creation order.
pub fn all_templates<'w>(world: &'w World, account: &str, region: &str) -> Vec<&'w LaunchTemplate> {
    templates(world, account, region).collect()
}

fn template_mut<'w>(
    world: &'w mut World,
    account: &str,
    region: &str,
    id: &str,
) -> Result<&'w mut LaunchTemplate, AwsError> {
    world
        .regional_mut(account, region)
        .and_then(|r| r.ec2.launch_templates.get_mut(id))
        .ok_or_else(|| template_id_not_found(id))
}

/// The versions DescribeLaunchTemplateVersions lists: those named (in the request's order), or
/// every version between `min` and `max`, newest first.
pub fn select_versions<'t>(
    template: &'t LaunchTemplate,
    versions: &[String],
    min: Option<&str>,
    max: Option<&str>,
) -> Result<Vec<&'t TemplateVersion>, AwsError> {
    if !versions.is_empty() {
        return versions.iter().map(|v| template.version(v)).collect();
    }
    let bound = |text: Option<&str>| -> Result<Option<i64>, AwsError> {
        text.map(|t| template.version(t).map(|v| v.number)).transpose()
    };
    let (min, max) = (bound(min)?, bound(max)?);
    Ok(template
        .versions
        .values()
        .rev()
        .filter(|v| min.is_none_or(|m| v.number >= m) && max.is_none_or(|m| v.number <= m))
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Changes.

/// CreateLaunchTemplate: a template whose version 1 is the default.
pub fn create_template(
    world: &mut World,
    account: &str,
    region: &str,
    spec: NewTemplate,
    now: DateTime<Utc>,
) -> Result<LaunchTemplate, AwsError> {
    if spec.data.is_empty() {
        return Err(no_data());
    }
    if !is_valid_name(&spec.name) {
        return Err(malformed_template_name());
    }
    if templates(world, account, region).any(|t| t.name == spec.name) {
        return Err(name_in_use());
    }
    let id = world.ids.hex_id("lt");
    let version = TemplateVersion {
        number: 1,
        description: spec.description,
        create_time: now,
        created_by: spec.created_by.clone(),
        data: spec.data,
    };
    let template = LaunchTemplate {
        id: id.clone(),
        name: spec.name,
        create_time: now,
        created_by: spec.created_by,
        default_version: 1,
        tags: spec.tags,
        versions: BTreeMap::from([(1, version)]),
        next_version: 2,
    };
    let Some(regional) = world.regional_mut(account, region) else {
        return Err(AwsError::internal(format!("account {account} does not exist")));
    };
    regional.ec2.launch_templates.insert(id, template.clone());
    Ok(template)
}

/// CreateLaunchTemplateVersion: the next version, from `data` over the source version if any.
pub fn create_version(
    world: &mut World,
    account: &str,
    region: &str,
    template_id: &str,
    spec: NewVersion,
    now: DateTime<Utc>,
) -> Result<TemplateVersion, AwsError> {
    let template = template_mut(world, account, region, template_id)?;
    let data = match spec.source_version.as_deref() {
        Some(source) => spec.data.over(&template.version(source)?.data),
        None if spec.data.is_empty() => return Err(AwsError::missing_parameter("LaunchTemplateData")),
        None => spec.data,
    };
    let number = template.next_version;
    let version =
        TemplateVersion { number, description: spec.description, create_time: now, created_by: spec.created_by, data };
    template.versions.insert(number, version.clone());
    template.next_version += 1;
    Ok(version)
}

/// ModifyLaunchTemplate `SetDefaultVersion`.
pub fn set_default_version(
    world: &mut World,
    account: &str,
    region: &str,
    template_id: &str,
    version: &str,
) -> Result<LaunchTemplate, AwsError> {
    let template = template_mut(world, account, region, template_id)?;
    template.default_version = template.version(version)?.number;
    Ok(template.clone())
}

/// DeleteLaunchTemplate: the template and all its versions.
pub fn delete_template(
    world: &mut World,
    account: &str,
    region: &str,
    template_id: &str,
) -> Result<LaunchTemplate, AwsError> {
    world
        .regional_mut(account, region)
        .and_then(|r| r.ec2.launch_templates.remove(template_id))
        .ok_or_else(|| template_id_not_found(template_id))
}

/// DeleteLaunchTemplateVersions: deletes each named version but the default one; answers the
/// deleted numbers and the versions that could not be deleted.
pub fn delete_versions(
    world: &mut World,
    account: &str,
    region: &str,
    template_id: &str,
    versions: &[String],
) -> Result<(Vec<i64>, Vec<VersionNotDeleted>), AwsError> {
    let template = template_mut(world, account, region, template_id)?;
    let mut deleted = Vec::new();
    let mut failed = Vec::new();
    for text in versions {
        let number = match text.trim().parse::<i64>() {
            Ok(n) if template.versions.contains_key(&n) => n,
            _ => {
                failed.push(VersionNotDeleted {
                    version: text.clone(),
                    code: "launchTemplateVersionDoesNotExist",
                    message: "The specified launch template version does not exist.".to_string(),
                });
                continue;
            }
        };
        if number == template.default_version {
            failed.push(VersionNotDeleted {
                version: text.clone(),
                code: "unexpectedError",
                message: "Cannot delete the default version of a launch template.".to_string(),
            });
            continue;
        }
        template.versions.remove(&number);
        deleted.push(number);
    }
    Ok((deleted, failed))
}

/// The tags EC2 puts on every instance launched from a template (`aws:ec2launchtemplate:id`,
/// `aws:ec2launchtemplate:version`; EC2 User Guide, "Launch an instance from a launch
/// template"): system tags, which need no `ec2:CreateTags`.
pub fn tag_launched_instances(
    world: &mut World,
    account: &str,
    region: &str,
    instance_ids: &[String],
    template_id: &str,
    version: i64,
) {
    let Some(regional) = world.regional_mut(account, region) else {
        return;
    };
    for id in instance_ids {
        if let Some(instance) = regional.ec2.instances.get_mut(id) {
            instance.tags.push(Tag { key: "aws:ec2launchtemplate:id".to_string(), value: template_id.to_string() });
            instance.tags.push(Tag { key: "aws:ec2launchtemplate:version".to_string(), value: version.to_string() });
        }
    }
}
