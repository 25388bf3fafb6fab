//! Systems Manager of one account in one region: the managed nodes (EC2 instances whose SSM
//! Agent registered with `UpdateInstanceInformation`), String parameters, and the SSM Agent
//! model that runs on every running instance.
//!
//! The module holds the state ([`ManagedNode`], [`Parameter`], [`State`]) and its scheduled
//! events; the operations live by concern: [`errors`] (SSM's error texts), `access` (IAM
//! authorization, and SSM's rule that only an instance reports for itself), `nodes`
//! (registration and `DescribeInstanceInformation`), `parameters` (Parameter Store) and
//! [`agent`] (the agent on each instance: credentials from instance metadata, health pings,
//! backoff), and Run Command: [`documents`] (Command documents and their parameters;
//! [`document_list`], `ListDocuments`),
//! [`commands`] (`SendCommand`, the commands and invocations, cancelling, listing), `delivery`
//! (the agent taking an invocation, the job it runs, its outcome) and [`jobs`] (the hand-over to
//! the instance runtime that runs scripts).
//!
//! Facts (botocore ssm 2014-11-06 model; aws-traps.md, Trap 5):
//! * `DescribeInstanceInformation` "does not return information for nodes that are either
//!   Stopped or Terminated"; naming "a node ID that isn't valid or a node that you don't own"
//!   is an error (`InvalidInstanceId`).
//! * `PingStatus` is `Online`, `ConnectionLost` or `Inactive` (deprecated, never shown here);
//!   `ResourceType` of an EC2 node is `EC2Instance`, `SourceType` `AWS::EC2::Instance`.
//! * `UpdateInstanceInformation` is not in the public model: it is the agent's call (the
//!   agent's own SDK, `amazon-ssm-agent`, sends `InstanceId` (required), `AgentName`,
//!   `AgentStatus`, `AgentVersion`, `PlatformType`, `PlatformName`, `PlatformVersion`,
//!   `IPAddress`, `ComputerName` and answers with an empty structure). IAM authorizes it as
//!   `ssm:UpdateInstanceInformation` on `arn:aws:ec2:<region>:<account>:instance/<id>`
//!   (agent logs quoted in amazon-ssm-agent issues 144, 374 and 543).

mod access;
pub mod agent;
pub mod commands;
mod delivery;
pub mod document_list;
pub mod documents;
pub mod jobs;
pub mod errors;
mod nodes;
mod parameters;
#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_run_command;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

pub use access::{authorize, instance_arn};
pub use agent::Agent;
pub use nodes::{
    describe_instance_associations_status, describe_instance_information, update_instance_information, AgentReport,
    InstanceFilter, NodeView, LEGACY_FILTER_KEYS, RESOURCE_TYPE, SOURCE_TYPE,
};
pub use parameters::{get_parameter, parameter_arn, put_parameter, NewParameter, PARAMETER_TYPES, PARAMETER_TIERS};

/// How long after its last successful health ping a node still shows `Online`; older, it
/// shows `ConnectionLost`. Chosen, unconfirmed: AWS publishes no figure. Two missed health
/// pings (the agent pings every five minutes, [`agent::HEALTH_PING_SECONDS`]) is what is
/// modelled. Scaled by the world's latency scale like every AWS latency.
pub const CONNECTION_LOST_AFTER_SECONDS: i64 = 600;

/// `PingStatus` of a node, computed from the clock when the node is described.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingStatus {
    Online,
    ConnectionLost,
    /// Deprecated by AWS; accepted in filters, never shown.
    Inactive,
}

impl PingStatus {
    pub const ALL: [PingStatus; 3] = [PingStatus::Online, PingStatus::ConnectionLost, PingStatus::Inactive];

