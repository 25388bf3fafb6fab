//! EBS volumes: their model, CreateVolume / DeleteVolume, the account's "encryption by default"
//! attribute and default key, and how a new volume's encryption and key are chosen (which the
//! launch path shares).

use chrono::{DateTime, Duration, Utc};

use super::{
    availability_zones, is_well_formed_id, malformed_volume_id, restorable_snapshot, schedule, state,
    volume_not_found, Event, SnapshotRef, Tag, World, VOLUME_CREATION_SECONDS,
};
use super::super::kms::{default_ebs_key_arn, resolve_key_arn};
use crate::{authz::RequestFacts, error::AwsError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeState {
    Creating,
    Available,
    InUse,
}

impl VolumeState {
    pub fn name(self) -> &'static str {
        match self {
            VolumeState::Creating => "creating",
            VolumeState::Available => "available",
            VolumeState::InUse => "in-use",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeAttachment {
    pub instance_id: String,
    pub device: String,
    pub attach_time: DateTime<Utc>,
    pub delete_on_termination: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub id: String,
    /// GiB.
    pub size: i64,
    pub volume_type: String,
    pub iops: Option<i64>,
    pub throughput: Option<i64>,
    pub encrypted: bool,
    /// The key's ARN (what EC2 shows as `KmsKeyId`), when encrypted.
    pub kms_key_id: Option<String>,
    pub snapshot_id: Option<String>,
    pub availability_zone: String,
    pub create_time: DateTime<Utc>,
    pub state: VolumeState,
    pub attachment: Option<VolumeAttachment>,
    pub tags: Vec<Tag>,
}

/// The volume types EC2 knows, for validation.
pub const VOLUME_TYPES: [&str; 7] = ["standard", "io1", "io2", "gp2", "sc1", "st1", "gp3"];

/// The IOPS and throughput EC2 reports for a volume type and size.
pub(super) fn performance(volume_type: &str, size: i64, iops: Option<i64>, throughput: Option<i64>) -> (Option<i64>, Option<i64>) {
    match volume_type {
        "gp2" => (Some((size * 3).clamp(100, 16_000)), None),
        "gp3" => (Some(iops.unwrap_or(3000)), Some(throughput.unwrap_or(125))),
        "io1" | "io2" => (iops, None),
        _ => (None, None),
    }
}

/// A `CreateVolume` request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeSpec {
    pub availability_zone: String,
    pub size: Option<i64>,
    pub volume_type: Option<String>,
    pub iops: Option<i64>,
    pub throughput: Option<i64>,
    pub encrypted: Option<bool>,
    pub kms_key_id: Option<String>,
    pub snapshot_id: Option<String>,
    pub tags: Vec<Tag>,
}

/// Creates a volume (`creating`, then `available`); returns its id.
pub fn create_volume(
    world: &mut World,
    facts: RequestFacts<'_>,
    account: &str,
    spec: &VolumeSpec,
) -> Result<String, AwsError> {
    let (region, now) = (facts.region, facts.now);
    if !availability_zones(region).contains(&spec.availability_zone) {
        return Err(AwsError::invalid_parameter_value(format!(
            "Invalid availability zone: [{}]",
            spec.availability_zone
        )));
    }
    let snapshot = match &spec.snapshot_id {
        None => None,
        Some(id) => Some(restorable_snapshot(world, account, region, id)?),
    };
    let size = match (spec.size, &snapshot) {
        (Some(size), Some(snapshot)) if size < snapshot.size => {
            return Err(AwsError::invalid_parameter_value(format!(
                "Volume of {size}GiB is too small; minimum is {}GiB.",
                snapshot.size
            )))
        }
        (Some(size), _) => size,
        (None, Some(snapshot)) => snapshot.size,
        (None, None) => {
            return Err(AwsError::missing_parameter("size/snapshot"));
        }
    };
    if !(1..=16_384).contains(&size) {
        return Err(AwsError::invalid_parameter_value(format!(
            "Volume of {size}GiB is outside the allowed range of 1 to 16384 GiB."
        )));
    }
    let volume_type = spec.volume_type.clone().unwrap_or_else(|| "gp2".to_string());
    if !VOLUME_TYPES.contains(&volume_type.as_str()) {
        return Err(AwsError::invalid_parameter_value(format!("The volume type '{volume_type}' is invalid.")));
    }
    let by_default = ebs_encryption_by_default(world, account, region);
    let (encrypted, kms_key_id) = volume_encryption(
        world,
        facts,
        account,
        spec.encrypted,
        spec.kms_key_id.as_deref(),
        snapshot.as_ref(),
        by_default,
    )?;
    let (iops, throughput) = performance(&volume_type, size, spec.iops, spec.throughput);
    let id = world.ids.hex_id("vol");
    let volume = Volume {
        id: id.clone(),
        size,
        volume_type,
        iops,
        throughput,
        encrypted,
        kms_key_id,
        snapshot_id: spec.snapshot_id.clone(),
        availability_zone: spec.availability_zone.clone(),
        create_time: now,
        state: VolumeState::Creating,
        attachment: None,
        tags: spec.tags.clone(),
    };
    let Some(regional) = world.regional_mut(account, region) else {
        return Err(AwsError::internal(format!("account {account} does not exist")));
    };
    regional.ec2.volumes.insert(id.clone(), volume);
    let event = Event::VolumeCreated { volume_id: id.clone() };
    let at = now + world.latency(Duration::seconds(VOLUME_CREATION_SECONDS));
    schedule(world, at, account, region, event);
    Ok(id)
}

/// Checks that a volume id is well formed and names a volume of the account.
pub fn existing_volume<'w>(
    world: &'w World,
    account: &str,
    region: &str,
    volume_id: &str,
) -> Result<&'w Volume, AwsError> {
    if !is_well_formed_id(volume_id, "vol") {
        return Err(malformed_volume_id(volume_id));
    }
    state(world, account, region).and_then(|s| s.volumes.get(volume_id)).ok_or_else(|| volume_not_found(volume_id))
}

