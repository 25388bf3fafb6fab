//! The result of an evaluation and the account of how it was reached. AWS's wording of a
//! denial and the one-line explanation are rendered in `reason.rs`.

use std::borrow::Cow;

use crate::model::Effect;

/// Which kind of policy a statement came from: the layers of AWS's evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicySource {
    /// Policies attached to the user or role (and the user's groups).
    Identity,
    /// The resource's own policy (bucket policy, key policy, role trust policy).
    Resource,
    /// The user's or role's permissions boundary.
    PermissionsBoundary,
    /// Session policies passed to `AssumeRole` (`Policy` and `PolicyArns`).
    Session,
    /// An AWS Organizations service control policy of the caller's account.
    ServiceControl,
    /// An AWS Organizations resource control policy of the resource's account.
    ResourceControl,
    /// The policy of the VPC endpoint the request came through.
    VpcEndpoint,
}

impl PolicySource {
    pub(crate) const COUNT: usize = 7;

    pub(crate) fn index(self) -> usize {
        match self {
            PolicySource::Identity => 0,
            PolicySource::Resource => 1,
            PolicySource::PermissionsBoundary => 2,
            PolicySource::Session => 3,
            PolicySource::ServiceControl => 4,
            PolicySource::ResourceControl => 5,
            PolicySource::VpcEndpoint => 6,
        }
    }

    /// The policy type as AWS's AccessDenied messages name it: `identity-based policy`,
    /// `service control policy`, `permissions boundary`, ...
    pub fn aws_name(self) -> &'static str {
        match self {
            PolicySource::Identity => "identity-based policy",
            PolicySource::Resource => "resource-based policy",
            PolicySource::PermissionsBoundary => "permissions boundary",
            PolicySource::Session => "session policy",
            PolicySource::ServiceControl => "service control policy",
            PolicySource::ResourceControl => "resource control policy",
            PolicySource::VpcEndpoint => "VPC endpoint policy",
        }
    }

    /// [`PolicySource::aws_name`] with its article: `an identity-based policy`.
    pub fn aws_name_with_article(self) -> &'static str {
        match self {
            PolicySource::Identity => "an identity-based policy",
            PolicySource::Resource => "a resource-based policy",
            PolicySource::PermissionsBoundary => "a permissions boundary",
            PolicySource::Session => "a session policy",
            PolicySource::ServiceControl => "a service control policy",
            PolicySource::ResourceControl => "a resource control policy",
            PolicySource::VpcEndpoint => "a VPC endpoint policy",
        }
    }

    /// Whether statements of this kind name principals (`Principal`/`NotPrincipal`).
    pub(crate) fn names_principals(self) -> bool {
        matches!(
            self,
            PolicySource::Resource | PolicySource::ResourceControl | PolicySource::VpcEndpoint
        )
    }
}

/// What would have been needed for an implicit deny to become an allow: the layer whose allow
/// was missing. Drives AWS's "because no `<policy type>` allows the X action" wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Missing {
    IdentityAllow,
    ResourceAllow,
    /// Cross-account: neither side allowed (AWS then names the identity-based side).
    Both,
    /// The identity-based policies allowed, the permissions boundary did not.
    BoundaryAllow,
    /// The identity-based policies (and boundary) allowed, no session policy did.
    SessionAllow,
    /// No SCP attached at `level` of the caller's account's path (0 = the root) allows.
    ServiceControlAllow { level: usize },
    /// No RCP attached at `level` of the resource's account's path (0 = the root) allows.
    ResourceControlAllow { level: usize },
    /// The VPC endpoint policy does not allow.
    VpcEndpointAllow,
}

impl Missing {
    /// The layer whose allow was missing.
    pub fn layer(self) -> PolicySource {
        match self {
            Missing::IdentityAllow | Missing::Both => PolicySource::Identity,
            Missing::ResourceAllow => PolicySource::Resource,
            Missing::BoundaryAllow => PolicySource::PermissionsBoundary,
            Missing::SessionAllow => PolicySource::Session,
            Missing::ServiceControlAllow { .. } => PolicySource::ServiceControl,
            Missing::ResourceControlAllow { .. } => PolicySource::ResourceControl,
            Missing::VpcEndpointAllow => PolicySource::VpcEndpoint,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Allow,
    /// An applicable `Deny` in a policy of the `by` layer.
    ExplicitDeny { by: PolicySource },
    ImplicitDeny { missing: Missing },
}

/// How a resource-based statement's `Principal` matched the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalMatch {
    /// The ARN of the principal that signed the request: the user, the role session, or the
    /// root user itself ([`crate::PrincipalInfo::arns`]`[0]`). Within the same account such a
    /// grant is not limited by an implicit deny in identity-based policies, a permissions
    /// boundary or session policies.
    Direct,
    /// The IAM role behind the caller's role session (a later entry of
    /// [`crate::PrincipalInfo::arns`]). It grants without an identity-based allow, but within
    /// the role's permissions boundary and the session's policies.
    Entity,
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
    pub note: Cow<'static, str>,
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
    /// For [`Missing::ServiceControlAllow`] and [`Missing::ResourceControlAllow`]: the target
    /// (root, OU or account) at whose level no policy allowed.
    pub missing_at: Option<String>,
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

    /// The layer that decided: the explicit deny's, the layer whose allow was missing, or the
    /// layer of the statement that granted access (`None` for the root user's implicit
    /// permissions).
    pub fn deciding_layer(&self) -> Option<PolicySource> {
        match self.outcome {
            Outcome::ExplicitDeny { by } => Some(by),
            Outcome::ImplicitDeny { missing } => Some(missing.layer()),
            Outcome::Allow => self.deciding_statement().map(|entry| entry.source),
        }
    }
}
