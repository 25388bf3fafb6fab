//! CloudWatch alarms seen from the Rust SDK (rpcv2Cbor): the `alarm-recover` mechanism on both
//! behaviour profiles, end to end. A real instance is launched with the EC2 SDK; a recover alarm
//! on it is created once by a role session (temporary credentials) and once by an IAM user
//! (long-term keys), both with PowerUserAccess as in the source report; SetAlarmState fires it;
//! DescribeAlarmHistory tells what happened; the emulator clock brings the alarm back.

use std::time::Duration;

use aws_sdk_cloudwatch::{
    error::ProvideErrorMetadata,
    types::{ComparisonOperator, Dimension, HistoryItemType, StateValue, Statistic},
};
use wana_emulator::{state::ec2 as ec2_state, BehaviourProfile};
use wana_harness::{
    assume::assume_role,
    provision::{user_with_access_key, UserPolicies},
    Backend, Principal,
};

const AMAZON_LINUX_2016: &str = "ami-374db956";
const POWER_USER: &str = "arn:aws:iam::aws:policy/PowerUserAccess";
const TRUST_ACCOUNT_A: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}"#;
const CLOUDWATCH_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudwatch:*","Resource":"*"}]}"#;
const UNVALIDATED: &str =
    "Encountered error calling EC2 recover. (401: AWS was not able to validate the provided access credentials)";

fn cloudwatch(principal: &Principal) -> aws_sdk_cloudwatch::Client {
    aws_sdk_cloudwatch::Client::new(&principal.config)
}

fn advance(backend: &Backend, seconds: u64) {
    backend
        .emulator()
        .expect("in-process emulator")
        .clock()
        .advance(Duration::from_secs(seconds));
}

fn recover_arn(backend: &Backend) -> String {
    format!("arn:aws:automate:{}:ec2:recover", backend.region())
}

/// A session of a PowerUserAccess role: temporary (`ASIA…`) credentials, like an instance
/// profile's in the source report.
async fn power_role_session(admin: &Principal) -> Principal {
    let iam = admin.iam();
    let role = iam
        .create_role()
        .role_name("Ec2Operator")
        .assume_role_policy_document(TRUST_ACCOUNT_A)
        .send()
        .await
        .expect("admin creates the role")
        .role
        .expect("the response carries the role");
    iam.attach_role_policy()
        .role_name("Ec2Operator")
        .policy_arn(POWER_USER)
        .send()
        .await
        .expect("attach");
    assume_role(admin, role.arn(), "cfn-deploy", None, "operator@a")
        .await
        .expect("admin assumes the role")
}

/// Launches one instance as the admin and waits (on the emulator clock) until it runs.
async fn running_instance(backend: &Backend, admin: &Principal) -> String {
    let ec2 = aws_sdk_ec2::Client::new(&admin.config);
    let reservation = ec2
        .run_instances()
        .image_id(AMAZON_LINUX_2016)
        .instance_type("t2.micro".into())
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .expect("admin launches an instance");
    let id = reservation.instances()[0]
        .instance_id()
        .expect("an instance id")
        .to_string();
    advance(backend, 10);
    let described = ec2
        .describe_instances()
        .instance_ids(&id)
        .send()
        .await
        .expect("describe");
    let state = described.reservations()[0].instances()[0]
        .state()
        .and_then(|s| s.name())
        .cloned();
    assert_eq!(state, Some(aws_sdk_ec2::types::InstanceStateName::Running));
    id
}

/// The source report's RecoveryAlarm on `instance_id`.
async fn put_recovery_alarm(
    backend: &Backend,
    principal: &Principal,
    name: &str,
    instance_id: &str,
) -> Result<
    (),
    aws_sdk_cloudwatch::error::SdkError<
        aws_sdk_cloudwatch::operation::put_metric_alarm::PutMetricAlarmError,
    >,
> {
    cloudwatch(principal)
        .put_metric_alarm()
        .alarm_name(name)
        .namespace("AWS/EC2")
        .metric_name("StatusCheckFailed")
        .statistic(Statistic::Minimum)
        .period(60)
        .evaluation_periods(5)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .threshold(0.0)
        .alarm_actions(recover_arn(backend))
        .dimensions(
            Dimension::builder()
                .name("InstanceId")
                .value(instance_id)
                .build(),
        )
        .send()
        .await
        .map(drop)
}

