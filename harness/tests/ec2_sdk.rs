//! EC2 seen from the Rust SDK (and once from the AWS CLI): the instance life cycle on the
//! emulator clock, the fields the SDK parses, EC2's error codes, and the way an encrypted volume
//! whose key the caller may not use fails a launch or a start after `pending`; instance profiles
//! and IAM's propagation window; instance metadata options.

use std::time::Duration;

use aws_sdk_ec2::{
    error::ProvideErrorMetadata,
    types::{
        BlockDeviceMapping, EbsBlockDevice, Filter, HttpTokensState, IamInstanceProfileSpecification,
        InstanceMetadataEndpointState, InstanceMetadataOptionsRequest, InstanceMetadataOptionsState,
        InstanceMetadataTagsState, InstanceStateName, VolumeType,
    },
};
use wana_emulator::{BehaviourProfile, EmulatorConfig, AWS_INSTANCE_PROFILE_PROPAGATION};
use wana_harness::{
    provision::{user_with_access_key, UserPolicies},
    AwsCli, Backend, Principal,
};

const AMAZON_LINUX_2016: &str = "ami-374db956";

/// Everything on EC2, nothing else: enough to launch, start, stop and describe.
const EC2_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#;

async fn emulator() -> Backend {
    Backend::start_emulator(BehaviourProfile::Current).await.expect("emulator starts")
}

/// An emulator where a new instance profile is usable at once, for tests that launch with one
/// they have just created and are not about IAM's propagation.
async fn emulator_without_propagation() -> Backend {
    let config = EmulatorConfig { instance_profile_propagation: Duration::ZERO, ..EmulatorConfig::default() };
    Backend::start_emulator_with(config).await.expect("emulator starts")
}

fn ec2(principal: &Principal) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::new(&principal.config)
}

fn advance(backend: &Backend, seconds: u64) {
    backend.emulator().expect("in-process emulator").clock().advance(Duration::from_secs(seconds));
}

fn code_and_message<E: ProvideErrorMetadata>(error: &E) -> (String, String) {
    (error.code().unwrap_or_default().to_string(), error.message().unwrap_or_default().to_string())
}

async fn instance(client: &aws_sdk_ec2::Client, id: &str) -> aws_sdk_ec2::types::Instance {
    let described = client.describe_instances().instance_ids(id).send().await.expect("describe instances");
    let [reservation] = described.reservations() else { panic!("one reservation: {described:?}") };
    let [instance] = reservation.instances() else { panic!("one instance: {reservation:?}") };
    instance.clone()
}

async fn state(client: &aws_sdk_ec2::Client, id: &str) -> InstanceStateName {
    instance(client, id).await.state().and_then(|s| s.name()).cloned().expect("a state name")
}

async fn run_one(client: &aws_sdk_ec2::Client, mappings: Vec<BlockDeviceMapping>) -> String {
    let reservation = client
        .run_instances()
        .image_id(AMAZON_LINUX_2016)
        .instance_type("t2.micro".into())
        .min_count(1)
        .max_count(1)
        .set_block_device_mappings(Some(mappings).filter(|m| !m.is_empty()))
        .send()
        .await
        .expect("run instances");
    reservation.instances()[0].instance_id().expect("an instance id").to_string()
}

fn encrypted_root(key_arn: &str) -> Vec<BlockDeviceMapping> {
    vec![BlockDeviceMapping::builder()
        .device_name("/dev/xvda")
        .ebs(EbsBlockDevice::builder().encrypted(true).kms_key_id(key_arn).build())
        .build()]
}

