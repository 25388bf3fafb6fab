//! AWS Organizations over awsJson 1.1 (`X-Amz-Target: AWSOrganizationsV20161128.<Operation>`):
//! the organization and its accounts, roots and OUs, and service and resource control policies.
//! The model is `crate::state::organizations`; the operations here read members, check them,
//! authorize (IAM policies and, for member accounts, the SCPs that the world gathers for every
//! request), and shape the output.
//!
//! # Authorization
//!
//! Each operation is authorized as `organizations:<Operation>` on the resource the service
//! authorization reference names (the policy, the root, the OU, the account; `*` for the
//! organization-wide operations), with `organizations:PolicyType` where the request names a
//! type. A refusal is `AccessDeniedException` "You don't have permissions to access this
//! resource.", the service's wording, which names no policy; the authorization log keeps the
//! decision. Operations only the management account may make answer the same to members.
//!
//! # Input checks
//!
//! Ids are checked against the model's patterns (`InvalidInputException` with the reason
//! `INVALID_PATTERN` or `INVALID_SYNTAX_POLICY_ID`, "You specified an invalid value."; the text
//! is not confirmed). Policy types outside SCPs and RCPs are not emulated and are refused with
//! `PolicyTypeNotAvailableForOrganizationException`.

mod output;

#[cfg(test)]
mod tests;

use base64::Engine as _;

use output::{account_value, organization_value, policy_summary, policy_value, root_value, target_value, unit_value};

use super::Call;
use crate::{
    authz::AuthzRequest,
    error::AwsError,
    state::{
        organizations::{errors, FeatureSet, NewPolicy, PolicyType},
        World,
    },
    value::Value,
};

pub fn handle(world: &mut World, call: &Call<'_>) -> Option<Result<Value, AwsError>> {
    Some(match call.action {
        "CreateOrganization" => create_organization(world, call),
        "DescribeOrganization" => describe_organization(world, call),
        "ListAccounts" => list_accounts(world, call),
        "ListRoots" => list_roots(world, call),
        "CreateOrganizationalUnit" => create_organizational_unit(world, call),
        "ListOrganizationalUnitsForParent" => list_units_for_parent(world, call),
        "MoveAccount" => move_account(world, call),
        "EnablePolicyType" => set_policy_type(world, call, true),
        "DisablePolicyType" => set_policy_type(world, call, false),
        "CreatePolicy" => create_policy(world, call),
        "DeletePolicy" => delete_policy(world, call),
        "DescribePolicy" => describe_policy(world, call),
        "ListPolicies" => list_policies(world, call),
        "AttachPolicy" => attach_policy(world, call, true),
        "DetachPolicy" => attach_policy(world, call, false),
        "ListPoliciesForTarget" => list_policies_for_target(world, call),
        "ListTargetsForPolicy" => list_targets_for_policy(world, call),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Authorization and input.

/// Asks the policy engine whether the caller may do `organizations:<action>` on `resource`.
fn authorize(world: &mut World, call: &Call<'_>, resource: &str, kind: Option<PolicyType>) -> Result<(), AwsError> {
    let action = format!("organizations:{}", call.action);
    let mut request = AuthzRequest::new(&action, resource);
    if let Some(kind) = kind {
        request.context.push(("organizations:PolicyType", kind.as_str().to_string()));
    }
    if world.authorize(call.facts(), &request).is_allowed() {
        Ok(())
    } else {
        Err(errors::access_denied())
    }
}

/// A required string member.
fn required<'a>(call: &Call<'a>, member: &str) -> Result<&'a str, AwsError> {
    call.optional(member).ok_or_else(|| {
        errors::invalid_input("INPUT_REQUIRED", format!("You must specify a value for {member}."))
    })
}

fn invalid_pattern(reason: &'static str) -> AwsError {
    errors::invalid_input(reason, "You specified an invalid value.")
}

fn lower_alnum(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn is_root_id(id: &str) -> bool {
    id.strip_prefix("r-").is_some_and(|rest| (4..=32).contains(&rest.len()) && lower_alnum(rest))
}

fn is_unit_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("ou-") else {
        return false;
    };
    let Some((root, unit)) = rest.split_once('-') else {
        return false;
    };
    (4..=32).contains(&root.len()) && lower_alnum(root) && (8..=32).contains(&unit.len()) && lower_alnum(unit)
}

fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// `RootId`, `ParentId` or `PolicyTargetId`, checked against its pattern.
fn id_member<'a>(call: &Call<'a>, member: &str, accept: &[fn(&str) -> bool], reason: &'static str) -> Result<&'a str, AwsError> {
    let id = required(call, member)?;
    if accept.iter().any(|f| f(id)) {
        Ok(id)
    } else {
        Err(invalid_pattern(reason))
    }
}

fn parent_member<'a>(call: &Call<'a>, member: &str) -> Result<&'a str, AwsError> {
    id_member(call, member, &[is_root_id, is_unit_id], "INVALID_PATTERN")
}

