//! Tests of AWS Organizations through its handler: the organization over the built-in accounts,
//! OUs, policy types with their full-access policies, SCPs and RCPs and their attachments, and
//! the service's errors.

use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, TimeZone, Utc};
use rstest::rstest;

use super::*;
use crate::{
    accounts::DEFAULT_ACCOUNTS,
    principal::{Caller, CredentialKind},
    profile::BehaviourProfile,
};

const A: &str = "111111111111";
const B: &str = "222222222222";
const C: &str = "333333333333";
const DENY_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
const RCP_DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-other"}}}]}"#;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().expect("valid time")
}

fn world() -> World {
    World::new(BehaviourProfile::default(), now()).with_port(crate::dispatch::pipeline())
}

/// The administrator of a built-in account.
fn admin(world: &World, account: &str) -> Caller {
    let info = DEFAULT_ACCOUNTS.iter().find(|a| a.id == account).expect("a built-in account");
    Caller {
        principal: world.principal_of(&world.access_keys[info.access_key_id]).expect("the admin user"),
        access_key_id: info.access_key_id.to_string(),
        credential_kind: CredentialKind::LongTerm,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        token_issued: None,
        via_service: None,
    }
}

fn call(world: &mut World, account: &str, action: &str, members: &[(&str, &str)]) -> Result<Value, AwsError> {
    let caller = admin(world, account);
    let params = members.iter().fold(Value::structure(), |params, (name, value)| params.with(name, *value));
    let call = Call { caller: &caller, region: "us-east-1", now: now(), action, params: &params };
    handle(world, &call).expect("an operation of AWS Organizations")
}

fn ok(world: &mut World, account: &str, action: &str, members: &[(&str, &str)]) -> Value {
    call(world, account, action, members).unwrap_or_else(|e| panic!("{action}: {e}"))
}

fn error(result: Result<Value, AwsError>) -> (String, String, Option<String>) {
    let error = result.expect_err("expected an error");
    assert_eq!(error.status, 400);
    (error.code.to_string(), error.message, error.reason.map(|r| r.to_string()))
}

fn text<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    let mut value = Some(value);
    for member in path {
        value = value.and_then(|v| v.get(member));
    }
    value.and_then(Value::as_str).unwrap_or_default()
}

fn names(value: &Value, member: &str, field: &str) -> Vec<String> {
    value.get(member).map(Value::as_list).unwrap_or(&[]).iter().map(|v| text(v, &[field]).to_string()).collect()
}

/// An organization created by account a, with its root id.
fn organization() -> (World, String) {
    let mut world = world();
    ok(&mut world, A, "CreateOrganization", &[]);
    let roots = ok(&mut world, A, "ListRoots", &[]);
    let root = text(&roots.get("Roots").unwrap().as_list()[0], &["Id"]).to_string();
    (world, root)
}

#[test]
fn the_caller_becomes_the_management_account_and_the_other_accounts_members() {
    let mut world = world();
    assert_eq!(
        error(call(&mut world, B, "DescribeOrganization", &[])),
        ("AWSOrganizationsNotInUseException".into(), "Your account is not a member of an organization.".into(), None)
    );
    let created = ok(&mut world, A, "CreateOrganization", &[]);
    let org = created.get("Organization").unwrap();
    assert!(text(org, &["Id"]).starts_with("o-"));
    assert_eq!(text(org, &["MasterAccountId"]), A);
    assert_eq!(text(org, &["FeatureSet"]), "ALL");
    assert_eq!(text(org, &["Arn"]), format!("arn:aws:organizations::{A}:organization/{}", text(org, &["Id"])));
    // A member sees the organization but may not list its accounts.
    let described = ok(&mut world, B, "DescribeOrganization", &[]);
    assert_eq!(text(&described, &["Organization", "MasterAccountId"]), A);
    assert_eq!(
        error(call(&mut world, B, "ListAccounts", &[])),
        ("AccessDeniedException".into(), "You don't have permissions to access this resource.".into(), None)
    );
    assert_eq!(error(call(&mut world, C, "CreateOrganization", &[])).0, "AlreadyInOrganizationException");
    let accounts = ok(&mut world, A, "ListAccounts", &[]);
    assert_eq!(names(&accounts, "Accounts", "Id"), [A, B, C]);
    assert_eq!(names(&accounts, "Accounts", "Status"), ["ACTIVE"; 3]);
    // Pages of at most MaxResults, chained by NextToken.
    let first = ok(&mut world, A, "ListAccounts", &[("MaxResults", "2")]);
    assert_eq!(names(&first, "Accounts", "Id"), [A, B]);
    let token = text(&first, &["NextToken"]).to_string();
    let second = ok(&mut world, A, "ListAccounts", &[("MaxResults", "2"), ("NextToken", &token)]);
    assert_eq!(names(&second, "Accounts", "Id"), [C]);
    assert!(second.get("NextToken").is_none());
}

