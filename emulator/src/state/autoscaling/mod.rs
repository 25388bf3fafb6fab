//! EC2 Auto Scaling of one account in one region: launch configurations, Auto Scaling groups with
//! their instances, and the scaling activities that launch and terminate those instances on the
//! emulator clock.
//!
//! A group never launches as its caller: every launch is EC2's `RunInstances`, called through the
//! port ([`crate::port`]) as a session of the group's service-linked role
//! (`AWSServiceRoleForAutoScaling`, assumed by `autoscaling.amazonaws.com` through its trust
//! policy). EC2 then uses each encrypted volume's KMS key as that role session, so the key policy,
//! the role's fixed policy and the grants on the key decide whether the instance starts; nothing
//! in this folder decides access (shared/aws-traps.md, Trap 2, "Why").
//!
//! Facts this follows (botocore `autoscaling/2011-01-01/service-2.json`; public error reports):
//! * a group's instances are `Pending`, then `InService` once EC2 says `running`; scaling
//!   activities carry `Description` "Launching a new EC2 instance: i-…", `Cause` "At <ts> an
//!   instance was started in response to a difference between desired and actual capacity,
//!   increasing the capacity from 0 to 1." (after the sentence of the user request that changed
//!   the desired capacity, joined with two spaces, as AWS writes them), `Details` a JSON object
//!   with `Subnet ID` and `Availability Zone`;
//! * an instance that ends `terminated` instead of `running` fails its activity with "Instance
//!   became unhealthy while waiting for instance to be in InService state. Termination Reason:
//!   Client.InternalError: Client error on launch" (Trap 2; the 2025 wording is chosen by the
//!   behaviour profile in `activities`);
//! * a `RunInstances` that EC2 refuses fails the activity at once: "Launching a new EC2 instance.
//!   Status Reason: <EC2's message>. Launching EC2 instance failed." (public activity dumps).
//!
//! Chosen where AWS is not confirmed, and written where the rule lives: the `Failed` status of a
//! launch whose instance terminated (public reports also show `Cancelled`), the retry backoff, the
//! delays, the wording of scale-in and force-delete causes, and the availability zone of a subnet
//! (no VPC is emulated: the i-th subnet of `VPCZoneIdentifier` lies in the region's i-th zone).
//!
//! This file holds the model, the per-account [`State`], the scheduled [`Event`]s and the
//! errors; `groups` holds the group and launch configuration operations, `activities` the
//! activity texts, and `launching` the launches, terminations and retries.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::{scheduler::Due, World};
use crate::{error::AwsError, ids::IdGenerator};

mod activities;
mod groups;
mod launching;
#[cfg(test)]
mod tests;

pub use activities::{failed_launch_reason, KMS_LAUNCH_FAILURE_2025, UNHEALTHY_WHILE_WAITING};
pub use groups::{
    check_new_group, check_sizes, create_group, create_launch_configuration, delete_group, delete_launch_configuration,
    placement, set_desired_capacity, update_group, DeleteOutcome, GroupUpdate, NewGroup, DEFAULT_COOLDOWN,
};
pub use launching::{retry_delay, FIRST_RETRY_SECONDS, MAX_RETRY_SECONDS};

// ---------------------------------------------------------------------------------------------
// The service, its role, and timing.

/// Auto Scaling's service principal: it assumes the service-linked role.
pub const AUTOSCALING_SERVICE: &str = "autoscaling.amazonaws.com";
/// The default service-linked role of Auto Scaling.
pub const SERVICE_LINKED_ROLE: &str = "AWSServiceRoleForAutoScaling";
/// The session name of the role's sessions, as CloudTrail shows them
/// (`assumed-role/AWSServiceRoleForAutoScaling/AutoScaling`, aws-cdk issue 34491).
pub const SESSION_NAME: &str = "AutoScaling";

/// How long after a user request the group acts on it. AWS's causes show one to a few seconds
/// between the request and the launch (`…25Z a user request created…  At …29Z an instance was
/// started…`); chosen.
pub const REACTION_SECONDS: i64 = 2;
/// How often a group looks at an instance it waits for. EC2's transitions take 5 s here.
pub const WATCH_SECONDS: i64 = 5;
/// `Progress` of an activity that is still running (chosen; AWS shows values such as 30).
pub const PROGRESS_IN_PROGRESS: i64 = 30;

