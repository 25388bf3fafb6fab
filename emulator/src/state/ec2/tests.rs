use std::net::{IpAddr, Ipv4Addr};

use chrono::TimeZone;

use super::*;
use crate::{
    authz::RequestFacts,
    principal::{Caller, CredentialKind, Principal},
    profile::BehaviourProfile,
    state::kms::default_ebs_key_arn,
};

const ACCOUNT: &str = "111111111111";
const REGION: &str = "ap-northeast-1";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().unwrap()
}

fn caller() -> Caller {
    Caller {
        principal: Principal::User {
            account: ACCOUNT.to_string(),
            name: "admin".to_string(),
            path: "/".to_string(),
            user_id: "AIDAWANAEXAMPLE000001".to_string(),
        },
        access_key_id: "AKIAWANAADMINA000001".to_string(),
        credential_kind: CredentialKind::LongTerm,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        token_issued: None,
        via_service: None,
    }
}

fn facts(caller: &Caller, now: DateTime<Utc>) -> RequestFacts<'_> {
    RequestFacts { caller, now, region: REGION }
}

fn spec() -> LaunchSpec {
    LaunchSpec {
        image_id: "ami-374db956".to_string(),
        instance_type: "t2.micro".to_string(),
        min_count: 1,
        max_count: 1,
        ..LaunchSpec::default()
    }
}

fn launch_one(world: &mut World, caller: &Caller, spec: &LaunchSpec) -> String {
    let launched = launch(world, facts(caller, t0()), ACCOUNT, spec).unwrap();
    launched.instance_ids[0].clone()
}

fn state_at(world: &mut World, id: &str, at: DateTime<Utc>) -> InstanceStateName {
    world.run_due(at);
    instance(world, ACCOUNT, REGION, id).unwrap().state
}

fn secs(n: i64) -> Duration {
    Duration::seconds(n)
}

#[test]
fn state_codes_are_aws_codes() {
    let codes: Vec<(i64, &str)> = InstanceStateName::ALL.iter().map(|s| (s.code(), s.name())).collect();
    assert_eq!(
        codes,
        [
            (0, "pending"),
            (16, "running"),
            (32, "shutting-down"),
            (48, "terminated"),
            (64, "stopping"),
            (80, "stopped")
        ]
    );
}

#[test]
fn a_launch_is_pending_then_running_on_the_clock() {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let caller = caller();
    let id = launch_one(&mut world, &caller, &spec());
    let launched = instance(&world, ACCOUNT, REGION, &id).unwrap();
    assert_eq!(launched.state, InstanceStateName::Pending);
    assert_eq!(launched.state_reason, Some(StateReason::new("pending", "pending")));
    assert_eq!(launched.availability_zone, "ap-northeast-1a");
    assert_eq!(launched.private_dns_name(REGION), "ip-172-31-0-11.ap-northeast-1.compute.internal");
    assert!(is_well_formed_id(&id, "i"), "{id}");
    assert_eq!(state_at(&mut world, &id, t0() + secs(4)), InstanceStateName::Pending);
    assert_eq!(state_at(&mut world, &id, t0() + secs(5)), InstanceStateName::Running);
    let launched = instance(&world, ACCOUNT, REGION, &id).unwrap();
    assert_eq!(launched.state_reason, None);
    assert_eq!(launched.state_transition_reason, "");
}

/// A served emulator may shorten AWS's latencies for people typing commands: at a latency
/// scale of 10 the five-second transition takes half a second.
#[test]
fn a_latency_scale_shortens_the_transition() {
    let mut world = World::new(BehaviourProfile::Current, t0())
        .with_port(crate::dispatch::pipeline())
        .with_latency_scale(10);
    let id = launch_one(&mut world, &caller(), &spec());
    assert_eq!(state_at(&mut world, &id, t0() + Duration::milliseconds(499)), InstanceStateName::Pending);
    assert_eq!(state_at(&mut world, &id, t0() + Duration::milliseconds(500)), InstanceStateName::Running);
}

