//! EBS snapshots: their model, CreateSnapshot (from a volume), CopySnapshot (re-encrypting on
//! the way), DeleteSnapshot, the create volume permissions, which snapshots an account sees or
//! may restore, and the encryption a copy gets (which CopyImage shares).
//!
//! Facts (botocore ec2 2016-11-15, AWS API reference and user guides, public error reports):
//! * states `pending`, `completed`, `error` (`SnapshotState`); a copy has the arbitrary volume id
//!   `vol-ffffffff` and, without a description, `[Copied snap-… from <region>]`;
//! * `InvalidSnapshot.NotFound` "The snapshot 'snap-…' does not exist.";
//!   `InvalidSnapshot.InUse` "The snapshot snap-… is currently in use by ami-…";
//!   sharing a snapshot encrypted with `aws/ebs`: `OperationNotPermitted` "Encrypted snapshots
//!   with EBS default key cannot be shared"; a copy that may not use its key ends in `error`
//!   with the state message "Given key ID is not accessible";
//! * a copy of an encrypted snapshot stays encrypted: with the same key when the caller owns the
//!   source, with the caller's default EBS key when the source is shared with it, or with the
//!   `KmsKeyId` given (which needs `Encrypted`); an unencrypted source is encrypted when asked or
//!   when the account encrypts by default. EBS uses the source's key and the copy's key as the
//!   caller (a forward access session), like a volume's key at launch.
//!
//! Chosen, not confirmed: `InvalidSnapshotID.Malformed` `Invalid id: "x" (expecting "snap-...")`
//! (by analogy with volume ids); a snapshot completes 10 s after it is started; CreateSnapshot
//! makes no KMS call (the snapshot keeps the volume's key and data key); copying a snapshot that
//! is not `completed` is `IncorrectState`; acting on a snapshot shared with the caller but not
//! owned by it is `AuthFailure` "Not authorized for snapshot:snap-…" (by analogy with images);
//! making an encrypted snapshot public is `OperationNotPermitted` "Encrypted snapshots cannot be
//! shared publicly" (AWS documents the rule, not the text).

use chrono::{DateTime, Duration, Utc};

use super::super::kms::{key as kms_key, parse_key_arn, KeyManager};
use super::launch::{distinct_keys, use_keys};
use super::sharing::{self, Permission, PermissionChange};
use super::volumes::{default_volume_key, key_needs_encrypted};
use super::{
    ebs_encryption_by_default, existing_volume, is_well_formed_id, public_images, schedule, volume_key_arn, Event,
    KeyUseDenied, SnapshotRef, Tag, World,
};
use crate::{authz::RequestFacts, error::AwsError};

/// How long a new snapshot (or copy) stays `pending`.
pub const SNAPSHOT_COMPLETION_SECONDS: i64 = 10;

/// The volume id AWS gives copies ("an arbitrary volume ID that should not be used").
const COPY_VOLUME_ID: &str = "vol-ffffffff";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotState {
    Pending,
    Completed,
    Error,
}

impl SnapshotState {
    pub fn name(self) -> &'static str {
        match self {
            SnapshotState::Pending => "pending",
            SnapshotState::Completed => "completed",
            SnapshotState::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub id: String,
    pub volume_id: String,
    /// GiB.
    pub volume_size: i64,
    pub state: SnapshotState,
    pub state_message: Option<String>,
    pub start_time: DateTime<Utc>,
    pub completion_time: Option<DateTime<Utc>>,
    pub owner_id: String,
    pub description: String,
    pub encrypted: bool,
    /// The key's ARN, when encrypted.
    pub kms_key_id: Option<String>,
    pub tags: Vec<Tag>,
    /// The group `all` may create volumes from it.
    pub public: bool,
    /// Accounts allowed to create volumes from it besides its owner.
    pub create_volume_permissions: Vec<String>,
    /// Why a copy could not use its keys, decided at request time and shown when it ends.
    pub failure: Option<KeyUseDenied>,
}

impl Snapshot {
    pub fn progress(&self) -> &'static str {
        match self.state {
            SnapshotState::Completed => "100%",
            SnapshotState::Pending | SnapshotState::Error => "0%",
        }
    }

    /// Whether an account may see it and create volumes (or images) from it.
    pub fn restorable_by(&self, account: &str) -> bool {
        self.owner_id == account || self.public || self.create_volume_permissions.iter().any(|a| a == account)
    }

