use std::net::{IpAddr, Ipv4Addr};

use chrono::Duration;
use rstest::rstest;

use super::*;
use crate::{
    authz::{AuthzRequest, RequestFacts},
    profile::BehaviourProfile,
    state::{
        ec2::{self, InstanceStateName, LaunchSpec},
        iam::NewRole,
        AccessKey, KeyOwner, KeyStatus, Session,
    },
};

const ACCOUNT: &str = "111111111111";
const REGION: &str = "ap-northeast-1";
/// The session name of the role session (an instance profile's sessions carry the instance id).
const SESSION_NAME: &str = "i-0aaaaaaaaaaaaaaaa";
const POWER_USER: &str = "arn:aws:iam::aws:policy/PowerUserAccess";
const TRUST_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn t0() -> DateTime<Utc> {
    "2016-08-16T23:02:25Z".parse().unwrap()
}

/// A world whose account has one running instance, launched by the admin a minute before
/// `t0`; answers the instance id.
fn world(profile: BehaviourProfile) -> (World, String) {
    let mut world = World::new(profile, t0()).with_port(crate::dispatch::pipeline());
    let admin = Caller {
        principal: Principal::User {
            account: ACCOUNT.to_string(),
            name: "admin".to_string(),
            path: "/".to_string(),
            user_id: "AIDAWANAADMIN".to_string(),
        },
        access_key_id: "AKIAWANAADMINA000001".to_string(),
        credential_kind: CredentialKind::LongTerm,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        token_issued: None,
        via_service: None,
    };
    let launched_at = t0() - Duration::minutes(1);
    let spec = LaunchSpec {
        image_id: "ami-374db956".to_string(),
        instance_type: "t2.micro".to_string(),
        min_count: 1,
        max_count: 1,
        ..LaunchSpec::default()
    };
    let facts = RequestFacts {
        caller: &admin,
        now: launched_at,
        region: REGION,
    };
    let id = ec2::launch(&mut world, facts, ACCOUNT, &spec)
        .unwrap()
        .instance_ids[0]
        .clone();
    world.run_due(t0());
    assert_eq!(instance(&world, &id).state, InstanceStateName::Running);
    (world, id)
}

fn instance(world: &World, id: &str) -> ec2::Instance {
    ec2::instance(world, ACCOUNT, REGION, id).unwrap().clone()
}

fn recover_arn() -> String {
    format!("arn:aws:automate:{REGION}:ec2:recover")
}

/// A user with PowerUserAccess and an active long-term key, as the source report's `cfn` profile.
fn power_user(world: &mut World, name: &str) -> Creator {
    let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
    let user = iam
        .create_user(ids, ACCOUNT, t0(), name, None, Vec::new())
        .unwrap()
        .clone();
    iam.users
        .get_mut(name)
        .unwrap()
        .attached_policies
        .push(POWER_USER.to_string());
    let key_id = world.ids.access_key_id("AKIA");
    world.access_keys.insert(
        key_id.clone(),
        AccessKey {
            id: key_id.clone(),
            secret: world.ids.secret_access_key(),
            created: t0(),
            status: KeyStatus::Active,
            owner: KeyOwner::User {
                account: ACCOUNT.to_string(),
                user_name: name.to_string(),
            },
        },
    );
    Creator {
        principal: Principal::User {
            account: ACCOUNT.to_string(),
            name: name.to_string(),
            path: "/".to_string(),
            user_id: user.id,
        },
        credential_kind: CredentialKind::LongTerm,
        access_key_id: key_id,
    }
}

