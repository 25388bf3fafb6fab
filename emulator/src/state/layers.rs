//! The one place that gathers, for a request, every policy the world holds that bears on it
//! besides the resource's own policy: the principal's identity policies, its permissions
//! boundary, the session policies of its role session, and the SCPs and RCPs of the accounts
//! involved. `authorize` hands them to `wana-policy`, and so does IAM's policy simulator.

use wana_policy::{
    evaluate, Decision, EvaluationInput, NamedPolicy, OrganizationPolicies, Policy, PolicyLevel, RequestContext,
};

use super::{
    organizations::{Level, OrganizationLayers},
    KeyOwner, World,
};
use crate::principal::Principal;

/// Every policy of a request but the resource's own.
#[derive(Debug, Clone, Default)]
pub struct RequestPolicies {
    /// The user's policies, or the role's for a role session.
    pub identity: Vec<NamedPolicy>,
    /// The permissions boundary of the user or role, if it has one.
    pub boundary: Option<NamedPolicy>,
    /// The session policies of a role session (AssumeRole's `Policy` and `PolicyArns`); empty
    /// for users and for sessions without any.
    pub session: Vec<NamedPolicy>,
    /// The SCPs over the principal's account and the RCPs over the resource's.
    pub organization: OrganizationLayers,
}

/// The resource's side of a request: its own policy and account.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResourceSide<'a> {
    pub policy: Option<&'a NamedPolicy>,
    /// `None` for the principal's own account.
    pub account: Option<&'a str>,
    /// KMS key policies and role trust policies.
    pub authoritative: bool,
}

impl RequestPolicies {
    /// Decides the request with every layer gathered and the resource's side.
    pub fn evaluate(&self, context: &RequestContext, resource: ResourceSide<'_>) -> Decision {
        let scp_policies = self.organization.scp_levels.as_deref().map(policy_refs);
        let rcp_policies = self.organization.rcp_levels.as_deref().map(policy_refs);
        let scp_levels = zip_levels(self.organization.scp_levels.as_deref(), scp_policies.as_deref());
        let rcp_levels = zip_levels(self.organization.rcp_levels.as_deref(), rcp_policies.as_deref());
        let management_account = self.organization.management_account.as_str();
        evaluate(
            context,
            &EvaluationInput {
                identity_policies: &self.identity,
                resource_policy: resource.policy,
                resource_account: resource.account,
                resource_policy_is_authoritative: resource.authoritative,
                permissions_boundary: self.boundary.as_ref(),
                session_policies: &self.session,
                service_control_policies: scp_levels
                    .as_deref()
                    .map(|levels| OrganizationPolicies { management_account, levels }),
                resource_control_policies: rcp_levels
                    .as_deref()
                    .map(|levels| OrganizationPolicies { management_account, levels }),
                vpc_endpoint_policy: None,
            },
        )
    }
}

fn policy_refs(levels: &[Level]) -> Vec<Vec<&NamedPolicy>> {
    levels.iter().map(|level| level.policies.iter().collect()).collect()
}

fn zip_levels<'a>(levels: Option<&'a [Level]>, policies: Option<&'a [Vec<&'a NamedPolicy>]>) -> Option<Vec<PolicyLevel<'a>>> {
    let (levels, policies) = (levels?, policies?);
    Some(
        levels
            .iter()
            .zip(policies)
            .map(|(level, policies)| PolicyLevel { target: &level.target, policies })
            .collect(),
    )
}

/// The question the policies are gathered for.
#[derive(Debug, Clone, Copy)]
pub struct Gathering<'a> {
    pub principal: &'a Principal,
    /// The access key that signed the request: a role session's key finds its session
    /// policies. `None` when no credentials are involved (the policy simulator).
    pub access_key_id: Option<&'a str>,
    pub action: &'a str,
    /// The resource's account, when it may differ from the principal's.
    pub resource_account: Option<&'a str>,
}

impl World {
    /// Every policy that bears on a request (see the module documentation).
    pub fn request_policies(&self, question: Gathering<'_>) -> RequestPolicies {
        let principal = question.principal;
        let account = principal.account();
        let iam = self.account(account).map(|a| &a.iam);
        let boundary_arn = iam.and_then(|iam| match principal {
            Principal::User { name, .. } => iam.users.get(name).and_then(|u| u.permissions_boundary.as_deref()),
            Principal::AssumedRole { role_name, .. } => {
                iam.roles.get(role_name).and_then(|r| r.permissions_boundary.as_deref())
            }
        });
        let boundary = iam.and_then(|iam| iam.boundary_document(boundary_arn)).cloned();
        let resource_account = question.resource_account.unwrap_or(account);
        RequestPolicies {
            identity: self.identity_policies(principal),
            boundary,
            session: question.access_key_id.map(|key| self.session_policies(key)).unwrap_or_default(),
            organization: self.organization_layers(account, resource_account, question.action),
        }
    }

    /// The policies of a request an AWS service principal makes: only the RCPs over the
    /// resource's account can bear on it besides the resource's policy.
    pub fn service_request_policies(&self, action: &str, resource_account: Option<&str>) -> RequestPolicies {
        let organization = match resource_account {
            Some(account) => self.organization_layers("", account, action),
            None => OrganizationLayers::default(),
        };
        RequestPolicies { organization, ..RequestPolicies::default() }
    }

    /// The session policies of the role session an access key belongs to. A managed policy is
    /// read as it is now; one that no longer exists allows nothing (an empty policy keeps the
    /// session limited to its other session policies).
    pub fn session_policies(&self, access_key_id: &str) -> Vec<NamedPolicy> {
        let Some(KeyOwner::Session(session)) = self.access_keys.get(access_key_id).map(|k| &k.owner) else {
            return Vec::new();
        };
        let iam = self.account(&session.account).map(|a| &a.iam);
        let managed = session.policies.arns.iter().map(|arn| {
            iam.and_then(|iam| iam.managed_policy_document(arn)).cloned().unwrap_or_else(|| {
                NamedPolicy::new(arn.clone(), Policy { version: None, id: None, statements: Vec::new() })
            })
        });
        session.policies.inline.iter().map(|inline| (**inline).clone()).chain(managed).collect()
    }
}

#[cfg(test)]
#[path = "layers_tests.rs"]
mod tests;
