//! AWS's evaluation order (IAM User Guide, "How AWS enforcement code logic evaluates requests
//! to allow or deny access", and "Cross-account policy evaluation logic"):
//!
//! 1. **Deny evaluation.** An applicable `Deny` in any policy of any layer denies. When several
//!    layers deny, the one reported is the first of: RCPs, SCPs, the VPC endpoint policy, the
//!    resource-based policy, identity-based policies, the permissions boundary, session
//!    policies.
//! 2. **RCPs**, then **SCPs**: every level of the path (root, OUs, account) must have an
//!    applicable `Allow`.
//! 3. **VPC endpoint policy**, when the request came through an endpoint: it must allow.
//! 4. **Resource-based policy.** In the resource's own account an allow can decide on its own,
//!    depending on whom it names (the guide's table "Resource-based policies and implicit
//!    denies in other policy types (same account)"):
//!    * the principal that signed (a user ARN, a role session ARN) or everyone: allowed even
//!      if identity-based policies, the permissions boundary and session policies do not allow;
//!    * the role behind the session (a role ARN): allowed without an identity-based allow, but
//!      "limited by an implicit deny in a permissions boundary or session policy";
//!    * the account only: a delegation, decided by the caller's own side (below).
//!
//!    KMS key policies and role trust policies are authoritative: in their own account an
//!    identity-based allow counts only through such a delegation.
//! 5. **Identity-based policies** (the root user's are implicit), then the **permissions
//!    boundary**, then **session policies** (any one of them allowing): the caller's own side.
//!
//! Across accounts the caller's own side (step 5) and a resource-policy allow of any kind are
//! both required. Service principals are allowed only by a resource-policy statement naming the
//! service or everyone (and still by RCPs and the VPC endpoint policy).

use crate::context::{PrincipalInfo, RequestContext};
use crate::trace::{Decision, Missing, Outcome, PolicySource};

use super::scan::Scan;
use super::{EvaluationInput, Layers};

/// Which layer an AccessDenied message names when several denied explicitly.
const DENY_PRECEDENCE: [PolicySource; PolicySource::COUNT] = [
    PolicySource::ResourceControl,
    PolicySource::ServiceControl,
    PolicySource::VpcEndpoint,
    PolicySource::Resource,
    PolicySource::Identity,
    PolicySource::PermissionsBoundary,
    PolicySource::Session,
];

pub(super) fn decide(
    scan: Scan,
    context: &RequestContext,
    input: &EvaluationInput<'_>,
    layers: &Layers<'_>,
) -> Decision {
    let caller = context.principal();
    let verdict = verdict(&scan, caller, input, layers);
    let mut decision = Decision {
        outcome: Outcome::ImplicitDeny {
            missing: Missing::Both,
        },
        trace: scan.trace,
        action: context.action().to_string(),
        deciding: None,
        supporting: None,
        allowed_as_root: false,
        missing_at: None,
    };
    match verdict {
        Verdict::ExplicitDeny(by, position) => {
            decision.outcome = Outcome::ExplicitDeny { by };
            decision.deciding = Some(position);
        }
        Verdict::ImplicitDeny(missing) => {
            decision.outcome = Outcome::ImplicitDeny { missing };
            let (levels, level) = match missing {
                Missing::ServiceControlAllow { level } => (layers.service_control, level),
                Missing::ResourceControlAllow { level } => (layers.resource_control, level),
                _ => (None, 0),
            };
            decision.missing_at = levels
                .and_then(|levels| levels.get(level))
                .map(|level| level.target.to_string());
        }
        Verdict::Allow {
            deciding,
            supporting,
            as_root,
        } => {
            decision.outcome = Outcome::Allow;
            decision.deciding = deciding;
            decision.supporting = supporting;
            decision.allowed_as_root = as_root;
        }
    }
    decision
}

enum Verdict {
    ExplicitDeny(PolicySource, usize),
    ImplicitDeny(Missing),
    Allow {
        deciding: Option<usize>,
        supporting: Option<usize>,
        as_root: bool,
    },
}

fn allow(deciding: usize) -> Verdict {
    Verdict::Allow {
        deciding: Some(deciding),
        supporting: None,
        as_root: false,
    }
}

