//! CreateLaunchConfiguration and DeleteLaunchConfiguration. A launch configuration holds
//! RunInstances' members (image, instance type, key, block devices, instance profile); its block
//! devices can ask for encryption but cannot name a KMS key (model `Ebs`).

use crate::{
    error::AwsError,
    state::{
        autoscaling::{self as model, LaunchConfiguration},
        World,
    },
    value::Value,
};

use super::decode::{block_device_mappings, boolean, check_length, finish, required, strings, text};
use super::{authorize, launch_configuration_resource, not_emulated, Call};
use crate::validation::Violations;

pub(super) fn create_launch_configuration(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let params = call.params;
    let name = required(params, "LaunchConfigurationName")?;
    check_length("launchConfigurationName", name, 1, 255)?;
    if params.get("InstanceId").is_some() {
        return Err(not_emulated("InstanceId"));
    }
    if params.get("SpotPrice").is_some() {
        return Err(not_emulated("SpotPrice"));
    }
    // Without an instance to copy, both are needed (AWS's wording, public error reports).
    let (Some(image_id), Some(instance_type)) = (text(params, "ImageId"), text(params, "InstanceType")) else {
        return Err(AwsError::validation(
            "Valid requests must contain either the InstanceID parameter or both the ImageId and InstanceType parameters.",
        ));
    };
    let mut violations = Violations::new();
    violations.length("imageId", image_id, 1, 255);
    violations.length("instanceType", instance_type, 1, 255);
    let key_name = text(params, "KeyName");
    if let Some(key) = key_name {
        violations.length("keyName", key, 1, 255);
    }
    let profile = text(params, "IamInstanceProfile");
    if let Some(profile) = profile {
        violations.length("iamInstanceProfile", profile, 1, 1600);
    }
    let user_data = text(params, "UserData");
    if let Some(data) = user_data {
        violations.length("userData", data, 0, 21847);
    }
    finish(violations)?;
    let monitoring = match params.get("InstanceMonitoring") {
        Some(spec) => boolean(spec, "Enabled")?.unwrap_or(true),
        None => true,
    };
    let lc = LaunchConfiguration {
        name: name.to_string(),
        arn: String::new(),
        image_id: image_id.to_string(),
        instance_type: instance_type.to_string(),
        key_name: key_name.map(str::to_string),
        security_groups: strings(params, "SecurityGroups")?,
        user_data: user_data.map(str::to_string),
        block_devices: block_device_mappings(params)?,
        iam_instance_profile: profile.map(str::to_string),
        instance_monitoring: monitoring,
        ebs_optimized: boolean(params, "EbsOptimized")?.unwrap_or(false),
        associate_public_ip_address: boolean(params, "AssociatePublicIpAddress")?,
        created: call.now,
    };
    let resource = launch_configuration_resource(world, call, name);
    authorize(world, call, "autoscaling:CreateLaunchConfiguration", &resource, Vec::new())?;
    model::create_launch_configuration(world, call.account(), call.region, lc, call.now)?;
    Ok(Value::structure())
}

pub(super) fn delete_launch_configuration(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = required(call.params, "LaunchConfigurationName")?;
    check_length("launchConfigurationName", name, 1, 255)?;
    let resource = launch_configuration_resource(world, call, name);
    authorize(world, call, "autoscaling:DeleteLaunchConfiguration", &resource, Vec::new())?;
    model::delete_launch_configuration(world, call.account(), call.region, name)?;
    Ok(Value::structure())
}
