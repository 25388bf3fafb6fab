//! Account aliases: one per account, unique across all accounts (the sign-in URL's name).
//!
//! `CreateAccountAlias` on an account that has one replaces it (the AWS Sign-In guide: an account
//! has one alias, and a new one takes the place of the old). The texts of `EntityAlreadyExists`
//! and `NoSuchEntity` are not confirmed against AWS; they follow IAM's style.

use super::errors;
use crate::{error::AwsError, state::World};

impl World {
    /// The account's aliases as `ListAccountAliases` lists them (zero or one).
    pub fn account_aliases(&self, account: &str) -> Result<Vec<String>, AwsError> {
        Ok(self.iam(account)?.account_alias.iter().cloned().collect())
    }

    /// CreateAccountAlias: another account's alias may not be taken.
    pub fn create_account_alias(&mut self, account: &str, alias: &str) -> Result<(), AwsError> {
        let taken = self
            .accounts
            .iter()
            .any(|(id, other)| id != account && other.iam.account_alias.as_deref() == Some(alias));
        if taken {
            return Err(errors::already_exists(format!("The account alias {alias} already exists.")));
        }
        self.iam_mut(account)?.account_alias = Some(alias.to_string());
        Ok(())
    }

    /// DeleteAccountAlias: only the account's own alias.
    pub fn delete_account_alias(&mut self, account: &str, alias: &str) -> Result<(), AwsError> {
        let iam = self.iam_mut(account)?;
        if iam.account_alias.as_deref() != Some(alias) {
            return Err(errors::no_such_entity(format!("The account alias {alias} cannot be found.")));
        }
        iam.account_alias = None;
        Ok(())
    }
}
