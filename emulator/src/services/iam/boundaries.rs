//! Permissions boundaries: PutUserPermissionsBoundary, DeleteUserPermissionsBoundary,
//! PutRolePermissionsBoundary and DeleteRolePermissionsBoundary, and the condition key
//! `iam:PermissionsBoundary` of the operations that can change what an entity may do.
//!
//! AWS's service authorization reference lists `iam:PermissionsBoundary` on CreateUser,
//! CreateRole, the four boundary operations, Put/Delete User/RolePolicy and Attach/Detach
//! User/RolePolicy: the boundary being set, or the entity's current one. A request on an entity
//! without a boundary carries no value, so a policy that demands one
//! (`StringEquals iam:PermissionsBoundary`) does not match it.

use super::{
    authorize,
    entity::{Entity, BOUNDARY_KEY},
    validate::Validation,
};
use crate::{error::AwsError, services::Call, state::World, value::Value};

/// The condition key naming a permissions boundary.
/// `PermissionsBoundary` of a request, checked as IAM's `arnType` (20 to 2048 characters).
pub(super) fn boundary_param<'a>(call: &Call<'a>, validation: &mut Validation) -> Option<&'a str> {
    let arn = call.optional("PermissionsBoundary")?;
    validation.arn("permissionsBoundary", arn);
    Some(arn)
}

/// PutUserPermissionsBoundary and PutRolePermissionsBoundary.
pub(super) fn put_boundary(world: &mut World, call: &Call<'_>, entity: Entity) -> Result<Value, AwsError> {
    let (member, validation_member) = entity.member();
    let name = call.required(member)?;
    let arn = call.required("PermissionsBoundary")?;
    Validation::new().name(validation_member, name, 64).arn("permissionsBoundary", arn).finish()?;
    let account = call.account();
    let target = entity.target(world, account, name).with(BOUNDARY_KEY, arn);
    authorize(world, call, &entity.action("Put", "PermissionsBoundary"), target)?;
    let iam = world.iam_mut(account)?;
    match entity {
        Entity::User => iam.put_user_permissions_boundary(name, arn)?,
        Entity::Role => iam.put_role_permissions_boundary(name, arn)?,
    }
    Ok(Value::structure())
}

/// DeleteUserPermissionsBoundary and DeleteRolePermissionsBoundary.
pub(super) fn delete_boundary(world: &mut World, call: &Call<'_>, entity: Entity) -> Result<Value, AwsError> {
    let (member, validation_member) = entity.member();
    let name = call.required(member)?;
    Validation::new().name(validation_member, name, 64).finish()?;
    let account = call.account();
    let target = entity.target_with_boundary(world, account, name);
    authorize(world, call, &entity.action("Delete", "PermissionsBoundary"), target)?;
    let iam = world.iam_mut(account)?;
    match entity {
        Entity::User => iam.delete_user_permissions_boundary(name)?,
        Entity::Role => iam.delete_role_permissions_boundary(name)?,
    }
    Ok(Value::structure())
}
