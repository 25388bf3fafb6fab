//! CloudFormation stacks of one account in one region, and the engine that provisions them.
//!
//! CloudFormation has no permissions of its own here: without a service role it acts with the
//! credentials of whoever started the stack operation. Every resource is therefore created,
//! updated and deleted by calling the other services' handlers ([`services::handle`]) with the
//! stack caller's [`Caller`], so authorization, validation and state change go through exactly
//! the path a direct API call takes, and a resource remembers who created it (an alarm created
//! through a stack keeps the stack caller's credential kind). An inner call's error fails the
//! resource; its message becomes the `ResourceStatusReason` in the resource handlers' wording.
//!
//! Stack operations are asynchronous, as in AWS: the API call answers with an `…_IN_PROGRESS`
//! status and schedules [`Event::Run`] at the same emulator time, which runs before the next
//! request is handled, so the next DescribeStacks already sees the outcome and every event.

use std::{collections::BTreeSet, sync::Arc};

use chrono::{DateTime, Utc};

use super::{
    scheduler::Scheduled,
    template::{
        Catalog, Lookup, Node, Pseudo, ResolvedOutput, ResolvedParameter, ResourceDecl, Resources, Scope, Template,
        TypeSupport,
    },
    World,
};
use crate::{
    error::AwsError,
    principal::Caller,
    profile::BehaviourProfile,
    services::{self, Call, ServiceId},
    value::Value,
};

/// Stack and resource statuses (the `StackStatus` and `ResourceStatus` enums of the model).
pub mod status {
    pub const CREATE_IN_PROGRESS: &str = "CREATE_IN_PROGRESS";
    pub const CREATE_FAILED: &str = "CREATE_FAILED";
    pub const CREATE_COMPLETE: &str = "CREATE_COMPLETE";
    pub const ROLLBACK_IN_PROGRESS: &str = "ROLLBACK_IN_PROGRESS";
    pub const ROLLBACK_FAILED: &str = "ROLLBACK_FAILED";
    pub const ROLLBACK_COMPLETE: &str = "ROLLBACK_COMPLETE";
    pub const DELETE_IN_PROGRESS: &str = "DELETE_IN_PROGRESS";
    pub const DELETE_FAILED: &str = "DELETE_FAILED";
    pub const DELETE_COMPLETE: &str = "DELETE_COMPLETE";
    pub const DELETE_SKIPPED: &str = "DELETE_SKIPPED";
    pub const UPDATE_IN_PROGRESS: &str = "UPDATE_IN_PROGRESS";
    pub const UPDATE_FAILED: &str = "UPDATE_FAILED";
    pub const UPDATE_COMPLETE: &str = "UPDATE_COMPLETE";
    pub const UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: &str = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS";
    pub const UPDATE_ROLLBACK_IN_PROGRESS: &str = "UPDATE_ROLLBACK_IN_PROGRESS";
    pub const UPDATE_ROLLBACK_FAILED: &str = "UPDATE_ROLLBACK_FAILED";
    pub const UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS: &str = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS";
    pub const UPDATE_ROLLBACK_COMPLETE: &str = "UPDATE_ROLLBACK_COMPLETE";
}

use status::*;

pub const STACK_TYPE: &str = "AWS::CloudFormation::Stack";
const USER_INITIATED: &str = "User Initiated";

/// Everything cloudformation holds for one account in one region. Deleted stacks stay (ListStacks
/// and lookups by stack id still show them).
#[derive(Debug, Default, Clone)]
pub struct State {
    pub stacks: Vec<Stack>,
}

impl State {
    /// A stack by name (only a stack that is not deleted) or by stack id (any).
    pub fn find(&self, name_or_id: &str) -> Option<&Stack> {
        self.stacks.iter().find(|s| s.is_named(name_or_id))
    }

    pub fn find_mut(&mut self, name_or_id: &str) -> Option<&mut Stack> {
        self.stacks.iter_mut().find(|s| s.is_named(name_or_id))
    }
}

/// What CreateStack does when a resource fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    DoNothing,
    Rollback,
    Delete,
}

#[derive(Debug, Clone)]
pub struct Stack {
    pub id: String,
    pub name: String,
    pub template: Arc<Template>,
    pub parameters: Vec<ResolvedParameter>,
    pub capabilities: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub notification_arns: Vec<String>,
    pub timeout_minutes: Option<i64>,
    pub on_failure: OnFailure,
    pub termination_protection: bool,
    pub status: &'static str,
    pub status_reason: Option<String>,
    pub created: DateTime<Utc>,
    pub last_updated: Option<DateTime<Utc>>,
    pub deleted: Option<DateTime<Utc>>,
    /// Current resources, in the order they were first created.
    pub resources: Vec<StackResource>,
    pub outputs: Vec<ResolvedOutput>,
    /// Oldest first (the API answers newest first).
    pub events: Vec<StackEvent>,
    /// The operation the next [`Event::Run`] performs, with the caller it acts as.
    pub pending: Option<Pending>,
}

impl Stack {
    fn is_named(&self, name_or_id: &str) -> bool {
        if name_or_id.starts_with("arn:") {
            self.id == name_or_id
        } else {
            self.name == name_or_id && self.deleted.is_none()
        }
    }

    pub fn resource(&self, logical_id: &str) -> Option<&StackResource> {
        self.resources.iter().find(|r| r.logical_id == logical_id)
    }

    fn resource_mut(&mut self, logical_id: &str) -> Option<&mut StackResource> {
        self.resources.iter_mut().find(|r| r.logical_id == logical_id)
    }

    /// A stack-level event (the stack itself as the resource), which also sets the status.
    pub fn stack_event(&mut self, event_id: String, at: DateTime<Utc>, status: &'static str, reason: Option<String>) {
        self.status = status;
        self.status_reason = reason.clone();
        self.events.push(StackEvent {
            id: event_id,
            logical_id: self.name.clone(),
            physical_id: Some(self.id.clone()),
            type_name: STACK_TYPE.to_string(),
            status,
            reason,
            timestamp: at,
            properties: None,
        });
    }

    /// Whether an operation may start: AWS refuses while another one runs.
    pub fn is_in_progress(&self) -> bool {
        self.status.ends_with("_IN_PROGRESS")
    }
}

#[derive(Debug, Clone)]
pub struct Pending {
    pub caller: Caller,
    pub operation: Operation,
}

#[derive(Debug, Clone)]
pub enum Operation {
    Create,
    Update(Box<UpdatePlan>),
    Delete { retain: Vec<String> },
}

/// The new desired state of an UpdateStack call.
#[derive(Debug, Clone)]
pub struct UpdatePlan {
    pub template: Arc<Template>,
    pub parameters: Vec<ResolvedParameter>,
    pub capabilities: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub notification_arns: Vec<String>,
    pub disable_rollback: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StackResource {
    pub logical_id: String,
    pub type_name: String,
    pub physical_id: Option<String>,
    pub status: &'static str,
    pub status_reason: Option<String>,
    pub updated: DateTime<Utc>,
    /// The properties the resource was last provisioned with, resolved.
    pub properties: Node,
    pub attributes: Vec<(String, Node)>,
    pub deletion_policy: Option<String>,
}

impl StackResource {
    /// Whether the resource exists (for `Ref` and for deletion).
    fn is_live(&self) -> bool {
        self.physical_id.is_some() && !matches!(self.status, DELETE_COMPLETE | DELETE_SKIPPED)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StackEvent {
    pub id: String,
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub type_name: String,
    pub status: &'static str,
    pub reason: Option<String>,
    pub timestamp: DateTime<Utc>,
    /// The resolved properties, as JSON text, on in-progress events.
    pub properties: Option<String>,
}

/// Effects cloudformation performs later, on the emulator clock.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Runs a stack's pending operation.
    Run { stack_id: String },
}

/// A UUID-shaped id from the run's counters (stack ids, event ids, request tokens).
pub fn uuid(world: &mut World) -> String {
    let id = world.ids.hex_id("cfn");
    let n = id.rsplit('-').next().and_then(|h| u64::from_str_radix(h, 16).ok()).unwrap_or(0);
    format!("00000000-0000-4000-a000-{n:012x}")
}

/// The pseudo parameters of a stack.
pub fn pseudo(stack_id: &str, stack_name: &str, account: &str, region: &str, notification_arns: &[String]) -> Pseudo {
    Pseudo {
        account: account.to_string(),
        region: region.to_string(),
        stack_name: stack_name.to_string(),
        stack_id: stack_id.to_string(),
        notification_arns: notification_arns.to_vec(),
    }
}

// ---------------------------------------------------------------------------------------------
// Resource types

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

// ---------------------------------------------------------------------------------------------
// Looking resources up while resolving

/// The stack's resources as `Ref` and `Fn::GetAtt` see them during an operation.
struct View<'a> {
    resources: &'a [StackResource],
    included: &'a BTreeSet<String>,
}

impl Resources for View<'_> {
    fn physical_id(&self, logical_id: &str) -> Lookup<String> {
        if !self.included.contains(logical_id) {
            return Lookup::Excluded;
        }
        match self.resources.iter().find(|r| r.logical_id == logical_id && r.is_live()) {
            Some(r) => r.physical_id.clone().map(Lookup::Found).unwrap_or(Lookup::Unknown),
            None => Lookup::Unknown,
        }
    }

    fn attribute(&self, logical_id: &str, attribute: &str) -> Lookup<Node> {
        if !self.included.contains(logical_id) {
            return Lookup::Excluded;
        }
        match self.resources.iter().find(|r| r.logical_id == logical_id && r.is_live()) {
            Some(r) => Lookup::Found(
                r.attributes
                    .iter()
                    .find(|(k, _)| k == attribute)
                    .map(|(_, v)| v.clone())
                    .unwrap_or(Node::Str(String::new())),
            ),
            None => Lookup::Unknown,
        }
    }
}

/// Resources of a template, none created yet: what validation resolves against.
pub struct NotYetCreated<'a> {
    pub included: &'a BTreeSet<String>,
}

impl Resources for NotYetCreated<'_> {
    fn physical_id(&self, logical_id: &str) -> Lookup<String> {
        if self.included.contains(logical_id) {
            Lookup::Unknown
        } else {
            Lookup::Excluded
        }
    }

    fn attribute(&self, logical_id: &str, _attribute: &str) -> Lookup<Node> {
        if self.included.contains(logical_id) {
            Lookup::Unknown
        } else {
            Lookup::Excluded
        }
    }
}

/// The resources whose condition holds with these parameters.
pub fn included_resources(
    template: &Template,
    pseudo: &Pseudo,
    parameters: &[ResolvedParameter],
) -> Result<BTreeSet<String>, AwsError> {
    let all: BTreeSet<String> = template.resources.iter().map(|r| r.logical_id.clone()).collect();
    let view = NotYetCreated { included: &all };
    let scope = Scope::new(template, pseudo, parameters, &view)?;
    Ok(template
        .resources
        .iter()
        .filter(|r| scope.included(r.condition.as_deref()))
        .map(|r| r.logical_id.clone())
        .collect())
}

