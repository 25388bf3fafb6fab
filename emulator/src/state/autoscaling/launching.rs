//! How a group reaches its desired capacity: launches through EC2's `RunInstances` as the group's
//! service-linked role, the watch of each instance until it is running or gone, terminations, and
//! the retries of failed launches on the emulator clock.

use chrono::{DateTime, Duration, Utc};

use super::{
    activities, group, schedule, state, state_mut, uuid, Activity, ActivityStatus, Event, Group, GroupInstance,
    Lifecycle, LaunchSource, World, AUTOSCALING_SERVICE, PROGRESS_IN_PROGRESS, SESSION_NAME, WATCH_SECONDS,
};
use crate::{
    error::AwsError,
    port::{Acting, InnerCall},
    protocol::ServiceId,
    state::ec2::{self, InstanceStateName},
    value::Value,
};

const ACTIVITY_UUID_TAG: u32 = 0xac71_0001;

/// The first retry after a failed launch, in seconds.
pub const FIRST_RETRY_SECONDS: i64 = 10;
/// The longest wait between retries, in seconds.
pub const MAX_RETRY_SECONDS: i64 = 300;

/// How long a group waits before it launches again after `failures` failed launches in a row:
/// 10 s, doubling, at most 5 minutes. AWS documents no schedule; its activity histories show
/// retries seconds apart at first and minutes apart later, so this is chosen to look like them.
pub fn retry_delay(failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(16);
    Duration::seconds((FIRST_RETRY_SECONDS << exponent).min(MAX_RETRY_SECONDS))
}

/// Who the group acts as: a session of its service-linked role, assumed by Auto Scaling.
fn acting(account: &str, group: &Group) -> Acting {
    Acting::ServiceRole {
        account: account.to_string(),
        role_name: group.service_linked_role_name.clone(),
        service: AUTOSCALING_SERVICE.to_string(),
        session_name: SESSION_NAME.to_string(),
    }
}

/// Brings the group to its desired capacity: launches what is missing, one `RunInstances` and
/// one activity per instance, or terminates what is too much. A retry that a user request
/// overtook (`retry_at` later than now) does nothing.
pub(super) fn reconcile(world: &mut World, account: &str, region: &str, name: &str, now: DateTime<Utc>) {
    let Some(group) = group(world, account, region, name).cloned() else {
        return;
    };
    if group.retry_at.is_some_and(|at| at > now) {
        return;
    }
    if let Some(g) = super::group_mut(world, account, region, name) {
        g.retry_at = None;
    }
    let live = group.live_instances() as i64;
    let desired = group.desired_capacity;
    if desired > live {
        for _ in live..desired {
            if !launch_one(world, account, region, name, live, desired, now) {
                break;
            }
        }
    } else if desired < live {
        // Scale in: pending instances first, then the newest (the emulator's termination
        // policy; AWS's default balances zones first).
        let mut candidates: Vec<&GroupInstance> = group
            .instances
            .iter()
            .filter(|i| i.lifecycle != Lifecycle::Terminating && (group.deleting || !i.protected_from_scale_in))
            .collect();
        candidates.sort_by_key(|i| (i.lifecycle != Lifecycle::Pending, std::cmp::Reverse(i.launched)));
        let chosen: Vec<String> =
            candidates.iter().take((live - desired) as usize).map(|i| i.instance_id.clone()).collect();
        for id in chosen {
            let cause = if group.deleting {
                activities::join(group.pending_cause.clone(), activities::selected(now, &id))
            } else {
                activities::join(group.pending_cause.clone(), activities::taken_out(now, live, desired, &id))
            };
            terminate(world, account, region, name, &id, cause, now);
        }
        if let Some(g) = super::group_mut(world, account, region, name) {
            g.pending_cause = None;
        }
    }
    finish_deletion(world, account, region, name);
}

/// The zone (and subnet) of the next launch: the group's zone with the fewest live instances.
fn next_placement(group: &Group, region: &str) -> (String, Option<String>) {
    let candidates: Vec<(String, Option<String>)> = if group.subnets.is_empty() {
        group.availability_zones.iter().map(|z| (z.clone(), None)).collect()
    } else {
        group.subnets.iter().enumerate().map(|(i, s)| (Group::subnet_zone(region, i), Some(s.clone()))).collect()
    };
    let count = |zone: &str| {
        group.instances.iter().filter(|i| i.lifecycle != Lifecycle::Terminating && i.availability_zone == zone).count()
    };
    candidates
        .into_iter()
        .min_by_key(|(zone, _)| count(zone))
        .unwrap_or_else(|| (crate::accounts::availability_zones(region)[0].clone(), None))
}