/// A session of a role with PowerUserAccess (an instance profile's, as in the source report).
fn power_role_session(world: &mut World) -> Creator {
    let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
    let spec = NewRole {
        name: "Ec2Admin",
        trust_policy: TRUST_EC2,
        ..NewRole::default()
    };
    let role = iam.create_role(ids, ACCOUNT, t0(), spec).unwrap().clone();
    iam.roles
        .get_mut("Ec2Admin")
        .unwrap()
        .attached_policies
        .push(POWER_USER.to_string());
    let key_id = world.ids.access_key_id("ASIA");
    world.access_keys.insert(
        key_id.clone(),
        AccessKey {
            id: key_id.clone(),
            secret: world.ids.secret_access_key(),
            created: t0(),
            status: KeyStatus::Active,
            owner: KeyOwner::Session(Session {
                account: ACCOUNT.to_string(),
                role_name: role.name.clone(),
                session_name: "i-0aaaaaaaaaaaaaaaa".to_string(),
                session_token: world.ids.session_token(),
                issued: t0(),
                expires: t0() + Duration::hours(1),
                source_instance_arn: None,
                policies: Default::default(),
            }),
        },
    );
    Creator {
        principal: Principal::AssumedRole {
            account: ACCOUNT.to_string(),
            role_name: role.name,
            role_path: role.path,
            role_id: role.id,
            session_name: SESSION_NAME.to_string(),
        },
        credential_kind: CredentialKind::Temporary,
        access_key_id: key_id,
    }
}

fn config(instance_id: &str, actions: &[&str]) -> AlarmConfig {
    AlarmConfig {
        description: None,
        actions_enabled: true,
        ok_actions: Vec::new(),
        alarm_actions: actions.iter().map(|a| a.to_string()).collect(),
        insufficient_data_actions: Vec::new(),
        metric_name: "StatusCheckFailed".to_string(),
        namespace: "AWS/EC2".to_string(),
        statistic: Some("Minimum".to_string()),
        extended_statistic: None,
        dimensions: vec![Dimension {
            name: "InstanceId".to_string(),
            value: instance_id.to_string(),
        }],
        period: 60,
        unit: None,
        evaluation_periods: 5,
        datapoints_to_alarm: None,
        threshold: 0.0,
        comparison_operator: "GreaterThanThreshold".to_string(),
        treat_missing_data: None,
        evaluate_low_sample_count_percentile: None,
        tags: Vec::new(),
    }
}

fn put(world: &mut World, name: &str, config: AlarmConfig, creator: Creator) {
    put_metric_alarm(world, ACCOUNT, REGION, name, config, creator, t0()).unwrap();
}

fn set_alarm(world: &mut World, name: &str) {
    set_alarm_state(
        world,
        ACCOUNT,
        REGION,
        name,
        StateValue::Alarm,
        "Manual Update to ALARM",
        None,
        t0(),
    )
    .unwrap();
}

fn history(world: &World, name: &str) -> Vec<HistoryItem> {
    world
        .regional(ACCOUNT, REGION)
        .unwrap()
        .cloudwatch
        .history
        .iter()
        .filter(|i| i.alarm_name == name)
        .cloned()
        .collect()
}

fn alarm(world: &World, name: &str) -> MetricAlarm {
    world.regional(ACCOUNT, REGION).unwrap().cloudwatch.alarms[name].clone()
}

fn data(item: &HistoryItem) -> serde_json::Value {
    serde_json::from_str(&item.data).unwrap()
}

fn action_items(world: &World, name: &str) -> Vec<HistoryItem> {
    history(world, name)
        .into_iter()
        .filter(|i| i.item_type == HistoryItemType::Action)
        .collect()
}

