//! The operations on groups and launch configurations: what AWS checks, the record kept, and the
//! reaction each schedules on the emulator clock.

use chrono::{DateTime, Utc};

use super::{
    activities, desired_out_of_range, group_arn, group_mut, group_not_found, group_not_found_null,
    launch_configuration_arn, launch_configuration_not_found, max_below_min, schedule_reconcile, state, state_mut,
    uuid, ActivityStatus, Group, GroupTag, LaunchConfiguration, LaunchSource, World,
};
use crate::{error::AwsError, state::ec2::find_image};

const GROUP_UUID_TAG: u32 = 0x6a5c_0001;
const LAUNCH_CONFIGURATION_UUID_TAG: u32 = 0x1c0f_0001;

/// The default `DefaultCooldown` (API reference: 300 seconds).
pub const DEFAULT_COOLDOWN: i64 = 300;

/// What CreateAutoScalingGroup asks for, decoded and authorized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGroup {
    pub name: String,
    pub launch: LaunchSource,
    pub min_size: i64,
    pub max_size: i64,
    pub desired_capacity: Option<i64>,
    pub default_cooldown: Option<i64>,
    pub availability_zones: Vec<String>,
    pub subnets: Vec<String>,
    pub health_check_type: Option<String>,
    pub health_check_grace_period: Option<i64>,
    pub tags: Vec<GroupTag>,
    pub termination_policies: Vec<String>,
    pub new_instances_protected_from_scale_in: bool,
    pub service_linked_role_arn: String,
    pub service_linked_role_name: String,
}

/// What UpdateAutoScalingGroup changes; `None` keeps the group's value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupUpdate {
    pub launch: Option<LaunchSource>,
    pub min_size: Option<i64>,
    pub max_size: Option<i64>,
    pub desired_capacity: Option<i64>,
    pub default_cooldown: Option<i64>,
    pub availability_zones: Option<Vec<String>>,
    pub subnets: Option<Vec<String>>,
    pub health_check_type: Option<String>,
    pub health_check_grace_period: Option<i64>,
    pub termination_policies: Option<Vec<String>>,
    pub new_instances_protected_from_scale_in: Option<bool>,
}

/// The sizes a group may have: non-negative, `min ≤ max`, `min ≤ desired ≤ max`.
///
/// A negative size is refused with the emulator's wording (the model has no bound and no AWS
/// text was found).
pub fn check_sizes(min: i64, max: i64, desired: i64) -> Result<(), AwsError> {
    for (member, value) in [("MinSize", min), ("MaxSize", max), ("DesiredCapacity", desired)] {
        if value < 0 {
            return Err(AwsError::validation(format!("{member} must be greater than or equal to 0, got {value}.")));
        }
    }
    if max < min {
        return Err(max_below_min(min, max));
    }
    if desired < min || desired > max {
        return Err(desired_out_of_range(desired, min, max));
    }
    Ok(())
}

/// The zones of a group: those of its subnets when it has subnets (AWS fills
/// `AvailabilityZones` from `VPCZoneIdentifier`), else the zones given, which must be the
/// region's. Neither: "At least one Availability Zone or VPC Subnet is required." (public error
/// reports). An unknown zone: `Invalid Availability Zone: [<zone>]` (EC2's wording, chosen). A
/// subnet id that is not `subnet-` and 8 or 17 hexadecimal digits: "The subnet ID '<id>' does
/// not exist" (chosen; no VPC is emulated, so every well-formed id is a subnet).
pub fn placement(region: &str, zones: &[String], subnets: &[String]) -> Result<Vec<String>, AwsError> {
    if !subnets.is_empty() {
        if let Some(bad) = subnets.iter().find(|s| !crate::state::ec2::is_well_formed_id(s, "subnet")) {
            return Err(AwsError::validation(format!("The subnet ID '{bad}' does not exist")));
        }
        let mut from_subnets: Vec<String> = Vec::new();
        for index in 0..subnets.len() {
            let zone = Group::subnet_zone(region, index);
            if !from_subnets.contains(&zone) {
                from_subnets.push(zone);
            }
        }
        return Ok(from_subnets);
    }
    if zones.is_empty() {
        return Err(AwsError::validation("At least one Availability Zone or VPC Subnet is required."));
    }
    let known = crate::accounts::availability_zones(region);
    if let Some(bad) = zones.iter().find(|z| !known.contains(z)) {
        return Err(AwsError::validation(format!("Invalid Availability Zone: [{bad}]")));
    }
    let mut distinct: Vec<String> = Vec::new();
    for zone in zones {
        if !distinct.contains(zone) {
            distinct.push(zone.clone());
        }
    }
    Ok(distinct)
}

