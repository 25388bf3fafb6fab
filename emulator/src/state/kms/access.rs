//! Authorization of KMS requests, and the key-state rules.
//!
//! # Authorization
//!
//! Every operation on a key asks [`World::authorize`] with the key policy as the resource policy,
//! marked authoritative: the key policy must allow the caller itself, or name the caller's
//! account and so delegate to the account's IAM policies; an explicit deny anywhere wins; a key
//! in another account needs both the key policy and the caller's IAM policies. KMS condition
//! keys (`kms:CallerAccount`, `kms:ViaService`, `kms:GrantIsForAWSResource`,
//! `kms:EncryptionContext:<key>`, `kms:GrantOperations`, ...) go with the request. When the
//! policies deny only implicitly, a grant on the key whose grantee is the caller (its own ARN,
//! or for a role session the role's ARN), that allows the operation and whose constraints the
//! request's encryption context meets, allows it. Nothing here knows a trap: a failure is always
//! what the key policy, the IAM policies and the grants of the world say.

use std::{
    collections::HashSet,
    sync::{Mutex, OnceLock},
};

use wana_policy::Outcome;

use super::{
    addr::existing_key,
    arn::KeyAddr,
    errors,
    EncryptionContext,
    Grant,
    Key,
    KeyState,
    NewGrant,
};
use crate::{
    authz::{denied_message, AuthzRequest, ConsultedKind, ConsultedPolicy, RequestFacts},
    error::AwsError,
    principal::Principal,
    state::World,
};

/// What a request asks of a key, beyond the action.
#[derive(Debug, Clone, Default)]
pub struct KeyUse<'a> {
    /// The grant operation the request is (`Decrypt`), when a grant can allow it.
    pub grant_operation: Option<&'static str>,
    pub encryption_context: Option<&'a EncryptionContext>,
    /// The service endpoint (`ec2.us-east-1.amazonaws.com`) when a service calls for the caller
    /// with a forward access session.
    pub via_service: Option<&'a str>,
    /// The service principal (`ec2.amazonaws.com`) that performs the operation for the caller
    /// under its own grant: its grants count as well as the caller's.
    pub acting_service: Option<&'a str>,
    /// For `kms:CreateGrant`: the grant being created.
    pub new_grant: Option<&'a NewGrant>,
    /// The operation is one of the grant APIs (CreateGrant, ListGrants, RevokeGrant), which
    /// carry `kms:GrantIsForAWSResource`.
    pub grant_api: bool,
    /// Further condition keys.
    pub extra: Vec<(&'static str, String)>,
}

/// Condition-key names built from request data (`kms:EncryptionContext:<key>`) must outlive the
/// request in `AuthzRequest::context`, which holds `&'static str` names. Each distinct name is
/// kept once; the number kept is bounded, and a name beyond the bound is left out of the
/// request context (a condition on it then sees the key as absent).
fn interned(name: String) -> Option<&'static str> {
    const MAX_NAMES: usize = 4096;
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(existing) = names.get(name.as_str()) {
        return Some(existing);
    }
    if names.len() >= MAX_NAMES {
        return None;
    }
    let leaked: &'static str = Box::leak(name.into_boxed_str());
    names.insert(leaked);
    Some(leaked)
}

