//! CloudFormation stacks of one account in one region, and the engine that provisions them.
//!
//! CloudFormation has no permissions of its own here: without a service role it acts with the
//! credentials of whoever started the stack operation. Every resource is therefore created,
//! updated and deleted by calling the other services' handlers ([`crate::services::handle`])
//! with the stack caller's [`Caller`], so authorization, validation and state change go through
//! exactly the path a direct API call takes, and a resource remembers who created it (an alarm
//! created through a stack keeps the stack caller's credential kind). An inner call's error fails
//! the resource; its message becomes the `ResourceStatusReason` in the resource handlers' wording.
//!
//! Stack operations are asynchronous, as in AWS: the API call answers with an `…_IN_PROGRESS`
//! status and schedules [`Event::Run`] at the same emulator time, which runs before the next
//! request is handled, so the next DescribeStacks already sees the outcome and every event.
//!
//! The files: this one holds the stack model (stacks, resources, events, the scheduled
//! [`Event`]); `catalog` the resource types wana provisions; `view` what references see while
//! resolving; `engine` and `update` the stack operations (create, delete, update, rollback,
//! replacement); `provisioners` the per-type code, whose one door to the other services is
//! `Engine::call`; `inputs` the translation of properties into requests; `reasons` the wording
//! of a failed inner call.

mod catalog;
mod engine;
mod inputs;
mod provisioners;
mod reasons;
mod update;
mod view;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::World;
use crate::{
    principal::Caller,
    template::{Node, Pseudo, ResolvedOutput, ResolvedParameter, Template},
};

pub use catalog::{required_capability, type_spec, Capability, Provisioners, TypeSpec};
pub use engine::on_event;
pub use view::{dry_run, included_resources, NotYetCreated};

/// Stack and resource statuses (the `StackStatus` and `ResourceStatus` enums of the model).
pub mod status {
    pub const CREATE_IN_PROGRESS: &str = "CREATE_IN_PROGRESS";
    pub const CREATE_FAILED: &str = "CREATE_FAILED";
    pub const CREATE_COMPLETE: &str = "CREATE_COMPLETE";
    pub const ROLLBACK_IN_PROGRESS: &str = "ROLLBACK_IN_PROGRESS";
    pub const ROLLBACK_FAILED: &str = "ROLLBACK_FAILED";
    pub const ROLLBACK_COMPLETE: &str = "ROLLBACK_COMPLETE";
    pub const DELETE_IN_PROGRESS: &str = "DELETE_IN_PROGRESS";
    pub const DELETE_FAILED: &str = "DELETE_FAILED";
    pub const DELETE_COMPLETE: &str = "DELETE_COMPLETE";
    pub const DELETE_SKIPPED: &str = "DELETE_SKIPPED";
    pub const UPDATE_IN_PROGRESS: &str = "UPDATE_IN_PROGRESS";
    pub const UPDATE_FAILED: &str = "UPDATE_FAILED";
    pub const UPDATE_COMPLETE: &str = "UPDATE_COMPLETE";
    pub const UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: &str = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS";
    pub const UPDATE_ROLLBACK_IN_PROGRESS: &str = "UPDATE_ROLLBACK_IN_PROGRESS";
    pub const UPDATE_ROLLBACK_FAILED: &str = "UPDATE_ROLLBACK_FAILED";
    pub const UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS: &str = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS";
    pub const UPDATE_ROLLBACK_COMPLETE: &str = "UPDATE_ROLLBACK_COMPLETE";
}

use status::*;

pub const STACK_TYPE: &str = "AWS::CloudFormation::Stack";
const USER_INITIATED: &str = "User Initiated";

/// Everything cloudformation holds for one account in one region. Deleted stacks stay (ListStacks
/// and lookups by stack id still show them).
#[derive(Debug, Default, Clone)]
pub struct State {
    pub stacks: Vec<Stack>,
}

impl State {
    /// A stack by name (only a stack that is not deleted) or by stack id (any).
    pub fn find(&self, name_or_id: &str) -> Option<&Stack> {
        self.stacks.iter().find(|s| s.is_named(name_or_id))
    }

    pub fn find_mut(&mut self, name_or_id: &str) -> Option<&mut Stack> {
        self.stacks.iter_mut().find(|s| s.is_named(name_or_id))
    }
}

/// What CreateStack does when a resource fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    DoNothing,
    Rollback,
    Delete,
}

