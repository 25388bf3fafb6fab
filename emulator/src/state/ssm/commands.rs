//! Run Command: commands, their invocations on managed nodes, and the operations on them
//! (`SendCommand`, `GetCommandInvocation`, `ListCommands`, `ListCommandInvocations`,
//! `CancelCommand`). How an invocation moves (the agent taking it, the job it runs, its end)
//! is `super::delivery`; what runs is [`super::documents::resolve`].
//!
//! Facts (botocore ssm 2014-11-06; real responses quoted in public code):
//! * Invocation `Status`: `Pending`, `InProgress`, `Delayed`, `Success`, `Cancelled`,
//!   `TimedOut`, `Failed`, `Cancelling`; command `Status` the same without `Delayed`; a plugin's
//!   `Pending`, `InProgress`, `Success`, `TimedOut`, `Cancelled`, `Failed`.
//! * `StatusDetails` on the wire is the console's words joined: `Pending`, `InProgress`,
//!   `Success`, `Failed`, `Cancelled`, `DeliveryTimedOut`, `ExecutionTimedOut`,
//!   `Undeliverable`, `Terminated`, `Incomplete`, `NoInstancesInTag` (real `SendCommand` and
//!   `GetCommandInvocation` responses show `InProgress` and `ExecutionTimedOut`; the list
//!   operations' `Status` filter takes the same words).
//! * `ResponseCode` is -1 until the agent reports; a script killed at its timeout reports 137
//!   (SIGKILL) with `TimedOut`/`ExecutionTimedOut` (a real response; amazon-ssm-agent
//!   `CommandStoppedPreemptivelyExitCode`).
//! * `CompletedCount` counts terminal invocations, `ErrorCount` those `Failed` or
//!   `ExecutionTimedOut`, `DeliveryTimedOutCount` those that timed out before delivery.
//! * `SendCommand` defaults: `TimeoutSeconds` 3600, `MaxConcurrency` `50`, `MaxErrors` `0`,
//!   `DocumentVersion` `$DEFAULT`; naming a node that is not managed is `InvalidInstanceId`
//!   without a message (aws-cli issue 3646).
//!
//! Chosen, unconfirmed: `ExpiresAfter` is the request time plus the delivery timeout plus the
//! plugins' execution timeouts (the model: "calculated based on the total timeout"); when every
//! invocation is terminal, the command is `Cancelled` if it was cancelled, `Failed`/`Failed` (or
//! `TimedOut`/`ExecutionTimedOut`) when more than `MaxErrors` invocations failed, `Success` when
//! all succeeded, `TimedOut`/`DeliveryTimedOut` when none was delivered, and `Failed`/`Incomplete`
//! otherwise; tag targets that match no managed node give `Failed`/`NoInstancesInTag`. Targets
//! combine as AND; only managed nodes (registered, `Online`, instance running) match a tag
//! target. `MaxConcurrency` is accepted and every invocation is delivered at once; no invocation
//! is ever `Delayed` or `Terminated`. `InstanceIds` and `Targets` together, or neither, is a
//! `ValidationException`. An unknown, well-formed command id is `InvalidCommandId` for the list
//! operations and `CancelCommand`, and `InvocationDoesNotExist` for `GetCommandInvocation`.
//! Authorization: `ssm:SendCommand` on the document and on every instance targeted; the other
//! operations on `*`.

use chrono::{DateTime, Duration, Utc};

use crate::{
    authz::RequestFacts,
    error::AwsError,
    state::{
        ec2::{self, InstanceStateName},
        World,
    },
};

use super::{
    access::{authorize, instance_arn},
    documents::{self, PluginRun},
    errors, state, state_mut, Event, PingStatus, CONNECTION_LOST_AFTER_SECONDS,
};

pub use super::delivery::{finish_job, get_messages, job_cancelled};

/// `SendCommand`'s `TimeoutSeconds` when the caller gives none.
pub const DEFAULT_DELIVERY_TIMEOUT_SECONDS: i64 = 3600;
/// From `SendCommand` to the agent's first `GetMessages` poll that can return it. Chosen: the
/// agent long-polls `ec2messages`, so a command reaches a healthy node within a second or two.
pub const DELIVERY_DELAY_SECONDS: i64 = 2;