#[rstest]
#[case(PolicyType::ServiceControl, "FullAWSAccess")]
#[case(PolicyType::ResourceControl, "RCPFullAWSAccess")]
fn enabling_a_type_attaches_its_full_access_policy_everywhere(#[case] kind: PolicyType, #[case] full_access: &str) {
    let (mut world, root) = organization();
    let kind = kind.as_str();
    let early = ok(&mut world, A, "CreateOrganizationalUnit", &[("ParentId", &root), ("Name", "Early")]);
    let early = text(&early, &["OrganizationalUnit", "Id"]).to_string();
    let enabled = ok(&mut world, A, "EnablePolicyType", &[("RootId", &root), ("PolicyType", kind)]);
    assert_eq!(names(enabled.get("Root").unwrap(), "PolicyTypes", "Type"), [kind]);
    assert_eq!(names(enabled.get("Root").unwrap(), "PolicyTypes", "Status"), ["ENABLED"]);
    let late = ok(&mut world, A, "CreateOrganizationalUnit", &[("ParentId", &early), ("Name", "Late")]);
    let late = text(&late, &["OrganizationalUnit", "Id"]).to_string();
    for target in [root.as_str(), &early, &late, A, B, C] {
        let listed = ok(&mut world, A, "ListPoliciesForTarget", &[("TargetId", target), ("Filter", kind)]);
        assert_eq!(names(&listed, "Policies", "Name"), [full_access], "{target}");
    }
    let id = format!("p-{full_access}");
    let targets = ok(&mut world, A, "ListTargetsForPolicy", &[("PolicyId", &id)]);
    assert_eq!(names(&targets, "Targets", "Type"), ["ROOT", "ORGANIZATIONAL_UNIT", "ORGANIZATIONAL_UNIT", "ACCOUNT", "ACCOUNT", "ACCOUNT"]);
    assert_eq!(
        error(call(&mut world, A, "EnablePolicyType", &[("RootId", &root), ("PolicyType", kind)])),
        ("PolicyTypeAlreadyEnabledException".into(), "The specified policy type is already enabled.".into(), None)
    );
    ok(&mut world, A, "DisablePolicyType", &[("RootId", &root), ("PolicyType", kind)]);
    let listed = ok(&mut world, A, "ListPoliciesForTarget", &[("TargetId", B), ("Filter", kind)]);
    assert!(names(&listed, "Policies", "Name").is_empty());
    assert_eq!(
        error(call(&mut world, A, "DisablePolicyType", &[("RootId", &root), ("PolicyType", kind)])),
        ("PolicyTypeNotEnabledException".into(), "This operation can be performed only for enabled policy types.".into(), None)
    );
    let described = ok(&mut world, A, "DescribePolicy", &[("PolicyId", &id)]);
    assert_eq!(text(&described, &["Policy", "PolicySummary", "Arn"]).split('/').nth(1), Some(PolicyType::parse(kind).unwrap().arn_segment()));
    assert_eq!(described.get("Policy").and_then(|p| p.get("PolicySummary")).and_then(|s| s.get("AwsManaged")).and_then(Value::as_bool), Some(true));
}

