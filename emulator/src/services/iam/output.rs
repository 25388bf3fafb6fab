//! The output shapes of IAM: users, roles, instance profiles, managed policies and their
//! versions, access keys and tags, with the members each operation returns.

use crate::{
    state::{
        iam::{encode_document, IamState, InstanceProfile, PolicyRef, Role, Tag, User, VersionView},
        AccessKey,
    },
    value::Value,
};

pub(super) fn tag_values(tags: &[Tag]) -> Vec<Value> {
    tags.iter()
        .map(|t| Value::structure().with("Key", t.key.as_str()).with("Value", t.value.as_str()))
        .collect()
}

fn tags_value(tags: &[Tag]) -> Value {
    Value::List(tag_values(tags))
}

pub(super) fn with_tags(value: Value, tags: &[Tag]) -> Value {
    if tags.is_empty() {
        value
    } else {
        value.with("Tags", tags_value(tags))
    }
}

/// `AttachedPermissionsBoundary`. AWS answers `PermissionsBoundaryType` `Policy` (recorded
/// GetUser and GetRole outputs, and the AWS CLI's own get-user example), although the
/// service model's enum spells `PermissionsBoundaryPolicy`.
fn boundary_value(arn: &str) -> Value {
    Value::structure().with("PermissionsBoundaryType", "Policy").with("PermissionsBoundaryArn", arn)
}

/// `User`; `tags` only where the operation returns them (CreateUser, GetUser), and so is the
/// permissions boundary.
pub(super) fn user_value(user: &User, tags: &[Tag]) -> Value {
    let value = Value::structure()
        .with("Path", user.path.as_str())
        .with("UserName", user.name.as_str())
        .with("UserId", user.id.as_str())
        .with("Arn", user.arn.as_str())
        .with("CreateDate", user.created);
    let value = value.with_opt("PermissionsBoundary", user.permissions_boundary.as_deref().map(boundary_value));
    with_tags(value, tags)
}

/// `User` as ListUsers shows it: no boundary, no tags.
pub(super) fn listed_user_value(user: &User) -> Value {
    Value::structure()
        .with("Path", user.path.as_str())
        .with("UserName", user.name.as_str())
        .with("UserId", user.id.as_str())
        .with("Arn", user.arn.as_str())
        .with("CreateDate", user.created)
}

/// Which members of `Role` an operation returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RoleView {
    /// CreateRole, CreateServiceLinkedRole: no session duration, no last use.
    Create,
    /// GetRole, UpdateRoleDescription: everything.
    Get,
    /// ListRoles: no tags, no last use.
    List,
    /// The roles of an instance profile.
    InProfile,
}

pub(super) fn role_value(role: &Role, view: RoleView, tags: &[Tag]) -> Value {
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
        value = value.with_opt("PermissionsBoundary", role.permissions_boundary.as_deref().map(boundary_value));
    }
    if matches!(view, RoleView::Create | RoleView::Get) {
        value = with_tags(value, tags);
    }
    if view == RoleView::Get {
        value = value.with("RoleLastUsed", Value::structure());
    }
    value
}

pub(super) fn instance_profile_value(iam: &IamState, profile: &InstanceProfile, tags: &[Tag]) -> Value {
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
pub(super) enum PolicyView {
    Create,
    Get,
    List,
}

pub(super) fn policy_value(iam: &IamState, policy: PolicyRef<'_>, view: PolicyView) -> Value {
    let arn = policy.arn();
    let mut value = Value::structure()
        .with("PolicyName", policy.name())
        .with("PolicyId", policy.id())
        .with("Arn", arn.as_str())
        .with("Path", policy.path())
        .with("DefaultVersionId", policy.default_version_id())
        .with("AttachmentCount", iam.attachment_count(&arn))
        .with("PermissionsBoundaryUsageCount", iam.boundary_usage_count(&arn))
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
pub(super) fn version_value(version: VersionView<'_>, with_document: bool) -> Value {
    let value = Value::structure();
    let value = if with_document { value.with("Document", encode_document(version.document)) } else { value };
    value
        .with("VersionId", version.version_id)
        .with("IsDefaultVersion", version.is_default)
        .with("CreateDate", version.created)
}

pub(super) fn access_key_metadata(user: &str, key: &AccessKey) -> Value {
    Value::structure()
        .with("UserName", user)
        .with("AccessKeyId", key.id.as_str())
        .with("Status", key.status.as_str())
        .with("CreateDate", key.created)
}
