//! Tests of the IAM model. The input constraints (`ValidationError`) are the wire's: their
//! tests are in `crate::services::iam`.

use chrono::TimeZone;
use rstest::rstest;

use super::*;
use crate::{
    profile::BehaviourProfile,
    state::{KeyStatus, World},
};

const ACCOUNT: &str = "111111111111";
const TRUST_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const ALLOW_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().expect("valid time")
}

fn world() -> World {
    World::new(BehaviourProfile::default(), now()).with_port(crate::dispatch::pipeline())
}

fn role_spec(name: &str) -> NewRole<'_> {
    NewRole { name, trust_policy: TRUST_EC2, ..NewRole::default() }
}

fn code_and_message(result: Result<impl std::fmt::Debug, AwsError>) -> (String, u16, String) {
    let error = result.expect_err("expected an error");
    (error.code.to_string(), error.status, error.message)
}

#[test]
fn users_are_created_once_and_found_regardless_of_case() {
    let mut world = world();
    let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
    let user = iam.create_user(ids, ACCOUNT, now(), "Alice", Some("/team/"), Vec::new()).unwrap();
    assert_eq!(user.arn, "arn:aws:iam::111111111111:user/team/Alice");
    assert!(user.id.starts_with("AIDA") && user.id.len() == 21);
    assert_eq!(iam.user("alice").unwrap().name, "Alice");
    assert_eq!(
        code_and_message(iam.create_user(ids, ACCOUNT, now(), "ALICE", None, Vec::new())),
        ("EntityAlreadyExists".into(), 409, "User with name ALICE already exists.".into())
    );
    assert_eq!(
        code_and_message(iam.user("bob")),
        ("NoSuchEntity".into(), 404, "The user with name bob cannot be found.".into())
    );
}

#[test]
fn a_user_keeps_at_most_two_access_keys() {
    let mut world = world();
    let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
    iam.create_user(ids, ACCOUNT, now(), "alice", None, Vec::new()).unwrap();
    let first = world.create_access_key(ACCOUNT, "alice", now()).unwrap();
    assert!(first.id.starts_with("AKIA") && first.secret.len() == 40);
    world.create_access_key(ACCOUNT, "alice", now()).unwrap();
    assert_eq!(
        code_and_message(world.create_access_key(ACCOUNT, "alice", now())),
        ("LimitExceeded".into(), 409, "Cannot exceed quota for AccessKeysPerUser: 2".into())
    );
    world.update_access_key(ACCOUNT, "alice", &first.id, "Inactive").unwrap();
    assert_eq!(world.access_keys[&first.id].status, KeyStatus::Inactive);
    world.delete_access_key(ACCOUNT, "alice", &first.id).unwrap();
    assert_eq!(world.access_keys_of(ACCOUNT, "alice").unwrap().1.len(), 1);
    assert_eq!(
        code_and_message(world.delete_access_key(ACCOUNT, "alice", &first.id)),
        ("NoSuchEntity".into(), 404, format!("The Access Key with id {} cannot be found.", first.id))
    );
}

#[test]
fn another_users_key_is_not_found() {
    let mut world = world();
    let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
    iam.create_user(ids, ACCOUNT, now(), "alice", None, Vec::new()).unwrap();
    let admin_key = world.access_keys_of(ACCOUNT, "admin").unwrap().1[0].id.clone();
    assert_eq!(code_and_message(world.delete_access_key(ACCOUNT, "alice", &admin_key)).0, "NoSuchEntity");
}

#[test]
fn deleting_a_user_needs_its_keys_and_policies_gone_first() {
    let mut world = world();
    let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
    iam.create_user(ids, ACCOUNT, now(), "alice", None, Vec::new()).unwrap();
    iam.put_user_policy("alice", "s3", ALLOW_S3).unwrap();
    iam.attach_user_policy("alice", "arn:aws:iam::aws:policy/ReadOnlyAccess").unwrap();
    let key = world.create_access_key(ACCOUNT, "alice", now()).unwrap();
    let conflict = |world: &mut World| code_and_message(world.delete_user(ACCOUNT, "alice"));
    assert_eq!(
        conflict(&mut world),
        ("DeleteConflict".into(), 409, "Cannot delete entity, must delete access keys first.".into())
    );
    world.delete_access_key(ACCOUNT, "alice", &key.id).unwrap();
    assert_eq!(conflict(&mut world).2, "Cannot delete entity, must delete policies first.");
    world.iam_mut(ACCOUNT).unwrap().delete_user_policy("alice", "s3").unwrap();
    assert_eq!(conflict(&mut world).2, "Cannot delete entity, must detach all policies first.");
    world
        .iam_mut(ACCOUNT)
        .unwrap()
        .detach_user_policy("alice", "arn:aws:iam::aws:policy/ReadOnlyAccess")
        .unwrap();
    world.delete_user(ACCOUNT, "alice").unwrap();
    assert!(world.iam(ACCOUNT).unwrap().user("alice").is_err());
}

