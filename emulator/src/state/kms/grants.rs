//! Grants: CreateGrant (with its validation and name idempotence), ListGrants, RetireGrant,
//! RevokeGrant, and the grant ids and tokens.

use super::{
    access::{authorize_identity, authorize_key, caller_identities, require_usable, KeyUse},
    addr::{existing_key, key, key_mut, resolve, Reach},
    ids::{new_grant_id, new_grant_token, parse_grant_token},
    errors,
    Grant,
    GrantConstraints,
    GRANT_OPERATIONS,
};
use crate::{authz::RequestFacts, error::AwsError, state::World, validation};

/// CreateGrant's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrant {
    pub grantee: String,
    pub retiring: Option<String>,
    pub operations: Vec<String>,
    pub constraints: Option<GrantConstraints>,
    pub name: Option<String>,
}

fn validate_grant(grant: &NewGrant) -> Result<(), AwsError> {
    if grant.operations.is_empty() {
        return Err(errors::validation(validation::one(
            "operations",
            Some("[]"),
            "Member must have length greater than or equal to 1",
        )));
    }
    if let Some(bad) = grant.operations.iter().find(|o| !GRANT_OPERATIONS.contains(&o.as_str())) {
        return Err(errors::validation(validation::one(
            "operations",
            Some(&format!("[{bad}]")),
            &format!("Member must satisfy constraint: [Member must satisfy enum value set: [{}]]", GRANT_OPERATIONS.join(", ")),
        )));
    }
    if grant.operations.iter().all(|o| o == "CreateGrant") {
        return Err(errors::validation("Grants must not contain only the CreateGrant operation."));
    }
    let principal_ok = |p: &str| {
        (1..=256).contains(&p.len())
            && p.chars().all(|c| c.is_alphanumeric() || c == '_' || "+=,.@:/-".contains(c))
    };
    for (member, value) in [("granteePrincipal", Some(&grant.grantee)), ("retiringPrincipal", grant.retiring.as_ref())] {
        if let Some(value) = value {
            if !principal_ok(value) {
                return Err(errors::validation(validation::one(
                    member,
                    Some(value),
                    "Member must satisfy regular expression pattern: ^[\\w+=,.@:/-]+$",
                )));
            }
        }
    }
    if let Some(name) = &grant.name {
        let ok = (1..=256).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b":/_-".contains(&b));
        if !ok {
            return Err(errors::validation(validation::one(
                "name",
                Some(name),
                "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
            )));
        }
    }
    Ok(())
}

fn dedup(operations: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for o in operations {
        if !out.contains(o) {
            out.push(o.clone());
        }
    }
    out
}

/// Whether two operation lists hold the same operations, in any order.
fn same_operations(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|o| b.contains(o))
}

/// CreateGrant: by the caller, or (`via_service`) by a service for the caller. Returns the
/// grant id and a new grant token. A request with the same `Name` and the same parameters as
/// an existing grant returns that grant's id.
pub fn create_grant(
    world: &mut World,
    facts: RequestFacts<'_>,
    key_ref: &str,
    grant: &NewGrant,
    via_service: Option<&str>,
) -> Result<(String, String), AwsError> {
    validate_grant(grant)?;
    let addr = resolve(world, &facts, key_ref, Reach::CrossAccount)?;
    let grant = NewGrant { operations: dedup(&grant.operations), ..grant.clone() };
    let usage = KeyUse {
        grant_operation: Some("CreateGrant"),
        via_service,
        new_grant: Some(&grant),
        grant_api: true,
        ..KeyUse::default()
    };
    authorize_key(world, facts, &addr, "kms:CreateGrant", &usage)?;
    let issuing_account = facts.caller.principal.account().to_string();
    let key_arn = addr.arn();
    let existing = {
        let key = key_mut(world, &addr)?;
        require_usable(key)?;
        grant.name.as_ref().and_then(|name| {
            key.grants
                .iter()
                .find(|g| {
                    g.name.as_ref() == Some(name)
                        && g.grantee == grant.grantee
                        && g.retiring == grant.retiring
                        && same_operations(&g.operations, &grant.operations)
                        && g.constraints == grant.constraints
                        && g.issuing_account == issuing_account
                })
                .map(|g| g.id.clone())
        })
    };
    let grant_id = match existing {
        Some(id) => id,
        None => {
            let id = new_grant_id(world);
            let created = Grant {
                id: id.clone(),
                name: grant.name.clone(),
                created: facts.now,
                grantee: grant.grantee.clone(),
                retiring: grant.retiring.clone(),
                issuing_account,
                operations: grant.operations.clone(),
                constraints: grant.constraints.clone(),
            };
            key_mut(world, &addr)?.grants.push(created);
            id
        }
    };
    let token = new_grant_token(world, &key_arn, &grant_id);
    Ok((grant_id, token))
}

