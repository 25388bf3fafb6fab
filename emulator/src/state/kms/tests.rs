//! Tests of KMS's state and operations.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::{
    authz::RequestFacts,
    error::AwsError,
    principal::{Caller, CredentialKind, Principal},
    profile::BehaviourProfile,
    state::{iam::NewRole, World},
};

const A: &str = "111111111111";
const B: &str = "222222222222";
const REGION: &str = "us-east-1";
/// The service that uses keys for callers; KMS sees it as `ec2.<region>.amazonaws.com`.
const EC2: &str = "ec2.amazonaws.com";
const TRUST_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
/// What AWS's EBS documentation recommends for users of encrypted volumes.
const IAM_CREATE_GRANT_FOR_AWS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:CreateGrant","Resource":"*","Condition":{"Bool":{"kms:GrantIsForAWSResource":"true"}}}]}"#;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().expect("valid time")
}

fn world() -> World {
    World::new(BehaviourProfile::default(), now()).with_port(crate::dispatch::pipeline())
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

fn facts(caller: &Caller) -> RequestFacts<'_> {
    RequestFacts { caller, now: now(), region: REGION }
}

fn admin(world: &World, account: &str) -> Caller {
    let user = world.iam(account).unwrap().user("admin").unwrap();
    caller(Principal::User {
        account: account.to_string(),
        name: user.name.clone(),
        path: user.path.clone(),
        user_id: user.id.clone(),
    })
}

/// A session of a new role with an optional inline policy.
fn role(world: &mut World, account: &str, name: &str, policy: Option<&str>) -> Caller {
    world
        .create_role(account, now(), NewRole { name, trust_policy: TRUST_EC2, ..NewRole::default() })
        .unwrap();
    if let Some(policy) = policy {
        world.iam_mut(account).unwrap().put_role_policy(name, "inline", policy).unwrap();
    }
    let role = world.iam(account).unwrap().role(name).unwrap();
    caller(Principal::AssumedRole {
        account: account.to_string(),
        role_name: role.name.clone(),
        role_path: role.path.clone(),
        role_id: role.id.clone(),
        session_name: "session".to_string(),
    })
}

/// A new IAM user with an optional inline policy.
fn user(world: &mut World, account: &str, name: &str, policy: Option<&str>) -> Caller {
    let (iam, ids) = world.iam_and_ids(account).unwrap();
    let user = iam.create_user(ids, account, now(), name, None, Vec::new()).unwrap().clone();
    if let Some(policy) = policy {
        iam.put_user_policy(name, "inline", policy).unwrap();
    }
    caller(Principal::User { account: account.to_string(), name: user.name, path: user.path, user_id: user.id })
}

fn new_key(world: &mut World, by: &Caller, policy: Option<&str>) -> Key {
    create_key(world, facts(by), NewKey { policy, ..NewKey::default() }).unwrap()
}

fn code_and_message(error: AwsError) -> (String, String) {
    (error.code.to_string(), error.message)
}

fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn a_new_key_gets_the_default_policy_that_delegates_to_iam() {
    let mut world = world();
    let admin = admin(&world, A);
    let key = new_key(&mut world, &admin, None);
    assert_eq!(key.arn, format!("arn:aws:kms:us-east-1:111111111111:key/{}", key.id));
    assert_eq!(key.id.len(), 36);
    assert_eq!(key.policy_text, default_key_policy(A));
    assert!(key.policy_text.contains("\"Sid\" : \"Enable IAM User Permissions\""));
    assert_eq!(get_key_policy(&mut world, facts(&admin), &key.id, None).unwrap(), key.policy_text);
    // The administrator is allowed through IAM (AdministratorAccess) by the delegation.
    assert_eq!(describe_key(&mut world, facts(&admin), &key.arn).unwrap().state, KeyState::Enabled);
}

