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

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::{
    authz::{AuthzRequest, RequestFacts},
    error::AwsError,
    principal::{Caller, CredentialKind, Principal},
    profile::BehaviourProfile,
};

use super::{
    ec2::{perform_instance_action, InstanceAction},
    scheduler::Scheduled,
    KeyStatus, World,
};

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

// ---------------------------------------------------------------------------------------------
// Operations on the world.

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

fn schedule_evaluation(
    world: &mut World,
    account: &str,
    region: &str,
    name: &str,
    now: DateTime<Utc>,
) {
    world.schedule(
        now + Duration::seconds(EVALUATION_DELAY_SECONDS),
        account,
        region,
        super::scheduler::Event::CloudWatch(Event::Evaluate {
            alarm_name: name.to_string(),
        }),
    );
}

/// Applies a due event (see [`super::scheduler`]).
pub fn on_event(world: &mut World, due: &Scheduled, event: Event) {
    match event {
        Event::Evaluate { alarm_name } => {
            evaluate(world, &due.account, &due.region, &alarm_name, due.at)
        }
    }
}

/// Evaluates an alarm against its metric. The emulator receives no metric data, so every
/// evaluation period is missing and `TreatMissingData` decides (CloudWatch user guide, "Configuring
/// how CloudWatch alarms treat missing data"):
/// `missing` (the default) → `INSUFFICIENT_DATA`; `notBreaching` → `OK`; `breaching` → `ALARM`;
/// `ignore` → the current state is kept (so a state set by SetAlarmState stays).
fn evaluate(world: &mut World, account: &str, region: &str, name: &str, now: DateTime<Utc>) {
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
fn change_state(
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

// ---------------------------------------------------------------------------------------------
// Alarm actions.

/// The EC2 actions an alarm can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ec2Action {
    Stop,
    Terminate,
    Reboot,
    Recover,
}

impl Ec2Action {
    /// The word in `arn:aws:automate:<region>:ec2:<word>` and in CloudWatch's error text.
    pub fn word(self) -> &'static str {
        match self {
            Ec2Action::Stop => "stop",
            Ec2Action::Terminate => "terminate",
            Ec2Action::Reboot => "reboot",
            Ec2Action::Recover => "recover",
        }
    }

    /// The IAM action the EC2 call is authorized as.
    pub fn iam_action(self) -> &'static str {
        match self {
            Ec2Action::Stop => "ec2:StopInstances",
            Ec2Action::Terminate => "ec2:TerminateInstances",
            Ec2Action::Reboot => "ec2:RebootInstances",
            Ec2Action::Recover => "ec2:RecoverInstances",
        }
    }

    fn instance_action(self) -> InstanceAction {
        match self {
            Ec2Action::Stop => InstanceAction::Stop,
            Ec2Action::Terminate => InstanceAction::Terminate,
            Ec2Action::Reboot => InstanceAction::Reboot,
            Ec2Action::Recover => InstanceAction::Recover,
        }
    }
}

/// The two ARN spellings of an EC2 action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ec2ArnForm {
    /// `arn:aws:automate:<region>:ec2:stop|terminate|reboot|recover`.
    Automate,
    /// `arn:aws:swf:<region>:<account>:action/actions/AWS_EC2.InstanceId.Stop/1.0`: in 2016 the
    /// ARNs "for use with IAM roles", run as the `EC2ActionsAccess` role.
    Swf,
}

/// An alarm action ARN, as CloudWatch understands it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionTarget {
    Ec2 {
        action: Ec2Action,
        form: Ec2ArnForm,
        region: String,
    },
    /// SNS topics, Auto Scaling policies, Lambda functions, SSM OpsItems…: accepted as ARNs;
    /// wana emulates none of those services, so their delivery is recorded as succeeded.
    Other,
}

/// `None` for text that is not an action CloudWatch accepts.
pub fn parse_action(arn: &str) -> Option<ActionTarget> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
        return None;
    };
    if *prefix != "arn" || partition.is_empty() || service.is_empty() {
        return None;
    }
    match *service {
        "automate" => {
            let action = match (*account, *resource) {
                ("ec2", "stop") => Ec2Action::Stop,
                ("ec2", "terminate") => Ec2Action::Terminate,
                ("ec2", "reboot") => Ec2Action::Reboot,
                ("ec2", "recover") => Ec2Action::Recover,
                _ => return None,
            };
            Some(ActionTarget::Ec2 {
                action,
                form: Ec2ArnForm::Automate,
                region: region.to_string(),
            })
        }
        "swf" => {
            let action = match *resource {
                "action/actions/AWS_EC2.InstanceId.Stop/1.0" => Ec2Action::Stop,
                "action/actions/AWS_EC2.InstanceId.Terminate/1.0" => Ec2Action::Terminate,
                "action/actions/AWS_EC2.InstanceId.Reboot/1.0" => Ec2Action::Reboot,
                "action/actions/AWS_EC2.InstanceId.Recover/1.0" => Ec2Action::Recover,
                _ => return None,
            };
            Some(ActionTarget::Ec2 {
                action,
                form: Ec2ArnForm::Swf,
                region: region.to_string(),
            })
        }
        _ if resource.is_empty() => None,
        _ => Some(ActionTarget::Other),
    }
}

