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

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};

use super::{scheduler, World};
use crate::{authz::RequestFacts, error::AwsError};

// ---------------------------------------------------------------------------------------------
// KMS: EC2 uses keys through the KMS state, which decides.

pub use super::kms::KeyUseDenied;
use super::kms::{default_ebs_key_arn, resolve_key_arn, use_key_via_service};

// ---------------------------------------------------------------------------------------------
// Timing.

/// How long `pending`, `stopping` and `shutting-down` last.
pub const TRANSITION_SECONDS: i64 = 5;
/// How long a new volume stays `creating`.
pub const VOLUME_CREATION_SECONDS: i64 = 1;

fn transition() -> Duration {
    Duration::seconds(TRANSITION_SECONDS)
}

/// The service principal EC2 names when it uses a key for a caller (`kms:ViaService`).
pub fn via_service(region: &str) -> String {
    format!("ec2.{region}.amazonaws.com")
}

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
// Volumes.

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
fn performance(volume_type: &str, size: i64, iops: Option<i64>, throughput: Option<i64>) -> (Option<i64>, Option<i64>) {
    match volume_type {
        "gp2" => (Some((size * 3).clamp(100, 16_000)), None),
        "gp3" => (Some(iops.unwrap_or(3000)), Some(throughput.unwrap_or(125))),
        "io1" | "io2" => (iops, None),
        _ => (None, None),
    }
}

// ---------------------------------------------------------------------------------------------
// Images.

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub id: String,
    pub name: String,
    pub description: String,
    pub owner_id: String,
    /// `amazon` for Amazon's public images.
    pub owner_alias: Option<String>,
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
}

/// Amazon's account that owns Amazon Linux images.
pub const AMAZON_OWNER_ID: &str = "137112412989";

/// The public images every account in every region can launch (ids are region-independent
/// here, unlike on AWS). Each is EBS-backed with an 8 GiB root snapshot on /dev/xvda.
pub fn public_images() -> Vec<Image> {
    let amazon = |id: &str, name: &str, description: &str, created: &str, snapshot: &str, volume_type: &str| Image {
        id: id.to_string(),
        name: name.to_string(),
        description: description.to_string(),
        owner_id: AMAZON_OWNER_ID.to_string(),
        owner_alias: Some("amazon".to_string()),
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
// The state.

/// Everything EC2 holds for one account in one region.
#[derive(Debug, Default, Clone)]
pub struct State {
    /// By id; ids come from a counter, so this is also launch order.
    pub instances: BTreeMap<String, Instance>,
    pub volumes: BTreeMap<String, Volume>,
    /// Images this account owns in this region (the public catalogue is [`public_images`]).
    pub images: BTreeMap<String, Image>,
    /// The account attribute "EBS encryption by default".
    pub ebs_encryption_by_default: bool,
    /// The default key for EBS encryption as the account set it; `None` is `alias/aws/ebs`.
    pub ebs_default_kms_key_id: Option<String>,
}

/// Effects EC2 performs later, on the emulator clock.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The transition an instance is in (`pending`, `stopping`, `shutting-down`) completes,
    /// unless a later change (`generation`) overtook it.
    Settle { instance_id: String, generation: u64 },
    /// A new volume becomes `available`.
    VolumeCreated { volume_id: String },
}

fn schedule(world: &mut World, at: DateTime<Utc>, account: &str, region: &str, event: Event) {
    world.schedule(at, account, region, scheduler::Event::Ec2(event));
}

/// Applies a due event (see [`super::scheduler`]).
pub fn on_event(world: &mut World, due: &scheduler::Scheduled, event: Event) {
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
    }
}

fn settle(world: &mut World, account: &str, region: &str, instance_id: &str, generation: u64, at: DateTime<Utc>) {
    let Some(state) = world.regional_mut(account, region).map(|r| &mut r.ec2) else {
        return;
    };
    let Some(instance) = state.instances.get_mut(instance_id) else {
        return;
    };
    if instance.generation != generation {
        return;
    }
    let mut follow_up = None;
    match instance.state {
        InstanceStateName::Pending => match instance.failing.take() {
            None => {
                instance.change_state(InstanceStateName::Running);
                instance.state_transition_reason.clear();
                instance.state_reason = None;
            }
            Some(outcome) => {
                let reason = StateReason::client_error_on_launch();
                instance.state_transition_reason = reason.message.clone();
                instance.state_reason = Some(reason);
                match outcome {
                    FailedLaunch::Stop => instance.change_state(InstanceStateName::Stopped),
                    FailedLaunch::Terminate => {
                        instance.change_state(InstanceStateName::ShuttingDown);
                        follow_up = Some(instance.generation);
                    }
                }
            }
        },
        InstanceStateName::Stopping => instance.change_state(InstanceStateName::Stopped),
        InstanceStateName::ShuttingDown => {
            instance.change_state(InstanceStateName::Terminated);
            let devices = std::mem::take(&mut instance.block_devices);
            release_volumes(state, &devices);
        }
        InstanceStateName::Running | InstanceStateName::Stopped | InstanceStateName::Terminated => {}
    }
    if let Some(generation) = follow_up {
        let event = Event::Settle { instance_id: instance_id.to_string(), generation };
        schedule(world, at + transition(), account, region, event);
    }
}

