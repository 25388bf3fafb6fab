//! CloudWatch metric alarms of one account in one region: their configuration, their state, their
//! history, and the actions an alarm runs when it enters a state.
//!
//! Facts this follows (shared/aws-traps.md, Trap 1, unless noted):
//! * A new alarm starts in `INSUFFICIENT_DATA` with the reason `Unchecked: Initial alarm creation`
//!   and is then evaluated; an update replaces the configuration and keeps the state
//!   (PutMetricAlarm reference).
//! * `SetAlarmState` changes the state at once; when the new state differs, the actions of the new
//!   state run; the next evaluation puts the alarm back where its metric says (SetAlarmState
//!   reference; the AWS CLI's describe-alarm-history example shows the return 0.6 s later).
//! * History items: `StateUpdate` (`Alarm updated from OK to ALARM`, data with `version`,
//!   `oldState`, `newState`), `Action` (`Successfully executed action <arn>` or
//!   `Failed to execute action <arn>. Received error: "<error>"`, data with `error`,
//!   `actionState`, `notificationResource`, `stateUpdateTimestamp`), `ConfigurationUpdate`
//!   (`Alarm "<name>" created`).
//! * Which credentials an EC2 action runs with changed in 2017-12; [`ec2_action_credentials`] is
//!   the one place that rule lives.
//!
//! The alarm remembers who created or last updated it ([`Creator`]); AWS shows that nowhere
//! (DescribeAlarms has no such field), so nothing in `crate::services` may put it on the wire.

//!
//! This file holds the alarm model, the per-account [`State`] and the scheduled [`Event`]; the
//! operations are in `alarms`, the evaluation and state changes in `evaluation`, and the actions
//! (with the credentials rule) in `actions`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::{
    error::AwsError,
    principal::{Caller, CredentialKind, Principal},
};

use super::{scheduler::Due, World};

mod actions;
mod alarms;
mod evaluation;
#[cfg(test)]
mod tests;

pub use actions::{
    ec2_action_credentials, ec2_actions_need_service_linked_role, parse_action, ActionCredentials, ActionTarget,
    LEGACY_ACTIONS_SERVICE,
    Ec2Action, Ec2ArnForm, EVENTS_SERVICE, EVENTS_SERVICE_LINKED_ROLE, LEGACY_ACTIONS_ROLE,
};
pub use alarms::{delete_alarms, put_metric_alarm, set_actions_enabled, set_alarm_state};

use evaluation::evaluate;

// ---------------------------------------------------------------------------------------------
// The model.

/// An alarm's state (`StateValue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateValue {
    Ok,
    Alarm,
    InsufficientData,
}

impl StateValue {
    pub const ALL: [StateValue; 3] = [
        StateValue::Ok,
        StateValue::Alarm,
        StateValue::InsufficientData,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StateValue::Ok => "OK",
            StateValue::Alarm => "ALARM",
            StateValue::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    pub fn parse(text: &str) -> Option<StateValue> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// `HistoryItemType` of the items this model writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistoryItemType {
    ConfigurationUpdate,
    StateUpdate,
    Action,
}

impl HistoryItemType {
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryItemType::ConfigurationUpdate => "ConfigurationUpdate",
            HistoryItemType::StateUpdate => "StateUpdate",
            HistoryItemType::Action => "Action",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dimension {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// What PutMetricAlarm sets; an update replaces all of it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmConfig {
    pub description: Option<String>,
    pub actions_enabled: bool,
    pub ok_actions: Vec<String>,
    pub alarm_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
    pub metric_name: String,
    pub namespace: String,
    pub statistic: Option<String>,
    pub extended_statistic: Option<String>,
    pub dimensions: Vec<Dimension>,
    pub period: i64,
    pub unit: Option<String>,
    pub evaluation_periods: i64,
    pub datapoints_to_alarm: Option<i64>,
    pub threshold: f64,
    pub comparison_operator: String,
    pub treat_missing_data: Option<String>,
    pub evaluate_low_sample_count_percentile: Option<String>,
    pub tags: Vec<Tag>,
}

impl AlarmConfig {
    /// The actions of a state.
    pub fn actions_for(&self, state: StateValue) -> &[String] {
        match state {
            StateValue::Ok => &self.ok_actions,
            StateValue::Alarm => &self.alarm_actions,
            StateValue::InsufficientData => &self.insufficient_data_actions,
        }
    }

    /// The instance an EC2 action acts on: the `InstanceId` dimension.
    pub fn instance_id(&self) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|d| d.name == "InstanceId")
            .map(|d| d.value.as_str())
    }

