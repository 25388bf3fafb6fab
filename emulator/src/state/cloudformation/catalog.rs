//! The resource types wana provisions ([`TypeSpec`]), the types it knows but does not provision
//! yet, the catalog the template checks consult, the capabilities IAM resources need, and what a
//! change of properties requires (in place or replacement) and allows.

use std::collections::BTreeSet;

use super::engine::Failure;
use crate::template::{Catalog, Node, ResourceDecl, Template, TypeSupport};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    Iam,
    NamedIam,
}

impl Capability {
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Iam => "CAPABILITY_IAM",
            Capability::NamedIam => "CAPABILITY_NAMED_IAM",
        }
    }
}

/// What wana knows of a resource type it provisions.
#[derive(Debug)]
pub struct TypeSpec {
    pub name: &'static str,
    pub attributes: &'static [&'static str],
    /// Properties wana passes on.
    pub properties: &'static [&'static str],
    /// Real properties of the type that wana does not emulate yet.
    pub not_emulated: &'static [&'static str],
    pub required: &'static [&'static str],
    /// Properties whose change needs a new physical resource; `None` means every property.
    pub replacement: Option<&'static [&'static str]>,
    /// The property that names the physical resource, when the caller may choose it.
    pub name_property: Option<&'static str>,
}

const EC2_INSTANCE: TypeSpec = TypeSpec {
    name: "AWS::EC2::Instance",
    attributes: &["AvailabilityZone", "InstanceId", "PrivateDnsName", "PrivateIp", "PublicDnsName", "PublicIp"],
    properties: &[
        "AvailabilityZone",
        "BlockDeviceMappings",
        "DisableApiTermination",
        "EbsOptimized",
        "IamInstanceProfile",
        "ImageId",
        "InstanceInitiatedShutdownBehavior",
        "InstanceType",
        "KernelId",
        "KeyName",
        "Monitoring",
        "PlacementGroupName",
        "PrivateIpAddress",
        "RamdiskId",
        "SecurityGroupIds",
        "SecurityGroups",
        "SubnetId",
        "Tags",
        "Tenancy",
        "UserData",
    ],
    not_emulated: &[
        "AdditionalInfo",
        "Affinity",
        "CpuOptions",
        "CreditSpecification",
        "ElasticGpuSpecifications",
        "ElasticInferenceAccelerators",
        "EnclaveOptions",
        "HibernationOptions",
        "HostId",
        "HostResourceGroupArn",
        "Ipv6AddressCount",
        "Ipv6Addresses",
        "LaunchTemplate",
        "LicenseSpecifications",
        "MetadataOptions",
        "NetworkInterfaces",
        "PrivateDnsNameOptions",
        "PropagateTagsToVolumeOnCreation",
        "SourceDestCheck",
        "SsmAssociations",
        "Volumes",
    ],
    required: &[],
    // Simplification: every change replaces the instance (AWS updates some in place).
    replacement: None,
    name_property: None,
};

const CLOUDWATCH_ALARM: TypeSpec = TypeSpec {
    name: "AWS::CloudWatch::Alarm",
    attributes: &["Arn"],
    properties: &[
        "ActionsEnabled",
        "AlarmActions",
        "AlarmDescription",
        "AlarmName",
        "ComparisonOperator",
        "DatapointsToAlarm",
        "Dimensions",
        "EvaluateLowSampleCountPercentile",
        "EvaluationPeriods",
        "ExtendedStatistic",
        "InsufficientDataActions",
        "MetricName",
        "Namespace",
        "OKActions",
        "Period",
        "Statistic",
        "Tags",
        "Threshold",
        "ThresholdMetricId",
        "TreatMissingData",
        "Unit",
    ],
    not_emulated: &["Metrics"],
    required: &["ComparisonOperator", "EvaluationPeriods"],
    replacement: Some(&["AlarmName"]),
    name_property: Some("AlarmName"),
};

const IAM_ROLE: TypeSpec = TypeSpec {
    name: "AWS::IAM::Role",
    attributes: &["Arn", "RoleId"],
    properties: &[
        "AssumeRolePolicyDocument",
        "Description",
        "ManagedPolicyArns",
        "MaxSessionDuration",
        "Path",
        "PermissionsBoundary",
        "Policies",
        "RoleName",
        "Tags",
    ],
    not_emulated: &[],
    required: &["AssumeRolePolicyDocument"],
    replacement: Some(&["Path", "RoleName"]),
    name_property: Some("RoleName"),
};

const IAM_INSTANCE_PROFILE: TypeSpec = TypeSpec {
    name: "AWS::IAM::InstanceProfile",
    attributes: &["Arn"],
    properties: &["InstanceProfileName", "Path", "Roles"],
    not_emulated: &[],
    required: &["Roles"],
    replacement: Some(&["InstanceProfileName", "Path"]),
    name_property: Some("InstanceProfileName"),
};

const IAM_POLICY: TypeSpec = TypeSpec {
    name: "AWS::IAM::Policy",
    attributes: &["Id"],
    properties: &["Groups", "PolicyDocument", "PolicyName", "Roles", "Users"],
    not_emulated: &[],
    required: &["PolicyDocument", "PolicyName"],
    replacement: Some(&[]),
    name_property: None,
};

const TYPES: [&TypeSpec; 5] = [&EC2_INSTANCE, &CLOUDWATCH_ALARM, &IAM_ROLE, &IAM_INSTANCE_PROFILE, &IAM_POLICY];

pub fn type_spec(name: &str) -> Option<&'static TypeSpec> {
    TYPES.into_iter().find(|t| t.name == name)
}

