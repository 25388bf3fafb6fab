//! EC2 state of one account in one region: instances and their life cycle on the emulator clock,
//! EBS volumes, the account's EBS encryption defaults, and the images an account can launch.
//!
//! Nothing here knows the wire (see `crate::services::ec2`) and nothing here decides access: the
//! one place where a launch can fail for lack of permission is the use of each encrypted volume's
//! KMS key, which EC2 makes *as the caller* (a forward access session) and which KMS decides
//! (`crate::state::kms::use_key_via_service`). The outcome is taken at request time, with the
//! request's caller, and shown later, as AWS shows it: the API answers `pending`, then the
//! instance falls back to `stopped` (a start) or `terminated` (a launch) with the state reason
//! `Client.InternalError`.
//!
//! Facts (botocore ec2 2016-11-15 model, AWS API reference, public error reports):
//! * state codes 0 pending, 16 running, 32 shutting-down, 48 terminated, 64 stopping, 80 stopped
//!   (`InstanceState`);
//! * `InvalidInstanceID.NotFound` "The instance ID 'i-…' does not exist" (plural: "The instance
//!   IDs '…, …' do not exist"); `InvalidInstanceID.Malformed` `Invalid id: "x"`;
//!   `InvalidAMIID.NotFound` "The image id '[ami-…]' does not exist" (brackets included, as EC2
//!   writes them); `InvalidAMIID.Malformed` `Invalid id: "x" (expecting "ami-...")`;
//! * `IncorrectInstanceState` "The instance 'i-…' is not in a state from which it can be
//!   started." / "This instance 'i-…' is not in a state from which it can be stopped.";
//! * RebootInstances "succeeds if the instances are valid and belong to you; requests to reboot
//!   terminated instances are ignored" (API reference);
//! * a user stop or termination leaves `StateTransitionReason` "User initiated (<time> GMT)" and
//!   `StateReason` `Client.UserInitiatedShutdown`; a launch that cannot use its key leaves
//!   `Client.InternalError` / "Client.InternalError: Client error on launch" (aws-traps.md,
//!   Traps 2 and 3).
//!
//! Not confirmed, chosen by analogy: whether a failed start passes through `stopping` (here it
//! goes from `pending` straight to `stopped`), the transition delays (5 s each), the wording for
//! several unknown images at once, `InvalidVolume.NotFound` "The volume 'vol-…' does not exist.",
//! and the text for a recover action on an instance that is not running.
//!
//! This file holds the model (instances, their states and reasons), the per-account [`State`],
//! the scheduled [`Event`]s, EC2's error texts and the lookups; `instances` holds the life cycle,
//! `launch` the launch path, `volumes` the EBS volumes and encryption defaults, `images` the images
//! and their launch permissions, `new_images` CreateImage, RegisterImage and CopyImage,
//! `snapshots` the EBS snapshots, `sharing` the permission lists images and snapshots share,
//! `profile_associations` the IAM instance profile associations, and `metadata_options` the
//! instance metadata options.
//!
//! A launch from an image (its own, or one shared by another account) creates its volumes from
//! the image's snapshots: each encrypted snapshot's key is used as the caller, like any volume's
//! key, and a key the caller may not use ends the launch as above.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::{scheduler, World};
use crate::error::AwsError;

mod images;
mod instances;
mod launch;
pub mod launch_templates;
mod metadata_options;
mod new_images;
mod profile_associations;
mod sharing;
mod snapshots;
mod volumes;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_images;

