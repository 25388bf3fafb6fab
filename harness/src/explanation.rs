//! `cargo xtask explain <trap>`: a run of a trap on the emulator, and every call of it that was
//! denied, outer and inner, with who made it, the policies consulted and what decided.
//!
//! The emulator's authorization log holds every decision with its consulted policies and
//! deciding statement ([`crate::explain::DeniedCall`]). Who made each call is read from the same
//! log:
//! - a call with a `via` service was made by that service with the caller's identity (EC2 using a
//!   volume's key for the caller: a forward access session);
//! - a call whose principal is a service (`autoscaling.amazonaws.com`) is the service itself,
//!   asking a role's trust policy to let it assume the role;
//! - a call by a session of a role that a service assumed in this run (the log has that service's
//!   allowed `sts:AssumeRole` on the role) was made by the service as that role: Auto Scaling as
//!   its service-linked role, or, for a role EC2 assumed with an instance id as the session name
//!   (as EC2 names instance credentials), software on that instance: the SSM Agent for SSM's
//!   calls;
//! - a call refused at authentication was made by a service with a key it stored (the emulator
//!   logs authentication only for those: a request from outside with a bad key is answered
//!   before it reaches the log), such as a CloudWatch alarm's action with its creator's key;
//! - anything else is a request from outside (the scenario's principals, a person's CLI).
//!
//! Other backends keep no such log: on real AWS the answer is in CloudTrail, which this does not
//! read, so the command says so instead.

use std::{collections::BTreeMap, fmt::Write as _};

use serde::{Deserialize, Serialize};
use wana_emulator::{state::World, BehaviourProfile};

use crate::{
    backend::Backend,
    explain::{denied_in, DeniedCall},
    redact::Redactor,
    scenario::{run_scenario_on, Scenario},
    verdict::Verdict,
    HarnessError,
};

/// What `explain` says on a backend without the emulator's authorization log.
pub const UNAVAILABLE: &str = "explain needs the emulator's authorization log; on a sandbox use CloudTrail";

/// A run and its denied calls, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub trap: String,
    /// The behaviour profile the run used (`current`, `legacy-2016`).
    pub profile: String,
    pub verdict: Verdict,
    pub matches_expectation: bool,
    /// Why the run stopped, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub denied_calls: Vec<ExplainedCall>,
}