#[test]
fn renaming_a_user_moves_its_keys() {
    let mut world = world();
    let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
    iam.create_user(ids, ACCOUNT, now(), "alice", None, Vec::new()).unwrap();
    let key = world.create_access_key(ACCOUNT, "alice", now()).unwrap();
    world.update_user(ACCOUNT, "alice", Some("alicia"), Some("/people/")).unwrap();
    let user = world.iam(ACCOUNT).unwrap().user("alicia").unwrap();
    assert_eq!(user.arn, "arn:aws:iam::111111111111:user/people/alicia");
    assert!(world.principal_of(&world.access_keys[&key.id]).is_some());
}

#[test]
fn roles_parse_their_trust_policy() {
    let mut world = world();
    let role = world.create_role(ACCOUNT, now(), role_spec("Web")).unwrap();
    assert_eq!(role.max_session_duration, 3600);
    assert!(role.id.starts_with("AROA"));
    let identity_policy_as_trust = NewRole { trust_policy: ALLOW_S3, ..role_spec("Other") };
    assert_eq!(
        code_and_message(world.create_role(ACCOUNT, now(), identity_policy_as_trust)).0,
        "MalformedPolicyDocument"
    );
    assert_eq!(
        code_and_message(world.create_role(ACCOUNT, now(), role_spec("web"))),
        ("EntityAlreadyExists".into(), 409, "Role with name web already exists.".into())
    );
}

#[test]
fn trust_policies_must_name_existing_principals_of_known_accounts() {
    let mut world = world();
    let trusting = |arn: &str| {
        format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{arn}"}},"Action":"sts:AssumeRole"}}]}}"#)
    };
    let missing = trusting("arn:aws:iam::222222222222:role/Nobody");
    assert_eq!(
        code_and_message(world.create_role(ACCOUNT, now(), NewRole { trust_policy: &missing, ..role_spec("R") })),
        (
            "MalformedPolicyDocument".into(),
            400,
            "Invalid principal in policy: \"AWS\":\"arn:aws:iam::222222222222:role/Nobody\"".into()
        )
    );
    let admin = trusting("arn:aws:iam::222222222222:user/admin");
    world.create_role(ACCOUNT, now(), NewRole { trust_policy: &admin, ..role_spec("R") }).unwrap();
    let unknown_account = trusting("arn:aws:iam::999999999999:role/Whatever");
    world.create_role(ACCOUNT, now(), NewRole { trust_policy: &unknown_account, ..role_spec("S") }).unwrap();
}

#[test]
fn an_instance_profile_holds_one_role() {
    let mut world = world();
    world.create_role(ACCOUNT, now(), role_spec("R1")).unwrap();
    world.create_role(ACCOUNT, now(), role_spec("R2")).unwrap();
    let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
    let profile = iam.create_instance_profile(ids, ACCOUNT, now(), "P", None, Vec::new()).unwrap();
    assert!(profile.id.starts_with("AIPA"));
    assert_eq!(
        code_and_message(iam.create_instance_profile(ids, ACCOUNT, now(), "P", None, Vec::new())),
        ("EntityAlreadyExists".into(), 409, "Instance Profile P already exists.".into())
    );
    iam.add_role_to_instance_profile("P", "R1").unwrap();
    let quota = ("LimitExceeded".to_string(), 409, "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1".to_string());
    assert_eq!(code_and_message(iam.add_role_to_instance_profile("P", "R2")), quota);
    assert_eq!(code_and_message(iam.add_role_to_instance_profile("P", "R1")), quota);
    assert_eq!(
        code_and_message(iam.add_role_to_instance_profile("Q", "R1")),
        ("NoSuchEntity".into(), 404, "Instance Profile Q cannot be found.".into())
    );
    assert_eq!(
        code_and_message(iam.delete_role("R1")).2,
        "Cannot delete entity, must remove roles from instance profile first."
    );
    assert_eq!(
        code_and_message(iam.delete_instance_profile("P")),
        ("DeleteConflict".into(), 409, "Cannot delete entity, must remove roles from instance profile first.".into())
    );
    assert_eq!(iam.instance_profiles_for_role("R1").unwrap().len(), 1);
    iam.remove_role_from_instance_profile("P", "R1").unwrap();
    iam.delete_instance_profile("P").unwrap();
    iam.delete_role("R1").unwrap();
    assert_eq!(
        code_and_message(iam.role("R1")),
        ("NoSuchEntity".into(), 404, "The role with name R1 cannot be found.".into())
    );
}

