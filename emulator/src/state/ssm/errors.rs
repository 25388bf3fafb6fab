//! SSM's errors, with SSM's texts. Every SSM error here is HTTP 400 (awsJson 1.1: `__type`, and
//! `message` when there is one).
//!
//! # Error texts
//!
//! Confirmed from real responses quoted in public reports:
//! * `AccessDeniedException` with HTTP 400 and IAM's sentence, for the agent's refused
//!   `UpdateInstanceInformation` ("... is not authorized to perform:
//!   ssm:UpdateInstanceInformation on resource: arn:aws:ec2:...:instance/i-... because no
//!   identity-based policy allows the ssm:UpdateInstanceInformation action", "status code:
//!   400": amazon-ssm-agent issues 144, 374, 543);
//! * `ParameterNotFound` without a message (the CLI prints "An error occurred
//!   (ParameterNotFound) when calling the GetParameter operation: " and the JS SDK a null
//!   message: awslabs/aws-simple-cicd 10, vandium-io/aws-param-store 8);
//! * `ParameterAlreadyExists` "The parameter already exists. To overwrite this value, set the
//!   overwrite option in the request to true." (garystafford/emr-demo 1, aws-ia AFT 166);
//! * `ValidationException` "Parameter name must be a fully qualified name" for a name with a
//!   `/` that does not start with one (several Terraform and CLI reports);
//! * `InvalidInstanceId` without a message (aws-cli issue 3646, for SendCommand);
//! * `InvalidInstanceInformationFilterValue` "ResourceType filter may contain only one value."
//!   and "ResourceType filter is invalid, valid values are EC2Instance, ManagedInstance"
//!   (boto3 3027, aws-sdk 130);
//! * `ValidationException` "Cannot mix tag or inventory filter with any other filter."
//!   (danmx/sigil 61).
//!
//! Not confirmed, chosen: `InvalidFilterKey` and `InvalidNextToken` without a message (their
//! model shapes have no or an undocumented message); the `PingStatus` and `PlatformTypes` filter
//! texts, written like the `ResourceType` one; the `ValidationException` text when both filter
//! lists are given (the model says only that it "leads to an exception error"); "A parameter
//! type is required when you create a parameter." and the parameter name texts (as moto and
//! other emulators word them); the `AccessDeniedException` for a registration not made from the
//! instance (see `access`); `UnsupportedParameterType` for `SecureString`, which wana does not
//! emulate.

use crate::error::AwsError;

fn ssm(code: &'static str, message: impl Into<String>) -> AwsError {
    AwsError::new(code, 400, message)
}

pub fn access_denied(message: String) -> AwsError {
    ssm("AccessDeniedException", message)
}

pub fn validation(message: impl Into<String>) -> AwsError {
    ssm("ValidationException", message)
}

/// `Value null at '<member>' ...`: a required member is absent.
pub fn missing(member: &str) -> AwsError {
    validation(crate::validation::null(member))
}

pub fn invalid_instance_id() -> AwsError {
    ssm("InvalidInstanceId", "")
}

pub fn invalid_filter_key() -> AwsError {
    ssm("InvalidFilterKey", "")
}

pub fn invalid_filter_value(message: impl Into<String>) -> AwsError {
    ssm("InvalidInstanceInformationFilterValue", message)
}

pub fn invalid_next_token() -> AwsError {
    ssm("InvalidNextToken", "")
}

pub fn parameter_not_found() -> AwsError {
    ssm("ParameterNotFound", "")
}

pub fn parameter_already_exists() -> AwsError {
    ssm(
        "ParameterAlreadyExists",
        "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
    )
}

pub fn type_required() -> AwsError {
    validation("A parameter type is required when you create a parameter.")
}

pub fn not_fully_qualified() -> AwsError {
    validation("Parameter name must be a fully qualified name")
}

/// A name outside `a-zA-Z0-9_.-/`, or a path whose first level is `aws` or `ssm`.
pub fn invalid_path_name() -> AwsError {
    validation(
        "Parameter name: can't be prefixed with \"ssm\" (case-insensitive). If formed as a path, it can consist of \
         sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following \
         3 symbols .-_",
    )
}

/// A name that is not a path and starts with `aws` or `ssm`.
pub fn reserved_prefix() -> AwsError {
    validation("Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive).")
}

pub fn secure_string_not_emulated() -> AwsError {
    ssm("UnsupportedParameterType", "wana emulates String and StringList parameters; SecureString is not emulated.")
}