#[tokio::test]
async fn an_instance_lives_on_the_emulator_clock() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let client = ec2(&admin);

    let reservation = client
        .run_instances()
        .image_id(AMAZON_LINUX_2016)
        .instance_type("t2.micro".into())
        .min_count(1)
        .max_count(1)
        .tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::Instance)
                .tags(aws_sdk_ec2::types::Tag::builder().key("Name").value("web").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(reservation.owner_id(), Some("111111111111"));
    assert!(reservation.reservation_id().unwrap().starts_with("r-"));
    let launched = &reservation.instances()[0];
    let id = launched.instance_id().unwrap().to_string();
    assert!(id.starts_with("i-") && id.len() == 19, "{id}");
    assert_eq!(launched.state().unwrap().name(), Some(&InstanceStateName::Pending));
    assert_eq!(launched.state().unwrap().code(), Some(0));
    assert_eq!(launched.state_reason().and_then(|r| r.code()), Some("pending"));

    advance(&backend, 6);
    let running = instance(&client, &id).await;
    assert_eq!(running.state().unwrap().name(), Some(&InstanceStateName::Running));
    assert_eq!(running.state().unwrap().code(), Some(16));
    assert_eq!(running.image_id(), Some(AMAZON_LINUX_2016));
    assert_eq!(running.instance_type().map(|t| t.as_str()), Some("t2.micro"));
    assert!(running.launch_time().is_some());
    assert_eq!(running.placement().and_then(|p| p.availability_zone()), Some("us-east-1a"));
    assert_eq!(running.root_device_name(), Some("/dev/xvda"));
    assert!(running.private_dns_name().unwrap().ends_with(".ec2.internal"));
    assert_eq!(running.tags()[0].value(), Some("web"));
    let [device] = running.block_device_mappings() else { panic!("{:?}", running.block_device_mappings()) };
    assert_eq!(device.device_name(), Some("/dev/xvda"));
    let volume_id = device.ebs().and_then(|e| e.volume_id()).unwrap().to_string();
    assert_eq!(device.ebs().and_then(|e| e.delete_on_termination()), Some(true));

    let volumes = client.describe_volumes().volume_ids(&volume_id).send().await.unwrap();
    let volume = &volumes.volumes()[0];
    assert_eq!(volume.size(), Some(8));
    assert_eq!(volume.volume_type(), Some(&VolumeType::Gp2));
    assert_eq!(volume.state().map(|s| s.as_str()), Some("in-use"));
    assert_eq!(volume.encrypted(), Some(false));
    assert_eq!(volume.attachments()[0].instance_id(), Some(id.as_str()));

    let status = client.describe_instance_status().instance_ids(&id).send().await.unwrap();
    assert_eq!(
        status.instance_statuses()[0].instance_status().and_then(|s| s.status()).map(|s| s.as_str()),
        Some("ok")
    );

    let stopping = client.stop_instances().instance_ids(&id).send().await.unwrap();
    let change = &stopping.stopping_instances()[0];
    assert_eq!(change.previous_state().unwrap().name(), Some(&InstanceStateName::Running));
    assert_eq!(change.current_state().unwrap().name(), Some(&InstanceStateName::Stopping));
    advance(&backend, 6);
    let stopped = instance(&client, &id).await;
    assert_eq!(stopped.state().unwrap().code(), Some(80));
    assert_eq!(stopped.state_reason().and_then(|r| r.code()), Some("Client.UserInitiatedShutdown"));
    assert!(stopped.state_transition_reason().unwrap().starts_with("User initiated ("), "{stopped:?}");

    let starting = client.start_instances().instance_ids(&id).send().await.unwrap();
    let change = &starting.starting_instances()[0];
    assert_eq!(change.previous_state().unwrap().code(), Some(80));
    assert_eq!(change.current_state().unwrap().code(), Some(0));
    advance(&backend, 6);
    assert_eq!(state(&client, &id).await, InstanceStateName::Running);

    client.reboot_instances().instance_ids(&id).send().await.unwrap();
    assert_eq!(state(&client, &id).await, InstanceStateName::Running);

    let terminating = client.terminate_instances().instance_ids(&id).send().await.unwrap();
    let change = &terminating.terminating_instances()[0];
    assert_eq!(change.current_state().unwrap().name(), Some(&InstanceStateName::ShuttingDown));
    advance(&backend, 6);
    // Terminated instances stay visible, as on AWS; their delete-on-termination volume is gone.
    assert_eq!(state(&client, &id).await, InstanceStateName::Terminated);
    let filtered = client
        .describe_instances()
        .filters(Filter::builder().name("instance-state-name").values("terminated").build())
        .send()
        .await
        .unwrap();
    assert_eq!(filtered.reservations().len(), 1);
    let gone = client.describe_volumes().volume_ids(&volume_id).send().await.unwrap_err().into_service_error();
    assert_eq!(gone.code(), Some("InvalidVolume.NotFound"));

    let again = client.start_instances().instance_ids(&id).send().await.unwrap_err().into_service_error();
    assert_eq!(
        code_and_message(&again),
        (
            "IncorrectInstanceState".to_string(),
            format!("The instance '{id}' is not in a state from which it can be started.")
        )
    );
}

