//! Systems Manager on the wire (awsJson 1.1, `X-Amz-Target: AmazonSSM.<Operation>`): members
//! in, checked against the model's constraints (botocore ssm 2014-11-06) with AWS's validation
//! messages, the operation of `crate::state::ssm` (which authorizes), the output structure back.
//!
//! Operations: `DescribeInstanceInformation`, `UpdateInstanceInformation` (the agent's call),
//! `DescribeInstanceAssociationsStatus`, `GetParameter`, `PutParameter`, `ListDocuments`
//! (`list_documents`), and Run Command's (`run_command`), with the agent's `GetMessages` for inner calls only ([`handle_internal`]).
//!
//! `DescribeInstanceInformation` takes either filter list: `InstanceInformationFilterList`
//! (`key`/`valueSet`, keys from the model's enum, a key outside it failing validation like any
//! enum member) or `Filters` (`Key`/`Values`, any key; an unknown one is `InvalidFilterKey`).
//! Both at once is refused: the model says it "leads to an exception error" without naming it;
//! `ValidationException` is chosen. `MaxResults` defaults to 10, as the model documents.

use crate::{
    error::AwsError,
    state::{
        ssm::{self, agent::AGENT_VERSION, errors, AgentReport, InstanceFilter, NewParameter, NodeView},
        World,
    },
    validation::{self, Violations},
    value::Value,
};

use super::Call;

pub fn handle(world: &mut World, call: &Call<'_>) -> Option<Result<Value, AwsError>> {
    let input = Input(call.params);
    Some(match call.action {
        "DescribeInstanceInformation" => describe_instance_information(world, call, &input),
        "UpdateInstanceInformation" => update_instance_information(world, call, &input),
        "DescribeInstanceAssociationsStatus" => describe_instance_associations_status(world, call, &input),
        "GetParameter" => get_parameter(world, call, &input),
        "PutParameter" => put_parameter(world, call, &input),
        "ListDocuments" => list_documents::list_documents(world, call, &input),
        _ => return run_command::handle(world, call, &input),
    })
}

/// The operations only the emulated SSM Agent calls, through inner calls: `GetMessages` of the
/// agents' message endpoint, `ec2messages`.
pub fn handle_internal(world: &mut World, call: &Call<'_>) -> Option<Result<Value, AwsError>> {
    let input = Input(call.params);
    match call.action {
        "GetMessages" => Some(run_command::get_messages(world, call, &input)),
        _ => None,
    }
}

/// Typed reads of the request members; a member of the wrong JSON type is the JSON front end's
/// `SerializationException`.
struct Input<'a>(&'a Value);

fn serialization_error() -> AwsError {
    AwsError::new("SerializationException", 400, "")
}

impl<'a> Input<'a> {
    fn string(&self, name: &str) -> Result<Option<&'a str>, AwsError> {
        string_of(self.0, name)
    }

    fn bool(&self, name: &str) -> Result<bool, AwsError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(serialization_error()),
        }
    }

    fn int(&self, name: &str) -> Result<Option<i64>, AwsError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Int(i)) => Ok(Some(*i)),
            Some(_) => Err(serialization_error()),
        }
    }

    fn list(&self, name: &str) -> Result<Option<&'a [Value]>, AwsError> {
        list_of(self.0, name)
    }
}

fn string_of<'a>(value: &'a Value, name: &str) -> Result<Option<&'a str>, AwsError> {
    match value.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s)),
        Some(_) => Err(serialization_error()),
    }
}

fn list_of<'a>(value: &'a Value, name: &str) -> Result<Option<&'a [Value]>, AwsError> {
    match value.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::List(items)) => Ok(Some(items)),
        Some(_) => Err(serialization_error()),
    }
}

fn strings_of(items: &[Value]) -> Result<Vec<String>, AwsError> {
    items.iter().map(|v| v.as_str().map(str::to_string).ok_or_else(serialization_error)).collect()
}

/// The answer to a request that broke the model's constraints, if it did.
fn check(violations: &Violations) -> Result<(), AwsError> {
    violations.message().map_or(Ok(()), |message| Err(errors::validation(message)))
}

