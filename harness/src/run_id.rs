//! A run's id and what it knows about itself: the run id in resource names and tags, its trap
//! and expiry. Below the run context (`scenario`) and the resources' helpers (`resources`),
//! which both use it.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::sandbox::ledger::Ledger;

/// The run that created a resource.
pub const RUN_ID_TAG: &str = "wana:run-id";
/// The trap whose run created it.
pub const TRAP_TAG: &str = "wana:trap";
/// After this time (RFC 3339, UTC) the resource is a leftover whatever its run's state.
pub const EXPIRES_AT_TAG: &str = "wana:expires-at";

/// How long a run's resources are kept at most when its trap does not say otherwise.
pub const DEFAULT_EXPIRY: Duration = Duration::from_secs(6 * 3600);

/// What a run knows about itself besides its id.
#[derive(Debug, Clone)]
pub struct RunMeta {
    pub trap: String,
    pub expires_at: DateTime<Utc>,
    pub(crate) ledger: Option<Ledger>,
}

impl RunMeta {
    pub(crate) fn new(run_id: &str) -> RunMeta {
        RunMeta {
            trap: run_id.strip_prefix("wana-").unwrap_or(run_id).to_string(),
            expires_at: Utc::now() + chrono::Duration::from_std(DEFAULT_EXPIRY).unwrap_or_default(),
            ledger: None,
        }
    }
}

/// A new run id for `trap` on a shared backend: `wana-<trap>-<when><salt>`, where `when` is the
/// start second in base 36 (six characters) and `salt` two more; lowercase, so that it fits S3
/// bucket names. [`run_started`] reads the start back.
pub fn new_run_id(trap: &str) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let salt = (now.subsec_nanos() ^ std::process::id().rotate_left(7)) % (36 * 36);
    format!("wana-{trap}-{}{}", base36(now.as_secs(), 6), base36(u64::from(salt), 2))
}

/// When the run `run_id` started, for ids made by [`new_run_id`].
pub fn run_started(run_id: &str) -> Option<DateTime<Utc>> {
    let suffix = run_id.rsplit('-').next()?;
    if suffix.len() != 8 {
        return None;
    }
    let secs = u64::from_str_radix(&suffix[..6], 36).ok()?;
    DateTime::from_timestamp(i64::try_from(secs).ok()?, 0)
}

/// The run id at the start of a resource name (`wana-<trap>-<8 characters>`, then the end or
/// `-`), for one of `traps`. An `alias/` prefix (KMS) is skipped.
pub fn run_id_in_name(name: &str, traps: &[&str]) -> Option<String> {
    let name = name.strip_prefix("alias/").unwrap_or(name);
    traps.iter().find_map(|trap| {
        let rest = name.strip_prefix("wana-")?.strip_prefix(*trap)?.strip_prefix('-')?;
        let suffix = rest.get(..8)?;
        let ends = rest.len() == 8 || rest[8..].starts_with('-');
        let valid = suffix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        (ends && valid).then(|| format!("wana-{trap}-{suffix}"))
    })
}

fn base36(mut value: u64, width: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut digits = vec![b'0'; width];
    for slot in digits.iter_mut().rev() {
        *slot = DIGITS[(value % 36) as usize];
        value /= 36;
    }
    String::from_utf8(digits).unwrap_or_default()
}