#[tokio::test]
async fn unknown_and_malformed_ids_get_ec2_errors() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let client = ec2(&admin);

    let missing = client.describe_instances().instance_ids("i-0123456789abcdef0").send().await.unwrap_err();
    assert_eq!(
        code_and_message(&missing.into_service_error()),
        ("InvalidInstanceID.NotFound".to_string(), "The instance ID 'i-0123456789abcdef0' does not exist".to_string())
    );
    let missing = client.stop_instances().instance_ids("i-0123456789abcdef0").send().await.unwrap_err();
    assert_eq!(missing.into_service_error().code(), Some("InvalidInstanceID.NotFound"));
    let malformed = client.terminate_instances().instance_ids("web-1").send().await.unwrap_err();
    assert_eq!(
        code_and_message(&malformed.into_service_error()),
        ("InvalidInstanceID.Malformed".to_string(), "Invalid id: \"web-1\"".to_string())
    );

    let images = client.describe_images().image_ids(AMAZON_LINUX_2016).send().await.unwrap();
    let image = &images.images()[0];
    assert_eq!(image.name(), Some("amzn-ami-hvm-2016.03.3.x86_64-gp2"));
    assert_eq!(image.root_device_type().map(|t| t.as_str()), Some("ebs"));
    assert_eq!(image.block_device_mappings()[0].ebs().and_then(|e| e.volume_size()), Some(8));
    let unknown = client
        .run_instances()
        .image_id("ami-12345678")
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        code_and_message(&unknown),
        ("InvalidAMIID.NotFound".to_string(), "The image id '[ami-12345678]' does not exist".to_string())
    );

    let profile = client
        .run_instances()
        .image_id(AMAZON_LINUX_2016)
        .min_count(1)
        .max_count(1)
        .iam_instance_profile(IamInstanceProfileSpecification::builder().name("NoSuchProfile").build())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        code_and_message(&profile),
        (
            "InvalidParameterValue".to_string(),
            "Value (NoSuchProfile) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"
                .to_string()
        )
    );
}

#[tokio::test]
async fn a_user_without_ec2_permissions_gets_unauthorized_operation() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let nobody = user_with_access_key(&backend, &admin, "nobody", UserPolicies::default()).await.unwrap();

    let denied = ec2(&nobody).describe_instances().send().await.unwrap_err();
    let raw_status = denied.raw_response().map(|r| r.status().as_u16());
    let (code, message) = code_and_message(&denied.into_service_error());
    assert_eq!(raw_status, Some(403));
    assert_eq!(code, "UnauthorizedOperation");
    let expected = "You are not authorized to perform this operation. User: arn:aws:iam::111111111111:user/nobody is not authorized to perform: ec2:DescribeInstances on resource: * because no identity-based policy allows the ec2:DescribeInstances action. Encoded authorization failure message: ";
    assert!(message.starts_with(expected), "{message}");
    assert!(message.len() > expected.len(), "{message}");

    let denied = ec2(&nobody)
        .run_instances()
        .image_id(AMAZON_LINUX_2016)
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(denied.code(), Some("UnauthorizedOperation"));
    assert!(denied.message().unwrap().contains("on resource: arn:aws:ec2:us-east-1:111111111111:instance/*"));
}