#[test]
fn legacy_recover_of_an_alarm_created_with_role_credentials_fails_with_401() {
    let (mut world, id) = world(BehaviourProfile::Legacy2016);
    let creator = power_role_session(&mut world);
    put(
        &mut world,
        "RecoveryAlarm-role",
        config(&id, &[&recover_arn()]),
        creator,
    );
    set_alarm(&mut world, "RecoveryAlarm-role");

    let items = history(&world, "RecoveryAlarm-role");
    let kinds: Vec<_> = items
        .iter()
        .map(|i| (i.item_type, i.summary.as_str()))
        .collect();
    let failed = format!(
        "Failed to execute action {}. Received error: \"Encountered error calling EC2 recover. (401: AWS was not able to validate the provided access credentials)\"",
        recover_arn()
    );
    assert_eq!(
        kinds,
        [
            (
                HistoryItemType::ConfigurationUpdate,
                "Alarm \"RecoveryAlarm-role\" created"
            ),
            (
                HistoryItemType::StateUpdate,
                "Alarm updated from INSUFFICIENT_DATA to ALARM"
            ),
            (HistoryItemType::Action, failed.as_str()),
        ]
    );
    assert!(failed.contains(
        "Encountered error calling EC2 recover. (401: AWS was not able to validate the provided access credentials)"
    ));
    assert_eq!(
        data(&items[2]),
        json!({
            "error": "Encountered error calling EC2 recover. (401: AWS was not able to validate the provided access credentials)",
            "actionState": "Failed",
            "notificationResource": recover_arn(),
            "stateUpdateTimestamp": t0().timestamp_millis(),
        })
    );
    // The creator's permissions were never asked: EC2 refused the stored temporary key itself,
    // and the log says so (the session, the action, and why it did not authenticate).
    let recover: Vec<_> = world.authz_log.records().filter(|r| r.action == "ec2:RecoverInstances").collect();
    assert_eq!(recover.len(), 1, "{recover:?}");
    assert!(!recover[0].allowed);
    assert_eq!(recover[0].caller_arn, format!("arn:aws:sts::{ACCOUNT}:assumed-role/Ec2Admin/i-0aaaaaaaaaaaaaaaa"));
    assert!(recover[0].explanation.starts_with("not authenticated: "), "{}", recover[0].explanation);
    assert!(recover[0].explanation.contains("without its session token"), "{}", recover[0].explanation);
    assert!(
        instance(&world, &id).recoveries.is_empty(),
        "the instance is not touched"
    );
}

#[test]
fn legacy_recover_of_an_alarm_created_by_an_iam_user_runs_as_that_user() {
    let (mut world, id) = world(BehaviourProfile::Legacy2016);
    let creator = power_user(&mut world, "cfn");
    let user_arn = creator.principal.arn();
    put(
        &mut world,
        "RecoveryAlarm-user",
        config(&id, &[&recover_arn()]),
        creator,
    );
    set_alarm(&mut world, "RecoveryAlarm-user");

    let actions = action_items(&world, "RecoveryAlarm-user");
    assert_eq!(actions.len(), 1);
    assert_eq!(
        actions[0].summary,
        format!("Successfully executed action {}", recover_arn())
    );
    assert_eq!(
        data(&actions[0]),
        json!({
            "error": null,
            "actionState": "Succeeded",
            "notificationResource": recover_arn(),
            "stateUpdateTimestamp": t0().timestamp_millis(),
        })
    );
    let decision = world
        .authz_log
        .records()
        .find(|r| r.action == "ec2:RecoverInstances")
        .unwrap();
    assert_eq!(decision.caller_arn, user_arn);
    assert_eq!(
        decision.resource,
        format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{id}")
    );
    assert!(decision.allowed);
    assert_eq!(instance(&world, &id).recoveries, [t0()]);
}

#[test]
fn re_creating_the_alarm_as_the_user_fixes_it_and_updating_keeps_the_state() {
    let (mut world, id) = world(BehaviourProfile::Legacy2016);
    let role = power_role_session(&mut world);
    let user = power_user(&mut world, "cfn");
    put(
        &mut world,
        "RecoveryAlarm",
        config(&id, &[&recover_arn()]),
        role,
    );
    set_alarm(&mut world, "RecoveryAlarm");
    world.run_due(t0() + Duration::seconds(EVALUATION_DELAY_SECONDS));
    assert_eq!(
        alarm(&world, "RecoveryAlarm").state,
        StateValue::InsufficientData
    );

    put(
        &mut world,
        "RecoveryAlarm",
        config(&id, &[&recover_arn()]),
        user.clone(),
    );
    assert_eq!(alarm(&world, "RecoveryAlarm").creator(), &user);
    let last = history(&world, "RecoveryAlarm").pop().unwrap();
    assert_eq!(last.summary, "Alarm \"RecoveryAlarm\" updated");
    assert_eq!(data(&last)["type"], "Update");
    set_alarm(&mut world, "RecoveryAlarm");
    let actions = action_items(&world, "RecoveryAlarm");
    assert_eq!(actions.len(), 2);
    assert!(
        actions[1]
            .summary
            .starts_with("Successfully executed action"),
        "{}",
        actions[1].summary
    );
}

