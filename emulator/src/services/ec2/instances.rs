//! The instance operations: RunInstances (with its block device mappings and instance profile),
//! DescribeInstances, DescribeInstanceStatus, and Start/Stop/Reboot/TerminateInstances.

use crate::{
    authz::AuthzRequest,
    error::AwsError,
    state::{
        ec2::{
            self as model, Instance, InstanceProfileAssociation, InstanceStateName, LaunchSpec, MetadataOptions,
        },
        World,
    },
    value::Value,
};

use super::decode::{
    any_matches, block_device_specs, boolean, filters, integer, invalid_filter, required, strings, tag_filter,
    tag_specifications, tags_for, text, Filter,
};
use super::encode::{instance_value, reservation_value, state_changes, state_value};
use super::launch_templates::{from_launch_template, FromTemplate};
use super::metadata_options::{launch_context, launch_options};
use super::{authorize, dry_run, instance_arn, paging, unauthorized, Call};

pub(super) fn run_instances(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    // A launch template fills the members the request leaves out (see `launch_templates`).
    let from_template = from_launch_template(world, call)?;
    let params = from_template.as_ref().map_or(call.params, |t| &t.params);
    let account = call.account();
    let region = call.region;
    let image_id = required(params, "ImageId")?;
    let min_count = integer(params, "MinCount")?.ok_or_else(|| AwsError::missing_parameter("MinCount"))?;
    let max_count = integer(params, "MaxCount")?.ok_or_else(|| AwsError::missing_parameter("MaxCount"))?;
    let instance_type = text(params, "InstanceType").unwrap_or("m1.small");
    let block_devices = block_device_specs(params)?;
    let tags = tag_specifications(params, &["instance", "volume"])?;

    let metadata_options = launch_options(params)?;

    let any_instance = instance_arn(region, account, "*");
    let mut context = vec![("ec2:InstanceType", instance_type.to_string())];
    context.extend(from_template.iter().flat_map(FromTemplate::instance_context));
    context.extend(launch_context(&metadata_options));
    authorize(world, call, "ec2:RunInstances", &any_instance, context)?;
    if let Some(template) = &from_template {
        template.authorize(world, call)?;
    }
    if !tags.is_empty() {
        // Tagging on creation needs ec2:CreateTags too, with the creating action as context.
        authorize(
            world,
            call,
            "ec2:CreateTags",
            &any_instance,
            vec![("ec2:CreateAction", "RunInstances".to_string())],
        )?;
    }
    let iam_instance_profile = match params.get("IamInstanceProfile") {
        None => None,
        Some(spec) => Some(instance_profile(world, call, spec)?),
    };
    dry_run(call)?;

    let spec = LaunchSpec {
        image_id: image_id.to_string(),
        instance_type: instance_type.to_string(),
        min_count,
        max_count,
        block_devices,
        iam_instance_profile,
        instance_tags: tags_for(&tags, "instance"),
        volume_tags: tags_for(&tags, "volume"),
        availability_zone: params.get("Placement").and_then(|p| text(p, "AvailabilityZone")).map(str::to_string),
        key_name: text(params, "KeyName").map(str::to_string),
        disable_api_termination: boolean(params, "DisableApiTermination")?.unwrap_or(false),
        client_token: text(params, "ClientToken").map(str::to_string),
        metadata_options: metadata_options.over(MetadataOptions::default()),
    };
    let launched = model::launch(world, call.facts(), account, &spec)?;
    if let Some(template) = &from_template {
        template.tag_instances(world, call, &launched.instance_ids);
    }
    let instances = launched
        .instance_ids
        .iter()
        .filter_map(|id| model::instance(world, account, region, id))
        .map(|i| instance_value(i, region))
        .collect();
    Ok(reservation_value(&launched.reservation_id, &launched.owner_id, instances))
}

