//! The group operations: CreateAutoScalingGroup (with the service-linked role on first use and
//! the launch template's resolution), UpdateAutoScalingGroup, DeleteAutoScalingGroup and
//! SetDesiredCapacity.

use crate::{
    authz::AuthzRequest,
    error::AwsError,
    port::{Acting, InnerCall},
    protocol::ServiceId,
    state::{
        autoscaling::{
            self as model, GroupUpdate, LaunchSource, LaunchTemplateRef, NewGroup, AUTOSCALING_SERVICE,
            SERVICE_LINKED_ROLE, SESSION_NAME,
        },
        iam::service_linked_role_arn,
        World,
    },
    value::Value,
};

use super::decode::{
    boolean, check_length, integer, launch_template, required, required_integer, strings, subnets, tags, text,
    TemplateSpec,
};
use super::{authorize, group_resource, not_emulated, Call};

/// The members wana does not emulate; present, they are refused.
const NOT_EMULATED: [&str; 6] = [
    "MixedInstancesPolicy",
    "InstanceId",
    "LifecycleHookSpecificationList",
    "TrafficSources",
    "InstanceMaintenancePolicy",
    "AvailabilityZoneIds",
];

fn refuse_not_emulated(call: &Call<'_>) -> Result<(), AwsError> {
    if let Some(member) = NOT_EMULATED.into_iter().find(|m| call.params.get(m).is_some()) {
        return Err(not_emulated(member));
    }
    for member in ["LoadBalancerNames", "TargetGroupARNs"] {
        if !strings(call.params, member)?.is_empty() {
            return Err(not_emulated(member));
        }
    }
    Ok(())
}

/// "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or
/// MixedInstancesPolicy parameter." (public error reports; used here for both and for neither).
fn launch_source_required() -> AwsError {
    AwsError::validation(
        "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.",
    )
}

/// AWS's prefix of every launch template problem found at creation ("You must use a valid
/// fully-formed launch template. The image id '[ami-…]' does not exist", public reports).
fn invalid_template(message: &str) -> AwsError {
    AwsError::validation(format!("You must use a valid fully-formed launch template. {message}"))
}

/// The service-linked role the group will act as: the one named by `ServiceLinkedRoleARN`, or
/// `AWSServiceRoleForAutoScaling`, created on first use. The creation is IAM's
/// CreateServiceLinkedRole called for the caller through the port (CloudTrail shows
/// `autoscaling.amazonaws.com` calling it), so IAM authorizes the caller's
/// `iam:CreateServiceLinkedRole` and answers a denial in its own words: `AccessDenied`, "User:
/// <arn> is not authorized to perform: iam:CreateServiceLinkedRole on resource: <role ARN> …".
/// That Auto Scaling passes IAM's error on unchanged is chosen (no AWS transcript was found; it
/// is what PutMetricAlarm does for its role).
fn service_linked_role(world: &mut World, call: &Call<'_>) -> Result<(String, String), AwsError> {
    let account = call.account();
    if let Some(arn) = text(call.params, "ServiceLinkedRoleARN") {
        check_length("serviceLinkedRoleARN", arn, 1, 1600)?;
        let name = arn.rsplit('/').next().unwrap_or_default();
        let path = format!("/aws-service-role/{AUTOSCALING_SERVICE}/");
        let valid = world
            .account(account)
            .and_then(|a| a.iam.roles.get(name))
            .is_some_and(|role| role.arn == arn && role.path == path);
        // The emulator's wording: no AWS text was found.
        return if valid {
            Ok((arn.to_string(), name.to_string()))
        } else {
            Err(AwsError::validation(format!(
                "The ServiceLinkedRoleARN {arn} is not a service-linked role of Amazon EC2 Auto Scaling."
            )))
        };
    }
    let arn = service_linked_role_arn(account, AUTOSCALING_SERVICE, None)
        .ok_or_else(|| AwsError::internal("no service-linked role name for autoscaling.amazonaws.com"))?;
    let exists = world.account(account).is_some_and(|a| a.iam.roles.contains_key(SERVICE_LINKED_ROLE));
    if !exists {
        let create = InnerCall {
            acting: Acting::ForwardAccess { caller: call.caller.clone(), service: AUTOSCALING_SERVICE.to_string() },
            service: ServiceId::Iam,
            region: call.region,
            now: call.now,
            action: "CreateServiceLinkedRole",
            params: Value::structure().with("AWSServiceName", AUTOSCALING_SERVICE),
        };
        world.inner_call(create)?;
    }
    Ok((arn, SERVICE_LINKED_ROLE.to_string()))
}

