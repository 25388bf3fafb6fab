//! The engine: runs a stack's pending operation when its event is due, and creates and deletes
//! stacks (with the rollback of a failed creation). Updates are in `update`.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::{
    pseudo,
    status::*,
    uuid,
    view::{contains_unknown, included_resources, View},
    Event, OnFailure, Operation, Stack, StackEvent, StackResource, USER_INITIATED,
};
use crate::{
    error::AwsError,
    principal::Caller,
    state::{scheduler::Due, World},
    template::{Node, Pseudo, ResolvedOutput, ResolvedParameter, ResourceDecl, Scope, Template},
};

/// Applies a due event (see [`crate::state::scheduler`]).
pub fn on_event(world: &mut World, due: &Due, event: Event) {
    let Event::Run { stack_id } = event;
    let Some(mut stack) = world
        .regional(&due.account, &due.region)
        .and_then(|r| r.cloudformation.stacks.iter().find(|s| s.id == stack_id))
        .cloned()
    else {
        return;
    };
    let Some(pending) = stack.pending.take() else { return };
    let mut engine = Engine {
        world: &mut *world,
        account: due.account.clone(),
        region: due.region.clone(),
        now: due.at,
        caller: pending.caller,
        stack: &mut stack,
    };
    match pending.operation {
        Operation::Create => engine.create(),
        Operation::Update(plan) => engine.update(*plan),
        Operation::Delete { retain } => engine.delete(&retain),
    }
    tracing::info!(stack = %stack.name, status = stack.status, "stack operation finished");
    if let Some(slot) = world
        .regional_mut(&due.account, &due.region)
        .and_then(|r| r.cloudformation.stacks.iter_mut().find(|s| s.id == stack_id))
    {
        *slot = stack;
    }
}

/// Why a resource operation failed, and the physical resource it left behind, if any.
#[derive(Debug)]
pub(super) struct Failure {
    pub(super) reason: String,
    pub(super) physical_id: Option<String>,
}

impl Failure {
    pub(super) fn new(reason: impl Into<String>) -> Failure {
        Failure { reason: reason.into(), physical_id: None }
    }

    pub(super) fn leaving(mut self, physical_id: &str) -> Failure {
        self.physical_id = Some(physical_id.to_string());
        self
    }
}

pub(super) struct Created {
    pub(super) physical_id: String,
    pub(super) attributes: Vec<(String, Node)>,
}

pub(super) struct Engine<'w> {
    pub(super) world: &'w mut World,
    pub(super) account: String,
    pub(super) region: String,
    pub(super) now: DateTime<Utc>,
    pub(super) caller: Caller,
    pub(super) stack: &'w mut Stack,
}

