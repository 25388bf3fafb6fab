//! 32 clients at once against one emulator, each creating and changing IAM, KMS and EC2
//! resources, some of them shared (one role's policies, one key's grants, one launch template's
//! versions): every change is there afterwards, nothing is lost or applied twice (issue 15).

use std::collections::BTreeSet;

use wana_emulator::BehaviourProfile;
use wana_harness::{Backend, Principal};

const CLIENTS: usize = 32;
const AMAZON_LINUX_2016: &str = "ami-374db956";
const SHARED_ROLE: &str = "shared-role";
const SHARED_TEMPLATE: &str = "shared-template";

fn allow_all(sid: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{sid}","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}]}}"#
    )
}

/// What one client does: its own user with an inline policy and a key, its own key with an
/// alias, one inline policy on the shared role, one grant on the shared key, one version of the
/// shared launch template, and one instance of its own.
async fn client(admin: Principal, n: usize, shared_key: String) {
    let iam = admin.iam();
    let user = format!("client-{n:02}");
    iam.create_user().user_name(&user).send().await.expect("create user");
    iam.put_user_policy()
        .user_name(&user)
        .policy_name("own")
        .policy_document(allow_all(&format!("User{n}")))
        .send()
        .await
        .expect("put user policy");
    iam.create_access_key().user_name(&user).send().await.expect("create access key");
    iam.put_role_policy()
        .role_name(SHARED_ROLE)
        .policy_name(format!("from-client-{n:02}"))
        .policy_document(allow_all(&format!("Role{n}")))
        .send()
        .await
        .expect("put role policy");

    let kms = aws_sdk_kms::Client::new(&admin.config);
    let key = kms.create_key().description(format!("client {n}")).send().await.expect("create key");
    let key_id = key.key_metadata().expect("metadata").key_id().to_string();
    kms.create_alias()
        .alias_name(format!("alias/client-{n:02}"))
        .target_key_id(&key_id)
        .send()
        .await
        .expect("create alias");
    kms.create_grant()
        .key_id(&shared_key)
        .grantee_principal(format!("arn:aws:iam::{}:user/{user}", admin.account))
        .operations(aws_sdk_kms::types::GrantOperation::Decrypt)
        .name(format!("grant-{n:02}"))
        .send()
        .await
        .expect("create grant");

    let ec2 = aws_sdk_ec2::Client::new(&admin.config);
    ec2.create_launch_template_version()
        .launch_template_name(SHARED_TEMPLATE)
        .version_description(format!("client-{n:02}"))
        .launch_template_data(
            aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                .image_id(AMAZON_LINUX_2016)
                .build(),
        )
        .send()
        .await
        .expect("create launch template version");
    ec2.run_instances()
        .image_id(AMAZON_LINUX_2016)
        .instance_type("t2.micro".into())
        .min_count(1)
        .max_count(1)
        .tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::Instance)
                .tags(aws_sdk_ec2::types::Tag::builder().key("owner").value(&user).build())
                .build(),
        )
        .send()
        .await
        .expect("run instances");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_clients_at_once_lose_no_update() {
    let backend = Backend::start_emulator(BehaviourProfile::Current).await.expect("emulator starts");
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let iam = admin.iam();
    iam.create_role()
        .role_name(SHARED_ROLE)
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let kms = aws_sdk_kms::Client::new(&admin.config);
    let shared_key = kms.create_key().send().await.unwrap().key_metadata().unwrap().key_id().to_string();
    let ec2 = aws_sdk_ec2::Client::new(&admin.config);
    ec2.create_launch_template()
        .launch_template_name(SHARED_TEMPLATE)
        .launch_template_data(
            aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                .image_id(AMAZON_LINUX_2016)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let mut clients = tokio::task::JoinSet::new();
    for n in 0..CLIENTS {
        clients.spawn(client(admin.clone(), n, shared_key.clone()));
    }
    while let Some(done) = clients.join_next().await {
        done.expect("a client panicked");
    }

    let expected: BTreeSet<String> = (0..CLIENTS).map(|n| format!("client-{n:02}")).collect();
    let users: BTreeSet<String> = iam
        .list_users()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .iter()
        .map(|u| u.user_name().to_string())
        .filter(|name| name.starts_with("client-"))
        .collect();
    assert_eq!(users, expected, "every user");
    for name in &expected {
        let keys = iam.list_access_keys().user_name(name).send().await.unwrap();
        assert_eq!(keys.access_key_metadata().len(), 1, "{name}: one access key");
        let policies = iam.list_user_policies().user_name(name).send().await.unwrap();
        assert_eq!(policies.policy_names(), ["own"], "{name}");
    }
    let role_policies: BTreeSet<String> = iam
        .list_role_policies()
        .role_name(SHARED_ROLE)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .into_iter()
        .collect();
    let expected_role_policies: BTreeSet<String> =
        (0..CLIENTS).map(|n| format!("from-client-{n:02}")).collect();
    assert_eq!(role_policies, expected_role_policies, "every client's policy on the shared role");

    let aliases: BTreeSet<String> = kms
        .list_aliases()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .iter()
        .filter_map(|a| a.alias_name().and_then(|n| n.strip_prefix("alias/")).map(str::to_string))
        .filter(|name| name.starts_with("client-"))
        .collect();
    assert_eq!(aliases, expected, "every alias");
    let grants: BTreeSet<String> = kms
        .list_grants()
        .key_id(&shared_key)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .iter()
        .filter_map(|g| g.name().map(str::to_string))
        .collect();
    let expected_grants: BTreeSet<String> = (0..CLIENTS).map(|n| format!("grant-{n:02}")).collect();
    assert_eq!(grants, expected_grants, "every grant on the shared key");

    let described = ec2.describe_instances().send().await.unwrap();
    let instances: Vec<_> = described.reservations().iter().flat_map(|r| r.instances()).collect();
    let versions = ec2
        .describe_launch_template_versions()
        .launch_template_name(SHARED_TEMPLATE)
        .send()
        .await
        .unwrap();
    let numbers: BTreeSet<i64> =
        versions.launch_template_versions().iter().filter_map(|v| v.version_number()).collect();
    assert_eq!(numbers, (1..=CLIENTS as i64 + 1).collect(), "one version each, numbered without gaps");
    let descriptions: BTreeSet<String> = versions
        .launch_template_versions()
        .iter()
        .filter_map(|v| v.version_description().map(str::to_string))
        .collect();
    assert_eq!(descriptions, expected, "every client's version");
    let owners: BTreeSet<String> = instances
        .iter()
        .flat_map(|i| i.tags())
        .filter(|t| t.key() == Some("owner"))
        .filter_map(|t| t.value().map(str::to_string))
        .collect();
    assert_eq!(owners, expected, "one instance per client, tagged at launch");
    backend.stop();
}