/// Resolves `IamInstanceProfile.{Name|Arn}` in the caller's account and checks `iam:PassRole`
/// on its role, for EC2. A profile IAM created less than the world's propagation window ago
/// ([`World::instance_profile_propagation`]) is not known to EC2 yet: the same
/// `InvalidParameterValue` as an unknown one (aws-traps.md, Trap 5).
pub(super) fn instance_profile(world: &mut World, call: &Call<'_>, spec: &Value) -> Result<InstanceProfileAssociation, AwsError> {
    let account = call.account();
    let (parameter, given, name) = match (text(spec, "Arn"), text(spec, "Name")) {
        (Some(arn), _) => {
            let name = arn
                .strip_prefix(&format!("arn:aws:iam::{account}:instance-profile/"))
                .and_then(|path_and_name| path_and_name.rsplit('/').next())
                .unwrap_or("");
            ("iamInstanceProfile.arn", arn, name)
        }
        (None, Some(name)) => ("iamInstanceProfile.name", name, name),
        (None, None) => return Err(AwsError::missing_parameter("IamInstanceProfile.Name")),
    };
    let invalid = || {
        let what = if parameter.ends_with("arn") { "ARN" } else { "name" };
        AwsError::invalid_parameter_value(format!(
            "Value ({given}) for parameter {parameter} is invalid. Invalid IAM Instance Profile {what}"
        ))
    };
    let profile = world
        .account(account)
        .and_then(|a| a.iam.instance_profiles.get(name))
        .filter(|p| parameter.ends_with("name") || p.arn == given)
        .filter(|p| call.now >= p.created + world.instance_profile_propagation())
        .cloned()
        .ok_or_else(invalid)?;
    let role_arn = profile
        .roles
        .first()
        .and_then(|role| world.account(account).and_then(|a| a.iam.roles.get(role)))
        .map(|role| role.arn.clone());
    if let Some(role_arn) = role_arn {
        let mut request = AuthzRequest::new("iam:PassRole", &role_arn);
        request.context.push(("iam:PassedToService", "ec2.amazonaws.com".to_string()));
        let decision = world.authorize(call.facts(), &request);
        if !decision.is_allowed() {
            return Err(unauthorized(world, call, &request, &decision));
        }
    }
    Ok(InstanceProfileAssociation { arn: profile.arn.clone(), id: profile.id.clone() })
}

fn instance_matches(filter: &Filter, instance: &Instance) -> Result<bool, AwsError> {
    let one = |value: &str| any_matches(filter, &[value.to_string()]);
    Ok(match filter.name.as_str() {
        "instance-id" => one(&instance.id),
        "instance-state-name" => one(instance.state.name()),
        "instance-state-code" => one(&instance.state.code().to_string()),
        "image-id" => one(&instance.image_id),
        "instance-type" => one(&instance.instance_type),
        "availability-zone" => one(&instance.availability_zone),
        "reservation-id" => one(&instance.reservation_id),
        "owner-id" => one(&instance.owner_id),
        "private-ip-address" => one(&instance.private_ip_address),
        "key-name" => instance.key_name.as_deref().is_some_and(one),
        "iam-instance-profile.arn" => instance.iam_instance_profile.as_ref().is_some_and(|p| one(&p.arn)),
        "block-device-mapping.volume-id" => {
            any_matches(filter, &instance.block_devices.iter().map(|d| d.volume_id.clone()).collect::<Vec<_>>())
        }
        _ => tag_filter(filter, &instance.tags).ok_or_else(|| invalid_filter(&filter.name))?,
    })
}

/// The caller's instances that the request names (all when it names none), in launch order.
fn selected_instances<'w>(world: &'w World, call: &Call<'_>, ids: &[String]) -> Result<Vec<&'w Instance>, AwsError> {
    let account = call.account();
    let region = call.region;
    let named = model::existing_instances(world, account, region, ids)?;
    let all =
        model::state(world, account, region).map(|s| s.instances.values().collect::<Vec<_>>()).unwrap_or_default();
    Ok(all.into_iter().filter(|i| named.is_empty() || named.contains(&i.id.as_str())).collect())
}

pub(super) fn describe_instances(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    authorize(world, call, "ec2:DescribeInstances", "*", Vec::new())?;
    dry_run(call)?;
    let ids = strings(call.params, "InstanceId");
    let filters = filters(call.params)?;
    let page = paging::page_request(call.params, paging::INSTANCES)?;
    if page.is_paged() && !ids.is_empty() {
        return Err(AwsError::new(
            "InvalidParameterCombination",
            400,
            "The parameter instancesSet cannot be used with the parameter maxResults",
        ));
    }
    let mut matching = Vec::new();
    for instance in selected_instances(world, call, &ids)? {
        let mut keep = true;
        for filter in &filters {
            keep &= instance_matches(filter, instance)?;
        }
        if keep {
            matching.push(instance);
        }
    }
    let (matching, next) = page.of(matching);
    let mut reservations: Vec<(String, String, Vec<Value>)> = Vec::new();
    for instance in matching {
        let value = instance_value(instance, call.region);
        match reservations.iter_mut().find(|(id, _, _)| *id == instance.reservation_id) {
            Some((_, _, instances)) => instances.push(value),
            None => reservations.push((instance.reservation_id.clone(), instance.owner_id.clone(), vec![value])),
        }
    }
    let reservations: Value =
        reservations.into_iter().map(|(id, owner, instances)| reservation_value(&id, &owner, instances)).collect();
    Ok(Value::structure().with("reservationSet", reservations).with_opt("nextToken", next))
}