impl Engine<'_> {
    fn pseudo(&self) -> Pseudo {
        pseudo(&self.stack.id, &self.stack.name, &self.account, &self.region, &self.stack.notification_arns)
    }

    pub(super) fn stack_event(&mut self, status: &'static str, reason: Option<String>) {
        let id = uuid(self.world);
        self.stack.stack_event(id, self.now, status, reason);
    }

    /// Records a resource's new status and the matching event.
    pub(super) fn resource_event(
        &mut self,
        logical_id: &str,
        type_name: &str,
        physical_id: Option<&str>,
        status: &'static str,
        reason: Option<String>,
        properties: Option<&Node>,
    ) {
        let id = uuid(self.world);
        self.stack.events.push(StackEvent {
            id,
            logical_id: logical_id.to_string(),
            physical_id: physical_id.map(str::to_string),
            type_name: type_name.to_string(),
            status,
            reason: reason.clone(),
            timestamp: self.now,
            properties: properties.map(Node::to_json_text),
        });
        if let Some(resource) = self.stack.resource_mut(logical_id) {
            resource.status = status;
            resource.status_reason = reason;
            resource.updated = self.now;
        }
    }

    pub(super) fn resolve(
        &self,
        template: &Template,
        parameters: &[ResolvedParameter],
        included: &BTreeSet<String>,
        decl: &ResourceDecl,
    ) -> Result<Node, AwsError> {
        let pseudo = self.pseudo();
        let view = View { resources: &self.stack.resources, included };
        let scope = Scope::new(template, &pseudo, parameters, &view)?;
        let properties = scope.properties(decl)?;
        if contains_unknown(&properties) {
            return Err(AwsError::validation(format!(
                "Template error: a dependency of {} is not ready",
                decl.logical_id
            )));
        }
        Ok(properties)
    }

    pub(super) fn outputs(&self, template: &Template, parameters: &[ResolvedParameter]) -> Vec<ResolvedOutput> {
        let pseudo = self.pseudo();
        let Ok(included) = included_resources(template, &pseudo, parameters) else { return Vec::new() };
        let view = View { resources: &self.stack.resources, included: &included };
        Scope::new(template, &pseudo, parameters, &view).and_then(|s| s.outputs()).unwrap_or_default()
    }

    /// The creation order of the resources whose condition holds.
    pub(super) fn plan(
        &self,
        template: &Template,
        parameters: &[ResolvedParameter],
    ) -> Result<(Vec<String>, BTreeSet<String>), AwsError> {
        let included = included_resources(template, &self.pseudo(), parameters)?;
        let order = template.creation_order()?.into_iter().filter(|l| included.contains(l)).collect();
        Ok((order, included))
    }

    /// Creates one resource: events, status, and the stack's record of it.
    pub(super) fn create_resource(&mut self, decl: &ResourceDecl, properties: &Node) -> Result<(), String> {
        // A resource added by an update is created like one of a new stack.
        let (in_progress, complete, failed) = (CREATE_IN_PROGRESS, CREATE_COMPLETE, CREATE_FAILED);
        self.stack.resources.retain(|r| r.logical_id != decl.logical_id);
        self.stack.resources.push(StackResource {
            logical_id: decl.logical_id.clone(),
            type_name: decl.type_name.clone(),
            physical_id: None,
            status: in_progress,
            status_reason: None,
            updated: self.now,
            properties: properties.clone(),
            attributes: Vec::new(),
            deletion_policy: decl.deletion_policy.clone(),
        });
        self.resource_event(&decl.logical_id, &decl.type_name, None, in_progress, None, Some(properties));
        match self.provision(&decl.logical_id, &decl.type_name, properties) {
            Ok(created) => {
                if let Some(r) = self.stack.resource_mut(&decl.logical_id) {
                    r.physical_id = Some(created.physical_id.clone());
                    r.attributes = created.attributes;
                }
                self.resource_event(
                    &decl.logical_id,
                    &decl.type_name,
                    Some(&created.physical_id),
                    in_progress,
                    Some("Resource creation Initiated".into()),
                    Some(properties),
                );
                self.resource_event(
                    &decl.logical_id,
                    &decl.type_name,
                    Some(&created.physical_id),
                    complete,
                    None,
                    None,
                );
                Ok(())
            }
            Err(failure) => {
                if let Some(r) = self.stack.resource_mut(&decl.logical_id) {
                    r.physical_id = failure.physical_id.clone();
                }
                self.resource_event(
                    &decl.logical_id,
                    &decl.type_name,
                    failure.physical_id.as_deref(),
                    failed,
                    Some(failure.reason.clone()),
                    None,
                );
                Err(failure.reason)
            }
        }
    }

    pub(super) fn fail_before_resources(&mut self, logical_id: &str, decl: &ResourceDecl, reason: String, status: &'static str) {
        if self.stack.resource(logical_id).is_none() {
            self.stack.resources.push(StackResource {
                logical_id: logical_id.to_string(),
                type_name: decl.type_name.clone(),
                physical_id: None,
                status,
                status_reason: None,
                updated: self.now,
                properties: Node::Map(Vec::new()),
                attributes: Vec::new(),
                deletion_policy: decl.deletion_policy.clone(),
            });
        }
        self.resource_event(logical_id, &decl.type_name, None, status, Some(reason), None);
    }

    fn create(&mut self) {
        let template = self.stack.template.clone();
        let parameters = self.stack.parameters.clone();
        let (order, included) = match self.plan(&template, &parameters) {
            Ok(plan) => plan,
            Err(error) => {
                self.stack_event(ROLLBACK_IN_PROGRESS, Some(error.message));
                self.stack_event(ROLLBACK_COMPLETE, None);
                return;
            }
        };
        let mut failed = Vec::new();
        for logical_id in &order {
            let Some(decl) = template.resource(logical_id) else { continue };
            let properties = match self.resolve(&template, &parameters, &included, decl) {
                Ok(p) => p,
                Err(error) => {
                    self.fail_before_resources(logical_id, decl, error.message, CREATE_FAILED);
                    failed.push(logical_id.clone());
                    break;
                }
            };
            if self.create_resource(decl, &properties).is_err() {
                failed.push(logical_id.clone());
                break;
            }
        }
        if failed.is_empty() {
            self.stack.outputs = self.outputs(&template, &parameters);
            self.stack_event(CREATE_COMPLETE, None);
            return;
        }
        let reason = format!("The following resource(s) failed to create: [{}]. ", failed.join(", "));
        match self.stack.on_failure {
            OnFailure::DoNothing => self.stack_event(CREATE_FAILED, Some(reason)),
            on_failure => {
                self.stack_event(ROLLBACK_IN_PROGRESS, Some(format!("{reason}Rollback requested by user.")));
                let order = self.deletion_order(&template);
                let delete_failed = self.delete_resources(&order, &[], true);
                if !delete_failed.is_empty() {
                    self.stack_event(
                        ROLLBACK_FAILED,
                        Some(format!("The following resource(s) failed to delete: [{}]. ", delete_failed.join(", "))),
                    );
                    return;
                }
                self.stack_event(ROLLBACK_COMPLETE, None);
                if on_failure == OnFailure::Delete {
                    self.stack_event(DELETE_IN_PROGRESS, Some(USER_INITIATED.into()));
                    self.stack_event(DELETE_COMPLETE, None);
                    self.stack.deleted = Some(self.now);
                }
            }
        }
    }

    /// Reverse creation order of a template, then any resource it does not name.
    pub(super) fn deletion_order(&self, template: &Template) -> Vec<String> {
        let mut order = template
            .creation_order()
            .unwrap_or_else(|_| template.resources.iter().map(|r| r.logical_id.clone()).collect());
        order.reverse();
        let mut rest: Vec<String> = self
            .stack
            .resources
            .iter()
            .rev()
            .filter(|r| !order.contains(&r.logical_id))
            .map(|r| r.logical_id.clone())
            .collect();
        rest.extend(order);
        rest
    }

    /// Deletes resources in order; answers the ones that failed.
    pub(super) fn delete_resources(&mut self, order: &[String], retain: &[String], rolling_back_create: bool) -> Vec<String> {
        let mut failed = Vec::new();
        for logical_id in order {
            let Some(resource) = self.stack.resource(logical_id).cloned() else { continue };
            if matches!(resource.status, DELETE_COMPLETE | DELETE_SKIPPED) {
                continue;
            }
            let Some(physical_id) = resource.physical_id.clone() else {
                // Never created: nothing to delete.
                self.resource_event(logical_id, &resource.type_name, None, DELETE_COMPLETE, None, None);
                continue;
            };
            let retained = retain.contains(logical_id)
                || match resource.deletion_policy.as_deref() {
                    Some("Retain") => true,
                    Some("RetainExceptOnCreate") => !rolling_back_create,
                    _ => false,
                };
            if retained {
                self.resource_event(logical_id, &resource.type_name, Some(&physical_id), DELETE_SKIPPED, None, None);
                continue;
            }
            self.resource_event(logical_id, &resource.type_name, Some(&physical_id), DELETE_IN_PROGRESS, None, None);
            match self.deprovision(&resource) {
                Ok(()) => self.resource_event(
                    logical_id,
                    &resource.type_name,
                    Some(&physical_id),
                    DELETE_COMPLETE,
                    None,
                    None,
                ),
                Err(reason) => {
                    self.resource_event(
                        logical_id,
                        &resource.type_name,
                        Some(&physical_id),
                        DELETE_FAILED,
                        Some(reason),
                        None,
                    );
                    failed.push(logical_id.clone());
                }
            }
        }
        failed
    }

    fn delete(&mut self, retain: &[String]) {
        let template = self.stack.template.clone();
        let order = self.deletion_order(&template);
        let failed = self.delete_resources(&order, retain, false);
        if failed.is_empty() {
            self.stack_event(DELETE_COMPLETE, None);
            self.stack.deleted = Some(self.now);
        } else {
            self.stack_event(
                DELETE_FAILED,
                Some(format!("The following resource(s) failed to delete: [{}]. ", failed.join(", "))),
            );
        }
    }
}
