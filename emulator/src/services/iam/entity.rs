//! The operations users and roles share, written once for both: tags (`Tag…`, `Untag…`,
//! `List…Tags`), inline policies (`Put…Policy`, `Get…Policy`, `List…Policies`,
//! `Delete…Policy`) and attached managed policies (`Attach…Policy`, `Detach…Policy`,
//! `ListAttached…Policies`). [`Entity`] says which of the two a request is about: the member
//! naming it, how long that name may be, the IAM action, the resource of an AccessDenied text,
//! and where its state lives (each operation answers the entity's own not-found text).

use std::collections::BTreeMap;

use super::{
    authorize,
    output::tag_values,
    paging::{list_output, page_request, paginate},
    required_tags, role_target, tag_keys_param, user_target,
    validate::Validation,
    Target,
};
use crate::{
    error::AwsError,
    services::Call,
    state::{
        iam::{encode_document, IamState, PolicyDocument, Tag},
        World,
    },
    value::Value,
};

/// Whether an operation is about a user or a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Entity {
    User,
    Role,
}

/// The longest entity name the attached policy operations accept: they take `userNameType` and
/// `roleNameType`, 64 characters for both.
const ATTACHED_MAX_NAME: usize = 64;

/// What the shared operations read of a user or role, as stored.
struct Found<'a> {
    id: &'a str,
    inline_policies: &'a BTreeMap<String, PolicyDocument>,
    attached_policies: &'a [String],
}

