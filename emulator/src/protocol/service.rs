//! Every service the emulator routes, with what its wire format needs. Lives with the codecs
//! (below the services and the state) so that routing, the codecs and inner calls between
//! services can name a service without importing the services' handlers.

use super::{Protocol, ServiceWire};

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
    S3,
    Organizations,
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
/// AWS Organizations speaks awsJson 1.1 only; its one endpoint is in us-east-1.
const ORGANIZATIONS: ServiceWire = ServiceWire {
    json_target_prefix: Some("AWSOrganizationsV20161128"),
    ..query_wire("organizations", "2016-11-28", "")
};
/// S3 speaks restXml: routed by method, path and host, never by an `Action` parameter.
const S3: ServiceWire = query_wire("s3", "2006-03-01", "http://s3.amazonaws.com/doc/2006-03-01/");

impl ServiceId {
    pub const ALL: [ServiceId; 10] = [
        ServiceId::Iam,
        ServiceId::Sts,
        ServiceId::Ec2,
        ServiceId::CloudWatch,
        ServiceId::CloudFormation,
        ServiceId::AutoScaling,
        ServiceId::Kms,
        ServiceId::Ssm,
        ServiceId::S3,
        ServiceId::Organizations,
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
            ServiceId::S3 => &S3,
            ServiceId::Organizations => &ORGANIZATIONS,
        }
    }

    /// The protocol a query-style request to this service speaks.
    pub fn query_protocol(self) -> Protocol {
        match self {
            ServiceId::Ec2 => Protocol::Ec2Query,
            ServiceId::S3 => Protocol::RestXml,
            _ => Protocol::AwsQuery,
        }
    }

    /// The protocol whose error codes the service answers in when no client chose one (an inner
    /// call between services): EC2's own dialect, S3's restXml, JSON for KMS and SSM.
    pub fn native_protocol(self) -> Protocol {
        match self {
            ServiceId::Kms | ServiceId::Ssm | ServiceId::Organizations => Protocol::AwsJson11,
            other => other.query_protocol(),
        }
    }

    /// The service a request belongs to, from the SigV4 credential scope.
    pub fn from_signing_name(name: &str) -> Option<ServiceId> {
        Self::ALL.into_iter().find(|s| s.wire().signing_name == name)
    }

    pub fn from_api_version(version: &str) -> Option<ServiceId> {
        Self::ALL.into_iter().filter(|s| *s != ServiceId::S3).find(|s| s.wire().api_version == version)
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
