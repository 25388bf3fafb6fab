//! The result of an evaluation and the account of how it was reached.

use crate::model::Effect;

/// Which kind of policy a statement came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicySource {
    Identity,
    Resource,
}

/// What would have been needed for an implicit deny to become an allow; drives AWS's
/// "because no identity-based policy allows the X action" / "because no resource-based policy
/// allows the X action" wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Missing {
    IdentityAllow,
    ResourceAllow,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Allow,
    ExplicitDeny { by: PolicySource },
    ImplicitDeny { missing: Missing },
}

/// How a resource-based statement's `Principal` matched the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalMatch {
    /// The caller's own ARN (user, role, role session, or the root user itself).
    Direct,
    /// The caller's account (`"AWS": "123456789012"` or `arn:aws:iam::123456789012:root`):
    /// only a delegation to the account's IAM policies.
    Account,
    /// The calling AWS service principal.
    Service,
    /// `"*"`, `{"AWS": "*"}` or a `NotPrincipal` that does not exclude the caller.
    Anyone,
}

/// One statement that took part in the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEntry {
    /// [`crate::NamedPolicy::name`] of the policy holding the statement.
    pub policy: String,
    pub sid: Option<String>,
    /// Position of the statement in its policy, from 0.
    pub index: usize,
    pub effect: Effect,
    /// For resource-based statements: how the principal matched.
    pub matched_via: Option<PrincipalMatch>,
    pub note: String,
    pub source: PolicySource,
    /// False for a near miss: an `Allow` whose action and resource matched but whose principal
    /// or a condition did not. Near misses never decide anything; they explain denials.
    pub applied: bool,
}

impl TraceEntry {
    /// `key-policy statement 'AllowUseViaEC2' (#1)` / `arn:...:policy/P statement #0`.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(sid) if !sid.is_empty() => {
                format!("{} statement '{}' (#{})", self.policy, sid, self.index)
            }
            _ => format!("{} statement #{}", self.policy, self.index),
        }
    }
}

/// The answer to one authorization question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    /// Applied statements and near misses, in evaluation order (identity policies first).
    pub trace: Vec<TraceEntry>,
    /// The action as the request named it.
    pub action: String,
    /// Index into `trace` of the statement that decided: the explicit Deny, or the Allow that
    /// granted access. `None` for implicit denies and for the root user's implicit permissions.
    pub deciding: Option<usize>,
    /// Index into `trace` of a second Allow that was also required: the resource-policy half of
    /// a cross-account allow, or the account delegation behind an identity allow on a KMS key.
    pub supporting: Option<usize>,
    /// Set when access came from the root user's implicit permissions over its own account.
    pub allowed_as_root: bool,
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allow
    }

    /// The statement that decided (see [`Decision::deciding`]).
    pub fn deciding_statement(&self) -> Option<&TraceEntry> {
        self.deciding.and_then(|i| self.trace.get(i))
    }

    /// The second statement an allow also needed (see [`Decision::supporting`]).
    pub fn supporting_statement(&self) -> Option<&TraceEntry> {
        self.supporting.and_then(|i| self.trace.get(i))
    }

    /// Statements that nearly applied (a condition or the principal did not match).
    pub fn near_misses(&self) -> impl Iterator<Item = &TraceEntry> {
        self.trace.iter().filter(|e| !e.applied)
    }

    /// AWS's tail of an AccessDenied message, e.g. `because no identity-based policy allows the
    /// iam:CreateUser action` or `with an explicit deny in a resource-based policy`; `None` when
    /// allowed.
    pub fn aws_reason(&self) -> Option<String> {
        match self.outcome {
            Outcome::Allow => None,
            Outcome::ExplicitDeny {
                by: PolicySource::Identity,
            } => Some("with an explicit deny in an identity-based policy".to_string()),
            Outcome::ExplicitDeny {
                by: PolicySource::Resource,
            } => Some("with an explicit deny in a resource-based policy".to_string()),
            Outcome::ImplicitDeny {
                missing: Missing::ResourceAllow,
            } => Some(format!(
                "because no resource-based policy allows the {} action",
                self.action
            )),
            Outcome::ImplicitDeny {
                missing: Missing::IdentityAllow | Missing::Both,
            } => Some(format!(
                "because no identity-based policy allows the {} action",
                self.action
            )),
        }
    }

    /// One readable line, e.g. `allowed by key-policy statement 'AllowUseViaEC2' (#1)` or
    /// `no statement allowed kms:CreateGrant; denied implicitly: no resource-based policy allows
    /// it`.
    pub fn explain(&self) -> String {
        match self.outcome {
            Outcome::Allow => {
                if self.allowed_as_root && self.deciding.is_none() {
                    return format!(
                        "allowed: {} by the root user of the owning account",
                        self.action
                    );
                }
                let mut line = match self.deciding_statement() {
                    Some(entry) => format!("allowed by {}", entry.label()),
                    None => format!("allowed: {}", self.action),
                };
                if let Some(support) = self.supporting_statement() {
                    line.push_str(" together with ");
                    line.push_str(&support.label());
                }
                line
            }
            Outcome::ExplicitDeny { by } => {
                let kind = match by {
                    PolicySource::Identity => "identity-based",
                    PolicySource::Resource => "resource-based",
                };
                match self.deciding_statement() {
                    Some(entry) => {
                        format!("explicitly denied by {} ({kind} policy)", entry.label())
                    }
                    None => format!("explicitly denied by a {kind} policy"),
                }
            }
            Outcome::ImplicitDeny { missing } => {
                let applied_allows: Vec<String> = self
                    .trace
                    .iter()
                    .filter(|e| e.applied && e.effect == Effect::Allow)
                    .map(|e| match e.matched_via {
                        Some(PrincipalMatch::Account) => {
                            format!("{} (account delegation only)", e.label())
                        }
                        _ => e.label(),
                    })
                    .collect();
                let head = if applied_allows.is_empty() {
                    format!("no statement allowed {}", self.action)
                } else {
                    format!(
                        "{} was allowed only by {}",
                        self.action,
                        applied_allows.join(", ")
                    )
                };
                let why = match missing {
                    Missing::IdentityAllow => "no identity-based policy allows it",
                    Missing::ResourceAllow => "no resource-based policy allows it",
                    Missing::Both => {
                        "neither an identity-based nor a resource-based policy allows it"
                    }
                };
                let mut line = format!("{head}; denied implicitly: {why}");
                for miss in self.near_misses() {
                    line.push_str(&format!("; near miss: {}: {}", miss.label(), miss.note));
                }
                line
            }
        }
    }
}
