//! The launch path: RunInstances' validation, the instances and volumes it creates, and the use
//! of each encrypted volume's KMS key as the caller, whose outcome the end of `pending` shows.
//! A start of a stopped instance goes through the same key use (`use_keys`, `begin_pending`).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::super::kms::use_key_via_service;
use super::volumes::{performance, volume_encryption};
use super::{
    availability_zones, block_device_error, ebs_encryption_by_default, find_image, schedule, transition, EC2_SERVICE,
    Event, FailedLaunch, Image, ImageBlockDevice, Instance, InstanceBlockDevice, InstanceMetadataOptions,
    InstanceProfileAssociation, InstanceStateName, KeyUseDenied, MetadataOptions, StateReason, Tag, Volume,
    VolumeAttachment, VolumeState, World, VOLUME_TYPES,
};
use crate::{authz::RequestFacts, error::AwsError};

/// A block device of a launch request (`BlockDeviceMapping.N`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockDeviceSpec {
    pub device_name: String,
    /// `NoDevice`: leave out a device the image maps.
    pub no_device: bool,
    pub ebs: Option<EbsSpec>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EbsSpec {
    pub volume_size: Option<i64>,
    pub volume_type: Option<String>,
    pub iops: Option<i64>,
    pub throughput: Option<i64>,
    pub encrypted: Option<bool>,
    pub kms_key_id: Option<String>,
    pub delete_on_termination: Option<bool>,
    pub snapshot_id: Option<String>,
}

/// What a launch asks for, decoded and authorized by whoever launches (RunInstances, later
/// Auto Scaling acting as its service-linked role).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchSpec {
    pub image_id: String,
    pub instance_type: String,
    pub min_count: i64,
    pub max_count: i64,
    pub block_devices: Vec<BlockDeviceSpec>,
    pub iam_instance_profile: Option<InstanceProfileAssociation>,
    pub instance_tags: Vec<Tag>,
    pub volume_tags: Vec<Tag>,
    pub availability_zone: Option<String>,
    pub key_name: Option<String>,
    pub disable_api_termination: bool,
    pub client_token: Option<String>,
    /// The instance's metadata options (AWS's defaults unless the request or template sets some).
    pub metadata_options: MetadataOptions,
}

/// What a launch created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launched {
    pub reservation_id: String,
    pub owner_id: String,
    pub instance_ids: Vec<String>,
}

/// A volume to create for each instance of a launch.
#[derive(Debug, Clone)]
struct PlannedVolume {
    device_name: String,
    size: i64,
    volume_type: String,
    iops: Option<i64>,
    throughput: Option<i64>,
    encrypted: bool,
    kms_key_id: Option<String>,
    /// The key of the encrypted snapshot the volume is restored from, when there is one: EC2
    /// uses it too (the volume's own key may be another one).
    source_key: Option<String>,
    snapshot_id: Option<String>,
    delete_on_termination: bool,
}

/// Most instances one request may launch here (AWS's limit depends on the account's vCPU quota).
pub const MAX_INSTANCES_PER_LAUNCH: i64 = 20;

