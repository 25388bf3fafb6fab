//! The calls services made for a run's principals, each put under the recorded step it belongs to.
//!
//! The emulator's authorization log holds every decision, also those of calls a service made
//! for a caller (EC2 using a volume's key as the caller, Auto Scaling as its service-linked role,
//! the SSM Agent as an instance role); [`crate::origin::origin`] tells who made each. The
//! recorder notes the log's length as each step is recorded, so a decision is known to have
//! happened before a given step was recorded. Services also act later (an instance starts on the
//! emulator clock, before the next request), so a call is put under the latest step up to that
//! point that the acting service could have acted for: a call to that service (the caller's own,
//! when the caller is named) that changes something, else any call to it, else the step itself.

use serde::{Deserialize, Serialize};
use wana_emulator::state::World;

use crate::{
    backend::Backend,
    explain::{ConsultedPolicy, DeniedCall},
    origin::{origin, services_assuming, Origin},
    outcome::{Recorder, Step},
    redact::Redactor,
};

/// One call a service made for a run's principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InnerCall {
    /// The index, in the run's steps, of the call this one was made for.
    pub step: usize,
    /// Who made it and as whom.
    pub origin: Origin,
    /// The identity the call was made with (a role session's or a user's ARN, or a service
    /// principal).
    pub principal: String,
    /// `kms:CreateGrant`.
    pub action: String,
    pub resource: String,
    pub allowed: bool,
    /// The authorization log's account of the decision.
    pub explanation: String,
    /// How many times the same call was made for the same step (an agent polling).
    pub count: usize,
}

impl InnerCall {
    pub fn redacted(&self, redactor: &Redactor) -> InnerCall {
        let text = |t: &str| redactor.redact_text(t);
        let origin = match &self.origin {
            Origin::ServiceRoleSession {
                service,
                role,
                instance,
            } => Origin::ServiceRoleSession {
                service: service.clone(),
                role: text(role),
                instance: instance.as_deref().map(text),
            },
            other => other.clone(),
        };
        InnerCall {
            step: self.step,
            origin,
            principal: text(&self.principal),
            action: self.action.clone(),
            resource: text(&self.resource),
            allowed: self.allowed,
            explanation: text(&self.explanation),
            count: self.count,
        }
    }

    /// The service whose lifeline the call starts from (`ec2`, `autoscaling`): the service that
    /// made it, or for software on an instance, EC2.
    pub fn from_service(&self) -> String {
        match &self.origin {
            Origin::ForwardAccess { service, .. } | Origin::Service { service } => {
                service_key(service)
            }
            Origin::ServiceRoleSession {
                instance: Some(_), ..
            } => "ec2".to_string(),
            Origin::ServiceRoleSession { service, .. } => service_key(service),
            Origin::StoredCredential | Origin::Request => "aws".to_string(),
        }
    }

    /// The service called (`kms` for `kms:CreateGrant`; Systems Manager's message endpoints are
    /// drawn on its lifeline).
    pub fn to_service(&self) -> String {
        action_service(&self.action)
    }
}

/// `ec2` for `ec2.us-east-1.amazonaws.com` or `ec2.amazonaws.com`.
fn service_key(host: &str) -> String {
    host.split('.').next().unwrap_or(host).to_string()
}

/// The lifeline of an IAM action's service.
pub(crate) fn action_service(action: &str) -> String {
    let prefix = action.split(':').next().unwrap_or(action);
    match prefix {
        "ec2messages" | "ssmmessages" => "ssm".to_string(),
        "monitoring" => "cloudwatch".to_string(),
        other => other.to_string(),
    }
}

/// The inner calls of the run `recorder` recorded on `backend`: empty unless the backend is the
/// emulator. Secrets the recorder knows are scrubbed.
pub(crate) fn of_run(backend: &Backend, recorder: &Recorder) -> Vec<InnerCall> {
    let Some(emulator) = backend.emulator() else {
        return Vec::new();
    };
    let marks = recorder.authz_marks();
    let steps = recorder.steps();
    let calls = emulator.inspect(|world| from_world(world, marks, steps));
    calls
        .into_iter()
        .map(|mut call| {
            call.principal = recorder.scrub(&call.principal);
            call.resource = recorder.scrub(&call.resource);
            call.explanation = recorder.scrub(&call.explanation);
            call
        })
        .collect()
}