#[test]
fn the_root_volume_comes_from_the_image_snapshot() {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let caller = caller();
    let id = launch_one(&mut world, &caller, &spec());
    let launched = instance(&world, ACCOUNT, REGION, &id).unwrap().clone();
    assert_eq!(launched.root_device_name, "/dev/xvda");
    let [device] = launched.block_devices.as_slice() else { panic!("{:?}", launched.block_devices) };
    let volume = existing_volume(&world, ACCOUNT, REGION, &device.volume_id).unwrap();
    assert_eq!((volume.size, volume.volume_type.as_str(), volume.encrypted), (8, "gp2", false));
    assert_eq!(volume.state, VolumeState::InUse);
    assert_eq!(volume.snapshot_id.as_deref(), Some("snap-0a1b2c3d4e5f60001"));
}

#[test]
fn stop_start_terminate_follow_the_clock() {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let caller = caller();
    let id = launch_one(&mut world, &caller, &spec());
    world.run_due(t0() + secs(5));
    let at = t0() + secs(10);
    let changes = stop_instances(&mut world, ACCOUNT, REGION, &[&id], at).unwrap();
    assert_eq!(
        changes,
        [StateChange {
            instance_id: id.clone(),
            previous: InstanceStateName::Running,
            current: InstanceStateName::Stopping
        }]
    );
    assert_eq!(state_at(&mut world, &id, at + secs(5)), InstanceStateName::Stopped);
    let stopped = instance(&world, ACCOUNT, REGION, &id).unwrap();
    assert_eq!(stopped.state_transition_reason, "User initiated (2024-05-01 12:00:10 GMT)");
    assert_eq!(stopped.state_reason.as_ref().unwrap().code, "Client.UserInitiatedShutdown");

    let at = t0() + secs(20);
    let changes = start_instances(&mut world, facts(&caller, at), ACCOUNT, &[&id]).unwrap();
    assert_eq!((changes[0].previous, changes[0].current), (InstanceStateName::Stopped, InstanceStateName::Pending));
    assert_eq!(state_at(&mut world, &id, at + secs(5)), InstanceStateName::Running);

    let at = t0() + secs(30);
    let changes = terminate_instances(&mut world, ACCOUNT, REGION, &[&id], at).unwrap();
    assert_eq!(changes[0].current, InstanceStateName::ShuttingDown);
    assert_eq!(state_at(&mut world, &id, at + secs(5)), InstanceStateName::Terminated);
    // Terminated instances stay visible; their delete-on-termination volumes are gone.
    let terminated = instance(&world, ACCOUNT, REGION, &id).unwrap();
    assert!(terminated.block_devices.is_empty());
    assert!(state(&world, ACCOUNT, REGION).unwrap().volumes.is_empty());
    // Terminating again answers terminated → terminated.
    let again = terminate_instances(&mut world, ACCOUNT, REGION, &[&id], at + secs(6)).unwrap();
    assert_eq!(
        (again[0].previous, again[0].current),
        (InstanceStateName::Terminated, InstanceStateName::Terminated)
    );
}

#[test]
fn invalid_transitions_are_incorrect_instance_state() {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let caller = caller();
    let id = launch_one(&mut world, &caller, &spec());
    let error = stop_instances(&mut world, ACCOUNT, REGION, &[&id], t0()).unwrap_err();
    assert_eq!(error.code, "IncorrectInstanceState");
    assert_eq!(error.message, format!("This instance '{id}' is not in a state from which it can be stopped."));
    terminate_instances(&mut world, ACCOUNT, REGION, &[&id], t0()).unwrap();
    let error = start_instances(&mut world, facts(&caller, t0()), ACCOUNT, &[&id]).unwrap_err();
    assert_eq!(error.message, format!("The instance '{id}' is not in a state from which it can be started."));
    // Starting a running instance is a no-op that answers running → running.
    let other = launch_one(&mut world, &caller, &spec());
    world.run_due(t0() + secs(5));
    let changes = start_instances(&mut world, facts(&caller, t0() + secs(5)), ACCOUNT, &[&other]).unwrap();
    assert_eq!((changes[0].previous, changes[0].current), (InstanceStateName::Running, InstanceStateName::Running));
}

