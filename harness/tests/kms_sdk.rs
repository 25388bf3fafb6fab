//! KMS seen from the Rust SDK: keys, real encryption bound to its context, key policies with the
//! lockout check, grants, and AWS's errors (AccessDeniedException, key states, SigV4) word for
//! word.

use aws_sdk_kms::{
    error::ProvideErrorMetadata,
    primitives::Blob,
    types::{GrantConstraints, GrantOperation, KeyState},
    Client,
};
use wana_emulator::BehaviourProfile;
use wana_harness::{
    assume::assume_role,
    backend::Backend,
    principal::Principal,
    provision::{user_with_access_key, UserPolicies},
};

async fn emulator() -> Backend {
    Backend::start_emulator(BehaviourProfile::Current).await.expect("emulator starts")
}

fn kms(principal: &Principal) -> Client {
    Client::new(&principal.config)
}

fn code_and_message<E: ProvideErrorMetadata>(error: &E) -> (String, String) {
    (error.code().unwrap_or_default().to_string(), error.message().unwrap_or_default().to_string())
}

/// Creates a key as `admin` and returns (id, arn).
async fn create_key(admin: &Principal, description: &str) -> (String, String) {
    let created = kms(admin).create_key().description(description).send().await.expect("admin creates a key");
    let metadata = created.key_metadata().expect("CreateKey returns the key metadata");
    (metadata.key_id().to_string(), metadata.arn().expect("an ARN").to_string())
}

#[tokio::test]
async fn keys_encrypt_for_real_and_bind_the_encryption_context() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let client = kms(&admin);
    let created = client.create_key().description("app data").send().await.unwrap();
    let metadata = created.key_metadata().unwrap();
    assert_eq!(metadata.aws_account_id(), Some("111111111111"));
    assert_eq!(metadata.key_state(), Some(&KeyState::Enabled));
    assert_eq!(metadata.enabled(), true);
    assert_eq!(metadata.description(), Some("app data"));
    assert_eq!(metadata.key_manager().map(|m| m.as_str()), Some("CUSTOMER"));
    assert_eq!(metadata.key_spec().map(|s| s.as_str()), Some("SYMMETRIC_DEFAULT"));
    assert_eq!(metadata.origin().map(|o| o.as_str()), Some("AWS_KMS"));
    assert!(metadata.creation_date().is_some());
    let key_id = metadata.key_id().to_string();
    let arn = metadata.arn().unwrap().to_string();
    assert_eq!(arn, format!("arn:aws:kms:us-east-1:111111111111:key/{key_id}"));

    client.create_alias().alias_name("alias/app").target_key_id(&key_id).send().await.unwrap();
    let aliases = client.list_aliases().send().await.unwrap();
    let names: Vec<&str> = aliases.aliases().iter().filter_map(|a| a.alias_name()).collect();
    assert_eq!(names, ["alias/app"]);
    let keys = client.list_keys().send().await.unwrap();
    assert!(keys.keys().iter().any(|k| k.key_arn() == Some(arn.as_str())));

    let encrypted = client
        .encrypt()
        .key_id("alias/app")
        .plaintext(Blob::new("attack at dawn"))
        .encryption_context("purpose", "test")
        .send()
        .await
        .unwrap();
    assert_eq!(encrypted.key_id(), Some(arn.as_str()));
    let blob = encrypted.ciphertext_blob().unwrap().clone();
    assert!(!blob.as_ref().windows(6).any(|w| w == b"attack"), "the ciphertext hides the plaintext");

    // No KeyId: the ciphertext names its key.
    let decrypted = client
        .decrypt()
        .ciphertext_blob(blob.clone())
        .encryption_context("purpose", "test")
        .send()
        .await
        .unwrap();
    assert_eq!(decrypted.plaintext().unwrap().as_ref(), b"attack at dawn");
    assert_eq!(decrypted.key_id(), Some(arn.as_str()));

    let wrong = client
        .decrypt()
        .ciphertext_blob(blob)
        .encryption_context("purpose", "prod")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(wrong.is_invalid_ciphertext_exception(), "{wrong:?}");

    let data_key = client.generate_data_key().key_id(&arn).key_spec("AES_256".into()).send().await.unwrap();
    assert_eq!(data_key.plaintext().unwrap().as_ref().len(), 32);
    let again = client.decrypt().ciphertext_blob(data_key.ciphertext_blob().unwrap().clone()).send().await.unwrap();
    assert_eq!(again.plaintext(), data_key.plaintext());
}

