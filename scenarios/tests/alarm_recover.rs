//! `alarm-recover` on the emulator, under both behaviour profiles: the outcome snapshots, what a
//! user would check in a run (the exact 401 text where the report saw it, the success texts, the
//! verdicts), and fixes other than the report's, one valid and one not.

use std::time::Duration;

use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, HistoryItemType, StateValue, Statistic,
};
use rstest::rstest;
use serde_json::Value;
use wana_harness::{
    assume_role, run_scenario, Backend, BackendKind, BehaviourProfile, Phase, Principal, Redactor,
    RunReport, Step, Verdict,
};
use wana_scenarios::alarm_recover::{
    AlarmRecover, EC2_JSON, RENEWED_ALARM, ROLE_NAME, ROLE_STACK, USER_NAME, USER_STACK,
};

const UNVALIDATED: &str = "Encountered error calling EC2 recover. (401: AWS was not able to validate the provided access credentials)";
const RECOVER_SUCCEEDED: &str =
    "Successfully executed action arn:aws:automate:us-east-1:ec2:recover";
const SESSION: &str = "wana-alarm-operator@a";
const USER: &str = "wana-alarm-deployer@a";

async fn run(profile: BehaviourProfile) -> RunReport {
    run_scenario(&AlarmRecover, BackendKind::Emulator, profile).await
}

fn steps<'a>(report: &'a RunReport, call: &str) -> Vec<&'a Step> {
    report.steps.iter().filter(|s| s.call == call).collect()
}

/// The step that stands for an alarm's recover action, read from its history.
fn action_of<'a>(report: &'a RunReport, alarm_prefix: &str) -> &'a Step {
    report
        .steps
        .iter()
        .find(|s| {
            s.call
                .starts_with(&format!("alarm action of {alarm_prefix}"))
        })
        .unwrap_or_else(|| panic!("no action step for {alarm_prefix}: {:#?}", report.steps))
}

#[rstest]
#[case::legacy_2016(BehaviourProfile::Legacy2016, "alarm-recover@emulator-legacy-2016")]
#[case::current(BehaviourProfile::Current, "alarm-recover@emulator-current")]
#[tokio::test]
async fn outcome_snapshot(#[case] profile: BehaviourProfile, #[case] name: &str) {
    let report = run(profile).await.redacted(&Redactor::full());
    insta::with_settings!({
        snapshot_path => "../../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_json_snapshot!(name, report);
    });
}

#[rstest]
#[case::legacy_2016(BehaviourProfile::Legacy2016, Verdict::ReproducedAndFixed)]
#[case::current(BehaviourProfile::Current, Verdict::NotReproduced)]
#[tokio::test]
async fn the_verdict_is_the_expected_one(
    #[case] profile: BehaviourProfile,
    #[case] verdict: Verdict,
) {
    let report = run(profile).await;
    assert_eq!(
        report.verdict,
        verdict,
        "{}",
        report.render_text(&Redactor::secrets_only())
    );
    assert_eq!(report.expected_verdict, Some(verdict));
    assert!(report.matches_expectation);
    assert_eq!(report.error, None);
}

