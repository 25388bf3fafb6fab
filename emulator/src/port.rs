//! The port through which an AWS service acts as a principal.
//!
//! When AWS does something after answering (an alarm action, a stack's resources, a launch that
//! uses a volume's key), a service calls another service, and it does so *as someone*:
//!
//! * [`Acting::ForwardAccess`]: the caller's own identity, used by a service on the caller's
//!   behalf (a forward access session: `aws:ViaAWSService`, `aws:CalledVia`, `kms:ViaService`).
//! * [`Acting::ServiceRole`]: a role of the account that a service assumes: a service-linked role
//!   (`AWSServiceRoleForCloudWatchEvents`) or a role given to the service. The role's trust policy
//!   must allow the service principal; a customer-made role that does not trust the service is
//!   not usable. An instance's role, assumed by EC2 for instance metadata, is one of these.
//! * [`Acting::StoredCredential`]: an access key the service stored earlier (the creator of a 2016
//!   alarm). It is authenticated the way a signed request is: a temporary key without its
//!   session token is not valid.
//!
//! An inner call goes through the same authenticate → authorize → handle path as a request from
//! outside, so every decision lands in the authorization log with who acted, for whom, and via
//! which service. This module names neither the world nor the services: state code is handed a
//! [`Services`] (the request pipeline implements it) and calls through it.

use chrono::{DateTime, Utc};

use crate::{error::AwsError, principal::Caller, protocol::ServiceId, value::Value};

/// Who a service acts as.
#[derive(Debug, Clone)]
pub enum Acting {
    /// The caller's identity, used by `service` (a service principal, `ec2.amazonaws.com`).
    ForwardAccess { caller: Caller, service: String },
    /// A session of `role_name` in `account`, assumed by `service` (`events.amazonaws.com`).
    ServiceRole { account: String, role_name: String, service: String, session_name: String },
    /// An access key (and session token, for a temporary key) the service keeps.
    StoredCredential { access_key_id: String, session_token: Option<String> },
}

impl Acting {
    /// EC2 assuming an instance's role: the session is named after the instance, as on AWS
    /// (`assumed-role/<role>/<instance-id>`).
    pub fn instance_role(account: &str, role_name: &str, instance_id: &str) -> Acting {
        Acting::ServiceRole {
            account: account.to_string(),
            role_name: role_name.to_string(),
            service: "ec2.amazonaws.com".to_string(),
            session_name: instance_id.to_string(),
        }
    }
}

/// One call a service makes to another.
#[derive(Debug, Clone)]
pub struct InnerCall<'a> {
    pub acting: Acting,
    pub service: ServiceId,
    pub region: &'a str,
    pub now: DateTime<Utc>,
    /// The operation, as the target service names it (`StopInstances`, `CreateGrant`).
    pub action: &'a str,
    pub params: Value,
}

/// Carries an inner call through authentication, authorization and the target service's
/// handler. `W` is the world; leaving it generic keeps this port below the state.
pub trait Services<W: ?Sized> {
    fn call(&self, world: &mut W, call: InnerCall<'_>) -> Result<Value, AwsError>;

    /// Reads `path` of an instance's metadata service as software on the instance does (the SSM
    /// Agent reading its role's credentials): IMDSv2, a session token first, then a `GET` with
    /// it. The body of a 200 answer; `None` for any other answer, or when nothing serves
    /// instance metadata (the default: a port without instances).
    fn instance_metadata(&self, _world: &mut W, _now: DateTime<Utc>, _instance_id: &str, _path: &str) -> Option<String> {
        None
    }
}

/// The service endpoint a service principal calls through in a region, as `kms:ViaService`
/// names it: `ec2.amazonaws.com` in `us-east-1` → `ec2.us-east-1.amazonaws.com`.
pub fn via_endpoint(service_principal: &str, region: &str) -> String {
    let service = service_principal.split('.').next().unwrap_or(service_principal);
    format!("{service}.{region}.amazonaws.com")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_via_endpoint_is_regional() {
        assert_eq!(via_endpoint("ec2.amazonaws.com", "ap-northeast-1"), "ec2.ap-northeast-1.amazonaws.com");
    }

    #[test]
    fn an_instance_role_session_is_named_after_the_instance() {
        let Acting::ServiceRole { session_name, service, .. } = Acting::instance_role("1", "r", "i-1") else {
            panic!("not a service role");
        };
        assert_eq!((session_name.as_str(), service.as_str()), ("i-1", "ec2.amazonaws.com"));
    }
}
