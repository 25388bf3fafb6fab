//! Whether one statement applies to a request: action, resource, principal, conditions.

use std::borrow::Cow;

use crate::context::RequestContext;
use crate::matching::{arn_match_masked, arn_with_shape};
use crate::model::{Effect, ResourceBlock, ResourcePattern, Statement};
use crate::trace::{PolicySource, PrincipalMatch};
use crate::variables::substitute;

use super::principals::principal_match;

pub(super) enum StatementMatch {
    NotApplicable,
    /// Action and resource matched, but the principal or a condition did not.
    NearMiss {
        note: Cow<'static, str>,
        via: Option<PrincipalMatch>,
    },
    Applies {
        via: Option<PrincipalMatch>,
    },
}

/// Near misses are recorded only for `Allow` statements: they explain why something was not
/// allowed, while a guard-rail `Deny` whose condition does not hold is the normal case and would
/// only bury the explanation (and cost time on every request).
pub(super) fn match_statement(
    statement: &Statement,
    source: PolicySource,
    context: &RequestContext,
    caller_has_boundary: bool,
) -> StatementMatch {
    if !statement.action.covers(context.action_lowered()) {
        return StatementMatch::NotApplicable;
    }
    if !resource_block_matches(statement.resource.as_ref(), context) {
        return StatementMatch::NotApplicable;
    }
    let explains_denials = statement.effect == Effect::Allow;
    let via = if source.names_principals() {
        match principal_match(
            statement.principal.as_ref(),
            statement.effect,
            context.principal(),
            caller_has_boundary,
        ) {
            Some(via) => Some(via),
            None if explains_denials => {
                return StatementMatch::NearMiss {
                    note: Cow::Borrowed("principal does not match the caller"),
                    via: None,
                }
            }
            None => return StatementMatch::NotApplicable,
        }
    } else {
        None
    };
    for condition in &statement.conditions {
        if !condition.holds(context) {
            if !explains_denials {
                return StatementMatch::NotApplicable;
            }
            return StatementMatch::NearMiss {
                note: Cow::Owned(format!("condition {} not satisfied", condition.describe())),
                via,
            };
        }
    }
    StatementMatch::Applies { via }
}

pub(super) fn applied_note(effect: Effect, via: Option<PrincipalMatch>) -> &'static str {
    match (effect, via) {
        (Effect::Deny, _) => "denies",
        (Effect::Allow, Some(PrincipalMatch::Account)) => {
            "allows the caller's account: delegates to the account's identity-based policies"
        }
        (Effect::Allow, Some(PrincipalMatch::Entity)) => {
            "allows the caller's role: within its permissions boundary and session policies"
        }
        (Effect::Allow, Some(PrincipalMatch::Service)) => "allows the calling service",
        (Effect::Allow, Some(PrincipalMatch::Anyone)) => "allows any principal",
        (Effect::Allow, _) => "allows",
    }
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