/// Everything CreateStack and UpdateStack can find wrong before any resource exists: conditions,
/// references to conditionally excluded resources, and functions whose arguments are known.
pub fn dry_run(template: &Template, pseudo: &Pseudo, parameters: &[ResolvedParameter]) -> Result<(), AwsError> {
    let included = included_resources(template, pseudo, parameters)?;
    let view = NotYetCreated { included: &included };
    let scope = Scope::new(template, pseudo, parameters, &view)?;
    for resource in template.resources.iter().filter(|r| included.contains(&r.logical_id)) {
        scope.properties(resource)?;
    }
    scope.outputs().map(|_| ())
}

fn contains_unknown(node: &Node) -> bool {
    match node {
        Node::Unknown => true,
        Node::List(items) => items.iter().any(contains_unknown),
        Node::Map(entries) => entries.iter().any(|(_, v)| contains_unknown(v)),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// The engine

/// Applies a due event (see [`super::scheduler`]).
pub fn on_event(world: &mut World, due: &Scheduled, event: Event) {
    let Event::Run { stack_id } = event;
    let Some(mut stack) = world
        .regional(&due.account, &due.region)
        .and_then(|r| r.cloudformation.stacks.iter().find(|s| s.id == stack_id))
        .cloned()
    else {
        return;
    };
    let Some(pending) = stack.pending.take() else { return };
    let mut engine = Engine {
        world: &mut *world,
        account: due.account.clone(),
        region: due.region.clone(),
        now: due.at,
        caller: pending.caller,
        stack: &mut stack,
    };
    match pending.operation {
        Operation::Create => engine.create(),
        Operation::Update(plan) => engine.update(*plan),
        Operation::Delete { retain } => engine.delete(&retain),
    }
    tracing::info!(stack = %stack.name, status = stack.status, "stack operation finished");
    if let Some(slot) = world
        .regional_mut(&due.account, &due.region)
        .and_then(|r| r.cloudformation.stacks.iter_mut().find(|s| s.id == stack_id))
    {
        *slot = stack;
    }
}

/// Why a resource operation failed, and the physical resource it left behind, if any.
#[derive(Debug)]
struct Failure {
    reason: String,
    physical_id: Option<String>,
}

impl Failure {
    fn new(reason: impl Into<String>) -> Failure {
        Failure { reason: reason.into(), physical_id: None }
    }

    fn leaving(mut self, physical_id: &str) -> Failure {
        self.physical_id = Some(physical_id.to_string());
        self
    }
}

struct Created {
    physical_id: String,
    attributes: Vec<(String, Node)>,
}

/// What an update of one resource needs.
#[derive(Debug, PartialEq, Eq)]
enum Change {
    None,
    InPlace,
    Replace,
}

/// One step of an update, kept to undo it.
enum Step {
    Added(String),
    Replaced { old: StackResource },
    Updated { old: StackResource },
}

struct Engine<'w> {
    world: &'w mut World,
    account: String,
    region: String,
    now: DateTime<Utc>,
    caller: Caller,
    stack: &'w mut Stack,
}

impl Engine<'_> {
    fn pseudo(&self) -> Pseudo {
        pseudo(&self.stack.id, &self.stack.name, &self.account, &self.region, &self.stack.notification_arns)
    }

    fn stack_event(&mut self, status: &'static str, reason: Option<String>) {
        let id = uuid(self.world);
        self.stack.stack_event(id, self.now, status, reason);
    }

    /// Records a resource's new status and the matching event.
    fn resource_event(
        &mut self,
        logical_id: &str,
        type_name: &str,
        physical_id: Option<&str>,
        status: &'static str,
        reason: Option<String>,
        properties: Option<&Node>,
    ) {
        let id = uuid(self.world);
        self.stack.events.push(StackEvent {
            id,
            logical_id: logical_id.to_string(),
            physical_id: physical_id.map(str::to_string),
            type_name: type_name.to_string(),
            status,
            reason: reason.clone(),
            timestamp: self.now,
            properties: properties.map(Node::to_json_text),
        });
        if let Some(resource) = self.stack.resource_mut(logical_id) {
            resource.status = status;
            resource.status_reason = reason;
            resource.updated = self.now;
        }
    }

    fn resolve(
        &self,
        template: &Template,
        parameters: &[ResolvedParameter],
        included: &BTreeSet<String>,
        decl: &ResourceDecl,
    ) -> Result<Node, AwsError> {
        let pseudo = self.pseudo();
        let view = View { resources: &self.stack.resources, included };
        let scope = Scope::new(template, &pseudo, parameters, &view)?;
        let properties = scope.properties(decl)?;
        if contains_unknown(&properties) {
            return Err(AwsError::validation(format!(
                "Template error: a dependency of {} is not ready",
                decl.logical_id
            )));
        }
        Ok(properties)
    }

    fn outputs(&self, template: &Template, parameters: &[ResolvedParameter]) -> Vec<ResolvedOutput> {
        let pseudo = self.pseudo();
        let Ok(included) = included_resources(template, &pseudo, parameters) else { return Vec::new() };
        let view = View { resources: &self.stack.resources, included: &included };
        Scope::new(template, &pseudo, parameters, &view).and_then(|s| s.outputs()).unwrap_or_default()
    }

    /// The creation order of the resources whose condition holds.
    fn plan(
        &self,
        template: &Template,
        parameters: &[ResolvedParameter],
    ) -> Result<(Vec<String>, BTreeSet<String>), AwsError> {
        let included = included_resources(template, &self.pseudo(), parameters)?;
        let order = template.creation_order()?.into_iter().filter(|l| included.contains(l)).collect();
        Ok((order, included))
    }

    /// Creates one resource: events, status, and the stack's record of it.
    fn create_resource(&mut self, decl: &ResourceDecl, properties: &Node) -> Result<(), String> {
        // A resource added by an update is created like one of a new stack.
        let (in_progress, complete, failed) = (CREATE_IN_PROGRESS, CREATE_COMPLETE, CREATE_FAILED);
        self.stack.resources.retain(|r| r.logical_id != decl.logical_id);
        self.stack.resources.push(StackResource {
            logical_id: decl.logical_id.clone(),
            type_name: decl.type_name.clone(),
            physical_id: None,
            status: in_progress,
            status_reason: None,
            updated: self.now,
            properties: properties.clone(),
            attributes: Vec::new(),
            deletion_policy: decl.deletion_policy.clone(),
        });
        self.resource_event(&decl.logical_id, &decl.type_name, None, in_progress, None, Some(properties));
        match self.provision(&decl.logical_id, &decl.type_name, properties) {
            Ok(created) => {
                if let Some(r) = self.stack.resource_mut(&decl.logical_id) {
                    r.physical_id = Some(created.physical_id.clone());
                    r.attributes = created.attributes;
                }
                self.resource_event(
                    &decl.logical_id,
                    &decl.type_name,
                    Some(&created.physical_id),
                    in_progress,
                    Some("Resource creation Initiated".into()),
                    Some(properties),
                );
                self.resource_event(
                    &decl.logical_id,
                    &decl.type_name,
                    Some(&created.physical_id),
                    complete,
                    None,
                    None,
                );
                Ok(())
            }
            Err(failure) => {
                if let Some(r) = self.stack.resource_mut(&decl.logical_id) {
                    r.physical_id = failure.physical_id.clone();
                }
                self.resource_event(
                    &decl.logical_id,
                    &decl.type_name,
                    failure.physical_id.as_deref(),
                    failed,
                    Some(failure.reason.clone()),
                    None,
                );
                Err(failure.reason)
            }
        }
    }

    fn fail_before_resources(&mut self, logical_id: &str, decl: &ResourceDecl, reason: String, status: &'static str) {
        if self.stack.resource(logical_id).is_none() {
            self.stack.resources.push(StackResource {
                logical_id: logical_id.to_string(),
                type_name: decl.type_name.clone(),
                physical_id: None,
                status,
                status_reason: None,
                updated: self.now,
                properties: Node::Map(Vec::new()),
                attributes: Vec::new(),
                deletion_policy: decl.deletion_policy.clone(),
            });
        }
        self.resource_event(logical_id, &decl.type_name, None, status, Some(reason), None);
    }

    fn create(&mut self) {
        let template = self.stack.template.clone();
        let parameters = self.stack.parameters.clone();
        let (order, included) = match self.plan(&template, &parameters) {
            Ok(plan) => plan,
            Err(error) => {
                self.stack_event(ROLLBACK_IN_PROGRESS, Some(error.message));
                self.stack_event(ROLLBACK_COMPLETE, None);
                return;
            }
        };
        let mut failed = Vec::new();
        for logical_id in &order {
            let Some(decl) = template.resource(logical_id) else { continue };
            let properties = match self.resolve(&template, &parameters, &included, decl) {
                Ok(p) => p,
                Err(error) => {
                    self.fail_before_resources(logical_id, decl, error.message, CREATE_FAILED);
                    failed.push(logical_id.clone());
                    break;
                }
            };
            if self.create_resource(decl, &properties).is_err() {
                failed.push(logical_id.clone());
                break;
            }
        }
        if failed.is_empty() {
            self.stack.outputs = self.outputs(&template, &parameters);
            self.stack_event(CREATE_COMPLETE, None);
            return;
        }
        let reason = format!("The following resource(s) failed to create: [{}]. ", failed.join(", "));
        match self.stack.on_failure {
            OnFailure::DoNothing => self.stack_event(CREATE_FAILED, Some(reason)),
            on_failure => {
                self.stack_event(ROLLBACK_IN_PROGRESS, Some(format!("{reason}Rollback requested by user.")));
                let order = self.deletion_order(&template);
                let delete_failed = self.delete_resources(&order, &[], true);
                if !delete_failed.is_empty() {
                    self.stack_event(
                        ROLLBACK_FAILED,
                        Some(format!("The following resource(s) failed to delete: [{}]. ", delete_failed.join(", "))),
                    );
                    return;
                }
                self.stack_event(ROLLBACK_COMPLETE, None);
                if on_failure == OnFailure::Delete {
                    self.stack_event(DELETE_IN_PROGRESS, Some(USER_INITIATED.into()));
                    self.stack_event(DELETE_COMPLETE, None);
                    self.stack.deleted = Some(self.now);
                }
            }
        }
    }

    /// Reverse creation order of a template, then any resource it does not name.
    fn deletion_order(&self, template: &Template) -> Vec<String> {
        let mut order = template
            .creation_order()
            .unwrap_or_else(|_| template.resources.iter().map(|r| r.logical_id.clone()).collect());
        order.reverse();
        let mut rest: Vec<String> = self
            .stack
            .resources
            .iter()
            .rev()
            .filter(|r| !order.contains(&r.logical_id))
            .map(|r| r.logical_id.clone())
            .collect();
        rest.extend(order);
        rest
    }

    /// Deletes resources in order; answers the ones that failed.
    fn delete_resources(&mut self, order: &[String], retain: &[String], rolling_back_create: bool) -> Vec<String> {
        let mut failed = Vec::new();
        for logical_id in order {
            let Some(resource) = self.stack.resource(logical_id).cloned() else { continue };
            if matches!(resource.status, DELETE_COMPLETE | DELETE_SKIPPED) {
                continue;
            }
            let Some(physical_id) = resource.physical_id.clone() else {
                // Never created: nothing to delete.
                self.resource_event(logical_id, &resource.type_name, None, DELETE_COMPLETE, None, None);
                continue;
            };
            let retained = retain.contains(logical_id)
                || match resource.deletion_policy.as_deref() {
                    Some("Retain") => true,
                    Some("RetainExceptOnCreate") => !rolling_back_create,
                    _ => false,
                };
            if retained {
                self.resource_event(logical_id, &resource.type_name, Some(&physical_id), DELETE_SKIPPED, None, None);
                continue;
            }
            self.resource_event(logical_id, &resource.type_name, Some(&physical_id), DELETE_IN_PROGRESS, None, None);
            match self.deprovision(&resource) {
                Ok(()) => self.resource_event(
                    logical_id,
                    &resource.type_name,
                    Some(&physical_id),
                    DELETE_COMPLETE,
                    None,
                    None,
                ),
                Err(reason) => {
                    self.resource_event(
                        logical_id,
                        &resource.type_name,
                        Some(&physical_id),
                        DELETE_FAILED,
                        Some(reason),
                        None,
                    );
                    failed.push(logical_id.clone());
                }
            }
        }
        failed
    }

    fn delete(&mut self, retain: &[String]) {
        let template = self.stack.template.clone();
        let order = self.deletion_order(&template);
        let failed = self.delete_resources(&order, retain, false);
        if failed.is_empty() {
            self.stack_event(DELETE_COMPLETE, None);
            self.stack.deleted = Some(self.now);
        } else {
            self.stack_event(
                DELETE_FAILED,
                Some(format!("The following resource(s) failed to delete: [{}]. ", failed.join(", "))),
            );
        }
    }

    fn update(&mut self, plan: UpdatePlan) {
        let template = plan.template.clone();
        let parameters = plan.parameters.clone();
        let (order, included) = match self.plan(&template, &parameters) {
            Ok(p) => p,
            Err(error) => {
                self.stack_event(UPDATE_ROLLBACK_IN_PROGRESS, Some(error.message));
                self.stack_event(UPDATE_ROLLBACK_COMPLETE, None);
                return;
            }
        };
        let mut journal: Vec<Step> = Vec::new();
        let mut failure: Option<(String, &'static str)> = None;
        for logical_id in &order {
            let Some(decl) = template.resource(logical_id) else { continue };
            let live = self.stack.resource(logical_id).filter(|r| r.is_live()).cloned();
            let properties = match self.resolve(&template, &parameters, &included, decl) {
                Ok(p) => p,
                Err(error) => {
                    let status = if live.is_some() { UPDATE_FAILED } else { CREATE_FAILED };
                    self.fail_before_resources(logical_id, decl, error.message, status);
                    failure = Some((logical_id.clone(), if live.is_some() { "update" } else { "create" }));
                    break;
                }
            };
            let Some(old) = live else {
                journal.push(Step::Added(logical_id.clone()));
                if self.create_resource(decl, &properties).is_err() {
                    failure = Some((logical_id.clone(), "create"));
                    break;
                }
                continue;
            };
            if let Some(r) = self.stack.resource_mut(logical_id) {
                r.deletion_policy = decl.deletion_policy.clone();
            }
            let physical_id = old.physical_id.clone().unwrap_or_default();
            match change_of(&old.type_name, &old.properties, &properties) {
                Change::None => {}
                Change::Replace => {
                    if let Some(name) = fixed_custom_name(&old.type_name, &old.properties, &properties) {
                        self.resource_event(
                            logical_id,
                            &decl.type_name,
                            Some(&physical_id),
                            UPDATE_FAILED,
                            Some(format!(
                                "CloudFormation cannot update a stack when a custom-named resource requires replacing. Rename {name} and update the stack again."
                            )),
                            None,
                        );
                        failure = Some((logical_id.clone(), "update"));
                        break;
                    }
                    self.resource_event(
                        logical_id,
                        &decl.type_name,
                        Some(&physical_id),
                        UPDATE_IN_PROGRESS,
                        Some(
                            "Requested update requires the creation of a new physical resource; hence creating one."
                                .into(),
                        ),
                        Some(&properties),
                    );
                    journal.push(Step::Replaced { old: old.clone() });
                    match self.provision(logical_id, &decl.type_name, &properties) {
                        Ok(created) => {
                            if let Some(r) = self.stack.resource_mut(logical_id) {
                                r.physical_id = Some(created.physical_id.clone());
                                r.attributes = created.attributes;
                                r.properties = properties.clone();
                            }
                            self.resource_event(
                                logical_id,
                                &decl.type_name,
                                Some(&created.physical_id),
                                UPDATE_IN_PROGRESS,
                                Some("Resource creation Initiated".into()),
                                Some(&properties),
                            );
                            self.resource_event(
                                logical_id,
                                &decl.type_name,
                                Some(&created.physical_id),
                                UPDATE_COMPLETE,
                                None,
                                None,
                            );
                        }
                        Err(f) => {
                            // A half-created replacement is cleaned up with the rollback.
                            if let (Some(r), Some(p)) = (self.stack.resource_mut(logical_id), f.physical_id.clone()) {
                                r.physical_id = Some(p);
                            }
                            let shown = f.physical_id.clone().unwrap_or(physical_id.clone());
                            self.resource_event(
                                logical_id,
                                &decl.type_name,
                                Some(&shown),
                                UPDATE_FAILED,
                                Some(f.reason),
                                None,
                            );
                            failure = Some((logical_id.clone(), "update"));
                            break;
                        }
                    }
                }
                Change::InPlace => {
                    self.resource_event(
                        logical_id,
                        &decl.type_name,
                        Some(&physical_id),
                        UPDATE_IN_PROGRESS,
                        None,
                        Some(&properties),
                    );
                    journal.push(Step::Updated { old: old.clone() });
                    match self.reprovision(&old, &properties) {
                        Ok(attributes) => {
                            if let Some(r) = self.stack.resource_mut(logical_id) {
                                r.properties = properties.clone();
                                if let Some(attributes) = attributes {
                                    r.attributes = attributes;
                                }
                            }
                            self.resource_event(
                                logical_id,
                                &decl.type_name,
                                Some(&physical_id),
                                UPDATE_COMPLETE,
                                None,
                                None,
                            );
                        }
                        Err(reason) => {
                            // Part of the change may have been applied: the rollback re-applies
                            // the previous properties against what was attempted.
                            if let Some(r) = self.stack.resource_mut(logical_id) {
                                r.properties = properties.clone();
                            }
                            self.resource_event(
                                logical_id,
                                &decl.type_name,
                                Some(&physical_id),
                                UPDATE_FAILED,
                                Some(reason),
                                None,
                            );
                            failure = Some((logical_id.clone(), "update"));
                            break;
                        }
                    }
                }
            }
        }

        match failure {
            None => self.finish_update(plan, journal, &included),
            Some((logical_id, verb)) => self.roll_back_update(journal, &logical_id, verb, plan.disable_rollback),
        }
    }

    fn finish_update(&mut self, plan: UpdatePlan, journal: Vec<Step>, included: &BTreeSet<String>) {
        self.stack_event(UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, None);
        let old_template = self.stack.template.clone();
        self.stack.template = plan.template.clone();
        self.stack.parameters = plan.parameters.clone();
        self.stack.capabilities = plan.capabilities;
        self.stack.tags = plan.tags;
        self.stack.notification_arns = plan.notification_arns;
        self.stack.outputs = self.outputs(&plan.template, &plan.parameters);

        // The physical resources that replacements superseded, newest first.
        for step in journal.into_iter().rev() {
            if let Step::Replaced { old } = step {
                self.delete_superseded(&old);
            }
        }
        // Resources the new template no longer has (or whose condition no longer holds).
        let order: Vec<String> =
            self.deletion_order(&old_template).into_iter().filter(|l| !included.contains(l)).collect();
        self.delete_resources(&order, &[], false);
        self.stack.resources.retain(|r| included.contains(&r.logical_id));
        self.stack_event(UPDATE_COMPLETE, None);
    }

    /// Deletes a physical resource that the stack no longer tracks (a replaced one). Failures
    /// are reported in its events but do not fail the operation, as in AWS's cleanup phase.
    fn delete_superseded(&mut self, old: &StackResource) {
        let Some(physical_id) = old.physical_id.clone() else { return };
        let id = uuid(self.world);
        self.push_loose_event(id, old, &physical_id, DELETE_IN_PROGRESS, None);
        let outcome = self.deprovision(old);
        let id = uuid(self.world);
        match outcome {
            Ok(()) => self.push_loose_event(id, old, &physical_id, DELETE_COMPLETE, None),
            Err(reason) => self.push_loose_event(id, old, &physical_id, DELETE_FAILED, Some(reason)),
        }
    }

    /// An event about a physical resource without touching the stack's record of its logical id.
    fn push_loose_event(
        &mut self,
        id: String,
        resource: &StackResource,
        physical_id: &str,
        status: &'static str,
        reason: Option<String>,
    ) {
        self.stack.events.push(StackEvent {
            id,
            logical_id: resource.logical_id.clone(),
            physical_id: Some(physical_id.to_string()),
            type_name: resource.type_name.clone(),
            status,
            reason,
            timestamp: self.now,
            properties: None,
        });
    }

    fn roll_back_update(&mut self, journal: Vec<Step>, failed: &str, verb: &str, disable_rollback: bool) {
        let reason = format!("The following resource(s) failed to {verb}: [{failed}]. ");
        if disable_rollback {
            self.stack_event(UPDATE_FAILED, Some(reason));
            return;
        }
        self.stack_event(UPDATE_ROLLBACK_IN_PROGRESS, Some(reason));
        let mut cleanup: Vec<StackResource> = Vec::new();
        let mut added: Vec<String> = Vec::new();
        let mut rollback_failed = Vec::new();
        for step in journal.into_iter().rev() {
            match step {
                Step::Added(logical_id) => added.push(logical_id),
                Step::Replaced { old } => {
                    let Some(current) = self.stack.resource(&old.logical_id).cloned() else { continue };
                    if current.physical_id != old.physical_id {
                        cleanup.push(current.clone());
                    }
                    let physical_id = old.physical_id.clone();
                    if let Some(r) = self.stack.resource_mut(&old.logical_id) {
                        *r = old.clone();
                    }
                    self.resource_event(
                        &old.logical_id,
                        &old.type_name,
                        physical_id.as_deref(),
                        UPDATE_IN_PROGRESS,
                        None,
                        None,
                    );
                    self.resource_event(
                        &old.logical_id,
                        &old.type_name,
                        physical_id.as_deref(),
                        UPDATE_COMPLETE,
                        None,
                        None,
                    );
                }
                Step::Updated { old } => {
                    let Some(current) = self.stack.resource(&old.logical_id).cloned() else { continue };
                    let physical_id = old.physical_id.clone();
                    self.resource_event(
                        &old.logical_id,
                        &old.type_name,
                        physical_id.as_deref(),
                        UPDATE_IN_PROGRESS,
                        None,
                        None,
                    );
                    match self.reprovision(&current, &old.properties) {
                        Ok(_) => {
                            if let Some(r) = self.stack.resource_mut(&old.logical_id) {
                                *r = old.clone();
                            }
                            self.resource_event(
                                &old.logical_id,
                                &old.type_name,
                                physical_id.as_deref(),
                                UPDATE_COMPLETE,
                                None,
                                None,
                            );
                        }
                        Err(reason) => {
                            self.resource_event(
                                &old.logical_id,
                                &old.type_name,
                                physical_id.as_deref(),
                                UPDATE_FAILED,
                                Some(reason),
                                None,
                            );
                            rollback_failed.push(old.logical_id.clone());
                        }
                    }
                }
            }
        }
        if !rollback_failed.is_empty() {
            self.stack_event(
                UPDATE_ROLLBACK_FAILED,
                Some(format!("The following resource(s) failed to update: [{}]. ", rollback_failed.join(", "))),
            );
            return;
        }
        self.stack_event(UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS, None);
        for superseded in &cleanup {
            self.delete_superseded(superseded);
        }
        self.delete_resources(&added, &[], true);
        self.stack.resources.retain(|r| !added.contains(&r.logical_id));
        self.stack_event(UPDATE_ROLLBACK_COMPLETE, None);
    }

    // -----------------------------------------------------------------------------------------
    // Inner calls

    /// Calls another service's handler as the stack caller; an error becomes the resource's
    /// status reason (see [`failure_reason`]).
    fn call(&mut self, service: ServiceId, action: &str, params: Value) -> Result<Value, CallError> {
        let call = Call { caller: &self.caller, region: &self.region, now: self.now, action, params: &params };
        match services::handle(service, self.world, &call) {
            Some(Ok(output)) => Ok(output),
            Some(Err(error)) => {
                let request_id = self.world.ids.request_id();
                let token = uuid(self.world);
                let reason = failure_reason(self.world.profile, service, action, &error, &request_id, &token);
                Err(CallError { code: error.code.to_string(), reason })
            }
            None => Err(CallError {
                code: "NotEmulated".into(),
                reason: format!("wana: {}:{action} is not emulated yet", service.wire().signing_name),
            }),
        }
    }

    /// A name for a resource the template does not name: `<stack>-<logical id>-<13 characters>`,
    /// shortened to `max` characters the way AWS shortens them (stack name first).
    fn generated_name(&mut self, logical_id: &str, max: usize) -> String {
        let suffix = self.world.ids.prefixed("CFN", 13)[3..].to_string();
        let budget = max.saturating_sub(suffix.len() + 2);
        let stack: String = self.stack.name.clone();
        let (mut stack_part, mut logical_part) = (stack.as_str(), logical_id);
        if stack_part.len() + logical_part.len() > budget {
            let keep_stack = budget.saturating_sub(logical_part.len()).max(budget / 2).min(stack_part.len());
            stack_part = &stack_part[..keep_stack];
            let keep_logical = budget.saturating_sub(stack_part.len()).min(logical_part.len());
            logical_part = &logical_part[..keep_logical];
        }
        format!("{stack_part}-{logical_part}-{suffix}")
    }

    fn provision(&mut self, logical_id: &str, type_name: &str, properties: &Node) -> Result<Created, Failure> {
        let spec =
            type_spec(type_name).ok_or_else(|| Failure::new(format!("wana does not emulate {type_name} yet")))?;
        validate_properties(spec, logical_id, properties)?;
        match type_name {
            "AWS::EC2::Instance" => self.create_instance(logical_id, properties),
            "AWS::CloudWatch::Alarm" => self.create_alarm(logical_id, properties),
            "AWS::IAM::Role" => self.create_role(logical_id, properties),
            "AWS::IAM::InstanceProfile" => self.create_instance_profile(logical_id, properties),
            "AWS::IAM::Policy" => self.create_policy(logical_id, properties),
            _ => Err(Failure::new(format!("wana does not emulate {type_name} yet"))),
        }
    }

    /// Updates a resource in place; answers new attributes when they change.
    fn reprovision(
        &mut self,
        current: &StackResource,
        properties: &Node,
    ) -> Result<Option<Vec<(String, Node)>>, String> {
        let spec =
            type_spec(&current.type_name).ok_or_else(|| format!("wana does not emulate {} yet", current.type_name))?;
        validate_properties(spec, &current.logical_id, properties).map_err(|f| f.reason)?;
        let physical_id = current.physical_id.clone().unwrap_or_default();
        match current.type_name.as_str() {
            "AWS::CloudWatch::Alarm" => {
                let input = alarm_input(&current.logical_id, &physical_id, properties).map_err(|f| f.reason)?;
                self.call(ServiceId::CloudWatch, "PutMetricAlarm", input).map(|_| None).map_err(|e| e.reason)
            }
            "AWS::IAM::Role" => self.update_role(&physical_id, &current.properties, properties).map(|_| None),
            "AWS::IAM::InstanceProfile" => {
                let old_roles = strings(current.properties.get("Roles"));
                let new_roles = strings(properties.get("Roles"));
                for role in old_roles.iter().filter(|r| !new_roles.contains(r)) {
                    let input = Value::structure()
                        .with("InstanceProfileName", physical_id.as_str())
                        .with("RoleName", role.as_str());
                    self.call(ServiceId::Iam, "RemoveRoleFromInstanceProfile", input).map_err(|e| e.reason)?;
                }
                for role in new_roles.iter().filter(|r| !old_roles.contains(r)) {
                    let input = Value::structure()
                        .with("InstanceProfileName", physical_id.as_str())
                        .with("RoleName", role.as_str());
                    self.call(ServiceId::Iam, "AddRoleToInstanceProfile", input).map_err(|e| e.reason)?;
                }
                Ok(None)
            }
            "AWS::IAM::Policy" => {
                policy_targets(&current.logical_id, properties).map_err(|f| f.reason)?;
                self.remove_policy(&current.properties, Some(properties))?;
                self.put_policy(properties).map(|_| None).map_err(|f| f.reason)
            }
            other => Err(format!("wana cannot update {other} in place")),
        }
    }

    fn deprovision(&mut self, resource: &StackResource) -> Result<(), String> {
        let physical_id = resource.physical_id.clone().unwrap_or_default();
        let gone = |e: &CallError| {
            e.code == "NoSuchEntity"
                || e.code.ends_with(".NotFound")
                || e.code == "ResourceNotFound"
                || e.code == "NotFound"
        };
        let result = match resource.type_name.as_str() {
            "AWS::EC2::Instance" => {
                let input = Value::structure().with("InstanceId", Value::List(vec![physical_id.as_str().into()]));
                self.call(ServiceId::Ec2, "TerminateInstances", input).map(|_| ())
            }
            "AWS::CloudWatch::Alarm" => {
                let input = Value::structure().with("AlarmNames", Value::List(vec![physical_id.as_str().into()]));
                self.call(ServiceId::CloudWatch, "DeleteAlarms", input).map(|_| ())
            }
            "AWS::IAM::Role" => return self.delete_role(&physical_id),
            "AWS::IAM::InstanceProfile" => {
                for role in strings(resource.properties.get("Roles")) {
                    let input =
                        Value::structure().with("InstanceProfileName", physical_id.as_str()).with("RoleName", role);
                    match self.call(ServiceId::Iam, "RemoveRoleFromInstanceProfile", input) {
                        Err(e) if !gone(&e) => return Err(e.reason),
                        _ => {}
                    }
                }
                let input = Value::structure().with("InstanceProfileName", physical_id.as_str());
                self.call(ServiceId::Iam, "DeleteInstanceProfile", input).map(|_| ())
            }
            "AWS::IAM::Policy" => return self.remove_policy(&resource.properties, None),
            other => return Err(format!("wana cannot delete {other}")),
        };
        match result {
            Err(e) if !gone(&e) => Err(e.reason),
            _ => Ok(()),
        }
    }

    // -----------------------------------------------------------------------------------------
    // AWS::EC2::Instance

    fn create_instance(&mut self, logical_id: &str, properties: &Node) -> Result<Created, Failure> {
        let input = instance_input(logical_id, properties)?;
        let output = self.call(ServiceId::Ec2, "RunInstances", input).map_err(|e| Failure::new(e.reason))?;
        let instance = member(&output, &["instancesSet", "Instances"])
            .and_then(|l| l.as_list().first())
            .cloned()
            .ok_or_else(|| Failure::new("wana: RunInstances answered no instance"))?;
        let text = |names: &[&str]| member(&instance, names).and_then(Value::as_str).unwrap_or_default().to_string();
        let id = text(&["instanceId", "InstanceId"]);
        let zone = member(&instance, &["placement", "Placement"])
            .and_then(|p| member(p, &["availabilityZone", "AvailabilityZone"]))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let attributes = vec![
            ("AvailabilityZone".to_string(), Node::Str(zone)),
            ("InstanceId".to_string(), Node::Str(id.clone())),
            ("PrivateDnsName".to_string(), Node::Str(text(&["privateDnsName", "PrivateDnsName"]))),
            ("PrivateIp".to_string(), Node::Str(text(&["privateIpAddress", "PrivateIpAddress"]))),
            ("PublicDnsName".to_string(), Node::Str(text(&["dnsName", "PublicDnsName"]))),
            ("PublicIp".to_string(), Node::Str(text(&["ipAddress", "PublicIpAddress"]))),
        ];
        Ok(Created { physical_id: id, attributes })
    }

    // -----------------------------------------------------------------------------------------
    // AWS::CloudWatch::Alarm

    fn create_alarm(&mut self, logical_id: &str, properties: &Node) -> Result<Created, Failure> {
        let name = match properties.get("AlarmName").and_then(Node::text) {
            Some(name) => name,
            None => self.generated_name(logical_id, 255),
        };
        let input = alarm_input(logical_id, &name, properties)?;
        self.call(ServiceId::CloudWatch, "PutMetricAlarm", input).map_err(|e| Failure::new(e.reason))?;
        let arn = format!("arn:aws:cloudwatch:{}:{}:alarm:{name}", self.region, self.account);
        Ok(Created { physical_id: name, attributes: vec![("Arn".to_string(), Node::Str(arn))] })
    }

    // -----------------------------------------------------------------------------------------
    // AWS::IAM::Role

    fn create_role(&mut self, logical_id: &str, properties: &Node) -> Result<Created, Failure> {
        let name = match properties.get("RoleName").and_then(Node::text) {
            Some(name) => name,
            None => self.generated_name(logical_id, 64),
        };
        let mut input = Value::structure()
            .with("RoleName", name.as_str())
            .with("AssumeRolePolicyDocument", document(properties.get("AssumeRolePolicyDocument")));
        for member in ["Path", "Description", "MaxSessionDuration", "PermissionsBoundary"] {
            if let Some(text) = properties.get(member).and_then(Node::text) {
                input.push(member, text);
            }
        }
        if let Some(tags) = tags(properties) {
            input.push("Tags", tags);
        }
        let output = self.call(ServiceId::Iam, "CreateRole", input).map_err(|e| Failure::new(e.reason))?;
        let role = output.get("Role");
        let text = |m: &str| role.and_then(|r| r.get(m)).and_then(Value::as_str).unwrap_or_default().to_string();
        let attributes =
            vec![("Arn".to_string(), Node::Str(text("Arn"))), ("RoleId".to_string(), Node::Str(text("RoleId")))];
        for (policy_name, document) in inline_policies(properties.get("Policies")) {
            let input = Value::structure()
                .with("RoleName", name.as_str())
                .with("PolicyName", policy_name)
                .with("PolicyDocument", document);
            self.call(ServiceId::Iam, "PutRolePolicy", input).map_err(|e| Failure::new(e.reason).leaving(&name))?;
        }
        for arn in strings(properties.get("ManagedPolicyArns")) {
            let input = Value::structure().with("RoleName", name.as_str()).with("PolicyArn", arn);
            self.call(ServiceId::Iam, "AttachRolePolicy", input).map_err(|e| Failure::new(e.reason).leaving(&name))?;
        }
        Ok(Created { physical_id: name, attributes })
    }

    fn update_role(&mut self, name: &str, old: &Node, new: &Node) -> Result<(), String> {
        let role = |input: Value| input.with("RoleName", name);
        if old.get("AssumeRolePolicyDocument") != new.get("AssumeRolePolicyDocument") {
            let input = role(Value::structure()).with("PolicyDocument", document(new.get("AssumeRolePolicyDocument")));
            self.call(ServiceId::Iam, "UpdateAssumeRolePolicy", input).map_err(|e| e.reason)?;
        }
        if old.get("Description") != new.get("Description")
            || old.get("MaxSessionDuration") != new.get("MaxSessionDuration")
        {
            let mut input = role(Value::structure());
            input.push("Description", new.get("Description").and_then(Node::text).unwrap_or_default());
            if let Some(duration) = new.get("MaxSessionDuration").and_then(Node::text) {
                input.push("MaxSessionDuration", duration);
            }
            self.call(ServiceId::Iam, "UpdateRole", input).map_err(|e| e.reason)?;
        }
        let old_policies = inline_policies(old.get("Policies"));
        let new_policies = inline_policies(new.get("Policies"));
        for (policy_name, _) in old_policies.iter().filter(|(n, _)| !new_policies.iter().any(|(m, _)| m == n)) {
            let input = role(Value::structure()).with("PolicyName", policy_name.as_str());
            self.call(ServiceId::Iam, "DeleteRolePolicy", input).map_err(|e| e.reason)?;
        }
        for (policy_name, doc) in new_policies.iter().filter(|p| !old_policies.contains(p)) {
            let input =
                role(Value::structure()).with("PolicyName", policy_name.as_str()).with("PolicyDocument", doc.as_str());
            self.call(ServiceId::Iam, "PutRolePolicy", input).map_err(|e| e.reason)?;
        }
        let old_arns = strings(old.get("ManagedPolicyArns"));
        let new_arns = strings(new.get("ManagedPolicyArns"));
        for arn in old_arns.iter().filter(|a| !new_arns.contains(a)) {
            let input = role(Value::structure()).with("PolicyArn", arn.as_str());
            self.call(ServiceId::Iam, "DetachRolePolicy", input).map_err(|e| e.reason)?;
        }
        for arn in new_arns.iter().filter(|a| !old_arns.contains(a)) {
            let input = role(Value::structure()).with("PolicyArn", arn.as_str());
            self.call(ServiceId::Iam, "AttachRolePolicy", input).map_err(|e| e.reason)?;
        }
        if old.get("Tags") != new.get("Tags") {
            let old_tags = tag_pairs(old);
            let new_tags = tag_pairs(new);
            let removed: Vec<Value> = old_tags
                .iter()
                .filter(|(k, _)| !new_tags.iter().any(|(n, _)| n == k))
                .map(|(k, _)| Value::from(k.as_str()))
                .collect();
            if !removed.is_empty() {
                let input = role(Value::structure()).with("TagKeys", Value::List(removed));
                self.call(ServiceId::Iam, "UntagRole", input).map_err(|e| e.reason)?;
            }
            if let Some(tags) = tags(new) {
                let input = role(Value::structure()).with("Tags", tags);
                self.call(ServiceId::Iam, "TagRole", input).map_err(|e| e.reason)?;
            }
        }
        if old.get("PermissionsBoundary") != new.get("PermissionsBoundary") {
            let input = match new.get("PermissionsBoundary").and_then(Node::text) {
                Some(arn) => ("PutRolePermissionsBoundary", role(Value::structure()).with("PermissionsBoundary", arn)),
                None => ("DeleteRolePermissionsBoundary", role(Value::structure())),
            };
            self.call(ServiceId::Iam, input.0, input.1).map_err(|e| e.reason)?;
        }
        Ok(())
    }

    /// What AWS::IAM::Role's delete handler does: detach managed policies, delete inline
    /// policies (both listed with the caller's credentials), then delete the role.
    fn delete_role(&mut self, name: &str) -> Result<(), String> {
        let not_found = |e: &CallError| e.code == "NoSuchEntity";
        let mut marker: Option<String> = None;
        loop {
            let input = Value::structure().with("RoleName", name).with_opt("Marker", marker.take());
            let output = match self.call(ServiceId::Iam, "ListAttachedRolePolicies", input) {
                Ok(o) => o,
                Err(e) if not_found(&e) => return Ok(()),
                Err(e) => return Err(e.reason),
            };
            for policy in output.get("AttachedPolicies").map(Value::as_list).unwrap_or_default() {
                if let Some(arn) = policy.get("PolicyArn").and_then(Value::as_str) {
                    let input = Value::structure().with("RoleName", name).with("PolicyArn", arn);
                    self.call(ServiceId::Iam, "DetachRolePolicy", input).map_err(|e| e.reason)?;
                }
            }
            marker = next_marker(&output);
            if marker.is_none() {
                break;
            }
        }
        loop {
            let input = Value::structure().with("RoleName", name).with_opt("Marker", marker.take());
            let output = match self.call(ServiceId::Iam, "ListRolePolicies", input) {
                Ok(o) => o,
                Err(e) if not_found(&e) => return Ok(()),
                Err(e) => return Err(e.reason),
            };
            for policy_name in output.get("PolicyNames").map(Value::as_list).unwrap_or_default() {
                if let Some(policy_name) = policy_name.as_str() {
                    let input = Value::structure().with("RoleName", name).with("PolicyName", policy_name);
                    self.call(ServiceId::Iam, "DeleteRolePolicy", input).map_err(|e| e.reason)?;
                }
            }
            marker = next_marker(&output);
            if marker.is_none() {
                break;
            }
        }
        match self.call(ServiceId::Iam, "DeleteRole", Value::structure().with("RoleName", name)) {
            Err(e) if !not_found(&e) => Err(e.reason),
            _ => Ok(()),
        }
    }

    // -----------------------------------------------------------------------------------------
    // AWS::IAM::InstanceProfile

    fn create_instance_profile(&mut self, logical_id: &str, properties: &Node) -> Result<Created, Failure> {
        let name = match properties.get("InstanceProfileName").and_then(Node::text) {
            Some(name) => name,
            None => self.generated_name(logical_id, 128),
        };
        let mut input = Value::structure().with("InstanceProfileName", name.as_str());
        if let Some(path) = properties.get("Path").and_then(Node::text) {
            input.push("Path", path);
        }
        let output = self.call(ServiceId::Iam, "CreateInstanceProfile", input).map_err(|e| Failure::new(e.reason))?;
        let arn = output
            .get("InstanceProfile")
            .and_then(|p| p.get("Arn"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        for role in strings(properties.get("Roles")) {
            let input = Value::structure().with("InstanceProfileName", name.as_str()).with("RoleName", role);
            self.call(ServiceId::Iam, "AddRoleToInstanceProfile", input)
                .map_err(|e| Failure::new(e.reason).leaving(&name))?;
        }
        Ok(Created { physical_id: name, attributes: vec![("Arn".to_string(), Node::Str(arn))] })
    }

    // -----------------------------------------------------------------------------------------
    // AWS::IAM::Policy

    fn create_policy(&mut self, logical_id: &str, properties: &Node) -> Result<Created, Failure> {
        policy_targets(logical_id, properties)?;
        let id = self.generated_name(logical_id, 128);
        self.put_policy(properties).map_err(|f| f.leaving(&id))?;
        Ok(Created { physical_id: id.clone(), attributes: vec![("Id".to_string(), Node::Str(id))] })
    }

    fn put_policy(&mut self, properties: &Node) -> Result<(), Failure> {
        let policy_name = properties.get("PolicyName").and_then(Node::text).unwrap_or_default();
        let doc = document(properties.get("PolicyDocument"));
        for (member, action, entity) in policy_entities(properties) {
            let input = Value::structure()
                .with(member, entity)
                .with("PolicyName", policy_name.as_str())
                .with("PolicyDocument", doc.as_str());
            self.call(ServiceId::Iam, action, input).map_err(|e| Failure::new(e.reason))?;
        }
        Ok(())
    }

    /// Removes the inline policy from the entities of `old` that `new` no longer lists (all of
    /// them when `new` is absent or renames the policy).
    fn remove_policy(&mut self, old: &Node, new: Option<&Node>) -> Result<(), String> {
        let policy_name = old.get("PolicyName").and_then(Node::text).unwrap_or_default();
        let keep: Vec<(&'static str, String)> = match new {
            Some(new) if new.get("PolicyName").and_then(Node::text).as_deref() == Some(policy_name.as_str()) => {
                policy_entities(new).into_iter().map(|(m, _, e)| (m, e)).collect()
            }
            _ => Vec::new(),
        };
        for (member, _, entity) in policy_entities(old) {
            if keep.iter().any(|(m, e)| *m == member && *e == entity) {
                continue;
            }
            let action = match member {
                "RoleName" => "DeleteRolePolicy",
                "UserName" => "DeleteUserPolicy",
                _ => "DeleteGroupPolicy",
            };
            let input = Value::structure().with(member, entity).with("PolicyName", policy_name.as_str());
            match self.call(ServiceId::Iam, action, input) {
                Err(e) if e.code != "NoSuchEntity" => return Err(e.reason),
                _ => {}
            }
        }
        Ok(())
    }
}

struct CallError {
    code: String,
    reason: String,
}

/// How a resource's status reason quotes the inner call's error.
///
/// Today resource handlers (the CloudFormation registry) quote the AWS SDK for Java's exception:
/// `Resource handler returned message: "User: … is not authorized to perform: iam:CreateRole on
/// resource: … (Service: Iam, Status Code: 403, Request ID: …)" (RequestToken: …,
/// HandlerErrorCode: AccessDenied)` (seen in aws-cdk issue 27067). Before the registry,
/// CloudFormation named the API call: `API: iam:CreateRole User: … is not authorized to perform:
/// iam:CreateRole on resource: …` (aws-cli issue 4826, serverless-application-model issue 448).
fn failure_reason(
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
fn sdk_service_name(service: ServiceId) -> &'static str {
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
    }
}

/// The resource handlers' `HandlerErrorCode` for a service error.
fn handler_error_code(error: &AwsError) -> &'static str {
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

/// How a change of properties is applied.
fn change_of(type_name: &str, old: &Node, new: &Node) -> Change {
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
fn fixed_custom_name(type_name: &str, old: &Node, new: &Node) -> Option<String> {
    let property = type_spec(type_name)?.name_property?;
    let name = new.get(property)?;
    (old.get(property) == Some(name)).then(|| name.text().unwrap_or_default())
}

/// The registry's schema validation: unknown and missing properties, before any call.
fn validate_properties(spec: &TypeSpec, logical_id: &str, properties: &Node) -> Result<(), Failure> {
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

fn member<'v>(value: &'v Value, names: &[&str]) -> Option<&'v Value> {
    names.iter().find_map(|n| value.get(n))
}

fn next_marker(output: &Value) -> Option<String> {
    let truncated = output.get("IsTruncated").and_then(Value::as_bool).unwrap_or(false);
    truncated.then(|| output.get("Marker").and_then(Value::as_str).map(str::to_string)).flatten()
}

/// A list property of strings (scalars become text).
fn strings(node: Option<&Node>) -> Vec<String> {
    node.and_then(Node::as_list).unwrap_or_default().iter().filter_map(Node::text).collect()
}

/// A policy document property: an object is sent as its JSON text, a string as it is.
fn document(node: Option<&Node>) -> String {
    match node {
        Some(Node::Str(s)) => s.clone(),
        Some(other) => other.to_json_text(),
        None => String::new(),
    }
}

/// `Policies: [{PolicyName, PolicyDocument}]` as (name, document text).
fn inline_policies(node: Option<&Node>) -> Vec<(String, String)> {
    node.and_then(Node::as_list)
        .unwrap_or_default()
        .iter()
        .map(|p| (p.get("PolicyName").and_then(Node::text).unwrap_or_default(), document(p.get("PolicyDocument"))))
        .collect()
}

fn tag_pairs(properties: &Node) -> Vec<(String, String)> {
    properties
        .get("Tags")
        .and_then(Node::as_list)
        .unwrap_or_default()
        .iter()
        .map(|t| {
            (
                t.get("Key").and_then(Node::text).unwrap_or_default(),
                t.get("Value").and_then(Node::text).unwrap_or_default(),
            )
        })
        .collect()
}

/// `Tags: [{Key, Value}]` as the query services' tag list.
fn tags(properties: &Node) -> Option<Value> {
    let pairs = tag_pairs(properties);
    (!pairs.is_empty()).then(|| {
        pairs.iter().map(|(k, v)| Value::structure().with("Key", k.as_str()).with("Value", v.as_str())).collect()
    })
}

/// The inline policy's entities as (request member, put action, name).
fn policy_entities(properties: &Node) -> Vec<(&'static str, &'static str, String)> {
    let mut out = Vec::new();
    for (property, member, action) in [
        ("Roles", "RoleName", "PutRolePolicy"),
        ("Users", "UserName", "PutUserPolicy"),
        ("Groups", "GroupName", "PutGroupPolicy"),
    ] {
        for name in strings(properties.get(property)) {
            out.push((member, action, name));
        }
    }
    out
}

fn policy_targets(logical_id: &str, properties: &Node) -> Result<(), Failure> {
    if policy_entities(properties).is_empty() {
        return Err(Failure::new(format!(
            "Properties validation failed for resource {logical_id} with message: At least one of [Groups,Roles,Users] must be non-empty."
        )));
    }
    Ok(())
}

/// A scalar property as the query text the wire would carry.
fn text_value(node: &Node) -> Option<Value> {
    node.text().map(Value::Str)
}

fn number_error(logical_id: &str, property: &str, expected: &str) -> Failure {
    Failure::new(format!(
        "Properties validation failed for resource {logical_id} with message: #/{property}: expected type: {expected}, found: String"
    ))
}

/// PutMetricAlarm's input. Numbers may be given as strings in a template ("60"), as
/// CloudFormation accepts; they are passed on typed, as the SDKs send them.
fn alarm_input(logical_id: &str, name: &str, properties: &Node) -> Result<Value, Failure> {
    let mut input = Value::structure().with("AlarmName", name);
    for (key, value) in properties.entries() {
        let converted = match key.as_str() {
            "AlarmName" => continue,
            "Period" | "EvaluationPeriods" | "DatapointsToAlarm" => {
                let text = value.text().unwrap_or_default();
                Value::Int(text.trim().parse().map_err(|_| number_error(logical_id, key, "Integer"))?)
            }
            "Threshold" => {
                let text = value.text().unwrap_or_default();
                Value::Float(text.trim().parse().map_err(|_| number_error(logical_id, key, "Number"))?)
            }
            "ActionsEnabled" => match value.text().as_deref() {
                Some("true") => Value::Bool(true),
                Some("false") => Value::Bool(false),
                _ => return Err(number_error(logical_id, key, "Boolean")),
            },
            "AlarmActions" | "OKActions" | "InsufficientDataActions" => {
                Value::List(strings(Some(value)).into_iter().map(Value::Str).collect())
            }
            "Dimensions" | "Tags" => {
                let (k, v) = if key == "Dimensions" { ("Name", "Value") } else { ("Key", "Value") };
                value
                    .as_list()
                    .unwrap_or_default()
                    .iter()
                    .map(|d| {
                        Value::structure()
                            .with(k, d.get(k).and_then(Node::text).unwrap_or_default())
                            .with(v, d.get(v).and_then(Node::text).unwrap_or_default())
                    })
                    .collect()
            }
            _ => match text_value(value) {
                Some(v) => v,
                None => continue,
            },
        };
        input.push(key, converted);
    }
    Ok(input)
}

/// RunInstances' input in ec2Query member names, one instance.
fn instance_input(logical_id: &str, properties: &Node) -> Result<Value, Failure> {
    let mut input = Value::structure().with("MinCount", "1").with("MaxCount", "1");
    let mut placement = Value::structure();
    for (key, value) in properties.entries() {
        match key.as_str() {
            "ImageId"
            | "InstanceType"
            | "KeyName"
            | "SubnetId"
            | "UserData"
            | "PrivateIpAddress"
            | "KernelId"
            | "RamdiskId"
            | "InstanceInitiatedShutdownBehavior"
            | "EbsOptimized"
            | "DisableApiTermination" => {
                if let Some(v) = text_value(value) {
                    input.push(key, v);
                }
            }
            "AvailabilityZone" | "Tenancy" => {
                if let Some(v) = text_value(value) {
                    placement.push(key, v);
                }
            }
            "PlacementGroupName" => {
                if let Some(v) = text_value(value) {
                    placement.push("GroupName", v);
                }
            }
            "IamInstanceProfile" => {
                let profile = value.text().unwrap_or_default();
                let member = if profile.starts_with("arn:") { "Arn" } else { "Name" };
                input.push("IamInstanceProfile", Value::structure().with(member, profile));
            }
            "SecurityGroupIds" => {
                input.push("SecurityGroupId", strings(Some(value)).into_iter().map(Value::Str).collect::<Value>())
            }
            "SecurityGroups" => {
                input.push("SecurityGroup", strings(Some(value)).into_iter().map(Value::Str).collect::<Value>())
            }
            "Monitoring" => {
                if let Some(v) = text_value(value) {
                    input.push("Monitoring", Value::structure().with("Enabled", v));
                }
            }
            "BlockDeviceMappings" => {
                let mut mappings = Vec::new();
                for mapping in value.as_list().unwrap_or_default() {
                    let mut out = Value::structure();
                    for (member, v) in mapping.entries() {
                        match member.as_str() {
                            "DeviceName" | "VirtualName" => {
                                if let Some(v) = text_value(v) {
                                    out.push(member, v);
                                }
                            }
                            "NoDevice" => out.push("NoDevice", ""),
                            "Ebs" => {
                                let mut ebs = Value::structure();
                                for (name, v) in v.entries() {
                                    if let Some(v) = text_value(v) {
                                        ebs.push(name, v);
                                    }
                                }
                                out.push("Ebs", ebs);
                            }
                            other => {
                                return Err(Failure::new(format!(
                                    "Properties validation failed for resource {logical_id} with message: #/BlockDeviceMappings: extraneous key [{other}] is not permitted"
                                )))
                            }
                        }
                    }
                    mappings.push(out);
                }
                input.push("BlockDeviceMapping", Value::List(mappings));
            }
            "Tags" => {
                if let Some(tags) = tags(properties) {
                    input.push(
                        "TagSpecification",
                        Value::List(vec![Value::structure().with("ResourceType", "instance").with("Tag", tags)]),
                    );
                }
            }
            _ => {}
        }
    }
    if !placement.entries().is_empty() {
        input.push("Placement", placement);
    }
    Ok(input)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::{accounts::DEFAULT_ACCOUNTS, principal::Caller, profile::BehaviourProfile};

    const ACCOUNT: &str = "111111111111";
    const REGION: &str = "ap-northeast-1";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2016, 8, 16, 23, 2, 25).unwrap()
    }

    fn world() -> World {
        World::new(BehaviourProfile::Current, now())
    }

    fn caller(world: &World, key_id: &str) -> Caller {
        let key = world.access_keys.get(key_id).expect("known key");
        Caller {
            principal: world.principal_of(key).expect("principal"),
            access_key_id: key_id.to_string(),
            credential_kind: key.kind(),
            source_ip: "127.0.0.1".parse().unwrap(),
            token_issued: None,
        }
    }

    fn admin(world: &World) -> Caller {
        caller(world, DEFAULT_ACCOUNTS[0].access_key_id)
    }

    /// One request, as dispatch runs it: due effects first, then the handler.
    fn request(
        world: &mut World,
        who: &Caller,
        service: ServiceId,
        action: &str,
        params: Value,
    ) -> Result<Value, AwsError> {
        world.run_due(now());
        let call = Call { caller: who, region: REGION, now: now(), action, params: &params };
        let result = services::handle(service, world, &call).expect("operation exists");
        world.run_due(now());
        result
    }

    fn cfn(world: &mut World, who: &Caller, action: &str, params: Value) -> Result<Value, AwsError> {
        request(world, who, ServiceId::CloudFormation, action, params)
    }

    /// A user with PowerUserAccess and a long-term key, as in the source report.
    fn power_user(world: &mut World) -> Caller {
        let admin = admin(world);
        request(world, &admin, ServiceId::Iam, "CreateUser", Value::structure().with("UserName", "cfn")).unwrap();
        request(
            world,
            &admin,
            ServiceId::Iam,
            "AttachUserPolicy",
            Value::structure().with("UserName", "cfn").with("PolicyArn", "arn:aws:iam::aws:policy/PowerUserAccess"),
        )
        .unwrap();
        let key = request(world, &admin, ServiceId::Iam, "CreateAccessKey", Value::structure().with("UserName", "cfn"))
            .unwrap();
        let id = key.get("AccessKey").and_then(|k| k.get("AccessKeyId")).and_then(Value::as_str).unwrap().to_string();
        caller(world, &id)
    }

    fn create(name: &str, body: &str) -> Value {
        Value::structure().with("StackName", name).with("TemplateBody", body)
    }

    fn stack<'w>(world: &'w World, name: &str) -> &'w Stack {
        world.regional(ACCOUNT, REGION).unwrap().cloudformation.find(name).expect("stack exists")
    }

    fn statuses(stack: &Stack) -> Vec<String> {
        stack.events.iter().map(|e| format!("{} {}", e.logical_id, e.status)).collect()
    }

    fn role_exists(world: &World, name: &str) -> bool {
        world.account(ACCOUNT).unwrap().iam.roles.contains_key(name)
    }

    const IAM_TEMPLATE: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Description: a role for instances