#[test]
fn a_termination_during_pending_overtakes_the_scheduled_running() {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let caller = caller();
    let id = launch_one(&mut world, &caller, &spec());
    terminate_instances(&mut world, ACCOUNT, REGION, &[&id], t0() + secs(1)).unwrap();
    assert_eq!(state_at(&mut world, &id, t0() + secs(5)), InstanceStateName::ShuttingDown);
    assert_eq!(state_at(&mut world, &id, t0() + secs(6)), InstanceStateName::Terminated);
}

#[test]
fn unknown_and_malformed_ids_have_aws_texts() {
    let world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let ids = vec!["i-0123456789abcdef0".to_string()];
    let error = existing_instances(&world, ACCOUNT, REGION, &ids).unwrap_err();
    assert_eq!(
        (error.code.as_ref(), error.message.as_str(), error.status),
        ("InvalidInstanceID.NotFound", "The instance ID 'i-0123456789abcdef0' does not exist", 400)
    );
    let ids = vec!["i-0123456789abcdef0".to_string(), "i-0123456789abcdef1".to_string()];
    let error = existing_instances(&world, ACCOUNT, REGION, &ids).unwrap_err();
    assert_eq!(error.message, "The instance IDs 'i-0123456789abcdef0, i-0123456789abcdef1' do not exist");
    let ids = vec!["web-1".to_string()];
    let error = existing_instances(&world, ACCOUNT, REGION, &ids).unwrap_err();
    assert_eq!(
        (error.code.as_ref(), error.message.as_str()),
        ("InvalidInstanceID.Malformed", "Invalid id: \"web-1\"")
    );
    let error = find_image(&world, ACCOUNT, REGION, "ami-12345678").unwrap_err();
    assert_eq!(
        (error.code.as_ref(), error.message.as_str()),
        ("InvalidAMIID.NotFound", "The image id '[ami-12345678]' does not exist")
    );
    let error = find_image(&world, ACCOUNT, REGION, "ami-xyz").unwrap_err();
    assert_eq!(error.code, "InvalidAMIID.Malformed");
    let error = existing_volume(&world, ACCOUNT, REGION, "vol-0123456789abcdef0").unwrap_err();
    assert_eq!(error.message, "The volume 'vol-0123456789abcdef0' does not exist.");
}

