//! Permissions boundaries of users and roles: a managed policy (of the account, or AWS managed)
//! that caps what the entity's identity policies can grant. Setting one needs the policy to
//! exist and be attachable, like attaching it; a service-linked role's boundary is AWS's alone.
//!
//! Not confirmed, chosen: removing a boundary from an entity that has none succeeds (the API
//! reference lists only `NoSuchEntity` for a missing entity), and a policy used as a boundary
//! cannot be deleted, with the same `DeleteConflict` text as an attached one.

use wana_policy::NamedPolicy;

use super::{errors, IamState};
use crate::error::AwsError;

impl IamState {
    /// Whether a policy can be a permissions boundary here: the checks of attaching it.
    pub fn check_boundary(&self, arn: &str) -> Result<(), AwsError> {
        self.check_attachable(arn)
    }

    /// PutUserPermissionsBoundary: sets or replaces the user's boundary.
    pub fn put_user_permissions_boundary(&mut self, user_name: &str, arn: &str) -> Result<(), AwsError> {
        self.user(user_name)?;
        self.check_boundary(arn)?;
        self.user_mut(user_name)?.permissions_boundary = Some(arn.to_string());
        Ok(())
    }

    /// DeleteUserPermissionsBoundary.
    pub fn delete_user_permissions_boundary(&mut self, user_name: &str) -> Result<(), AwsError> {
        self.user_mut(user_name)?.permissions_boundary = None;
        Ok(())
    }

    /// PutRolePermissionsBoundary: refused for service-linked roles.
    pub fn put_role_permissions_boundary(&mut self, role_name: &str, arn: &str) -> Result<(), AwsError> {
        let role = self.role(role_name)?;
        if role.is_service_linked() {
            return Err(errors::protected_role(&role.name));
        }
        self.check_boundary(arn)?;
        self.role_mut(role_name)?.permissions_boundary = Some(arn.to_string());
        Ok(())
    }

    /// DeleteRolePermissionsBoundary: refused for service-linked roles.
    pub fn delete_role_permissions_boundary(&mut self, role_name: &str) -> Result<(), AwsError> {
        let role = self.role(role_name)?;
        if role.is_service_linked() {
            return Err(errors::protected_role(&role.name));
        }
        self.role_mut(role_name)?.permissions_boundary = None;
        Ok(())
    }

    /// `PermissionsBoundaryUsageCount`: how many users and roles the policy bounds.
    pub fn boundary_usage_count(&self, arn: &str) -> usize {
        let users = self.users.values().filter(|u| u.permissions_boundary.as_deref() == Some(arn)).count();
        let roles = self.roles.values().filter(|r| r.permissions_boundary.as_deref() == Some(arn)).count();
        users + roles
    }

    /// The document of a boundary as it is now (the policy's default version). A boundary whose
    /// policy is gone cannot exist: IAM refuses to delete a policy in use as one.
    pub fn boundary_document(&self, arn: Option<&str>) -> Option<&NamedPolicy> {
        self.managed_policy_document(arn?)
    }
}