/// The KMS condition keys of a request on a key.
fn kms_context(facts: &RequestFacts<'_>, key: &Key, usage: &KeyUse<'_>) -> Vec<(&'static str, String)> {
    let mut context = vec![
        ("kms:CallerAccount", facts.caller.principal.account().to_string()),
        ("kms:KeySpec", key.key_spec.clone()),
        ("kms:KeyUsage", key.key_usage.clone()),
        ("kms:KeyOrigin", "AWS_KMS".to_string()),
    ];
    if let Some(service) = usage.via_service {
        context.push(("kms:ViaService", service.to_string()));
        context.push(("aws:ViaAWSService", "true".to_string()));
    }
    if usage.grant_api {
        let for_aws_resource = usage.via_service.is_some();
        context.push(("kms:GrantIsForAWSResource", for_aws_resource.to_string()));
    }
    if let Some(encryption_context) = usage.encryption_context {
        for (k, v) in encryption_context {
            if let Some(name) = interned(format!("kms:EncryptionContext:{k}")) {
                context.push((name, v.clone()));
            }
            // Multivalued: see the note on `kms:GrantOperations`.
            context.push(("kms:EncryptionContextKeys", k.clone()));
        }
    }
    if let Some(grant) = usage.new_grant {
        // `kms:GrantOperations` is multivalued. `AuthzRequest::context` holds one value per
        // entry, so each operation is one entry; `World::authorize` keeps the last value of a
        // repeated key until it passes repeated keys as one multivalued key.
        for operation in &grant.operations {
            context.push(("kms:GrantOperations", operation.clone()));
        }
        context.push(("kms:GranteePrincipal", grant.grantee.clone()));
        if let Some(retiring) = &grant.retiring {
            context.push(("kms:RetiringPrincipal", retiring.clone()));
        }
        if let Some(constraints) = &grant.constraints {
            context.push(("kms:GrantConstraintType", constraints.type_name().to_string()));
        }
    }
    context.extend(usage.extra.iter().cloned());
    context
}

/// The identities a grant's grantee or retiring principal may name for this caller.
pub(super) fn caller_identities(principal: &Principal) -> [String; 2] {
    [principal.arn(), principal.entity_arn()]
}

/// Whether a grant allows what `usage` asks, for a caller with these identities.
///
/// A grant to a service principal (`ec2.amazonaws.com`) lets that service act only for callers
/// of the account that created the grant: EC2 using the grant account B made cannot use it for a
/// caller of account C.
fn grant_covers(
    grant: &Grant,
    identities: &[String],
    caller_account: &str,
    acting_service: Option<&str>,
    usage: &KeyUse<'_>,
) -> bool {
    let Some(operation) = usage.grant_operation else {
        return false;
    };
    let grantee_matches = identities.contains(&grant.grantee)
        || acting_service.is_some_and(|s| s == grant.grantee && grant.issuing_account == caller_account);
    if !grantee_matches || !grant.allows_operation(operation) {
        return false;
    }
    if operation == "CreateGrant" {
        // A grant that allows CreateGrant lets its grantee pass on only what it holds itself,
        // under the same constraint.
        let Some(new) = usage.new_grant else {
            return false;
        };
        return new.operations.iter().all(|o| grant.allows_operation(o))
            && (grant.constraints.is_none() || grant.constraints == new.constraints);
    }
    match &grant.constraints {
        None => true,
        Some(constraints) => {
            let empty = EncryptionContext::new();
            usage.encryption_context.is_some() && constraints.allows(usage.encryption_context.unwrap_or(&empty))
        }
    }
}

