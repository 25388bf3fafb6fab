//! One file per AWS service: each translates decoded requests into changes of the world
//! (`crate::state`) and answers with a protocol-neutral [`Value`].

pub mod authorization_message;
pub mod autoscaling;
pub mod cloudformation;
pub mod cloudwatch;
pub mod ec2;
pub mod iam;
pub mod kms;
pub mod organizations;
pub mod s3;
pub mod ssm;
pub mod sts;

use chrono::{DateTime, Utc};

pub use crate::protocol::ServiceId;
use crate::{
    authz::{denied_message, AuthzRequest, RequestFacts},
    error::AwsError,
    principal::Caller,
    protocol::Protocol,
    state::World,
    value::Value,
};

/// One decoded, authenticated request, as a handler sees it.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub caller: &'a Caller,
    pub region: &'a str,
    pub now: DateTime<Utc>,
    pub action: &'a str,
    pub params: &'a Value,
}

impl<'a> Call<'a> {
    pub fn facts(&self) -> RequestFacts<'a> {
        RequestFacts { caller: self.caller, now: self.now, region: self.region }
    }

    /// The caller's account id.
    pub fn account(&self) -> &'a str {
        self.caller.principal.account()
    }

    /// A required string member.
    pub fn required(&self, name: &str) -> Result<&'a str, AwsError> {
        match self.params.get(name) {
            Some(Value::Str(s)) => Ok(s),
            Some(_) => Err(AwsError::validation(format!("Invalid value for parameter {name}"))),
            None => Err(missing_member(name)),
        }
    }

    /// An optional string member.
    pub fn optional(&self, name: &str) -> Option<&'a str> {
        self.params.get(name).and_then(Value::as_str)
    }

    /// An optional integer member; text that is not an integer is a validation error.
    pub fn optional_i64(&self, name: &str) -> Result<Option<i64>, AwsError> {
        match self.params.get(name) {
            None => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| {
                AwsError::validation(format!("Value for parameter {name} must be an integer"))
            }),
        }
    }

    /// Asks the policy engine whether the caller may perform `action` on `resource` with its
    /// identity policies alone, and answers `AccessDenied` in the query services' form if not.
    pub fn authorize_identity(&self, world: &mut World, action: &str, resource: &str) -> Result<(), AwsError> {
        let decision = world.authorize(self.facts(), &AuthzRequest::new(action, resource));
        if decision.is_allowed() {
            Ok(())
        } else {
            Err(AwsError::new(
                "AccessDenied",
                403,
                denied_message(&self.caller.principal.arn(), action, resource, &decision),
            ))
        }
    }
}

/// The query services' wording for a required member that is absent.
pub fn missing_member(name: &str) -> AwsError {
    AwsError::validation(crate::validation::null(&crate::validation::coral_name(name)))
}

/// The error for an operation a service does not have (or that wana does not emulate yet).
pub fn unknown_operation(protocol: Protocol, action: &str) -> AwsError {
    match protocol {
        Protocol::AwsQuery | Protocol::Ec2Query => AwsError::new(
            "InvalidAction",
            400,
            format!("The action {action} is not valid for this web service."),
        ),
        Protocol::AwsJson11 | Protocol::RpcV2Cbor => {
            AwsError::new("UnknownOperationException", 400, format!("Unknown operation {action}"))
        }
        Protocol::RestXml => AwsError::new(
            "NotImplemented",
            501,
            format!("The {action} operation is not implemented by the wana emulator."),
        ),
    }
}

/// Routes a call one service makes to another (see [`crate::port`]): the operations AWS
/// services call internally (EC2's recovery of an instance for a CloudWatch alarm, which has no
/// public API) first, then the public ones.
pub fn handle_inner(service: ServiceId, world: &mut World, call: &Call<'_>) -> Option<Result<Value, AwsError>> {
    match service {
        ServiceId::Ec2 => ec2::handle_internal(world, call),
        ServiceId::Ssm => ssm::handle_internal(world, call),
        _ => None,
    }
    .or_else(|| handle(service, world, call))
}

/// Routes a call to its service. `None` means the service has no such operation.
pub fn handle(service: ServiceId, world: &mut World, call: &Call<'_>) -> Option<Result<Value, AwsError>> {
    match service {
        ServiceId::Iam => iam::handle(world, call),
        ServiceId::Sts => sts::handle(world, call),
        ServiceId::Ec2 => ec2::handle(world, call),
        ServiceId::CloudWatch => cloudwatch::handle(world, call),
        ServiceId::CloudFormation => cloudformation::handle(world, call),
        ServiceId::Kms => kms::handle(world, call),
        ServiceId::S3 => s3::handle(world, call),
        ServiceId::AutoScaling => autoscaling::handle(world, call),
        ServiceId::Ssm => ssm::handle(world, call),
        ServiceId::Organizations => organizations::handle(world, call),
    }
}