#[test]
fn a_role_without_kms_permissions_may_not_let_a_service_use_the_key() {
    let mut world = world();
    let admin = admin(&world, A);
    let key = new_key(&mut world, &admin, None);
    let ops = role(&mut world, A, "Ops", None);
    let denied = use_key_via_service(&mut world, facts(&ops), &key.arn, EC2).unwrap_err();
    assert_eq!(
        denied,
        KeyUseDenied {
            action: "kms:CreateGrant".to_string(),
            key_arn: key.arn.clone(),
            message: format!(
                "User: arn:aws:sts::111111111111:assumed-role/Ops/session is not authorized to perform: kms:CreateGrant on resource: {} because no identity-based policy allows the kms:CreateGrant action",
                key.arn
            ),
        }
    );
    assert!(list_grants(&mut world, facts(&admin), &key.id, None, None).unwrap().1.is_empty());
}

#[test]
fn iam_create_grant_for_aws_resources_lets_a_service_use_the_key_but_not_the_caller_itself() {
    let mut world = world();
    let admin = admin(&world, A);
    let key = new_key(&mut world, &admin, None);
    let ops = role(&mut world, A, "Ops", Some(IAM_CREATE_GRANT_FOR_AWS));
    use_key_via_service(&mut world, facts(&ops), &key.arn, EC2).unwrap();
    // Starting again reuses the grant.
    use_key_via_service(&mut world, facts(&ops), &key.arn, EC2).unwrap();
    let (_, grants) = list_grants(&mut world, facts(&admin), &key.id, None, None).unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].grantee, "ec2.amazonaws.com");
    assert_eq!(grants[0].retiring.as_deref(), Some("ec2.amazonaws.com"));
    assert_eq!(grants[0].operations, ["Decrypt"]);
    assert_eq!(grants[0].issuing_account, A);

    // The same role calling CreateGrant itself: kms:GrantIsForAWSResource is false.
    let grant = NewGrant {
        grantee: "arn:aws:iam::111111111111:role/Ops".to_string(),
        retiring: None,
        operations: vec!["Decrypt".to_string()],
        constraints: None,
        name: None,
    };
    let (code, message) = code_and_message(create_grant(&mut world, facts(&ops), &key.arn, &grant, None).unwrap_err());
    assert_eq!(code, "AccessDeniedException");
    assert!(message.ends_with("because no identity-based policy allows the kms:CreateGrant action"), "{message}");
    // Nor does the grant EC2 holds let the role decrypt on its own.
    let (code, _) = code_and_message(encrypt(&mut world, facts(&ops), &key.arn, b"x", &ctx(&[])).unwrap_err());
    assert_eq!(code, "AccessDeniedException");
}

#[test]
fn a_key_policy_statement_naming_the_role_allows_without_iam_and_its_region_condition_holds() {
    let mut world = world();
    let admin = admin(&world, A);
    let ops = role(&mut world, A, "ThirdPartyRole", None);
    let policy = |region: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[
                {{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111111111111:root"}},"Action":"kms:*","Resource":"*"}},
                {{"Sid":"AllowUseViaEC2","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111111111111:role/ThirdPartyRole"}},
                  "Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*",
                  "Condition":{{"StringEquals":{{"kms:ViaService":"ec2.{region}.amazonaws.com"}}}}}},
                {{"Sid":"AllowGrantsForAWSResources","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111111111111:role/ThirdPartyRole"}},
                  "Action":"kms:CreateGrant","Resource":"*","Condition":{{"Bool":{{"kms:GrantIsForAWSResource":true}}}}}}]}}"#
        )
    };
    let key = new_key(&mut world, &admin, Some(&policy("us-east-1")));
    use_key_via_service(&mut world, facts(&ops), &key.arn, EC2).unwrap();

    // The same statements for another region's EC2: the Decrypt through EC2 here is denied.
    let other = new_key(&mut world, &admin, Some(&policy("eu-west-1")));
    let denied = use_key_via_service(&mut world, facts(&ops), &other.arn, EC2);
    // CreateGrant has no region condition and passes; the Decrypt is the service's under
    // the new grant, which the policy does not deny explicitly.
    assert!(denied.is_ok(), "{denied:?}");
    // Used directly, outside EC2, the key is not the role's.
    let (code, message) =
        code_and_message(encrypt(&mut world, facts(&ops), &key.arn, b"x", &ctx(&[])).unwrap_err());
    assert_eq!(code, "AccessDeniedException");
    assert!(message.contains("kms:Encrypt"), "{message}");
}

