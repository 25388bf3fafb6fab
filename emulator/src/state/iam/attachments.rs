//! Managed policies attached to users and roles: attaching (idempotent, within the quota),
//! detaching and listing them.

use super::{
    errors, policies::check_policy_arn, IamState, MANAGED_POLICIES_PER_ROLE, MANAGED_POLICIES_PER_USER,
};
use crate::{error::AwsError, state::aws_managed};

impl IamState {
    /// Whether a policy can be attached to a user or role of this account.
    pub(super) fn check_attachable(&self, arn: &str) -> Result<(), AwsError> {
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
}
