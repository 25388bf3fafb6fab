//! An alarm's own life: created unchecked, its states set and evaluated, actions disabled,
//! deletion, and the action ARNs CloudWatch accepts.

use super::*;

#[test]
fn a_new_alarm_starts_unchecked_and_is_recorded_as_created() {
    let (mut world, id) = world(BehaviourProfile::Current);
    let creator = power_user(&mut world, "cfn");
    put(&mut world, "A", config(&id, &[]), creator);
    let a = alarm(&world, "A");
    assert_eq!(
        (a.state, a.state_reason.as_str()),
        (StateValue::InsufficientData, INITIAL_STATE_REASON)
    );
    assert_eq!(
        a.arn,
        format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:A")
    );
    let items = history(&world, "A");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].summary, "Alarm \"A\" created");
    let created = data(&items[0]);
    assert_eq!(
        (created["version"].as_str(), created["type"].as_str()),
        (Some("1.0"), Some("Create"))
    );
    assert_eq!(created["createdAlarm"]["alarmName"], "A");
    // Nothing about the creator in the history either.
    assert!(
        !items[0].data.contains("cfn") && !items[0].data.contains("AKIA"),
        "{}",
        items[0].data
    );
    // The first evaluation finds no data and, treating missing data as missing, stays put.
    world.run_due(t0() + Duration::minutes(1));
    assert_eq!(history(&world, "A").len(), 1);
}

#[test]
fn set_alarm_state_returns_to_the_evaluated_state_with_a_second_state_update() {
    let (mut world, id) = world(BehaviourProfile::Current);
    let creator = power_user(&mut world, "cfn");
    let mut c = config(&id, &[&recover_arn()]);
    c.insufficient_data_actions =
        vec!["arn:aws:sns:ap-northeast-1:111111111111:ops".to_string()];
    put(&mut world, "A", c, creator);
    set_alarm(&mut world, "A");
    assert_eq!(alarm(&world, "A").state, StateValue::Alarm);
    world.run_due(t0() + Duration::seconds(EVALUATION_DELAY_SECONDS - 1));
    assert_eq!(alarm(&world, "A").state, StateValue::Alarm, "not yet due");

    let back = t0() + Duration::seconds(EVALUATION_DELAY_SECONDS);
    world.run_due(back);
    let a = alarm(&world, "A");
    assert_eq!(a.state, StateValue::InsufficientData);
    assert_eq!(
        a.state_reason,
        "Insufficient Data: 5 datapoints were unknown."
    );
    assert_eq!(a.state_transitioned, back);
    let summaries: Vec<_> = history(&world, "A")
        .into_iter()
        .map(|i| (i.item_type, i.summary))
        .collect();
    assert_eq!(
        summaries,
        [
            (
                HistoryItemType::ConfigurationUpdate,
                "Alarm \"A\" created".to_string()
            ),
            (
                HistoryItemType::StateUpdate,
                "Alarm updated from INSUFFICIENT_DATA to ALARM".to_string()
            ),
            (
                HistoryItemType::Action,
                format!("Successfully executed action {}", recover_arn())
            ),
            (
                HistoryItemType::StateUpdate,
                "Alarm updated from ALARM to INSUFFICIENT_DATA".to_string()
            ),
            (
                HistoryItemType::Action,
                "Successfully executed action arn:aws:sns:ap-northeast-1:111111111111:ops"
                    .to_string()
            ),
        ]
    );
    let update = data(&history(&world, "A")[1]);
    assert_eq!(
        update,
        json!({
            "version": "1.0",
            "oldState": {"stateValue": "INSUFFICIENT_DATA", "stateReason": INITIAL_STATE_REASON},
            "newState": {"stateValue": "ALARM", "stateReason": "Manual Update to ALARM"},
        })
    );
    let back_update = data(&history(&world, "A")[3]);
    assert_eq!(
        back_update["oldState"]["stateReason"],
        "Manual Update to ALARM"
    );
    assert_eq!(back_update["newState"]["stateReasonData"]["period"], 60);
}

#[rstest]
#[case::not_breaching("notBreaching", StateValue::Ok)]
#[case::breaching("breaching", StateValue::Alarm)]
#[case::ignore("ignore", StateValue::Alarm)]
#[case::missing("missing", StateValue::InsufficientData)]
fn treat_missing_data_decides_the_evaluated_state(
    #[case] treat: &str,
    #[case] expected: StateValue,
) {
    let (mut world, id) = world(BehaviourProfile::Current);
    let creator = power_user(&mut world, "cfn");
    let mut c = config(&id, &[]);
    c.treat_missing_data = Some(treat.to_string());
    c.evaluation_periods = 1;
    put(&mut world, "A", c, creator);
    set_alarm(&mut world, "A");
    world.run_due(t0() + Duration::minutes(1));
    let a = alarm(&world, "A");
    assert_eq!(a.state, expected);
    if treat == "notBreaching" {
        assert_eq!(
            a.state_reason,
            "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]."
        );
    }
}

