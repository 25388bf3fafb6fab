//! DescribeAlarms and DescribeAlarmHistory, with their paging (`MaxRecords`, `NextToken`).

use crate::{
    error::AwsError,
    state::{
        cloudwatch::{alarm_arn, HistoryItem, MetricAlarm, StateValue},
        World,
    },
    validation::Violations,
    value::Value,
};

use super::decode::{optional_timestamp, string_list};
use super::encode::metric_alarm_value;
use super::validate::{
    Constraints, ALARM_TYPES, DEFAULT_MAX_RECORDS, HISTORY_ITEM_TYPES, MAX_ALARM_NAMES, MAX_RECORDS, SCAN_BY,
    STATE_VALUES_AS_LISTED,
};
use super::Call;

fn page_params(call: &Call<'_>) -> Result<(usize, usize), AwsError> {
    let max = call.optional_i64("MaxRecords")?;
    let mut violations = Violations::default();
    if let Some(max) = max {
        violations.at_least("maxRecords", max, 1);
        violations.at_most("maxRecords", max, MAX_RECORDS);
    }
    violations.finish()?;
    let start = match call.optional("NextToken") {
        None => 0,
        Some(token) => token.parse::<usize>().map_err(|_| {
            AwsError::new(
                "InvalidNextToken",
                400,
                "The service returned an invalid next token.",
            )
        })?,
    };
    Ok((start, max.map_or(DEFAULT_MAX_RECORDS, |m| m as usize)))
}

/// One page of `items` and the token of the next, if any.
fn page<T>(items: Vec<T>, start: usize, max: usize) -> Result<(Vec<T>, Option<String>), AwsError> {
    if start > items.len() {
        return Err(AwsError::new(
            "InvalidNextToken",
            400,
            "The service returned an invalid next token.",
        ));
    }
    let end = (start + max).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((items.into_iter().skip(start).take(max).collect(), next))
}

pub(super) fn describe_alarms(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let names = string_list(call, "AlarmNames")?;
    let prefix = call.optional("AlarmNamePrefix");
    let state_value = call.optional("StateValue");
    let action_prefix = call.optional("ActionPrefix");
    let alarm_types = string_list(call, "AlarmTypes")?;
    let mut violations = Violations::default();
    violations.list("alarmNames", &names, MAX_ALARM_NAMES);
    if let Some(p) = prefix {
        violations.length("alarmNamePrefix", p, 1, 255);
    }
    if let Some(p) = action_prefix {
        violations.length("actionPrefix", p, 1, 1024);
    }
    if let Some(s) = state_value {
        violations.one_of("stateValue", s, STATE_VALUES_AS_LISTED);
    }
    for (i, t) in alarm_types.iter().enumerate() {
        violations.one_of(&format!("alarmTypes.{}.member", i + 1), t, ALARM_TYPES);
    }
    violations.finish()?;
    let (start, max) = page_params(call)?;
    call.authorize_identity(world, "cloudwatch:DescribeAlarms", "*")?;

    // Without AlarmTypes only metric alarms are listed (DescribeAlarms reference); wana has no
    // other kind.
    let metric_alarms_wanted =
        alarm_types.is_empty() || alarm_types.iter().any(|t| t == "MetricAlarm");
    let state_value = state_value.and_then(StateValue::parse);
    let matching: Vec<&MetricAlarm> = world
        .regional(call.account(), call.region)
        .map(|r| r.cloudwatch.alarms.values().collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|_| metric_alarms_wanted)
        .filter(|a| names.is_empty() || names.contains(&a.name))
        .filter(|a| prefix.is_none_or(|p| a.name.starts_with(p)))
        .filter(|a| state_value.is_none_or(|s| a.state == s))
        .filter(|a| {
            action_prefix.is_none_or(|p| {
                let c = &a.config;
                c.alarm_actions
                    .iter()
                    .chain(&c.ok_actions)
                    .chain(&c.insufficient_data_actions)
                    .any(|arn| arn.starts_with(p))
            })
        })
        .collect();
    let (alarms, next) = page(matching, start, max)?;
    Ok(Value::structure()
        .with("CompositeAlarms", Value::List(Vec::new()))
        .with(
            "MetricAlarms",
            alarms
                .into_iter()
                .map(metric_alarm_value)
                .collect::<Value>(),
        )
        .with_opt("NextToken", next))
}

pub(super) fn describe_alarm_history(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.optional("AlarmName");
    let item_type = call.optional("HistoryItemType");
    let scan_by = call.optional("ScanBy").unwrap_or("TimestampDescending");
    let start_date = optional_timestamp(call, "StartDate")?;
    let end_date = optional_timestamp(call, "EndDate")?;
    let alarm_types = string_list(call, "AlarmTypes")?;
    let mut violations = Violations::default();
    if let Some(n) = name {
        violations.length("alarmName", n, 1, 255);
    }
    if let Some(t) = item_type {
        violations.one_of("historyItemType", t, HISTORY_ITEM_TYPES);
    }
    violations.one_of("scanBy", scan_by, SCAN_BY);
    for (i, t) in alarm_types.iter().enumerate() {
        violations.one_of(&format!("alarmTypes.{}.member", i + 1), t, ALARM_TYPES);
    }
    violations.finish()?;
    let (start, max) = page_params(call)?;
    let account = call.account();
    let resource = name.map_or_else(|| "*".to_string(), |n| alarm_arn(account, call.region, n));
    call.authorize_identity(world, "cloudwatch:DescribeAlarmHistory", &resource)?;

    let metric_alarms_wanted =
        alarm_types.is_empty() || alarm_types.iter().any(|t| t == "MetricAlarm");
    // Items are kept oldest first; reversing keeps the order of items written at the same
    // instant (the `Action` items after their `StateUpdate`) mirrored, as AWS lists them.
    let mut items: Vec<&HistoryItem> = world
        .regional(account, call.region)
        .map(|r| r.cloudwatch.history.iter().collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|_| metric_alarms_wanted)
        .filter(|i| name.is_none_or(|n| i.alarm_name == n))
        .filter(|i| item_type.is_none_or(|t| i.item_type.as_str() == t))
        .filter(|i| start_date.is_none_or(|s| i.timestamp >= s))
        .filter(|i| end_date.is_none_or(|e| i.timestamp <= e))
        .collect();
    if scan_by == "TimestampDescending" {
        items.reverse();
    }
    let (items, next) = page(items, start, max)?;
    let items = items
        .into_iter()
        .map(|i| {
            Value::structure()
                .with("AlarmName", i.alarm_name.as_str())
                .with("AlarmType", "MetricAlarm")
                .with("Timestamp", i.timestamp)
                .with("HistoryItemType", i.item_type.as_str())
                .with("HistorySummary", i.summary.as_str())
                .with("HistoryData", i.data.as_str())
        })
        .collect::<Value>();
    Ok(Value::structure()
        .with("AlarmHistoryItems", items)
        .with_opt("NextToken", next))
}