/// A terminated instance's volumes: deleted if they were to be, otherwise detached.
fn release_volumes(state: &mut State, devices: &[InstanceBlockDevice]) {
    for device in devices {
        if device.delete_on_termination {
            state.volumes.remove(&device.volume_id);
        } else if let Some(volume) = state.volumes.get_mut(&device.volume_id) {
            volume.attachment = None;
            volume.state = VolumeState::Available;
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

/// The availability zones of a region: `<region>a`, `b` and `c`.
pub fn availability_zones(region: &str) -> Vec<String> {
    ["a", "b", "c"].iter().map(|suffix| format!("{region}{suffix}")).collect()
}

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

/// Images an account may launch or describe: the public catalogue, its own images in the
/// region, and images of other accounts in the region shared with it.
pub fn visible_images(world: &World, account: &str, region: &str) -> Vec<Image> {
    let mut images = public_images();
    for (owner, other) in &world.accounts {
        let Some(regional) = other.regions.get(region) else {
            continue;
        };
        images.extend(
            regional
                .ec2
                .images
                .values()
                .filter(|image| {
                    owner == account || image.public || image.launch_permissions.iter().any(|a| a == account)
                })
                .cloned(),
        );
    }
    images
}

/// The image with this id that the account may launch.
pub fn find_image(world: &World, account: &str, region: &str, image_id: &str) -> Result<Image, AwsError> {
    if !is_well_formed_id(image_id, "ami") {
        return Err(malformed_image_id(image_id));
    }
    visible_images(world, account, region)
        .into_iter()
        .find(|image| image.id == image_id)
        .ok_or_else(|| image_not_found(&[image_id]))
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
fn default_volume_key(world: &mut World, account: &str, region: &str) -> String {
    match state(world, account, region).and_then(|s| s.ebs_default_kms_key_id.clone()) {
        Some(key) => key,
        None => default_ebs_key_arn(world, account, region),
    }
}

// ---------------------------------------------------------------------------------------------
// Launching.

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
        instance_ids.push(instance_id);
    }

    // EC2 attaches the encrypted volumes with the caller's forward access session; the same
    // caller and keys give the same answer for every instance of the reservation.
    let keys: Vec<String> = distinct_keys(planned.iter().filter_map(|p| p.kms_key_id.clone()));
    let denied = use_keys(world, facts, &keys);
    for instance_id in &instance_ids {
        begin_pending(world, account, region, instance_id, denied.clone(), FailedLaunch::Terminate, now);
    }
    Ok(Launched { reservation_id, owner_id: account.to_string(), instance_ids })
}

fn distinct_keys(keys: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    keys.filter(|k| seen.insert(k.clone())).collect()
}

/// Uses each key as the caller, in order; the first refusal ends the launch.
fn use_keys(world: &mut World, facts: RequestFacts<'_>, keys: &[String]) -> Option<KeyUseDenied> {
    let via = via_service(facts.region);
    keys.iter().find_map(|key| use_key_via_service(world, facts, key, &via).err())
}

/// Records the outcome of a launch's key checks and schedules the end of `pending`.
fn begin_pending(
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
    schedule(world, now + transition(), account, region, event);
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
        snapshot_id: snapshot.map(|s| s.snapshot_id.clone()).or_else(|| ebs.snapshot_id.clone()),
        delete_on_termination: ebs
            .delete_on_termination
            .unwrap_or_else(|| from_image.is_none_or(|(device, _)| device.delete_on_termination)),
    })
}

/// Whether a new volume is encrypted and with which key: an encrypted snapshot stays
/// encrypted, `Encrypted` or the account default turn encryption on, and a volume without an
/// explicit key gets the snapshot's key or the account's default EBS key.
fn volume_encryption(
    world: &mut World,
    facts: RequestFacts<'_>,
    account: &str,
    requested: Option<bool>,
    kms_key_id: Option<&str>,
    snapshot: Option<&SnapshotRef>,
    by_default: bool,
) -> Result<(bool, Option<String>), AwsError> {
    if kms_key_id.is_some() && requested != Some(true) {
        return Err(AwsError::new(
            "InvalidParameterDependency",
            400,
            "The parameter KmsKeyId requires the parameter Encrypted to be set.",
        ));
    }
    let from_snapshot = snapshot.filter(|s| s.encrypted);
    let encrypted = from_snapshot.is_some() || requested == Some(true) || by_default;
    if !encrypted {
        return Ok((false, None));
    }
    let key = match (kms_key_id, from_snapshot.and_then(|s| s.kms_key_id.clone())) {
        (Some(key), _) => volume_key_arn(world, facts, key),
        (None, Some(key)) => key,
        (None, None) => default_volume_key(world, account, facts.region),
    };
    Ok((true, Some(key)))
}