#[test]
fn encrypted_volumes_get_the_named_key_or_the_default_one() {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let caller = caller();
    let mut launch_spec = spec();
    launch_spec.block_devices = vec![
        BlockDeviceSpec {
            device_name: "/dev/xvda".to_string(),
            no_device: false,
            ebs: Some(EbsSpec {
                encrypted: Some(true),
                kms_key_id: Some("1234abcd-12ab-34cd-56ef-1234567890ab".to_string()),
                ..EbsSpec::default()
            }),
        },
        BlockDeviceSpec {
            device_name: "/dev/sdf".to_string(),
            no_device: false,
            ebs: Some(EbsSpec {
                volume_size: Some(20),
                volume_type: Some("gp3".to_string()),
                encrypted: Some(true),
                delete_on_termination: Some(false),
                ..EbsSpec::default()
            }),
        },
    ];
    let id = launch_one(&mut world, &caller, &launch_spec);
    let devices = instance(&world, ACCOUNT, REGION, &id).unwrap().block_devices.clone();
    let root = existing_volume(&world, ACCOUNT, REGION, &devices[0].volume_id).unwrap();
    assert_eq!(
        root.kms_key_id.as_deref(),
        Some("arn:aws:kms:ap-northeast-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    );
    let data = existing_volume(&world, ACCOUNT, REGION, &devices[1].volume_id).unwrap().clone();
    assert!(data.encrypted);
    assert_eq!(data.kms_key_id, Some(default_ebs_key_arn(&mut world, ACCOUNT, REGION, t0())));
    assert_eq!((data.size, data.iops, data.throughput), (20, Some(3000), Some(125)));
    // Terminating keeps the volume that was not to be deleted, detached.
    terminate_instances(&mut world, ACCOUNT, REGION, &[&id], t0()).unwrap();
    world.run_due(t0() + secs(5));
    let volumes = &state(&world, ACCOUNT, REGION).unwrap().volumes;
    assert_eq!(volumes.keys().collect::<Vec<_>>(), [&devices[1].volume_id]);
    assert_eq!(volumes[&devices[1].volume_id].state, VolumeState::Available);
}

#[test]
fn a_key_without_encrypted_is_refused_and_smaller_than_snapshot_too() {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let caller = caller();
    let mut launch_spec = spec();
    launch_spec.block_devices = vec![BlockDeviceSpec {
        device_name: "/dev/xvda".to_string(),
        no_device: false,
        ebs: Some(EbsSpec { kms_key_id: Some("alias/mine".to_string()), ..EbsSpec::default() }),
    }];
    let error = launch(&mut world, facts(&caller, t0()), ACCOUNT, &launch_spec).unwrap_err();
    assert_eq!(error.code, "InvalidParameterDependency");
    launch_spec.block_devices[0].ebs = Some(EbsSpec { volume_size: Some(4), ..EbsSpec::default() });
    let error = launch(&mut world, facts(&caller, t0()), ACCOUNT, &launch_spec).unwrap_err();
    assert_eq!(error.code, "InvalidBlockDeviceMapping");
    assert!(state(&world, ACCOUNT, REGION).is_none_or(|s| s.instances.is_empty()));
}

#[test]
fn encryption_by_default_encrypts_new_volumes_with_the_default_key() {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    assert!(!ebs_encryption_by_default(&world, ACCOUNT, REGION));
    assert_eq!(ebs_default_kms_key_id(&world, ACCOUNT, REGION), "alias/aws/ebs");
    set_ebs_encryption_by_default(&mut world, ACCOUNT, REGION, true);
    set_ebs_default_kms_key_id(
        &mut world,
        ACCOUNT,
        REGION,
        Some("arn:aws:kms:ap-northeast-1:111111111111:key/k1".into()),
    );
    let spec = VolumeSpec { availability_zone: "ap-northeast-1a".into(), size: Some(10), ..VolumeSpec::default() };
    let caller = caller();
    let id = create_volume(&mut world, facts(&caller, t0()), ACCOUNT, &spec).unwrap();
    let volume = existing_volume(&world, ACCOUNT, REGION, &id).unwrap();
    assert_eq!(volume.state, VolumeState::Creating);
    assert_eq!(volume.kms_key_id.as_deref(), Some("arn:aws:kms:ap-northeast-1:111111111111:key/k1"));
    world.run_due(t0() + secs(1));
    assert_eq!(existing_volume(&world, ACCOUNT, REGION, &id).unwrap().state, VolumeState::Available);
    delete_volume(&mut world, ACCOUNT, REGION, &id).unwrap();
    assert_eq!(delete_volume(&mut world, ACCOUNT, REGION, &id).unwrap_err().code, "InvalidVolume.NotFound");
}

#[test]
fn attached_volumes_cannot_be_deleted() {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let caller = caller();
    let id = launch_one(&mut world, &caller, &spec());
    let volume_id = instance(&world, ACCOUNT, REGION, &id).unwrap().block_devices[0].volume_id.clone();
    let error = delete_volume(&mut world, ACCOUNT, REGION, &volume_id).unwrap_err();
    assert_eq!(
        (error.code.as_ref(), error.message.clone()),
        ("VolumeInUse", format!("Volume {volume_id} is currently attached to {id}"))
    );
}

/// A caller whose account has no policy for it: IAM allows it nothing.
fn outsider() -> Caller {
    let mut outsider = caller();
    outsider.principal = Principal::User {
        account: ACCOUNT.to_string(),
        name: "automation".to_string(),
        path: "/".to_string(),
        user_id: "AIDAWANAEXAMPLE000002".to_string(),
    };
    outsider
}

/// A customer managed key with the default key policy (the account delegates to IAM).
fn customer_key(world: &mut World, admin: &Caller) -> String {
    super::super::kms::create_key(world, facts(admin, t0()), super::super::kms::NewKey::default()).unwrap().arn
}

fn encrypted_root(key: &str) -> LaunchSpec {
    let mut launch_spec = spec();
    launch_spec.block_devices = vec![BlockDeviceSpec {
        device_name: "/dev/xvda".to_string(),
        no_device: false,
        ebs: Some(EbsSpec { encrypted: Some(true), kms_key_id: Some(key.to_string()), ..EbsSpec::default() }),
    }];
    launch_spec
}

#[test]
fn a_caller_that_may_not_use_the_key_gets_pending_then_terminated() {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let admin = caller();
    let key = customer_key(&mut world, &admin);
    let outsider = outsider();
    let id = launch_one(&mut world, &outsider, &encrypted_root(&key));
    assert_eq!(instance(&world, ACCOUNT, REGION, &id).unwrap().state, InstanceStateName::Pending);
    let denied = last_launch_failure(&world, ACCOUNT, REGION, &id).cloned().unwrap();
    assert_eq!((denied.action.as_str(), denied.key_arn.as_str()), ("kms:CreateGrant", key.as_str()));
    assert_eq!(state_at(&mut world, &id, t0() + secs(5)), InstanceStateName::ShuttingDown);
    assert_eq!(state_at(&mut world, &id, t0() + secs(10)), InstanceStateName::Terminated);
    let terminated = instance(&world, ACCOUNT, REGION, &id).unwrap();
    assert_eq!(terminated.state_reason, Some(StateReason::client_error_on_launch()));
    assert_eq!(terminated.state_transition_reason, "Client.InternalError: Client error on launch");

    // The same launch by a caller whose IAM allows the key (the administrator) runs.
    let id = launch_one(&mut world, &admin, &encrypted_root(&key));
    assert_eq!(last_launch_failure(&world, ACCOUNT, REGION, &id), None);
    assert_eq!(state_at(&mut world, &id, t0() + secs(5)), InstanceStateName::Running);
}

#[test]
fn a_start_by_a_caller_that_may_not_use_the_key_falls_back_to_stopped() {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let admin = caller();
    let key = customer_key(&mut world, &admin);
    let id = launch_one(&mut world, &admin, &encrypted_root(&key));
    world.run_due(t0() + secs(5));
    stop_instances(&mut world, ACCOUNT, REGION, &[&id], t0() + secs(5)).unwrap();
    world.run_due(t0() + secs(10));

    let outsider = outsider();
    let changes = start_instances(&mut world, facts(&outsider, t0() + secs(10)), ACCOUNT, &[&id]).unwrap();
    assert_eq!((changes[0].previous, changes[0].current), (InstanceStateName::Stopped, InstanceStateName::Pending));
    assert_eq!(state_at(&mut world, &id, t0() + secs(15)), InstanceStateName::Stopped);
    let stopped = instance(&world, ACCOUNT, REGION, &id).unwrap();
    assert_eq!(stopped.state_reason, Some(StateReason::client_error_on_launch()));
    assert_eq!(stopped.state_transition_reason, "Client.InternalError: Client error on launch");
    assert_eq!(
        last_launch_failure(&world, ACCOUNT, REGION, &id).map(|d| d.action.as_str()),
        Some("kms:CreateGrant")
    );
    // Its volumes stay: a failed start is not a termination.
    assert_eq!(stopped.block_devices.len(), 1);

    let changes = start_instances(&mut world, facts(&admin, t0() + secs(20)), ACCOUNT, &[&id]).unwrap();
    assert_eq!(changes[0].current, InstanceStateName::Pending);
    assert_eq!(state_at(&mut world, &id, t0() + secs(25)), InstanceStateName::Running);
    assert_eq!(last_launch_failure(&world, ACCOUNT, REGION, &id), None);
    assert_eq!(instance(&world, ACCOUNT, REGION, &id).unwrap().state_reason, None);
}

#[test]
fn alarm_actions_act_without_authorization() {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let caller = caller();
    let id = launch_one(&mut world, &caller, &spec());
    let error =
        perform_instance_action(&mut world, ACCOUNT, REGION, &id, InstanceAction::Recover, t0()).unwrap_err();
    assert_eq!(error.code, "IncorrectInstanceState");
    world.run_due(t0() + secs(5));
    perform_instance_action(&mut world, ACCOUNT, REGION, &id, InstanceAction::Recover, t0() + secs(6)).unwrap();
    perform_instance_action(&mut world, ACCOUNT, REGION, &id, InstanceAction::Reboot, t0() + secs(6)).unwrap();
    let recovered = instance(&world, ACCOUNT, REGION, &id).unwrap();
    assert_eq!((recovered.state, recovered.recoveries.len()), (InstanceStateName::Running, 1));
    perform_instance_action(&mut world, ACCOUNT, REGION, &id, InstanceAction::Stop, t0() + secs(7)).unwrap();
    assert_eq!(state_at(&mut world, &id, t0() + secs(12)), InstanceStateName::Stopped);
    let missing =
        perform_instance_action(&mut world, ACCOUNT, REGION, "i-0000000000000ffff", InstanceAction::Recover, t0());
    assert_eq!(missing.unwrap_err().code, "InvalidInstanceID.NotFound");
}

#[test]
fn zone_ids_follow_aws_naming() {
    assert_eq!(zone_id("us-east-1a"), "use1-az1");
    assert_eq!(zone_id("ap-northeast-1c"), "apne1-az3");
}

// ---------------------------------------------------------------------------------------------
// Launch templates.

mod launch_templates {
    use rstest::rstest;

    use super::super::launch_templates::*;
    use super::*;

    const ADMIN_ARN: &str = "arn:aws:iam::111111111111:user/admin";

    fn data(image: &str, instance_type: &str) -> LaunchTemplateData {
        LaunchTemplateData {
            image_id: Some(image.to_string()),
            instance_type: Some(instance_type.to_string()),
            ..LaunchTemplateData::default()
        }
    }

    fn new_template(name: &str, data: LaunchTemplateData) -> NewTemplate {
        NewTemplate { name: name.to_string(), data, created_by: ADMIN_ARN.to_string(), ..NewTemplate::default() }
    }

    fn new_version(source: Option<&str>, data: LaunchTemplateData) -> NewVersion {
        NewVersion {
            source_version: source.map(str::to_string),
            data,
            created_by: ADMIN_ARN.to_string(),
            ..NewVersion::default()
        }
    }

    fn world() -> World {
        World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline())
    }

    fn template<'w>(world: &'w World, id: &str) -> &'w LaunchTemplate {
        find_template(world, ACCOUNT, REGION, TemplateRef::Id(id)).unwrap()
    }

    #[test]
    fn versions_resolve_by_number_latest_and_default() {
        let mut world = world();
        let created = create_template(&mut world, ACCOUNT, REGION, new_template("web", data("ami-374db956", "t2.micro")), t0())
            .unwrap();
        assert!(is_well_formed_id(&created.id, "lt"), "{}", created.id);
        assert_eq!((created.default_version, created.latest_version()), (1, 1));
        // Version 2 starts from version 1 and changes the instance type only.
        let two = new_version(Some("1"), LaunchTemplateData { instance_type: Some("m5.large".into()), ..Default::default() });
        let two = create_version(&mut world, ACCOUNT, REGION, &created.id, two, t0()).unwrap();
        assert_eq!(two.number, 2);
        assert_eq!(two.data, data("ami-374db956", "m5.large"));
        // Version 3 names no source: it holds only what it was given.
        let three = new_version(None, LaunchTemplateData { key_name: Some("ops".into()), ..Default::default() });
        create_version(&mut world, ACCOUNT, REGION, &created.id, three, t0()).unwrap();

        let template = template(&world, &created.id);
        assert_eq!(template.latest_version(), 3);
        assert_eq!(template.version("$Latest").unwrap().data.key_name.as_deref(), Some("ops"));
        assert_eq!(template.version("$Default").unwrap().number, 1);
        assert_eq!(template.version("2").unwrap().data.instance_type.as_deref(), Some("m5.large"));
        let missing = template.version("7").unwrap_err();
        assert_eq!(
            (missing.code.as_ref(), missing.message.clone()),
            (
                "InvalidLaunchTemplateId.VersionNotFound",
                format!("Could not find the specified version 7 for the launch template with ID {}.", created.id)
            )
        );
        assert_eq!(template.version("latest").unwrap_err().code, "InvalidLaunchTemplateId.VersionNotFound");
    }

    #[test]
    fn the_default_version_changes_only_to_a_version_that_exists() {
        let mut world = world();
        let created =
            create_template(&mut world, ACCOUNT, REGION, new_template("web", data("ami-374db956", "t2.micro")), t0()).unwrap();
        let two = new_version(Some("$Latest"), data("ami-374db956", "t3.small"));
        create_version(&mut world, ACCOUNT, REGION, &created.id, two, t0()).unwrap();
        let modified = set_default_version(&mut world, ACCOUNT, REGION, &created.id, "2").unwrap();
        assert_eq!((modified.default_version, modified.latest_version()), (2, 2));
        assert_eq!(template(&world, &created.id).version("$Default").unwrap().data.instance_type.as_deref(), Some("t3.small"));
        let error = set_default_version(&mut world, ACCOUNT, REGION, &created.id, "666").unwrap_err();
        assert_eq!(error.code, "InvalidLaunchTemplateId.VersionNotFound");
        assert_eq!(template(&world, &created.id).default_version, 2);
    }

    #[rstest]
    #[case("ab")]
    #[case("some illegal name")]
    #[case("semi;colon")]
    #[case(&"x".repeat(129))]
    fn malformed_names_are_refused(#[case] name: &str) {
        let mut world = world();
        let error = create_template(&mut world, ACCOUNT, REGION, new_template(name, data("ami-374db956", "t2.micro")), t0())
            .unwrap_err();
        assert_eq!(
            (error.code.as_ref(), error.message.as_str(), error.status),
            (
                "InvalidLaunchTemplateName.MalformedException",
                "A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.",
                400
            )
        );
    }

    #[test]
    fn names_are_unique_and_data_is_required() {
        let mut world = world();
        create_template(&mut world, ACCOUNT, REGION, new_template("web/(v1)_x-y.z", data("ami-374db956", "t2.micro")), t0())
            .unwrap();
        let again =
            create_template(&mut world, ACCOUNT, REGION, new_template("web/(v1)_x-y.z", data("ami-374db956", "t2.micro")), t0())
                .unwrap_err();
        assert_eq!(
            (again.code.as_ref(), again.message.as_str()),
            ("InvalidLaunchTemplateName.AlreadyExistsException", "Launch template name already in use.")
        );
        // Another account may use the same name.
        create_template(&mut world, "222222222222", REGION, new_template("web/(v1)_x-y.z", data("ami-1", "t2.micro")), t0())
            .unwrap();
        let empty =
            create_template(&mut world, ACCOUNT, REGION, new_template("empty", LaunchTemplateData::default()), t0()).unwrap_err();
        assert_eq!(
            (empty.code.as_ref(), empty.message.as_str()),
            (
                "MissingParameter",
                "No launch template data was provided. Launch template data is required to create a launch template."
            )
        );
    }

    #[test]
    fn unknown_and_malformed_templates_have_aws_texts() {
        let world = world();
        let by_name = find_template(&world, ACCOUNT, REGION, TemplateRef::Name("timski")).unwrap_err();
        assert_eq!(
            (by_name.code.as_ref(), by_name.message.as_str()),
            (
                "InvalidLaunchTemplateName.NotFoundException",
                "The specified launch template, with template name timski, does not exist."
            )
        );
        let by_id = find_template(&world, ACCOUNT, REGION, TemplateRef::Id("lt-019c5be5798f24ca7")).unwrap_err();
        assert_eq!(
            (by_id.code.as_ref(), by_id.message.as_str()),
            ("InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID lt-019c5be5798f24ca7, does not exist.")
        );
        let malformed = find_template(&world, ACCOUNT, REGION, TemplateRef::Id("web")).unwrap_err();
        assert_eq!(malformed.code, "InvalidLaunchTemplateId.Malformed");
    }

    #[test]
    fn versions_are_listed_newest_first_within_bounds() {
        let mut world = world();
        let created =
            create_template(&mut world, ACCOUNT, REGION, new_template("web", data("ami-374db956", "t2.micro")), t0()).unwrap();
        for _ in 0..3 {
            create_version(&mut world, ACCOUNT, REGION, &created.id, new_version(Some("$Latest"), Default::default()), t0())
                .unwrap();
        }
        let template = template(&world, &created.id);
        let numbers = |selected: Vec<&TemplateVersion>| selected.iter().map(|v| v.number).collect::<Vec<_>>();
        assert_eq!(numbers(select_versions(template, &[], None, None).unwrap()), [4, 3, 2, 1]);
        assert_eq!(numbers(select_versions(template, &[], Some("2"), Some("3")).unwrap()), [3, 2]);
        let named = ["$Default".to_string(), "$Latest".to_string(), "2".to_string()];
        assert_eq!(numbers(select_versions(template, &named, None, None).unwrap()), [1, 4, 2]);
        let missing = select_versions(template, &["9".to_string()], None, None).unwrap_err();
        assert_eq!(missing.code, "InvalidLaunchTemplateId.VersionNotFound");
    }

    #[test]
    fn the_default_version_cannot_be_deleted_and_numbers_keep_counting() {
        let mut world = world();
        let created =
            create_template(&mut world, ACCOUNT, REGION, new_template("web", data("ami-374db956", "t2.micro")), t0()).unwrap();
        create_version(&mut world, ACCOUNT, REGION, &created.id, new_version(Some("1"), Default::default()), t0()).unwrap();
        let versions = ["1".to_string(), "2".to_string(), "5".to_string()];
        let (deleted, failed) = delete_versions(&mut world, ACCOUNT, REGION, &created.id, &versions).unwrap();
        assert_eq!(deleted, [2]);
        let failed: Vec<(&str, &str)> = failed.iter().map(|f| (f.version.as_str(), f.code)).collect();
        assert_eq!(failed, [("1", "unexpectedError"), ("5", "launchTemplateVersionDoesNotExist")]);
        assert_eq!(template(&world, &created.id).latest_version(), 1);
        let next =
            create_version(&mut world, ACCOUNT, REGION, &created.id, new_version(Some("1"), Default::default()), t0()).unwrap();
        assert_eq!(next.number, 3);
        delete_template(&mut world, ACCOUNT, REGION, &created.id).unwrap();
        assert_eq!(
            find_template(&world, ACCOUNT, REGION, TemplateRef::Name("web")).unwrap_err().code,
            "InvalidLaunchTemplateName.NotFoundException"
        );
    }
}
