//! Tests of the propagation windows: what a request meets inside and after each window, and
//! what the authorization log says of it.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::{
    authz::{AuthzRequest, RequestFacts},
    principal::{Caller, CredentialKind},
    profile::BehaviourProfile,
    services::{Call, ServiceId},
    state::{
        iam::NewRole,
        kms::{self, NewGrant, NewKey},
    },
    value::Value,
};

const A: &str = "111111111111";
const REGION: &str = "us-east-1";
const ALLOW_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#;
const TRUST_ACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}"#;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().expect("valid time")
}

fn world(windows: &str) -> World {
    let faults: FaultProfile = windows.parse().unwrap();
    World::new(BehaviourProfile::default(), now())
        .with_port(crate::dispatch::pipeline())
        .with_propagation(Propagation::of(&faults))
}

fn caller(principal: Principal) -> Caller {
    Caller {
        principal,
        access_key_id: "AKIAWANATEST00000001".to_string(),
        credential_kind: CredentialKind::LongTerm,
        source_ip: std::net::IpAddr::from([127, 0, 0, 1]),
        token_issued: None,
        via_service: None,
    }
}

fn user(world: &mut World, name: &str) -> Caller {
    let (iam, ids) = world.iam_and_ids(A).unwrap();
    let user = iam.create_user(ids, A, now(), name, None, Vec::new()).unwrap().clone();
    caller(Principal::User { account: A.to_string(), name: user.name, path: user.path, user_id: user.id })
}

fn admin(world: &World) -> Caller {
    let user = world.iam(A).unwrap().user("admin").unwrap();
    caller(Principal::User { account: A.into(), name: user.name.clone(), path: user.path.clone(), user_id: user.id.clone() })
}

fn list_buckets_allowed(world: &mut World, who: &Caller, at: DateTime<Utc>) -> bool {
    let facts = RequestFacts { caller: who, now: at, region: REGION };
    world.authorize(facts, &AuthzRequest::new("s3:ListAllMyBuckets", "*")).is_allowed()
}

fn last_explanation(world: &World) -> String {
    world.authz_log.records().last().map(|r| r.explanation.clone()).unwrap_or_default()
}

#[test]
fn an_identity_policy_change_applies_only_after_the_iam_window() {
    let mut world = world("iam-propagation=5s");
    let dev = user(&mut world, "dev");
    world
        .change_identity_policies(A, EntityKind::User, "dev", now(), |iam| iam.put_user_policy("dev", "s3", ALLOW_S3))
        .unwrap();
    // IAM itself shows the new policy at once; the authorization does not use it yet.
    assert!(world.iam(A).unwrap().user("dev").unwrap().inline_policies.contains_key("s3"));
    assert!(!list_buckets_allowed(&mut world, &dev, now() + Duration::seconds(4)));
    assert!(last_explanation(&world).contains("not yet propagated"), "{}", last_explanation(&world));
    assert!(list_buckets_allowed(&mut world, &dev, now() + Duration::seconds(5)));
    assert!(!last_explanation(&world).contains("not yet propagated"));

    // Removing it: the allow stays in force for the window, then goes.
    let later = now() + Duration::seconds(60);
    world
        .change_identity_policies(A, EntityKind::User, "dev", later, |iam| iam.delete_user_policy("dev", "s3"))
        .unwrap();
    assert!(list_buckets_allowed(&mut world, &dev, later + Duration::seconds(1)));
    assert!(last_explanation(&world).contains("not yet propagated"));
    assert!(!list_buckets_allowed(&mut world, &dev, later + Duration::seconds(5)));
}

#[test]
fn without_a_window_a_change_applies_at_once_and_a_failed_change_opens_none() {
    let mut world = world("none");
    let dev = user(&mut world, "dev");
    world
        .change_identity_policies(A, EntityKind::User, "dev", now(), |iam| iam.put_user_policy("dev", "s3", ALLOW_S3))
        .unwrap();
    assert!(list_buckets_allowed(&mut world, &dev, now()));

    let mut world = self::world("iam-propagation=5s");
    user(&mut world, "ops");
    let refused = world.change_identity_policies(A, EntityKind::User, "ops", now(), |iam| iam.put_user_policy("ops", "bad", "{"));
    assert!(refused.is_err());
    assert!(world.iam(A).unwrap().unpropagated.is_empty());
}

fn assume(world: &mut World, by: &Caller, at: DateTime<Utc>) -> Result<Value, crate::error::AwsError> {
    let params = Value::structure()
        .with("RoleArn", "arn:aws:iam::111111111111:role/fresh")
        .with("RoleSessionName", "session");
    let call = Call { caller: by, region: REGION, now: at, action: "AssumeRole", params: &params };
    crate::services::handle(ServiceId::Sts, world, &call).unwrap()
}

#[test]
fn a_new_role_cannot_be_assumed_within_the_role_window() {
    let mut world = world("role-propagation=10s");
    world.create_role(A, now(), NewRole { name: "fresh", trust_policy: TRUST_ACCOUNT, ..NewRole::default() }).unwrap();
    let admin = admin(&world);
    let refused = assume(&mut world, &admin, now() + Duration::seconds(9)).unwrap_err();
    assert_eq!((refused.code.as_ref(), refused.status), ("AccessDenied", 403));
    assert_eq!(
        refused.message,
        "User: arn:aws:iam::111111111111:user/admin is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/fresh"
    );
    assert!(last_explanation(&world).starts_with("not yet propagated"), "{}", last_explanation(&world));
    assert!(assume(&mut world, &admin, now() + Duration::seconds(10)).is_ok());
}

#[test]
fn a_new_grant_is_usable_within_the_window_only_with_its_token() {
    let mut world = world("grant-propagation=5s");
    let admin = admin(&world);
    let app = user(&mut world, "app");
    let at = |s: i64| now() + Duration::seconds(s);
    let facts = |who, s| RequestFacts { caller: who, now: at(s), region: REGION };
    let key = kms::create_key(&mut world, facts(&admin, 0), NewKey::default()).unwrap();
    let grant = NewGrant {
        grantee: app.principal.arn(),
        retiring: None,
        operations: vec!["Encrypt".to_string()],
        constraints: None,
        name: None,
    };
    let (_, token) = kms::create_grant(&mut world, facts(&admin, 0), &key.id, &grant, None).unwrap();
    let context = kms::EncryptionContext::new();

    let refused = kms::encrypt(&mut world, facts(&app, 4), &key.arn, b"x", &context).unwrap_err();
    assert_eq!(refused.code, "AccessDeniedException");
    assert!(last_explanation(&world).contains("not yet propagated: grant"), "{}", last_explanation(&world));
    let with_token = kms::with_grant_tokens(&mut world, vec![token], |world| {
        kms::encrypt(world, facts(&app, 4), &key.arn, b"x", &context)
    });
    assert!(with_token.is_ok(), "{with_token:?}");
    assert!(kms::encrypt(&mut world, facts(&app, 5), &key.arn, b"x", &context).is_ok());
}
