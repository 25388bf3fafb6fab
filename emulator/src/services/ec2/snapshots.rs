//! The snapshot operations: CreateSnapshot, CopySnapshot, DescribeSnapshots, DeleteSnapshot and
//! ModifySnapshotAttribute / DescribeSnapshotAttribute (create volume permissions).
//!
//! DescribeSnapshots lists the snapshots the caller may restore: its own, those shared with it
//! and public ones. `Owner.N` scopes by owner (`self`, account ids; `amazon` owns none here),
//! `RestorableBy.N` by who may create volumes: `self` (owned or shared explicitly), an account
//! id (shared with it explicitly, or owned by it), `all` (public) (API reference of
//! DescribeSnapshots). A named snapshot the caller cannot see is `InvalidSnapshot.NotFound`.

use crate::{
    error::AwsError,
    state::{
        ec2::{self as model, Snapshot, SnapshotCopy},
        World,
    },
    value::Value,
};

use super::decode::{any_matches, boolean, filters, invalid_filter, required, strings, tag_filter, tag_specifications, tags_for, text, Filter};
use super::encode::{permission_list, snapshot_value};
use super::images::permission_change;
use super::{authorize, dry_run, snapshot_arn, volume_arn, Call};

pub(super) fn create_snapshot(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let params = call.params;
    let (account, region) = (call.account(), call.region);
    let volume_id = required(params, "VolumeId")?;
    let tags = tag_specifications(params, &["snapshot"])?;
    model::existing_volume(world, account, region, volume_id)?;
    authorize(world, call, "ec2:CreateSnapshot", &volume_arn(region, account, volume_id), Vec::new())?;
    let any_snapshot = snapshot_arn(region, "*");
    authorize(world, call, "ec2:CreateSnapshot", &any_snapshot, Vec::new())?;
    if !tags.is_empty() {
        authorize(world, call, "ec2:CreateTags", &any_snapshot, vec![("ec2:CreateAction", "CreateSnapshot".to_string())])?;
    }
    dry_run(call)?;
    let description = text(params, "Description").unwrap_or_default();
    let id = model::create_snapshot(world, call.facts(), account, volume_id, description, tags_for(&tags, "snapshot"))?;
    let snapshot = model::owned_snapshot(world, account, region, &id)?;
    Ok(snapshot_value(&snapshot))
}

pub(super) fn copy_snapshot(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let params = call.params;
    let tags = tag_specifications(params, &["snapshot"])?;
    let copy = SnapshotCopy {
        source_region: required(params, "SourceRegion")?,
        source_snapshot_id: required(params, "SourceSnapshotId")?,
        description: text(params, "Description"),
        encrypted: boolean(params, "Encrypted")?,
        kms_key_id: text(params, "KmsKeyId"),
        tags: tags_for(&tags, "snapshot"),
    };
    let any_snapshot = snapshot_arn(call.region, "*");
    authorize(world, call, "ec2:CopySnapshot", &any_snapshot, Vec::new())?;
    if !tags.is_empty() {
        authorize(world, call, "ec2:CreateTags", &any_snapshot, vec![("ec2:CreateAction", "CopySnapshot".to_string())])?;
    }
    dry_run(call)?;
    let id = model::copy_snapshot(world, call.facts(), call.account(), &copy)?;
    let mut value = Value::structure().with("snapshotId", id);
    if !copy.tags.is_empty() {
        value.push("tagSet", super::encode::tag_set(&copy.tags));
    }
    Ok(value)
}

fn snapshot_matches(filter: &Filter, snapshot: &Snapshot) -> Result<bool, AwsError> {
    let one = |value: &str| any_matches(filter, &[value.to_string()]);
    Ok(match filter.name.as_str() {
        "snapshot-id" => one(&snapshot.id),
        "owner-id" => one(&snapshot.owner_id),
        "owner-alias" => false,
        "status" => one(snapshot.state.name()),
        "progress" => one(snapshot.progress()),
        "volume-id" => one(&snapshot.volume_id),
        "volume-size" => one(&snapshot.volume_size.to_string()),
        "encrypted" => one(if snapshot.encrypted { "true" } else { "false" }),
        "description" => one(&snapshot.description),
        "storage-tier" => one("standard"),
        _ => tag_filter(filter, &snapshot.tags).ok_or_else(|| invalid_filter(&filter.name))?,
    })
}