#[test]
fn legacy_recover_as_a_user_without_recover_permission_is_unauthorized() {
    let (mut world, id) = world(BehaviourProfile::Legacy2016);
    let creator = power_user(&mut world, "cfn");
    world
        .iam_mut(ACCOUNT)
        .unwrap()
        .users
        .get_mut("cfn")
        .unwrap()
        .attached_policies
        .clear();
    put(&mut world, "A", config(&id, &[&recover_arn()]), creator);
    set_alarm(&mut world, "A");
    let actions = action_items(&world, "A");
    assert!(
        actions[0].summary.ends_with(
            "Received error: \"Encountered error calling EC2 recover. (403: You are not authorized to perform this operation.)\""
        ),
        "{}",
        actions[0].summary
    );
}

#[test]
fn legacy_recover_after_the_creator_was_deleted_cannot_validate_the_credentials() {
    let (mut world, id) = world(BehaviourProfile::Legacy2016);
    let creator = power_user(&mut world, "cfn");
    put(&mut world, "A", config(&id, &[&recover_arn()]), creator);
    world.iam_mut(ACCOUNT).unwrap().users.remove("cfn");
    set_alarm(&mut world, "A");
    assert!(action_items(&world, "A")[0]
        .summary
        .contains("(401: AWS was not able to validate"));
}

#[rstest]
#[case::legacy_plain_stop_with_role_credentials(
    BehaviourProfile::Legacy2016,
    "arn:aws:automate:ap-northeast-1:ec2:stop",
    false,
    false
)]
#[case::legacy_plain_stop_as_user(
    BehaviourProfile::Legacy2016,
    "arn:aws:automate:ap-northeast-1:ec2:stop",
    true,
    true
)]
#[case::legacy_swf_stop_without_ec2actionsaccess(
    BehaviourProfile::Legacy2016,
    "arn:aws:swf:ap-northeast-1:111111111111:action/actions/AWS_EC2.InstanceId.Stop/1.0",
    true,
    false
)]
#[case::current_recover_with_role_credentials(
    BehaviourProfile::Current,
    "arn:aws:automate:ap-northeast-1:ec2:recover",
    false,
    true
)]
#[case::current_swf_recover_with_role_credentials(
    BehaviourProfile::Current,
    "arn:aws:swf:ap-northeast-1:111111111111:action/actions/AWS_EC2.InstanceId.Recover/1.0",
    false,
    true
)]
#[case::current_stop_without_the_service_linked_role(
    BehaviourProfile::Current,
    "arn:aws:automate:ap-northeast-1:ec2:stop",
    true,
    false
)]
#[case::current_sns_with_role_credentials(
    BehaviourProfile::Current,
    "arn:aws:sns:ap-northeast-1:111111111111:ops",
    false,
    true
)]
#[case::legacy_sns_with_role_credentials(
    BehaviourProfile::Legacy2016,
    "arn:aws:sns:ap-northeast-1:111111111111:ops",
    false,
    true
)]
fn action_outcome_by_profile_creator_and_action(
    #[case] profile: BehaviourProfile,
    #[case] arn: &str,
    #[case] created_by_user: bool,
    #[case] succeeds: bool,
) {
    let (mut world, id) = world(profile);
    let creator = if created_by_user {
        power_user(&mut world, "cfn")
    } else {
        power_role_session(&mut world)
    };
    put(&mut world, "A", config(&id, &[arn]), creator);
    set_alarm(&mut world, "A");
    let actions = action_items(&world, "A");
    assert_eq!(actions.len(), 1);
    let prefix = if succeeds {
        "Successfully executed action "
    } else {
        "Failed to execute action "
    };
    assert!(
        actions[0].summary.starts_with(&format!("{prefix}{arn}")),
        "{}",
        actions[0].summary
    );
    assert_eq!(
        data(&actions[0])["actionState"],
        if succeeds { "Succeeded" } else { "Failed" }
    );
}

