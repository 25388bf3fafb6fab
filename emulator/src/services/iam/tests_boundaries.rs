//! Tests of permissions boundaries on the IAM wire (the four boundary operations, the member of
//! CreateUser and CreateRole, what Get shows, `iam:PermissionsBoundary`) and of what IAM keeps to
//! AWS: AWS managed policies and the policies of service-linked roles.

use std::net::{IpAddr, Ipv4Addr};

use chrono::TimeZone;
use rstest::rstest;

use super::*;
use crate::{
    principal::{Caller, CredentialKind},
    profile::BehaviourProfile,
};

const ADMIN_KEY: &str = "AKIAWANAADMINA000001";
const TRUST_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const ALLOW_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
const BOUNDARY: &str = "arn:aws:iam::111111111111:policy/Boundary";
const OTHER_BOUNDARY: &str = "arn:aws:iam::111111111111:policy/Other";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().expect("valid time")
}

fn world() -> World {
    let mut world = World::new(BehaviourProfile::default(), now()).with_port(crate::dispatch::pipeline());
    for name in ["Boundary", "Other"] {
        run(&mut world, "CreatePolicy", &[("PolicyName", name), ("PolicyDocument", ALLOW_S3)]).unwrap();
    }
    world
}

fn caller(principal: Principal, key: &str) -> Caller {
    Caller {
        principal,
        access_key_id: key.to_string(),
        credential_kind: CredentialKind::LongTerm,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        token_issued: None,
        via_service: None,
    }
}

fn run_as(world: &mut World, caller: &Caller, action: &str, members: &[(&str, &str)]) -> Result<Value, AwsError> {
    let params = members.iter().fold(Value::structure(), |params, (name, value)| params.with(name, *value));
    let call = Call { caller, region: "us-east-1", now: now(), action, params: &params };
    handle(world, &call).expect("an operation of IAM")
}

fn run(world: &mut World, action: &str, members: &[(&str, &str)]) -> Result<Value, AwsError> {
    let admin = caller(world.principal_of(&world.access_keys[ADMIN_KEY]).expect("the admin user"), ADMIN_KEY);
    run_as(world, &admin, action, members)
}

fn code_and_message(result: Result<impl std::fmt::Debug, AwsError>) -> (String, u16, String) {
    let error = result.expect_err("expected an error");
    (error.code.to_string(), error.status, error.message)
}

fn boundary_of(value: &Value, entity: &str) -> Option<(String, String)> {
    let boundary = value.get(entity)?.get("PermissionsBoundary")?;
    let text = |member: &str| boundary.get(member).and_then(Value::as_str).map(str::to_string);
    Some((text("PermissionsBoundaryType")?, text("PermissionsBoundaryArn")?))
}

/// Creates the entity of `kind` named `name`, with a boundary if one is given.
fn create(world: &mut World, kind: &str, name: &str, boundary: Option<&str>) -> Result<Value, AwsError> {
    let mut members = match kind {
        "User" => vec![("UserName", name)],
        _ => vec![("RoleName", name), ("AssumeRolePolicyDocument", TRUST_EC2)],
    };
    if let Some(boundary) = boundary {
        members.push(("PermissionsBoundary", boundary));
    }
    run(world, &format!("Create{kind}"), &members)
}

#[rstest]
#[case("User", "UserName")]
#[case("Role", "RoleName")]
fn a_boundary_is_set_at_creation_shown_by_get_and_removed(#[case] kind: &str, #[case] member: &str) {
    let mut world = world();
    let created = create(&mut world, kind, "bounded", Some(BOUNDARY)).unwrap();
    let expected = Some(("Policy".to_string(), BOUNDARY.to_string()));
    assert_eq!(boundary_of(&created, kind), expected);
    let got = run(&mut world, &format!("Get{kind}"), &[(member, "bounded")]).unwrap();
    assert_eq!(boundary_of(&got, kind), expected);
    run(&mut world, &format!("Put{kind}PermissionsBoundary"), &[(member, "bounded"), ("PermissionsBoundary", OTHER_BOUNDARY)])
        .unwrap();
    let got = run(&mut world, &format!("Get{kind}"), &[(member, "bounded")]).unwrap();
    assert_eq!(boundary_of(&got, kind), Some(("Policy".to_string(), OTHER_BOUNDARY.to_string())));
    run(&mut world, &format!("Delete{kind}PermissionsBoundary"), &[(member, "bounded")]).unwrap();
    let got = run(&mut world, &format!("Get{kind}"), &[(member, "bounded")]).unwrap();
    assert_eq!(boundary_of(&got, kind), None);
    // Removing a boundary that is not there is not an error.
    run(&mut world, &format!("Delete{kind}PermissionsBoundary"), &[(member, "bounded")]).unwrap();
}

