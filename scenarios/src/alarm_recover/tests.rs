//! Unit tests of `alarm-recover`: the narrative, the templates, history items and expectations.

use serde_json::Value;

use super::*;

#[test]
fn narrative_quotes_the_failure_and_names_both_eras() {
    let narrative = super::TRAP.narrative;
    assert!(narrative.contains(
        "Encountered error calling EC2 recover. (401: AWS was not able to validate the provided access credentials)"
    ));
    assert!(narrative.contains("arn:aws:automate:"));
    assert!(narrative.contains("2017-12-18"));
}

#[test]
fn the_update_template_is_the_report_template_plus_one_alarm_name_line() {
    let original: Vec<&str> = EC2_JSON.lines().collect();
    let updated: Vec<&str> = EC2_UPDATE_JSON.lines().collect();
    assert_eq!(updated.len(), original.len() + 1);
    // `diff ec2.json ec2_update.json` in the report: `30a31`.
    assert_eq!(updated[..30], original[..30]);
    assert_eq!(
        updated[30],
        format!("        \"AlarmName\": \"{RENEWED_ALARM}\",")
    );
    assert_eq!(updated[31..], original[30..]);
    for template in [EC2_JSON, EC2_UPDATE_JSON] {
        let parsed: Value = serde_json::from_str(template).unwrap();
        assert_eq!(
            parsed["Resources"]["Ec2Instance"]["Properties"]["ImageId"],
            "ami-374db956"
        );
    }
}

#[test]
fn action_items_are_read_from_their_history_data() {
    let failed = parse_action_item(
        "Failed to execute action arn:aws:automate:us-east-1:ec2:recover. Received error: \"x\"",
        r#"{"error":"Encountered error calling EC2 recover. (401: AWS was not able to validate the provided access credentials)","actionState":"Failed"}"#,
    );
    assert!(!failed.succeeded);
    assert_eq!(failed.action_state, "Failed");
    assert!(failed.is_authentication_failure());
    assert!(failed.error.unwrap().contains("(401: "));

    // A failure for another reason (a permission the action's identity lacks) is not the trap.
    let unauthorized = parse_action_item(
        "Failed to execute action arn:aws:automate:us-east-1:ec2:stop. Received error: \"x\"",
        r#"{"error":"Encountered error calling EC2 stop. (403: You are not authorized to perform this operation.)","actionState":"Failed"}"#,
    );
    assert!(!unauthorized.succeeded);
    assert!(!unauthorized.is_authentication_failure());

    let ok = parse_action_item(
        "Successfully executed action arn:aws:automate:us-east-1:ec2:recover",
        r#"{"error":null,"actionState":"Succeeded"}"#,
    );
    assert!(ok.succeeded && ok.error.is_none());

    let no_data = parse_action_item("Successfully executed action arn:aws:sns:x", "");
    assert!(no_data.succeeded);
}

#[test]
fn expectations_follow_the_eras() {
    let s = AlarmRecover;
    assert_eq!(
        s.expected_verdict(BackendKind::Emulator, BehaviourProfile::Legacy2016),
        Verdict::ReproducedAndFixed
    );
    assert_eq!(
        s.expected_verdict(BackendKind::Emulator, BehaviourProfile::Current),
        Verdict::NotReproduced
    );
    assert_eq!(
        s.expected_verdict(BackendKind::Sandbox, BehaviourProfile::Current),
        Verdict::NotReproduced
    );
    assert_eq!(
        s.expected_verdict(BackendKind::Localstack, BehaviourProfile::Current),
        Verdict::NotReproduced
    );
    assert_eq!(s.profiles().len(), 2);
}
