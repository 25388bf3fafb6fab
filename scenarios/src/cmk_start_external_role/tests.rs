//! Unit tests of `cmk-start-external-role`: the narrative, the verdict and the key-policy edits.

use serde_json::Value;

use super::fixes::{other_region, policy_sids};
use super::*;

#[test]
fn narrative_explains_the_grant_and_both_fixes() {
    let narrative = super::TRAP.narrative;
    assert!(narrative.contains("Client.InternalError: Client error on launch"));
    assert!(narrative.contains("kms:GrantIsForAWSResource"));
    assert!(narrative.contains("kms:ViaService"));
    assert!(narrative.contains("forward access session"));
}

fn settled(state: &str, code: Option<&str>) -> Settled {
    Settled {
        state: state.into(),
        state_reason_code: code.map(str::to_string),
        state_reason_message: None,
        denied_inner_calls: Vec::new(),
    }
}

#[test]
fn the_verdict_needs_the_documented_failure_then_running() {
    let failed = settled("stopped", Some("Client.InternalError"));
    let running = settled("running", None);
    assert_eq!(
        verdict(&failed, Some(&running)),
        Verdict::ReproducedAndFixed
    );
    assert_eq!(verdict(&failed, Some(&failed)), Verdict::FixFailed);
    assert_eq!(verdict(&failed, None), Verdict::FixFailed);
    assert_eq!(verdict(&running, None), Verdict::NotReproduced);
    // Stopped for another reason is not this trap.
    let other = settled("stopped", Some("Client.UserInitiatedShutdown"));
    assert_eq!(verdict(&other, Some(&running)), Verdict::NotReproduced);
}

#[test]
fn statements_are_appended_to_the_current_policy() {
    let current = r#"{"Version":"2012-10-17","Statement":{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"kms:*","Resource":"*"}}"#;
    let role = "arn:aws:iam::333333333333:role/ThirdPartyRole";
    let policy = with_statements(current, report_statements(role, "us-east-1")).unwrap();
    assert_eq!(
        policy_sids(&policy),
        [
            "Enable IAM User Permissions",
            "AllowUseViaEC2",
            "AllowGrantsForAWSResources"
        ]
    );
    let value: Value = serde_json::from_str(&policy).unwrap();
    assert_eq!(
        value["Statement"][1]["Condition"]["StringEquals"]["kms:ViaService"],
        "ec2.us-east-1.amazonaws.com"
    );
    assert_eq!(
        value["Statement"][2]["Condition"]["Bool"]["kms:GrantIsForAWSResource"],
        "true"
    );
    assert_eq!(value["Statement"][2]["Principal"]["AWS"], role);
    assert!(with_statements("{}", Vec::new()).is_err());
}

#[test]
fn the_wrong_region_is_never_the_run_region() {
    for region in ["us-east-1", "ap-northeast-1", "eu-west-1"] {
        assert_ne!(other_region(region), region);
    }
}