#[test]
fn kms_via_service_of_another_region_does_not_match() {
    let mut world = world();
    let admin = admin(&world, A);
    let ops = role(&mut world, A, "Ops", None);
    let policy = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"kms:*","Resource":"*"},
            {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/Ops"},"Action":"kms:CreateGrant","Resource":"*",
             "Condition":{"StringEquals":{"kms:ViaService":"ec2.eu-west-1.amazonaws.com"}}}]}"#;
    let key = new_key(&mut world, &admin, Some(policy));
    let denied = use_key_via_service(&mut world, facts(&ops), &key.arn, EC2).unwrap_err();
    assert_eq!(denied.action, "kms:CreateGrant");
    // The account statement delegates to IAM, and the role has no IAM permission.
    assert!(denied.message.ends_with("because no identity-based policy allows the kms:CreateGrant action"));
    // The condition alone decides: naming the endpoint of the key's region lets EC2 use it there.
    let here = policy.replace("ec2.eu-west-1.amazonaws.com", "ec2.us-east-1.amazonaws.com");
    put_key_policy(&mut world, facts(&admin), &key.id, None, &here, false).unwrap();
    use_key_via_service(&mut world, facts(&ops), &key.arn, EC2).unwrap();
}

#[test]
fn cross_account_use_needs_the_key_policy_and_iam_in_the_caller_account() {
    let mut world = world();
    let admin_a = admin(&world, A);
    let shared = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{A}:root"}},"Action":"kms:*","Resource":"*"}},
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{B}:root"}},"Action":["kms:Encrypt","kms:Decrypt","kms:CreateGrant","kms:DescribeKey"],"Resource":"*"}}]}}"#
    );
    let key = new_key(&mut world, &admin_a, Some(&shared));
    let private = new_key(&mut world, &admin_a, None);
    let iam_b = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["kms:Encrypt","kms:Decrypt","kms:CreateGrant"],"Resource":["{}","{}"]}}]}}"#,
        key.arn, private.arn
    );
    let with_iam = role(&mut world, B, "Consumer", Some(&iam_b));
    let without_iam = role(&mut world, B, "Other", None);

    let (blob, _) = encrypt(&mut world, facts(&with_iam), &key.arn, b"secret", &ctx(&[])).unwrap();
    assert_eq!(decrypt(&mut world, facts(&with_iam), &blob, &ctx(&[]), None).unwrap().0, b"secret");
    use_key_via_service(&mut world, facts(&with_iam), &key.arn, EC2).unwrap();

    let (_, message) =
        code_and_message(encrypt(&mut world, facts(&without_iam), &key.arn, b"s", &ctx(&[])).unwrap_err());
    assert!(message.ends_with("because no identity-based policy allows the kms:Encrypt action"), "{message}");
    // IAM alone, on a key whose policy does not name account B.
    let (_, message) =
        code_and_message(encrypt(&mut world, facts(&with_iam), &private.arn, b"s", &ctx(&[])).unwrap_err());
    assert!(message.ends_with("because no resource-based policy allows the kms:Encrypt action"), "{message}");
    // A bare key id resolves in the caller's own account.
    let (code, message) =
        code_and_message(encrypt(&mut world, facts(&with_iam), &key.id, b"s", &ctx(&[])).unwrap_err());
    assert_eq!(code, "NotFoundException");
    assert_eq!(message, format!("Key 'arn:aws:kms:us-east-1:{B}:key/{}' does not exist", key.id));
    // Operations without cross-account use do not reach the key.
    let (code, _) = code_and_message(get_key_policy(&mut world, facts(&with_iam), &key.arn, None).unwrap_err());
    assert_eq!(code, "NotFoundException");
}