#[tokio::test]
async fn put_key_policy_refuses_a_lockout_and_get_key_policy_returns_the_text() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let client = kms(&admin);
    let (key_id, _) = create_key(&admin, "policy").await;
    let default = client.get_key_policy().key_id(&key_id).policy_name("default").send().await.unwrap();
    assert_eq!(default.policy_name(), Some("default"));
    assert!(default.policy().unwrap().contains("\"Sid\" : \"Enable IAM User Permissions\""));

    admin
        .iam()
        .create_role()
        .role_name("KeyUser")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .unwrap();
    let locks_out = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/KeyUser"},"Action":"kms:*","Resource":"*"}]}"#;
    let error = client.put_key_policy().key_id(&key_id).policy(locks_out).send().await.unwrap_err().into_service_error();
    assert_eq!(
        code_and_message(&error),
        (
            "MalformedPolicyDocumentException".to_string(),
            "The new key policy will not allow you to update the key policy in the future.".to_string()
        )
    );
    let keeps_admin = r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/admin"},"Action":"kms:*","Resource":"*"},
        {"Sid":"User","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/KeyUser"},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*"}]}"#;
    client.put_key_policy().key_id(&key_id).policy(keeps_admin).send().await.unwrap();
    let stored = client.get_key_policy().key_id(&key_id).send().await.unwrap();
    assert_eq!(stored.policy(), Some(keeps_admin));

    let malformed = client
        .put_key_policy()
        .key_id(&key_id)
        .policy("{\"Statement\":")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(malformed.is_malformed_policy_document_exception(), "{malformed:?}");
}

#[tokio::test]
async fn a_user_without_permission_is_denied_until_a_grant_allows_the_operation() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let alice = user_with_access_key(&backend, &admin, "alice", UserPolicies::default()).await.unwrap();
    let (key_id, arn) = create_key(&admin, "granted").await;

    let denied = kms(&alice)
        .encrypt()
        .key_id(&arn)
        .plaintext(Blob::new("x"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        code_and_message(&denied),
        (
            "AccessDeniedException".to_string(),
            format!(
                "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: kms:Encrypt on resource: {arn} because no identity-based policy allows the kms:Encrypt action"
            )
        )
    );

    let grant = kms(&admin)
        .create_grant()
        .key_id(&key_id)
        .grantee_principal("arn:aws:iam::111111111111:user/alice")
        .operations(GrantOperation::Encrypt)
        .operations(GrantOperation::Decrypt)
        .constraints(GrantConstraints::builder().encryption_context_subset("app", "alice").build())
        .name("alice-app")
        .send()
        .await
        .unwrap();
    let grant_id = grant.grant_id().unwrap().to_string();
    assert_eq!(grant_id.len(), 64);
    assert!(grant.grant_token().is_some());

    let grants = kms(&admin).list_grants().key_id(&key_id).send().await.unwrap();
    assert!(!grants.truncated());
    let entry = &grants.grants()[0];
    assert_eq!(entry.grant_id(), Some(grant_id.as_str()));
    assert_eq!(entry.key_id(), Some(arn.as_str()));
    assert_eq!(entry.name(), Some("alice-app"));
    assert_eq!(entry.grantee_principal(), Some("arn:aws:iam::111111111111:user/alice"));
    assert_eq!(entry.issuing_account(), Some("arn:aws:iam::111111111111:root"));
    assert_eq!(entry.operations(), [GrantOperation::Encrypt, GrantOperation::Decrypt]);
    assert_eq!(
        entry.constraints().and_then(|c| c.encryption_context_subset()).and_then(|m| m.get("app")).map(String::as_str),
        Some("alice")
    );

    // The grant allows its operations under its constraint, and nothing else.
    let encrypted = kms(&alice)
        .encrypt()
        .key_id(&arn)
        .plaintext(Blob::new("x"))
        .encryption_context("app", "alice")
        .send()
        .await
        .expect("the grant allows Encrypt with its context");
    let blob = encrypted.ciphertext_blob().unwrap().clone();
    kms(&alice)
        .decrypt()
        .ciphertext_blob(blob)
        .encryption_context("app", "alice")
        .send()
        .await
        .expect("and Decrypt");
    let outside = kms(&alice).encrypt().key_id(&arn).plaintext(Blob::new("x")).send().await.unwrap_err();
    assert_eq!(outside.into_service_error().code(), Some("AccessDeniedException"));
    let describe = kms(&alice).describe_key().key_id(&arn).send().await.unwrap_err();
    assert_eq!(describe.into_service_error().code(), Some("AccessDeniedException"));

    kms(&admin).revoke_grant().key_id(&key_id).grant_id(&grant_id).send().await.unwrap();
    assert!(kms(&admin).list_grants().key_id(&key_id).send().await.unwrap().grants().is_empty());
}