/// Launches instances for the caller in `facts`: validates the request, creates the instances
/// and their volumes, and uses each encrypted volume's key as the caller. The instances answer
/// `pending`; they become `running`, or, if a key use was refused, `shutting-down` and then
/// `terminated` with `Client.InternalError`.
pub fn launch(
    world: &mut World,
    facts: RequestFacts<'_>,
    account: &str,
    spec: &LaunchSpec,
) -> Result<Launched, AwsError> {
    let region = facts.region;
    let now = facts.now;
    let image = find_image(world, account, region, &spec.image_id)?;
    if spec.min_count < 1 {
        return Err(AwsError::invalid_parameter_value(format!(
            "Value ({}) for parameter minCount is invalid. Expected a value greater than or equal to 1.",
            spec.min_count
        )));
    }
    if spec.max_count < spec.min_count {
        return Err(AwsError::invalid_parameter_value(format!(
            "Value ({}) for parameter maxCount is invalid. Expected a value greater than or equal to minCount ({}).",
            spec.max_count, spec.min_count
        )));
    }
    if spec.min_count > MAX_INSTANCES_PER_LAUNCH {
        return Err(AwsError::new(
            "InstanceLimitExceeded",
            400,
            format!("You have requested more instances ({}) than your current instance limit of {MAX_INSTANCES_PER_LAUNCH} allows for the specified instance type.", spec.min_count),
        ));
    }
    let count = spec.max_count.min(MAX_INSTANCES_PER_LAUNCH);
    let zones = availability_zones(region);
    let zone = match &spec.availability_zone {
        None => zones[0].clone(),
        Some(zone) if zones.contains(zone) => zone.clone(),
        Some(zone) => return Err(AwsError::invalid_parameter_value(format!("Invalid availability zone: [{zone}]"))),
    };
    let planned = plan_volumes(world, facts, account, &image, &spec.block_devices)?;
    // From here on nothing fails: the request is accepted.

    let reservation_id = world.ids.hex_id("r");
    let mut instance_ids = Vec::new();
    for index in 0..count {
        let instance_id = world.ids.hex_id("i");
        let mut devices = Vec::new();
        let mut volumes = Vec::new();
        for plan in &planned {
            let volume_id = world.ids.hex_id("vol");
            devices.push(InstanceBlockDevice {
                device_name: plan.device_name.clone(),
                volume_id: volume_id.clone(),
                delete_on_termination: plan.delete_on_termination,
                attach_time: now,
            });
            volumes.push(Volume {
                id: volume_id,
                size: plan.size,
                volume_type: plan.volume_type.clone(),
                iops: plan.iops,
                throughput: plan.throughput,
                encrypted: plan.encrypted,
                kms_key_id: plan.kms_key_id.clone(),
                snapshot_id: plan.snapshot_id.clone(),
                availability_zone: zone.clone(),
                create_time: now,
                state: VolumeState::InUse,
                attachment: Some(VolumeAttachment {
                    instance_id: instance_id.clone(),
                    device: plan.device_name.clone(),
                    attach_time: now,
                    delete_on_termination: plan.delete_on_termination,
                }),
                tags: spec.volume_tags.clone(),
            });
        }
        let instance = Instance {
            id: instance_id.clone(),
            image_id: image.id.clone(),
            instance_type: spec.instance_type.clone(),
            state: InstanceStateName::Pending,
            state_transition_reason: String::new(),
            state_reason: Some(StateReason::launching()),
            launch_time: now,
            owner_id: account.to_string(),
            reservation_id: reservation_id.clone(),
            ami_launch_index: index,
            availability_zone: zone.clone(),
            private_ip_address: private_ip(&instance_id),
            key_name: spec.key_name.clone(),
            iam_instance_profile: spec.iam_instance_profile.clone(),
            root_device_name: image.root_device_name.clone(),
            architecture: image.architecture.clone(),
            block_devices: devices,
            tags: spec.instance_tags.clone(),
            disable_api_termination: spec.disable_api_termination,
            client_token: spec.client_token.clone(),
            launch_failure: None,
            recoveries: Vec::new(),
            metadata_options: InstanceMetadataOptions::launched_with(spec.metadata_options),
            failing: None,
            generation: 0,
        };
        let Some(regional) = world.regional_mut(account, region) else {
            return Err(AwsError::internal(format!("account {account} does not exist")));
        };
        for volume in volumes {
            regional.ec2.volumes.insert(volume.id.clone(), volume);
        }
        regional.ec2.instances.insert(instance_id.clone(), instance);
        if let Some(profile) = &spec.iam_instance_profile {
            super::profile_associations::launched_with(world, account, region, &instance_id, profile.clone(), now);
        }
        instance_ids.push(instance_id);
    }

    // EC2 attaches the encrypted volumes with the caller's forward access session; the same
    // caller and keys give the same answer for every instance of the reservation.
    let keys: Vec<String> =
        distinct_keys(planned.iter().flat_map(|p| p.source_key.iter().chain(&p.kms_key_id)).cloned());
    let denied = use_keys(world, facts, &keys);
    for instance_id in &instance_ids {
        begin_pending(world, account, region, instance_id, denied.clone(), FailedLaunch::Terminate, now);
    }
    Ok(Launched { reservation_id, owner_id: account.to_string(), instance_ids })
}

pub(super) fn distinct_keys(keys: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    keys.filter(|k| seen.insert(k.clone())).collect()
}

/// Uses each key as the caller, in order; the first refusal ends the launch.
pub(super) fn use_keys(world: &mut World, facts: RequestFacts<'_>, keys: &[String]) -> Option<KeyUseDenied> {
    keys.iter().find_map(|key| use_key_via_service(world, facts, key, EC2_SERVICE).err())
}