#[test]
fn disabled_actions_record_the_state_change_but_run_nothing() {
    let (mut world, id) = world(BehaviourProfile::Legacy2016);
    let creator = power_role_session(&mut world);
    put(&mut world, "A", config(&id, &[&recover_arn()]), creator);
    set_actions_enabled(
        &mut world,
        ACCOUNT,
        REGION,
        &["A".to_string(), "missing".to_string()],
        false,
    );
    set_alarm(&mut world, "A");
    assert!(action_items(&world, "A").is_empty());
    assert_eq!(history(&world, "A").len(), 2);
}

#[test]
fn setting_the_same_state_again_records_nothing() {
    let (mut world, id) = world(BehaviourProfile::Legacy2016);
    let creator = power_role_session(&mut world);
    put(&mut world, "A", config(&id, &[&recover_arn()]), creator);
    set_alarm(&mut world, "A");
    set_alarm(&mut world, "A");
    assert_eq!(history(&world, "A").len(), 3);
}

#[test]
fn set_alarm_state_on_a_missing_alarm_is_resource_not_found() {
    let (mut world, _) = world(BehaviourProfile::Current);
    let error = set_alarm_state(
        &mut world,
        ACCOUNT,
        REGION,
        "nope",
        StateValue::Alarm,
        "r",
        None,
        t0(),
    )
    .unwrap_err();
    assert_eq!(
        (error.code.as_ref(), error.status, error.message.as_str()),
        ("ResourceNotFound", 404, "")
    );
}

#[test]
fn delete_alarms_deletes_all_or_nothing_and_keeps_the_history() {
    let (mut world, id) = world(BehaviourProfile::Current);
    let creator = power_user(&mut world, "cfn");
    put(&mut world, "A", config(&id, &[]), creator.clone());
    put(&mut world, "B", config(&id, &[]), creator);
    let error = delete_alarms(&mut world, ACCOUNT, REGION, &["A".into(), "C".into()], t0())
        .unwrap_err();
    assert_eq!(error.code, "ResourceNotFound");
    assert_eq!(
        world
            .regional(ACCOUNT, REGION)
            .unwrap()
            .cloudwatch
            .alarms
            .len(),
        2
    );
    delete_alarms(&mut world, ACCOUNT, REGION, &["A".into(), "B".into()], t0()).unwrap();
    assert!(world
        .regional(ACCOUNT, REGION)
        .unwrap()
        .cloudwatch
        .alarms
        .is_empty());
    assert_eq!(
        history(&world, "A").last().unwrap().summary,
        "Alarm \"A\" deleted"
    );
    // A pending evaluation of a deleted alarm does nothing.
    world.run_due(t0() + Duration::minutes(1));
}

#[rstest]
#[case("arn:aws:automate:us-east-1:ec2:recover", Some(ActionTarget::Ec2 { action: Ec2Action::Recover, form: Ec2ArnForm::Automate, region: "us-east-1".into() }))]
#[case("arn:aws:automate:us-east-1:ec2:reboot", Some(ActionTarget::Ec2 { action: Ec2Action::Reboot, form: Ec2ArnForm::Automate, region: "us-east-1".into() }))]
#[case("arn:aws:swf:us-east-1:111111111111:action/actions/AWS_EC2.InstanceId.Terminate/1.0", Some(ActionTarget::Ec2 { action: Ec2Action::Terminate, form: Ec2ArnForm::Swf, region: "us-east-1".into() }))]
#[case("arn:aws:sns:us-east-1:111111111111:topic", Some(ActionTarget::Other))]
#[case("arn:aws:autoscaling:us-east-1:111111111111:scalingPolicy:x:autoScalingGroupName/g:policyName/p", Some(ActionTarget::Other))]
#[case("arn:aws:automate:us-east-1:ec2:hibernate", None)]
#[case(
    "arn:aws:swf:us-east-1:111111111111:action/actions/AWS_EC2.InstanceId.Start/1.0",
    None
)]
#[case("scale-down-policy", None)]
#[case("arn:aws:sns:us-east-1:111111111111:", None)]
fn action_arns(#[case] arn: &str, #[case] expected: Option<ActionTarget>) {
    assert_eq!(parse_action(arn), expected);
}
