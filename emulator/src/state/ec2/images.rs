//! The images an account can launch: Amazon's public catalogue, the account's own images and
//! those other accounts share with it; the lookup a launch makes; launch permissions,
//! deregistration, and the end of an image's `pending`. New images come from `new_images`.
//!
//! Facts (botocore ec2 2016-11-15, AWS documentation, public error reports):
//! * states `pending`, `available`, `failed` (`ImageState`); an EBS-backed image is available
//!   once its snapshots are complete;
//! * a launch from an existing private image the caller may not launch is `AuthFailure` "Not
//!   authorized for images: [ami-…]" with status 400; from an image that is not available,
//!   `InvalidAMIID.Unavailable` "AMI ami-… is pending, and cannot be run.";
//! * DescribeImageAttribute on an image of another account: `AuthFailure` "Not authorized for
//!   image:ami-…"; its `blockDeviceMapping` attribute: `AuthFailure` "Unauthorized attempt to
//!   access restricted resource";
//! * sharing an image whose snapshots are encrypted with an AWS managed key: `InvalidParameter`
//!   "Snapshots encrypted with the AWS Managed CMK can't be shared. Specify another snapshot.".
//!
//! Chosen, not confirmed: ModifyImageAttribute and DeregisterImage on a shared image answer like
//! DescribeImageAttribute; making an image with encrypted snapshots public is `InvalidParameter`
//! "Encrypted images cannot be made public." (AWS documents the rule, not the text); a failed
//! image's `StateReason` is `Client.InternalError` / "AMI snapshot copy failed with error: Given
//! key ID is not accessible".

use chrono::{DateTime, Duration, Utc};

use super::sharing::{self, Permission, PermissionChange};
use super::snapshots::{is_aws_managed_key, snapshot_state, SnapshotState, KEY_NOT_ACCESSIBLE};
use super::{
    image_not_found, image_unavailable, is_well_formed_id, malformed_image_id, not_authorized_for_image,
    not_authorized_for_images, schedule, Event, StateReason, Tag, World,
};
use crate::error::AwsError;

