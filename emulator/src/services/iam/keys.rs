//! CreateAccessKey, ListAccessKeys, UpdateAccessKey and DeleteAccessKey: the long-term keys of
//! users. `UserName` may be left out to mean the caller's own user.

use super::{
    authorize, key_owner_target, now,
    output::access_key_metadata,
    paging::{list_output, page_request, paginate},
    user_name_or_caller,
    validate::Validation,
};
use crate::{
    error::AwsError,
    services::Call,
    state::{KeyOwner, World},
    value::Value,
};

pub(super) fn create_access_key(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let user = user_name_or_caller(call)?;
    Validation::new().name("userName", &user.name, 128).finish()?;
    let account = call.account();
    authorize(world, call, "iam:CreateAccessKey", key_owner_target(world, account, &user))?;
    let key = world.create_access_key(account, &user.name, now(call))?;
    let KeyOwner::User { user_name, .. } = &key.owner else {
        return Err(AwsError::internal("a user's access key has another owner"));
    };
    Ok(Value::structure().with(
        "AccessKey",
        Value::structure()
            .with("UserName", user_name.as_str())
            .with("AccessKeyId", key.id.as_str())
            .with("Status", key.status.as_str())
            .with("SecretAccessKey", key.secret.as_str())
            .with("CreateDate", key.created),
    ))
}

pub(super) fn list_access_keys(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let user = user_name_or_caller(call)?;
    Validation::new().name("userName", &user.name, 128).finish()?;
    let page = page_request(call)?;
    let account = call.account();
    authorize(world, call, "iam:ListAccessKeys", key_owner_target(world, account, &user))?;
    let (user_name, keys) = world.access_keys_of(account, &user.name)?;
    let (keys, next) = paginate(keys, &page);
    Ok(list_output(
        "AccessKeyMetadata",
        keys.into_iter().map(|k| access_key_metadata(&user_name, k)).collect(),
        next,
    ))
}

pub(super) fn update_access_key(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let user = user_name_or_caller(call)?;
    let key_id = call.required("AccessKeyId")?;
    let status = call.required("Status")?;
    Validation::new()
        .name("userName", &user.name, 128)
        .access_key_id("accessKeyId", key_id)
        .one_of("status", status, &["Active", "Inactive", "Expired"])
        .finish()?;
    let account = call.account();
    authorize(world, call, "iam:UpdateAccessKey", key_owner_target(world, account, &user))?;
    world.update_access_key(account, &user.name, key_id, status)?;
    Ok(Value::structure())
}

pub(super) fn delete_access_key(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let user = user_name_or_caller(call)?;
    let key_id = call.required("AccessKeyId")?;
    Validation::new()
        .name("userName", &user.name, 128)
        .access_key_id("accessKeyId", key_id)
        .finish()?;
    let account = call.account();
    authorize(world, call, "iam:DeleteAccessKey", key_owner_target(world, account, &user))?;
    world.delete_access_key(account, &user.name, key_id)?;
    Ok(Value::structure())
}
