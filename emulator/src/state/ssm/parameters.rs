//! Parameter Store, plain parameters: `PutParameter` and `GetParameter` of `String` and
//! `StringList` parameters (the values the agent and its users read; `AmazonSSMManagedInstanceCore`
//! allows `ssm:GetParameter`). Only the current version is kept. Not emulated: `SecureString`
//! (refused), labels and version selectors, parameter policies, tags, `AllowedPattern`, data
//! type validation, the 4 KB value limit and the hierarchy depth limit.
//!
//! Naming rules (API reference, `PutParameter` `Name`): case sensitive; `a-zA-Z0-9_.-` and `/`
//! between hierarchy levels; a name with a `/` must start with one; not prefixed with `aws` or
//! `ssm` (case-insensitive, for a path its first level).

use chrono::{DateTime, Utc};

use crate::{authz::RequestFacts, error::AwsError, state::World};

use super::{access::authorize, errors, state, state_mut, Parameter};

/// `ParameterType`.
pub const PARAMETER_TYPES: [&str; 3] = ["String", "StringList", "SecureString"];
/// `ParameterTier`.
pub const PARAMETER_TIERS: [&str; 3] = ["Standard", "Advanced", "Intelligent-Tiering"];

/// `arn:aws:ssm:<region>:<account>:parameter/<name without its leading slash>`.
pub fn parameter_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:ssm:{region}:{account}:parameter/{}", name.strip_prefix('/').unwrap_or(name))
}

/// A `PutParameter` request, its members checked against the model already.
#[derive(Debug, Clone, Copy, Default)]
pub struct NewParameter<'a> {
    pub name: &'a str,
    pub value: &'a str,
    pub parameter_type: Option<&'a str>,
    pub description: Option<&'a str>,
    pub overwrite: bool,
    pub tier: Option<&'a str>,
    pub data_type: Option<&'a str>,
}

fn check_name(name: &str) -> Result<(), AwsError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_.-/".contains(c);
    let reserved = |level: &str| {
        let lower = level.to_ascii_lowercase();
        lower.starts_with("aws") || lower.starts_with("ssm")
    };
    if name.contains('/') {
        if !name.starts_with('/') {
            return Err(errors::not_fully_qualified());
        }
        let first = name[1..].split('/').next().unwrap_or("");
        if !name.chars().all(allowed) || reserved(first) {
            return Err(errors::invalid_path_name());
        }
    } else if !name.chars().all(allowed) {
        return Err(errors::invalid_path_name());
    } else if reserved(name) {
        return Err(errors::reserved_prefix());
    }
    Ok(())
}

/// Creates a parameter (version 1) or, with `overwrite`, replaces its value (one version more);
/// answers the new version and the tier.
pub fn put_parameter(world: &mut World, facts: RequestFacts<'_>, new: &NewParameter<'_>) -> Result<(i64, String), AwsError> {
    let account = facts.caller.principal.account().to_string();
    let region = facts.region;
    let arn = parameter_arn(region, &account, new.name);
    authorize(world, facts, "ssm:PutParameter", &arn)?;
    check_name(new.name)?;
    if new.parameter_type == Some("SecureString") {
        return Err(errors::secure_string_not_emulated());
    }
    let now: DateTime<Utc> = facts.now;
    let parameters = &mut state_mut(world, &account, region).ok_or_else(errors::parameter_not_found)?.parameters;
    // An Advanced parameter cannot go back to Standard; Intelligent-Tiering picks Standard for
    // a parameter that fits it, as every parameter here does.
    let tier = |old: Option<&str>| match (new.tier, old) {
        (Some("Advanced"), _) | (_, Some("Advanced")) => "Advanced".to_string(),
        _ => "Standard".to_string(),
    };
    match parameters.get_mut(new.name) {
        Some(_) if !new.overwrite => Err(errors::parameter_already_exists()),
        Some(existing) => {
            existing.version += 1;
            existing.value = new.value.to_string();
            existing.last_modified = now;
            if let Some(parameter_type) = new.parameter_type {
                existing.parameter_type = parameter_type.to_string();
            }
            if let Some(description) = new.description {
                existing.description = Some(description.to_string());
            }
            if let Some(data_type) = new.data_type {
                existing.data_type = data_type.to_string();
            }
            existing.tier = tier(Some(&existing.tier));
            Ok((existing.version, existing.tier.clone()))
        }
        None => {
            let parameter_type = new.parameter_type.ok_or_else(errors::type_required)?;
            let parameter = Parameter {
                name: new.name.to_string(),
                arn,
                parameter_type: parameter_type.to_string(),
                value: new.value.to_string(),
                version: 1,
                last_modified: now,
                description: new.description.map(str::to_string),
                tier: tier(None),
                data_type: new.data_type.unwrap_or("text").to_string(),
            };
            let answer = (parameter.version, parameter.tier.clone());
            parameters.insert(new.name.to_string(), parameter);
            Ok(answer)
        }
    }
}

/// The parameter named `name` (`WithDecryption` changes nothing for plain parameters).
pub fn get_parameter(world: &mut World, facts: RequestFacts<'_>, name: &str) -> Result<Parameter, AwsError> {
    let account = facts.caller.principal.account().to_string();
    let region = facts.region;
    authorize(world, facts, "ssm:GetParameter", &parameter_arn(region, &account, name))?;
    state(world, &account, region)
        .and_then(|s| s.parameters.get(name))
        .cloned()
        .ok_or_else(errors::parameter_not_found)
}
