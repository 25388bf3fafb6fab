use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, Duration, Utc};
use rstest::rstest;

use super::*;
use crate::{
    principal::{Caller, CredentialKind, Principal},
    profile::BehaviourProfile,
    state::iam::NewRole,
};

const ACCOUNT: &str = "111111111111";
const REGION: &str = "ap-northeast-1";
const INSTANCE: &str = "i-0123456789abcdef0";
const POWER_USER: &str = "arn:aws:iam::aws:policy/PowerUserAccess";
const CLOUDWATCH_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudwatch:*","Resource":"*"}]}"#;
const TRUST_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn t0() -> DateTime<Utc> {
    "2026-01-05T10:00:00Z".parse().unwrap()
}

fn caller(principal: Principal, kind: CredentialKind, key: &str) -> Caller {
    Caller {
        principal,
        access_key_id: key.to_string(),
        credential_kind: kind,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        token_issued: None,
        via_service: None,
    }
}

/// A user with the given managed policy or inline document, signing with a long-term key.
fn user(world: &mut World, name: &str, managed: Option<&str>, inline: Option<&str>) -> Caller {
    let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
    let user = iam
        .create_user(ids, ACCOUNT, t0(), name, None, Vec::new())
        .unwrap()
        .clone();
    if let Some(arn) = managed {
        iam.users
            .get_mut(name)
            .unwrap()
            .attached_policies
            .push(arn.to_string());
    }
    if let Some(text) = inline {
        iam.put_user_policy(name, "inline", text).unwrap();
    }
    let principal = Principal::User {
        account: ACCOUNT.to_string(),
        name: name.to_string(),
        path: "/".to_string(),
        user_id: user.id,
    };
    caller(principal, CredentialKind::LongTerm, "AKIAWANATESTUSER0001")
}

/// A session of a role with PowerUserAccess, signing with temporary credentials.
fn power_role_session(world: &mut World) -> Caller {
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
    let principal = Principal::AssumedRole {
        account: ACCOUNT.to_string(),
        role_name: role.name,
        role_path: role.path,
        role_id: role.id,
        session_name: "deploy".to_string(),
    };
    caller(principal, CredentialKind::Temporary, "ASIAWANATESTSESSION1")
}

fn run(
    world: &mut World,
    caller: &Caller,
    action: &str,
    params: Value,
) -> Result<Value, AwsError> {
    let call = Call {
        caller,
        region: REGION,
        now: t0(),
        action,
        params: &params,
    };
    handle(world, &call).expect("an operation of CloudWatch")
}

fn strs(items: &[&str]) -> Value {
    items.iter().copied().collect()
}

/// The source report's RecoveryAlarm, as the Rust SDK sends it (typed members).
fn recovery_alarm(name: &str) -> Value {
    Value::structure()
        .with("AlarmName", name)
        .with(
            "AlarmActions",
            strs(&[&format!("arn:aws:automate:{REGION}:ec2:recover")]),
        )
        .with("MetricName", "StatusCheckFailed")
        .with("Namespace", "AWS/EC2")
        .with("Statistic", "Minimum")
        .with(
            "Dimensions",
            Value::List(vec![Value::structure()
                .with("Name", "InstanceId")
                .with("Value", INSTANCE)]),
        )
        .with("Period", 60)
        .with("EvaluationPeriods", 5)
        .with("Threshold", 0.0)
        .with("ComparisonOperator", "GreaterThanThreshold")
}

fn code_and_message(result: Result<Value, AwsError>) -> (String, u16, String) {
    let error = result.unwrap_err();
    (error.code.to_string(), error.status, error.message)
}

