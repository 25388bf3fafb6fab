//! EC2 Auto Scaling over awsQuery: Auto Scaling groups (Create, Update, Delete, Describe,
//! SetDesiredCapacity), their instances and scaling activities, and launch configurations
//! (Create, Describe, Delete).
//!
//! Every operation is authorized as the caller, as `autoscaling:<Operation>` on the group's or
//! launch configuration's ARN (`…:autoScalingGroup:*:autoScalingGroupName/<name>` for one that
//! does not exist yet, `*` for the Describe operations, which have no resource-level
//! permissions); a denial is `AccessDenied` (HTTP 403) with IAM's sentence (as public reports
//! quote it for `autoscaling:CreateLaunchConfiguration`).
//!
//! The launches themselves are the model's (`crate::state::autoscaling`): they run later, on the
//! emulator clock, as the group's service-linked role. CreateAutoScalingGroup makes sure that
//! role exists first, creating it on first use as AWS does, through IAM's
//! CreateServiceLinkedRole called for the caller (so the caller needs
//! `iam:CreateServiceLinkedRole`).
//!
//! Not emulated, and said so in the error: `MixedInstancesPolicy`, `InstanceId` (a group or
//! launch configuration made from an instance), lifecycle hooks, warm pools, load balancers and
//! target groups (accepted as empty lists only). Tag condition keys (`autoscaling:ResourceTag/…`,
//! `aws:RequestTag/…`) are not in the authorization context.
//!
//! This file routes the operations and holds the authorization; `decode` reads members, `encode`
//! writes the output shapes, `groups` holds the group operations, `launch_configurations` the
//! launch configuration operations, `describe` the Describe operations.

use crate::{
    authz::{denied_message, AuthzRequest},
    error::AwsError,
    state::{autoscaling as model, World},
    value::Value,
};

use super::Call;

mod decode;
mod describe;
mod encode;
mod groups;
mod launch_configurations;
#[cfg(test)]
mod tests;

pub fn handle(world: &mut World, call: &Call<'_>) -> Option<Result<Value, AwsError>> {
    Some(match call.action {
        "CreateAutoScalingGroup" => groups::create_auto_scaling_group(world, call),
        "UpdateAutoScalingGroup" => groups::update_auto_scaling_group(world, call),
        "DeleteAutoScalingGroup" => groups::delete_auto_scaling_group(world, call),
        "SetDesiredCapacity" => groups::set_desired_capacity(world, call),
        "DescribeAutoScalingGroups" => describe::describe_auto_scaling_groups(world, call),
        "DescribeAutoScalingInstances" => describe::describe_auto_scaling_instances(world, call),
        "DescribeScalingActivities" => describe::describe_scaling_activities(world, call),
        "CreateLaunchConfiguration" => launch_configurations::create_launch_configuration(world, call),
        "DescribeLaunchConfigurations" => describe::describe_launch_configurations(world, call),
        "DeleteLaunchConfiguration" => launch_configurations::delete_launch_configuration(world, call),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Authorization.

/// Asks `crate::authz` whether the caller may perform `action` on `resource`, with the condition
/// keys of the request; a denial is `AccessDenied` with IAM's sentence.
fn authorize(
    world: &mut World,
    call: &Call<'_>,
    action: &str,
    resource: &str,
    context: Vec<(&'static str, String)>,
) -> Result<(), AwsError> {
    let mut request = AuthzRequest::new(action, resource);
    request.context = context;
    let decision = world.authorize(call.facts(), &request);
    if decision.is_allowed() {
        Ok(())
    } else {
        Err(AwsError::new("AccessDenied", 403, denied_message(&call.caller.principal.arn(), action, resource, &decision)))
    }
}

/// The ARN a group operation is authorized on: the group's, or the pattern AWS uses for a group
/// that does not exist (yet).
fn group_resource(world: &World, call: &Call<'_>, name: &str) -> String {
    match model::group(world, call.account(), call.region, name) {
        Some(group) => group.arn.clone(),
        None => format!("arn:aws:autoscaling:{}:{}:autoScalingGroup:*:autoScalingGroupName/{name}", call.region, call.account()),
    }
}

/// The ARN a launch configuration operation is authorized on (public reports show
/// `…:launchConfiguration:*:launchConfigurationName/<name>` for CreateLaunchConfiguration).
fn launch_configuration_resource(world: &World, call: &Call<'_>, name: &str) -> String {
    let existing = model::state(world, call.account(), call.region).and_then(|s| s.launch_configurations.get(name));
    match existing {
        Some(lc) => lc.arn.clone(),
        None => format!(
            "arn:aws:autoscaling:{}:{}:launchConfiguration:*:launchConfigurationName/{name}",
            call.region,
            call.account()
        ),
    }
}

/// A member wana does not emulate: refused, never ignored.
fn not_emulated(member: &str) -> AwsError {
    AwsError::validation(format!("{member} is not supported by the wana emulator."))
}
