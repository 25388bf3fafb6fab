//! EC2's output shapes, under the model's `locationName`s: instances, reservations, state
//! changes, volumes and images.

use crate::{
    state::ec2::{Image, Instance, InstanceStateName, StateChange, Tag, Volume},
    value::Value,
};

pub(super) fn state_value(state: InstanceStateName) -> Value {
    Value::structure().with("code", state.code()).with("name", state.name())
}

pub(super) fn tag_set(tags: &[Tag]) -> Value {
    tags.iter().map(|t| Value::structure().with("key", t.key.as_str()).with("value", t.value.as_str())).collect()
}

pub(super) fn instance_value(instance: &Instance, region: &str) -> Value {
    let devices: Value = instance
        .block_devices
        .iter()
        .map(|d| {
            Value::structure().with("deviceName", d.device_name.as_str()).with(
                "ebs",
                Value::structure()
                    .with("volumeId", d.volume_id.as_str())
                    .with("status", "attached")
                    .with("attachTime", d.attach_time)
                    .with("deleteOnTermination", d.delete_on_termination),
            )
        })
        .collect();
    let mut value = Value::structure()
        .with("instanceId", instance.id.as_str())
        .with("imageId", instance.image_id.as_str())
        .with("instanceState", state_value(instance.state))
        .with("privateDnsName", instance.private_dns_name(region))
        .with("dnsName", "")
        .with("reason", instance.state_transition_reason.as_str())
        .with_opt("keyName", instance.key_name.as_deref())
        .with("amiLaunchIndex", instance.ami_launch_index)
        .with("productCodes", Value::List(Vec::new()))
        .with("instanceType", instance.instance_type.as_str())
        .with("launchTime", instance.launch_time)
        .with(
            "placement",
            Value::structure()
                .with("availabilityZone", instance.availability_zone.as_str())
                .with("groupName", "")
                .with("tenancy", "default"),
        )
        .with("monitoring", Value::structure().with("state", "disabled"))
        .with("privateIpAddress", instance.private_ip_address.as_str())
        .with("groupSet", Value::List(Vec::new()))
        .with("architecture", instance.architecture.as_str())
        .with("rootDeviceType", "ebs")
        .with("rootDeviceName", instance.root_device_name.as_str())
        .with("blockDeviceMapping", devices)
        .with("virtualizationType", "hvm")
        .with_opt("clientToken", instance.client_token.as_deref())
        .with("hypervisor", "xen")
        .with("ebsOptimized", false)
        .with("enaSupport", true)
        .with("sourceDestCheck", true)
        .with("platformDetails", "Linux/UNIX")
        .with("usageOperation", "RunInstances");
    if let Some(reason) = &instance.state_reason {
        value.push(
            "stateReason",
            Value::structure().with("code", reason.code.as_str()).with("message", reason.message.as_str()),
        );
    }
    if !instance.tags.is_empty() {
        value.push("tagSet", tag_set(&instance.tags));
    }
    if let Some(profile) = &instance.iam_instance_profile {
        value.push(
            "iamInstanceProfile",
            Value::structure().with("arn", profile.arn.as_str()).with("id", profile.id.as_str()),
        );
    }
    value
}

pub(super) fn reservation_value(reservation_id: &str, owner_id: &str, instances: Vec<Value>) -> Value {
    Value::structure()
        .with("reservationId", reservation_id)
        .with("ownerId", owner_id)
        .with("groupSet", Value::List(Vec::new()))
        .with("instancesSet", Value::List(instances))
}

pub(super) fn state_changes(changes: &[StateChange]) -> Value {
    changes
        .iter()
        .map(|c| {
            Value::structure()
                .with("instanceId", c.instance_id.as_str())
                .with("currentState", state_value(c.current))
                .with("previousState", state_value(c.previous))
        })
        .collect()
}

pub(super) fn volume_value(volume: &Volume) -> Value {
    let attachments: Value = volume
        .attachment
        .iter()
        .map(|a| {
            Value::structure()
                .with("volumeId", volume.id.as_str())
                .with("instanceId", a.instance_id.as_str())
                .with("device", a.device.as_str())
                .with("status", "attached")
                .with("attachTime", a.attach_time)
                .with("deleteOnTermination", a.delete_on_termination)
        })
        .collect();
    let mut value = Value::structure()
        .with("volumeId", volume.id.as_str())
        .with("size", volume.size)
        .with("snapshotId", volume.snapshot_id.as_deref().unwrap_or(""))
        .with("availabilityZone", volume.availability_zone.as_str())
        .with("status", volume.state.name())
        .with("createTime", volume.create_time)
        .with("attachmentSet", attachments)
        .with("volumeType", volume.volume_type.as_str())
        .with_opt("iops", volume.iops)
        .with_opt("throughput", volume.throughput)
        .with("encrypted", volume.encrypted)
        .with("multiAttachEnabled", false);
    if volume.encrypted {
        value = value.with_opt("kmsKeyId", volume.kms_key_id.as_deref());
    }
    if !volume.tags.is_empty() {
        value.push("tagSet", tag_set(&volume.tags));
    }
    value
}

pub(super) fn image_value(image: &Image) -> Value {
    let devices: Value = image
        .block_devices
        .iter()
        .map(|d| {
            let ebs = Value::structure()
                .with("snapshotId", d.snapshot.snapshot_id.as_str())
                .with("volumeSize", d.snapshot.size)
                .with("deleteOnTermination", d.delete_on_termination)
                .with("volumeType", d.volume_type.as_str())
                .with("encrypted", d.snapshot.encrypted);
            let ebs =
                if d.snapshot.encrypted { ebs.with_opt("kmsKeyId", d.snapshot.kms_key_id.as_deref()) } else { ebs };
            Value::structure().with("deviceName", d.device_name.as_str()).with("ebs", ebs)
        })
        .collect();
    Value::structure()
        .with("imageId", image.id.as_str())
        .with("imageLocation", image.image_location.as_str())
        .with("imageState", "available")
        .with("imageOwnerId", image.owner_id.as_str())
        .with("creationDate", image.creation_date.as_str())
        .with("isPublic", image.public)
        .with("architecture", image.architecture.as_str())
        .with("imageType", "machine")
        .with("sriovNetSupport", "simple")
        .with("enaSupport", image.ena_support)
        .with("platformDetails", image.platform_details.as_str())
        .with("usageOperation", "RunInstances")
        .with_opt("imageOwnerAlias", image.owner_alias.as_deref())
        .with("name", image.name.as_str())
        .with("description", image.description.as_str())
        .with("rootDeviceType", "ebs")
        .with("rootDeviceName", image.root_device_name.as_str())
        .with("blockDeviceMapping", devices)
        .with("virtualizationType", "hvm")
        .with("hypervisor", "xen")
}
