//! AWS managed keys, and services that use keys for a caller.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use wana_policy::{NamedPolicy, Policy, PolicyKind};

use super::{
    access::{authorize_key, require_usable, KeyUse},
    addr::{alias_arn, existing_key, key_arn, resolve, Reach},
    crypto::new_key_id,
    policy::{ebs_managed_key_policy, policy_name},
    Alias, Key, KeyManager, KeyState, EBS_ALIAS,
};
use crate::{
    authz::RequestFacts,
    error::AwsError,
    port::{via_endpoint, Acting, InnerCall},
    protocol::ServiceId,
    state::World,
    value::Value,
};

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

/// Why a service could not use a key for a caller: the KMS call that failed, the key, and
/// KMS's error message (AWS's `AccessDeniedException` sentence, or a key-state error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUseDenied {
    pub action: String,
    pub key_arn: String,
    pub message: String,
}

/// The name of the grant a service keeps on a key for the callers of one account.
fn service_grant_name(service_principal: &str, account: &str) -> String {
    let service = service_principal.split('.').next().unwrap_or(service_principal);
    format!("{service}-forward-access-{account}")
}

/// A service (`ec2.amazonaws.com`) uses a key on behalf of the caller, in a forward access
/// session: it creates a grant for itself with KMS's CreateGrant, called through the port as the
/// caller (so KMS sees `kms:GrantIsForAWSResource=true`, `kms:ViaService=ec2.<region>.amazonaws.com`
/// and `aws:ViaAWSService=true`, and authorizes it like any CreateGrant), then decrypts the
/// volume's data key (`kms:Decrypt` via the same service). Key policy, IAM policies, grants and
/// conditions all apply, and every decision is logged with EC2 as the acting service. The first
/// denial is returned.
///
/// The grant names the service principal as grantee and retiring principal, allows `Decrypt`,
/// and is reused for later uses by callers of the same account (the issuing account scopes it:
/// see `grant_covers`). The decryption is the service's, under that grant: the caller's policies
/// still apply to it (an explicit deny stops it), and the grant allows what they leave
/// implicitly denied.
pub fn use_key_via_service(
    world: &mut World,
    facts: RequestFacts<'_>,
    key_arn: &str,
    service: &str,
) -> Result<(), KeyUseDenied> {
    let denied = |action: &str, error: AwsError| KeyUseDenied {
        action: action.to_string(),
        key_arn: key_arn.to_string(),
        message: error.message,
    };
    let grant = InnerCall {
        acting: Acting::ForwardAccess { caller: facts.caller.clone(), service: service.to_string() },
        service: ServiceId::Kms,
        region: facts.region,
        now: facts.now,
        action: "CreateGrant",
        params: Value::structure()
            .with("KeyId", key_arn)
            .with("GranteePrincipal", service)
            .with("RetiringPrincipal", service)
            .with("Operations", Value::List(vec![Value::from("Decrypt")]))
            .with("Name", service_grant_name(service, facts.caller.principal.account())),
    };
    world.inner_call(grant).map_err(|e| denied("kms:CreateGrant", e))?;

    let forward = facts.caller.via(service);
    let facts = RequestFacts { caller: &forward, ..facts };
    let via = via_endpoint(service, facts.region);
    let mut decrypt = || -> Result<(), AwsError> {
        let addr = resolve(world, &facts, key_arn, Reach::CrossAccount)?;
        let usage = KeyUse {
            grant_operation: Some("Decrypt"),
            via_service: Some(&via),
            acting_service: Some(service),
            ..KeyUse::default()
        };
        authorize_key(world, facts, &addr, "kms:Decrypt", &usage)?;
        let key = existing_key(world, &addr)?;
        require_usable(&key)?;
        Ok(())
    };
    decrypt().map_err(|e| denied("kms:Decrypt", e))
}
