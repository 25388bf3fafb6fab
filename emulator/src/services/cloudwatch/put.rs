//! PutMetricAlarm: its validation, the check of every action ARN, and the service-linked role an
//! alarm with EC2 actions needs since 2017-12.

use crate::{
    authz::{denied_message, AuthzRequest},
    error::AwsError,
    state::{
        cloudwatch::{
            self as model, alarm_arn, parse_action, ActionTarget, AlarmConfig, Creator, Dimension, Tag, EVENTS_SERVICE,
        },
        iam::service_linked_role_arn,
        World,
    },
    validation::{coral_name, Violations},
    value::Value,
};

use super::decode::{member_str, optional_bool, optional_f64, string_list, structures};
use super::validate::{
    missing_nested, must_not_be_null, Constraints, COMPARISON_OPERATORS, LOW_SAMPLE_COUNT, MAX_ACTIONS, MAX_DIMENSIONS,
    STATISTICS, TREAT_MISSING_DATA, UNITS,
};
use super::Call;

pub(super) fn put_metric_alarm(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
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
