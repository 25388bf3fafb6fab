//! One file per AWS service: each translates decoded requests into changes of the world
//! (`crate::state`) and answers with a protocol-neutral [`Value`].

pub mod cloudformation;
pub mod cloudwatch;
pub mod ec2;
pub mod iam;
pub mod kms;
pub mod sts;

use chrono::{DateTime, Utc};

use crate::{
    authz::{denied_message, AuthzRequest, RequestFacts},
    error::AwsError,
    principal::Caller,
    protocol::{Protocol, ServiceWire},
    state::World,
    value::Value,
};

/// Every service the emulator routes, emulated or not yet: an unemulated service still gets
/// correct authentication errors and an unknown-operation error in its own protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceId {
    Iam,
    Sts,
    Ec2,
    CloudWatch,
    CloudFormation,
    AutoScaling,
    Kms,
    Ssm,
}

const fn query_wire(signing_name: &'static str, api_version: &'static str, xml_namespace: &'static str) -> ServiceWire {
    ServiceWire {
        signing_name,
        api_version,
        xml_namespace,
        json_target_prefix: None,
        cbor_service_name: None,
        query_compatible: false,
    }
}

const IAM: ServiceWire = query_wire("iam", "2010-05-08", "https://iam.amazonaws.com/doc/2010-05-08/");
const STS: ServiceWire = query_wire("sts", "2011-06-15", "https://sts.amazonaws.com/doc/2011-06-15/");
const EC2: ServiceWire = query_wire("ec2", "2016-11-15", "http://ec2.amazonaws.com/doc/2016-11-15/");
const CLOUDFORMATION: ServiceWire =
    query_wire("cloudformation", "2010-05-15", "http://cloudformation.amazonaws.com/doc/2010-05-15/");
const AUTOSCALING: ServiceWire =
    query_wire("autoscaling", "2011-01-01", "http://autoscaling.amazonaws.com/doc/2011-01-01/");
// The Rust SDK speaks rpcv2Cbor to CloudWatch and current botocore speaks awsJson 1.0 (same
// target prefix, served by the JSON codec); older CLIs use the query protocol.
const CLOUDWATCH: ServiceWire = ServiceWire {
    cbor_service_name: Some("GraniteServiceVersion20100801"),
    json_target_prefix: Some("GraniteServiceVersion20100801"),
    query_compatible: true,
    ..query_wire("monitoring", "2010-08-01", "http://monitoring.amazonaws.com/doc/2010-08-01/")
};
const KMS: ServiceWire = ServiceWire {
    json_target_prefix: Some("TrentService"),
    ..query_wire("kms", "2014-11-01", "")
};
const SSM: ServiceWire = ServiceWire {
    json_target_prefix: Some("AmazonSSM"),
    ..query_wire("ssm", "2014-11-06", "")
};

impl ServiceId {
    pub const ALL: [ServiceId; 8] = [
        ServiceId::Iam,
        ServiceId::Sts,
        ServiceId::Ec2,
        ServiceId::CloudWatch,
        ServiceId::CloudFormation,
        ServiceId::AutoScaling,
        ServiceId::Kms,
        ServiceId::Ssm,
    ];

    pub fn wire(self) -> &'static ServiceWire {
        match self {
            ServiceId::Iam => &IAM,
            ServiceId::Sts => &STS,
            ServiceId::Ec2 => &EC2,
            ServiceId::CloudWatch => &CLOUDWATCH,
            ServiceId::CloudFormation => &CLOUDFORMATION,
            ServiceId::AutoScaling => &AUTOSCALING,
            ServiceId::Kms => &KMS,
            ServiceId::Ssm => &SSM,
        }
    }

    /// The protocol a query-style request to this service speaks.
    pub fn query_protocol(self) -> Protocol {
        if self == ServiceId::Ec2 {
            Protocol::Ec2Query
        } else {
            Protocol::AwsQuery
        }
    }

    /// The service a request belongs to, from the SigV4 credential scope.
    pub fn from_signing_name(name: &str) -> Option<ServiceId> {
        Self::ALL.into_iter().find(|s| s.wire().signing_name == name)
    }

    pub fn from_api_version(version: &str) -> Option<ServiceId> {
        Self::ALL.into_iter().find(|s| s.wire().api_version == version)
    }

    pub fn from_json_target(target: &str) -> Option<ServiceId> {
        let prefix = target.split('.').next()?;
        Self::ALL.into_iter().find(|s| s.wire().json_target_prefix == Some(prefix))
    }

    pub fn from_cbor_path(path: &str) -> Option<ServiceId> {
        let name = path.strip_prefix("/service/")?.split('/').next()?;
        Self::ALL.into_iter().find(|s| s.wire().cbor_service_name == Some(name))
    }
}

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
    let mut member = name.to_string();
    if let Some(first) = member.get_mut(0..1) {
        first.make_ascii_lowercase();
    }
    AwsError::validation(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    ))
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
    }
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
        ServiceId::AutoScaling | ServiceId::Ssm => None,
    }
}