#[tokio::test]
async fn another_accounts_key_needs_its_key_policy_and_the_callers_iam_policy() {
    let backend = emulator().await;
    let admin_a = Principal::account_admin(&backend, "a").unwrap();
    let admin_b = Principal::account_admin(&backend, "b").unwrap();
    let (key_id, arn) = create_key(&admin_a, "shared").await;

    // Account b's administrator has every IAM permission, but the key policy names only a.
    let denied = kms(&admin_b).describe_key().key_id(&arn).send().await.unwrap_err().into_service_error();
    assert_eq!(
        denied.message(),
        Some(
            format!(
                "User: arn:aws:iam::222222222222:user/admin is not authorized to perform: kms:DescribeKey on resource: {arn} because no resource-based policy allows the kms:DescribeKey action"
            )
            .as_str()
        )
    );
    let shared = r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"kms:*","Resource":"*"},
        {"Sid":"AccountB","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":["kms:DescribeKey","kms:Encrypt","kms:Decrypt","kms:CreateGrant"],"Resource":"*"}]}"#;
    kms(&admin_a).put_key_policy().key_id(&key_id).policy(shared).send().await.unwrap();
    let described = kms(&admin_b).describe_key().key_id(&arn).send().await.unwrap();
    assert_eq!(described.key_metadata().unwrap().aws_account_id(), Some("111111111111"));
    // A key id alone names a key of the caller's own account.
    let not_found = kms(&admin_b).describe_key().key_id(&key_id).send().await.unwrap_err().into_service_error();
    assert_eq!(
        code_and_message(&not_found),
        ("NotFoundException".to_string(), format!("Key 'arn:aws:kms:us-east-1:222222222222:key/{key_id}' does not exist"))
    );

    // A role session of account b with no IAM permission for the key is denied by its own side.
    admin_b
        .iam()
        .create_role()
        .role_name("Consumer")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .unwrap();
    let session = assume_role(&admin_b, "arn:aws:iam::222222222222:role/Consumer", "use", None, "consumer@b").await.unwrap();
    let denied = kms(&session).encrypt().key_id(&arn).plaintext(Blob::new("x")).send().await.unwrap_err().into_service_error();
    assert_eq!(
        denied.message(),
        Some(
            format!(
                "User: arn:aws:sts::222222222222:assumed-role/Consumer/use is not authorized to perform: kms:Encrypt on resource: {arn} because no identity-based policy allows the kms:Encrypt action"
            )
            .as_str()
        )
    );
    admin_b
        .iam()
        .put_role_policy()
        .role_name("Consumer")
        .policy_name("UseSharedKey")
        .policy_document(format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["kms:Encrypt","kms:Decrypt"],"Resource":"{arn}"}}]}}"#))
        .send()
        .await
        .unwrap();
    let encrypted = kms(&session).encrypt().key_id(&arn).plaintext(Blob::new("x")).send().await.unwrap();
    kms(&session).decrypt().ciphertext_blob(encrypted.ciphertext_blob().unwrap().clone()).send().await.unwrap();
}

