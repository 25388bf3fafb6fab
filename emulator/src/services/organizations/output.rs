//! The output shapes of AWS Organizations (awsJson 1.1 member names of the service model).

use crate::{
    state::organizations::{Member, OrgPolicy, Organization, OrganizationalUnit},
    value::Value,
};

/// `Organization`. `AvailablePolicyTypes` is deprecated and, as AWS documents, does not tell
/// which types are enabled (ListRoots does): wana answers it empty.
pub(super) fn organization_value(org: &Organization) -> Value {
    let master_email = org.members.get(&org.management_account).map(|m| m.email.clone()).unwrap_or_default();
    Value::structure()
        .with("Id", org.id.as_str())
        .with("Arn", org.arn())
        .with("FeatureSet", org.feature_set.as_str())
        .with("MasterAccountArn", org.account_arn(&org.management_account))
        .with("MasterAccountId", org.management_account.as_str())
        .with("MasterAccountEmail", master_email)
        .with("AvailablePolicyTypes", Value::List(Vec::new()))
}

pub(super) fn account_value(org: &Organization, member: &Member) -> Value {
    Value::structure()
        .with("Id", member.id.as_str())
        .with("Arn", org.account_arn(&member.id))
        .with("Email", member.email.as_str())
        .with("Name", member.name.as_str())
        .with("Status", "ACTIVE")
        .with("State", "ACTIVE")
        .with("JoinedMethod", "INVITED")
        .with("JoinedTimestamp", member.joined)
}

pub(super) fn root_value(org: &Organization) -> Value {
    let types: Vec<Value> = org
        .root
        .enabled_types
        .iter()
        .map(|kind| Value::structure().with("Type", kind.as_str()).with("Status", "ENABLED"))
        .collect();
    Value::structure()
        .with("Id", org.root.id.as_str())
        .with("Arn", org.root_arn())
        .with("Name", org.root.name.as_str())
        .with("PolicyTypes", Value::List(types))
}

pub(super) fn unit_value(org: &Organization, unit: &OrganizationalUnit) -> Value {
    Value::structure()
        .with("Id", unit.id.as_str())
        .with("Arn", org.unit_arn(&unit.id))
        .with("Name", unit.name.as_str())
        .with("Path", org.path(&unit.id))
}

pub(super) fn policy_summary(policy: &OrgPolicy) -> Value {
    Value::structure()
        .with("Id", policy.id.as_str())
        .with("Arn", policy.arn.as_str())
        .with("Name", policy.name.as_str())
        .with("Description", policy.description.as_str())
        .with("Type", policy.kind.as_str())
        .with("AwsManaged", policy.aws_managed)
}

pub(super) fn policy_value(policy: &OrgPolicy) -> Value {
    Value::structure().with("PolicySummary", policy_summary(policy)).with("Content", policy.content.as_str())
}

pub(super) fn target_value(org: &Organization, target: &str) -> Value {
    let kind = org.target_kind(target).map(|k| k.as_str()).unwrap_or("ACCOUNT");
    let (name, arn) = org.target_name_and_arn(target).unwrap_or_default();
    Value::structure().with("TargetId", target).with("Arn", arn).with("Name", name).with("Type", kind)
}

