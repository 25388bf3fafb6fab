//! IAM's policy simulator on the wire: SimulatePrincipalPolicy and SimulateCustomPolicy. The
//! simulation itself is `crate::state::simulator`; here the members are read, the principal
//! and its policies found, and the `EvaluationResults` shaped as AWS answers them.
//!
//! The answer's form follows a recorded AWS answer to SimulatePrincipalPolicy (a managed policy
//! attached to a user, role or group, a bucket ARN as the resource): `SourcePolicyType` is
//! `IAM Policy` for the principal's own policies (not one of the model's enum values),
//! `EvalDecisionDetails` is an empty map and `ResourceSpecificResults` repeats the result
//! when a resource is named, `OrganizationsDecisionDetail` is there when the account's SCPs
//! bear on the principal. Chosen, not confirmed: the principal's policies are identified by
//! their names, a resource policy's type reads `Resource Policy`, inputs carry no type (as the
//! AWS CLI's example for `PolicyInputList.1` shows), a document that does not parse is
//! `InvalidInput` with the parser's text, and `PolicyExclusionList` and
//! `ResourceHandlingOption` are read but not applied.

use wana_policy::{PolicyKind, PrincipalInfo};

use super::{
    authorize,
    paging::{page_request, paginate},
    validate::Validation,
    Target,
};
use crate::{
    error::AwsError,
    principal::Principal,
    services::{missing_member, Call},
    state::{
        iam::{errors, IamState},
        simulator::{EvaluationResult, SimPolicy, SimPrincipal, Simulation},
        World,
    },
    value::Value,
};

/// What AWS calls the type of a principal's own policies in `MatchedStatements`.
const IAM_POLICY: &str = "IAM Policy";

pub(super) fn simulate_principal_policy(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let source = call.required("PolicySourceArn")?;
    Validation::new().arn("policySourceArn", source).finish()?;
    let inputs = read_inputs(call)?;
    authorize(world, call, "iam:SimulatePrincipalPolicy", Target::arn(source.to_string()))?;
    let (entity, mut identity, boundary) = principal_policies(world, source)?;
    identity.extend(inputs.identity);
    let mut principal = entity;
    if let Some(caller_arn) = call.optional("CallerArn") {
        principal = principal_of_arn(world, caller_arn);
    }
    let simulation = Simulation {
        principal,
        identity,
        boundary: inputs.boundary.or(boundary),
        scp_levels: None,
        resource_policy: inputs.resource_policy,
        resource_owner: inputs.resource_owner,
        actions: inputs.actions,
        resources: inputs.resources,
        context: inputs.context,
    };
    answer(world, call, &simulation)
}

pub(super) fn simulate_custom_policy(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    if call.params.get("PolicyInputList").is_none() {
        return Err(missing_member("PolicyInputList"));
    }
    let inputs = read_inputs(call)?;
    let scp_levels = read_organization_inputs(call)?;
    authorize(world, call, "iam:SimulateCustomPolicy", Target::arn("*".to_string()))?;
    let principal = match call.optional("CallerArn") {
        Some(arn) => principal_of_arn(world, arn),
        None => sim_principal(&call.caller.principal),
    };
    let simulation = Simulation {
        principal,
        identity: inputs.identity,
        boundary: inputs.boundary,
        scp_levels: Some(scp_levels).filter(|levels| !levels.is_empty()),
        resource_policy: inputs.resource_policy,
        resource_owner: inputs.resource_owner,
        actions: inputs.actions,
        resources: inputs.resources,
        context: inputs.context,
    };
    answer(world, call, &simulation)
}

/// The members both operations share.
struct Inputs {
    identity: Vec<SimPolicy>,
    boundary: Option<SimPolicy>,
    resource_policy: Option<SimPolicy>,
    resource_owner: Option<String>,
    actions: Vec<String>,
    resources: Vec<String>,
    context: Vec<(String, Vec<String>)>,
}

fn strings(call: &Call<'_>, member: &str) -> Vec<String> {
    call.params.get(member).map(Value::as_list).unwrap_or(&[]).iter().filter_map(Value::as_str).map(str::to_string).collect()
}

/// Parses a simulated document; a refusal is `InvalidInput` with the parser's text.
fn parse(id: String, text: &str, kind: PolicyKind) -> Result<SimPolicy, AwsError> {
    SimPolicy::parse(id, text, kind).map_err(|e| errors::invalid_input(e.to_string()))
}

