//! CreateRole, GetRole, ListRoles, DeleteRole, UpdateAssumeRolePolicy, UpdateRole,
//! UpdateRoleDescription and CreateServiceLinkedRole. The tags, inline policies and attached
//! policies of roles are shared with users (`super::entity`).

use super::{
    authorize,
    boundaries::boundary_param,
    entity::BOUNDARY_KEY,
    now,
    output::{role_value, RoleView},
    paging::{list_output, page_request, paginate},
    role_target, tags_param,
    validate::Validation,
    Target,
};
use crate::{
    error::AwsError,
    services::Call,
    state::{
        iam::{role_arn, service_linked_role_arn, NewRole, MAX_MAX_SESSION_DURATION, MIN_MAX_SESSION_DURATION},
        World,
    },
    value::Value,
};

pub(super) fn create_role(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("RoleName")?;
    let trust_policy = call.required("AssumeRolePolicyDocument")?;
    let path = call.optional("Path");
    let description = call.optional("Description");
    let max_session_duration = call.optional_i64("MaxSessionDuration")?;
    let tags = tags_param(call)?;
    let mut validation = Validation::new();
    validation
        .name("roleName", name, 64)
        .document("assumeRolePolicyDocument", trust_policy)
        .tags("tags", &tags);
    if let Some(path) = path {
        validation.path("path", path);
    }
    if let Some(description) = description {
        validation.role_description("description", description);
    }
    if let Some(duration) = max_session_duration {
        validation.range("maxSessionDuration", duration, MIN_MAX_SESSION_DURATION, MAX_MAX_SESSION_DURATION);
    }
    let permissions_boundary = boundary_param(call, &mut validation);
    validation.finish()?;
    let account = call.account();
    let mut target = Target::arn(role_arn(account, path.unwrap_or("/"), name));
    if let Some(boundary) = permissions_boundary {
        target = target.with(BOUNDARY_KEY, boundary);
    }
    authorize(world, call, "iam:CreateRole", target)?;
    let spec = NewRole { name, path, trust_policy, description, max_session_duration, tags, permissions_boundary };
    let role = world.create_role(account, now(call), spec)?.clone();
    let iam = world.iam(account)?;
    Ok(Value::structure().with("Role", role_value(&role, RoleView::Create, iam.tags_of(&role.id))))
}

pub(super) fn get_role(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("RoleName")?;
    Validation::new().name("roleName", name, 64).finish()?;
    let account = call.account();
    authorize(world, call, "iam:GetRole", role_target(world, account, name))?;
    let iam = world.iam(account)?;
    let role = iam.role(name)?;
    Ok(Value::structure().with("Role", role_value(role, RoleView::Get, iam.tags_of(&role.id))))
}

pub(super) fn list_roles(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let prefix = call.optional("PathPrefix");
    if let Some(prefix) = prefix {
        Validation::new().path_prefix("pathPrefix", prefix).finish()?;
    }
    let page = page_request(call)?;
    let account = call.account();
    authorize(world, call, "iam:ListRoles", Target::arn(role_arn(account, prefix.unwrap_or("/"), "")))?;
    let iam = world.iam(account)?;
    let (roles, next) = paginate(iam.roles_with_prefix(prefix), &page);
    Ok(list_output("Roles", roles.into_iter().map(|r| role_value(r, RoleView::List, &[])).collect(), next))
}

pub(super) fn delete_role(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("RoleName")?;
    Validation::new().name("roleName", name, 64).finish()?;
    let account = call.account();
    authorize(world, call, "iam:DeleteRole", role_target(world, account, name))?;
    world.iam_mut(account)?.delete_role(name)?;
    Ok(Value::structure())
}

pub(super) fn update_assume_role_policy(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("RoleName")?;
    let document = call.required("PolicyDocument")?;
    Validation::new()
        .name("roleName", name, 64)
        .document("policyDocument", document)
        .finish()?;
    let account = call.account();
    authorize(world, call, "iam:UpdateAssumeRolePolicy", role_target(world, account, name))?;
    world.update_assume_role_policy(account, name, document)?;
    Ok(Value::structure())
}

/// UpdateRole (no output) and UpdateRoleDescription (answers the role).
pub(super) fn update_role(world: &mut World, call: &Call<'_>, description_only: bool) -> Result<Value, AwsError> {
    let name = call.required("RoleName")?;
    let (description, max_session_duration) = if description_only {
        (Some(call.required("Description")?), None)
    } else {
        (call.optional("Description"), call.optional_i64("MaxSessionDuration")?)
    };
    let mut validation = Validation::new();
    validation.name("roleName", name, 64);
    if let Some(description) = description {
        validation.role_description("description", description);
    }
    if let Some(duration) = max_session_duration {
        validation.range("maxSessionDuration", duration, MIN_MAX_SESSION_DURATION, MAX_MAX_SESSION_DURATION);
    }
    validation.finish()?;
    let account = call.account();
    let action = if description_only { "iam:UpdateRoleDescription" } else { "iam:UpdateRole" };
    authorize(world, call, action, role_target(world, account, name))?;
    let iam = world.iam_mut(account)?;
    let role = iam.update_role(name, description, max_session_duration)?.clone();
    if description_only {
        Ok(Value::structure().with("Role", role_value(&role, RoleView::Get, iam.tags_of(&role.id))))
    } else {
        Ok(Value::structure())
    }
}

pub(super) fn create_service_linked_role(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let service = call.required("AWSServiceName")?;
    let description = call.optional("Description");
    let suffix = call.optional("CustomSuffix");
    let mut validation = Validation::new();
    validation.name("aWSServiceName", service, 128);
    if let Some(description) = description {
        validation.role_description("description", description);
    }
    if let Some(suffix) = suffix {
        validation.name("customSuffix", suffix, 64);
    }
    validation.finish()?;
    let account = call.account();
    // The resource is the role to be, so that policies can scope the action to one service's
    // role; `iam:AWSServiceName` names the service.
    let resource = service_linked_role_arn(account, service, suffix)
        .unwrap_or_else(|| role_arn(account, &format!("/aws-service-role/{service}/"), ""));
    authorize(world, call, "iam:CreateServiceLinkedRole", Target::arn(resource).with("iam:AWSServiceName", service))?;
    let (iam, ids) = world.iam_and_ids(account)?;
    let role = iam.create_service_linked_role(ids, account, now(call), service, description, suffix)?.clone();
    Ok(Value::structure().with("Role", role_value(&role, RoleView::Create, &[])))
}