/// The status of an invocation, and of a plugin within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    InProgress,
    Delayed,
    Success,
    Cancelled,
    TimedOut,
    Failed,
    Cancelling,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Pending,
        Status::InProgress,
        Status::Delayed,
        Status::Success,
        Status::Cancelled,
        Status::TimedOut,
        Status::Failed,
        Status::Cancelling,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "Pending",
            Status::InProgress => "InProgress",
            Status::Delayed => "Delayed",
            Status::Success => "Success",
            Status::Cancelled => "Cancelled",
            Status::TimedOut => "TimedOut",
            Status::Failed => "Failed",
            Status::Cancelling => "Cancelling",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Success | Status::Cancelled | Status::TimedOut | Status::Failed)
    }
}

/// `StatusDetails` values, as the API spells them.
pub mod details {
    pub const PENDING: &str = "Pending";
    pub const IN_PROGRESS: &str = "InProgress";
    pub const SUCCESS: &str = "Success";
    pub const FAILED: &str = "Failed";
    pub const CANCELLED: &str = "Cancelled";
    pub const CANCELLING: &str = "Cancelling";
    pub const DELIVERY_TIMED_OUT: &str = "DeliveryTimedOut";
    pub const EXECUTION_TIMED_OUT: &str = "ExecutionTimedOut";
    pub const UNDELIVERABLE: &str = "Undeliverable";
    pub const INCOMPLETE: &str = "Incomplete";
    pub const NO_INSTANCES_IN_TAG: &str = "NoInstancesInTag";
}

/// One plugin of an invocation, and what the agent reported for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginResult {
    pub run: PluginRun,
    pub status: Status,
    pub details: &'static str,
    /// -1 until the agent reports.
    pub response_code: i64,
    pub started: Option<DateTime<Utc>>,
    pub finished: Option<DateTime<Utc>>,
    /// What the agent sends back: at most 24,000 bytes each (see `super::delivery`).
    pub stdout: String,
    pub stderr: String,
}

/// A command on one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub instance_id: String,
    /// `InstanceName`: the host name the node's agent reports.
    pub instance_name: String,
    pub status: Status,
    pub details: &'static str,
    pub plugins: Vec<PluginResult>,
    /// Why the agent could not take the invocation at its last poll (not an AWS field: on AWS
    /// it is in the agent's log).
    pub delivery_error: Option<String>,
}

/// A command sent with `SendCommand`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub id: String,
    pub document_name: String,
    pub document_version: String,
    pub comment: String,
    /// The parameters as the caller sent them.
    pub parameters: Vec<(String, Vec<String>)>,
    /// `InstanceIds` as the caller sent them (empty when `Targets` were used).
    pub instance_ids: Vec<String>,
    pub targets: Vec<(String, Vec<String>)>,
    pub requested: DateTime<Utc>,
    pub expires_after: DateTime<Utc>,
    pub timeout_seconds: i64,
    pub max_concurrency: String,
    pub max_errors: String,
    pub cancel_requested: bool,
    pub invocations: Vec<Invocation>,
}

impl Command {
    /// `(Status, StatusDetails)` of the command, from its invocations (see the module
    /// documentation for the choices).
    pub fn status(&self) -> (&'static str, &'static str) {
        let invocations = &self.invocations;
        if invocations.is_empty() {
            return (Status::Failed.as_str(), details::NO_INSTANCES_IN_TAG);
        }
        if !invocations.iter().all(|i| i.status.is_terminal()) {
            return if self.cancel_requested {
                (Status::Cancelling.as_str(), details::CANCELLING)
            } else if invocations.iter().all(|i| i.status == Status::Pending) {
                (Status::Pending.as_str(), details::PENDING)
            } else {
                (Status::InProgress.as_str(), details::IN_PROGRESS)
            };
        }
        if self.cancel_requested && invocations.iter().any(|i| i.status == Status::Cancelled) {
            return (Status::Cancelled.as_str(), details::CANCELLED);
        }
        let failed = invocations.iter().filter(|i| i.details == details::FAILED).count();
        if self.error_count() > self.allowed_errors() {
            return if failed > 0 {
                (Status::Failed.as_str(), details::FAILED)
            } else {
                (Status::TimedOut.as_str(), details::EXECUTION_TIMED_OUT)
            };
        }
        if invocations.iter().all(|i| i.status == Status::Success) {
            (Status::Success.as_str(), details::SUCCESS)
        } else if invocations.iter().all(|i| i.details == details::DELIVERY_TIMED_OUT) {
            (Status::TimedOut.as_str(), details::DELIVERY_TIMED_OUT)
        } else {
            (Status::Failed.as_str(), details::INCOMPLETE)
        }
    }

