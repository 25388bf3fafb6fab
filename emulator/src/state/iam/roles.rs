//! IAM roles: creating them (with their trust policy), finding, listing, updating and deleting
//! them. Checking the principals a trust policy names needs every account, so those operations
//! are methods on [`World`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use wana_policy::{AwsPrincipal, Policy, PrincipalBlock};

use super::{
    errors, find_key, parse_trust_document, policy_size, role_arn, tags::check_unique_tag_keys, trust_policy_name,
    with_prefix, IamState, PolicyDocument, Role, Tag, DEFAULT_MAX_SESSION_DURATION, ROLES_PER_ACCOUNT, TRUST_POLICY_SIZE,
};
use crate::{error::AwsError, ids::IdGenerator, state::World};

/// A role to create.
#[derive(Debug, Clone, Default)]
pub struct NewRole<'a> {
    pub name: &'a str,
    pub path: Option<&'a str>,
    pub trust_policy: &'a str,
    pub description: Option<&'a str>,
    pub max_session_duration: Option<i64>,
    pub tags: Vec<Tag>,
    /// `PermissionsBoundary`: a managed policy of the account or an AWS managed policy.
    pub permissions_boundary: Option<&'a str>,
}

impl IamState {
    pub fn role(&self, name: &str) -> Result<&Role, AwsError> {
        find_key(&self.roles, name)
            .and_then(|key| self.roles.get(&key))
            .ok_or_else(|| errors::no_such_role(name))
    }

    pub(super) fn role_mut(&mut self, name: &str) -> Result<&mut Role, AwsError> {
        let key = find_key(&self.roles, name).ok_or_else(|| errors::no_such_role(name))?;
        self.roles.get_mut(&key).ok_or_else(|| errors::no_such_role(name))
    }

    /// The model checks of CreateRole, in IAM's order: the tags, the trust policy, its size,
    /// then the name, then the permissions boundary (the order of the last is unconfirmed). The
    /// input constraints before them are checked on the wire.
    fn validate_new_role(&self, spec: &NewRole<'_>) -> Result<(i64, PolicyDocument), AwsError> {
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
        if let Some(boundary) = spec.permissions_boundary {
            self.check_boundary(boundary)?;
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
            permissions_boundary: spec.permissions_boundary.map(str::to_string),
        };
        Ok(self.roles.entry(spec.name.to_string()).or_insert(role))
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

    /// The input checks of CreateRole that do not need the world (tags, document, size,
    /// name), so that [`World::create_role`] can run them before the principal check.
    fn validate_new_role_input(&self, spec: &NewRole<'_>) -> Result<(), AwsError> {
        self.validate_new_role(spec).map(|_| ())
    }
}

// ---------------------------------------------------------------------------------------------
// Operations that need other accounts' principals.

impl World {
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
        let iam = self.iam(account)?;
        let role = iam.role(role_name)?;
        if role.is_service_linked() {
            return Err(errors::protected_role(&role.name));
        }
        parse_trust_document(text, trust_policy_name(&role.name))?;
        self.check_trust_principals(text)?;
        self.iam_mut(account)?.update_assume_role_policy(role_name, text)
    }
}