/// `[a, b]`: how Coral shows a list value in a validation message.
fn shown(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

fn range(violations: &mut Violations, member: &str, value: Option<i64>, min: i64, max: i64) {
    match value {
        Some(v) if v < min => violations.push(member, &v.to_string(), format!("Member must have value greater than or equal to {min}")),
        Some(v) if v > max => violations.push(member, &v.to_string(), format!("Member must have value less than or equal to {max}")),
        _ => {}
    }
}

fn list_length(violations: &mut Violations, member: &str, items: &[String], min: usize, max: usize) {
    if items.len() < min {
        violations.push(member, &shown(items), format!("Member must have length greater than or equal to {min}"));
    } else if items.len() > max {
        violations.push(member, &shown(items), format!("Member must have length less than or equal to {max}"));
    }
}

fn one_of(violations: &mut Violations, member: &str, value: Option<&str>, allowed: &[&str]) {
    if let Some(value) = value.filter(|v| !allowed.contains(v)) {
        violations.push(member, value, format!("Member must satisfy enum value set: [{}]", allowed.join(", ")));
    }
}

/// `InstanceId`: `(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)`.
const INSTANCE_ID_PATTERN: &str = r"(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)";

fn is_instance_id(id: &str) -> bool {
    let word = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    match (id.strip_prefix("i-"), id.strip_prefix("mi-")) {
        (Some(rest), _) => (rest.len() == 8 || rest.len() == 17) && word(rest),
        (_, Some(rest)) => rest.len() == 17 && word(rest),
        _ => false,
    }
}

/// A required `InstanceId` matching the model's pattern.
fn instance_id<'a>(input: &Input<'a>, violations: &mut Violations) -> Result<Option<&'a str>, AwsError> {
    let id = input.string("InstanceId")?;
    match id {
        None => violations.push_null("instanceId", "Member must not be null"),
        Some(id) if !is_instance_id(id) => violations.push(
            "instanceId",
            id,
            format!("Member must satisfy regular expression pattern: {INSTANCE_ID_PATTERN}"),
        ),
        Some(_) => {}
    }
    Ok(id)
}

/// The filters of a `DescribeInstanceInformation` request, in the order given.
fn filters(input: &Input<'_>, violations: &mut Violations) -> Result<Vec<(String, Vec<String>)>, AwsError> {
    let legacy = input.list("InstanceInformationFilterList")?;
    let current = input.list("Filters")?;
    let mut filters = Vec::new();
    // (list member, key member, values member, keys the model allows, if it restricts them)
    let lists = [
        ("instanceInformationFilterList", legacy, "key", "valueSet", Some(&ssm::LEGACY_FILTER_KEYS[..])),
        ("filters", current, "Key", "Values", None),
    ];
    for (list, items, key_member, values_member, keys) in lists {
        for (index, item) in items.unwrap_or(&[]).iter().enumerate() {
            let at = |member: &str| format!("{list}.{}.member.{}", index + 1, validation::coral_name(member));
            let key = string_of(item, key_member)?;
            let values = list_of(item, values_member)?.map(strings_of).transpose()?;
            match (key, keys) {
                (None, _) => violations.push_null(&at(key_member), "Member must not be null"),
                (Some(key), Some(keys)) => one_of(violations, &at(key_member), Some(key), keys),
                (Some(key), None) => violations.length(&at(key_member), key, 1, usize::MAX),
            }
            match &values {
                None => violations.push_null(&at(values_member), "Member must not be null"),
                Some(values) => list_length(violations, &at(values_member), values, 1, 100),
            }
            if let (Some(key), Some(values)) = (key, values) {
                filters.push((key.to_string(), values));
            }
        }
    }
    if legacy.is_some() && current.is_some() {
        return Err(errors::validation("InstanceInformationFilterList and Filters cannot be used in the same request."));
    }
    Ok(filters)
}

fn instance_information(view: &NodeView) -> Value {
    let node = &view.node;
    Value::structure()
        .with("InstanceId", node.instance_id.as_str())
        .with("PingStatus", view.ping_status.as_str())
        .with("LastPingDateTime", node.last_ping)
        .with_opt("AgentVersion", node.agent_version.as_deref())
        .with_opt("IsLatestVersion", node.agent_version.as_deref().map(|v| v == AGENT_VERSION))
        .with_opt("PlatformType", node.platform_type.as_deref())
        .with_opt("PlatformName", node.platform_name.as_deref())
        .with_opt("PlatformVersion", node.platform_version.as_deref())
        .with("ResourceType", ssm::RESOURCE_TYPE)
        .with_opt("IPAddress", node.ip_address.as_deref())
        .with_opt("ComputerName", node.computer_name.as_deref())
        .with("SourceId", node.instance_id.as_str())
        .with("SourceType", ssm::SOURCE_TYPE)
}

/// `NextToken` is the position to go on from; a token that is not one is `InvalidNextToken`.
fn page<T>(items: Vec<T>, token: Option<&str>, max_results: usize) -> Result<(Vec<T>, Option<String>), AwsError> {
    let start = match token {
        None => 0,
        Some(token) => token.parse::<usize>().ok().filter(|&n| n <= items.len()).ok_or_else(errors::invalid_next_token)?,
    };
    let end = (start + max_results).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((items.into_iter().skip(start).take(end - start).collect(), next))
}

