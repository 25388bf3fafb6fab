//! Managed nodes: registration by the agent (`UpdateInstanceInformation`), and what
//! `DescribeInstanceInformation` and `DescribeInstanceAssociationsStatus` answer about them.
//!
//! A node is listed while its EC2 instance is `running`: a stopped, terminated or deleted
//! instance drops out of the list (its registration is kept, and a restarted instance shows
//! again once its agent pinged). `PingStatus` is computed when the node is described, from its
//! last successful ping and the clock.
//!
//! Chosen where AWS is silent: an instance of the caller's account and region that is not a
//! managed node, named in an `InstanceIds` filter, is simply absent from the answer (only an id
//! that is no instance of the caller's, malformed ids included, is `InvalidInstanceId`);
//! `ActivationIds`, `IamRole` and `AssociationStatus` filters are accepted and match no node,
//! because an EC2 node here has no hybrid activation, no Quick Setup role and no associations.

use chrono::Duration;

use crate::{
    authz::RequestFacts,
    error::AwsError,
    state::{
        ec2::{self, InstanceStateName},
        World,
    },
};

use super::{
    access::{authorize, check_reported_by_the_instance, instance_arn},
    errors, state, state_mut, ManagedNode, PingStatus, CONNECTION_LOST_AFTER_SECONDS,
};

/// What an agent reports in `UpdateInstanceInformation`; absent members keep what the node
/// last reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentReport {
    pub instance_id: String,
    pub agent_name: Option<String>,
    pub agent_version: Option<String>,
    pub platform_type: Option<String>,
    pub platform_name: Option<String>,
    pub platform_version: Option<String>,
    pub ip_address: Option<String>,
    pub computer_name: Option<String>,
}

const UPDATE_INSTANCE_INFORMATION: &str = "ssm:UpdateInstanceInformation";

/// Whether EC2 still knows the instance as something SSM can talk about (the `InvalidInstanceId`
/// documentation: `Shutting-down` and `Terminated` are not valid states).
fn live_instance(world: &World, account: &str, region: &str, instance_id: &str) -> bool {
    ec2::instance(world, account, region, instance_id)
        .is_some_and(|i| !matches!(i.state, InstanceStateName::ShuttingDown | InstanceStateName::Terminated))
}

/// Registers a node, or refreshes it: IAM must allow `ssm:UpdateInstanceInformation` on the
/// instance, the instance must be the caller's and alive, and the request must come from the
/// instance itself ([`check_reported_by_the_instance`]).
pub fn update_instance_information(world: &mut World, facts: RequestFacts<'_>, report: &AgentReport) -> Result<(), AwsError> {
    let account = facts.caller.principal.account().to_string();
    let region = facts.region;
    let id = report.instance_id.as_str();
    let arn = instance_arn(region, &account, id);
    authorize(world, facts, UPDATE_INSTANCE_INFORMATION, &arn)?;
    if !live_instance(world, &account, region, id) {
        return Err(errors::invalid_instance_id());
    }
    check_reported_by_the_instance(world, facts, UPDATE_INSTANCE_INFORMATION, &arn)?;
    let now = facts.now;
    let nodes = &mut state_mut(world, &account, region).ok_or_else(errors::invalid_instance_id)?.nodes;
    let node = nodes.entry(id.to_string()).or_insert_with(|| ManagedNode {
        instance_id: id.to_string(),
        registration_date: now,
        last_ping: now,
        agent_name: None,
        agent_version: None,
        platform_type: None,
        platform_name: None,
        platform_version: None,
        ip_address: None,
        computer_name: None,
    });
    node.last_ping = now;
    let keep = |field: &mut Option<String>, reported: &Option<String>| {
        if reported.is_some() {
            field.clone_from(reported);
        }
    };
    keep(&mut node.agent_name, &report.agent_name);
    keep(&mut node.agent_version, &report.agent_version);
    keep(&mut node.platform_type, &report.platform_type);
    keep(&mut node.platform_name, &report.platform_name);
    keep(&mut node.platform_version, &report.platform_version);
    keep(&mut node.ip_address, &report.ip_address);
    keep(&mut node.computer_name, &report.computer_name);
    Ok(())
}

/// One filter of `DescribeInstanceInformation`: values of one filter are alternatives, filters
/// must all hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceFilter {
    InstanceIds(Vec<String>),
    PingStatus(Vec<PingStatus>),
    PlatformTypes(Vec<String>),
    ResourceType(String),
    AgentVersion(Vec<String>),
    SourceIds(Vec<String>),
    SourceTypes(Vec<String>),
    /// `tag-key`: the instance has a tag with one of these keys.
    TagKey(Vec<String>),
    /// `tag:<key>`: the instance's tag `key` has one of these values.
    Tag { key: String, values: Vec<String> },
    /// `ActivationIds`, `IamRole`, `AssociationStatus`: no EC2 node here has these.
    MatchesNothing,
}

/// The keys `InstanceInformationFilterList` accepts (`InstanceInformationFilterKey`).
pub const LEGACY_FILTER_KEYS: [&str; 8] =
    ["InstanceIds", "AgentVersion", "PingStatus", "PlatformTypes", "ActivationIds", "IamRole", "ResourceType", "AssociationStatus"];

const PLATFORM_TYPES: [&str; 3] = ["Windows", "Linux", "MacOS"];
const RESOURCE_TYPES: [&str; 2] = ["EC2Instance", "ManagedInstance"];