    /// `MaxErrors` as a number of invocations (`10%` of the targets, rounded down).
    fn allowed_errors(&self) -> usize {
        match self.max_errors.strip_suffix('%') {
            Some(percent) => percent.parse::<usize>().unwrap_or(0) * self.invocations.len() / 100,
            None => self.max_errors.parse().unwrap_or(0),
        }
    }

    pub fn target_count(&self) -> usize {
        self.invocations.len()
    }

    pub fn completed_count(&self) -> usize {
        self.invocations.iter().filter(|i| i.status.is_terminal()).count()
    }

    pub fn error_count(&self) -> usize {
        self.invocations
            .iter()
            .filter(|i| i.details == details::FAILED || i.details == details::EXECUTION_TIMED_OUT)
            .count()
    }

    pub fn delivery_timed_out_count(&self) -> usize {
        self.invocations.iter().filter(|i| i.details == details::DELIVERY_TIMED_OUT).count()
    }

    pub fn invocation(&self, instance_id: &str) -> Option<&Invocation> {
        self.invocations.iter().find(|i| i.instance_id == instance_id)
    }
}

/// The command `command_id` of an account in a region.
pub(super) fn command_mut<'w>(world: &'w mut World, account: &str, region: &str, command_id: &str) -> Option<&'w mut Command> {
    state_mut(world, account, region)?.commands.iter_mut().find(|c| c.id == command_id)
}

pub fn command<'w>(world: &'w World, account: &str, region: &str, command_id: &str) -> Option<&'w Command> {
    state(world, account, region)?.commands.iter().find(|c| c.id == command_id)
}

/// A command id in AWS's UUID shape, from a per-run counter.
fn new_command_id(world: &mut World) -> String {
    use sha2::{Digest, Sha256};
    let id = world.ids.hex_id("ssm-command");
    let hash = Sha256::digest(format!("wana-ssm-command/{id}").as_bytes());
    let hex = hex::encode(&hash[..16]);
    format!("{}-{}-4{}-8{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

/// Whether `text` has the shape of a command id (a UUID).
pub fn is_command_id(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12]) && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether an instance is a managed node that can receive a command now: registered by its
/// agent, its instance running, its last ping recent enough to show `Online`.
pub fn is_managed(world: &World, account: &str, region: &str, instance_id: &str, now: DateTime<Utc>) -> bool {
    let running = ec2::instance(world, account, region, instance_id).is_some_and(|i| i.state == InstanceStateName::Running);
    let threshold = world.latency(Duration::seconds(CONNECTION_LOST_AFTER_SECONDS));
    let online = state(world, account, region)
        .and_then(|s| s.nodes.get(instance_id))
        .is_some_and(|n| n.ping_status(now, threshold) == PingStatus::Online);
    running && online
}

/// What `SendCommand` was given, checked against the model by the handler.
#[derive(Debug, Clone, Default)]
pub struct SendCommand<'a> {
    pub document_name: &'a str,
    pub document_version: Option<&'a str>,
    pub instance_ids: Option<Vec<String>>,
    pub targets: Option<Vec<(String, Vec<String>)>>,
    pub parameters: Vec<(String, Vec<String>)>,
    pub comment: Option<&'a str>,
    pub timeout_seconds: Option<i64>,
    pub max_concurrency: Option<&'a str>,
    pub max_errors: Option<&'a str>,
}

fn validation(message: &str) -> AwsError {
    errors::validation(message)
}

/// The instances tag targets select: managed nodes whose instances match every target.
fn tag_targets(world: &World, account: &str, region: &str, targets: &[(String, Vec<String>)], now: DateTime<Utc>) -> Vec<String> {
    let Some(ssm) = state(world, account, region) else {
        return Vec::new();
    };
    ssm.nodes
        .keys()
        .filter(|id| is_managed(world, account, region, id, now))
        .filter(|id| {
            let tags = ec2::instance(world, account, region, id).map(|i| i.tags.as_slice()).unwrap_or_default();
            targets.iter().all(|(key, values)| match key.strip_prefix("tag:") {
                Some(tag) => tags.iter().any(|t| t.key == tag && values.contains(&t.value)),
                None => tags.iter().any(|t| values.contains(&t.key)),
            })
        })
        .cloned()
        .collect()
}

