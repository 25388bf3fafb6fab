//! IAM state of one account: users, roles, instance profiles, customer managed policies, and
//! which policies apply to whom. Access keys live in the world's credential store
//! (`super::World::access_keys`), because STS issues keys too and a key is looked up before its
//! account is known.
//!
//! The IAM model operations live here, apart from the wire: each method validates its input the
//! way IAM does, enforces IAM's quotas and conflicts, and answers IAM's own error (code, status
//! and message). `crate::services::iam` only decodes requests, authorizes them and shapes the
//! output. Operations that need more than one account's IAM state (access keys, trust-policy
//! principals) are methods on [`World`] at the end of this file.
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

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use wana_policy::{AwsPrincipal, NamedPolicy, Policy, PolicyKind, PrincipalBlock};

use super::{aws_managed, aws_managed::AwsManagedPolicy, parse_document, AccessKey, KeyOwner, KeyStatus, World};
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

/// Parses a managed policy document: an identity policy in the 2012-10-17 language.
pub fn parse_managed_document(text: &str, name: String) -> Result<PolicyDocument, AwsError> {
    let document = parse_identity_document(text, name)?;
    document.parsed.policy.require_current_version().map_err(|e| errors::malformed(&e))?;
    Ok(document)
}

/// Parses a role trust policy: a resource policy whose statements may not name resources.
pub fn parse_trust_document(text: &str, name: String) -> Result<PolicyDocument, AwsError> {
    let policy = Policy::parse_trust_policy(text).map_err(|e| errors::malformed(&e))?;
    Ok(PolicyDocument { text: text.to_string(), parsed: NamedPolicy::new(name, policy) })
}

fn trust_policy_name(role: &str) -> String {
    format!("trust:{role}")
}

fn inline_policy_name(entity: &str, policy: &str) -> String {
    format!("inline:{entity}/{policy}")
}

// ---------------------------------------------------------------------------------------------
// Errors.

/// IAM's errors, with IAM's texts.
pub mod errors {
    use wana_policy::PolicyError;

    use crate::error::AwsError;

    pub fn no_such_entity(message: impl Into<String>) -> AwsError {
        AwsError::new("NoSuchEntity", 404, message)
    }

    pub fn already_exists(message: impl Into<String>) -> AwsError {
        AwsError::new("EntityAlreadyExists", 409, message)
    }

    pub fn delete_conflict(message: impl Into<String>) -> AwsError {
        AwsError::new("DeleteConflict", 409, message)
    }

    pub fn limit_exceeded(message: impl Into<String>) -> AwsError {
        AwsError::new("LimitExceeded", 409, message)
    }

    /// `LimitExceeded` with IAM's quota wording.
    pub fn quota(name: &str, limit: usize) -> AwsError {
        limit_exceeded(format!("Cannot exceed quota for {name}: {limit}"))
    }

    pub fn invalid_input(message: impl Into<String>) -> AwsError {
        AwsError::new("InvalidInput", 400, message)
    }

    pub fn unmodifiable(message: impl Into<String>) -> AwsError {
        AwsError::new("UnmodifiableEntity", 400, message)
    }

    pub fn malformed(error: &PolicyError) -> AwsError {
        malformed_text(error.to_string())
    }

    pub fn malformed_text(message: impl Into<String>) -> AwsError {
        AwsError::new("MalformedPolicyDocument", 400, message)
    }

    pub fn no_such_user(name: &str) -> AwsError {
        no_such_entity(format!("The user with name {name} cannot be found."))
    }

    pub fn no_such_role(name: &str) -> AwsError {
        no_such_entity(format!("The role with name {name} cannot be found."))
    }

    pub fn no_such_instance_profile(name: &str) -> AwsError {
        no_such_entity(format!("Instance Profile {name} cannot be found."))
    }

    pub fn no_such_user_policy(policy: &str) -> AwsError {
        no_such_entity(format!("The user policy with name {policy} cannot be found."))
    }

    pub fn no_such_role_policy(policy: &str) -> AwsError {
        no_such_entity(format!("The role policy with name {policy} cannot be found."))
    }

    pub fn no_such_access_key(id: &str) -> AwsError {
        no_such_entity(format!("The Access Key with id {id} cannot be found."))
    }

    /// GetPolicy, DeletePolicy, policy versions, and detaching a policy that is not attached.
    pub fn policy_not_found(arn: &str) -> AwsError {
        no_such_entity(format!("Policy {arn} was not found."))
    }

    /// Attaching a policy that does not exist.
    pub fn policy_not_attachable(arn: &str) -> AwsError {
        no_such_entity(format!("Policy {arn} does not exist or is not attachable."))
    }

    pub fn no_such_policy_version(arn: &str, version: &str) -> AwsError {
        no_such_entity(format!("Policy {arn} version {version} does not exist or is not attachable."))
    }

    /// Changing a service-linked role, which only its service may do.
    pub fn protected_role(name: &str) -> AwsError {
        unmodifiable(format!(
            "Cannot perform the operation on the protected role '{name}' - this role is only modifiable by AWS"
        ))
    }

    pub fn invalid_arn(arn: &str) -> AwsError {
        invalid_input(format!("ARN {arn} is not valid."))
    }
}

// ---------------------------------------------------------------------------------------------
// Input validation, with the wording of IAM's `ValidationError`.

/// The model's patterns, as IAM quotes them in its messages.
pub mod patterns {
    pub const NAME: &str = r"[\w+=,.@-]+";
    pub const PATH: &str = r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)";
    pub const PATH_PREFIX: &str = r"\u002F[\u0021-\u007F]*";
    pub const POLICY_PATH: &str = r"((/[A-Za-z0-9\.,\+@=_-]+)*)/";
    pub const DOCUMENT: &str = r"[\u0009\u000A\u000D\u0020-\u00FF]+";
    pub const ROLE_DESCRIPTION: &str = r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*";
    pub const ACCESS_KEY_ID: &str = r"[\w]+";
    pub const VERSION_ID: &str = r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?";
    pub const TAG_KEY: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+";
    pub const TAG_VALUE: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*";
    pub const MARKER: &str = r"[\u0020-\u00FF]+";
}

