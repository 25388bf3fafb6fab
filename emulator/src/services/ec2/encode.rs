//! EC2's output shapes, under the model's `locationName`s: instances, reservations, state
//! changes, volumes, images, snapshots and their permission lists.

use crate::{
    state::ec2::{Image, Instance, InstanceStateName, Permission, Snapshot, StateChange, Tag, Volume},
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
    value.push("metadataOptions", super::metadata_options::instance_options_value(instance));
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

/// An image as DescribeImages shows it. Its block devices show whether each snapshot is
/// encrypted, not the key: the key is the snapshot's (DescribeSnapshots), as on AWS, where
/// DescribeImages leaves `KmsKeyId` out of an image's mappings.
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
            Value::structure().with("deviceName", d.device_name.as_str()).with("ebs", ebs)
        })
        .collect();
    let mut value = Value::structure()
        .with("imageId", image.id.as_str())
        .with("imageLocation", image.image_location.as_str())
        .with("imageState", image.state.name())
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
        .with_opt("sourceInstanceId", image.source_instance_id.as_deref());
    if let Some((source_id, source_region)) = &image.source_image {
        value = value.with("sourceImageId", source_id.as_str()).with("sourceImageRegion", source_region.as_str());
    }
    if let Some(reason) = &image.state_reason {
        value.push(
            "stateReason",
            Value::structure().with("code", reason.code.as_str()).with("message", reason.message.as_str()),
        );
    }
    if !image.tags.is_empty() {
        value.push("tagSet", tag_set(&image.tags));
    }
    value
}

/// A snapshot (`Snapshot`: CreateSnapshot's output and DescribeSnapshots' items).
pub(super) fn snapshot_value(snapshot: &Snapshot) -> Value {
    let mut value = Value::structure()
        .with("snapshotId", snapshot.id.as_str())
        .with("volumeId", snapshot.volume_id.as_str())
        .with("status", snapshot.state.name())
        .with_opt("statusMessage", snapshot.state_message.as_deref())
        .with("startTime", snapshot.start_time)
        .with("progress", snapshot.progress())
        .with("ownerId", snapshot.owner_id.as_str())
        .with("description", snapshot.description.as_str())
        .with("volumeSize", snapshot.volume_size)
        .with("encrypted", snapshot.encrypted)
        .with("storageTier", "standard")
        .with_opt("completionTime", snapshot.completion_time);
    if snapshot.encrypted {
        value = value.with_opt("kmsKeyId", snapshot.kms_key_id.as_deref());
    }
    if !snapshot.tags.is_empty() {
        value.push("tagSet", tag_set(&snapshot.tags));
    }
    value
}

/// `LaunchPermission` / `CreateVolumePermission` items.
pub(super) fn permission_list(permissions: &[Permission]) -> Value {
    permissions
        .iter()
        .map(|p| Value::structure().with_opt("group", p.group.as_deref()).with_opt("userId", p.user_id.as_deref()))
        .collect()
}