#[tokio::test]
async fn key_states_answer_with_kms_errors() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let client = kms(&admin);
    let (key_id, arn) = create_key(&admin, "states").await;
    client.disable_key().key_id(&key_id).send().await.unwrap();
    let disabled = client.encrypt().key_id(&key_id).plaintext(Blob::new("x")).send().await.unwrap_err().into_service_error();
    assert!(disabled.is_disabled_exception());
    assert_eq!(disabled.message(), Some(format!("{arn} is disabled.").as_str()));

    let scheduled = client.schedule_key_deletion().key_id(&key_id).pending_window_in_days(7).send().await.unwrap();
    assert_eq!(scheduled.key_id(), Some(arn.as_str()));
    assert_eq!(scheduled.key_state(), Some(&KeyState::PendingDeletion));
    assert_eq!(scheduled.pending_window_in_days(), Some(7));
    let described = client.describe_key().key_id(&key_id).send().await.unwrap();
    assert!(described.key_metadata().unwrap().deletion_date().is_some());
    let pending = client.enable_key().key_id(&key_id).send().await.unwrap_err().into_service_error();
    assert!(pending.is_kms_invalid_state_exception());
    assert_eq!(pending.message(), Some(format!("{arn} is pending deletion.").as_str()));
    client.cancel_key_deletion().key_id(&key_id).send().await.unwrap();
    let described = client.describe_key().key_id(&key_id).send().await.unwrap();
    assert_eq!(described.key_metadata().unwrap().key_state(), Some(&KeyState::Disabled));

    let missing = client.describe_key().key_id("alias/nothing").send().await.unwrap_err().into_service_error();
    assert_eq!(
        code_and_message(&missing),
        ("NotFoundException".to_string(), "Alias arn:aws:kms:us-east-1:111111111111:alias/nothing is not found.".to_string())
    );
}

#[tokio::test]
async fn a_wrong_secret_gets_invalid_signature_exception() {
    let backend = emulator().await;
    let account = backend.account("a").unwrap();
    let wrong = Principal::from_keys(&backend, "wrong", "a", &account.access_key_id, "not-the-secret", None).unwrap();
    let error = kms(&wrong).list_keys().send().await.unwrap_err().into_service_error();
    assert_eq!(error.code(), Some("InvalidSignatureException"));
    assert!(error.message().unwrap().starts_with("The request signature we calculated does not match"), "{error:?}");
}

fn tag(key: &str, value: &str) -> aws_sdk_kms::types::Tag {
    aws_sdk_kms::types::Tag::builder().tag_key(key).tag_value(value).build().unwrap()
}

/// (key, value) of every tag ListResourceTags gives, page after page.
async fn listed_tags(client: &Client, key_id: &str, limit: i32) -> Vec<(String, String)> {
    let pages: Vec<_> = client.list_resource_tags().key_id(key_id).limit(limit).into_paginator().send().collect().await;
    pages
        .into_iter()
        .flat_map(|page| page.unwrap().tags().to_vec())
        .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
        .collect()
}

#[tokio::test]
async fn tags_set_at_creation_and_later_are_listed_in_order_and_removed() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let client = kms(&admin);
    let created = client.create_key().tags(tag("wana:run-id", "wana-x-abcdefgh")).tags(tag("team", "blue")).send().await.unwrap();
    let key_id = created.key_metadata().unwrap().key_id().to_string();
    client.tag_resource().key_id(&key_id).tags(tag("team", "red")).tags(tag("cost", "lab")).send().await.unwrap();
    let owned = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
    let expected = owned(&[("wana:run-id", "wana-x-abcdefgh"), ("team", "red"), ("cost", "lab")]);
    assert_eq!(listed_tags(&client, &key_id, 50).await, expected, "a new value keeps its place");
    let first = client.list_resource_tags().key_id(&key_id).limit(2).send().await.unwrap();
    assert!(first.truncated());
    assert!(first.next_marker().is_some());
    assert_eq!(listed_tags(&client, &key_id, 1).await, expected, "pages of one tag add up to the list");

    client.untag_resource().key_id(&key_id).tag_keys("team").tag_keys("absent").send().await.unwrap();
    assert_eq!(listed_tags(&client, &key_id, 50).await, owned(&[("wana:run-id", "wana-x-abcdefgh"), ("cost", "lab")]));

    // A key pending deletion keeps its tags for all to read, and takes no new ones.
    client.schedule_key_deletion().key_id(&key_id).pending_window_in_days(7).send().await.unwrap();
    assert_eq!(listed_tags(&client, &key_id, 50).await.len(), 2);
    let pending = client.tag_resource().key_id(&key_id).tags(tag("late", "x")).send().await.unwrap_err().into_service_error();
    assert!(pending.is_kms_invalid_state_exception(), "{pending:?}");
}

