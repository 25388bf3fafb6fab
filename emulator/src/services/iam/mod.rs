//! IAM over awsQuery: users, access keys, roles, inline and managed policies, instance profiles.
//!
//! Each handler reads its members, checks the model's constraints (AWS answers
//! `ValidationError` before it looks at permissions), authorizes, asks `crate::state::iam` to do
//! the work, and answers with the member names of the IAM model's output shapes.
//!
//! # The resource of an AccessDenied
//!
//! Authorization is always decided on the resource ARN (`arn:aws:iam::<acct>:user<path><name>`,
//! ...). The text of AWS's AccessDenied names that resource differently per operation, and the
//! handlers reproduce it (forms seen in real AWS messages):
//! * operations on an existing user, role or instance profile: `user <name>`, `role <name>`,
//!   `instance profile <name>` (GetUser, CreateAccessKey, ListAccessKeys, AttachUserPolicy,
//!   GetRole, AttachRolePolicy, PutRolePolicy, DeleteRole, GetInstanceProfile,
//!   AddRoleToInstanceProfile). When an access key operation leaves `UserName` out and the
//!   caller's own user is meant, AWS writes `user null<name>`, and so does wana;
//! * operations on a managed policy: `policy <arn>` (GetPolicy), and `policy <name>` for
//!   CreatePolicy;
//! * CreateUser, CreateRole, CreateInstanceProfile, CreateServiceLinkedRole: the ARN;
//! * ListUsers, ListRoles, ListInstanceProfiles: the ARN of the path prefix
//!   (`arn:aws:iam::<acct>:user/`); ListPolicies: `policy path /`, evaluated as `*` because the
//!   action has no resource type.
//!
//! # Policy documents
//!
//! Documents in responses are URL-encoded as IAM does
//! ([`encode_document`](crate::state::iam::encode_document)); botocore's
//! `json_decode_policies` handler and the SDKs decode `policyDocumentType` members.
//!
//! # Pagination
//!
//! `MaxItems` (1..=1000, default 100 as in IAM) and `Marker`: a truncated page carries

mod aliases;
mod boundaries;
mod entity;
mod instance_profiles;
mod keys;
mod output;
mod paging;
mod policies;
mod roles;
mod simulate;
mod users;
mod validate;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_boundaries;
#[cfg(test)]
mod tests_simulate;

use chrono::{DateTime, SubsecRound, Utc};

use entity::Entity;

use crate::{
    authz::{denied_message, AuthzRequest},
    error::AwsError,
    principal::Principal,
    state::{
        iam::{instance_profile_arn, role_arn, user_arn, Tag},
        World,
    },
    validation,
    value::Value,
};

use super::{missing_member, Call};