/// Records the outcome of a launch's key checks and schedules the end of `pending`.
pub(super) fn begin_pending(
    world: &mut World,
    account: &str,
    region: &str,
    instance_id: &str,
    denied: Option<KeyUseDenied>,
    on_failure: FailedLaunch,
    now: DateTime<Utc>,
) {
    let Some(instance) = world.regional_mut(account, region).and_then(|r| r.ec2.instances.get_mut(instance_id)) else {
        return;
    };
    instance.failing = denied.as_ref().map(|_| on_failure);
    instance.launch_failure = denied;
    let event = Event::Settle { instance_id: instance_id.to_string(), generation: instance.generation };
    let at = now + world.latency(transition());
    schedule(world, at, account, region, event);
}

/// A deterministic private address in the default VPC's range, from the instance's counter.
fn private_ip(instance_id: &str) -> String {
    let n = instance_id.strip_prefix("i-").and_then(|hex| u64::from_str_radix(hex, 16).ok()).unwrap_or(0) + 10;
    format!("172.31.{}.{}", (n >> 8) & 0xff, n & 0xff)
}

/// The volumes each instance of a launch gets: the image's mappings with the request's
/// overrides, then the request's additional devices.
fn plan_volumes(
    world: &mut World,
    facts: RequestFacts<'_>,
    account: &str,
    image: &Image,
    requested: &[BlockDeviceSpec],
) -> Result<Vec<PlannedVolume>, AwsError> {
    for spec in requested {
        if spec.device_name.is_empty() {
            return Err(AwsError::missing_parameter("BlockDeviceMapping.DeviceName"));
        }
    }
    let by_default = ebs_encryption_by_default(world, account, facts.region);
    let mut planned = Vec::new();
    for device in &image.block_devices {
        let spec = requested.iter().find(|s| s.device_name == device.device_name);
        if spec.is_some_and(|s| s.no_device) {
            continue;
        }
        let ebs = spec.and_then(|s| s.ebs.clone()).unwrap_or_default();
        planned.push(plan_volume(world, facts, account, &device.device_name, Some((device, &ebs)), &ebs, by_default)?);
    }
    for spec in requested {
        if spec.no_device || image.block_devices.iter().any(|d| d.device_name == spec.device_name) {
            continue;
        }
        // Instance-store devices (VirtualName) have no EBS part and create no volume.
        let Some(ebs) = &spec.ebs else {
            continue;
        };
        planned.push(plan_volume(world, facts, account, &spec.device_name, None, ebs, by_default)?);
    }
    Ok(planned)
}

fn plan_volume(
    world: &mut World,
    facts: RequestFacts<'_>,
    account: &str,
    device_name: &str,
    from_image: Option<(&ImageBlockDevice, &EbsSpec)>,
    ebs: &EbsSpec,
    by_default: bool,
) -> Result<PlannedVolume, AwsError> {
    let snapshot = from_image.map(|(device, _)| &device.snapshot);
    let size = match (ebs.volume_size, snapshot) {
        (Some(size), Some(snapshot)) if size < snapshot.size => {
            return Err(block_device_error(format!(
                "Volume of size {size}GB is smaller than snapshot '{}', expect size >= {}GB",
                snapshot.snapshot_id, snapshot.size
            )))
        }
        (Some(size), _) => size,
        (None, Some(snapshot)) => snapshot.size,
        (None, None) => {
            return Err(block_device_error(format!(
                "The request must contain a volume size or a snapshot for device {device_name}."
            )))
        }
    };
    if !(1..=16_384).contains(&size) {
        return Err(AwsError::invalid_parameter_value(format!(
            "Volume size {size} for device {device_name} is outside the range 1 to 16384 GiB."
        )));
    }
    let volume_type = ebs
        .volume_type
        .clone()
        .or_else(|| from_image.map(|(device, _)| device.volume_type.clone()))
        .unwrap_or_else(|| "gp2".to_string());
    if !VOLUME_TYPES.contains(&volume_type.as_str()) {
        return Err(AwsError::invalid_parameter_value(format!("The volume type '{volume_type}' is invalid.")));
    }
    let (encrypted, kms_key_id) =
        volume_encryption(world, facts, account, ebs.encrypted, ebs.kms_key_id.as_deref(), snapshot, by_default)?;
    let (iops, throughput) = performance(&volume_type, size, ebs.iops, ebs.throughput);
    Ok(PlannedVolume {
        device_name: device_name.to_string(),
        size,
        volume_type,
        iops,
        throughput,
        encrypted,
        kms_key_id,
        source_key: snapshot.filter(|s| s.encrypted).and_then(|s| s.kms_key_id.clone()),
        snapshot_id: snapshot.map(|s| s.snapshot_id.clone()).or_else(|| ebs.snapshot_id.clone()),
        delete_on_termination: ebs
            .delete_on_termination
            .unwrap_or_else(|| from_image.is_none_or(|(device, _)| device.delete_on_termination)),
    })
}