/// `RunInstances`' members for one instance of the group, as the EC2 query protocol names them.
fn run_instances_params(world: &World, account: &str, region: &str, group: &Group, zone: &str) -> Result<Value, AwsError> {
    let mut params = Value::structure()
        .with("MinCount", 1)
        .with("MaxCount", 1)
        .with("Placement", Value::structure().with("AvailabilityZone", zone));
    match &group.launch {
        LaunchSource::Configuration(name) => {
            let lc = state(world, account, region)
                .and_then(|s| s.launch_configurations.get(name))
                .ok_or_else(|| super::launch_configuration_not_found(name))?;
            params.push("ImageId", lc.image_id.as_str());
            params.push("InstanceType", lc.instance_type.as_str());
            if let Some(key) = &lc.key_name {
                params.push("KeyName", key.as_str());
            }
            if let Some(profile) = &lc.iam_instance_profile {
                let member = if profile.starts_with("arn:") { "Arn" } else { "Name" };
                params.push("IamInstanceProfile", Value::structure().with(member, profile.as_str()));
            }
            if let Some(data) = &lc.user_data {
                params.push("UserData", data.as_str());
            }
            if !lc.block_devices.is_empty() {
                params.push("BlockDeviceMapping", lc.block_devices.iter().map(block_device_value).collect::<Value>());
            }
        }
        LaunchSource::Template(template) => {
            params.push(
                "LaunchTemplate",
                Value::structure()
                    .with("LaunchTemplateId", template.id.as_str())
                    .with("Version", template.version.as_deref().unwrap_or("$Default")),
            );
        }
    }
    // AWS tags every instance with its group, and adds the tags marked PropagateAtLaunch.
    let tags: Value = std::iter::once(("aws:autoscaling:groupName", group.name.as_str()))
        .chain(group.tags.iter().filter(|t| t.propagate_at_launch).map(|t| (t.key.as_str(), t.value.as_str())))
        .map(|(key, value)| Value::structure().with("Key", key).with("Value", value))
        .collect();
    params.push(
        "TagSpecification",
        Value::List(vec![Value::structure().with("ResourceType", "instance").with("Tag", tags)]),
    );
    Ok(params)
}

fn block_device_value(mapping: &super::BlockDeviceMapping) -> Value {
    let mut value = Value::structure().with("DeviceName", mapping.device_name.as_str());
    if let Some(name) = &mapping.virtual_name {
        value.push("VirtualName", name.as_str());
    }
    if mapping.no_device {
        value.push("NoDevice", "");
    }
    if let Some(ebs) = &mapping.ebs {
        let ebs = Value::structure()
            .with_opt("SnapshotId", ebs.snapshot_id.as_deref())
            .with_opt("VolumeSize", ebs.volume_size)
            .with_opt("VolumeType", ebs.volume_type.as_deref())
            .with_opt("DeleteOnTermination", ebs.delete_on_termination)
            .with_opt("Iops", ebs.iops)
            .with_opt("Encrypted", ebs.encrypted)
            .with_opt("Throughput", ebs.throughput);
        value.push("Ebs", ebs);
    }
    value
}