fn read_inputs(call: &Call<'_>) -> Result<Inputs, AwsError> {
    if call.params.get("ActionNames").is_none() {
        return Err(missing_member("ActionNames"));
    }
    let actions = strings(call, "ActionNames");
    let mut resources = strings(call, "ResourceArns");
    if resources.is_empty() {
        resources.push("*".to_string());
    }
    let identity = strings(call, "PolicyInputList")
        .iter()
        .enumerate()
        .map(|(i, text)| parse(format!("PolicyInputList.{}", i + 1), text, PolicyKind::Identity))
        .collect::<Result<Vec<_>, _>>()?;
    let boundaries = strings(call, "PermissionsBoundaryPolicyInputList");
    if boundaries.len() > 1 {
        return Err(errors::invalid_input("Only one permissions boundary policy may be simulated."));
    }
    let boundary = boundaries
        .first()
        .map(|text| parse("PermissionsBoundaryPolicyInputList.1".to_string(), text, PolicyKind::Identity))
        .transpose()?;
    let resource_policy = call
        .optional("ResourcePolicy")
        .map(|text| parse("ResourcePolicy".to_string(), text, PolicyKind::Resource))
        .transpose()?;
    let resource_owner = call.optional("ResourceOwner").and_then(|arn| {
        crate::state::simulator::arn_account(arn).map(str::to_string).or_else(|| {
            (arn.len() == 12 && arn.bytes().all(|b| b.is_ascii_digit())).then(|| arn.to_string())
        })
    });
    let mut context = Vec::new();
    for entry in call.params.get("ContextEntries").map(Value::as_list).unwrap_or(&[]) {
        let Some(key) = entry.get("ContextKeyName").and_then(Value::as_str) else {
            continue;
        };
        let values: Vec<String> = entry
            .get("ContextKeyValues")
            .map(Value::as_list)
            .unwrap_or(&[])
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        context.push((key.to_string(), values));
    }
    Ok(Inputs { identity, boundary, resource_policy, resource_owner, actions, resources, context })
}

/// `OrderedOrganizationPolicyInputList`: one SCP level per entry, root first.
fn read_organization_inputs(call: &Call<'_>) -> Result<Vec<Vec<SimPolicy>>, AwsError> {
    let mut levels = Vec::new();
    for (i, level) in call.params.get("OrderedOrganizationPolicyInputList").map(Value::as_list).unwrap_or(&[]).iter().enumerate() {
        let texts = level.get("ServiceControlPolicyInputList").map(Value::as_list).unwrap_or(&[]);
        let policies = texts
            .iter()
            .filter_map(Value::as_str)
            .enumerate()
            .map(|(j, text)| {
                parse(format!("OrderedOrganizationPolicyInputList.{}.{}", i + 1, j + 1), text, PolicyKind::Identity)
            })
            .collect::<Result<Vec<_>, _>>()?;
        levels.push(policies);
    }
    Ok(levels)
}

/// The principal a simulation speaks for, with the keys AWS derives from it.
fn sim_principal(principal: &Principal) -> SimPrincipal {
    let mut keys = vec![
        ("aws:PrincipalArn", principal.entity_arn()),
        ("aws:PrincipalAccount", principal.account().to_string()),
        ("aws:PrincipalType", principal.principal_type().to_string()),
    ];
    let info = match principal {
        Principal::User { name, user_id, .. } => {
            keys.push(("aws:username", name.clone()));
            keys.push(("aws:userid", user_id.clone()));
            principal.policy_info()
        }
        // A role is simulated as itself: resource policies naming the role match it directly.
        Principal::AssumedRole { .. } => PrincipalInfo {
            account: principal.account().to_string(),
            arns: vec![principal.entity_arn()],
            service: None,
            is_root: false,
        },
    };
    SimPrincipal { info, keys }
}

/// `CallerArn`: a user or role of the world when it names one, else just its ARN and account.
fn principal_of_arn(world: &World, arn: &str) -> SimPrincipal {
    if let Ok((principal, _, _)) = principal_policies(world, arn) {
        return principal;
    }
    let account = crate::state::simulator::arn_account(arn).unwrap_or_default().to_string();
    SimPrincipal { info: PrincipalInfo::user(account.clone(), arn), keys: vec![("aws:PrincipalArn", arn.to_string()), ("aws:PrincipalAccount", account)] }
}

type PrincipalPolicies = (SimPrincipal, Vec<SimPolicy>, Option<SimPolicy>);