/// A role trusted by EC2 in an instance profile, both named `name`, as the report creates them.
async fn role_and_profile(admin: &Principal, name: &str) {
    let iam = admin.iam();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role().role_name(name).assume_role_policy_document(trust).send().await.unwrap();
    iam.create_instance_profile().instance_profile_name(name).send().await.unwrap();
    iam.add_role_to_instance_profile().instance_profile_name(name).role_name(name).send().await.unwrap();
}

#[tokio::test]
async fn passing_a_role_needs_iam_pass_role() {
    let backend = emulator_without_propagation().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let iam = admin.iam();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role().role_name("AppRole").assume_role_policy_document(trust).send().await.unwrap();
    iam.create_instance_profile().instance_profile_name("AppProfile").send().await.unwrap();
    iam.add_role_to_instance_profile().instance_profile_name("AppProfile").role_name("AppRole").send().await.unwrap();
    let operator = user_with_access_key(&backend, &admin, "operator", UserPolicies { inline: Some(EC2_ONLY), ..UserPolicies::default() })
        .await
        .unwrap();

    let launch = |client: aws_sdk_ec2::Client| async move {
        client
            .run_instances()
            .image_id(AMAZON_LINUX_2016)
            .min_count(1)
            .max_count(1)
            .iam_instance_profile(IamInstanceProfileSpecification::builder().name("AppProfile").build())
            .send()
            .await
    };
    let denied = launch(ec2(&operator)).await.unwrap_err().into_service_error();
    assert_eq!(denied.code(), Some("UnauthorizedOperation"));
    assert!(
        denied
            .message()
            .unwrap()
            .contains("is not authorized to perform: iam:PassRole on resource: arn:aws:iam::111111111111:role/AppRole"),
        "{denied:?}"
    );

    let launched = launch(ec2(&admin)).await.unwrap();
    let association = launched.instances()[0].iam_instance_profile().unwrap();
    assert_eq!(association.arn(), Some("arn:aws:iam::111111111111:instance-profile/AppProfile"));
    assert!(association.id().unwrap().starts_with("AIPA"));
}

/// The report's launch right after `create-instance-profile`: EC2 does not know the profile yet
/// and answers AWS's error; once IAM's change has propagated the same launch runs.
#[tokio::test]
async fn a_profile_created_moments_ago_is_refused_until_iam_propagates() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    role_and_profile(&admin, "app").await;
    let launch = || async {
        ec2(&admin)
            .run_instances()
            .image_id(AMAZON_LINUX_2016)
            .min_count(1)
            .max_count(1)
            .iam_instance_profile(IamInstanceProfileSpecification::builder().name("app").build())
            .send()
            .await
    };

    let refused = launch().await.unwrap_err();
    assert_eq!(refused.raw_response().map(|r| r.status().as_u16()), Some(400));
    assert_eq!(
        code_and_message(&refused.into_service_error()),
        (
            "InvalidParameterValue".to_string(),
            "Value (app) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name".to_string()
        )
    );
    advance(&backend, AWS_INSTANCE_PROFILE_PROPAGATION.as_secs() - 1);
    assert_eq!(launch().await.unwrap_err().into_service_error().code(), Some("InvalidParameterValue"));

    advance(&backend, 1);
    let launched = launch().await.expect("the retry after the window succeeds");
    let profile = launched.instances()[0].iam_instance_profile().unwrap();
    assert_eq!(profile.arn(), Some("arn:aws:iam::111111111111:instance-profile/app"));
}