fn already_exists_group(name: &str) -> AwsError {
    // Public error reports and SDK test fixtures quote this wording.
    AwsError::new(
        "AlreadyExists",
        400,
        format!("AutoScalingGroup by this name already exists - A group with the name {name} already exists"),
    )
}

/// Checks what CreateAutoScalingGroup checks before anything is created: the name is free, the
/// launch configuration exists, the sizes and the placement are valid.
pub fn check_new_group(world: &World, account: &str, region: &str, spec: &NewGroup) -> Result<(), AwsError> {
    let existing = state(world, account, region);
    if existing.is_some_and(|s| s.groups.contains_key(&spec.name)) {
        return Err(already_exists_group(&spec.name));
    }
    if let LaunchSource::Configuration(name) = &spec.launch {
        if !existing.is_some_and(|s| s.launch_configurations.contains_key(name)) {
            return Err(launch_configuration_not_found(name));
        }
    }
    check_sizes(spec.min_size, spec.max_size, spec.desired_capacity.unwrap_or(spec.min_size))?;
    placement(region, &spec.availability_zones, &spec.subnets)?;
    Ok(())
}

/// CreateAutoScalingGroup: records the group and schedules its first launches. The desired
/// capacity defaults to the minimum size (API reference).
pub fn create_group(world: &mut World, account: &str, region: &str, spec: NewGroup, now: DateTime<Utc>) -> Result<String, AwsError> {
    check_new_group(world, account, region, &spec)?;
    let zones = placement(region, &spec.availability_zones, &spec.subnets)?;
    let desired = spec.desired_capacity.unwrap_or(spec.min_size);
    let id = uuid(&mut world.ids, "autoscaling-group", GROUP_UUID_TAG);
    let arn = group_arn(region, account, &id, &spec.name);
    let group = Group {
        name: spec.name.clone(),
        arn: arn.clone(),
        launch: spec.launch,
        min_size: spec.min_size,
        max_size: spec.max_size,
        desired_capacity: desired,
        default_cooldown: spec.default_cooldown.unwrap_or(DEFAULT_COOLDOWN),
        availability_zones: zones,
        subnets: spec.subnets,
        health_check_type: spec.health_check_type.unwrap_or_else(|| "EC2".to_string()),
        health_check_grace_period: spec.health_check_grace_period.unwrap_or(0),
        created: now,
        instances: Vec::new(),
        tags: spec.tags,
        termination_policies: if spec.termination_policies.is_empty() {
            vec!["Default".to_string()]
        } else {
            spec.termination_policies
        },
        new_instances_protected_from_scale_in: spec.new_instances_protected_from_scale_in,
        service_linked_role_arn: spec.service_linked_role_arn,
        service_linked_role_name: spec.service_linked_role_name,
        deleting: false,
        consecutive_failures: 0,
        retry_at: None,
        pending_cause: (desired > 0).then(|| activities::created(now, desired)),
    };
    state_mut(world, account, region)?.groups.insert(spec.name.clone(), group);
    if desired > 0 {
        schedule_reconcile(world, account, region, &spec.name, now);
    }
    Ok(arn)
}

/// A group that exists and is not being deleted, for the update operations.
fn live_group<'w>(world: &'w mut World, account: &str, region: &str, name: &str) -> Result<&'w mut Group, AwsError> {
    match group_mut(world, account, region, name) {
        Some(group) if group.deleting => Err(AwsError::new(
            "ScalingActivityInProgress",
            400,
            format!("AutoScalingGroup {name} is pending delete."),
        )),
        Some(group) => Ok(group),
        None => Err(group_not_found_null()),
    }
}

