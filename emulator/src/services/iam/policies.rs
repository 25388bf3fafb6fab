//! Managed policies: CreatePolicy, GetPolicy, DeletePolicy, ListPolicies and the policy
//! version operations. Attaching them to users and roles is in `super::entity`.

use super::{
    authorize, now, optional_bool,
    output::{policy_value, version_value, PolicyView},
    paging::{list_output, page_request, paginate},
    policy_target, tags_param,
    validate::Validation,
    Target,
};
use crate::{
    error::AwsError,
    services::Call,
    state::{
        iam::{policy_arn, NewPolicy, PolicyScope},
        World,
    },
    value::Value,
};

fn policy_arn_param<'a>(call: &Call<'a>) -> Result<&'a str, AwsError> {
    let arn = call.required("PolicyArn")?;
    Validation::new().arn("policyArn", arn).finish()?;
    Ok(arn)
}

pub(super) fn create_policy(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = call.required("PolicyName")?;
    let document = call.required("PolicyDocument")?;
    let path = call.optional("Path");
    let description = call.optional("Description");
    let tags = tags_param(call)?;
    let mut validation = Validation::new();
    validation
        .name("policyName", name, 128)
        .document("policyDocument", document)
        .tags("tags", &tags);
    if let Some(path) = path {
        validation.policy_path("path", path);
    }
    if let Some(description) = description {
        validation.policy_description("description", description);
    }
    validation.finish()?;
    let account = call.account();
    let arn = policy_arn(account, path.unwrap_or("/"), name);
    authorize(world, call, "iam:CreatePolicy", Target::shown_as(arn, format!("policy {name}")))?;
    let (iam, ids) = world.iam_and_ids(account)?;
    let spec = NewPolicy { name, path, document, description, tags };
    let arn = iam.create_policy(ids, account, now(call), spec)?.arn.clone();
    let policy = iam.policy(&arn)?;
    Ok(Value::structure().with("Policy", policy_value(iam, policy, PolicyView::Create)))
}

pub(super) fn get_policy(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let arn = policy_arn_param(call)?;
    authorize(world, call, "iam:GetPolicy", policy_target(arn))?;
    let iam = world.iam(call.account())?;
    let policy = iam.policy(arn)?;
    Ok(Value::structure().with("Policy", policy_value(iam, policy, PolicyView::Get)))
}

pub(super) fn delete_policy(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let arn = policy_arn_param(call)?;
    authorize(world, call, "iam:DeletePolicy", policy_target(arn))?;
    world.iam_mut(call.account())?.delete_policy(arn)?;
    Ok(Value::structure())
}

pub(super) fn list_policies(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let scope = call.optional("Scope");
    let only_attached = optional_bool(call, "OnlyAttached", "onlyAttached")?.unwrap_or(false);
    let prefix = call.optional("PathPrefix");
    let usage = call.optional("PolicyUsageFilter");
    let mut validation = Validation::new();
    if let Some(scope) = scope {
        validation.one_of("scope", scope, &["All", "AWS", "Local"]);
    }
    if let Some(prefix) = prefix {
        validation.policy_path("pathPrefix", prefix);
    }
    if let Some(usage) = usage {
        validation.one_of("policyUsageFilter", usage, &["PermissionsPolicy", "PermissionsBoundary"]);
    }
    validation.finish()?;
    let page = page_request(call)?;
    let scope = match scope {
        Some("AWS") => PolicyScope::Aws,
        Some("Local") => PolicyScope::Local,
        _ => PolicyScope::All,
    };
    authorize(
        world,
        call,
        "iam:ListPolicies",
        Target::shown_as("*".to_string(), format!("policy path {}", prefix.unwrap_or("/"))),
    )?;
    let iam = world.iam(call.account())?;
    // `PolicyUsageFilter=PermissionsBoundary` keeps the policies that bound a user or role;
    // with `OnlyAttached`, `PermissionsPolicy` keeps those attached as permissions.
    let policies: Vec<_> = match usage {
        Some("PermissionsBoundary") => iam
            .list_policies(scope, false, prefix)
            .into_iter()
            .filter(|p| iam.boundary_usage_count(&p.arn()) > 0)
            .collect(),
        _ => iam.list_policies(scope, only_attached, prefix),
    };
    let (policies, next) = paginate(policies, &page);
    Ok(list_output(
        "Policies",
        policies.into_iter().map(|p| policy_value(iam, p, PolicyView::List)).collect(),
        next,
    ))
}

pub(super) fn get_policy_version(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let arn = policy_arn_param(call)?;
    let version = call.required("VersionId")?;
    Validation::new().version_id("versionId", version).finish()?;
    authorize(world, call, "iam:GetPolicyVersion", policy_target(arn))?;
    let iam = world.iam(call.account())?;
    let version = iam.policy_version(arn, version)?;
    Ok(Value::structure().with("PolicyVersion", version_value(version, true)))
}

pub(super) fn list_policy_versions(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let arn = policy_arn_param(call)?;
    let page = page_request(call)?;
    authorize(world, call, "iam:ListPolicyVersions", policy_target(arn))?;
    let iam = world.iam(call.account())?;
    // Newest first, as IAM lists them.
    let mut versions = iam.policy(arn)?.versions();
    versions.reverse();
    let (versions, next) = paginate(versions, &page);
    Ok(list_output("Versions", versions.into_iter().map(|v| version_value(v, false)).collect(), next))
}

pub(super) fn create_policy_version(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let arn = policy_arn_param(call)?;
    let document = call.required("PolicyDocument")?;
    let set_as_default = optional_bool(call, "SetAsDefault", "setAsDefault")?.unwrap_or(false);
    Validation::new().document("policyDocument", document).finish()?;
    authorize(world, call, "iam:CreatePolicyVersion", policy_target(arn))?;
    let iam = world.iam_mut(call.account())?;
    let version = iam.create_policy_version(now(call), arn, document, set_as_default)?;
    Ok(Value::structure().with("PolicyVersion", version_value(version, false)))
}

pub(super) fn delete_policy_version(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let arn = policy_arn_param(call)?;
    let version = call.required("VersionId")?;
    Validation::new().version_id("versionId", version).finish()?;
    authorize(world, call, "iam:DeletePolicyVersion", policy_target(arn))?;
    world.iam_mut(call.account())?.delete_policy_version(arn, version)?;
    Ok(Value::structure())
}

pub(super) fn set_default_policy_version(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let arn = policy_arn_param(call)?;
    let version = call.required("VersionId")?;
    Validation::new().version_id("versionId", version).finish()?;
    authorize(world, call, "iam:SetDefaultPolicyVersion", policy_target(arn))?;
    world.iam_mut(call.account())?.set_default_policy_version(now(call), arn, version)?;
    Ok(Value::structure())
}
