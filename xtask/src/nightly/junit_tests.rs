//! The JUnit file as a CI system reads it: parsed with junit-parser (quick-xml underneath), the
//! counts, statuses and texts checked.

use serde_json::json;
use wana_harness::{BackendKind, BehaviourProfile, Phase, RunReport, Step, StepError, Verdict};

use super::*;
use crate::nightly::{
    drift::{compare, DriftKind},
    results::{NotRun, SnapshotStatus, FORMAT},
};

fn report(trap: &str, profile: BehaviourProfile, verdict: Verdict, expected: Verdict) -> RunReport {
    RunReport {
        trap: trap.into(),
        backend: BackendKind::Emulator,
        profile,
        verdict,
        expected_verdict: Some(expected),
        matches_expectation: verdict == expected,
        error: None,
        steps: vec![
            Step::succeeded(Phase::Provision, "admin@a", "iam:CreateRole"),
            Step::failed(
                Phase::Trigger,
                "admin@a",
                "cloudwatch:SetAlarmState",
                &StepError::new("AccessDenied", "a <b> & \"c\" 'd'\u{1b}[0m"),
            ),
        ],
        narrative_notes: vec!["a note".into()],
        narration: Default::default(),
        left_resources: false,
        inner_calls: Vec::new(),
    }
}

fn entry(report: RunReport, status: SnapshotStatus) -> RunEntry {
    RunEntry {
        report,
        snapshot: Some("x.snap".into()),
        snapshot_status: status,
        new_snapshot: Some("snapshots/x.snap".into()),
        started_at: "2026-01-02T03:04:05Z".into(),
        duration_seconds: 1.5,
    }
}

fn results(runs: Vec<RunEntry>) -> Results {
    Results {
        format: FORMAT,
        backend: BackendKind::Emulator,
        started_at: "2026-01-02T03:04:05Z".into(),
        redaction: "full".into(),
        interrupted: false,
        backend_unavailable: None,
        exit_code: 0,
        runs,
        not_run: Vec::new(),
        drift: Vec::new(),
        disagreements: Vec::new(),
        other_backends: Vec::new(),
    }
}

fn parse(xml: &str) -> junit_parser::TestSuites {
    junit_parser::from_reader(std::io::Cursor::new(xml.as_bytes()))
        .unwrap_or_else(|err| panic!("{err}\n{xml}"))
}

fn case<'a>(
    suites: &'a junit_parser::TestSuites,
    suite: &str,
    class: &str,
    name: &str,
) -> &'a junit_parser::TestCase {
    suites
        .suites
        .iter()
        .find(|s| s.name == suite)
        .unwrap_or_else(|| panic!("suite {suite}"))
        .cases
        .iter()
        .find(|c| c.classname.as_deref() == Some(class) && c.original_name == name)
        .unwrap_or_else(|| panic!("{suite}: {class} {name}"))
}

#[test]
fn one_suite_per_trap_with_a_case_per_phase_and_a_verdict_case() {
    let xml = render(&results(vec![
        entry(
            report(
                "alarm-recover",
                BehaviourProfile::Current,
                Verdict::NotReproduced,
                Verdict::NotReproduced,
            ),
            SnapshotStatus::Unchanged,
        ),
        entry(
            report(
                "alarm-recover",
                BehaviourProfile::Legacy2016,
                Verdict::ReproducedAndFixed,
                Verdict::ReproducedAndFixed,
            ),
            SnapshotStatus::Unchanged,
        ),
        entry(
            report(
                "cmk-start-external-role",
                BehaviourProfile::Current,
                Verdict::FixFailed,
                Verdict::ReproducedAndFixed,
            ),
            SnapshotStatus::Missing,
        ),
    ]));
    let suites = parse(&xml);
    let names: Vec<&str> = suites.suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["alarm-recover", "cmk-start-external-role"]);
    let alarm = &suites.suites[0];
    assert_eq!(
        alarm.tests, 6,
        "provision, trigger, verdict for each profile"
    );
    assert_eq!((alarm.failures, alarm.errors, alarm.skipped), (0, 0, 0));
    assert_eq!(alarm.cases.len(), 6);
    assert!(alarm.cases.iter().all(|c| c.status.is_success()));
    assert!((alarm.time - 3.0).abs() < 1e-9);

    // The failed trigger step is the trap, not a test failure; its text is in the output.
    let trigger = case(
        &suites,
        "alarm-recover",
        "alarm-recover (legacy-2016)",
        "trigger",
    );
    assert_eq!(
        trigger.system_out.as_deref(),
        Some("[trigger] admin@a → cloudwatch:SetAlarmState: AccessDenied: a <b> & \"c\" 'd'[0m\n")
    );

    let verdict = case(
        &suites,
        "cmk-start-external-role",
        "cmk-start-external-role (current)",
        "verdict",
    );
    assert!(verdict.status.is_failure());
    let failure = verdict.status.failure_as_ref();
    assert_eq!(failure.failure_type, "verdict");
    assert_eq!(
        failure.message,
        "verdict fix-failed, expected reproduced-and-fixed; last failed step \
         [trigger] admin@a → cloudwatch:SetAlarmState: AccessDenied: a <b> & \"c\" 'd'[0m"
    );
    assert_eq!((suites.tests, suites.failures), (9, 1));
}

