//! IAM's errors, with IAM's texts (see the parent module on which texts are confirmed).

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

/// Changing an AWS managed policy (a new version, deleting it or a version, another default).
/// Not confirmed: neither the code nor the text of AWS's answer was found recorded; the
/// operations' documented errors leave `InvalidInput` as the one that fits, and the wording is
/// chosen.
pub fn aws_managed_policy(arn: &str) -> AwsError {
    invalid_input(format!("Cannot modify or delete the AWS managed policy {arn}."))
}

pub fn invalid_arn(arn: &str) -> AwsError {
    invalid_input(format!("ARN {arn} is not valid."))
}
