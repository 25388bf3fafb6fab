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
//! Documents in responses are URL-encoded as IAM does ([`encode_document`]); botocore's
//! `json_decode_policies` handler and the SDKs decode `policyDocumentType` members.
//!
//! # Pagination
//!
//! `MaxItems` (1..=1000, default 100 as in IAM) and `Marker`: a truncated page carries
//! `IsTruncated=true` and an opaque `Marker` for the next one.

use base64::Engine as _;
use chrono::{DateTime, SubsecRound, Utc};

use crate::{
    authz::{denied_message, AuthzRequest},
    error::AwsError,
    principal::Principal,
    state::{
        iam::{
            encode_document, instance_profile_arn, policy_arn, role_arn, service_linked_role_arn, user_arn, IamState, InstanceProfile,
            NewPolicy, NewRole, PolicyRef, PolicyScope, Role, Tag, User, Validation, VersionView,
        },
        AccessKey, World,
    },
    value::Value,
};

use super::{missing_member, Call};

pub fn handle(world: &mut World, call: &Call<'_>) -> Option<Result<Value, AwsError>> {
    Some(match call.action {
        "CreateUser" => create_user(world, call),
        "GetUser" => get_user(world, call),
        "ListUsers" => list_users(world, call),
        "UpdateUser" => update_user(world, call),
        "DeleteUser" => delete_user(world, call),
        "TagUser" => tag_user(world, call),
        "UntagUser" => untag_user(world, call),
        "ListUserTags" => list_user_tags(world, call),

        "CreateAccessKey" => create_access_key(world, call),
        "ListAccessKeys" => list_access_keys(world, call),
        "UpdateAccessKey" => update_access_key(world, call),
        "DeleteAccessKey" => delete_access_key(world, call),

        "CreateRole" => create_role(world, call),
        "GetRole" => get_role(world, call),
        "ListRoles" => list_roles(world, call),
        "DeleteRole" => delete_role(world, call),
        "UpdateAssumeRolePolicy" => update_assume_role_policy(world, call),
        "UpdateRole" => update_role(world, call, false),
        "UpdateRoleDescription" => update_role(world, call, true),
        "CreateServiceLinkedRole" => create_service_linked_role(world, call),
        "TagRole" => tag_role(world, call),
        "UntagRole" => untag_role(world, call),
        "ListRoleTags" => list_role_tags(world, call),

        "PutUserPolicy" => put_inline_policy(world, call, Entity::User),
        "GetUserPolicy" => get_inline_policy(world, call, Entity::User),
        "ListUserPolicies" => list_inline_policies(world, call, Entity::User),
        "DeleteUserPolicy" => delete_inline_policy(world, call, Entity::User),
        "PutRolePolicy" => put_inline_policy(world, call, Entity::Role),
        "GetRolePolicy" => get_inline_policy(world, call, Entity::Role),
        "ListRolePolicies" => list_inline_policies(world, call, Entity::Role),
        "DeleteRolePolicy" => delete_inline_policy(world, call, Entity::Role),

        "CreatePolicy" => create_policy(world, call),
        "GetPolicy" => get_policy(world, call),
        "DeletePolicy" => delete_policy(world, call),
        "ListPolicies" => list_policies(world, call),
        "GetPolicyVersion" => get_policy_version(world, call),
        "ListPolicyVersions" => list_policy_versions(world, call),
        "CreatePolicyVersion" => create_policy_version(world, call),
        "DeletePolicyVersion" => delete_policy_version(world, call),
        "SetDefaultPolicyVersion" => set_default_policy_version(world, call),
        "AttachUserPolicy" => attach_policy(world, call, Entity::User),
        "DetachUserPolicy" => detach_policy(world, call, Entity::User),
        "ListAttachedUserPolicies" => list_attached_policies(world, call, Entity::User),
        "AttachRolePolicy" => attach_policy(world, call, Entity::Role),
        "DetachRolePolicy" => detach_policy(world, call, Entity::Role),
        "ListAttachedRolePolicies" => list_attached_policies(world, call, Entity::Role),

        "CreateInstanceProfile" => create_instance_profile(world, call),
        "GetInstanceProfile" => get_instance_profile(world, call),
        "ListInstanceProfiles" => list_instance_profiles(world, call),
        "ListInstanceProfilesForRole" => list_instance_profiles_for_role(world, call),
        "AddRoleToInstanceProfile" => add_role_to_instance_profile(world, call),
        "RemoveRoleFromInstanceProfile" => remove_role_from_instance_profile(world, call),
        "DeleteInstanceProfile" => delete_instance_profile(world, call),
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
            AwsError::validation(format!(
                "1 validation error detected: Value '{}' at '{member}' failed to satisfy constraint: Member must be a boolean",
                value.as_str().unwrap_or("")
            ))
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

const DEFAULT_MAX_ITEMS: i64 = 100;
const MARKER_PREFIX: &str = "wana-page:";

/// The page a list operation asked for: `MaxItems` and `Marker`, checked.
struct PageRequest {
    start: usize,
    max_items: usize,
}

fn page_request(call: &Call<'_>) -> Result<PageRequest, AwsError> {
    let max_items = call.optional_i64("MaxItems")?;
    let marker = call.optional("Marker");
    let mut validation = Validation::new();
    if let Some(max) = max_items {
        validation.range("maxItems", max, 1, 1000);
    }
    validation.finish()?;
    let start = match marker {
        None => 0,
        Some(marker) => decode_marker(marker).ok_or_else(|| AwsError::validation("Invalid Marker."))?,
    };
    let max_items = usize::try_from(max_items.unwrap_or(DEFAULT_MAX_ITEMS)).unwrap_or(1);
    Ok(PageRequest { start, max_items })
}

fn encode_marker(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{MARKER_PREFIX}{offset}"))
}

fn decode_marker(marker: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(marker).ok()?;
    String::from_utf8(bytes).ok()?.strip_prefix(MARKER_PREFIX)?.parse().ok()
}

/// One page of a list, and the marker of the next page if there is one.
fn paginate<T>(items: Vec<T>, page: &PageRequest) -> (Vec<T>, Option<String>) {
    let total = items.len();
    let start = page.start.min(total);
    let end = start.saturating_add(page.max_items).min(total);
    let next = (end < total).then(|| encode_marker(end));
    (items.into_iter().skip(start).take(end - start).collect(), next)
}

/// `{member: [...], IsTruncated, Marker}`, the output of every IAM list operation.
fn list_output(member: &str, items: Vec<Value>, next: Option<String>) -> Value {
    Value::structure()
        .with(member, Value::List(items))
        .with("IsTruncated", next.is_some())
        .with_opt("Marker", next)
}

// ---------------------------------------------------------------------------------------------
// Output shapes.

fn tag_values(tags: &[Tag]) -> Vec<Value> {
    tags.iter()
        .map(|t| Value::structure().with("Key", t.key.as_str()).with("Value", t.value.as_str()))
        .collect()
}

fn tags_value(tags: &[Tag]) -> Value {
    Value::List(tag_values(tags))
}

fn with_tags(value: Value, tags: &[Tag]) -> Value {
    if tags.is_empty() {
        value
    } else {
        value.with("Tags", tags_value(tags))
    }
}

/// `User`; `tags` only where the operation returns them (CreateUser, GetUser).
fn user_value(user: &User, tags: &[Tag]) -> Value {
    let value = Value::structure()
        .with("Path", user.path.as_str())
        .with("UserName", user.name.as_str())
        .with("UserId", user.id.as_str())
        .with("Arn", user.arn.as_str())
        .with("CreateDate", user.created);
    with_tags(value, tags)
}

/// Which members of `Role` an operation returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RoleView {
    /// CreateRole, CreateServiceLinkedRole: no session duration, no last use.
    Create,
    /// GetRole, UpdateRoleDescription: everything.
    Get,
    /// ListRoles: no tags, no last use.
    List,
    /// The roles of an instance profile.
    InProfile,
}

fn role_value(role: &Role, view: RoleView, tags: &[Tag]) -> Value {
    let mut value = Value::structure()
        .with("Path", role.path.as_str())
        .with("RoleName", role.name.as_str())
        .with("RoleId", role.id.as_str())
        .with("Arn", role.arn.as_str())
        .with("CreateDate", role.created)
        .with("AssumeRolePolicyDocument", encode_document(&role.trust_policy.text));
    if view != RoleView::InProfile {
        value = value.with_opt("Description", role.description.as_deref());
    }
    if matches!(view, RoleView::Get | RoleView::List) {
        value = value.with("MaxSessionDuration", role.max_session_duration);
    }
    if matches!(view, RoleView::Create | RoleView::Get) {
        value = with_tags(value, tags);
    }
    if view == RoleView::Get {
        value = value.with("RoleLastUsed", Value::structure());
    }
    value
}

fn instance_profile_value(iam: &IamState, profile: &InstanceProfile, tags: &[Tag]) -> Value {
    let roles: Value = iam.roles_of(profile).into_iter().map(|r| role_value(r, RoleView::InProfile, &[])).collect();
    let value = Value::structure()
        .with("Path", profile.path.as_str())
        .with("InstanceProfileName", profile.name.as_str())
        .with("InstanceProfileId", profile.id.as_str())
        .with("Arn", profile.arn.as_str())
        .with("CreateDate", profile.created)
        .with("Roles", roles);
    with_tags(value, tags)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PolicyView {
    Create,
    Get,
    List,
}

fn policy_value(iam: &IamState, policy: PolicyRef<'_>, view: PolicyView) -> Value {
    let arn = policy.arn();
    let mut value = Value::structure()
        .with("PolicyName", policy.name())
        .with("PolicyId", policy.id())
        .with("Arn", arn.as_str())
        .with("Path", policy.path())
        .with("DefaultVersionId", policy.default_version_id())
        .with("AttachmentCount", iam.attachment_count(&arn))
        .with("PermissionsBoundaryUsageCount", 0)
        .with("IsAttachable", true);
    if view == PolicyView::Get {
        value = value.with_opt("Description", policy.description());
    }
    value = value.with("CreateDate", policy.created()).with("UpdateDate", policy.updated());
    if view != PolicyView::List {
        if let Some(customer) = policy.customer() {
            value = with_tags(value, iam.tags_of(&customer.id));
        }
    }
    value
}

/// `PolicyVersion`; the document only in GetPolicyVersion.
fn version_value(version: VersionView<'_>, with_document: bool) -> Value {
    let value = Value::structure();
    let value = if with_document { value.with("Document", encode_document(version.document)) } else { value };
    value
        .with("VersionId", version.version_id)
        .with("IsDefaultVersion", version.is_default)
        .with("CreateDate", version.created)
}

fn access_key_metadata(user: &str, key: &AccessKey) -> Value {
    Value::structure()
        .with("UserName", user)
        .with("AccessKeyId", key.id.as_str())
        .with("Status", key.status.as_str())
        .with("CreateDate", key.created)
}

// ---------------------------------------------------------------------------------------------
// Users.

fn create_user(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("UserName")?;
    let path = call.optional("Path");
    let tags = tags_param(call)?;
    let mut validation = Validation::new();
    validation.name("userName", name, 64).tags("tags", &tags);
    if let Some(path) = path {
        validation.path("path", path);
    }
    validation.finish()?;
    let account = call.account();
    authorize(world, call, "iam:CreateUser", Target::arn(user_arn(account, path.unwrap_or("/"), name)))?;
    let (iam, ids) = world.iam_and_ids(account)?;
    let user = iam.create_user(ids, account, now(call), name, path, tags)?.clone();
    let user = user_value(&user, iam.tags_of(&user.id));
    Ok(Value::structure().with("User", user))
}

fn get_user(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let user = user_name_or_caller(call)?;
    Validation::new().name("userName", &user.name, 128).finish()?;
    let account = call.account();
    authorize(world, call, "iam:GetUser", user_target(world, account, &user.name))?;
    let iam = world.iam(account)?;
    let found = iam.user(&user.name)?;
    Ok(Value::structure().with("User", user_value(found, iam.tags_of(&found.id))))
}

fn list_users(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let prefix = call.optional("PathPrefix");
    if let Some(prefix) = prefix {
        Validation::new().path_prefix("pathPrefix", prefix).finish()?;
    }
    let page = page_request(call)?;
    let account = call.account();
    authorize(world, call, "iam:ListUsers", Target::arn(user_arn(account, prefix.unwrap_or("/"), "")))?;
    let iam = world.iam(account)?;
    let (users, next) = paginate(iam.users_with_prefix(prefix), &page);
    Ok(list_output("Users", users.into_iter().map(|u| user_value(u, &[])).collect(), next))
}

fn update_user(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
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

fn delete_user(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("UserName")?;
    Validation::new().name("userName", name, 128).finish()?;
    let account = call.account();
    authorize(world, call, "iam:DeleteUser", user_target(world, account, name))?;
    world.delete_user(account, name)?;
    Ok(Value::structure())
}

fn tag_user(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("UserName")?;
    let tags = required_tags(call)?;
    Validation::new().name("userName", name, 128).tags("tags", &tags).finish()?;
    let account = call.account();
    authorize(world, call, "iam:TagUser", user_target(world, account, name))?;
    world.iam_mut(account)?.tag_user(name, tags)?;
    Ok(Value::structure())
}

fn untag_user(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("UserName")?;
    let keys = tag_keys_param(call)?;
    Validation::new().name("userName", name, 128).tag_keys("tagKeys", &keys).finish()?;
    let account = call.account();
    authorize(world, call, "iam:UntagUser", user_target(world, account, name))?;
    world.iam_mut(account)?.untag_user(name, &keys)?;
    Ok(Value::structure())
}

fn list_user_tags(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("UserName")?;
    Validation::new().name("userName", name, 128).finish()?;
    let page = page_request(call)?;
    let account = call.account();
    authorize(world, call, "iam:ListUserTags", user_target(world, account, name))?;
    let iam = world.iam(account)?;
    let user = iam.user(name)?;
    let (tags, next) = paginate(iam.tags_of(&user.id).to_vec(), &page);
    Ok(list_output("Tags", tag_values(&tags), next))
}

// ---------------------------------------------------------------------------------------------
// Access keys.

fn create_access_key(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let user = user_name_or_caller(call)?;
    Validation::new().name("userName", &user.name, 128).finish()?;
    let account = call.account();
    authorize(world, call, "iam:CreateAccessKey", key_owner_target(world, account, &user))?;
    let key = world.create_access_key(account, &user.name, now(call))?;
    let crate::state::KeyOwner::User { user_name, .. } = &key.owner else {
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

fn list_access_keys(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
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

fn update_access_key(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
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

fn delete_access_key(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
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

// ---------------------------------------------------------------------------------------------
// Roles.

fn create_role(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
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
        validation.range("maxSessionDuration", duration, 3600, 43200);
    }
    validation.finish()?;
    let account = call.account();
    authorize(world, call, "iam:CreateRole", Target::arn(role_arn(account, path.unwrap_or("/"), name)))?;
    let spec = NewRole { name, path, trust_policy, description, max_session_duration, tags };
    let role = world.create_role(account, now(call), spec)?.clone();
    let iam = world.iam(account)?;
    Ok(Value::structure().with("Role", role_value(&role, RoleView::Create, iam.tags_of(&role.id))))
}

fn get_role(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("RoleName")?;
    Validation::new().name("roleName", name, 64).finish()?;
    let account = call.account();
    authorize(world, call, "iam:GetRole", role_target(world, account, name))?;
    let iam = world.iam(account)?;
    let role = iam.role(name)?;
    Ok(Value::structure().with("Role", role_value(role, RoleView::Get, iam.tags_of(&role.id))))
}

fn list_roles(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
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

fn delete_role(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("RoleName")?;
    Validation::new().name("roleName", name, 64).finish()?;
    let account = call.account();
    authorize(world, call, "iam:DeleteRole", role_target(world, account, name))?;
    world.iam_mut(account)?.delete_role(name)?;
    Ok(Value::structure())
}

fn update_assume_role_policy(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
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
fn update_role(world: &mut World, call: &Call<'_>, description_only: bool) -> Result<Value, AwsError> {
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
        validation.range("maxSessionDuration", duration, 3600, 43200);
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

fn create_service_linked_role(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
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

fn tag_role(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("RoleName")?;
    let tags = required_tags(call)?;
    Validation::new().name("roleName", name, 64).tags("tags", &tags).finish()?;
    let account = call.account();
    authorize(world, call, "iam:TagRole", role_target(world, account, name))?;
    world.iam_mut(account)?.tag_role(name, tags)?;
    Ok(Value::structure())
}

fn untag_role(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("RoleName")?;
    let keys = tag_keys_param(call)?;
    Validation::new().name("roleName", name, 64).tag_keys("tagKeys", &keys).finish()?;
    let account = call.account();
    authorize(world, call, "iam:UntagRole", role_target(world, account, name))?;
    world.iam_mut(account)?.untag_role(name, &keys)?;
    Ok(Value::structure())
}

fn list_role_tags(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("RoleName")?;
    Validation::new().name("roleName", name, 64).finish()?;
    let page = page_request(call)?;
    let account = call.account();
    authorize(world, call, "iam:ListRoleTags", role_target(world, account, name))?;
    let iam = world.iam(account)?;
    let role = iam.role(name)?;
    let (tags, next) = paginate(iam.tags_of(&role.id).to_vec(), &page);
    Ok(list_output("Tags", tag_values(&tags), next))
}

// ---------------------------------------------------------------------------------------------
// Inline policies of users and roles.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entity {
    User,
    Role,
}

impl Entity {
    /// The request member naming the entity, and its name in validation messages.
    fn member(self) -> (&'static str, &'static str) {
        match self {
            Entity::User => ("UserName", "userName"),
            Entity::Role => ("RoleName", "roleName"),
        }
    }

    /// The longest name the operations on inline policies accept (`existingUserNameType`
    /// allows 128 characters; roles 64).
    fn max_name(self) -> usize {
        match self {
            Entity::User => 128,
            Entity::Role => 64,
        }
    }

    fn target(self, world: &World, account: &str, name: &str) -> Target {
        match self {
            Entity::User => user_target(world, account, name),
            Entity::Role => role_target(world, account, name),
        }
    }

    fn name_param<'a>(self, call: &Call<'a>) -> Result<&'a str, AwsError> {
        let (member, validation_member) = self.member();
        let name = call.required(member)?;
        Validation::new().name(validation_member, name, self.max_name()).finish()?;
        Ok(name)
    }
}

fn put_inline_policy(world: &mut World, call: &Call<'_>, entity: Entity) -> Result<Value, AwsError> {
    let name = entity.name_param(call)?;
    let policy_name = call.required("PolicyName")?;
    let document = call.required("PolicyDocument")?;
    Validation::new()
        .name("policyName", policy_name, 128)
        .document("policyDocument", document)
        .finish()?;
    let account = call.account();
    let action = match entity {
        Entity::User => "iam:PutUserPolicy",
        Entity::Role => "iam:PutRolePolicy",
    };
    authorize(world, call, action, entity.target(world, account, name))?;
    let iam = world.iam_mut(account)?;
    match entity {
        Entity::User => iam.put_user_policy(name, policy_name, document)?,
        Entity::Role => iam.put_role_policy(name, policy_name, document)?,
    }
    Ok(Value::structure())
}

fn get_inline_policy(world: &mut World, call: &Call<'_>, entity: Entity) -> Result<Value, AwsError> {
    let name = entity.name_param(call)?;
    let policy_name = call.required("PolicyName")?;
    Validation::new().name("policyName", policy_name, 128).finish()?;
    let account = call.account();
    let action = match entity {
        Entity::User => "iam:GetUserPolicy",
        Entity::Role => "iam:GetRolePolicy",
    };
    authorize(world, call, action, entity.target(world, account, name))?;
    let iam = world.iam(account)?;
    let (entity_member, entity_name, document) = match entity {
        Entity::User => {
            let (user, document) = iam.user_policy(name, policy_name)?;
            ("UserName", user.name.as_str(), document)
        }
        Entity::Role => {
            let (role, document) = iam.role_policy(name, policy_name)?;
            ("RoleName", role.name.as_str(), document)
        }
    };
    Ok(Value::structure()
        .with(entity_member, entity_name)
        .with("PolicyName", policy_name)
        .with("PolicyDocument", encode_document(&document.text)))
}

fn list_inline_policies(world: &mut World, call: &Call<'_>, entity: Entity) -> Result<Value, AwsError> {
    let name = entity.name_param(call)?;
    let page = page_request(call)?;
    let account = call.account();
    let action = match entity {
        Entity::User => "iam:ListUserPolicies",
        Entity::Role => "iam:ListRolePolicies",
    };
    authorize(world, call, action, entity.target(world, account, name))?;
    let iam = world.iam(account)?;
    let names: Vec<&str> = match entity {
        Entity::User => iam.user(name)?.inline_policies.keys().map(String::as_str).collect(),
        Entity::Role => iam.role(name)?.inline_policies.keys().map(String::as_str).collect(),
    };
    let (names, next) = paginate(names, &page);
    Ok(list_output("PolicyNames", names.into_iter().map(Value::from).collect(), next))
}

fn delete_inline_policy(world: &mut World, call: &Call<'_>, entity: Entity) -> Result<Value, AwsError> {
    let name = entity.name_param(call)?;
    let policy_name = call.required("PolicyName")?;
    Validation::new().name("policyName", policy_name, 128).finish()?;
    let account = call.account();
    let action = match entity {
        Entity::User => "iam:DeleteUserPolicy",
        Entity::Role => "iam:DeleteRolePolicy",
    };
    authorize(world, call, action, entity.target(world, account, name))?;
    let iam = world.iam_mut(account)?;
    match entity {
        Entity::User => iam.delete_user_policy(name, policy_name)?,
        Entity::Role => iam.delete_role_policy(name, policy_name)?,
    }
    Ok(Value::structure())
}

// ---------------------------------------------------------------------------------------------
// Managed policies.

fn policy_arn_param<'a>(call: &Call<'a>) -> Result<&'a str, AwsError> {
    let arn = call.required("PolicyArn")?;
    Validation::new().arn("policyArn", arn).finish()?;
    Ok(arn)
}

fn create_policy(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("PolicyName")?;
    let document = call.required("PolicyDocument")?;
    let path = call.optional("Path");
    let description = call.optional("Description");
    let tags = tags_param(call)?;
    let mut validation = Validation::new();
    validation
        .name("policyName", name, 128)
        .document("policyDocument", document)
        .tags("tags", &tags);
    if let Some(path) = path {
        validation.policy_path("path", path);
    }
    if let Some(description) = description {
        validation.policy_description("description", description);
    }
    validation.finish()?;
    let account = call.account();
    let arn = policy_arn(account, path.unwrap_or("/"), name);
    authorize(world, call, "iam:CreatePolicy", Target::shown_as(arn, format!("policy {name}")))?;
    let (iam, ids) = world.iam_and_ids(account)?;
    let spec = NewPolicy { name, path, document, description, tags };
    let arn = iam.create_policy(ids, account, now(call), spec)?.arn.clone();
    let policy = iam.policy(&arn)?;
    Ok(Value::structure().with("Policy", policy_value(iam, policy, PolicyView::Create)))
}

fn get_policy(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let arn = policy_arn_param(call)?;
    authorize(world, call, "iam:GetPolicy", policy_target(arn))?;
    let iam = world.iam(call.account())?;
    let policy = iam.policy(arn)?;
    Ok(Value::structure().with("Policy", policy_value(iam, policy, PolicyView::Get)))
}

fn delete_policy(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let arn = policy_arn_param(call)?;
    authorize(world, call, "iam:DeletePolicy", policy_target(arn))?;
    world.iam_mut(call.account())?.delete_policy(arn)?;
    Ok(Value::structure())
}

fn list_policies(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let scope = call.optional("Scope");
    let only_attached = optional_bool(call, "OnlyAttached", "onlyAttached")?.unwrap_or(false);
    let prefix = call.optional("PathPrefix");
    let usage = call.optional("PolicyUsageFilter");
    let mut validation = Validation::new();
    if let Some(scope) = scope {
        validation.one_of("scope", scope, &["All", "AWS", "Local"]);
    }
    if let Some(prefix) = prefix {
        validation.policy_path("pathPrefix", prefix);
    }
    if let Some(usage) = usage {
        validation.one_of("policyUsageFilter", usage, &["PermissionsPolicy", "PermissionsBoundary"]);
    }
    validation.finish()?;
    let page = page_request(call)?;
    let scope = match scope {
        Some("AWS") => PolicyScope::Aws,
        Some("Local") => PolicyScope::Local,
        _ => PolicyScope::All,
    };
    authorize(
        world,
        call,
        "iam:ListPolicies",
        Target::shown_as("*".to_string(), format!("policy path {}", prefix.unwrap_or("/"))),
    )?;
    let iam = world.iam(call.account())?;
    // wana models no permissions boundaries: no policy is used as one.
    let policies = if only_attached && usage == Some("PermissionsBoundary") {
        Vec::new()
    } else {
        iam.list_policies(scope, only_attached, prefix)
    };
    let (policies, next) = paginate(policies, &page);
    Ok(list_output(
        "Policies",
        policies.into_iter().map(|p| policy_value(iam, p, PolicyView::List)).collect(),
        next,
    ))
}

fn get_policy_version(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let arn = policy_arn_param(call)?;
    let version = call.required("VersionId")?;
    Validation::new().version_id("versionId", version).finish()?;
    authorize(world, call, "iam:GetPolicyVersion", policy_target(arn))?;
    let iam = world.iam(call.account())?;
    let version = iam.policy_version(arn, version)?;
    Ok(Value::structure().with("PolicyVersion", version_value(version, true)))
}

fn list_policy_versions(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let arn = policy_arn_param(call)?;
    let page = page_request(call)?;
    authorize(world, call, "iam:ListPolicyVersions", policy_target(arn))?;
    let iam = world.iam(call.account())?;
    // Newest first, as IAM lists them.
    let mut versions = iam.policy(arn)?.versions();
    versions.reverse();
    let (versions, next) = paginate(versions, &page);
    Ok(list_output("Versions", versions.into_iter().map(|v| version_value(v, false)).collect(), next))
}

fn create_policy_version(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let arn = policy_arn_param(call)?;
    let document = call.required("PolicyDocument")?;
    let set_as_default = optional_bool(call, "SetAsDefault", "setAsDefault")?.unwrap_or(false);
    Validation::new().document("policyDocument", document).finish()?;
    authorize(world, call, "iam:CreatePolicyVersion", policy_target(arn))?;
    let iam = world.iam_mut(call.account())?;
    let version = iam.create_policy_version(now(call), arn, document, set_as_default)?;
    Ok(Value::structure().with("PolicyVersion", version_value(version, false)))
}

fn delete_policy_version(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let arn = policy_arn_param(call)?;
    let version = call.required("VersionId")?;
    Validation::new().version_id("versionId", version).finish()?;
    authorize(world, call, "iam:DeletePolicyVersion", policy_target(arn))?;
    world.iam_mut(call.account())?.delete_policy_version(arn, version)?;
    Ok(Value::structure())
}

fn set_default_policy_version(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let arn = policy_arn_param(call)?;
    let version = call.required("VersionId")?;
    Validation::new().version_id("versionId", version).finish()?;
    authorize(world, call, "iam:SetDefaultPolicyVersion", policy_target(arn))?;
    world.iam_mut(call.account())?.set_default_policy_version(now(call), arn, version)?;
    Ok(Value::structure())
}

fn attach_policy(world: &mut World, call: &Call<'_>, entity: Entity) -> Result<Value, AwsError> {
    let (member, validation_member) = entity.member();
    let name = call.required(member)?;
    let arn = call.required("PolicyArn")?;
    Validation::new().name(validation_member, name, 64).arn("policyArn", arn).finish()?;
    let account = call.account();
    let action = match entity {
        Entity::User => "iam:AttachUserPolicy",
        Entity::Role => "iam:AttachRolePolicy",
    };
    authorize(world, call, action, entity.target(world, account, name).with("iam:PolicyARN", arn))?;
    let iam = world.iam_mut(account)?;
    match entity {
        Entity::User => iam.attach_user_policy(name, arn)?,
        Entity::Role => iam.attach_role_policy(name, arn)?,
    }
    Ok(Value::structure())
}

fn detach_policy(world: &mut World, call: &Call<'_>, entity: Entity) -> Result<Value, AwsError> {
    let (member, validation_member) = entity.member();
    let name = call.required(member)?;
    let arn = call.required("PolicyArn")?;
    Validation::new().name(validation_member, name, 64).arn("policyArn", arn).finish()?;
    let account = call.account();
    let action = match entity {
        Entity::User => "iam:DetachUserPolicy",
        Entity::Role => "iam:DetachRolePolicy",
    };
    authorize(world, call, action, entity.target(world, account, name).with("iam:PolicyARN", arn))?;
    let iam = world.iam_mut(account)?;
    match entity {
        Entity::User => iam.detach_user_policy(name, arn)?,
        Entity::Role => iam.detach_role_policy(name, arn)?,
    }
    Ok(Value::structure())
}

fn list_attached_policies(world: &mut World, call: &Call<'_>, entity: Entity) -> Result<Value, AwsError> {
    let (member, validation_member) = entity.member();
    let name = call.required(member)?;
    let prefix = call.optional("PathPrefix");
    let mut validation = Validation::new();
    validation.name(validation_member, name, 64);
    if let Some(prefix) = prefix {
        validation.policy_path("pathPrefix", prefix);
    }
    validation.finish()?;
    let page = page_request(call)?;
    let account = call.account();
    let action = match entity {
        Entity::User => "iam:ListAttachedUserPolicies",
        Entity::Role => "iam:ListAttachedRolePolicies",
    };
    authorize(world, call, action, entity.target(world, account, name))?;
    let iam = world.iam(account)?;
    let arns = match entity {
        Entity::User => &iam.user(name)?.attached_policies,
        Entity::Role => &iam.role(name)?.attached_policies,
    };
    let (attached, next) = paginate(iam.attached_policies(arns, prefix), &page);
    Ok(list_output(
        "AttachedPolicies",
        attached
            .into_iter()
            .map(|(name, arn)| Value::structure().with("PolicyName", name).with("PolicyArn", arn))
            .collect(),
        next,
    ))
}

// ---------------------------------------------------------------------------------------------
// Instance profiles.

fn instance_profile_name_param<'a>(call: &Call<'a>) -> Result<&'a str, AwsError> {
    let name = call.required("InstanceProfileName")?;
    Validation::new().name("instanceProfileName", name, 128).finish()?;
    Ok(name)
}

fn create_instance_profile(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
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

fn get_instance_profile(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = instance_profile_name_param(call)?;
    let account = call.account();
    authorize(world, call, "iam:GetInstanceProfile", instance_profile_target(world, account, name))?;
    let iam = world.iam(account)?;
    let profile = iam.instance_profile(name)?;
    Ok(Value::structure().with("InstanceProfile", instance_profile_value(iam, profile, iam.tags_of(&profile.id))))
}

fn list_instance_profiles(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
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

fn list_instance_profiles_for_role(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
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

fn add_role_to_instance_profile(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
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

fn remove_role_from_instance_profile(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = instance_profile_name_param(call)?;
    let role_name = call.required("RoleName")?;
    Validation::new().name("roleName", role_name, 64).finish()?;
    let account = call.account();
    authorize(world, call, "iam:RemoveRoleFromInstanceProfile", instance_profile_target(world, account, name))?;
    world.iam_mut(account)?.remove_role_from_instance_profile(name, role_name)?;
    Ok(Value::structure())
}

fn delete_instance_profile(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = instance_profile_name_param(call)?;
    let account = call.account();
    authorize(world, call, "iam:DeleteInstanceProfile", instance_profile_target(world, account, name))?;
    world.iam_mut(account)?.delete_instance_profile(name)?;
    Ok(Value::structure())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_and_pages_split() {
        assert_eq!(decode_marker(&encode_marker(7)), Some(7));
        assert_eq!(decode_marker("garbage"), None);
        let page = PageRequest { start: 0, max_items: 2 };
        let (items, next) = paginate(vec![1, 2, 3], &page);
        assert_eq!(items, [1, 2]);
        let next = next.expect("a second page");
        let page = PageRequest { start: decode_marker(&next).unwrap(), max_items: 2 };
        assert_eq!(paginate(vec![1, 2, 3], &page), (vec![3], None));
    }
}