/// Collects every constraint a request breaks, then answers them in one `ValidationError`:
/// `N validation error(s) detected: Value 'v' at 'member' failed to satisfy constraint: ...`,
/// joined with `; ` as AWS's front end does.
#[derive(Debug, Default)]
pub struct Validation {
    errors: Vec<String>,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_name_char(c: char) -> bool {
    is_word_char(c) || "+=,.@-".contains(c)
}

fn is_tag_char(c: char) -> bool {
    c.is_alphabetic() || c.is_numeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

impl Validation {
    pub fn new() -> Self {
        Self::default()
    }

    fn fail(&mut self, value: &str, member: &str, constraint: &str) {
        self.errors.push(format!(
            "Value '{value}' at '{member}' failed to satisfy constraint: Member must {constraint}"
        ));
    }

    fn length(&mut self, member: &str, value: &str, min: usize, max: usize) {
        let length = value.chars().count();
        if length < min {
            self.fail(value, member, &format!("have length greater than or equal to {min}"));
        }
        if length > max {
            self.fail(value, member, &format!("have length less than or equal to {max}"));
        }
    }

    fn pattern(&mut self, member: &str, value: &str, matches: bool, pattern: &str) {
        if !matches {
            self.fail(value, member, &format!("satisfy regular expression pattern: {pattern}"));
        }
    }

    /// User, role, instance profile and policy names: `[\w+=,.@-]+` of `1..=max` characters.
    pub fn name(&mut self, member: &str, value: &str, max: usize) -> &mut Self {
        self.length(member, value, 1, max);
        let ok = !value.is_empty() && value.chars().all(is_name_char);
        self.pattern(member, value, ok, patterns::NAME);
        self
    }

    /// Entity paths: `/` or `/…/` with printable ASCII between.
    pub fn path(&mut self, member: &str, value: &str) -> &mut Self {
        self.length(member, value, 1, 512);
        let printable = |c: char| ('\u{21}'..='\u{7e}').contains(&c);
        let ok = value == "/"
            || (value.len() >= 3
                && value.starts_with('/')
                && value.ends_with('/')
                && value.chars().all(printable));
        self.pattern(member, value, ok, patterns::PATH);
        self
    }

    /// `PathPrefix` of ListUsers, ListRoles and ListInstanceProfiles.
    pub fn path_prefix(&mut self, member: &str, value: &str) -> &mut Self {
        self.length(member, value, 1, 512);
        let ok = value.starts_with('/') && value.chars().all(|c| ('\u{21}'..='\u{7f}').contains(&c));
        self.pattern(member, value, ok, patterns::PATH_PREFIX);
        self
    }

    /// Paths of managed policies (`Path` of CreatePolicy, `PathPrefix` of ListPolicies).
    pub fn policy_path(&mut self, member: &str, value: &str) -> &mut Self {
        self.length(member, value, 1, 512);
        let segment_char = |c: char| c.is_ascii_alphanumeric() || ".,+@=_-".contains(c);
        let ok = value.ends_with('/')
            && value.starts_with('/')
            && value[..value.len() - 1].split('/').skip(1).all(|s| !s.is_empty() && s.chars().all(segment_char));
        self.pattern(member, value, ok, patterns::POLICY_PATH);
        self
    }

    /// Policy documents: at most 131072 characters of tab, newline, carriage return and
    /// U+0020..U+00FF.
    pub fn document(&mut self, member: &str, value: &str) -> &mut Self {
        self.length(member, value, 1, 131_072);
        let ok = !value.is_empty()
            && value.chars().all(|c| matches!(c, '\t' | '\n' | '\r') || ('\u{20}'..='\u{ff}').contains(&c));
        self.pattern(member, value, ok, patterns::DOCUMENT);
        self
    }

    /// Role descriptions.
    pub fn role_description(&mut self, member: &str, value: &str) -> &mut Self {
        self.length(member, value, 0, 1000);
        let ok = value.chars().all(|c| {
            matches!(c, '\t' | '\n' | '\r') || ('\u{20}'..='\u{7e}').contains(&c) || ('\u{a1}'..='\u{ff}').contains(&c)
        });
        self.pattern(member, value, ok, patterns::ROLE_DESCRIPTION);
        self
    }

    /// Policy descriptions: up to 1000 characters, no pattern.
    pub fn policy_description(&mut self, member: &str, value: &str) -> &mut Self {
        self.length(member, value, 0, 1000);
        self
    }

    /// An integer in `min..=max`.
    pub fn range(&mut self, member: &str, value: i64, min: i64, max: i64) -> &mut Self {
        let text = value.to_string();
        if value < min {
            self.fail(&text, member, &format!("have value greater than or equal to {min}"));
        }
        if value > max {
            self.fail(&text, member, &format!("have value less than or equal to {max}"));
        }
        self
    }

    /// An access key id: `[\w]+`, 16..=128 characters.
    pub fn access_key_id(&mut self, member: &str, value: &str) -> &mut Self {
        self.length(member, value, 16, 128);
        let ok = !value.is_empty() && value.chars().all(is_word_char);
        self.pattern(member, value, ok, patterns::ACCESS_KEY_ID);
        self
    }

    /// A policy ARN: 20..=2048 characters.
    pub fn arn(&mut self, member: &str, value: &str) -> &mut Self {
        self.length(member, value, 20, 2048);
        self
    }

    pub fn version_id(&mut self, member: &str, value: &str) -> &mut Self {
        let ok = is_version_id(value);
        self.pattern(member, value, ok, patterns::VERSION_ID);
        self
    }

    /// A value of a closed set, e.g. an access key `Status`.
    pub fn one_of(&mut self, member: &str, value: &str, allowed: &[&str]) -> &mut Self {
        if !allowed.contains(&value) {
            let set = allowed.join(", ");
            self.fail(value, member, &format!("satisfy enum value set: [{set}]"));
        }
        self
    }

    /// Tag lists: at most 50 tags, keys and values of the tag alphabet.
    pub fn tags(&mut self, member: &str, tags: &[Tag]) -> &mut Self {
        for (i, tag) in tags.iter().enumerate() {
            let key_member = format!("{member}.{}.member.key", i + 1);
            self.length(&key_member, &tag.key, 1, 128);
            let ok = !tag.key.is_empty() && tag.key.chars().all(is_tag_char);
            self.pattern(&key_member, &tag.key, ok, patterns::TAG_KEY);
            let value_member = format!("{member}.{}.member.value", i + 1);
            self.length(&value_member, &tag.value, 0, 256);
            let ok = tag.value.chars().all(is_tag_char);
            self.pattern(&value_member, &tag.value, ok, patterns::TAG_VALUE);
        }
        if tags.len() > TAGS_PER_ENTITY {
            self.errors.push(format!(
                "Value '{}' at '{member}' failed to satisfy constraint: Member must have length less than or equal to {TAGS_PER_ENTITY}",
                tag_list_text(tags)
            ));
        }
        self
    }

    /// Tag key lists of the Untag operations.
    pub fn tag_keys(&mut self, member: &str, keys: &[String]) -> &mut Self {
        for (i, key) in keys.iter().enumerate() {
            let key_member = format!("{member}.{}.member", i + 1);
            self.length(&key_member, key, 1, 128);
            let ok = !key.is_empty() && key.chars().all(is_tag_char);
            self.pattern(&key_member, key, ok, patterns::TAG_KEY);
        }
        self
    }

    pub fn finish(&mut self) -> Result<(), AwsError> {
        match self.errors.len() {
            0 => Ok(()),
            n => {
                let plural = if n == 1 { "" } else { "s" };
                let message = format!("{n} validation error{plural} detected: {}", self.errors.join("; "));
                self.errors.clear();
                Err(AwsError::validation(message))
            }
        }
    }
}

fn tag_list_text(tags: &[Tag]) -> String {
    let items: Vec<String> = tags.iter().map(|t| format!("{}={}", t.key, t.value)).collect();
    format!("[{}]", items.join(", "))
}

fn is_version_id(value: &str) -> bool {
    let Some(rest) = value.strip_prefix('v') else {
        return false;
    };
    let (number, suffix) = match rest.split_once('.') {
        Some((n, s)) => (n, Some(s)),
        None => (rest, None),
    };
    let number_ok = number.starts_with(|c: char| ('1'..='9').contains(&c)) && number.chars().all(|c| c.is_ascii_digit());
    number_ok && suffix.is_none_or(|s| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

/// Duplicate tag keys, compared case-insensitively as IAM does.
fn check_unique_tag_keys(tags: &[Tag]) -> Result<(), AwsError> {
    for (i, tag) in tags.iter().enumerate() {
        if tags[..i].iter().any(|t| t.key.eq_ignore_ascii_case(&tag.key)) {
            return Err(errors::invalid_input(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
    }
    Ok(())
}

/// Whether a policy ARN is well formed: `arn:<partition>:iam::<account or aws>:policy/...`.
fn check_policy_arn(arn: &str) -> Result<(), AwsError> {
    let mut parts = arn.splitn(6, ':');
    let well_formed = parts.next() == Some("arn")
        && parts.next().is_some_and(|p| !p.is_empty())
        && parts.next() == Some("iam")
        && parts.next() == Some("")
        && parts.next().is_some_and(|a| a == "aws" || (a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())))
        && parts.next().is_some_and(|r| r.starts_with("policy/") && r.len() > "policy/".len());
    if well_formed {
        Ok(())
    } else {
        Err(errors::invalid_arn(arn))
    }
}

/// Looks a name up the way IAM does: names are unique regardless of case, so `Admin` finds the
/// user `admin`. The exact spelling is tried first.
fn find_key<T>(map: &BTreeMap<String, T>, name: &str) -> Option<String> {
    if map.contains_key(name) {
        return Some(name.to_string());
    }
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

fn with_prefix<'a, T>(items: impl Iterator<Item = &'a T>, path: impl Fn(&T) -> &str, prefix: Option<&str>) -> Vec<&'a T> {
    items.filter(|item| prefix.is_none_or(|p| path(item).starts_with(p))).collect()
}

// ---------------------------------------------------------------------------------------------
// Managed policies as IAM shows them, AWS managed or customer managed.

/// A managed policy, whoever manages it.
#[derive(Debug, Clone, Copy)]
pub enum PolicyRef<'a> {
    Aws(&'static AwsManagedPolicy),
    Customer(&'a ManagedPolicy),
}

impl<'a> PolicyRef<'a> {
    pub fn name(&self) -> &'a str {
        match self {
            PolicyRef::Aws(p) => p.name,
            PolicyRef::Customer(p) => &p.name,
        }
    }

    pub fn arn(&self) -> String {
        match self {
            PolicyRef::Aws(p) => p.arn(),
            PolicyRef::Customer(p) => p.arn.clone(),
        }
    }

    pub fn path(&self) -> &'a str {
        match self {
            PolicyRef::Aws(p) => p.path,
            PolicyRef::Customer(p) => &p.path,
        }
    }

    pub fn id(&self) -> &'a str {
        match self {
            PolicyRef::Aws(p) => p.policy_id,
            PolicyRef::Customer(p) => &p.id,
        }
    }

    pub fn default_version_id(&self) -> &'a str {
        match self {
            PolicyRef::Aws(p) => p.version_id,
            PolicyRef::Customer(p) => &p.default_version_id,
        }
    }

    pub fn description(&self) -> Option<&'a str> {
        match self {
            PolicyRef::Aws(p) => Some(p.description),
            PolicyRef::Customer(p) => p.description.as_deref(),
        }
    }

    pub fn created(&self) -> DateTime<Utc> {
        match self {
            PolicyRef::Aws(p) => p.created,
            PolicyRef::Customer(p) => p.created,
        }
    }

    pub fn updated(&self) -> DateTime<Utc> {
        match self {
            PolicyRef::Aws(p) => p.updated,
            PolicyRef::Customer(p) => p.updated,
        }
    }

    pub fn is_aws_managed(&self) -> bool {
        matches!(self, PolicyRef::Aws(_))
    }

    /// The unique id of a customer policy, for its tags.
    pub fn customer(&self) -> Option<&'a ManagedPolicy> {
        match self {
            PolicyRef::Aws(_) => None,
            PolicyRef::Customer(p) => Some(p),
        }
    }

    /// Every version, oldest first.
    pub fn versions(&self) -> Vec<VersionView<'a>> {
        match self {
            PolicyRef::Aws(p) => vec![VersionView {
                version_id: p.version_id,
                document: p.document,
                is_default: true,
                created: p.updated,
            }],
            PolicyRef::Customer(p) => p
                .versions
                .iter()
                .map(|v| VersionView {
                    version_id: &v.version_id,
                    document: &v.document.text,
                    is_default: v.version_id == p.default_version_id,
                    created: v.created,
                })
                .collect(),
        }
    }
}

/// One version of a managed policy, as GetPolicyVersion shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionView<'a> {
    pub version_id: &'a str,
    pub document: &'a str,
    pub is_default: bool,
    pub created: DateTime<Utc>,
}

/// `Scope` of ListPolicies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyScope {
    All,
    Aws,
    Local,
}

/// A role to create.
#[derive(Debug, Clone, Default)]
pub struct NewRole<'a> {
    pub name: &'a str,
    pub path: Option<&'a str>,
    pub trust_policy: &'a str,
    pub description: Option<&'a str>,
    pub max_session_duration: Option<i64>,
    pub tags: Vec<Tag>,
}

/// A customer managed policy to create.
#[derive(Debug, Clone, Default)]
pub struct NewPolicy<'a> {
    pub name: &'a str,
    pub path: Option<&'a str>,
    pub document: &'a str,
    pub description: Option<&'a str>,
    pub tags: Vec<Tag>,
}

/// How `CreateServiceLinkedRole` names and equips the role of a service.
struct ServiceLinkedRoleKind {
    role_name: String,
    /// The AWS managed policy AWS attaches, when the emulator's catalogue has it.
    policy_arn: Option<&'static str>,
    description: Option<&'static str>,
}

fn service_linked_role_kind(service: &str) -> Option<ServiceLinkedRoleKind> {
    let known: &[(&str, &str, Option<&'static str>, Option<&'static str>)] = &[
        (
            "autoscaling.amazonaws.com",
            "AutoScaling",
            Some("arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy"),
            Some("Default Service-Linked Role enables access to AWS Services and Resources used or managed by Auto Scaling"),
        ),
        (
            "events.amazonaws.com",
            "CloudWatchEvents",
            Some("arn:aws:iam::aws:policy/aws-service-role/CloudWatchEventsServiceRolePolicy"),
            None,
        ),
        ("elasticloadbalancing.amazonaws.com", "ElasticLoadBalancing", None, None),
        ("ssm.amazonaws.com", "AmazonSSM", None, None),
        ("ecs.amazonaws.com", "ECS", None, None),
        ("spot.amazonaws.com", "EC2Spot", None, None),
        ("ec2fleet.amazonaws.com", "EC2Fleet", None, None),
        ("rds.amazonaws.com", "RDS", None, None),
        ("es.amazonaws.com", "AmazonElasticsearchService", None, None),
        ("organizations.amazonaws.com", "Organizations", None, None),
        ("trustedadvisor.amazonaws.com", "TrustedAdvisor", None, None),
        ("config.amazonaws.com", "Config", None, None),
    ];
    if let Some((_, suffix, policy_arn, description)) = known.iter().find(|(s, ..)| *s == service) {
        return Some(ServiceLinkedRoleKind {
            role_name: format!("AWSServiceRoleFor{suffix}"),
            policy_arn: *policy_arn,
            description: *description,
        });
    }
    let prefix = service.strip_suffix(".amazonaws.com")?;
    let label = prefix.split('.').next().filter(|l| !l.is_empty())?;
    let mut capitalised = String::with_capacity(label.len());
    let mut upper = true;
    for c in label.chars() {
        if c == '-' {
            upper = true;
            continue;
        }
        if upper {
            capitalised.extend(c.to_uppercase());
            upper = false;
        } else {
            capitalised.push(c);
        }
    }
    Some(ServiceLinkedRoleKind { role_name: format!("AWSServiceRoleFor{capitalised}"), policy_arn: None, description: None })
}

