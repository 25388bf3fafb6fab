//! What the applicable statements of each layer said: the trace, and per layer the first
//! `Deny` and the first `Allow` (for resource policies, by how they named the caller). Nothing
//! here allocates for a layer that is absent.

use std::borrow::Cow;

use crate::context::RequestContext;
use crate::model::{Effect, NamedPolicy};
use crate::trace::{PolicySource, PrincipalMatch, TraceEntry};

use super::statement::{applied_note, match_statement, StatementMatch};
use super::PolicyLevel;

pub(super) struct Scan {
    pub(super) trace: Vec<TraceEntry>,
    /// For the `NotPrincipal` rule: a `Deny` with `NotPrincipal` always applies to a caller with
    /// a permissions boundary.
    caller_has_boundary: bool,
    /// Position in `trace` of the first applicable `Deny`, per layer ([`PolicySource::index`]).
    pub(super) denies: [Option<usize>; PolicySource::COUNT],
    pub(super) identity_allow: Option<usize>,
    pub(super) boundary_allow: Option<usize>,
    pub(super) session_allow: Option<usize>,
    pub(super) vpc_endpoint_allow: Option<usize>,
    /// A resource-policy allow naming the signing principal itself, a service, or everyone.
    pub(super) principal_grant: Option<usize>,
    /// A resource-policy allow naming the role behind the caller's session.
    pub(super) entity_grant: Option<usize>,
    /// A resource-policy allow naming only the caller's account (a delegation to IAM).
    pub(super) account_grant: Option<usize>,
    /// The first SCP level (0 = the root) where nothing allowed.
    pub(super) service_control_gap: Option<usize>,
    /// The first RCP level (0 = the root) where nothing allowed.
    pub(super) resource_control_gap: Option<usize>,
}

impl Scan {
    pub(super) fn new(caller_has_boundary: bool) -> Scan {
        Scan {
            trace: Vec::new(),
            caller_has_boundary,
            denies: [None; PolicySource::COUNT],
            identity_allow: None,
            boundary_allow: None,
            session_allow: None,
            vpc_endpoint_allow: None,
            principal_grant: None,
            entity_grant: None,
            account_grant: None,
            service_control_gap: None,
            resource_control_gap: None,
        }
    }

    /// Every level must allow; the first that does not is remembered. Its policies are still
    /// scanned, for their denies and the trace.
    pub(super) fn levels(
        &mut self,
        levels: &[PolicyLevel<'_>],
        source: PolicySource,
        context: &RequestContext,
    ) {
        for (index, level) in levels.iter().enumerate() {
            let mut allowed = false;
            for policy in level.policies {
                allowed |= self.policy(policy, source, context);
            }
            if !allowed {
                let gap = match source {
                    PolicySource::ServiceControl => &mut self.service_control_gap,
                    _ => &mut self.resource_control_gap,
                };
                gap.get_or_insert(index);
            }
        }
    }

    /// Records the applicable statements of one policy; returns whether one of them allowed.
    pub(super) fn policy(
        &mut self,
        named: &NamedPolicy,
        source: PolicySource,
        context: &RequestContext,
    ) -> bool {
        let mut allowed = false;
        for (index, statement) in named.policy.statements.iter().enumerate() {
            let (applied, via, note) =
                match match_statement(statement, source, context, self.caller_has_boundary) {
                    StatementMatch::NotApplicable => continue,
                    StatementMatch::NearMiss { note, via } => (false, via, note),
                    StatementMatch::Applies { via } => (
                        true,
                        via,
                        Cow::Borrowed(applied_note(statement.effect, via)),
                    ),
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
            if statement.effect == Effect::Deny {
                self.denies[source.index()].get_or_insert(position);
                continue;
            }
            allowed = true;
            let first_allow = match source {
                PolicySource::Identity => &mut self.identity_allow,
                PolicySource::PermissionsBoundary => &mut self.boundary_allow,
                PolicySource::Session => &mut self.session_allow,
                PolicySource::VpcEndpoint => &mut self.vpc_endpoint_allow,
                PolicySource::Resource => match via {
                    Some(PrincipalMatch::Account) => &mut self.account_grant,
                    Some(PrincipalMatch::Entity) => &mut self.entity_grant,
                    _ => &mut self.principal_grant,
                },
                // Organization levels are tracked per level by `levels`.
                PolicySource::ServiceControl | PolicySource::ResourceControl => continue,
            };
            first_allow.get_or_insert(position);
        }
        allowed
    }
}