#[test]
fn scps_attach_and_detach_within_the_services_limits() {
    let (mut world, root) = organization();
    let create = [("Name", "DenyS3"), ("Description", "no S3"), ("Type", "SERVICE_CONTROL_POLICY"), ("Content", DENY_S3)];
    let created = ok(&mut world, A, "CreatePolicy", &create);
    let id = text(&created, &["Policy", "PolicySummary", "Id"]).to_string();
    assert!(text(&created, &["Policy", "PolicySummary", "Arn"]).contains("/service_control_policy/p-"));
    assert_eq!(text(&created, &["Policy", "Content"]), DENY_S3);
    assert_eq!(error(call(&mut world, A, "CreatePolicy", &create)).0, "DuplicatePolicyException");
    assert_eq!(
        error(call(&mut world, A, "AttachPolicy", &[("PolicyId", &id), ("TargetId", B)])).0,
        "PolicyTypeNotEnabledException"
    );
    ok(&mut world, A, "EnablePolicyType", &[("RootId", &root), ("PolicyType", "SERVICE_CONTROL_POLICY")]);
    ok(&mut world, A, "AttachPolicy", &[("PolicyId", &id), ("TargetId", B)]);
    assert_eq!(
        error(call(&mut world, A, "AttachPolicy", &[("PolicyId", &id), ("TargetId", B)])),
        ("DuplicatePolicyAttachmentException".into(), "The selected policy is already attached to the specified target.".into(), None)
    );
    let listed = ok(&mut world, A, "ListPoliciesForTarget", &[("TargetId", B), ("Filter", "SERVICE_CONTROL_POLICY")]);
    assert_eq!(names(&listed, "Policies", "Name"), ["FullAWSAccess", "DenyS3"]);
    assert_eq!(
        error(call(&mut world, A, "DeletePolicy", &[("PolicyId", &id)])).0,
        "PolicyInUseException"
    );
    assert_eq!(
        error(call(&mut world, A, "DeletePolicy", &[("PolicyId", "p-FullAWSAccess")])),
        (
            "InvalidInputException".into(),
            "You specified a policy that is managed by AWS and can't be modified.".into(),
            Some("IMMUTABLE_POLICY".into())
        )
    );
    // At most five of a type on one target; never none.
    for i in 0..3 {
        let name = format!("Extra{i}");
        let extra = ok(&mut world, A, "CreatePolicy", &[("Name", &name), ("Description", ""), ("Type", "SERVICE_CONTROL_POLICY"), ("Content", DENY_S3)]);
        let extra = text(&extra, &["Policy", "PolicySummary", "Id"]).to_string();
        ok(&mut world, A, "AttachPolicy", &[("PolicyId", &extra), ("TargetId", B)]);
    }
    let sixth = ok(&mut world, A, "CreatePolicy", &[("Name", "Sixth"), ("Description", ""), ("Type", "SERVICE_CONTROL_POLICY"), ("Content", DENY_S3)]);
    let sixth = text(&sixth, &["Policy", "PolicySummary", "Id"]).to_string();
    assert_eq!(
        error(call(&mut world, A, "AttachPolicy", &[("PolicyId", &sixth), ("TargetId", B)])),
        (
            "ConstraintViolationException".into(),
            "You have attached the maximum number of policies to the specified target.".into(),
            Some("MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED".into())
        )
    );
    assert_eq!(
        error(call(&mut world, A, "DetachPolicy", &[("PolicyId", "p-FullAWSAccess"), ("TargetId", C)])),
        (
            "ConstraintViolationException".into(),
            "You cannot remove the last policy attached to the specified target. You must have at least one attached at all times.".into(),
            Some("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED".into())
        )
    );
    assert_eq!(error(call(&mut world, A, "DetachPolicy", &[("PolicyId", &sixth), ("TargetId", C)])).0, "PolicyNotAttachedException");
    ok(&mut world, A, "DetachPolicy", &[("PolicyId", "p-FullAWSAccess"), ("TargetId", B)]);
    ok(&mut world, A, "DetachPolicy", &[("PolicyId", &id), ("TargetId", B)]);
    ok(&mut world, A, "DeletePolicy", &[("PolicyId", &id)]);
    assert_eq!(
        error(call(&mut world, A, "DescribePolicy", &[("PolicyId", &id)])),
        ("PolicyNotFoundException".into(), "We can't find a policy with the PolicyId that you specified.".into(), None)
    );
    let listed = ok(&mut world, A, "ListPolicies", &[("Filter", "SERVICE_CONTROL_POLICY")]);
    assert_eq!(names(&listed, "Policies", "Name"), ["FullAWSAccess", "Extra0", "Extra1", "Extra2", "Sixth"]);
}

#[rstest]
#[case::scp_with_a_principal("SERVICE_CONTROL_POLICY", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}"#)]
#[case::scp_not_json("SERVICE_CONTROL_POLICY", "{")]
#[case::rcp_that_allows("RESOURCE_CONTROL_POLICY", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#)]
#[case::rcp_naming_a_principal("RESOURCE_CONTROL_POLICY", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"s3:*","Resource":"*"}]}"#)]
#[case::rcp_without_principal("RESOURCE_CONTROL_POLICY", DENY_S3)]
fn documents_must_fit_their_policy_type(#[case] kind: &str, #[case] content: &str) {
    let (mut world, _) = organization();
    assert_eq!(
        error(call(&mut world, A, "CreatePolicy", &[("Name", "P"), ("Description", ""), ("Type", kind), ("Content", content)])),
        (
            "MalformedPolicyDocumentException".into(),
            "The provided policy document does not meet the requirements of the specified policy type.".into(),
            None
        )
    );
}

#[test]
fn a_deny_only_rcp_is_accepted() {
    let (mut world, _) = organization();
    let created = ok(&mut world, A, "CreatePolicy", &[("Name", "P"), ("Description", ""), ("Type", "RESOURCE_CONTROL_POLICY"), ("Content", RCP_DENY)]);
    assert!(text(&created, &["Policy", "PolicySummary", "Arn"]).contains("/resource_control_policy/p-"));
}