/// Whose permissions an EC2 alarm action runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionCredentials {
    /// None are checked: the action just runs.
    NotNeeded,
    /// A session of the account's role of that name, authorized by the role's policies.
    RoleSession { role_name: &'static str },
    /// The long-term access key of whoever created or last updated the alarm, authorized by
    /// that identity's policies at the time the action runs.
    Creator,
    /// The creator signed with temporary credentials, which this mechanism cannot use: EC2
    /// answers `AuthFailure` (401).
    CreatorCredentialsUnusable,
}

/// The role CloudWatch's EC2 actions use since 2017-12.
pub const EVENTS_SERVICE_LINKED_ROLE: &str = "AWSServiceRoleForCloudWatchEvents";
/// The service `AWSServiceRoleForCloudWatchEvents` belongs to.
pub const EVENTS_SERVICE: &str = "events.amazonaws.com";
/// The role of the 2016 "for use with IAM roles" action ARNs.
pub const LEGACY_ACTIONS_ROLE: &str = "EC2ActionsAccess";
/// The session name an action role session carries in traces.
const ACTION_SESSION_NAME: &str = "CloudWatchAlarms";

/// The one place that says which credentials an EC2 alarm action runs with
/// (shared/aws-traps.md, Trap 1, "How the documentation evolved"):
///
/// * `legacy-2016` (before 2017-12-18):
///   - recover, and stop/terminate/reboot with the plain `arn:aws:automate:…` ARNs, act with the
///     alarm creator's credentials. The API reference of the time: with an IAM role or STS
///     temporary credentials you cannot stop or terminate an instance with alarm actions; the
///     Japanese EC2 guide quoted by the source report: with STS temporary credentials an instance
///     cannot be recovered. The report observed exactly that: an alarm created through
///     CloudFormation with role credentials fails `(401: AWS was not able to validate the
///     provided access credentials)`, the same alarm re-created by an IAM user succeeds.
///   - stop/terminate/reboot with the `arn:aws:swf:…AWS_EC2.InstanceId.*/1.0` ARNs act as the
///     `EC2ActionsAccess` role, which must exist in the account.
/// * `current`: recover needs no permissions ("No specific permissions are needed for alarms with
///   recover actions", CloudWatch user guide); stop/terminate/reboot act as the service-linked
///   role `AWSServiceRoleForCloudWatchEvents`, whose policy `CloudWatchEventsServiceRolePolicy`
///   allows them. The creator's credentials play no part.
pub fn ec2_action_credentials(
    profile: BehaviourProfile,
    action: Ec2Action,
    form: Ec2ArnForm,
    creator_kind: CredentialKind,
) -> ActionCredentials {
    match profile {
        BehaviourProfile::Current => match action {
            Ec2Action::Recover => ActionCredentials::NotNeeded,
            Ec2Action::Stop | Ec2Action::Terminate | Ec2Action::Reboot => {
                ActionCredentials::RoleSession {
                    role_name: EVENTS_SERVICE_LINKED_ROLE,
                }
            }
        },
        BehaviourProfile::Legacy2016 => {
            let uses_role = form == Ec2ArnForm::Swf && action != Ec2Action::Recover;
            if uses_role {
                ActionCredentials::RoleSession {
                    role_name: LEGACY_ACTIONS_ROLE,
                }
            } else {
                match creator_kind {
                    CredentialKind::LongTerm => ActionCredentials::Creator,
                    CredentialKind::Temporary => ActionCredentials::CreatorCredentialsUnusable,
                }
            }
        }
    }
}

/// Whether PutMetricAlarm must make sure `AWSServiceRoleForCloudWatchEvents` exists before it
/// accepts an alarm with EC2 actions: since 2017-12-18 it creates the role on first use, as the
/// caller, who needs `iam:CreateServiceLinkedRole` (What's New 2017-12, PutMetricAlarm reference).
/// The role did not exist before, so `legacy-2016` asks for nothing.
pub fn ec2_actions_need_service_linked_role(profile: BehaviourProfile) -> bool {
    match profile {
        BehaviourProfile::Current => true,
        BehaviourProfile::Legacy2016 => false,
    }
}

/// EC2's answer for credentials it cannot validate (`AuthFailure`).
const AUTH_FAILURE: (u16, &str) = (
    401,
    "AWS was not able to validate the provided access credentials",
);
/// EC2's answer for an identity whose policies do not allow the call (`UnauthorizedOperation`).
const UNAUTHORIZED: (u16, &str) = (403, "You are not authorized to perform this operation.");

/// CloudWatch's wording of an EC2 call that failed, after the only one observed (source report):
/// `Encountered error calling EC2 recover. (401: AWS was not able to validate the provided access
/// credentials)`. The other actions and errors follow the same pattern.
fn ec2_error(action: Ec2Action, (status, message): (u16, &str)) -> String {
    format!(
        "Encountered error calling EC2 {}. ({status}: {message})",
        action.word()
    )
}

