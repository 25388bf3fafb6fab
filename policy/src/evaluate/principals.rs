//! How a statement's `Principal` or `NotPrincipal` names the caller.
//!
//! * `Principal`: the strongest way the block names the caller ([`PrincipalMatch`]): its own
//!   ARN (`Direct`; for the root user also its account), a service, everyone, the role behind
//!   its session (`Entity`), or only its account (`Account`).
//! * `NotPrincipal` with `Deny` (the only use AWS supports, IAM User Guide, "AWS JSON policy
//!   elements: NotPrincipal"): the caller escapes the deny only when the block lists every one
//!   of its identities, its account included ("When you use NotPrincipal, you must also specify
//!   the account ARN of the not-denied principal"); and a caller with a permissions boundary
//!   never escapes it ("The NotPrincipal element with a Deny effect will always deny any IAM
//!   principal that has a permissions boundary policy attached, regardless of the values
//!   specified in the NotPrincipal element").
//! * `NotPrincipal` with `Allow`: "Using it with "Effect":"Allow" is not supported" (same page).
//!   IAM stores such statements, so wana accepts them, but they never grant anything to a
//!   principal they name by any of its identities (its ARN, its role's ARN, its account, a
//!   service, or `*`); anyone else matches as [`PrincipalMatch::Anyone`].

use crate::context::PrincipalInfo;
use crate::model::{account_of_root_arn, AwsPrincipal, Effect, PrincipalBlock, PrincipalSet};
use crate::trace::PrincipalMatch;

/// How a `Principal`/`NotPrincipal` block of a statement with `effect` matches the caller.
pub(super) fn principal_match(
    block: Option<&PrincipalBlock>,
    effect: Effect,
    caller: &PrincipalInfo,
    caller_has_boundary: bool,
) -> Option<PrincipalMatch> {
    match block? {
        PrincipalBlock::Principal(set) => best_match(set, caller),
        PrincipalBlock::NotPrincipal(set) => {
            let applies = match effect {
                Effect::Deny => caller_has_boundary || !lists_every_identity(set, caller),
                Effect::Allow => !names_any_identity(set, caller),
            };
            applies.then_some(PrincipalMatch::Anyone)
        }
    }
}

/// The strongest way `set` names the caller: Direct, then Service, then Anyone, then Entity,
/// then Account.
fn best_match(set: &PrincipalSet, caller: &PrincipalInfo) -> Option<PrincipalMatch> {
    if let Some(service) = &caller.service {
        if set.services.iter().any(|s| s.eq_ignore_ascii_case(service)) {
            return Some(PrincipalMatch::Service);
        }
        return set.everyone.then_some(PrincipalMatch::Anyone);
    }
    let mut entity_match = false;
    let mut account_match = false;
    for entry in &set.aws {
        match entry {
            AwsPrincipal::Arn(arn) => match caller.arns.iter().position(|own| own == arn) {
                Some(0) => return Some(PrincipalMatch::Direct),
                Some(_) => entity_match = true,
                None => {}
            },
            AwsPrincipal::Account(account)
                if !caller.account.is_empty() && *account == caller.account =>
            {
                // The root user is its account principal.
                if caller.is_root {
                    return Some(PrincipalMatch::Direct);
                }
                account_match = true;
            }
            AwsPrincipal::Account(_) => {}
        }
    }
    if set.everyone {
        Some(PrincipalMatch::Anyone)
    } else if entity_match {
        Some(PrincipalMatch::Entity)
    } else if account_match {
        Some(PrincipalMatch::Account)
    } else {
        None
    }
}

fn lists_account(set: &PrincipalSet, account: &str) -> bool {
    set.aws
        .iter()
        .any(|e| matches!(e, AwsPrincipal::Account(a) if a == account))
}

fn lists_arn(set: &PrincipalSet, arn: &str) -> bool {
    set.aws
        .iter()
        .any(|e| matches!(e, AwsPrincipal::Arn(a) if a == arn))
        || account_of_root_arn(arn).is_some_and(|account| lists_account(set, account))
}

/// `NotPrincipal` in a `Deny` excludes the caller only when it lists every identity the caller
/// has: its ARNs (for a role session both the session and the role ARN) and its account.
fn lists_every_identity(set: &PrincipalSet, caller: &PrincipalInfo) -> bool {
    if set.everyone {
        return true;
    }
    if let Some(service) = &caller.service {
        return set.services.iter().any(|s| s.eq_ignore_ascii_case(service));
    }
    if caller.arns.is_empty() && caller.account.is_empty() {
        return false;
    }
    caller.arns.iter().all(|arn| lists_arn(set, arn))
        && (caller.account.is_empty() || lists_account(set, &caller.account))
}

/// `NotPrincipal` in an `Allow` never grants to a caller it names in any way.
fn names_any_identity(set: &PrincipalSet, caller: &PrincipalInfo) -> bool {
    if set.everyone {
        return true;
    }
    if let Some(service) = &caller.service {
        return set.services.iter().any(|s| s.eq_ignore_ascii_case(service));
    }
    caller.arns.iter().any(|arn| lists_arn(set, arn))
        || (!caller.account.is_empty() && lists_account(set, &caller.account))
}
