//! The decision: which statements apply, and how identity and resource policies combine.
//!
//! This is where the crate's central invariants are enforced: an applicable `Deny` anywhere
//! wins over every `Allow`, and KMS key policies and role trust policies are authoritative (an
//! account principal in them only delegates to IAM; it grants nothing by itself). The rules are
//! spelled out in the crate documentation.

use crate::context::{PrincipalInfo, RequestContext};
use crate::matching::{arn_match_masked, arn_with_shape};
use crate::model::{
    account_of_root_arn, AwsPrincipal, Effect, NamedPolicy, PrincipalBlock, PrincipalSet,
    ResourceBlock, ResourcePattern, Statement,
};
use crate::trace::{Decision, Missing, Outcome, PolicySource, PrincipalMatch, TraceEntry};
use crate::variables::substitute;

/// The policies that bear on one request.
#[derive(Debug, Clone, Copy, Default)]
pub struct EvaluationInput<'a> {
    /// Every identity-based policy of the principal (for a role session, the role's policies).
    /// Empty for service principals.
    pub identity_policies: &'a [NamedPolicy],
    /// The resource's own policy (bucket policy, key policy, role trust policy), if any.
    pub resource_policy: Option<&'a NamedPolicy>,
    /// Account owning the resource; `None` means the principal's own account.
    pub resource_account: Option<&'a str>,
    /// True for KMS key policies and role trust policies: then identity policies count only
    /// where the resource policy delegates to the account.
    pub resource_policy_is_authoritative: bool,
}

/// Decides one request. Pure and deterministic: the same inputs give the same decision and trace.
pub fn evaluate(context: &RequestContext, input: &EvaluationInput<'_>) -> Decision {
    let mut scan = Scan::default();
    for policy in input.identity_policies {
        scan.policy(policy, PolicySource::Identity, context);
    }
    if let Some(policy) = input.resource_policy {
        scan.policy(policy, PolicySource::Resource, context);
    }
    scan.decide(context, input)
}

#[derive(Default)]
struct Scan {
    trace: Vec<TraceEntry>,
    first_deny: Option<(usize, PolicySource)>,
    first_identity_allow: Option<usize>,
    /// A resource-policy allow that names the caller directly, a service, or everyone.
    first_strong_resource_allow: Option<usize>,
    /// A resource-policy allow that names only the caller's account (delegation to IAM).
    first_account_resource_allow: Option<usize>,
}

enum StatementMatch {
    NotApplicable,
    /// Action and resource matched, but the principal or a condition did not.
    NearMiss {
        note: String,
        via: Option<PrincipalMatch>,
    },
    Applies {
        via: Option<PrincipalMatch>,
    },
}

impl Scan {
    fn policy(&mut self, named: &NamedPolicy, source: PolicySource, context: &RequestContext) {
        for (index, statement) in named.policy.statements.iter().enumerate() {
            let (applied, via, note) = match match_statement(statement, source, context) {
                StatementMatch::NotApplicable => continue,
                StatementMatch::NearMiss { note, via } => (false, via, note),
                StatementMatch::Applies { via } => {
                    (true, via, applied_note(statement.effect, via).to_string())
                }
            };
            let position = self.trace.len();
            self.trace.push(TraceEntry {
                policy: named.name.clone(),
                sid: statement.sid.clone(),
                index,
                effect: statement.effect,
                matched_via: via,
                note,
                source,
                applied,
            });
            if !applied {
                continue;
            }
            match (statement.effect, source, via) {
                (Effect::Deny, _, _) => {
                    self.first_deny.get_or_insert((position, source));
                }
                (Effect::Allow, PolicySource::Identity, _) => {
                    self.first_identity_allow.get_or_insert(position);
                }
                (Effect::Allow, PolicySource::Resource, Some(PrincipalMatch::Account)) => {
                    self.first_account_resource_allow.get_or_insert(position);
                }
                (Effect::Allow, PolicySource::Resource, _) => {
                    self.first_strong_resource_allow.get_or_insert(position);
                }
            }
        }
    }

