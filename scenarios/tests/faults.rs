//! Every trap under the `standard` fault profile (throttling and 500s on every service, added
//! latency, IAM, role and grant propagation windows) concludes what it concludes without
//! faults: the SDK's retries and the scenarios' waiters carry the runs through, as they must on
//! AWS, and no injected fault reaches a step.

use rstest::rstest;
use wana_harness::{run_scenario, run_scenario_on, Backend, BackendKind, BehaviourProfile, FaultProfile};

/// The codes of injected faults (`wana_emulator::faults`): none may surface in a step.
const FAULT_CODES: [&str; 10] = [
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "SlowDown",
    "TooManyRequestsException",
    "InternalError",
    "InternalFailure",
    "KMSInternalException",
    "ServiceFailure",
    "InternalServerError",
];

#[rstest]
#[case::alarm_recover("alarm-recover")]
#[case::cross_account_ami_asg("cross-account-ami-asg")]
#[case::cmk_start_external_role("cmk-start-external-role")]
#[case::runcommand_shadow_credentials("runcommand-shadow-credentials")]
#[case::instance_profile_ssm("instance-profile-ssm")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verdict_is_the_same_under_the_standard_fault_profile(#[case] trap: &str) {
    let scenario = wana_scenarios::find(trap).and_then(|t| t.scenario).expect("a runnable trap");
    let plain = run_scenario(scenario, BackendKind::Emulator, BehaviourProfile::Current).await;
    assert!(plain.matches_expectation, "{plain:#?}");

    let backend = Backend::start_emulator_faulted(BehaviourProfile::Current, FaultProfile::standard())
        .await
        .expect("the emulator starts");
    let inspector = backend.emulator().expect("an emulator backend").inspector();
    let faulted = run_scenario_on(scenario, backend).await;
    assert_eq!(faulted.verdict, plain.verdict, "{:?}\n{:#?}", faulted.error, faulted.steps);
    assert!(faulted.matches_expectation);
    assert!(inspector.faults_injected() >= 3, "only {} faults injected", inspector.faults_injected());
    let surfaced: Vec<_> = faulted
        .steps
        .iter()
        .filter(|step| step.error_code.as_deref().is_some_and(|code| FAULT_CODES.contains(&code)))
        .map(|step| (&step.call, &step.error_code))
        .collect();
    assert!(surfaced.is_empty(), "faults reached the scenario: {surfaced:?}");
}