/// UpdateAutoScalingGroup. A new minimum above the desired capacity raises it, a new maximum
/// below it lowers it, when no desired capacity is given (API reference).
pub fn update_group(
    world: &mut World,
    account: &str,
    region: &str,
    name: &str,
    update: GroupUpdate,
    now: DateTime<Utc>,
) -> Result<(), AwsError> {
    if let Some(LaunchSource::Configuration(lc)) = &update.launch {
        if !state(world, account, region).is_some_and(|s| s.launch_configurations.contains_key(lc)) {
            live_group(world, account, region, name)?;
            return Err(launch_configuration_not_found(lc));
        }
    }
    let group = live_group(world, account, region, name)?;
    let min = update.min_size.unwrap_or(group.min_size);
    let max = update.max_size.unwrap_or(group.max_size);
    let desired = match update.desired_capacity {
        Some(desired) => desired,
        None => group.desired_capacity.max(min).min(max.max(min)),
    };
    check_sizes(min, max, desired)?;
    let zones = match (&update.availability_zones, &update.subnets) {
        (None, None) => None,
        (zones, subnets) => Some(placement(
            region,
            zones.as_deref().unwrap_or(&group.availability_zones),
            subnets.as_deref().unwrap_or_default(),
        )?),
    };
    let previous = group.desired_capacity;
    if let Some(launch) = update.launch {
        group.launch = launch;
    }
    if let Some(zones) = zones {
        group.availability_zones = zones;
        group.subnets = update.subnets.unwrap_or_default();
    }
    group.min_size = min;
    group.max_size = max;
    group.desired_capacity = desired;
    if let Some(cooldown) = update.default_cooldown {
        group.default_cooldown = cooldown;
    }
    if let Some(kind) = update.health_check_type {
        group.health_check_type = kind;
    }
    if let Some(grace) = update.health_check_grace_period {
        group.health_check_grace_period = grace;
    }
    if let Some(policies) = update.termination_policies {
        group.termination_policies = policies;
    }
    if let Some(protected) = update.new_instances_protected_from_scale_in {
        group.new_instances_protected_from_scale_in = protected;
    }
    if desired != previous {
        group.pending_cause = Some(activities::constraints_updated(now, min, max, previous, desired));
        group.retry_at = None;
        schedule_reconcile(world, account, region, name, now);
    }
    Ok(())
}

/// SetDesiredCapacity. Out of range: "New SetDesiredCapacity value 2 is above max value 1 for the
/// AutoScalingGroup." / "… is below min value 2 for the AutoScalingGroup." (public error reports).
pub fn set_desired_capacity(
    world: &mut World,
    account: &str,
    region: &str,
    name: &str,
    desired: i64,
    now: DateTime<Utc>,
) -> Result<(), AwsError> {
    let group = live_group(world, account, region, name)?;
    if desired > group.max_size {
        return Err(AwsError::validation(format!(
            "New SetDesiredCapacity value {desired} is above max value {} for the AutoScalingGroup.",
            group.max_size
        )));
    }
    if desired < group.min_size {
        return Err(AwsError::validation(format!(
            "New SetDesiredCapacity value {desired} is below min value {} for the AutoScalingGroup.",
            group.min_size
        )));
    }
    let previous = group.desired_capacity;
    if desired == previous {
        return Ok(());
    }
    group.desired_capacity = desired;
    group.pending_cause = Some(activities::desired_set(now, previous, desired));
    // A user request is acted on at once, whatever the backoff of failed launches.
    group.retry_at = None;
    schedule_reconcile(world, account, region, name, now);
    Ok(())
}

/// What DeleteAutoScalingGroup did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// The group had no instances and is gone.
    Deleted,
    /// `ForceDelete`: the instances are being terminated; the group goes with the last one and
    /// shows `Status` "Delete in progress" until then.
    Deleting,
}

