//! IAM state of one account: users, roles, instance profiles, customer managed policies, and
//! which policies apply to whom. Access keys live in the world's credential store
//! (`crate::state::World::access_keys`), because STS issues keys too and a key is looked up
//! before its account is known.
//!
//! The IAM model operations live here, apart from the wire: each method enforces IAM's quotas
//! and conflicts, and answers IAM's own error (code, status and message). The model's input
//! constraints (`ValidationError`) are wire validation: `crate::services::iam` checks them
//! before it calls in here, and otherwise only decodes requests, authorizes them and shapes the
//! output. Operations that need more than one account's IAM state (access keys, trust-policy
//! principals) are methods on [`World`] (in `keys`, `users` and `roles`).
//!
//! This file holds the entities, the quotas, ARNs and documents; the operations are split by
//! concern: `users`, `keys` (access keys), `roles`, `service_linked` (service-linked roles),
//! `instance_profiles`, `inline_policies`, `policies` (customer and AWS managed policies and
//! their versions), `attachments` (managed policies attached to users and roles), `boundaries`
//! (permissions boundaries of users and roles) and `tags`.
//!
//! # Error texts
//!
//! Confirmed as AWS's wording (quoted from real responses in public bug reports, CloudTrail
//! records and tool output): the `NoSuchEntity` texts for users, roles, instance profiles, user
//! and role policies, access keys, `Policy X was not found.` and `Policy X does not exist or is
//! not attachable.`; `EntityAlreadyExists` for users, roles and instance profiles; every
//! `DeleteConflict` text; `Cannot exceed quota for AccessKeysPerUser: 2`,
//! `InstanceSessionsPerInstanceProfile: 1`, `PoliciesPerRole: 10`, `ACLSizePerRole: 2048`,
//! `PolicySize: 6144`; `Maximum policy size of 10240 bytes exceeded for role X`; the five-version
//! limit text; `Invalid principal in policy: "AWS":"arn"`; the service-linked role name text;
//! `Cannot attach a Service Role Policy to a Customer Role.`; the protected-role text.
//!
//! Not confirmed (AWS's style, chosen by analogy): `A policy called X already exists. Duplicate
//! names are not allowed.` (from the brief), `Policy X version vN does not exist or is not
//! attachable.`, `Maximum policy size of 2048 bytes exceeded for user X`,
//! `Cannot exceed quota for PoliciesPerUser: 10`, the per-account entity quotas, the text for a
//! role that is not in the instance profile it is removed from, and the order in which
//! `DeleteRole` reports its conflicts.

mod aliases;
mod attachments;
mod boundaries;
pub mod errors;
mod inline_policies;
mod instance_profiles;
mod keys;
mod policies;
mod roles;
mod service_linked;
mod tags;
mod users;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use wana_policy::{NamedPolicy, Policy, PolicyKind};

pub use policies::{NewPolicy, PolicyRef, PolicyScope, VersionView};
pub use roles::NewRole;
pub use service_linked::{service_linked_role_arn, service_linked_role_name};

use super::{parse_document, World};
use crate::{error::AwsError, ids::IdGenerator};

/// A policy document as the client sent it, with its parsed form for evaluation.
#[derive(Debug, Clone)]
pub struct PolicyDocument {
    /// The text as received: IAM returns documents as they were written.
    pub text: String,
    pub parsed: NamedPolicy,
}

#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub path: String,
    pub id: String,
    pub arn: String,
    pub created: DateTime<Utc>,
    pub inline_policies: BTreeMap<String, PolicyDocument>,
    /// ARNs of attached managed policies (AWS managed or customer managed), in attach order.
    pub attached_policies: Vec<String>,
    /// The managed policy that bounds what the identity policies can grant (see `boundaries`).
    pub permissions_boundary: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub path: String,
    pub id: String,
    pub arn: String,
    pub created: DateTime<Utc>,
    pub description: Option<String>,
    pub max_session_duration: i64,
    pub trust_policy: PolicyDocument,
    pub inline_policies: BTreeMap<String, PolicyDocument>,
    pub attached_policies: Vec<String>,
    /// The managed policy that bounds what the identity policies can grant (see `boundaries`).
    pub permissions_boundary: Option<String>,
}

