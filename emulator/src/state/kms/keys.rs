//! Keys and aliases: CreateKey, DescribeKey, ListKeys, EnableKey and DisableKey, deletion and
//! its cancellation; CreateAlias, DeleteAlias and ListAliases.

use std::sync::Arc;

use chrono::Duration;

use super::{
    access::{authorize_identity, authorize_key, require_not_pending_deletion, KeyUse},
    addr::{existing_key, key_mut, resolve, Reach},
    arn::{alias_arn, key_arn, split_kms_arn, KeyAddr},
    documents::default_key_policy,
    ids::new_key_id,
    policy::{check_lockout, parse_key_policy},
    tags::{check_tag_lengths, check_tag_rules},
    errors,
    Alias,
    Event,
    Key,
    KeyManager,
    KeyState,
};
use crate::{authz::RequestFacts, error::AwsError, state::World, validation};

/// CreateKey's input.
#[derive(Debug, Clone, Default)]
pub struct NewKey<'a> {
    pub description: Option<&'a str>,
    pub key_usage: Option<&'a str>,
    pub key_spec: Option<&'a str>,
    pub policy: Option<&'a str>,
    pub bypass_policy_lockout_safety_check: bool,
    pub tags: Vec<(String, String)>,
}

const KEY_USAGES: [&str; 5] = ["SIGN_VERIFY", "ENCRYPT_DECRYPT", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT", "ENCAPSULATE_DECAPSULATE"];

/// CreateKey: a symmetric encryption key of the caller's account, with the default key policy
/// unless one is given (then the policy-lockout safety check applies).
pub fn create_key(world: &mut World, facts: RequestFacts<'_>, spec: NewKey<'_>) -> Result<Key, AwsError> {
    let key_usage = spec.key_usage.unwrap_or("ENCRYPT_DECRYPT");
    if !KEY_USAGES.contains(&key_usage) {
        return Err(errors::enum_error(key_usage, "keyUsage", &KEY_USAGES));
    }
    let key_spec = spec.key_spec.unwrap_or("SYMMETRIC_DEFAULT");
    if let Some(description) = spec.description {
        if description.chars().count() > 8192 {
            // KMS leaves the value out of this violation: `Value at 'description'`.
            return Err(errors::validation(validation::summary(&[validation::violation_without_value(
                "description",
                "Member must have length less than or equal to 8192",
            )])));
        }
    }
    check_tag_lengths(&spec.tags)?;
    let bypass = spec.bypass_policy_lockout_safety_check;
    authorize_identity(
        world,
        facts,
        "kms:CreateKey",
        "*",
        vec![
            ("kms:KeySpec", key_spec.to_string()),
            ("kms:KeyUsage", key_usage.to_string()),
            ("kms:KeyOrigin", "AWS_KMS".to_string()),
            ("kms:BypassPolicyLockoutSafetyCheck", bypass.to_string()),
        ],
    )?;
    if !spec.tags.is_empty() {
        authorize_identity(world, facts, "kms:TagResource", "*", Vec::new())?;
        check_tag_rules(&spec.tags)?;
    }
    if key_spec != "SYMMETRIC_DEFAULT" || key_usage != "ENCRYPT_DECRYPT" {
        return Err(errors::unsupported(format!(
            "wana's KMS emulates symmetric encryption keys only (KeySpec SYMMETRIC_DEFAULT, KeyUsage ENCRYPT_DECRYPT), not {key_spec} for {key_usage}"
        )));
    }
    let account = facts.caller.principal.account().to_string();
    let region = facts.region.to_string();
    let id = new_key_id(world);
    let arn = key_arn(&region, &account, &id);
    let (policy_text, policy) = match spec.policy {
        Some(text) => {
            let policy = parse_key_policy(world, text, &arn)?;
            if !bypass {
                check_lockout(world, facts, &arn, &account, &policy)?;
            }
            (text.to_string(), policy)
        }
        None => {
            let text = default_key_policy(&account);
            let policy = parse_key_policy(world, &text, &arn)?;
            (text, policy)
        }
    };
    let key = Key {
        id: id.clone(),
        arn,
        account: account.clone(),
        region: region.clone(),
        created: facts.now,
        description: spec.description.unwrap_or("").to_string(),
        key_usage: key_usage.to_string(),
        key_spec: key_spec.to_string(),
        state: KeyState::Enabled,
        manager: KeyManager::Customer,
        policy_text,
        policy: Arc::new(policy),
        deletion_date: None,
        pending_window_days: None,
        tags: spec.tags,
        grants: Vec::new(),
        next_nonce: 0,
    };
    let kms = &mut world
        .regional_mut(&account, &region)
        .ok_or_else(|| AwsError::internal(format!("account {account} is not in the world")))?
        .kms;
    kms.keys.insert(id, key.clone());
    Ok(key)
}

/// DescribeKey.
pub fn describe_key(world: &mut World, facts: RequestFacts<'_>, key_ref: &str) -> Result<Key, AwsError> {
    let addr = resolve(world, &facts, key_ref, Reach::CrossAccount)?;
    authorize_key(world, facts, &addr, "kms:DescribeKey", &KeyUse { grant_operation: Some("DescribeKey"), ..KeyUse::default() })?;
    existing_key(world, &addr)
}

/// ListKeys: the keys of the caller's account in the request's region, as (id, ARN).
pub fn list_keys(world: &mut World, facts: RequestFacts<'_>) -> Result<Vec<(String, String)>, AwsError> {
    authorize_identity(world, facts, "kms:ListKeys", "*", Vec::new())?;
    let account = facts.caller.principal.account();
    Ok(world
        .regional(account, facts.region)
        .map(|r| r.kms.keys.values().map(|k| (k.id.clone(), k.arn.clone())).collect())
        .unwrap_or_default())
}

/// EnableKey and DisableKey.
pub fn set_key_enabled(world: &mut World, facts: RequestFacts<'_>, key_ref: &str, enabled: bool) -> Result<(), AwsError> {
    let addr = resolve(world, &facts, key_ref, Reach::OwnAccount)?;
    let action = if enabled { "kms:EnableKey" } else { "kms:DisableKey" };
    authorize_key(world, facts, &addr, action, &KeyUse::default())?;
    let key = key_mut(world, &addr)?;
    require_not_pending_deletion(key)?;
    key.state = if enabled { KeyState::Enabled } else { KeyState::Disabled };
    Ok(())
}

/// ScheduleKeyDeletion: the key is pending deletion for 7 to 30 days (30 by default), then
/// deleted with its aliases.
pub fn schedule_key_deletion(
    world: &mut World,
    facts: RequestFacts<'_>,
    key_ref: &str,
    pending_window_days: Option<i64>,
) -> Result<Key, AwsError> {
    let days = pending_window_days.unwrap_or(30);
    let bound = if days < 7 {
        Some("greater than or equal to 7")
    } else if days > 30 {
        Some("less than or equal to 30")
    } else {
        None
    };
    if let Some(bound) = bound {
        return Err(errors::validation(validation::one(
            "pendingWindowInDays",
            Some(&days.to_string()),
            &format!("Member must have value {bound}"),
        )));
    }
    let addr = resolve(world, &facts, key_ref, Reach::OwnAccount)?;
    authorize_key(world, facts, &addr, "kms:ScheduleKeyDeletion", &KeyUse::default())?;
    let key = key_mut(world, &addr)?;
    require_not_pending_deletion(key)?;
    let deletion = facts.now + Duration::days(days);
    key.state = KeyState::PendingDeletion;
    key.deletion_date = Some(deletion);
    key.pending_window_days = Some(days);
    let key = key.clone();
    world.schedule(
        deletion,
        &addr.account,
        &addr.region,
        Event::DeleteKey { key_id: addr.id.clone() },
    );
    Ok(key)
}

/// CancelKeyDeletion: the key comes back disabled.
pub fn cancel_key_deletion(world: &mut World, facts: RequestFacts<'_>, key_ref: &str) -> Result<Key, AwsError> {
    let addr = resolve(world, &facts, key_ref, Reach::OwnAccount)?;
    authorize_key(world, facts, &addr, "kms:CancelKeyDeletion", &KeyUse::default())?;
    let key = key_mut(world, &addr)?;
    if key.state != KeyState::PendingDeletion {
        return Err(errors::not_pending_deletion(&key.arn));
    }
    key.state = KeyState::Disabled;
    key.deletion_date = None;
    key.pending_window_days = None;
    Ok(key.clone())
}

// ---------------------------------------------------------------------------------------------
// Aliases.

fn validate_alias_name(name: &str) -> Result<(), AwsError> {
    if !name.starts_with("alias/") {
        return Err(errors::validation(
            "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html",
        ));
    }
    if name.starts_with("alias/aws/") {
        return Err(errors::reserved_alias());
    }
    let valid = name.len() <= 256 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_-".contains(&b));
    if !valid {
        return Err(errors::validation(validation::one(
            "aliasName",
            Some(name),
            "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
        )));
    }
    Ok(())
}

/// CreateAlias: needs `kms:CreateAlias` on the alias (IAM policy) and on the key (key policy).
pub fn create_alias(world: &mut World, facts: RequestFacts<'_>, alias_name: &str, target_key: &str) -> Result<(), AwsError> {
    validate_alias_name(alias_name)?;
    if target_key.starts_with("alias/") || split_kms_arn(target_key).is_some_and(|(_, _, r)| r.starts_with("alias/")) {
        return Err(errors::validation("Aliases must refer to keys. Not aliases"));
    }
    let addr = resolve(world, &facts, target_key, Reach::OwnAccount)?;
    let arn = alias_arn(&addr.region, &addr.account, alias_name);
    authorize_identity(world, facts, "kms:CreateAlias", &arn, Vec::new())?;
    authorize_key(world, facts, &addr, "kms:CreateAlias", &KeyUse::default())?;
    require_not_pending_deletion(&existing_key(world, &addr)?)?;
    let kms = &mut world
        .regional_mut(&addr.account, &addr.region)
        .ok_or_else(|| errors::key_not_found(&addr.arn()))?
        .kms;
    if kms.aliases.contains_key(alias_name) {
        return Err(errors::alias_exists(&arn));
    }
    kms.aliases.insert(
        alias_name.to_string(),
        Alias { name: alias_name.to_string(), arn, target_key_id: addr.id, created: facts.now, updated: facts.now },
    );
    Ok(())
}

/// DeleteAlias: needs `kms:DeleteAlias` on the alias and on its key.
pub fn delete_alias(world: &mut World, facts: RequestFacts<'_>, alias_name: &str) -> Result<(), AwsError> {
    validate_alias_name(alias_name)?;
    let account = facts.caller.principal.account().to_string();
    let region = facts.region.to_string();
    let arn = alias_arn(&region, &account, alias_name);
    let target = world
        .regional(&account, &region)
        .and_then(|r| r.kms.aliases.get(alias_name))
        .map(|a| a.target_key_id.clone())
        .ok_or_else(|| errors::alias_not_found(&arn))?;
    let addr = KeyAddr { account: account.clone(), region: region.clone(), id: target };
    authorize_identity(world, facts, "kms:DeleteAlias", &arn, Vec::new())?;
    authorize_key(world, facts, &addr, "kms:DeleteAlias", &KeyUse::default())?;
    if let Some(regional) = world.regional_mut(&account, &region) {
        regional.kms.aliases.remove(alias_name);
    }
    Ok(())
}

/// ListAliases: the aliases of the caller's account in the region, of one key if asked.
pub fn list_aliases(world: &mut World, facts: RequestFacts<'_>, key_ref: Option<&str>) -> Result<Vec<Alias>, AwsError> {
    authorize_identity(world, facts, "kms:ListAliases", "*", Vec::new())?;
    let only = match key_ref {
        Some(key_ref) => Some(resolve(world, &facts, key_ref, Reach::OwnAccount)?.id),
        None => None,
    };
    let account = facts.caller.principal.account();
    Ok(world
        .regional(account, facts.region)
        .map(|r| {
            r.kms
                .aliases
                .values()
                .filter(|a| only.as_ref().is_none_or(|id| *id == a.target_key_id))
                .cloned()
                .collect()
        })
        .unwrap_or_default())
}
