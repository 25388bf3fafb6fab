//! CloudWatch metric alarms on the wire: PutMetricAlarm, DescribeAlarms, DescribeAlarmHistory,
//! SetAlarmState, DeleteAlarms, EnableAlarmActions, DisableAlarmActions.
//!
//! The same handler serves the three protocols CloudWatch speaks (rpcv2Cbor for the Rust SDK,
//! awsJson 1.0 for current botocore, awsQuery for older clients); members arrive typed (CBOR,
//! JSON) or as text (query), so every number, boolean and timestamp is read through the
//! protocol-neutral accessors. Output shapes follow the CloudWatch model (botocore
//! `cloudwatch/2010-08-01/service-2.json`, aws-sdk-cloudwatch `protocol_serde`): `Threshold` is a
//! double and so always a [`Value::Float`]; the three action lists and `Dimensions` are always
//! present, empty or not, as AWS answers (LocalStack's AWS-recorded snapshots).
//!
//! Error texts: the confirmed ones are cited where they are raised; the others follow AWS's
//! Coral validation format (`1 validation error detected: Value '…' at 'member' failed to satisfy
//! constraint: …`) and are marked as the emulator's wording.

use chrono::{DateTime, Utc};

use crate::{
    authz::{denied_message, AuthzRequest},
    error::AwsError,
    state::{
        cloudwatch::{
            self as model, alarm_arn, parse_action, ActionTarget, AlarmConfig, Creator, Dimension,
            HistoryItem, MetricAlarm, StateValue, Tag, EVENTS_SERVICE,
        },
        iam::service_linked_role_arn,
        World,
    },
    value::Value,
};

use super::Call;

