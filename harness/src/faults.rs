//! Runs under injected faults.
//!
//! The emulator can throttle, fail with 500s and delay requests, and open AWS's propagation
//! windows (`wana_emulator::faults`). Scenarios meet those the way they meet AWS: the SDK retries
//! transient errors (standard retry mode, [`crate::retry::retry_config`]), and the scenarios' waiters poll
//! through propagation windows on the emulator clock (`crate::wait`).

use wana_emulator::{EmulatorConfig, FaultProfile};

use crate::{run_scenario_on, Backend, BackendKind, BehaviourProfile, RunReport, Scenario, Verdict};

impl Backend {
    /// Starts wana's emulator with AWS's defaults and `faults` injected.
    pub async fn start_emulator_faulted(profile: BehaviourProfile, faults: FaultProfile) -> Result<Backend, crate::HarnessError> {
        Backend::start_emulator_with(EmulatorConfig { profile, faults, ..EmulatorConfig::default() }).await
    }
}

/// Runs `scenario` once on an emulator with `faults` injected (`repro --faults`), with the
/// guarantees of [`crate::run_scenario`]; a backend that does not start makes an `error` run.
pub async fn run_scenario_with_faults(scenario: &dyn Scenario, profile: BehaviourProfile, faults: FaultProfile) -> RunReport {
    match Backend::start_emulator_faulted(profile, faults).await {
        Ok(backend) => run_scenario_on(scenario, backend).await,
        Err(err) => {
            let mut report = crate::scenario::unstarted_report(scenario, BackendKind::Emulator, profile);
            report.matches_expectation = report.expected_verdict == Some(Verdict::Error);
            report.error = Some(err.to_string());
            report
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_sts::config::retry::RetryConfig;

    use super::*;
    use crate::Principal;

    /// The SDK meets the throttling (every second request of the key) and goes through on retry.
    #[tokio::test]
    async fn the_sdk_retries_throttling_and_500s_and_succeeds() {
        let faults: FaultProfile = "throttle=1/2,error=1/3".parse().unwrap();
        let backend = Backend::start_emulator_faulted(BehaviourProfile::Current, faults).await.unwrap();
        let admin = Principal::account_admin(&backend, "a").unwrap();
        for _ in 0..4 {
            let identity = admin.sts().get_caller_identity().send().await.expect("retried through the faults");
            assert_eq!(identity.account(), Some(admin.account.as_str()));
        }
        let injected = backend.emulator().unwrap().faults_injected();
        assert!(injected >= 4, "{injected} faults injected");

        // Without retries the same fault reaches the caller, as AWS's throttling does.
        let once = admin.config.to_builder().retry_config(RetryConfig::standard().with_max_attempts(1)).build();
        let mut codes = Vec::new();
        for _ in 0..3 {
            if let Err(err) = aws_sdk_sts::Client::new(&once).get_caller_identity().send().await {
                codes.push(aws_sdk_sts::error::ProvideErrorMetadata::code(&err).map(str::to_string));
            }
        }
        assert!(codes.contains(&Some("Throttling".to_string())), "{codes:?}");
    }
}