/// Runs one action of an alarm that entered a state. `Err` holds the error text CloudWatch
/// records in the `Action` history item.
fn execute_action(
    world: &mut World,
    account: &str,
    region: &str,
    alarm: &MetricAlarm,
    arn: &str,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let (action, form) = match parse_action(arn) {
        Some(ActionTarget::Ec2 { action, form, .. }) => (action, form),
        // Validated at PutMetricAlarm; an opaque target is delivered without an emulated service.
        Some(ActionTarget::Other) | None => return Ok(()),
    };
    let Some(instance_id) = alarm.config.instance_id().map(str::to_string) else {
        return Err(
            "Invalid use of EC2 action. An EC2 action can only be used if the alarm is monitoring an EC2 instance."
                .to_string(),
        );
    };
    let instance_arn = format!("arn:aws:ec2:{region}:{account}:instance/{instance_id}");
    let credentials =
        ec2_action_credentials(world.profile, action, form, alarm.creator.credential_kind);
    let acting = match credentials {
        ActionCredentials::NotNeeded => None,
        ActionCredentials::CreatorCredentialsUnusable => {
            return Err(ec2_error(action, AUTH_FAILURE))
        }
        ActionCredentials::Creator => Some(
            creator_caller(world, &alarm.creator).ok_or_else(|| ec2_error(action, AUTH_FAILURE))?,
        ),
        ActionCredentials::RoleSession { role_name } => {
            Some(role_session(world, account, role_name))
        }
    };
    if let Some(caller) = acting {
        let facts = RequestFacts {
            caller: &caller,
            now,
            region,
        };
        let decision = world.authorize(
            facts,
            &AuthzRequest::new(action.iam_action(), &instance_arn),
        );
        if !decision.is_allowed() {
            return Err(ec2_error(action, UNAUTHORIZED));
        }
    }
    perform_instance_action(
        world,
        account,
        region,
        &instance_id,
        action.instance_action(),
        now,
    )
    .map_err(|e| ec2_error(action, (e.status, &e.message)))
}

/// The creator as EC2 would see their stored access key now: `None` when the key is gone or
/// inactive, or the user behind it was deleted (EC2 then cannot validate the credentials).
fn creator_caller(world: &World, creator: &Creator) -> Option<Caller> {
    let key = world.access_keys.get(&creator.access_key_id)?;
    if key.status != KeyStatus::Active {
        return None;
    }
    let principal = world.principal_of(key)?;
    Some(Caller {
        principal,
        access_key_id: creator.access_key_id.clone(),
        credential_kind: key.kind(),
        source_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        token_issued: None,
    })
}