/// Deletes a volume that is not attached.
pub fn delete_volume(world: &mut World, account: &str, region: &str, volume_id: &str) -> Result<(), AwsError> {
    let volume = existing_volume(world, account, region, volume_id)?;
    if let Some(attachment) = &volume.attachment {
        return Err(AwsError::new(
            "VolumeInUse",
            400,
            format!("Volume {volume_id} is currently attached to {}", attachment.instance_id),
        ));
    }
    if let Some(regional) = world.regional_mut(account, region) {
        regional.ec2.volumes.remove(volume_id);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// EBS encryption defaults.

pub fn ebs_encryption_by_default(world: &World, account: &str, region: &str) -> bool {
    state(world, account, region).is_some_and(|s| s.ebs_encryption_by_default)
}

pub fn set_ebs_encryption_by_default(world: &mut World, account: &str, region: &str, enabled: bool) {
    if let Some(regional) = world.regional_mut(account, region) {
        regional.ec2.ebs_encryption_by_default = enabled;
    }
}

/// The default EBS key as `GetEbsDefaultKmsKeyId` shows it: `alias/aws/ebs` until set.
pub fn ebs_default_kms_key_id(world: &World, account: &str, region: &str) -> String {
    state(world, account, region)
        .and_then(|s| s.ebs_default_kms_key_id.clone())
        .unwrap_or_else(|| "alias/aws/ebs".to_string())
}

pub fn set_ebs_default_kms_key_id(world: &mut World, account: &str, region: &str, key: Option<String>) {
    if let Some(regional) = world.regional_mut(account, region) {
        regional.ec2.ebs_default_kms_key_id = key;
    }
}

/// A key as a client named it (key id, key ARN, alias name or alias ARN), as the key ARN EC2
/// records. A key that KMS cannot find keeps the ARN its name implies: using it fails later,
/// when EC2 attaches the volume, as on AWS.
pub fn volume_key_arn(world: &mut World, facts: RequestFacts<'_>, key_id: &str) -> String {
    resolve_key_arn(world, facts, key_id)
        .unwrap_or_else(|_| key_arn(facts.caller.principal.account(), facts.region, key_id))
}

fn key_arn(account: &str, region: &str, key_id: &str) -> String {
    if key_id.starts_with("arn:") {
        key_id.to_string()
    } else if key_id.starts_with("alias/") {
        format!("arn:aws:kms:{region}:{account}:{key_id}")
    } else {
        format!("arn:aws:kms:{region}:{account}:key/{key_id}")
    }
}

/// The key a new encrypted volume gets when the request names none: the account's default,
/// or the AWS managed key `aws/ebs`.
pub(super) fn default_volume_key(world: &mut World, account: &str, region: &str, now: DateTime<Utc>) -> String {
    match state(world, account, region).and_then(|s| s.ebs_default_kms_key_id.clone()) {
        Some(key) => key,
        None => default_ebs_key_arn(world, account, region, now),
    }
}

/// A `KmsKeyId` given without `Encrypted`.
pub(super) fn key_needs_encrypted() -> AwsError {
    AwsError::new("InvalidParameterDependency", 400, "The parameter KmsKeyId requires the parameter Encrypted to be set.")
}

/// Whether a new volume is encrypted and with which key: an encrypted snapshot stays
/// encrypted, `Encrypted` or the account default turn encryption on, and a volume without an
/// explicit key gets the snapshot's key or the account's default EBS key.
pub(super) fn volume_encryption(
    world: &mut World,
    facts: RequestFacts<'_>,
    account: &str,
    requested: Option<bool>,
    kms_key_id: Option<&str>,
    snapshot: Option<&SnapshotRef>,
    by_default: bool,
) -> Result<(bool, Option<String>), AwsError> {
    if kms_key_id.is_some() && requested != Some(true) {
        return Err(key_needs_encrypted());
    }
    let from_snapshot = snapshot.filter(|s| s.encrypted);
    let encrypted = from_snapshot.is_some() || requested == Some(true) || by_default;
    if !encrypted {
        return Ok((false, None));
    }
    let key = match (kms_key_id, from_snapshot.and_then(|s| s.kms_key_id.clone())) {
        (Some(key), _) => volume_key_arn(world, facts, key),
        (None, Some(key)) => key,
        (None, None) => default_volume_key(world, account, facts.region, facts.now),
    };
    Ok((true, Some(key)))
}
