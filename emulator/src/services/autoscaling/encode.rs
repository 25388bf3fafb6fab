//! Auto Scaling's output shapes, under the model's member names (botocore
//! `autoscaling/2011-01-01`: `AutoScalingGroup`, `Instance`, `AutoScalingInstanceDetails`,
//! `Activity`, `LaunchConfiguration`). Lists that AWS always answers (`AvailabilityZones`,
//! `Instances`, `LoadBalancerNames`, …) are present even when empty.

use crate::{
    state::autoscaling::{Activity, Group, GroupInstance, LaunchConfiguration, LaunchSource, LaunchTemplateRef},
    value::Value,
};

fn empty() -> Value {
    Value::List(Vec::new())
}

fn template_value(template: &LaunchTemplateRef) -> Value {
    Value::structure()
        .with("LaunchTemplateId", template.id.as_str())
        .with("LaunchTemplateName", template.name.as_str())
        .with_opt("Version", template.version.as_deref())
}

/// `LaunchConfigurationName` or `LaunchTemplate`, as members of `value`.
fn push_source(value: &mut Value, source: &LaunchSource) {
    match source {
        LaunchSource::Configuration(name) => value.push("LaunchConfigurationName", name.as_str()),
        LaunchSource::Template(template) => value.push("LaunchTemplate", template_value(template)),
    }
}

fn zone_id(zone: &str) -> String {
    crate::state::ec2::zone_id(zone)
}

/// `Instance`, as DescribeAutoScalingGroups lists a group's instances (`HealthStatus`
/// `Healthy`/`Unhealthy`).
fn group_instance_value(instance: &GroupInstance) -> Value {
    let mut value = Value::structure()
        .with("InstanceId", instance.instance_id.as_str())
        .with("InstanceType", instance.instance_type.as_str())
        .with("AvailabilityZone", instance.availability_zone.as_str())
        .with("AvailabilityZoneId", zone_id(&instance.availability_zone))
        .with("LifecycleState", instance.lifecycle.as_str())
        .with("HealthStatus", if instance.healthy { "Healthy" } else { "Unhealthy" });
    push_source(&mut value, &instance.launched_from);
    value.push("ProtectedFromScaleIn", instance.protected_from_scale_in);
    value
}

/// `AutoScalingInstanceDetails`: DescribeAutoScalingInstances writes `HealthStatus` in capitals
/// (`HEALTHY`), unlike DescribeAutoScalingGroups (AWS CLI examples of both).
pub(super) fn instance_details_value(group: &Group, instance: &GroupInstance) -> Value {
    let mut value = Value::structure()
        .with("InstanceId", instance.instance_id.as_str())
        .with("InstanceType", instance.instance_type.as_str())
        .with("AutoScalingGroupName", group.name.as_str())
        .with("AvailabilityZone", instance.availability_zone.as_str())
        .with("AvailabilityZoneId", zone_id(&instance.availability_zone))
        .with("LifecycleState", instance.lifecycle.as_str())
        .with("HealthStatus", if instance.healthy { "HEALTHY" } else { "UNHEALTHY" });
    push_source(&mut value, &instance.launched_from);
    value.push("ProtectedFromScaleIn", instance.protected_from_scale_in);
    value
}