    /// What an image's block device records of it.
    pub fn reference(&self) -> SnapshotRef {
        SnapshotRef {
            snapshot_id: self.id.clone(),
            size: self.volume_size,
            encrypted: self.encrypted,
            kms_key_id: self.kms_key_id.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors.

pub fn malformed_snapshot_id(id: &str) -> AwsError {
    AwsError::new("InvalidSnapshotID.Malformed", 400, format!("Invalid id: \"{id}\" (expecting \"snap-...\")"))
}

pub fn snapshot_not_found(id: &str) -> AwsError {
    AwsError::new("InvalidSnapshot.NotFound", 400, format!("The snapshot '{id}' does not exist."))
}

fn snapshot_in_use(id: &str, image_id: &str) -> AwsError {
    AwsError::new("InvalidSnapshot.InUse", 400, format!("The snapshot {id} is currently in use by {image_id}"))
}

fn not_authorized_for_snapshot(id: &str) -> AwsError {
    AwsError::new("AuthFailure", 400, format!("Not authorized for snapshot:{id}"))
}

/// The state message of a snapshot copy that could not use its keys.
pub const KEY_NOT_ACCESSIBLE: &str = "Given key ID is not accessible";

// ---------------------------------------------------------------------------------------------
// Lookups.

/// Every account's snapshots in a region.
fn region_snapshots<'w>(world: &'w World, region: &'w str) -> impl Iterator<Item = &'w Snapshot> + 'w {
    world.accounts.values().filter_map(move |a| a.regions.get(region)).flat_map(|r| r.ec2.snapshots.values())
}

/// The snapshots an account sees: its own, public ones, and those shared with it.
pub fn visible_snapshots(world: &World, account: &str, region: &str) -> Vec<Snapshot> {
    region_snapshots(world, region).filter(|s| s.restorable_by(account)).cloned().collect()
}

/// A snapshot the account sees.
pub fn find_snapshot(world: &World, account: &str, region: &str, id: &str) -> Result<Snapshot, AwsError> {
    if !is_well_formed_id(id, "snap") {
        return Err(malformed_snapshot_id(id));
    }
    region_snapshots(world, region)
        .find(|s| s.id == id && s.restorable_by(account))
        .cloned()
        .ok_or_else(|| snapshot_not_found(id))
}

/// A snapshot the account owns (one it only sees is `AuthFailure`).
pub fn owned_snapshot(world: &World, account: &str, region: &str, id: &str) -> Result<Snapshot, AwsError> {
    let snapshot = find_snapshot(world, account, region, id)?;
    if snapshot.owner_id != account {
        return Err(not_authorized_for_snapshot(id));
    }
    Ok(snapshot)
}

/// A snapshot a new volume or image may come from: one the account may restore, or one behind
/// a public image of Amazon's catalogue (whose snapshots are not listed on their own).
pub fn restorable_snapshot(world: &World, account: &str, region: &str, id: &str) -> Result<SnapshotRef, AwsError> {
    if let Ok(snapshot) = find_snapshot(world, account, region, id) {
        return Ok(snapshot.reference());
    }
    public_images()
        .into_iter()
        .flat_map(|image| image.block_devices)
        .map(|device| device.snapshot)
        .find(|snapshot| snapshot.snapshot_id == id)
        .ok_or_else(|| if is_well_formed_id(id, "snap") { snapshot_not_found(id) } else { malformed_snapshot_id(id) })
}

/// Whether a snapshot behind an image may be copied by `account`: catalogue snapshots are
/// public, modelled ones follow their create volume permissions.
pub(super) fn readable_by(world: &World, region: &str, snapshot_id: &str, account: &str) -> bool {
    match region_snapshots(world, region).find(|s| s.id == snapshot_id) {
        Some(snapshot) => snapshot.restorable_by(account),
        None => true,
    }
}

/// The state of a snapshot behind an image (catalogue snapshots are always `completed`).
pub(super) fn snapshot_state(world: &World, region: &str, snapshot_id: &str) -> SnapshotState {
    region_snapshots(world, region).find(|s| s.id == snapshot_id).map_or(SnapshotState::Completed, |s| s.state)
}

/// Whether a key is an AWS managed key (`aws/ebs`), which AWS will not let other accounts use.
pub(super) fn is_aws_managed_key(world: &World, key_arn: &str) -> bool {
    parse_key_arn(key_arn).and_then(|addr| kms_key(world, &addr).map(|k| k.manager == KeyManager::Aws)).unwrap_or(false)
}

// ---------------------------------------------------------------------------------------------
// Operations.

/// Stores a new `pending` snapshot and schedules its end.
pub(super) fn insert_snapshot(world: &mut World, region: &str, snapshot: Snapshot, now: DateTime<Utc>) {
    let (account, id) = (snapshot.owner_id.clone(), snapshot.id.clone());
    if let Some(regional) = world.regional_mut(&account, region) {
        regional.ec2.snapshots.insert(id.clone(), snapshot);
    }
    let at = now + Duration::seconds(SNAPSHOT_COMPLETION_SECONDS);
    schedule(world, at, &account, region, Event::SnapshotSettled { snapshot_id: id });
}

/// A new snapshot record of `account`, `pending` from `now`.
pub(super) fn new_snapshot(id: String, account: &str, volume_id: &str, now: DateTime<Utc>) -> Snapshot {
    Snapshot {
        id,
        volume_id: volume_id.to_string(),
        volume_size: 0,
        state: SnapshotState::Pending,
        state_message: None,
        start_time: now,
        completion_time: None,
        owner_id: account.to_string(),
        description: String::new(),
        encrypted: false,
        kms_key_id: None,
        tags: Vec::new(),
        public: false,
        create_volume_permissions: Vec::new(),
        failure: None,
    }
}

/// CreateSnapshot: a `pending` snapshot of a volume of the account, with its size, encryption
/// and key.
pub fn create_snapshot(
    world: &mut World,
    facts: RequestFacts<'_>,
    account: &str,
    volume_id: &str,
    description: &str,
    tags: Vec<Tag>,
) -> Result<String, AwsError> {
    let volume = existing_volume(world, account, facts.region, volume_id)?.clone();
    let mut snapshot = new_snapshot(world.ids.hex_id("snap"), account, volume_id, facts.now);
    snapshot.volume_size = volume.size;
    snapshot.encrypted = volume.encrypted;
    snapshot.kms_key_id = volume.kms_key_id;
    snapshot.description = description.to_string();
    snapshot.tags = tags;
    let id = snapshot.id.clone();
    insert_snapshot(world, facts.region, snapshot, facts.now);
    Ok(id)
}

/// A CopySnapshot request.
#[derive(Debug, Clone, Default)]
pub struct SnapshotCopy<'a> {
    pub source_region: &'a str,
    pub source_snapshot_id: &'a str,
    pub description: Option<&'a str>,
    pub encrypted: Option<bool>,
    pub kms_key_id: Option<&'a str>,
    pub tags: Vec<Tag>,
}

/// The encryption of a copy of `source` made by `account` (see the module's facts).
pub(super) fn copy_encryption(
    world: &mut World,
    facts: RequestFacts<'_>,
    account: &str,
    source: &SnapshotRef,
    source_owner: &str,
    encrypted: Option<bool>,
    kms_key_id: Option<&str>,
) -> Result<(bool, Option<String>), AwsError> {
    if kms_key_id.is_some() && encrypted != Some(true) {
        return Err(key_needs_encrypted());
    }
    if let Some(key) = kms_key_id {
        return Ok((true, Some(volume_key_arn(world, facts, key))));
    }
    if source.encrypted && source_owner == account {
        return Ok((true, source.kms_key_id.clone()));
    }
    if source.encrypted || encrypted == Some(true) || ebs_encryption_by_default(world, account, facts.region) {
        return Ok((true, Some(default_volume_key(world, account, facts.region, facts.now))));
    }
    Ok((false, None))
}

/// The keys EBS uses, as the caller, to copy `source` to a copy encrypted with `target`: the
/// source's key (to read it), then the copy's.
pub(super) fn copy_key_uses(source: &SnapshotRef, target: Option<&str>) -> Vec<String> {
    let from = source.kms_key_id.iter().filter(|_| source.encrypted).cloned();
    distinct_keys(from.chain(target.map(str::to_string)))
}

/// CopySnapshot: a `pending` copy in the caller's account and region. The keys are used as the
/// caller now; a refusal ends the copy in `error` when it would have completed.
pub fn copy_snapshot(
    world: &mut World,
    facts: RequestFacts<'_>,
    account: &str,
    copy: &SnapshotCopy<'_>,
) -> Result<String, AwsError> {
    let source = find_snapshot(world, account, copy.source_region, copy.source_snapshot_id)?;
    if source.state != SnapshotState::Completed {
        return Err(AwsError::new(
            "IncorrectState",
            400,
            format!("The snapshot '{}' is not in the completed state.", source.id),
        ));
    }
    let reference = source.reference();
    let (encrypted, kms_key_id) =
        copy_encryption(world, facts, account, &reference, &source.owner_id, copy.encrypted, copy.kms_key_id)?;
    let failure = use_keys(world, facts, &copy_key_uses(&reference, kms_key_id.as_deref()));
    let mut snapshot = new_snapshot(world.ids.hex_id("snap"), account, COPY_VOLUME_ID, facts.now);
    snapshot.volume_size = source.volume_size;
    snapshot.encrypted = encrypted;
    snapshot.kms_key_id = kms_key_id;
    snapshot.description = copy
        .description
        .map(str::to_string)
        .unwrap_or_else(|| format!("[Copied {} from {}]", source.id, copy.source_region));
    snapshot.tags = copy.tags.clone();
    snapshot.failure = failure;
    let id = snapshot.id.clone();
    insert_snapshot(world, facts.region, snapshot, facts.now);
    Ok(id)
}

/// DeleteSnapshot: a snapshot of the account that no image of it is registered with.
pub fn delete_snapshot(world: &mut World, account: &str, region: &str, id: &str) -> Result<(), AwsError> {
    owned_snapshot(world, account, region, id)?;
    let Some(regional) = world.regional_mut(account, region) else {
        return Err(snapshot_not_found(id));
    };
    if let Some(image) = regional.ec2.images.values().find(|i| i.block_devices.iter().any(|d| d.snapshot.snapshot_id == id)) {
        return Err(snapshot_in_use(id, &image.id));
    }
    regional.ec2.snapshots.remove(id);
    Ok(())
}

/// ModifySnapshotAttribute `createVolumePermission`.
pub fn modify_create_volume_permission(
    world: &mut World,
    account: &str,
    region: &str,
    id: &str,
    change: &PermissionChange,
) -> Result<(), AwsError> {
    let snapshot = owned_snapshot(world, account, region, id)?;
    sharing::validate(change)?;
    if snapshot.encrypted && change.makes_public() {
        return Err(AwsError::new("OperationNotPermitted", 400, "Encrypted snapshots cannot be shared publicly"));
    }
    let key = snapshot.kms_key_id.as_deref().filter(|_| snapshot.encrypted);
    if !change.add.is_empty() && key.is_some_and(|k| is_aws_managed_key(world, k)) {
        return Err(AwsError::new("OperationNotPermitted", 400, "Encrypted snapshots with EBS default key cannot be shared"));
    }
    if let Some(stored) = world.regional_mut(account, region).and_then(|r| r.ec2.snapshots.get_mut(id)) {
        sharing::apply(&mut stored.public, &mut stored.create_volume_permissions, change);
    }
    Ok(())
}

/// DescribeSnapshotAttribute `createVolumePermission`.
pub fn create_volume_permissions(world: &World, account: &str, region: &str, id: &str) -> Result<Vec<Permission>, AwsError> {
    let snapshot = owned_snapshot(world, account, region, id)?;
    Ok(sharing::permissions(snapshot.public, &snapshot.create_volume_permissions))
}

/// The end of `pending`: `completed`, or `error` for a copy whose keys could not be used.
pub(super) fn settle_snapshot(world: &mut World, account: &str, region: &str, id: &str, at: DateTime<Utc>) {
    let Some(snapshot) = world
        .regional_mut(account, region)
        .and_then(|r| r.ec2.snapshots.get_mut(id))
        .filter(|s| s.state == SnapshotState::Pending)
    else {
        return;
    };
    if snapshot.failure.is_some() {
        snapshot.state = SnapshotState::Error;
        snapshot.state_message = Some(KEY_NOT_ACCESSIBLE.to_string());
    } else {
        snapshot.state = SnapshotState::Completed;
        snapshot.completion_time = Some(at);
    }
}
