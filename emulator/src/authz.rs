//! Authorization: the questions (`AuthzRequest`), the request facts every decision may test, the
//! log of decisions, and AWS's access-denied sentence. The world asks `wana-policy` through
//! `crate::state::authorize`, which builds the request context from the caller and the policies
//! the world holds and records every decision here. No handler decides access on its own: this
//! is where the invariant "failures emerge from modelled rules" is enforced.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use wana_policy::{Decision, Effect, NamedPolicy, Outcome, RequestContext, TraceEntry};

use crate::principal::Caller;

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
    /// The policies the decision consulted, in evaluation order: the caller's identity
    /// policies, the resource's own policy, then what a service's model consulted after the
    /// policies (a key's grants). Empty for a service's rule and a refused authentication.
    pub consulted: Vec<ConsultedPolicy>,
    /// The statement that decided: the explicit Deny, or the Allow that granted access. `None`
    /// when no statement allowed (an implicit deny), for the root user's implicit permissions,
    /// and for decisions made outside the policies.
    pub deciding: Option<DecidingStatement>,
}

/// What kind of policy a decision consulted, as a reader names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsultedKind {
    /// A policy of the user or role (inline or managed).
    Identity,
    /// A KMS key's key policy.
    KeyPolicy,
    /// A role's trust policy (`sts:AssumeRole`).
    TrustPolicy,
    /// An S3 bucket policy.
    BucketPolicy,
    /// Another resource's own policy.
    ResourcePolicy,
    /// A KMS key's grants, consulted when the policies leave the call only implicitly denied.
    Grants,
    /// The user's or role's permissions boundary, where the world has one.
    PermissionsBoundary,
    /// A role session's session policies.
    SessionPolicy,
    /// A service control policy over the caller's account.
    ServiceControlPolicy,
    /// A resource control policy over the resource's account.
    ResourceControlPolicy,
    /// A documented rule of a service's model, not a policy (SSM: a node speaks only for
    /// itself; a recover alarm action needs no permissions).
    ServiceRule,
    /// The request's credentials, refused before any policy was asked.
    Authentication,
}

impl ConsultedKind {
    /// `identity policy`, `key policy`, `trust policy`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            ConsultedKind::Identity => "identity policy",
            ConsultedKind::KeyPolicy => "key policy",
            ConsultedKind::TrustPolicy => "trust policy",
            ConsultedKind::BucketPolicy => "bucket policy",
            ConsultedKind::ResourcePolicy => "resource policy",
            ConsultedKind::Grants => "grants",
            ConsultedKind::PermissionsBoundary => "permissions boundary",
            ConsultedKind::SessionPolicy => "session policy",
            ConsultedKind::ServiceControlPolicy => "service control policy",
            ConsultedKind::ResourceControlPolicy => "resource control policy",
            ConsultedKind::ServiceRule => "service rule",
            ConsultedKind::Authentication => "authentication",
        }
    }

    /// The kind of a resource's own policy, from the action asked of it: a role is assumed
    /// (`sts:`), a key used (`kms:`), a bucket or object read or written (`s3:`).
    pub fn of_resource_policy(action: &str) -> ConsultedKind {
        match action.split_once(':').map(|(service, _)| service) {
            Some("sts") => ConsultedKind::TrustPolicy,
            Some("kms") => ConsultedKind::KeyPolicy,
            Some("s3") => ConsultedKind::BucketPolicy,
            _ => ConsultedKind::ResourcePolicy,
        }
    }
}

/// One policy (or set of grants) a decision consulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsultedPolicy {
    pub kind: ConsultedKind,
    /// The policy's name in traces: a managed policy's ARN, `inline:<entity>/<policy>`,
    /// `key policy of <key ARN>`, `trust:<role>`; for grants, what was found.
    pub name: String,
}

impl ConsultedPolicy {
    /// A service's documented rule, in its own words.
    pub fn rule(rule: &str) -> ConsultedPolicy {
        ConsultedPolicy { kind: ConsultedKind::ServiceRule, name: rule.to_string() }
    }

    /// Credentials refused before any policy was asked, with the reason.
    pub fn authentication(reason: &str) -> ConsultedPolicy {
        ConsultedPolicy { kind: ConsultedKind::Authentication, name: reason.to_string() }
    }
}

/// The policies an authorization question consulted: the caller's identity policies, then the
/// resource's own policy.
pub fn consulted_policies(identity: &[NamedPolicy], request: &AuthzRequest<'_>) -> Vec<ConsultedPolicy> {
    let mut consulted: Vec<ConsultedPolicy> = identity
        .iter()
        .map(|policy| ConsultedPolicy { kind: ConsultedKind::Identity, name: policy.name.clone() })
        .collect();
    if let Some(policy) = request.resource_policy {
        consulted.push(ConsultedPolicy {
            kind: ConsultedKind::of_resource_policy(request.action),
            name: policy.name.clone(),
        });
    }
    consulted
}

