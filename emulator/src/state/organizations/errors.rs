//! AWS Organizations' errors. Every one is HTTP 400, as the service answers them.
//!
//! Confirmed as AWS's wording (quoted from real responses in public bug reports and tool
//! output): `Your account is not a member of an organization.`, `You have attached the maximum
//! number of policies to the specified target.`, `You cannot remove the last policy attached to
//! the specified target. You must have at least one attached at all times.`, `You don't have
//! permissions to access this resource.`, and `The provided policy document does not meet the
//! requirements of the specified policy type.`
//!
//! Not confirmed (the texts other emulators use, or chosen in AWS's style): the others.

use super::PolicyType;
use crate::error::AwsError;

fn error(code: &'static str, message: impl Into<String>) -> AwsError {
    AwsError::new(code, 400, message)
}

pub fn not_in_use() -> AwsError {
    error("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
}

/// A member account asking what only the management account may, and IAM's refusals.
pub fn access_denied() -> AwsError {
    error("AccessDeniedException", "You don't have permissions to access this resource.")
}

pub fn already_in_organization() -> AwsError {
    error("AlreadyInOrganizationException", "The provided account is already a member of an organization.")
}

pub fn invalid_input(reason: &'static str, message: impl Into<String>) -> AwsError {
    error("InvalidInputException", message).with_reason(reason)
}

/// A value of the right syntax that names something the emulator does not model.
pub fn invalid_value() -> AwsError {
    invalid_input("INVALID_ENUM", "You specified an invalid value.")
}

pub fn constraint(reason: &'static str, message: impl Into<String>) -> AwsError {
    error("ConstraintViolationException", message).with_reason(reason)
}

pub fn root_not_found() -> AwsError {
    error("RootNotFoundException", "You specified a root that doesn't exist.")
}

pub fn parent_not_found() -> AwsError {
    error("ParentNotFoundException", "You specified a parent that doesn't exist.")
}

pub fn source_parent_not_found() -> AwsError {
    error("SourceParentNotFoundException", "You specified a source parent that doesn't exist.")
}

pub fn destination_parent_not_found() -> AwsError {
    error("DestinationParentNotFoundException", "You specified a destination parent that doesn't exist.")
}

pub fn account_not_found() -> AwsError {
    error("AccountNotFoundException", "You specified an account that doesn't exist.")
}

pub fn duplicate_account() -> AwsError {
    error("DuplicateAccountException", "That account is already present in the specified destination.")
}

pub fn duplicate_unit() -> AwsError {
    error("DuplicateOrganizationalUnitException", "An OU with the same name already exists.")
}

pub fn target_not_found() -> AwsError {
    error("TargetNotFoundException", "You specified a target that doesn't exist.")
}

pub fn policy_not_found() -> AwsError {
    error("PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified.")
}

pub fn duplicate_policy() -> AwsError {
    error("DuplicatePolicyException", "A policy with the same name already exists.")
}

pub fn policy_in_use() -> AwsError {
    error(
        "PolicyInUseException",
        "The policy is attached to one or more entities. You must detach it from all roots, OUs, and accounts before performing this operation.",
    )
}

pub fn immutable_policy() -> AwsError {
    invalid_input("IMMUTABLE_POLICY", "You specified a policy that is managed by AWS and can't be modified.")
}

pub fn malformed_policy() -> AwsError {
    error(
        "MalformedPolicyDocumentException",
        "The provided policy document does not meet the requirements of the specified policy type.",
    )
}

pub fn type_already_enabled() -> AwsError {
    error("PolicyTypeAlreadyEnabledException", "The specified policy type is already enabled.")
}

pub fn type_not_enabled() -> AwsError {
    error("PolicyTypeNotEnabledException", "This operation can be performed only for enabled policy types.")
}

/// A policy type the emulator does not model, or an SCP or RCP in an organization without all
/// features.
pub fn type_not_available(kind: &str) -> AwsError {
    error(
        "PolicyTypeNotAvailableForOrganizationException",
        format!("The policy type {kind} is not available for the organization."),
    )
}

pub fn duplicate_attachment() -> AwsError {
    error("DuplicatePolicyAttachmentException", "The selected policy is already attached to the specified target.")
}

pub fn not_attached() -> AwsError {
    error("PolicyNotAttachedException", "The policy isn't attached to the specified target in the specified root.")
}

pub fn too_many_attached() -> AwsError {
    constraint(
        "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
        "You have attached the maximum number of policies to the specified target.",
    )
}

pub fn last_policy() -> AwsError {
    constraint(
        "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
        "You cannot remove the last policy attached to the specified target. You must have at least one attached at all times.",
    )
}

pub fn content_too_large(kind: PolicyType) -> AwsError {
    constraint(
        "POLICY_CONTENT_LIMIT_EXCEEDED",
        format!("The content of the {} exceeds the maximum size.", kind.description()),
    )
}

pub fn ou_depth() -> AwsError {
    constraint(
        "OU_DEPTH_LIMIT_EXCEEDED",
        "You attempted to create an OU tree that is too many levels deep.",
    )
}
