//! CloudWatch: firing the alarms, reading their `Action` history items, and describing them.

use aws_sdk_cloudwatch::types::{HistoryItemType, MetricAlarm, StateValue};
use serde_json::{json, Value};
use wana_harness::{msg_tr, HarnessError, RunContext, Step, StepError};

use super::{ActionOutcome, Actor, HISTORY_WAIT, STATE_REASON};

/// `aws cloudwatch set-alarm-state --alarm-name <alarm> --state-value ALARM --state-reason
/// "Manual Update to ALARM"`.
pub(super) async fn set_alarm_state(
    ctx: &mut RunContext,
    principal: &Actor,
    alarm: &str,
) -> Result<(), HarnessError> {
    let result = principal
        .cloudwatch
        .set_alarm_state()
        .alarm_name(alarm)
        .state_value(StateValue::Alarm)
        .state_reason(STATE_REASON)
        .send()
        .await;
    ctx.recorder.record_sdk(
        &principal.label,
        "cloudwatch:SetAlarmState",
        result,
        |_| json!({ "AlarmName": alarm, "StateValue": "ALARM", "StateReason": STATE_REASON }),
    )?;
    Ok(())
}

/// `aws cloudwatch describe-alarm-history --alarm-name <alarm> --history-item-type Action`,
/// polled until CloudWatch has written the item of the action. The read is recorded with the
/// summary; the action itself is then recorded as a step of its own, failed or not, with the
/// error text CloudWatch kept: what the action did is the point of the trap.
pub(super) async fn action_outcome(
    ctx: &mut RunContext,
    reader: &Actor,
    alarm: &str,
    creator_label: &str,
) -> Result<ActionOutcome, HarnessError> {
    let mut polling = HISTORY_WAIT.start();
    loop {
        let result = reader
            .cloudwatch
            .describe_alarm_history()
            .alarm_name(alarm)
            .history_item_type(HistoryItemType::Action)
            .send()
            .await;
        // Newest first, as CloudWatch lists them.
        let newest = match &result {
            Ok(out) => out.alarm_history_items().first().cloned(),
            Err(_) => None,
        };
        if result.is_ok() && newest.is_none() && polling.again(ctx).await {
            continue;
        }
        ctx.recorder.record_sdk(
            &reader.label,
            "cloudwatch:DescribeAlarmHistory",
            result,
            |out| {
                let items: Vec<Value> = out
                    .alarm_history_items()
                    .iter()
                    .map(|i| {
                        json!({
                            "HistoryItemType": i.history_item_type().map(|t| t.as_str()),
                            "HistorySummary": i.history_summary(),
                        })
                    })
                    .collect();
                json!({ "AlarmName": alarm, "HistoryItemType": "Action", "AlarmHistoryItems": items })
            },
        )?;
        let item = newest.ok_or_else(|| {
            HarnessError::Scenario(format!(
                "alarm {alarm} has no Action item in its history after {} reads",
                polling.waits() + 1
            ))
        })?;
        let outcome = parse_action_item(
            item.history_summary().unwrap_or_default(),
            item.history_data().unwrap_or_default(),
        );
        let call = format!("alarm action of {alarm}");
        let step = if outcome.succeeded {
            Step::succeeded(ctx.recorder.phase(), "cloudwatch.amazonaws.com", call)
                .with_detail(json!({ "HistorySummary": outcome.summary }))
        } else {
            let error = StepError::new(
                outcome.action_state.clone(),
                outcome
                    .error
                    .clone()
                    .unwrap_or_else(|| outcome.summary.clone()),
            );
            Step::failed(
                ctx.recorder.phase(),
                "cloudwatch.amazonaws.com",
                call,
                &error,
            )
            .with_detail(json!({ "HistorySummary": outcome.summary }))
        };
        ctx.recorder.push_noted(step, msg_tr!(_, "notes.alarm_recover.action_item", creator_label = &creator_label));
        return Ok(outcome);
    }
}