// ---------------------------------------------------------------------------------------------
// State changes.

fn instance_mut<'w>(
    world: &'w mut World,
    account: &str,
    region: &str,
    instance_id: &str,
) -> Result<&'w mut Instance, AwsError> {
    world
        .regional_mut(account, region)
        .and_then(|r| r.ec2.instances.get_mut(instance_id))
        .ok_or_else(|| instance_not_found(&[instance_id]))
}

fn current_state(world: &World, account: &str, region: &str, instance_id: &str) -> Result<InstanceStateName, AwsError> {
    instance(world, account, region, instance_id).map(|i| i.state).ok_or_else(|| instance_not_found(&[instance_id]))
}

/// Starts stopped instances for the caller in `facts`. Every instance must be startable
/// before any starts. EC2 attaches each encrypted volume with the caller's forward access
/// session: a refused key use still answers `pending`, and the instance then returns to
/// `stopped` with `Client.InternalError`.
pub fn start_instances(
    world: &mut World,
    facts: RequestFacts<'_>,
    account: &str,
    instance_ids: &[&str],
) -> Result<Vec<StateChange>, AwsError> {
    let region = facts.region;
    for id in instance_ids {
        match current_state(world, account, region, id)? {
            InstanceStateName::Stopping | InstanceStateName::ShuttingDown | InstanceStateName::Terminated => {
                return Err(cannot_start(id))
            }
            InstanceStateName::Pending | InstanceStateName::Running | InstanceStateName::Stopped => {}
        }
    }
    let mut changes = Vec::new();
    for id in instance_ids {
        let instance = instance_mut(world, account, region, id)?;
        let previous = instance.state;
        if previous != InstanceStateName::Stopped {
            changes.push(StateChange { instance_id: id.to_string(), previous, current: previous });
            continue;
        }
        instance.change_state(InstanceStateName::Pending);
        instance.state_transition_reason.clear();
        instance.state_reason = None;
        let volume_ids: Vec<String> = instance.block_devices.iter().map(|d| d.volume_id.clone()).collect();
        let keys = {
            let volumes = world.regional(account, region).map(|r| &r.ec2.volumes);
            distinct_keys(
                volume_ids
                    .iter()
                    .filter_map(|v| volumes.and_then(|vs| vs.get(v)))
                    .filter(|v| v.encrypted)
                    .filter_map(|v| v.kms_key_id.clone()),
            )
        };
        let denied = use_keys(world, facts, &keys);
        begin_pending(world, account, region, id, denied, FailedLaunch::Stop, facts.now);
        changes.push(StateChange { instance_id: id.to_string(), previous, current: InstanceStateName::Pending });
    }
    Ok(changes)
}

/// Stops instances (`Force` changes nothing here: the emulated shutdown never hangs).
pub fn stop_instances(
    world: &mut World,
    account: &str,
    region: &str,
    instance_ids: &[&str],
    now: DateTime<Utc>,
) -> Result<Vec<StateChange>, AwsError> {
    for id in instance_ids {
        match current_state(world, account, region, id)? {
            InstanceStateName::Pending | InstanceStateName::ShuttingDown | InstanceStateName::Terminated => {
                return Err(cannot_stop(id))
            }
            InstanceStateName::Running | InstanceStateName::Stopping | InstanceStateName::Stopped => {}
        }
    }
    let mut changes = Vec::new();
    for id in instance_ids {
        let instance = instance_mut(world, account, region, id)?;
        let previous = instance.state;
        if previous == InstanceStateName::Running {
            instance.change_state(InstanceStateName::Stopping);
            instance.state_transition_reason = user_initiated(now);
            instance.state_reason = Some(StateReason::user_initiated_shutdown());
            let event = Event::Settle { instance_id: id.to_string(), generation: instance.generation };
            schedule(world, now + transition(), account, region, event);
        }
        let current = current_state(world, account, region, id)?;
        changes.push(StateChange { instance_id: id.to_string(), previous, current });
    }
    Ok(changes)
}

/// Terminates instances. An instance whose `disableApiTermination` attribute is set refuses,
/// and then none is terminated.
pub fn terminate_instances(
    world: &mut World,
    account: &str,
    region: &str,
    instance_ids: &[&str],
    now: DateTime<Utc>,
) -> Result<Vec<StateChange>, AwsError> {
    for id in instance_ids {
        let instance = instance(world, account, region, id).ok_or_else(|| instance_not_found(&[id]))?;
        if instance.disable_api_termination && instance.state != InstanceStateName::Terminated {
            return Err(AwsError::new(
                "OperationNotPermitted",
                400,
                format!("The instance '{id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again."),
            ));
        }
    }
    let mut changes = Vec::new();
    for id in instance_ids {
        let instance = instance_mut(world, account, region, id)?;
        let previous = instance.state;
        if !matches!(previous, InstanceStateName::ShuttingDown | InstanceStateName::Terminated) {
            instance.change_state(InstanceStateName::ShuttingDown);
            instance.failing = None;
            instance.state_transition_reason = user_initiated(now);
            instance.state_reason = Some(StateReason::user_initiated_shutdown());
            let event = Event::Settle { instance_id: id.to_string(), generation: instance.generation };
            schedule(world, now + transition(), account, region, event);
        }
        let current = current_state(world, account, region, id)?;
        changes.push(StateChange { instance_id: id.to_string(), previous, current });
    }
    Ok(changes)
}