/// The user or role `arn` names, with its identity policies and boundary.
fn principal_policies(world: &World, arn: &str) -> Result<PrincipalPolicies, AwsError> {
    let rest = arn.strip_prefix("arn:aws:iam::").ok_or_else(|| errors::invalid_arn(arn))?;
    let (account, resource) = rest.split_once(':').ok_or_else(|| errors::invalid_arn(arn))?;
    let (kind, path_and_name) = resource.split_once('/').ok_or_else(|| errors::invalid_arn(arn))?;
    let name = path_and_name.rsplit('/').next().unwrap_or_default();
    let iam = world.account(account).map(|a| &a.iam);
    match kind {
        "user" => {
            let user = iam.and_then(|iam| iam.users.get(name)).filter(|u| u.arn == arn).ok_or_else(|| errors::no_such_user(name))?;
            let iam = iam.ok_or_else(|| errors::no_such_user(name))?;
            let principal = Principal::User {
                account: account.to_string(),
                name: user.name.clone(),
                path: user.path.clone(),
                user_id: user.id.clone(),
            };
            let identity = entity_policies(iam, &user.inline_policies, &user.attached_policies);
            Ok((sim_principal(&principal), identity, boundary_policy(iam, user.permissions_boundary.as_deref())))
        }
        "role" => {
            let role = iam.and_then(|iam| iam.roles.get(name)).filter(|r| r.arn == arn).ok_or_else(|| errors::no_such_role(name))?;
            let iam = iam.ok_or_else(|| errors::no_such_role(name))?;
            let principal = Principal::AssumedRole {
                account: account.to_string(),
                role_name: role.name.clone(),
                role_path: role.path.clone(),
                role_id: role.id.clone(),
                session_name: "simulation".to_string(),
            };
            let identity = entity_policies(iam, &role.inline_policies, &role.attached_policies);
            Ok((sim_principal(&principal), identity, boundary_policy(iam, role.permissions_boundary.as_deref())))
        }
        "group" => Err(errors::no_such_entity(format!("The group with name {name} cannot be found."))),
        _ => Err(errors::invalid_arn(arn)),
    }
}

fn entity_policies(
    iam: &IamState,
    inline: &std::collections::BTreeMap<String, crate::state::iam::PolicyDocument>,
    attached: &[String],
) -> Vec<SimPolicy> {
    let inline = inline.iter().map(|(name, document)| SimPolicy::new(name.clone(), Some(IAM_POLICY), &document.text, document.parsed.clone()));
    let managed = attached.iter().filter_map(|arn| managed_policy(iam, arn));
    inline.chain(managed).collect()
}

fn managed_policy(iam: &IamState, arn: &str) -> Option<SimPolicy> {
    let policy = iam.policy(arn).ok()?;
    let version = iam.policy_version(arn, policy.default_version_id()).ok()?;
    let parsed = iam.managed_policy_document(arn)?.clone();
    Some(SimPolicy::new(policy.name(), Some(IAM_POLICY), version.document, parsed))
}

fn boundary_policy(iam: &IamState, arn: Option<&str>) -> Option<SimPolicy> {
    managed_policy(iam, arn?)
}

// ---------------------------------------------------------------------------------------------
// The answer.

fn answer(world: &World, call: &Call<'_>, simulation: &Simulation) -> Result<Value, AwsError> {
    let page = page_request(call)?;
    let (results, next) = paginate(world.simulate(simulation), &page);
    Ok(Value::structure()
        .with("EvaluationResults", Value::List(results.iter().map(result_value).collect()))
        .with("IsTruncated", next.is_some())
        .with_opt("Marker", next))
}

fn statements_value(result: &EvaluationResult) -> Value {
    let position = |(line, column): (usize, usize)| Value::structure().with("Line", line).with("Column", column);
    Value::List(
        result
            .matched
            .iter()
            .map(|m| {
                Value::structure()
                    .with("SourcePolicyId", m.source_id.as_str())
                    .with_opt("SourcePolicyType", m.source_type)
                    .with("StartPosition", position(m.start))
                    .with("EndPosition", position(m.end))
            })
            .collect(),
    )
}

fn missing_value(result: &EvaluationResult) -> Value {
    Value::List(result.missing_context.iter().map(|k| Value::from(k.as_str())).collect())
}

fn result_value(result: &EvaluationResult) -> Value {
    let mut value = Value::structure()
        .with("EvalActionName", result.action.as_str())
        .with("EvalResourceName", result.resource.as_str())
        .with("EvalDecision", result.decision)
        .with("MatchedStatements", statements_value(result))
        .with("MissingContextValues", missing_value(result))
        .with_opt(
            "OrganizationsDecisionDetail",
            result.allowed_by_organizations.map(|allowed| Value::structure().with("AllowedByOrganizations", allowed)),
        )
        .with_opt(
            "PermissionsBoundaryDecisionDetail",
            result.allowed_by_boundary.map(|allowed| Value::structure().with("AllowedByPermissionsBoundary", allowed)),
        );
    if result.resource != "*" {
        let specific = Value::structure()
            .with("EvalResourceName", result.resource.as_str())
            .with("EvalResourceDecision", result.decision)
            .with("MatchedStatements", statements_value(result))
            .with("MissingContextValues", missing_value(result));
        value = value.with("EvalDecisionDetails", Value::Map(Vec::new())).with("ResourceSpecificResults", Value::List(vec![specific]));
    }
    value
}
