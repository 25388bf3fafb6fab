//! AWS errors as the services return them, before any protocol has shaped them.
//!
//! Every failure a client can cause ends as an [`AwsError`]; the codecs turn it into the error
//! envelope of the caller's protocol. Constructors exist for codes that several services share;
//! a service-specific code is built with [`AwsError::new`] where it is raised.

use std::borrow::Cow;

/// Who is at fault, as the query protocols' `<Type>` element says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Sender,
    Receiver,
}

/// An AWS error: code, message and HTTP status, independent of the wire protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} ({status}): {message}")]
pub struct AwsError {
    pub code: Cow<'static, str>,
    pub message: String,
    pub status: u16,
    pub fault: Fault,
    /// The `Reason` member some JSON services add to an error (AWS Organizations'
    /// `ConstraintViolationException`, `InvalidInputException`); `None` for most errors.
    pub reason: Option<Cow<'static, str>>,
}

impl AwsError {
    pub fn new(code: impl Into<Cow<'static, str>>, status: u16, message: impl Into<String>) -> Self {
        let status_is_server = status >= 500;
        AwsError {
            code: code.into(),
            message: message.into(),
            status,
            fault: if status_is_server { Fault::Receiver } else { Fault::Sender },
            reason: None,
        }
    }

    /// The same error with a `Reason` member (see [`AwsError::reason`]).
    pub fn with_reason(mut self, reason: impl Into<Cow<'static, str>>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// A missing or malformed parameter, in the query services' wording.
    pub fn validation(message: impl Into<String>) -> Self {
        AwsError::new("ValidationError", 400, message)
    }

    pub fn missing_parameter(name: &str) -> Self {
        AwsError::new(
            "MissingParameter",
            400,
            format!("The request must contain the parameter {name}"),
        )
    }

    pub fn invalid_parameter_value(message: impl Into<String>) -> Self {
        AwsError::new("InvalidParameterValue", 400, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        AwsError::new("InternalFailure", 500, message)
    }
}
