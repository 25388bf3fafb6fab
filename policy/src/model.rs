//! The parsed form of a policy document.
//!
//! Everything that evaluation would otherwise recompute per request (lower-cased actions,
//! pattern shapes, whether a resource holds policy variables, typed condition values) is
//! computed once here, at parse time.

use crate::condition::Condition;
use crate::matching::PatternShape;

/// The only policy-language version with policy variables.
pub const VERSION_2012_10_17: &str = "2012-10-17";
/// The legacy policy-language version; variables are literal text in it.
pub const VERSION_2008_10_17: &str = "2008-10-17";

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub version: Option<String>,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    /// `Principal` or `NotPrincipal`; only resource-based policies have one.
    pub principal: Option<PrincipalBlock>,
    /// `Action` or `NotAction`.
    pub action: ActionBlock,
    /// `Resource` or `NotResource`; `None` only in resource-based policies, where the statement
    /// then applies to the resource the policy is attached to.
    pub resource: Option<ResourceBlock>,
    /// Every condition of the statement; all must hold (one entry per operator and key).
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

impl std::fmt::Display for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which grammar a document follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Attached to a user, group or role: `Principal` forbidden, `Resource` required.
    Identity,
    /// Attached to a resource (bucket policy, key policy, role trust policy): `Principal`
    /// required, `Resource` optional. Use [`Policy::parse_trust_policy`] for trust policies,
    /// which additionally forbid `Resource`.
    Resource,
}

/// `Action` or `NotAction`.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionBlock {
    Action(Vec<ActionPattern>),
    NotAction(Vec<ActionPattern>),
}

impl ActionBlock {
    pub fn patterns(&self) -> &[ActionPattern] {
        match self {
            ActionBlock::Action(p) | ActionBlock::NotAction(p) => p,
        }
    }

    /// Whether the block covers `lowered_action` (already lower-cased).
    pub(crate) fn covers(&self, lowered_action: &str) -> bool {
        match self {
            ActionBlock::Action(patterns) => {
                patterns.iter().any(|p| p.matches_lowered(lowered_action))
            }
            ActionBlock::NotAction(patterns) => {
                !patterns.iter().any(|p| p.matches_lowered(lowered_action))
            }
        }
    }
}

/// One entry of `Action`/`NotAction`, e.g. `kms:ReEncrypt*`. Matching is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionPattern {
    raw: String,
    lowered: String,
    shape: PatternShape,
}

impl ActionPattern {
    pub fn new(raw: &str) -> ActionPattern {
        let lowered = raw.to_lowercase();
        let shape = PatternShape::of_glob(&lowered);
        ActionPattern {
            raw: raw.to_string(),
            lowered,
            shape,
        }
    }

    /// The pattern as written in the document.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Case-insensitive match against an action such as `iam:CreateUser`.
    pub fn matches(&self, action: &str) -> bool {
        self.matches_lowered(&action.to_lowercase())
    }

    pub(crate) fn matches_lowered(&self, lowered_action: &str) -> bool {
        crate::matching::glob_with_shape(self.shape, &self.lowered, lowered_action)
    }
}

/// `Resource` or `NotResource`.
#[derive(Debug, Clone, PartialEq)]
pub enum ResourceBlock {
    Resource(Vec<ResourcePattern>),
    NotResource(Vec<ResourcePattern>),
}

impl ResourceBlock {
    pub fn patterns(&self) -> &[ResourcePattern] {
        match self {
            ResourceBlock::Resource(p) | ResourceBlock::NotResource(p) => p,
        }
    }
}

/// One entry of `Resource`/`NotResource`: an ARN pattern, case-sensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePattern {
    raw: String,
    shape: PatternShape,
    /// Policy variables are substituted only in 2012-10-17 documents; elsewhere `${...}` is text.
    has_variables: bool,
}

