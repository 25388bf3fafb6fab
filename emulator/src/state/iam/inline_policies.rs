//! Inline policies of users and roles: identity policies embedded in one entity, within a
//! per-entity size quota.

use super::{
    errors, inline_policy_name, parse_identity_document, policy_size, IamState, PolicyDocument, Role, User,
    ROLE_INLINE_POLICY_SIZE, USER_INLINE_POLICY_SIZE,
};
use crate::error::AwsError;

impl IamState {
    /// PutUserPolicy: adds or replaces an inline policy of a user.
    pub fn put_user_policy(&mut self, user_name: &str, policy_name: &str, text: &str) -> Result<(), AwsError> {
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
}