pub use images::{
    deregister_image, find_image, image_exists, launch_permissions, modify_launch_permission, owned_image,
    public_images, set_image_description, visible_image, visible_images, DeletedSnapshot, Image, ImageBlockDevice,
    ImageState, SnapshotRef, AMAZON_OWNER_ID,
};
pub use instances::{
    perform_instance_action, reboot_instances, start_instances, stop_instances, terminate_instances, InstanceAction,
};
pub use launch::{launch, BlockDeviceSpec, EbsSpec, LaunchSpec, Launched, MAX_INSTANCES_PER_LAUNCH};
pub use launch_templates::LaunchTemplate;
pub use metadata_options::{
    modify_metadata_options, HttpTokens, InstanceMetadataOptions, MetadataOptions, MetadataOptionsChange, OptionsState,
    Switch, HOP_LIMITS, METADATA_OPTIONS_SECONDS,
};
pub use new_images::{copy_image, create_image, register_image, ImageCopy, NewImage, RegisteredDevice, Registration};
pub use profile_associations::{
    associate_profile, association_not_found, disassociate_profile, profile_association, profile_associations,
    replace_profile_association, AssociationState, ProfileAssociation, ASSOCIATION_SECONDS,
};
pub use sharing::{Permission, PermissionChange};
pub use snapshots::{
    copy_snapshot, create_snapshot, create_volume_permissions, delete_snapshot, find_snapshot, malformed_snapshot_id,
    modify_create_volume_permission, owned_snapshot, restorable_snapshot, snapshot_not_found, visible_snapshots,
    Snapshot, SnapshotCopy, SnapshotState, SNAPSHOT_COMPLETION_SECONDS,
};
pub use volumes::{
    create_volume, delete_volume, ebs_default_kms_key_id, ebs_encryption_by_default, existing_volume,
    set_ebs_default_kms_key_id, set_ebs_encryption_by_default, volume_key_arn, Volume, VolumeAttachment, VolumeSpec,
    VolumeState, VOLUME_TYPES,
};

use instances::settle;

// ---------------------------------------------------------------------------------------------
// KMS: EC2 uses keys through the KMS state, which decides.

pub use super::kms::KeyUseDenied;

// ---------------------------------------------------------------------------------------------
// Timing.

/// How long `pending`, `stopping` and `shutting-down` last.
pub const TRANSITION_SECONDS: i64 = 5;
/// How long a new volume stays `creating`.
pub const VOLUME_CREATION_SECONDS: i64 = 1;

fn transition() -> Duration {
    Duration::seconds(TRANSITION_SECONDS)
}

/// EC2's service principal: who uses a volume's key for the caller (KMS names it, per region,
/// in `kms:ViaService`: `ec2.<region>.amazonaws.com`).
pub const EC2_SERVICE: &str = "ec2.amazonaws.com";

// ---------------------------------------------------------------------------------------------
// Instances.

/// `InstanceStateName`, with the codes of `InstanceState.Code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InstanceStateName {
    Pending,
    Running,
    ShuttingDown,
    Terminated,
    Stopping,
    Stopped,
}

impl InstanceStateName {
    pub const ALL: [InstanceStateName; 6] = [
        InstanceStateName::Pending,
        InstanceStateName::Running,
        InstanceStateName::ShuttingDown,
        InstanceStateName::Terminated,
        InstanceStateName::Stopping,
        InstanceStateName::Stopped,
    ];

    pub fn code(self) -> i64 {
        match self {
            InstanceStateName::Pending => 0,
            InstanceStateName::Running => 16,
            InstanceStateName::ShuttingDown => 32,
            InstanceStateName::Terminated => 48,
            InstanceStateName::Stopping => 64,
            InstanceStateName::Stopped => 80,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            InstanceStateName::Pending => "pending",
            InstanceStateName::Running => "running",
            InstanceStateName::ShuttingDown => "shutting-down",
            InstanceStateName::Terminated => "terminated",
            InstanceStateName::Stopping => "stopping",
            InstanceStateName::Stopped => "stopped",
        }
    }
}

/// `StateReason`: why the instance last changed state, when AWS says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateReason {
    pub code: String,
    pub message: String,
}

impl StateReason {
    fn new(code: &str, message: &str) -> StateReason {
        StateReason { code: code.to_string(), message: message.to_string() }
    }

    /// What RunInstances answers for a new instance.
    fn launching() -> StateReason {
        StateReason::new("pending", "pending")
    }

    fn user_initiated_shutdown() -> StateReason {
        StateReason::new("Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown")
    }