/// Asks whether the caller may perform `action` on the key: key policy, IAM policies and
/// conditions through [`World::authorize`], then the key's grants for what the policies leave
/// only implicitly denied. Denied → `AccessDeniedException` with AWS's sentence.
pub fn authorize_key(
    world: &mut World,
    facts: RequestFacts<'_>,
    addr: &KeyAddr,
    action: &'static str,
    usage: &KeyUse<'_>,
) -> Result<(), AwsError> {
    let key = existing_key(world, addr)?;
    let context = kms_context(&facts, &key, usage);
    let mut request = AuthzRequest::new(action, &key.arn);
    request.resource_policy = Some(&key.policy);
    request.resource_account = Some(&key.account);
    request.resource_policy_is_authoritative = true;
    request.context = context;
    let decision = world.authorize(facts, &request);
    if decision.is_allowed() {
        return Ok(());
    }
    if matches!(decision.outcome, Outcome::ImplicitDeny { .. }) {
        let identities = caller_identities(&facts.caller.principal);
        let covering: Vec<&Grant> = key
            .grants
            .iter()
            .filter(|g| grant_covers(g, &identities, facts.caller.principal.account(), usage.acting_service, usage))
            .collect();
        // A grant still propagating counts only when the request carries its token.
        let presented = |g: &Grant| {
            world.presented_grant_tokens.iter().any(|t| super::ids::parse_grant_token(t).is_some_and(|(_, id)| id == g.id))
        };
        let usable = covering.iter().copied().find(|g| world.grant_propagating(g, facts.now).is_none() || presented(g));
        if usable.is_none() {
            if let Some((grant, from)) = covering.first().and_then(|g| world.grant_propagating(g, facts.now).map(|from| (*g, from))) {
                let note = format!(
                    "not yet propagated: grant {} for {} is usable without its grant token from {}",
                    grant.id,
                    grant.grantee,
                    from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                );
                world.authz_log.note_latest(&note);
            }
        }
        if let Some(grant) = usable {
            tracing::debug!(
                caller = %facts.caller.principal.arn(),
                action,
                key = %key.arn,
                grant = %grant.id,
                "allowed by a grant"
            );
            // The policies' implicit deny was logged; the log must say the call went through.
            let by = format!("grant {} for {}", grant.id, grant.grantee);
            world.authz_log.consulted_latest([ConsultedPolicy { kind: ConsultedKind::Grants, name: by.clone() }]);
            world.authz_log.allow_latest(&by);
            return Ok(());
        }
        world.authz_log.consulted_latest([ConsultedPolicy { kind: ConsultedKind::Grants, name: no_grant_found(&key) }]);
    }
    Err(errors::access_denied(denied_message(&facts.caller.principal.arn(), action, &key.arn, &decision)))
}

/// What the log says of a key's grants when none allowed the call.
fn no_grant_found(key: &Key) -> String {
    match key.grants.len() {
        0 => "no grants on the key".to_string(),
        1 => "1 grant on the key, not for this caller and operation".to_string(),
        n => format!("{n} grants on the key, none for this caller and operation"),
    }
}

/// An identity-policy-only question (`kms:CreateKey`, `kms:ListKeys`, aliases), answered in
/// KMS's error form.
pub(super) fn authorize_identity(
    world: &mut World,
    facts: RequestFacts<'_>,
    action: &'static str,
    resource: &str,
    context: Vec<(&'static str, String)>,
) -> Result<(), AwsError> {
    let mut request = AuthzRequest::new(action, resource);
    request.context = context;
    request.context.push(("kms:CallerAccount", facts.caller.principal.account().to_string()));
    let decision = world.authorize(facts, &request);
    if decision.is_allowed() {
        Ok(())
    } else {
        Err(errors::access_denied(denied_message(&facts.caller.principal.arn(), action, resource, &decision)))
    }
}

/// Key-state rules of the KMS key-state table.
pub(super) fn require_usable(key: &Key) -> Result<(), AwsError> {
    match key.state {
        KeyState::Enabled => Ok(()),
        KeyState::Disabled => Err(errors::disabled(&key.arn)),
        KeyState::PendingDeletion => Err(errors::pending_deletion(&key.arn)),
    }
}

pub(super) fn require_not_pending_deletion(key: &Key) -> Result<(), AwsError> {
    match key.state {
        KeyState::PendingDeletion => Err(errors::pending_deletion(&key.arn)),
        _ => Ok(()),
    }
}

/// Runs `f` (one KMS request) with the grant tokens the request carried (`GrantTokens`): a grant
/// they name is usable before it has propagated (see `crate::state::propagation`).
pub fn with_grant_tokens<R>(world: &mut World, tokens: Vec<String>, f: impl FnOnce(&mut World) -> R) -> R {
    let outer = std::mem::replace(&mut world.presented_grant_tokens, tokens);
    let result = f(world);
    world.presented_grant_tokens = outer;
    result
}
