//! Runs under injected faults, and the retry policy every principal's SDK client uses.
//!
//! The emulator can throttle, fail with 500s and delay requests, and open AWS's propagation
//! windows (`wana_emulator::faults`). Scenarios meet those the way they meet AWS: the SDK retries
//! transient errors (standard retry mode, [`retry_config`]), and the scenarios' waiters poll
//! through propagation windows on the emulator clock (`crate::wait`).

use std::time::Duration;

use aws_sdk_sts::config::retry::RetryConfig;
use wana_emulator::{EmulatorConfig, FaultProfile};

use crate::{run_scenario_on, Backend, BackendKind, BehaviourProfile, RunReport, Scenario, Verdict};

/// Attempts per call, the first included. The SDKs' standard mode makes 3; 5 leaves room for
/// two faults in a row on one call (the most the `standard` fault profile gives one access
/// key: three consecutive counts hold at most one multiple of each of its ratios' periods) plus
/// a throttle from a concurrent run sharing the token bucket, and stays within what AWS's own
/// tools use (the AWS CLI's legacy mode makes 5, Terraform up to 25).
pub const MAX_ATTEMPTS: u32 = 5;

/// The first retry's backoff bound against an emulator on this machine. The emulator's
/// throttling counts requests, not time, so waiting AWS's 1 s would only make the run slower;
/// the backoff stays exponential with jitter, as standard mode computes it.
pub const LOOPBACK_INITIAL_BACKOFF: Duration = Duration::from_millis(20);

/// The retry policy of a principal's SDK config: standard mode, [`MAX_ATTEMPTS`]; against a
/// loopback endpoint (the emulator, LocalStack, moto) the first backoff is
/// [`LOOPBACK_INITIAL_BACKOFF`], elsewhere the SDK's own.
pub fn retry_config(endpoint_url: Option<&str>) -> RetryConfig {
    let standard = RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS);
    if endpoint_url.is_some_and(is_loopback) {
        standard.with_initial_backoff(LOOPBACK_INITIAL_BACKOFF)
    } else {
        standard
    }
}

fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.starts_with("127.") || rest.starts_with("localhost") || rest.starts_with("[::1]")
}

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
    use super::*;
    use crate::Principal;

    #[test]
    fn loopback_endpoints_retry_sooner_and_every_endpoint_retries_five_times() {
        let emulator = retry_config(Some("http://127.0.0.1:4599"));
        assert_eq!(emulator.max_attempts(), MAX_ATTEMPTS);
        assert_eq!(emulator.initial_backoff(), LOOPBACK_INITIAL_BACKOFF);
        assert_eq!(emulator.mode(), aws_sdk_sts::config::retry::RetryMode::Standard);
        let aws = retry_config(None);
        assert_eq!(aws.max_attempts(), MAX_ATTEMPTS);
        assert_eq!(aws.initial_backoff(), RetryConfig::standard().initial_backoff());
    }

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