/// A grant to a service principal serves the callers of the account that made it, and no one
/// else's: EC2 holding account B's grant may not decrypt for a caller of account A.
#[test]
fn a_service_grant_is_scoped_to_the_account_that_created_it() {
    let mut world = world();
    let admin_a = admin(&world, A);
    let shared = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{A}:root"}},"Action":"kms:*","Resource":"*"}},
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{B}:root"}},"Action":["kms:Decrypt","kms:CreateGrant"],"Resource":"*"}}]}}"#
    );
    let key = new_key(&mut world, &admin_a, Some(&shared));
    let iam_b = format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["kms:CreateGrant"],"Resource":"{}"}}]}}"#, key.arn);
    let consumer_b = role(&mut world, B, "Consumer", Some(&iam_b));
    use_key_via_service(&mut world, facts(&consumer_b), &key.arn, EC2).unwrap();
    let (_, grants) = list_grants(&mut world, facts(&admin_a), &key.id, None, None).unwrap();
    assert_eq!((grants.len(), grants[0].issuing_account.as_str()), (1, B));

    // A caller of account A with no permission of its own: EC2, acting for it, finds only B's grant.
    let stranger = role(&mut world, A, "Stranger", None).via(EC2);
    let addr = parse_key_arn(&key.arn).unwrap();
    let usage = KeyUse {
        grant_operation: Some("Decrypt"),
        via_service: Some("ec2.us-east-1.amazonaws.com"),
        acting_service: Some(EC2),
        ..KeyUse::default()
    };
    let error = authorize_key(&mut world, facts(&stranger), &addr, "kms:Decrypt", &usage).unwrap_err();
    assert_eq!(error.code, "AccessDeniedException");
    // The same service use for B's caller is allowed by that grant, and the log says who acted.
    let consumer_via_ec2 = consumer_b.via(EC2);
    authorize_key(&mut world, facts(&consumer_via_ec2), &addr, "kms:Decrypt", &usage).unwrap();
    let last = world.authz_log.records().last().unwrap();
    assert!(last.allowed && last.explanation.starts_with("allowed by grant"), "{}", last.explanation);
    assert_eq!(last.acting_service.as_deref(), Some(EC2));
    assert_eq!(last.caller_arn, "arn:aws:sts::222222222222:assumed-role/Consumer/session");
}

/// EC2's use of a key is two inner calls made as the caller in a forward access session: both
/// decisions are logged with EC2 as the acting service and its regional endpoint as the via.
#[test]
fn ec2s_use_of_a_key_is_logged_with_the_acting_service() {
    let mut world = world();
    let admin = admin(&world, A);
    let key = new_key(&mut world, &admin, None);
    let ops = role(&mut world, A, "Ops", Some(IAM_CREATE_GRANT_FOR_AWS));
    let mark = world.authz_log.recorded();
    use_key_via_service(&mut world, facts(&ops), &key.arn, EC2).unwrap();
    let records: Vec<_> = world.authz_log.since(mark).collect();
    let actions: Vec<&str> = records.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["kms:CreateGrant", "kms:Decrypt"]);
    for record in records {
        assert_eq!(record.caller_arn, "arn:aws:sts::111111111111:assumed-role/Ops/session");
        assert_eq!(record.acting_service.as_deref(), Some(EC2));
        assert_eq!(record.via_service.as_deref(), Some("ec2.us-east-1.amazonaws.com"));
        assert!(record.allowed, "{}", record.explanation);
    }
}

#[test]
fn grants_allow_their_operations_only_and_respect_their_constraints() {
    let mut world = world();
    let admin = admin(&world, A);
    let key = new_key(&mut world, &admin, None);
    let app = user(&mut world, A, "app", None);
    let app_arn = app.principal.arn();
    let grant = NewGrant {
        grantee: app_arn.clone(),
        retiring: None,
        operations: vec!["Encrypt".to_string()],
        constraints: Some(GrantConstraints::EncryptionContextSubset(ctx(&[("purpose", "test")]))),
        name: None,
    };
    create_grant(&mut world, facts(&admin), &key.id, &grant, None).unwrap();
    let (blob, _) = encrypt(&mut world, facts(&app), &key.arn, b"x", &ctx(&[("purpose", "test"), ("more", "1")])).unwrap();
    let (code, _) = code_and_message(encrypt(&mut world, facts(&app), &key.arn, b"x", &ctx(&[])).unwrap_err());
    assert_eq!(code, "AccessDeniedException");
    let (code, message) = code_and_message(
        decrypt(&mut world, facts(&app), &blob, &ctx(&[("purpose", "test"), ("more", "1")]), None).unwrap_err(),
    );
    assert_eq!(code, "AccessDeniedException");
    assert_eq!(
        message,
        format!("User: {app_arn} is not authorized to perform: kms:Decrypt on resource: {} because no identity-based policy allows the kms:Decrypt action", key.arn)
    );
}

