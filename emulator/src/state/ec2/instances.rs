//! The instance life cycle: start, stop, terminate, reboot and the alarm actions (recover
//! included), and the scheduled end of each transition (`pending`, `stopping`,
//! `shutting-down`).

use chrono::{DateTime, Utc};

use super::launch::{begin_pending, distinct_keys, use_keys};
use super::{
    cannot_recover, cannot_start, cannot_stop, instance, instance_not_found, is_well_formed_id, malformed_instance_id,
    schedule, transition, user_initiated, Event, FailedLaunch, Instance, InstanceBlockDevice, InstanceStateName,
    State, StateChange, StateReason, VolumeState, World,
};
use crate::{authz::RequestFacts, error::AwsError};

pub(super) fn settle(
    world: &mut World,
    account: &str,
    region: &str,
    instance_id: &str,
    generation: u64,
    at: DateTime<Utc>,
) {
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
    let mut started = false;
    match instance.state {
        InstanceStateName::Pending => match instance.failing.take() {
            None => {
                instance.change_state(InstanceStateName::Running);
                instance.state_transition_reason.clear();
                instance.state_reason = None;
                started = true;
                // Metadata options modified while the instance was not running apply now.
                instance.metadata_options.apply_pending();
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
        let at = at + world.latency(transition());
        schedule(world, at, account, region, event);
    }
    if started {
        // The system boots and starts the SSM Agent, which registers the instance if it can.
        world.instance_started(account, region, instance_id, at);
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
            let at = now + world.latency(transition());
            schedule(world, at, account, region, event);
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
            let at = now + world.latency(transition());
            schedule(world, at, account, region, event);
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
