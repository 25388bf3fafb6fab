//! The wording of a resource's status reason when an inner call fails.

use crate::{error::AwsError, profile::BehaviourProfile, protocol::ServiceId};

/// How a resource's status reason quotes the inner call's error.
///
/// Today resource handlers (the CloudFormation registry) quote the AWS SDK for Java's exception:
/// `Resource handler returned message: "User: … is not authorized to perform: iam:CreateRole on
/// resource: … (Service: Iam, Status Code: 403, Request ID: …)" (RequestToken: …,
/// HandlerErrorCode: AccessDenied)` (seen in aws-cdk issue 27067). Before the registry,
/// CloudFormation named the API call: `API: iam:CreateRole User: … is not authorized to perform:
/// iam:CreateRole on resource: …` (aws-cli issue 4826, serverless-application-model issue 448).
pub(super) fn failure_reason(
    profile: BehaviourProfile,
    service: ServiceId,
    action: &str,
    error: &AwsError,
    request_id: &str,
    token: &str,
) -> String {
    match profile {
        BehaviourProfile::Legacy2016 => format!("API: {}:{action} {}", service.wire().signing_name, error.message),
        BehaviourProfile::Current => format!(
            "Resource handler returned message: \"{} (Service: {}, Status Code: {}, Request ID: {request_id})\" (RequestToken: {token}, HandlerErrorCode: {})",
            error.message,
            sdk_service_name(service),
            error.status,
            handler_error_code(error),
        ),
    }
}

/// The service name the AWS SDK for Java puts in exception messages.
pub(super) fn sdk_service_name(service: ServiceId) -> &'static str {
    match service {
        ServiceId::Iam => "Iam",
        ServiceId::Sts => "Sts",
        ServiceId::Ec2 => "Ec2",
        ServiceId::CloudWatch => "CloudWatch",
        ServiceId::CloudFormation => "CloudFormation",
        ServiceId::AutoScaling => "AutoScaling",
        ServiceId::Kms => "Kms",
        ServiceId::Ssm => "Ssm",
        ServiceId::S3 => "S3",
        ServiceId::Organizations => "Organizations",
    }
}

/// The resource handlers' `HandlerErrorCode` for a service error.
pub(super) fn handler_error_code(error: &AwsError) -> &'static str {
    let code = error.code.as_ref();
    if matches!(code, "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "AuthFailure") {
        "AccessDenied"
    } else if code == "NoSuchEntity" || code.contains("NotFound") {
        "NotFound"
    } else if code.contains("AlreadyExists") || code.contains("Duplicate") {
        "AlreadyExists"
    } else if code.contains("LimitExceeded") {
        "ServiceLimitExceeded"
    } else if code.contains("Throttling") {
        "Throttling"
    } else if code == "DeleteConflict" {
        "ResourceConflict"
    } else if error.status >= 500 {
        "ServiceInternalError"
    } else {
        "InvalidRequest"
    }
}
