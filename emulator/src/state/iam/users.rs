//! IAM users: creating, finding (regardless of case), listing, renaming and deleting them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{errors, find_key, tags::check_unique_tag_keys, user_arn, with_prefix, IamState, Tag, User, USERS_PER_ACCOUNT};
use crate::{error::AwsError, ids::IdGenerator, state::{KeyOwner, World}};

impl IamState {
    pub fn user(&self, name: &str) -> Result<&User, AwsError> {
        find_key(&self.users, name)
            .and_then(|key| self.users.get(&key))
            .ok_or_else(|| errors::no_such_user(name))
    }

    pub(super) fn user_mut(&mut self, name: &str) -> Result<&mut User, AwsError> {
        let key = find_key(&self.users, name).ok_or_else(|| errors::no_such_user(name))?;
        self.users.get_mut(&key).ok_or_else(|| errors::no_such_user(name))
    }

    /// CreateUser.
    pub fn create_user(
        &mut self,
        ids: &mut IdGenerator,
        account: &str,
        now: DateTime<Utc>,
        name: &str,
        path: Option<&str>,
        tags: Vec<Tag>,
    ) -> Result<&User, AwsError> {
        let path = path.unwrap_or("/");
        check_unique_tag_keys(&tags)?;
        if find_key(&self.users, name).is_some() {
            return Err(errors::already_exists(format!("User with name {name} already exists.")));
        }
        if self.users.len() >= USERS_PER_ACCOUNT {
            return Err(errors::quota("UsersPerAccount", USERS_PER_ACCOUNT));
        }
        let id = ids.unique_id("AIDA");
        self.set_tags(&id, tags);
        let user = User {
            name: name.to_string(),
            path: path.to_string(),
            id,
            arn: user_arn(account, path, name),
            created: now,
            inline_policies: BTreeMap::new(),
            attached_policies: Vec::new(),
            permissions_boundary: None,
        };
        Ok(self.users.entry(name.to_string()).or_insert(user))
    }

    /// ListUsers: the users whose path starts with the prefix, by name.
    pub fn users_with_prefix(&self, path_prefix: Option<&str>) -> Vec<&User> {
        with_prefix(self.users.values(), |u| &u.path, path_prefix)
    }
}

// Deleting and renaming need the world: the user's access keys live in its credential store.

impl World {
    /// DeleteUser: refused while the user has access keys or policies. The user's keys stop
    /// working with it (there are none left by then).
    pub fn delete_user(&mut self, account: &str, name: &str) -> Result<(), AwsError> {
        let iam = self.iam(account)?;
        let user = iam.user(name)?;
        if self.keys_of_user(account, &user.name).next().is_some() {
            return Err(errors::delete_conflict("Cannot delete entity, must delete access keys first."));
        }
        if !user.inline_policies.is_empty() {
            return Err(errors::delete_conflict("Cannot delete entity, must delete policies first."));
        }
        if !user.attached_policies.is_empty() {
            return Err(errors::delete_conflict("Cannot delete entity, must detach all policies first."));
        }
        let (key, id) = (user.name.clone(), user.id.clone());
        let iam = self.iam_mut(account)?;
        iam.users.remove(&key);
        iam.tags.remove(&id);
        Ok(())
    }

    /// UpdateUser: a new name or path. The user's access keys follow the new name.
    pub fn update_user(
        &mut self,
        account: &str,
        name: &str,
        new_name: Option<&str>,
        new_path: Option<&str>,
    ) -> Result<(), AwsError> {
        let iam = self.iam_mut(account)?;
        let old_name = iam.user(name)?.name.clone();
        let target = new_name.unwrap_or(&old_name).to_string();
        if target != old_name {
            if let Some(other) = find_key(&iam.users, &target) {
                if other != old_name {
                    return Err(errors::already_exists(format!("User with name {target} already exists.")));
                }
            }
        }
        let Some(mut user) = iam.users.remove(&old_name) else {
            return Err(errors::no_such_user(name));
        };
        if let Some(new_path) = new_path {
            user.path = new_path.to_string();
        }
        user.name = target.clone();
        user.arn = user_arn(account, &user.path, &user.name);
        iam.users.insert(target.clone(), user);
        for key in self.access_keys.values_mut() {
            if let KeyOwner::User { account: a, user_name } = &mut key.owner {
                if a == account && *user_name == old_name {
                    *user_name = target.clone();
                }
            }
        }
        Ok(())
    }
}