/// Resolves a launch template with EC2 (DescribeLaunchTemplates, as the group's role, whose
/// policy allows `ec2:Describe*`), then checks that the caller may launch with it: AWS validates
/// `ec2:RunInstances` for whoever creates or updates a group with a launch template ("Control
/// Amazon EC2 launch template usage in Auto Scaling groups", Auto Scaling user guide), and
/// answers "You are not authorized to use launch template: lt-…" (`AccessDenied`, as public
/// reports quote it). `iam:PassRole` for the template's instance profile is checked by EC2 at
/// launch, as the role, not here.
fn resolve_template(
    world: &mut World,
    call: &Call<'_>,
    spec: &TemplateSpec,
    role_name: &str,
) -> Result<LaunchTemplateRef, AwsError> {
    let (member, given, what) = match (&spec.id, &spec.name) {
        (Some(id), _) => ("LaunchTemplateId", id.as_str(), format!("ID {id}")),
        (None, Some(name)) => ("LaunchTemplateName", name.as_str(), format!("name {name}")),
        (None, None) => return Err(AwsError::validation("Valid requests must contain either launchTemplateId or LaunchTemplateName")),
    };
    let describe = InnerCall {
        acting: Acting::ServiceRole {
            account: call.account().to_string(),
            role_name: role_name.to_string(),
            service: AUTOSCALING_SERVICE.to_string(),
            session_name: SESSION_NAME.to_string(),
        },
        service: ServiceId::Ec2,
        region: call.region,
        now: call.now,
        action: "DescribeLaunchTemplates",
        params: Value::structure().with(member, Value::List(vec![Value::from(given)])),
    };
    let output = world.inner_call(describe).map_err(|e| invalid_template(&e.message))?;
    let found = output.get("launchTemplates").map(Value::as_list).and_then(|l| l.first());
    let (id, name) = found
        .and_then(|t| Some((t.get("launchTemplateId")?.as_str()?, t.get("launchTemplateName")?.as_str()?)))
        .ok_or_else(|| invalid_template(&format!("The specified launch template, with template {what}, does not exist.")))?;
    let arn = format!("arn:aws:ec2:{}:{}:launch-template/{id}", call.region, call.account());
    let mut request = AuthzRequest::new("ec2:RunInstances", &arn);
    request.context.push(("ec2:Region", call.region.to_string()));
    if !world.authorize(call.facts(), &request).is_allowed() {
        return Err(AwsError::new("AccessDenied", 403, format!("You are not authorized to use launch template: {id}")));
    }
    Ok(LaunchTemplateRef { id: id.to_string(), name: name.to_string(), version: spec.version.clone() })
}

/// `LaunchConfigurationName` or `LaunchTemplate` (exactly one on creation).
fn launch_members<'a>(call: &Call<'a>) -> Result<(Option<&'a str>, Option<TemplateSpec>), AwsError> {
    let lc = text(call.params, "LaunchConfigurationName");
    if let Some(lc) = lc {
        check_length("launchConfigurationName", lc, 1, 255)?;
    }
    Ok((lc, launch_template(call.params)?))
}

fn size_context(min: Option<i64>, max: Option<i64>, lc: Option<&str>) -> Vec<(&'static str, String)> {
    let mut context = Vec::new();
    if let Some(min) = min {
        context.push(("autoscaling:MinSize", min.to_string()));
    }
    if let Some(max) = max {
        context.push(("autoscaling:MaxSize", max.to_string()));
    }
    if let Some(lc) = lc {
        context.push(("autoscaling:LaunchConfigurationName", lc.to_string()));
    }
    context
}

