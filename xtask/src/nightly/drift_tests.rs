use serde_json::json;
use wana_harness::{BackendKind, BehaviourProfile, Phase, RunReport, Step, StepError, Verdict};

use super::*;

fn denied(message: &str) -> StepError {
    StepError::new("AccessDeniedException", message)
}

/// A run shaped like cmk-start-external-role's: provision, a refused trigger, the fix, a
/// trigger that works.
fn reference() -> RunReport {
    RunReport {
        trap: "cmk-start-external-role".into(),
        backend: BackendKind::Emulator,
        profile: BehaviourProfile::Current,
        verdict: Verdict::ReproducedAndFixed,
        expected_verdict: Some(Verdict::ReproducedAndFixed),
        matches_expectation: true,
        error: None,
        steps: vec![
            Step::succeeded(Phase::Provision, "admin@c", "kms:CreateKey")
                .with_detail(json!({"KeyId": "<key-id>"})),
            Step::succeeded(Phase::Trigger, "ThirdPartyRole@c", "ec2:StartInstances"),
            Step::failed(
                Phase::Observe,
                "ec2.amazonaws.com",
                "kms:CreateGrant",
                &denied("not authorized"),
            ),
            Step::succeeded(Phase::Fix, "admin@c", "kms:PutKeyPolicy"),
            Step::succeeded(Phase::Verify, "ThirdPartyRole@c", "ec2:StartInstances")
                .with_detail(json!({"State": "running"})),
        ],
        narrative_notes: vec!["EC2 called kms:CreateGrant: denied".into()],
        narration: Default::default(),
        left_resources: false,
        inner_calls: Vec::new(),
    }
}

fn kinds(differences: &[Difference]) -> Vec<DriftKind> {
    differences.iter().map(|d| d.kind).collect()
}

#[test]
fn the_same_outcome_has_no_difference() {
    assert_eq!(compare(&reference(), &reference()), []);
}

#[test]
fn a_changed_error_text_names_the_step_and_both_texts() {
    let mut now = reference();
    now.steps[2] = Step::failed(
        Phase::Observe,
        "ec2.amazonaws.com",
        "kms:CreateGrant",
        &denied("is not authorized to perform: kms:CreateGrant"),
    );
    let differences = compare(&reference(), &now);
    assert_eq!(
        differences,
        [Difference {
            kind: DriftKind::ErrorTextChanged,
            phase: Some("observe".into()),
            step: Some("[observe] ec2.amazonaws.com → kms:CreateGrant".into()),
            reference: Some("AccessDeniedException: not authorized".into()),
            observed: Some(
                "AccessDeniedException: is not authorized to perform: kms:CreateGrant".into()
            ),
        }]
    );
}

#[test]
fn a_trap_that_stopped_reproducing_and_a_fix_that_broke_are_named_so() {
    let mut vanished = reference();
    vanished.verdict = Verdict::NotReproduced;
    vanished.steps[2] = Step::succeeded(Phase::Observe, "ec2.amazonaws.com", "kms:CreateGrant");
    let differences = compare(&reference(), &vanished);
    assert_eq!(
        kinds(&differences),
        [DriftKind::TrapVanished, DriftKind::OutcomeChanged]
    );
    assert_eq!(
        differences[0].reference.as_deref(),
        Some("reproduced-and-fixed")
    );
    assert_eq!(differences[0].observed.as_deref(), Some("not-reproduced"));
    assert_eq!(
        differences[1].reference.as_deref(),
        Some("AccessDeniedException: not authorized")
    );
    assert_eq!(differences[1].observed.as_deref(), Some("ok"));

    let mut broke = reference();
    broke.verdict = Verdict::FixFailed;
    assert_eq!(kinds(&compare(&reference(), &broke)), [DriftKind::FixBroke]);

    let mut errored = reference();
    errored.verdict = Verdict::Error;
    errored.error = Some("teardown failed".into());
    let differences = compare(&reference(), &errored);
    assert_eq!(kinds(&differences), [DriftKind::VerdictChanged]);
    assert_eq!(
        differences[0].observed.as_deref(),
        Some("error (teardown failed)")
    );
}

#[test]
fn an_inserted_step_is_new_and_later_steps_still_align() {
    let mut now = reference();
    now.steps.insert(
        1,
        Step::succeeded(Phase::Provision, "admin@c", "kms:CreateAlias"),
    );
    let differences = compare(&reference(), &now);
    assert_eq!(kinds(&differences), [DriftKind::NewStep]);
    assert_eq!(
        differences[0].step.as_deref(),
        Some("[provision] admin@c → kms:CreateAlias")
    );
    assert_eq!(differences[0].reference, None);
    assert_eq!(differences[0].observed.as_deref(), Some("ok"));
}

#[test]
fn a_step_gone_is_missing_and_a_changed_value_is_a_detail() {
    let mut now = reference();
    now.steps.remove(3);
    now.steps[3].detail = json!({"State": "pending"});
    let differences = compare(&reference(), &now);
    assert_eq!(
        kinds(&differences),
        [DriftKind::MissingStep, DriftKind::DetailChanged]
    );
    assert_eq!(
        differences[0].step.as_deref(),
        Some("[fix] admin@c → kms:PutKeyPolicy")
    );
    assert_eq!(differences[0].observed, None);
    assert_eq!(
        differences[1].reference.as_deref(),
        Some(r#"ok {"State":"running"}"#)
    );
    assert_eq!(
        differences[1].observed.as_deref(),
        Some(r#"ok {"State":"pending"}"#)
    );
}

#[test]
fn changed_notes_list_what_went_and_what_came() {
    let mut now = reference();
    now.narrative_notes = vec!["EC2 called kms:CreateGrant: allowed".into()];
    let differences = compare(&reference(), &now);
    assert_eq!(kinds(&differences), [DriftKind::NotesChanged]);
    assert_eq!(
        differences[0].reference.as_deref(),
        Some("EC2 called kms:CreateGrant: denied")
    );
    assert_eq!(
        differences[0].observed.as_deref(),
        Some("EC2 called kms:CreateGrant: allowed")
    );
}

#[test]
fn account_names_are_dropped_for_comparisons_across_backends() {
    let mut report = reference();
    report.steps[0].detail = json!({"Arn": "arn:aws:kms:us-east-1:<account-c>:key/<key-id>"});
    report.narrative_notes = vec!["<account-a> and <account> and <account-b".into()];
    let plain = without_account_names(&report);
    assert_eq!(
        plain.steps[0].detail,
        json!({"Arn": "arn:aws:kms:us-east-1:<account>:key/<key-id>"})
    );
    assert_eq!(
        plain.narrative_notes,
        ["<account> and <account> and <account-b"]
    );
}
