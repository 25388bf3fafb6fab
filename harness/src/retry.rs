//! The retry policy of every principal's SDK client (standard mode, more attempts, a short first
//! backoff on loopback), so that faults the emulator injects are retried as AWS's tools retry
//! them (`crate::faults`).

use std::time::Duration;

use aws_sdk_sts::config::retry::RetryConfig;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