#[test]
fn organizational_units_nest_and_accounts_move_between_them() {
    let (mut world, root) = organization();
    let sandbox = ok(&mut world, A, "CreateOrganizationalUnit", &[("ParentId", &root), ("Name", "Sandbox")]);
    let sandbox = sandbox.get("OrganizationalUnit").unwrap().clone();
    let sandbox_id = text(&sandbox, &["Id"]).to_string();
    assert!(sandbox_id.starts_with(&format!("ou-{}-", root.trim_start_matches("r-"))));
    let org_id = world.organization.as_ref().unwrap().id.clone();
    assert_eq!(text(&sandbox, &["Path"]), format!("{org_id}/{root}/{sandbox_id}/"));
    assert_eq!(
        error(call(&mut world, A, "CreateOrganizationalUnit", &[("ParentId", &root), ("Name", "Sandbox")])),
        ("DuplicateOrganizationalUnitException".into(), "An OU with the same name already exists.".into(), None)
    );
    ok(&mut world, A, "CreateOrganizationalUnit", &[("ParentId", &sandbox_id), ("Name", "Team")]);
    let listed = ok(&mut world, A, "ListOrganizationalUnitsForParent", &[("ParentId", &root)]);
    assert_eq!(names(&listed, "OrganizationalUnits", "Name"), ["Sandbox"]);
    ok(&mut world, A, "MoveAccount", &[("AccountId", B), ("SourceParentId", &root), ("DestinationParentId", &sandbox_id)]);
    assert_eq!(world.organization.as_ref().unwrap().path(B), format!("{org_id}/{root}/{sandbox_id}/{B}/"));
    assert_eq!(
        error(call(&mut world, A, "MoveAccount", &[("AccountId", B), ("SourceParentId", &root), ("DestinationParentId", &sandbox_id)])).0,
        "AccountNotFoundException"
    );
    assert_eq!(
        error(call(&mut world, A, "MoveAccount", &[("AccountId", B), ("SourceParentId", &sandbox_id), ("DestinationParentId", &sandbox_id)])).0,
        "DuplicateAccountException"
    );
    assert_eq!(
        error(call(&mut world, A, "ListOrganizationalUnitsForParent", &[("ParentId", "ou-wana-wana9999")])),
        ("ParentNotFoundException".into(), "You specified a parent that doesn't exist.".into(), None)
    );
}

#[rstest]
#[case::policy_id("DescribePolicy", &[("PolicyId", "FullAWSAccess")], "INVALID_SYNTAX_POLICY_ID")]
#[case::target_id("ListPoliciesForTarget", &[("TargetId", "12345"), ("Filter", "SERVICE_CONTROL_POLICY")], "INVALID_PATTERN_TARGET_ID")]
#[case::parent_id("ListOrganizationalUnitsForParent", &[("ParentId", "root")], "INVALID_PATTERN")]
#[case::policy_type("ListPolicies", &[("Filter", "SCP")], "INVALID_ENUM_POLICY_TYPE")]
fn malformed_ids_are_invalid_input(#[case] action: &str, #[case] members: &[(&str, &str)], #[case] reason: &str) {
    let (mut world, _) = organization();
    assert_eq!(
        error(call(&mut world, A, action, members)),
        ("InvalidInputException".into(), "You specified an invalid value.".into(), Some(reason.into()))
    );
}

#[test]
fn policy_types_wana_does_not_model_are_not_available() {
    let (mut world, root) = organization();
    assert_eq!(
        error(call(&mut world, A, "EnablePolicyType", &[("RootId", &root), ("PolicyType", "TAG_POLICY")])).0,
        "PolicyTypeNotAvailableForOrganizationException"
    );
}

#[test]
fn iam_decides_who_may_call_the_service() {
    let (mut world, _) = organization();
    // An IAM user of the management account without organizations permissions.
    let (iam, ids) = world.iam_and_ids(A).unwrap();
    let user = iam.create_user(ids, A, now(), "viewer", None, Vec::new()).unwrap().clone();
    let caller = Caller {
        principal: crate::principal::Principal::User { account: A.into(), name: user.name, path: user.path, user_id: user.id },
        access_key_id: "AKIAVIEWER0000000001".into(),
        credential_kind: CredentialKind::LongTerm,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        token_issued: None,
        via_service: None,
    };
    let params = Value::structure();
    let request = Call { caller: &caller, region: "us-east-1", now: now(), action: "ListAccounts", params: &params };
    assert_eq!(
        error(handle(&mut world, &request).unwrap()),
        ("AccessDeniedException".into(), "You don't have permissions to access this resource.".into(), None)
    );
    let logged = world.authz_log.records().last().unwrap();
    assert_eq!((logged.action.as_str(), logged.allowed), ("organizations:ListAccounts", false));
}
