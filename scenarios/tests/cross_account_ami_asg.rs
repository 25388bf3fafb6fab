//! `cross-account-ami-asg` on the emulator: the report's run as a snapshot, and the same steps
//! with other fixes. The trap must come from KMS's rules and Auto Scaling acting as its
//! service-linked role, not from the scenario: the documented alternatives work, plausible wrong
//! fixes do not.

use rstest::rstest;
use serde_json::Value;
use wana_harness::{
    run_scenario, Backend, BackendKind, BehaviourProfile, Redactor, RunContext, RunReport, Scenario, Verdict,
};
use wana_scenarios::cross_account_ami_asg::{self as trap, Fix, SCENARIO};

async fn context() -> RunContext {
    let backend = Backend::start_emulator(BehaviourProfile::Current).await.expect("the emulator starts");
    RunContext::new(backend, "wana-asg-test")
}

async fn run_once() -> RunReport {
    run_scenario(&SCENARIO, BackendKind::Emulator, BehaviourProfile::Current).await
}

fn redacted_json(report: &RunReport) -> Value {
    serde_json::from_str(&report.to_json_line(&Redactor::full())).expect("reports are JSON")
}

#[tokio::test]
async fn the_report_matches_its_snapshot_and_names_the_service_linked_role() {
    let report = run_once().await;
    assert_eq!(report.verdict, Verdict::ReproducedAndFixed, "{report:#?}");
    assert!(report.matches_expectation);
    let role_session = "arn:aws:sts::222222222222:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling";
    let refused = report
        .narrative_notes
        .iter()
        .find(|note| note.starts_with("EC2 called kms:CreateGrant on arn:aws:kms:us-east-1:111111111111:key/"))
        .unwrap_or_else(|| panic!("a note names the refused grant: {:#?}", report.narrative_notes));
    assert!(refused.contains(&format!("as {role_session}: denied")), "{refused}");

    let value = redacted_json(&report);
    assert_eq!(redacted_json(&run_once().await), value, "a second run redacts to the same report");
    insta::with_settings!({
        snapshot_path => "../../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_json_snapshot!("cross-account-ami-asg@emulator", value);
    });
}

#[rstest]
#[case::the_reports_grant_from_b(Fix::ReportGrant, true)]
#[case::the_same_grant_from_the_key_account(Fix::GrantFromKeyAccount, true)]
#[case::a_copy_of_the_ami_with_bs_own_key(Fix::CopyAmiWithOwnKey, true)]
#[case::a_grant_without_decrypt(Fix::GrantWithoutDecrypt, false)]
#[case::a_grant_for_another_role(Fix::GrantForOtherRole, false)]
#[case::a_grant_the_key_policy_does_not_allow(Fix::GrantWithoutKeyPolicyPermission, false)]
#[tokio::test]
async fn a_fix_works_only_if_kms_rules_let_the_service_linked_role_use_the_key(#[case] fix: Fix, #[case] works: bool) {
    let mut ctx = context().await;
    let run = trap::reproduce(&mut ctx, fix).await.expect("the run completes");
    assert_eq!(run.direct_launch_state, "running", "the role's own launch works in every case");
    let failure = run.failure.clone().expect("the group's first launch failed");
    assert!(failure.is_kms_launch_failure(), "{failure:?}");
    assert_eq!(failure.status_code, "Failed");
    assert!(failure.cause.contains("increasing the capacity from 0 to 1"), "{failure:?}");
    assert_eq!(run.in_service_after_fix, works, "{fix:?}");
    assert_eq!(run.verdict, if works { Verdict::ReproducedAndFixed } else { Verdict::FixFailed });

    let steps = ctx.recorder.steps();
    let grant = steps.iter().find(|s| s.call == "kms:CreateGrant");
    match fix {
        // B's create-grant is refused: A's key policy does not let account B create grants.
        Fix::GrantWithoutKeyPolicyPermission => {
            let grant = grant.expect("the grant was tried");
            assert_eq!(grant.error_code.as_deref(), Some("AccessDeniedException"), "{grant:?}");
        }
        Fix::CopyAmiWithOwnKey => assert!(grant.is_none()),
        _ => assert!(grant.is_some_and(|g| g.ok), "{grant:?}"),
    }
}

#[tokio::test]
async fn teardown_removes_what_the_run_created_in_both_accounts() {
    let mut ctx = context().await;
    let run = trap::reproduce(&mut ctx, Fix::ReportGrant).await.unwrap();
    SCENARIO.teardown(&mut ctx).await.unwrap();
    ctx.wait(std::time::Duration::from_secs(30)).await;

    let b = ctx.admin(trap::CONSUMER).unwrap();
    let groups = aws_sdk_autoscaling::Client::new(&b.config)
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(&run.provisioned.group_name)
        .send()
        .await
        .unwrap();
    assert!(groups.auto_scaling_groups().is_empty());
    let a = ctx.admin(trap::OWNER).unwrap();
    let images = aws_sdk_ec2::Client::new(&a.config).describe_images().owners("self").send().await.unwrap();
    assert!(images.images().iter().all(|i| i.image_id() != Some(run.provisioned.image_id.as_str())));
    let key = aws_sdk_kms::Client::new(&a.config).describe_key().key_id(&run.provisioned.key_arn).send().await.unwrap();
    assert_eq!(key.key_metadata().and_then(|m| m.key_state()).map(|s| s.as_str()), Some("PendingDeletion"));
    let role = b.iam().get_role().role_name(trap::ROLE_NAME).send().await;
    assert!(role.expect_err("the role is gone").into_service_error().is_no_such_entity_exception());

    // A second teardown finds nothing left to delete.
    let steps_before = ctx.recorder.steps().len();
    SCENARIO.teardown(&mut ctx).await.unwrap();
    assert_eq!(ctx.recorder.steps().len(), steps_before);
}
