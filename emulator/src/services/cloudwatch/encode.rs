//! The `MetricAlarm` output shape.

use crate::{state::cloudwatch::MetricAlarm, value::Value};

/// A `MetricAlarm` in the model's member order. Only configuration and state: never the
/// creator (AWS shows it nowhere; see `state::cloudwatch::Creator`).
pub(super) fn metric_alarm_value(alarm: &MetricAlarm) -> Value {
    let c = &alarm.config;
    let strings = |items: &[String]| items.iter().map(String::as_str).collect::<Value>();
    Value::structure()
        .with("AlarmName", alarm.name.as_str())
        .with("AlarmArn", alarm.arn.as_str())
        .with_opt("AlarmDescription", c.description.as_deref())
        .with(
            "AlarmConfigurationUpdatedTimestamp",
            alarm.configuration_updated,
        )
        .with("ActionsEnabled", c.actions_enabled)
        .with("OKActions", strings(&c.ok_actions))
        .with("AlarmActions", strings(&c.alarm_actions))
        .with(
            "InsufficientDataActions",
            strings(&c.insufficient_data_actions),
        )
        .with("StateValue", alarm.state.as_str())
        .with("StateReason", alarm.state_reason.as_str())
        .with_opt("StateReasonData", alarm.state_reason_data.as_deref())
        .with("StateUpdatedTimestamp", alarm.state_updated)
        .with("MetricName", c.metric_name.as_str())
        .with("Namespace", c.namespace.as_str())
        .with_opt("Statistic", c.statistic.as_deref())
        .with(
            "Dimensions",
            c.dimensions
                .iter()
                .map(|d| {
                    Value::structure()
                        .with("Name", d.name.as_str())
                        .with("Value", d.value.as_str())
                })
                .collect::<Value>(),
        )
        .with("Period", c.period)
        .with_opt("Unit", c.unit.as_deref())
        .with("EvaluationPeriods", c.evaluation_periods)
        .with("Threshold", Value::Float(c.threshold))
        .with("ComparisonOperator", c.comparison_operator.as_str())
        .with_opt("ExtendedStatistic", c.extended_statistic.as_deref())
        .with_opt("TreatMissingData", c.treat_missing_data.as_deref())
        .with_opt(
            "EvaluateLowSampleCountPercentile",
            c.evaluate_low_sample_count_percentile.as_deref(),
        )
        .with_opt("DatapointsToAlarm", c.datapoints_to_alarm)
        .with("StateTransitionedTimestamp", alarm.state_transitioned)
}