/// The instances a `SendCommand` names, and whether they were named one by one.
fn targeted(world: &World, account: &str, region: &str, request: &SendCommand<'_>, now: DateTime<Utc>) -> Result<(Vec<String>, bool), AwsError> {
    match (&request.instance_ids, &request.targets) {
        (Some(ids), None) if !ids.is_empty() => Ok((ids.clone(), true)),
        (None, Some(targets)) if !targets.is_empty() => {
            if let [(key, values)] = targets.as_slice() {
                if key == "InstanceIds" {
                    return Ok((values.clone(), true));
                }
            }
            for (key, _) in targets {
                if key == "InstanceIds" {
                    return Err(validation("InstanceIds cannot be combined with other targets."));
                }
                if key != "tag-key" && !key.starts_with("tag:") {
                    return Err(errors::validation(format!(
                        "The target key {key} is not emulated by wana (InstanceIds, tag:<key> and tag-key are)."
                    )));
                }
            }
            Ok((tag_targets(world, account, region, targets, now), false))
        }
        (Some(_), Some(_)) => Err(validation("Specify either InstanceIds or Targets, not both.")),
        _ => Err(validation("Specify InstanceIds or Targets.")),
    }
}

/// `SendCommand`: IAM's `ssm:SendCommand` on the document and on every instance, the document
/// and its parameters, then one `Pending` invocation per managed node, delivered to its agent
/// [`DELIVERY_DELAY_SECONDS`] later.
pub fn send_command(world: &mut World, facts: RequestFacts<'_>, request: &SendCommand<'_>) -> Result<Command, AwsError> {
    let account = facts.caller.principal.account().to_string();
    let region = facts.region;
    let now = facts.now;
    let document_name = documents::name_of(request.document_name);
    authorize(world, facts, "ssm:SendCommand", &documents::document_arn(region, &account, document_name))?;
    let (instances, named) = targeted(world, &account, region, request, now)?;
    let document = documents::find(world, &account, region, request.document_name).ok_or_else(documents::invalid_document)?;
    documents::check_version(&document, request.document_version, None)?;
    let plugins = documents::resolve(&document, &request.parameters)?;
    if named {
        let mut seen = std::collections::BTreeSet::new();
        if !instances.iter().all(|id| seen.insert(id.as_str())) {
            return Err(AwsError::new("DuplicateInstanceId", 400, ""));
        }
    }
    for id in &instances {
        authorize(world, facts, "ssm:SendCommand", &instance_arn(region, &account, id))?;
    }
    if named && !instances.iter().all(|id| is_managed(world, &account, region, id, now)) {
        return Err(errors::invalid_instance_id());
    }
    let timeout_seconds = request.timeout_seconds.unwrap_or(DEFAULT_DELIVERY_TIMEOUT_SECONDS);
    let execution: u64 = plugins.iter().map(|p| p.timeout_seconds).sum();
    let expires_after = now + Duration::seconds(timeout_seconds) + Duration::seconds(i64::try_from(execution).unwrap_or(i64::MAX / 2));
    let invocations = instances
        .iter()
        .map(|id| Invocation {
            instance_id: id.clone(),
            instance_name: state(world, &account, region)
                .and_then(|s| s.nodes.get(id))
                .and_then(|n| n.computer_name.clone())
                .unwrap_or_default(),
            status: Status::Pending,
            details: details::PENDING,
            plugins: plugins
                .iter()
                .map(|run| PluginResult {
                    run: run.clone(),
                    status: Status::Pending,
                    details: details::PENDING,
                    response_code: -1,
                    started: None,
                    finished: None,
                    stdout: String::new(),
                    stderr: String::new(),
                })
                .collect(),
            delivery_error: None,
        })
        .collect();
    let command = Command {
        id: new_command_id(world),
        document_name: document_name.to_string(),
        document_version: request.document_version.unwrap_or("$DEFAULT").to_string(),
        comment: request.comment.unwrap_or_default().to_string(),
        parameters: request.parameters.clone(),
        instance_ids: request.instance_ids.clone().unwrap_or_default(),
        targets: request.targets.clone().unwrap_or_default(),
        requested: now,
        expires_after,
        timeout_seconds,
        max_concurrency: request.max_concurrency.unwrap_or("50").to_string(),
        max_errors: request.max_errors.unwrap_or("0").to_string(),
        cancel_requested: false,
        invocations,
    };
    let deliver_at = now + world.latency(Duration::seconds(DELIVERY_DELAY_SECONDS));
    for id in &instances {
        let event = Event::Deliver { command_id: command.id.clone(), instance_id: id.clone() };
        world.schedule(deliver_at, &account, region, event);
    }
    // The caller's timeouts are contractual: never scaled.
    let delivery_deadline = now + Duration::seconds(timeout_seconds);
    world.schedule(delivery_deadline, &account, region, Event::DeliveryTimeout { command_id: command.id.clone() });
    world.schedule(expires_after, &account, region, Event::Expire { command_id: command.id.clone() });
    state_mut(world, &account, region).ok_or_else(errors::invalid_instance_id)?.commands.push(command.clone());
    Ok(command)
}