fn target_member<'a>(call: &Call<'a>) -> Result<&'a str, AwsError> {
    id_member(call, "TargetId", &[is_root_id, is_unit_id, is_account_id], "INVALID_PATTERN_TARGET_ID")
}

fn policy_id_member<'a>(call: &Call<'a>) -> Result<&'a str, AwsError> {
    let id = required(call, "PolicyId")?;
    let ok = id.strip_prefix("p-").is_some_and(|rest| {
        (8..=128).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    });
    if ok {
        Ok(id)
    } else {
        Err(invalid_pattern("INVALID_SYNTAX_POLICY_ID"))
    }
}

/// The API's policy types: the two the emulator models, or the refusal for the others.
const OTHER_POLICY_TYPES: [&str; 11] = [
    "TAG_POLICY",
    "BACKUP_POLICY",
    "AISERVICES_OPT_OUT_POLICY",
    "CHATBOT_POLICY",
    "DECLARATIVE_POLICY_EC2",
    "SECURITYHUB_POLICY",
    "INSPECTOR_POLICY",
    "UPGRADE_ROLLOUT_POLICY",
    "BEDROCK_POLICY",
    "S3_POLICY",
    "NETWORK_SECURITY_DIRECTOR_POLICY",
];

fn policy_type_member(call: &Call<'_>, member: &str) -> Result<PolicyType, AwsError> {
    let text = required(call, member)?;
    match PolicyType::parse(text) {
        Some(kind) => Ok(kind),
        None if OTHER_POLICY_TYPES.contains(&text) => Err(errors::type_not_available(text)),
        None => Err(errors::invalid_input("INVALID_ENUM_POLICY_TYPE", "You specified an invalid value.")),
    }
}

// ---------------------------------------------------------------------------------------------
// Pagination: `MaxResults` (1..=20) and an opaque `NextToken`.

const TOKEN_PREFIX: &str = "wana-org-page:";

fn page<T>(call: &Call<'_>, items: Vec<T>) -> Result<(Vec<T>, Option<String>), AwsError> {
    let max = match call.optional_i64("MaxResults") {
        Ok(None) => 20,
        Ok(Some(n)) if (1..=20).contains(&n) => usize::try_from(n).unwrap_or(20),
        _ => return Err(errors::invalid_input("MAX_VALUE_EXCEEDED", "You specified an invalid value.")),
    };
    let start = match call.optional("NextToken") {
        None => 0,
        Some(token) => base64::engine::general_purpose::STANDARD
            .decode(token)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| text.strip_prefix(TOKEN_PREFIX).and_then(|n| n.parse().ok()))
            .ok_or_else(|| errors::invalid_input("INVALID_NEXT_TOKEN", "You specified an invalid value."))?,
    };
    let total = items.len();
    let start = usize::min(start, total);
    let end = usize::min(start + max, total);
    let next = (end < total).then(|| base64::engine::general_purpose::STANDARD.encode(format!("{TOKEN_PREFIX}{end}")));
    Ok((items.into_iter().skip(start).take(end - start).collect(), next))
}

