//! Authorization: every request, and every call a service makes for a caller, is decided here by
//! `wana-policy` against the policies the world holds. No handler decides access on its own:
//! this is where the invariant "failures emerge from modelled rules" is enforced.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use wana_policy::{
    evaluate, Decision, EvaluationInput, NamedPolicy, Outcome, PolicySource, PrincipalInfo, RequestContext,
};

use crate::{principal::Caller, state::World};

/// One authorization question.
#[derive(Debug, Clone)]
pub struct AuthzRequest<'a> {
    /// `service:Action`, e.g. `iam:CreateUser`.
    pub action: &'a str,
    /// The resource ARN (`*` for actions without a resource).
    pub resource: &'a str,
    /// The resource's own policy: a role's trust policy, a key policy.
    pub resource_policy: Option<&'a NamedPolicy>,
    /// The account that owns the resource, when it can differ from the caller's.
    pub resource_account: Option<&'a str>,
    /// KMS key policies and role trust policies must allow (or delegate) themselves.
    pub resource_policy_is_authoritative: bool,
    /// Service-specific condition keys (`sts:ExternalId`, `kms:ViaService`, ...); a key given
    /// several times has several values.
    pub context: Vec<(&'static str, String)>,
}

impl<'a> AuthzRequest<'a> {
    /// A plain identity-policy question on a resource in the caller's own account.
    pub fn new(action: &'a str, resource: &'a str) -> Self {
        AuthzRequest {
            action,
            resource,
            resource_policy: None,
            resource_account: None,
            resource_policy_is_authoritative: false,
            context: Vec::new(),
        }
    }
}

/// A decision kept for the narrative: who asked for what, and which statement decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthzRecord {
    pub caller_arn: String,
    pub action: String,
    pub resource: String,
    pub allowed: bool,
    pub explanation: String,
    /// The service that made the call for the caller (a forward access session), from the
    /// request context: `kms:ViaService` (`ec2.us-east-1.amazonaws.com`), else the first
    /// `aws:CalledVia` value. `None` for a caller's own request.
    pub via_service: Option<String>,
    /// For a service's own call: the service principal that acted (`events.amazonaws.com`
    /// assuming its role, `ec2.amazonaws.com` using a key for the caller). `None` when the caller
    /// acted itself.
    pub acting_service: Option<String>,
}

/// The most recent decisions, oldest first; bounded so a long emulator run does not grow.
#[derive(Debug, Default)]
pub struct AuthzLog {
    records: VecDeque<AuthzRecord>,
    /// How many decisions were ever recorded, including those the bound dropped.
    recorded: usize,
}

impl AuthzLog {
    const CAPACITY: usize = 10_000;

    fn push(&mut self, record: AuthzRecord) {
        if self.records.len() == Self::CAPACITY {
            self.records.pop_front();
        }
        self.records.push_back(record);
        self.recorded += 1;
    }

    pub fn records(&self) -> impl Iterator<Item = &AuthzRecord> {
        self.records.iter()
    }

    /// How many decisions were ever recorded: a mark to pass to [`AuthzLog::since`] later.
    pub fn recorded(&self) -> usize {
        self.recorded
    }

    /// The decisions recorded after `mark` (a value of [`AuthzLog::recorded`]) that are still
    /// kept, oldest first.
    pub fn since(&self, mark: usize) -> impl Iterator<Item = &AuthzRecord> {
        let first_kept = self.recorded - self.records.len();
        self.records.iter().skip(mark.saturating_sub(first_kept))
    }

    /// The latest decision was overruled by something outside the policies that allows the
    /// call (a KMS grant): record it as allowed, keeping what the policies alone said.
    pub fn allow_latest(&mut self, by: &str) {
        if let Some(record) = self.records.back_mut() {
            record.allowed = true;
            record.explanation = format!("allowed by {by}; the policies alone: {}", record.explanation);
        }
    }
}

/// The request facts that every decision may test with `aws:` condition keys.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    pub caller: &'a Caller,
    pub now: DateTime<Utc>,
    pub region: &'a str,
}

