//! KMS's errors, with KMS's texts. Every KMS error is HTTP 400.
//!
//! # Error texts
//!
//! Confirmed as AWS's wording (from real responses quoted in public bug reports and the KMS
//! developer guide's key-state table): `Key '<arn>' does not exist`, `Alias <alias arn> is not
//! found.`, `Invalid arn` (NotFoundException), `<arn> is disabled.`, `<arn> is pending
//! deletion.`, `<arn> is not pending deletion.`, `The new key policy will not allow you to update
//! the key policy in the future.`, `An alias with the name <alias arn> already exists`,
//! `Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html`,
//! `Grants must not contain only the CreateGrant operation.`, `More than one constraint
//! supplied`, `Policy contains a statement with one or more invalid principals.`, the
//! `AccessDeniedException` sentence of [`crate::authz::denied_message`], and the empty message
//! of `InvalidCiphertextException`.
//!
//! Not confirmed (chosen after other emulators or AWS's style): `NotAuthorizedException` without
//! a message for a reserved `alias/aws/` name, `Aliases must refer to keys. Not aliases`,
//! `Please specify either number of bytes or key spec.`, the `IncorrectKeyException` sentence,
//! the texts for a missing grant, a bad grant token and an unknown policy name, and that
//! operations without cross-account use answer `NotFoundException` for another account's key.

use crate::error::AwsError;

fn kms(code: &'static str, message: impl Into<String>) -> AwsError {
    AwsError::new(code, 400, message)
}

pub fn key_not_found(key_arn: &str) -> AwsError {
    kms("NotFoundException", format!("Key '{key_arn}' does not exist"))
}

pub fn alias_not_found(alias_arn: &str) -> AwsError {
    kms("NotFoundException", format!("Alias {alias_arn} is not found."))
}

/// An ARN that is not a KMS ARN of this region.
pub fn invalid_arn() -> AwsError {
    kms("NotFoundException", "Invalid arn")
}

pub fn disabled(key_arn: &str) -> AwsError {
    kms("DisabledException", format!("{key_arn} is disabled."))
}

pub fn pending_deletion(key_arn: &str) -> AwsError {
    kms("KMSInvalidStateException", format!("{key_arn} is pending deletion."))
}

pub fn not_pending_deletion(key_arn: &str) -> AwsError {
    kms("KMSInvalidStateException", format!("{key_arn} is not pending deletion."))
}

pub fn access_denied(message: String) -> AwsError {
    kms("AccessDeniedException", message)
}

pub fn malformed_policy(message: impl Into<String>) -> AwsError {
    kms("MalformedPolicyDocumentException", message)
}

/// The policy-lockout safety check.
pub fn lockout() -> AwsError {
    malformed_policy("The new key policy will not allow you to update the key policy in the future.")
}

pub fn invalid_principals() -> AwsError {
    malformed_policy("Policy contains a statement with one or more invalid principals.")
}

pub fn validation(message: impl Into<String>) -> AwsError {
    kms("ValidationException", message)
}

/// `Value null at 'keyId' ...`: a required member is absent.
pub fn missing(member: &str) -> AwsError {
    validation(crate::validation::null(member))
}

/// `Value 'v' at 'member' ... Member must satisfy enum value set: [...]`.
pub(super) fn enum_error(value: &str, member: &str, allowed: &[&str]) -> AwsError {
    validation(crate::validation::one(
        member,
        Some(value),
        &format!("Member must satisfy enum value set: [{}]", allowed.join(", ")),
    ))
}

/// KMS answers a ciphertext it cannot use without any message.
pub fn invalid_ciphertext() -> AwsError {
    kms("InvalidCiphertextException", "")
}

pub fn incorrect_key() -> AwsError {
    kms(
        "IncorrectKeyException",
        "The key ID in the request does not identify a KMS key that can perform this operation.",
    )
}

pub fn alias_exists(alias_arn: &str) -> AwsError {
    kms("AlreadyExistsException", format!("An alias with the name {alias_arn} already exists"))
}

pub fn reserved_alias() -> AwsError {
    kms("NotAuthorizedException", "")
}

pub fn unsupported(message: impl Into<String>) -> AwsError {
    kms("UnsupportedOperationException", message)
}

pub fn grant_not_found(grant_id: &str) -> AwsError {
    kms("NotFoundException", format!("Grant ID {grant_id} not found"))
}

pub fn invalid_grant_token() -> AwsError {
    kms("InvalidGrantTokenException", "Invalid grant token")
}

pub fn invalid_grant_id() -> AwsError {
    kms("InvalidGrantIdException", "Invalid grant ID")
}

pub fn no_such_policy() -> AwsError {
    kms("NotFoundException", "No such policy exists")
}

pub fn invalid_marker() -> AwsError {
    kms("InvalidMarkerException", "Invalid marker")
}