    fn decide(self, context: &RequestContext, input: &EvaluationInput<'_>) -> Decision {
        let caller = context.principal();
        let mut decision = Decision {
            outcome: Outcome::ImplicitDeny {
                missing: Missing::Both,
            },
            trace: self.trace,
            action: context.action().to_string(),
            deciding: None,
            supporting: None,
            allowed_as_root: false,
        };
        if let Some((position, by)) = self.first_deny {
            decision.outcome = Outcome::ExplicitDeny { by };
            decision.deciding = Some(position);
            return decision;
        }
        let deny = |mut decision: Decision, missing: Missing| {
            decision.outcome = Outcome::ImplicitDeny { missing };
            decision
        };
        let allow = |mut decision: Decision, deciding: Option<usize>, supporting: Option<usize>| {
            decision.outcome = Outcome::Allow;
            decision.deciding = deciding;
            decision.supporting = supporting;
            decision
        };

        if caller.service.is_some() {
            // Service principals have no identity policies: only the resource policy speaks.
            return match self.first_strong_resource_allow {
                Some(position) => allow(decision, Some(position), None),
                None => deny(decision, Missing::ResourceAllow),
            };
        }

        // The root user holds every permission of its own account implicitly.
        let identity_allows = self.first_identity_allow.is_some() || caller.is_root;
        let same_account = input
            .resource_account
            .is_none_or(|owner| owner == caller.account);

        if same_account && input.resource_policy_is_authoritative {
            if let Some(position) = self.first_strong_resource_allow {
                return allow(decision, Some(position), None);
            }
            return match self.first_account_resource_allow {
                Some(delegation) if identity_allows => allow(
                    decision,
                    self.first_identity_allow.or(Some(delegation)),
                    Some(delegation),
                )
                .with_root_flag(caller),
                Some(_) => deny(decision, Missing::IdentityAllow),
                None => deny(decision, Missing::ResourceAllow),
            };
        }

        if same_account {
            if caller.is_root {
                let mut decision = allow(decision, None, None);
                decision.allowed_as_root = true;
                return decision;
            }
            if let Some(position) = self.first_identity_allow {
                return allow(decision, Some(position), None);
            }
            // A same-account resource policy grants on its own only when it names the caller
            // (or everyone); naming the account only hands the decision to IAM.
            return match self.first_strong_resource_allow {
                Some(position) => allow(decision, Some(position), None),
                None => deny(decision, Missing::IdentityAllow),
            };
        }

        // Cross-account: the caller's account and the resource's account must both allow.
        let resource_allow = self
            .first_strong_resource_allow
            .or(self.first_account_resource_allow);
        match (identity_allows, resource_allow) {
            (true, Some(resource_position)) => match self.first_identity_allow {
                Some(identity_position) => {
                    allow(decision, Some(identity_position), Some(resource_position))
                }
                None => allow(decision, Some(resource_position), None).with_root_flag(caller),
            },
            (false, Some(_)) => deny(decision, Missing::IdentityAllow),
            (true, None) => deny(decision, Missing::ResourceAllow),
            (false, None) => deny(decision, Missing::Both),
        }
    }
}

impl Decision {
    fn with_root_flag(mut self, caller: &PrincipalInfo) -> Decision {
        self.allowed_as_root = caller.is_root;
        self
    }
}

fn applied_note(effect: Effect, via: Option<PrincipalMatch>) -> &'static str {
    match (effect, via) {
        (Effect::Deny, _) => "denies",
        (Effect::Allow, Some(PrincipalMatch::Account)) => {
            "allows the caller's account: delegates to the account's identity-based policies"
        }
        (Effect::Allow, Some(PrincipalMatch::Service)) => "allows the calling service",
        (Effect::Allow, Some(PrincipalMatch::Anyone)) => "allows any principal",
        (Effect::Allow, _) => "allows",
    }
}

/// Near misses are recorded only for `Allow` statements: they explain why something was not
/// allowed, while a guard-rail `Deny` whose condition does not hold is the normal case and would
/// only bury the explanation (and cost time on every request).
fn match_statement(
    statement: &Statement,
    source: PolicySource,
    context: &RequestContext,
) -> StatementMatch {
    if !statement.action.covers(context.action_lowered()) {
        return StatementMatch::NotApplicable;
    }
    if !resource_block_matches(statement.resource.as_ref(), context) {
        return StatementMatch::NotApplicable;
    }
    let explains_denials = statement.effect == Effect::Allow;
    let via = match source {
        PolicySource::Identity => None,
        PolicySource::Resource => {
            match principal_match(statement.principal.as_ref(), context.principal()) {
                Some(via) => Some(via),
                None if explains_denials => {
                    return StatementMatch::NearMiss {
                        note: "principal does not match the caller".to_string(),
                        via: None,
                    }
                }
                None => return StatementMatch::NotApplicable,
            }
        }
    };
    for condition in &statement.conditions {
        if !condition.holds(context) {
            if !explains_denials {
                return StatementMatch::NotApplicable;
            }
            return StatementMatch::NearMiss {
                note: format!("condition {} not satisfied", condition.describe()),
                via,
            };
        }
    }
    StatementMatch::Applies { via }
}