#[tokio::test]
async fn tags_are_checked_as_kms_checks_them() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let client = kms(&admin);
    let (key_id, _) = create_key(&admin, "tags").await;
    let refused = |result: Result<_, aws_sdk_kms::error::SdkError<aws_sdk_kms::operation::tag_resource::TagResourceError>>| {
        code_and_message(&result.unwrap_err().into_service_error())
    };
    let owned = |code: &str, message: &str| (code.to_string(), message.to_string());
    for reserved in ["aws:team", "AWS:team"] {
        let out = client.tag_resource().key_id(&key_id).tags(tag(reserved, "x")).send().await;
        assert_eq!(refused(out), owned("TagException", "Tags beginning with aws: are reserved"));
    }
    let out = client.tag_resource().key_id(&key_id).tags(tag("a", "1")).tags(tag("a", "2")).send().await;
    assert_eq!(refused(out), owned("TagException", "Duplicate tag keys"));
    let long = "k".repeat(129);
    let out = client.tag_resource().key_id(&key_id).tags(tag(&long, "x")).send().await;
    assert_eq!(
        refused(out),
        owned(
            "ValidationException",
            &format!("1 validation error detected: Value '{long}' at 'tags.1.member.tagKey' failed to satisfy constraint: Member must have length less than or equal to 128")
        )
    );
    let mut many = client.tag_resource().key_id(&key_id);
    for n in 0..51 {
        many = many.tags(tag(&format!("k{n}"), "v"));
    }
    assert_eq!(refused(many.send().await), owned("TagException", "Too many tags"));
    let created = client.create_key().tags(tag("aws:x", "y")).send().await.unwrap_err().into_service_error();
    assert_eq!(code_and_message(&created), owned("TagException", "Tags beginning with aws: are reserved"));
}

#[tokio::test]
async fn list_aliases_and_list_keys_page_with_limit_and_marker() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let client = kms(&admin);
    let (key_id, _) = create_key(&admin, "aliases").await;
    for n in 0..55 {
        client.create_alias().alias_name(format!("alias/many-{n:02}")).target_key_id(&key_id).send().await.unwrap();
    }
    let first = client.list_aliases().send().await.unwrap();
    assert_eq!(first.aliases().len(), 50, "ListAliases gives 50 aliases a page by default");
    assert!(first.truncated());
    let pages: Vec<_> = client.list_aliases().limit(7).into_paginator().send().collect().await;
    let names: Vec<String> = pages.into_iter().flat_map(|p| p.unwrap().aliases().to_vec()).filter_map(|a| a.alias_name().map(str::to_string)).collect();
    assert_eq!(names.iter().filter(|n| n.starts_with("alias/many-")).count(), 55);
    let bad = client.list_aliases().marker("not-a-marker").send().await.unwrap_err().into_service_error();
    assert!(bad.is_invalid_marker_exception(), "{bad:?}");

    for _ in 0..4 {
        create_key(&admin, "more").await;
    }
    let pages: Vec<_> = client.list_keys().limit(2).into_paginator().send().collect().await;
    assert_eq!(pages.len(), 3);
    assert_eq!(pages.into_iter().map(|p| p.unwrap().keys().len()).sum::<usize>(), 5);
}