#[test]
fn an_explicit_deny_wins_over_a_grant() {
    let mut world = world();
    let admin = admin(&world, A);
    let key = new_key(&mut world, &admin, None);
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:Encrypt","Resource":"*"}]}"#;
    let app = user(&mut world, A, "app", Some(deny));
    let grant = NewGrant {
        grantee: app.principal.arn(),
        retiring: None,
        operations: vec!["Encrypt".to_string()],
        constraints: None,
        name: None,
    };
    create_grant(&mut world, facts(&admin), &key.id, &grant, None).unwrap();
    let (code, message) = code_and_message(encrypt(&mut world, facts(&app), &key.arn, b"x", &ctx(&[])).unwrap_err());
    assert_eq!(code, "AccessDeniedException");
    assert!(message.ends_with("with an explicit deny in an identity-based policy"), "{message}");
}

#[test]
fn a_grant_to_a_role_covers_its_sessions_and_creates_only_what_it_holds() {
    let mut world = world();
    let admin = admin(&world, A);
    let key = new_key(&mut world, &admin, None);
    let ops = role(&mut world, A, "Ops", None);
    let grant = NewGrant {
        grantee: "arn:aws:iam::111111111111:role/Ops".to_string(),
        retiring: None,
        operations: vec!["Decrypt".to_string(), "CreateGrant".to_string()],
        constraints: None,
        name: None,
    };
    create_grant(&mut world, facts(&admin), &key.arn, &grant, None).unwrap();
    use_key_via_service(&mut world, facts(&ops), &key.arn, EC2).unwrap();
    let wider = NewGrant { operations: vec!["Encrypt".to_string()], grantee: "ec2.amazonaws.com".to_string(), ..grant };
    let (code, _) = code_and_message(create_grant(&mut world, facts(&ops), &key.arn, &wider, None).unwrap_err());
    assert_eq!(code, "AccessDeniedException");
}

#[test]
fn the_lockout_check_refuses_a_policy_that_locks_the_caller_out() {
    let mut world = world();
    let admin = admin(&world, A);
    let _ops = role(&mut world, A, "Ops", None);
    let key = new_key(&mut world, &admin, None);
    let only_ops = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/Ops"},"Action":"kms:*","Resource":"*"}]}"#;
    let lockout = (
        "MalformedPolicyDocumentException".to_string(),
        "The new key policy will not allow you to update the key policy in the future.".to_string(),
    );
    assert_eq!(code_and_message(put_key_policy(&mut world, facts(&admin), &key.id, None, only_ops, false).unwrap_err()), lockout);
    assert_eq!(
        code_and_message(
            create_key(&mut world, facts(&admin), NewKey { policy: Some(only_ops), ..NewKey::default() }).unwrap_err()
        ),
        lockout
    );
    // The caller may bypass the check, and is then locked out.
    put_key_policy(&mut world, facts(&admin), &key.id, None, only_ops, true).unwrap();
    let (code, _) = code_and_message(get_key_policy(&mut world, facts(&admin), &key.id, None).unwrap_err());
    assert_eq!(code, "AccessDeniedException");
    // A policy that names a role that does not exist is malformed.
    let other = new_key(&mut world, &admin, None);
    let ghost = only_ops.replace("role/Ops", "role/Ghost");
    assert_eq!(
        code_and_message(put_key_policy(&mut world, facts(&admin), &other.id, None, &ghost, true).unwrap_err()).1,
        "Policy contains a statement with one or more invalid principals."
    );
}