#[rstest]
#[case::unknown_policy(
    "arn:aws:iam::111111111111:policy/Nope",
    ("NoSuchEntity", 404, "Policy arn:aws:iam::111111111111:policy/Nope does not exist or is not attachable.")
)]
#[case::another_accounts_policy(
    "arn:aws:iam::222222222222:policy/Boundary",
    ("NoSuchEntity", 404, "Policy arn:aws:iam::222222222222:policy/Boundary does not exist or is not attachable.")
)]
#[case::not_a_policy_arn(
    "arn:aws:iam::111111111111:role/Boundary",
    ("InvalidInput", 400, "ARN arn:aws:iam::111111111111:role/Boundary is not valid.")
)]
fn a_boundary_must_be_an_attachable_policy(#[case] arn: &str, #[case] expected: (&str, u16, &str)) {
    let expected = (expected.0.to_string(), expected.1, expected.2.to_string());
    for kind in ["User", "Role"] {
        let mut world = world();
        assert_eq!(code_and_message(create(&mut world, kind, "bounded", Some(arn))), expected, "{kind}");
        // Nothing was created.
        let member = if kind == "User" { "UserName" } else { "RoleName" };
        assert_eq!(code_and_message(run(&mut world, &format!("Get{kind}"), &[(member, "bounded")])).0, "NoSuchEntity");
        create(&mut world, kind, "bounded", None).unwrap();
        let put = run(&mut world, &format!("Put{kind}PermissionsBoundary"), &[(member, "bounded"), ("PermissionsBoundary", arn)]);
        assert_eq!(code_and_message(put), expected, "{kind}");
    }
}

#[test]
fn an_aws_managed_policy_can_be_a_boundary() {
    let mut world = world();
    create(&mut world, "User", "reader", Some("arn:aws:iam::aws:policy/ReadOnlyAccess")).unwrap();
    let policy = run(&mut world, "GetPolicy", &[("PolicyArn", "arn:aws:iam::aws:policy/ReadOnlyAccess")]).unwrap();
    assert_eq!(policy.get("Policy").and_then(|p| p.get("PermissionsBoundaryUsageCount")).and_then(Value::as_i64), Some(1));
}

#[test]
fn a_policy_in_use_as_a_boundary_is_counted_listed_and_cannot_be_deleted() {
    let mut world = world();
    create(&mut world, "Role", "bounded", Some(BOUNDARY)).unwrap();
    let policy = run(&mut world, "GetPolicy", &[("PolicyArn", BOUNDARY)]).unwrap();
    let policy = policy.get("Policy").unwrap();
    assert_eq!(policy.get("PermissionsBoundaryUsageCount").and_then(Value::as_i64), Some(1));
    assert_eq!(policy.get("AttachmentCount").and_then(Value::as_i64), Some(0));
    let listed = run(&mut world, "ListPolicies", &[("Scope", "Local"), ("PolicyUsageFilter", "PermissionsBoundary")]).unwrap();
    let names: Vec<&str> =
        listed.get("Policies").unwrap().as_list().iter().filter_map(|p| p.get("PolicyName")?.as_str()).collect();
    assert_eq!(names, ["Boundary"]);
    assert_eq!(
        code_and_message(run(&mut world, "DeletePolicy", &[("PolicyArn", BOUNDARY)])),
        ("DeleteConflict".into(), 409, "Cannot delete a policy attached to entities.".into())
    );
    run(&mut world, "DeleteRolePermissionsBoundary", &[("RoleName", "bounded")]).unwrap();
    run(&mut world, "DeletePolicy", &[("PolicyArn", BOUNDARY)]).unwrap();
}