#[test]
fn current_put_metric_alarm_with_an_ec2_action_creates_the_events_service_linked_role() {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let session = power_role_session(&mut world);
    run(
        &mut world,
        &session,
        "PutMetricAlarm",
        recovery_alarm("RecoveryAlarm"),
    )
    .unwrap();
    let role =
        world.account(ACCOUNT).unwrap().iam.roles["AWSServiceRoleForCloudWatchEvents"].clone();
    assert_eq!(role.path, "/aws-service-role/events.amazonaws.com/");
    assert_eq!(
        role.attached_policies,
        ["arn:aws:iam::aws:policy/aws-service-role/CloudWatchEventsServiceRolePolicy"]
    );
    assert!(
        role.trust_policy.text.contains("events.amazonaws.com"),
        "{}",
        role.trust_policy.text
    );
    let decision = world
        .authz_log
        .records()
        .find(|r| r.action == "iam:CreateServiceLinkedRole")
        .unwrap();
    assert_eq!(decision.caller_arn, session.principal.arn());
    // Once it exists, it is not created (nor asked for) again.
    let before = world.authz_log.records().count();
    run(
        &mut world,
        &session,
        "PutMetricAlarm",
        recovery_alarm("Second"),
    )
    .unwrap();
    assert!(!world
        .authz_log
        .records()
        .skip(before)
        .any(|r| r.action == "iam:CreateServiceLinkedRole"));
}

#[test]
fn current_put_metric_alarm_without_create_service_linked_role_is_denied() {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let alice = user(&mut world, "alice", None, Some(CLOUDWATCH_ONLY));
    let result = run(
        &mut world,
        &alice,
        "PutMetricAlarm",
        recovery_alarm("RecoveryAlarm"),
    );
    assert_eq!(
        code_and_message(result),
        (
            "AccessDenied".to_string(),
            403,
            "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: iam:CreateServiceLinkedRole on resource: arn:aws:iam::111111111111:role/aws-service-role/events.amazonaws.com/AWSServiceRoleForCloudWatchEvents because no identity-based policy allows the iam:CreateServiceLinkedRole action".to_string()
        )
    );
    assert!(world
        .regional(ACCOUNT, REGION)
        .is_none_or(|r| r.cloudwatch.alarms.is_empty()));
    // An alarm without EC2 actions needs no role.
    let mut sns = recovery_alarm("Notify");
    if let Value::Struct(fields) = &mut sns {
        fields.retain(|(k, _)| k != "AlarmActions");
        fields.push((
            "AlarmActions".to_string(),
            strs(&["arn:aws:sns:ap-northeast-1:111111111111:ops"]),
        ));
    }
    run(&mut world, &alice, "PutMetricAlarm", sns).unwrap();
}

#[test]
fn legacy_put_metric_alarm_creates_no_service_linked_role() {
    let mut world = World::new(BehaviourProfile::Legacy2016, t0()).with_port(crate::dispatch::pipeline());
    let alice = user(&mut world, "alice", None, Some(CLOUDWATCH_ONLY));
    run(
        &mut world,
        &alice,
        "PutMetricAlarm",
        recovery_alarm("RecoveryAlarm"),
    )
    .unwrap();
    assert!(!world
        .account(ACCOUNT)
        .unwrap()
        .iam
        .roles
        .contains_key("AWSServiceRoleForCloudWatchEvents"));
}

#[test]
fn put_metric_alarm_is_authorized_on_the_alarm_arn() {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let nobody = user(&mut world, "nobody", None, None);
    let (code, status, message) = code_and_message(run(
        &mut world,
        &nobody,
        "PutMetricAlarm",
        recovery_alarm("A"),
    ));
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    assert_eq!(
        message,
        "User: arn:aws:iam::111111111111:user/nobody is not authorized to perform: cloudwatch:PutMetricAlarm on resource: arn:aws:cloudwatch:ap-northeast-1:111111111111:alarm:A because no identity-based policy allows the cloudwatch:PutMetricAlarm action"
    );
}

