//! Fault injection: what a `FaultProfile` (`throttle=1/5,error=1/7,latency=20ms,...`) makes the
//! emulator do to requests that arrive over HTTP, so that clients' retries and scenarios'
//! waiters are exercised the way AWS exercises them.
//!
//! - **Throttling and 500s** are decided per access key by counters (the `n`th request signed
//!   with a key is faulted when the ratio says so, spread evenly), so that the same run meets
//!   the same faults whatever other clients do meanwhile. They are answered after the request
//!   authenticated and before it is decoded or handled: a faulted request changes nothing, and
//!   a request that fails authentication gets its authentication error, never a fault. Inner
//!   calls (EC2 → KMS, the SSM Agent) and instance metadata never pass here.
//! - **Latency** is wall time added before each HTTP request is answered, outside the world's
//!   lock (`connection.rs`).
//! - **Propagation windows** (IAM identity policies, new roles, KMS grants) are emulator time
//!   and live in the state (`state/propagation.rs`); this module only parses them.
//!
//! Error codes, statuses and messages, per service (the envelope is each protocol's own,
//! through `protocol::encode_error`):
//!
//! | service | throttled | internal error |
//! |---|---|---|
//! | EC2 | `RequestLimitExceeded` 503 "Request limit exceeded." | `InternalError` 500 "An internal error has occurred" |
//! | S3 | `SlowDown` 503 "Please reduce your request rate." | `InternalError` 500 "We encountered an internal error. Please try again." |
//! | KMS, SSM | `ThrottlingException` 400 "Rate exceeded" | KMS `KMSInternalException` 500; SSM `InternalServerError` 500 |
//! | Organizations | `TooManyRequestsException` 400 | `ServiceException` 500 |
//! | IAM | `Throttling` 400 "Rate exceeded" | `ServiceFailure` 500 |
//! | STS, CloudWatch, CloudFormation, Auto Scaling | `Throttling` 400 "Rate exceeded" | `InternalFailure` 500 |
//!
//! Sources: EC2's API reference ("Request throttling for the Amazon EC2 API": the
//! `RequestLimitExceeded` code; its 503 status from EC2's error-code list); S3's "Error responses"
//! list and "Amazon S3 error best practices" (`SlowDown` 503, `InternalError` 500 and their
//! texts); the AWS knowledge-center article on KMS `ThrottlingException` ("Status Code: 400;
//! Error Code: ThrottlingException"); botocore's models name `KMSInternalException`, IAM's
//! `ServiceFailure` (500), SSM's `InternalServerError` and Organizations'
//! `TooManyRequestsException` and `ServiceException`. The query services' `Throttling` 400 "Rate
//! exceeded" is what their clients report (the code is in every SDK's list of throttling
//! codes). Chosen, not confirmed: the exact message texts other than S3's and EC2's, SSM's
//! throttling status, and `InternalFailure` as the 500 of STS, CloudWatch, CloudFormation and
//! Auto Scaling (the AWS common errors list).

use std::{collections::HashMap, fmt, str::FromStr, sync::Mutex, time::Duration};

use crate::{error::AwsError, protocol::ServiceId};

/// `n` faults in every `of` requests (`1/5`), spread evenly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    pub n: u32,
    pub of: u32,
}

impl Ratio {
    /// Whether the `count`th request (from 1) is one of the `n` in each `of`.
    pub fn hits(self, count: u64) -> bool {
        if self.n == 0 || self.of == 0 || count == 0 {
            return false;
        }
        let (n, of) = (u64::from(self.n), u64::from(self.of));
        (count * n) / of != ((count - 1) * n) / of
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.n, self.of)
    }
}

/// Which faults the emulator injects; the default injects none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultProfile {
    /// Requests answered with the service's throttling error.
    pub throttle: Option<Ratio>,
    /// Requests answered with the service's internal error (500).
    pub error: Option<Ratio>,
    /// Wall time added before every HTTP request is answered.
    pub latency: Duration,
    /// How long an identity-policy change of a user or role takes to apply (emulator time).
    pub iam_propagation: Duration,
    /// How long a new KMS grant is unusable without its grant token (emulator time).
    pub grant_propagation: Duration,
    /// How long a new role cannot be assumed (emulator time).
    pub role_propagation: Duration,
}