#[test]
fn encryption_round_trips_and_a_wrong_context_fails() {
    let mut world = world();
    let admin = admin(&world, A);
    let key = new_key(&mut world, &admin, None);
    let context = ctx(&[("volume", "vol-1")]);
    let (blob, arn) = encrypt(&mut world, facts(&admin), &key.id, b"hello", &context).unwrap();
    assert_eq!(arn, key.arn);
    let (second, _) = encrypt(&mut world, facts(&admin), &key.id, b"hello", &context).unwrap();
    assert_ne!(blob, second, "each encryption has its own nonce");
    assert_eq!(decrypt(&mut world, facts(&admin), &blob, &context, None).unwrap(), (b"hello".to_vec(), key.arn.clone()));
    assert_eq!(
        code_and_message(decrypt(&mut world, facts(&admin), &blob, &ctx(&[("volume", "vol-2")]), None).unwrap_err()),
        ("InvalidCiphertextException".to_string(), String::new())
    );
    assert_eq!(
        code_and_message(decrypt(&mut world, facts(&admin), &blob, &ctx(&[]), None).unwrap_err()).0,
        "InvalidCiphertextException"
    );
    assert_eq!(
        code_and_message(decrypt(&mut world, facts(&admin), b"not a ciphertext", &context, None).unwrap_err()).0,
        "InvalidCiphertextException"
    );
    let other = new_key(&mut world, &admin, None);
    assert_eq!(
        code_and_message(decrypt(&mut world, facts(&admin), &blob, &context, Some(&other.id)).unwrap_err()).0,
        "IncorrectKeyException"
    );
    // Data keys and re-encryption.
    let data_key = generate_data_key(&mut world, facts(&admin), &key.arn, &context, 32, true).unwrap();
    let (wrapped, plaintext) = (data_key.ciphertext, data_key.plaintext.unwrap());
    assert_eq!(plaintext.len(), 32);
    assert_eq!(decrypt(&mut world, facts(&admin), &wrapped, &context, Some(&key.arn)).unwrap().0, plaintext);
    let (moved, from, to) =
        re_encrypt(&mut world, facts(&admin), &wrapped, &context, None, &other.id, &ctx(&[])).unwrap();
    assert_eq!((from, to.clone()), (key.arn.clone(), other.arn.clone()));
    assert_eq!(decrypt(&mut world, facts(&admin), &moved, &ctx(&[]), None).unwrap(), (plaintext, to));
}

#[test]
fn key_states_follow_the_key_state_table() {
    let mut world = world();
    let admin = admin(&world, A);
    let key = new_key(&mut world, &admin, None);
    let (blob, _) = encrypt(&mut world, facts(&admin), &key.id, b"x", &ctx(&[])).unwrap();
    set_key_enabled(&mut world, facts(&admin), &key.id, false).unwrap();
    assert_eq!(
        code_and_message(encrypt(&mut world, facts(&admin), &key.id, b"x", &ctx(&[])).unwrap_err()),
        ("DisabledException".to_string(), format!("{} is disabled.", key.arn))
    );
    let ops = role(&mut world, A, "Ops", Some(IAM_CREATE_GRANT_FOR_AWS));
    let denied = use_key_via_service(&mut world, facts(&ops), &key.arn, EC2).unwrap_err();
    assert_eq!((denied.action.as_str(), denied.message.clone()), ("kms:CreateGrant", format!("{} is disabled.", key.arn)));

    let scheduled = schedule_key_deletion(&mut world, facts(&admin), &key.id, Some(7)).unwrap();
    assert_eq!(scheduled.state, KeyState::PendingDeletion);
    assert_eq!(scheduled.deletion_date, Some(now() + Duration::days(7)));
    assert_eq!(
        code_and_message(decrypt(&mut world, facts(&admin), &blob, &ctx(&[]), None).unwrap_err()),
        ("KMSInvalidStateException".to_string(), format!("{} is pending deletion.", key.arn))
    );
    assert_eq!(
        code_and_message(schedule_key_deletion(&mut world, facts(&admin), &key.id, Some(3)).unwrap_err()).0,
        "ValidationException"
    );
    assert_eq!(cancel_key_deletion(&mut world, facts(&admin), &key.id).unwrap().state, KeyState::Disabled);
    assert_eq!(
        code_and_message(cancel_key_deletion(&mut world, facts(&admin), &key.id).unwrap_err()),
        ("KMSInvalidStateException".to_string(), format!("{} is not pending deletion.", key.arn))
    );
    // Deletion happens when the waiting period is over.
    schedule_key_deletion(&mut world, facts(&admin), &key.id, None).unwrap();
    world.run_due(now() + Duration::days(29));
    assert!(describe_key(&mut world, facts(&admin), &key.id).is_ok());
    world.run_due(now() + Duration::days(30));
    assert_eq!(
        code_and_message(describe_key(&mut world, facts(&admin), &key.id).unwrap_err()),
        ("NotFoundException".to_string(), format!("Key '{}' does not exist", key.arn))
    );
}