#[test]
fn describe_alarms_answers_every_field_the_alarm_has_and_never_the_creator() {
    let mut world = World::new(BehaviourProfile::Legacy2016, t0()).with_port(crate::dispatch::pipeline());
    let session = power_role_session(&mut world);
    run(
        &mut world,
        &session,
        "PutMetricAlarm",
        recovery_alarm("RecoveryAlarm"),
    )
    .unwrap();
    let output = run(&mut world, &session, "DescribeAlarms", Value::structure()).unwrap();
    let alarms = output.get("MetricAlarms").unwrap().as_list();
    assert_eq!(alarms.len(), 1);
    let names: Vec<&str> = alarms[0]
        .entries()
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "AlarmName",
            "AlarmArn",
            "AlarmConfigurationUpdatedTimestamp",
            "ActionsEnabled",
            "OKActions",
            "AlarmActions",
            "InsufficientDataActions",
            "StateValue",
            "StateReason",
            "StateUpdatedTimestamp",
            "MetricName",
            "Namespace",
            "Statistic",
            "Dimensions",
            "Period",
            "EvaluationPeriods",
            "Threshold",
            "ComparisonOperator",
            "StateTransitionedTimestamp",
        ]
    );
    assert_eq!(alarms[0].get("Threshold"), Some(&Value::Float(0.0)));
    assert_eq!(alarms[0].get("Period"), Some(&Value::Int(60)));
    assert_eq!(
        alarms[0].get("StateValue").and_then(Value::as_str),
        Some("INSUFFICIENT_DATA")
    );
    assert_eq!(alarms[0].get("OKActions"), Some(&Value::List(Vec::new())));
    let text = format!("{output:?}");
    for secret in [
        "Ec2Admin",
        "deploy",
        "ASIAWANA",
        "assumed-role",
        "Temporary",
        "LongTerm",
    ] {
        assert!(!text.contains(secret), "{secret} leaked into {text}");
    }
    // The history does not tell either.
    let history = run(
        &mut world,
        &session,
        "DescribeAlarmHistory",
        Value::structure(),
    )
    .unwrap();
    let text = format!("{history:?}");
    assert!(
        !text.contains("Ec2Admin") && !text.contains("ASIAWANA"),
        "{text}"
    );
}