pub fn invalid_command_id() -> AwsError {
    AwsError::new("InvalidCommandId", 400, "")
}

pub fn invocation_does_not_exist() -> AwsError {
    AwsError::new("InvocationDoesNotExist", 400, "")
}

pub fn invalid_plugin_name() -> AwsError {
    AwsError::new("InvalidPluginName", 400, "")
}

/// `GetCommandInvocation`: the invocation of `command_id` on `instance_id` and the index of the
/// plugin asked for (a document with several plugins needs `PluginName`).
pub fn get_command_invocation(
    world: &mut World,
    facts: RequestFacts<'_>,
    command_id: &str,
    instance_id: &str,
    plugin_name: Option<&str>,
) -> Result<(Command, usize), AwsError> {
    let account = facts.caller.principal.account().to_string();
    authorize(world, facts, "ssm:GetCommandInvocation", "*")?;
    if !is_command_id(command_id) {
        return Err(invalid_command_id());
    }
    let command = command(world, &account, facts.region, command_id).ok_or_else(invocation_does_not_exist)?;
    let invocation = command.invocation(instance_id).ok_or_else(invocation_does_not_exist)?;
    let index = match plugin_name {
        Some(name) => invocation.plugins.iter().position(|p| p.run.name == name).ok_or_else(invalid_plugin_name)?,
        None if invocation.plugins.len() == 1 => 0,
        None => return Err(invalid_plugin_name()),
    };
    Ok((command.clone(), index))
}

/// A filter of the list operations (`CommandFilter`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandFilter {
    InvokedAfter(DateTime<Utc>),
    InvokedBefore(DateTime<Utc>),
    /// A `Status` value: matches the status or the status details.
    Status(String),
    /// `Executing` or `Complete` (commands only).
    ExecutionStage(bool),
    DocumentName(String),
}

const COMMAND_STATUS_VALUES: [&str; 12] = [
    "Pending", "InProgress", "Success", "Cancelled", "Failed", "TimedOut", "AccessDenied", "DeliveryTimedOut",
    "ExecutionTimedOut", "Incomplete", "NoInstancesInTag", "LimitExceeded",
];
const INVOCATION_STATUS_VALUES: [&str; 13] = [
    "Pending", "InProgress", "Delayed", "Success", "Cancelled", "Failed", "TimedOut", "AccessDenied",
    "DeliveryTimedOut", "ExecutionTimedOut", "Undeliverable", "InvalidPlatform", "Terminated",
];

fn invalid_filter_value(key: &str, value: &str) -> AwsError {
    AwsError::new("InvalidFilterValue", 400, format!("{value} is not a valid value for the filter {key}."))
}

fn timestamp(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0).map(|t| t.and_utc()))
}

impl CommandFilter {
    /// A filter from its key (already one of the model's enum) and value; `for_commands` says
    /// which operation asks (`ExecutionStage` is for `ListCommands` only: `InvalidFilterKey`).
    pub fn parse(key: &str, value: &str, for_commands: bool) -> Result<CommandFilter, AwsError> {
        let statuses: &[&str] = if for_commands { &COMMAND_STATUS_VALUES } else { &INVOCATION_STATUS_VALUES };
        Ok(match key {
            "InvokedAfter" => CommandFilter::InvokedAfter(timestamp(value).ok_or_else(|| invalid_filter_value(key, value))?),
            "InvokedBefore" => CommandFilter::InvokedBefore(timestamp(value).ok_or_else(|| invalid_filter_value(key, value))?),
            "Status" if statuses.contains(&value) => CommandFilter::Status(value.to_string()),
            "Status" => return Err(invalid_filter_value(key, value)),
            "ExecutionStage" if !for_commands => return Err(errors::invalid_filter_key()),
            "ExecutionStage" => match value {
                "Executing" => CommandFilter::ExecutionStage(false),
                "Complete" => CommandFilter::ExecutionStage(true),
                _ => return Err(invalid_filter_value(key, value)),
            },
            "DocumentName" => CommandFilter::DocumentName(value.to_string()),
            _ => return Err(errors::invalid_filter_key()),
        })
    }

