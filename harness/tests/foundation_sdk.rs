//! The foundation, seen from the Rust SDK: identity, IAM permissions that start denied and are
//! granted by attaching a policy, SigV4 failures, and role assumption through trust policies.

use std::time::Duration;

use aws_sdk_iam::error::ProvideErrorMetadata;
use wana_emulator::BehaviourProfile;
use wana_harness::{
    assume::assume_role,
    backend::Backend,
    principal::Principal,
    provision::{user_with_access_key, UserPolicies},
};

const READ_ONLY_IAM: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"ListThem","Effect":"Allow","Action":["iam:ListUsers","iam:GetUser"],"Resource":"*"}]}"#;

async fn emulator() -> Backend {
    Backend::start_emulator(BehaviourProfile::Current).await.expect("emulator starts")
}

fn code_and_message<E: ProvideErrorMetadata>(error: &E) -> (String, String) {
    (
        error.code().unwrap_or_default().to_string(),
        error.message().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn get_caller_identity_names_the_account_admin() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let identity = admin.sts().get_caller_identity().send().await.unwrap();
    assert_eq!(identity.account(), Some("111111111111"));
    assert_eq!(identity.arn(), Some("arn:aws:iam::111111111111:user/admin"));
    assert!(identity.user_id().unwrap().starts_with("AIDA"));
}

#[tokio::test]
async fn a_new_user_is_denied_until_a_policy_allows_the_call() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let alice = user_with_access_key(&backend, &admin, "alice", UserPolicies::default()).await.unwrap();

    // The new key authenticates (who am I needs no permission) but authorizes nothing.
    let me = alice.sts().get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::111111111111:user/alice"));
    let denied = alice.iam().list_users().send().await.unwrap_err();
    let denied = denied.into_service_error();
    assert_eq!(
        code_and_message(&denied),
        (
            "AccessDenied".to_string(),
            "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::111111111111:user/ because no identity-based policy allows the iam:ListUsers action".to_string()
        )
    );

    let policy = admin
        .iam()
        .create_policy()
        .policy_name("ListUsersOnly")
        .policy_document(READ_ONLY_IAM)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    admin
        .iam()
        .attach_user_policy()
        .user_name("alice")
        .policy_arn(policy.arn().unwrap())
        .send()
        .await
        .unwrap();

    let users = alice.iam().list_users().send().await.unwrap();
    let names: Vec<&str> = users.users().iter().map(|u| u.user_name()).collect();
    assert_eq!(names, ["admin", "alice"]);
    // Only what the policy names: creating a user is still denied.
    let still_denied = alice.iam().create_user().user_name("mallory").send().await.unwrap_err();
    assert_eq!(still_denied.into_service_error().code(), Some("AccessDenied"));
}

#[tokio::test]
async fn an_explicit_deny_beats_administrator_access() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let bob = user_with_access_key(&backend, &admin, "bob", UserPolicies::default()).await.unwrap();
    let iam = admin.iam();
    iam.attach_user_policy()
        .user_name("bob")
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name("bob")
        .policy_name("NoUserListing")
        .policy_document(r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"iam:ListUsers","Resource":"*"}}"#)
        .send()
        .await
        .unwrap();
    let error = bob.iam().list_users().send().await.unwrap_err().into_service_error();
    assert_eq!(error.code(), Some("AccessDenied"));
    assert!(
        error.message().unwrap().ends_with("with an explicit deny in an identity-based policy"),
        "{:?}",
        error.message()
    );
    bob.iam().list_roles().send().await.expect("everything else stays allowed");
}

#[tokio::test]
async fn unknown_keys_and_wrong_secrets_get_the_query_protocol_errors() {
    let backend = emulator().await;
    let bogus = Principal::from_keys(&backend, "bogus", "a", "AKIAWANABOGUS0000000", "x".repeat(40).as_str(), None)
        .unwrap();
    let error = bogus.sts().get_caller_identity().send().await.unwrap_err().into_service_error();
    assert_eq!(
        code_and_message(&error),
        (
            "InvalidClientTokenId".to_string(),
            "The security token included in the request is invalid.".to_string()
        )
    );

    let account = backend.account("a").unwrap();
    let wrong_secret =
        Principal::from_keys(&backend, "wrong", "a", &account.access_key_id, "not-the-secret", None).unwrap();
    let error = wrong_secret.iam().list_users().send().await.unwrap_err().into_service_error();
    assert_eq!(error.code(), Some("SignatureDoesNotMatch"));
    assert!(error.message().unwrap().starts_with("The request signature we calculated does not match"));
}