/// Launches one instance for the group; `false` when the launch failed (the group then backs
/// off, and the instances still missing wait for the retry).
fn launch_one(world: &mut World, account: &str, region: &str, name: &str, from: i64, to: i64, now: DateTime<Utc>) -> bool {
    let Some(group) = group(world, account, region, name).cloned() else {
        return false;
    };
    let (zone, subnet) = next_placement(&group, region);
    let cause = activities::join(group.pending_cause.clone(), activities::started(now, from, to));
    if let Some(g) = super::group_mut(world, account, region, name) {
        g.pending_cause = None;
    }
    let activity_id = uuid(&mut world.ids, "autoscaling-activity", ACTIVITY_UUID_TAG);
    let mut activity = Activity {
        id: activity_id.clone(),
        group_name: group.name.clone(),
        group_arn: group.arn.clone(),
        description: String::new(),
        cause,
        start: now,
        end: None,
        status: ActivityStatus::InProgress,
        status_message: None,
        progress: PROGRESS_IN_PROGRESS,
        details: activities::details(subnet.as_deref(), &zone),
        instance_id: None,
    };
    let launched = run_instances_params(world, account, region, &group, &zone).and_then(|params| {
        let call = InnerCall {
            acting: acting(account, &group),
            service: ServiceId::Ec2,
            region,
            now,
            action: "RunInstances",
            params,
        };
        let output = world.inner_call(call)?;
        first_instance(&output).ok_or_else(|| AwsError::internal("RunInstances answered no instance"))
    });
    match launched {
        Ok((instance_id, instance_type)) => {
            activity.description = activities::launching(&instance_id);
            activity.instance_id = Some(instance_id.clone());
            let member = GroupInstance {
                instance_id: instance_id.clone(),
                instance_type,
                availability_zone: zone,
                lifecycle: Lifecycle::Pending,
                healthy: true,
                launched_from: group.launch.clone(),
                protected_from_scale_in: group.new_instances_protected_from_scale_in,
                activity_id,
                launched: now,
            };
            if let Ok(autoscaling) = state_mut(world, account, region) {
                autoscaling.activities.push(activity);
                if let Some(g) = autoscaling.groups.get_mut(name) {
                    g.instances.push(member);
                }
            }
            watch_later(world, account, region, name, &instance_id, now);
            true
        }
        Err(error) => {
            let (description, status_message) = activities::refused_launch(&error.message);
            activity.description = description;
            finish(&mut activity, ActivityStatus::Failed, Some(status_message), now);
            if let Ok(autoscaling) = state_mut(world, account, region) {
                autoscaling.activities.push(activity);
            }
            back_off(world, account, region, name, now);
            false
        }
    }
}

/// The instance id and type of RunInstances' answer (`instancesSet`, EC2's `locationName`s).
fn first_instance(output: &Value) -> Option<(String, String)> {
    let instance = output.get("instancesSet")?.as_list().first()?;
    let id = instance.get("instanceId")?.as_str()?.to_string();
    let kind = instance.get("instanceType").and_then(Value::as_str).unwrap_or_default().to_string();
    Some((id, kind))
}

fn finish(activity: &mut Activity, status: ActivityStatus, message: Option<String>, now: DateTime<Utc>) {
    activity.status = status;
    activity.status_message = message;
    activity.progress = 100;
    activity.end = Some(now);
}

/// Counts a failed launch and schedules the retry.
fn back_off(world: &mut World, account: &str, region: &str, name: &str, now: DateTime<Utc>) {
    let Some(group) = super::group_mut(world, account, region, name) else {
        return;
    };
    group.consecutive_failures += 1;
    let delay = retry_delay(group.consecutive_failures);
    let at = now + world.latency(delay);
    if let Some(group) = super::group_mut(world, account, region, name) {
        group.retry_at = Some(at);
    }
    schedule(world, at, account, region, Event::Reconcile { group: name.to_string() });
}

fn watch_later(world: &mut World, account: &str, region: &str, group: &str, instance_id: &str, now: DateTime<Utc>) {
    let event = Event::Watch { group: group.to_string(), instance_id: instance_id.to_string() };
    let at = now + world.latency(Duration::seconds(WATCH_SECONDS));
    schedule(world, at, account, region, event);
}

/// Looks at an instance the group waits for: a launch ends `InService` when EC2 says `running`,
/// or fails when the instance went anywhere else; a termination ends when it is `terminated`.
pub(super) fn watch(world: &mut World, account: &str, region: &str, name: &str, instance_id: &str, now: DateTime<Utc>) {
    let Some(member) = group(world, account, region, name)
        .and_then(|g| g.instances.iter().find(|i| i.instance_id == instance_id))
        .cloned()
    else {
        return;
    };
    let instance = ec2::instance(world, account, region, instance_id).cloned();
    let ec2_state = instance.as_ref().map(|i| i.state);
    match (member.lifecycle, ec2_state) {
        (Lifecycle::Pending, Some(InstanceStateName::Pending))
        | (Lifecycle::Terminating, Some(InstanceStateName::ShuttingDown | InstanceStateName::Stopping)) => {
            watch_later(world, account, region, name, instance_id, now);
        }
        (Lifecycle::Pending, Some(InstanceStateName::Running)) => {
            let Ok(autoscaling) = state_mut(world, account, region) else {
                return;
            };
            if let Some(activity) = autoscaling.activity_mut(&member.activity_id) {
                finish(activity, ActivityStatus::Successful, None, now);
            }
            if let Some(group) = autoscaling.groups.get_mut(name) {
                group.consecutive_failures = 0;
                if let Some(m) = group.instances.iter_mut().find(|i| i.instance_id == instance_id) {
                    m.lifecycle = Lifecycle::InService;
                }
            }
        }
        (Lifecycle::Pending, _) => {
            let key_use_refused = instance.as_ref().is_some_and(|i| i.launch_failure.is_some());
            let text = activities::failed_launch_reason(
                world.profile,
                instance.as_ref().and_then(|i| i.state_reason.as_ref()),
                key_use_refused,
            );
            let Ok(autoscaling) = state_mut(world, account, region) else {
                return;
            };
            if let Some(activity) = autoscaling.activity_mut(&member.activity_id) {
                activity.description = activities::launching_failed(instance_id, &text.status_reason);
                finish(activity, ActivityStatus::Failed, Some(text.status_message), now);
            }
            if let Some(group) = autoscaling.groups.get_mut(name) {
                group.instances.retain(|i| i.instance_id != instance_id);
            }
            back_off(world, account, region, name, now);
            finish_deletion(world, account, region, name);
        }
        (Lifecycle::Terminating, _) => {
            let Ok(autoscaling) = state_mut(world, account, region) else {
                return;
            };
            if let Some(activity) = autoscaling.activity_mut(&member.activity_id) {
                finish(activity, ActivityStatus::Successful, None, now);
            }
            if let Some(group) = autoscaling.groups.get_mut(name) {
                group.instances.retain(|i| i.instance_id != instance_id);
            }
            finish_deletion(world, account, region, name);
        }
        (Lifecycle::InService, _) => {}
    }
}