impl FaultProfile {
    /// The profile `standard` names: every trap's verdict must stay the same under it (tested in
    /// `scenarios/tests/faults.rs`). Rates far above AWS's, so that every run meets throttling
    /// and 500s on every service it uses, yet never more than two faults in a row for one key
    /// (three consecutive counts hold at most one multiple of 6 and one of 11), which the SDKs'
    /// retries absorb. Windows of a
    /// few seconds, as AWS's eventual consistency usually takes; latency small enough that a
    /// trap's few hundred requests add about a second.
    pub const STANDARD: &'static str =
        "throttle=1/6,error=1/11,latency=3ms,iam-propagation=5s,grant-propagation=5s,role-propagation=10s";

    pub fn standard() -> FaultProfile {
        FaultProfile::STANDARD.parse().unwrap_or_default()
    }

    pub fn is_none(&self) -> bool {
        *self == FaultProfile::default()
    }

    /// The fault, if any, for the `count`th authenticated request of a key (from 1). Throttling
    /// is checked first.
    pub fn fault_for(&self, count: u64) -> Option<FaultKind> {
        if self.throttle.is_some_and(|r| r.hits(count)) {
            return Some(FaultKind::Throttle);
        }
        if self.error.is_some_and(|r| r.hits(count)) {
            return Some(FaultKind::InternalError);
        }
        None
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultParseError {
    #[error("unknown fault {0:?} (expected throttle, error, latency, iam-propagation, grant-propagation, role-propagation, or the profile `standard` or `none`)")]
    UnknownKey(String),
    #[error("{0:?} is not key=value")]
    NotKeyValue(String),
    #[error("{key}: {value:?} is not a ratio n/m with 0 <= n <= m and m > 0 (e.g. 1/5)")]
    BadRatio { key: String, value: String },
    #[error("{key}: {value:?} is not a duration (e.g. 20ms, 10s, 2m)")]
    BadDuration { key: String, value: String },
}

impl FromStr for FaultProfile {
    type Err = FaultParseError;

    /// `standard`, `none`, or comma-separated `key=value`s; `standard,latency=0ms` starts from
    /// the standard profile and overrides one value.
    fn from_str(text: &str) -> Result<FaultProfile, FaultParseError> {
        let mut profile = FaultProfile::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "standard" => profile = FaultProfile::STANDARD.parse()?,
                "none" => profile = FaultProfile::default(),
                _ => {
                    let (key, value) = part.split_once('=').ok_or_else(|| FaultParseError::NotKeyValue(part.to_string()))?;
                    let (key, value) = (key.trim(), value.trim());
                    match key {
                        "throttle" => profile.throttle = Some(ratio(key, value)?),
                        "error" => profile.error = Some(ratio(key, value)?),
                        "latency" => profile.latency = duration(key, value)?,
                        "iam-propagation" => profile.iam_propagation = duration(key, value)?,
                        "grant-propagation" => profile.grant_propagation = duration(key, value)?,
                        "role-propagation" => profile.role_propagation = duration(key, value)?,
                        other => return Err(FaultParseError::UnknownKey(other.to_string())),
                    }
                }
            }
        }
        Ok(profile)
    }
}

impl fmt::Display for FaultProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_none() {
            return f.write_str("none");
        }
        let mut parts = Vec::new();
        if let Some(r) = self.throttle {
            parts.push(format!("throttle={r}"));
        }
        if let Some(r) = self.error {
            parts.push(format!("error={r}"));
        }
        for (key, value) in [
            ("latency", self.latency),
            ("iam-propagation", self.iam_propagation),
            ("grant-propagation", self.grant_propagation),
            ("role-propagation", self.role_propagation),
        ] {
            if !value.is_zero() {
                parts.push(format!("{key}={}ms", value.as_millis()));
            }
        }
        f.write_str(&parts.join(","))
    }
}

fn ratio(key: &str, value: &str) -> Result<Ratio, FaultParseError> {
    let bad = || FaultParseError::BadRatio { key: key.to_string(), value: value.to_string() };
    let (n, of) = value.split_once('/').ok_or_else(bad)?;
    let (n, of): (u32, u32) = (n.trim().parse().map_err(|_| bad())?, of.trim().parse().map_err(|_| bad())?);
    if of == 0 || n > of {
        return Err(bad());
    }
    Ok(Ratio { n, of })
}