    fn client_error_on_launch() -> StateReason {
        StateReason::new("Client.InternalError", "Client.InternalError: Client error on launch")
    }
}

/// "User initiated (2024-05-01 12:00:00 GMT)".
fn user_initiated(now: DateTime<Utc>) -> String {
    format!("User initiated ({} GMT)", now.format("%Y-%m-%d %H:%M:%S"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// The instance profile associated with an instance (`IamInstanceProfile {Arn, Id}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceProfileAssociation {
    pub arn: String,
    pub id: String,
}

/// One EBS volume attached to an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceBlockDevice {
    pub device_name: String,
    pub volume_id: String,
    pub delete_on_termination: bool,
    pub attach_time: DateTime<Utc>,
}

/// How a launch whose key use was refused ends, once its `pending` is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailedLaunch {
    /// A new instance (RunInstances): `shutting-down`, then `terminated`.
    Terminate,
    /// A stopped instance being started: back to `stopped`.
    Stop,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub id: String,
    pub image_id: String,
    pub instance_type: String,
    pub state: InstanceStateName,
    /// `StateTransitionReason` (`reason` on the wire); empty when there is none.
    pub state_transition_reason: String,
    pub state_reason: Option<StateReason>,
    pub launch_time: DateTime<Utc>,
    pub owner_id: String,
    pub reservation_id: String,
    pub ami_launch_index: i64,
    pub availability_zone: String,
    pub private_ip_address: String,
    pub key_name: Option<String>,
    pub iam_instance_profile: Option<InstanceProfileAssociation>,
    pub root_device_name: String,
    pub architecture: String,
    pub block_devices: Vec<InstanceBlockDevice>,
    pub tags: Vec<Tag>,
    pub disable_api_termination: bool,
    pub client_token: Option<String>,
    /// Why the most recent launch or start of this instance failed, if it did: the inner KMS
    /// call EC2 made for the caller and KMS's answer. Cleared by the next launch that succeeds.
    pub launch_failure: Option<KeyUseDenied>,
    /// When alarm recover actions recovered the instance.
    pub recoveries: Vec<DateTime<Utc>>,
    /// `MetadataOptions`: what its metadata service honours (see [`InstanceMetadataOptions`]).
    pub metadata_options: InstanceMetadataOptions,
    /// How the current `pending` ends when the launch could not use its keys.
    failing: Option<FailedLaunch>,
    /// Bumped by every state change, so that a scheduled transition that a later request
    /// overtook (a termination during `pending`) does nothing when it comes due.
    generation: u64,
}

impl Instance {
    /// The private DNS name AWS derives from the private address.
    pub fn private_dns_name(&self, region: &str) -> String {
        let host = format!("ip-{}", self.private_ip_address.replace('.', "-"));
        if region == "us-east-1" {
            format!("{host}.ec2.internal")
        } else {
            format!("{host}.{region}.compute.internal")
        }
    }

    fn change_state(&mut self, state: InstanceStateName) {
        self.state = state;
        self.generation += 1;
    }
}

/// One instance's move, as the state-changing operations answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub instance_id: String,
    pub previous: InstanceStateName,
    pub current: InstanceStateName,
}


// ---------------------------------------------------------------------------------------------
// The state.

/// Everything EC2 holds for one account in one region.
#[derive(Debug, Default, Clone)]
pub struct State {
    /// By id; ids come from a counter, so this is also launch order.
    pub instances: BTreeMap<String, Instance>,
    pub volumes: BTreeMap<String, Volume>,
    /// Images this account owns in this region (the public catalogue is [`public_images`]).
    pub images: BTreeMap<String, Image>,
    /// EBS snapshots this account owns in this region.
    pub snapshots: BTreeMap<String, Snapshot>,
    /// The account attribute "EBS encryption by default".
    pub ebs_encryption_by_default: bool,
    /// The default key for EBS encryption as the account set it; `None` is `alias/aws/ebs`.
    pub ebs_default_kms_key_id: Option<String>,
    /// Launch templates by id (`lt-…`).
    pub launch_templates: BTreeMap<String, LaunchTemplate>,
    /// IAM instance profile associations by id (`iip-assoc-…`), in creation order.
    pub profile_associations: BTreeMap<String, ProfileAssociation>,
}