#[test]
fn deleting_a_role_needs_its_policies_gone_first() {
    let mut world = world();
    world.create_role(ACCOUNT, now(), role_spec("R")).unwrap();
    let iam = world.iam_mut(ACCOUNT).unwrap();
    iam.put_role_policy("R", "inline", ALLOW_S3).unwrap();
    iam.attach_role_policy("R", "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore").unwrap();
    assert_eq!(code_and_message(iam.delete_role("R")).2, "Cannot delete entity, must delete policies first.");
    iam.delete_role_policy("R", "inline").unwrap();
    assert_eq!(
        code_and_message(iam.delete_role_policy("R", "inline")),
        ("NoSuchEntity".into(), 404, "The role policy with name inline cannot be found.".into())
    );
    assert_eq!(code_and_message(iam.delete_role("R")).2, "Cannot delete entity, must detach all policies first.");
    iam.detach_role_policy("R", "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore").unwrap();
    iam.delete_role("R").unwrap();
}

#[test]
fn inline_policies_are_identity_policies() {
    let mut world = world();
    let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
    iam.create_user(ids, ACCOUNT, now(), "alice", None, Vec::new()).unwrap();
    let with_principal = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#;
    assert_eq!(
        code_and_message(iam.put_user_policy("alice", "p", with_principal)),
        ("MalformedPolicyDocument".into(), 400, "Policy document should not specify a principal.".into())
    );
    assert_eq!(
        code_and_message(iam.user_policy("alice", "p")),
        ("NoSuchEntity".into(), 404, "The user policy with name p cannot be found.".into())
    );
    let big = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{}"}}]}}"#,
        "b".repeat(2100)
    );
    assert_eq!(
        code_and_message(iam.put_user_policy("alice", "big", &big)),
        ("LimitExceeded".into(), 409, "Maximum policy size of 2048 bytes exceeded for user alice".into())
    );
}

#[test]
fn attaching_needs_an_attachable_policy_and_respects_the_quota() {
    let mut world = world();
    world.create_role(ACCOUNT, now(), role_spec("R")).unwrap();
    let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
    assert_eq!(
        code_and_message(iam.attach_role_policy("R", "arn:aws:iam::aws:policy/Nope")),
        ("NoSuchEntity".into(), 404, "Policy arn:aws:iam::aws:policy/Nope does not exist or is not attachable.".into())
    );
    assert_eq!(
        code_and_message(iam.attach_role_policy("R", "arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy")),
        ("PolicyNotAttachable".into(), 400, "Cannot attach a Service Role Policy to a Customer Role.".into())
    );
    assert_eq!(
        code_and_message(iam.detach_role_policy("R", "arn:aws:iam::aws:policy/ReadOnlyAccess")),
        ("NoSuchEntity".into(), 404, "Policy arn:aws:iam::aws:policy/ReadOnlyAccess was not found.".into())
    );
    for i in 0..MANAGED_POLICIES_PER_ROLE {
        let name = format!("P{i}");
        let spec = NewPolicy { name: &name, document: ALLOW_S3, ..NewPolicy::default() };
        let arn = iam.create_policy(ids, ACCOUNT, now(), spec).unwrap().arn.clone();
        iam.attach_role_policy("R", &arn).unwrap();
        iam.attach_role_policy("R", &arn).unwrap();
    }
    assert_eq!(
        code_and_message(iam.attach_role_policy("R", "arn:aws:iam::aws:policy/ReadOnlyAccess")),
        ("LimitExceeded".into(), 409, "Cannot exceed quota for PoliciesPerRole: 10".into())
    );
    assert_eq!(iam.attachment_count("arn:aws:iam::111111111111:policy/P0"), 1);
    assert_eq!(iam.list_policies(PolicyScope::Local, true, None).len(), 10);
}