/// The name CreateServiceLinkedRole gives the role of a service (`AWSServiceRoleForAutoScaling`),
/// with `_<suffix>` when a custom suffix is asked for.
pub fn service_linked_role_name(service: &str, custom_suffix: Option<&str>) -> Option<String> {
    let kind = service_linked_role_kind(service)?;
    Some(match custom_suffix {
        Some(suffix) => format!("{}_{suffix}", kind.role_name),
        None => kind.role_name,
    })
}

/// The ARN the service-linked role of a service has (or will have) in an account.
pub fn service_linked_role_arn(account: &str, service: &str, custom_suffix: Option<&str>) -> Option<String> {
    let name = service_linked_role_name(service, custom_suffix)?;
    Some(role_arn(account, &format!("{SERVICE_LINKED_ROLE_PATH}{service}/"), &name))
}

// ---------------------------------------------------------------------------------------------
// The model.

impl IamState {
    /// The parsed document of an attached managed policy, AWS managed or customer managed.
    pub fn managed_policy_document(&self, arn: &str) -> Option<&NamedPolicy> {
        if let Some(aws) = aws_managed::find(arn) {
            return Some(&aws.parsed);
        }
        self.policies
            .get(arn)
            .and_then(ManagedPolicy::default_version)
            .map(|v| &v.document.parsed)
    }