#[tokio::test]
async fn metadata_options_are_set_at_launch_and_modified_pending_then_applied() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let client = ec2(&admin);
    let launched = client
        .run_instances()
        .image_id(AMAZON_LINUX_2016)
        .min_count(1)
        .max_count(1)
        .metadata_options(
            InstanceMetadataOptionsRequest::builder()
                .http_tokens(HttpTokensState::Required)
                .http_put_response_hop_limit(2)
                .http_endpoint(InstanceMetadataEndpointState::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let id = launched.instances()[0].instance_id().unwrap().to_string();
    advance(&backend, 6);
    let running = instance(&client, &id).await;
    let options = running.metadata_options().expect("metadataOptions");
    assert_eq!(options.state(), Some(&InstanceMetadataOptionsState::Applied));
    assert_eq!(options.http_tokens(), Some(&HttpTokensState::Required));
    assert_eq!(options.http_put_response_hop_limit(), Some(2));
    assert_eq!(options.http_endpoint(), Some(&InstanceMetadataEndpointState::Enabled));
    assert_eq!(options.http_protocol_ipv6().map(|p| p.as_str()), Some("disabled"));
    assert_eq!(options.instance_metadata_tags(), Some(&InstanceMetadataTagsState::Disabled));

    let modified = client
        .modify_instance_metadata_options()
        .instance_id(&id)
        .http_tokens(HttpTokensState::Optional)
        .http_endpoint(InstanceMetadataEndpointState::Enabled)
        .instance_metadata_tags(InstanceMetadataTagsState::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(modified.instance_id(), Some(id.as_str()));
    let answered = modified.instance_metadata_options().unwrap();
    assert_eq!(answered.state(), Some(&InstanceMetadataOptionsState::Pending));
    assert_eq!(answered.http_tokens(), Some(&HttpTokensState::Optional));
    let pending = instance(&client, &id).await;
    assert_eq!(pending.metadata_options().and_then(|o| o.state()), Some(&InstanceMetadataOptionsState::Pending));
    advance(&backend, 2);
    let applied = instance(&client, &id).await;
    let options = applied.metadata_options().unwrap();
    assert_eq!(options.state(), Some(&InstanceMetadataOptionsState::Applied));
    assert_eq!(options.http_tokens(), Some(&HttpTokensState::Optional));
    assert_eq!(options.http_put_response_hop_limit(), Some(2), "kept");
    assert_eq!(options.instance_metadata_tags(), Some(&InstanceMetadataTagsState::Enabled));

    let bad = client
        .modify_instance_metadata_options()
        .instance_id(&id)
        .http_tokens(HttpTokensState::from("sometimes"))
        .http_endpoint(InstanceMetadataEndpointState::Enabled)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        code_and_message(&bad),
        ("InvalidParameterValue".to_string(), "Value (sometimes) for parameter httpTokens is invalid.".to_string())
    );
    let without_endpoint =
        client.modify_instance_metadata_options().instance_id(&id).http_tokens(HttpTokensState::Required).send().await;
    assert_eq!(
        code_and_message(&without_endpoint.unwrap_err().into_service_error()),
        (
            "InvalidParameterValue".to_string(),
            "The HttpEndpoint is not set to 'enabled' in this request. To specify a value for HttpTokens, set HttpEndpoint to 'enabled'."
                .to_string()
        )
    );
    let missing = client
        .modify_instance_metadata_options()
        .instance_id("i-0123456789abcdef0")
        .http_endpoint(InstanceMetadataEndpointState::Disabled)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(missing.code(), Some("InvalidInstanceID.NotFound"));
}

#[tokio::test]
async fn a_launch_that_may_not_use_the_volume_key_terminates_after_pending() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let key_arn =
        aws_sdk_kms::Client::new(&admin.config).create_key().send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    // EC2 permissions only; the key's default policy leaves the key's use to IAM, which says no.
    let operator = user_with_access_key(&backend, &admin, "operator", UserPolicies { inline: Some(EC2_ONLY), ..UserPolicies::default() })
        .await
        .unwrap();
    let client = ec2(&operator);

    let id = run_one(&client, encrypted_root(&key_arn)).await;
    assert_eq!(state(&client, &id).await, InstanceStateName::Pending);
    advance(&backend, 6);
    assert_eq!(state(&client, &id).await, InstanceStateName::ShuttingDown);
    advance(&backend, 6);
    let terminated = instance(&client, &id).await;
    assert_eq!(terminated.state().unwrap().name(), Some(&InstanceStateName::Terminated));
    let reason = terminated.state_reason().unwrap();
    assert_eq!(reason.code(), Some("Client.InternalError"));
    assert_eq!(reason.message(), Some("Client.InternalError: Client error on launch"));
    assert_eq!(terminated.state_transition_reason(), Some("Client.InternalError: Client error on launch"));

    // An IAM policy that lets the operator use the key (one valid fix among several) makes the
    // same launch run.
    let key_use = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["kms:CreateGrant","kms:Decrypt","kms:DescribeKey","kms:GenerateDataKeyWithoutPlaintext","kms:ReEncrypt*"],"Resource":"{key_arn}"}}]}}"#
    );
    admin
        .iam()
        .put_user_policy()
        .user_name("operator")
        .policy_name("KeyUse")
        .policy_document(key_use)
        .send()
        .await
        .unwrap();
    let id = run_one(&client, encrypted_root(&key_arn)).await;
    advance(&backend, 6);
    assert_eq!(state(&client, &id).await, InstanceStateName::Running);
    let volume_id =
        instance(&client, &id).await.block_device_mappings()[0].ebs().unwrap().volume_id().unwrap().to_string();
    let volume = client.describe_volumes().volume_ids(volume_id).send().await.unwrap();
    assert_eq!(volume.volumes()[0].encrypted(), Some(true));
    assert_eq!(volume.volumes()[0].kms_key_id(), Some(key_arn.as_str()));
}