#[test]
fn managed_policies_keep_five_versions_and_refuse_deletion_while_in_use() {
    let mut world = world();
    let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
    let spec = NewPolicy { name: "P", path: Some("/x/"), document: ALLOW_S3, ..NewPolicy::default() };
    let policy = iam.create_policy(ids, ACCOUNT, now(), spec).unwrap();
    let arn = policy.arn.clone();
    assert_eq!(arn, "arn:aws:iam::111111111111:policy/x/P");
    assert!(policy.id.starts_with("ANPA"));
    assert_eq!(
        code_and_message(iam.create_policy(ids, ACCOUNT, now(), NewPolicy { name: "p", document: ALLOW_S3, ..NewPolicy::default() })),
        ("EntityAlreadyExists".into(), 409, "A policy called p already exists. Duplicate names are not allowed.".into())
    );
    for expected in ["v2", "v3", "v4", "v5"] {
        assert_eq!(iam.create_policy_version(now(), &arn, ALLOW_S3, false).unwrap().version_id, expected);
    }
    assert_eq!(
        code_and_message(iam.create_policy_version(now(), &arn, ALLOW_S3, true)).0,
        "LimitExceeded"
    );
    assert_eq!(
        code_and_message(iam.delete_policy_version(&arn, "v1")).2,
        "Cannot delete the default version of a policy."
    );
    iam.delete_policy_version(&arn, "v5").unwrap();
    let v6 = iam.create_policy_version(now(), &arn, ALLOW_S3, true).unwrap();
    assert_eq!((v6.version_id, v6.is_default), ("v6", true));
    assert_eq!(iam.policy(&arn).unwrap().default_version_id(), "v6");
    assert_eq!(code_and_message(iam.delete_policy(&arn)).0, "DeleteConflict");
    for version in ["v1", "v2", "v3", "v4"] {
        iam.delete_policy_version(&arn, version).unwrap();
    }
    iam.create_user(ids, ACCOUNT, now(), "alice", None, Vec::new()).unwrap();
    iam.attach_user_policy("alice", &arn).unwrap();
    assert_eq!(
        code_and_message(iam.delete_policy(&arn)),
        ("DeleteConflict".into(), 409, "Cannot delete a policy attached to entities.".into())
    );
    iam.detach_user_policy("alice", &arn).unwrap();
    iam.delete_policy(&arn).unwrap();
    assert_eq!(
        code_and_message(iam.policy(&arn)),
        ("NoSuchEntity".into(), 404, format!("Policy {arn} was not found."))
    );
}

#[test]
fn managed_policies_need_the_current_language() {
    let mut world = world();
    let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
    let legacy = r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    assert_eq!(
        code_and_message(iam.create_policy(ids, ACCOUNT, now(), NewPolicy { name: "P", document: legacy, ..NewPolicy::default() })),
        ("MalformedPolicyDocument".into(), 400, "Policy document must be version 2012-10-17 or greater.".into())
    );
    // Without a Version, IAM names the version before the statement's own fault (an action
    // without a service prefix), as issue 13 recorded from IAM.
    let unversioned = r#"{"Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}"#;
    assert_eq!(
        code_and_message(iam.create_policy(ids, ACCOUNT, now(), NewPolicy { name: "Q", document: unversioned, ..NewPolicy::default() })),
        ("MalformedPolicyDocument".into(), 400, "Policy document must be version 2012-10-17 or greater.".into())
    );
}

#[test]
fn aws_managed_policies_are_listed_and_read() {
    let world = world();
    let iam = world.iam(ACCOUNT).unwrap();
    let admin = iam.policy("arn:aws:iam::aws:policy/AdministratorAccess").unwrap();
    assert_eq!((admin.id(), admin.default_version_id()), ("ANPAIWMBCKSKIEE64ZLYK", "v1"));
    assert_eq!(iam.attachment_count("arn:aws:iam::aws:policy/AdministratorAccess"), 1);
    let attached = iam.list_policies(PolicyScope::All, true, None);
    assert_eq!(attached.iter().map(|p| p.name()).collect::<Vec<_>>(), ["AdministratorAccess"]);
    assert!(iam.list_policies(PolicyScope::Aws, false, Some("/aws-service-role/")).len() >= 2);
    assert!(iam.policy_version("arn:aws:iam::aws:policy/AdministratorAccess", "v1").unwrap().is_default);
    assert_eq!(
        code_and_message(iam.policy("not-an-arn-but-long-enough")),
        ("InvalidInput".into(), 400, "ARN not-an-arn-but-long-enough is not valid.".into())
    );
}

