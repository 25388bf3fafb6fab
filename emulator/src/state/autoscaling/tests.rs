//! Tests of Auto Scaling's model: groups reaching their capacity on the emulator clock, as their
//! service-linked role, and what their activities say when a launch fails.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rstest::rstest;

use super::*;
use crate::{
    authz::RequestFacts,
    principal::{Caller, CredentialKind, Principal},
    profile::BehaviourProfile,
    state::{
        ec2::{self, InstanceStateName, StateReason},
        iam::service_linked_role_arn,
        kms::{self, NewGrant, NewKey},
    },
};

const ACCOUNT: &str = "111111111111";
const REGION: &str = "us-east-1";
const IMAGE: &str = "ami-374db956";
const SLR_ARN: &str =
    "arn:aws:iam::111111111111:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling";
const SLR_SESSION: &str = "arn:aws:sts::111111111111:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().expect("valid time")
}

fn at(seconds: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(seconds)
}

/// A world connected to the request pipeline, with Auto Scaling's service-linked role.
fn world(profile: BehaviourProfile) -> World {
    let mut world = World::new(profile, t0()).with_port(crate::dispatch::pipeline());
    let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
    iam.create_service_linked_role(ids, ACCOUNT, t0(), AUTOSCALING_SERVICE, None, None).unwrap();
    world
}

fn admin(world: &World) -> Caller {
    let user = world.iam(ACCOUNT).unwrap().user("admin").unwrap();
    Caller {
        principal: Principal::User {
            account: ACCOUNT.to_string(),
            name: user.name.clone(),
            path: user.path.clone(),
            user_id: user.id.clone(),
        },
        access_key_id: "AKIAWANAADMINA000001".to_string(),
        credential_kind: CredentialKind::LongTerm,
        source_ip: std::net::IpAddr::from([127, 0, 0, 1]),
        token_issued: None,
        via_service: None,
    }
}

fn facts(caller: &Caller, now: DateTime<Utc>) -> RequestFacts<'_> {
    RequestFacts { caller, now, region: REGION }
}

/// A launch configuration of the public image; `encrypted` asks for an encrypted root volume,
/// which EC2 encrypts with the account's default EBS key.
fn launch_configuration(name: &str, encrypted: bool) -> LaunchConfiguration {
    LaunchConfiguration {
        name: name.to_string(),
        arn: String::new(),
        image_id: IMAGE.to_string(),
        instance_type: "t2.micro".to_string(),
        key_name: None,
        security_groups: Vec::new(),
        user_data: None,
        block_devices: if encrypted {
            vec![BlockDeviceMapping {
                device_name: "/dev/xvda".to_string(),
                ebs: Some(Ebs { encrypted: Some(true), ..Ebs::default() }),
                ..BlockDeviceMapping::default()
            }]
        } else {
            Vec::new()
        },
        iam_instance_profile: None,
        instance_monitoring: true,
        ebs_optimized: false,
        associate_public_ip_address: None,
        created: t0(),
    }
}

fn new_group(name: &str, lc: &str, min: i64, max: i64, desired: i64) -> NewGroup {
    NewGroup {
        name: name.to_string(),
        launch: LaunchSource::Configuration(lc.to_string()),
        min_size: min,
        max_size: max,
        desired_capacity: Some(desired),
        default_cooldown: None,
        availability_zones: vec!["us-east-1a".to_string(), "us-east-1b".to_string()],
        subnets: Vec::new(),
        health_check_type: None,
        health_check_grace_period: None,
        tags: vec![GroupTag { key: "team".to_string(), value: "web".to_string(), propagate_at_launch: true }],
        termination_policies: Vec::new(),
        new_instances_protected_from_scale_in: false,
        service_linked_role_arn: service_linked_role_arn(ACCOUNT, AUTOSCALING_SERVICE, None).unwrap(),
        service_linked_role_name: SERVICE_LINKED_ROLE.to_string(),
    }
}

/// A launch configuration and a group that uses it, created at t0.
fn group_of(world: &mut World, lc: LaunchConfiguration, desired: i64) {
    let lc_name = lc.name.clone();
    create_launch_configuration(world, ACCOUNT, REGION, lc, t0()).unwrap();
    create_group(world, ACCOUNT, REGION, new_group("web", &lc_name, 0, 3, desired), t0()).unwrap();
}

/// The group's activities, oldest first.
fn activities(world: &World) -> Vec<Activity> {
    let mut all: Vec<Activity> = activities_of(world, ACCOUNT, REGION, "web").into_iter().cloned().collect();
    all.reverse();
    all
}