pub(super) fn create_auto_scaling_group(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let params = call.params;
    let name = required(params, "AutoScalingGroupName")?;
    let min = required_integer(params, "MinSize")?;
    let max = required_integer(params, "MaxSize")?;
    check_length("autoScalingGroupName", name, 1, 255)?;
    refuse_not_emulated(call)?;
    let (lc, template) = launch_members(call)?;
    if lc.is_some() == template.is_some() {
        return Err(launch_source_required());
    }
    let resource = group_resource(world, call, name);
    authorize(world, call, "autoscaling:CreateAutoScalingGroup", &resource, size_context(Some(min), Some(max), lc))?;
    let mut spec = NewGroup {
        name: name.to_string(),
        launch: match lc {
            Some(lc) => LaunchSource::Configuration(lc.to_string()),
            None => LaunchSource::Template(LaunchTemplateRef { id: String::new(), name: String::new(), version: None }),
        },
        min_size: min,
        max_size: max,
        desired_capacity: integer(params, "DesiredCapacity")?,
        default_cooldown: integer(params, "DefaultCooldown")?,
        availability_zones: strings(params, "AvailabilityZones")?,
        subnets: subnets(params).unwrap_or_default(),
        health_check_type: text(params, "HealthCheckType").map(str::to_string),
        health_check_grace_period: integer(params, "HealthCheckGracePeriod")?,
        tags: tags(params)?,
        termination_policies: strings(params, "TerminationPolicies")?,
        new_instances_protected_from_scale_in: boolean(params, "NewInstancesProtectedFromScaleIn")?.unwrap_or(false),
        service_linked_role_arn: String::new(),
        service_linked_role_name: String::new(),
    };
    // What AWS refuses before it acts: a taken name, an unknown launch configuration, sizes,
    // placement. Only then is the role created and the template resolved.
    model::check_new_group(world, call.account(), call.region, &spec)?;
    let (role_arn, role_name) = service_linked_role(world, call)?;
    if let Some(template) = &template {
        spec.launch = LaunchSource::Template(resolve_template(world, call, template, &role_name)?);
    }
    spec.service_linked_role_arn = role_arn;
    spec.service_linked_role_name = role_name;
    model::create_group(world, call.account(), call.region, spec, call.now)?;
    Ok(Value::structure())
}

pub(super) fn update_auto_scaling_group(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let params = call.params;
    let name = required(params, "AutoScalingGroupName")?;
    check_length("autoScalingGroupName", name, 1, 255)?;
    refuse_not_emulated(call)?;
    if params.get("ServiceLinkedRoleARN").is_some() {
        return Err(not_emulated("ServiceLinkedRoleARN on update"));
    }
    let (lc, template) = launch_members(call)?;
    if lc.is_some() && template.is_some() {
        return Err(launch_source_required());
    }
    let min = integer(params, "MinSize")?;
    let max = integer(params, "MaxSize")?;
    let resource = group_resource(world, call, name);
    authorize(world, call, "autoscaling:UpdateAutoScalingGroup", &resource, size_context(min, max, lc))?;
    let role_name = model::group(world, call.account(), call.region, name)
        .map(|g| g.service_linked_role_name.clone())
        .ok_or_else(model::group_not_found_null)?;
    let launch = match (lc, &template) {
        (Some(lc), _) => Some(LaunchSource::Configuration(lc.to_string())),
        (None, Some(template)) => Some(LaunchSource::Template(resolve_template(world, call, template, &role_name)?)),
        (None, None) => None,
    };
    let zones = params.get("AvailabilityZones").map(|_| strings(params, "AvailabilityZones")).transpose()?;
    let update = GroupUpdate {
        launch,
        min_size: min,
        max_size: max,
        desired_capacity: integer(params, "DesiredCapacity")?,
        default_cooldown: integer(params, "DefaultCooldown")?,
        availability_zones: zones,
        subnets: subnets(params),
        health_check_type: text(params, "HealthCheckType").map(str::to_string),
        health_check_grace_period: integer(params, "HealthCheckGracePeriod")?,
        termination_policies: params.get("TerminationPolicies").map(|_| strings(params, "TerminationPolicies")).transpose()?,
        new_instances_protected_from_scale_in: boolean(params, "NewInstancesProtectedFromScaleIn")?,
    };
    model::update_group(world, call.account(), call.region, name, update, call.now)?;
    Ok(Value::structure())
}

pub(super) fn delete_auto_scaling_group(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = required(call.params, "AutoScalingGroupName")?;
    check_length("autoScalingGroupName", name, 1, 255)?;
    let force = boolean(call.params, "ForceDelete")?.unwrap_or(false);
    let resource = group_resource(world, call, name);
    authorize(world, call, "autoscaling:DeleteAutoScalingGroup", &resource, Vec::new())?;
    model::delete_group(world, call.account(), call.region, name, force, call.now)?;
    Ok(Value::structure())
}

/// SetDesiredCapacity. `HonorCooldown` is accepted and has no effect: no scaling policy runs
/// here, so no cooldown is ever in progress.
pub(super) fn set_desired_capacity(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = required(call.params, "AutoScalingGroupName")?;
    let desired = required_integer(call.params, "DesiredCapacity")?;
    check_length("autoScalingGroupName", name, 1, 255)?;
    boolean(call.params, "HonorCooldown")?;
    let resource = group_resource(world, call, name);
    authorize(world, call, "autoscaling:SetDesiredCapacity", &resource, Vec::new())?;
    model::set_desired_capacity(world, call.account(), call.region, name, desired, call.now)?;
    Ok(Value::structure())
}