#[test]
fn the_aws_managed_ebs_key_serves_the_account_through_ec2_only() {
    let mut world = world();
    let arn = default_ebs_key_arn(&mut world, A, REGION, now());
    assert_eq!(default_ebs_key_arn(&mut world, A, REGION, now()), arn);
    let nobody = role(&mut world, A, "Nobody", None);
    use_key_via_service(&mut world, facts(&nobody), &arn, EC2).unwrap();
    let (code, message) = code_and_message(encrypt(&mut world, facts(&nobody), &arn, b"x", &ctx(&[])).unwrap_err());
    assert_eq!(code, "AccessDeniedException");
    assert!(message.ends_with("because no resource-based policy allows the kms:Encrypt action"), "{message}");
    // Another account cannot use it, not even through EC2.
    let outsider = role(&mut world, B, "Outsider", Some(IAM_CREATE_GRANT_FOR_AWS));
    assert!(use_key_via_service(&mut world, facts(&outsider), &arn, EC2).is_err());
    let admin = admin(&world, A);
    let key = describe_key(&mut world, facts(&admin), EBS_ALIAS).unwrap();
    assert_eq!((key.arn.as_str(), key.manager), (arn.as_str(), KeyManager::Aws));
    // Nobody can change its policy.
    let (code, _) = code_and_message(
        put_key_policy(&mut world, facts(&admin), &arn, None, &default_key_policy(A), false).unwrap_err(),
    );
    assert_eq!(code, "AccessDeniedException");
}

#[test]
fn aliases_name_keys_in_the_callers_account() {
    let mut world = world();
    let admin = admin(&world, A);
    let key = new_key(&mut world, &admin, None);
    create_alias(&mut world, facts(&admin), "alias/app", &key.id).unwrap();
    assert_eq!(describe_key(&mut world, facts(&admin), "alias/app").unwrap().id, key.id);
    assert_eq!(
        describe_key(&mut world, facts(&admin), "arn:aws:kms:us-east-1:111111111111:alias/app").unwrap().id,
        key.id
    );
    assert_eq!(
        code_and_message(create_alias(&mut world, facts(&admin), "alias/app", &key.id).unwrap_err()),
        (
            "AlreadyExistsException".to_string(),
            "An alias with the name arn:aws:kms:us-east-1:111111111111:alias/app already exists".to_string()
        )
    );
    assert_eq!(
        code_and_message(create_alias(&mut world, facts(&admin), "alias/aws/mine", &key.id).unwrap_err()).0,
        "NotAuthorizedException"
    );
    assert_eq!(
        code_and_message(create_alias(&mut world, facts(&admin), "app", &key.id).unwrap_err()).0,
        "ValidationException"
    );
    let admin_b = self::admin(&world, B);
    assert_eq!(
        code_and_message(describe_key(&mut world, facts(&admin_b), "alias/app").unwrap_err()),
        ("NotFoundException".to_string(), "Alias arn:aws:kms:us-east-1:222222222222:alias/app is not found.".to_string())
    );
    let aliases = list_aliases(&mut world, facts(&admin), None).unwrap();
    assert_eq!(aliases.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["alias/app"]);
    delete_alias(&mut world, facts(&admin), "alias/app").unwrap();
    assert!(list_aliases(&mut world, facts(&admin), None).unwrap().is_empty());
}