    /// Whether a command (or one of its invocations, with its own status) passes.
    fn keeps(&self, command: &Command, status: (&str, &str), terminal: bool) -> bool {
        match self {
            CommandFilter::InvokedAfter(t) => command.requested >= *t,
            CommandFilter::InvokedBefore(t) => command.requested <= *t,
            CommandFilter::Status(value) => value == status.0 || value == status.1,
            CommandFilter::ExecutionStage(complete) => terminal == *complete,
            CommandFilter::DocumentName(name) => &command.document_name == name,
        }
    }
}

/// The commands the list operations look at, newest first: one command if `command_id` is
/// given (`InvalidCommandId` if it is not one), else all.
fn commands_listed(world: &World, account: &str, region: &str, command_id: Option<&str>) -> Result<Vec<Command>, AwsError> {
    let all = state(world, account, region).map(|s| s.commands.as_slice()).unwrap_or_default();
    match command_id {
        Some(id) => all.iter().find(|c| c.id == id).map(|c| vec![c.clone()]).ok_or_else(invalid_command_id),
        None => Ok(all.iter().rev().cloned().collect()),
    }
}

/// `ListCommands`, newest first.
pub fn list_commands(
    world: &mut World,
    facts: RequestFacts<'_>,
    command_id: Option<&str>,
    instance_id: Option<&str>,
    filters: &[CommandFilter],
) -> Result<Vec<Command>, AwsError> {
    let account = facts.caller.principal.account().to_string();
    authorize(world, facts, "ssm:ListCommands", "*")?;
    let commands = commands_listed(world, &account, facts.region, command_id)?;
    Ok(commands
        .into_iter()
        .filter(|c| instance_id.is_none_or(|id| c.invocation(id).is_some()))
        .filter(|c| {
            let terminal = c.invocations.iter().all(|i| i.status.is_terminal());
            filters.iter().all(|f| f.keeps(c, c.status(), terminal))
        })
        .collect())
}

/// `ListCommandInvocations`: each command's invocations, newest command first.
pub fn list_command_invocations(
    world: &mut World,
    facts: RequestFacts<'_>,
    command_id: Option<&str>,
    instance_id: Option<&str>,
    filters: &[CommandFilter],
) -> Result<Vec<(Command, Invocation)>, AwsError> {
    let account = facts.caller.principal.account().to_string();
    authorize(world, facts, "ssm:ListCommandInvocations", "*")?;
    let commands = commands_listed(world, &account, facts.region, command_id)?;
    let mut out = Vec::new();
    for command in commands {
        for invocation in &command.invocations {
            if instance_id.is_some_and(|id| id != invocation.instance_id) {
                continue;
            }
            let status = (invocation.status.as_str(), invocation.details);
            if filters.iter().all(|f| f.keeps(&command, status, invocation.status.is_terminal())) {
                out.push((command.clone(), invocation.clone()));
            }
        }
    }
    Ok(out)
}

/// `CancelCommand`: invocations not yet delivered are `Cancelled` at once; those running are
/// `Cancelling` until the instance runtime kills their script ([`job_cancelled`] says so);
/// finished ones stay as they are. `instance_ids` limits it to those nodes (one that is not in
/// the command is `InvalidInstanceId`).
pub fn cancel_command(world: &mut World, facts: RequestFacts<'_>, command_id: &str, instance_ids: &[String]) -> Result<(), AwsError> {
    let account = facts.caller.principal.account().to_string();
    authorize(world, facts, "ssm:CancelCommand", "*")?;
    if !is_command_id(command_id) {
        return Err(invalid_command_id());
    }
    let command = command_mut(world, &account, facts.region, command_id).ok_or_else(invalid_command_id)?;
    if instance_ids.iter().any(|id| command.invocation(id).is_none()) {
        return Err(errors::invalid_instance_id());
    }
    command.cancel_requested = true;
    for invocation in &mut command.invocations {
        if !instance_ids.is_empty() && !instance_ids.contains(&invocation.instance_id) {
            continue;
        }
        match invocation.status {
            Status::Pending | Status::Delayed => {
                invocation.status = Status::Cancelled;
                invocation.details = details::CANCELLED;
                for plugin in &mut invocation.plugins {
                    plugin.status = Status::Cancelled;
                    plugin.details = details::CANCELLED;
                }
            }
            Status::InProgress => {
                invocation.status = Status::Cancelling;
                invocation.details = details::CANCELLING;
            }
            _ => {}
        }
    }
    Ok(())
}