#[test]
fn describe_alarms_filters() {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let admin = user(
        &mut world,
        "ops",
        Some("arn:aws:iam::aws:policy/AdministratorAccess"),
        None,
    );
    for name in ["web-1", "web-2", "db-1"] {
        run(&mut world, &admin, "PutMetricAlarm", recovery_alarm(name)).unwrap();
    }
    let names = |output: Value| -> Vec<String> {
        output
            .get("MetricAlarms")
            .unwrap()
            .as_list()
            .iter()
            .map(|a| {
                a.get("AlarmName")
                    .and_then(Value::as_str)
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let by_prefix = run(
        &mut world,
        &admin,
        "DescribeAlarms",
        Value::structure().with("AlarmNamePrefix", "web"),
    )
    .unwrap();
    assert_eq!(names(by_prefix), ["web-1", "web-2"]);
    let by_name = run(
        &mut world,
        &admin,
        "DescribeAlarms",
        Value::structure().with("AlarmNames", strs(&["db-1", "nope"])),
    )
    .unwrap();
    assert_eq!(names(by_name), ["db-1"]);
    run(
        &mut world,
        &admin,
        "SetAlarmState",
        Value::structure()
            .with("AlarmName", "web-2")
            .with("StateValue", "ALARM")
            .with("StateReason", "t"),
    )
    .unwrap();
    let alarming = run(
        &mut world,
        &admin,
        "DescribeAlarms",
        Value::structure().with("StateValue", "ALARM"),
    )
    .unwrap();
    assert_eq!(names(alarming), ["web-2"]);
    let by_action = run(
        &mut world,
        &admin,
        "DescribeAlarms",
        Value::structure().with("ActionPrefix", "arn:aws:automate:ap-northeast-1:ec2:rec"),
    )
    .unwrap();
    assert_eq!(names(by_action).len(), 3);
    let composite_only = run(
        &mut world,
        &admin,
        "DescribeAlarms",
        Value::structure().with("AlarmTypes", strs(&["CompositeAlarm"])),
    )
    .unwrap();
    assert!(names(composite_only).is_empty());
    let first = run(
        &mut world,
        &admin,
        "DescribeAlarms",
        Value::structure().with("MaxRecords", 2),
    )
    .unwrap();
    let token = first
        .get("NextToken")
        .and_then(Value::as_str)
        .unwrap()
        .to_string();
    assert_eq!(names(first), ["db-1", "web-1"]);
    let rest = run(
        &mut world,
        &admin,
        "DescribeAlarms",
        Value::structure().with("NextToken", token),
    )
    .unwrap();
    assert_eq!(names(rest), ["web-2"]);
}

#[test]
fn query_protocol_members_arrive_as_text_and_are_read_alike() {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let admin = user(
        &mut world,
        "ops",
        Some("arn:aws:iam::aws:policy/AdministratorAccess"),
        None,
    );
    let params = Value::structure()
        .with("AlarmName", "q")
        .with("ActionsEnabled", "false")
        .with("OKActions", "")
        .with("MetricName", "CPUUtilization")
        .with("Namespace", "AWS/EC2")
        .with("Statistic", "Average")
        .with(
            "Dimensions",
            Value::List(vec![Value::structure()
                .with("Name", "InstanceId")
                .with("Value", INSTANCE)]),
        )
        .with("Period", "300")
        .with("EvaluationPeriods", "2")
        .with("DatapointsToAlarm", "1")
        .with("Threshold", "70.5")
        .with("ComparisonOperator", "GreaterThanThreshold")
        .with("TreatMissingData", "notBreaching")
        .with("Unit", "Percent");
    run(&mut world, &admin, "PutMetricAlarm", params).unwrap();
    let alarm = &world.regional(ACCOUNT, REGION).unwrap().cloudwatch.alarms["q"];
    assert_eq!(
        (
            alarm.config.period,
            alarm.config.evaluation_periods,
            alarm.config.datapoints_to_alarm,
            alarm.config.threshold
        ),
        (300, 2, Some(1), 70.5)
    );
    assert!(!alarm.config.actions_enabled);
}

#[rstest]
#[case::no_metric_name("MetricName", None, "ValidationError", "MetricName must not be null")]
#[case::bad_comparison(
    "ComparisonOperator",
    Some(Value::from("Bigger")),
    "ValidationError",
    "1 validation error detected: Value 'Bigger' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold, LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold, GreaterThanUpperThreshold]"
)]
#[case::datapoints(
    "DatapointsToAlarm",
    Some(Value::Int(6)),
    "ValidationError",
    "DatapointsToAlarm must be less than or equal to EvaluationPeriods"
)]
#[case::zero_period(
    "Period",
    Some(Value::Int(0)),
    "ValidationError",
    "1 validation error detected: Value '0' at 'period' failed to satisfy constraint: Member must have value greater than or equal to 1"
)]
#[case::not_an_arn("AlarmActions", Some(strs(&["scale-down"])), "ValidationError", "")]
#[case::unknown_ec2_action("AlarmActions", Some(strs(&["arn:aws:automate:ap-northeast-1:ec2:hibernate"])), "ValidationError", "")]
#[case::ec2_action_without_instance(
    "Dimensions",
    None,
    "ValidationError",
    "Invalid use of EC2 action. An EC2 action can only be used if the alarm is monitoring an EC2 instance."
)]
#[case::other_region(
    "AlarmActions",
    Some(strs(&["arn:aws:automate:us-east-1:ec2:recover"])),
    "ValidationError",
    "Invalid region us-east-1 specified. Only ap-northeast-1 is supported."
)]
#[case::too_many_actions(
    "OKActions",
    Some(strs(&["arn:aws:sns:ap-northeast-1:111111111111:a"; 6])),
    "ValidationError",
    "1 validation error detected: Value '[arn:aws:sns:ap-northeast-1:111111111111:a, arn:aws:sns:ap-northeast-1:111111111111:a, arn:aws:sns:ap-northeast-1:111111111111:a, arn:aws:sns:ap-northeast-1:111111111111:a, arn:aws:sns:ap-northeast-1:111111111111:a, arn:aws:sns:ap-northeast-1:111111111111:a]' at 'oKActions' failed to satisfy constraint: Member must have length less than or equal to 5"
)]
#[case::no_alarm_name(
    "AlarmName",
    None,
    "ValidationError",
    "1 validation error detected: Value null at 'alarmName' failed to satisfy constraint: Member must not be null"
)]
fn put_metric_alarm_validation(
    #[case] member: &str,
    #[case] value: Option<Value>,
    #[case] code: &str,
    #[case] message: &str,
) {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let admin = user(
        &mut world,
        "ops",
        Some("arn:aws:iam::aws:policy/AdministratorAccess"),
        None,
    );
    let Value::Struct(mut fields) = recovery_alarm("A") else {
        unreachable!()
    };
    fields.retain(|(k, _)| k != member);
    if let Some(value) = value {
        fields.push((member.to_string(), value));
    }
    let result = run(&mut world, &admin, "PutMetricAlarm", Value::Struct(fields));
    assert_eq!(
        code_and_message(result),
        (code.to_string(), 400, message.to_string())
    );
}