impl InstanceFilter {
    /// A filter from its key and values, with SSM's errors: an unknown key is
    /// `InvalidFilterKey`, a value outside a key's set is `InvalidInstanceInformationFilterValue`.
    pub fn parse(key: &str, values: Vec<String>) -> Result<InstanceFilter, AwsError> {
        let invalid = |valid: &[&str]| {
            errors::invalid_filter_value(format!("{key} filter is invalid, valid values are {}", valid.join(", ")))
        };
        Ok(match key {
            "InstanceIds" => InstanceFilter::InstanceIds(values),
            "PingStatus" => InstanceFilter::PingStatus(
                values
                    .iter()
                    .map(|v| PingStatus::parse(v))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| invalid(&PingStatus::ALL.map(PingStatus::as_str)))?,
            ),
            "PlatformTypes" => {
                if values.iter().any(|v| !PLATFORM_TYPES.contains(&v.as_str())) {
                    return Err(invalid(&PLATFORM_TYPES));
                }
                InstanceFilter::PlatformTypes(values)
            }
            "ResourceType" => match values.as_slice() {
                [one] if RESOURCE_TYPES.contains(&one.as_str()) => InstanceFilter::ResourceType(one.clone()),
                [_] => return Err(invalid(&RESOURCE_TYPES)),
                _ => return Err(errors::invalid_filter_value("ResourceType filter may contain only one value.")),
            },
            "AgentVersion" => InstanceFilter::AgentVersion(values),
            "SourceIds" => InstanceFilter::SourceIds(values),
            "SourceTypes" => InstanceFilter::SourceTypes(values),
            "ActivationIds" | "IamRole" | "AssociationStatus" => InstanceFilter::MatchesNothing,
            "tag-key" => InstanceFilter::TagKey(values),
            _ => match key.strip_prefix("tag:") {
                Some(tag) if !tag.is_empty() => InstanceFilter::Tag { key: tag.to_string(), values },
                _ => return Err(errors::invalid_filter_key()),
            },
        })
    }

    fn is_tag(&self) -> bool {
        matches!(self, InstanceFilter::TagKey(_) | InstanceFilter::Tag { .. })
    }

    fn keeps(&self, view: &NodeView, tags: &[ec2::Tag]) -> bool {
        let node = &view.node;
        let one_of = |values: &[String], value: Option<&str>| value.is_some_and(|v| values.iter().any(|x| x == v));
        match self {
            InstanceFilter::InstanceIds(ids) | InstanceFilter::SourceIds(ids) => one_of(ids, Some(&node.instance_id)),
            InstanceFilter::PingStatus(statuses) => statuses.contains(&view.ping_status),
            InstanceFilter::PlatformTypes(types) => one_of(types, node.platform_type.as_deref()),
            InstanceFilter::ResourceType(resource_type) => resource_type == RESOURCE_TYPE,
            InstanceFilter::AgentVersion(versions) => one_of(versions, node.agent_version.as_deref()),
            InstanceFilter::SourceTypes(types) => one_of(types, Some(SOURCE_TYPE)),
            InstanceFilter::TagKey(keys) => tags.iter().any(|t| keys.contains(&t.key)),
            InstanceFilter::Tag { key, values } => tags.iter().any(|t| &t.key == key && values.contains(&t.value)),
            InstanceFilter::MatchesNothing => false,
        }
    }
}

/// `ResourceType` of every node here.
pub const RESOURCE_TYPE: &str = "EC2Instance";
/// `SourceType` of every node here.
pub const SOURCE_TYPE: &str = "AWS::EC2::Instance";

/// A node as `DescribeInstanceInformation` shows it at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeView {
    pub node: ManagedNode,
    pub ping_status: PingStatus,
}

/// The caller's managed nodes whose instances run, in instance id order, kept by every filter.
pub fn describe_instance_information(
    world: &mut World,
    facts: RequestFacts<'_>,
    filters: &[InstanceFilter],
) -> Result<Vec<NodeView>, AwsError> {
    authorize(world, facts, "ssm:DescribeInstanceInformation", "*")?;
    if filters.iter().any(InstanceFilter::is_tag) && filters.iter().any(|f| !f.is_tag()) {
        return Err(errors::validation("Cannot mix tag or inventory filter with any other filter."));
    }
    let account = facts.caller.principal.account();
    let region = facts.region;
    for filter in filters {
        if let InstanceFilter::InstanceIds(ids) = filter {
            if ids.iter().any(|id| ec2::instance(world, account, region, id).is_none()) {
                return Err(errors::invalid_instance_id());
            }
        }
    }
    let threshold = world.latency(Duration::seconds(CONNECTION_LOST_AFTER_SECONDS));
    let Some(ssm) = state(world, account, region) else {
        return Ok(Vec::new());
    };
    let mut views = Vec::new();
    for node in ssm.nodes.values() {
        let Some(instance) = ec2::instance(world, account, region, &node.instance_id) else {
            continue;
        };
        if instance.state != InstanceStateName::Running {
            continue;
        }
        let view = NodeView { node: node.clone(), ping_status: node.ping_status(facts.now, threshold) };
        if filters.iter().all(|f| f.keeps(&view, &instance.tags)) {
            views.push(view);
        }
    }
    Ok(views)
}

/// `DescribeInstanceAssociationsStatus` for a node: it has no associations here, so the answer
/// is empty for a registered node whose instance is alive and `InvalidInstanceId` otherwise
/// (the troubleshooting guide uses this call to tell a registered node from another).
pub fn describe_instance_associations_status(
    world: &mut World,
    facts: RequestFacts<'_>,
    instance_id: &str,
) -> Result<(), AwsError> {
    let account = facts.caller.principal.account().to_string();
    let region = facts.region;
    authorize(world, facts, "ssm:DescribeInstanceAssociationsStatus", &instance_arn(region, &account, instance_id))?;
    let registered = state(world, &account, region).is_some_and(|s| s.nodes.contains_key(instance_id));
    if registered && live_instance(world, &account, region, instance_id) {
        Ok(())
    } else {
        Err(errors::invalid_instance_id())
    }
}