impl Role {
    /// Service-linked roles live under `/aws-service-role/` and only AWS may change them.
    pub fn is_service_linked(&self) -> bool {
        self.path.starts_with(SERVICE_LINKED_ROLE_PATH)
    }
}

#[derive(Debug, Clone)]
pub struct InstanceProfile {
    pub name: String,
    pub path: String,
    pub id: String,
    pub arn: String,
    pub created: DateTime<Utc>,
    /// At most one role: AWS's quota `InstanceSessionsPerInstanceProfile` is 1 and fixed.
    pub roles: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct PolicyVersion {
    pub version_id: String,
    pub document: PolicyDocument,
    pub created: DateTime<Utc>,
}

/// A customer managed policy.
#[derive(Debug, Clone)]
pub struct ManagedPolicy {
    pub name: String,
    pub path: String,
    pub id: String,
    pub arn: String,
    pub description: Option<String>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub default_version_id: String,
    pub versions: Vec<PolicyVersion>,
    /// The number of the next version: IAM never reuses a version id, even after deleting it.
    pub next_version: u32,
}

impl ManagedPolicy {
    pub fn default_version(&self) -> Option<&PolicyVersion> {
        self.versions.iter().find(|v| v.version_id == self.default_version_id)
    }
}

/// An IAM tag. Keys are unique per entity, compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Default, Clone)]
pub struct IamState {
    pub users: BTreeMap<String, User>,
    pub roles: BTreeMap<String, Role>,
    pub instance_profiles: BTreeMap<String, InstanceProfile>,
    /// Customer managed policies by ARN.
    pub policies: BTreeMap<String, ManagedPolicy>,
    /// Tags of users, roles, instance profiles and customer managed policies, by the entity's
    /// unique id (which, unlike a user's name, never changes).
    pub tags: BTreeMap<String, Vec<Tag>>,
    /// The account's alias (`ListAccountAliases`), unique across accounts.
    pub account_alias: Option<String>,
    /// Users' and roles' identity policies as they were before a change still propagating, by
    /// the entity's id (see `crate::state::propagation`).
    pub unpropagated: BTreeMap<String, PreviousPolicies>,
}

/// A user's or role's identity policies as they were before a change that has not propagated.
#[derive(Debug, Clone)]
pub struct PreviousPolicies {
    pub inline: BTreeMap<String, PolicyDocument>,
    pub attached: Vec<String>,
    /// When the change takes effect.
    pub until: DateTime<Utc>,
}

// ---------------------------------------------------------------------------------------------
// Quotas (IAM and STS quotas page; the names are those IAM puts in `LimitExceeded` messages).

/// `AccessKeysPerUser`.
pub const ACCESS_KEYS_PER_USER: usize = 2;
/// `InstanceSessionsPerInstanceProfile`: an instance profile holds at most one role.
pub const ROLES_PER_INSTANCE_PROFILE: usize = 1;
/// `PoliciesPerUser`: managed policies attached to one user.
pub const MANAGED_POLICIES_PER_USER: usize = 10;
/// `PoliciesPerRole`: managed policies attached to one role.
pub const MANAGED_POLICIES_PER_ROLE: usize = 10;
/// Versions a customer managed policy can keep.
pub const VERSIONS_PER_POLICY: usize = 5;
/// All inline policies of a user together, in non-whitespace characters.
pub const USER_INLINE_POLICY_SIZE: usize = 2048;
/// All inline policies of a role together, in non-whitespace characters.
pub const ROLE_INLINE_POLICY_SIZE: usize = 10240;
/// `PolicySize`: one managed policy document, in non-whitespace characters.
pub const MANAGED_POLICY_SIZE: usize = 6144;
/// `ACLSizePerRole`: a role trust policy, in non-whitespace characters.
pub const TRUST_POLICY_SIZE: usize = 2048;
/// `UsersPerAccount`.
pub const USERS_PER_ACCOUNT: usize = 5000;
/// `RolesPerAccount`.
pub const ROLES_PER_ACCOUNT: usize = 1000;
/// `InstanceProfilesPerAccount`.
pub const INSTANCE_PROFILES_PER_ACCOUNT: usize = 1000;
/// Tags per entity.
pub const TAGS_PER_ENTITY: usize = 50;

pub const DEFAULT_MAX_SESSION_DURATION: i64 = 3600;
pub const MIN_MAX_SESSION_DURATION: i64 = 3600;
pub const MAX_MAX_SESSION_DURATION: i64 = 43200;

/// Where service-linked roles live: `/aws-service-role/<service principal>/`.
pub const SERVICE_LINKED_ROLE_PATH: &str = "/aws-service-role/";

/// What IAM counts against its size quotas: the document without whitespace.
pub fn policy_size(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}

// ---------------------------------------------------------------------------------------------
// ARNs and documents.

pub fn user_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:user{path}{name}")
}