impl World {
    /// Asks, as an AWS service principal (`events.amazonaws.com`), a question that only a
    /// resource policy can answer: a role's trust policy when the service assumes the role. A
    /// service principal has no identity policies; the decision is logged like any other.
    pub fn authorize_service(
        &mut self,
        service: &str,
        now: DateTime<Utc>,
        region: &str,
        request: &AuthzRequest<'_>,
    ) -> Decision {
        let info = PrincipalInfo { account: String::new(), arns: Vec::new(), service: Some(service.to_string()), is_root: false };
        let context = with_request_keys(
            RequestContext::new(info, request.action, request.resource)
                .with_key("aws:CurrentTime", now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .with_key("aws:EpochTime", now.timestamp().to_string())
                .with_key("aws:SecureTransport", "true")
                .with_key("aws:RequestedRegion", region),
            request,
        );
        let decision = evaluate(
            &context,
            &EvaluationInput {
                identity_policies: &[],
                resource_policy: request.resource_policy,
                resource_account: request.resource_account,
                resource_policy_is_authoritative: request.resource_policy_is_authoritative,
            },
        );
        self.record(service.to_string(), Some(service), via_service(&request.context), request, &decision);
        decision
    }

    /// Records a decision a service's model made by a documented rule rather than by a policy
    /// (a recover alarm action needs no permissions), so that the log shows every step.
    pub fn record_rule(&mut self, acting_service: &str, action: &str, resource: &str, rule: &str) {
        self.authz_log.push(AuthzRecord {
            caller_arn: acting_service.to_string(),
            action: action.to_string(),
            resource: resource.to_string(),
            allowed: true,
            explanation: rule.to_string(),
            via_service: None,
            acting_service: Some(acting_service.to_string()),
        });
    }

    /// Records a call refused before authorization because its credentials did not authenticate
    /// (a stored temporary key without its session token): denied, with the reason.
    pub fn record_authentication_failure(&mut self, who: &str, action: &str, reason: &str) {
        tracing::debug!(caller = who, action, reason, "authentication failed");
        self.authz_log.push(AuthzRecord {
            caller_arn: who.to_string(),
            action: action.to_string(),
            resource: "*".to_string(),
            allowed: false,
            explanation: format!("not authenticated: {reason}"),
            via_service: None,
            acting_service: None,
        });
    }

    fn record(
        &mut self,
        caller_arn: String,
        acting_service: Option<&str>,
        via_service: Option<String>,
        request: &AuthzRequest<'_>,
        decision: &Decision,
    ) {
        tracing::debug!(
            caller = %caller_arn,
            acting = acting_service.unwrap_or("-"),
            action = request.action,
            resource = request.resource,
            decision = %decision.explain(),
            "authorization"
        );
        self.authz_log.push(AuthzRecord {
            caller_arn,
            action: request.action.to_string(),
            resource: request.resource.to_string(),
            allowed: decision.is_allowed(),
            explanation: decision.explain(),
            via_service,
            acting_service: acting_service.map(str::to_string),
        });
    }

    /// Decides one authorization question and records the decision.
    pub fn authorize(&mut self, facts: RequestFacts<'_>, request: &AuthzRequest<'_>) -> Decision {
        let caller = facts.caller;
        let principal = &caller.principal;
        let mut context = RequestContext::new(principal.policy_info(), request.action, request.resource)
            .with_key("aws:userid", principal.user_id())
            .with_key("aws:PrincipalArn", principal.entity_arn())
            .with_key("aws:PrincipalAccount", principal.account())
            .with_key("aws:PrincipalType", principal.principal_type())
            .with_key("aws:SourceIp", caller.source_ip.to_string())
            .with_key("aws:CurrentTime", facts.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .with_key("aws:EpochTime", facts.now.timestamp().to_string())
            .with_key("aws:SecureTransport", "false")
            .with_key("aws:RequestedRegion", facts.region);
        if let crate::principal::Principal::User { name, .. } = principal {
            context = context.with_key("aws:username", name.clone());
        }
        if let Some(service) = &caller.via_service {
            context = context.with_key("aws:ViaAWSService", "true");
            if crate::principal::CALLED_VIA_SERVICES.contains(&service.as_str()) {
                context = context
                    .with_multi("aws:CalledVia", vec![service.clone()])
                    .with_key("aws:CalledViaFirst", service.clone())
                    .with_key("aws:CalledViaLast", service.clone());
            }
        } else {
            context = context.with_key("aws:ViaAWSService", "false");
        }
        if let Some(issued) = caller.token_issued {
            context = context.with_key(
                "aws:TokenIssueTime",
                issued.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            );
        }
        let context = with_request_keys(context, request);
        let identity_policies = self.identity_policies(principal);
        let decision = evaluate(
            &context,
            &EvaluationInput {
                identity_policies: &identity_policies,
                resource_policy: request.resource_policy,
                resource_account: request.resource_account,
                resource_policy_is_authoritative: request.resource_policy_is_authoritative,
            },
        );
        // A forward-access call went via the acting service even where no condition key says so.
        let via = via_service(&request.context).or_else(|| caller.via_service.clone());
        self.record(principal.arn(), caller.via_service.as_deref(), via, request, &decision);
        decision
    }
}

/// Adds a request's service-specific keys. A key named more than once is multi-valued
/// (`kms:GrantOperations`), for the `ForAnyValue:` / `ForAllValues:` operators.
fn with_request_keys(mut context: RequestContext, request: &AuthzRequest<'_>) -> RequestContext {
    let mut keys: Vec<&str> = request.context.iter().map(|(key, _)| *key).collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        let values: Vec<String> =
            request.context.iter().filter(|(k, _)| *k == key).map(|(_, v)| v.clone()).collect();
        context = context.with_multi(key, values);
    }
    context
}

/// The service a forward-access call went through, as the request context names it.
fn via_service(context: &[(&'static str, String)]) -> Option<String> {
    let first = |name: &str| context.iter().find(|(key, _)| *key == name).map(|(_, value)| value.clone());
    first("kms:ViaService").or_else(|| first("aws:CalledVia"))
}

/// AWS's access-denied sentence: `User: <arn> is not authorized to perform: <action> on
/// resource: <resource> because no identity-based policy allows the <action> action`.
pub fn denied_message(caller_arn: &str, action: &str, resource: &str, decision: &Decision) -> String {
    let head = format!("User: {caller_arn} is not authorized to perform: {action} on resource: {resource}");
    match &decision.outcome {
        Outcome::Allow => head,
        Outcome::ExplicitDeny { by: PolicySource::Identity } => {
            format!("{head} with an explicit deny in an identity-based policy")
        }
        Outcome::ExplicitDeny { by: PolicySource::Resource } => {
            format!("{head} with an explicit deny in a resource-based policy")
        }
        Outcome::ImplicitDeny { missing } => match missing {
            wana_policy::Missing::ResourceAllow => {
                format!("{head} because no resource-based policy allows the {action} action")
            }
            _ => format!("{head} because no identity-based policy allows the {action} action"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(action: &str) -> AuthzRecord {
        AuthzRecord {
            caller_arn: "arn:aws:iam::111111111111:user/admin".to_string(),
            action: action.to_string(),
            resource: "*".to_string(),
            allowed: false,
            explanation: "no statement allowed it".to_string(),
            via_service: None,
            acting_service: None,
        }
    }

    #[test]
    fn since_counts_decisions_the_bound_dropped() {
        let mut log = AuthzLog::default();
        log.push(record("a:First"));
        let mark = log.recorded();
        log.push(record("a:Second"));
        let after: Vec<&str> = log.since(mark).map(|r| r.action.as_str()).collect();
        assert_eq!(after, ["a:Second"]);
        for _ in 0..AuthzLog::CAPACITY {
            log.push(record("a:Filler"));
        }
        log.push(record("a:Last"));
        assert_eq!(log.recorded(), AuthzLog::CAPACITY + 3);
        let mark = log.recorded() - 1;
        assert_eq!(log.since(mark).map(|r| r.action.as_str()).collect::<Vec<_>>(), ["a:Last"]);
        // A mark older than what is kept yields everything kept.
        assert_eq!(log.since(0).count(), AuthzLog::CAPACITY);
    }

    #[test]
    fn allow_latest_keeps_what_the_policies_said() {
        let mut log = AuthzLog::default();
        log.push(record("kms:Decrypt"));
        log.allow_latest("grant g1 for ec2.amazonaws.com");
        let latest = log.records().last().unwrap();
        assert!(latest.allowed);
        assert_eq!(
            latest.explanation,
            "allowed by grant g1 for ec2.amazonaws.com; the policies alone: no statement allowed it"
        );
    }

    #[test]
    fn via_service_comes_from_the_request_context() {
        let kms = vec![("kms:ViaService", "ec2.us-east-1.amazonaws.com".to_string())];
        assert_eq!(via_service(&kms).as_deref(), Some("ec2.us-east-1.amazonaws.com"));
        let called_via = vec![("aws:CalledVia", "cloudformation.amazonaws.com".to_string())];
        assert_eq!(via_service(&called_via).as_deref(), Some("cloudformation.amazonaws.com"));
        assert_eq!(via_service(&[]), None);
    }
}