/// Effects EC2 performs later, on the emulator clock.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The transition an instance is in (`pending`, `stopping`, `shutting-down`) completes,
    /// unless a later change (`generation`) overtook it.
    Settle { instance_id: String, generation: u64 },
    /// A new volume becomes `available`.
    VolumeCreated { volume_id: String },
    /// A snapshot's `pending` ends (`completed`, or `error` for a copy that could not use its keys).
    SnapshotSettled { snapshot_id: String },
    /// A pending image looks at its snapshots: `available`, `failed`, or not yet.
    ImageSettled { image_id: String },
    /// An instance profile association's `associating` or `disassociating` ends.
    AssociationSettled { association_id: String },
    /// A ModifyInstanceMetadataOptions' `pending` options apply.
    MetadataOptionsApplied { instance_id: String },
}

fn schedule(world: &mut World, at: DateTime<Utc>, account: &str, region: &str, event: Event) {
    world.schedule(at, account, region, event);
}

/// Applies a due event (see [`super::scheduler`]).
pub fn on_event(world: &mut World, due: &scheduler::Due, event: Event) {
    let (account, region) = (due.account.as_str(), due.region.as_str());
    match event {
        Event::Settle { instance_id, generation } => settle(world, account, region, &instance_id, generation, due.at),
        Event::VolumeCreated { volume_id } => {
            if let Some(volume) = world
                .regional_mut(account, region)
                .and_then(|r| r.ec2.volumes.get_mut(&volume_id))
                .filter(|v| v.state == VolumeState::Creating)
            {
                volume.state = VolumeState::Available;
            }
        }
        Event::SnapshotSettled { snapshot_id } => snapshots::settle_snapshot(world, account, region, &snapshot_id, due.at),
        Event::ImageSettled { image_id } => images::settle_image(world, account, region, &image_id, due.at),
        Event::AssociationSettled { association_id } => {
            profile_associations::settle_association(world, account, region, &association_id)
        }
        Event::MetadataOptionsApplied { instance_id } => {
            metadata_options::settle_metadata_options(world, account, region, &instance_id)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors.

/// Whether `id` is `<prefix>-` followed by 8 or 17 lower-case hexadecimal digits.
pub fn is_well_formed_id(id: &str, prefix: &str) -> bool {
    let Some(digits) = id.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('-')) else {
        return false;
    };
    matches!(digits.len(), 8 | 17) && digits.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub fn malformed_instance_id(id: &str) -> AwsError {
    AwsError::new("InvalidInstanceID.Malformed", 400, format!("Invalid id: \"{id}\""))
}

pub fn instance_not_found(ids: &[&str]) -> AwsError {
    let message = match ids {
        [one] => format!("The instance ID '{one}' does not exist"),
        many => format!("The instance IDs '{}' do not exist", many.join(", ")),
    };
    AwsError::new("InvalidInstanceID.NotFound", 400, message)
}

pub fn malformed_image_id(id: &str) -> AwsError {
    AwsError::new("InvalidAMIID.Malformed", 400, format!("Invalid id: \"{id}\" (expecting \"ami-...\")"))
}

pub fn image_not_found(ids: &[&str]) -> AwsError {
    let message = match ids {
        [one] => format!("The image id '[{one}]' does not exist"),
        many => format!("The image ids '[{}]' do not exist", many.join(", ")),
    };
    AwsError::new("InvalidAMIID.NotFound", 400, message)
}

/// A launch from an image that exists but is neither the caller's, public, nor shared with it.
pub fn not_authorized_for_images(ids: &[&str]) -> AwsError {
    AwsError::new("AuthFailure", 400, format!("Not authorized for images: [{}]", ids.join(", ")))
}

/// An attribute or deregistration of an image the caller sees but does not own.
pub fn not_authorized_for_image(id: &str) -> AwsError {
    AwsError::new("AuthFailure", 400, format!("Not authorized for image:{id}"))
}

/// A launch (or copy) of an image that is not `available`.
pub fn image_unavailable(id: &str, state: ImageState, verb: &str) -> AwsError {
    AwsError::new("InvalidAMIID.Unavailable", 400, format!("AMI {id} is {}, and cannot be {verb}.", state.name()))
}

pub fn malformed_volume_id(id: &str) -> AwsError {
    AwsError::new("InvalidVolumeID.Malformed", 400, format!("Invalid id: \"{id}\" (expecting \"vol-...\")"))
}

pub fn volume_not_found(id: &str) -> AwsError {
    AwsError::new("InvalidVolume.NotFound", 400, format!("The volume '{id}' does not exist."))
}

fn incorrect_state(message: String) -> AwsError {
    AwsError::new("IncorrectInstanceState", 400, message)
}

fn cannot_start(id: &str) -> AwsError {
    incorrect_state(format!("The instance '{id}' is not in a state from which it can be started."))
}

fn cannot_stop(id: &str) -> AwsError {
    incorrect_state(format!("This instance '{id}' is not in a state from which it can be stopped."))
}

fn cannot_recover(id: &str) -> AwsError {
    incorrect_state(format!("The instance '{id}' is not in a state from which it can be recovered."))
}

fn block_device_error(message: String) -> AwsError {
    AwsError::new("InvalidBlockDeviceMapping", 400, message)
}

// ---------------------------------------------------------------------------------------------
// Lookups.

/// An account's EC2 state in a region, if anything touched it.
pub fn state<'w>(world: &'w World, account: &str, region: &str) -> Option<&'w State> {
    world.regional(account, region).map(|r| &r.ec2)
}

/// An instance of an account, if it exists.
pub fn instance<'w>(world: &'w World, account: &str, region: &str, instance_id: &str) -> Option<&'w Instance> {
    state(world, account, region)?.instances.get(instance_id)
}