pub fn role_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role{path}{name}")
}

pub fn instance_profile_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:instance-profile{path}{name}")
}

pub fn policy_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:policy{path}{name}")
}

/// What IAM leaves unescaped in the policy documents it returns: letters, digits and `-_.*`.
/// IAM escapes the rest as UTF-8 `%XX` (spaces as `%20`, newlines as `%0A`), the form of
/// `java.net.URLEncoder` with `+` written as `%20`; botocore and the SDKs decode it.
const DOCUMENT_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'*');

/// A policy document as IAM returns it (`AssumeRolePolicyDocument`, `PolicyDocument`,
/// `Document`): the text as written, URL-encoded.
pub fn encode_document(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, DOCUMENT_ESCAPES).to_string()
}

/// Parses an inline (identity) policy.
pub fn parse_identity_document(text: &str, name: String) -> Result<PolicyDocument, AwsError> {
    parse_document(text, PolicyKind::Identity, name).map_err(|e| errors::malformed(&e))
}

/// Parses a managed policy document: an identity policy in the 2012-10-17 language, whose
/// missing or legacy `Version` is reported before any other fault, as IAM does.
pub fn parse_managed_document(text: &str, name: String) -> Result<PolicyDocument, AwsError> {
    let policy = Policy::parse_managed(text).map_err(|e| errors::malformed(&e))?;
    Ok(PolicyDocument { text: text.to_string(), parsed: NamedPolicy::new(name, policy) })
}

/// Parses a role trust policy: a resource policy whose statements may not name resources.
pub fn parse_trust_document(text: &str, name: String) -> Result<PolicyDocument, AwsError> {
    let policy = Policy::parse_trust_policy(text).map_err(|e| errors::malformed(&e))?;
    Ok(PolicyDocument { text: text.to_string(), parsed: NamedPolicy::new(name, policy) })
}

pub(super) fn trust_policy_name(role: &str) -> String {
    format!("trust:{role}")
}

pub(super) fn inline_policy_name(entity: &str, policy: &str) -> String {
    format!("inline:{entity}/{policy}")
}

/// Looks a name up the way IAM does: names are unique regardless of case, so `Admin` finds the
/// user `admin`. The exact spelling is tried first.
pub(super) fn find_key<T>(map: &BTreeMap<String, T>, name: &str) -> Option<String> {
    if map.contains_key(name) {
        return Some(name.to_string());
    }
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

pub(super) fn with_prefix<'a, T>(items: impl Iterator<Item = &'a T>, path: impl Fn(&T) -> &str, prefix: Option<&str>) -> Vec<&'a T> {
    items.filter(|item| prefix.is_none_or(|p| path(item).starts_with(p))).collect()
}

// ---------------------------------------------------------------------------------------------
// An account's IAM state in the world.

impl World {
    /// The IAM state of an account the caller belongs to.
    pub fn iam(&self, account: &str) -> Result<&IamState, AwsError> {
        self.account(account)
            .map(|a| &a.iam)
            .ok_or_else(|| AwsError::internal(format!("account {account} is not in the world")))
    }

    pub fn iam_mut(&mut self, account: &str) -> Result<&mut IamState, AwsError> {
        self.account_mut(account)
            .map(|a| &mut a.iam)
            .ok_or_else(|| AwsError::internal(format!("account {account} is not in the world")))
    }

    /// An account's IAM state together with the id generator, for creating entities.
    pub fn iam_and_ids(&mut self, account: &str) -> Result<(&mut IamState, &mut IdGenerator), AwsError> {
        let World { accounts, ids, .. } = self;
        let iam = accounts
            .get_mut(account)
            .map(|a| &mut a.iam)
            .ok_or_else(|| AwsError::internal(format!("account {account} is not in the world")))?;
        Ok((iam, ids))
    }

}