impl Entity {
    /// `User` or `Role`, as the operation names spell it.
    fn kind(self) -> &'static str {
        match self {
            Entity::User => "User",
            Entity::Role => "Role",
        }
    }

    /// The IAM action of an operation on the entity, `iam:<verb><User|Role><rest>`:
    /// `action("ListAttached", "Policies")` is `iam:ListAttachedUserPolicies` for a user.
    pub(super) fn action(self, verb: &str, rest: &str) -> String {
        format!("iam:{verb}{}{rest}", self.kind())
    }

    /// The entity kind, for the state's propagation of policy changes.
    fn entity_kind(self) -> crate::state::EntityKind {
        match self {
            Entity::User => crate::state::EntityKind::User,
            Entity::Role => crate::state::EntityKind::Role,
        }
    }

    /// The request member naming the entity, and its name in validation messages.
    pub(super) fn member(self) -> (&'static str, &'static str) {
        match self {
            Entity::User => ("UserName", "userName"),
            Entity::Role => ("RoleName", "roleName"),
        }
    }

    /// The longest name the operations on tags and inline policies accept
    /// (`existingUserNameType` allows 128 characters; roles 64).
    fn max_name(self) -> usize {
        match self {
            Entity::User => 128,
            Entity::Role => 64,
        }
    }

    /// The resource of the request: `user <name>` or `role <name>` in AccessDenied texts.
    pub(super) fn target(self, world: &World, account: &str, name: &str) -> Target {
        match self {
            Entity::User => user_target(world, account, name),
            Entity::Role => role_target(world, account, name),
        }
    }

    /// The entity's name member, required and checked.
    fn name_param<'a>(self, call: &Call<'a>) -> Result<&'a str, AwsError> {
        let (member, validation_member) = self.member();
        let name = call.required(member)?;
        Validation::new().name(validation_member, name, self.max_name()).finish()?;
        Ok(name)
    }

    /// The entity as stored, or IAM's `NoSuchEntity` for a user or a role.
    fn find<'a>(self, iam: &'a IamState, name: &str) -> Result<Found<'a>, AwsError> {
        Ok(match self {
            Entity::User => {
                let user = iam.user(name)?;
                Found {
                    id: &user.id,
                    inline_policies: &user.inline_policies,
                    attached_policies: &user.attached_policies,
                }
            }
            Entity::Role => {
                let role = iam.role(name)?;
                Found {
                    id: &role.id,
                    inline_policies: &role.inline_policies,
                    attached_policies: &role.attached_policies,
                }
            }
        })
    }

    // The model operations, each the user's or the role's (their quotas, texts and the
    // protection of service-linked roles differ).

    fn tag(self, iam: &mut IamState, name: &str, tags: Vec<Tag>) -> Result<(), AwsError> {
        match self {
            Entity::User => iam.tag_user(name, tags),
            Entity::Role => iam.tag_role(name, tags),
        }
    }

    fn untag(self, iam: &mut IamState, name: &str, keys: &[String]) -> Result<(), AwsError> {
        match self {
            Entity::User => iam.untag_user(name, keys),
            Entity::Role => iam.untag_role(name, keys),
        }
    }

    fn put_policy(self, iam: &mut IamState, name: &str, policy_name: &str, text: &str) -> Result<(), AwsError> {
        match self {
            Entity::User => iam.put_user_policy(name, policy_name, text),
            Entity::Role => iam.put_role_policy(name, policy_name, text),
        }
    }

    /// An inline policy, with the entity's name as stored.
    fn policy<'a>(self, iam: &'a IamState, name: &str, policy_name: &str) -> Result<(&'a str, &'a PolicyDocument), AwsError> {
        match self {
            Entity::User => iam.user_policy(name, policy_name).map(|(user, document)| (user.name.as_str(), document)),
            Entity::Role => iam.role_policy(name, policy_name).map(|(role, document)| (role.name.as_str(), document)),
        }
    }

    fn delete_policy(self, iam: &mut IamState, name: &str, policy_name: &str) -> Result<(), AwsError> {
        match self {
            Entity::User => iam.delete_user_policy(name, policy_name),
            Entity::Role => iam.delete_role_policy(name, policy_name),
        }
    }

    fn attach(self, iam: &mut IamState, name: &str, arn: &str) -> Result<(), AwsError> {
        match self {
            Entity::User => iam.attach_user_policy(name, arn),
            Entity::Role => iam.attach_role_policy(name, arn),
        }
    }

    fn detach(self, iam: &mut IamState, name: &str, arn: &str) -> Result<(), AwsError> {
        match self {
            Entity::User => iam.detach_user_policy(name, arn),
            Entity::Role => iam.detach_role_policy(name, arn),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tags: TagUser, TagRole, UntagUser, UntagRole, ListUserTags, ListRoleTags.

pub(super) fn tag(world: &mut World, call: &Call<'_>, entity: Entity) -> Result<Value, AwsError> {
    let (member, validation_member) = entity.member();
    let name = call.required(member)?;
    let tags = required_tags(call)?;
    Validation::new().name(validation_member, name, entity.max_name()).tags("tags", &tags).finish()?;
    let account = call.account();
    authorize(world, call, &entity.action("Tag", ""), entity.target(world, account, name))?;
    entity.tag(world.iam_mut(account)?, name, tags)?;
    Ok(Value::structure())
}

pub(super) fn untag(world: &mut World, call: &Call<'_>, entity: Entity) -> Result<Value, AwsError> {
    let (member, validation_member) = entity.member();
    let name = call.required(member)?;
    let keys = tag_keys_param(call)?;
    Validation::new().name(validation_member, name, entity.max_name()).tag_keys("tagKeys", &keys).finish()?;
    let account = call.account();
    authorize(world, call, &entity.action("Untag", ""), entity.target(world, account, name))?;
    entity.untag(world.iam_mut(account)?, name, &keys)?;
    Ok(Value::structure())
}

pub(super) fn list_tags(world: &mut World, call: &Call<'_>, entity: Entity) -> Result<Value, AwsError> {
    let name = entity.name_param(call)?;
    let page = page_request(call)?;
    let account = call.account();
    authorize(world, call, &entity.action("List", "Tags"), entity.target(world, account, name))?;
    let iam = world.iam(account)?;
    let found = entity.find(iam, name)?;
    let (tags, next) = paginate(iam.tags_of(found.id).to_vec(), &page);
    Ok(list_output("Tags", tag_values(&tags), next))
}

// ---------------------------------------------------------------------------------------------
// Inline policies: Put, Get, List and Delete UserPolicy / RolePolicy.

pub(super) fn put_inline_policy(world: &mut World, call: &Call<'_>, entity: Entity) -> Result<Value, AwsError> {
    let name = entity.name_param(call)?;
    let policy_name = call.required("PolicyName")?;
    let document = call.required("PolicyDocument")?;
    Validation::new()
        .name("policyName", policy_name, 128)
        .document("policyDocument", document)
        .finish()?;
    let account = call.account();
    let target = entity.target_with_boundary(world, account, name);
    authorize(world, call, &entity.action("Put", "Policy"), target)?;
    world.change_identity_policies(account, entity.entity_kind(), name, call.now, |iam| entity.put_policy(iam, name, policy_name, document))?;
    Ok(Value::structure())
}

pub(super) fn get_inline_policy(world: &mut World, call: &Call<'_>, entity: Entity) -> Result<Value, AwsError> {
    let name = entity.name_param(call)?;
    let policy_name = call.required("PolicyName")?;
    Validation::new().name("policyName", policy_name, 128).finish()?;
    let account = call.account();
    authorize(world, call, &entity.action("Get", "Policy"), entity.target(world, account, name))?;
    let (stored_name, document) = entity.policy(world.iam(account)?, name, policy_name)?;
    Ok(Value::structure()
        .with(entity.member().0, stored_name)
        .with("PolicyName", policy_name)
        .with("PolicyDocument", encode_document(&document.text)))
}

pub(super) fn list_inline_policies(world: &mut World, call: &Call<'_>, entity: Entity) -> Result<Value, AwsError> {
    let name = entity.name_param(call)?;
    let page = page_request(call)?;
    let account = call.account();
    authorize(world, call, &entity.action("List", "Policies"), entity.target(world, account, name))?;
    let found = entity.find(world.iam(account)?, name)?;
    let names: Vec<&str> = found.inline_policies.keys().map(String::as_str).collect();
    let (names, next) = paginate(names, &page);
    Ok(list_output("PolicyNames", names.into_iter().map(Value::from).collect(), next))
}

pub(super) fn delete_inline_policy(world: &mut World, call: &Call<'_>, entity: Entity) -> Result<Value, AwsError> {
    let name = entity.name_param(call)?;
    let policy_name = call.required("PolicyName")?;
    Validation::new().name("policyName", policy_name, 128).finish()?;
    let account = call.account();
    let target = entity.target_with_boundary(world, account, name);
    authorize(world, call, &entity.action("Delete", "Policy"), target)?;
    world.change_identity_policies(account, entity.entity_kind(), name, call.now, |iam| entity.delete_policy(iam, name, policy_name))?;
    Ok(Value::structure())
}

// ---------------------------------------------------------------------------------------------
// Attached managed policies: Attach, Detach and ListAttached UserPolicy / RolePolicy.

pub(super) fn attach_policy(world: &mut World, call: &Call<'_>, entity: Entity) -> Result<Value, AwsError> {
    let (name, arn) = attachment_params(call, entity)?;
    let account = call.account();
    let target = entity.target(world, account, name).with("iam:PolicyARN", arn);
    let target = with_current_boundary(world, account, entity, name, target);
    authorize(world, call, &entity.action("Attach", "Policy"), target)?;
    world.change_identity_policies(account, entity.entity_kind(), name, call.now, |iam| entity.attach(iam, name, arn))?;
    Ok(Value::structure())
}

pub(super) fn detach_policy(world: &mut World, call: &Call<'_>, entity: Entity) -> Result<Value, AwsError> {
    let (name, arn) = attachment_params(call, entity)?;
    let account = call.account();
    let target = entity.target(world, account, name).with("iam:PolicyARN", arn);
    let target = with_current_boundary(world, account, entity, name, target);
    authorize(world, call, &entity.action("Detach", "Policy"), target)?;
    world.change_identity_policies(account, entity.entity_kind(), name, call.now, |iam| entity.detach(iam, name, arn))?;
    Ok(Value::structure())
}

/// The entity's name and `PolicyArn` of AttachUserPolicy and its kin, required and checked.
fn attachment_params<'a>(call: &Call<'a>, entity: Entity) -> Result<(&'a str, &'a str), AwsError> {
    let (member, validation_member) = entity.member();
    let name = call.required(member)?;
    let arn = call.required("PolicyArn")?;
    Validation::new().name(validation_member, name, ATTACHED_MAX_NAME).arn("policyArn", arn).finish()?;
    Ok((name, arn))
}

pub(super) fn list_attached_policies(world: &mut World, call: &Call<'_>, entity: Entity) -> Result<Value, AwsError> {
    let (member, validation_member) = entity.member();
    let name = call.required(member)?;
    let prefix = call.optional("PathPrefix");
    let mut validation = Validation::new();
    validation.name(validation_member, name, ATTACHED_MAX_NAME);
    if let Some(prefix) = prefix {
        validation.policy_path("pathPrefix", prefix);
    }
    validation.finish()?;
    let page = page_request(call)?;
    let account = call.account();
    authorize(world, call, &entity.action("ListAttached", "Policies"), entity.target(world, account, name))?;
    let iam = world.iam(account)?;
    let found = entity.find(iam, name)?;
    let (attached, next) = paginate(iam.attached_policies(found.attached_policies, prefix), &page);
    Ok(list_output(
        "AttachedPolicies",
        attached
            .into_iter()
            .map(|(name, arn)| Value::structure().with("PolicyName", name).with("PolicyArn", arn))
            .collect(),
        next,
    ))
}

pub(super) const BOUNDARY_KEY: &str = "iam:PermissionsBoundary";

/// `target` with the entity's current boundary as `iam:PermissionsBoundary`, if it has one.
fn with_current_boundary(world: &World, account: &str, entity: Entity, name: &str, target: Target) -> Target {
    match current_boundary(world, account, entity, name) {
        Some(arn) => target.with(BOUNDARY_KEY, arn),
        None => target,
    }
}

fn current_boundary(world: &World, account: &str, entity: Entity, name: &str) -> Option<String> {
    let iam = world.iam(account).ok()?;
    match entity {
        Entity::User => iam.user(name).ok()?.permissions_boundary.clone(),
        Entity::Role => iam.role(name).ok()?.permissions_boundary.clone(),
    }
}

impl Entity {
    /// The entity's authorization target with its current boundary as `iam:PermissionsBoundary`.
    pub(super) fn target_with_boundary(self, world: &World, account: &str, name: &str) -> Target {
        with_current_boundary(world, account, self, name, self.target(world, account, name))
    }
}
