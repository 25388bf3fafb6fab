//! Tests of what `request_policies` gathers for a request.

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::{
    profile::BehaviourProfile,
    state::{
        iam::{NewPolicy, NewRole},
        organizations::FeatureSet,
        AccessKey, KeyStatus, Session, SessionPolicies,
    },
};

const A: &str = "111111111111";
const B: &str = "222222222222";
const ALLOW_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole"}]}"#;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().expect("valid time")
}

fn user(world: &World, account: &str, name: &str) -> Principal {
    let user = world.iam(account).unwrap().user(name).unwrap();
    Principal::User { account: account.into(), name: user.name.clone(), path: user.path.clone(), user_id: user.id.clone() }
}

fn ask<'a>(principal: &'a Principal, key: Option<&'a str>) -> Gathering<'a> {
    Gathering { principal, access_key_id: key, action: "s3:GetObject", resource_account: None }
}

#[test]
fn a_users_boundary_is_the_policy_as_it_is_now() {
    let mut world = World::new(BehaviourProfile::default(), now());
    let (iam, ids) = world.iam_and_ids(A).unwrap();
    let arn = iam.create_policy(ids, A, now(), NewPolicy { name: "Edge", document: ALLOW_S3, ..NewPolicy::default() }).unwrap().arn.clone();
    iam.put_user_permissions_boundary("admin", &arn).unwrap();
    let admin = user(&world, A, "admin");
    let gathered = world.request_policies(ask(&admin, None));
    assert_eq!(gathered.boundary.map(|b| b.name), Some(arn));
    assert_eq!(gathered.identity.len(), 1, "AdministratorAccess");
    assert!(gathered.session.is_empty() && gathered.organization.is_empty());
}

#[test]
fn a_role_sessions_policies_come_with_its_key() {
    let mut world = World::new(BehaviourProfile::default(), now());
    world.create_role(A, now(), NewRole { name: "R", trust_policy: TRUST, ..NewRole::default() }).unwrap();
    let inline = NamedPolicy::new("inline session policy", Policy::parse(ALLOW_S3, wana_policy::PolicyKind::Identity).unwrap());
    let gone = "arn:aws:iam::111111111111:policy/Gone".to_string();
    world.access_keys.insert(
        "ASIASESSION".into(),
        AccessKey {
            id: "ASIASESSION".into(),
            secret: "s".into(),
            created: now(),
            status: KeyStatus::Active,
            owner: KeyOwner::Session(Session {
                account: A.into(),
                role_name: "R".into(),
                session_name: "s".into(),
                session_token: "t".into(),
                issued: now(),
                expires: now(),
                source_instance_arn: None,
                policies: SessionPolicies {
                    inline: Some(inline),
                    arns: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into(), gone.clone()],
                },
            }),
        },
    );
    let role = world.iam(A).unwrap().role("R").unwrap().clone();
    let session = Principal::AssumedRole {
        account: A.into(),
        role_name: role.name,
        role_path: role.path,
        role_id: role.id,
        session_name: "s".into(),
    };
    let gathered = world.request_policies(ask(&session, Some("ASIASESSION")));
    let names: Vec<&str> = gathered.session.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["inline session policy", "arn:aws:iam::aws:policy/ReadOnlyAccess", gone.as_str()]);
    // A policy that no longer exists allows nothing.
    assert!(gathered.session[2].policy.statements.is_empty());
    // The same principal through a key without session policies (a service's own session).
    assert!(world.request_policies(ask(&session, None)).session.is_empty());
}

#[test]
fn a_members_requests_meet_the_organizations_scps() {
    let mut world = World::new(BehaviourProfile::default(), now());
    world.create_organization(A, FeatureSet::All, now()).unwrap();
    let org = world.organization.as_mut().unwrap();
    let root = org.root.id.clone();
    org.enable_type(&root, crate::state::organizations::PolicyType::ServiceControl).unwrap();
    let member = user(&world, B, "admin");
    assert_eq!(world.request_policies(ask(&member, None)).organization.scp_levels.len(), 2);
    let management = user(&world, A, "admin");
    assert!(world.request_policies(ask(&management, None)).organization.is_empty());
}
