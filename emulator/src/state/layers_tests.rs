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
                    inline: Some(Box::new(inline)),
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
    let levels = world.request_policies(ask(&member, None)).organization.scp_levels.unwrap();
    assert_eq!(levels.len(), 2, "the root and the account");
}

// ---------------------------------------------------------------------------------------------
// The layers decide real requests, and AWS's AccessDenied sentence names the layer.

mod requests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use crate::{
        error::AwsError,
        principal::{Caller, CredentialKind},
        services::{self, Call, ServiceId},
        state::organizations::PolicyType,
        value::Value,
    };

    const ONLY_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    const DENY_LIST_USERS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:ListUsers","Resource":"*"}]}"#;
    const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

    fn caller(principal: Principal, key: &str) -> Caller {
        Caller {
            principal,
            access_key_id: key.to_string(),
            credential_kind: if key.starts_with("ASIA") { CredentialKind::Temporary } else { CredentialKind::LongTerm },
            source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            token_issued: None,
            via_service: None,
        }
    }

    fn send(world: &mut World, caller: &Caller, service: ServiceId, action: &str, params: Value) -> Result<Value, AwsError> {
        let call = Call { caller, region: "us-east-1", now: now(), action, params: &params };
        services::handle(service, world, &call).expect("an operation")
    }

    fn list_users(world: &mut World, caller: &Caller) -> Result<Value, AwsError> {
        send(world, caller, ServiceId::Iam, "ListUsers", Value::structure())
    }

    fn denied(result: Result<Value, AwsError>) -> String {
        let error = result.expect_err("denied");
        assert_eq!((error.code.as_ref(), error.status), ("AccessDenied", 403));
        error.message
    }

    fn admin_of(world: &World, key: &str) -> Caller {
        caller(world.principal_of(&world.access_keys[key]).unwrap(), key)
    }

    #[test]
    fn a_permissions_boundary_caps_an_administrator() {
        let mut world = World::new(BehaviourProfile::default(), now());
        let (iam, ids) = world.iam_and_ids(A).unwrap();
        let edge = iam.create_policy(ids, A, now(), NewPolicy { name: "Edge", document: ONLY_S3, ..NewPolicy::default() }).unwrap().arn.clone();
        iam.create_user(ids, A, now(), "bounded", None, Vec::new()).unwrap();
        iam.attach_user_policy("bounded", ADMIN).unwrap();
        iam.put_user_permissions_boundary("bounded", &edge).unwrap();
        let bounded = caller(user(&world, A, "bounded"), "AKIABOUNDED000000001");
        assert_eq!(
            denied(list_users(&mut world, &bounded)),
            "User: arn:aws:iam::111111111111:user/bounded is not authorized to perform: iam:ListUsers on resource: \
             arn:aws:iam::111111111111:user/ because no permissions boundary allows the iam:ListUsers action"
        );
        world.iam_mut(A).unwrap().delete_user_permissions_boundary("bounded").unwrap();
        list_users(&mut world, &bounded).unwrap();
    }

    #[test]
    fn a_session_policy_caps_its_session() {
        let mut world = World::new(BehaviourProfile::default(), now());
        world.create_role(A, now(), NewRole { name: "Ops", trust_policy: TRUST, ..NewRole::default() }).unwrap();
        world.iam_mut(A).unwrap().attach_role_policy("Ops", ADMIN).unwrap();
        let admin = admin_of(&world, "AKIAWANAADMINA000001");
        let assume = |policy: Option<&str>| {
            let params = Value::structure().with("RoleArn", "arn:aws:iam::111111111111:role/Ops").with("RoleSessionName", "ops");
            policy.map_or(params.clone(), |p| params.with("Policy", p))
        };
        for (policy, allowed) in [(Some(ONLY_S3), false), (None, true)] {
            let answer = send(&mut world, &admin, ServiceId::Sts, "AssumeRole", assume(policy)).unwrap();
            let key = answer.get("Credentials").and_then(|c| c.get("AccessKeyId")).and_then(Value::as_str).unwrap().to_string();
            let session = caller(world.principal_of(&world.access_keys[&key]).unwrap(), &key);
            let listed = list_users(&mut world, &session);
            assert_eq!(listed.is_ok(), allowed, "{policy:?}");
            if !allowed {
                assert_eq!(
                    denied(listed),
                    "User: arn:aws:sts::111111111111:assumed-role/Ops/ops is not authorized to perform: iam:ListUsers on \
                     resource: arn:aws:iam::111111111111:user/ because no session policy allows the iam:ListUsers action"
                );
            }
        }
    }

    /// An organization over a, b and c with SCPs enabled, `DenyListUsers` attached to `target`.
    fn organization_denying_list_users(target: &str) -> World {
        let mut world = World::new(BehaviourProfile::default(), now());
        world.create_organization(A, FeatureSet::All, now()).unwrap();
        let suffix = world.ids.lower_suffix("p", 10);
        let org = world.organization.as_mut().unwrap();
        let root = org.root.id.clone();
        org.enable_type(&root, PolicyType::ServiceControl).unwrap();
        let spec = crate::state::organizations::NewPolicy {
            name: "DenyListUsers",
            description: "",
            kind: PolicyType::ServiceControl,
            content: DENY_LIST_USERS,
        };
        let id = org.create_policy(suffix, spec).unwrap().id.clone();
        org.attach_policy(&id, target).unwrap();
        world
    }

    #[test]
    fn an_scp_denies_a_members_administrator_but_not_the_management_account() {
        let mut world = organization_denying_list_users(B);
        let b = admin_of(&world, "AKIAWANAADMINB000002");
        assert_eq!(
            denied(list_users(&mut world, &b)),
            "User: arn:aws:iam::222222222222:user/admin is not authorized to perform: iam:ListUsers on resource: \
             arn:aws:iam::222222222222:user/ with an explicit deny in a service control policy"
        );
        let mut world = organization_denying_list_users(A);
        let a = admin_of(&world, "AKIAWANAADMINA000001");
        list_users(&mut world, &a).unwrap();
    }

    #[test]
    fn a_level_without_an_allowing_scp_denies_implicitly() {
        let mut world = World::new(BehaviourProfile::default(), now());
        world.create_organization(A, FeatureSet::All, now()).unwrap();
        let suffix = world.ids.lower_suffix("p", 10);
        let org = world.organization.as_mut().unwrap();
        let root = org.root.id.clone();
        org.enable_type(&root, PolicyType::ServiceControl).unwrap();
        let spec = crate::state::organizations::NewPolicy {
            name: "OnlyS3",
            description: "",
            kind: PolicyType::ServiceControl,
            content: ONLY_S3,
        };
        let id = org.create_policy(suffix, spec).unwrap().id.clone();
        org.attach_policy(&id, B).unwrap();
        org.detach_policy("p-FullAWSAccess", B).unwrap();
        let b = admin_of(&world, "AKIAWANAADMINB000002");
        assert_eq!(
            denied(list_users(&mut world, &b)),
            "User: arn:aws:iam::222222222222:user/admin is not authorized to perform: iam:ListUsers on resource: \
             arn:aws:iam::222222222222:user/ because no service control policy allows the iam:ListUsers action"
        );
        let logged = world.authz_log.records().last().unwrap();
        assert!(!logged.allowed);
    }

    #[test]
    fn an_rcp_denies_access_to_a_members_key() {
        let mut world = World::new(BehaviourProfile::default(), now());
        let b = admin_of(&world, "AKIAWANAADMINB000002");
        let key = send(&mut world, &b, ServiceId::Kms, "CreateKey", Value::structure()).unwrap();
        let key_id = key.get("KeyMetadata").and_then(|m| m.get("KeyId")).and_then(Value::as_str).unwrap().to_string();
        let describe = Value::structure().with("KeyId", key_id.as_str());
        send(&mut world, &b, ServiceId::Kms, "DescribeKey", describe.clone()).unwrap();
        world.create_organization(A, FeatureSet::All, now()).unwrap();
        let suffix = world.ids.lower_suffix("p", 10);
        let org = world.organization.as_mut().unwrap();
        let root = org.root.id.clone();
        org.enable_type(&root, PolicyType::ResourceControl).unwrap();
        let spec = crate::state::organizations::NewPolicy {
            name: "NoKms",
            description: "",
            kind: PolicyType::ResourceControl,
            content: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:DescribeKey","Resource":"*"}]}"#,
        };
        let id = org.create_policy(suffix, spec).unwrap().id.clone();
        org.attach_policy(&id, B).unwrap();
        let error = send(&mut world, &b, ServiceId::Kms, "DescribeKey", describe).expect_err("denied by the RCP");
        assert_eq!(error.code, "AccessDeniedException");
        assert!(error.message.ends_with("with an explicit deny in a resource control policy"), "{}", error.message);
    }
}