/// The calls of `world`'s log that services made, each under its step (see the module
/// documentation). `marks[i]` is the log's length when `steps[i]` was recorded.
pub(crate) fn from_world(world: &World, marks: &[usize], steps: &[Step]) -> Vec<InnerCall> {
    if steps.is_empty() || marks.len() != steps.len() {
        return Vec::new();
    }
    let assumed_by = services_assuming(world);
    let kept = world.authz_log.records().count();
    let first_kept = world.authz_log.recorded() - kept;
    let mut calls: Vec<InnerCall> = Vec::new();
    for (offset, record) in world.authz_log.records().enumerate() {
        let position = first_kept + offset;
        let as_call = DeniedCall {
            principal: record.caller_arn.clone(),
            action: record.action.clone(),
            resource: record.resource.clone(),
            via_service: record.via_service.clone(),
            acting_service: record.acting_service.clone(),
            explanation: record.explanation.clone(),
            consulted: record
                .consulted
                .iter()
                .map(|c| ConsultedPolicy {
                    kind: c.kind.as_str().to_string(),
                    name: c.name.clone(),
                })
                .collect(),
            deciding_statement: None,
        };
        let origin = origin(&as_call, &assumed_by);
        if origin == Origin::Request {
            continue;
        }
        // The first step recorded after the decision; after the last one, the last.
        let window = marks
            .iter()
            .position(|&mark| mark > position)
            .unwrap_or(steps.len() - 1);
        let mut call = InnerCall {
            step: 0,
            origin,
            principal: as_call.principal,
            action: as_call.action,
            resource: as_call.resource,
            allowed: record.allowed,
            explanation: as_call.explanation,
            count: 1,
        };
        call.step = owner(&call, &steps[..=window]);
        match calls.iter_mut().find(|c| same_call(c, &call)) {
            Some(earlier) => earlier.count += 1,
            None => calls.push(call),
        }
    }
    calls
}

fn same_call(a: &InnerCall, b: &InnerCall) -> bool {
    a.step == b.step
        && a.origin == b.origin
        && a.principal == b.principal
        && a.action == b.action
        && a.resource == b.resource
        && a.allowed == b.allowed
}

/// The index of the step `call` was made for, among `steps` (those recorded up to the call, the
/// last one recorded first after it).
fn owner(call: &InnerCall, steps: &[Step]) -> usize {
    let services: Vec<String> = match &call.origin {
        Origin::ForwardAccess {
            service,
            caller_assumed_by: Some(by),
        } => vec![service_key(by), service_key(service)],
        Origin::ServiceRoleSession {
            instance: Some(_), ..
        } => {
            vec!["ssm".to_string(), "ec2".to_string(), call.to_service()]
        }
        _ => vec![call.from_service()],
    };
    let caller = match &call.origin {
        Origin::ForwardAccess {
            caller_assumed_by: None,
            ..
        } => principal_name(&call.principal),
        _ => None,
    };
    // Software on an instance (the SSM Agent) acts on its own schedule, not for one call: it is
    // put under a call of the phase it acted in.
    let on_instance = matches!(
        call.origin,
        Origin::ServiceRoleSession {
            instance: Some(_),
            ..
        }
    );
    let phase = steps.last().map(|step| step.phase);
    let candidates = |need_caller: bool, need_change: bool| {
        steps.iter().rposition(|step| {
            (!on_instance || Some(step.phase) == phase)
                && services.contains(&step_service(&step.call))
                && (!need_change || changes_something(&step.call))
                && (!need_caller || caller.is_some_and(|name| label_name(&step.principal) == name))
        })
    };
    candidates(true, true)
        .or_else(|| candidates(false, true))
        .or_else(|| candidates(false, false))
        .unwrap_or(steps.len() - 1)
}

/// The service of a recorded call: `ec2` for `ec2:StartInstances` and `aws ec2 start-instances`.
pub(crate) fn step_service(call: &str) -> String {
    match call.strip_prefix("aws ") {
        Some(cli) => cli.split_whitespace().next().unwrap_or("").to_string(),
        None => action_service(call),
    }
}