/// A delegated administrator may set only the one boundary its policy names in
/// `iam:PermissionsBoundary` (the IAM user guide's "delegating permissions management" example).
#[rstest]
#[case::the_allowed_boundary(BOUNDARY, true)]
#[case::another_boundary(OTHER_BOUNDARY, false)]
fn the_boundary_being_set_is_a_condition_key(#[case] boundary: &str, #[case] allowed: bool) {
    let mut world = world();
    let delegate = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["iam:CreateUser","iam:PutUserPermissionsBoundary"],"Resource":"*","Condition":{{"StringEquals":{{"iam:PermissionsBoundary":"{BOUNDARY}"}}}}}}]}}"#
    );
    create(&mut world, "User", "delegate", None).unwrap();
    run(&mut world, "PutUserPolicy", &[("UserName", "delegate"), ("PolicyName", "d"), ("PolicyDocument", &delegate)]).unwrap();
    create(&mut world, "User", "worker", None).unwrap();
    let principal = Principal::User {
        account: "111111111111".into(),
        name: "delegate".into(),
        path: "/".into(),
        user_id: world.iam("111111111111").unwrap().user("delegate").unwrap().id.clone(),
    };
    let delegate = caller(principal, "AKIADELEGATE00000001");
    let put = run_as(&mut world, &delegate, "PutUserPermissionsBoundary", &[("UserName", "worker"), ("PermissionsBoundary", boundary)]);
    let created = run_as(&mut world, &delegate, "CreateUser", &[("UserName", "new"), ("PermissionsBoundary", boundary)]);
    let unbounded = run_as(&mut world, &delegate, "CreateUser", &[("UserName", "free")]);
    assert_eq!(put.is_ok(), allowed, "{put:?}");
    assert_eq!(created.is_ok(), allowed, "{created:?}");
    assert_eq!(
        code_and_message(unbounded).2,
        "User: arn:aws:iam::111111111111:user/delegate is not authorized to perform: iam:CreateUser on resource: \
         arn:aws:iam::111111111111:user/free because no identity-based policy allows the iam:CreateUser action"
    );
    if !allowed {
        assert_eq!(
            code_and_message(put).2,
            "User: arn:aws:iam::111111111111:user/delegate is not authorized to perform: iam:PutUserPermissionsBoundary \
             on resource: user worker because no identity-based policy allows the iam:PutUserPermissionsBoundary action"
        );
    }
}

#[rstest]
#[case::create_version("CreatePolicyVersion", &[("PolicyDocument", ALLOW_S3)])]
#[case::delete_version("DeletePolicyVersion", &[("VersionId", "v1")])]
#[case::set_default_version("SetDefaultPolicyVersion", &[("VersionId", "v1")])]
#[case::delete_policy("DeletePolicy", &[])]
fn aws_managed_policies_cannot_be_changed(#[case] action: &str, #[case] members: &[(&str, &str)]) {
    let mut world = world();
    let arn = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    let mut members = members.to_vec();
    members.push(("PolicyArn", arn));
    assert_eq!(
        code_and_message(run(&mut world, action, &members)),
        ("InvalidInput".into(), 400, format!("Cannot modify or delete the AWS managed policy {arn}."))
    );
    // The policy is as AWS published it.
    let policy = run(&mut world, "GetPolicy", &[("PolicyArn", arn)]).unwrap();
    assert_eq!(policy.get("Policy").and_then(|p| p.get("DefaultVersionId")).and_then(Value::as_str), Some("v1"));
}

#[rstest]
#[case::put_role_policy("PutRolePolicy", &[("PolicyName", "extra"), ("PolicyDocument", ALLOW_S3)])]
#[case::delete_role_policy("DeleteRolePolicy", &[("PolicyName", "extra")])]
#[case::attach_role_policy("AttachRolePolicy", &[("PolicyArn", "arn:aws:iam::aws:policy/ReadOnlyAccess")])]
#[case::detach_role_policy("DetachRolePolicy", &[("PolicyArn", "arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy")])]
#[case::put_boundary("PutRolePermissionsBoundary", &[("PermissionsBoundary", BOUNDARY)])]
#[case::delete_boundary("DeleteRolePermissionsBoundary", &[])]
#[case::update_trust("UpdateAssumeRolePolicy", &[("PolicyDocument", TRUST_EC2)])]
#[case::delete_role("DeleteRole", &[])]
fn a_service_linked_roles_policies_are_awss_alone(#[case] action: &str, #[case] members: &[(&str, &str)]) {
    let mut world = world();
    run(&mut world, "CreateServiceLinkedRole", &[("AWSServiceName", "autoscaling.amazonaws.com")]).unwrap();
    let name = "AWSServiceRoleForAutoScaling";
    let mut members = members.to_vec();
    members.push(("RoleName", name));
    assert_eq!(
        code_and_message(run(&mut world, action, &members)),
        (
            "UnmodifiableEntity".into(),
            400,
            format!("Cannot perform the operation on the protected role '{name}' - this role is only modifiable by AWS")
        )
    );
    let role = world.iam("111111111111").unwrap().role(name).unwrap();
    assert!(role.inline_policies.is_empty() && role.permissions_boundary.is_none());
    assert_eq!(role.attached_policies, ["arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy"]);
}