/// Real types of the emulated services' namespaces that wana does not provision yet.
const KNOWN_UNEMULATED_TYPES: [&str; 30] = [
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::SecurityGroupEgress",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::VPCGatewayAttachment",
    "AWS::EC2::RouteTable",
    "AWS::EC2::Route",
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::EIP",
    "AWS::EC2::EIPAssociation",
    "AWS::EC2::NatGateway",
    "AWS::EC2::Volume",
    "AWS::EC2::VolumeAttachment",
    "AWS::EC2::LaunchTemplate",
    "AWS::EC2::KeyPair",
    "AWS::EC2::NetworkInterface",
    "AWS::EC2::VPCEndpoint",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::User",
    "AWS::IAM::Group",
    "AWS::IAM::AccessKey",
    "AWS::IAM::UserToGroupAddition",
    "AWS::IAM::ServiceLinkedRole",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::UserPolicy",
    "AWS::CloudWatch::CompositeAlarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::CloudWatch::AnomalyDetector",
];

/// Service namespaces AWS has resource types in, beyond the emulated ones.
const KNOWN_NAMESPACES: [&str; 32] = [
    "AutoScaling",
    "S3",
    "SNS",
    "SQS",
    "Lambda",
    "DynamoDB",
    "KMS",
    "SSM",
    "Logs",
    "Events",
    "ECS",
    "ECR",
    "EKS",
    "RDS",
    "ElasticLoadBalancing",
    "ElasticLoadBalancingV2",
    "CloudFormation",
    "Route53",
    "ApiGateway",
    "StepFunctions",
    "SecretsManager",
    "CloudTrail",
    "Config",
    "CodeBuild",
    "CodePipeline",
    "EFS",
    "Kinesis",
    "CloudFront",
    "Cognito",
    "Backup",
    "Scheduler",
    "ApplicationAutoScaling",
];

/// The catalog the template checks consult.
pub struct Provisioners;

impl Catalog for Provisioners {
    fn support(&self, type_name: &str) -> TypeSupport {
        if type_spec(type_name).is_some() {
            return TypeSupport::Emulated;
        }
        if KNOWN_UNEMULATED_TYPES.contains(&type_name) || type_name.starts_with("Custom::") {
            return TypeSupport::NotEmulated;
        }
        let mut parts = type_name.split("::");
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("AWS"), Some(namespace), Some(name), None)
                if KNOWN_NAMESPACES.contains(&namespace) && !name.is_empty() =>
            {
                TypeSupport::NotEmulated
            }
            _ => TypeSupport::Unknown,
        }
    }

    fn has_attribute(&self, type_name: &str, attribute: &str) -> bool {
        type_spec(type_name).is_some_and(|t| t.attributes.contains(&attribute))
    }
}

/// The capability a template needs before CloudFormation creates its IAM resources, and the
/// types that need it (sorted, as ValidateTemplate's `CapabilitiesReason` lists them).
pub fn required_capability(template: &Template) -> Option<(Capability, Vec<String>)> {
    let iam: Vec<&ResourceDecl> = template.resources.iter().filter(|r| r.type_name.starts_with("AWS::IAM::")).collect();
    if iam.is_empty() {
        return None;
    }
    let named = iam.iter().any(|r| {
        let name_property = match r.type_name.as_str() {
            "AWS::IAM::Role" => "RoleName",
            "AWS::IAM::User" => "UserName",
            "AWS::IAM::Group" => "GroupName",
            "AWS::IAM::ManagedPolicy" => "ManagedPolicyName",
            "AWS::IAM::InstanceProfile" => "InstanceProfileName",
            _ => return false,
        };
        r.properties.get(name_property).is_some()
    });
    let types: BTreeSet<String> = iam.iter().map(|r| r.type_name.clone()).collect();
    Some((if named { Capability::NamedIam } else { Capability::Iam }, types.into_iter().collect()))
}

/// What an update of one resource needs.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Change {
    None,
    InPlace,
    Replace,
}

/// How a change of properties is applied.
pub(super) fn change_of(type_name: &str, old: &Node, new: &Node) -> Change {
    if old == new {
        return Change::None;
    }
    let Some(spec) = type_spec(type_name) else { return Change::Replace };
    let Some(replacement) = spec.replacement else { return Change::Replace };
    let mut keys: Vec<&str> = old.entries().iter().map(|(k, _)| k.as_str()).collect();
    keys.extend(new.entries().iter().map(|(k, _)| k.as_str()));
    if keys.iter().any(|k| replacement.contains(k) && old.get(k) != new.get(k)) {
        Change::Replace
    } else {
        Change::InPlace
    }
}

/// The custom name a replacement would reuse, which AWS refuses.
pub(super) fn fixed_custom_name(type_name: &str, old: &Node, new: &Node) -> Option<String> {
    let property = type_spec(type_name)?.name_property?;
    let name = new.get(property)?;
    (old.get(property) == Some(name)).then(|| name.text().unwrap_or_default())
}

/// The registry's schema validation: unknown and missing properties, before any call.
pub(super) fn validate_properties(spec: &TypeSpec, logical_id: &str, properties: &Node) -> Result<(), Failure> {
    let failed = |message: String| {
        Failure::new(format!("Properties validation failed for resource {logical_id} with message: {message}"))
    };
    for (key, _) in properties.entries() {
        if spec.not_emulated.contains(&key.as_str()) {
            return Err(Failure::new(format!("wana: property {key} of {} is not emulated yet", spec.name)));
        }
        if !spec.properties.contains(&key.as_str()) {
            return Err(failed(format!("#: extraneous key [{key}] is not permitted")));
        }
    }
    if let Some(missing) = spec.required.iter().find(|r| properties.get(r).is_none()) {
        return Err(failed(format!("#: required key [{missing}] not found")));
    }
    Ok(())
}