#[rstest]
#[case::legacy_2016(BehaviourProfile::Legacy2016)]
#[case::current(BehaviourProfile::Current)]
#[tokio::test]
async fn both_stacks_are_created_from_the_report_template_by_the_two_identities(
    #[case] profile: BehaviourProfile,
) {
    let report = run(profile).await;

    // The role session signs with temporary credentials, the user with a long-term key.
    let who: Vec<(&str, &Value)> = steps(&report, "sts:GetCallerIdentity")
        .iter()
        .map(|s| (s.principal.as_str(), &s.detail["Credentials"]))
        .collect();
    assert_eq!(who.len(), 2);
    assert_eq!(who[0].0, SESSION);
    assert!(
        who[0].1.as_str().unwrap().starts_with("temporary"),
        "{who:?}"
    );
    assert_eq!(who[1].0, USER);
    assert!(
        who[1].1.as_str().unwrap().starts_with("long-term"),
        "{who:?}"
    );

    let created: Vec<(&str, &str, bool)> = steps(&report, "cloudformation:CreateStack")
        .iter()
        .map(|s| {
            (
                s.principal.as_str(),
                s.detail["StackName"].as_str().unwrap(),
                s.ok,
            )
        })
        .collect();
    assert_eq!(
        created,
        [(SESSION, ROLE_STACK, true), (USER, USER_STACK, true)]
    );
    let completed: Vec<&Value> = steps(&report, "cloudformation:DescribeStacks")
        .iter()
        .map(|s| &s.detail["StackStatus"])
        .take(2)
        .collect();
    assert_eq!(completed, ["CREATE_COMPLETE", "CREATE_COMPLETE"]);

    // Each alarm is fired by whoever deployed it, with the report's reason.
    let fired: Vec<(&str, &str, &str)> = steps(&report, "cloudwatch:SetAlarmState")
        .iter()
        .take(2)
        .map(|s| {
            (
                s.principal.as_str(),
                s.detail["AlarmName"].as_str().unwrap(),
                s.detail["StateReason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(fired[0].0, SESSION);
    assert!(
        fired[0]
            .1
            .starts_with("ec2-recoveryalarm-role-RecoveryAlarm-"),
        "{fired:?}"
    );
    assert_eq!(fired[0].2, "Manual Update to ALARM");
    assert_eq!(fired[1].0, USER);
    assert!(
        fired[1]
            .1
            .starts_with("ec2-recoveryalarm-user-RecoveryAlarm-"),
        "{fired:?}"
    );
}

#[tokio::test]
async fn legacy_2016_shows_the_401_for_the_role_alarm_and_fixes_it_as_the_user() {
    let report = run(BehaviourProfile::Legacy2016).await;

    // The role-created alarm: the report's exact text.
    let role_action = action_of(&report, "ec2-recoveryalarm-role-RecoveryAlarm-");
    assert!(!role_action.ok);
    assert_eq!(role_action.phase, Phase::Observe);
    assert_eq!(role_action.error_code.as_deref(), Some("Failed"));
    assert_eq!(role_action.error_message.as_deref(), Some(UNVALIDATED));
    let history = steps(&report, "cloudwatch:DescribeAlarmHistory");
    let summary = history[0].detail["AlarmHistoryItems"][0]["HistorySummary"]
        .as_str()
        .unwrap();
    assert!(summary.contains(UNVALIDATED), "{summary}");

    // The user-created one ran.
    let user_action = action_of(&report, "ec2-recoveryalarm-user-RecoveryAlarm-");
    assert!(user_action.ok);
    assert_eq!(user_action.detail["HistorySummary"], RECOVER_SUCCEEDED);

    // DescribeAlarms cannot tell them apart: the same fields, none about the creator.
    let described = &steps(&report, "cloudwatch:DescribeAlarms")[0].detail["MetricAlarms"];
    let fields: Vec<&Value> = described
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["Fields"])
        .collect();
    assert_eq!(fields.len(), 2);
    assert_eq!(fields[0], fields[1]);
    let names: Vec<&str> = fields[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"AlarmActions") && names.contains(&"StateValue"),
        "{names:?}"
    );
    for name in &names {
        let lower = name.to_lowercase();
        assert!(
            !["creat", "owner", "principal", "user", "role"]
                .iter()
                .any(|w| lower.contains(w)),
            "{name} would name the creator"
        );
    }

    // The fix: the user updates the role's stack with the report's ec2_update.json.
    let update = &steps(&report, "cloudformation:UpdateStack")[0];
    assert_eq!(
        (update.phase, update.principal.as_str(), update.ok),
        (Phase::Fix, USER, true)
    );
    assert_eq!(update.detail["StackName"], ROLE_STACK);
    let updated = steps(&report, "cloudformation:DescribeStacks")
        .into_iter()
        .find(|s| s.phase == Phase::Fix)
        .unwrap();
    assert_eq!(updated.detail["StackStatus"], "UPDATE_COMPLETE");
    assert_eq!(updated.detail["Outputs"]["RecoveryAlarm"], RENEWED_ALARM);

    // Fired again (by the role session, as in the report), the re-created alarm recovers.
    let refire = steps(&report, "cloudwatch:SetAlarmState")
        .into_iter()
        .find(|s| s.phase == Phase::Verify)
        .unwrap();
    assert_eq!((refire.principal.as_str(), refire.ok), (SESSION, true));
    assert_eq!(refire.detail["AlarmName"], RENEWED_ALARM);
    let renewed = action_of(&report, RENEWED_ALARM);
    assert_eq!((renewed.phase, renewed.ok), (Phase::Verify, true));
    assert_eq!(renewed.detail["HistorySummary"], RECOVER_SUCCEEDED);

    // The narrative a user reads carries the exact text and the verdict.
    let text = report.render_text(&Redactor::secrets_only());
    assert!(text.contains(&format!("Failed: {UNVALIDATED}")), "{text}");
    assert!(
        text.ends_with("verdict: reproduced-and-fixed, as expected (reproduced-and-fixed)\n"),
        "{text}"
    );
}

#[tokio::test]
async fn current_recovers_the_role_alarm_and_says_why() {
    let report = run(BehaviourProfile::Current).await;
    let role_action = action_of(&report, "ec2-recoveryalarm-role-RecoveryAlarm-");
    assert!(role_action.ok, "{role_action:?}");
    assert_eq!(role_action.detail["HistorySummary"], RECOVER_SUCCEEDED);
    assert!(action_of(&report, "ec2-recoveryalarm-user-RecoveryAlarm-").ok);
    assert!(
        !report
            .steps
            .iter()
            .any(|s| matches!(s.phase, Phase::Fix | Phase::Verify)),
        "nothing to fix"
    );
    let notes = report.narrative_notes.join("\n");
    for needle in ["2017-12", "AWSServiceRoleForCloudWatchEvents", "recover"] {
        assert!(notes.contains(needle), "{needle} missing from {notes}");
    }
    assert!(!report
        .render_text(&Redactor::secrets_only())
        .contains("(401"));
}

#[rstest]
#[case::legacy_2016(BehaviourProfile::Legacy2016)]
#[case::current(BehaviourProfile::Current)]
#[tokio::test]
async fn teardown_deletes_everything_and_the_report_holds_no_secret(
    #[case] profile: BehaviourProfile,
) {
    let report = run(profile).await;
    let teardown: Vec<(&str, bool)> = report
        .steps
        .iter()
        .filter(|s| s.phase == Phase::Teardown)
        .map(|s| (s.call.as_str(), s.ok))
        .collect();
    assert_eq!(
        teardown,
        [
            ("cloudformation:DeleteStack", true),
            ("cloudformation:DeleteStack", true),
            ("iam:DeleteAccessKey", true),
            ("iam:DetachUserPolicy", true),
            ("iam:DeleteUser", true),
            ("iam:DetachRolePolicy", true),
            ("iam:DeleteRole", true),
        ]
    );
    // Phases never go back.
    let order = [
        Phase::Provision,
        Phase::Trigger,
        Phase::Observe,
        Phase::Fix,
        Phase::Verify,
        Phase::Teardown,
    ];
    let ranks: Vec<usize> = report
        .steps
        .iter()
        .map(|s| order.iter().position(|p| *p == s.phase).unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");

    let json = report.to_json_line(&Redactor::secrets_only());
    assert!(!json.contains("wanaAdminSecret"), "{json}");
    assert!(!json.contains("IQoJ"), "no session token: {json}");
    let value: Value = serde_json::from_str(&json).unwrap();
    for step in value["steps"].as_array().unwrap() {
        for key in ["principal", "call", "ok", "error_code", "error_message"] {
            assert!(step.get(key).is_some(), "{key} missing in {step}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Other fixes, to show the emulator judges the mechanism and not the scenario's exact steps.

const POWER_USER: &str = "arn:aws:iam::aws:policy/PowerUserAccess";

struct World {
    /// Kept alive: dropping it stops the emulator.
    _backend: Backend,
    admin: Principal,
    session: Principal,
    user: Principal,
    /// The role-created alarm and its instance.
    alarm: String,
    instance: String,
}

/// The report's situation on `legacy-2016`: the role session deployed `ec2.json`.
async fn role_deployed_alarm() -> World {
    let backend = Backend::start_emulator(BehaviourProfile::Legacy2016)
        .await
        .unwrap();
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let iam = admin.iam();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"sts:AssumeRole"}}]}}"#,
        admin.account
    );
    let role = iam
        .create_role()
        .role_name(ROLE_NAME)
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name(ROLE_NAME)
        .policy_arn(POWER_USER)
        .send()
        .await
        .unwrap();
    let session = assume_role(
        &admin,
        role.role().unwrap().arn(),
        "cfn-deploy",
        None,
        SESSION,
    )
    .await
    .unwrap();
    iam.create_user().user_name(USER_NAME).send().await.unwrap();
    iam.attach_user_policy()
        .user_name(USER_NAME)
        .policy_arn(POWER_USER)
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name(USER_NAME)
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    let user = Principal::from_keys(
        &backend,
        USER,
        "a",
        key.access_key_id(),
        key.secret_access_key(),
        None,
    )
    .unwrap();

    let cfn = aws_sdk_cloudformation::Client::new(&session.config);
    cfn.create_stack()
        .stack_name(ROLE_STACK)
        .template_body(EC2_JSON)
        .send()
        .await
        .unwrap();
    let stack = cfn
        .describe_stacks()
        .stack_name(ROLE_STACK)
        .send()
        .await
        .unwrap()
        .stacks()[0]
        .clone();
    // The instance leaves `pending` after a few seconds; only a running instance is recovered.
    backend
        .emulator()
        .unwrap()
        .clock()
        .advance(Duration::from_secs(10));
    let output = |key: &str| {
        stack
            .outputs()
            .iter()
            .find(|o| o.output_key() == Some(key))
            .unwrap()
            .output_value()
            .unwrap()
            .to_string()
    };
    World {
        alarm: output("RecoveryAlarm"),
        instance: output("InstanceID"),
        _backend: backend,
        admin,
        session,
        user,
    }
}

/// Fires `alarm` from OK into ALARM and returns the summary of its newest Action item.
async fn fire(world: &World, alarm: &str) -> String {
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&world.admin.config);
    // From whatever state it is in: OK first, so that ALARM is a change and runs the actions.
    cloudwatch
        .set_alarm_state()
        .alarm_name(alarm)
        .state_value(StateValue::Ok)
        .state_reason("reset")
        .send()
        .await
        .unwrap();
    cloudwatch
        .set_alarm_state()
        .alarm_name(alarm)
        .state_value(StateValue::Alarm)
        .state_reason("Manual Update to ALARM")
        .send()
        .await
        .unwrap();
    let history = cloudwatch
        .describe_alarm_history()
        .alarm_name(alarm)
        .history_item_type(HistoryItemType::Action)
        .send()
        .await
        .unwrap();
    history.alarm_history_items()[0]
        .history_summary()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn re_creating_the_alarm_directly_as_the_user_fixes_it_too() {
    let world = role_deployed_alarm().await;
    assert!(fire(&world, &world.alarm).await.contains(UNVALIDATED));

    // No CloudFormation: the user overwrites the same alarm with PutMetricAlarm. The alarm now
    // belongs to the user's long-term key.
    aws_sdk_cloudwatch::Client::new(&world.user.config)
        .put_metric_alarm()
        .alarm_name(&world.alarm)
        .namespace("AWS/EC2")
        .metric_name("StatusCheckFailed")
        .statistic(Statistic::Minimum)
        .period(60)
        .evaluation_periods(5)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .threshold(0.0)
        .alarm_actions("arn:aws:automate:us-east-1:ec2:recover")
        .dimensions(
            Dimension::builder()
                .name("InstanceId")
                .value(&world.instance)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(fire(&world, &world.alarm).await, RECOVER_SUCCEEDED);
}

#[tokio::test]
async fn re_creating_the_alarm_with_the_role_again_does_not_fix_it() {
    let world = role_deployed_alarm().await;
    // The report's update, but run by the role session instead of the IAM user.
    let cfn = aws_sdk_cloudformation::Client::new(&world.session.config);
    cfn.update_stack()
        .stack_name(ROLE_STACK)
        .template_body(wana_scenarios::alarm_recover::EC2_UPDATE_JSON)
        .send()
        .await
        .unwrap();
    let stack = cfn
        .describe_stacks()
        .stack_name(ROLE_STACK)
        .send()
        .await
        .unwrap()
        .stacks()[0]
        .clone();
    assert_eq!(
        stack.stack_status().map(|s| s.as_str()),
        Some("UPDATE_COMPLETE")
    );
    let summary = fire(&world, RENEWED_ALARM).await;
    assert!(summary.contains(UNVALIDATED), "{summary}");
}
