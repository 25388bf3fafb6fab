//! The Describe operations: groups, their instances, scaling activities and launch
//! configurations. Names that do not exist are left out of the answer, not refused (AWS answers
//! an empty list). Paging: `MaxRecords` (at most 100) and a `NextToken` that is the position of
//! the next item.

use crate::{
    error::AwsError,
    state::{
        autoscaling::{self as model, Group},
        World,
    },
    value::Value,
};

use super::decode::{boolean, check_length, max_records, next_token, strings, structures, text};
use super::encode::{activity_value, group_value, instance_details_value, launch_configuration_value};
use super::{authorize, Call};

/// One page of `items` from `start`, and the token of the next page when there is one.
fn page<T>(items: Vec<T>, start: usize, size: usize) -> (Vec<T>, Option<String>) {
    let total = items.len();
    let end = start.saturating_add(size).min(total);
    let next = (end < total).then(|| end.to_string());
    (items.into_iter().skip(start).take(size).collect(), next)
}

/// `Filters`: `tag-key`, `tag-value` and `tag:<key>` select groups by their tags. Other filter
/// names are refused with the emulator's wording.
fn group_filter(filters: &[Value]) -> Result<Vec<(String, Vec<String>)>, AwsError> {
    filters
        .iter()
        .map(|filter| {
            let name = text(filter, "Name").unwrap_or_default().to_string();
            let ok = name == "tag-key" || name == "tag-value" || name.starts_with("tag:");
            if !ok {
                return Err(AwsError::validation(format!("The filter name '{name}' is not supported.")));
            }
            Ok((name, strings(filter, "Values")?))
        })
        .collect()
}

fn matches(group: &Group, filter: &(String, Vec<String>)) -> bool {
    let (name, values) = filter;
    group.tags.iter().any(|tag| match name.as_str() {
        "tag-key" => values.contains(&tag.key),
        "tag-value" => values.contains(&tag.value),
        other => other.strip_prefix("tag:").is_some_and(|key| key == tag.key && values.contains(&tag.value)),
    })
}

pub(super) fn describe_auto_scaling_groups(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let params = call.params;
    let names = strings(params, "AutoScalingGroupNames")?;
    for name in &names {
        check_length("autoScalingGroupNames.member", name, 1, 255)?;
    }
    let filters = group_filter(structures(params, "Filters")?)?;
    let include_instances = boolean(params, "IncludeInstances")?.unwrap_or(true);
    let size = max_records(params, 50)?;
    let start = next_token(params)?;
    authorize(world, call, "autoscaling:DescribeAutoScalingGroups", "*", Vec::new())?;
    let groups: Vec<&Group> = model::state(world, call.account(), call.region)
        .map(|s| {
            s.groups
                .values()
                .filter(|g| names.is_empty() || names.contains(&g.name))
                .filter(|g| filters.iter().all(|f| matches(g, f)))
                .collect()
        })
        .unwrap_or_default();
    let (groups, next) = page(groups, start, size);
    let groups: Value = groups
        .into_iter()
        .map(|g| {
            let mut value = group_value(g);
            if !include_instances {
                if let Value::Struct(fields) = &mut value {
                    fields.retain(|(k, _)| k != "Instances");
                }
            }
            value
        })
        .collect();
    Ok(Value::structure().with("AutoScalingGroups", groups).with_opt("NextToken", next))
}

pub(super) fn describe_auto_scaling_instances(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let ids = strings(call.params, "InstanceIds")?;
    for id in &ids {
        check_length("instanceIds.member", id, 1, 19)?;
    }
    let size = max_records(call.params, 50)?;
    let start = next_token(call.params)?;
    authorize(world, call, "autoscaling:DescribeAutoScalingInstances", "*", Vec::new())?;
    let instances: Vec<Value> = model::state(world, call.account(), call.region)
        .map(|s| {
            s.groups
                .values()
                .flat_map(|g| g.instances.iter().map(move |i| (g, i)))
                .filter(|(_, i)| ids.is_empty() || ids.contains(&i.instance_id))
                .map(|(g, i)| instance_details_value(g, i))
                .collect()
        })
        .unwrap_or_default();
    let (instances, next) = page(instances, start, size);
    Ok(Value::structure().with("AutoScalingInstances", Value::List(instances)).with_opt("NextToken", next))
}

/// Newest first. Without a group name, the activities of every group of the account; those of
/// deleted groups only with `IncludeDeletedGroups`.
pub(super) fn describe_scaling_activities(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let params = call.params;
    let ids = strings(params, "ActivityIds")?;
    let group = text(params, "AutoScalingGroupName");
    if let Some(group) = group {
        check_length("autoScalingGroupName", group, 1, 255)?;
    }
    if !structures(params, "Filters")?.is_empty() {
        return Err(super::not_emulated("Filters"));
    }
    let include_deleted = boolean(params, "IncludeDeletedGroups")?.unwrap_or(false);
    let size = max_records(params, 100)?;
    let start = next_token(params)?;
    authorize(world, call, "autoscaling:DescribeScalingActivities", "*", Vec::new())?;
    let activities: Vec<Value> = model::state(world, call.account(), call.region)
        .map(|s| {
            s.activities
                .iter()
                .rev()
                .filter(|a| ids.is_empty() || ids.contains(&a.id))
                .filter(|a| group.is_none_or(|g| g == a.group_name))
                .filter_map(|a| {
                    // The same name may belong to a later group; only the ARN tells them apart.
                    let exists = s.groups.get(&a.group_name).is_some_and(|g| g.arn == a.group_arn);
                    let state = include_deleted.then_some(if exists { "InService" } else { "Deleted" });
                    (exists || include_deleted).then(|| activity_value(a, state))
                })
                .collect()
        })
        .unwrap_or_default();
    let (activities, next) = page(activities, start, size);
    Ok(Value::structure().with("Activities", Value::List(activities)).with_opt("NextToken", next))
}

pub(super) fn describe_launch_configurations(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let names = strings(call.params, "LaunchConfigurationNames")?;
    for name in &names {
        check_length("launchConfigurationNames.member", name, 1, 255)?;
    }
    let size = max_records(call.params, 50)?;
    let start = next_token(call.params)?;
    authorize(world, call, "autoscaling:DescribeLaunchConfigurations", "*", Vec::new())?;
    let configurations: Vec<Value> = model::state(world, call.account(), call.region)
        .map(|s| {
            s.launch_configurations
                .values()
                .filter(|lc| names.is_empty() || names.contains(&lc.name))
                .map(launch_configuration_value)
                .collect()
        })
        .unwrap_or_default();
    let (configurations, next) = page(configurations, start, size);
    Ok(Value::structure().with("LaunchConfigurations", Value::List(configurations)).with_opt("NextToken", next))
}