/// Reboots instances: a running instance stays `running` (the reboot is invisible to the API);
/// requests for instances in other states are accepted and ignored, as EC2 does.
pub fn reboot_instances(world: &World, account: &str, region: &str, instance_ids: &[&str]) -> Result<(), AwsError> {
    for id in instance_ids {
        current_state(world, account, region, id)?;
    }
    Ok(())
}

/// An alarm action EC2 performs on an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceAction {
    Stop,
    Terminate,
    Reboot,
    Recover,
}

/// Performs an alarm action on an instance; authorization is the caller's business.
///
/// Stop, terminate and reboot behave as the API operations do. Recover moves a running
/// instance to new hardware: it keeps its id, addresses and volumes and stays `running`; the
/// recovery is recorded in [`Instance::recoveries`]. An instance that is not running cannot be
/// recovered (`IncorrectInstanceState`).
pub fn perform_instance_action(
    world: &mut World,
    account: &str,
    region: &str,
    instance_id: &str,
    action: InstanceAction,
    now: DateTime<Utc>,
) -> Result<(), AwsError> {
    if !is_well_formed_id(instance_id, "i") {
        return Err(malformed_instance_id(instance_id));
    }
    let ids = [instance_id];
    match action {
        InstanceAction::Stop => stop_instances(world, account, region, &ids, now).map(drop),
        InstanceAction::Terminate => terminate_instances(world, account, region, &ids, now).map(drop),
        InstanceAction::Reboot => reboot_instances(world, account, region, &ids),
        InstanceAction::Recover => {
            let instance = instance_mut(world, account, region, instance_id)?;
            if instance.state != InstanceStateName::Running {
                return Err(cannot_recover(instance_id));
            }
            instance.recoveries.push(now);
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Volumes.

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
        Some(id) => Some(
            visible_images(world, account, region)
                .into_iter()
                .flat_map(|image| image.block_devices)
                .map(|device| device.snapshot)
                .find(|snapshot| &snapshot.snapshot_id == id)
                .ok_or_else(|| {
                    AwsError::new("InvalidSnapshot.NotFound", 400, format!("The snapshot '{id}' does not exist."))
                })?,
        ),
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
    schedule(world, now + Duration::seconds(VOLUME_CREATION_SECONDS), account, region, event);
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

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use chrono::TimeZone;

    use super::*;
    use crate::{
        principal::{Caller, CredentialKind, Principal},
        profile::BehaviourProfile,
    };

    const ACCOUNT: &str = "111111111111";
    const REGION: &str = "ap-northeast-1";

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().unwrap()
    }

    fn caller() -> Caller {
        Caller {
            principal: Principal::User {
                account: ACCOUNT.to_string(),
                name: "admin".to_string(),
                path: "/".to_string(),
                user_id: "AIDAWANAEXAMPLE000001".to_string(),
            },
            access_key_id: "AKIAWANAADMINA000001".to_string(),
            credential_kind: CredentialKind::LongTerm,
            source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            token_issued: None,
        }
    }

    fn facts(caller: &Caller, now: DateTime<Utc>) -> RequestFacts<'_> {
        RequestFacts { caller, now, region: REGION }
    }

    fn spec() -> LaunchSpec {
        LaunchSpec {
            image_id: "ami-374db956".to_string(),
            instance_type: "t2.micro".to_string(),
            min_count: 1,
            max_count: 1,
            ..LaunchSpec::default()
        }
    }

    fn launch_one(world: &mut World, caller: &Caller, spec: &LaunchSpec) -> String {
        let launched = launch(world, facts(caller, t0()), ACCOUNT, spec).unwrap();
        launched.instance_ids[0].clone()
    }

    fn state_at(world: &mut World, id: &str, at: DateTime<Utc>) -> InstanceStateName {
        world.run_due(at);
        instance(world, ACCOUNT, REGION, id).unwrap().state
    }

    fn secs(n: i64) -> Duration {
        Duration::seconds(n)
    }

    #[test]
    fn state_codes_are_aws_codes() {
        let codes: Vec<(i64, &str)> = InstanceStateName::ALL.iter().map(|s| (s.code(), s.name())).collect();
        assert_eq!(
            codes,
            [
                (0, "pending"),
                (16, "running"),
                (32, "shutting-down"),
                (48, "terminated"),
                (64, "stopping"),
                (80, "stopped")
            ]
        );
    }

    #[test]
    fn a_launch_is_pending_then_running_on_the_clock() {
        let mut world = World::new(BehaviourProfile::Current, t0());
        let caller = caller();
        let id = launch_one(&mut world, &caller, &spec());
        let launched = instance(&world, ACCOUNT, REGION, &id).unwrap();
        assert_eq!(launched.state, InstanceStateName::Pending);
        assert_eq!(launched.state_reason, Some(StateReason::new("pending", "pending")));
        assert_eq!(launched.availability_zone, "ap-northeast-1a");
        assert_eq!(launched.private_dns_name(REGION), "ip-172-31-0-11.ap-northeast-1.compute.internal");
        assert!(is_well_formed_id(&id, "i"), "{id}");
        assert_eq!(state_at(&mut world, &id, t0() + secs(4)), InstanceStateName::Pending);
        assert_eq!(state_at(&mut world, &id, t0() + secs(5)), InstanceStateName::Running);
        let launched = instance(&world, ACCOUNT, REGION, &id).unwrap();
        assert_eq!(launched.state_reason, None);
        assert_eq!(launched.state_transition_reason, "");
    }

    #[test]
    fn the_root_volume_comes_from_the_image_snapshot() {
        let mut world = World::new(BehaviourProfile::Current, t0());
        let caller = caller();
        let id = launch_one(&mut world, &caller, &spec());
        let launched = instance(&world, ACCOUNT, REGION, &id).unwrap().clone();
        assert_eq!(launched.root_device_name, "/dev/xvda");
        let [device] = launched.block_devices.as_slice() else { panic!("{:?}", launched.block_devices) };
        let volume = existing_volume(&world, ACCOUNT, REGION, &device.volume_id).unwrap();
        assert_eq!((volume.size, volume.volume_type.as_str(), volume.encrypted), (8, "gp2", false));
        assert_eq!(volume.state, VolumeState::InUse);
        assert_eq!(volume.snapshot_id.as_deref(), Some("snap-0a1b2c3d4e5f60001"));
    }

    #[test]
    fn stop_start_terminate_follow_the_clock() {
        let mut world = World::new(BehaviourProfile::Current, t0());
        let caller = caller();
        let id = launch_one(&mut world, &caller, &spec());
        world.run_due(t0() + secs(5));
        let at = t0() + secs(10);
        let changes = stop_instances(&mut world, ACCOUNT, REGION, &[&id], at).unwrap();
        assert_eq!(
            changes,
            [StateChange {
                instance_id: id.clone(),
                previous: InstanceStateName::Running,
                current: InstanceStateName::Stopping
            }]
        );
        assert_eq!(state_at(&mut world, &id, at + secs(5)), InstanceStateName::Stopped);
        let stopped = instance(&world, ACCOUNT, REGION, &id).unwrap();
        assert_eq!(stopped.state_transition_reason, "User initiated (2024-05-01 12:00:10 GMT)");
        assert_eq!(stopped.state_reason.as_ref().unwrap().code, "Client.UserInitiatedShutdown");

        let at = t0() + secs(20);
        let changes = start_instances(&mut world, facts(&caller, at), ACCOUNT, &[&id]).unwrap();
        assert_eq!((changes[0].previous, changes[0].current), (InstanceStateName::Stopped, InstanceStateName::Pending));
        assert_eq!(state_at(&mut world, &id, at + secs(5)), InstanceStateName::Running);

        let at = t0() + secs(30);
        let changes = terminate_instances(&mut world, ACCOUNT, REGION, &[&id], at).unwrap();
        assert_eq!(changes[0].current, InstanceStateName::ShuttingDown);
        assert_eq!(state_at(&mut world, &id, at + secs(5)), InstanceStateName::Terminated);
        // Terminated instances stay visible; their delete-on-termination volumes are gone.
        let terminated = instance(&world, ACCOUNT, REGION, &id).unwrap();
        assert!(terminated.block_devices.is_empty());
        assert!(state(&world, ACCOUNT, REGION).unwrap().volumes.is_empty());
        // Terminating again answers terminated → terminated.
        let again = terminate_instances(&mut world, ACCOUNT, REGION, &[&id], at + secs(6)).unwrap();
        assert_eq!(
            (again[0].previous, again[0].current),
            (InstanceStateName::Terminated, InstanceStateName::Terminated)
        );
    }

    #[test]
    fn invalid_transitions_are_incorrect_instance_state() {
        let mut world = World::new(BehaviourProfile::Current, t0());
        let caller = caller();
        let id = launch_one(&mut world, &caller, &spec());
        let error = stop_instances(&mut world, ACCOUNT, REGION, &[&id], t0()).unwrap_err();
        assert_eq!(error.code, "IncorrectInstanceState");
        assert_eq!(error.message, format!("This instance '{id}' is not in a state from which it can be stopped."));
        terminate_instances(&mut world, ACCOUNT, REGION, &[&id], t0()).unwrap();
        let error = start_instances(&mut world, facts(&caller, t0()), ACCOUNT, &[&id]).unwrap_err();
        assert_eq!(error.message, format!("The instance '{id}' is not in a state from which it can be started."));
        // Starting a running instance is a no-op that answers running → running.
        let other = launch_one(&mut world, &caller, &spec());
        world.run_due(t0() + secs(5));
        let changes = start_instances(&mut world, facts(&caller, t0() + secs(5)), ACCOUNT, &[&other]).unwrap();
        assert_eq!((changes[0].previous, changes[0].current), (InstanceStateName::Running, InstanceStateName::Running));
    }

    #[test]
    fn a_termination_during_pending_overtakes_the_scheduled_running() {
        let mut world = World::new(BehaviourProfile::Current, t0());
        let caller = caller();
        let id = launch_one(&mut world, &caller, &spec());
        terminate_instances(&mut world, ACCOUNT, REGION, &[&id], t0() + secs(1)).unwrap();
        assert_eq!(state_at(&mut world, &id, t0() + secs(5)), InstanceStateName::ShuttingDown);
        assert_eq!(state_at(&mut world, &id, t0() + secs(6)), InstanceStateName::Terminated);
    }

    #[test]
    fn unknown_and_malformed_ids_have_aws_texts() {
        let world = World::new(BehaviourProfile::Current, t0());
        let ids = vec!["i-0123456789abcdef0".to_string()];
        let error = existing_instances(&world, ACCOUNT, REGION, &ids).unwrap_err();
        assert_eq!(
            (error.code.as_ref(), error.message.as_str(), error.status),
            ("InvalidInstanceID.NotFound", "The instance ID 'i-0123456789abcdef0' does not exist", 400)
        );
        let ids = vec!["i-0123456789abcdef0".to_string(), "i-0123456789abcdef1".to_string()];
        let error = existing_instances(&world, ACCOUNT, REGION, &ids).unwrap_err();
        assert_eq!(error.message, "The instance IDs 'i-0123456789abcdef0, i-0123456789abcdef1' do not exist");
        let ids = vec!["web-1".to_string()];
        let error = existing_instances(&world, ACCOUNT, REGION, &ids).unwrap_err();
        assert_eq!(
            (error.code.as_ref(), error.message.as_str()),
            ("InvalidInstanceID.Malformed", "Invalid id: \"web-1\"")
        );
        let error = find_image(&world, ACCOUNT, REGION, "ami-12345678").unwrap_err();
        assert_eq!(
            (error.code.as_ref(), error.message.as_str()),
            ("InvalidAMIID.NotFound", "The image id '[ami-12345678]' does not exist")
        );
        let error = find_image(&world, ACCOUNT, REGION, "ami-xyz").unwrap_err();
        assert_eq!(error.code, "InvalidAMIID.Malformed");
        let error = existing_volume(&world, ACCOUNT, REGION, "vol-0123456789abcdef0").unwrap_err();
        assert_eq!(error.message, "The volume 'vol-0123456789abcdef0' does not exist.");
    }

    #[test]
    fn encrypted_volumes_get_the_named_key_or_the_default_one() {
        let mut world = World::new(BehaviourProfile::Current, t0());
        let caller = caller();
        let mut launch_spec = spec();
        launch_spec.block_devices = vec![
            BlockDeviceSpec {
                device_name: "/dev/xvda".to_string(),
                no_device: false,
                ebs: Some(EbsSpec {
                    encrypted: Some(true),
                    kms_key_id: Some("1234abcd-12ab-34cd-56ef-1234567890ab".to_string()),
                    ..EbsSpec::default()
                }),
            },
            BlockDeviceSpec {
                device_name: "/dev/sdf".to_string(),
                no_device: false,
                ebs: Some(EbsSpec {
                    volume_size: Some(20),
                    volume_type: Some("gp3".to_string()),
                    encrypted: Some(true),
                    delete_on_termination: Some(false),
                    ..EbsSpec::default()
                }),
            },
        ];
        let id = launch_one(&mut world, &caller, &launch_spec);
        let devices = instance(&world, ACCOUNT, REGION, &id).unwrap().block_devices.clone();
        let root = existing_volume(&world, ACCOUNT, REGION, &devices[0].volume_id).unwrap();
        assert_eq!(
            root.kms_key_id.as_deref(),
            Some("arn:aws:kms:ap-northeast-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab")
        );
        let data = existing_volume(&world, ACCOUNT, REGION, &devices[1].volume_id).unwrap().clone();
        assert!(data.encrypted);
        assert_eq!(data.kms_key_id, Some(default_ebs_key_arn(&mut world, ACCOUNT, REGION)));
        assert_eq!((data.size, data.iops, data.throughput), (20, Some(3000), Some(125)));
        // Terminating keeps the volume that was not to be deleted, detached.
        terminate_instances(&mut world, ACCOUNT, REGION, &[&id], t0()).unwrap();
        world.run_due(t0() + secs(5));
        let volumes = &state(&world, ACCOUNT, REGION).unwrap().volumes;
        assert_eq!(volumes.keys().collect::<Vec<_>>(), [&devices[1].volume_id]);
        assert_eq!(volumes[&devices[1].volume_id].state, VolumeState::Available);
    }

    #[test]
    fn a_key_without_encrypted_is_refused_and_smaller_than_snapshot_too() {
        let mut world = World::new(BehaviourProfile::Current, t0());
        let caller = caller();
        let mut launch_spec = spec();
        launch_spec.block_devices = vec![BlockDeviceSpec {
            device_name: "/dev/xvda".to_string(),
            no_device: false,
            ebs: Some(EbsSpec { kms_key_id: Some("alias/mine".to_string()), ..EbsSpec::default() }),
        }];
        let error = launch(&mut world, facts(&caller, t0()), ACCOUNT, &launch_spec).unwrap_err();
        assert_eq!(error.code, "InvalidParameterDependency");
        launch_spec.block_devices[0].ebs = Some(EbsSpec { volume_size: Some(4), ..EbsSpec::default() });
        let error = launch(&mut world, facts(&caller, t0()), ACCOUNT, &launch_spec).unwrap_err();
        assert_eq!(error.code, "InvalidBlockDeviceMapping");
        assert!(state(&world, ACCOUNT, REGION).is_none_or(|s| s.instances.is_empty()));
    }

    #[test]
    fn encryption_by_default_encrypts_new_volumes_with_the_default_key() {
        let mut world = World::new(BehaviourProfile::Current, t0());
        assert!(!ebs_encryption_by_default(&world, ACCOUNT, REGION));
        assert_eq!(ebs_default_kms_key_id(&world, ACCOUNT, REGION), "alias/aws/ebs");
        set_ebs_encryption_by_default(&mut world, ACCOUNT, REGION, true);
        set_ebs_default_kms_key_id(
            &mut world,
            ACCOUNT,
            REGION,
            Some("arn:aws:kms:ap-northeast-1:111111111111:key/k1".into()),
        );
        let spec = VolumeSpec { availability_zone: "ap-northeast-1a".into(), size: Some(10), ..VolumeSpec::default() };
        let caller = caller();
        let id = create_volume(&mut world, facts(&caller, t0()), ACCOUNT, &spec).unwrap();
        let volume = existing_volume(&world, ACCOUNT, REGION, &id).unwrap();
        assert_eq!(volume.state, VolumeState::Creating);
        assert_eq!(volume.kms_key_id.as_deref(), Some("arn:aws:kms:ap-northeast-1:111111111111:key/k1"));
        world.run_due(t0() + secs(1));
        assert_eq!(existing_volume(&world, ACCOUNT, REGION, &id).unwrap().state, VolumeState::Available);
        delete_volume(&mut world, ACCOUNT, REGION, &id).unwrap();
        assert_eq!(delete_volume(&mut world, ACCOUNT, REGION, &id).unwrap_err().code, "InvalidVolume.NotFound");
    }

    #[test]
    fn attached_volumes_cannot_be_deleted() {
        let mut world = World::new(BehaviourProfile::Current, t0());
        let caller = caller();
        let id = launch_one(&mut world, &caller, &spec());
        let volume_id = instance(&world, ACCOUNT, REGION, &id).unwrap().block_devices[0].volume_id.clone();
        let error = delete_volume(&mut world, ACCOUNT, REGION, &volume_id).unwrap_err();
        assert_eq!(
            (error.code.as_ref(), error.message.clone()),
            ("VolumeInUse", format!("Volume {volume_id} is currently attached to {id}"))
        );
    }

    /// A caller whose account has no policy for it: IAM allows it nothing.
    fn outsider() -> Caller {
        let mut outsider = caller();
        outsider.principal = Principal::User {
            account: ACCOUNT.to_string(),
            name: "automation".to_string(),
            path: "/".to_string(),
            user_id: "AIDAWANAEXAMPLE000002".to_string(),
        };
        outsider
    }

    /// A customer managed key with the default key policy (the account delegates to IAM).
    fn customer_key(world: &mut World, admin: &Caller) -> String {
        super::super::kms::create_key(world, facts(admin, t0()), super::super::kms::NewKey::default()).unwrap().arn
    }

    fn encrypted_root(key: &str) -> LaunchSpec {
        let mut launch_spec = spec();
        launch_spec.block_devices = vec![BlockDeviceSpec {
            device_name: "/dev/xvda".to_string(),
            no_device: false,
            ebs: Some(EbsSpec { encrypted: Some(true), kms_key_id: Some(key.to_string()), ..EbsSpec::default() }),
        }];
        launch_spec
    }

    #[test]
    fn a_caller_that_may_not_use_the_key_gets_pending_then_terminated() {
        let mut world = World::new(BehaviourProfile::Current, t0());
        let admin = caller();
        let key = customer_key(&mut world, &admin);
        let outsider = outsider();
        let id = launch_one(&mut world, &outsider, &encrypted_root(&key));
        assert_eq!(instance(&world, ACCOUNT, REGION, &id).unwrap().state, InstanceStateName::Pending);
        let denied = last_launch_failure(&world, ACCOUNT, REGION, &id).cloned().unwrap();
        assert_eq!((denied.action.as_str(), denied.key_arn.as_str()), ("kms:CreateGrant", key.as_str()));
        assert_eq!(state_at(&mut world, &id, t0() + secs(5)), InstanceStateName::ShuttingDown);
        assert_eq!(state_at(&mut world, &id, t0() + secs(10)), InstanceStateName::Terminated);
        let terminated = instance(&world, ACCOUNT, REGION, &id).unwrap();
        assert_eq!(terminated.state_reason, Some(StateReason::client_error_on_launch()));
        assert_eq!(terminated.state_transition_reason, "Client.InternalError: Client error on launch");

        // The same launch by a caller whose IAM allows the key (the administrator) runs.
        let id = launch_one(&mut world, &admin, &encrypted_root(&key));
        assert_eq!(last_launch_failure(&world, ACCOUNT, REGION, &id), None);
        assert_eq!(state_at(&mut world, &id, t0() + secs(5)), InstanceStateName::Running);
    }

    #[test]
    fn a_start_by_a_caller_that_may_not_use_the_key_falls_back_to_stopped() {
        let mut world = World::new(BehaviourProfile::Current, t0());
        let admin = caller();
        let key = customer_key(&mut world, &admin);
        let id = launch_one(&mut world, &admin, &encrypted_root(&key));
        world.run_due(t0() + secs(5));
        stop_instances(&mut world, ACCOUNT, REGION, &[&id], t0() + secs(5)).unwrap();
        world.run_due(t0() + secs(10));

        let outsider = outsider();
        let changes = start_instances(&mut world, facts(&outsider, t0() + secs(10)), ACCOUNT, &[&id]).unwrap();
        assert_eq!((changes[0].previous, changes[0].current), (InstanceStateName::Stopped, InstanceStateName::Pending));
        assert_eq!(state_at(&mut world, &id, t0() + secs(15)), InstanceStateName::Stopped);
        let stopped = instance(&world, ACCOUNT, REGION, &id).unwrap();
        assert_eq!(stopped.state_reason, Some(StateReason::client_error_on_launch()));
        assert_eq!(stopped.state_transition_reason, "Client.InternalError: Client error on launch");
        assert_eq!(
            last_launch_failure(&world, ACCOUNT, REGION, &id).map(|d| d.action.as_str()),
            Some("kms:CreateGrant")
        );
        // Its volumes stay: a failed start is not a termination.
        assert_eq!(stopped.block_devices.len(), 1);

        let changes = start_instances(&mut world, facts(&admin, t0() + secs(20)), ACCOUNT, &[&id]).unwrap();
        assert_eq!(changes[0].current, InstanceStateName::Pending);
        assert_eq!(state_at(&mut world, &id, t0() + secs(25)), InstanceStateName::Running);
        assert_eq!(last_launch_failure(&world, ACCOUNT, REGION, &id), None);
        assert_eq!(instance(&world, ACCOUNT, REGION, &id).unwrap().state_reason, None);
    }

    #[test]
    fn alarm_actions_act_without_authorization() {
        let mut world = World::new(BehaviourProfile::Current, t0());
        let caller = caller();
        let id = launch_one(&mut world, &caller, &spec());
        let error =
            perform_instance_action(&mut world, ACCOUNT, REGION, &id, InstanceAction::Recover, t0()).unwrap_err();
        assert_eq!(error.code, "IncorrectInstanceState");
        world.run_due(t0() + secs(5));
        perform_instance_action(&mut world, ACCOUNT, REGION, &id, InstanceAction::Recover, t0() + secs(6)).unwrap();
        perform_instance_action(&mut world, ACCOUNT, REGION, &id, InstanceAction::Reboot, t0() + secs(6)).unwrap();
        let recovered = instance(&world, ACCOUNT, REGION, &id).unwrap();
        assert_eq!((recovered.state, recovered.recoveries.len()), (InstanceStateName::Running, 1));
        perform_instance_action(&mut world, ACCOUNT, REGION, &id, InstanceAction::Stop, t0() + secs(7)).unwrap();
        assert_eq!(state_at(&mut world, &id, t0() + secs(12)), InstanceStateName::Stopped);
        let missing =
            perform_instance_action(&mut world, ACCOUNT, REGION, "i-0000000000000ffff", InstanceAction::Recover, t0());
        assert_eq!(missing.unwrap_err().code, "InvalidInstanceID.NotFound");
    }

    #[test]
    fn zone_ids_follow_aws_naming() {
        assert_eq!(zone_id("us-east-1a"), "use1-az1");
        assert_eq!(zone_id("ap-northeast-1c"), "apne1-az3");
    }
}
