//! IAM's policy simulator (SimulatePrincipalPolicy, SimulateCustomPolicy): every action on every
//! resource decided by the same path as a real request (`crate::state::layers`, then
//! `wana-policy`), without performing anything or logging a decision.
//!
//! What it answers, per action and resource: the decision (`allowed`, `explicitDeny`,
//! `implicitDeny`), the statements that decided with their positions in their documents
//! (`positions`), the condition keys the policies test that the request did not supply, and
//! whether the organization's SCPs and the permissions boundary allow the action on their own.
//!
//! Beyond AWS's simulator, which evaluates only the resource policy it is handed, wana also
//! evaluates the resource's own policy when the world holds one (`resources`): a role's trust
//! policy, a KMS key's policy, a bucket policy.
//!
//! Chosen where AWS's behaviour is not documented: `MatchedStatements` of an allowed action are
//! the applicable `Allow` statements of the identity, resource and session policies (boundaries
//! and SCPs answer in their own details); of a denied one the applicable `Deny` statements
//! outside SCPs and RCPs; none for an implicit deny (as AWS's examples show).

mod positions;
mod resources;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use wana_policy::{
    ActionBlock, Decision, Effect, NamedPolicy, Outcome, Policy, PolicyKind, PolicySource, PrincipalInfo,
    RequestContext, ResourceBlock, Statement,
};

pub use positions::{position, statement_spans};
pub use resources::{arn_account, OwnPolicy};

use super::{
    layers::{RequestPolicies, ResourceSide},
    organizations::{Level, OrganizationLayers},
    World,
};

/// A policy the simulation evaluates, with what its results say about it.
#[derive(Debug, Clone)]
pub struct SimPolicy {
    /// `SourcePolicyId`: the policy's name, or `PolicyInputList.N` for an input.
    pub id: String,
    /// `SourcePolicyType`, when the answer carries one.
    pub source_type: Option<&'static str>,
    /// The document as written, for positions.
    pub text: String,
    pub parsed: NamedPolicy,
}

impl SimPolicy {
    pub fn new(id: impl Into<String>, source_type: Option<&'static str>, text: &str, parsed: NamedPolicy) -> SimPolicy {
        SimPolicy { id: id.into(), source_type, text: text.to_string(), parsed }
    }

    /// Parses an input document (`PolicyInputList`, `ResourcePolicy`, ...).
    pub fn parse(id: String, text: &str, kind: PolicyKind) -> Result<SimPolicy, wana_policy::PolicyError> {
        let policy = Policy::parse(text, kind)?;
        Ok(SimPolicy { parsed: NamedPolicy::new(id.clone(), policy), id, source_type: None, text: text.to_string() })
    }
}

/// Who the simulated requests come from.
#[derive(Debug, Clone)]
pub struct SimPrincipal {
    pub info: PrincipalInfo,
    /// The principal's own condition keys (`aws:username`, `aws:PrincipalArn`, ...).
    pub keys: Vec<(&'static str, String)>,
}

/// One simulation.
#[derive(Debug, Clone)]
pub struct Simulation {
    pub principal: SimPrincipal,
    pub identity: Vec<SimPolicy>,
    pub boundary: Option<SimPolicy>,
    /// `OrderedOrganizationPolicyInputList`: SCP levels given as input. `None` lets the
    /// organization the principal's account belongs to speak.
    pub scp_levels: Option<Vec<Vec<SimPolicy>>>,
    /// `ResourcePolicy`: given as input; else the resource's own policy, if any.
    pub resource_policy: Option<SimPolicy>,
    /// `ResourceOwner`'s account, for resources whose ARN names none.
    pub resource_owner: Option<String>,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    /// `ContextEntries`: key and values.
    pub context: Vec<(String, Vec<String>)>,
}

/// One statement that determined a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedStatement {
    pub source_id: String,
    pub source_type: Option<&'static str>,
    pub start: (usize, usize),
    pub end: (usize, usize),
}

