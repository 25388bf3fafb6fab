//! Addresses: how a request names a key (key id, key ARN, alias name or alias ARN), and the
//! lookups of a key by its address.

use chrono::{DateTime, Utc};

use super::{
    arn::{alias_arn, split_kms_arn, KeyAddr},
    errors,
    managed::ensure_ebs_key,
    Key, EBS_ALIAS,
};
use crate::{authz::RequestFacts, error::AwsError, state::World};

/// Whether an operation may address a key of another account (the "Cross-account use" line of
/// each operation's reference page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reach {
    CrossAccount,
    OwnAccount,
}

/// Resolves a `KeyId` (key id, key ARN, alias name or alias ARN) to a key. A key id or an alias
/// name resolves in the caller's account and the request's region only; another account's key
/// is reached by its ARN.
pub(super) fn resolve(world: &mut World, facts: &RequestFacts<'_>, key_ref: &str, reach: Reach) -> Result<KeyAddr, AwsError> {
    let caller_account = facts.caller.principal.account().to_string();
    let region = facts.region;
    let addr = if key_ref.starts_with("arn:") {
        let (arn_region, account, resource) = split_kms_arn(key_ref).ok_or_else(errors::invalid_arn)?;
        if arn_region != region {
            return Err(errors::invalid_arn());
        }
        if let Some(alias_name) = resource.strip_prefix("alias/").map(|n| format!("alias/{n}")) {
            resolve_alias(world, &caller_account, account, region, &alias_name, facts.now)?
        } else if let Some(id) = resource.strip_prefix("key/") {
            KeyAddr { account: account.to_string(), region: region.to_string(), id: id.to_string() }
        } else {
            return Err(errors::invalid_arn());
        }
    } else if key_ref.starts_with("alias/") {
        resolve_alias(world, &caller_account, &caller_account, region, key_ref, facts.now)?
    } else {
        KeyAddr { account: caller_account.clone(), region: region.to_string(), id: key_ref.to_string() }
    };
    if reach == Reach::OwnAccount && addr.account != caller_account {
        return Err(errors::key_not_found(&addr.arn()));
    }
    if key(world, &addr).is_none() {
        return Err(errors::key_not_found(&addr.arn()));
    }
    Ok(addr)
}

fn resolve_alias(
    world: &mut World,
    caller_account: &str,
    account: &str,
    region: &str,
    alias_name: &str,
    now: DateTime<Utc>,
) -> Result<KeyAddr, AwsError> {
    // AWS creates an AWS managed key the first time its account uses its alias.
    if alias_name == EBS_ALIAS && account == caller_account && world.account(account).is_some() {
        ensure_ebs_key(world, account, region, now);
    }
    let target = world
        .regional(account, region)
        .and_then(|r| r.kms.aliases.get(alias_name))
        .map(|a| a.target_key_id.clone())
        .ok_or_else(|| errors::alias_not_found(&alias_arn(region, account, alias_name)))?;
    Ok(KeyAddr { account: account.to_string(), region: region.to_string(), id: target })
}

pub fn key<'w>(world: &'w World, addr: &KeyAddr) -> Option<&'w Key> {
    world.regional(&addr.account, &addr.region)?.kms.keys.get(&addr.id)
}

pub(super) fn key_mut<'w>(world: &'w mut World, addr: &KeyAddr) -> Result<&'w mut Key, AwsError> {
    world
        .accounts
        .get_mut(&addr.account)
        .and_then(|a| a.regions.get_mut(&addr.region))
        .and_then(|r| r.kms.keys.get_mut(&addr.id))
        .ok_or_else(|| errors::key_not_found(&addr.arn()))
}

pub(super) fn existing_key(world: &World, addr: &KeyAddr) -> Result<Key, AwsError> {
    key(world, addr).cloned().ok_or_else(|| errors::key_not_found(&addr.arn()))
}

/// Looks up a key that a `KeyId` names, as the caller (for EC2: the `KmsKeyId` of a volume).
pub fn resolve_key_arn(world: &mut World, facts: RequestFacts<'_>, key_ref: &str) -> Result<String, AwsError> {
    resolve(world, &facts, key_ref, Reach::CrossAccount).map(|a| a.arn())
}