#[tokio::test]
async fn a_start_that_may_not_use_the_volume_key_falls_back_to_stopped() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let key_arn =
        aws_sdk_kms::Client::new(&admin.config).create_key().send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    let id = run_one(&ec2(&admin), encrypted_root(&key_arn)).await;
    advance(&backend, 6);
    ec2(&admin).stop_instances().instance_ids(&id).send().await.unwrap();
    advance(&backend, 6);

    let operator = user_with_access_key(&backend, &admin, "operator", UserPolicies { inline: Some(EC2_ONLY), ..UserPolicies::default() })
        .await
        .unwrap();
    let client = ec2(&operator);
    let started = client.start_instances().instance_ids(&id).send().await.unwrap();
    assert_eq!(started.starting_instances()[0].current_state().unwrap().name(), Some(&InstanceStateName::Pending));
    advance(&backend, 6);
    let stopped = instance(&client, &id).await;
    assert_eq!(stopped.state().unwrap().name(), Some(&InstanceStateName::Stopped));
    assert_eq!(stopped.state_reason().and_then(|r| r.code()), Some("Client.InternalError"));
    // The narrative can name the inner call KMS refused.
    let failure = backend.emulator().unwrap().inspect(|world| {
        wana_emulator::state::ec2::last_launch_failure(world, &admin.account, "us-east-1", &id).cloned()
    });
    let failure = failure.expect("the failed start is recorded");
    assert_eq!((failure.action.as_str(), failure.key_arn.as_str()), ("kms:CreateGrant", key_arn.as_str()));

    // The administrator, whom IAM allows the key, starts it.
    ec2(&admin).start_instances().instance_ids(&id).send().await.unwrap();
    advance(&backend, 6);
    assert_eq!(state(&client, &id).await, InstanceStateName::Running);
}

