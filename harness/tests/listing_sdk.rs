//! The emulator's list and describe operations page as AWS pages them, seen through the SDK's own
//! paginators (`into_paginator()`): more items than one page, every item once, and AWS's errors
//! for a page size or token it refuses. KMS's own listings are in `kms_sdk.rs`.

use aws_sdk_ec2::error::ProvideErrorMetadata;
use wana_emulator::BehaviourProfile;
use wana_harness::{backend::Backend, principal::Principal};

const AMI: &str = "ami-374db956";

async fn admin() -> (Backend, Principal) {
    let backend = Backend::start_emulator(BehaviourProfile::Current).await.expect("emulator starts");
    let admin = Principal::account_admin(&backend, "a").unwrap();
    (backend, admin)
}

fn code_and_message<E: ProvideErrorMetadata>(error: &E) -> (String, String) {
    (error.code().unwrap_or_default().to_string(), error.message().unwrap_or_default().to_string())
}

#[tokio::test]
async fn iam_lists_page_with_max_items_and_marker_and_100_by_default() {
    let (_backend, admin) = admin().await;
    let iam = admin.iam();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    for n in 0..105 {
        iam.create_role().role_name(format!("role-{n:03}")).assume_role_policy_document(trust).send().await.unwrap();
    }
    for n in 0..3 {
        iam.create_user().user_name(format!("user-{n}")).send().await.unwrap();
        iam.create_instance_profile().instance_profile_name(format!("profile-{n}")).send().await.unwrap();
    }
    let first = iam.list_roles().send().await.unwrap();
    assert_eq!(first.roles().len(), 100, "IAM answers 100 items a page by default");
    assert!(first.is_truncated());
    let roles: Vec<_> = iam.list_roles().into_paginator().items().send().collect::<Result<Vec<_>, _>>().await.unwrap();
    assert_eq!(roles.iter().filter(|r| r.role_name().starts_with("role-")).count(), 105);
    let pages: Vec<_> = iam.list_users().max_items(2).into_paginator().send().collect::<Result<Vec<_>, _>>().await.unwrap();
    assert!(pages.len() >= 2, "{} pages", pages.len());
    let users: Vec<&str> = pages.iter().flat_map(|p| p.users()).map(|u| u.user_name()).collect();
    assert!(["user-0", "user-1", "user-2"].iter().all(|u| users.contains(u)), "{users:?}");
    let pages: Vec<_> = iam.list_instance_profiles().max_items(1).into_paginator().send().collect::<Result<Vec<_>, _>>().await.unwrap();
    assert_eq!(pages.len(), 3);
}

#[tokio::test]
async fn ec2_describe_calls_page_with_max_results_and_next_token() {
    let (_backend, admin) = admin().await;
    let ec2 = aws_sdk_ec2::Client::new(&admin.config);
    ec2.run_instances().image_id(AMI).instance_type("t2.micro".into()).min_count(7).max_count(7).send().await.unwrap();
    ec2.run_instances().image_id(AMI).instance_type("t2.micro".into()).min_count(1).max_count(1).send().await.unwrap();
    let pages: Vec<_> = ec2.describe_instances().max_results(5).into_paginator().send().collect::<Result<Vec<_>, _>>().await.unwrap();
    let per_page: Vec<usize> = pages.iter().map(|p| p.reservations().iter().map(|r| r.instances().len()).sum()).collect();
    assert_eq!(per_page, [5, 3], "pages count instances");
    assert!(pages[0].next_token().is_some() && pages[1].next_token().is_none());
    let all = ec2.describe_instances().send().await.unwrap();
    assert!(all.next_token().is_none(), "without MaxResults, one page");
    assert_eq!(all.reservations().iter().map(|r| r.instances().len()).sum::<usize>(), 8);

    let small = ec2.describe_instances().max_results(1).send().await.unwrap_err().into_service_error();
    assert_eq!(
        code_and_message(&small),
        ("InvalidParameterValue".to_string(), "Value ( 1 ) for parameter maxResults is invalid. Expecting a value greater than 5.".to_string())
    );
    let id = all.reservations()[0].instances()[0].instance_id().unwrap().to_string();
    let both = ec2.describe_instances().instance_ids(&id).max_results(5).send().await.unwrap_err().into_service_error();
    assert_eq!(
        code_and_message(&both),
        ("InvalidParameterCombination".to_string(), "The parameter instancesSet cannot be used with the parameter maxResults".to_string())
    );
    let token = ec2.describe_instances().next_token("garbage").send().await.unwrap_err().into_service_error();
    assert_eq!(
        code_and_message(&token),
        ("InvalidParameterValue".to_string(), "Value ( garbage ) for parameter NextToken is invalid. The token is invalid.".to_string())
    );

    for n in 0..3 {
        let data = aws_sdk_ec2::types::RequestLaunchTemplateData::builder().image_id(AMI).build();
        ec2.create_launch_template().launch_template_name(format!("lt-{n}")).launch_template_data(data).send().await.unwrap();
    }
    let pages: Vec<_> = ec2.describe_launch_templates().max_results(1).into_paginator().send().collect::<Result<Vec<_>, _>>().await.unwrap();
    assert_eq!(pages.len(), 3);
    let names: Vec<&str> = pages.iter().flat_map(|p| p.launch_templates()).filter_map(|t| t.launch_template_name()).collect();
    assert_eq!(names, ["lt-0", "lt-1", "lt-2"]);

    for n in 0..6 {
        ec2.copy_image().source_image_id(AMI).source_region("us-east-1").name(format!("copy-{n}")).send().await.unwrap();
    }
    let pages: Vec<_> =
        ec2.describe_images().owners("self").max_results(5).into_paginator().send().collect::<Result<Vec<_>, _>>().await.unwrap();
    let per_page: Vec<usize> = pages.iter().map(|p| p.images().len()).collect();
    assert_eq!(per_page, [5, 1]);
}