#[test]
fn drift_fails_the_phase_with_the_steps_code_and_message() {
    let accepted = report(
        "cmk-start-external-role",
        BehaviourProfile::Current,
        Verdict::ReproducedAndFixed,
        Verdict::ReproducedAndFixed,
    );
    let mut now = accepted.clone();
    now.steps[1] = Step::failed(
        Phase::Trigger,
        "admin@a",
        "cloudwatch:SetAlarmState",
        &StepError::new("AccessDeniedException", "User is not authorized"),
    );
    let mut results = results(vec![entry(now.clone(), SnapshotStatus::Drifted)]);
    results.drift.push(Comparison {
        trap: now.trap.clone(),
        profile: "current".into(),
        reference: "cmk-start-external-role@emulator.snap".into(),
        observed: "emulator".into(),
        differences: compare(&accepted, &now),
    });
    let suites = parse(&render(&results));
    let trigger = case(
        &suites,
        "cmk-start-external-role",
        "cmk-start-external-role (current)",
        "trigger",
    );
    let failure = trigger.status.failure_as_ref();
    assert_eq!(failure.failure_type, DriftKind::ErrorTextChanged.name());
    assert_eq!(
        failure.message,
        "error text changed at [trigger] admin@a → cloudwatch:SetAlarmState: accepted \
         AccessDenied: a <b> & \"c\" 'd'[0m; now AccessDeniedException: User is not authorized"
    );
    assert!(
        failure
            .text
            .starts_with("against cmk-start-external-role@emulator.snap:\n"),
        "{}",
        failure.text
    );
    assert!(case(
        &suites,
        "cmk-start-external-role",
        "cmk-start-external-role (current)",
        "provision"
    )
    .status
    .is_success());
    assert!(case(
        &suites,
        "cmk-start-external-role",
        "cmk-start-external-role (current)",
        "verdict"
    )
    .status
    .is_success());
    assert_eq!(suites.failures, 1);
}

#[test]
fn a_broken_run_is_an_error_where_it_broke_and_unsupported_as_expected_is_skipped() {
    let mut broken = report(
        "cross-account-ami-asg",
        BehaviourProfile::Current,
        Verdict::Error,
        Verdict::ReproducedAndFixed,
    );
    broken.error = Some("provisioning failed".into());
    broken.steps.push(Step::failed(
        Phase::Teardown,
        "admin@b",
        "iam:DeleteRole",
        &StepError::new("DeleteConflict", "Cannot delete entity"),
    ));
    let mut unsupported = report(
        "alarm-recover",
        BehaviourProfile::Current,
        Verdict::Unsupported,
        Verdict::Unsupported,
    );
    unsupported.error = Some("localstack cannot run it".into());
    let mut results = results(vec![
        entry(broken, SnapshotStatus::Missing),
        entry(unsupported, SnapshotStatus::Missing),
    ]);
    results.not_run.push(NotRun {
        trap: "instance-profile-ssm".into(),
        profile: "current".into(),
        reason: "not started: the nightly run was interrupted".into(),
    });
    let suites = parse(&render(&results));
    let teardown = case(
        &suites,
        "cross-account-ami-asg",
        "cross-account-ami-asg (current)",
        "teardown",
    );
    assert!(teardown.status.is_error());
    let error = teardown.status.error_as_ref();
    assert_eq!(error.error_type, "DeleteConflict");
    assert_eq!(
        error.message,
        "[teardown] admin@b → iam:DeleteRole: DeleteConflict: Cannot delete entity"
    );
    let verdict = case(
        &suites,
        "cross-account-ami-asg",
        "cross-account-ami-asg (current)",
        "verdict",
    );
    assert_eq!(
        verdict.status.error_as_ref().message,
        "the run broke: provisioning failed"
    );
    let skipped = case(
        &suites,
        "alarm-recover",
        "alarm-recover (current)",
        "verdict",
    );
    assert_eq!(
        skipped.status.skipped_as_ref().message,
        "localstack cannot run it"
    );
    let interrupted = case(
        &suites,
        "instance-profile-ssm",
        "instance-profile-ssm (current)",
        "verdict",
    );
    assert!(interrupted.status.is_skipped());
    assert_eq!((suites.errors, suites.skipped), (2, 2));
}

#[test]
fn unavailable_backends_make_each_planned_run_an_error() {
    let mut results = results(Vec::new());
    results.backend = BackendKind::Sandbox;
    results.backend_unavailable = Some("no profile a".into());
    results.not_run.push(NotRun {
        trap: "alarm-recover".into(),
        profile: "current".into(),
        reason: "the sandbox backend is unavailable: no profile a".into(),
    });
    let xml = render(&results);
    let suites = parse(&xml);
    assert_eq!(suites.name, "wana nightly on sandbox");
    let verdict = case(
        &suites,
        "alarm-recover",
        "alarm-recover (current)",
        "verdict",
    );
    assert_eq!(
        verdict.status.error_as_ref().error_type,
        "backend-unavailable"
    );
    assert!(
        xml.contains("<property name=\"backend\" value=\"sandbox\"/>"),
        "{xml}"
    );
    let _ = json!(null);
}

#[test]
fn texts_come_back_verbatim_even_with_cdata_ends_and_control_characters() {
    let mut run = report(
        "alarm-recover",
        BehaviourProfile::Current,
        Verdict::NotReproduced,
        Verdict::NotReproduced,
    );
    run.steps[0] = Step::failed(
        Phase::Provision,
        "admin@a",
        "aws s3 cp",
        &StepError::new("CliError", "x]]>y <z/> \u{7}bell & done"),
    );
    let suites = parse(&render(&results(vec![entry(
        run,
        SnapshotStatus::Unchanged,
    )])));
    let provision = case(
        &suites,
        "alarm-recover",
        "alarm-recover (current)",
        "provision",
    );
    assert_eq!(
        provision.system_out.as_deref(),
        Some("[provision] admin@a → aws s3 cp: CliError: x]]>y <z/> bell & done\n")
    );
}
