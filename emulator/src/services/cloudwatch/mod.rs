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
//!
//! This file routes the operations and holds SetAlarmState, DeleteAlarms and
//! Enable/DisableAlarmActions; `validate` holds the model's constraints, `decode` reads members,
//! `put` is PutMetricAlarm, `describe` the two listing operations and `encode` the alarm's shape.

use crate::{
    error::AwsError,
    state::{
        cloudwatch::{self as model, alarm_arn, StateValue},
        World,
    },
    validation::Violations,
    value::Value,
};

use super::Call;

mod decode;
mod describe;
mod encode;
mod put;
mod validate;
#[cfg(test)]
mod tests;

use decode::{invalid_type, string_list};
use describe::{describe_alarm_history, describe_alarms};
use put::put_metric_alarm;
use validate::{Constraints, MAX_ALARM_NAMES, STATE_VALUES_AS_LISTED};

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
