//! New images: CreateImage (an instance's volumes become snapshots), RegisterImage (from
//! snapshots) and CopyImage (into the caller's account, re-encrypting its snapshots when asked:
//! AWS's documented way to use an image shared with a key of another account).
//!
//! Facts (botocore ec2 2016-11-15, AWS documentation, public error reports):
//! * a new image is `pending` until its snapshots are complete; CreateImage's snapshots are
//!   described "Created by CreateImage(i-…) for ami-… from vol-…";
//! * CopyImage of another account's image needs read access to its snapshots (their create
//!   volume permission): otherwise `InvalidRequest` "You do not have permission to access the
//!   storage of this ami"; each snapshot is copied as CopySnapshot would (`KmsKeyId` re-encrypts
//!   all of them with that one key), with the source and target keys used as the caller;
//! * RegisterImage cannot change the encryption of its snapshots.
//!
//! Chosen, not confirmed: the name rule's text (`InvalidAMIName.Malformed`) and the duplicate
//! name text (`InvalidAMIName.Duplicate` "AMI name … is already in use by AMI ami-…"); CreateImage
//! of an instance that is neither running nor stopped is `IncorrectInstanceState`; RegisterImage
//! needs `RootDeviceName` and a mapping for it, and accepts snapshots the caller may restore;
//! copying an image that is not available is `InvalidAMIID.Unavailable`; the copied snapshots'
//! description leaves out AWS's "Task created on …" suffix. CreateImage's `NoReboot` changes
//! nothing here (the emulator does not reboot for it).

use super::launch::{distinct_keys, use_keys};
use super::snapshots::{
    copy_encryption, copy_key_uses, insert_snapshot, new_snapshot, readable_by, restorable_snapshot,
};
use super::images::{creation_date, schedule_image_check};
use super::{
    block_device_error, existing_instances, image_unavailable, incorrect_state, instance,
    state as ec2_state, visible_image, Image, ImageBlockDevice, ImageState, InstanceStateName, Tag, World,
    VOLUME_TYPES,
};
use crate::{authz::RequestFacts, error::AwsError};

/// What every new image is named and described with.
#[derive(Debug, Clone, Default)]
pub struct NewImage<'a> {
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub tags: Vec<Tag>,
}

/// AMI names: 3 to 128 characters among letters, digits, spaces and `()[]./-'@_`.
fn check_name(world: &World, account: &str, region: &str, name: &str) -> Result<(), AwsError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || " ()[]./-'@_".contains(c);
    if !(3..=128).contains(&name.chars().count()) || !name.chars().all(allowed) {
        return Err(AwsError::new(
            "InvalidAMIName.Malformed",
            400,
            "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'",
        ));
    }
    if let Some(existing) = ec2_state(world, account, region).and_then(|s| s.images.values().find(|i| i.name == name)) {
        return Err(AwsError::new(
            "InvalidAMIName.Duplicate",
            400,
            format!("AMI name {name} is already in use by AMI {}", existing.id),
        ));
    }
    Ok(())
}

/// A new `pending` image of `account`, checked later against its snapshots.
fn store_image(world: &mut World, facts: RequestFacts<'_>, image: Image) -> String {
    let (account, id) = (image.owner_id.clone(), image.id.clone());
    if let Some(regional) = world.regional_mut(&account, facts.region) {
        regional.ec2.images.insert(id.clone(), image);
    }
    let at = facts.now + chrono::Duration::seconds(super::SNAPSHOT_COMPLETION_SECONDS);
    schedule_image_check(world, &account, facts.region, &id, at);
    id
}

fn blank_image(id: String, account: &str, spec: &NewImage<'_>, facts: RequestFacts<'_>) -> Image {
    Image {
        id,
        name: spec.name.to_string(),
        description: spec.description.unwrap_or_default().to_string(),
        owner_id: account.to_string(),
        owner_alias: None,
        state: ImageState::Pending,
        state_reason: None,
        public: false,
        launch_permissions: Vec::new(),
        creation_date: creation_date(facts.now),
        image_location: format!("{account}/{}", spec.name),
        architecture: "x86_64".to_string(),
        root_device_name: "/dev/xvda".to_string(),
        block_devices: Vec::new(),
        platform_details: "Linux/UNIX".to_string(),
        ena_support: true,
        source_instance_id: None,
        source_image: None,
        tags: spec.tags.clone(),
    }
}

