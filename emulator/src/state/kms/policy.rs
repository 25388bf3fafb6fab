//! Key policies: the default and AWS managed ones, parsing (IAM principals must exist), the
//! policy-lockout safety check, and GetKeyPolicy and PutKeyPolicy.

use std::sync::Arc;

use wana_policy::{AwsPrincipal, NamedPolicy, Policy, PolicyKind, PrincipalBlock};

use super::{
    access::{authorize_key, KeyUse},
    addr::{existing_key, key_mut, resolve, Reach},
    documents::policy_name,
    errors,
    DEFAULT_POLICY_NAME,
};
use crate::{
    authz::{AuthzRequest, RequestFacts},
    error::AwsError,
    state::World,
};

/// Parses a key policy: a resource policy whose IAM users and roles must exist.
pub(super) fn parse_key_policy(world: &World, text: &str, key_arn: &str) -> Result<NamedPolicy, AwsError> {
    let policy = Policy::parse(text, PolicyKind::Resource).map_err(|e| errors::malformed_policy(e.to_string()))?;
    for statement in &policy.statements {
        let Some(PrincipalBlock::Principal(set) | PrincipalBlock::NotPrincipal(set)) = &statement.principal else {
            continue;
        };
        for principal in &set.aws {
            if let AwsPrincipal::Arn(arn) = principal {
                if world.iam_principal_exists(arn) == Some(false) {
                    return Err(errors::invalid_principals());
                }
            }
        }
    }
    Ok(NamedPolicy::new(policy_name(key_arn), policy))
}

/// The policy-lockout safety check: the new policy, with the caller's IAM policies, must still
/// let the caller put a key policy.
pub(super) fn check_lockout(
    world: &mut World,
    facts: RequestFacts<'_>,
    key_arn: &str,
    key_account: &str,
    policy: &NamedPolicy,
) -> Result<(), AwsError> {
    let mut request = AuthzRequest::new("kms:PutKeyPolicy", key_arn);
    request.resource_policy = Some(policy);
    request.resource_account = Some(key_account);
    request.resource_policy_is_authoritative = true;
    request.context = vec![
        ("kms:CallerAccount", facts.caller.principal.account().to_string()),
        ("kms:BypassPolicyLockoutSafetyCheck", "false".to_string()),
    ];
    if world.authorize(facts, &request).is_allowed() {
        Ok(())
    } else {
        Err(errors::lockout())
    }
}

fn check_policy_name(name: Option<&str>) -> Result<(), AwsError> {
    match name {
        None | Some(DEFAULT_POLICY_NAME) => Ok(()),
        Some(_) => Err(errors::no_such_policy()),
    }
}

/// GetKeyPolicy: the policy text as it was put.
pub fn get_key_policy(
    world: &mut World,
    facts: RequestFacts<'_>,
    key_ref: &str,
    name: Option<&str>,
) -> Result<String, AwsError> {
    let addr = resolve(world, &facts, key_ref, Reach::OwnAccount)?;
    authorize_key(world, facts, &addr, "kms:GetKeyPolicy", &KeyUse::default())?;
    check_policy_name(name)?;
    Ok(existing_key(world, &addr)?.policy_text)
}

/// PutKeyPolicy, with the policy-lockout safety check unless the caller bypasses it.
pub fn put_key_policy(
    world: &mut World,
    facts: RequestFacts<'_>,
    key_ref: &str,
    name: Option<&str>,
    text: &str,
    bypass_policy_lockout_safety_check: bool,
) -> Result<(), AwsError> {
    let addr = resolve(world, &facts, key_ref, Reach::OwnAccount)?;
    let usage = KeyUse {
        extra: vec![("kms:BypassPolicyLockoutSafetyCheck", bypass_policy_lockout_safety_check.to_string())],
        ..KeyUse::default()
    };
    authorize_key(world, facts, &addr, "kms:PutKeyPolicy", &usage)?;
    check_policy_name(name)?;
    let arn = addr.arn();
    let policy = parse_key_policy(world, text, &arn)?;
    if !bypass_policy_lockout_safety_check {
        check_lockout(world, facts, &arn, &addr.account, &policy)?;
    }
    let key = key_mut(world, &addr)?;
    key.policy_text = text.to_string();
    key.policy = Arc::new(policy);
    Ok(())
}
