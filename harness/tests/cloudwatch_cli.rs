//! CloudWatch alarms through the real AWS CLI (awscli 1.46.3, whose botocore speaks awsJson 1.0
//! to CloudWatch): the commands of the source report parse, and the history reads as the report
//! shows it. The alarm's creator is a role session, so on `legacy-2016` the recover fails.

use std::time::Duration;

use wana_emulator::BehaviourProfile;
use wana_harness::{assume::assume_role, AwsCli, Backend, Principal};

const TRUST_ACCOUNT_A: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}"#;

#[tokio::test]
async fn the_source_report_commands_through_the_aws_cli() {
    let cli = AwsCli::locate().expect("the AWS CLI is part of the test setup");
    let backend = Backend::start_emulator(BehaviourProfile::Legacy2016)
        .await
        .expect("emulator starts");
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let iam = admin.iam();
    let role = iam
        .create_role()
        .role_name("Ec2Operator")
        .assume_role_policy_document(TRUST_ACCOUNT_A)
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    iam.attach_role_policy()
        .role_name("Ec2Operator")
        .policy_arn("arn:aws:iam::aws:policy/PowerUserAccess")
        .send()
        .await
        .unwrap();
    let operator = assume_role(&admin, role.arn(), "cli", None, "operator@a")
        .await
        .unwrap();
    let ec2 = aws_sdk_ec2::Client::new(&admin.config);
    let launched = ec2
        .run_instances()
        .image_id("ami-374db956")
        .instance_type("t2.micro".into())
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .unwrap();
    let instance_id = launched.instances()[0].instance_id().unwrap().to_string();
    backend
        .emulator()
        .unwrap()
        .clock()
        .advance(Duration::from_secs(10));

    let region = backend.region().to_string();
    let recover = format!("arn:aws:automate:{region}:ec2:recover");
    let dimensions = format!("Name=InstanceId,Value={instance_id}");
    let creds = operator.cli_credentials();
    #[rustfmt::skip]
    let put = cli
        .run(&creds, &[
            "cloudwatch", "put-metric-alarm",
            "--alarm-name", "RecoveryAlarm",
            "--namespace", "AWS/EC2", "--metric-name", "StatusCheckFailed",
            "--statistic", "Minimum", "--period", "60", "--evaluation-periods", "5",
            "--comparison-operator", "GreaterThanThreshold", "--threshold", "0",
            "--alarm-actions", &recover, "--dimensions", &dimensions,
        ])
        .await
        .unwrap();
    assert!(put.success(), "{put:?}");

    let set = cli
        .run(
            &creds,
            &[
                "cloudwatch",
                "set-alarm-state",
                "--alarm-name",
                "RecoveryAlarm",
                "--state-value",
                "ALARM",
                "--state-reason",
                "Manual Update to ALARM",
            ],
        )
        .await
        .unwrap();
    assert!(set.success(), "{set:?}");

    let history = cli
        .run(
            &creds,
            &[
                "cloudwatch",
                "describe-alarm-history",
                "--alarm-name",
                "RecoveryAlarm",
                "--history-item-type",
                "Action",
            ],
        )
        .await
        .unwrap();
    assert!(history.success(), "{history:?}");
    let json = history.json().unwrap();
    let items = json["AlarmHistoryItems"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{json}");
    assert_eq!(items[0]["AlarmName"], "RecoveryAlarm");
    assert_eq!(items[0]["AlarmType"], "MetricAlarm");
    assert_eq!(items[0]["HistoryItemType"], "Action");
    assert_eq!(
        items[0]["HistorySummary"],
        format!(
            "Failed to execute action {recover}. Received error: \"Encountered error calling EC2 recover. (401: AWS was not able to validate the provided access credentials)\""
        )
    );
    // awscli v1 prints timestamps as the service sent them (`cli_timestamp_format` defaults to
    // `none`); over awsJson 1.0 that is epoch seconds.
    assert!(
        items[0]["Timestamp"].as_f64().is_some_and(|t| t > 1.0e9),
        "{json}"
    );
    let data: serde_json::Value =
        serde_json::from_str(items[0]["HistoryData"].as_str().unwrap()).unwrap();
    assert_eq!(data["actionState"], "Failed");
    assert_eq!(data["notificationResource"], recover.as_str());

    let alarms = cli
        .run(
            &creds,
            &[
                "cloudwatch",
                "describe-alarms",
                "--alarm-names",
                "RecoveryAlarm",
            ],
        )
        .await
        .unwrap();
    assert!(alarms.success(), "{alarms:?}");
    let json = alarms.json().unwrap();
    let alarm = &json["MetricAlarms"][0];
    assert_eq!(alarm["StateValue"], "ALARM");
    assert_eq!(alarm["Threshold"], 0.0);
    assert_eq!(alarm["Period"], 60);
    assert_eq!(alarm["Dimensions"][0]["Value"], instance_id.as_str());
    assert_eq!(
        alarm["AlarmArn"],
        format!("arn:aws:cloudwatch:{region}:111111111111:alarm:RecoveryAlarm")
    );
    assert!(!alarms.stdout.contains("Ec2Operator"), "{}", alarms.stdout);

    let missing = cli
        .run(
            &creds,
            &[
                "cloudwatch",
                "set-alarm-state",
                "--alarm-name",
                "nope",
                "--state-value",
                "OK",
                "--state-reason",
                "x",
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        (missing.error_code(), missing.error_operation()),
        (Some("ResourceNotFound"), Some("SetAlarmState"))
    );
}