fn list(member: &str, items: Vec<Value>, next: Option<String>) -> Value {
    Value::structure().with(member, Value::List(items)).with_opt("NextToken", next)
}

// ---------------------------------------------------------------------------------------------
// The organization.

fn create_organization(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let feature_set = match call.optional("FeatureSet") {
        None | Some("ALL") => FeatureSet::All,
        Some("CONSOLIDATED_BILLING") => FeatureSet::ConsolidatedBilling,
        Some(_) => return Err(errors::invalid_input("INVALID_ENUM", "You specified an invalid value.")),
    };
    authorize(world, call, "*", None)?;
    let org = world.create_organization(call.account(), feature_set, call.now)?;
    Ok(Value::structure().with("Organization", organization_value(org)))
}

fn describe_organization(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    authorize(world, call, "*", None)?;
    let org = world.organization_of(call.account())?;
    Ok(Value::structure().with("Organization", organization_value(org)))
}

fn list_accounts(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    authorize(world, call, "*", None)?;
    let org = world.managed_organization(call.account())?;
    let (members, next) = page(call, org.members.values().collect())?;
    Ok(list("Accounts", members.into_iter().map(|m| account_value(org, m)).collect(), next))
}

fn list_roots(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    authorize(world, call, "*", None)?;
    let org = world.managed_organization(call.account())?;
    let (roots, next) = page(call, vec![root_value(org)])?;
    Ok(list("Roots", roots, next))
}

/// The ARN of a root, OU or account of the organization, for authorization; `*` when the
/// caller has no organization (the refusal comes after).
fn target_arn(world: &World, call: &Call<'_>, id: &str) -> String {
    world
        .organization_of(call.account())
        .ok()
        .and_then(|org| org.target_name_and_arn(id))
        .map_or_else(|| "*".to_string(), |(_, arn)| arn)
}

fn create_organizational_unit(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let parent = parent_member(call, "ParentId")?;
    let name = required(call, "Name")?;
    if name.is_empty() || name.chars().count() > 128 {
        return Err(errors::invalid_input("MAX_LENGTH_EXCEEDED", "You specified an invalid value."));
    }
    let resource = target_arn(world, call, parent);
    authorize(world, call, &resource, None)?;
    let suffix = world.ids.lower_suffix("organizational-unit", 8);
    let org = world.managed_organization_mut(call.account())?;
    let id = org.create_unit(suffix, parent, name)?.id.clone();
    let org = world.managed_organization(call.account())?;
    Ok(Value::structure().with("OrganizationalUnit", unit_value(org, &org.units[&id])))
}

fn list_units_for_parent(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let parent = parent_member(call, "ParentId")?;
    let resource = target_arn(world, call, parent);
    authorize(world, call, &resource, None)?;
    let org = world.managed_organization(call.account())?;
    let (units, next) = page(call, org.units_of(parent)?)?;
    Ok(list("OrganizationalUnits", units.into_iter().map(|u| unit_value(org, u)).collect(), next))
}

fn move_account(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let account = id_member(call, "AccountId", &[is_account_id], "INVALID_PATTERN")?;
    let source = parent_member(call, "SourceParentId")?;
    let destination = parent_member(call, "DestinationParentId")?;
    let resource = target_arn(world, call, account);
    authorize(world, call, &resource, None)?;
    world.managed_organization_mut(call.account())?.move_account(account, source, destination)?;
    Ok(Value::structure())
}

// ---------------------------------------------------------------------------------------------
// Policy types and policies.

fn set_policy_type(world: &mut World, call: &Call<'_>, enable: bool) -> Result<Value, AwsError> {
    let root = id_member(call, "RootId", &[is_root_id], "INVALID_PATTERN")?;
    let kind = policy_type_member(call, "PolicyType")?;
    let resource = target_arn(world, call, root);
    authorize(world, call, &resource, Some(kind))?;
    let org = world.managed_organization_mut(call.account())?;
    if enable {
        org.enable_type(root, kind)?;
    } else {
        org.disable_type(root, kind)?;
    }
    let org = world.managed_organization(call.account())?;
    Ok(Value::structure().with("Root", root_value(org)))
}