/// One denied call and who made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainedCall {
    pub origin: Origin,
    #[serde(flatten)]
    pub call: DeniedCall,
}

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
        match self {
            Origin::Request => "a request from outside (outer call)".to_string(),
            Origin::ForwardAccess { service, caller_assumed_by: None } => {
                format!("{} ({service}) for the caller, with the caller's identity (inner call)", service_name(service))
            }
            Origin::ForwardAccess { service, caller_assumed_by: Some(by) } => format!(
                "{} ({service}) for {}'s role session, with that session's identity (inner call)",
                service_name(service),
                service_name(by)
            ),
            Origin::Service { service } => format!("{} ({service}) itself (inner call)", service_name(service)),
            Origin::StoredCredential => {
                "a service, with an access key it stored for its owner (inner call)".to_string()
            }
            Origin::ServiceRoleSession { service, role, instance: Some(instance) } => {
                let software = if is_agent_action(action) { "the SSM Agent" } else { "software" };
                format!("{software} on {instance}, as its instance role {role} (delivered by {service}; inner call)")
            }
            Origin::ServiceRoleSession { service, role, instance: None } => {
                format!("{} ({service}) as its role {role} (inner call)", service_name(service))
            }
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

/// Runs `scenario` once on a fresh emulator and explains every call of the run that was
/// denied. The run itself is the one `repro` makes (teardown included).
pub async fn explain_on_emulator(scenario: &dyn Scenario, profile: BehaviourProfile) -> Result<Explanation, HarnessError> {
    let backend = Backend::start_emulator(profile).await?;
    let inspector = backend.emulator().expect("an emulator backend has an emulator").inspector();
    let report = run_scenario_on(scenario, backend).await;
    let denied_calls = inspector.inspect(explained_calls);
    Ok(Explanation {
        trap: report.trap,
        profile: profile.name().to_string(),
        verdict: report.verdict,
        matches_expectation: report.matches_expectation,
        error: report.error,
        denied_calls,
    })
}

/// Every denial of the world's log with who made it, oldest first.
pub fn explained_calls(world: &World) -> Vec<ExplainedCall> {
    let assumed_by = services_assuming(world);
    denied_in(world, 0)
        .into_iter()
        .map(|call| {
            let origin = origin(&call, &assumed_by);
            ExplainedCall { origin, call }
        })
        .collect()
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
fn role_of_arn(arn: &str) -> Option<(String, String)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("role/")?;
    let name = path_and_name.rsplit('/').next()?;
    Some((account.to_string(), name.to_string()))
}

/// `arn:aws:sts::<account>:assumed-role/<role>/<session>` → (account, role, session).
fn session_of_arn(arn: &str) -> Option<(String, String, String)> {
    let rest = arn.strip_prefix("arn:aws:sts::")?;
    let (account, resource) = rest.split_once(':')?;
    let (role, session) = resource.strip_prefix("assumed-role/")?.split_once('/')?;
    Some((account.to_string(), role.to_string(), session.to_string()))
}

impl Explanation {
    /// The readable form: a header, then each denied call with who made it, the principal,
    /// action and resource, the policies consulted, and the statement that decided or "no
    /// statement allowed". Secrets always go; ids too with a full `redactor`.
    pub fn render_text(&self, redactor: &Redactor) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} on the emulator (profile {}): the run concluded {}{}",
            self.trap,
            self.profile,
            self.verdict,
            if self.matches_expectation { ", as expected" } else { ", which is NOT what the scenario expects" }
        );
        if let Some(error) = &self.error {
            let _ = writeln!(out, "The run stopped: {error}");
        }
        match self.denied_calls.len() {
            0 => {
                let _ = writeln!(out, "No call of the run was denied.");
            }
            1 => {
                let _ = writeln!(out, "1 call was denied:");
            }
            n => {
                let _ = writeln!(out, "{n} calls were denied, in the order they were decided:");
            }
        }
        for (index, explained) in self.denied_calls.iter().enumerate() {
            let call = &explained.call;
            let _ = writeln!(out);
            let _ = writeln!(out, "{}. {} denied", index + 1, call.action);
            let _ = writeln!(out, "   made by    {}", explained.origin.describe(&call.action));
            let _ = writeln!(out, "   principal  {}", call.principal);
            let _ = writeln!(out, "   resource   {}", call.resource);
            if call.consulted.is_empty() {
                let _ = writeln!(out, "   consulted  no policy: the principal has none for this call, and the resource none");
            }
            for (i, policy) in call.consulted.iter().enumerate() {
                let label = if i == 0 { "consulted" } else { "" };
                let _ = writeln!(out, "   {label:<10} {}: {}", policy.kind, policy.name);
            }
            let outside = |kind: &str| call.consulted.iter().any(|policy| policy.kind == kind);
            let decided = match &call.deciding_statement {
                Some(statement) => statement.clone(),
                None if outside("service rule") => "the service's rule, not a policy".to_string(),
                None if outside("authentication") => "authentication, before any policy".to_string(),
                None => "no statement allowed".to_string(),
            };
            let _ = writeln!(out, "   decided by {decided}");
            let _ = writeln!(out, "   why        {}", call.explanation);
        }
        redactor.redact_text(&out)
    }

    /// One JSON object, redacted like the text.
    pub fn to_json_line(&self, redactor: &Redactor) -> String {
        let value = serde_json::to_value(self).expect("explanations serialize");
        serde_json::to_string(&redactor.redact_json(&value)).expect("JSON values serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_and_session_arns_are_read_with_paths() {
        assert_eq!(
            role_of_arn("arn:aws:iam::111111111111:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"),
            Some(("111111111111".to_string(), "AWSServiceRoleForAutoScaling".to_string()))
        );
        assert_eq!(
            session_of_arn("arn:aws:sts::111111111111:assumed-role/R/i-0123"),
            Some(("111111111111".to_string(), "R".to_string(), "i-0123".to_string()))
        );
        assert_eq!(session_of_arn("arn:aws:iam::111111111111:user/u"), None);
    }

    #[test]
    fn origins_are_described_as_a_reader_names_them() {
        let agent = Origin::ServiceRoleSession {
            service: "ec2.amazonaws.com".into(),
            role: "NodeRole".into(),
            instance: Some("i-0123".into()),
        };
        assert_eq!(
            agent.describe("ssm:UpdateInstanceInformation"),
            "the SSM Agent on i-0123, as its instance role NodeRole (delivered by ec2.amazonaws.com; inner call)"
        );
        let asg = Origin::ServiceRoleSession {
            service: "autoscaling.amazonaws.com".into(),
            role: "AWSServiceRoleForAutoScaling".into(),
            instance: None,
        };
        assert_eq!(
            asg.describe("kms:CreateGrant"),
            "Auto Scaling (autoscaling.amazonaws.com) as its role AWSServiceRoleForAutoScaling (inner call)"
        );
        assert_eq!(
            Origin::ForwardAccess { service: "ec2.us-east-1.amazonaws.com".into(), caller_assumed_by: None }
                .describe("kms:CreateGrant"),
            "EC2 (ec2.us-east-1.amazonaws.com) for the caller, with the caller's identity (inner call)"
        );
    }
}