#[derive(Debug, Clone)]
pub struct Stack {
    pub id: String,
    pub name: String,
    pub template: Arc<Template>,
    pub parameters: Vec<ResolvedParameter>,
    pub capabilities: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub notification_arns: Vec<String>,
    pub timeout_minutes: Option<i64>,
    pub on_failure: OnFailure,
    pub termination_protection: bool,
    pub status: &'static str,
    pub status_reason: Option<String>,
    pub created: DateTime<Utc>,
    pub last_updated: Option<DateTime<Utc>>,
    pub deleted: Option<DateTime<Utc>>,
    /// Current resources, in the order they were first created.
    pub resources: Vec<StackResource>,
    pub outputs: Vec<ResolvedOutput>,
    /// Oldest first (the API answers newest first).
    pub events: Vec<StackEvent>,
    /// The operation the next [`Event::Run`] performs, with the caller it acts as.
    pub pending: Option<Pending>,
}

impl Stack {
    fn is_named(&self, name_or_id: &str) -> bool {
        if name_or_id.starts_with("arn:") {
            self.id == name_or_id
        } else {
            self.name == name_or_id && self.deleted.is_none()
        }
    }

    pub fn resource(&self, logical_id: &str) -> Option<&StackResource> {
        self.resources.iter().find(|r| r.logical_id == logical_id)
    }

    fn resource_mut(&mut self, logical_id: &str) -> Option<&mut StackResource> {
        self.resources.iter_mut().find(|r| r.logical_id == logical_id)
    }

    /// A stack-level event (the stack itself as the resource), which also sets the status.
    pub fn stack_event(&mut self, event_id: String, at: DateTime<Utc>, status: &'static str, reason: Option<String>) {
        self.status = status;
        self.status_reason = reason.clone();
        self.events.push(StackEvent {
            id: event_id,
            logical_id: self.name.clone(),
            physical_id: Some(self.id.clone()),
            type_name: STACK_TYPE.to_string(),
            status,
            reason,
            timestamp: at,
            properties: None,
        });
    }

    /// Whether an operation may start: AWS refuses while another one runs.
    pub fn is_in_progress(&self) -> bool {
        self.status.ends_with("_IN_PROGRESS")
    }
}

#[derive(Debug, Clone)]
pub struct Pending {
    pub caller: Caller,
    pub operation: Operation,
}

#[derive(Debug, Clone)]
pub enum Operation {
    Create,
    Update(Box<UpdatePlan>),
    Delete { retain: Vec<String> },
}

/// The new desired state of an UpdateStack call.
#[derive(Debug, Clone)]
pub struct UpdatePlan {
    pub template: Arc<Template>,
    pub parameters: Vec<ResolvedParameter>,
    pub capabilities: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub notification_arns: Vec<String>,
    pub disable_rollback: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StackResource {
    pub logical_id: String,
    pub type_name: String,
    pub physical_id: Option<String>,
    pub status: &'static str,
    pub status_reason: Option<String>,
    pub updated: DateTime<Utc>,
    /// The properties the resource was last provisioned with, resolved.
    pub properties: Node,
    pub attributes: Vec<(String, Node)>,
    pub deletion_policy: Option<String>,
}

impl StackResource {
    /// Whether the resource exists (for `Ref` and for deletion).
    fn is_live(&self) -> bool {
        self.physical_id.is_some() && !matches!(self.status, DELETE_COMPLETE | DELETE_SKIPPED)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StackEvent {
    pub id: String,
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub type_name: String,
    pub status: &'static str,
    pub reason: Option<String>,
    pub timestamp: DateTime<Utc>,
    /// The resolved properties, as JSON text, on in-progress events.
    pub properties: Option<String>,
}

/// Effects cloudformation performs later, on the emulator clock.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Runs a stack's pending operation.
    Run { stack_id: String },
}

/// A UUID-shaped id from the run's counters (stack ids, event ids, request tokens).
pub fn uuid(world: &mut World) -> String {
    let id = world.ids.hex_id("cfn");
    let n = id.rsplit('-').next().and_then(|h| u64::from_str_radix(h, 16).ok()).unwrap_or(0);
    format!("00000000-0000-4000-a000-{n:012x}")
}

/// The pseudo parameters of a stack.
pub fn pseudo(stack_id: &str, stack_name: &str, account: &str, region: &str, notification_arns: &[String]) -> Pseudo {
    Pseudo {
        account: account.to_string(),
        region: region.to_string(),
        stack_name: stack_name.to_string(),
        stack_id: stack_id.to_string(),
        notification_arns: notification_arns.to_vec(),
    }
}