/// Terminates one instance of the group through EC2, as the group's role.
fn terminate(world: &mut World, account: &str, region: &str, name: &str, instance_id: &str, cause: String, now: DateTime<Utc>) {
    let Some(group) = group(world, account, region, name).cloned() else {
        return;
    };
    let zone = group
        .instances
        .iter()
        .find(|i| i.instance_id == instance_id)
        .map(|i| i.availability_zone.clone())
        .unwrap_or_default();
    let subnet = group
        .subnets
        .iter()
        .enumerate()
        .find(|(i, _)| Group::subnet_zone(region, *i) == zone)
        .map(|(_, s)| s.clone());
    let activity_id = uuid(&mut world.ids, "autoscaling-activity", ACTIVITY_UUID_TAG);
    let mut activity = Activity {
        id: activity_id.clone(),
        group_name: group.name.clone(),
        group_arn: group.arn.clone(),
        description: activities::terminating(instance_id),
        cause,
        start: now,
        end: None,
        status: ActivityStatus::InProgress,
        status_message: None,
        progress: PROGRESS_IN_PROGRESS,
        details: activities::details(subnet.as_deref(), &zone),
        instance_id: Some(instance_id.to_string()),
    };
    let call = InnerCall {
        acting: acting(account, &group),
        service: ServiceId::Ec2,
        region,
        now,
        action: "TerminateInstances",
        params: Value::structure().with("InstanceId", Value::List(vec![Value::from(instance_id)])),
    };
    let result = world.inner_call(call);
    let Ok(autoscaling) = state_mut(world, account, region) else {
        return;
    };
    match result {
        Ok(_) => {
            let mut launch_activity = None;
            if let Some(m) =
                autoscaling.groups.get_mut(name).and_then(|g| g.instances.iter_mut().find(|i| i.instance_id == instance_id))
            {
                if m.lifecycle == Lifecycle::Pending {
                    launch_activity = Some(m.activity_id.clone());
                }
                m.lifecycle = Lifecycle::Terminating;
                m.activity_id = activity_id;
            }
            // A launch overtaken by a termination before it was in service is cancelled (the
            // status message is the emulator's wording).
            if let Some(launch) = launch_activity.and_then(|id| autoscaling.activity_mut(&id)) {
                let message = "The instance was terminated before it was in service.".to_string();
                finish(launch, ActivityStatus::Cancelled, Some(message), now);
            }
            autoscaling.activities.push(activity);
            watch_later(world, account, region, name, instance_id, now);
        }
        Err(error) => {
            // The instance cannot be terminated through EC2 (already gone): it leaves the group.
            finish(&mut activity, ActivityStatus::Failed, Some(error.message), now);
            autoscaling.activities.push(activity);
            if let Some(g) = autoscaling.groups.get_mut(name) {
                g.instances.retain(|i| i.instance_id != instance_id);
            }
        }
    }
}

/// A group being deleted goes once its last instance is gone.
fn finish_deletion(world: &mut World, account: &str, region: &str, name: &str) {
    let Ok(autoscaling) = state_mut(world, account, region) else {
        return;
    };
    if autoscaling.groups.get(name).is_some_and(|g| g.deleting && g.instances.is_empty()) {
        autoscaling.groups.remove(name);
    }
}