/// An EBS snapshot behind an image's block device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotRef {
    pub snapshot_id: String,
    /// GiB.
    pub size: i64,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageBlockDevice {
    pub device_name: String,
    pub snapshot: SnapshotRef,
    pub volume_type: String,
    pub delete_on_termination: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageState {
    Pending,
    Available,
    Failed,
}

impl ImageState {
    pub fn name(self) -> &'static str {
        match self {
            ImageState::Pending => "pending",
            ImageState::Available => "available",
            ImageState::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub id: String,
    pub name: String,
    pub description: String,
    pub owner_id: String,
    /// `amazon` for Amazon's public images.
    pub owner_alias: Option<String>,
    pub state: ImageState,
    /// Why the image failed, when it did.
    pub state_reason: Option<StateReason>,
    pub public: bool,
    /// Accounts allowed to launch a private image besides its owner.
    pub launch_permissions: Vec<String>,
    /// ISO 8601 text, as EC2 answers it.
    pub creation_date: String,
    pub image_location: String,
    pub architecture: String,
    pub root_device_name: String,
    pub block_devices: Vec<ImageBlockDevice>,
    pub platform_details: String,
    pub ena_support: bool,
    /// The instance CreateImage made it from.
    pub source_instance_id: Option<String>,
    /// The image (and its region) CopyImage made it from.
    pub source_image: Option<(String, String)>,
    pub tags: Vec<Tag>,
}

impl Image {
    /// Whether an account may launch it (and see it): its owner, anyone if it is public, and
    /// the accounts it is shared with.
    pub fn launchable_by(&self, account: &str) -> bool {
        self.owner_id == account || self.public || self.launch_permissions.iter().any(|a| a == account)
    }
}

/// Amazon's account that owns Amazon Linux images.
pub const AMAZON_OWNER_ID: &str = "137112412989";

/// ISO 8601 with milliseconds, as EC2 writes `CreationDate`.
pub(super) fn creation_date(now: DateTime<Utc>) -> String {
    now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The public images every account in every region can launch (ids are region-independent
/// here, unlike on AWS). Each is EBS-backed with an 8 GiB root snapshot on /dev/xvda.
pub fn public_images() -> Vec<Image> {
    let amazon = |id: &str, name: &str, description: &str, created: &str, snapshot: &str, volume_type: &str| Image {
        id: id.to_string(),
        name: name.to_string(),
        description: description.to_string(),
        owner_id: AMAZON_OWNER_ID.to_string(),
        owner_alias: Some("amazon".to_string()),
        state: ImageState::Available,
        state_reason: None,
        public: true,
        launch_permissions: Vec::new(),
        creation_date: created.to_string(),
        image_location: format!("amazon/{name}"),
        architecture: "x86_64".to_string(),
        root_device_name: "/dev/xvda".to_string(),
        block_devices: vec![ImageBlockDevice {
            device_name: "/dev/xvda".to_string(),
            snapshot: SnapshotRef { snapshot_id: snapshot.to_string(), size: 8, encrypted: false, kms_key_id: None },
            volume_type: volume_type.to_string(),
            delete_on_termination: true,
        }],
        platform_details: "Linux/UNIX".to_string(),
        ena_support: true,
        source_instance_id: None,
        source_image: None,
        tags: Vec::new(),
    };
    vec![
        amazon(
            "ami-374db956",
            "amzn-ami-hvm-2016.03.3.x86_64-gp2",
            "Amazon Linux AMI 2016.03.3 x86_64 HVM GP2",
            "2016-06-22T08:00:00.000Z",
            "snap-0a1b2c3d4e5f60001",
            "gp2",
        ),
        amazon(
            "ami-0a2c8e1c5f3b7d901",
            "al2023-ami-2023.4.20240416.0-kernel-6.1-x86_64",
            "Amazon Linux 2023 AMI 2023.4.20240416.0 x86_64 HVM kernel-6.1",
            "2024-04-16T20:00:00.000Z",
            "snap-0a1b2c3d4e5f60002",
            "gp3",
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Lookups.

/// Every image of a region: the public catalogue, then every account's own.
fn region_images(world: &World, region: &str) -> Vec<Image> {
    let mut images = public_images();
    for account in world.accounts.values() {
        if let Some(regional) = account.regions.get(region) {
            images.extend(regional.ec2.images.values().cloned());
        }
    }
    images
}

/// Images an account may launch or describe: the public catalogue, its own images in the
/// region, and images of other accounts in the region shared with it.
pub fn visible_images(world: &World, account: &str, region: &str) -> Vec<Image> {
    region_images(world, region).into_iter().filter(|image| image.launchable_by(account)).collect()
}

/// Whether an image with this id exists in the region, whoever may see it.
pub fn image_exists(world: &World, region: &str, image_id: &str) -> bool {
    region_images(world, region).iter().any(|image| image.id == image_id)
}

/// The image with this id that the account may launch now.
pub fn find_image(world: &World, account: &str, region: &str, image_id: &str) -> Result<Image, AwsError> {
    if !is_well_formed_id(image_id, "ami") {
        return Err(malformed_image_id(image_id));
    }
    let image = region_images(world, region)
        .into_iter()
        .find(|image| image.id == image_id)
        .ok_or_else(|| image_not_found(&[image_id]))?;
    if !image.launchable_by(account) {
        return Err(not_authorized_for_images(&[image_id]));
    }
    if image.state != ImageState::Available {
        return Err(image_unavailable(image_id, image.state, "run"));
    }
    Ok(image)
}

/// An image the account sees, whatever its state.
pub fn visible_image(world: &World, account: &str, region: &str, image_id: &str) -> Result<Image, AwsError> {
    if !is_well_formed_id(image_id, "ami") {
        return Err(malformed_image_id(image_id));
    }
    visible_images(world, account, region)
        .into_iter()
        .find(|image| image.id == image_id)
        .ok_or_else(|| image_not_found(&[image_id]))
}

/// An image the account owns; one it only sees is `AuthFailure`.
pub fn owned_image(world: &World, account: &str, region: &str, image_id: &str) -> Result<Image, AwsError> {
    let image = visible_image(world, account, region, image_id)?;
    if image.owner_id != account {
        return Err(not_authorized_for_image(image_id));
    }
    Ok(image)
}

fn stored_image<'w>(world: &'w mut World, account: &str, region: &str, image_id: &str) -> Option<&'w mut Image> {
    world.regional_mut(account, region)?.ec2.images.get_mut(image_id)
}

// ---------------------------------------------------------------------------------------------
// Attributes and deregistration.

/// ModifyImageAttribute `launchPermission`.
pub fn modify_launch_permission(
    world: &mut World,
    account: &str,
    region: &str,
    image_id: &str,
    change: &PermissionChange,
) -> Result<(), AwsError> {
    let image = owned_image(world, account, region, image_id)?;
    sharing::validate(change)?;
    let encrypted_keys: Vec<&str> =
        image.block_devices.iter().filter(|d| d.snapshot.encrypted).filter_map(|d| d.snapshot.kms_key_id.as_deref()).collect();
    if !change.add.is_empty() && encrypted_keys.iter().any(|key| is_aws_managed_key(world, key)) {
        return Err(AwsError::new(
            "InvalidParameter",
            400,
            "Snapshots encrypted with the AWS Managed CMK can't be shared. Specify another snapshot.",
        ));
    }
    if change.makes_public() && image.block_devices.iter().any(|d| d.snapshot.encrypted) {
        return Err(AwsError::new("InvalidParameter", 400, "Encrypted images cannot be made public."));
    }
    if let Some(stored) = stored_image(world, account, region, image_id) {
        sharing::apply(&mut stored.public, &mut stored.launch_permissions, change);
    }
    Ok(())
}

/// DescribeImageAttribute `launchPermission`.
pub fn launch_permissions(world: &World, account: &str, region: &str, image_id: &str) -> Result<Vec<Permission>, AwsError> {
    let image = owned_image(world, account, region, image_id)?;
    Ok(sharing::permissions(image.public, &image.launch_permissions))
}

/// ModifyImageAttribute `description`.
pub fn set_image_description(
    world: &mut World,
    account: &str,
    region: &str,
    image_id: &str,
    description: &str,
) -> Result<(), AwsError> {
    owned_image(world, account, region, image_id)?;
    if let Some(stored) = stored_image(world, account, region, image_id) {
        stored.description = description.to_string();
    }
    Ok(())
}

/// What DeregisterImage did with one associated snapshot (`SnapshotReturnCodes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedSnapshot {
    pub snapshot_id: String,
    /// `success`, `skipped` (another image uses it) or `missing-permissions` (not the caller's).
    pub return_code: &'static str,
}

/// DeregisterImage: removes an image of the account and, when asked, the snapshots no other
/// image uses.
pub fn deregister_image(
    world: &mut World,
    account: &str,
    region: &str,
    image_id: &str,
    delete_snapshots: bool,
) -> Result<Vec<DeletedSnapshot>, AwsError> {
    let image = owned_image(world, account, region, image_id)?;
    let Some(regional) = world.regional_mut(account, region) else {
        return Err(image_not_found(&[image_id]));
    };
    regional.ec2.images.remove(image_id);
    if !delete_snapshots {
        return Ok(Vec::new());
    }
    let mut results = Vec::new();
    for device in &image.block_devices {
        let id = &device.snapshot.snapshot_id;
        let used = regional.ec2.images.values().any(|i| i.block_devices.iter().any(|d| &d.snapshot.snapshot_id == id));
        let return_code = if !regional.ec2.snapshots.contains_key(id) {
            "missing-permissions"
        } else if used {
            "skipped"
        } else {
            regional.ec2.snapshots.remove(id);
            "success"
        };
        results.push(DeletedSnapshot { snapshot_id: id.clone(), return_code });
    }
    Ok(results)
}

// ---------------------------------------------------------------------------------------------
// The end of `pending`.

/// How often a pending image whose snapshots are not complete yet looks again.
const IMAGE_RECHECK_SECONDS: i64 = 1;

/// Schedules the check that ends an image's `pending`.
pub(super) fn schedule_image_check(world: &mut World, account: &str, region: &str, image_id: &str, at: DateTime<Utc>) {
    schedule(world, at, account, region, Event::ImageSettled { image_id: image_id.to_string() });
}

/// A pending image becomes `available` when its snapshots are complete, `failed` when one of
/// them ended in `error`; otherwise it looks again a moment later.
pub(super) fn settle_image(world: &mut World, account: &str, region: &str, image_id: &str, at: DateTime<Utc>) {
    let Some(image) = world.regional(account, region).and_then(|r| r.ec2.images.get(image_id)) else {
        return;
    };
    if image.state != ImageState::Pending {
        return;
    }
    let states: Vec<SnapshotState> =
        image.block_devices.iter().map(|d| snapshot_state(world, region, &d.snapshot.snapshot_id)).collect();
    if states.contains(&SnapshotState::Pending) {
        schedule_image_check(world, account, region, image_id, at + Duration::seconds(IMAGE_RECHECK_SECONDS));
        return;
    }
    let failed = states.contains(&SnapshotState::Error);
    if let Some(image) = stored_image(world, account, region, image_id) {
        if failed {
            image.state = ImageState::Failed;
            image.state_reason = Some(StateReason {
                code: "Client.InternalError".to_string(),
                message: format!("AMI snapshot copy failed with error: {KEY_NOT_ACCESSIBLE}"),
            });
        } else {
            image.state = ImageState::Available;
        }
    }
}