/// Why the most recent launch or start of an instance failed: the KMS call EC2 made as the
/// caller and KMS's refusal. `None` when it did not fail (or the instance does not exist).
pub fn last_launch_failure<'w>(
    world: &'w World,
    account: &str,
    region: &str,
    instance_id: &str,
) -> Option<&'w KeyUseDenied> {
    instance(world, account, region, instance_id)?.launch_failure.as_ref()
}

/// Checks that every id is well formed and names an instance of the account; returns the
/// ids in request order. Malformed ids are reported before unknown ones, as EC2 does.
pub fn existing_instances<'a>(
    world: &World,
    account: &str,
    region: &str,
    ids: &'a [String],
) -> Result<Vec<&'a str>, AwsError> {
    if let Some(bad) = ids.iter().find(|id| !is_well_formed_id(id, "i")) {
        return Err(malformed_instance_id(bad));
    }
    let known = state(world, account, region);
    let missing: Vec<&str> = ids
        .iter()
        .filter(|id| known.is_none_or(|s| !s.instances.contains_key(id.as_str())))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(instance_not_found(&missing));
    }
    Ok(ids.iter().map(String::as_str).collect())
}

pub use crate::accounts::availability_zones;

/// AWS's zone id for a zone name (`us-east-1a` → `use1-az1`).
pub fn zone_id(zone: &str) -> String {
    let (region, letter) = zone.split_at(zone.len().saturating_sub(1));
    let mut short = String::new();
    for part in region.split('-') {
        let abbreviation = match part {
            "east" => "e",
            "west" => "w",
            "north" => "n",
            "south" => "s",
            "central" => "c",
            "northeast" => "ne",
            "northwest" => "nw",
            "southeast" => "se",
            "southwest" => "sw",
            other => other,
        };
        short.push_str(abbreviation);
    }
    let number = letter.bytes().next().map_or(1, |b| i64::from(b.saturating_sub(b'a')) + 1);
    format!("{short}-az{number}")
}
