//! Instance profiles: CreateInstanceProfile, GetInstanceProfile, ListInstanceProfiles,
//! ListInstanceProfilesForRole, AddRoleToInstanceProfile, RemoveRoleFromInstanceProfile and
//! DeleteInstanceProfile.

use super::{
    authorize, instance_profile_target, now,
    output::instance_profile_value,
    paging::{list_output, page_request, paginate},
    role_target, tags_param,
    validate::Validation,
    Target,
};
use crate::{
    error::AwsError,
    services::Call,
    state::{iam::instance_profile_arn, World},
    value::Value,
};

fn instance_profile_name_param<'a>(call: &Call<'a>) -> Result<&'a str, AwsError> {
    let name = call.required("InstanceProfileName")?;
    Validation::new().name("instanceProfileName", name, 128).finish()?;
    Ok(name)
}

pub(super) fn create_instance_profile(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("InstanceProfileName")?;
    let path = call.optional("Path");
    let tags = tags_param(call)?;
    let mut validation = Validation::new();
    validation.name("instanceProfileName", name, 128).tags("tags", &tags);
    if let Some(path) = path {
        validation.path("path", path);
    }
    validation.finish()?;
    let account = call.account();
    let arn = instance_profile_arn(account, path.unwrap_or("/"), name);
    authorize(world, call, "iam:CreateInstanceProfile", Target::arn(arn))?;
    let (iam, ids) = world.iam_and_ids(account)?;
    let profile = iam.create_instance_profile(ids, account, now(call), name, path, tags)?.clone();
    let value = instance_profile_value(iam, &profile, iam.tags_of(&profile.id));
    Ok(Value::structure().with("InstanceProfile", value))
}

pub(super) fn get_instance_profile(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = instance_profile_name_param(call)?;
    let account = call.account();
    authorize(world, call, "iam:GetInstanceProfile", instance_profile_target(world, account, name))?;
    let iam = world.iam(account)?;
    let profile = iam.instance_profile(name)?;
    Ok(Value::structure().with("InstanceProfile", instance_profile_value(iam, profile, iam.tags_of(&profile.id))))
}

pub(super) fn list_instance_profiles(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let prefix = call.optional("PathPrefix");
    if let Some(prefix) = prefix {
        Validation::new().path_prefix("pathPrefix", prefix).finish()?;
    }
    let page = page_request(call)?;
    let account = call.account();
    let resource = instance_profile_arn(account, prefix.unwrap_or("/"), "");
    authorize(world, call, "iam:ListInstanceProfiles", Target::arn(resource))?;
    let iam = world.iam(account)?;
    let (profiles, next) = paginate(iam.instance_profiles_with_prefix(prefix), &page);
    Ok(list_output(
        "InstanceProfiles",
        profiles.into_iter().map(|p| instance_profile_value(iam, p, &[])).collect(),
        next,
    ))
}

pub(super) fn list_instance_profiles_for_role(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("RoleName")?;
    Validation::new().name("roleName", name, 64).finish()?;
    let page = page_request(call)?;
    let account = call.account();
    authorize(world, call, "iam:ListInstanceProfilesForRole", role_target(world, account, name))?;
    let iam = world.iam(account)?;
    let (profiles, next) = paginate(iam.instance_profiles_for_role(name)?, &page);
    Ok(list_output(
        "InstanceProfiles",
        profiles.into_iter().map(|p| instance_profile_value(iam, p, &[])).collect(),
        next,
    ))
}

pub(super) fn add_role_to_instance_profile(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = instance_profile_name_param(call)?;
    let role_name = call.required("RoleName")?;
    Validation::new().name("roleName", role_name, 64).finish()?;
    let account = call.account();
    authorize(world, call, "iam:AddRoleToInstanceProfile", instance_profile_target(world, account, name))?;
    // The caller hands the role to EC2 through the profile, so it must be allowed to pass it.
    let role = {
        let iam = world.iam(account)?;
        iam.instance_profile(name)?;
        iam.role(role_name)?.arn.clone()
    };
    authorize(world, call, "iam:PassRole", Target::arn(role))?;
    world.iam_mut(account)?.add_role_to_instance_profile(name, role_name)?;
    Ok(Value::structure())
}

pub(super) fn remove_role_from_instance_profile(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = instance_profile_name_param(call)?;
    let role_name = call.required("RoleName")?;
    Validation::new().name("roleName", role_name, 64).finish()?;
    let account = call.account();
    authorize(world, call, "iam:RemoveRoleFromInstanceProfile", instance_profile_target(world, account, name))?;
    world.iam_mut(account)?.remove_role_from_instance_profile(name, role_name)?;
    Ok(Value::structure())
}

pub(super) fn delete_instance_profile(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = instance_profile_name_param(call)?;
    let account = call.account();
    authorize(world, call, "iam:DeleteInstanceProfile", instance_profile_target(world, account, name))?;
    world.iam_mut(account)?.delete_instance_profile(name)?;
    Ok(Value::structure())
}