/// CreateImage: snapshots of the instance's volumes (tagged with `snapshot_tags`) and a
/// `pending` image made of them.
pub fn create_image(
    world: &mut World,
    facts: RequestFacts<'_>,
    account: &str,
    instance_id: &str,
    spec: &NewImage<'_>,
    snapshot_tags: &[Tag],
) -> Result<String, AwsError> {
    let region = facts.region;
    existing_instances(world, account, region, &[instance_id.to_string()])?;
    let source = instance(world, account, region, instance_id).cloned().ok_or_else(|| AwsError::internal("instance vanished"))?;
    if !matches!(source.state, InstanceStateName::Running | InstanceStateName::Stopped | InstanceStateName::Stopping) {
        return Err(incorrect_state(format!("The instance '{instance_id}' is not in a 'running' or 'stopped' state.")));
    }
    check_name(world, account, region, spec.name)?;
    let image_id = world.ids.hex_id("ami");
    let mut image = blank_image(image_id.clone(), account, spec, facts);
    image.architecture = source.architecture.clone();
    image.root_device_name = source.root_device_name.clone();
    image.source_instance_id = Some(instance_id.to_string());
    for device in &source.block_devices {
        let Some(volume) = ec2_state(world, account, region).and_then(|s| s.volumes.get(&device.volume_id)).cloned() else {
            continue;
        };
        let mut snapshot = new_snapshot(world.ids.hex_id("snap"), account, &volume.id, facts.now);
        snapshot.volume_size = volume.size;
        snapshot.encrypted = volume.encrypted;
        snapshot.kms_key_id = volume.kms_key_id.clone();
        snapshot.description = format!("Created by CreateImage({instance_id}) for {image_id} from {}", volume.id);
        snapshot.tags = snapshot_tags.to_vec();
        image.block_devices.push(ImageBlockDevice {
            device_name: device.device_name.clone(),
            snapshot: snapshot.reference(),
            volume_type: volume.volume_type.clone(),
            delete_on_termination: device.delete_on_termination,
        });
        insert_snapshot(world, region, snapshot, facts.now);
    }
    Ok(store_image(world, facts, image))
}

/// One `BlockDeviceMapping.N` of RegisterImage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisteredDevice {
    pub device_name: String,
    pub snapshot_id: Option<String>,
    pub volume_size: Option<i64>,
    pub volume_type: Option<String>,
    pub delete_on_termination: Option<bool>,
}

/// A RegisterImage request (EBS-backed, from snapshots).
#[derive(Debug, Clone, Default)]
pub struct Registration<'a> {
    pub image: NewImage<'a>,
    pub architecture: Option<&'a str>,
    pub root_device_name: Option<&'a str>,
    pub ena_support: Option<bool>,
    pub block_devices: Vec<RegisteredDevice>,
}

/// RegisterImage: an image of the snapshots the mappings name.
pub fn register_image(
    world: &mut World,
    facts: RequestFacts<'_>,
    account: &str,
    registration: &Registration<'_>,
) -> Result<String, AwsError> {
    let region = facts.region;
    check_name(world, account, region, registration.image.name)?;
    if registration.block_devices.is_empty() {
        return Err(AwsError::missing_parameter("BlockDeviceMapping"));
    }
    let root = registration.root_device_name.ok_or_else(|| AwsError::missing_parameter("RootDeviceName"))?;
    if !registration.block_devices.iter().any(|d| d.device_name == root) {
        return Err(block_device_error(format!("The root device name {root} is not in the block device mapping.")));
    }
    let mut devices = Vec::new();
    for mapping in &registration.block_devices {
        if mapping.device_name.is_empty() {
            return Err(AwsError::missing_parameter("BlockDeviceMapping.DeviceName"));
        }
        let Some(snapshot_id) = &mapping.snapshot_id else {
            return Err(AwsError::invalid_parameter_value(format!(
                "wana: image block devices without a snapshot are not emulated (device {})",
                mapping.device_name
            )));
        };
        let mut snapshot = restorable_snapshot(world, account, region, snapshot_id)?;
        if let Some(size) = mapping.volume_size {
            if size < snapshot.size {
                return Err(block_device_error(format!(
                    "Volume of size {size}GB is smaller than snapshot '{snapshot_id}', expect size >= {}GB",
                    snapshot.size
                )));
            }
            snapshot.size = size;
        }
        let volume_type = mapping.volume_type.clone().unwrap_or_else(|| "gp2".to_string());
        if !VOLUME_TYPES.contains(&volume_type.as_str()) {
            return Err(AwsError::invalid_parameter_value(format!("The volume type '{volume_type}' is invalid.")));
        }
        devices.push(ImageBlockDevice {
            device_name: mapping.device_name.clone(),
            snapshot,
            volume_type,
            delete_on_termination: mapping.delete_on_termination.unwrap_or(true),
        });
    }
    let mut image = blank_image(world.ids.hex_id("ami"), account, &registration.image, facts);
    image.architecture = registration.architecture.unwrap_or("x86_64").to_string();
    image.root_device_name = root.to_string();
    image.ena_support = registration.ena_support.unwrap_or(false);
    image.block_devices = devices;
    Ok(store_image(world, facts, image))
}