/// A statement without a resource block (only resource-based policies have those) applies to
/// the resource its policy is attached to.
fn resource_block_matches(block: Option<&ResourceBlock>, context: &RequestContext) -> bool {
    match block {
        None => true,
        Some(ResourceBlock::Resource(patterns)) => patterns
            .iter()
            .any(|p| resource_pattern_matches(p, context)),
        Some(ResourceBlock::NotResource(patterns)) => !patterns
            .iter()
            .any(|p| resource_pattern_matches(p, context)),
    }
}

fn resource_pattern_matches(pattern: &ResourcePattern, context: &RequestContext) -> bool {
    if pattern.has_variables() {
        // An unresolvable variable makes this entry match nothing.
        return substitute(pattern.as_str(), context).is_some_and(|substituted| {
            arn_match_masked(
                substituted.text.as_bytes(),
                Some(&substituted.literal),
                context.resource().as_bytes(),
            )
        });
    }
    arn_with_shape(pattern.shape(), pattern.as_str(), context.resource())
}

/// How a `Principal`/`NotPrincipal` block matches the caller, if it does.
fn principal_match(
    block: Option<&PrincipalBlock>,
    caller: &PrincipalInfo,
) -> Option<PrincipalMatch> {
    match block? {
        PrincipalBlock::Principal(set) => best_match(set, caller),
        PrincipalBlock::NotPrincipal(set) => {
            (!excludes(set, caller)).then_some(PrincipalMatch::Anyone)
        }
    }
}

/// The strongest way `set` names the caller: Direct, then Service, then Anyone, then Account
/// (only the first three grant on their own in an authoritative policy).
fn best_match(set: &PrincipalSet, caller: &PrincipalInfo) -> Option<PrincipalMatch> {
    if let Some(service) = &caller.service {
        if set.services.iter().any(|s| s.eq_ignore_ascii_case(service)) {
            return Some(PrincipalMatch::Service);
        }
        return set.everyone.then_some(PrincipalMatch::Anyone);
    }
    let mut account_match = false;
    for entry in &set.aws {
        match entry {
            AwsPrincipal::Arn(arn) if caller.arns.iter().any(|own| own == arn) => {
                return Some(PrincipalMatch::Direct)
            }
            AwsPrincipal::Account(account)
                if !caller.account.is_empty() && *account == caller.account =>
            {
                // The root user is its account principal.
                if caller.is_root {
                    return Some(PrincipalMatch::Direct);
                }
                account_match = true;
            }
            _ => {}
        }
    }
    if set.everyone {
        Some(PrincipalMatch::Anyone)
    } else if account_match {
        Some(PrincipalMatch::Account)
    } else {
        None
    }
}

/// `NotPrincipal` excludes the caller only when it lists every identity the caller has: its
/// ARNs (for a role session both the session and the role ARN) and its account. AWS documents
/// that a `Deny` with `NotPrincipal` naming only a user, without the user's account, denies
/// that user too.
fn excludes(set: &PrincipalSet, caller: &PrincipalInfo) -> bool {
    if set.everyone {
        return true;
    }
    if let Some(service) = &caller.service {
        return set.services.iter().any(|s| s.eq_ignore_ascii_case(service));
    }
    let lists_account = |account: &str| {
        set.aws
            .iter()
            .any(|e| matches!(e, AwsPrincipal::Account(a) if a == account))
    };
    let lists_arn = |arn: &str| {
        set.aws
            .iter()
            .any(|e| matches!(e, AwsPrincipal::Arn(a) if a == arn))
            || account_of_root_arn(arn).is_some_and(lists_account)
    };
    if caller.arns.is_empty() && caller.account.is_empty() {
        return false;
    }
    caller.arns.iter().all(|arn| lists_arn(arn))
        && (caller.account.is_empty() || lists_account(&caller.account))
}