fn verdict(
    scan: &Scan,
    caller: &PrincipalInfo,
    input: &EvaluationInput<'_>,
    layers: &Layers<'_>,
) -> Verdict {
    for source in DENY_PRECEDENCE {
        if let Some(position) = scan.denies[source.index()] {
            return Verdict::ExplicitDeny(source, position);
        }
    }
    if let Some(level) = scan.resource_control_gap {
        return Verdict::ImplicitDeny(Missing::ResourceControlAllow { level });
    }
    if let Some(level) = scan.service_control_gap {
        return Verdict::ImplicitDeny(Missing::ServiceControlAllow { level });
    }
    if layers.vpc_endpoint && scan.vpc_endpoint_allow.is_none() {
        return Verdict::ImplicitDeny(Missing::VpcEndpointAllow);
    }

    if caller.service.is_some() {
        // Service principals have no identity policies: only the resource policy speaks.
        return match scan.principal_grant {
            Some(position) => allow(position),
            None => Verdict::ImplicitDeny(Missing::ResourceAllow),
        };
    }

    let own_side = own_side(scan, caller, layers);
    let same_account = input
        .resource_account
        .is_none_or(|owner| owner == caller.account);

    if same_account && input.resource_policy_is_authoritative {
        if let Some(position) = scan.principal_grant {
            return allow(position);
        }
        if let Some(position) = scan.entity_grant {
            return match guardrails(scan, layers) {
                Ok(()) => allow(position),
                Err(missing) => Verdict::ImplicitDeny(missing),
            };
        }
        return match (scan.account_grant, own_side) {
            (Some(delegation), Ok(())) => Verdict::Allow {
                deciding: scan.identity_allow.or(Some(delegation)),
                supporting: Some(delegation),
                as_root: caller.is_root,
            },
            (Some(_), Err(missing)) => Verdict::ImplicitDeny(missing),
            (None, _) => Verdict::ImplicitDeny(Missing::ResourceAllow),
        };
    }

    if same_account {
        if caller.is_root {
            // The root user holds every permission of its own account implicitly.
            return Verdict::Allow {
                deciding: None,
                supporting: None,
                as_root: true,
            };
        }
        if let (Ok(()), Some(position)) = (own_side, scan.identity_allow) {
            return allow(position);
        }
        if let Some(position) = scan.principal_grant {
            return allow(position);
        }
        let missing = own_side.err().unwrap_or(Missing::IdentityAllow);
        // A grant to the role is limited by the guardrails, not by identity policies.
        return match (scan.entity_grant, missing) {
            (Some(position), Missing::IdentityAllow) => match guardrails(scan, layers) {
                Ok(()) => allow(position),
                Err(missing) => Verdict::ImplicitDeny(missing),
            },
            _ => Verdict::ImplicitDeny(missing),
        };
    }

    // Cross-account: the caller's own side and the resource's account must both allow.
    let resource_allow = scan
        .principal_grant
        .or(scan.entity_grant)
        .or(scan.account_grant);
    match (own_side, resource_allow) {
        (Ok(()), Some(resource_position)) => match scan.identity_allow {
            Some(identity_position) => Verdict::Allow {
                deciding: Some(identity_position),
                supporting: Some(resource_position),
                as_root: false,
            },
            None => Verdict::Allow {
                deciding: Some(resource_position),
                supporting: None,
                as_root: caller.is_root,
            },
        },
        (Err(Missing::IdentityAllow), None) => Verdict::ImplicitDeny(Missing::Both),
        (Err(missing), _) => Verdict::ImplicitDeny(missing),
        (Ok(()), None) => Verdict::ImplicitDeny(Missing::ResourceAllow),
    }
}

/// The caller's own side: an identity-based allow (implicit for the root user), then the
/// guardrails.
fn own_side(scan: &Scan, caller: &PrincipalInfo, layers: &Layers<'_>) -> Result<(), Missing> {
    if scan.identity_allow.is_none() && !caller.is_root {
        return Err(Missing::IdentityAllow);
    }
    guardrails(scan, layers)
}

/// The permissions boundary, then session policies, must allow where present.
fn guardrails(scan: &Scan, layers: &Layers<'_>) -> Result<(), Missing> {
    if layers.has_boundary && scan.boundary_allow.is_none() {
        return Err(Missing::BoundaryAllow);
    }
    if layers.has_session_policies && scan.session_allow.is_none() {
        return Err(Missing::SessionAllow);
    }
    Ok(())
}