// ---------------------------------------------------------------------------------------------
// Launch configurations.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ebs {
    pub snapshot_id: Option<String>,
    pub volume_size: Option<i64>,
    pub volume_type: Option<String>,
    pub delete_on_termination: Option<bool>,
    pub iops: Option<i64>,
    /// A launch configuration can ask for encryption but cannot name a key: EC2 uses the
    /// account's default EBS key (the key of an encrypted snapshot for a snapshot's volume).
    pub encrypted: Option<bool>,
    pub throughput: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockDeviceMapping {
    pub device_name: String,
    pub virtual_name: Option<String>,
    pub no_device: bool,
    pub ebs: Option<Ebs>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchConfiguration {
    pub name: String,
    pub arn: String,
    pub image_id: String,
    pub instance_type: String,
    pub key_name: Option<String>,
    pub security_groups: Vec<String>,
    pub user_data: Option<String>,
    pub block_devices: Vec<BlockDeviceMapping>,
    /// The instance profile's name or ARN, as given.
    pub iam_instance_profile: Option<String>,
    pub instance_monitoring: bool,
    pub ebs_optimized: bool,
    pub associate_public_ip_address: Option<bool>,
    pub created: DateTime<Utc>,
}

// ---------------------------------------------------------------------------------------------
// Groups.

/// `LaunchTemplate` of a group: the template as EC2 resolved it, and the version asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchTemplateRef {
    pub id: String,
    pub name: String,
    /// `$Default`, `$Latest` or a number; `None` when the request named none (`$Default`).
    pub version: Option<String>,
}

/// What a group launches from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaunchSource {
    Configuration(String),
    Template(LaunchTemplateRef),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupTag {
    pub key: String,
    pub value: String,
    pub propagate_at_launch: bool,
}

/// `LifecycleState` of a group's instance (the states this model uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    Pending,
    InService,
    Terminating,
}

impl Lifecycle {
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Pending => "Pending",
            Lifecycle::InService => "InService",
            Lifecycle::Terminating => "Terminating",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInstance {
    pub instance_id: String,
    pub instance_type: String,
    pub availability_zone: String,
    pub lifecycle: Lifecycle,
    pub healthy: bool,
    /// What the instance was launched from.
    pub launched_from: LaunchSource,
    pub protected_from_scale_in: bool,
    /// The activity that launched (or is terminating) the instance.
    pub activity_id: String,
    pub launched: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub arn: String,
    pub launch: LaunchSource,
    pub min_size: i64,
    pub max_size: i64,
    pub desired_capacity: i64,
    pub default_cooldown: i64,
    pub availability_zones: Vec<String>,
    /// `VPCZoneIdentifier`'s subnets, in the order given.
    pub subnets: Vec<String>,
    pub health_check_type: String,
    pub health_check_grace_period: i64,
    pub created: DateTime<Utc>,
    pub instances: Vec<GroupInstance>,
    pub tags: Vec<GroupTag>,
    pub termination_policies: Vec<String>,
    pub new_instances_protected_from_scale_in: bool,
    pub service_linked_role_arn: String,
    /// The role the group's sessions are of (the last segment of the ARN).
    pub service_linked_role_name: String,
    /// `Delete in progress` once a forced deletion began.
    pub deleting: bool,
    /// Launches that failed in a row, for the retry backoff.
    pub consecutive_failures: u32,
    /// When the next retry is due, while the group backs off.
    pub retry_at: Option<DateTime<Utc>>,
    /// The user request's sentence the next activity's cause starts with.
    pub pending_cause: Option<String>,
}

impl Group {
    /// Instances that count toward the capacity (not on their way out).
    pub fn live_instances(&self) -> usize {
        self.instances.iter().filter(|i| i.lifecycle != Lifecycle::Terminating).count()
    }

    /// `Status`: only a group being deleted has one.
    pub fn status(&self) -> Option<&'static str> {
        self.deleting.then_some("Delete in progress")
    }

    /// The zone of a subnet (see the module documentation): the i-th subnet lies in the i-th
    /// zone of the region.
    pub fn subnet_zone(region: &str, index: usize) -> String {
        let zones = crate::accounts::availability_zones(region);
        zones[index % zones.len()].clone()
    }
}

// ---------------------------------------------------------------------------------------------
// Activities.

/// `StatusCode` of the activities this model writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityStatus {
    InProgress,
    Successful,
    Failed,
    Cancelled,
}

impl ActivityStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityStatus::InProgress => "InProgress",
            ActivityStatus::Successful => "Successful",
            ActivityStatus::Failed => "Failed",
            ActivityStatus::Cancelled => "Cancelled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub id: String,
    pub group_name: String,
    pub group_arn: String,
    pub description: String,
    pub cause: String,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub status: ActivityStatus,
    pub status_message: Option<String>,
    pub progress: i64,
    /// JSON text (`{"Subnet ID":"subnet-…","Availability Zone":"…"}`).
    pub details: String,
    /// The instance the activity launches or terminates, when it got one.
    pub instance_id: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// The state.

/// Everything Auto Scaling holds for one account in one region.
#[derive(Debug, Default, Clone)]
pub struct State {
    pub launch_configurations: BTreeMap<String, LaunchConfiguration>,
    pub groups: BTreeMap<String, Group>,
    /// Every activity, oldest first; activities outlive their group (`IncludeDeletedGroups`).
    pub activities: Vec<Activity>,
}

impl State {
    pub fn activity_mut(&mut self, id: &str) -> Option<&mut Activity> {
        self.activities.iter_mut().find(|a| a.id == id)
    }
}