/// The statement that decided, as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecidingStatement {
    /// The name of the policy holding it (see [`ConsultedPolicy::name`]).
    pub policy: String,
    pub sid: Option<String>,
    /// Its position in the policy, from 0.
    pub index: usize,
    pub effect: Effect,
}

impl DecidingStatement {
    /// The statement that decided `decision`, if one did.
    pub fn of(decision: &Decision) -> Option<DecidingStatement> {
        decision.deciding_statement().map(DecidingStatement::from)
    }

    /// `key policy of <arn> statement 'Allow use' (#1)`, as the policy engine labels it.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(sid) if !sid.is_empty() => format!("{} statement '{}' (#{})", self.policy, sid, self.index),
            _ => format!("{} statement #{}", self.policy, self.index),
        }
    }
}

impl From<&TraceEntry> for DecidingStatement {
    fn from(entry: &TraceEntry) -> Self {
        DecidingStatement { policy: entry.policy.clone(), sid: entry.sid.clone(), index: entry.index, effect: entry.effect }
    }
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

    pub(crate) fn push(&mut self, record: AuthzRecord) {
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

    /// Adds to what the latest decision consulted: the policies a question asked
    /// ([`consulted_policies`]), or what a service's model looked at afterwards (a key's grants).
    pub fn consulted_latest(&mut self, consulted: impl IntoIterator<Item = ConsultedPolicy>) {
        if let Some(record) = self.records.back_mut() {
            record.consulted.extend(consulted);
        }
    }

    /// Adds why the latest decision was made as it was when something outside the policies
    /// bore on it (a change not yet propagated).
    pub fn note_latest(&mut self, note: &str) {
        if let Some(record) = self.records.back_mut() {
            record.explanation = format!("{}; {note}", record.explanation);
            record.consulted.push(ConsultedPolicy::rule(note));
        }
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

/// Adds a request's service-specific keys. A key named more than once is multi-valued
/// (`kms:GrantOperations`), for the `ForAnyValue:` / `ForAllValues:` operators.
pub(crate) fn with_request_keys(mut context: RequestContext, request: &AuthzRequest<'_>) -> RequestContext {
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
pub(crate) fn via_service(context: &[(&'static str, String)]) -> Option<String> {
    let first = |name: &str| context.iter().find(|(key, _)| *key == name).map(|(_, value)| value.clone());
    first("kms:ViaService").or_else(|| first("aws:CalledVia"))
}

/// AWS's access-denied sentence: `User: <arn> is not authorized to perform: <action> on
/// resource: <resource> because no identity-based policy allows the <action> action`, the tail
/// naming the layer that denied (`wana_policy::Decision::aws_reason`).
pub fn denied_message(caller_arn: &str, action: &str, resource: &str, decision: &Decision) -> String {
    let head = format!("User: {caller_arn} is not authorized to perform: {action} on resource: {resource}");
    match decision.outcome {
        Outcome::Allow => head,
        Outcome::ExplicitDeny { by } => format!("{head} with an explicit deny in {}", by.aws_name_with_article()),
        Outcome::ImplicitDeny { missing } => {
            format!("{head} because no {} allows the {action} action", missing.layer().aws_name())
        }
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
            consulted: Vec::new(),
            deciding: None,
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
    fn a_resource_policy_is_named_by_the_service_asked() {
        let cases = [
            ("sts:AssumeRole", ConsultedKind::TrustPolicy, "trust policy"),
            ("kms:CreateGrant", ConsultedKind::KeyPolicy, "key policy"),
            ("s3:GetObject", ConsultedKind::BucketPolicy, "bucket policy"),
            ("sqs:SendMessage", ConsultedKind::ResourcePolicy, "resource policy"),
        ];
        for (action, kind, words) in cases {
            assert_eq!(ConsultedKind::of_resource_policy(action), kind, "{action}");
            assert_eq!(kind.as_str(), words);
        }
    }

    #[test]
    fn consulted_latest_adds_to_the_latest_record_only() {
        let mut log = AuthzLog::default();
        log.push(record("kms:CreateGrant"));
        log.push(record("kms:Decrypt"));
        let grants = ConsultedPolicy { kind: ConsultedKind::Grants, name: "no grants on the key".to_string() };
        log.consulted_latest([grants.clone()]);
        let kept: Vec<&[ConsultedPolicy]> = log.records().map(|r| r.consulted.as_slice()).collect();
        assert_eq!(kept, [&[][..], &[grants][..]]);
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