const ROLE_TEMPLATE: &str = r#"{"Resources":{"Role":{"Type":"AWS::IAM::Role","Properties":{"AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}}}}}"#;

#[tokio::test]
async fn describe_stacks_pages_100_stacks_at_a_time() {
    let (_backend, admin) = admin().await;
    let cfn = aws_sdk_cloudformation::Client::new(&admin.config);
    for n in 0..101 {
        cfn.create_stack()
            .stack_name(format!("stack-{n:03}"))
            .template_body(ROLE_TEMPLATE)
            .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityIam)
            .send()
            .await
            .unwrap();
    }
    let first = cfn.describe_stacks().send().await.unwrap();
    assert_eq!(first.stacks().len(), 100);
    assert!(first.next_token().is_some());
    let stacks: Vec<_> = cfn.describe_stacks().into_paginator().items().send().collect::<Result<Vec<_>, _>>().await.unwrap();
    let mut names: Vec<&str> = stacks.iter().filter_map(|s| s.stack_name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 101);
}

#[tokio::test]
async fn list_buckets_pages_with_max_buckets_and_a_continuation_token() {
    let (_backend, admin) = admin().await;
    let s3 = aws_sdk_s3::Client::new(&admin.config);
    for n in 0..5 {
        s3.create_bucket().bucket(format!("wana-listing-{n}")).send().await.unwrap();
    }
    let pages: Vec<_> = s3.list_buckets().max_buckets(2).into_paginator().send().collect::<Result<Vec<_>, _>>().await.unwrap();
    assert_eq!(pages.len(), 3);
    assert!(pages[0].continuation_token().is_some() && pages[2].continuation_token().is_none());
    let names: Vec<&str> = pages.iter().flat_map(|p| p.buckets()).filter_map(|b| b.name()).collect();
    assert_eq!(names, ["wana-listing-0", "wana-listing-1", "wana-listing-2", "wana-listing-3", "wana-listing-4"]);
    assert_eq!(s3.list_buckets().send().await.unwrap().buckets().len(), 5, "one page without max-buckets");
}

#[tokio::test]
async fn ssm_list_documents_pages_with_max_results() {
    let (_backend, admin) = admin().await;
    let ssm = aws_sdk_ssm::Client::new(&admin.config);
    let content = "schemaVersion: \"2.2\"\ndescription: d\nmainSteps:\n- action: aws:runShellScript\n  name: run\n  inputs:\n    runCommand: [\"true\"]\n";
    for n in 0..5 {
        ssm.create_document()
            .name(format!("doc-{n}"))
            .content(content)
            .document_type(aws_sdk_ssm::types::DocumentType::Command)
            .document_format(aws_sdk_ssm::types::DocumentFormat::Yaml)
            .send()
            .await
            .unwrap();
    }
    let own = aws_sdk_ssm::types::DocumentKeyValuesFilter::builder().key("Owner").values("Self").build();
    let pages: Vec<_> =
        ssm.list_documents().filters(own).max_results(2).into_paginator().send().collect::<Result<Vec<_>, _>>().await.unwrap();
    assert_eq!(pages.len(), 3);
    let names: Vec<&str> = pages.iter().flat_map(|p| p.document_identifiers()).filter_map(|d| d.name()).collect();
    assert_eq!(names, ["doc-0", "doc-1", "doc-2", "doc-3", "doc-4"]);
    let listed = &pages[0].document_identifiers()[0];
    assert_eq!(listed.owner(), Some("111111111111"));
    assert_eq!(listed.document_type().map(|t| t.as_str()), Some("Command"));
}
