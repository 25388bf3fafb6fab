//! Who made a call the authorization log holds: a request from outside, a service with the
//! caller's identity, a service principal, a stored key, or a session of a role a service assumed
//! (an instance's software among them). `explain` and the report's diagram both ask.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use wana_emulator::state::World;
use wana_i18n::{tr, Lang};

use crate::explain::DeniedCall;

/// Who made a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Origin {
    /// A request from outside the emulator (a scenario's principal, a person's CLI).
    Request,
    /// A service with the caller's identity (`ec2.us-east-1.amazonaws.com`); `caller_assumed_by`
    /// when the caller is itself a session of a role another service assumed (EC2 using a key
    /// for Auto Scaling's service-linked role).
    ForwardAccess {
        service: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caller_assumed_by: Option<String>,
    },
    /// A service principal itself (`events.amazonaws.com` assuming a role).
    Service { service: String },
    /// A service with an access key it stored (an alarm action with its creator's key).
    StoredCredential,
    /// A session of `role` that `service` assumed; `instance` when EC2 assumed it for an
    /// instance (the session is named after it).
    ServiceRoleSession { service: String, role: String, instance: Option<String> },
}

impl Origin {
    /// Who made the call, in words: `EC2 (ec2.us-east-1.amazonaws.com) for the caller, with the
    /// caller's identity`.
    pub fn describe(&self, action: &str) -> String {
        self.describe_in(action, Lang::En)
    }

    /// [`Origin::describe`] in `lang`.
    pub fn describe_in(&self, action: &str, lang: Lang) -> String {
        match self {
            Origin::Request => tr!(lang, "explain.origin.request"),
            Origin::ForwardAccess { service, caller_assumed_by: None } => {
                tr!(lang, "explain.origin.forward", name = service_name(service), service = service)
            }
            Origin::ForwardAccess { service, caller_assumed_by: Some(by) } => tr!(
                lang,
                "explain.origin.forward_for_session",
                name = service_name(service),
                service = service,
                by = service_name(by)
            ),
            Origin::Service { service } => {
                tr!(lang, "explain.origin.service", name = service_name(service), service = service)
            }
            Origin::StoredCredential => tr!(lang, "explain.origin.stored_credential"),
            Origin::ServiceRoleSession { service, role, instance: Some(instance) } => {
                let software = if is_agent_action(action) {
                    tr!(lang, "explain.origin.ssm_agent")
                } else {
                    tr!(lang, "explain.origin.software")
                };
                tr!(
                    lang,
                    "explain.origin.instance_software",
                    software = software,
                    instance = instance,
                    role = role,
                    service = service
                )
            }
            Origin::ServiceRoleSession { service, role, instance: None } => tr!(
                lang,
                "explain.origin.service_role",
                name = service_name(service),
                service = service,
                role = role
            ),
        }
    }
}

/// The SSM Agent's own calls: registering the node and polling for commands.
fn is_agent_action(action: &str) -> bool {
    ["ssm:", "ec2messages:", "ssmmessages:"].iter().any(|prefix| action.starts_with(prefix))
}

/// `EC2`, `Auto Scaling`, ... for a service principal or endpoint (`ec2.amazonaws.com`,
/// `ec2.us-east-1.amazonaws.com`); the host's first label otherwise.
fn service_name(service: &str) -> &str {
    let first = service.split('.').next().unwrap_or(service);
    match first {
        "ec2" => "EC2",
        "autoscaling" => "Auto Scaling",
        "cloudformation" => "CloudFormation",
        "events" => "CloudWatch Events",
        "monitoring" | "cloudwatch" => "CloudWatch",
        "ssm" => "Systems Manager",
        "kms" => "KMS",
        _ => first,
    }
}

/// (account, role name) → the service that assumed the role in this run.
pub(crate) fn services_assuming(world: &World) -> BTreeMap<(String, String), String> {
    let mut assumed_by: BTreeMap<(String, String), String> = BTreeMap::new();
    for record in world.authz_log.records() {
        let by_service = record.acting_service.as_deref() == Some(record.caller_arn.as_str());
        if record.allowed && by_service && record.action == "sts:AssumeRole" {
            if let Some(role) = role_of_arn(&record.resource) {
                assumed_by.insert(role, record.caller_arn.clone());
            }
        }
    }
    assumed_by
}

pub(crate) fn origin(call: &DeniedCall, assumed_by: &BTreeMap<(String, String), String>) -> Origin {
    let session = session_of_arn(&call.principal).and_then(|(account, role, session)| {
        let service = assumed_by.get(&(account, role.clone()))?;
        let instance = (service == "ec2.amazonaws.com" && session.starts_with("i-")).then_some(session);
        Some(Origin::ServiceRoleSession { service: service.clone(), role, instance })
    });
    if let Some(service) = &call.via_service {
        let caller_assumed_by = match &session {
            Some(Origin::ServiceRoleSession { service, .. }) => Some(service.clone()),
            _ => None,
        };
        return Origin::ForwardAccess { service: service.clone(), caller_assumed_by };
    }
    if call.acting_service.as_deref() == Some(call.principal.as_str()) {
        return Origin::Service { service: call.principal.clone() };
    }
    if call.consulted.iter().any(|policy| policy.kind == "authentication") {
        return Origin::StoredCredential;
    }
    session.unwrap_or(Origin::Request)
}

/// `arn:aws:iam::<account>:role/<path/>name` → (account, name).
pub(crate) fn role_of_arn(arn: &str) -> Option<(String, String)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("role/")?;
    let name = path_and_name.rsplit('/').next()?;
    Some((account.to_string(), name.to_string()))
}

/// `arn:aws:sts::<account>:assumed-role/<role>/<session>` → (account, role, session).
pub(crate) fn session_of_arn(arn: &str) -> Option<(String, String, String)> {
    let rest = arn.strip_prefix("arn:aws:sts::")?;
    let (account, resource) = rest.split_once(':')?;
    let (role, session) = resource.strip_prefix("assumed-role/")?.split_once('/')?;
    Some((account.to_string(), role.to_string(), session.to_string()))
}
