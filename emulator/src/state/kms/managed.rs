//! AWS managed keys: `aws/ebs`, created on first use with AWS's published key policy.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use wana_policy::{NamedPolicy, Policy, PolicyKind};

use super::{
    arn::{alias_arn, key_arn},
    documents::{ebs_managed_key_policy, policy_name},
    ids::new_key_id,
    Alias, Key, KeyManager, KeyState, EBS_ALIAS,
};
use crate::state::World;

/// The ARN of the AWS managed key `aws/ebs` of an account in a region, created on first use
/// (as AWS does, dated by the emulator clock of the request that needed it) with AWS's
/// published EBS key policy.
pub fn default_ebs_key_arn(world: &mut World, account: &str, region: &str, now: DateTime<Utc>) -> String {
    ensure_ebs_key(world, account, region, now)
}

pub(super) fn ensure_ebs_key(world: &mut World, account: &str, region: &str, now: DateTime<Utc>) -> String {
    if let Some(existing) = world
        .regional(account, region)
        .and_then(|r| r.kms.aliases.get(EBS_ALIAS))
        .map(|a| key_arn(region, account, &a.target_key_id))
    {
        return existing;
    }
    let id = new_key_id(world);
    let arn = key_arn(region, account, &id);
    let text = ebs_managed_key_policy(account, region);
    let policy = match Policy::parse(&text, PolicyKind::Resource) {
        Ok(policy) => NamedPolicy::new(policy_name(&arn), policy),
        // The text is ours and parses; should the parser ever refuse it, the key keeps no
        // statement at all, which denies every use: safe, and visible in every trace.
        Err(error) => {
            tracing::error!(%error, "the EBS managed key policy does not parse");
            NamedPolicy::new(policy_name(&arn), Policy { version: None, id: None, statements: Vec::new() })
        }
    };
    let key = Key {
        id: id.clone(),
        arn: arn.clone(),
        account: account.to_string(),
        region: region.to_string(),
        created: now,
        description: "Default key that protects my EBS volumes when no other key is defined".to_string(),
        key_usage: "ENCRYPT_DECRYPT".to_string(),
        key_spec: "SYMMETRIC_DEFAULT".to_string(),
        state: KeyState::Enabled,
        manager: KeyManager::Aws,
        policy_text: text,
        policy: Arc::new(policy),
        deletion_date: None,
        pending_window_days: None,
        tags: Vec::new(),
        grants: Vec::new(),
        next_nonce: 0,
    };
    if let Some(regional) = world.regional_mut(account, region) {
        regional.kms.keys.insert(id.clone(), key);
        regional.kms.aliases.insert(
            EBS_ALIAS.to_string(),
            Alias {
                name: EBS_ALIAS.to_string(),
                arn: alias_arn(region, account, EBS_ALIAS),
                target_key_id: id,
                created: now,
                updated: now,
            },
        );
    }
    arn
}