    /// Every identity policy that applies to a principal with these inline and attached
    /// policies, in a stable order (inline first, then attached).
    pub fn identity_policies<'a>(
        &'a self,
        inline: &'a BTreeMap<String, PolicyDocument>,
        attached: &'a [String],
    ) -> impl Iterator<Item = &'a NamedPolicy> + 'a {
        inline
            .values()
            .map(|d| &d.parsed)
            .chain(attached.iter().filter_map(|arn| self.managed_policy_document(arn)))
    }

    /// The tags of an entity, by unique id.
    pub fn tags_of(&self, id: &str) -> &[Tag] {
        self.tags.get(id).map(Vec::as_slice).unwrap_or(&[])
    }

    fn set_tags(&mut self, id: &str, tags: Vec<Tag>) {
        if tags.is_empty() {
            self.tags.remove(id);
        } else {
            self.tags.insert(id.to_string(), tags);
        }
    }

    /// Adds or overwrites tags (TagUser, TagRole): a key already present takes the new value.
    fn merge_tags(&mut self, id: &str, tags: Vec<Tag>) -> Result<(), AwsError> {
        check_unique_tag_keys(&tags)?;
        let mut merged = self.tags_of(id).to_vec();
        for tag in tags {
            match merged.iter_mut().find(|t| t.key.eq_ignore_ascii_case(&tag.key)) {
                Some(existing) => *existing = tag,
                None => merged.push(tag),
            }
        }
        if merged.len() > TAGS_PER_ENTITY {
            return Err(errors::limit_exceeded(format!(
                "Cannot exceed quota for TagsPerEntity: {TAGS_PER_ENTITY}"
            )));
        }
        self.set_tags(id, merged);
        Ok(())
    }

    fn remove_tags(&mut self, id: &str, keys: &[String]) {
        let remaining: Vec<Tag> = self
            .tags_of(id)
            .iter()
            .filter(|t| !keys.iter().any(|k| k.eq_ignore_ascii_case(&t.key)))
            .cloned()
            .collect();
        self.set_tags(id, remaining);
    }

    // ---- users --------------------------------------------------------------------------

    pub fn user(&self, name: &str) -> Result<&User, AwsError> {
        find_key(&self.users, name)
            .and_then(|key| self.users.get(&key))
            .ok_or_else(|| errors::no_such_user(name))
    }

    fn user_mut(&mut self, name: &str) -> Result<&mut User, AwsError> {
        let key = find_key(&self.users, name).ok_or_else(|| errors::no_such_user(name))?;
        self.users.get_mut(&key).ok_or_else(|| errors::no_such_user(name))
    }

    /// CreateUser.
    pub fn create_user(
        &mut self,
        ids: &mut IdGenerator,
        account: &str,
        now: DateTime<Utc>,
        name: &str,
        path: Option<&str>,
        tags: Vec<Tag>,
    ) -> Result<&User, AwsError> {
        let path = path.unwrap_or("/");
        Validation::new().name("userName", name, 64).path("path", path).tags("tags", &tags).finish()?;
        check_unique_tag_keys(&tags)?;
        if find_key(&self.users, name).is_some() {
            return Err(errors::already_exists(format!("User with name {name} already exists.")));
        }
        if self.users.len() >= USERS_PER_ACCOUNT {
            return Err(errors::quota("UsersPerAccount", USERS_PER_ACCOUNT));
        }
        let id = ids.unique_id("AIDA");
        self.set_tags(&id, tags);
        let user = User {
            name: name.to_string(),
            path: path.to_string(),
            id,
            arn: user_arn(account, path, name),
            created: now,
            inline_policies: BTreeMap::new(),
            attached_policies: Vec::new(),
        };
        Ok(self.users.entry(name.to_string()).or_insert(user))
    }

    /// ListUsers: the users whose path starts with the prefix, by name.
    pub fn users_with_prefix(&self, path_prefix: Option<&str>) -> Vec<&User> {
        with_prefix(self.users.values(), |u| &u.path, path_prefix)
    }

    pub fn tag_user(&mut self, name: &str, tags: Vec<Tag>) -> Result<(), AwsError> {
        let id = self.user(name)?.id.clone();
        self.merge_tags(&id, tags)
    }

    pub fn untag_user(&mut self, name: &str, keys: &[String]) -> Result<(), AwsError> {
        let id = self.user(name)?.id.clone();
        self.remove_tags(&id, keys);
        Ok(())
    }

    // ---- inline policies ----------------------------------------------------------------

    /// PutUserPolicy: adds or replaces an inline policy of a user.
    pub fn put_user_policy(&mut self, user_name: &str, policy_name: &str, text: &str) -> Result<(), AwsError> {
        Validation::new()
            .name("userName", user_name, 128)
            .name("policyName", policy_name, 128)
            .document("policyDocument", text)
            .finish()?;
        let user = self.user(user_name)?;
        let document = parse_identity_document(text, inline_policy_name(&user.name, policy_name))?;
        let others: usize = user
            .inline_policies
            .iter()
            .filter(|(name, _)| name.as_str() != policy_name)
            .map(|(_, d)| policy_size(&d.text))
            .sum();
        if others + policy_size(text) > USER_INLINE_POLICY_SIZE {
            return Err(errors::limit_exceeded(format!(
                "Maximum policy size of {USER_INLINE_POLICY_SIZE} bytes exceeded for user {}",
                user.name
            )));
        }
        self.user_mut(user_name)?.inline_policies.insert(policy_name.to_string(), document);
        Ok(())
    }

    /// GetUserPolicy: the user (as stored) and the document.
    pub fn user_policy(&self, user_name: &str, policy_name: &str) -> Result<(&User, &PolicyDocument), AwsError> {
        let user = self.user(user_name)?;
        let document = user.inline_policies.get(policy_name).ok_or_else(|| errors::no_such_user_policy(policy_name))?;
        Ok((user, document))
    }

    pub fn delete_user_policy(&mut self, user_name: &str, policy_name: &str) -> Result<(), AwsError> {
        self.user_mut(user_name)?
            .inline_policies
            .remove(policy_name)
            .map(|_| ())
            .ok_or_else(|| errors::no_such_user_policy(policy_name))
    }

    /// PutRolePolicy: adds or replaces an inline policy of a role.
    pub fn put_role_policy(&mut self, role_name: &str, policy_name: &str, text: &str) -> Result<(), AwsError> {
        Validation::new()
            .name("roleName", role_name, 64)
            .name("policyName", policy_name, 128)
            .document("policyDocument", text)
            .finish()?;
        let role = self.role(role_name)?;
        if role.is_service_linked() {
            return Err(errors::protected_role(&role.name));
        }
        let document = parse_identity_document(text, inline_policy_name(&role.name, policy_name))?;
        let others: usize = role
            .inline_policies
            .iter()
            .filter(|(name, _)| name.as_str() != policy_name)
            .map(|(_, d)| policy_size(&d.text))
            .sum();
        if others + policy_size(text) > ROLE_INLINE_POLICY_SIZE {
            return Err(errors::limit_exceeded(format!(
                "Maximum policy size of {ROLE_INLINE_POLICY_SIZE} bytes exceeded for role {}",
                role.name
            )));
        }
        self.role_mut(role_name)?.inline_policies.insert(policy_name.to_string(), document);
        Ok(())
    }

    pub fn role_policy(&self, role_name: &str, policy_name: &str) -> Result<(&Role, &PolicyDocument), AwsError> {
        let role = self.role(role_name)?;
        let document = role.inline_policies.get(policy_name).ok_or_else(|| errors::no_such_role_policy(policy_name))?;
        Ok((role, document))
    }

    pub fn delete_role_policy(&mut self, role_name: &str, policy_name: &str) -> Result<(), AwsError> {
        let role = self.role(role_name)?;
        if role.is_service_linked() {
            return Err(errors::protected_role(&role.name));
        }
        self.role_mut(role_name)?
            .inline_policies
            .remove(policy_name)
            .map(|_| ())
            .ok_or_else(|| errors::no_such_role_policy(policy_name))
    }

    // ---- roles --------------------------------------------------------------------------

    pub fn role(&self, name: &str) -> Result<&Role, AwsError> {
        find_key(&self.roles, name)
            .and_then(|key| self.roles.get(&key))
            .ok_or_else(|| errors::no_such_role(name))
    }

    fn role_mut(&mut self, name: &str) -> Result<&mut Role, AwsError> {
        let key = find_key(&self.roles, name).ok_or_else(|| errors::no_such_role(name))?;
        self.roles.get_mut(&key).ok_or_else(|| errors::no_such_role(name))
    }

    /// The model checks of CreateRole, in IAM's order: input constraints, the trust policy, its
    /// size, then the name.
    fn validate_new_role(&self, spec: &NewRole<'_>) -> Result<(i64, PolicyDocument), AwsError> {
        let path = spec.path.unwrap_or("/");
        let mut validation = Validation::new();
        validation
            .name("roleName", spec.name, 64)
            .path("path", path)
            .document("assumeRolePolicyDocument", spec.trust_policy)
            .tags("tags", &spec.tags);
        if let Some(description) = spec.description {
            validation.role_description("description", description);
        }
        if let Some(duration) = spec.max_session_duration {
            validation.range("maxSessionDuration", duration, MIN_MAX_SESSION_DURATION, MAX_MAX_SESSION_DURATION);
        }
        validation.finish()?;
        check_unique_tag_keys(&spec.tags)?;
        let trust = parse_trust_document(spec.trust_policy, trust_policy_name(spec.name))?;
        if policy_size(spec.trust_policy) > TRUST_POLICY_SIZE {
            return Err(errors::quota("ACLSizePerRole", TRUST_POLICY_SIZE));
        }
        if find_key(&self.roles, spec.name).is_some() {
            return Err(errors::already_exists(format!("Role with name {} already exists.", spec.name)));
        }
        if self.roles.len() >= ROLES_PER_ACCOUNT {
            return Err(errors::quota("RolesPerAccount", ROLES_PER_ACCOUNT));
        }
        Ok((spec.max_session_duration.unwrap_or(DEFAULT_MAX_SESSION_DURATION), trust))
    }

    /// CreateRole. Whether the principals the trust policy names exist is checked by
    /// [`World::create_role`], which sees every account.
    pub fn create_role(
        &mut self,
        ids: &mut IdGenerator,
        account: &str,
        now: DateTime<Utc>,
        spec: NewRole<'_>,
    ) -> Result<&Role, AwsError> {
        let (max_session_duration, trust_policy) = self.validate_new_role(&spec)?;
        let path = spec.path.unwrap_or("/");
        let id = ids.unique_id("AROA");
        self.set_tags(&id, spec.tags);
        let role = Role {
            name: spec.name.to_string(),
            path: path.to_string(),
            id,
            arn: role_arn(account, path, spec.name),
            created: now,
            description: spec.description.map(str::to_string),
            max_session_duration,
            trust_policy,
            inline_policies: BTreeMap::new(),
            attached_policies: Vec::new(),
        };
        Ok(self.roles.entry(spec.name.to_string()).or_insert(role))
    }

    /// CreateServiceLinkedRole: the role a service uses on the account's behalf, at
    /// `/aws-service-role/<service>/`, trusted by that service, with the service's policy.
    pub fn create_service_linked_role(
        &mut self,
        ids: &mut IdGenerator,
        account: &str,
        now: DateTime<Utc>,
        service: &str,
        description: Option<&str>,
        custom_suffix: Option<&str>,
    ) -> Result<&Role, AwsError> {
        let mut validation = Validation::new();
        validation.name("aWSServiceName", service, 128);
        if let Some(description) = description {
            validation.role_description("description", description);
        }
        if let Some(suffix) = custom_suffix {
            validation.name("customSuffix", suffix, 64);
        }
        validation.finish()?;
        let kind = service_linked_role_kind(service)
            .ok_or_else(|| errors::invalid_input(format!("Invalid service name: {service}")))?;
        let name = match custom_suffix {
            Some(suffix) => format!("{}_{suffix}", kind.role_name),
            None => kind.role_name.clone(),
        };
        if find_key(&self.roles, &name).is_some() {
            return Err(errors::invalid_input(format!(
                "Service role name {name} has been taken in this account, please try a different suffix."
            )));
        }
        if self.roles.len() >= ROLES_PER_ACCOUNT {
            return Err(errors::quota("RolesPerAccount", ROLES_PER_ACCOUNT));
        }
        let path = format!("{SERVICE_LINKED_ROLE_PATH}{service}/");
        let trust_text = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":["{service}"]}},"Action":["sts:AssumeRole"]}}]}}"#
        );
        let trust_policy = parse_trust_document(&trust_text, trust_policy_name(&name))?;
        let id = ids.unique_id("AROA");
        let role = Role {
            name: name.clone(),
            path: path.clone(),
            id,
            arn: role_arn(account, &path, &name),
            created: now,
            description: description.or(kind.description).map(str::to_string),
            max_session_duration: DEFAULT_MAX_SESSION_DURATION,
            trust_policy,
            inline_policies: BTreeMap::new(),
            attached_policies: kind
                .policy_arn
                .filter(|arn| aws_managed::find(arn).is_some())
                .map(|arn| vec![arn.to_string()])
                .unwrap_or_default(),
        };
        Ok(self.roles.entry(name).or_insert(role))
    }

    /// ListRoles: the roles whose path starts with the prefix, by name.
    pub fn roles_with_prefix(&self, path_prefix: Option<&str>) -> Vec<&Role> {
        with_prefix(self.roles.values(), |r| &r.path, path_prefix)
    }

    /// DeleteRole: refused while the role is in an instance profile or has policies.
    pub fn delete_role(&mut self, name: &str) -> Result<(), AwsError> {
        let role = self.role(name)?;
        if role.is_service_linked() {
            return Err(errors::protected_role(&role.name));
        }
        if self.instance_profiles.values().any(|p| p.roles.contains(&role.name)) {
            return Err(errors::delete_conflict(
                "Cannot delete entity, must remove roles from instance profile first.",
            ));
        }
        if !role.inline_policies.is_empty() {
            return Err(errors::delete_conflict("Cannot delete entity, must delete policies first."));
        }
        if !role.attached_policies.is_empty() {
            return Err(errors::delete_conflict("Cannot delete entity, must detach all policies first."));
        }
        let (key, id) = (role.name.clone(), role.id.clone());
        self.roles.remove(&key);
        self.tags.remove(&id);
        Ok(())
    }

    /// UpdateAssumeRolePolicy. Principals are checked by [`World::update_assume_role_policy`].
    pub fn update_assume_role_policy(&mut self, name: &str, text: &str) -> Result<(), AwsError> {
        Validation::new().name("roleName", name, 64).document("policyDocument", text).finish()?;
        let role = self.role(name)?;
        if role.is_service_linked() {
            return Err(errors::protected_role(&role.name));
        }
        let document = parse_trust_document(text, trust_policy_name(&role.name))?;
        if policy_size(text) > TRUST_POLICY_SIZE {
            return Err(errors::quota("ACLSizePerRole", TRUST_POLICY_SIZE));
        }
        self.role_mut(name)?.trust_policy = document;
        Ok(())
    }

    /// UpdateRole / UpdateRoleDescription: the description and the maximum session duration.
    pub fn update_role(
        &mut self,
        name: &str,
        description: Option<&str>,
        max_session_duration: Option<i64>,
    ) -> Result<&Role, AwsError> {
        let mut validation = Validation::new();
        validation.name("roleName", name, 64);
        if let Some(description) = description {
            validation.role_description("description", description);
        }
        if let Some(duration) = max_session_duration {
            validation.range("maxSessionDuration", duration, MIN_MAX_SESSION_DURATION, MAX_MAX_SESSION_DURATION);
        }
        validation.finish()?;
        let role = self.role(name)?;
        if role.is_service_linked() && max_session_duration.is_some() {
            return Err(errors::protected_role(&role.name));
        }
        let role = self.role_mut(name)?;
        if let Some(description) = description {
            role.description = Some(description.to_string());
        }
        if let Some(duration) = max_session_duration {
            role.max_session_duration = duration;
        }
        Ok(role)
    }

    pub fn tag_role(&mut self, name: &str, tags: Vec<Tag>) -> Result<(), AwsError> {
        let id = self.role(name)?.id.clone();
        self.merge_tags(&id, tags)
    }

    pub fn untag_role(&mut self, name: &str, keys: &[String]) -> Result<(), AwsError> {
        let id = self.role(name)?.id.clone();
        self.remove_tags(&id, keys);
        Ok(())
    }

    // ---- managed policies ---------------------------------------------------------------

    /// A managed policy by ARN (GetPolicy): `Policy X was not found.` when there is none.
    pub fn policy(&self, arn: &str) -> Result<PolicyRef<'_>, AwsError> {
        check_policy_arn(arn)?;
        if let Some(aws) = aws_managed::find(arn) {
            return Ok(PolicyRef::Aws(aws));
        }
        self.policies.get(arn).map(PolicyRef::Customer).ok_or_else(|| errors::policy_not_found(arn))
    }

    fn customer_policy_mut(&mut self, arn: &str) -> Result<&mut ManagedPolicy, AwsError> {
        check_policy_arn(arn)?;
        self.policies.get_mut(arn).ok_or_else(|| errors::policy_not_found(arn))
    }

    /// How many users and roles the policy is attached to.
    pub fn attachment_count(&self, arn: &str) -> usize {
        let users = self.users.values().filter(|u| u.attached_policies.iter().any(|a| a == arn)).count();
        let roles = self.roles.values().filter(|r| r.attached_policies.iter().any(|a| a == arn)).count();
        users + roles
    }

    /// CreatePolicy.
    pub fn create_policy(
        &mut self,
        ids: &mut IdGenerator,
        account: &str,
        now: DateTime<Utc>,
        spec: NewPolicy<'_>,
    ) -> Result<&ManagedPolicy, AwsError> {
        let path = spec.path.unwrap_or("/");
        let mut validation = Validation::new();
        validation
            .name("policyName", spec.name, 128)
            .policy_path("path", path)
            .document("policyDocument", spec.document)
            .tags("tags", &spec.tags);
        if let Some(description) = spec.description {
            validation.policy_description("description", description);
        }
        validation.finish()?;
        check_unique_tag_keys(&spec.tags)?;
        let arn = policy_arn(account, path, spec.name);
        let document = parse_managed_document(spec.document, arn.clone())?;
        if policy_size(spec.document) > MANAGED_POLICY_SIZE {
            return Err(errors::quota("PolicySize", MANAGED_POLICY_SIZE));
        }
        if self.policies.values().any(|p| p.name.eq_ignore_ascii_case(spec.name)) {
            return Err(errors::already_exists(format!(
                "A policy called {} already exists. Duplicate names are not allowed.",
                spec.name
            )));
        }
        let id = ids.unique_id("ANPA");
        self.set_tags(&id, spec.tags);
        let policy = ManagedPolicy {
            name: spec.name.to_string(),
            path: path.to_string(),
            id,
            arn: arn.clone(),
            description: spec.description.map(str::to_string),
            created: now,
            updated: now,
            default_version_id: "v1".to_string(),
            versions: vec![PolicyVersion { version_id: "v1".to_string(), document, created: now }],
            next_version: 2,
        };
        Ok(self.policies.entry(arn).or_insert(policy))
    }

    /// ListPolicies, AWS managed first (the emulator's catalogue), then the account's own, each
    /// by name.
    pub fn list_policies(&self, scope: PolicyScope, only_attached: bool, path_prefix: Option<&str>) -> Vec<PolicyRef<'_>> {
        let mut aws: Vec<PolicyRef<'_>> = if scope == PolicyScope::Local {
            Vec::new()
        } else {
            aws_managed::catalog().iter().map(PolicyRef::Aws).collect()
        };
        aws.sort_by(|a, b| a.name().cmp(b.name()));
        let mut local: Vec<PolicyRef<'_>> = if scope == PolicyScope::Aws {
            Vec::new()
        } else {
            self.policies.values().map(PolicyRef::Customer).collect()
        };
        local.sort_by(|a, b| a.name().cmp(b.name()));
        aws.into_iter()
            .chain(local)
            .filter(|p| path_prefix.is_none_or(|prefix| p.path().starts_with(prefix)))
            .filter(|p| !only_attached || self.attachment_count(&p.arn()) > 0)
            .collect()
    }

    /// GetPolicyVersion.
    pub fn policy_version(&self, arn: &str, version_id: &str) -> Result<VersionView<'_>, AwsError> {
        let policy = self.policy(arn)?;
        policy
            .versions()
            .into_iter()
            .find(|v| v.version_id == version_id)
            .ok_or_else(|| errors::no_such_policy_version(arn, version_id))
    }

    /// CreatePolicyVersion: at most five versions; `set_as_default` makes it the one in force.
    pub fn create_policy_version(
        &mut self,
        now: DateTime<Utc>,
        arn: &str,
        text: &str,
        set_as_default: bool,
    ) -> Result<VersionView<'_>, AwsError> {
        Validation::new().arn("policyArn", arn).document("policyDocument", text).finish()?;
        let policy = self.customer_policy_mut(arn)?;
        let document = parse_managed_document(text, arn.to_string())?;
        if policy_size(text) > MANAGED_POLICY_SIZE {
            return Err(errors::quota("PolicySize", MANAGED_POLICY_SIZE));
        }
        if policy.versions.len() >= VERSIONS_PER_POLICY {
            return Err(errors::limit_exceeded(
                "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
            ));
        }
        let version_id = format!("v{}", policy.next_version);
        policy.next_version += 1;
        policy.versions.push(PolicyVersion { version_id: version_id.clone(), document, created: now });
        if set_as_default {
            policy.default_version_id = version_id.clone();
            policy.updated = now;
        }
        let policy = &self.policies[arn];
        let version = policy.versions.last().map(|v| VersionView {
            version_id: &v.version_id,
            document: &v.document.text,
            is_default: v.version_id == policy.default_version_id,
            created: v.created,
        });
        version.ok_or_else(|| AwsError::internal("a new policy version disappeared"))
    }

    /// DeletePolicyVersion: any version but the default one.
    pub fn delete_policy_version(&mut self, arn: &str, version_id: &str) -> Result<(), AwsError> {
        Validation::new().arn("policyArn", arn).version_id("versionId", version_id).finish()?;
        let policy = self.customer_policy_mut(arn)?;
        let index = policy
            .versions
            .iter()
            .position(|v| v.version_id == version_id)
            .ok_or_else(|| errors::no_such_policy_version(arn, version_id))?;
        if policy.default_version_id == version_id {
            return Err(errors::delete_conflict("Cannot delete the default version of a policy."));
        }
        policy.versions.remove(index);
        Ok(())
    }

    /// SetDefaultPolicyVersion.
    pub fn set_default_policy_version(&mut self, now: DateTime<Utc>, arn: &str, version_id: &str) -> Result<(), AwsError> {
        Validation::new().arn("policyArn", arn).version_id("versionId", version_id).finish()?;
        let policy = self.customer_policy_mut(arn)?;
        if !policy.versions.iter().any(|v| v.version_id == version_id) {
            return Err(errors::no_such_policy_version(arn, version_id));
        }
        policy.default_version_id = version_id.to_string();
        policy.updated = now;
        Ok(())
    }

    /// DeletePolicy: refused while attached or while it has versions besides the default.
    pub fn delete_policy(&mut self, arn: &str) -> Result<(), AwsError> {
        Validation::new().arn("policyArn", arn).finish()?;
        let policy = self.customer_policy_mut(arn)?;
        let (many_versions, id) = (policy.versions.len() > 1, policy.id.clone());
        if self.attachment_count(arn) > 0 {
            return Err(errors::delete_conflict("Cannot delete a policy attached to entities."));
        }
        if many_versions {
            return Err(errors::delete_conflict(
                "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
            ));
        }
        self.policies.remove(arn);
        self.tags.remove(&id);
        Ok(())
    }

    /// Whether a policy can be attached to a user or role of this account.
    fn check_attachable(&self, arn: &str) -> Result<(), AwsError> {
        check_policy_arn(arn)?;
        match aws_managed::find(arn) {
            Some(aws) if aws.is_service_linked_role_policy() => Err(AwsError::new(
                "PolicyNotAttachable",
                400,
                "Cannot attach a Service Role Policy to a Customer Role.",
            )),
            Some(_) => Ok(()),
            None if self.policies.contains_key(arn) => Ok(()),
            None => Err(errors::policy_not_attachable(arn)),
        }
    }

    /// AttachUserPolicy: idempotent; at most ten managed policies per user.
    pub fn attach_user_policy(&mut self, user_name: &str, arn: &str) -> Result<(), AwsError> {
        Validation::new().name("userName", user_name, 64).arn("policyArn", arn).finish()?;
        let user = self.user(user_name)?;
        self.check_attachable(arn)?;
        if user.attached_policies.iter().any(|a| a == arn) {
            return Ok(());
        }
        if user.attached_policies.len() >= MANAGED_POLICIES_PER_USER {
            return Err(errors::quota("PoliciesPerUser", MANAGED_POLICIES_PER_USER));
        }
        self.user_mut(user_name)?.attached_policies.push(arn.to_string());
        Ok(())
    }

    pub fn detach_user_policy(&mut self, user_name: &str, arn: &str) -> Result<(), AwsError> {
        Validation::new().name("userName", user_name, 64).arn("policyArn", arn).finish()?;
        check_policy_arn(arn)?;
        let user = self.user_mut(user_name)?;
        let index = user
            .attached_policies
            .iter()
            .position(|a| a == arn)
            .ok_or_else(|| errors::policy_not_found(arn))?;
        user.attached_policies.remove(index);
        Ok(())
    }

    /// AttachRolePolicy: idempotent; at most ten managed policies per role.
    pub fn attach_role_policy(&mut self, role_name: &str, arn: &str) -> Result<(), AwsError> {
        Validation::new().name("roleName", role_name, 64).arn("policyArn", arn).finish()?;
        let role = self.role(role_name)?;
        if role.is_service_linked() {
            return Err(errors::protected_role(&role.name));
        }
        self.check_attachable(arn)?;
        if role.attached_policies.iter().any(|a| a == arn) {
            return Ok(());
        }
        if role.attached_policies.len() >= MANAGED_POLICIES_PER_ROLE {
            return Err(errors::quota("PoliciesPerRole", MANAGED_POLICIES_PER_ROLE));
        }
        self.role_mut(role_name)?.attached_policies.push(arn.to_string());
        Ok(())
    }

    pub fn detach_role_policy(&mut self, role_name: &str, arn: &str) -> Result<(), AwsError> {
        Validation::new().name("roleName", role_name, 64).arn("policyArn", arn).finish()?;
        check_policy_arn(arn)?;
        let role = self.role(role_name)?;
        if role.is_service_linked() {
            return Err(errors::protected_role(&role.name));
        }
        let role = self.role_mut(role_name)?;
        let index = role
            .attached_policies
            .iter()
            .position(|a| a == arn)
            .ok_or_else(|| errors::policy_not_found(arn))?;
        role.attached_policies.remove(index);
        Ok(())
    }

    /// The attached policies as (name, ARN), in attach order, whose path starts with the
    /// prefix (ListAttachedUserPolicies, ListAttachedRolePolicies).
    pub fn attached_policies<'a>(&'a self, arns: &'a [String], path_prefix: Option<&str>) -> Vec<(&'a str, &'a str)> {
        arns.iter()
            .filter_map(|arn| {
                let (path, name) = match aws_managed::find(arn) {
                    Some(aws) => (aws.path, aws.name),
                    None => {
                        let p = self.policies.get(arn.as_str())?;
                        (p.path.as_str(), p.name.as_str())
                    }
                };
                path_prefix.is_none_or(|prefix| path.starts_with(prefix)).then_some((name, arn.as_str()))
            })
            .collect()
    }

    // ---- instance profiles --------------------------------------------------------------

    pub fn instance_profile(&self, name: &str) -> Result<&InstanceProfile, AwsError> {
        find_key(&self.instance_profiles, name)
            .and_then(|key| self.instance_profiles.get(&key))
            .ok_or_else(|| errors::no_such_instance_profile(name))
    }

    fn instance_profile_mut(&mut self, name: &str) -> Result<&mut InstanceProfile, AwsError> {
        let key = find_key(&self.instance_profiles, name).ok_or_else(|| errors::no_such_instance_profile(name))?;
        self.instance_profiles.get_mut(&key).ok_or_else(|| errors::no_such_instance_profile(name))
    }

    /// CreateInstanceProfile.
    pub fn create_instance_profile(
        &mut self,
        ids: &mut IdGenerator,
        account: &str,
        now: DateTime<Utc>,
        name: &str,
        path: Option<&str>,
        tags: Vec<Tag>,
    ) -> Result<&InstanceProfile, AwsError> {
        let path = path.unwrap_or("/");
        Validation::new()
            .name("instanceProfileName", name, 128)
            .path("path", path)
            .tags("tags", &tags)
            .finish()?;
        check_unique_tag_keys(&tags)?;
        if find_key(&self.instance_profiles, name).is_some() {
            return Err(errors::already_exists(format!("Instance Profile {name} already exists.")));
        }
        if self.instance_profiles.len() >= INSTANCE_PROFILES_PER_ACCOUNT {
            return Err(errors::quota("InstanceProfilesPerAccount", INSTANCE_PROFILES_PER_ACCOUNT));
        }
        let id = ids.unique_id("AIPA");
        self.set_tags(&id, tags);
        let profile = InstanceProfile {
            name: name.to_string(),
            path: path.to_string(),
            id,
            arn: instance_profile_arn(account, path, name),
            created: now,
            roles: Vec::new(),
        };
        Ok(self.instance_profiles.entry(name.to_string()).or_insert(profile))
    }

    /// ListInstanceProfiles.
    pub fn instance_profiles_with_prefix(&self, path_prefix: Option<&str>) -> Vec<&InstanceProfile> {
        with_prefix(self.instance_profiles.values(), |p| &p.path, path_prefix)
    }

    /// ListInstanceProfilesForRole.
    pub fn instance_profiles_for_role(&self, role_name: &str) -> Result<Vec<&InstanceProfile>, AwsError> {
        Validation::new().name("roleName", role_name, 64).finish()?;
        let role = self.role(role_name)?;
        Ok(self.instance_profiles.values().filter(|p| p.roles.contains(&role.name)).collect())
    }

    /// The roles of an instance profile, as stored.
    pub fn roles_of(&self, profile: &InstanceProfile) -> Vec<&Role> {
        profile.roles.iter().filter_map(|name| self.roles.get(name)).collect()
    }

    /// AddRoleToInstanceProfile: an instance profile holds one role, and the quota is fixed.
    pub fn add_role_to_instance_profile(&mut self, profile_name: &str, role_name: &str) -> Result<(), AwsError> {
        Validation::new()
            .name("instanceProfileName", profile_name, 128)
            .name("roleName", role_name, 64)
            .finish()?;
        let profile = self.instance_profile(profile_name)?;
        let role = self.role(role_name)?;
        if profile.roles.len() >= ROLES_PER_INSTANCE_PROFILE {
            return Err(errors::quota("InstanceSessionsPerInstanceProfile", ROLES_PER_INSTANCE_PROFILE));
        }
        let role_name = role.name.clone();
        self.instance_profile_mut(profile_name)?.roles.push(role_name);
        Ok(())
    }

    pub fn remove_role_from_instance_profile(&mut self, profile_name: &str, role_name: &str) -> Result<(), AwsError> {
        Validation::new()
            .name("instanceProfileName", profile_name, 128)
            .name("roleName", role_name, 64)
            .finish()?;
        self.instance_profile(profile_name)?;
        let role_name = self.role(role_name)?.name.clone();
        let profile = self.instance_profile_mut(profile_name)?;
        let index = profile
            .roles
            .iter()
            .position(|r| *r == role_name)
            .ok_or_else(|| errors::no_such_role(&role_name))?;
        profile.roles.remove(index);
        Ok(())
    }

    /// DeleteInstanceProfile: refused while it holds a role.
    pub fn delete_instance_profile(&mut self, name: &str) -> Result<(), AwsError> {
        Validation::new().name("instanceProfileName", name, 128).finish()?;
        let profile = self.instance_profile(name)?;
        if !profile.roles.is_empty() {
            return Err(errors::delete_conflict(
                "Cannot delete entity, must remove roles from instance profile first.",
            ));
        }
        let (key, id) = (profile.name.clone(), profile.id.clone());
        self.instance_profiles.remove(&key);
        self.tags.remove(&id);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Operations that need the whole world: ids, access keys, and other accounts' principals.

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

    /// Whether an IAM user or role ARN names an entity that exists: `None` when the ARN is not
    /// a user or role of an account this world holds (its existence cannot be known).
    pub fn iam_principal_exists(&self, arn: &str) -> Option<bool> {
        let rest = arn.strip_prefix("arn:aws:iam::")?;
        let (account, resource) = rest.split_once(':')?;
        let iam = &self.account(account)?.iam;
        let (kind, _) = resource.split_once('/')?;
        match kind {
            "user" => Some(iam.users.values().any(|u| u.arn == arn)),
            "role" => Some(iam.roles.values().any(|r| r.arn == arn)),
            _ => None,
        }
    }

    /// IAM resolves the users and roles a trust policy names when the policy is written and
    /// refuses those that do not exist (`Invalid principal in policy`). A document that does
    /// not parse is left to the parser's own error.
    pub fn check_trust_principals(&self, text: &str) -> Result<(), AwsError> {
        let Ok(policy) = Policy::parse_trust_policy(text) else {
            return Ok(());
        };
        for statement in &policy.statements {
            let set = match &statement.principal {
                Some(PrincipalBlock::Principal(set) | PrincipalBlock::NotPrincipal(set)) => set,
                None => continue,
            };
            for principal in &set.aws {
                if let AwsPrincipal::Arn(arn) = principal {
                    if self.iam_principal_exists(arn) == Some(false) {
                        return Err(errors::malformed_text(format!("Invalid principal in policy: \"AWS\":\"{arn}\"")));
                    }
                }
            }
        }
        Ok(())
    }

    /// CreateRole with the principal check of its trust policy.
    pub fn create_role(&mut self, account: &str, now: DateTime<Utc>, spec: NewRole<'_>) -> Result<&Role, AwsError> {
        self.iam(account)?.validate_new_role_input(&spec)?;
        self.check_trust_principals(spec.trust_policy)?;
        let (iam, ids) = self.iam_and_ids(account)?;
        iam.create_role(ids, account, now, spec)
    }

    /// UpdateAssumeRolePolicy with the principal check.
    pub fn update_assume_role_policy(&mut self, account: &str, role_name: &str, text: &str) -> Result<(), AwsError> {
        Validation::new().name("roleName", role_name, 64).document("policyDocument", text).finish()?;
        let iam = self.iam(account)?;
        let role = iam.role(role_name)?;
        if role.is_service_linked() {
            return Err(errors::protected_role(&role.name));
        }
        parse_trust_document(text, trust_policy_name(&role.name))?;
        self.check_trust_principals(text)?;
        self.iam_mut(account)?.update_assume_role_policy(role_name, text)
    }

    fn keys_of_user<'a>(&'a self, account: &str, user_name: &str) -> impl Iterator<Item = &'a AccessKey> + 'a {
        let (account, user_name) = (account.to_string(), user_name.to_string());
        self.access_keys.values().filter(move |key| {
            matches!(&key.owner, KeyOwner::User { account: a, user_name: u } if *a == account && *u == user_name)
        })
    }

    /// DeleteUser: refused while the user has access keys or policies. The user's keys stop
    /// working with it (there are none left by then).
    pub fn delete_user(&mut self, account: &str, name: &str) -> Result<(), AwsError> {
        Validation::new().name("userName", name, 128).finish()?;
        let iam = self.iam(account)?;
        let user = iam.user(name)?;
        if self.keys_of_user(account, &user.name).next().is_some() {
            return Err(errors::delete_conflict("Cannot delete entity, must delete access keys first."));
        }
        if !user.inline_policies.is_empty() {
            return Err(errors::delete_conflict("Cannot delete entity, must delete policies first."));
        }
        if !user.attached_policies.is_empty() {
            return Err(errors::delete_conflict("Cannot delete entity, must detach all policies first."));
        }
        let (key, id) = (user.name.clone(), user.id.clone());
        let iam = self.iam_mut(account)?;
        iam.users.remove(&key);
        iam.tags.remove(&id);
        Ok(())
    }

    /// UpdateUser: a new name or path. The user's access keys follow the new name.
    pub fn update_user(
        &mut self,
        account: &str,
        name: &str,
        new_name: Option<&str>,
        new_path: Option<&str>,
    ) -> Result<(), AwsError> {
        let mut validation = Validation::new();
        validation.name("userName", name, 128);
        if let Some(new_name) = new_name {
            validation.name("newUserName", new_name, 64);
        }
        if let Some(new_path) = new_path {
            validation.path("newPath", new_path);
        }
        validation.finish()?;
        let iam = self.iam_mut(account)?;
        let old_name = iam.user(name)?.name.clone();
        let target = new_name.unwrap_or(&old_name).to_string();
        if target != old_name {
            if let Some(other) = find_key(&iam.users, &target) {
                if other != old_name {
                    return Err(errors::already_exists(format!("User with name {target} already exists.")));
                }
            }
        }
        let Some(mut user) = iam.users.remove(&old_name) else {
            return Err(errors::no_such_user(name));
        };
        if let Some(new_path) = new_path {
            user.path = new_path.to_string();
        }
        user.name = target.clone();
        user.arn = user_arn(account, &user.path, &user.name);
        iam.users.insert(target.clone(), user);
        for key in self.access_keys.values_mut() {
            if let KeyOwner::User { account: a, user_name } = &mut key.owner {
                if a == account && *user_name == old_name {
                    *user_name = target.clone();
                }
            }
        }
        Ok(())
    }

    /// CreateAccessKey: a new long-term key for a user, at most two per user.
    pub fn create_access_key(&mut self, account: &str, user_name: &str, now: DateTime<Utc>) -> Result<AccessKey, AwsError> {
        Validation::new().name("userName", user_name, 128).finish()?;
        let user = self.iam(account)?.user(user_name)?.name.clone();
        if self.keys_of_user(account, &user).count() >= ACCESS_KEYS_PER_USER {
            return Err(errors::quota("AccessKeysPerUser", ACCESS_KEYS_PER_USER));
        }
        let id = self.ids.access_key_id("AKIA");
        let key = AccessKey {
            id: id.clone(),
            secret: self.ids.secret_access_key(),
            created: now,
            status: KeyStatus::Active,
            owner: KeyOwner::User { account: account.to_string(), user_name: user },
        };
        self.access_keys.insert(id, key.clone());
        Ok(key)
    }

    /// ListAccessKeys: the user (as stored) and its keys, oldest first.
    pub fn access_keys_of<'a>(&'a self, account: &str, user_name: &str) -> Result<(String, Vec<&'a AccessKey>), AwsError> {
        Validation::new().name("userName", user_name, 128).finish()?;
        let user = self.iam(account)?.user(user_name)?.name.clone();
        let mut keys: Vec<&AccessKey> = self.keys_of_user(account, &user).collect();
        keys.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
        Ok((user, keys))
    }

    fn user_key_mut(&mut self, account: &str, user_name: &str, key_id: &str) -> Result<&mut AccessKey, AwsError> {
        let user = self.iam(account)?.user(user_name)?.name.clone();
        self.access_keys
            .get_mut(key_id)
            .filter(|key| matches!(&key.owner, KeyOwner::User { account: a, user_name: u } if a == account && *u == user))
            .ok_or_else(|| errors::no_such_access_key(key_id))
    }

    /// UpdateAccessKey: `Active` or `Inactive`.
    pub fn update_access_key(&mut self, account: &str, user_name: &str, key_id: &str, status: &str) -> Result<(), AwsError> {
        Validation::new()
            .name("userName", user_name, 128)
            .access_key_id("accessKeyId", key_id)
            .one_of("status", status, &["Active", "Inactive", "Expired"])
            .finish()?;
        let status = match status {
            "Active" => KeyStatus::Active,
            "Inactive" => KeyStatus::Inactive,
            other => return Err(errors::invalid_input(format!("Invalid status {other}: an access key is Active or Inactive."))),
        };
        self.user_key_mut(account, user_name, key_id)?.status = status;
        Ok(())
    }

    /// DeleteAccessKey: the key stops working at once.
    pub fn delete_access_key(&mut self, account: &str, user_name: &str, key_id: &str) -> Result<(), AwsError> {
        Validation::new()
            .name("userName", user_name, 128)
            .access_key_id("accessKeyId", key_id)
            .finish()?;
        self.user_key_mut(account, user_name, key_id)?;
        self.access_keys.remove(key_id);
        Ok(())
    }
}