/// A session of an account's role, as a service assumes it to act. A role that does not exist
/// has no policies, so every authorization of its session is denied.
fn role_session(world: &World, account: &str, role_name: &str) -> Caller {
    let role = world
        .account(account)
        .and_then(|a| a.iam.roles.get(role_name));
    Caller {
        principal: Principal::AssumedRole {
            account: account.to_string(),
            role_name: role_name.to_string(),
            role_path: role.map_or_else(|| "/".to_string(), |r| r.path.clone()),
            role_id: role.map_or_else(String::new, |r| r.id.clone()),
            session_name: ACTION_SESSION_NAME.to_string(),
        },
        access_key_id: String::new(),
        credential_kind: CredentialKind::Temporary,
        source_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        token_issued: None,
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::state::{
        ec2::{self, InstanceStateName, LaunchSpec},
        iam::NewRole,
        AccessKey, KeyOwner, Session,
    };

    const ACCOUNT: &str = "111111111111";
    const REGION: &str = "ap-northeast-1";
    /// The session name of the role session (an instance profile's sessions carry the instance id).
    const SESSION_NAME: &str = "i-0aaaaaaaaaaaaaaaa";
    const POWER_USER: &str = "arn:aws:iam::aws:policy/PowerUserAccess";
    const TRUST_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

    fn t0() -> DateTime<Utc> {
        "2016-08-16T23:02:25Z".parse().unwrap()
    }

    /// A world whose account has one running instance, launched by the admin a minute before
    /// `t0`; answers the instance id.
    fn world(profile: BehaviourProfile) -> (World, String) {
        let mut world = World::new(profile, t0());
        let admin = Caller {
            principal: Principal::User {
                account: ACCOUNT.to_string(),
                name: "admin".to_string(),
                path: "/".to_string(),
                user_id: "AIDAWANAADMIN".to_string(),
            },
            access_key_id: "AKIAWANAADMINA000001".to_string(),
            credential_kind: CredentialKind::LongTerm,
            source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            token_issued: None,
        };
        let launched_at = t0() - Duration::minutes(1);
        let spec = LaunchSpec {
            image_id: "ami-374db956".to_string(),
            instance_type: "t2.micro".to_string(),
            min_count: 1,
            max_count: 1,
            ..LaunchSpec::default()
        };
        let facts = RequestFacts {
            caller: &admin,
            now: launched_at,
            region: REGION,
        };
        let id = ec2::launch(&mut world, facts, ACCOUNT, &spec)
            .unwrap()
            .instance_ids[0]
            .clone();
        world.run_due(t0());
        assert_eq!(instance(&world, &id).state, InstanceStateName::Running);
        (world, id)
    }

    fn instance(world: &World, id: &str) -> ec2::Instance {
        ec2::instance(world, ACCOUNT, REGION, id).unwrap().clone()
    }

    fn recover_arn() -> String {
        format!("arn:aws:automate:{REGION}:ec2:recover")
    }

    /// A user with PowerUserAccess and an active long-term key, as the source report's `cfn` profile.
    fn power_user(world: &mut World, name: &str) -> Creator {
        let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
        let user = iam
            .create_user(ids, ACCOUNT, t0(), name, None, Vec::new())
            .unwrap()
            .clone();
        iam.users
            .get_mut(name)
            .unwrap()
            .attached_policies
            .push(POWER_USER.to_string());
        let key_id = world.ids.access_key_id("AKIA");
        world.access_keys.insert(
            key_id.clone(),
            AccessKey {
                id: key_id.clone(),
                secret: world.ids.secret_access_key(),
                created: t0(),
                status: KeyStatus::Active,
                owner: KeyOwner::User {
                    account: ACCOUNT.to_string(),
                    user_name: name.to_string(),
                },
            },
        );
        Creator {
            principal: Principal::User {
                account: ACCOUNT.to_string(),
                name: name.to_string(),
                path: "/".to_string(),
                user_id: user.id,
            },
            credential_kind: CredentialKind::LongTerm,
            access_key_id: key_id,
        }
    }

    /// A session of a role with PowerUserAccess (an instance profile's, as in the source report).
    fn power_role_session(world: &mut World) -> Creator {
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
        let key_id = world.ids.access_key_id("ASIA");
        world.access_keys.insert(
            key_id.clone(),
            AccessKey {
                id: key_id.clone(),
                secret: world.ids.secret_access_key(),
                created: t0(),
                status: KeyStatus::Active,
                owner: KeyOwner::Session(Session {
                    account: ACCOUNT.to_string(),
                    role_name: role.name.clone(),
                    session_name: "i-0aaaaaaaaaaaaaaaa".to_string(),
                    session_token: world.ids.session_token(),
                    issued: t0(),
                    expires: t0() + Duration::hours(1),
                }),
            },
        );
        Creator {
            principal: Principal::AssumedRole {
                account: ACCOUNT.to_string(),
                role_name: role.name,
                role_path: role.path,
                role_id: role.id,
                session_name: SESSION_NAME.to_string(),
            },
            credential_kind: CredentialKind::Temporary,
            access_key_id: key_id,
        }
    }

    fn config(instance_id: &str, actions: &[&str]) -> AlarmConfig {
        AlarmConfig {
            description: None,
            actions_enabled: true,
            ok_actions: Vec::new(),
            alarm_actions: actions.iter().map(|a| a.to_string()).collect(),
            insufficient_data_actions: Vec::new(),
            metric_name: "StatusCheckFailed".to_string(),
            namespace: "AWS/EC2".to_string(),
            statistic: Some("Minimum".to_string()),
            extended_statistic: None,
            dimensions: vec![Dimension {
                name: "InstanceId".to_string(),
                value: instance_id.to_string(),
            }],
            period: 60,
            unit: None,
            evaluation_periods: 5,
            datapoints_to_alarm: None,
            threshold: 0.0,
            comparison_operator: "GreaterThanThreshold".to_string(),
            treat_missing_data: None,
            evaluate_low_sample_count_percentile: None,
            tags: Vec::new(),
        }
    }

    fn put(world: &mut World, name: &str, config: AlarmConfig, creator: Creator) {
        put_metric_alarm(world, ACCOUNT, REGION, name, config, creator, t0()).unwrap();
    }

    fn set_alarm(world: &mut World, name: &str) {
        set_alarm_state(
            world,
            ACCOUNT,
            REGION,
            name,
            StateValue::Alarm,
            "Manual Update to ALARM",
            None,
            t0(),
        )
        .unwrap();
    }

    fn history(world: &World, name: &str) -> Vec<HistoryItem> {
        world
            .regional(ACCOUNT, REGION)
            .unwrap()
            .cloudwatch
            .history
            .iter()
            .filter(|i| i.alarm_name == name)
            .cloned()
            .collect()
    }

    fn alarm(world: &World, name: &str) -> MetricAlarm {
        world.regional(ACCOUNT, REGION).unwrap().cloudwatch.alarms[name].clone()
    }

    fn data(item: &HistoryItem) -> serde_json::Value {
        serde_json::from_str(&item.data).unwrap()
    }

    fn action_items(world: &World, name: &str) -> Vec<HistoryItem> {
        history(world, name)
            .into_iter()
            .filter(|i| i.item_type == HistoryItemType::Action)
            .collect()
    }

    #[test]
    fn legacy_recover_of_an_alarm_created_with_role_credentials_fails_with_401() {
        let (mut world, id) = world(BehaviourProfile::Legacy2016);
        let creator = power_role_session(&mut world);
        put(
            &mut world,
            "RecoveryAlarm-role",
            config(&id, &[&recover_arn()]),
            creator,
        );
        set_alarm(&mut world, "RecoveryAlarm-role");

        let items = history(&world, "RecoveryAlarm-role");
        let kinds: Vec<_> = items
            .iter()
            .map(|i| (i.item_type, i.summary.as_str()))
            .collect();
        let failed = format!(
            "Failed to execute action {}. Received error: \"Encountered error calling EC2 recover. (401: AWS was not able to validate the provided access credentials)\"",
            recover_arn()
        );
        assert_eq!(
            kinds,
            [
                (
                    HistoryItemType::ConfigurationUpdate,
                    "Alarm \"RecoveryAlarm-role\" created"
                ),
                (
                    HistoryItemType::StateUpdate,
                    "Alarm updated from INSUFFICIENT_DATA to ALARM"
                ),
                (HistoryItemType::Action, failed.as_str()),
            ]
        );
        assert!(failed.contains(
            "Encountered error calling EC2 recover. (401: AWS was not able to validate the provided access credentials)"
        ));
        assert_eq!(
            data(&items[2]),
            json!({
                "error": "Encountered error calling EC2 recover. (401: AWS was not able to validate the provided access credentials)",
                "actionState": "Failed",
                "notificationResource": recover_arn(),
                "stateUpdateTimestamp": t0().timestamp_millis(),
            })
        );
        // The creator's permissions were never asked: the credentials themselves are refused.
        assert!(!world
            .authz_log
            .records()
            .any(|r| r.action == "ec2:RecoverInstances"));
        assert!(
            instance(&world, &id).recoveries.is_empty(),
            "the instance is not touched"
        );
    }

    #[test]
    fn legacy_recover_of_an_alarm_created_by_an_iam_user_runs_as_that_user() {
        let (mut world, id) = world(BehaviourProfile::Legacy2016);
        let creator = power_user(&mut world, "cfn");
        let user_arn = creator.principal.arn();
        put(
            &mut world,
            "RecoveryAlarm-user",
            config(&id, &[&recover_arn()]),
            creator,
        );
        set_alarm(&mut world, "RecoveryAlarm-user");

        let actions = action_items(&world, "RecoveryAlarm-user");
        assert_eq!(actions.len(), 1);
        assert_eq!(
            actions[0].summary,
            format!("Successfully executed action {}", recover_arn())
        );
        assert_eq!(
            data(&actions[0]),
            json!({
                "error": null,
                "actionState": "Succeeded",
                "notificationResource": recover_arn(),
                "stateUpdateTimestamp": t0().timestamp_millis(),
            })
        );
        let decision = world
            .authz_log
            .records()
            .find(|r| r.action == "ec2:RecoverInstances")
            .unwrap();
        assert_eq!(decision.caller_arn, user_arn);
        assert_eq!(
            decision.resource,
            format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{id}")
        );
        assert!(decision.allowed);
        assert_eq!(instance(&world, &id).recoveries, [t0()]);
    }

    #[test]
    fn re_creating_the_alarm_as_the_user_fixes_it_and_updating_keeps_the_state() {
        let (mut world, id) = world(BehaviourProfile::Legacy2016);
        let role = power_role_session(&mut world);
        let user = power_user(&mut world, "cfn");
        put(
            &mut world,
            "RecoveryAlarm",
            config(&id, &[&recover_arn()]),
            role,
        );
        set_alarm(&mut world, "RecoveryAlarm");
        world.run_due(t0() + Duration::seconds(EVALUATION_DELAY_SECONDS));
        assert_eq!(
            alarm(&world, "RecoveryAlarm").state,
            StateValue::InsufficientData
        );

        put(
            &mut world,
            "RecoveryAlarm",
            config(&id, &[&recover_arn()]),
            user.clone(),
        );
        assert_eq!(alarm(&world, "RecoveryAlarm").creator(), &user);
        let last = history(&world, "RecoveryAlarm").pop().unwrap();
        assert_eq!(last.summary, "Alarm \"RecoveryAlarm\" updated");
        assert_eq!(data(&last)["type"], "Update");
        set_alarm(&mut world, "RecoveryAlarm");
        let actions = action_items(&world, "RecoveryAlarm");
        assert_eq!(actions.len(), 2);
        assert!(
            actions[1]
                .summary
                .starts_with("Successfully executed action"),
            "{}",
            actions[1].summary
        );
    }

    #[test]
    fn legacy_recover_as_a_user_without_recover_permission_is_unauthorized() {
        let (mut world, id) = world(BehaviourProfile::Legacy2016);
        let creator = power_user(&mut world, "cfn");
        world
            .iam_mut(ACCOUNT)
            .unwrap()
            .users
            .get_mut("cfn")
            .unwrap()
            .attached_policies
            .clear();
        put(&mut world, "A", config(&id, &[&recover_arn()]), creator);
        set_alarm(&mut world, "A");
        let actions = action_items(&world, "A");
        assert!(
            actions[0].summary.ends_with(
                "Received error: \"Encountered error calling EC2 recover. (403: You are not authorized to perform this operation.)\""
            ),
            "{}",
            actions[0].summary
        );
    }

    #[test]
    fn legacy_recover_after_the_creator_was_deleted_cannot_validate_the_credentials() {
        let (mut world, id) = world(BehaviourProfile::Legacy2016);
        let creator = power_user(&mut world, "cfn");
        put(&mut world, "A", config(&id, &[&recover_arn()]), creator);
        world.iam_mut(ACCOUNT).unwrap().users.remove("cfn");
        set_alarm(&mut world, "A");
        assert!(action_items(&world, "A")[0]
            .summary
            .contains("(401: AWS was not able to validate"));
    }

    #[rstest]
    #[case::legacy_plain_stop_with_role_credentials(
        BehaviourProfile::Legacy2016,
        "arn:aws:automate:ap-northeast-1:ec2:stop",
        false,
        false
    )]
    #[case::legacy_plain_stop_as_user(
        BehaviourProfile::Legacy2016,
        "arn:aws:automate:ap-northeast-1:ec2:stop",
        true,
        true
    )]
    #[case::legacy_swf_stop_without_ec2actionsaccess(
        BehaviourProfile::Legacy2016,
        "arn:aws:swf:ap-northeast-1:111111111111:action/actions/AWS_EC2.InstanceId.Stop/1.0",
        true,
        false
    )]
    #[case::current_recover_with_role_credentials(
        BehaviourProfile::Current,
        "arn:aws:automate:ap-northeast-1:ec2:recover",
        false,
        true
    )]
    #[case::current_swf_recover_with_role_credentials(
        BehaviourProfile::Current,
        "arn:aws:swf:ap-northeast-1:111111111111:action/actions/AWS_EC2.InstanceId.Recover/1.0",
        false,
        true
    )]
    #[case::current_stop_without_the_service_linked_role(
        BehaviourProfile::Current,
        "arn:aws:automate:ap-northeast-1:ec2:stop",
        true,
        false
    )]
    #[case::current_sns_with_role_credentials(
        BehaviourProfile::Current,
        "arn:aws:sns:ap-northeast-1:111111111111:ops",
        false,
        true
    )]
    #[case::legacy_sns_with_role_credentials(
        BehaviourProfile::Legacy2016,
        "arn:aws:sns:ap-northeast-1:111111111111:ops",
        false,
        true
    )]
    fn action_outcome_by_profile_creator_and_action(
        #[case] profile: BehaviourProfile,
        #[case] arn: &str,
        #[case] created_by_user: bool,
        #[case] succeeds: bool,
    ) {
        let (mut world, id) = world(profile);
        let creator = if created_by_user {
            power_user(&mut world, "cfn")
        } else {
            power_role_session(&mut world)
        };
        put(&mut world, "A", config(&id, &[arn]), creator);
        set_alarm(&mut world, "A");
        let actions = action_items(&world, "A");
        assert_eq!(actions.len(), 1);
        let prefix = if succeeds {
            "Successfully executed action "
        } else {
            "Failed to execute action "
        };
        assert!(
            actions[0].summary.starts_with(&format!("{prefix}{arn}")),
            "{}",
            actions[0].summary
        );
        assert_eq!(
            data(&actions[0])["actionState"],
            if succeeds { "Succeeded" } else { "Failed" }
        );
    }

    #[rstest]
    #[case::stop(Ec2Action::Stop, "ec2:StopInstances", InstanceStateName::Stopping)]
    #[case::terminate(
        Ec2Action::Terminate,
        "ec2:TerminateInstances",
        InstanceStateName::ShuttingDown
    )]
    #[case::reboot(Ec2Action::Reboot, "ec2:RebootInstances", InstanceStateName::Running)]
    fn current_stop_terminate_reboot_run_as_the_service_linked_role(
        #[case] action: Ec2Action,
        #[case] iam_action: &str,
        #[case] instance_state: InstanceStateName,
    ) {
        let (mut world, id) = world(BehaviourProfile::Current);
        let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
        iam.create_service_linked_role(ids, ACCOUNT, t0(), EVENTS_SERVICE, None, None)
            .unwrap();
        let creator = power_role_session(&mut world);
        let arn = format!("arn:aws:automate:{REGION}:ec2:{}", action.word());
        put(&mut world, "A", config(&id, &[&arn]), creator);
        set_alarm(&mut world, "A");
        assert!(action_items(&world, "A")[0]
            .summary
            .starts_with("Successfully executed action"));
        let decision = world
            .authz_log
            .records()
            .find(|r| r.action == iam_action)
            .unwrap();
        assert_eq!(
            decision.caller_arn,
            format!("arn:aws:sts::{ACCOUNT}:assumed-role/AWSServiceRoleForCloudWatchEvents/CloudWatchAlarms")
        );
        assert!(decision.allowed);
        assert_eq!(instance(&world, &id).state, instance_state);
    }

    #[test]
    fn an_action_on_an_instance_ec2_does_not_know_fails_with_ec2s_error() {
        let (mut world, _) = world(BehaviourProfile::Current);
        let creator = power_user(&mut world, "cfn");
        put(
            &mut world,
            "A",
            config("i-0000000000000ffff", &[&recover_arn()]),
            creator,
        );
        set_alarm(&mut world, "A");
        let summary = &action_items(&world, "A")[0].summary;
        assert!(summary.starts_with(&format!("Failed to execute action {}. Received error: \"Encountered error calling EC2 recover. (400: ", recover_arn())), "{summary}");
    }

    #[test]
    fn the_service_linked_role_policy_does_not_allow_recover() {
        // Documented: CloudWatchEventsServiceRolePolicy has no ec2:RecoverInstances; recover
        // works today because it needs no permission, not because of the role.
        let (mut world, id) = world(BehaviourProfile::Current);
        let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
        iam.create_service_linked_role(ids, ACCOUNT, t0(), EVENTS_SERVICE, None, None)
            .unwrap();
        let session = role_session(&world, ACCOUNT, EVENTS_SERVICE_LINKED_ROLE);
        let facts = RequestFacts {
            caller: &session,
            now: t0(),
            region: REGION,
        };
        let instance = format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{id}");
        assert!(!world
            .authorize(facts, &AuthzRequest::new("ec2:RecoverInstances", &instance))
            .is_allowed());
        assert!(world
            .authorize(facts, &AuthzRequest::new("ec2:StopInstances", &instance))
            .is_allowed());
    }

    #[rstest]
    #[case(
        BehaviourProfile::Legacy2016,
        Ec2Action::Recover,
        Ec2ArnForm::Automate,
        CredentialKind::Temporary,
        ActionCredentials::CreatorCredentialsUnusable
    )]
    #[case(
        BehaviourProfile::Legacy2016,
        Ec2Action::Recover,
        Ec2ArnForm::Automate,
        CredentialKind::LongTerm,
        ActionCredentials::Creator
    )]
    #[case(
        BehaviourProfile::Legacy2016,
        Ec2Action::Recover,
        Ec2ArnForm::Swf,
        CredentialKind::Temporary,
        ActionCredentials::CreatorCredentialsUnusable
    )]
    #[case(
        BehaviourProfile::Legacy2016,
        Ec2Action::Stop,
        Ec2ArnForm::Automate,
        CredentialKind::Temporary,
        ActionCredentials::CreatorCredentialsUnusable
    )]
    #[case(
        BehaviourProfile::Legacy2016,
        Ec2Action::Terminate,
        Ec2ArnForm::Automate,
        CredentialKind::LongTerm,
        ActionCredentials::Creator
    )]
    #[case(BehaviourProfile::Legacy2016, Ec2Action::Reboot, Ec2ArnForm::Swf, CredentialKind::Temporary, ActionCredentials::RoleSession { role_name: LEGACY_ACTIONS_ROLE })]
    #[case(
        BehaviourProfile::Current,
        Ec2Action::Recover,
        Ec2ArnForm::Automate,
        CredentialKind::Temporary,
        ActionCredentials::NotNeeded
    )]
    #[case(
        BehaviourProfile::Current,
        Ec2Action::Recover,
        Ec2ArnForm::Swf,
        CredentialKind::LongTerm,
        ActionCredentials::NotNeeded
    )]
    #[case(BehaviourProfile::Current, Ec2Action::Stop, Ec2ArnForm::Automate, CredentialKind::Temporary, ActionCredentials::RoleSession { role_name: EVENTS_SERVICE_LINKED_ROLE })]
    #[case(BehaviourProfile::Current, Ec2Action::Reboot, Ec2ArnForm::Swf, CredentialKind::LongTerm, ActionCredentials::RoleSession { role_name: EVENTS_SERVICE_LINKED_ROLE })]
    fn credentials_rule_table(
        #[case] profile: BehaviourProfile,
        #[case] action: Ec2Action,
        #[case] form: Ec2ArnForm,
        #[case] kind: CredentialKind,
        #[case] expected: ActionCredentials,
    ) {
        assert_eq!(
            ec2_action_credentials(profile, action, form, kind),
            expected
        );
    }

    #[test]
    fn a_new_alarm_starts_unchecked_and_is_recorded_as_created() {
        let (mut world, id) = world(BehaviourProfile::Current);
        let creator = power_user(&mut world, "cfn");
        put(&mut world, "A", config(&id, &[]), creator);
        let a = alarm(&world, "A");
        assert_eq!(
            (a.state, a.state_reason.as_str()),
            (StateValue::InsufficientData, INITIAL_STATE_REASON)
        );
        assert_eq!(
            a.arn,
            format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:A")
        );
        let items = history(&world, "A");
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].summary, "Alarm \"A\" created");
        let created = data(&items[0]);
        assert_eq!(
            (created["version"].as_str(), created["type"].as_str()),
            (Some("1.0"), Some("Create"))
        );
        assert_eq!(created["createdAlarm"]["alarmName"], "A");
        // Nothing about the creator in the history either.
        assert!(
            !items[0].data.contains("cfn") && !items[0].data.contains("AKIA"),
            "{}",
            items[0].data
        );
        // The first evaluation finds no data and, treating missing data as missing, stays put.
        world.run_due(t0() + Duration::minutes(1));
        assert_eq!(history(&world, "A").len(), 1);
    }

    #[test]
    fn set_alarm_state_returns_to_the_evaluated_state_with_a_second_state_update() {
        let (mut world, id) = world(BehaviourProfile::Current);
        let creator = power_user(&mut world, "cfn");
        let mut c = config(&id, &[&recover_arn()]);
        c.insufficient_data_actions =
            vec!["arn:aws:sns:ap-northeast-1:111111111111:ops".to_string()];
        put(&mut world, "A", c, creator);
        set_alarm(&mut world, "A");
        assert_eq!(alarm(&world, "A").state, StateValue::Alarm);
        world.run_due(t0() + Duration::seconds(EVALUATION_DELAY_SECONDS - 1));
        assert_eq!(alarm(&world, "A").state, StateValue::Alarm, "not yet due");

        let back = t0() + Duration::seconds(EVALUATION_DELAY_SECONDS);
        world.run_due(back);
        let a = alarm(&world, "A");
        assert_eq!(a.state, StateValue::InsufficientData);
        assert_eq!(
            a.state_reason,
            "Insufficient Data: 5 datapoints were unknown."
        );
        assert_eq!(a.state_transitioned, back);
        let summaries: Vec<_> = history(&world, "A")
            .into_iter()
            .map(|i| (i.item_type, i.summary))
            .collect();
        assert_eq!(
            summaries,
            [
                (
                    HistoryItemType::ConfigurationUpdate,
                    "Alarm \"A\" created".to_string()
                ),
                (
                    HistoryItemType::StateUpdate,
                    "Alarm updated from INSUFFICIENT_DATA to ALARM".to_string()
                ),
                (
                    HistoryItemType::Action,
                    format!("Successfully executed action {}", recover_arn())
                ),
                (
                    HistoryItemType::StateUpdate,
                    "Alarm updated from ALARM to INSUFFICIENT_DATA".to_string()
                ),
                (
                    HistoryItemType::Action,
                    "Successfully executed action arn:aws:sns:ap-northeast-1:111111111111:ops"
                        .to_string()
                ),
            ]
        );
        let update = data(&history(&world, "A")[1]);
        assert_eq!(
            update,
            json!({
                "version": "1.0",
                "oldState": {"stateValue": "INSUFFICIENT_DATA", "stateReason": INITIAL_STATE_REASON},
                "newState": {"stateValue": "ALARM", "stateReason": "Manual Update to ALARM"},
            })
        );
        let back_update = data(&history(&world, "A")[3]);
        assert_eq!(
            back_update["oldState"]["stateReason"],
            "Manual Update to ALARM"
        );
        assert_eq!(back_update["newState"]["stateReasonData"]["period"], 60);
    }

    #[rstest]
    #[case::not_breaching("notBreaching", StateValue::Ok)]
    #[case::breaching("breaching", StateValue::Alarm)]
    #[case::ignore("ignore", StateValue::Alarm)]
    #[case::missing("missing", StateValue::InsufficientData)]
    fn treat_missing_data_decides_the_evaluated_state(
        #[case] treat: &str,
        #[case] expected: StateValue,
    ) {
        let (mut world, id) = world(BehaviourProfile::Current);
        let creator = power_user(&mut world, "cfn");
        let mut c = config(&id, &[]);
        c.treat_missing_data = Some(treat.to_string());
        c.evaluation_periods = 1;
        put(&mut world, "A", c, creator);
        set_alarm(&mut world, "A");
        world.run_due(t0() + Duration::minutes(1));
        let a = alarm(&world, "A");
        assert_eq!(a.state, expected);
        if treat == "notBreaching" {
            assert_eq!(
                a.state_reason,
                "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]."
            );
        }
    }

    #[test]
    fn disabled_actions_record_the_state_change_but_run_nothing() {
        let (mut world, id) = world(BehaviourProfile::Legacy2016);
        let creator = power_role_session(&mut world);
        put(&mut world, "A", config(&id, &[&recover_arn()]), creator);
        set_actions_enabled(
            &mut world,
            ACCOUNT,
            REGION,
            &["A".to_string(), "missing".to_string()],
            false,
        );
        set_alarm(&mut world, "A");
        assert!(action_items(&world, "A").is_empty());
        assert_eq!(history(&world, "A").len(), 2);
    }

    #[test]
    fn setting_the_same_state_again_records_nothing() {
        let (mut world, id) = world(BehaviourProfile::Legacy2016);
        let creator = power_role_session(&mut world);
        put(&mut world, "A", config(&id, &[&recover_arn()]), creator);
        set_alarm(&mut world, "A");
        set_alarm(&mut world, "A");
        assert_eq!(history(&world, "A").len(), 3);
    }

    #[test]
    fn set_alarm_state_on_a_missing_alarm_is_resource_not_found() {
        let (mut world, _) = world(BehaviourProfile::Current);
        let error = set_alarm_state(
            &mut world,
            ACCOUNT,
            REGION,
            "nope",
            StateValue::Alarm,
            "r",
            None,
            t0(),
        )
        .unwrap_err();
        assert_eq!(
            (error.code.as_ref(), error.status, error.message.as_str()),
            ("ResourceNotFound", 404, "")
        );
    }

    #[test]
    fn delete_alarms_deletes_all_or_nothing_and_keeps_the_history() {
        let (mut world, id) = world(BehaviourProfile::Current);
        let creator = power_user(&mut world, "cfn");
        put(&mut world, "A", config(&id, &[]), creator.clone());
        put(&mut world, "B", config(&id, &[]), creator);
        let error = delete_alarms(&mut world, ACCOUNT, REGION, &["A".into(), "C".into()], t0())
            .unwrap_err();
        assert_eq!(error.code, "ResourceNotFound");
        assert_eq!(
            world
                .regional(ACCOUNT, REGION)
                .unwrap()
                .cloudwatch
                .alarms
                .len(),
            2
        );
        delete_alarms(&mut world, ACCOUNT, REGION, &["A".into(), "B".into()], t0()).unwrap();
        assert!(world
            .regional(ACCOUNT, REGION)
            .unwrap()
            .cloudwatch
            .alarms
            .is_empty());
        assert_eq!(
            history(&world, "A").last().unwrap().summary,
            "Alarm \"A\" deleted"
        );
        // A pending evaluation of a deleted alarm does nothing.
        world.run_due(t0() + Duration::minutes(1));
    }

    #[rstest]
    #[case("arn:aws:automate:us-east-1:ec2:recover", Some(ActionTarget::Ec2 { action: Ec2Action::Recover, form: Ec2ArnForm::Automate, region: "us-east-1".into() }))]
    #[case("arn:aws:automate:us-east-1:ec2:reboot", Some(ActionTarget::Ec2 { action: Ec2Action::Reboot, form: Ec2ArnForm::Automate, region: "us-east-1".into() }))]
    #[case("arn:aws:swf:us-east-1:111111111111:action/actions/AWS_EC2.InstanceId.Terminate/1.0", Some(ActionTarget::Ec2 { action: Ec2Action::Terminate, form: Ec2ArnForm::Swf, region: "us-east-1".into() }))]
    #[case("arn:aws:sns:us-east-1:111111111111:topic", Some(ActionTarget::Other))]
    #[case("arn:aws:autoscaling:us-east-1:111111111111:scalingPolicy:x:autoScalingGroupName/g:policyName/p", Some(ActionTarget::Other))]
    #[case("arn:aws:automate:us-east-1:ec2:hibernate", None)]
    #[case(
        "arn:aws:swf:us-east-1:111111111111:action/actions/AWS_EC2.InstanceId.Start/1.0",
        None
    )]
    #[case("scale-down-policy", None)]
    #[case("arn:aws:sns:us-east-1:111111111111:", None)]
    fn action_arns(#[case] arn: &str, #[case] expected: Option<ActionTarget>) {
        assert_eq!(parse_action(arn), expected);
    }
}