pub(super) fn group_value(group: &Group) -> Value {
    let mut value = Value::structure()
        .with("AutoScalingGroupName", group.name.as_str())
        .with("AutoScalingGroupARN", group.arn.as_str());
    push_source(&mut value, &group.launch);
    let tags: Value = group
        .tags
        .iter()
        .map(|t| {
            Value::structure()
                .with("ResourceId", group.name.as_str())
                .with("ResourceType", "auto-scaling-group")
                .with("Key", t.key.as_str())
                .with("Value", t.value.as_str())
                .with("PropagateAtLaunch", t.propagate_at_launch)
        })
        .collect();
    value
        .with("MinSize", group.min_size)
        .with("MaxSize", group.max_size)
        .with("DesiredCapacity", group.desired_capacity)
        .with("DefaultCooldown", group.default_cooldown)
        .with("AvailabilityZones", group.availability_zones.iter().collect::<Value>())
        .with("LoadBalancerNames", empty())
        .with("TargetGroupARNs", empty())
        .with("HealthCheckType", group.health_check_type.as_str())
        .with("HealthCheckGracePeriod", group.health_check_grace_period)
        .with("Instances", group.instances.iter().map(group_instance_value).collect::<Value>())
        .with("CreatedTime", group.created)
        .with("SuspendedProcesses", empty())
        .with_opt("VPCZoneIdentifier", (!group.subnets.is_empty()).then(|| group.subnets.join(",")))
        .with("EnabledMetrics", empty())
        .with_opt("Status", group.status())
        .with("Tags", tags)
        .with("TerminationPolicies", group.termination_policies.iter().collect::<Value>())
        .with("NewInstancesProtectedFromScaleIn", group.new_instances_protected_from_scale_in)
        .with("ServiceLinkedRoleARN", group.service_linked_role_arn.as_str())
        .with("CapacityRebalance", false)
        .with("TrafficSources", empty())
}

/// `group_state` is `AutoScalingGroupState` ("either InService or Deleted", model), which this
/// emulator writes when deleted groups were asked for (`IncludeDeletedGroups`).
pub(super) fn activity_value(activity: &Activity, group_state: Option<&str>) -> Value {
    Value::structure()
        .with("ActivityId", activity.id.as_str())
        .with("AutoScalingGroupName", activity.group_name.as_str())
        .with("Description", activity.description.as_str())
        .with("Cause", activity.cause.as_str())
        .with("StartTime", activity.start)
        .with_opt("EndTime", activity.end)
        .with("StatusCode", activity.status.as_str())
        .with_opt("StatusMessage", activity.status_message.as_deref())
        .with("Progress", activity.progress)
        .with("Details", activity.details.as_str())
        .with_opt("AutoScalingGroupState", group_state)
        .with("AutoScalingGroupARN", activity.group_arn.as_str())
}

pub(super) fn launch_configuration_value(lc: &LaunchConfiguration) -> Value {
    let devices: Value = lc
        .block_devices
        .iter()
        .map(|d| {
            let mut value = Value::structure().with("DeviceName", d.device_name.as_str());
            if let Some(name) = &d.virtual_name {
                value.push("VirtualName", name.as_str());
            }
            if let Some(ebs) = &d.ebs {
                value.push(
                    "Ebs",
                    Value::structure()
                        .with_opt("SnapshotId", ebs.snapshot_id.as_deref())
                        .with_opt("VolumeSize", ebs.volume_size)
                        .with_opt("VolumeType", ebs.volume_type.as_deref())
                        .with_opt("DeleteOnTermination", ebs.delete_on_termination)
                        .with_opt("Iops", ebs.iops)
                        .with_opt("Encrypted", ebs.encrypted)
                        .with_opt("Throughput", ebs.throughput),
                );
            }
            if d.no_device {
                value.push("NoDevice", true);
            }
            value
        })
        .collect();
    Value::structure()
        .with("LaunchConfigurationName", lc.name.as_str())
        .with("LaunchConfigurationARN", lc.arn.as_str())
        .with("ImageId", lc.image_id.as_str())
        .with("KeyName", lc.key_name.as_deref().unwrap_or(""))
        .with("SecurityGroups", lc.security_groups.iter().collect::<Value>())
        .with("ClassicLinkVPCSecurityGroups", empty())
        .with("UserData", lc.user_data.as_deref().unwrap_or(""))
        .with("InstanceType", lc.instance_type.as_str())
        .with("KernelId", "")
        .with("RamdiskId", "")
        .with("BlockDeviceMappings", devices)
        .with("InstanceMonitoring", Value::structure().with("Enabled", lc.instance_monitoring))
        .with_opt("IamInstanceProfile", lc.iam_instance_profile.as_deref())
        .with("CreatedTime", lc.created)
        .with("EbsOptimized", lc.ebs_optimized)
        .with_opt("AssociatePublicIpAddress", lc.associate_public_ip_address)
}