/// Reads an `Action` history item: `HistoryData` is JSON with `actionState` (`Succeeded`,
/// `Failed`) and `error` (null on success).
pub fn parse_action_item(summary: &str, data: &str) -> ActionOutcome {
    let data: Value = serde_json::from_str(data).unwrap_or(Value::Null);
    let action_state = data["actionState"]
        .as_str()
        .map(str::to_string)
        // Without data, the summary's wording is all there is to go by.
        .unwrap_or_else(|| {
            if summary.starts_with("Successfully executed action") {
                "Succeeded".to_string()
            } else {
                "Failed".to_string()
            }
        });
    ActionOutcome {
        succeeded: action_state == "Succeeded",
        summary: summary.to_string(),
        error: data["error"].as_str().map(str::to_string),
        action_state,
    }
}

/// `aws cloudwatch describe-alarms`: the alarms as anyone can see them. The fields the answer
/// carries are recorded by name, to show that none of them says who created the alarm.
pub(super) async fn describe_alarms(
    ctx: &mut RunContext,
    reader: &Actor,
    alarms: &[&str],
) -> Result<(), HarnessError> {
    let result = reader
        .cloudwatch
        .describe_alarms()
        .set_alarm_names(Some(alarms.iter().map(|a| a.to_string()).collect()))
        .send()
        .await;
    ctx.recorder
        .record_sdk(&reader.label, "cloudwatch:DescribeAlarms", result, |out| {
            let described: Vec<Value> = out
                .metric_alarms()
                .iter()
                .map(|alarm| {
                    json!({
                        "AlarmName": alarm.alarm_name(),
                        "StateValue": alarm.state_value().map(|s| s.as_str()),
                        "AlarmActions": alarm.alarm_actions(),
                        "Fields": present_fields(alarm),
                    })
                })
                .collect();
            json!({ "MetricAlarms": described })
        })?;
    Ok(())
}

/// The names of the `MetricAlarm` members present in a DescribeAlarms answer.
pub fn present_fields(alarm: &MetricAlarm) -> Vec<&'static str> {
    let checks: [(&'static str, bool); 26] = [
        ("AlarmName", alarm.alarm_name().is_some()),
        ("AlarmArn", alarm.alarm_arn().is_some()),
        ("AlarmDescription", alarm.alarm_description().is_some()),
        (
            "AlarmConfigurationUpdatedTimestamp",
            alarm.alarm_configuration_updated_timestamp().is_some(),
        ),
        ("ActionsEnabled", alarm.actions_enabled().is_some()),
        ("OKActions", alarm.ok_actions.is_some()),
        ("AlarmActions", alarm.alarm_actions.is_some()),
        (
            "InsufficientDataActions",
            alarm.insufficient_data_actions.is_some(),
        ),
        ("StateValue", alarm.state_value().is_some()),
        ("StateReason", alarm.state_reason().is_some()),
        ("StateReasonData", alarm.state_reason_data().is_some()),
        (
            "StateUpdatedTimestamp",
            alarm.state_updated_timestamp().is_some(),
        ),
        ("MetricName", alarm.metric_name().is_some()),
        ("Namespace", alarm.namespace().is_some()),
        ("Statistic", alarm.statistic().is_some()),
        ("ExtendedStatistic", alarm.extended_statistic().is_some()),
        ("Dimensions", alarm.dimensions.is_some()),
        ("Period", alarm.period().is_some()),
        ("Unit", alarm.unit().is_some()),
        ("EvaluationPeriods", alarm.evaluation_periods().is_some()),
        ("DatapointsToAlarm", alarm.datapoints_to_alarm().is_some()),
        ("Threshold", alarm.threshold().is_some()),
        ("ComparisonOperator", alarm.comparison_operator().is_some()),
        ("TreatMissingData", alarm.treat_missing_data().is_some()),
        (
            "EvaluateLowSampleCountPercentile",
            alarm.evaluate_low_sample_count_percentile().is_some(),
        ),
        (
            "StateTransitionedTimestamp",
            alarm.state_transitioned_timestamp().is_some(),
        ),
    ];
    checks
        .into_iter()
        .filter(|(_, present)| *present)
        .map(|(name, _)| name)
        .collect()
}