fn duration(key: &str, value: &str) -> Result<Duration, FaultParseError> {
    let bad = || FaultParseError::BadDuration { key: key.to_string(), value: value.to_string() };
    let split = value.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = value.split_at(split);
    let number: u64 = number.parse().map_err(|_| bad())?;
    match unit {
        "ms" => Ok(Duration::from_millis(number)),
        "s" => Ok(Duration::from_secs(number)),
        "m" => Ok(Duration::from_secs(number.saturating_mul(60))),
        _ => Err(bad()),
    }
}

/// What a faulted request is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    Throttle,
    InternalError,
}

/// The error `service` answers for `kind` (see the module's table).
pub fn fault_error(service: ServiceId, kind: FaultKind) -> AwsError {
    match (kind, service) {
        (FaultKind::Throttle, ServiceId::Ec2) => AwsError::new("RequestLimitExceeded", 503, "Request limit exceeded."),
        (FaultKind::Throttle, ServiceId::S3) => AwsError::new("SlowDown", 503, "Please reduce your request rate."),
        (FaultKind::Throttle, ServiceId::Kms | ServiceId::Ssm) => AwsError::new("ThrottlingException", 400, "Rate exceeded"),
        (FaultKind::Throttle, ServiceId::Organizations) => AwsError::new(
            "TooManyRequestsException",
            400,
            "You have sent too many requests in too short a period of time. The quota helps protect against denial-of-service attacks. Try again later.",
        ),
        (
            FaultKind::Throttle,
            ServiceId::Iam | ServiceId::Sts | ServiceId::CloudWatch | ServiceId::CloudFormation | ServiceId::AutoScaling,
        ) => AwsError::new("Throttling", 400, "Rate exceeded"),
        (FaultKind::InternalError, ServiceId::Ec2) => AwsError::new("InternalError", 500, "An internal error has occurred"),
        (FaultKind::InternalError, ServiceId::S3) => {
            AwsError::new("InternalError", 500, "We encountered an internal error. Please try again.")
        }
        (FaultKind::InternalError, ServiceId::Kms) => {
            AwsError::new("KMSInternalException", 500, "An internal error occurred. Try again.")
        }
        (FaultKind::InternalError, ServiceId::Iam) => AwsError::new(
            "ServiceFailure",
            500,
            "The request processing has failed because of an unknown error, exception or failure.",
        ),
        (FaultKind::InternalError, ServiceId::Ssm) => {
            AwsError::new("InternalServerError", 500, "An error occurred on the server side.")
        }
        (FaultKind::InternalError, ServiceId::Organizations) => {
            AwsError::new("ServiceException", 500, "AWS Organizations can't complete your request because of an internal service error. Try again later.")
        }
        (
            FaultKind::InternalError,
            ServiceId::Sts | ServiceId::CloudWatch | ServiceId::CloudFormation | ServiceId::AutoScaling,
        ) => AwsError::new("InternalFailure", 500, "The request processing has failed because of an unknown error, exception or failure."),
    }
}

/// The running side of a profile: the per-key counters. One per emulator.
#[derive(Debug, Default)]
pub(crate) struct FaultInjector {
    profile: FaultProfile,
    counts: Mutex<HashMap<String, u64>>,
    faulted: std::sync::atomic::AtomicU64,
}

impl FaultInjector {
    pub fn new(profile: FaultProfile) -> FaultInjector {
        FaultInjector { profile, ..FaultInjector::default() }
    }

    pub fn latency(&self) -> Duration {
        self.profile.latency
    }

    /// Counts one authenticated request signed with `access_key_id` and says whether it is
    /// faulted.
    pub fn next(&self, access_key_id: &str) -> Option<FaultKind> {
        if self.profile.throttle.is_none() && self.profile.error.is_none() {
            return None;
        }
        let count = {
            let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            let count = counts.entry(access_key_id.to_string()).or_insert(0);
            *count += 1;
            *count
        };
        let kind = self.profile.fault_for(count)?;
        self.faulted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(kind)
    }

    /// How many requests were faulted so far.
    pub fn faulted(&self) -> u64 {
        self.faulted.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
#[path = "faults_tests.rs"]
mod tests;