/// Whether a call may change something: not a Describe, Get, List or Head.
fn changes_something(call: &str) -> bool {
    let operation = match call.strip_prefix("aws ") {
        Some(cli) => cli.split_whitespace().nth(1).unwrap_or(""),
        None => call.split(':').nth(1).unwrap_or(call),
    };
    let lower = operation.to_ascii_lowercase();
    !["describe", "get", "list", "head"]
        .iter()
        .any(|verb| lower.starts_with(verb))
}

/// `ThirdPartyRole` for `arn:aws:sts::1:assumed-role/ThirdPartyRole/s`, `admin` for
/// `arn:aws:iam::1:user/admin`.
fn principal_name(arn: &str) -> Option<&str> {
    let resource = arn.splitn(6, ':').nth(5)?;
    if let Some(rest) = resource.strip_prefix("assumed-role/") {
        return rest.split('/').next();
    }
    resource.rsplit('/').next()
}

/// `ThirdPartyRole` for the label `ThirdPartyRole@c`.
fn label_name(label: &str) -> &str {
    label.split('@').next().unwrap_or(label)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Phase;

    fn inner(origin: Origin, principal: &str, action: &str) -> InnerCall {
        InnerCall {
            step: 0,
            origin,
            principal: principal.into(),
            action: action.into(),
            resource: "r".into(),
            allowed: false,
            explanation: String::new(),
            count: 1,
        }
    }

    #[test]
    fn a_forward_access_call_goes_under_the_callers_last_change_to_that_service() {
        let steps = [
            Step::succeeded(Phase::Provision, "admin@c", "ec2:RunInstances"),
            Step::succeeded(Phase::Trigger, "ThirdPartyRole@c", "ec2:StartInstances"),
            Step::succeeded(Phase::Observe, "ThirdPartyRole@c", "ec2:DescribeInstances"),
        ];
        let call = inner(
            Origin::ForwardAccess {
                service: "ec2.us-east-1.amazonaws.com".into(),
                caller_assumed_by: None,
            },
            "arn:aws:sts::333333333333:assumed-role/ThirdPartyRole/scheduled-start",
            "kms:CreateGrant",
        );
        assert_eq!(owner(&call, &steps), 1);
        // The admin's own launch is its own.
        let admins = inner(
            Origin::ForwardAccess {
                service: "ec2.us-east-1.amazonaws.com".into(),
                caller_assumed_by: None,
            },
            "arn:aws:iam::333333333333:user/admin",
            "kms:CreateGrant",
        );
        assert_eq!(owner(&admins, &steps), 0);
    }

    #[test]
    fn an_agents_call_goes_under_the_last_ssm_or_ec2_change() {
        let steps = [
            Step::succeeded(Phase::Provision, "admin@a", "ec2:RunInstances"),
            Step::succeeded(Phase::Trigger, "admin@a", "ssm:SendCommand"),
            Step::succeeded(Phase::Trigger, "admin@a", "ssm:ListCommandInvocations"),
        ];
        let call = inner(
            Origin::ServiceRoleSession {
                service: "ec2.amazonaws.com".into(),
                role: "R".into(),
                instance: Some("i-1".into()),
            },
            "arn:aws:sts::1:assumed-role/R/i-1",
            "ec2messages:GetMessages",
        );
        assert_eq!(owner(&call, &steps), 1);
        // Once the run has moved on to the next phase, the agent's call goes there.
        let later = [
            &steps[..],
            &[Step::succeeded(
                Phase::Fix,
                "admin@a",
                "iam:AttachRolePolicy",
            )],
        ]
        .concat();
        assert_eq!(owner(&call, &later), 3);
        assert_eq!(
            (call.from_service(), call.to_service()),
            ("ec2".to_string(), "ssm".to_string())
        );
    }

    #[test]
    fn cli_calls_name_their_service() {
        assert_eq!(step_service("aws s3 cp"), "s3");
        assert_eq!(step_service("kms:CreateGrant"), "kms");
        assert!(!changes_something("aws ec2 describe-instances"));
        assert!(changes_something("iam:PutRolePolicy"));
    }
}