fn lifecycles(world: &World) -> Vec<Lifecycle> {
    group(world, ACCOUNT, REGION, "web").map(|g| g.instances.iter().map(|i| i.lifecycle).collect()).unwrap_or_default()
}

fn ec2_state(world: &World, id: &str) -> InstanceStateName {
    ec2::instance(world, ACCOUNT, REGION, id).unwrap().state
}

#[test]
fn a_launch_configuration_group_launches_as_its_role_and_reaches_in_service() {
    let mut world = world(BehaviourProfile::Current);
    group_of(&mut world, launch_configuration("lc", false), 1);
    world.run_due(at(REACTION_SECONDS - 1));
    assert!(activities(&world).is_empty(), "the group acts after the request, not during it");

    world.run_due(at(2));
    let [launch] = activities(&world).try_into().unwrap();
    let instance_id = launch.instance_id.clone().unwrap();
    assert_eq!(launch.description, format!("Launching a new EC2 instance: {instance_id}"));
    assert_eq!(
        launch.cause,
        "At 2024-05-01T12:00:00Z a user request created an AutoScalingGroup changing the desired capacity from 0 to 1.  \
         At 2024-05-01T12:00:02Z an instance was started in response to a difference between desired and actual \
         capacity, increasing the capacity from 0 to 1."
    );
    assert_eq!((launch.status, launch.progress, launch.end), (ActivityStatus::InProgress, PROGRESS_IN_PROGRESS, None));
    assert_eq!(launch.details, r#"{"Availability Zone":"us-east-1a"}"#);
    assert_eq!(lifecycles(&world), [Lifecycle::Pending]);
    let instance = ec2::instance(&world, ACCOUNT, REGION, &instance_id).unwrap();
    assert_eq!(instance.availability_zone, "us-east-1a");
    let tags: Vec<(&str, &str)> = instance.tags.iter().map(|t| (t.key.as_str(), t.value.as_str())).collect();
    assert_eq!(tags, [("aws:autoscaling:groupName", "web"), ("team", "web")]);
    // EC2 authorized the launch for the role's session, which Auto Scaling assumed.
    let log: Vec<_> = world.authz_log.records().collect();
    assert!(log.iter().any(|r| r.action == "sts:AssumeRole" && r.resource == SLR_ARN && r.allowed));
    assert!(log.iter().any(|r| r.action == "ec2:RunInstances" && r.caller_arn == SLR_SESSION && r.allowed));

    world.run_due(at(2 + WATCH_SECONDS));
    assert_eq!(ec2_state(&world, &instance_id), InstanceStateName::Running);
    assert_eq!(lifecycles(&world), [Lifecycle::InService]);
    let [launch] = activities(&world).try_into().unwrap();
    assert_eq!((launch.status, launch.progress, launch.end), (ActivityStatus::Successful, 100, Some(at(7))));
}

#[test]
fn desired_capacity_changes_launch_and_terminate_and_a_group_with_instances_is_kept() {
    let mut world = world(BehaviourProfile::Current);
    group_of(&mut world, launch_configuration("lc", false), 1);
    world.run_due(at(10));
    set_desired_capacity(&mut world, ACCOUNT, REGION, "web", 2, at(10)).unwrap();
    world.run_due(at(12));
    let second = activities(&world).pop().unwrap();
    assert_eq!(
        second.cause,
        "At 2024-05-01T12:00:10Z a user request explicitly set group desired capacity changing the desired capacity \
         from 1 to 2.  At 2024-05-01T12:00:12Z an instance was started in response to a difference between desired \
         and actual capacity, increasing the capacity from 1 to 2."
    );
    // The second instance goes to the zone with fewer instances.
    assert_eq!(second.details, r#"{"Availability Zone":"us-east-1b"}"#);
    world.run_due(at(20));
    assert_eq!(lifecycles(&world), [Lifecycle::InService, Lifecycle::InService]);

    assert_eq!(
        delete_group(&mut world, ACCOUNT, REGION, "web", false, at(20)).unwrap_err().code,
        "ResourceInUse"
    );
    let update = GroupUpdate { min_size: Some(0), desired_capacity: Some(0), ..GroupUpdate::default() };
    update_group(&mut world, ACCOUNT, REGION, "web", update, at(20)).unwrap();
    world.run_due(at(22));
    let terminations: Vec<Activity> =
        activities(&world).into_iter().filter(|a| a.description.starts_with("Terminating")).collect();
    assert_eq!(terminations.len(), 2);
    assert!(terminations[0].cause.starts_with(
        "At 2024-05-01T12:00:20Z a user request update of AutoScalingGroup constraints to min: 0, max: 3, desired: 0 \
         changing the desired capacity from 2 to 0.  At 2024-05-01T12:00:22Z an instance was taken out of service"
    ));
    assert_eq!(lifecycles(&world), [Lifecycle::Terminating, Lifecycle::Terminating]);
    world.run_due(at(30));
    assert!(lifecycles(&world).is_empty());
    assert!(activities(&world).iter().all(|a| a.status == ActivityStatus::Successful));

    assert_eq!(
        delete_launch_configuration(&mut world, ACCOUNT, REGION, "lc").unwrap_err().message,
        "Cannot delete launch configuration lc because it is attached to AutoScalingGroup web"
    );
    assert_eq!(delete_group(&mut world, ACCOUNT, REGION, "web", false, at(30)), Ok(DeleteOutcome::Deleted));
    delete_launch_configuration(&mut world, ACCOUNT, REGION, "lc").unwrap();
    // The activities outlive the group.
    assert_eq!(activities(&world).len(), 4);
}

#[test]
fn a_forced_deletion_terminates_the_instances_and_the_group_goes_with_the_last() {
    let mut world = world(BehaviourProfile::Current);
    group_of(&mut world, launch_configuration("lc", false), 2);
    world.run_due(at(10));
    let ids: Vec<String> =
        group(&world, ACCOUNT, REGION, "web").unwrap().instances.iter().map(|i| i.instance_id.clone()).collect();
    assert_eq!(delete_group(&mut world, ACCOUNT, REGION, "web", true, at(10)), Ok(DeleteOutcome::Deleting));
    assert_eq!(group(&world, ACCOUNT, REGION, "web").unwrap().status(), Some("Delete in progress"));
    world.run_due(at(20));
    assert!(group(&world, ACCOUNT, REGION, "web").is_none());
    assert!(ids.iter().all(|id| ec2_state(&world, id) == InstanceStateName::Terminated));
}

#[test]
fn a_launch_ec2_refuses_fails_its_activity_with_ec2s_message_and_is_retried() {
    let mut world = world(BehaviourProfile::Current);
    let mut lc = launch_configuration("lc", false);
    lc.iam_instance_profile = Some("missing-profile".to_string());
    group_of(&mut world, lc, 1);
    world.run_due(at(2));
    let [failed] = activities(&world).try_into().unwrap();
    assert_eq!(failed.status, ActivityStatus::Failed);
    assert_eq!(
        failed.description,
        "Launching a new EC2 instance.  Status Reason: Value (missing-profile) for parameter iamInstanceProfile.name \
         is invalid. Invalid IAM Instance Profile name. Launching EC2 instance failed."
    );
    assert_eq!(
        failed.status_message.as_deref(),
        Some(
            "Value (missing-profile) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name. \
             Launching EC2 instance failed."
        )
    );
    assert_eq!(failed.instance_id, None);
    world.run_due(at(2 + FIRST_RETRY_SECONDS - 1));
    assert_eq!(activities(&world).len(), 1);
    world.run_due(at(2 + FIRST_RETRY_SECONDS));
    let retried = activities(&world).pop().unwrap();
    assert_eq!(
        retried.cause,
        "At 2024-05-01T12:00:12Z an instance was started in response to a difference between desired and actual \
         capacity, increasing the capacity from 0 to 1."
    );
    assert_eq!(retried.status, ActivityStatus::Failed);
    // A deleted group stops retrying.
    delete_group(&mut world, ACCOUNT, REGION, "web", false, at(13)).unwrap();
    world.run_due(at(600));
    assert_eq!(activities(&world).len(), 2);
}

#[rstest]
#[case(1, 10)]
#[case(2, 20)]
#[case(3, 40)]
#[case(5, 160)]
#[case(6, 300)]
#[case(40, 300)]
fn retries_back_off_from_ten_seconds_doubling_to_five_minutes(#[case] failures: u32, #[case] seconds: i64) {
    assert_eq!(retry_delay(failures), Duration::seconds(seconds));
}

#[rstest]
#[case::current_kms(BehaviourProfile::Current, true, KMS_LAUNCH_FAILURE_2025.to_string())]
#[case::legacy_kms(
    BehaviourProfile::Legacy2016,
    true,
    format!("{UNHEALTHY_WHILE_WAITING} Termination Reason: Client.InternalError: Client error on launch")
)]
#[case::current_other(
    BehaviourProfile::Current,
    false,
    format!("{UNHEALTHY_WHILE_WAITING} Termination Reason: Client.InternalError: Client error on launch")
)]
fn the_failure_text_of_a_key_ec2_could_not_use_depends_on_the_profile(
    #[case] profile: BehaviourProfile,
    #[case] key_use_refused: bool,
    #[case] expected: String,
) {
    let reason = StateReason {
        code: "Client.InternalError".to_string(),
        message: "Client.InternalError: Client error on launch".to_string(),
    };
    let text = failed_launch_reason(profile, Some(&reason), key_use_refused);
    assert_eq!(text.status_message, expected);
    assert!(text.status_reason.starts_with(&expected));
    assert!(text.status_message.chars().count() <= 255);
}