/// A CopyImage request.
#[derive(Debug, Clone, Default)]
pub struct ImageCopy<'a> {
    pub image: NewImage<'a>,
    pub source_image_id: &'a str,
    pub source_region: &'a str,
    pub encrypted: Option<bool>,
    pub kms_key_id: Option<&'a str>,
    pub copy_image_tags: bool,
    /// Tags for the copied snapshots.
    pub snapshot_tags: Vec<Tag>,
}

/// CopyImage: a `pending` image of the caller with a copy of each snapshot. The keys are used
/// as the caller now; a refusal ends the copies in `error` and the image in `failed`.
pub fn copy_image(world: &mut World, facts: RequestFacts<'_>, account: &str, copy: &ImageCopy<'_>) -> Result<String, AwsError> {
    let source = visible_image(world, account, copy.source_region, copy.source_image_id)?;
    if source.state != ImageState::Available {
        return Err(image_unavailable(&source.id, source.state, "copied"));
    }
    check_name(world, account, facts.region, copy.image.name)?;
    if source.owner_id != account
        && !source.block_devices.iter().all(|d| readable_by(world, copy.source_region, &d.snapshot.snapshot_id, account))
    {
        return Err(AwsError::new("InvalidRequest", 400, "You do not have permission to access the storage of this ami"));
    }
    let image_id = world.ids.hex_id("ami");
    let mut planned = Vec::new();
    for device in &source.block_devices {
        let encryption = copy_encryption(
            world,
            facts,
            account,
            &device.snapshot,
            &source.owner_id,
            copy.encrypted,
            copy.kms_key_id,
        )?;
        planned.push((device, encryption));
    }
    let keys = distinct_keys(
        planned.iter().flat_map(|(device, (_, key))| copy_key_uses(&device.snapshot, key.as_deref())),
    );
    let failure = use_keys(world, facts, &keys);

    let mut image = blank_image(image_id.clone(), account, &copy.image, facts);
    image.architecture = source.architecture.clone();
    image.root_device_name = source.root_device_name.clone();
    image.platform_details = source.platform_details.clone();
    image.ena_support = source.ena_support;
    image.source_image = Some((source.id.clone(), copy.source_region.to_string()));
    if copy.copy_image_tags && source.owner_id == account {
        image.tags = source.tags.iter().cloned().chain(copy.image.tags.iter().cloned()).collect();
    }
    for (device, (encrypted, kms_key_id)) in planned {
        let source_snapshot = &device.snapshot.snapshot_id;
        let mut snapshot = new_snapshot(world.ids.hex_id("snap"), account, "vol-ffffffff", facts.now);
        snapshot.volume_size = device.snapshot.size;
        snapshot.encrypted = encrypted;
        snapshot.kms_key_id = kms_key_id;
        snapshot.description =
            format!("Copied for DestinationAmi {image_id} from SourceAmi {} for SourceSnapshot {source_snapshot}.", source.id);
        snapshot.failure = failure.clone();
        snapshot.tags = copy.snapshot_tags.clone();
        image.block_devices.push(ImageBlockDevice { snapshot: snapshot.reference(), ..device.clone() });
        insert_snapshot(world, facts.region, snapshot, facts.now);
    }
    Ok(store_image(world, facts, image))
}
