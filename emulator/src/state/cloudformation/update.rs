//! UpdateStack's work: each resource updated in place, replaced or added, the cleanup of what
//! the new template no longer has, and the rollback of a failed update.

use std::collections::BTreeSet;

use super::{
    catalog::{change_of, fixed_custom_name, Change},
    engine::Engine,
    status::*,
    uuid, StackEvent, StackResource, UpdatePlan,
};

/// One step of an update, kept to undo it.
enum Step {
    Added(String),
    Replaced { old: StackResource },
    Updated { old: StackResource },
}

impl Engine<'_> {
    pub(super) fn update(&mut self, plan: UpdatePlan) {
        let template = plan.template.clone();
        let parameters = plan.parameters.clone();
        let (order, included) = match self.plan(&template, &parameters) {
            Ok(p) => p,
            Err(error) => {
                self.stack_event(UPDATE_ROLLBACK_IN_PROGRESS, Some(error.message));
                self.stack_event(UPDATE_ROLLBACK_COMPLETE, None);
                return;
            }
        };
        let mut journal: Vec<Step> = Vec::new();
        let mut failure: Option<(String, &'static str)> = None;
        for logical_id in &order {
            let Some(decl) = template.resource(logical_id) else { continue };
            let live = self.stack.resource(logical_id).filter(|r| r.is_live()).cloned();
            let properties = match self.resolve(&template, &parameters, &included, decl) {
                Ok(p) => p,
                Err(error) => {
                    let status = if live.is_some() { UPDATE_FAILED } else { CREATE_FAILED };
                    self.fail_before_resources(logical_id, decl, error.message, status);
                    failure = Some((logical_id.clone(), if live.is_some() { "update" } else { "create" }));
                    break;
                }
            };
            let Some(old) = live else {
                journal.push(Step::Added(logical_id.clone()));
                if self.create_resource(decl, &properties).is_err() {
                    failure = Some((logical_id.clone(), "create"));
                    break;
                }
                continue;
            };
            if let Some(r) = self.stack.resource_mut(logical_id) {
                r.deletion_policy = decl.deletion_policy.clone();
            }
            let physical_id = old.physical_id.clone().unwrap_or_default();
            match change_of(&old.type_name, &old.properties, &properties) {
                Change::None => {}
                Change::Replace => {
                    if let Some(name) = fixed_custom_name(&old.type_name, &old.properties, &properties) {
                        self.resource_event(
                            logical_id,
                            &decl.type_name,
                            Some(&physical_id),
                            UPDATE_FAILED,
                            Some(format!(
                                "CloudFormation cannot update a stack when a custom-named resource requires replacing. Rename {name} and update the stack again."
                            )),
                            None,
                        );
                        failure = Some((logical_id.clone(), "update"));
                        break;
                    }
                    self.resource_event(
                        logical_id,
                        &decl.type_name,
                        Some(&physical_id),
                        UPDATE_IN_PROGRESS,
                        Some(
                            "Requested update requires the creation of a new physical resource; hence creating one."
                                .into(),
                        ),
                        Some(&properties),
                    );
                    journal.push(Step::Replaced { old: old.clone() });
                    match self.provision(logical_id, &decl.type_name, &properties) {
                        Ok(created) => {
                            if let Some(r) = self.stack.resource_mut(logical_id) {
                                r.physical_id = Some(created.physical_id.clone());
                                r.attributes = created.attributes;
                                r.properties = properties.clone();
                            }
                            self.resource_event(
                                logical_id,
                                &decl.type_name,
                                Some(&created.physical_id),
                                UPDATE_IN_PROGRESS,
                                Some("Resource creation Initiated".into()),
                                Some(&properties),
                            );
                            self.resource_event(
                                logical_id,
                                &decl.type_name,
                                Some(&created.physical_id),
                                UPDATE_COMPLETE,
                                None,
                                None,
                            );
                        }
                        Err(f) => {
                            // A half-created replacement is cleaned up with the rollback.
                            if let (Some(r), Some(p)) = (self.stack.resource_mut(logical_id), f.physical_id.clone()) {
                                r.physical_id = Some(p);
                            }
                            let shown = f.physical_id.clone().unwrap_or(physical_id.clone());
                            self.resource_event(
                                logical_id,
                                &decl.type_name,
                                Some(&shown),
                                UPDATE_FAILED,
                                Some(f.reason),
                                None,
                            );
                            failure = Some((logical_id.clone(), "update"));
                            break;
                        }
                    }
                }
                Change::InPlace => {
                    self.resource_event(
                        logical_id,
                        &decl.type_name,
                        Some(&physical_id),
                        UPDATE_IN_PROGRESS,
                        None,
                        Some(&properties),
                    );
                    journal.push(Step::Updated { old: old.clone() });
                    match self.reprovision(&old, &properties) {
                        Ok(attributes) => {
                            if let Some(r) = self.stack.resource_mut(logical_id) {
                                r.properties = properties.clone();
                                if let Some(attributes) = attributes {
                                    r.attributes = attributes;
                                }
                            }
                            self.resource_event(
                                logical_id,
                                &decl.type_name,
                                Some(&physical_id),
                                UPDATE_COMPLETE,
                                None,
                                None,
                            );
                        }
                        Err(reason) => {
                            // Part of the change may have been applied: the rollback re-applies
                            // the previous properties against what was attempted.
                            if let Some(r) = self.stack.resource_mut(logical_id) {
                                r.properties = properties.clone();
                            }
                            self.resource_event(
                                logical_id,
                                &decl.type_name,
                                Some(&physical_id),
                                UPDATE_FAILED,
                                Some(reason),
                                None,
                            );
                            failure = Some((logical_id.clone(), "update"));
                            break;
                        }
                    }
                }
            }
        }

        match failure {
            None => self.finish_update(plan, journal, &included),
            Some((logical_id, verb)) => self.roll_back_update(journal, &logical_id, verb, plan.disable_rollback),
        }
    }

    fn finish_update(&mut self, plan: UpdatePlan, journal: Vec<Step>, included: &BTreeSet<String>) {
        self.stack_event(UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, None);
        let old_template = self.stack.template.clone();
        self.stack.template = plan.template.clone();
        self.stack.parameters = plan.parameters.clone();
        self.stack.capabilities = plan.capabilities;
        self.stack.tags = plan.tags;
        self.stack.notification_arns = plan.notification_arns;
        self.stack.outputs = self.outputs(&plan.template, &plan.parameters);

        // The physical resources that replacements superseded, newest first.
        for step in journal.into_iter().rev() {
            if let Step::Replaced { old } = step {
                self.delete_superseded(&old);
            }
        }
        // Resources the new template no longer has (or whose condition no longer holds).
        let order: Vec<String> =
            self.deletion_order(&old_template).into_iter().filter(|l| !included.contains(l)).collect();
        self.delete_resources(&order, &[], false);
        self.stack.resources.retain(|r| included.contains(&r.logical_id));
        self.stack_event(UPDATE_COMPLETE, None);
    }

    /// Deletes a physical resource that the stack no longer tracks (a replaced one). Failures
    /// are reported in its events but do not fail the operation, as in AWS's cleanup phase.
    fn delete_superseded(&mut self, old: &StackResource) {
        let Some(physical_id) = old.physical_id.clone() else { return };
        let id = uuid(self.world);
        self.push_loose_event(id, old, &physical_id, DELETE_IN_PROGRESS, None);
        let outcome = self.deprovision(old);
        let id = uuid(self.world);
        match outcome {
            Ok(()) => self.push_loose_event(id, old, &physical_id, DELETE_COMPLETE, None),
            Err(reason) => self.push_loose_event(id, old, &physical_id, DELETE_FAILED, Some(reason)),
        }
    }

    /// An event about a physical resource without touching the stack's record of its logical id.
    fn push_loose_event(
        &mut self,
        id: String,
        resource: &StackResource,
        physical_id: &str,
        status: &'static str,
        reason: Option<String>,
    ) {
        self.stack.events.push(StackEvent {
            id,
            logical_id: resource.logical_id.clone(),
            physical_id: Some(physical_id.to_string()),
            type_name: resource.type_name.clone(),
            status,
            reason,
            timestamp: self.now,
            properties: None,
        });
    }

    fn roll_back_update(&mut self, journal: Vec<Step>, failed: &str, verb: &str, disable_rollback: bool) {
        let reason = format!("The following resource(s) failed to {verb}: [{failed}]. ");
        if disable_rollback {
            self.stack_event(UPDATE_FAILED, Some(reason));
            return;
        }
        self.stack_event(UPDATE_ROLLBACK_IN_PROGRESS, Some(reason));
        let mut cleanup: Vec<StackResource> = Vec::new();
        let mut added: Vec<String> = Vec::new();
        let mut rollback_failed = Vec::new();
        for step in journal.into_iter().rev() {
            match step {
                Step::Added(logical_id) => added.push(logical_id),
                Step::Replaced { old } => {
                    let Some(current) = self.stack.resource(&old.logical_id).cloned() else { continue };
                    if current.physical_id != old.physical_id {
                        cleanup.push(current.clone());
                    }
                    let physical_id = old.physical_id.clone();
                    if let Some(r) = self.stack.resource_mut(&old.logical_id) {
                        *r = old.clone();
                    }
                    self.resource_event(
                        &old.logical_id,
                        &old.type_name,
                        physical_id.as_deref(),
                        UPDATE_IN_PROGRESS,
                        None,
                        None,
                    );
                    self.resource_event(
                        &old.logical_id,
                        &old.type_name,
                        physical_id.as_deref(),
                        UPDATE_COMPLETE,
                        None,
                        None,
                    );
                }
                Step::Updated { old } => {
                    let Some(current) = self.stack.resource(&old.logical_id).cloned() else { continue };
                    let physical_id = old.physical_id.clone();
                    self.resource_event(
                        &old.logical_id,
                        &old.type_name,
                        physical_id.as_deref(),
                        UPDATE_IN_PROGRESS,
                        None,
                        None,
                    );
                    match self.reprovision(&current, &old.properties) {
                        Ok(_) => {
                            if let Some(r) = self.stack.resource_mut(&old.logical_id) {
                                *r = old.clone();
                            }
                            self.resource_event(
                                &old.logical_id,
                                &old.type_name,
                                physical_id.as_deref(),
                                UPDATE_COMPLETE,
                                None,
                                None,
                            );
                        }
                        Err(reason) => {
                            self.resource_event(
                                &old.logical_id,
                                &old.type_name,
                                physical_id.as_deref(),
                                UPDATE_FAILED,
                                Some(reason),
                                None,
                            );
                            rollback_failed.push(old.logical_id.clone());
                        }
                    }
                }
            }
        }
        if !rollback_failed.is_empty() {
            self.stack_event(
                UPDATE_ROLLBACK_FAILED,
                Some(format!("The following resource(s) failed to update: [{}]. ", rollback_failed.join(", "))),
            );
            return;
        }
        self.stack_event(UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS, None);
        for superseded in &cleanup {
            self.delete_superseded(superseded);
        }
        self.delete_resources(&added, &[], true);
        self.stack.resources.retain(|r| !added.contains(&r.logical_id));
        self.stack_event(UPDATE_ROLLBACK_COMPLETE, None);
    }
}