/// The trap: the account's default EBS key is a customer key with the default key policy, and
/// the launch configuration asks for an encrypted root volume. The administrator's own
/// RunInstances works (EC2 uses the key as the administrator); the group's launches, made as
/// the service-linked role, fail until a grant gives that role the key.
#[rstest]
#[case::current(BehaviourProfile::Current, KMS_LAUNCH_FAILURE_2025.to_string())]
#[case::legacy(
    BehaviourProfile::Legacy2016,
    format!("{UNHEALTHY_WHILE_WAITING} Termination Reason: Client.InternalError: Client error on launch")
)]
fn a_group_fails_on_a_key_its_role_may_not_use_retries_and_succeeds_after_a_grant(
    #[case] profile: BehaviourProfile,
    #[case] status_message: String,
) {
    let mut world = world(profile);
    let admin = admin(&world);
    let key = kms::create_key(&mut world, facts(&admin, t0()), NewKey::default()).unwrap();
    ec2::set_ebs_default_kms_key_id(&mut world, ACCOUNT, REGION, Some(key.arn.clone()));

    // The administrator launches the same configuration directly: it runs.
    let spec = ec2::LaunchSpec {
        image_id: IMAGE.to_string(),
        instance_type: "t2.micro".to_string(),
        min_count: 1,
        max_count: 1,
        block_devices: vec![ec2::BlockDeviceSpec {
            device_name: "/dev/xvda".to_string(),
            ebs: Some(ec2::EbsSpec { encrypted: Some(true), ..ec2::EbsSpec::default() }),
            ..ec2::BlockDeviceSpec::default()
        }],
        ..ec2::LaunchSpec::default()
    };
    let direct = ec2::launch(&mut world, facts(&admin, t0()), ACCOUNT, &spec).unwrap().instance_ids[0].clone();

    group_of(&mut world, launch_configuration("lc", true), 1);
    world.run_due(at(2 + WATCH_SECONDS));
    assert_eq!(ec2_state(&world, &direct), InstanceStateName::Running);
    let [failed] = activities(&world).try_into().unwrap();
    let instance_id = failed.instance_id.clone().unwrap();
    assert_eq!(failed.status, ActivityStatus::Failed);
    assert_eq!(failed.status_message.as_deref(), Some(status_message.as_str()));
    assert!(failed
        .description
        .starts_with(&format!("Launching a new EC2 instance: {instance_id}.  Status Reason: {status_message}")));
    assert_eq!((failed.progress, failed.end), (100, Some(at(7))));
    assert!(lifecycles(&world).is_empty(), "the failed instance left the group");
    let reason = ec2::instance(&world, ACCOUNT, REGION, &instance_id).unwrap().state_reason.clone().unwrap();
    assert_eq!(reason.message, "Client.InternalError: Client error on launch");

    // Who decided: Auto Scaling assumed its role (trust policy), and KMS refused the role's
    // session the grant EC2 asked for on its behalf.
    let log: Vec<_> = world.authz_log.records().collect();
    assert!(log.iter().any(|r| r.action == "sts:AssumeRole"
        && r.resource == SLR_ARN
        && r.allowed
        && r.caller_arn == AUTOSCALING_SERVICE));
    assert!(log.iter().any(|r| r.action == "kms:CreateGrant"
        && r.caller_arn == SLR_SESSION
        && !r.allowed
        && r.resource == key.arn
        && r.acting_service.as_deref() == Some("ec2.amazonaws.com")));

    // The retry 10 s later fails the same way; the next one waits 20 s.
    world.run_due(at(7 + 10 + WATCH_SECONDS));
    assert_eq!(activities(&world).iter().filter(|a| a.status == ActivityStatus::Failed).count(), 2);
    let retry_at = group(&world, ACCOUNT, REGION, "web").unwrap().retry_at;
    assert_eq!(retry_at, Some(at(22 + 20)));

    // The fix (the source report's): a grant to the role's ARN, made in the account.
    let grant = NewGrant {
        grantee: SLR_ARN.to_string(),
        retiring: None,
        operations: vec!["Decrypt".to_string(), "CreateGrant".to_string()],
        constraints: None,
        name: None,
    };
    kms::create_grant(&mut world, facts(&admin, at(30)), &key.arn, &grant, None).unwrap();
    world.run_due(at(42));
    let launch = activities(&world).pop().unwrap();
    assert_eq!(launch.status, ActivityStatus::InProgress);
    world.run_due(at(42 + WATCH_SECONDS));
    let launch = activities(&world).pop().unwrap();
    assert_eq!((launch.status, launch.status_message), (ActivityStatus::Successful, None));
    assert_eq!(lifecycles(&world), [Lifecycle::InService]);
    assert_eq!(group(&world, ACCOUNT, REGION, "web").unwrap().consecutive_failures, 0);
    assert_eq!(ec2_state(&world, launch.instance_id.as_deref().unwrap()), InstanceStateName::Running);
}