#[test]
fn describe_alarm_history_lists_newest_first_and_filters_actions() {
    let mut world = World::new(BehaviourProfile::Legacy2016, t0()).with_port(crate::dispatch::pipeline());
    let session = power_role_session(&mut world);
    run(
        &mut world,
        &session,
        "PutMetricAlarm",
        recovery_alarm("RecoveryAlarm"),
    )
    .unwrap();
    let set = Value::structure()
        .with("AlarmName", "RecoveryAlarm")
        .with("StateValue", "ALARM")
        .with("StateReason", "Manual Update to ALARM");
    run(&mut world, &session, "SetAlarmState", set).unwrap();
    world.run_due(t0() + Duration::seconds(model::EVALUATION_DELAY_SECONDS));

    let summaries = |output: &Value| -> Vec<String> {
        output
            .get("AlarmHistoryItems")
            .unwrap()
            .as_list()
            .iter()
            .map(|i| {
                i.get("HistorySummary")
                    .and_then(Value::as_str)
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let all = run(
        &mut world,
        &session,
        "DescribeAlarmHistory",
        Value::structure().with("AlarmName", "RecoveryAlarm"),
    )
    .unwrap();
    let failed = "Failed to execute action arn:aws:automate:ap-northeast-1:ec2:recover. Received error: \"Encountered error calling EC2 recover. (401: AWS was not able to validate the provided access credentials)\"";
    assert_eq!(
        summaries(&all),
        [
            "Alarm updated from ALARM to INSUFFICIENT_DATA",
            failed,
            "Alarm updated from INSUFFICIENT_DATA to ALARM",
            "Alarm \"RecoveryAlarm\" created",
        ]
    );
    let item = &all.get("AlarmHistoryItems").unwrap().as_list()[1];
    assert_eq!(
        item.get("AlarmType").and_then(Value::as_str),
        Some("MetricAlarm")
    );
    assert_eq!(
        item.get("HistoryItemType").and_then(Value::as_str),
        Some("Action")
    );
    assert!(matches!(item.get("Timestamp"), Some(Value::Timestamp(_))));

    let actions = run(
        &mut world,
        &session,
        "DescribeAlarmHistory",
        Value::structure()
            .with("AlarmName", "RecoveryAlarm")
            .with("HistoryItemType", "Action"),
    )
    .unwrap();
    assert_eq!(summaries(&actions), [failed]);
    let ascending = run(
        &mut world,
        &session,
        "DescribeAlarmHistory",
        Value::structure()
            .with("ScanBy", "TimestampAscending")
            .with("MaxRecords", 1),
    )
    .unwrap();
    assert_eq!(summaries(&ascending), ["Alarm \"RecoveryAlarm\" created"]);
    assert_eq!(
        ascending.get("NextToken").and_then(Value::as_str),
        Some("1")
    );
    let later = run(
        &mut world,
        &session,
        "DescribeAlarmHistory",
        Value::structure().with("StartDate", Value::Timestamp(t0() + Duration::seconds(1))),
    )
    .unwrap();
    assert_eq!(
        summaries(&later),
        ["Alarm updated from ALARM to INSUFFICIENT_DATA"]
    );
    let by_text_date = run(
        &mut world,
        &session,
        "DescribeAlarmHistory",
        Value::structure().with("EndDate", "2026-01-05T10:00:00Z"),
    )
    .unwrap();
    assert_eq!(summaries(&by_text_date).len(), 3);
}

#[test]
fn set_alarm_state_errors() {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let admin = user(
        &mut world,
        "ops",
        Some("arn:aws:iam::aws:policy/AdministratorAccess"),
        None,
    );
    run(&mut world, &admin, "PutMetricAlarm", recovery_alarm("A")).unwrap();
    let set = |name: &str, state: &str, data: Option<&str>| {
        Value::structure()
            .with("AlarmName", name)
            .with("StateValue", state)
            .with("StateReason", "test")
            .with_opt("StateReasonData", data)
    };
    assert_eq!(
        code_and_message(run(&mut world, &admin, "SetAlarmState", set("A", "INVALID", None))),
        (
            "ValidationError".to_string(),
            400,
            "1 validation error detected: Value 'INVALID' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]".to_string()
        )
    );
    assert_eq!(
        code_and_message(run(
            &mut world,
            &admin,
            "SetAlarmState",
            set("nope", "ALARM", None)
        )),
        ("ResourceNotFound".to_string(), 404, String::new())
    );
    let (code, status, _) = code_and_message(run(
        &mut world,
        &admin,
        "SetAlarmState",
        set("A", "ALARM", Some("{not json")),
    ));
    assert_eq!((code.as_str(), status), ("InvalidFormat", 400));
    run(
        &mut world,
        &admin,
        "SetAlarmState",
        set("A", "ALARM", Some(r#"{"why":"drill"}"#)),
    )
    .unwrap();
    let alarm = &world.regional(ACCOUNT, REGION).unwrap().cloudwatch.alarms["A"];
    assert_eq!(
        alarm.state_reason_data.as_deref(),
        Some(r#"{"why":"drill"}"#)
    );
}

#[test]
fn delete_and_enable_disable() {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let admin = user(
        &mut world,
        "ops",
        Some("arn:aws:iam::aws:policy/AdministratorAccess"),
        None,
    );
    run(&mut world, &admin, "PutMetricAlarm", recovery_alarm("A")).unwrap();
    run(
        &mut world,
        &admin,
        "DisableAlarmActions",
        Value::structure().with("AlarmNames", strs(&["A", "ghost"])),
    )
    .unwrap();
    assert!(
        !world.regional(ACCOUNT, REGION).unwrap().cloudwatch.alarms["A"]
            .config
            .actions_enabled
    );
    run(
        &mut world,
        &admin,
        "EnableAlarmActions",
        Value::structure().with("AlarmNames", strs(&["A"])),
    )
    .unwrap();
    assert!(
        world.regional(ACCOUNT, REGION).unwrap().cloudwatch.alarms["A"]
            .config
            .actions_enabled
    );
    assert_eq!(
        code_and_message(run(&mut world, &admin, "DeleteAlarms", Value::structure())),
        (
            "ValidationError".to_string(),
            400,
            "1 validation error detected: Value null at 'alarmNames' failed to satisfy constraint: Member must not be null".to_string()
        )
    );
    let (code, status, _) = code_and_message(run(
        &mut world,
        &admin,
        "DeleteAlarms",
        Value::structure().with("AlarmNames", strs(&["A", "ghost"])),
    ));
    assert_eq!((code.as_str(), status), ("ResourceNotFound", 404));
    run(
        &mut world,
        &admin,
        "DeleteAlarms",
        Value::structure().with("AlarmNames", strs(&["A"])),
    )
    .unwrap();
    assert!(world
        .regional(ACCOUNT, REGION)
        .unwrap()
        .cloudwatch
        .alarms
        .is_empty());
}

#[test]
fn describe_alarms_encodes_in_the_query_protocol_for_older_clients() {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let admin = user(
        &mut world,
        "ops",
        Some("arn:aws:iam::aws:policy/AdministratorAccess"),
        None,
    );
    run(&mut world, &admin, "PutMetricAlarm", recovery_alarm("A")).unwrap();
    let output = run(&mut world, &admin, "DescribeAlarms", Value::structure()).unwrap();
    let wire = super::super::ServiceId::CloudWatch.wire();
    let encoded = crate::protocol::encode_output(
        crate::protocol::Protocol::AwsQuery,
        wire,
        "DescribeAlarms",
        &output,
        "r",
    );
    let xml = String::from_utf8(encoded.body).unwrap();
    assert!(xml.starts_with(
        "<DescribeAlarmsResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><DescribeAlarmsResult><CompositeAlarms></CompositeAlarms><MetricAlarms><member><AlarmName>A</AlarmName>"
    ), "{xml}");
    assert!(xml.contains("<OKActions></OKActions><AlarmActions><member>arn:aws:automate:ap-northeast-1:ec2:recover</member></AlarmActions>"), "{xml}");
    assert!(xml.contains("<Dimensions><member><Name>InstanceId</Name><Value>i-0123456789abcdef0</Value></member></Dimensions>"), "{xml}");
    assert!(xml.contains("<Threshold>0</Threshold>"), "{xml}");
}

#[test]
fn other_operations_are_not_claimed() {
    let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
    let admin = user(&mut world, "ops", None, None);
    let params = Value::structure();
    let call = Call {
        caller: &admin,
        region: REGION,
        now: t0(),
        action: "PutMetricData",
        params: &params,
    };
    assert!(handle(&mut world, &call).is_none());
}