Parameters:
  Env:
    Type: String
    Default: dev
Resources:
  InstanceRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { Service: ec2.amazonaws.com }
            Action: sts:AssumeRole
      Policies:
        - PolicyName: read
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: ec2:Describe*
                Resource: "*"
  Profile:
    Type: AWS::IAM::InstanceProfile
    Properties:
      Roles: [!Ref InstanceRole]
Outputs:
  RoleArn:
    Value: !GetAtt InstanceRole.Arn
  Profile:
    Value: !Sub "${Profile}-${Env}"
"#;

    fn with_iam(params: Value) -> Value {
        params.with("Capabilities", Value::List(vec!["CAPABILITY_IAM".into()]))
    }

    #[test]
    fn an_iam_stack_is_created_with_the_callers_credentials_and_deleted() {
        let mut world = world();
        let admin = admin(&world);
        let error = cfn(&mut world, &admin, "CreateStack", create("roles", IAM_TEMPLATE)).unwrap_err();
        assert_eq!(
            (error.code.as_ref(), error.message.as_str()),
            ("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_IAM]")
        );

        let answer = cfn(&mut world, &admin, "CreateStack", with_iam(create("roles", IAM_TEMPLATE))).unwrap();
        let stack_id = answer.get("StackId").and_then(Value::as_str).unwrap().to_string();
        assert!(stack_id.starts_with("arn:aws:cloudformation:ap-northeast-1:111111111111:stack/roles/"));
        let s = stack(&world, "roles");
        assert_eq!(s.status, CREATE_COMPLETE, "{:?}", statuses(s));
        let role = s.resource("InstanceRole").unwrap().physical_id.clone().unwrap();
        assert!(role.starts_with("roles-InstanceRole-") && role.len() == "roles-InstanceRole-".len() + 13, "{role}");
        assert!(role_exists(&world, &role));
        let iam = &world.account(ACCOUNT).unwrap().iam;
        assert!(iam.roles[&role].inline_policies.contains_key("read"));
        let profile = s.resource("Profile").unwrap().physical_id.clone().unwrap();
        assert!(iam.instance_profiles.contains_key(&profile));
        assert_eq!(s.outputs[0].value, format!("arn:aws:iam::111111111111:role/{role}"));
        assert_eq!(s.outputs[1].value, format!("{profile}-dev"));
        assert_eq!(
            statuses(s),
            vec![
                "roles CREATE_IN_PROGRESS",
                "InstanceRole CREATE_IN_PROGRESS",
                "InstanceRole CREATE_IN_PROGRESS",
                "InstanceRole CREATE_COMPLETE",
                "Profile CREATE_IN_PROGRESS",
                "Profile CREATE_IN_PROGRESS",
                "Profile CREATE_COMPLETE",
                "roles CREATE_COMPLETE",
            ]
        );

        let error = cfn(&mut world, &admin, "CreateStack", with_iam(create("roles", IAM_TEMPLATE))).unwrap_err();
        assert_eq!(
            (error.code.as_ref(), error.message.as_str()),
            ("AlreadyExistsException", "Stack [roles] already exists")
        );

        cfn(&mut world, &admin, "DeleteStack", Value::structure().with("StackName", "roles")).unwrap();
        assert!(!role_exists(&world, &role));
        assert!(!world.account(ACCOUNT).unwrap().iam.instance_profiles.contains_key(&profile));
        let error =
            cfn(&mut world, &admin, "DescribeStacks", Value::structure().with("StackName", "roles")).unwrap_err();
        assert_eq!(error.message, "Stack with id roles does not exist");
        let by_id =
            cfn(&mut world, &admin, "DescribeStacks", Value::structure().with("StackName", stack_id.as_str())).unwrap();
        assert_eq!(by_id.get("Stacks").unwrap().as_list()[0].get("StackStatus"), Some(&Value::from(DELETE_COMPLETE)));
    }

    #[test]
    fn a_denied_inner_call_fails_the_resource_and_the_stack_rolls_back() {
        let mut world = world();
        let admin = admin(&world);
        let power = power_user(&mut world);
        // Something PowerUserAccess may create, then the role it may not.
        let body = r#"{"Resources": {
            "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
                "Statistic": "Average", "Period": "60", "EvaluationPeriods": "1", "Threshold": "90", "ComparisonOperator": "GreaterThanThreshold"}},
            "Role": {"Type": "AWS::IAM::Role", "DependsOn": "Alarm", "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}}
        }}"#;
        cfn(&mut world, &power, "CreateStack", with_iam(create("denied", body))).unwrap();
        let s = stack(&world, "denied").clone();
        assert_eq!(s.status, ROLLBACK_COMPLETE, "{:?}", statuses(&s));
        let failed = s.events.iter().find(|e| e.status == CREATE_FAILED).unwrap();
        assert_eq!(failed.logical_id, "Role");
        let reason = failed.reason.clone().unwrap();
        assert!(
            reason.starts_with("Resource handler returned message: \"User: arn:aws:iam::111111111111:user/cfn is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::111111111111:role/denied-Role-"),
            "{reason}"
        );
        assert!(reason.contains("(Service: Iam, Status Code: 403, Request ID: "), "{reason}");
        assert!(reason.ends_with("HandlerErrorCode: AccessDenied)"), "{reason}");
        let rollback = s.events.iter().find(|e| e.status == ROLLBACK_IN_PROGRESS).unwrap();
        assert_eq!(
            rollback.reason.as_deref(),
            Some("The following resource(s) failed to create: [Role]. Rollback requested by user.")
        );
        // The alarm that was created is gone again.
        let alarm = s.resource("Alarm").unwrap();
        assert_eq!(alarm.status, DELETE_COMPLETE);
        assert!(world.regional(ACCOUNT, REGION).unwrap().cloudwatch.alarms.is_empty());
        // A stack in ROLLBACK_COMPLETE cannot be updated, only deleted.
        let error = cfn(&mut world, &power, "UpdateStack", with_iam(create("denied", body))).unwrap_err();
        assert_eq!(error.message, format!("Stack:{} is in ROLLBACK_COMPLETE state and can not be updated.", s.id));
        // The same template works for the administrator.
        cfn(&mut world, &admin, "CreateStack", with_iam(create("allowed", body))).unwrap();
        assert_eq!(stack(&world, "allowed").status, CREATE_COMPLETE);
    }

    #[test]
    fn the_legacy_profile_names_the_api_call_in_the_reason() {
        let mut world = World::new(BehaviourProfile::Legacy2016, now());
        let power = power_user(&mut world);
        let body = r#"{"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "app",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}}}}}"#;
        let params = create("legacy", body).with("Capabilities", Value::List(vec!["CAPABILITY_NAMED_IAM".into()]));
        cfn(&mut world, &power, "CreateStack", params).unwrap();
        let s = stack(&world, "legacy");
        assert_eq!(s.status, ROLLBACK_COMPLETE);
        let reason = s.events.iter().find(|e| e.status == CREATE_FAILED).and_then(|e| e.reason.clone()).unwrap();
        assert!(
            reason.starts_with("API: iam:CreateRole User: arn:aws:iam::111111111111:user/cfn is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::111111111111:role/app"),
            "{reason}"
        );
    }

    #[test]
    fn disable_rollback_keeps_what_was_created() {
        let mut world = world();
        let admin = admin(&world);
        let taken = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;
        request(
            &mut world,
            &admin,
            ServiceId::Iam,
            "CreateRole",
            Value::structure().with("RoleName", "Taken").with("AssumeRolePolicyDocument", taken),
        )
        .unwrap();
        let body = r#"{"Resources": {
            "First": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}},
            "Second": {"Type": "AWS::IAM::Role", "DependsOn": "First", "Properties": {"RoleName": "Taken", "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}}
        }}"#;
        let params = create("kept", body)
            .with("Capabilities", Value::List(vec!["CAPABILITY_NAMED_IAM".into()]))
            .with("DisableRollback", "true");
        cfn(&mut world, &admin, "CreateStack", params).unwrap();
        let s = stack(&world, "kept").clone();
        assert_eq!(s.status, CREATE_FAILED);
        assert_eq!(s.status_reason.as_deref(), Some("The following resource(s) failed to create: [Second]. "));
        let reason = s.resource("Second").unwrap().status_reason.clone().unwrap();
        assert!(reason.contains("HandlerErrorCode: AlreadyExists"), "{reason}");
        let first = s.resource("First").unwrap().physical_id.clone().unwrap();
        assert!(role_exists(&world, &first));
        // Deleting the stack deletes it; the pre-existing role is not the stack's.
        cfn(&mut world, &admin, "DeleteStack", Value::structure().with("StackName", "kept")).unwrap();
        assert!(!role_exists(&world, &first));
        assert!(role_exists(&world, "Taken"));
    }

    #[test]
    fn updates_apply_in_place_or_replace_and_roll_back_on_failure() {
        let mut world = world();
        let admin = admin(&world);
        cfn(&mut world, &admin, "CreateStack", with_iam(create("up", IAM_TEMPLATE))).unwrap();
        let before = stack(&world, "up").clone();
        let role = before.resource("InstanceRole").unwrap().physical_id.clone().unwrap();
        let profile = before.resource("Profile").unwrap().physical_id.clone().unwrap();

        let error = cfn(&mut world, &admin, "UpdateStack", with_iam(create("up", IAM_TEMPLATE))).unwrap_err();
        assert_eq!(error.message, "No updates are to be performed.");

        // In place: the inline policy changes, the role stays.
        let changed = IAM_TEMPLATE.replace("ec2:Describe*", "ec2:DescribeInstances");
        cfn(&mut world, &admin, "UpdateStack", with_iam(create("up", &changed))).unwrap();
        let s = stack(&world, "up").clone();
        assert_eq!(s.status, UPDATE_COMPLETE, "{:?}", statuses(&s));
        assert_eq!(s.resource("InstanceRole").unwrap().physical_id.as_deref(), Some(role.as_str()));
        let text = &world.account(ACCOUNT).unwrap().iam.roles[&role].inline_policies["read"].text;
        assert!(text.contains("ec2:DescribeInstances"), "{text}");

        // Replacement: a named profile is a new profile; the old one goes in the cleanup phase.
        let renamed = changed.replace(
            "Roles: [!Ref InstanceRole]",
            "InstanceProfileName: named-profile\n      Roles: [!Ref InstanceRole]",
        );
        let params = create("up", &renamed).with("Capabilities", Value::List(vec!["CAPABILITY_NAMED_IAM".into()]));
        cfn(&mut world, &admin, "UpdateStack", params).unwrap();
        let s = stack(&world, "up").clone();
        assert_eq!(s.status, UPDATE_COMPLETE, "{:?}", statuses(&s));
        let profiles = &world.account(ACCOUNT).unwrap().iam.instance_profiles;
        assert!(profiles.contains_key("named-profile") && !profiles.contains_key(&profile));
        let tail: Vec<String> = statuses(&s).into_iter().skip(before.events.len() + 5).collect();
        assert_eq!(
            tail,
            vec![
                "up UPDATE_IN_PROGRESS",
                "Profile UPDATE_IN_PROGRESS",
                "Profile UPDATE_IN_PROGRESS",
                "Profile UPDATE_COMPLETE",
                "up UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
                "Profile DELETE_IN_PROGRESS",
                "Profile DELETE_COMPLETE",
                "up UPDATE_COMPLETE",
            ]
        );

        // A malformed policy fails the update; the previous policy is put back.
        let broken = renamed.replace("Action: ec2:DescribeInstances", "Action: 42\n                Bogus: x");
        let params = create("up", &broken).with("Capabilities", Value::List(vec!["CAPABILITY_NAMED_IAM".into()]));
        cfn(&mut world, &admin, "UpdateStack", params).unwrap();
        let s = stack(&world, "up").clone();
        assert_eq!(s.status, UPDATE_ROLLBACK_COMPLETE, "{:?}", statuses(&s));
        let failed = s.events.iter().rev().find(|e| e.status == UPDATE_FAILED).unwrap();
        assert!(
            failed.reason.as_deref().unwrap().contains("MalformedPolicyDocument")
                || failed.reason.as_deref().unwrap().contains("HandlerErrorCode: InvalidRequest"),
            "{:?}",
            failed.reason
        );
        let text = &world.account(ACCOUNT).unwrap().iam.roles[&role].inline_policies["read"].text;
        assert!(text.contains("ec2:DescribeInstances"), "{text}");
        assert_eq!(s.template.body, renamed);
    }

    /// The source report: EC2 instance plus recovery alarm, the alarm named by CloudFormation,
    /// then an update that names the alarm, which replaces it.
    #[test]
    fn the_report_stack_creates_an_instance_and_a_recovery_alarm() {
        let mut world = world();
        let power = power_user(&mut world);
        let body = crate::state::template::tests::REPORT_EC2_JSON.to_string();
        cfn(&mut world, &power, "CreateStack", create("ec2-recoveryalarm-user", &body)).unwrap();
        let s = stack(&world, "ec2-recoveryalarm-user").clone();
        assert_eq!(
            s.status,
            CREATE_COMPLETE,
            "{:?}",
            s.events.iter().map(|e| (&e.logical_id, e.status, &e.reason)).collect::<Vec<_>>()
        );
        let instance = s.resource("Ec2Instance").unwrap().physical_id.clone().unwrap();
        assert!(instance.starts_with("i-"));
        let alarm = s.resource("RecoveryAlarm").unwrap().physical_id.clone().unwrap();
        let suffix = alarm.strip_prefix("ec2-recoveryalarm-user-RecoveryAlarm-").expect("generated name");
        assert!(suffix.len() == 13 && suffix.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()), "{alarm}");
        let cloudwatch = &world.regional(ACCOUNT, REGION).unwrap().cloudwatch;
        let stored = &cloudwatch.alarms[&alarm];
        assert_eq!(stored.creator().principal, power.principal);
        assert_eq!(stored.creator().credential_kind, power.credential_kind);
        assert_eq!(
            s.outputs.iter().map(|o| o.value.clone()).collect::<Vec<_>>(),
            vec![instance.clone(), alarm.clone()]
        );

        let renamed = body.replacen(
            "\"Namespace\": \"AWS/EC2\" ,",
            "\"Namespace\": \"AWS/EC2\" ,\n        \"AlarmName\": \"ec2-recoveryalarm-user-RecoveryAlarm-renew\",",
            1,
        );
        cfn(&mut world, &power, "UpdateStack", create("ec2-recoveryalarm-user", &renamed)).unwrap();
        let s = stack(&world, "ec2-recoveryalarm-user").clone();
        assert_eq!(s.status, UPDATE_COMPLETE, "{:?}", statuses(&s));
        let alarms = &world.regional(ACCOUNT, REGION).unwrap().cloudwatch.alarms;
        assert!(alarms.contains_key("ec2-recoveryalarm-user-RecoveryAlarm-renew") && !alarms.contains_key(&alarm));
        assert_eq!(s.resource("Ec2Instance").unwrap().physical_id.as_deref(), Some(instance.as_str()));

        cfn(&mut world, &power, "DeleteStack", Value::structure().with("StackName", "ec2-recoveryalarm-user")).unwrap();
        let s = world.regional(ACCOUNT, REGION).unwrap().cloudformation.stacks[0].clone();
        assert_eq!(s.status, DELETE_COMPLETE, "{:?}", statuses(&s));
        assert!(world.regional(ACCOUNT, REGION).unwrap().cloudwatch.alarms.is_empty());
    }

    #[test]
    fn generated_names_fit_the_limit() {
        let mut world = world();
        let admin = admin(&world);
        let long_stack = "a-very-long-stack-name-that-goes-on-and-on-and-on";
        let body = r#"{"Resources": {"AnExtremelyLongLogicalIdForTheRole": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}}}}"#;
        cfn(&mut world, &admin, "CreateStack", with_iam(create(long_stack, body))).unwrap();
        let s = stack(&world, long_stack);
        let name = s.resources[0].physical_id.clone().unwrap();
        assert_eq!(name.len(), 64, "{name}");
        assert!(name.starts_with("a-very-long-stack-name") && name.contains("-AnExtremelyLong"), "{name}");
    }

    #[test]
    fn template_errors_answer_synchronously() {
        let mut world = world();
        let admin = admin(&world);
        let cases = [
            ("{\n  \"Resources\": {\n    ,", "Template format error: JSON not well-formed. (line 3, column 5)"),
            (
                r#"{"Resources": {"A": {"Type": "AWS::Foo::Bar"}}}"#,
                "Template format error: Unrecognized resource types: [AWS::Foo::Bar]",
            ),
            (
                r#"{"Parameters": {"X": {"Type": "String"}}, "Resources": {"A": {"Type": "AWS::CloudWatch::Alarm"}}}"#,
                "Parameters: [X] must have values",
            ),
            (
                r#"{"Parameters": {"X": {"Type": "String", "Default": "a"}}, "Conditions": {"C": {"Fn::Equals": [{"Ref": "X"}, "b"]}},
                   "Resources": {"A": {"Type": "AWS::CloudWatch::Alarm", "Condition": "C"}, "B": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmDescription": {"Ref": "A"}}}}}"#,
                "Template format error: Unresolved resource dependencies [A] in the Resources block of the template",
            ),
        ];
        for (body, expected) in cases {
            let error = cfn(&mut world, &admin, "CreateStack", create("bad", body)).unwrap_err();
            assert_eq!((error.code.as_ref(), error.message.as_str()), ("ValidationError", expected));
        }
        let error = cfn(&mut world, &admin, "CreateStack", create("bad_name", "{}")).unwrap_err();
        assert_eq!(error.message, "1 validation error detected: Value 'bad_name' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*");
        let error = cfn(
            &mut world,
            &admin,
            "CreateStack",
            create("x", "{}").with("RoleARN", "arn:aws:iam::111111111111:role/cfn"),
        )
        .unwrap_err();
        assert!(error.message.starts_with("wana: service roles"));
        assert!(world.regional(ACCOUNT, REGION).is_none_or(|r| r.cloudformation.stacks.is_empty()));
    }

    #[test]
    fn validate_template_reports_parameters_and_capabilities() {
        let mut world = world();
        let admin = admin(&world);
        let out =
            cfn(&mut world, &admin, "ValidateTemplate", Value::structure().with("TemplateBody", IAM_TEMPLATE)).unwrap();
        assert_eq!(out.get("Description"), Some(&Value::from("a role for instances")));
        assert_eq!(out.get("Capabilities"), Some(&Value::List(vec!["CAPABILITY_IAM".into()])));
        assert_eq!(
            out.get("CapabilitiesReason"),
            Some(&Value::from(
                "The following resource(s) require capabilities: [AWS::IAM::InstanceProfile, AWS::IAM::Role]"
            ))
        );
        let parameters = out.get("Parameters").unwrap().as_list();
        assert_eq!(parameters[0].get("ParameterKey"), Some(&Value::from("Env")));
        assert_eq!(parameters[0].get("DefaultValue"), Some(&Value::from("dev")));
    }
}
