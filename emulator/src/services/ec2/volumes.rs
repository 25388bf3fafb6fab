//! The volume operations: CreateVolume, DescribeVolumes, DeleteVolume.

use crate::{
    error::AwsError,
    state::{
        ec2::{self as model, Volume, VolumeSpec},
        World,
    },
    value::Value,
};

use super::decode::{
    any_matches, boolean, filters, integer, invalid_filter, required, strings, tag_filter, tag_specifications, tags_for,
    text, Filter,
};
use super::encode::volume_value;
use super::{authorize, dry_run, volume_arn, Call};

// ---------------------------------------------------------------------------------------------
// Volumes.

pub(super) fn create_volume(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
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

pub(super) fn describe_volumes(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
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

pub(super) fn delete_volume(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let account = call.account();
    let volume_id = required(call.params, "VolumeId")?;
    model::existing_volume(world, account, call.region, volume_id)?;
    authorize(world, call, "ec2:DeleteVolume", &volume_arn(call.region, account, volume_id), Vec::new())?;
    dry_run(call)?;
    model::delete_volume(world, account, call.region, volume_id)?;
    Ok(Value::structure().with("return", true))
}
