//! Managed policies, AWS managed (the emulator's catalogue, `crate::state::aws_managed`) or
//! customer managed: reading, listing, creating and deleting them and their versions, and the
//! documents of the policies attached to a principal.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use wana_policy::NamedPolicy;

use super::{
    errors, parse_managed_document, policy_arn, policy_size, tags::check_unique_tag_keys, IamState, ManagedPolicy,
    PolicyDocument, PolicyVersion, Tag, MANAGED_POLICY_SIZE, VERSIONS_PER_POLICY,
};
use crate::{
    error::AwsError,
    ids::IdGenerator,
    state::{aws_managed, aws_managed::AwsManagedPolicy},
};

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

/// A customer managed policy to create.
#[derive(Debug, Clone, Default)]
pub struct NewPolicy<'a> {
    pub name: &'a str,
    pub path: Option<&'a str>,
    pub document: &'a str,
    pub description: Option<&'a str>,
    pub tags: Vec<Tag>,
}

/// Whether a policy ARN is well formed: `arn:<partition>:iam::<account or aws>:policy/...`.
pub(super) fn check_policy_arn(arn: &str) -> Result<(), AwsError> {
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

/// Whether an ARN names a policy of AWS's own account (`arn:<partition>:iam::aws:policy/...`),
/// whether or not the emulator's catalogue holds it.
pub fn is_aws_managed_arn(arn: &str) -> bool {
    arn.split(':').nth(4) == Some("aws")
}

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

    /// A managed policy by ARN (GetPolicy): `Policy X was not found.` when there is none.
    pub fn policy(&self, arn: &str) -> Result<PolicyRef<'_>, AwsError> {
        check_policy_arn(arn)?;
        if let Some(aws) = aws_managed::find(arn) {
            return Ok(PolicyRef::Aws(aws));
        }
        self.policies.get(arn).map(PolicyRef::Customer).ok_or_else(|| errors::policy_not_found(arn))
    }

    /// A customer managed policy to change. AWS managed policies (`arn:aws:iam::aws:policy/...`)
    /// are AWS's alone: every change to one is refused ([`errors::aws_managed_policy`]).
    pub(super) fn customer_policy_mut(&mut self, arn: &str) -> Result<&mut ManagedPolicy, AwsError> {
        check_policy_arn(arn)?;
        if is_aws_managed_arn(arn) {
            return Err(errors::aws_managed_policy(arn));
        }
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
        let policy = self.customer_policy_mut(arn)?;
        let (many_versions, id) = (policy.versions.len() > 1, policy.id.clone());
        if self.attachment_count(arn) > 0 || self.boundary_usage_count(arn) > 0 {
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
}
