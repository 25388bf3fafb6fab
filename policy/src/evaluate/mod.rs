//! The decision: which statements apply in which layer, and how the layers combine.
//!
//! * `mod.rs` (this file): the input, which layers apply to the caller, the scan over every
//!   layer in trace order;
//! * `statement.rs`: whether one statement applies (action, resource, principal, conditions);
//! * `principals.rs`: how a `Principal`/`NotPrincipal` block names the caller;
//! * `scan.rs`: what the applicable statements of each layer said;
//! * `decide.rs`: AWS's evaluation order, from explicit denies to session policies.
//!
//! The central invariants: an applicable `Deny` in any layer wins over every `Allow`; guardrail
//! layers (SCPs, RCPs, permissions boundaries, session policies, VPC endpoint policies) only
//! ever take permissions away; KMS key policies and role trust policies are authoritative.

mod decide;
mod principals;
mod scan;
mod statement;

use crate::context::{PrincipalInfo, RequestContext};
use crate::model::NamedPolicy;
use crate::trace::{Decision, PolicySource};

use scan::Scan;

/// The policies that bear on one request. Every layer is optional: `EvaluationInput {
/// identity_policies, ..Default::default() }` asks about identity-based policies alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct EvaluationInput<'a> {
    /// Every identity-based policy of the principal (for a role session, the role's policies;
    /// for a user, also its groups'). Empty for service principals.
    pub identity_policies: &'a [NamedPolicy],
    /// The resource's own policy (bucket policy, key policy, role trust policy), if any.
    pub resource_policy: Option<&'a NamedPolicy>,
    /// Account owning the resource; `None` means the principal's own account. Give it for
    /// service principals, which have no account: RCPs and cross-account rules need it.
    pub resource_account: Option<&'a str>,
    /// True for KMS key policies and role trust policies: then identity policies count only
    /// where the resource policy delegates to the account.
    pub resource_policy_is_authoritative: bool,
    /// The permissions boundary of the user or role (for a role session, the role's).
    pub permissions_boundary: Option<&'a NamedPolicy>,
    /// The session policies of a role session: the inline `Policy` and the `PolicyArns` passed
    /// to `AssumeRole`. Empty when none were passed (then they do not limit the session).
    pub session_policies: &'a [NamedPolicy],
    /// SCPs of the caller's account, when that account belongs to an organization with SCPs
    /// enabled. Never applied to service principals, service-linked roles or principals of the
    /// management account.
    pub service_control_policies: Option<OrganizationPolicies<'a>>,
    /// RCPs of the resource's account, when that account belongs to an organization with RCPs
    /// enabled. Never applied to resources of the management account or to calls made by
    /// service-linked roles; they do apply to AWS service principals.
    pub resource_control_policies: Option<OrganizationPolicies<'a>>,
    /// The policy of the VPC endpoint the request came through, if it came through one.
    pub vpc_endpoint_policy: Option<&'a NamedPolicy>,
}

/// The SCPs or RCPs on one account's path through its organization.
#[derive(Debug, Clone, Copy)]
pub struct OrganizationPolicies<'a> {
    /// The organization's management account, which neither SCPs nor RCPs restrict.
    pub management_account: &'a str,
    /// One entry per level, root first, then every OU down the path, then the account itself.
    /// Every level must allow (some policy attached there has an applicable `Allow`).
    pub levels: &'a [PolicyLevel<'a>],
}

/// The policies of one type attached directly to one target (root, OU or account).
#[derive(Debug, Clone, Copy)]
pub struct PolicyLevel<'a> {
    /// The target's ID (`r-abcd`, `ou-abcd-12345678`, `111122223333`), for explanations.
    pub target: &'a str,
    /// The policies attached directly to it, e.g. `FullAWSAccess` and the organization's own.
    pub policies: &'a [&'a NamedPolicy],
}

/// Decides one request. Pure and deterministic: the same inputs give the same decision and trace.
pub fn evaluate(context: &RequestContext, input: &EvaluationInput<'_>) -> Decision {
    let layers = Layers::of(context.principal(), input);
    let mut scan = Scan::new(layers.has_boundary);
    for policy in input.identity_policies {
        scan.policy(policy, PolicySource::Identity, context);
    }
    if let Some(policy) = input.resource_policy {
        scan.policy(policy, PolicySource::Resource, context);
    }
    if layers.has_boundary {
        if let Some(policy) = input.permissions_boundary {
            scan.policy(policy, PolicySource::PermissionsBoundary, context);
        }
    }
    if layers.has_session_policies {
        for policy in input.session_policies {
            scan.policy(policy, PolicySource::Session, context);
        }
    }
    if let Some(levels) = layers.service_control {
        scan.levels(levels, PolicySource::ServiceControl, context);
    }
    if let Some(levels) = layers.resource_control {
        scan.levels(levels, PolicySource::ResourceControl, context);
    }
    if let Some(policy) = input.vpc_endpoint_policy {
        scan.policy(policy, PolicySource::VpcEndpoint, context);
    }
    decide::decide(scan, context, input, &layers)
}

/// Which layers bear on this caller.
struct Layers<'a> {
    service_control: Option<&'a [PolicyLevel<'a>]>,
    resource_control: Option<&'a [PolicyLevel<'a>]>,
    has_boundary: bool,
    has_session_policies: bool,
    vpc_endpoint: bool,
}

impl<'a> Layers<'a> {
    fn of(caller: &PrincipalInfo, input: &EvaluationInput<'a>) -> Layers<'a> {
        let is_service = caller.service.is_some();
        let organization = input.service_control_policies.is_some()
            || input.resource_control_policies.is_some();
        let service_linked = organization && is_service_linked_role(caller);
        let resource_owner = input.resource_account.unwrap_or(&caller.account);
        // Organizations User Guide, "Service control policies": SCPs do not affect principals
        // of the management account, service-linked roles, or AWS service principals (which
        // belong to no member account).
        let service_control = input.service_control_policies.filter(|scps| {
            !is_service && !service_linked && caller.account != scps.management_account
        });
        // Organizations User Guide, "Resource control policies": RCPs don't affect resources
        // in the management account and do not apply to calls made by service-linked roles.
        let resource_control = input
            .resource_control_policies
            .filter(|rcps| !service_linked && resource_owner != rcps.management_account);
        Layers {
            service_control: service_control.map(|scps| scps.levels),
            resource_control: resource_control.map(|rcps| rcps.levels),
            has_boundary: !is_service && input.permissions_boundary.is_some(),
            has_session_policies: !is_service && !input.session_policies.is_empty(),
            vpc_endpoint: input.vpc_endpoint_policy.is_some(),
        }
    }
}

/// Service-linked roles live under the path `/aws-service-role/` (IAM User Guide, "Using
/// service-linked roles"); the caller is one when the role ARN of its session (see
/// [`PrincipalInfo::arns`]) has that path.
fn is_service_linked_role(caller: &PrincipalInfo) -> bool {
    caller
        .arns
        .iter()
        .any(|arn| arn.contains(":role/aws-service-role/"))
}