/// Nodes listed here are EC2 instances of the caller that run (see `crate::state::ssm`). The
/// output leaves out `RegistrationDate`: the API reference describes it as the date a server or
/// VM was registered through a hybrid activation, and outputs for EC2 nodes in public reports
/// (aws-cli 2626, cloud-custodian 4061) do not carry it.
fn describe_instance_information(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let mut violations = Violations::new();
    let max_results = input.int("MaxResults")?;
    range(&mut violations, "maxResults", max_results, 5, 50);
    let filters = filters(input, &mut violations)?;
    check(&violations)?;
    let filters = filters
        .into_iter()
        .map(|(key, values)| InstanceFilter::parse(&key, values))
        .collect::<Result<Vec<_>, _>>()?;
    let views = ssm::describe_instance_information(world, call.facts(), &filters)?;
    let max_results = usize::try_from(max_results.unwrap_or(10)).unwrap_or(10);
    let (views, next) = page(views, input.string("NextToken")?, max_results)?;
    Ok(Value::structure()
        .with("InstanceInformationList", views.iter().map(instance_information).collect::<Value>())
        .with_opt("NextToken", next))
}

fn update_instance_information(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let mut violations = Violations::new();
    let id = instance_id(input, &mut violations)?;
    check(&violations)?;
    let text = |name: &str| input.string(name).map(|v| v.map(str::to_string));
    let report = AgentReport {
        instance_id: id.unwrap_or_default().to_string(),
        agent_name: text("AgentName")?,
        agent_version: text("AgentVersion")?,
        platform_type: text("PlatformType")?,
        platform_name: text("PlatformName")?,
        platform_version: text("PlatformVersion")?,
        ip_address: text("IPAddress")?,
        computer_name: text("ComputerName")?,
    };
    ssm::update_instance_information(world, call.facts(), &report)?;
    Ok(Value::structure())
}

fn describe_instance_associations_status(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let mut violations = Violations::new();
    let id = instance_id(input, &mut violations)?;
    range(&mut violations, "maxResults", input.int("MaxResults")?, 1, 50);
    check(&violations)?;
    ssm::describe_instance_associations_status(world, call.facts(), id.unwrap_or_default())?;
    Ok(Value::structure().with("InstanceAssociationStatusInfos", Value::List(Vec::new())))
}

/// A required `Name` of 1 to 2048 characters.
fn parameter_name<'a>(input: &Input<'a>, violations: &mut Violations) -> Result<Option<&'a str>, AwsError> {
    let name = input.string("Name")?;
    match name {
        None => violations.push_null("name", "Member must not be null"),
        Some(name) => violations.length("name", name, 1, 2048),
    }
    Ok(name)
}

fn get_parameter(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let mut violations = Violations::new();
    let name = parameter_name(input, &mut violations)?;
    check(&violations)?;
    // Plain parameters are never encrypted: WithDecryption changes nothing.
    let _with_decryption = input.bool("WithDecryption")?;
    let parameter = ssm::get_parameter(world, call.facts(), name.unwrap_or_default())?;
    Ok(Value::structure().with(
        "Parameter",
        Value::structure()
            .with("Name", parameter.name)
            .with("Type", parameter.parameter_type)
            .with("Value", parameter.value)
            .with("Version", parameter.version)
            .with("LastModifiedDate", parameter.last_modified)
            .with("ARN", parameter.arn)
            .with("DataType", parameter.data_type),
    ))
}

fn put_parameter(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let mut violations = Violations::new();
    let name = parameter_name(input, &mut violations)?;
    let value = input.string("Value")?;
    if value.is_none() {
        violations.push_null("value", "Member must not be null");
    }
    let description = input.string("Description")?;
    if let Some(description) = description {
        violations.length("description", description, 0, 1024);
    }
    let parameter_type = input.string("Type")?;
    one_of(&mut violations, "type", parameter_type, &ssm::PARAMETER_TYPES);
    let tier = input.string("Tier")?;
    one_of(&mut violations, "tier", tier, &ssm::PARAMETER_TIERS);
    check(&violations)?;
    let new = NewParameter {
        name: name.unwrap_or_default(),
        value: value.unwrap_or_default(),
        parameter_type,
        description,
        overwrite: input.bool("Overwrite")?,
        tier,
        data_type: input.string("DataType")?,
    };
    let (version, tier) = ssm::put_parameter(world, call.facts(), &new)?;
    Ok(Value::structure().with("Version", version).with("Tier", tier))
}

mod list_documents;
mod run_command;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_list_documents;
