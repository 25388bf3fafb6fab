//! Telling "the endpoint does not implement this call" apart from "it answered differently
//! from AWS".
//!
//! Emulators say they lack a call in a few ways, all recognised here:
//!
//! - HTTP 501, or a message that says so: LocalStack's `InternalFailure` "The X action has not
//!   been implemented" and its licence message "The API for service X is either not included in
//!   your current license plan or has not yet been emulated by LocalStack";
//! - AWS's own codes for an operation the service does not know (`InvalidAction`,
//!   `UnknownOperationException`, `NotImplemented`);
//! - a 5xx without any AWS error (an HTML page instead of an error envelope): moto's server
//!   raises `NotImplementedError` for an action it lacks, which its web framework answers with a
//!   bare "500 Internal Server Error" page.
//!
//! An AWS error with a code of its own (`AccessDenied`, `InvalidParameterValue`, even
//! `InternalError`) is an answer, however different from AWS's, and is never counted here.

use crate::redact::Redactor;

/// What an endpoint answered, as far as telling "not implemented" apart needs (a
/// `StepError`'s parts: `StepError::answer`).
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    pub code: &'a str,
    pub message: &'a str,
    pub http_status: Option<u16>,
}

/// A call the backend does not implement, as the report names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unimplemented {
    /// `autoscaling:CreateAutoScalingGroup` (the recorded call's name).
    pub call: String,
    pub code: String,
    pub message: String,
}

impl Unimplemented {
    pub fn of(call: &str, answer: Answer<'_>) -> Unimplemented {
        Unimplemented {
            call: call.to_string(),
            code: answer.code.to_string(),
            message: short(answer.message),
        }
    }

    pub fn redacted(&self, redactor: &Redactor) -> Unimplemented {
        Unimplemented {
            call: self.call.clone(),
            code: self.code.clone(),
            message: redactor.redact_text(&self.message),
        }
    }

    /// `the endpoint does not implement ssm:DescribeInstanceInformation (InternalFailure: …)`.
    pub fn sentence(&self, backend: &str) -> String {
        format!(
            "{backend} does not implement {} ({}: {})",
            self.call, self.code, self.message
        )
    }
}

/// An HTML error page is reduced to its gist; AWS messages are kept whole.
fn short(message: &str) -> String {
    let lower = message.to_ascii_lowercase();
    if lower.contains("<html") || lower.contains("<!doctype") {
        return "an HTML error page instead of an AWS error".to_string();
    }
    message.to_string()
}

const UNIMPLEMENTED_CODES: [&str; 5] = [
    "NotImplemented",
    "NotImplementedException",
    "InvalidAction",
    "UnknownOperationException",
    "UnknownOperation",
];

const UNIMPLEMENTED_PHRASES: [&str; 5] = [
    "not implemented",
    "has not been implemented",
    "not yet been emulated",
    "not included in your current license plan",
    "is not yet supported",
];

pub fn is_unimplemented(error: Answer<'_>) -> bool {
    let status = error.http_status.or_else(|| {
        error
            .code
            .parse::<u16>()
            .ok()
            .filter(|n| (100..600).contains(n))
    });
    if status == Some(501) || UNIMPLEMENTED_CODES.contains(&error.code) {
        return true;
    }
    let message = error.message.to_ascii_lowercase();
    if UNIMPLEMENTED_PHRASES
        .iter()
        .any(|phrase| message.contains(phrase))
    {
        return true;
    }
    // A 5xx that carries no AWS error at all: the server failed to serve the call.
    let no_aws_error = error.code == "UnknownServiceError"
        || error.code == "ResponseError"
        || error.code.parse::<u16>().is_ok()
        || message.contains("<html")
        || message.contains("<!doctype");
    matches!(status, Some(500..=599)) && no_aws_error
}

/// `ssm:DescribeInstanceInformation` from the SDK error type
/// `aws_sdk_ssm::operation::describe_instance_information::DescribeInstanceInformationError`.
pub fn operation_of<E>() -> Option<String> {
    operation_from_type_name(std::any::type_name::<E>())
}

fn operation_from_type_name(name: &str) -> Option<String> {
    // Generic parameters (none expected) would confuse the split.
    let name = name.split('<').next()?;
    let mut parts = name.split("::");
    let service = parts.next()?.strip_prefix("aws_sdk_")?.replace('_', "-");
    let operation = name.rsplit("::").next()?.strip_suffix("Error")?;
    if operation.is_empty() {
        return None;
    }
    Some(format!("{service}:{operation}"))
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn error(code: &'static str, message: &'static str, status: Option<u16>) -> Answer<'static> {
        Answer {
            code,
            message,
            http_status: status,
        }
    }

    #[rstest]
    #[case::localstack_licence(error(
        "InternalFailure",
        "The API for service autoscaling is either not included in your current license plan or \
         has not yet been emulated by LocalStack.",
        Some(501)
    ))]
    #[case::localstack_action(error(
        "InternalFailure",
        "The describe_instance_information action has not been implemented",
        Some(501)
    ))]
    #[case::status_501_alone(error("InternalFailure", "whatever", Some(501)))]
    #[case::unknown_query_action(error(
        "InvalidAction",
        "The action RecoverInstances is not valid for this web service.",
        Some(400)
    ))]
    #[case::moto_html_500(error(
        "UnknownServiceError",
        "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>",
        Some(500)
    ))]
    #[case::sdk_unreadable_500(error(
        "ResponseError",
        "HTTP 500 with an HTML page instead of an AWS error",
        Some(500)
    ))]
    #[case::cli_html_500(error("500", "<!doctype html><html lang=en>", None))]
    fn calls_an_endpoint_lacks_are_unimplemented(#[case] err: Answer<'static>) {
        assert!(is_unimplemented(err), "{err:?}");
    }

    #[rstest]
    #[case::denied(error("AccessDenied", "User: x is not authorized", Some(403)))]
    #[case::aws_internal_error(error(
        "InternalError",
        "An internal error has occurred",
        Some(500)
    ))]
    #[case::bad_parameter(error("InvalidParameterValue", "Value (x) for parameter y", Some(400)))]
    #[case::no_connection(error("DispatchFailure", "connection refused", None))]
    fn answers_that_differ_from_aws_are_not(#[case] err: Answer<'static>) {
        assert!(!is_unimplemented(err), "{err:?}");
    }

    #[test]
    fn the_operation_comes_from_the_sdk_error_type() {
        assert_eq!(
            operation_from_type_name(
                "aws_sdk_ssm::operation::describe_instance_information::DescribeInstanceInformationError"
            ),
            Some("ssm:DescribeInstanceInformation".into())
        );
        assert_eq!(
            operation_of::<aws_sdk_ec2::operation::start_instances::StartInstancesError>(),
            Some("ec2:StartInstances".into())
        );
        assert_eq!(operation_from_type_name("wana_harness::Other"), None);
    }

    #[test]
    fn sentences_name_the_call_and_keep_aws_text_but_not_html() {
        let html = Unimplemented::of(
            "ssm:DescribeInstanceInformation",
            error(
                "UnknownServiceError",
                "<!doctype html><title>500</title>",
                Some(500),
            ),
        );
        assert_eq!(
            html.sentence("moto"),
            "moto does not implement ssm:DescribeInstanceInformation (UnknownServiceError: an \
             HTML error page instead of an AWS error)"
        );
    }
}