impl IamState {
    /// The input checks of CreateRole that do not need the world (constraints, document,
    /// size, name), so that [`World::create_role`] can run them before the principal check.
    fn validate_new_role_input(&self, spec: &NewRole<'_>) -> Result<(), AwsError> {
        self.validate_new_role(spec).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rstest::rstest;

    use super::*;
    use crate::{profile::BehaviourProfile, state::World};

    const ACCOUNT: &str = "111111111111";
    const TRUST_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    const ALLOW_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().expect("valid time")
    }

    fn world() -> World {
        World::new(BehaviourProfile::default(), now())
    }

    fn role_spec(name: &str) -> NewRole<'_> {
        NewRole { name, trust_policy: TRUST_EC2, ..NewRole::default() }
    }

    fn code_and_message(result: Result<impl std::fmt::Debug, AwsError>) -> (String, u16, String) {
        let error = result.expect_err("expected an error");
        (error.code.to_string(), error.status, error.message)
    }

    #[test]
    fn users_are_created_once_and_found_regardless_of_case() {
        let mut world = world();
        let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
        let user = iam.create_user(ids, ACCOUNT, now(), "Alice", Some("/team/"), Vec::new()).unwrap();
        assert_eq!(user.arn, "arn:aws:iam::111111111111:user/team/Alice");
        assert!(user.id.starts_with("AIDA") && user.id.len() == 21);
        assert_eq!(iam.user("alice").unwrap().name, "Alice");
        assert_eq!(
            code_and_message(iam.create_user(ids, ACCOUNT, now(), "ALICE", None, Vec::new())),
            ("EntityAlreadyExists".into(), 409, "User with name ALICE already exists.".into())
        );
        assert_eq!(
            code_and_message(iam.user("bob")),
            ("NoSuchEntity".into(), 404, "The user with name bob cannot be found.".into())
        );
    }

    #[rstest]
    #[case("bad name", "1 validation error detected: Value 'bad name' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+")]
    #[case(
        "a-very-long-user-name-that-goes-on-and-on-and-on-past-sixty-four-characters",
        "1 validation error detected: Value 'a-very-long-user-name-that-goes-on-and-on-and-on-past-sixty-four-characters' at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64"
    )]
    fn user_names_follow_the_model(#[case] name: &str, #[case] message: &str) {
        let mut world = world();
        let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
        assert_eq!(
            code_and_message(iam.create_user(ids, ACCOUNT, now(), name, None, Vec::new())),
            ("ValidationError".into(), 400, message.into())
        );
    }

    #[rstest]
    #[case("/", true)]
    #[case("/a/b/", true)]
    #[case("a/", false)]
    #[case("/a", false)]
    #[case("//", false)]
    fn paths_follow_the_model(#[case] path: &str, #[case] ok: bool) {
        assert_eq!(Validation::new().path("path", path).finish().is_ok(), ok, "{path}");
    }

    #[test]
    fn a_user_keeps_at_most_two_access_keys() {
        let mut world = world();
        let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
        iam.create_user(ids, ACCOUNT, now(), "alice", None, Vec::new()).unwrap();
        let first = world.create_access_key(ACCOUNT, "alice", now()).unwrap();
        assert!(first.id.starts_with("AKIA") && first.secret.len() == 40);
        world.create_access_key(ACCOUNT, "alice", now()).unwrap();
        assert_eq!(
            code_and_message(world.create_access_key(ACCOUNT, "alice", now())),
            ("LimitExceeded".into(), 409, "Cannot exceed quota for AccessKeysPerUser: 2".into())
        );
        world.update_access_key(ACCOUNT, "alice", &first.id, "Inactive").unwrap();
        assert_eq!(world.access_keys[&first.id].status, KeyStatus::Inactive);
        world.delete_access_key(ACCOUNT, "alice", &first.id).unwrap();
        assert_eq!(world.access_keys_of(ACCOUNT, "alice").unwrap().1.len(), 1);
        assert_eq!(
            code_and_message(world.delete_access_key(ACCOUNT, "alice", &first.id)),
            ("NoSuchEntity".into(), 404, format!("The Access Key with id {} cannot be found.", first.id))
        );
    }

    #[test]
    fn another_users_key_is_not_found() {
        let mut world = world();
        let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
        iam.create_user(ids, ACCOUNT, now(), "alice", None, Vec::new()).unwrap();
        let admin_key = world.access_keys_of(ACCOUNT, "admin").unwrap().1[0].id.clone();
        assert_eq!(code_and_message(world.delete_access_key(ACCOUNT, "alice", &admin_key)).0, "NoSuchEntity");
    }

    #[test]
    fn deleting_a_user_needs_its_keys_and_policies_gone_first() {
        let mut world = world();
        let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
        iam.create_user(ids, ACCOUNT, now(), "alice", None, Vec::new()).unwrap();
        iam.put_user_policy("alice", "s3", ALLOW_S3).unwrap();
        iam.attach_user_policy("alice", "arn:aws:iam::aws:policy/ReadOnlyAccess").unwrap();
        let key = world.create_access_key(ACCOUNT, "alice", now()).unwrap();
        let conflict = |world: &mut World| code_and_message(world.delete_user(ACCOUNT, "alice"));
        assert_eq!(
            conflict(&mut world),
            ("DeleteConflict".into(), 409, "Cannot delete entity, must delete access keys first.".into())
        );
        world.delete_access_key(ACCOUNT, "alice", &key.id).unwrap();
        assert_eq!(conflict(&mut world).2, "Cannot delete entity, must delete policies first.");
        world.iam_mut(ACCOUNT).unwrap().delete_user_policy("alice", "s3").unwrap();
        assert_eq!(conflict(&mut world).2, "Cannot delete entity, must detach all policies first.");
        world
            .iam_mut(ACCOUNT)
            .unwrap()
            .detach_user_policy("alice", "arn:aws:iam::aws:policy/ReadOnlyAccess")
            .unwrap();
        world.delete_user(ACCOUNT, "alice").unwrap();
        assert!(world.iam(ACCOUNT).unwrap().user("alice").is_err());
    }

    #[test]
    fn renaming_a_user_moves_its_keys() {
        let mut world = world();
        let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
        iam.create_user(ids, ACCOUNT, now(), "alice", None, Vec::new()).unwrap();
        let key = world.create_access_key(ACCOUNT, "alice", now()).unwrap();
        world.update_user(ACCOUNT, "alice", Some("alicia"), Some("/people/")).unwrap();
        let user = world.iam(ACCOUNT).unwrap().user("alicia").unwrap();
        assert_eq!(user.arn, "arn:aws:iam::111111111111:user/people/alicia");
        assert!(world.principal_of(&world.access_keys[&key.id]).is_some());
    }

    #[test]
    fn roles_parse_their_trust_policy() {
        let mut world = world();
        let role = world.create_role(ACCOUNT, now(), role_spec("Web")).unwrap();
        assert_eq!(role.max_session_duration, 3600);
        assert!(role.id.starts_with("AROA"));
        let identity_policy_as_trust = NewRole { trust_policy: ALLOW_S3, ..role_spec("Other") };
        assert_eq!(
            code_and_message(world.create_role(ACCOUNT, now(), identity_policy_as_trust)).0,
            "MalformedPolicyDocument"
        );
        assert_eq!(
            code_and_message(world.create_role(ACCOUNT, now(), role_spec("web"))),
            ("EntityAlreadyExists".into(), 409, "Role with name web already exists.".into())
        );
        let too_long = NewRole { max_session_duration: Some(50_000), ..role_spec("Long") };
        assert_eq!(
            code_and_message(world.create_role(ACCOUNT, now(), too_long)).2,
            "1 validation error detected: Value '50000' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200"
        );
    }

    #[test]
    fn trust_policies_must_name_existing_principals_of_known_accounts() {
        let mut world = world();
        let trusting = |arn: &str| {
            format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{arn}"}},"Action":"sts:AssumeRole"}}]}}"#)
        };
        let missing = trusting("arn:aws:iam::222222222222:role/Nobody");
        assert_eq!(
            code_and_message(world.create_role(ACCOUNT, now(), NewRole { trust_policy: &missing, ..role_spec("R") })),
            (
                "MalformedPolicyDocument".into(),
                400,
                "Invalid principal in policy: \"AWS\":\"arn:aws:iam::222222222222:role/Nobody\"".into()
            )
        );
        let admin = trusting("arn:aws:iam::222222222222:user/admin");
        world.create_role(ACCOUNT, now(), NewRole { trust_policy: &admin, ..role_spec("R") }).unwrap();
        let unknown_account = trusting("arn:aws:iam::999999999999:role/Whatever");
        world.create_role(ACCOUNT, now(), NewRole { trust_policy: &unknown_account, ..role_spec("S") }).unwrap();
    }

    #[test]
    fn an_instance_profile_holds_one_role() {
        let mut world = world();
        world.create_role(ACCOUNT, now(), role_spec("R1")).unwrap();
        world.create_role(ACCOUNT, now(), role_spec("R2")).unwrap();
        let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
        let profile = iam.create_instance_profile(ids, ACCOUNT, now(), "P", None, Vec::new()).unwrap();
        assert!(profile.id.starts_with("AIPA"));
        assert_eq!(
            code_and_message(iam.create_instance_profile(ids, ACCOUNT, now(), "P", None, Vec::new())),
            ("EntityAlreadyExists".into(), 409, "Instance Profile P already exists.".into())
        );
        iam.add_role_to_instance_profile("P", "R1").unwrap();
        let quota = ("LimitExceeded".to_string(), 409, "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1".to_string());
        assert_eq!(code_and_message(iam.add_role_to_instance_profile("P", "R2")), quota);
        assert_eq!(code_and_message(iam.add_role_to_instance_profile("P", "R1")), quota);
        assert_eq!(
            code_and_message(iam.add_role_to_instance_profile("Q", "R1")),
            ("NoSuchEntity".into(), 404, "Instance Profile Q cannot be found.".into())
        );
        assert_eq!(
            code_and_message(iam.delete_role("R1")).2,
            "Cannot delete entity, must remove roles from instance profile first."
        );
        assert_eq!(
            code_and_message(iam.delete_instance_profile("P")),
            ("DeleteConflict".into(), 409, "Cannot delete entity, must remove roles from instance profile first.".into())
        );
        assert_eq!(iam.instance_profiles_for_role("R1").unwrap().len(), 1);
        iam.remove_role_from_instance_profile("P", "R1").unwrap();
        iam.delete_instance_profile("P").unwrap();
        iam.delete_role("R1").unwrap();
        assert_eq!(
            code_and_message(iam.role("R1")),
            ("NoSuchEntity".into(), 404, "The role with name R1 cannot be found.".into())
        );
    }

    #[test]
    fn deleting_a_role_needs_its_policies_gone_first() {
        let mut world = world();
        world.create_role(ACCOUNT, now(), role_spec("R")).unwrap();
        let iam = world.iam_mut(ACCOUNT).unwrap();
        iam.put_role_policy("R", "inline", ALLOW_S3).unwrap();
        iam.attach_role_policy("R", "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore").unwrap();
        assert_eq!(code_and_message(iam.delete_role("R")).2, "Cannot delete entity, must delete policies first.");
        iam.delete_role_policy("R", "inline").unwrap();
        assert_eq!(
            code_and_message(iam.delete_role_policy("R", "inline")),
            ("NoSuchEntity".into(), 404, "The role policy with name inline cannot be found.".into())
        );
        assert_eq!(code_and_message(iam.delete_role("R")).2, "Cannot delete entity, must detach all policies first.");
        iam.detach_role_policy("R", "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore").unwrap();
        iam.delete_role("R").unwrap();
    }

    #[test]
    fn inline_policies_are_identity_policies() {
        let mut world = world();
        let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
        iam.create_user(ids, ACCOUNT, now(), "alice", None, Vec::new()).unwrap();
        let with_principal = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#;
        assert_eq!(
            code_and_message(iam.put_user_policy("alice", "p", with_principal)),
            ("MalformedPolicyDocument".into(), 400, "Policy document should not specify a principal.".into())
        );
        assert_eq!(
            code_and_message(iam.user_policy("alice", "p")),
            ("NoSuchEntity".into(), 404, "The user policy with name p cannot be found.".into())
        );
        let big = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{}"}}]}}"#,
            "b".repeat(2100)
        );
        assert_eq!(
            code_and_message(iam.put_user_policy("alice", "big", &big)),
            ("LimitExceeded".into(), 409, "Maximum policy size of 2048 bytes exceeded for user alice".into())
        );
    }

    #[test]
    fn attaching_needs_an_attachable_policy_and_respects_the_quota() {
        let mut world = world();
        world.create_role(ACCOUNT, now(), role_spec("R")).unwrap();
        let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
        assert_eq!(
            code_and_message(iam.attach_role_policy("R", "arn:aws:iam::aws:policy/Nope")),
            ("NoSuchEntity".into(), 404, "Policy arn:aws:iam::aws:policy/Nope does not exist or is not attachable.".into())
        );
        assert_eq!(
            code_and_message(iam.attach_role_policy("R", "arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy")),
            ("PolicyNotAttachable".into(), 400, "Cannot attach a Service Role Policy to a Customer Role.".into())
        );
        assert_eq!(
            code_and_message(iam.detach_role_policy("R", "arn:aws:iam::aws:policy/ReadOnlyAccess")),
            ("NoSuchEntity".into(), 404, "Policy arn:aws:iam::aws:policy/ReadOnlyAccess was not found.".into())
        );
        for i in 0..MANAGED_POLICIES_PER_ROLE {
            let name = format!("P{i}");
            let spec = NewPolicy { name: &name, document: ALLOW_S3, ..NewPolicy::default() };
            let arn = iam.create_policy(ids, ACCOUNT, now(), spec).unwrap().arn.clone();
            iam.attach_role_policy("R", &arn).unwrap();
            iam.attach_role_policy("R", &arn).unwrap();
        }
        assert_eq!(
            code_and_message(iam.attach_role_policy("R", "arn:aws:iam::aws:policy/ReadOnlyAccess")),
            ("LimitExceeded".into(), 409, "Cannot exceed quota for PoliciesPerRole: 10".into())
        );
        assert_eq!(iam.attachment_count("arn:aws:iam::111111111111:policy/P0"), 1);
        assert_eq!(iam.list_policies(PolicyScope::Local, true, None).len(), 10);
    }

    #[test]
    fn managed_policies_keep_five_versions_and_refuse_deletion_while_in_use() {
        let mut world = world();
        let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
        let spec = NewPolicy { name: "P", path: Some("/x/"), document: ALLOW_S3, ..NewPolicy::default() };
        let policy = iam.create_policy(ids, ACCOUNT, now(), spec).unwrap();
        let arn = policy.arn.clone();
        assert_eq!(arn, "arn:aws:iam::111111111111:policy/x/P");
        assert!(policy.id.starts_with("ANPA"));
        assert_eq!(
            code_and_message(iam.create_policy(ids, ACCOUNT, now(), NewPolicy { name: "p", document: ALLOW_S3, ..NewPolicy::default() })),
            ("EntityAlreadyExists".into(), 409, "A policy called p already exists. Duplicate names are not allowed.".into())
        );
        for expected in ["v2", "v3", "v4", "v5"] {
            assert_eq!(iam.create_policy_version(now(), &arn, ALLOW_S3, false).unwrap().version_id, expected);
        }
        assert_eq!(
            code_and_message(iam.create_policy_version(now(), &arn, ALLOW_S3, true)).0,
            "LimitExceeded"
        );
        assert_eq!(
            code_and_message(iam.delete_policy_version(&arn, "v1")).2,
            "Cannot delete the default version of a policy."
        );
        iam.delete_policy_version(&arn, "v5").unwrap();
        let v6 = iam.create_policy_version(now(), &arn, ALLOW_S3, true).unwrap();
        assert_eq!((v6.version_id, v6.is_default), ("v6", true));
        assert_eq!(iam.policy(&arn).unwrap().default_version_id(), "v6");
        assert_eq!(code_and_message(iam.delete_policy(&arn)).0, "DeleteConflict");
        for version in ["v1", "v2", "v3", "v4"] {
            iam.delete_policy_version(&arn, version).unwrap();
        }
        iam.create_user(ids, ACCOUNT, now(), "alice", None, Vec::new()).unwrap();
        iam.attach_user_policy("alice", &arn).unwrap();
        assert_eq!(
            code_and_message(iam.delete_policy(&arn)),
            ("DeleteConflict".into(), 409, "Cannot delete a policy attached to entities.".into())
        );
        iam.detach_user_policy("alice", &arn).unwrap();
        iam.delete_policy(&arn).unwrap();
        assert_eq!(
            code_and_message(iam.policy(&arn)),
            ("NoSuchEntity".into(), 404, format!("Policy {arn} was not found."))
        );
    }

    #[test]
    fn managed_policies_need_the_current_language() {
        let mut world = world();
        let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
        let legacy = r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        assert_eq!(
            code_and_message(iam.create_policy(ids, ACCOUNT, now(), NewPolicy { name: "P", document: legacy, ..NewPolicy::default() })),
            ("MalformedPolicyDocument".into(), 400, "Policy document must be version 2012-10-17 or greater.".into())
        );
    }

    #[test]
    fn aws_managed_policies_are_listed_and_read() {
        let world = world();
        let iam = world.iam(ACCOUNT).unwrap();
        let admin = iam.policy("arn:aws:iam::aws:policy/AdministratorAccess").unwrap();
        assert_eq!((admin.id(), admin.default_version_id()), ("ANPAIWMBCKSKIEE64ZLYK", "v1"));
        assert_eq!(iam.attachment_count("arn:aws:iam::aws:policy/AdministratorAccess"), 1);
        let attached = iam.list_policies(PolicyScope::All, true, None);
        assert_eq!(attached.iter().map(|p| p.name()).collect::<Vec<_>>(), ["AdministratorAccess"]);
        assert!(iam.list_policies(PolicyScope::Aws, false, Some("/aws-service-role/")).len() >= 2);
        assert!(iam.policy_version("arn:aws:iam::aws:policy/AdministratorAccess", "v1").unwrap().is_default);
        assert_eq!(
            code_and_message(iam.policy("not-an-arn-but-long-enough")),
            ("InvalidInput".into(), 400, "ARN not-an-arn-but-long-enough is not valid.".into())
        );
    }

    #[test]
    fn service_linked_roles_are_named_after_their_service_and_protected() {
        let mut world = world();
        let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
        let role = iam.create_service_linked_role(ids, ACCOUNT, now(), "autoscaling.amazonaws.com", None, None).unwrap();
        assert_eq!(role.name, "AWSServiceRoleForAutoScaling");
        assert_eq!(role.path, "/aws-service-role/autoscaling.amazonaws.com/");
        assert_eq!(
            role.arn,
            "arn:aws:iam::111111111111:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
        );
        assert_eq!(role.attached_policies, ["arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy"]);
        assert_eq!(
            code_and_message(iam.create_service_linked_role(ids, ACCOUNT, now(), "autoscaling.amazonaws.com", None, None)),
            (
                "InvalidInput".into(),
                400,
                "Service role name AWSServiceRoleForAutoScaling has been taken in this account, please try a different suffix."
                    .into()
            )
        );
        let events = iam.create_service_linked_role(ids, ACCOUNT, now(), "events.amazonaws.com", None, None).unwrap();
        assert_eq!(events.name, "AWSServiceRoleForCloudWatchEvents");
        let other = iam.create_service_linked_role(ids, ACCOUNT, now(), "foo-bar.amazonaws.com", None, None).unwrap();
        assert_eq!(other.name, "AWSServiceRoleForFooBar");
        assert_eq!(
            code_and_message(iam.delete_role("AWSServiceRoleForAutoScaling")),
            (
                "UnmodifiableEntity".into(),
                400,
                "Cannot perform the operation on the protected role 'AWSServiceRoleForAutoScaling' - this role is only modifiable by AWS".into()
            )
        );
    }

    #[test]
    fn tags_merge_case_insensitively_and_refuse_duplicates() {
        let mut world = world();
        let tag = |k: &str, v: &str| Tag { key: k.into(), value: v.into() };
        let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
        assert_eq!(
            code_and_message(iam.create_user(ids, ACCOUNT, now(), "u", None, vec![tag("a", "1"), tag("A", "2")])).0,
            "InvalidInput"
        );
        let id = iam.create_user(ids, ACCOUNT, now(), "u", None, vec![tag("team", "x")]).unwrap().id.clone();
        iam.tag_user("u", vec![tag("TEAM", "y"), tag("env", "dev")]).unwrap();
        assert_eq!(iam.tags_of(&id), [tag("TEAM", "y"), tag("env", "dev")]);
        iam.untag_user("u", &["team".to_string()]).unwrap();
        assert_eq!(iam.tags_of(&id), [tag("env", "dev")]);
    }

    #[rstest]
    #[case(r#"{"a": "b c"}"#, "%7B%22a%22%3A%20%22b%20c%22%7D")]
    #[case("s3:*\n", "s3%3A*%0A")]
    #[case("ü~", "%C3%BC%7E")]
    fn documents_are_url_encoded_like_iam(#[case] text: &str, #[case] encoded: &str) {
        assert_eq!(encode_document(text), encoded);
    }

    #[test]
    fn policy_sizes_ignore_whitespace() {
        assert_eq!(policy_size("{ \"a\" :\n 1 }"), 7);
    }
}