/// DeleteAutoScalingGroup. Without `ForceDelete`, a group with an activity in progress is
/// refused with `ScalingActivityInProgress`, and one with instances with `ResourceInUse` (both
/// messages quoted by public deletion scripts; the order of the two checks is chosen). Pending
/// retries of a group deleted without instances never run: the group is gone.
pub fn delete_group(
    world: &mut World,
    account: &str,
    region: &str,
    name: &str,
    force: bool,
    now: DateTime<Utc>,
) -> Result<DeleteOutcome, AwsError> {
    let autoscaling = state_mut(world, account, region)?;
    let Some(group) = autoscaling.groups.get(name) else {
        return Err(group_not_found(name));
    };
    if group.deleting {
        return Ok(DeleteOutcome::Deleting);
    }
    if !force {
        let busy = autoscaling
            .activities
            .iter()
            .any(|a| a.group_name == name && a.status == ActivityStatus::InProgress);
        if busy {
            return Err(AwsError::new(
                "ScalingActivityInProgress",
                400,
                "You cannot delete an AutoScalingGroup while there are scaling activities in progress for that group.",
            ));
        }
        if !group.instances.is_empty() {
            return Err(AwsError::new(
                "ResourceInUse",
                400,
                "You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.",
            ));
        }
    }
    if group.instances.is_empty() {
        autoscaling.groups.remove(name);
        return Ok(DeleteOutcome::Deleted);
    }
    let Some(group) = autoscaling.groups.get_mut(name) else {
        return Err(group_not_found(name));
    };
    group.pending_cause = Some(activities::force_deleted(now, group.desired_capacity));
    group.deleting = true;
    group.min_size = 0;
    group.desired_capacity = 0;
    group.retry_at = None;
    super::launching::reconcile(world, account, region, name, now);
    Ok(DeleteOutcome::Deleting)
}

// ---------------------------------------------------------------------------------------------
// Launch configurations.

/// CreateLaunchConfiguration: the image must be one the account can launch, checked as AWS
/// does at creation ("AMI ami-12345678 is invalid: The image id '[ami-12345678]' does not
/// exist", aws-sdk-ruby's Auto Scaling feature test). `lc.arn` and `lc.created` are set here.
pub fn create_launch_configuration(
    world: &mut World,
    account: &str,
    region: &str,
    mut lc: LaunchConfiguration,
    now: DateTime<Utc>,
) -> Result<String, AwsError> {
    if state(world, account, region).is_some_and(|s| s.launch_configurations.contains_key(&lc.name)) {
        return Err(AwsError::new(
            "AlreadyExists",
            400,
            format!(
                "Launch Configuration by this name already exists - A launch configuration already exists with the name {}",
                lc.name
            ),
        ));
    }
    find_image(world, account, region, &lc.image_id)
        .map_err(|e| AwsError::validation(format!("AMI {} is invalid: {}", lc.image_id, e.message)))?;
    let id = uuid(&mut world.ids, "launch-configuration", LAUNCH_CONFIGURATION_UUID_TAG);
    lc.arn = launch_configuration_arn(region, account, &id, &lc.name);
    lc.created = now;
    let arn = lc.arn.clone();
    state_mut(world, account, region)?.launch_configurations.insert(lc.name.clone(), lc);
    Ok(arn)
}

/// DeleteLaunchConfiguration: refused while a group uses it ("Cannot delete launch configuration
/// my-test-lc because it is attached to AutoScalingGroup test", AWS's documented sample error).
pub fn delete_launch_configuration(world: &mut World, account: &str, region: &str, name: &str) -> Result<(), AwsError> {
    let autoscaling = state_mut(world, account, region)?;
    if !autoscaling.launch_configurations.contains_key(name) {
        return Err(launch_configuration_not_found(name));
    }
    let user = autoscaling
        .groups
        .values()
        .find(|g| matches!(&g.launch, LaunchSource::Configuration(lc) if lc == name));
    if let Some(group) = user {
        return Err(AwsError::new(
            "ResourceInUse",
            400,
            format!("Cannot delete launch configuration {name} because it is attached to AutoScalingGroup {}", group.name),
        ));
    }
    autoscaling.launch_configurations.remove(name);
    Ok(())
}
