//! `instance-profile-ssm` on the emulator: the report's run as a snapshot, and the same steps
//! with other fixes. Registration must come from the modelled rules (the instance profile's one
//! role, EC2 assuming it for instance metadata, the SSM Agent calling as that role), not from the
//! scenario: an inline policy with just the agent's calls works, and the plausible wrong fixes
//! do not.

use rstest::rstest;
use serde_json::Value;
use wana_harness::{run_scenario, Backend, BackendKind, BehaviourProfile, Redactor, RunContext, RunReport, Scenario, Verdict};
use wana_scenarios::instance_profile_ssm::{self as trap, Fix, SCENARIO};

async fn context() -> RunContext {
    let backend = Backend::start_emulator(BehaviourProfile::Current).await.expect("the emulator starts");
    RunContext::new(backend, "wana-ssm-test")
}

async fn run_once() -> RunReport {
    run_scenario(&SCENARIO, BackendKind::Emulator, BehaviourProfile::Current).await
}

fn redacted_json(report: &RunReport) -> Value {
    serde_json::from_str(&report.to_json_line(&Redactor::full())).expect("reports are JSON")
}

#[tokio::test]
async fn the_report_matches_its_snapshot_and_names_the_agents_refused_call() {
    let report = run_once().await;
    assert_eq!(report.verdict, Verdict::ReproducedAndFixed, "{report:#?}");
    assert!(report.matches_expectation);
    let refused = report
        .narrative_notes
        .iter()
        .find(|note| note.starts_with("The SSM Agent on i-"))
        .unwrap_or_else(|| panic!("a note names the agent's refused call: {:#?}", report.narrative_notes));
    assert!(refused.contains("ssm:UpdateInstanceInformation as arn:aws:sts::111111111111:assumed-role/role-for-ec2/i-"), "{refused}");

    let value = redacted_json(&report);
    assert_eq!(redacted_json(&run_once().await), value, "a second run redacts to the same report");
    insta::with_settings!({
        snapshot_path => "../../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_json_snapshot!("instance-profile-ssm@emulator", value);
    });
}

#[rstest]
#[case::the_managed_policy_on_the_profiles_role(Fix::ManagedPolicy, true)]
#[case::an_inline_policy_with_just_the_agents_calls(Fix::InlineAgentPolicy, true)]
#[case::the_managed_policy_on_the_role_the_profile_refused(Fix::PolicyOnSecondRole, false)]
#[case::the_managed_policy_with_a_trust_policy_for_ssm_only(Fix::ManagedPolicyButTrustOnlySsm, false)]
#[tokio::test]
async fn only_a_permission_of_the_profiles_role_that_ec2_may_assume_makes_a_managed_node(#[case] fix: Fix, #[case] works: bool) {
    let mut ctx = context().await;
    let run = trap::reproduce(&mut ctx, fix).await.expect("the run completes");
    assert_eq!(run.second_role_error.as_deref(), Some("LimitExceeded"));
    assert!(run.propagation_refusals > 0, "a launch right after creating the profile meets IAM's propagation window");
    assert_eq!(run.managed_before_fix, None);
    assert_eq!(run.managed_after_trust_change, None, "trusting ssm.amazonaws.com grants nothing");
    assert_eq!(run.managed_after_fix.as_ref().map(|n| n.ping_status.as_str()), works.then_some("Online"), "{fix:?}");
    assert_eq!(run.verdict, if works { Verdict::ReproducedAndFixed } else { Verdict::FixFailed });

    let steps = ctx.recorder.steps();
    let second = steps
        .iter()
        .filter(|s| s.call == "iam:AddRoleToInstanceProfile")
        .nth(1)
        .expect("the second role was tried");
    assert_eq!(second.error_message.as_deref(), Some(trap::QUOTA_MESSAGE), "{second:?}");
    let refused_launch = steps.iter().find(|s| s.call == "ec2:RunInstances" && !s.ok).expect("a refused launch");
    assert_eq!(
        refused_launch.error_message.as_deref(),
        Some("Value (for-ec2) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name")
    );
    if fix == Fix::ManagedPolicyButTrustOnlySsm {
        let notes = ctx.recorder.notes().join("\n");
        assert!(notes.contains("EC2 could not obtain credentials for the instance: sts:AssumeRole"), "{notes}");
    }
}

#[tokio::test]
async fn teardown_removes_the_instance_the_profile_and_both_roles() {
    let mut ctx = context().await;
    let run = trap::reproduce(&mut ctx, Fix::ManagedPolicy).await.unwrap();
    SCENARIO.teardown(&mut ctx).await.unwrap();
    ctx.wait(std::time::Duration::from_secs(30)).await;

    let admin = ctx.admin(trap::ACCOUNT).unwrap();
    let iam = admin.iam();
    let profile = iam.get_instance_profile().instance_profile_name(trap::PROFILE_NAME).send().await;
    assert!(profile.expect_err("the profile is gone").into_service_error().is_no_such_entity_exception());
    for role in [trap::ROLE_NAME, trap::SECOND_ROLE_NAME] {
        let found = iam.get_role().role_name(role).send().await;
        assert!(found.expect_err("the role is gone").into_service_error().is_no_such_entity_exception());
    }
    let described = aws_sdk_ec2::Client::new(&admin.config)
        .describe_instances()
        .instance_ids(&run.provisioned.instance_id)
        .send()
        .await
        .unwrap();
    let state = described.reservations()[0].instances()[0].state().and_then(|s| s.name()).map(|n| n.as_str().to_string());
    assert_eq!(state.as_deref(), Some("terminated"));
    let nodes = aws_sdk_ssm::Client::new(&admin.config).describe_instance_information().send().await.unwrap();
    assert!(nodes.instance_information_list().is_empty(), "a terminated instance is no managed node");

    // A second teardown finds nothing left to delete.
    let steps_before = ctx.recorder.steps().len();
    SCENARIO.teardown(&mut ctx).await.unwrap();
    assert_eq!(ctx.recorder.steps().len(), steps_before);
}