async fn fire(principal: &Principal, name: &str) {
    cloudwatch(principal)
        .set_alarm_state()
        .alarm_name(name)
        .state_value(StateValue::Alarm)
        .state_reason("Manual Update to ALARM")
        .send()
        .await
        .expect("set-alarm-state");
}

/// `(HistoryItemType, HistorySummary)` of an alarm's history, newest first.
async fn history(
    principal: &Principal,
    name: &str,
    item_type: Option<HistoryItemType>,
) -> Vec<(String, String)> {
    let output = cloudwatch(principal)
        .describe_alarm_history()
        .alarm_name(name)
        .set_history_item_type(item_type)
        .send()
        .await
        .expect("describe-alarm-history");
    output
        .alarm_history_items()
        .iter()
        .map(|i| {
            (
                i.history_item_type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
                i.history_summary().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn recoveries(backend: &Backend, account: &str, instance_id: &str) -> usize {
    let region = backend.region().to_string();
    backend
        .emulator()
        .expect("in-process emulator")
        .inspect(|world| {
            ec2_state::instance(world, account, &region, instance_id)
                .map_or(0, |i| i.recoveries.len())
        })
}

#[tokio::test]
async fn legacy_2016_recover_fails_for_a_role_created_alarm_and_works_for_a_user_created_one() {
    let backend = Backend::start_emulator(BehaviourProfile::Legacy2016)
        .await
        .expect("emulator starts");
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let instance_id = running_instance(&backend, &admin).await;
    let operator = power_role_session(&admin).await;
    let cfn_user = user_with_access_key(&backend, &admin, "cfn", UserPolicies { managed: &[POWER_USER], inline: None })
        .await
        .unwrap();

    // Creation succeeds in both variants (source report).
    put_recovery_alarm(&backend, &operator, "RecoveryAlarm-role", &instance_id)
        .await
        .expect("role creates");
    put_recovery_alarm(&backend, &cfn_user, "RecoveryAlarm-user", &instance_id)
        .await
        .expect("user creates");

    // Nothing in DescribeAlarms tells the two apart.
    let described = cloudwatch(&admin)
        .describe_alarms()
        .send()
        .await
        .expect("describe-alarms");
    let alarms = described.metric_alarms();
    assert_eq!(alarms.len(), 2);
    let debug = format!("{described:?}");
    assert!(
        !debug.contains("Ec2Operator")
            && !debug.contains("cfn-deploy")
            && !debug.contains("user/cfn"),
        "{debug}"
    );
    for alarm in alarms {
        assert_eq!(alarm.state_value(), Some(&StateValue::InsufficientData));
        assert_eq!(
            alarm.state_reason(),
            Some("Unchecked: Initial alarm creation")
        );
        assert_eq!(alarm.threshold(), Some(0.0));
        assert_eq!(alarm.alarm_actions(), [recover_arn(&backend)]);
    }

    fire(&operator, "RecoveryAlarm-role").await;
    let failed = format!(
        "Failed to execute action {}. Received error: \"{UNVALIDATED}\"",
        recover_arn(&backend)
    );
    assert_eq!(
        history(&admin, "RecoveryAlarm-role", Some(HistoryItemType::Action)).await,
        [("Action".to_string(), failed)]
    );
    assert_eq!(
        recoveries(&backend, &admin.account, &instance_id),
        0,
        "the failed recover does not touch the instance"
    );

    fire(&cfn_user, "RecoveryAlarm-user").await;
    assert_eq!(
        history(&admin, "RecoveryAlarm-user", Some(HistoryItemType::Action)).await,
        [(
            "Action".to_string(),
            format!("Successfully executed action {}", recover_arn(&backend))
        )]
    );
    assert_eq!(recoveries(&backend, &admin.account, &instance_id), 1);

    // The alarm returns to what its (absent) metric says: a second StateUpdate item.
    advance(&backend, 10);
    let alarm = cloudwatch(&admin)
        .describe_alarms()
        .alarm_names("RecoveryAlarm-role")
        .send()
        .await
        .unwrap();
    assert_eq!(
        alarm.metric_alarms()[0].state_value(),
        Some(&StateValue::InsufficientData)
    );
    let items = history(&admin, "RecoveryAlarm-role", None).await;
    let summaries: Vec<&str> = items.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(
        summaries,
        [
            "Alarm updated from ALARM to INSUFFICIENT_DATA",
            &format!(
                "Failed to execute action {}. Received error: \"{UNVALIDATED}\"",
                recover_arn(&backend)
            ),
            "Alarm updated from INSUFFICIENT_DATA to ALARM",
            "Alarm \"RecoveryAlarm-role\" created",
        ]
    );

    // The report's fix: re-create the alarm as the IAM user; then recover works.
    put_recovery_alarm(&backend, &cfn_user, "RecoveryAlarm-role", &instance_id)
        .await
        .expect("user re-creates");
    fire(&cfn_user, "RecoveryAlarm-role").await;
    let actions = history(&admin, "RecoveryAlarm-role", Some(HistoryItemType::Action)).await;
    assert!(
        actions[0].1.starts_with("Successfully executed action"),
        "{actions:?}"
    );
    assert_eq!(recoveries(&backend, &admin.account, &instance_id), 2);
}

#[tokio::test]
async fn current_recover_works_for_both_and_creating_the_alarm_needs_create_service_linked_role() {
    let backend = Backend::start_emulator(BehaviourProfile::Current)
        .await
        .expect("emulator starts");
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let instance_id = running_instance(&backend, &admin).await;

    // Without iam:CreateServiceLinkedRole the first alarm with an EC2 action cannot be created.
    let watcher = user_with_access_key(&backend, &admin, "watcher", UserPolicies { managed: &[], inline: Some(CLOUDWATCH_ONLY) })
        .await
        .unwrap();
    let error = put_recovery_alarm(&backend, &watcher, "RecoveryAlarm-watcher", &instance_id)
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(error.code(), Some("AccessDenied"));
    assert_eq!(
        error.message(),
        Some(
            "User: arn:aws:iam::111111111111:user/watcher is not authorized to perform: iam:CreateServiceLinkedRole on resource: arn:aws:iam::111111111111:role/aws-service-role/events.amazonaws.com/AWSServiceRoleForCloudWatchEvents because no identity-based policy allows the iam:CreateServiceLinkedRole action"
        )
    );

    // PowerUserAccess allows it: the role session's alarm creates the service-linked role.
    let operator = power_role_session(&admin).await;
    put_recovery_alarm(&backend, &operator, "RecoveryAlarm-role", &instance_id)
        .await
        .expect("role creates");
    let role = admin
        .iam()
        .get_role()
        .role_name("AWSServiceRoleForCloudWatchEvents")
        .send()
        .await
        .expect("the service-linked role exists")
        .role
        .expect("a role");
    assert_eq!(role.path(), "/aws-service-role/events.amazonaws.com/");
    // Now the role exists, the watcher may create alarms with EC2 actions too.
    put_recovery_alarm(&backend, &watcher, "RecoveryAlarm-watcher", &instance_id)
        .await
        .expect("watcher creates");

    // Recover needs no permissions today: the role-created alarm recovers.
    fire(&operator, "RecoveryAlarm-role").await;
    assert_eq!(
        history(&admin, "RecoveryAlarm-role", Some(HistoryItemType::Action)).await,
        [(
            "Action".to_string(),
            format!("Successfully executed action {}", recover_arn(&backend))
        )]
    );
    assert_eq!(recoveries(&backend, &admin.account, &instance_id), 1);
}

#[tokio::test]
async fn cloudwatch_errors_reach_the_sdk_as_modeled_errors() {
    let backend = Backend::start_emulator(BehaviourProfile::Current)
        .await
        .expect("emulator starts");
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let client = cloudwatch(&admin);

    let missing = client
        .set_alarm_state()
        .alarm_name("nope")
        .state_value(StateValue::Alarm)
        .state_reason("test")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(missing.is_resource_not_found(), "{missing:?}");
    assert_eq!(missing.code(), Some("ResourceNotFound"));

    let no_metric = client
        .put_metric_alarm()
        .alarm_name("x")
        .evaluation_periods(1)
        .period(60)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        (no_metric.code(), no_metric.message()),
        (Some("ValidationError"), Some("MetricName must not be null"))
    );

    let not_found = client
        .delete_alarms()
        .alarm_names("nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(not_found.is_resource_not_found(), "{not_found:?}");
}