#[rstest]
#[case::stop(Ec2Action::Stop, "ec2:StopInstances", InstanceStateName::Stopping)]
#[case::terminate(
    Ec2Action::Terminate,
    "ec2:TerminateInstances",
    InstanceStateName::ShuttingDown
)]
#[case::reboot(Ec2Action::Reboot, "ec2:RebootInstances", InstanceStateName::Running)]
fn current_stop_terminate_reboot_run_as_the_service_linked_role(
    #[case] action: Ec2Action,
    #[case] iam_action: &str,
    #[case] instance_state: InstanceStateName,
) {
    let (mut world, id) = world(BehaviourProfile::Current);
    let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
    iam.create_service_linked_role(ids, ACCOUNT, t0(), EVENTS_SERVICE, None, None)
        .unwrap();
    let creator = power_role_session(&mut world);
    let arn = format!("arn:aws:automate:{REGION}:ec2:{}", action.word());
    put(&mut world, "A", config(&id, &[&arn]), creator);
    set_alarm(&mut world, "A");
    assert!(action_items(&world, "A")[0]
        .summary
        .starts_with("Successfully executed action"));
    let decision = world
        .authz_log
        .records()
        .find(|r| r.action == iam_action)
        .unwrap();
    assert_eq!(
        decision.caller_arn,
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/AWSServiceRoleForCloudWatchEvents/CloudWatchAlarms")
    );
    assert!(decision.allowed);
    assert_eq!(decision.acting_service, None, "the role session itself calls EC2");
    // Before that, events.amazonaws.com assumed the role: its trust policy was asked, and said yes.
    let assumed = world.authz_log.records().find(|r| r.action == "sts:AssumeRole").unwrap();
    assert_eq!(assumed.caller_arn, EVENTS_SERVICE);
    assert_eq!(assumed.acting_service.as_deref(), Some(EVENTS_SERVICE));
    assert_eq!(
        assumed.resource,
        format!("arn:aws:iam::{ACCOUNT}:role/aws-service-role/events.amazonaws.com/AWSServiceRoleForCloudWatchEvents")
    );
    assert!(assumed.allowed, "{}", assumed.explanation);
    assert_eq!(instance(&world, &id).state, instance_state);
}

/// The 2016 `arn:aws:swf:…` actions run as `EC2ActionsAccess`, assumed by swf.amazonaws.com: a
/// customer-made role of that name that does not trust the service cannot be used, however
/// broad its permissions.
#[rstest]
#[case::trusts_swf("swf.amazonaws.com", true)]
#[case::trusts_only_ec2("ec2.amazonaws.com", false)]
fn a_legacy_actions_role_is_usable_only_when_it_trusts_the_service(#[case] trusted: &str, #[case] succeeds: bool) {
    let (mut world, id) = world(BehaviourProfile::Legacy2016);
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{trusted}"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
    let spec = NewRole { name: LEGACY_ACTIONS_ROLE, path: Some("/actions/"), trust_policy: &trust, ..NewRole::default() };
    iam.create_role(ids, ACCOUNT, t0(), spec).unwrap();
    iam.roles.get_mut(LEGACY_ACTIONS_ROLE).unwrap().attached_policies.push(POWER_USER.to_string());
    let creator = power_user(&mut world, "cfn");
    let arn = format!("arn:aws:swf:{REGION}:{ACCOUNT}:action/actions/AWS_EC2.InstanceId.Stop/1.0");
    put(&mut world, "A", config(&id, &[&arn]), creator);
    set_alarm(&mut world, "A");
    let summary = &action_items(&world, "A")[0].summary;
    let assumed = world.authz_log.records().find(|r| r.action == "sts:AssumeRole").unwrap();
    assert_eq!(assumed.caller_arn, LEGACY_ACTIONS_SERVICE);
    assert_eq!(assumed.allowed, succeeds, "{}", assumed.explanation);
    if succeeds {
        assert!(summary.starts_with("Successfully executed action"), "{summary}");
        assert_eq!(instance(&world, &id).state, InstanceStateName::Stopping);
    } else {
        assert!(summary.contains("Encountered error calling EC2 stop. (403: "), "{summary}");
        assert!(!world.authz_log.records().any(|r| r.action == "ec2:StopInstances"), "the role never acted");
    }
}

