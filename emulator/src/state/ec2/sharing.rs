//! Who besides its owner may use an image (its launch permissions) or a snapshot (its create
//! volume permissions): the group `all`, which makes it public, and account ids. Both are
//! changed by `Modify*Attribute` with the same items and the same validation.

use crate::error::AwsError;

/// One `LaunchPermission` / `CreateVolumePermission` item: a group or an account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permission {
    pub group: Option<String>,
    pub user_id: Option<String>,
}

impl Permission {
    pub fn user(id: &str) -> Permission {
        Permission { group: None, user_id: Some(id.to_string()) }
    }

    pub fn all() -> Permission {
        Permission { group: Some("all".to_string()), user_id: None }
    }
}

/// The items a request adds and removes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionChange {
    pub add: Vec<Permission>,
    pub remove: Vec<Permission>,
}

impl PermissionChange {
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }

    /// Whether the change makes the resource public (adds the group `all`).
    pub(super) fn makes_public(&self) -> bool {
        self.add.iter().any(|p| p.group.is_some())
    }
}

/// EC2's refusal of an item: `Invalid attribute item value " " for userId item type.` and
/// `... for UserGroup item type.` (both quoted in public reports of ModifyImageAttribute; the
/// snapshot attribute is given the same answer by analogy).
fn item_value_error(value: &str, item_type: &str) -> AwsError {
    AwsError::new(
        "InvalidAMIAttributeItemValue",
        400,
        format!("Invalid attribute item value \"{value}\" for {item_type} item type."),
    )
}

/// Groups must be `all` and user ids 12-digit account ids.
pub(super) fn validate(change: &PermissionChange) -> Result<(), AwsError> {
    for item in change.add.iter().chain(&change.remove) {
        if let Some(group) = item.group.as_deref().filter(|g| *g != "all") {
            return Err(item_value_error(group, "UserGroup"));
        }
        if let Some(user) = item.user_id.as_deref() {
            if user.len() != 12 || !user.bytes().all(|b| b.is_ascii_digit()) {
                return Err(item_value_error(user, "userId"));
            }
        }
    }
    Ok(())
}

/// Applies a validated change: additions first, then removals.
pub(super) fn apply(public: &mut bool, accounts: &mut Vec<String>, change: &PermissionChange) {
    for item in &change.add {
        if item.group.is_some() {
            *public = true;
        }
        if let Some(user) = &item.user_id {
            if !accounts.contains(user) {
                accounts.push(user.clone());
            }
        }
    }
    for item in &change.remove {
        if item.group.is_some() {
            *public = false;
        }
        if let Some(user) = &item.user_id {
            accounts.retain(|a| a != user);
        }
    }
}

/// The items `Describe*Attribute` lists: the group `all` when public, then each account.
pub fn permissions(public: bool, accounts: &[String]) -> Vec<Permission> {
    let group = public.then(Permission::all);
    group.into_iter().chain(accounts.iter().map(|a| Permission::user(a))).collect()
}