    /// The configuration as CloudWatch writes it into `ConfigurationUpdate` history data.
    fn history_json(&self, name: &str, updated: DateTime<Utc>) -> serde_json::Value {
        let mut alarm = json!({
            "alarmName": name,
            "metricName": self.metric_name,
            "namespace": self.namespace,
            "dimensions": self.dimensions.iter()
                .map(|d| json!({"name": d.name, "value": d.value}))
                .collect::<Vec<_>>(),
            "period": self.period,
            "evaluationPeriods": self.evaluation_periods,
            "threshold": self.threshold,
            "comparisonOperator": self.comparison_operator,
            "actionsEnabled": self.actions_enabled,
            "alarmActions": self.alarm_actions,
            "okactions": self.ok_actions,
            "insufficientDataActions": self.insufficient_data_actions,
            "timestamp": json_date(updated),
        });
        let optional = [
            ("alarmDescription", self.description.as_deref()),
            ("statistic", self.statistic.as_deref()),
            ("extendedStatistic", self.extended_statistic.as_deref()),
            ("unit", self.unit.as_deref()),
            ("treatMissingData", self.treat_missing_data.as_deref()),
            (
                "evaluateLowSampleCountPercentile",
                self.evaluate_low_sample_count_percentile.as_deref(),
            ),
        ];
        if let Some(object) = alarm.as_object_mut() {
            for (key, value) in optional {
                if let Some(value) = value {
                    object.insert(key.to_string(), json!(value));
                }
            }
            if let Some(n) = self.datapoints_to_alarm {
                object.insert("datapointsToAlarm".to_string(), json!(n));
            }
        }
        alarm
    }
}

/// Who created or last updated an alarm, directly or through CloudFormation acting with their
/// credentials. Never on the wire: AWS keeps it for itself (the source report found neither the
/// console nor describe-alarms shows it), and before 2017-12 it decided how some EC2 actions ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creator {
    pub principal: Principal,
    pub credential_kind: CredentialKind,
    /// The access key that signed the request: the legacy mechanism acted with it later.
    pub access_key_id: String,
}

impl Creator {
    pub fn of(caller: &Caller) -> Creator {
        Creator {
            principal: caller.principal.clone(),
            credential_kind: caller.credential_kind,
            access_key_id: caller.access_key_id.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricAlarm {
    pub name: String,
    pub arn: String,
    pub config: AlarmConfig,
    pub configuration_updated: DateTime<Utc>,
    pub state: StateValue,
    pub state_reason: String,
    /// JSON text, as given to SetAlarmState or written by an evaluation.
    pub state_reason_data: Option<String>,
    /// When the state, its reason or its data last changed.
    pub state_updated: DateTime<Utc>,
    /// When the state value last changed.
    pub state_transitioned: DateTime<Utc>,
    creator: Creator,
}

impl MetricAlarm {
    /// Who created or last updated the alarm. For the emulator's own rules only.
    pub fn creator(&self) -> &Creator {
        &self.creator
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryItem {
    pub alarm_name: String,
    pub timestamp: DateTime<Utc>,
    pub item_type: HistoryItemType,
    pub summary: String,
    /// JSON text.
    pub data: String,
}

/// Everything CloudWatch holds for one account in one region.
#[derive(Debug, Default, Clone)]
pub struct State {
    /// Alarms by name; names sort as DescribeAlarms lists them.
    pub alarms: BTreeMap<String, MetricAlarm>,
    /// Every history item, oldest first. Items outlive their alarm: the history of a deleted
    /// alarm can still be read.
    pub history: Vec<HistoryItem>,
}

/// Effects CloudWatch performs later, on the emulator clock.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The periodic evaluation of an alarm against its metric.
    Evaluate { alarm_name: String },
}

/// How long after creation, an update or SetAlarmState the alarm is evaluated. AWS evaluates
/// about every period; the CLI's own example shows a manual state reverted 0.6 s later.
pub const EVALUATION_DELAY_SECONDS: i64 = 5;

pub const INITIAL_STATE_REASON: &str = "Unchecked: Initial alarm creation";

/// `HistorySummary` is at most 255 characters.
const HISTORY_SUMMARY_MAX: usize = 255;

pub fn alarm_arn(account: &str, region: &str, name: &str) -> String {
    format!("arn:aws:cloudwatch:{region}:{account}:alarm:{name}")
}

/// `2014-04-09T18:59:06.419+0000`, the date form of CloudWatch's history JSON.
fn json_date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

fn truncate(mut text: String, max: usize) -> String {
    if text.chars().count() > max {
        text = text.chars().take(max).collect();
    }
    text
}

fn resource_not_found() -> AwsError {
    // AWS answers 404 with no message (observed for SetAlarmState; the model's error shape).
    AwsError::new("ResourceNotFound", 404, "")
}


/// Applies a due event (see [`super::scheduler`]).
pub fn on_event(world: &mut World, due: &Due, event: Event) {
    match event {
        Event::Evaluate { alarm_name } => {
            evaluate(world, &due.account, &due.region, &alarm_name, due.at)
        }
    }
}