fn policy_arn(world: &World, call: &Call<'_>, id: &str) -> String {
    world
        .organization_of(call.account())
        .ok()
        .and_then(|org| org.policies.get(id))
        .map_or_else(|| "*".to_string(), |p| p.arn.clone())
}

fn create_policy(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let content = required(call, "Content")?;
    let description = required(call, "Description")?;
    let name = required(call, "Name")?;
    let kind = policy_type_member(call, "Type")?;
    if name.is_empty() || name.chars().count() > 128 || description.chars().count() > 512 {
        return Err(errors::invalid_input("MAX_LENGTH_EXCEEDED", "You specified an invalid value."));
    }
    authorize(world, call, "*", Some(kind))?;
    world.managed_organization(call.account())?;
    let suffix = world.ids.lower_suffix("organization-policy", 10);
    let org = world.managed_organization_mut(call.account())?;
    let policy = org.create_policy(suffix, NewPolicy { name, description, kind, content })?;
    Ok(Value::structure().with("Policy", policy_value(policy)))
}

fn delete_policy(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let id = policy_id_member(call)?;
    let resource = policy_arn(world, call, id);
    let kind = world.organization_of(call.account()).ok().and_then(|o| o.policies.get(id)).map(|p| p.kind);
    authorize(world, call, &resource, kind)?;
    world.managed_organization_mut(call.account())?.delete_policy(id)?;
    Ok(Value::structure())
}

fn describe_policy(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let id = policy_id_member(call)?;
    let resource = policy_arn(world, call, id);
    let kind = world.organization_of(call.account()).ok().and_then(|o| o.policies.get(id)).map(|p| p.kind);
    authorize(world, call, &resource, kind)?;
    let org = world.managed_organization(call.account())?;
    Ok(Value::structure().with("Policy", policy_value(org.policy(id)?)))
}

fn list_policies(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let kind = policy_type_member(call, "Filter")?;
    authorize(world, call, "*", Some(kind))?;
    let org = world.managed_organization(call.account())?;
    let (policies, next) = page(call, org.policies_of_type(kind))?;
    Ok(list("Policies", policies.into_iter().map(policy_summary).collect(), next))
}

/// AttachPolicy and DetachPolicy: authorized on the policy and on the target.
fn attach_policy(world: &mut World, call: &Call<'_>, attach: bool) -> Result<Value, AwsError> {
    let id = policy_id_member(call)?;
    let target = target_member(call)?;
    let kind = world.organization_of(call.account()).ok().and_then(|o| o.policies.get(id)).map(|p| p.kind);
    let policy_resource = policy_arn(world, call, id);
    authorize(world, call, &policy_resource, kind)?;
    let target_resource = target_arn(world, call, target);
    authorize(world, call, &target_resource, kind)?;
    let org = world.managed_organization_mut(call.account())?;
    if attach {
        org.attach_policy(id, target)?;
    } else {
        org.detach_policy(id, target)?;
    }
    Ok(Value::structure())
}

fn list_policies_for_target(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let target = target_member(call)?;
    let kind = policy_type_member(call, "Filter")?;
    let resource = target_arn(world, call, target);
    authorize(world, call, &resource, Some(kind))?;
    let org = world.managed_organization(call.account())?;
    let (policies, next) = page(call, org.policies_for_target(target, kind)?)?;
    Ok(list("Policies", policies.into_iter().map(policy_summary).collect(), next))
}

fn list_targets_for_policy(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let id = policy_id_member(call)?;
    let resource = policy_arn(world, call, id);
    let kind = world.organization_of(call.account()).ok().and_then(|o| o.policies.get(id)).map(|p| p.kind);
    authorize(world, call, &resource, kind)?;
    let org = world.managed_organization(call.account())?;
    let (targets, next) = page(call, org.targets_for_policy(id)?)?;
    Ok(list("Targets", targets.iter().map(|t| target_value(org, t)).collect(), next))
}