/// `RestorableBy.N`: `self`, `all`, account ids.
fn restorable_by(snapshot: &Snapshot, user: &str, account: &str) -> bool {
    let user = if user == "self" { account } else { user };
    match user {
        "all" => snapshot.public,
        user => snapshot.owner_id == user || snapshot.create_volume_permissions.iter().any(|a| a == user),
    }
}

pub(super) fn describe_snapshots(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    authorize(world, call, "ec2:DescribeSnapshots", "*", Vec::new())?;
    dry_run(call)?;
    let (account, region) = (call.account(), call.region);
    let ids = strings(call.params, "SnapshotId");
    let owners = strings(call.params, "Owner");
    let users = strings(call.params, "RestorableBy");
    let filters = filters(call.params)?;
    for id in &ids {
        model::find_snapshot(world, account, region, id)?;
    }
    let mut snapshots = Vec::new();
    for snapshot in &model::visible_snapshots(world, account, region) {
        let owned = |owner: &String| match owner.as_str() {
            "self" => snapshot.owner_id == account,
            other => snapshot.owner_id == other,
        };
        let mut keep = (ids.is_empty() || ids.contains(&snapshot.id))
            && (owners.is_empty() || owners.iter().any(owned))
            && (users.is_empty() || users.iter().any(|u| restorable_by(snapshot, u, account)));
        for filter in &filters {
            keep &= snapshot_matches(filter, snapshot)?;
        }
        if keep {
            snapshots.push(snapshot_value(snapshot));
        }
    }
    Ok(Value::structure().with("snapshotSet", Value::List(snapshots)))
}

pub(super) fn delete_snapshot(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let (account, region) = (call.account(), call.region);
    let id = required(call.params, "SnapshotId")?;
    model::owned_snapshot(world, account, region, id)?;
    authorize(world, call, "ec2:DeleteSnapshot", &snapshot_arn(region, id), Vec::new())?;
    dry_run(call)?;
    model::delete_snapshot(world, account, region, id)?;
    Ok(Value::structure().with("return", true))
}

fn unknown_attribute(attribute: &str) -> AwsError {
    AwsError::invalid_parameter_value(format!("Value ({attribute}) for parameter attribute is invalid. Unknown attribute."))
}

pub(super) fn modify_snapshot_attribute(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let (account, region) = (call.account(), call.region);
    let id = required(call.params, "SnapshotId")?;
    match text(call.params, "Attribute") {
        None | Some("createVolumePermission") => {}
        Some("productCodes") => {
            return Err(AwsError::invalid_parameter_value("wana: only createVolumePermission is emulated"))
        }
        Some(other) => return Err(unknown_attribute(other)),
    }
    let change = permission_change(call.params, "CreateVolumePermission")?
        .ok_or_else(|| AwsError::new("InvalidParameterCombination", 400, "No attributes specified."))?;
    model::owned_snapshot(world, account, region, id)?;
    authorize(world, call, "ec2:ModifySnapshotAttribute", &snapshot_arn(region, id), Vec::new())?;
    dry_run(call)?;
    model::modify_create_volume_permission(world, account, region, id, &change)?;
    Ok(Value::structure().with("return", true))
}

pub(super) fn describe_snapshot_attribute(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let (account, region) = (call.account(), call.region);
    let id = required(call.params, "SnapshotId")?;
    let attribute = required(call.params, "Attribute")?;
    if !["createVolumePermission", "productCodes"].contains(&attribute) {
        return Err(unknown_attribute(attribute));
    }
    model::owned_snapshot(world, account, region, id)?;
    authorize(world, call, "ec2:DescribeSnapshotAttribute", &snapshot_arn(region, id), Vec::new())?;
    dry_run(call)?;
    let value = Value::structure().with("snapshotId", id);
    Ok(if attribute == "productCodes" {
        value.with("productCodes", Value::List(Vec::new()))
    } else {
        value.with("createVolumePermission", permission_list(&model::create_volume_permissions(world, account, region, id)?))
    })
}