    pub fn as_str(self) -> &'static str {
        match self {
            PingStatus::Online => "Online",
            PingStatus::ConnectionLost => "ConnectionLost",
            PingStatus::Inactive => "Inactive",
        }
    }

    pub fn parse(text: &str) -> Option<PingStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// An EC2 instance registered by its agent: what the agent last reported, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedNode {
    pub instance_id: String,
    /// The first successful `UpdateInstanceInformation`.
    pub registration_date: DateTime<Utc>,
    /// The most recent successful `UpdateInstanceInformation`.
    pub last_ping: DateTime<Utc>,
    pub agent_name: Option<String>,
    pub agent_version: Option<String>,
    pub platform_type: Option<String>,
    pub platform_name: Option<String>,
    pub platform_version: Option<String>,
    pub ip_address: Option<String>,
    pub computer_name: Option<String>,
}

impl ManagedNode {
    /// `Online` while the last ping is younger than the ConnectionLost threshold (at the
    /// world's latency scale, `threshold`), else `ConnectionLost`.
    pub fn ping_status(&self, now: DateTime<Utc>, threshold: Duration) -> PingStatus {
        if now - self.last_ping < threshold {
            PingStatus::Online
        } else {
            PingStatus::ConnectionLost
        }
    }
}

/// A Parameter Store parameter (the current version only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub name: String,
    pub arn: String,
    /// `String` or `StringList`.
    pub parameter_type: String,
    pub value: String,
    /// 1 for a new parameter, one more for every overwrite.
    pub version: i64,
    pub last_modified: DateTime<Utc>,
    pub description: Option<String>,
    /// `Standard` or `Advanced`.
    pub tier: String,
    pub data_type: String,
}

/// Everything SSM holds for one account in one region.
#[derive(Debug, Default, Clone)]
pub struct State {
    /// Managed nodes by instance id.
    pub nodes: BTreeMap<String, ManagedNode>,
    /// Parameters by name.
    pub parameters: BTreeMap<String, Parameter>,
    /// The agent of each instance that ever ran, by instance id.
    pub agents: BTreeMap<String, Agent>,
    /// The account's own SSM documents, by name (AWS's are in [`documents`]).
    pub documents: BTreeMap<String, documents::Document>,
    /// Run Command's commands, oldest first.
    pub commands: Vec<commands::Command>,
}

/// Effects SSM (its agents) performs later, on the emulator clock.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The agent of an instance wakes up: it reads its credentials and reports, or gives up
    /// when the instance no longer runs. `boot` tells the agent of one start of the instance
    /// from the agent of an earlier one.
    AgentTick { instance_id: String, boot: u64 },
    /// The agent of an instance polls for a command invocation (`ec2messages:GetMessages`) and
    /// takes it if it may (see [`commands`]).
    Deliver { command_id: String, instance_id: String },
    /// A command's delivery timeout (`TimeoutSeconds`) has passed: invocations still `Pending`
    /// time out.
    DeliveryTimeout { command_id: String },
    /// A command reached `ExpiresAfter`: invocations not finished time out.
    Expire { command_id: String },
}

/// Applies a due event (see [`super::scheduler`]).
pub fn on_event(world: &mut super::World, due: &super::scheduler::Due, event: Event) {
    match event {
        Event::AgentTick { instance_id, boot } => agent::tick(world, &due.account, &due.region, &instance_id, boot, due.at),
        Event::Deliver { command_id, instance_id } => {
            delivery::deliver(world, &due.account, &due.region, &command_id, &instance_id, due.at)
        }
        Event::DeliveryTimeout { command_id } => delivery::delivery_timeout(world, &due.account, &due.region, &command_id),
        Event::Expire { command_id } => delivery::expire(world, &due.account, &due.region, &command_id, due.at),
    }
}

/// An account's SSM state in a region, if anything touched it.
pub fn state<'w>(world: &'w super::World, account: &str, region: &str) -> Option<&'w State> {
    world.regional(account, region).map(|r| &r.ssm)
}

fn state_mut<'w>(world: &'w mut super::World, account: &str, region: &str) -> Option<&'w mut State> {
    world.regional_mut(account, region).map(|r| &mut r.ssm)
}