const TRUST_ACCOUNT_B: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"wana-42"}}}]}"#;
const TRUST_NOBODY_ELSE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

#[tokio::test]
async fn assume_role_follows_the_trust_policy_and_the_session_works() {
    let backend = emulator().await;
    let admin_a = Principal::account_admin(&backend, "a").unwrap();
    let admin_b = Principal::account_admin(&backend, "b").unwrap();
    let iam = admin_a.iam();
    iam.create_role()
        .role_name("Automation")
        .assume_role_policy_document(TRUST_ACCOUNT_B)
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("Ec2Only")
        .assume_role_policy_document(TRUST_NOBODY_ELSE)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("Automation")
        .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
        .send()
        .await
        .unwrap();

    // The trust policy does not name account b.
    let error = assume_role(&admin_b, "arn:aws:iam::111111111111:role/Ec2Only", "try", None, "b→Ec2Only")
        .await
        .unwrap_err();
    assert_eq!(error.code, "AccessDenied");
    assert_eq!(
        error.message,
        "User: arn:aws:iam::222222222222:user/admin is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/Ec2Only"
    );
    // It names account b, but only with the external id.
    let error = assume_role(&admin_b, "arn:aws:iam::111111111111:role/Automation", "try", None, "b→Automation")
        .await
        .unwrap_err();
    assert_eq!(error.code, "AccessDenied");

    let session = assume_role(
        &admin_b,
        "arn:aws:iam::111111111111:role/Automation",
        "nightly",
        Some("wana-42"),
        "automation@a",
    )
    .await
    .expect("trusted caller with the external id assumes the role");
    let identity = session.sts().get_caller_identity().send().await.unwrap();
    assert_eq!(identity.arn(), Some("arn:aws:sts::111111111111:assumed-role/Automation/nightly"));
    assert_eq!(identity.account(), Some("111111111111"));
    // The session has the role's permissions: reads yes, writes no.
    session.iam().list_roles().send().await.expect("ReadOnlyAccess allows listing roles");
    let error = session.iam().create_user().user_name("x").send().await.unwrap_err().into_service_error();
    assert_eq!(error.code(), Some("AccessDenied"));
    assert!(error
        .message()
        .unwrap()
        .starts_with("User: arn:aws:sts::111111111111:assumed-role/Automation/nightly is not authorized"));

    // Session credentials stop working at expiry, on the emulator clock.
    backend.emulator().unwrap().clock().advance(Duration::from_secs(3601));
    let error = session.sts().get_caller_identity().send().await.unwrap_err().into_service_error();
    assert_eq!(
        code_and_message(&error),
        ("ExpiredToken".to_string(), "The security token included in the request is expired".to_string())
    );
}

#[tokio::test]
async fn cross_account_assume_role_also_needs_the_callers_identity_policy() {
    let backend = emulator().await;
    let admin_a = Principal::account_admin(&backend, "a").unwrap();
    let admin_b = Principal::account_admin(&backend, "b").unwrap();
    admin_a
        .iam()
        .create_role()
        .role_name("Automation")
        .assume_role_policy_document(TRUST_ACCOUNT_B)
        .send()
        .await
        .unwrap();
    // A user in b without any policy: the trust policy alone does not let it in.
    let carol = user_with_access_key(&backend, &admin_b, "carol", UserPolicies::default()).await.unwrap();
    let error = assume_role(&carol, "arn:aws:iam::111111111111:role/Automation", "carol-session", Some("wana-42"), "carol")
        .await
        .unwrap_err();
    assert_eq!(error.code, "AccessDenied");
    admin_b
        .iam()
        .put_user_policy()
        .user_name("carol")
        .policy_name("MayAssume")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111111111111:role/Automation"}]}"#)
        .send()
        .await
        .unwrap();
    assume_role(&carol, "arn:aws:iam::111111111111:role/Automation", "carol-session", Some("wana-42"), "carol")
        .await
        .expect("identity policy in b plus trust policy in a");
}

#[tokio::test]
async fn a_malformed_policy_is_refused_with_the_reason() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let error = admin
        .iam()
        .create_policy()
        .policy_name("Broken")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ListUsers","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(error.code(), Some("MalformedPolicyDocument"));
    assert!(error.message().unwrap().contains("vendor"), "{:?}", error.message());

    let error = admin
        .iam()
        .put_user_policy()
        .user_name("admin")
        .policy_name("NotJson")
        .policy_document("{not json")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(error.code(), Some("MalformedPolicyDocument"));
    // Nothing was stored by the failed request.
    let policies = admin.iam().list_user_policies().user_name("admin").send().await.unwrap();
    assert!(policies.policy_names().is_empty());
}