/// The answer for one action on one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationResult {
    pub action: String,
    pub resource: String,
    /// `allowed`, `explicitDeny` or `implicitDeny`.
    pub decision: &'static str,
    pub matched: Vec<MatchedStatement>,
    pub missing_context: Vec<String>,
    /// `AllowedByOrganizations`, when SCPs bear on the principal.
    pub allowed_by_organizations: Option<bool>,
    /// `AllowedByPermissionsBoundary`, when a boundary does.
    pub allowed_by_boundary: Option<bool>,
}

const ALLOW_EVERYTHING: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

fn allow_everything() -> Vec<NamedPolicy> {
    Policy::parse(ALLOW_EVERYTHING, PolicyKind::Identity)
        .map(|p| vec![NamedPolicy::new("simulation: everything", p)])
        .unwrap_or_default()
}

fn decision_name(decision: &Decision) -> &'static str {
    match decision.outcome {
        Outcome::Allow => "allowed",
        Outcome::ExplicitDeny { .. } => "explicitDeny",
        Outcome::ImplicitDeny { .. } => "implicitDeny",
    }
}

impl World {
    /// Runs a simulation: one result per action and resource, actions first.
    pub fn simulate(&self, simulation: &Simulation) -> Vec<EvaluationResult> {
        let mut results = Vec::new();
        for action in &simulation.actions {
            for resource in &simulation.resources {
                results.push(self.simulate_one(simulation, action, resource));
            }
        }
        results
    }

    fn simulate_one(&self, simulation: &Simulation, action: &str, resource: &str) -> EvaluationResult {
        let principal_account = simulation.principal.info.account.as_str();
        let own = if simulation.resource_policy.is_none() { self.own_resource_policy(action, resource) } else { None };
        let resource_account = arn_account(resource)
            .map(str::to_string)
            .or_else(|| own.as_ref().map(|o| o.account.clone()))
            .or_else(|| simulation.resource_owner.clone())
            .unwrap_or_else(|| principal_account.to_string());
        let resource_policy = simulation.resource_policy.as_ref().or(own.as_ref().map(|o| &o.policy));
        let organization = match &simulation.scp_levels {
            Some(levels) => OrganizationLayers {
                management_account: String::new(),
                scp_levels: Some(
                    levels
                        .iter()
                        .enumerate()
                        .map(|(i, level)| Level {
                            target: format!("OrderedOrganizationPolicyInputList.{}", i + 1),
                            policies: level.iter().map(|p| p.parsed.clone()).collect(),
                        })
                        .collect(),
                ),
                rcp_levels: None,
            },
            None => self.organization_layers(principal_account, &resource_account, action),
        };
        let policies = RequestPolicies {
            identity: simulation.identity.iter().map(|p| p.parsed.clone()).collect(),
            boundary: simulation.boundary.as_ref().map(|p| p.parsed.clone()),
            session: Vec::new(),
            organization,
        };
        let mut context = RequestContext::new(simulation.principal.info.clone(), action, resource);
        for (key, value) in &simulation.principal.keys {
            context = context.with_key(key, value.clone());
        }
        for (key, value) in self.organization_keys(principal_account, &resource_account) {
            context = context.with_key(key, value);
        }
        for (key, values) in &simulation.context {
            context = context.with_multi(key, values.clone());
        }
        let side = ResourceSide {
            policy: resource_policy.map(|p| &p.parsed),
            account: Some(&resource_account).filter(|a| a.as_str() != principal_account).map(String::as_str),
            authoritative: own.as_ref().is_some_and(|o| o.authoritative),
        };
        let decision = policies.evaluate(&context, side);

        let mut sources: BTreeMap<&str, &SimPolicy> = BTreeMap::new();
        for policy in simulation.identity.iter().chain(&simulation.boundary).chain(resource_policy) {
            sources.insert(policy.parsed.name.as_str(), policy);
        }
        let matched = matched_statements(&decision, &sources);
        let considered: Vec<&SimPolicy> = sources.values().copied().collect();
        let missing_context = missing_keys(&considered, &context, action, resource);

        // What the SCPs and the boundary say on their own: each with an allow-everything
        // identity policy, through the same engine.
        let everything = allow_everything();
        let scps_apply = policies.organization.scp_levels.is_some()
            && principal_account != policies.organization.management_account;
        let allowed_by_organizations = scps_apply.then(|| {
            let alone = RequestPolicies { identity: everything.clone(), organization: OrganizationLayers {
                rcp_levels: None,
                ..policies.organization.clone()
            }, ..RequestPolicies::default() };
            alone.evaluate(&context, ResourceSide::default()).is_allowed()
        });
        let allowed_by_boundary = policies.boundary.as_ref().map(|boundary| {
            let alone = RequestPolicies { identity: everything.clone(), boundary: Some(boundary.clone()), ..RequestPolicies::default() };
            alone.evaluate(&context, ResourceSide::default()).is_allowed()
        });
        EvaluationResult {
            action: action.to_string(),
            resource: resource.to_string(),
            decision: decision_name(&decision),
            matched,
            missing_context,
            allowed_by_organizations,
            allowed_by_boundary,
        }
    }
}