/// Effects Auto Scaling performs later, on the emulator clock.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Bring the group's instances to its desired capacity (launch or terminate).
    Reconcile { group: String },
    /// Look at an instance the group waits for (to be running, or to be terminated).
    Watch { group: String, instance_id: String },
}

/// Applies a due event (see [`super::scheduler`]).
pub fn on_event(world: &mut World, due: &Due, event: Event) {
    let (account, region) = (due.account.as_str(), due.region.as_str());
    match event {
        Event::Reconcile { group } => launching::reconcile(world, account, region, &group, due.at),
        Event::Watch { group, instance_id } => launching::watch(world, account, region, &group, &instance_id, due.at),
    }
}

fn schedule(world: &mut World, at: DateTime<Utc>, account: &str, region: &str, event: Event) {
    world.schedule(at, account, region, event);
}

/// Schedules the group's reaction to a user request.
fn schedule_reconcile(world: &mut World, account: &str, region: &str, group: &str, now: DateTime<Utc>) {
    let event = Event::Reconcile { group: group.to_string() };
    let at = now + world.latency(Duration::seconds(REACTION_SECONDS));
    schedule(world, at, account, region, event);
}

// ---------------------------------------------------------------------------------------------
// Names, ids and errors.

/// A deterministic id in the UUID shape AWS uses for groups, launch configurations and
/// activities; `kind` keeps the kinds apart.
fn uuid(ids: &mut IdGenerator, kind: &'static str, tag: u32) -> String {
    let id = ids.hex_id(kind);
    let n = id.rsplit('-').next().and_then(|hex| u64::from_str_radix(hex, 16).ok()).unwrap_or(0);
    format!("{tag:08x}-{:04x}-4000-8000-{:012x}", (n >> 48) & 0xffff, n & 0xffff_ffff_ffff)
}

pub fn group_arn(region: &str, account: &str, uuid: &str, name: &str) -> String {
    format!("arn:aws:autoscaling:{region}:{account}:autoScalingGroup:{uuid}:autoScalingGroupName/{name}")
}

pub fn launch_configuration_arn(region: &str, account: &str, uuid: &str, name: &str) -> String {
    format!("arn:aws:autoscaling:{region}:{account}:launchConfiguration:{uuid}:launchConfigurationName/{name}")
}

/// `At 2013-08-19T20:53:25Z`, the time form of Auto Scaling's causes.
fn cause_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// DeleteAutoScalingGroup's wording for an unknown group (public error reports).
pub fn group_not_found(name: &str) -> AwsError {
    AwsError::validation(format!("AutoScalingGroup name not found - AutoScalingGroup {name} not found"))
}

/// UpdateAutoScalingGroup's and SetDesiredCapacity's wording for an unknown group: AWS prints
/// `null` where the name would be (CloudTrail records and SDK error handlers quote it so).
pub fn group_not_found_null() -> AwsError {
    AwsError::validation("AutoScalingGroup name not found - null")
}

pub fn launch_configuration_not_found(name: &str) -> AwsError {
    AwsError::validation(format!("Launch configuration name not found - Launch configuration {name} not found"))
}

/// `Desired capacity:2 must be between the specified min size:4 and max size:10` (convox/praxis
/// #258, a CloudFormation event quoting AWS).
pub fn desired_out_of_range(desired: i64, min: i64, max: i64) -> AwsError {
    AwsError::validation(format!(
        "Desired capacity:{desired} must be between the specified min size:{min} and max size:{max}"
    ))
}

/// `Max bound, 3, must be greater than or equal to min bound, 5` (an UpdateAutoScalingGroup
/// error quoted by a public scaling script).
pub fn max_below_min(min: i64, max: i64) -> AwsError {
    AwsError::validation(format!("Max bound, {max}, must be greater than or equal to min bound, {min}"))
}

// ---------------------------------------------------------------------------------------------
// Lookups.

pub fn state<'w>(world: &'w World, account: &str, region: &str) -> Option<&'w State> {
    world.regional(account, region).map(|r| &r.autoscaling)
}

pub fn state_mut<'w>(world: &'w mut World, account: &str, region: &str) -> Result<&'w mut State, AwsError> {
    world
        .regional_mut(account, region)
        .map(|r| &mut r.autoscaling)
        .ok_or_else(|| AwsError::internal(format!("account {account} is not in the world")))
}

pub fn group<'w>(world: &'w World, account: &str, region: &str, name: &str) -> Option<&'w Group> {
    state(world, account, region)?.groups.get(name)
}

pub fn group_mut<'w>(world: &'w mut World, account: &str, region: &str, name: &str) -> Option<&'w mut Group> {
    world.regional_mut(account, region)?.autoscaling.groups.get_mut(name)
}

/// The group's activities, newest first, as DescribeScalingActivities lists them.
pub fn activities_of<'w>(world: &'w World, account: &str, region: &str, group: &str) -> Vec<&'w Activity> {
    state(world, account, region)
        .map(|s| s.activities.iter().rev().filter(|a| a.group_name == group).collect())
        .unwrap_or_default()
}
