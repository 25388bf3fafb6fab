//! The alarm operations: PutMetricAlarm (create or replace), DeleteAlarms, Enable/DisableAlarmActions
//! and SetAlarmState, with the `ConfigurationUpdate` history items they write.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::evaluation::{change_state, schedule_evaluation};
use super::{
    alarm_arn, resource_not_found, truncate, AlarmConfig, Creator, HistoryItem, HistoryItemType, MetricAlarm,
    StateValue, World, HISTORY_SUMMARY_MAX, INITIAL_STATE_REASON,
};
use crate::error::AwsError;

/// Creates or replaces an alarm. A new alarm starts in `INSUFFICIENT_DATA`; an update keeps the
/// state. Either way an evaluation follows. The SLR check and every authorization happen in the
/// service before this is called.
pub fn put_metric_alarm(
    world: &mut World,
    account: &str,
    region: &str,
    name: &str,
    config: AlarmConfig,
    creator: Creator,
    now: DateTime<Utc>,
) -> Result<(), AwsError> {
    let regional = world
        .regional_mut(account, region)
        .ok_or_else(|| AwsError::internal(format!("account {account} is not in the world")))?;
    let state = &mut regional.cloudwatch;
    let created = !state.alarms.contains_key(name);
    let data = if let Some(old) = state.alarms.get(name) {
        json!({
            "version": "1.0",
            "type": "Update",
            "updatedAlarm": config.history_json(name, now),
            "originalUpdatedAlarm": old.config.history_json(name, old.configuration_updated),
        })
    } else {
        json!({
            "version": "1.0",
            "type": "Create",
            "createdAlarm": config.history_json(name, now),
        })
    };
    match state.alarms.get_mut(name) {
        Some(alarm) => {
            alarm.config = config;
            alarm.configuration_updated = now;
            alarm.creator = creator;
        }
        None => {
            state.alarms.insert(
                name.to_string(),
                MetricAlarm {
                    name: name.to_string(),
                    arn: alarm_arn(account, region, name),
                    config,
                    configuration_updated: now,
                    state: StateValue::InsufficientData,
                    state_reason: INITIAL_STATE_REASON.to_string(),
                    state_reason_data: None,
                    state_updated: now,
                    state_transitioned: now,
                    creator,
                },
            );
        }
    }
    let verb = if created { "created" } else { "updated" };
    state.history.push(HistoryItem {
        alarm_name: name.to_string(),
        timestamp: now,
        item_type: HistoryItemType::ConfigurationUpdate,
        summary: truncate(format!("Alarm \"{name}\" {verb}"), HISTORY_SUMMARY_MAX),
        data: data.to_string(),
    });
    schedule_evaluation(world, account, region, name, now);
    Ok(())
}

/// DeleteAlarms: every name must exist, or nothing is deleted (DeleteAlarms reference).
pub fn delete_alarms(
    world: &mut World,
    account: &str,
    region: &str,
    names: &[String],
    now: DateTime<Utc>,
) -> Result<(), AwsError> {
    let Some(regional) = world.regional_mut(account, region) else {
        return Err(resource_not_found());
    };
    let state = &mut regional.cloudwatch;
    if names.iter().any(|n| !state.alarms.contains_key(n)) {
        return Err(resource_not_found());
    }
    for name in names {
        if let Some(alarm) = state.alarms.remove(name) {
            let data = json!({
                "version": "1.0",
                "type": "Delete",
                "deletedAlarm": alarm.config.history_json(name, alarm.configuration_updated),
            });
            state.history.push(HistoryItem {
                alarm_name: name.clone(),
                timestamp: now,
                item_type: HistoryItemType::ConfigurationUpdate,
                summary: truncate(format!("Alarm \"{name}\" deleted"), HISTORY_SUMMARY_MAX),
                data: data.to_string(),
            });
        }
    }
    Ok(())
}

/// EnableAlarmActions / DisableAlarmActions: names that do not exist are ignored.
pub fn set_actions_enabled(
    world: &mut World,
    account: &str,
    region: &str,
    names: &[String],
    enabled: bool,
) {
    if let Some(regional) = world.regional_mut(account, region) {
        for name in names {
            if let Some(alarm) = regional.cloudwatch.alarms.get_mut(name) {
                alarm.config.actions_enabled = enabled;
            }
        }
    }
}

/// SetAlarmState: the state changes now, the new state's actions run if the state differs, and
/// an evaluation shortly after returns the alarm to what its metric says.
#[allow(clippy::too_many_arguments)]
pub fn set_alarm_state(
    world: &mut World,
    account: &str,
    region: &str,
    name: &str,
    new_state: StateValue,
    reason: &str,
    reason_data: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), AwsError> {
    let exists = world
        .regional(account, region)
        .is_some_and(|r| r.cloudwatch.alarms.contains_key(name));
    if !exists {
        return Err(resource_not_found());
    }
    change_state(
        world,
        account,
        region,
        name,
        new_state,
        reason,
        reason_data.map(str::to_string),
        now,
    );
    schedule_evaluation(world, account, region, name, now);
    Ok(())
}