#[test]
fn grant_names_make_create_grant_idempotent_and_grants_retire_and_revoke() {
    let mut world = world();
    let admin = admin(&world, A);
    let key = new_key(&mut world, &admin, None);
    let app = user(&mut world, A, "app", None);
    let grant = NewGrant {
        grantee: app.principal.arn(),
        retiring: Some(app.principal.arn()),
        operations: vec!["Encrypt".to_string(), "Decrypt".to_string()],
        constraints: None,
        name: Some("app-grant".to_string()),
    };
    let (first, token) = create_grant(&mut world, facts(&admin), &key.id, &grant, None).unwrap();
    let (again, token_again) = create_grant(&mut world, facts(&admin), &key.id, &grant, None).unwrap();
    assert_eq!(first, again);
    assert_eq!(first.len(), 64);
    assert_ne!(token, token_again, "each call gets its own token");
    let different = NewGrant { operations: vec!["Encrypt".to_string()], ..grant.clone() };
    let (third, _) = create_grant(&mut world, facts(&admin), &key.id, &different, None).unwrap();
    assert_ne!(third, first);
    assert_eq!(
        code_and_message(
            create_grant(&mut world, facts(&admin), &key.id, &NewGrant { operations: vec!["Fly".to_string()], ..grant.clone() }, None)
                .unwrap_err()
        )
        .0,
        "ValidationException"
    );
    assert_eq!(
        code_and_message(
            create_grant(&mut world, facts(&admin), &key.id, &NewGrant { operations: vec!["CreateGrant".to_string()], ..grant.clone() }, None)
                .unwrap_err()
        )
        .1,
        "Grants must not contain only the CreateGrant operation."
    );
    // The retiring principal retires by token; a stranger may not.
    let stranger = user(&mut world, A, "stranger", None);
    assert_eq!(
        code_and_message(retire_grant(&mut world, facts(&stranger), Some(&token), None, None).unwrap_err()).0,
        "AccessDeniedException"
    );
    retire_grant(&mut world, facts(&app), Some(&token), None, None).unwrap();
    revoke_grant(&mut world, facts(&admin), &key.arn, &third).unwrap();
    assert!(list_grants(&mut world, facts(&admin), &key.id, None, None).unwrap().1.is_empty());
    assert_eq!(
        code_and_message(revoke_grant(&mut world, facts(&admin), &key.arn, &third).unwrap_err()).0,
        "NotFoundException"
    );
}

#[test]
fn a_user_without_permission_may_not_create_keys() {
    let mut world = world();
    let nobody = user(&mut world, A, "nobody", None);
    assert_eq!(
        code_and_message(create_key(&mut world, facts(&nobody), NewKey::default()).unwrap_err()),
        (
            "AccessDeniedException".to_string(),
            "User: arn:aws:iam::111111111111:user/nobody is not authorized to perform: kms:CreateKey on resource: * because no identity-based policy allows the kms:CreateKey action".to_string()
        )
    );
}

/// The log names what a decision consulted: the caller's identity policies, the key policy,
/// then, for what the policies left implicitly denied, the key's grants; and the statement that
/// decided an allow.
#[test]
fn the_log_names_the_policies_and_grants_consulted() {
    use crate::authz::{ConsultedKind, ConsultedPolicy};

    let mut world = world();
    let admin = admin(&world, A);
    let key = new_key(&mut world, &admin, None);
    let allowed = world.authz_log.records().last().unwrap().clone();
    assert_eq!(allowed.action, "kms:CreateKey");
    let deciding = allowed.deciding.expect("an allow names its statement");
    assert_eq!(deciding.policy, "arn:aws:iam::aws:policy/AdministratorAccess");
    assert_eq!(deciding.label(), "arn:aws:iam::aws:policy/AdministratorAccess statement #0");

    let ops = role(&mut world, A, "Ops", Some(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:DescribeKey","Resource":"*"}]}"#));
    use_key_via_service(&mut world, facts(&ops), &key.arn, EC2).unwrap_err();
    let denied = world.authz_log.records().filter(|r| !r.allowed).last().unwrap();
    assert_eq!(denied.action, "kms:CreateGrant");
    assert_eq!(denied.deciding, None);
    let consulted = |kind, name: &str| ConsultedPolicy { kind, name: name.to_string() };
    assert_eq!(
        denied.consulted,
        [
            consulted(ConsultedKind::Identity, "inline:Ops/inline"),
            consulted(ConsultedKind::KeyPolicy, &format!("key policy of {}", key.arn)),
            consulted(ConsultedKind::Grants, "no grants on the key"),
        ]
    );
}