pub fn handle(world: &mut World, call: &Call<'_>) -> Option<Result<Value, AwsError>> {
    Some(match call.action {
        "CreateUser" => users::create_user(world, call),
        "GetUser" => users::get_user(world, call),
        "ListUsers" => users::list_users(world, call),
        "UpdateUser" => users::update_user(world, call),
        "DeleteUser" => users::delete_user(world, call),
        "TagUser" => entity::tag(world, call, Entity::User),
        "UntagUser" => entity::untag(world, call, Entity::User),
        "ListUserTags" => entity::list_tags(world, call, Entity::User),
        "PutUserPermissionsBoundary" => boundaries::put_boundary(world, call, Entity::User),
        "DeleteUserPermissionsBoundary" => boundaries::delete_boundary(world, call, Entity::User),

        "CreateAccessKey" => keys::create_access_key(world, call),
        "ListAccessKeys" => keys::list_access_keys(world, call),
        "UpdateAccessKey" => keys::update_access_key(world, call),
        "DeleteAccessKey" => keys::delete_access_key(world, call),

        "CreateRole" => roles::create_role(world, call),
        "GetRole" => roles::get_role(world, call),
        "ListRoles" => roles::list_roles(world, call),
        "DeleteRole" => roles::delete_role(world, call),
        "UpdateAssumeRolePolicy" => roles::update_assume_role_policy(world, call),
        "UpdateRole" => roles::update_role(world, call, false),
        "UpdateRoleDescription" => roles::update_role(world, call, true),
        "CreateServiceLinkedRole" => roles::create_service_linked_role(world, call),
        "TagRole" => entity::tag(world, call, Entity::Role),
        "UntagRole" => entity::untag(world, call, Entity::Role),
        "ListRoleTags" => entity::list_tags(world, call, Entity::Role),
        "PutRolePermissionsBoundary" => boundaries::put_boundary(world, call, Entity::Role),
        "DeleteRolePermissionsBoundary" => boundaries::delete_boundary(world, call, Entity::Role),

        "PutUserPolicy" => entity::put_inline_policy(world, call, Entity::User),
        "GetUserPolicy" => entity::get_inline_policy(world, call, Entity::User),
        "ListUserPolicies" => entity::list_inline_policies(world, call, Entity::User),
        "DeleteUserPolicy" => entity::delete_inline_policy(world, call, Entity::User),
        "PutRolePolicy" => entity::put_inline_policy(world, call, Entity::Role),
        "GetRolePolicy" => entity::get_inline_policy(world, call, Entity::Role),
        "ListRolePolicies" => entity::list_inline_policies(world, call, Entity::Role),
        "DeleteRolePolicy" => entity::delete_inline_policy(world, call, Entity::Role),

        "CreatePolicy" => policies::create_policy(world, call),
        "GetPolicy" => policies::get_policy(world, call),
        "DeletePolicy" => policies::delete_policy(world, call),
        "ListPolicies" => policies::list_policies(world, call),
        "GetPolicyVersion" => policies::get_policy_version(world, call),
        "ListPolicyVersions" => policies::list_policy_versions(world, call),
        "CreatePolicyVersion" => policies::create_policy_version(world, call),
        "DeletePolicyVersion" => policies::delete_policy_version(world, call),
        "SetDefaultPolicyVersion" => policies::set_default_policy_version(world, call),
        "AttachUserPolicy" => entity::attach_policy(world, call, Entity::User),
        "DetachUserPolicy" => entity::detach_policy(world, call, Entity::User),
        "ListAttachedUserPolicies" => entity::list_attached_policies(world, call, Entity::User),
        "AttachRolePolicy" => entity::attach_policy(world, call, Entity::Role),
        "DetachRolePolicy" => entity::detach_policy(world, call, Entity::Role),
        "ListAttachedRolePolicies" => entity::list_attached_policies(world, call, Entity::Role),

        "CreateInstanceProfile" => instance_profiles::create_instance_profile(world, call),
        "GetInstanceProfile" => instance_profiles::get_instance_profile(world, call),
        "ListInstanceProfiles" => instance_profiles::list_instance_profiles(world, call),
        "ListInstanceProfilesForRole" => instance_profiles::list_instance_profiles_for_role(world, call),
        "AddRoleToInstanceProfile" => instance_profiles::add_role_to_instance_profile(world, call),
        "RemoveRoleFromInstanceProfile" => instance_profiles::remove_role_from_instance_profile(world, call),
        "DeleteInstanceProfile" => instance_profiles::delete_instance_profile(world, call),

        "SimulatePrincipalPolicy" => simulate::simulate_principal_policy(world, call),
        "SimulateCustomPolicy" => simulate::simulate_custom_policy(world, call),

        "CreateAccountAlias" => aliases::create_account_alias(world, call),
        "ListAccountAliases" => aliases::list_account_aliases(world, call),
        "DeleteAccountAlias" => aliases::delete_account_alias(world, call),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Authorization.

/// What a request is authorized on: the ARN policies are matched against, the resource AWS's
/// AccessDenied text names, and the condition keys the action adds.
struct Target {
    resource: String,
    shown: String,
    context: Vec<(&'static str, String)>,
}

impl Target {
    /// A resource AWS names by its ARN.
    fn arn(arn: String) -> Target {
        Target { shown: arn.clone(), resource: arn, context: Vec::new() }
    }

    fn shown_as(resource: String, shown: String) -> Target {
        Target { resource, shown, context: Vec::new() }
    }

    fn with(mut self, key: &'static str, value: impl Into<String>) -> Target {
        self.context.push((key, value.into()));
        self
    }
}

/// Asks the policy engine, before anything else happens, whether the caller may do `action`.
fn authorize(world: &mut World, call: &Call<'_>, action: &str, target: Target) -> Result<(), AwsError> {
    let mut request = AuthzRequest::new(action, &target.resource);
    request.context = target.context;
    let decision = world.authorize(call.facts(), &request);
    if decision.is_allowed() {
        Ok(())
    } else {
        Err(AwsError::new(
            "AccessDenied",
            403,
            denied_message(&call.caller.principal.arn(), action, &target.shown, &decision),
        ))
    }
}

/// A user named in a request, or the caller's own user when the name is left out.
struct UserName {
    name: String,
    implicit: bool,
}

/// `UserName` of the operations that default to the caller (GetUser, the access key
/// operations). A role session must name the user.
fn user_name_or_caller(call: &Call<'_>) -> Result<UserName, AwsError> {
    if let Some(name) = call.optional("UserName") {
        return Ok(UserName { name: name.to_string(), implicit: false });
    }
    match &call.caller.principal {
        Principal::User { name, .. } => Ok(UserName { name: name.clone(), implicit: true }),
        Principal::AssumedRole { .. } => Err(AwsError::validation(
            "Must specify userName when calling with non-User credentials",
        )),
    }
}

fn user_target(world: &World, account: &str, name: &str) -> Target {
    let arn = world
        .iam(account)
        .ok()
        .and_then(|iam| iam.user(name).ok())
        .map(|u| u.arn.clone())
        .unwrap_or_else(|| user_arn(account, "/", name));
    Target::shown_as(arn, format!("user {name}"))
}

/// The access key operations name a user left out of the request as `user null<name>` in
/// their AccessDenied text (CreateAccessKey and ListAccessKeys as AWS answers them); GetUser
/// does not.
fn key_owner_target(world: &World, account: &str, user: &UserName) -> Target {
    let mut target = user_target(world, account, &user.name);
    if user.implicit {
        target.shown = format!("user null{}", user.name);
    }
    target
}

fn role_target(world: &World, account: &str, name: &str) -> Target {
    let arn = world
        .iam(account)
        .ok()
        .and_then(|iam| iam.role(name).ok())
        .map(|r| r.arn.clone())
        .unwrap_or_else(|| role_arn(account, "/", name));
    Target::shown_as(arn, format!("role {name}"))
}

fn instance_profile_target(world: &World, account: &str, name: &str) -> Target {
    let arn = world
        .iam(account)
        .ok()
        .and_then(|iam| iam.instance_profile(name).ok())
        .map(|p| p.arn.clone())
        .unwrap_or_else(|| instance_profile_arn(account, "/", name));
    Target::shown_as(arn, format!("instance profile {name}"))
}

fn policy_target(arn: &str) -> Target {
    Target::shown_as(arn.to_string(), format!("policy {arn}"))
}

// ---------------------------------------------------------------------------------------------
// Input helpers.

/// IAM keeps its dates to the second (`2024-05-01T12:00:00Z`).
fn now(call: &Call<'_>) -> DateTime<Utc> {
    call.now.trunc_subsecs(0)
}

/// An optional boolean member; anything but `true`/`false` is a validation error.
fn optional_bool(call: &Call<'_>, name: &str, member: &str) -> Result<Option<bool>, AwsError> {
    match call.params.get(name) {
        None => Ok(None),
        Some(value) => value.as_bool().map(Some).ok_or_else(|| {
            AwsError::validation(validation::one(member, Some(value.as_str().unwrap_or("")), "Member must be a boolean"))
        }),
    }
}

/// `Tags.member.N.Key` / `.Value`: a missing list is an empty one.
fn tags_param(call: &Call<'_>) -> Result<Vec<Tag>, AwsError> {
    let mut tags = Vec::new();
    for (i, item) in call.params.get("Tags").map(Value::as_list).unwrap_or(&[]).iter().enumerate() {
        let key = item
            .get("Key")
            .and_then(Value::as_str)
            .ok_or_else(|| missing_member(&format!("tags.{}.member.key", i + 1)))?;
        let value = item
            .get("Value")
            .and_then(Value::as_str)
            .ok_or_else(|| missing_member(&format!("tags.{}.member.value", i + 1)))?;
        tags.push(Tag { key: key.to_string(), value: value.to_string() });
    }
    Ok(tags)
}

fn required_tags(call: &Call<'_>) -> Result<Vec<Tag>, AwsError> {
    if call.params.get("Tags").is_none() {
        return Err(missing_member("Tags"));
    }
    tags_param(call)
}

fn tag_keys_param(call: &Call<'_>) -> Result<Vec<String>, AwsError> {
    let Some(keys) = call.params.get("TagKeys") else {
        return Err(missing_member("TagKeys"));
    };
    keys.as_list()
        .iter()
        .enumerate()
        .map(|(i, k)| {
            k.as_str()
                .map(str::to_string)
                .ok_or_else(|| missing_member(&format!("tagKeys.{}.member", i + 1)))
        })
        .collect()
}
