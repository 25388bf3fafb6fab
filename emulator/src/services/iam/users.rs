//! CreateUser, GetUser, ListUsers, UpdateUser and DeleteUser. The tags, inline policies and
//! attached policies of users are shared with roles (`super::entity`).

use super::{
    authorize,
    boundaries::boundary_param,
    entity::BOUNDARY_KEY,
    now,
    output::{listed_user_value, user_value},
    paging::{list_output, page_request, paginate},
    tags_param, user_name_or_caller, user_target,
    validate::Validation,
    Target,
};
use crate::{
    error::AwsError,
    services::Call,
    state::{iam::user_arn, World},
    value::Value,
};

pub(super) fn create_user(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("UserName")?;
    let path = call.optional("Path");
    let tags = tags_param(call)?;
    let mut validation = Validation::new();
    validation.name("userName", name, 64).tags("tags", &tags);
    if let Some(path) = path {
        validation.path("path", path);
    }
    let boundary = boundary_param(call, &mut validation);
    validation.finish()?;
    let account = call.account();
    let mut target = Target::arn(user_arn(account, path.unwrap_or("/"), name));
    if let Some(boundary) = boundary {
        target = target.with(BOUNDARY_KEY, boundary);
    }
    authorize(world, call, "iam:CreateUser", target)?;
    let (iam, ids) = world.iam_and_ids(account)?;
    // The boundary is checked before the user exists, so that a bad one creates nothing.
    if let Some(boundary) = boundary {
        if iam.users.len() < crate::state::iam::USERS_PER_ACCOUNT && iam.user(name).is_err() {
            iam.check_boundary(boundary)?;
        }
    }
    let mut user = iam.create_user(ids, account, now(call), name, path, tags)?.clone();
    if let Some(boundary) = boundary {
        iam.put_user_permissions_boundary(&user.name, boundary)?;
        user.permissions_boundary = Some(boundary.to_string());
    }
    let user = user_value(&user, iam.tags_of(&user.id));
    Ok(Value::structure().with("User", user))
}

pub(super) fn get_user(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let user = user_name_or_caller(call)?;
    Validation::new().name("userName", &user.name, 128).finish()?;
    let account = call.account();
    authorize(world, call, "iam:GetUser", user_target(world, account, &user.name))?;
    let iam = world.iam(account)?;
    let found = iam.user(&user.name)?;
    Ok(Value::structure().with("User", user_value(found, iam.tags_of(&found.id))))
}

pub(super) fn list_users(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let prefix = call.optional("PathPrefix");
    if let Some(prefix) = prefix {
        Validation::new().path_prefix("pathPrefix", prefix).finish()?;
    }
    let page = page_request(call)?;
    let account = call.account();
    authorize(world, call, "iam:ListUsers", Target::arn(user_arn(account, prefix.unwrap_or("/"), "")))?;
    let iam = world.iam(account)?;
    let (users, next) = paginate(iam.users_with_prefix(prefix), &page);
    Ok(list_output("Users", users.into_iter().map(listed_user_value).collect(), next))
}

pub(super) fn update_user(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("UserName")?;
    let new_name = call.optional("NewUserName");
    let new_path = call.optional("NewPath");
    let mut validation = Validation::new();
    validation.name("userName", name, 128);
    if let Some(new_name) = new_name {
        validation.name("newUserName", new_name, 64);
    }
    if let Some(new_path) = new_path {
        validation.path("newPath", new_path);
    }
    validation.finish()?;
    let account = call.account();
    authorize(world, call, "iam:UpdateUser", user_target(world, account, name))?;
    world.update_user(account, name, new_name, new_path)?;
    Ok(Value::structure())
}

pub(super) fn delete_user(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("UserName")?;
    Validation::new().name("userName", name, 128).finish()?;
    let account = call.account();
    authorize(world, call, "iam:DeleteUser", user_target(world, account, name))?;
    world.delete_user(account, name)?;
    Ok(Value::structure())
}