pub fn handle(world: &mut World, call: &Call<'_>) -> Option<Result<Value, AwsError>> {
    Some(match call.action {
        "PutMetricAlarm" => put_metric_alarm(world, call),
        "DescribeAlarms" => describe_alarms(world, call),
        "DescribeAlarmHistory" => describe_alarm_history(world, call),
        "SetAlarmState" => set_alarm_state(world, call),
        "DeleteAlarms" => delete_alarms(world, call),
        "EnableAlarmActions" => set_actions_enabled(world, call, true),
        "DisableAlarmActions" => set_actions_enabled(world, call, false),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Model constraints (service-2.json).

const STATISTICS: &[&str] = &["SampleCount", "Average", "Sum", "Minimum", "Maximum"];
const COMPARISON_OPERATORS: &[&str] = &[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
];
const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];
/// In the order AWS lists them in its enum message (observed, LocalStack snapshot
/// `test_set_alarm_invalid_input`).
const STATE_VALUES_AS_LISTED: &[&str] = &["INSUFFICIENT_DATA", "ALARM", "OK"];
const HISTORY_ITEM_TYPES: &[&str] = &[
    "ConfigurationUpdate",
    "StateUpdate",
    "Action",
    "AlarmContributorStateUpdate",
    "AlarmContributorAction",
];
const SCAN_BY: &[&str] = &["TimestampDescending", "TimestampAscending"];
const ALARM_TYPES: &[&str] = &["CompositeAlarm", "MetricAlarm", "LogAlarm"];
const TREAT_MISSING_DATA: &[&str] = &["breaching", "notBreaching", "ignore", "missing"];
const LOW_SAMPLE_COUNT: &[&str] = &["evaluate", "ignore"];
/// `ResourceList` holds at most 5 actions; `Dimensions` at most 30; `AlarmNames` at most 100.
const MAX_ACTIONS: usize = 5;
const MAX_DIMENSIONS: usize = 30;
const MAX_ALARM_NAMES: usize = 100;
const DEFAULT_MAX_RECORDS: usize = 50;
const MAX_RECORDS: i64 = 100;

/// Coral's constraint messages, gathered so that one answer names every violation, as AWS does.
#[derive(Debug, Default)]
struct Violations(Vec<String>);

/// Coral names members in lower camel case: the first letter lowered (`OKActions` → `oKActions`).
fn coral_name(member: &str) -> String {
    let mut name = member.to_string();
    if let Some(first) = name.get_mut(0..1) {
        first.make_ascii_lowercase();
    }
    name
}

impl Violations {
    fn push(&mut self, member: &str, value: &str, constraint: impl AsRef<str>) {
        self.0.push(format!(
            "Value '{value}' at '{member}' failed to satisfy constraint: {}",
            constraint.as_ref()
        ));
    }

    fn length(&mut self, member: &str, value: &str, min: usize, max: usize) {
        let len = value.chars().count();
        if len < min {
            self.push(
                member,
                value,
                format!("Member must have length greater than or equal to {min}"),
            );
        } else if len > max {
            self.push(
                member,
                value,
                format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    fn one_of(&mut self, member: &str, value: &str, allowed: &[&str]) {
        if !allowed.contains(&value) {
            self.push(
                member,
                value,
                format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            );
        }
    }

    fn at_least(&mut self, member: &str, value: i64, min: i64) {
        if value < min {
            self.push(
                member,
                &value.to_string(),
                format!("Member must have value greater than or equal to {min}"),
            );
        }
    }

    fn at_most(&mut self, member: &str, value: i64, max: i64) {
        if value > max {
            self.push(
                member,
                &value.to_string(),
                format!("Member must have value less than or equal to {max}"),
            );
        }
    }

    fn list(&mut self, member: &str, items: &[String], max: usize) {
        if items.len() > max {
            self.push(
                member,
                &format!("[{}]", items.join(", ")),
                format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    fn finish(self) -> Result<(), AwsError> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(AwsError::validation(format!(
                "1 validation error detected: {}",
                self.0[0]
            ))),
            n => Err(AwsError::validation(format!(
                "{n} validation errors detected: {}",
                self.0.join("; ")
            ))),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading members in any protocol.

fn invalid_type(name: &str) -> AwsError {
    AwsError::validation(format!("Invalid value for parameter {name}"))
}

fn string_list(call: &Call<'_>, name: &str) -> Result<Vec<String>, AwsError> {
    match call.params.get(name) {
        None => Ok(Vec::new()),
        // The query protocols spell an empty list `Name=`.
        Some(Value::Str(s)) if s.is_empty() => Ok(Vec::new()),
        Some(Value::List(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid_type(name))
            })
            .collect(),
        Some(_) => Err(invalid_type(name)),
    }
}

fn structures<'a>(call: &Call<'a>, name: &str) -> Result<&'a [Value], AwsError> {
    match call.params.get(name) {
        None => Ok(&[]),
        Some(Value::Str(s)) if s.is_empty() => Ok(&[]),
        Some(Value::List(items))
            if items
                .iter()
                .all(|i| matches!(i, Value::Struct(_) | Value::Map(_))) =>
        {
            Ok(items)
        }
        Some(_) => Err(invalid_type(name)),
    }
}

fn optional_bool(call: &Call<'_>, name: &str) -> Result<Option<bool>, AwsError> {
    match call.params.get(name) {
        None => Ok(None),
        Some(v) => v.as_bool().map(Some).ok_or_else(|| invalid_type(name)),
    }
}

fn optional_f64(call: &Call<'_>, name: &str) -> Result<Option<f64>, AwsError> {
    match call.params.get(name) {
        None => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or_else(|| invalid_type(name)),
    }
}

/// A timestamp member: a CBOR timestamp, JSON epoch seconds, or query ISO 8601 text.
fn optional_timestamp(call: &Call<'_>, name: &str) -> Result<Option<DateTime<Utc>>, AwsError> {
    let parsed = match call.params.get(name) {
        None => return Ok(None),
        Some(Value::Timestamp(t)) => Some(*t),
        Some(Value::Int(seconds)) => DateTime::from_timestamp(*seconds, 0),
        Some(Value::Float(seconds)) if seconds.is_finite() => {
            DateTime::from_timestamp_millis((seconds * 1000.0).round() as i64)
        }
        Some(Value::Str(text)) => DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                text.parse::<f64>()
                    .ok()
                    .and_then(|s| DateTime::from_timestamp_millis((s * 1000.0).round() as i64))
            }),
        Some(_) => None,
    };
    parsed.map(Some).ok_or_else(|| invalid_type(name))
}

fn member_str<'a>(item: &'a Value, name: &str) -> Option<&'a str> {
    item.get(name).and_then(Value::as_str)
}

// ---------------------------------------------------------------------------------------------
// PutMetricAlarm.

/// A semantic check that has no Coral form: `<Member> must not be null`, as AWS answers a missing
/// `MetricName` (observed: "MetricName must not be null", cfn-lint #771 and terraform-provider-aws
/// #11105). The other members are given the same wording.
fn must_not_be_null(member: &str) -> AwsError {
    AwsError::validation(format!("{member} must not be null"))
}

fn put_metric_alarm(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("AlarmName")?;
    let description = call.optional("AlarmDescription");
    let ok_actions = string_list(call, "OKActions")?;
    let alarm_actions = string_list(call, "AlarmActions")?;
    let insufficient_data_actions = string_list(call, "InsufficientDataActions")?;
    let metric_name = call.optional("MetricName");
    let namespace = call.optional("Namespace");
    let statistic = call.optional("Statistic");
    let extended_statistic = call.optional("ExtendedStatistic");
    let period = call.optional_i64("Period")?;
    let unit = call.optional("Unit");
    let evaluation_periods = call.optional_i64("EvaluationPeriods")?;
    let datapoints_to_alarm = call.optional_i64("DatapointsToAlarm")?;
    let threshold = optional_f64(call, "Threshold")?;
    let comparison_operator = call.optional("ComparisonOperator");
    let treat_missing_data = call.optional("TreatMissingData");
    let low_sample_count = call.optional("EvaluateLowSampleCountPercentile");
    let actions_enabled = optional_bool(call, "ActionsEnabled")?.unwrap_or(true);

    let mut violations = Violations::default();
    violations.length("alarmName", name, 1, 255);
    if let Some(d) = description {
        violations.length("alarmDescription", d, 0, 1024);
    }
    for (member, list) in [
        ("OKActions", &ok_actions),
        ("AlarmActions", &alarm_actions),
        ("InsufficientDataActions", &insufficient_data_actions),
    ] {
        violations.list(&coral_name(member), list, MAX_ACTIONS);
        for (i, arn) in list.iter().enumerate() {
            violations.length(
                &format!("{}.{}.member", coral_name(member), i + 1),
                arn,
                1,
                1024,
            );
        }
    }
    for (member, value) in [("metricName", metric_name), ("namespace", namespace)] {
        if let Some(value) = value {
            violations.length(member, value, 1, 255);
        }
    }
    if let Some(s) = statistic {
        violations.one_of("statistic", s, STATISTICS);
    }
    if let Some(op) = comparison_operator {
        violations.one_of("comparisonOperator", op, COMPARISON_OPERATORS);
    }
    if let Some(u) = unit {
        violations.one_of("unit", u, UNITS);
    }
    for (member, value) in [
        ("period", period),
        ("evaluationPeriods", evaluation_periods),
        ("datapointsToAlarm", datapoints_to_alarm),
    ] {
        if let Some(value) = value {
            violations.at_least(member, value, 1);
        }
    }
    let mut dimensions = Vec::new();
    let dimension_items = structures(call, "Dimensions")?;
    if dimension_items.len() > MAX_DIMENSIONS {
        violations.push(
            "dimensions",
            &format!("{} dimensions", dimension_items.len()),
            "Member must have length less than or equal to 30",
        );
    }
    for (i, item) in dimension_items.iter().enumerate() {
        let (Some(dim_name), Some(dim_value)) =
            (member_str(item, "Name"), member_str(item, "Value"))
        else {
            return Err(missing_nested(
                &format!("dimensions.{}.member", i + 1),
                item,
            ));
        };
        violations.length(
            &format!("dimensions.{}.member.name", i + 1),
            dim_name,
            1,
            255,
        );
        violations.length(
            &format!("dimensions.{}.member.value", i + 1),
            dim_value,
            1,
            1024,
        );
        dimensions.push(Dimension {
            name: dim_name.to_string(),
            value: dim_value.to_string(),
        });
    }
    let mut tags = Vec::new();
    for (i, item) in structures(call, "Tags")?.iter().enumerate() {
        let (Some(key), Some(value)) = (member_str(item, "Key"), member_str(item, "Value")) else {
            return Err(missing_nested(&format!("tags.{}.member", i + 1), item));
        };
        violations.length(&format!("tags.{}.member.key", i + 1), key, 1, 128);
        violations.length(&format!("tags.{}.member.value", i + 1), value, 0, 256);
        tags.push(Tag {
            key: key.to_string(),
            value: value.to_string(),
        });
    }
    violations.finish()?;

    let account = call.account();
    let arn = alarm_arn(account, call.region, name);
    call.authorize_identity(world, "cloudwatch:PutMetricAlarm", &arn)?;
    // PutMetricAlarm reference: creating an alarm with tags also needs cloudwatch:TagResource.
    if !tags.is_empty() {
        call.authorize_identity(world, "cloudwatch:TagResource", &arn)?;
    }

    // Alarms on metric math, anomaly bands and Metrics Insights are not emulated: say so rather
    // than store an alarm that could never behave like AWS's.
    for unsupported in ["Metrics", "ThresholdMetricId", "EvaluationCriteria"] {
        if call.params.get(unsupported).is_some() {
            return Err(AwsError::validation(format!(
                "wana does not emulate alarms with {unsupported}; give MetricName, Namespace, Statistic, Period and Threshold instead"
            )));
        }
    }
    let metric_name = metric_name.ok_or_else(|| must_not_be_null("MetricName"))?;
    let namespace = namespace.ok_or_else(|| must_not_be_null("Namespace"))?;
    let period = period.ok_or_else(|| must_not_be_null("Period"))?;
    let evaluation_periods =
        evaluation_periods.ok_or_else(|| must_not_be_null("EvaluationPeriods"))?;
    let threshold = threshold.ok_or_else(|| must_not_be_null("Threshold"))?;
    let comparison_operator =
        comparison_operator.ok_or_else(|| must_not_be_null("ComparisonOperator"))?;
    // The emulator's wording, after GetMetricStatistics' "Must specify either Statistics or
    // ExtendedStatistics".
    match (statistic, extended_statistic) {
        (None, None) => {
            return Err(AwsError::new(
                "InvalidParameterCombination",
                400,
                "Must specify either Statistic or ExtendedStatistic",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(AwsError::new(
                "InvalidParameterCombination",
                400,
                "Statistic and ExtendedStatistic are mutually exclusive",
            ))
        }
        _ => {}
    }
    // Observed: "DatapointsToAlarm must be less than or equal to EvaluationPeriods"
    // (hashicorp/terraform #24070).
    if datapoints_to_alarm.is_some_and(|d| d > evaluation_periods) {
        return Err(AwsError::validation(
            "DatapointsToAlarm must be less than or equal to EvaluationPeriods",
        ));
    }
    // The emulator's wording, after AWS's message for EvaluateLowSampleCountPercentile.
    if let Some(t) = treat_missing_data.filter(|t| !TREAT_MISSING_DATA.contains(t)) {
        return Err(AwsError::validation(format!(
            "Option {t} is not supported. Supported options for parameter TreatMissingData are missing, ignore, breaching and notBreaching."
        )));
    }
    if let Some(l) = low_sample_count.filter(|l| !LOW_SAMPLE_COUNT.contains(l)) {
        return Err(AwsError::validation(format!(
            "Option {l} is not supported. Supported options for parameter EvaluateLowSampleCountPercentile are evaluate and ignore."
        )));
    }

    let config = AlarmConfig {
        description: description.map(str::to_string),
        actions_enabled,
        ok_actions,
        alarm_actions,
        insufficient_data_actions,
        metric_name: metric_name.to_string(),
        namespace: namespace.to_string(),
        statistic: statistic.map(str::to_string),
        extended_statistic: extended_statistic.map(str::to_string),
        dimensions,
        period,
        unit: unit.map(str::to_string),
        evaluation_periods,
        datapoints_to_alarm,
        threshold,
        comparison_operator: comparison_operator.to_string(),
        treat_missing_data: treat_missing_data.map(str::to_string),
        evaluate_low_sample_count_percentile: low_sample_count.map(str::to_string),
        tags,
    };
    let has_ec2_action = check_actions(&config, call.region)?;
    if has_ec2_action && model::ec2_actions_need_service_linked_role(world.profile) {
        ensure_events_service_linked_role(world, call)?;
    }
    model::put_metric_alarm(
        world,
        account,
        call.region,
        name,
        config,
        Creator::of(call.caller),
        call.now,
    )?;
    Ok(Value::structure())
}

fn missing_nested(path: &str, item: &Value) -> AwsError {
    let absent = ["Name", "Value", "Key"]
        .into_iter()
        .find(|m| item.get(m).is_none())
        .unwrap_or("Value");
    AwsError::validation(format!(
        "1 validation error detected: Value null at '{path}.{}' failed to satisfy constraint: Member must not be null",
        coral_name(absent)
    ))
}

/// Validates every action ARN; answers whether any is an EC2 action.
fn check_actions(config: &AlarmConfig, region: &str) -> Result<bool, AwsError> {
    let mut has_ec2_action = false;
    let all = config
        .ok_actions
        .iter()
        .chain(&config.alarm_actions)
        .chain(&config.insufficient_data_actions);
    for arn in all {
        // Observed: an action that is not an ARN is refused with a bare `ValidationError` and no
        // message (hashicorp/terraform #19015).
        let target = parse_action(arn).ok_or_else(|| AwsError::validation(""))?;
        let arn_region = arn.split(':').nth(3).unwrap_or_default();
        if !arn_region.is_empty() && arn_region != region {
            // The emulator's wording for an action in another region.
            return Err(AwsError::validation(format!(
                "Invalid region {arn_region} specified. Only {region} is supported."
            )));
        }
        if let ActionTarget::Ec2 { .. } = target {
            has_ec2_action = true;
            // Observed (marklogic/cloud-enablement-aws #82).
            if config.instance_id().is_none() {
                return Err(AwsError::validation(
                    "Invalid use of EC2 action. An EC2 action can only be used if the alarm is monitoring an EC2 instance.",
                ));
            }
        }
    }
    Ok(has_ec2_action)
}

/// Since 2017-12 an alarm with EC2 actions needs the service-linked role
/// `AWSServiceRoleForCloudWatchEvents`; PutMetricAlarm creates it on first use, as the caller,
/// who must be allowed `iam:CreateServiceLinkedRole` (PutMetricAlarm reference). Observed denial:
/// `User: <arn> is not authorized to perform: iam:CreateServiceLinkedRole on resource:
/// arn:aws:iam::<acct>:role/aws-service-role/events.amazonaws.com/AWSServiceRoleForCloudWatchEvents
/// because no identity-based policy allows the iam:CreateServiceLinkedRole action`
/// (aws-samples/amazon-cloudwatch-auto-alarms #47).
fn ensure_events_service_linked_role(world: &mut World, call: &Call<'_>) -> Result<(), AwsError> {
    let account = call.account();
    let exists = world
        .account(account)
        .is_some_and(|a| a.iam.roles.contains_key(model::EVENTS_SERVICE_LINKED_ROLE));
    if exists {
        return Ok(());
    }
    let role_arn = service_linked_role_arn(account, EVENTS_SERVICE, None).ok_or_else(|| {
        AwsError::internal("no service-linked role name for events.amazonaws.com")
    })?;
    let action = "iam:CreateServiceLinkedRole";
    let mut request = AuthzRequest::new(action, &role_arn);
    request
        .context
        .push(("iam:AWSServiceName", EVENTS_SERVICE.to_string()));
    let decision = world.authorize(call.facts(), &request);
    if !decision.is_allowed() {
        return Err(AwsError::new(
            "AccessDenied",
            403,
            denied_message(&call.caller.principal.arn(), action, &role_arn, &decision),
        ));
    }
    let (iam, ids) = world.iam_and_ids(account)?;
    iam.create_service_linked_role(ids, account, call.now, EVENTS_SERVICE, None, None)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// DescribeAlarms.

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

fn describe_alarms(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
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

/// A `MetricAlarm` in the model's member order. Only configuration and state: never the
/// creator (AWS shows it nowhere; see `state::cloudwatch::Creator`).
fn metric_alarm_value(alarm: &MetricAlarm) -> Value {
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

// ---------------------------------------------------------------------------------------------
// DescribeAlarmHistory.

fn describe_alarm_history(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
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

// ---------------------------------------------------------------------------------------------
// SetAlarmState, DeleteAlarms, Enable/DisableAlarmActions.

fn set_alarm_state(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("AlarmName")?;
    let state_value = call.required("StateValue")?;
    let reason = call.required("StateReason")?;
    let reason_data = call.optional("StateReasonData");
    let mut violations = Violations::default();
    violations.length("alarmName", name, 1, 255);
    // Observed message: "1 validation error detected: Value 'INVALID' at 'stateValue' failed to
    // satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]".
    violations.one_of("stateValue", state_value, STATE_VALUES_AS_LISTED);
    violations.length("stateReason", reason, 0, 1023);
    if let Some(data) = reason_data {
        violations.length("stateReasonData", data, 0, 4000);
    }
    violations.finish()?;
    let state = StateValue::parse(state_value).ok_or_else(|| invalid_type("StateValue"))?;
    let account = call.account();
    call.authorize_identity(
        world,
        "cloudwatch:SetAlarmState",
        &alarm_arn(account, call.region, name),
    )?;
    // SetAlarmState reference: InvalidFormat for data that is not JSON. The message is the
    // emulator's wording.
    if let Some(data) = reason_data {
        if serde_json::from_str::<serde_json::Value>(data).is_err() {
            return Err(AwsError::new(
                "InvalidFormat",
                400,
                "StateReasonData is not valid JSON.",
            ));
        }
    }
    model::set_alarm_state(
        world,
        account,
        call.region,
        name,
        state,
        reason,
        reason_data,
        call.now,
    )?;
    Ok(Value::structure())
}

fn alarm_names(call: &Call<'_>) -> Result<Vec<String>, AwsError> {
    if call.params.get("AlarmNames").is_none() {
        return Err(super::missing_member("AlarmNames"));
    }
    let names = string_list(call, "AlarmNames")?;
    let mut violations = Violations::default();
    violations.list("alarmNames", &names, MAX_ALARM_NAMES);
    for (i, n) in names.iter().enumerate() {
        violations.length(&format!("alarmNames.{}.member", i + 1), n, 1, 255);
    }
    violations.finish()?;
    Ok(names)
}

fn delete_alarms(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let names = alarm_names(call)?;
    let account = call.account();
    for name in &names {
        call.authorize_identity(
            world,
            "cloudwatch:DeleteAlarms",
            &alarm_arn(account, call.region, name),
        )?;
    }
    model::delete_alarms(world, account, call.region, &names, call.now)?;
    Ok(Value::structure())
}

fn set_actions_enabled(
    world: &mut World,
    call: &Call<'_>,
    enabled: bool,
) -> Result<Value, AwsError> {
    let names = alarm_names(call)?;
    let account = call.account();
    let action = if enabled {
        "cloudwatch:EnableAlarmActions"
    } else {
        "cloudwatch:DisableAlarmActions"
    };
    for name in &names {
        call.authorize_identity(world, action, &alarm_arn(account, call.region, name))?;
    }
    model::set_actions_enabled(world, account, call.region, &names, enabled);
    Ok(Value::structure())
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use chrono::Duration;
    use rstest::rstest;

    use super::*;
    use crate::{
        principal::{Caller, CredentialKind, Principal},
        profile::BehaviourProfile,
        state::iam::NewRole,
    };

    const ACCOUNT: &str = "111111111111";
    const REGION: &str = "ap-northeast-1";
    const INSTANCE: &str = "i-0123456789abcdef0";
    const POWER_USER: &str = "arn:aws:iam::aws:policy/PowerUserAccess";
    const CLOUDWATCH_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudwatch:*","Resource":"*"}]}"#;
    const TRUST_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

    fn t0() -> DateTime<Utc> {
        "2026-01-05T10:00:00Z".parse().unwrap()
    }

    fn caller(principal: Principal, kind: CredentialKind, key: &str) -> Caller {
        Caller {
            principal,
            access_key_id: key.to_string(),
            credential_kind: kind,
            source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            token_issued: None,
        }
    }

    /// A user with the given managed policy or inline document, signing with a long-term key.
    fn user(world: &mut World, name: &str, managed: Option<&str>, inline: Option<&str>) -> Caller {
        let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
        let user = iam
            .create_user(ids, ACCOUNT, t0(), name, None, Vec::new())
            .unwrap()
            .clone();
        if let Some(arn) = managed {
            iam.users
                .get_mut(name)
                .unwrap()
                .attached_policies
                .push(arn.to_string());
        }
        if let Some(text) = inline {
            iam.put_user_policy(name, "inline", text).unwrap();
        }
        let principal = Principal::User {
            account: ACCOUNT.to_string(),
            name: name.to_string(),
            path: "/".to_string(),
            user_id: user.id,
        };
        caller(principal, CredentialKind::LongTerm, "AKIAWANATESTUSER0001")
    }

    /// A session of a role with PowerUserAccess, signing with temporary credentials.
    fn power_role_session(world: &mut World) -> Caller {
        let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
        let spec = NewRole {
            name: "Ec2Admin",
            trust_policy: TRUST_EC2,
            ..NewRole::default()
        };
        let role = iam.create_role(ids, ACCOUNT, t0(), spec).unwrap().clone();
        iam.roles
            .get_mut("Ec2Admin")
            .unwrap()
            .attached_policies
            .push(POWER_USER.to_string());
        let principal = Principal::AssumedRole {
            account: ACCOUNT.to_string(),
            role_name: role.name,
            role_path: role.path,
            role_id: role.id,
            session_name: "deploy".to_string(),
        };
        caller(principal, CredentialKind::Temporary, "ASIAWANATESTSESSION1")
    }

    fn run(
        world: &mut World,
        caller: &Caller,
        action: &str,
        params: Value,
    ) -> Result<Value, AwsError> {
        let call = Call {
            caller,
            region: REGION,
            now: t0(),
            action,
            params: &params,
        };
        handle(world, &call).expect("an operation of CloudWatch")
    }

    fn strs(items: &[&str]) -> Value {
        items.iter().copied().collect()
    }

    /// The source report's RecoveryAlarm, as the Rust SDK sends it (typed members).
    fn recovery_alarm(name: &str) -> Value {
        Value::structure()
            .with("AlarmName", name)
            .with(
                "AlarmActions",
                strs(&[&format!("arn:aws:automate:{REGION}:ec2:recover")]),
            )
            .with("MetricName", "StatusCheckFailed")
            .with("Namespace", "AWS/EC2")
            .with("Statistic", "Minimum")
            .with(
                "Dimensions",
                Value::List(vec![Value::structure()
                    .with("Name", "InstanceId")
                    .with("Value", INSTANCE)]),
            )
            .with("Period", 60)
            .with("EvaluationPeriods", 5)
            .with("Threshold", 0.0)
            .with("ComparisonOperator", "GreaterThanThreshold")
    }

    fn code_and_message(result: Result<Value, AwsError>) -> (String, u16, String) {
        let error = result.unwrap_err();
        (error.code.to_string(), error.status, error.message)
    }

    #[test]
    fn current_put_metric_alarm_with_an_ec2_action_creates_the_events_service_linked_role() {
        let mut world = World::new(BehaviourProfile::Current, t0());
        let session = power_role_session(&mut world);
        run(
            &mut world,
            &session,
            "PutMetricAlarm",
            recovery_alarm("RecoveryAlarm"),
        )
        .unwrap();
        let role =
            world.account(ACCOUNT).unwrap().iam.roles["AWSServiceRoleForCloudWatchEvents"].clone();
        assert_eq!(role.path, "/aws-service-role/events.amazonaws.com/");
        assert_eq!(
            role.attached_policies,
            ["arn:aws:iam::aws:policy/aws-service-role/CloudWatchEventsServiceRolePolicy"]
        );
        assert!(
            role.trust_policy.text.contains("events.amazonaws.com"),
            "{}",
            role.trust_policy.text
        );
        let decision = world
            .authz_log
            .records()
            .find(|r| r.action == "iam:CreateServiceLinkedRole")
            .unwrap();
        assert_eq!(decision.caller_arn, session.principal.arn());
        // Once it exists, it is not created (nor asked for) again.
        let before = world.authz_log.records().count();
        run(
            &mut world,
            &session,
            "PutMetricAlarm",
            recovery_alarm("Second"),
        )
        .unwrap();
        assert!(!world
            .authz_log
            .records()
            .skip(before)
            .any(|r| r.action == "iam:CreateServiceLinkedRole"));
    }

    #[test]
    fn current_put_metric_alarm_without_create_service_linked_role_is_denied() {
        let mut world = World::new(BehaviourProfile::Current, t0());
        let alice = user(&mut world, "alice", None, Some(CLOUDWATCH_ONLY));
        let result = run(
            &mut world,
            &alice,
            "PutMetricAlarm",
            recovery_alarm("RecoveryAlarm"),
        );
        assert_eq!(
            code_and_message(result),
            (
                "AccessDenied".to_string(),
                403,
                "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: iam:CreateServiceLinkedRole on resource: arn:aws:iam::111111111111:role/aws-service-role/events.amazonaws.com/AWSServiceRoleForCloudWatchEvents because no identity-based policy allows the iam:CreateServiceLinkedRole action".to_string()
            )
        );
        assert!(world
            .regional(ACCOUNT, REGION)
            .is_none_or(|r| r.cloudwatch.alarms.is_empty()));
        // An alarm without EC2 actions needs no role.
        let mut sns = recovery_alarm("Notify");
        if let Value::Struct(fields) = &mut sns {
            fields.retain(|(k, _)| k != "AlarmActions");
            fields.push((
                "AlarmActions".to_string(),
                strs(&["arn:aws:sns:ap-northeast-1:111111111111:ops"]),
            ));
        }
        run(&mut world, &alice, "PutMetricAlarm", sns).unwrap();
    }

    #[test]
    fn legacy_put_metric_alarm_creates_no_service_linked_role() {
        let mut world = World::new(BehaviourProfile::Legacy2016, t0());
        let alice = user(&mut world, "alice", None, Some(CLOUDWATCH_ONLY));
        run(
            &mut world,
            &alice,
            "PutMetricAlarm",
            recovery_alarm("RecoveryAlarm"),
        )
        .unwrap();
        assert!(!world
            .account(ACCOUNT)
            .unwrap()
            .iam
            .roles
            .contains_key("AWSServiceRoleForCloudWatchEvents"));
    }

    #[test]
    fn put_metric_alarm_is_authorized_on_the_alarm_arn() {
        let mut world = World::new(BehaviourProfile::Current, t0());
        let nobody = user(&mut world, "nobody", None, None);
        let (code, status, message) = code_and_message(run(
            &mut world,
            &nobody,
            "PutMetricAlarm",
            recovery_alarm("A"),
        ));
        assert_eq!((code.as_str(), status), ("AccessDenied", 403));
        assert_eq!(
            message,
            "User: arn:aws:iam::111111111111:user/nobody is not authorized to perform: cloudwatch:PutMetricAlarm on resource: arn:aws:cloudwatch:ap-northeast-1:111111111111:alarm:A because no identity-based policy allows the cloudwatch:PutMetricAlarm action"
        );
    }

    #[test]
    fn describe_alarms_answers_every_field_the_alarm_has_and_never_the_creator() {
        let mut world = World::new(BehaviourProfile::Legacy2016, t0());
        let session = power_role_session(&mut world);
        run(
            &mut world,
            &session,
            "PutMetricAlarm",
            recovery_alarm("RecoveryAlarm"),
        )
        .unwrap();
        let output = run(&mut world, &session, "DescribeAlarms", Value::structure()).unwrap();
        let alarms = output.get("MetricAlarms").unwrap().as_list();
        assert_eq!(alarms.len(), 1);
        let names: Vec<&str> = alarms[0]
            .entries()
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "AlarmName",
                "AlarmArn",
                "AlarmConfigurationUpdatedTimestamp",
                "ActionsEnabled",
                "OKActions",
                "AlarmActions",
                "InsufficientDataActions",
                "StateValue",
                "StateReason",
                "StateUpdatedTimestamp",
                "MetricName",
                "Namespace",
                "Statistic",
                "Dimensions",
                "Period",
                "EvaluationPeriods",
                "Threshold",
                "ComparisonOperator",
                "StateTransitionedTimestamp",
            ]
        );
        assert_eq!(alarms[0].get("Threshold"), Some(&Value::Float(0.0)));
        assert_eq!(alarms[0].get("Period"), Some(&Value::Int(60)));
        assert_eq!(
            alarms[0].get("StateValue").and_then(Value::as_str),
            Some("INSUFFICIENT_DATA")
        );
        assert_eq!(alarms[0].get("OKActions"), Some(&Value::List(Vec::new())));
        let text = format!("{output:?}");
        for secret in [
            "Ec2Admin",
            "deploy",
            "ASIAWANA",
            "assumed-role",
            "Temporary",
            "LongTerm",
        ] {
            assert!(!text.contains(secret), "{secret} leaked into {text}");
        }
        // The history does not tell either.
        let history = run(
            &mut world,
            &session,
            "DescribeAlarmHistory",
            Value::structure(),
        )
        .unwrap();
        let text = format!("{history:?}");
        assert!(
            !text.contains("Ec2Admin") && !text.contains("ASIAWANA"),
            "{text}"
        );
    }

    #[test]
    fn describe_alarms_filters() {
        let mut world = World::new(BehaviourProfile::Current, t0());
        let admin = user(
            &mut world,
            "ops",
            Some("arn:aws:iam::aws:policy/AdministratorAccess"),
            None,
        );
        for name in ["web-1", "web-2", "db-1"] {
            run(&mut world, &admin, "PutMetricAlarm", recovery_alarm(name)).unwrap();
        }
        let names = |output: Value| -> Vec<String> {
            output
                .get("MetricAlarms")
                .unwrap()
                .as_list()
                .iter()
                .map(|a| {
                    a.get("AlarmName")
                        .and_then(Value::as_str)
                        .unwrap()
                        .to_string()
                })
                .collect()
        };
        let by_prefix = run(
            &mut world,
            &admin,
            "DescribeAlarms",
            Value::structure().with("AlarmNamePrefix", "web"),
        )
        .unwrap();
        assert_eq!(names(by_prefix), ["web-1", "web-2"]);
        let by_name = run(
            &mut world,
            &admin,
            "DescribeAlarms",
            Value::structure().with("AlarmNames", strs(&["db-1", "nope"])),
        )
        .unwrap();
        assert_eq!(names(by_name), ["db-1"]);
        run(
            &mut world,
            &admin,
            "SetAlarmState",
            Value::structure()
                .with("AlarmName", "web-2")
                .with("StateValue", "ALARM")
                .with("StateReason", "t"),
        )
        .unwrap();
        let alarming = run(
            &mut world,
            &admin,
            "DescribeAlarms",
            Value::structure().with("StateValue", "ALARM"),
        )
        .unwrap();
        assert_eq!(names(alarming), ["web-2"]);
        let by_action = run(
            &mut world,
            &admin,
            "DescribeAlarms",
            Value::structure().with("ActionPrefix", "arn:aws:automate:ap-northeast-1:ec2:rec"),
        )
        .unwrap();
        assert_eq!(names(by_action).len(), 3);
        let composite_only = run(
            &mut world,
            &admin,
            "DescribeAlarms",
            Value::structure().with("AlarmTypes", strs(&["CompositeAlarm"])),
        )
        .unwrap();
        assert!(names(composite_only).is_empty());
        let first = run(
            &mut world,
            &admin,
            "DescribeAlarms",
            Value::structure().with("MaxRecords", 2),
        )
        .unwrap();
        let token = first
            .get("NextToken")
            .and_then(Value::as_str)
            .unwrap()
            .to_string();
        assert_eq!(names(first), ["db-1", "web-1"]);
        let rest = run(
            &mut world,
            &admin,
            "DescribeAlarms",
            Value::structure().with("NextToken", token),
        )
        .unwrap();
        assert_eq!(names(rest), ["web-2"]);
    }

    #[test]
    fn query_protocol_members_arrive_as_text_and_are_read_alike() {
        let mut world = World::new(BehaviourProfile::Current, t0());
        let admin = user(
            &mut world,
            "ops",
            Some("arn:aws:iam::aws:policy/AdministratorAccess"),
            None,
        );
        let params = Value::structure()
            .with("AlarmName", "q")
            .with("ActionsEnabled", "false")
            .with("OKActions", "")
            .with("MetricName", "CPUUtilization")
            .with("Namespace", "AWS/EC2")
            .with("Statistic", "Average")
            .with(
                "Dimensions",
                Value::List(vec![Value::structure()
                    .with("Name", "InstanceId")
                    .with("Value", INSTANCE)]),
            )
            .with("Period", "300")
            .with("EvaluationPeriods", "2")
            .with("DatapointsToAlarm", "1")
            .with("Threshold", "70.5")
            .with("ComparisonOperator", "GreaterThanThreshold")
            .with("TreatMissingData", "notBreaching")
            .with("Unit", "Percent");
        run(&mut world, &admin, "PutMetricAlarm", params).unwrap();
        let alarm = &world.regional(ACCOUNT, REGION).unwrap().cloudwatch.alarms["q"];
        assert_eq!(
            (
                alarm.config.period,
                alarm.config.evaluation_periods,
                alarm.config.datapoints_to_alarm,
                alarm.config.threshold
            ),
            (300, 2, Some(1), 70.5)
        );
        assert!(!alarm.config.actions_enabled);
    }

    #[rstest]
    #[case::no_metric_name("MetricName", None, "ValidationError", "MetricName must not be null")]
    #[case::bad_comparison(
        "ComparisonOperator",
        Some(Value::from("Bigger")),
        "ValidationError",
        "1 validation error detected: Value 'Bigger' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold, LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold, GreaterThanUpperThreshold]"
    )]
    #[case::datapoints(
        "DatapointsToAlarm",
        Some(Value::Int(6)),
        "ValidationError",
        "DatapointsToAlarm must be less than or equal to EvaluationPeriods"
    )]
    #[case::zero_period(
        "Period",
        Some(Value::Int(0)),
        "ValidationError",
        "1 validation error detected: Value '0' at 'period' failed to satisfy constraint: Member must have value greater than or equal to 1"
    )]
    #[case::not_an_arn("AlarmActions", Some(strs(&["scale-down"])), "ValidationError", "")]
    #[case::unknown_ec2_action("AlarmActions", Some(strs(&["arn:aws:automate:ap-northeast-1:ec2:hibernate"])), "ValidationError", "")]
    #[case::ec2_action_without_instance(
        "Dimensions",
        None,
        "ValidationError",
        "Invalid use of EC2 action. An EC2 action can only be used if the alarm is monitoring an EC2 instance."
    )]
    #[case::other_region(
        "AlarmActions",
        Some(strs(&["arn:aws:automate:us-east-1:ec2:recover"])),
        "ValidationError",
        "Invalid region us-east-1 specified. Only ap-northeast-1 is supported."
    )]
    #[case::too_many_actions(
        "OKActions",
        Some(strs(&["arn:aws:sns:ap-northeast-1:111111111111:a"; 6])),
        "ValidationError",
        "1 validation error detected: Value '[arn:aws:sns:ap-northeast-1:111111111111:a, arn:aws:sns:ap-northeast-1:111111111111:a, arn:aws:sns:ap-northeast-1:111111111111:a, arn:aws:sns:ap-northeast-1:111111111111:a, arn:aws:sns:ap-northeast-1:111111111111:a, arn:aws:sns:ap-northeast-1:111111111111:a]' at 'oKActions' failed to satisfy constraint: Member must have length less than or equal to 5"
    )]
    #[case::no_alarm_name(
        "AlarmName",
        None,
        "ValidationError",
        "1 validation error detected: Value null at 'alarmName' failed to satisfy constraint: Member must not be null"
    )]
    fn put_metric_alarm_validation(
        #[case] member: &str,
        #[case] value: Option<Value>,
        #[case] code: &str,
        #[case] message: &str,
    ) {
        let mut world = World::new(BehaviourProfile::Current, t0());
        let admin = user(
            &mut world,
            "ops",
            Some("arn:aws:iam::aws:policy/AdministratorAccess"),
            None,
        );
        let Value::Struct(mut fields) = recovery_alarm("A") else {
            unreachable!()
        };
        fields.retain(|(k, _)| k != member);
        if let Some(value) = value {
            fields.push((member.to_string(), value));
        }
        let result = run(&mut world, &admin, "PutMetricAlarm", Value::Struct(fields));
        assert_eq!(
            code_and_message(result),
            (code.to_string(), 400, message.to_string())
        );
    }

    #[test]
    fn describe_alarm_history_lists_newest_first_and_filters_actions() {
        let mut world = World::new(BehaviourProfile::Legacy2016, t0());
        let session = power_role_session(&mut world);
        run(
            &mut world,
            &session,
            "PutMetricAlarm",
            recovery_alarm("RecoveryAlarm"),
        )
        .unwrap();
        let set = Value::structure()
            .with("AlarmName", "RecoveryAlarm")
            .with("StateValue", "ALARM")
            .with("StateReason", "Manual Update to ALARM");
        run(&mut world, &session, "SetAlarmState", set).unwrap();
        world.run_due(t0() + Duration::seconds(model::EVALUATION_DELAY_SECONDS));

        let summaries = |output: &Value| -> Vec<String> {
            output
                .get("AlarmHistoryItems")
                .unwrap()
                .as_list()
                .iter()
                .map(|i| {
                    i.get("HistorySummary")
                        .and_then(Value::as_str)
                        .unwrap()
                        .to_string()
                })
                .collect()
        };
        let all = run(
            &mut world,
            &session,
            "DescribeAlarmHistory",
            Value::structure().with("AlarmName", "RecoveryAlarm"),
        )
        .unwrap();
        let failed = "Failed to execute action arn:aws:automate:ap-northeast-1:ec2:recover. Received error: \"Encountered error calling EC2 recover. (401: AWS was not able to validate the provided access credentials)\"";
        assert_eq!(
            summaries(&all),
            [
                "Alarm updated from ALARM to INSUFFICIENT_DATA",
                failed,
                "Alarm updated from INSUFFICIENT_DATA to ALARM",
                "Alarm \"RecoveryAlarm\" created",
            ]
        );
        let item = &all.get("AlarmHistoryItems").unwrap().as_list()[1];
        assert_eq!(
            item.get("AlarmType").and_then(Value::as_str),
            Some("MetricAlarm")
        );
        assert_eq!(
            item.get("HistoryItemType").and_then(Value::as_str),
            Some("Action")
        );
        assert!(matches!(item.get("Timestamp"), Some(Value::Timestamp(_))));

        let actions = run(
            &mut world,
            &session,
            "DescribeAlarmHistory",
            Value::structure()
                .with("AlarmName", "RecoveryAlarm")
                .with("HistoryItemType", "Action"),
        )
        .unwrap();
        assert_eq!(summaries(&actions), [failed]);
        let ascending = run(
            &mut world,
            &session,
            "DescribeAlarmHistory",
            Value::structure()
                .with("ScanBy", "TimestampAscending")
                .with("MaxRecords", 1),
        )
        .unwrap();
        assert_eq!(summaries(&ascending), ["Alarm \"RecoveryAlarm\" created"]);
        assert_eq!(
            ascending.get("NextToken").and_then(Value::as_str),
            Some("1")
        );
        let later = run(
            &mut world,
            &session,
            "DescribeAlarmHistory",
            Value::structure().with("StartDate", Value::Timestamp(t0() + Duration::seconds(1))),
        )
        .unwrap();
        assert_eq!(
            summaries(&later),
            ["Alarm updated from ALARM to INSUFFICIENT_DATA"]
        );
        let by_text_date = run(
            &mut world,
            &session,
            "DescribeAlarmHistory",
            Value::structure().with("EndDate", "2026-01-05T10:00:00Z"),
        )
        .unwrap();
        assert_eq!(summaries(&by_text_date).len(), 3);
    }

    #[test]
    fn set_alarm_state_errors() {
        let mut world = World::new(BehaviourProfile::Current, t0());
        let admin = user(
            &mut world,
            "ops",
            Some("arn:aws:iam::aws:policy/AdministratorAccess"),
            None,
        );
        run(&mut world, &admin, "PutMetricAlarm", recovery_alarm("A")).unwrap();
        let set = |name: &str, state: &str, data: Option<&str>| {
            Value::structure()
                .with("AlarmName", name)
                .with("StateValue", state)
                .with("StateReason", "test")
                .with_opt("StateReasonData", data)
        };
        assert_eq!(
            code_and_message(run(&mut world, &admin, "SetAlarmState", set("A", "INVALID", None))),
            (
                "ValidationError".to_string(),
                400,
                "1 validation error detected: Value 'INVALID' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]".to_string()
            )
        );
        assert_eq!(
            code_and_message(run(
                &mut world,
                &admin,
                "SetAlarmState",
                set("nope", "ALARM", None)
            )),
            ("ResourceNotFound".to_string(), 404, String::new())
        );
        let (code, status, _) = code_and_message(run(
            &mut world,
            &admin,
            "SetAlarmState",
            set("A", "ALARM", Some("{not json")),
        ));
        assert_eq!((code.as_str(), status), ("InvalidFormat", 400));
        run(
            &mut world,
            &admin,
            "SetAlarmState",
            set("A", "ALARM", Some(r#"{"why":"drill"}"#)),
        )
        .unwrap();
        let alarm = &world.regional(ACCOUNT, REGION).unwrap().cloudwatch.alarms["A"];
        assert_eq!(
            alarm.state_reason_data.as_deref(),
            Some(r#"{"why":"drill"}"#)
        );
    }

    #[test]
    fn delete_and_enable_disable() {
        let mut world = World::new(BehaviourProfile::Current, t0());
        let admin = user(
            &mut world,
            "ops",
            Some("arn:aws:iam::aws:policy/AdministratorAccess"),
            None,
        );
        run(&mut world, &admin, "PutMetricAlarm", recovery_alarm("A")).unwrap();
        run(
            &mut world,
            &admin,
            "DisableAlarmActions",
            Value::structure().with("AlarmNames", strs(&["A", "ghost"])),
        )
        .unwrap();
        assert!(
            !world.regional(ACCOUNT, REGION).unwrap().cloudwatch.alarms["A"]
                .config
                .actions_enabled
        );
        run(
            &mut world,
            &admin,
            "EnableAlarmActions",
            Value::structure().with("AlarmNames", strs(&["A"])),
        )
        .unwrap();
        assert!(
            world.regional(ACCOUNT, REGION).unwrap().cloudwatch.alarms["A"]
                .config
                .actions_enabled
        );
        assert_eq!(
            code_and_message(run(&mut world, &admin, "DeleteAlarms", Value::structure())),
            (
                "ValidationError".to_string(),
                400,
                "1 validation error detected: Value null at 'alarmNames' failed to satisfy constraint: Member must not be null".to_string()
            )
        );
        let (code, status, _) = code_and_message(run(
            &mut world,
            &admin,
            "DeleteAlarms",
            Value::structure().with("AlarmNames", strs(&["A", "ghost"])),
        ));
        assert_eq!((code.as_str(), status), ("ResourceNotFound", 404));
        run(
            &mut world,
            &admin,
            "DeleteAlarms",
            Value::structure().with("AlarmNames", strs(&["A"])),
        )
        .unwrap();
        assert!(world
            .regional(ACCOUNT, REGION)
            .unwrap()
            .cloudwatch
            .alarms
            .is_empty());
    }

    #[test]
    fn describe_alarms_encodes_in_the_query_protocol_for_older_clients() {
        let mut world = World::new(BehaviourProfile::Current, t0());
        let admin = user(
            &mut world,
            "ops",
            Some("arn:aws:iam::aws:policy/AdministratorAccess"),
            None,
        );
        run(&mut world, &admin, "PutMetricAlarm", recovery_alarm("A")).unwrap();
        let output = run(&mut world, &admin, "DescribeAlarms", Value::structure()).unwrap();
        let wire = super::super::ServiceId::CloudWatch.wire();
        let encoded = crate::protocol::encode_output(
            crate::protocol::Protocol::AwsQuery,
            wire,
            "DescribeAlarms",
            &output,
            "r",
        );
        let xml = String::from_utf8(encoded.body).unwrap();
        assert!(xml.starts_with(
            "<DescribeAlarmsResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><DescribeAlarmsResult><CompositeAlarms></CompositeAlarms><MetricAlarms><member><AlarmName>A</AlarmName>"
        ), "{xml}");
        assert!(xml.contains("<OKActions></OKActions><AlarmActions><member>arn:aws:automate:ap-northeast-1:ec2:recover</member></AlarmActions>"), "{xml}");
        assert!(xml.contains("<Dimensions><member><Name>InstanceId</Name><Value>i-0123456789abcdef0</Value></member></Dimensions>"), "{xml}");
        assert!(xml.contains("<Threshold>0</Threshold>"), "{xml}");
    }

    #[test]
    fn other_operations_are_not_claimed() {
        let mut world = World::new(BehaviourProfile::Current, t0());
        let admin = user(&mut world, "ops", None, None);
        let params = Value::structure();
        let call = Call {
            caller: &admin,
            region: REGION,
            now: t0(),
            action: "PutMetricData",
            params: &params,
        };
        assert!(handle(&mut world, &call).is_none());
    }
}