#[test]
fn sizes_and_placement_are_checked_with_aws_words() {
    let mut world = world(BehaviourProfile::Current);
    create_launch_configuration(&mut world, ACCOUNT, REGION, launch_configuration("lc", false), t0()).unwrap();
    let mut spec = new_group("web", "lc", 1, 3, 5);
    assert_eq!(
        create_group(&mut world, ACCOUNT, REGION, spec.clone(), t0()).unwrap_err().message,
        "Desired capacity:5 must be between the specified min size:1 and max size:3"
    );
    spec.desired_capacity = None;
    spec.max_size = 0;
    assert_eq!(
        create_group(&mut world, ACCOUNT, REGION, spec.clone(), t0()).unwrap_err().message,
        "Max bound, 0, must be greater than or equal to min bound, 1"
    );
    spec.max_size = 3;
    spec.availability_zones.clear();
    assert_eq!(
        create_group(&mut world, ACCOUNT, REGION, spec.clone(), t0()).unwrap_err().message,
        "At least one Availability Zone or VPC Subnet is required."
    );
    spec.subnets = vec!["subnet-0123456789abcdef0".to_string(), "subnet-0123456789abcdef1".to_string()];
    create_group(&mut world, ACCOUNT, REGION, spec.clone(), t0()).unwrap();
    let created = group(&world, ACCOUNT, REGION, "web").unwrap();
    assert_eq!((created.desired_capacity, created.availability_zones.clone()), (1, vec![
        "us-east-1a".to_string(),
        "us-east-1b".to_string()
    ]));
    assert_eq!(
        create_group(&mut world, ACCOUNT, REGION, spec, t0()).unwrap_err().message,
        "AutoScalingGroup by this name already exists - A group with the name web already exists"
    );
    world.run_due(at(2));
    assert_eq!(
        activities(&world)[0].details,
        r#"{"Subnet ID":"subnet-0123456789abcdef0","Availability Zone":"us-east-1a"}"#
    );
    assert_eq!(
        set_desired_capacity(&mut world, ACCOUNT, REGION, "web", 4, at(3)).unwrap_err().message,
        "New SetDesiredCapacity value 4 is above max value 3 for the AutoScalingGroup."
    );
    assert_eq!(
        set_desired_capacity(&mut world, ACCOUNT, REGION, "web", 0, at(3)).unwrap_err().message,
        "New SetDesiredCapacity value 0 is below min value 1 for the AutoScalingGroup."
    );
    assert_eq!(
        set_desired_capacity(&mut world, ACCOUNT, REGION, "nope", 1, at(3)).unwrap_err().message,
        "AutoScalingGroup name not found - null"
    );
    // A new minimum above the desired capacity raises it.
    let update = GroupUpdate { min_size: Some(2), ..GroupUpdate::default() };
    update_group(&mut world, ACCOUNT, REGION, "web", update, at(3)).unwrap();
    assert_eq!(group(&world, ACCOUNT, REGION, "web").unwrap().desired_capacity, 2);
}
