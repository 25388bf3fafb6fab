//! Access keys of IAM users. The keys live in the world's credential store
//! (`World::access_keys`), beside the temporary keys STS issues, so these are methods on
//! [`World`].

use chrono::{DateTime, Utc};

use super::{errors, ACCESS_KEYS_PER_USER};
use crate::{
    error::AwsError,
    state::{AccessKey, KeyOwner, KeyStatus, World},
};

impl World {
    pub(super) fn keys_of_user<'a>(&'a self, account: &str, user_name: &str) -> impl Iterator<Item = &'a AccessKey> + 'a {
        let (account, user_name) = (account.to_string(), user_name.to_string());
        self.access_keys.values().filter(move |key| {
            matches!(&key.owner, KeyOwner::User { account: a, user_name: u } if *a == account && *u == user_name)
        })
    }

    /// CreateAccessKey: a new long-term key for a user, at most two per user.
    pub fn create_access_key(&mut self, account: &str, user_name: &str, now: DateTime<Utc>) -> Result<AccessKey, AwsError> {
        let user = self.iam(account)?.user(user_name)?.name.clone();
        if self.keys_of_user(account, &user).count() >= ACCESS_KEYS_PER_USER {
            return Err(errors::quota("AccessKeysPerUser", ACCESS_KEYS_PER_USER));
        }
        let id = self.ids.access_key_id("AKIA");
        let key = AccessKey {
            id: id.clone(),
            secret: self.ids.secret_access_key(),
            created: now,
            status: KeyStatus::Active,
            owner: KeyOwner::User { account: account.to_string(), user_name: user },
        };
        self.access_keys.insert(id, key.clone());
        Ok(key)
    }

    /// ListAccessKeys: the user (as stored) and its keys, oldest first.
    pub fn access_keys_of<'a>(&'a self, account: &str, user_name: &str) -> Result<(String, Vec<&'a AccessKey>), AwsError> {
        let user = self.iam(account)?.user(user_name)?.name.clone();
        let mut keys: Vec<&AccessKey> = self.keys_of_user(account, &user).collect();
        keys.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
        Ok((user, keys))
    }

    fn user_key_mut(&mut self, account: &str, user_name: &str, key_id: &str) -> Result<&mut AccessKey, AwsError> {
        let user = self.iam(account)?.user(user_name)?.name.clone();
        self.access_keys
            .get_mut(key_id)
            .filter(|key| matches!(&key.owner, KeyOwner::User { account: a, user_name: u } if a == account && *u == user))
            .ok_or_else(|| errors::no_such_access_key(key_id))
    }

    /// UpdateAccessKey: `Active` or `Inactive`.
    pub fn update_access_key(&mut self, account: &str, user_name: &str, key_id: &str, status: &str) -> Result<(), AwsError> {
        let status = match status {
            "Active" => KeyStatus::Active,
            "Inactive" => KeyStatus::Inactive,
            other => return Err(errors::invalid_input(format!("Invalid status {other}: an access key is Active or Inactive."))),
        };
        self.user_key_mut(account, user_name, key_id)?.status = status;
        Ok(())
    }

    /// DeleteAccessKey: the key stops working at once.
    pub fn delete_access_key(&mut self, account: &str, user_name: &str, key_id: &str) -> Result<(), AwsError> {
        self.user_key_mut(account, user_name, key_id)?;
        self.access_keys.remove(key_id);
        Ok(())
    }
}