#[test]
fn an_action_on_an_instance_ec2_does_not_know_fails_with_ec2s_error() {
    let (mut world, _) = world(BehaviourProfile::Current);
    let creator = power_user(&mut world, "cfn");
    put(
        &mut world,
        "A",
        config("i-0000000000000ffff", &[&recover_arn()]),
        creator,
    );
    set_alarm(&mut world, "A");
    let summary = &action_items(&world, "A")[0].summary;
    assert!(summary.starts_with(&format!("Failed to execute action {}. Received error: \"Encountered error calling EC2 recover. (400: ", recover_arn())), "{summary}");
}

#[test]
fn the_service_linked_role_policy_does_not_allow_recover() {
    // Documented: CloudWatchEventsServiceRolePolicy has no ec2:RecoverInstances; recover
    // works today because it needs no permission, not because of the role.
    let (mut world, id) = world(BehaviourProfile::Current);
    let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
    iam.create_service_linked_role(ids, ACCOUNT, t0(), EVENTS_SERVICE, None, None)
        .unwrap();
    let session = crate::services::sts::service_session(
        &mut world,
        t0(),
        REGION,
        ACCOUNT,
        EVENTS_SERVICE_LINKED_ROLE,
        EVENTS_SERVICE,
        "CloudWatchAlarms",
    )
    .expect("the service-linked role trusts events.amazonaws.com");
    let facts = RequestFacts {
        caller: &session,
        now: t0(),
        region: REGION,
    };
    let instance = format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{id}");
    assert!(!world
        .authorize(facts, &AuthzRequest::new("ec2:RecoverInstances", &instance))
        .is_allowed());
    assert!(world
        .authorize(facts, &AuthzRequest::new("ec2:StopInstances", &instance))
        .is_allowed());
}

#[rstest]
#[case(
    BehaviourProfile::Legacy2016,
    Ec2Action::Recover,
    Ec2ArnForm::Automate,
    ActionCredentials::Creator
)]
#[case(
    BehaviourProfile::Legacy2016,
    Ec2Action::Recover,
    Ec2ArnForm::Automate,
    ActionCredentials::Creator
)]
#[case(
    BehaviourProfile::Legacy2016,
    Ec2Action::Recover,
    Ec2ArnForm::Swf,
    ActionCredentials::Creator
)]
#[case(
    BehaviourProfile::Legacy2016,
    Ec2Action::Stop,
    Ec2ArnForm::Automate,
    ActionCredentials::Creator
)]
#[case(
    BehaviourProfile::Legacy2016,
    Ec2Action::Terminate,
    Ec2ArnForm::Automate,
    ActionCredentials::Creator
)]
#[case(BehaviourProfile::Legacy2016, Ec2Action::Reboot, Ec2ArnForm::Swf, ActionCredentials::RoleSession { role_name: LEGACY_ACTIONS_ROLE, service: LEGACY_ACTIONS_SERVICE })]
#[case(
    BehaviourProfile::Current,
    Ec2Action::Recover,
    Ec2ArnForm::Automate,
    ActionCredentials::NotNeeded
)]
#[case(
    BehaviourProfile::Current,
    Ec2Action::Recover,
    Ec2ArnForm::Swf,
    ActionCredentials::NotNeeded
)]
#[case(BehaviourProfile::Current, Ec2Action::Stop, Ec2ArnForm::Automate, ActionCredentials::RoleSession { role_name: EVENTS_SERVICE_LINKED_ROLE, service: EVENTS_SERVICE })]
#[case(BehaviourProfile::Current, Ec2Action::Reboot, Ec2ArnForm::Swf, ActionCredentials::RoleSession { role_name: EVENTS_SERVICE_LINKED_ROLE, service: EVENTS_SERVICE })]
fn credentials_rule_table(
    #[case] profile: BehaviourProfile,
    #[case] action: Ec2Action,
    #[case] form: Ec2ArnForm,
    #[case] expected: ActionCredentials,
) {
    assert_eq!(
        ec2_action_credentials(profile, action, form),
        expected
    );
}

#[path = "tests_lifecycle.rs"]
mod lifecycle;
