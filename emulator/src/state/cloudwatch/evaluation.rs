//! Evaluation on the emulator clock: the scheduled evaluation of an alarm against its (always
//! missing) metric data, and the state change that writes the `StateUpdate` item and runs the
//! new state's actions.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::actions::execute_action;
use super::{
    json_date, truncate, Event, HistoryItem, HistoryItemType, StateValue, World, EVALUATION_DELAY_SECONDS,
    HISTORY_SUMMARY_MAX,
};

pub(super) fn schedule_evaluation(
    world: &mut World,
    account: &str,
    region: &str,
    name: &str,
    now: DateTime<Utc>,
) {
    let at = now + world.latency(Duration::seconds(EVALUATION_DELAY_SECONDS));
    world.schedule(
        at,
        account,
        region,
        Event::Evaluate {
            alarm_name: name.to_string(),
        },
    );
}

/// Evaluates an alarm against its metric. The emulator receives no metric data, so every
/// evaluation period is missing and `TreatMissingData` decides (CloudWatch user guide, "Configuring
/// how CloudWatch alarms treat missing data"):
/// `missing` (the default) → `INSUFFICIENT_DATA`; `notBreaching` → `OK`; `breaching` → `ALARM`;
/// `ignore` → the current state is kept (so a state set by SetAlarmState stays).
pub(super) fn evaluate(world: &mut World, account: &str, region: &str, name: &str, now: DateTime<Utc>) {
    let Some(alarm) = world
        .regional(account, region)
        .and_then(|r| r.cloudwatch.alarms.get(name))
    else {
        return;
    };
    let config = &alarm.config;
    let n = config.evaluation_periods.max(1);
    let plural = |one: &'static str, many: &'static str| if n == 1 { one } else { many };
    let (target, reason) = match config.treat_missing_data.as_deref().unwrap_or("missing") {
        "ignore" => return,
        "notBreaching" => (
            StateValue::Ok,
            format!(
                "Threshold Crossed: no datapoints were received for {n} {} and {n} missing {} treated as [NonBreaching].",
                plural("period", "periods"),
                plural("datapoint was", "datapoints were"),
            ),
        ),
        "breaching" => (
            StateValue::Alarm,
            format!(
                "Threshold Crossed: no datapoints were received for {n} {} and {n} missing {} treated as [Breaching].",
                plural("period", "periods"),
                plural("datapoint was", "datapoints were"),
            ),
        ),
        _ => (
            StateValue::InsufficientData,
            format!("Insufficient Data: {n} {} unknown.", plural("datapoint was", "datapoints were")),
        ),
    };
    if target == alarm.state {
        return;
    }
    let mut data = json!({
        "version": "1.0",
        "queryDate": json_date(now),
        "statistic": config.statistic.clone().or_else(|| config.extended_statistic.clone()),
        "period": config.period,
        "recentDatapoints": [],
        "threshold": config.threshold,
    });
    if let (Some(object), Some(unit)) = (data.as_object_mut(), &config.unit) {
        object.insert("unit".to_string(), json!(unit));
    }
    change_state(
        world,
        account,
        region,
        name,
        target,
        &reason,
        Some(data.to_string()),
        now,
    );
}

/// Moves an alarm to a state, writes the `StateUpdate` item and, when the state value changed and
/// actions are enabled, runs the new state's actions (one `Action` item each, after it).
#[allow(clippy::too_many_arguments)]
pub(super) fn change_state(
    world: &mut World,
    account: &str,
    region: &str,
    name: &str,
    new_state: StateValue,
    reason: &str,
    reason_data: Option<String>,
    now: DateTime<Utc>,
) {
    let Some(regional) = world.regional_mut(account, region) else {
        return;
    };
    let state = &mut regional.cloudwatch;
    let Some(alarm) = state.alarms.get_mut(name) else {
        return;
    };
    let old_state = alarm.state;
    let transitioned = old_state != new_state;
    if !transitioned {
        // Same value: the reason is refreshed, nothing is recorded and no action runs.
        alarm.state_reason = reason.to_string();
        alarm.state_reason_data = reason_data;
        alarm.state_updated = now;
        return;
    }
    let state_json = |value: StateValue, reason: &str, data: Option<&str>| {
        let mut object = json!({"stateValue": value.as_str(), "stateReason": reason});
        if let Some(parsed) = data.and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok()) {
            if let Some(map) = object.as_object_mut() {
                map.insert("stateReasonData".to_string(), parsed);
            }
        }
        object
    };
    let data = json!({
        "version": "1.0",
        "oldState": state_json(old_state, &alarm.state_reason, alarm.state_reason_data.as_deref()),
        "newState": state_json(new_state, reason, reason_data.as_deref()),
    });
    alarm.state = new_state;
    alarm.state_reason = reason.to_string();
    alarm.state_reason_data = reason_data;
    alarm.state_updated = now;
    alarm.state_transitioned = now;
    let actions = if alarm.config.actions_enabled {
        alarm.config.actions_for(new_state).to_vec()
    } else {
        Vec::new()
    };
    let alarm = alarm.clone();
    state.history.push(HistoryItem {
        alarm_name: name.to_string(),
        timestamp: now,
        item_type: HistoryItemType::StateUpdate,
        summary: format!(
            "Alarm updated from {} to {}",
            old_state.as_str(),
            new_state.as_str()
        ),
        data: data.to_string(),
    });

    for arn in actions {
        let outcome = execute_action(world, account, region, &alarm, &arn, now);
        let (summary, data) = match &outcome {
            Ok(()) => (
                format!("Successfully executed action {arn}"),
                json!({
                    "error": null,
                    "actionState": "Succeeded",
                    "notificationResource": arn,
                    "stateUpdateTimestamp": now.timestamp_millis(),
                }),
            ),
            Err(error) => (
                format!("Failed to execute action {arn}. Received error: \"{error}\""),
                json!({
                    "error": error,
                    "actionState": "Failed",
                    "notificationResource": arn,
                    "stateUpdateTimestamp": now.timestamp_millis(),
                }),
            ),
        };
        tracing::debug!(alarm = name, action = %arn, ok = outcome.is_ok(), "alarm action");
        if let Some(regional) = world.regional_mut(account, region) {
            regional.cloudwatch.history.push(HistoryItem {
                alarm_name: name.to_string(),
                timestamp: now,
                item_type: HistoryItemType::Action,
                summary: truncate(summary, HISTORY_SUMMARY_MAX),
                data: data.to_string(),
            });
        }
    }
}