impl ResourcePattern {
    /// `variables_enabled` is true for documents with `"Version": "2012-10-17"`.
    pub fn new(raw: &str, variables_enabled: bool) -> ResourcePattern {
        ResourcePattern {
            raw: raw.to_string(),
            shape: PatternShape::of_arn(raw),
            has_variables: variables_enabled && raw.contains("${"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn has_variables(&self) -> bool {
        self.has_variables
    }

    pub(crate) fn shape(&self) -> PatternShape {
        self.shape
    }
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalBlock {
    Principal(PrincipalSet),
    NotPrincipal(PrincipalSet),
}

/// The principals one `Principal`/`NotPrincipal` element names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrincipalSet {
    /// `"Principal": "*"` or `{"AWS": "*"}`.
    pub everyone: bool,
    /// `AWS` entries other than `*`.
    pub aws: Vec<AwsPrincipal>,
    /// `Service` entries, e.g. `ec2.amazonaws.com`.
    pub services: Vec<String>,
    /// `Federated` entries; kept for completeness, never matched by the emulator's callers.
    pub federated: Vec<String>,
    /// `CanonicalUser` entries; kept for completeness, never matched.
    pub canonical_users: Vec<String>,
}

/// One `AWS` principal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsPrincipal {
    /// A 12-digit account ID or `arn:<partition>:iam::<account>:root`: the whole account, which
    /// in a resource policy delegates to the account's own IAM policies.
    Account(String),
    /// Any other ARN, compared literally: AWS does not support wildcards in principal ARNs.
    Arn(String),
}

impl AwsPrincipal {
    /// Classifies one `AWS` principal value as written in a document.
    pub fn from_value(value: &str) -> AwsPrincipal {
        if is_account_id(value) {
            return AwsPrincipal::Account(value.to_string());
        }
        if let Some(account) = account_of_root_arn(value) {
            return AwsPrincipal::Account(account.to_string());
        }
        AwsPrincipal::Arn(value.to_string())
    }
}

pub(crate) fn is_account_id(value: &str) -> bool {
    value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit())
}

/// `arn:aws:iam::123456789012:root` → `123456789012` (any partition).
pub(crate) fn account_of_root_arn(value: &str) -> Option<&str> {
    let mut parts = value.splitn(6, ':');
    let (arn, _partition, service, region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    (arn == "arn"
        && service == "iam"
        && region.is_empty()
        && resource == "root"
        && is_account_id(account))
    .then_some(account)
}

/// A policy with a name that traces and explanations use, e.g. a policy ARN,
/// `inline:UserName/PolicyName` or `key-policy`.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedPolicy {
    pub name: String,
    pub policy: Policy,
}

impl NamedPolicy {
    pub fn new(name: impl Into<String>, policy: Policy) -> NamedPolicy {
        NamedPolicy {
            name: name.into(),
            policy,
        }
    }
}

impl Policy {
    /// Whether policy variables are live in this document (only in the 2012-10-17 language).
    pub fn variables_enabled(&self) -> bool {
        self.version.as_deref() == Some(VERSION_2012_10_17)
    }

    /// CreatePolicy / CreatePolicyVersion refuse documents in the legacy language (or with no
    /// `Version`), unlike inline, bucket and key policies.
    pub fn require_current_version(&self) -> Result<(), crate::PolicyError> {
        if self.variables_enabled() {
            Ok(())
        } else {
            Err(crate::PolicyError::VersionTooOld {
                version: self.version.clone(),
            })
        }
    }
}

impl Statement {
    /// A statement with no principal, no resource block and no conditions; add the rest with
    /// the `with_*` methods. Handy for building policies in code and benchmarks.
    pub fn new(effect: Effect, action: ActionBlock) -> Statement {
        Statement {
            sid: None,
            effect,
            principal: None,
            action,
            resource: None,
            conditions: Vec::new(),
        }
    }

    pub fn with_sid(mut self, sid: impl Into<String>) -> Statement {
        self.sid = Some(sid.into());
        self
    }

    pub fn with_resource(mut self, resource: ResourceBlock) -> Statement {
        self.resource = Some(resource);
        self
    }

    pub fn with_principal(mut self, principal: PrincipalBlock) -> Statement {
        self.principal = Some(principal);
        self
    }

    pub fn with_condition(mut self, condition: Condition) -> Statement {
        self.conditions.push(condition);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_principals_are_recognised_in_both_spellings() {
        assert_eq!(
            AwsPrincipal::from_value("111122223333"),
            AwsPrincipal::Account("111122223333".into())
        );
        assert_eq!(
            AwsPrincipal::from_value("arn:aws:iam::111122223333:root"),
            AwsPrincipal::Account("111122223333".into())
        );
        assert_eq!(
            AwsPrincipal::from_value("arn:aws:iam::111122223333:role/R"),
            AwsPrincipal::Arn("arn:aws:iam::111122223333:role/R".into())
        );
        assert_eq!(
            AwsPrincipal::from_value("11112222333"),
            AwsPrincipal::Arn("11112222333".into())
        );
    }

    #[test]
    fn actions_match_case_insensitively() {
        let pattern = ActionPattern::new("KMS:ReEncrypt*");
        assert!(pattern.matches("kms:ReEncryptFrom"));
        assert!(pattern.matches("KMS:REENCRYPTTO"));
        assert!(!pattern.matches("kms:Decrypt"));
    }
}