#[test]
fn service_linked_roles_are_named_after_their_service_and_protected() {
    let mut world = world();
    let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
    let role = iam.create_service_linked_role(ids, ACCOUNT, now(), "autoscaling.amazonaws.com", None, None).unwrap();
    assert_eq!(role.name, "AWSServiceRoleForAutoScaling");
    assert_eq!(role.path, "/aws-service-role/autoscaling.amazonaws.com/");
    assert_eq!(
        role.arn,
        "arn:aws:iam::111111111111:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    );
    assert_eq!(role.attached_policies, ["arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy"]);
    assert_eq!(
        code_and_message(iam.create_service_linked_role(ids, ACCOUNT, now(), "autoscaling.amazonaws.com", None, None)),
        (
            "InvalidInput".into(),
            400,
            "Service role name AWSServiceRoleForAutoScaling has been taken in this account, please try a different suffix."
                .into()
        )
    );
    let events = iam.create_service_linked_role(ids, ACCOUNT, now(), "events.amazonaws.com", None, None).unwrap();
    assert_eq!(events.name, "AWSServiceRoleForCloudWatchEvents");
    let other = iam.create_service_linked_role(ids, ACCOUNT, now(), "foo-bar.amazonaws.com", None, None).unwrap();
    assert_eq!(other.name, "AWSServiceRoleForFooBar");
    assert_eq!(
        code_and_message(iam.delete_role("AWSServiceRoleForAutoScaling")),
        (
            "UnmodifiableEntity".into(),
            400,
            "Cannot perform the operation on the protected role 'AWSServiceRoleForAutoScaling' - this role is only modifiable by AWS".into()
        )
    );
}

#[test]
fn tags_merge_case_insensitively_and_refuse_duplicates() {
    let mut world = world();
    let tag = |k: &str, v: &str| Tag { key: k.into(), value: v.into() };
    let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
    assert_eq!(
        code_and_message(iam.create_user(ids, ACCOUNT, now(), "u", None, vec![tag("a", "1"), tag("A", "2")])).0,
        "InvalidInput"
    );
    let id = iam.create_user(ids, ACCOUNT, now(), "u", None, vec![tag("team", "x")]).unwrap().id.clone();
    iam.tag_user("u", vec![tag("TEAM", "y"), tag("env", "dev")]).unwrap();
    assert_eq!(iam.tags_of(&id), [tag("TEAM", "y"), tag("env", "dev")]);
    iam.untag_user("u", &["team".to_string()]).unwrap();
    assert_eq!(iam.tags_of(&id), [tag("env", "dev")]);
}

#[rstest]
#[case(r#"{"a": "b c"}"#, "%7B%22a%22%3A%20%22b%20c%22%7D")]
#[case("s3:*\n", "s3%3A*%0A")]
#[case("ü~", "%C3%BC%7E")]
fn documents_are_url_encoded_like_iam(#[case] text: &str, #[case] encoded: &str) {
    assert_eq!(encode_document(text), encoded);
}

#[test]
fn policy_sizes_ignore_whitespace() {
    assert_eq!(policy_size("{ \"a\" :\n 1 }"), 7);
}

#[test]
fn an_account_alias_is_unique_across_accounts_and_replaced_by_a_new_one() {
    let mut world = world();
    assert_eq!(world.account_aliases(ACCOUNT).unwrap(), Vec::<String>::new());
    world.create_account_alias(ACCOUNT, "acme-sandbox").unwrap();
    world.create_account_alias(ACCOUNT, "acme-prod").unwrap();
    assert_eq!(world.account_aliases(ACCOUNT).unwrap(), ["acme-prod"], "one alias per account");
    let (code, status, message) = code_and_message(world.create_account_alias("222222222222", "acme-prod"));
    assert_eq!((code.as_str(), status), ("EntityAlreadyExists", 409));
    assert_eq!(message, "The account alias acme-prod already exists.");
    let (code, _, _) = code_and_message(world.delete_account_alias(ACCOUNT, "acme-sandbox"));
    assert_eq!(code, "NoSuchEntity");
    world.delete_account_alias(ACCOUNT, "acme-prod").unwrap();
    assert!(world.account_aliases(ACCOUNT).unwrap().is_empty());
}
