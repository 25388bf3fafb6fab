//! Tests of the IAM wire: pagination, the model's input constraints (`ValidationError`, checked
//! here before `crate::state::iam` is called) and the operations users and roles share.

use std::net::{IpAddr, Ipv4Addr};

use chrono::TimeZone;
use rstest::rstest;

use super::{
    entity::Entity,
    paging::{decode_marker, encode_marker, paginate, PageRequest},
    validate::Validation,
    *,
};
use crate::{
    principal::{Caller, CredentialKind},
    profile::BehaviourProfile,
};

const ADMIN_KEY: &str = "AKIAWANAADMINA000001";
const TRUST_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const ALLOW_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().expect("valid time")
}

fn world() -> World {
    World::new(BehaviourProfile::default(), now()).with_port(crate::dispatch::pipeline())
}

/// The account's administrator, signing with its long-term key.
fn admin(world: &World) -> Caller {
    let principal = world.principal_of(&world.access_keys[ADMIN_KEY]).expect("the admin user");
    Caller {
        principal,
        access_key_id: ADMIN_KEY.to_string(),
        credential_kind: CredentialKind::LongTerm,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        token_issued: None,
        via_service: None,
    }
}

/// Runs one IAM operation as the administrator, with string members.
fn run(world: &mut World, action: &str, members: &[(&str, &str)]) -> Result<Value, AwsError> {
    let caller = admin(world);
    let params = members.iter().fold(Value::structure(), |params, (name, value)| params.with(*name, *value));
    let call = Call { caller: &caller, region: "us-east-1", now: now(), action, params: &params };
    handle(world, &call).expect("an operation of IAM")
}

fn code_and_message(result: Result<impl std::fmt::Debug, AwsError>) -> (String, u16, String) {
    let error = result.expect_err("expected an error");
    (error.code.to_string(), error.status, error.message)
}

#[test]
fn markers_round_trip_and_pages_split() {
    assert_eq!(decode_marker(&encode_marker(7)), Some(7));
    assert_eq!(decode_marker("garbage"), None);
    let page = PageRequest { start: 0, max_items: 2 };
    let (items, next) = paginate(vec![1, 2, 3], &page);
    assert_eq!(items, [1, 2]);
    let next = next.expect("a second page");
    let page = PageRequest { start: decode_marker(&next).unwrap(), max_items: 2 };
    assert_eq!(paginate(vec![1, 2, 3], &page), (vec![3], None));
}

#[rstest]
#[case("bad name", "1 validation error detected: Value 'bad name' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+")]
#[case(
    "a-very-long-user-name-that-goes-on-and-on-and-on-past-sixty-four-characters",
    "1 validation error detected: Value 'a-very-long-user-name-that-goes-on-and-on-and-on-past-sixty-four-characters' at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64"
)]
fn user_names_follow_the_model(#[case] name: &str, #[case] message: &str) {
    let mut world = world();
    assert_eq!(
        code_and_message(run(&mut world, "CreateUser", &[("UserName", name)])),
        ("ValidationError".into(), 400, message.into())
    );
}

#[rstest]
#[case("/", true)]
#[case("/a/b/", true)]
#[case("a/", false)]
#[case("/a", false)]
#[case("//", false)]
fn paths_follow_the_model(#[case] path: &str, #[case] ok: bool) {
    assert_eq!(Validation::new().path("path", path).finish().is_ok(), ok, "{path}");
}

#[test]
fn a_role_session_may_last_at_most_twelve_hours() {
    let mut world = world();
    let too_long = [("RoleName", "Long"), ("AssumeRolePolicyDocument", TRUST_EC2), ("MaxSessionDuration", "50000")];
    assert_eq!(
        code_and_message(run(&mut world, "CreateRole", &too_long)).2,
        "1 validation error detected: Value '50000' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200"
    );
}

#[test]
fn several_broken_constraints_are_answered_together() {
    let mut world = world();
    assert_eq!(
        code_and_message(run(&mut world, "CreateUser", &[("UserName", ""), ("Path", "x")])).2,
        "3 validation errors detected: Value '' at 'userName' failed to satisfy constraint: Member must have length greater \
         than or equal to 1; Value '' at 'userName' failed to satisfy constraint: Member must satisfy regular expression \
         pattern: [\\w+=,.@-]+; Value 'x' at 'path' failed to satisfy constraint: Member must satisfy regular expression \
         pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"
    );
}

#[test]
fn entities_name_their_actions_and_members() {
    assert_eq!(Entity::User.action("ListAttached", "Policies"), "iam:ListAttachedUserPolicies");
    assert_eq!(Entity::Role.action("List", "Tags"), "iam:ListRoleTags");
    assert_eq!(Entity::Role.action("Tag", ""), "iam:TagRole");
    assert_eq!(Entity::User.member(), ("UserName", "userName"));
}

#[test]
fn users_and_roles_share_their_policy_and_tag_operations() {
    let mut world = world();
    run(&mut world, "CreateUser", &[("UserName", "alice")]).unwrap();
    run(&mut world, "CreateRole", &[("RoleName", "web"), ("AssumeRolePolicyDocument", TRUST_EC2)]).unwrap();
    for (kind, member, name) in [("User", "UserName", "alice"), ("Role", "RoleName", "web")] {
        run(&mut world, &format!("Put{kind}Policy"), &[(member, name), ("PolicyName", "s3"), ("PolicyDocument", ALLOW_S3)])
            .unwrap();
        let got = run(&mut world, &format!("Get{kind}Policy"), &[(member, &name.to_uppercase()), ("PolicyName", "s3")]).unwrap();
        assert_eq!(got.get(member).and_then(Value::as_str), Some(name), "{kind}");
        let missing = run(&mut world, &format!("Get{kind}Policy"), &[(member, name), ("PolicyName", "nope")]);
        let policy_kind = kind.to_lowercase();
        assert_eq!(
            code_and_message(missing),
            ("NoSuchEntity".into(), 404, format!("The {policy_kind} policy with name nope cannot be found."))
        );
        run(&mut world, &format!("Attach{kind}Policy"), &[(member, name), ("PolicyArn", "arn:aws:iam::aws:policy/ReadOnlyAccess")])
            .unwrap();
        let attached = run(&mut world, &format!("ListAttached{kind}Policies"), &[(member, name)]).unwrap();
        assert_eq!(attached.get("AttachedPolicies").map(Value::as_list).map(<[Value]>::len), Some(1), "{kind}");
        let unknown = run(&mut world, &format!("List{kind}Tags"), &[(member, "nobody")]);
        assert_eq!(
            code_and_message(unknown),
            ("NoSuchEntity".into(), 404, format!("The {policy_kind} with name nobody cannot be found."))
        );
    }
    // Tag and inline policy operations take user names of 128 characters, role names of 64.
    let long = "n".repeat(100);
    assert_eq!(code_and_message(run(&mut world, "ListUserTags", &[("UserName", &long)])).0, "NoSuchEntity");
    assert_eq!(
        code_and_message(run(&mut world, "ListRoleTags", &[("RoleName", &long)])).2,
        format!(
            "1 validation error detected: Value '{long}' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64"
        )
    );
}