fn status_summary(instance: &Instance) -> Value {
    if instance.state == InstanceStateName::Running {
        Value::structure().with("status", "ok").with(
            "details",
            Value::List(vec![Value::structure().with("name", "reachability").with("status", "passed")]),
        )
    } else {
        Value::structure().with("status", "not-applicable")
    }
}

pub(super) fn describe_instance_status(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    authorize(world, call, "ec2:DescribeInstanceStatus", "*", Vec::new())?;
    dry_run(call)?;
    let ids = strings(call.params, "InstanceId");
    let include_all = boolean(call.params, "IncludeAllInstances")?.unwrap_or(false);
    let filters = filters(call.params)?;
    let mut statuses = Vec::new();
    for instance in selected_instances(world, call, &ids)? {
        if !include_all && instance.state != InstanceStateName::Running {
            continue;
        }
        let mut keep = true;
        for filter in &filters {
            let one = |value: &str| any_matches(filter, &[value.to_string()]);
            keep &= match filter.name.as_str() {
                "instance-state-name" => one(instance.state.name()),
                "instance-state-code" => one(&instance.state.code().to_string()),
                "availability-zone" => one(&instance.availability_zone),
                "instance-status.status" | "system-status.status" => {
                    one(if instance.state == InstanceStateName::Running { "ok" } else { "not-applicable" })
                }
                other => return Err(invalid_filter(other)),
            };
        }
        if !keep {
            continue;
        }
        statuses.push(
            Value::structure()
                .with("instanceId", instance.id.as_str())
                .with("availabilityZone", instance.availability_zone.as_str())
                .with("availabilityZoneId", model::zone_id(&instance.availability_zone))
                .with("instanceState", state_value(instance.state))
                .with("systemStatus", status_summary(instance))
                .with("instanceStatus", status_summary(instance)),
        );
    }
    Ok(Value::structure().with("instanceStatusSet", Value::List(statuses)))
}

/// The checks every state-changing instance operation makes, in EC2's order: well-formed ids,
/// existing instances, then the caller's permission on each instance.
fn authorized_instances(world: &mut World, call: &Call<'_>, action: &str) -> Result<Vec<String>, AwsError> {
    let ids = strings(call.params, "InstanceId");
    if ids.is_empty() {
        return Err(AwsError::missing_parameter("InstanceId"));
    }
    model::existing_instances(world, call.account(), call.region, &ids)?;
    for id in &ids {
        let arn = instance_arn(call.region, call.account(), id);
        authorize(world, call, action, &arn, Vec::new())?;
    }
    dry_run(call)?;
    Ok(ids)
}

pub(super) fn start_instances(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let ids = authorized_instances(world, call, "ec2:StartInstances")?;
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let changes = model::start_instances(world, call.facts(), call.account(), &ids)?;
    Ok(Value::structure().with("instancesSet", state_changes(&changes)))
}

pub(super) fn stop_instances(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    boolean(call.params, "Force")?;
    let ids = authorized_instances(world, call, "ec2:StopInstances")?;
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let changes = model::stop_instances(world, call.account(), call.region, &ids, call.now)?;
    Ok(Value::structure().with("instancesSet", state_changes(&changes)))
}

pub(super) fn reboot_instances(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let ids = authorized_instances(world, call, "ec2:RebootInstances")?;
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    model::reboot_instances(world, call.account(), call.region, &ids)?;
    Ok(Value::structure().with("return", true))
}

/// A CloudWatch recover action: moves each running instance to new hardware, authorized as
/// `ec2:RecoverInstances` for whoever the alarm acts as.
pub(super) fn recover_instances(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let ids = authorized_instances(world, call, "ec2:RecoverInstances")?;
    for id in &ids {
        model::perform_instance_action(world, call.account(), call.region, id, model::InstanceAction::Recover, call.now)?;
    }
    Ok(Value::structure().with("return", true))
}

pub(super) fn terminate_instances(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let ids = authorized_instances(world, call, "ec2:TerminateInstances")?;
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let changes = model::terminate_instances(world, call.account(), call.region, &ids, call.now)?;
    Ok(Value::structure().with("instancesSet", state_changes(&changes)))
}