/// ListGrants: the grants of a key (of one grant or one grantee if asked). Returns the key ARN
/// and the grants.
pub fn list_grants(
    world: &mut World,
    facts: RequestFacts<'_>,
    key_ref: &str,
    grant_id: Option<&str>,
    grantee: Option<&str>,
) -> Result<(String, Vec<Grant>), AwsError> {
    let addr = resolve(world, &facts, key_ref, Reach::CrossAccount)?;
    authorize_key(world, facts, &addr, "kms:ListGrants", &KeyUse { grant_api: true, ..KeyUse::default() })?;
    let key = existing_key(world, &addr)?;
    let grants = key
        .grants
        .into_iter()
        .filter(|g| grant_id.is_none_or(|id| id == g.id))
        .filter(|g| grantee.is_none_or(|p| p == g.grantee))
        .collect();
    Ok((key.arn, grants))
}

/// RetireGrant, by grant token or by key and grant id. The grant decides who may retire it: its
/// retiring principal, its grantee when it allows RetireGrant, or a principal of the issuing
/// account to whom IAM delegates `kms:RetireGrant`.
pub fn retire_grant(
    world: &mut World,
    facts: RequestFacts<'_>,
    token: Option<&str>,
    key_ref: Option<&str>,
    grant_id: Option<&str>,
) -> Result<(), AwsError> {
    let (addr, grant_id) = match (token, key_ref, grant_id) {
        (Some(token), _, _) => {
            let (addr, id) = parse_grant_token(token).ok_or_else(errors::invalid_grant_token)?;
            if key(world, &addr).is_none() {
                return Err(errors::key_not_found(&addr.arn()));
            }
            (addr, id)
        }
        (None, Some(key_ref), Some(grant_id)) => (resolve(world, &facts, key_ref, Reach::CrossAccount)?, grant_id.to_string()),
        (None, None, _) => return Err(errors::invalid_grant_token()),
        (None, Some(_), None) => return Err(errors::invalid_grant_id()),
    };
    let key = existing_key(world, &addr)?;
    let grant = key.grants.iter().find(|g| g.id == grant_id).ok_or_else(|| errors::grant_not_found(&grant_id))?;
    let identities = caller_identities(&facts.caller.principal);
    let named = |p: &str| identities.iter().any(|id| id == p);
    let allowed = grant.retiring.as_deref().is_some_and(named)
        || (named(&grant.grantee) && grant.allows_operation("RetireGrant"))
        || (facts.caller.principal.account() == grant.issuing_account
            && authorize_identity(world, facts, "kms:RetireGrant", &key.arn, Vec::new()).is_ok());
    if !allowed {
        return Err(errors::access_denied(format!(
            "User: {} is not authorized to perform: kms:RetireGrant on resource: {}",
            facts.caller.principal.arn(),
            key.arn
        )));
    }
    key_mut(world, &addr)?.grants.retain(|g| g.id != grant_id);
    Ok(())
}

/// RevokeGrant: a key-policy (and IAM) permission; grants cannot allow it.
pub fn revoke_grant(world: &mut World, facts: RequestFacts<'_>, key_ref: &str, grant_id: &str) -> Result<(), AwsError> {
    let addr = resolve(world, &facts, key_ref, Reach::CrossAccount)?;
    authorize_key(world, facts, &addr, "kms:RevokeGrant", &KeyUse { grant_api: true, ..KeyUse::default() })?;
    let key = key_mut(world, &addr)?;
    let before = key.grants.len();
    key.grants.retain(|g| g.id != grant_id);
    if key.grants.len() == before {
        return Err(errors::grant_not_found(grant_id));
    }
    Ok(())
}
