//! `cmk-start-external-role` on the emulator: the report's run as a snapshot, and the same steps
//! with other fixes. The trap must come from KMS's rules, not from the scenario: a different
//! valid fix (an IAM policy, which the default key policy lets decide) must work too, and
//! plausible wrong fixes must not.

use std::time::Duration;

use aws_sdk_ec2::types::InstanceStateName;
use rstest::rstest;
use serde_json::Value;
use wana_harness::{
    run_scenario, Backend, BackendKind, BehaviourProfile, Redactor, RunContext, RunReport,
    Scenario, Verdict,
};
use wana_scenarios::cmk_start_external_role::{self as trap, Fix, SCENARIO};

async fn context() -> RunContext {
    let backend = Backend::start_emulator(BehaviourProfile::Current)
        .await
        .expect("the emulator starts");
    RunContext::new(backend, "wana-cmk-test")
}

async fn run_once() -> RunReport {
    run_scenario(&SCENARIO, BackendKind::Emulator, BehaviourProfile::Current).await
}

fn redacted_json(report: &RunReport) -> Value {
    serde_json::from_str(&report.to_json_line(&Redactor::full())).expect("reports are JSON")
}

#[tokio::test]
async fn the_report_matches_its_snapshot_and_names_the_refused_grant() {
    let report = run_once().await;
    assert_eq!(report.verdict, Verdict::ReproducedAndFixed, "{report:#?}");
    assert!(report.matches_expectation);

    let session = format!(
        "arn:aws:sts::333333333333:assumed-role/{}/{}",
        trap::ROLE_NAME,
        trap::SESSION_NAME
    );
    let denied = report
        .narrative_notes
        .iter()
        .find(|note| {
            note.starts_with(
                "EC2 called kms:CreateGrant on arn:aws:kms:us-east-1:333333333333:key/",
            )
        })
        .unwrap_or_else(|| {
            panic!(
                "a note names the refused grant: {:#?}",
                report.narrative_notes
            )
        });
    assert!(
        denied.contains(&format!(
            "via ec2.us-east-1.amazonaws.com as {session}: denied — "
        )),
        "{denied}"
    );

    let value = redacted_json(&report);
    // Stable across runs: a second run on a fresh emulator redacts to the same report.
    assert_eq!(redacted_json(&run_once().await), value);
    insta::with_settings!({
        snapshot_path => "../../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_json_snapshot!("cmk-start-external-role@emulator", value);
    });
}

/// What a user looks at after the fix: the instance's state and state reason, as the
/// customer's administrator sees them.
async fn instance_as_admin(ctx: &mut RunContext, instance_id: &str) -> (String, Option<String>) {
    let admin = ctx.admin(trap::CUSTOMER).unwrap();
    let described = aws_sdk_ec2::Client::new(&admin.config)
        .describe_instances()
        .instance_ids(instance_id)
        .send()
        .await
        .unwrap();
    let instance = &described.reservations()[0].instances()[0];
    (
        instance
            .state()
            .and_then(|s| s.name())
            .unwrap()
            .as_str()
            .to_string(),
        instance
            .state_reason()
            .and_then(|r| r.code())
            .map(str::to_string),
    )
}

#[rstest]
#[case::the_reports_key_policy(Fix::ReportKeyPolicy, true)]
#[case::an_iam_policy_with_create_grant_for_aws_resources(Fix::IamCreateGrantForAwsResource, true)]
#[case::a_key_policy_without_create_grant(Fix::KeyPolicyWithoutCreateGrant, false)]
#[case::create_grant_for_the_vendors_account(Fix::KeyPolicyCreateGrantForVendorAccount, false)]
#[case::via_service_of_another_region(Fix::KeyPolicyViaAnotherRegion, false)]
#[tokio::test]
async fn a_fix_works_only_if_kms_rules_let_ec2_use_the_key_for_the_session(
    #[case] fix: Fix,
    #[case] works: bool,
) {
    let mut ctx = context().await;
    let run = trap::reproduce(&mut ctx, fix)
        .await
        .expect("the run completes");
    assert!(run.first.fell_back_to_stopped(), "{:?}", run.first);
    let [refused] = run.first.denied_inner_calls.as_slice() else {
        panic!("one refused inner call: {:?}", run.first.denied_inner_calls)
    };
    assert_eq!(refused.action, "kms:CreateGrant");
    assert_eq!(refused.resource, run.provisioned.key_arn);
    assert_eq!(Some(refused.principal.as_str()), run.session.arn.as_deref());

    let second = run.second.clone().expect("the fix was applied and tried");
    let (state, reason) = instance_as_admin(&mut ctx, &run.provisioned.instance_id).await;
    if works {
        assert_eq!(run.verdict, Verdict::ReproducedAndFixed);
        assert_eq!((state.as_str(), reason), ("running", None));
        // EC2's grant and decryption for the session went through: nothing was refused, not
        // even the decryption that the grant (not the policies) allows after an IAM fix.
        assert_eq!(second.denied_inner_calls, []);
    } else {
        assert_eq!(run.verdict, Verdict::FixFailed);
        assert_eq!(
            (state.as_str(), reason.as_deref()),
            ("stopped", Some("Client.InternalError"))
        );
        let actions: Vec<&str> = second
            .denied_inner_calls
            .iter()
            .map(|call| call.action.as_str())
            .collect();
        assert_eq!(
            actions,
            ["kms:CreateGrant"],
            "{:?}",
            second.denied_inner_calls
        );
    }
}

/// An instance started by someone the key policy and IAM already allow is not this trap: the
/// administrator's start works without any fix (the failure is about who starts, not the key).
#[tokio::test]
async fn the_customers_administrator_starts_the_same_instance_without_a_fix() {
    let mut ctx = context().await;
    let provisioned = trap::provision(&mut ctx).await.unwrap();
    let ec2 = aws_sdk_ec2::Client::new(&provisioned.customer.config);
    ec2.start_instances()
        .instance_ids(&provisioned.instance_id)
        .send()
        .await
        .unwrap();
    ctx.wait(Duration::from_secs(6)).await;
    let (state, _) = instance_as_admin(&mut ctx, &provisioned.instance_id).await;
    assert_eq!(state, InstanceStateName::Running.as_str());
}

#[tokio::test]
async fn teardown_removes_what_the_run_created() {
    let mut ctx = context().await;
    let run = trap::reproduce(&mut ctx, Fix::IamCreateGrantForAwsResource)
        .await
        .unwrap();
    SCENARIO.teardown(&mut ctx).await.unwrap();
    ctx.wait(Duration::from_secs(6)).await;

    let (state, _) = instance_as_admin(&mut ctx, &run.provisioned.instance_id).await;
    assert_eq!(state, "terminated");
    let admin = ctx.admin(trap::CUSTOMER).unwrap();
    let key = aws_sdk_kms::Client::new(&admin.config)
        .describe_key()
        .key_id(&run.provisioned.key_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        key.key_metadata()
            .and_then(|m| m.key_state())
            .map(|s| s.as_str()),
        Some("PendingDeletion")
    );
    let role = admin
        .iam()
        .get_role()
        .role_name(trap::ROLE_NAME)
        .send()
        .await;
    let error = role.expect_err("the role is gone").into_service_error();
    assert!(error.is_no_such_entity_exception(), "{error:?}");

    // A second teardown finds nothing left to delete.
    let steps_before = ctx.recorder.steps().len();
    SCENARIO.teardown(&mut ctx).await.unwrap();
    assert_eq!(ctx.recorder.steps().len(), steps_before);
}
