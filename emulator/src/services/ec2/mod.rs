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
//!
//! This file routes the operations and holds the authorization every one of them makes, the
//! availability zones and the EBS encryption defaults; `decode` reads the query members,
//! `encode` writes the output shapes, `instance_profiles` the IAM instance profile associations,
//! `metadata_options` the instance metadata options, `paging` the `MaxResults`/`NextToken` of
//! the describe operations, `instances`, `launch_templates`, `volumes`, `images` (AMIs
//! and their launch permissions) and `snapshots` (EBS snapshots and their create volume
//! permissions) hold the other operations.

use wana_policy::Decision;

use crate::{
    authz::{denied_message, AuthzRequest},
    error::AwsError,
    state::{ec2 as model, World},
    value::Value,
};

use super::{
    authorization_message::{self, Refused},
    Call,
};

mod decode;
mod encode;
mod images;
mod instance_profiles;
mod instances;
mod launch_templates;
mod metadata_options;
mod paging;
mod snapshots;
mod volumes;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_images;
#[cfg(test)]
mod tests_metadata;

use decode::{any_matches, boolean, filters, invalid_filter, required, strings};
use instances::{
    describe_instance_status, describe_instances, reboot_instances, recover_instances, run_instances, start_instances,
    stop_instances, terminate_instances,
};
use instance_profiles::{
    associate_iam_instance_profile, describe_iam_instance_profile_associations, disassociate_iam_instance_profile,
    replace_iam_instance_profile_association,
};
use launch_templates::{
    create_launch_template, create_launch_template_version, delete_launch_template, delete_launch_template_versions,
    describe_launch_template_versions, describe_launch_templates, modify_launch_template,
};
use images::{
    copy_image, create_image, deregister_image, describe_image_attribute, describe_images, modify_image_attribute,
    register_image,
};
use snapshots::{
    copy_snapshot, create_snapshot, delete_snapshot, describe_snapshot_attribute, describe_snapshots,
    modify_snapshot_attribute,
};
use volumes::{create_volume, delete_volume, describe_volumes};

pub fn handle(world: &mut World, call: &Call<'_>) -> Option<Result<Value, AwsError>> {
    Some(match call.action {
        "RunInstances" => run_instances(world, call),
        "DescribeInstances" => describe_instances(world, call),
        "DescribeInstanceStatus" => describe_instance_status(world, call),
        "StartInstances" => start_instances(world, call),
        "StopInstances" => stop_instances(world, call),
        "RebootInstances" => reboot_instances(world, call),
        "TerminateInstances" => terminate_instances(world, call),
        "AssociateIamInstanceProfile" => associate_iam_instance_profile(world, call),
        "DescribeIamInstanceProfileAssociations" => describe_iam_instance_profile_associations(world, call),
        "ReplaceIamInstanceProfileAssociation" => replace_iam_instance_profile_association(world, call),
        "DisassociateIamInstanceProfile" => disassociate_iam_instance_profile(world, call),
        "ModifyInstanceMetadataOptions" => metadata_options::modify_instance_metadata_options(world, call),
        "DescribeImages" => describe_images(world, call),
        "CreateImage" => create_image(world, call),
        "RegisterImage" => register_image(world, call),
        "CopyImage" => copy_image(world, call),
        "DeregisterImage" => deregister_image(world, call),
        "ModifyImageAttribute" => modify_image_attribute(world, call),
        "DescribeImageAttribute" => describe_image_attribute(world, call),
        "CreateSnapshot" => create_snapshot(world, call),
        "CopySnapshot" => copy_snapshot(world, call),
        "DescribeSnapshots" => describe_snapshots(world, call),
        "DeleteSnapshot" => delete_snapshot(world, call),
        "ModifySnapshotAttribute" => modify_snapshot_attribute(world, call),
        "DescribeSnapshotAttribute" => describe_snapshot_attribute(world, call),
        "CreateVolume" => create_volume(world, call),
        "DescribeVolumes" => describe_volumes(world, call),
        "DeleteVolume" => delete_volume(world, call),
        "DescribeAvailabilityZones" => describe_availability_zones(world, call),
        "CreateLaunchTemplate" => create_launch_template(world, call),
        "CreateLaunchTemplateVersion" => create_launch_template_version(world, call),
        "DescribeLaunchTemplates" => describe_launch_templates(world, call),
        "DescribeLaunchTemplateVersions" => describe_launch_template_versions(world, call),
        "ModifyLaunchTemplate" => modify_launch_template(world, call),
        "DeleteLaunchTemplate" => delete_launch_template(world, call),
        "DeleteLaunchTemplateVersions" => delete_launch_template_versions(world, call),
        "EnableEbsEncryptionByDefault" => set_ebs_encryption_by_default(world, call, true),
        "DisableEbsEncryptionByDefault" => set_ebs_encryption_by_default(world, call, false),
        "GetEbsEncryptionByDefault" => get_ebs_encryption_by_default(world, call),
        "ModifyEbsDefaultKmsKeyId" => modify_ebs_default_kms_key_id(world, call),
        "ResetEbsDefaultKmsKeyId" => reset_ebs_default_kms_key_id(world, call),
        "GetEbsDefaultKmsKeyId" => get_ebs_default_kms_key_id(world, call),
        _ => return None,
    })
}

/// Operations AWS services call on EC2 internally, with no public API: reached only through the
/// port ([`crate::port`]), never from a client (which gets `InvalidAction`).
pub fn handle_internal(world: &mut World, call: &Call<'_>) -> Option<Result<Value, AwsError>> {
    Some(match call.action {
        "RecoverInstances" => recover_instances(world, call),
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

/// Images and snapshots have no account in their ARN (IAM's service authorization reference).
fn image_arn(region: &str, id: &str) -> String {
    format!("arn:aws:ec2:{region}::image/{id}")
}

fn snapshot_arn(region: &str, id: &str) -> String {
    format!("arn:aws:ec2:{region}::snapshot/{id}")
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
        Err(unauthorized(world, call, &request, &decision))
    }
}

/// EC2's form of an access denial: the IAM sentence inside EC2's own, followed by the
/// authorization message, encoded from the same decision so that only STS
/// `DecodeAuthorizationMessage` in the caller's account reads it
/// (`super::authorization_message`).
fn unauthorized(world: &World, call: &Call<'_>, request: &AuthzRequest<'_>, decision: &Decision) -> AwsError {
    let principal = &call.caller.principal;
    let sentence = denied_message(&principal.arn(), request.action, request.resource, decision);
    let refused = Refused { principal, access_key_id: &call.caller.access_key_id, service: "ec2", region: call.region, request };
    let encoded = authorization_message::encode(world, &refused, decision);
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