#[tokio::test]
async fn ebs_encryption_by_default_uses_the_default_key() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "b").unwrap();
    let client = ec2(&admin);

    assert_eq!(client.get_ebs_encryption_by_default().send().await.unwrap().ebs_encryption_by_default(), Some(false));
    assert_eq!(client.get_ebs_default_kms_key_id().send().await.unwrap().kms_key_id(), Some("alias/aws/ebs"));
    let enabled = client.enable_ebs_encryption_by_default().send().await.unwrap();
    assert_eq!(enabled.ebs_encryption_by_default(), Some(true));

    let volume = client.create_volume().availability_zone("us-east-1b").size(10).send().await.unwrap();
    assert_eq!(volume.state().map(|s| s.as_str()), Some("creating"));
    assert_eq!(volume.encrypted(), Some(true));
    let managed_key = volume.kms_key_id().unwrap().to_string();
    assert!(managed_key.starts_with("arn:aws:kms:us-east-1:222222222222:key/"), "{managed_key}");
    advance(&backend, 2);
    let volumes = client.describe_volumes().volume_ids(volume.volume_id().unwrap()).send().await.unwrap();
    assert_eq!(volumes.volumes()[0].state().map(|s| s.as_str()), Some("available"));

    let key_arn =
        aws_sdk_kms::Client::new(&admin.config).create_key().send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    let key_id = key_arn.rsplit('/').next().unwrap();
    let modified = client.modify_ebs_default_kms_key_id().kms_key_id(key_id).send().await.unwrap();
    assert_eq!(modified.kms_key_id(), Some(key_arn.as_str()));
    assert_eq!(client.get_ebs_default_kms_key_id().send().await.unwrap().kms_key_id(), Some(key_arn.as_str()));
    let id = run_one(&client, Vec::new()).await;
    let volume_id =
        instance(&client, &id).await.block_device_mappings()[0].ebs().unwrap().volume_id().unwrap().to_string();
    let volumes = client.describe_volumes().volume_ids(&volume_id).send().await.unwrap();
    assert_eq!(volumes.volumes()[0].kms_key_id(), Some(key_arn.as_str()));

    let attached = client.delete_volume().volume_id(&volume_id).send().await.unwrap_err().into_service_error();
    assert_eq!(attached.code(), Some("VolumeInUse"));
    client.delete_volume().volume_id(volume.volume_id().unwrap()).send().await.unwrap();

    let reset = client.reset_ebs_default_kms_key_id().send().await.unwrap();
    assert_eq!(reset.kms_key_id(), Some("alias/aws/ebs"));
    let disabled = client.disable_ebs_encryption_by_default().send().await.unwrap();
    assert_eq!(disabled.ebs_encryption_by_default(), Some(false));
}

#[tokio::test]
async fn the_aws_cli_reads_what_ec2_answers() {
    let cli = AwsCli::locate().expect("the AWS CLI is part of the test setup");
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let id = run_one(&ec2(&admin), Vec::new()).await;
    advance(&backend, 6);

    let output =
        cli.run(&admin.cli_credentials(), &["ec2", "describe-instances", "--instance-ids", &id]).await.unwrap();
    assert!(output.success(), "{output:?}");
    let described = output.json().unwrap();
    let instance = &described["Reservations"][0]["Instances"][0];
    assert_eq!(instance["InstanceId"], id.as_str());
    assert_eq!(instance["State"]["Name"], "running");
    assert_eq!(instance["State"]["Code"], 16);
    assert_eq!(instance["ImageId"], AMAZON_LINUX_2016);
    assert!(instance["BlockDeviceMappings"][0]["Ebs"]["VolumeId"].as_str().unwrap().starts_with("vol-"));
    assert_eq!(instance["MetadataOptions"]["State"], "applied");
    assert_eq!(instance["MetadataOptions"]["HttpTokens"], "optional");
    assert_eq!(instance["MetadataOptions"]["HttpEndpoint"], "enabled");

    let output = cli
        .run(&admin.cli_credentials(), &["ec2", "start-instances", "--instance-ids", "i-0123456789abcdef0"])
        .await
        .unwrap();
    assert_eq!(output.error_code(), Some("InvalidInstanceID.NotFound"), "{output:?}");
    assert_eq!(output.error_message(), Some("The instance ID 'i-0123456789abcdef0' does not exist"));
}