/// The statements of the decision that the answer lists (see the module documentation).
fn matched_statements(decision: &Decision, sources: &BTreeMap<&str, &SimPolicy>) -> Vec<MatchedStatement> {
    let wanted = |source: PolicySource, effect: Effect| match decision.outcome {
        Outcome::Allow => {
            effect == Effect::Allow && matches!(source, PolicySource::Identity | PolicySource::Resource | PolicySource::Session)
        }
        Outcome::ExplicitDeny { .. } => {
            effect == Effect::Deny && !matches!(source, PolicySource::ServiceControl | PolicySource::ResourceControl)
        }
        Outcome::ImplicitDeny { .. } => false,
    };
    let mut matched = Vec::new();
    for entry in decision.trace.iter().filter(|e| e.applied && wanted(e.source, e.effect)) {
        let Some(policy) = sources.get(entry.policy.as_str()) else {
            continue;
        };
        let Some(&(open, close)) = statement_spans(&policy.text).get(entry.index) else {
            continue;
        };
        let statement = MatchedStatement {
            source_id: policy.id.clone(),
            source_type: policy.source_type,
            start: position(&policy.text, open),
            end: position(&policy.text, close),
        };
        if !matched.contains(&statement) {
            matched.push(statement);
        }
    }
    matched
}

/// Whether a statement's action and resource cover the request, conditions aside.
fn covers(statement: &Statement, action: &str, resource: &str) -> bool {
    let lowered = action.to_ascii_lowercase();
    let action_matches = |block: &ActionBlock| {
        let any = block.patterns().iter().any(|p| wana_policy::wildcard_match(&p.as_str().to_ascii_lowercase(), &lowered));
        match block {
            ActionBlock::Action(_) => any,
            ActionBlock::NotAction(_) => !any,
        }
    };
    let resource_matches = |block: &ResourceBlock| {
        // A pattern with policy variables is taken to match: its variables may be what is missing.
        let any = block.patterns().iter().any(|p| p.has_variables() || wana_policy::arn_match(p.as_str(), resource));
        match block {
            ResourceBlock::Resource(_) => any,
            ResourceBlock::NotResource(_) => !any,
        }
    };
    action_matches(&statement.action) && statement.resource.as_ref().is_none_or(resource_matches)
}

/// `MissingContextValues`: the condition keys that statements covering the request test and
/// the request does not carry, sorted.
fn missing_keys(policies: &[&SimPolicy], context: &RequestContext, action: &str, resource: &str) -> Vec<String> {
    let mut missing: Vec<String> = Vec::new();
    for policy in policies {
        for statement in policy.parsed.policy.statements.iter().filter(|s| covers(s, action, resource)) {
            for condition in &statement.conditions {
                let present = context.values(&condition.key).is_some_and(|v| !v.is_empty());
                if !present && !missing.iter().any(|k| k.eq_ignore_ascii_case(&condition.key)) {
                    missing.push(condition.key.clone());
                }
            }
        }
    }
    missing.sort();
    missing
}
