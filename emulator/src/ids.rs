//! Deterministic identifiers.
//!
//! Every id the emulator hands out comes from a per-run counter, so the same scenario produces
//! the same ids on every run and snapshots stay byte-identical. The formats follow AWS: a
//! four-letter prefix that says what the id is (`AKIA` long-term key, `ASIA` temporary key,
//! `AIDA` user, `AROA` role, `AIPA` instance profile, `ANPA` managed policy) and upper-case
//! base-32 characters after it.

use std::collections::HashMap;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

#[derive(Debug, Default)]
pub struct IdGenerator {
    counters: HashMap<&'static str, u64>,
}

impl IdGenerator {
    fn next(&mut self, kind: &'static str) -> u64 {
        let counter = self.counters.entry(kind).or_insert(0);
        *counter += 1;
        *counter
    }

    /// `prefix` followed by `width` base-32 characters that encode the counter of `prefix`.
    pub fn prefixed(&mut self, prefix: &'static str, width: usize) -> String {
        let n = self.next(prefix);
        let mut out = String::with_capacity(prefix.len() + width);
        out.push_str(prefix);
        out.push_str("WANA");
        out.push_str(&base32_fixed(n, width.saturating_sub(4)));
        out
    }

    /// A 20-character access key id (`AKIA…` or `ASIA…`).
    pub fn access_key_id(&mut self, prefix: &'static str) -> String {
        self.prefixed(prefix, 16)
    }

    /// A 21-character unique id (`AIDA…`, `AROA…`, `AIPA…`, `ANPA…`).
    pub fn unique_id(&mut self, prefix: &'static str) -> String {
        self.prefixed(prefix, 17)
    }

    /// A 40-character secret access key. Derived from the counter so runs repeat, and never
    /// shown anywhere but the response that creates it.
    pub fn secret_access_key(&mut self) -> String {
        let n = self.next("secret");
        format!("wanaSecret{}", base32_fixed(n.wrapping_mul(0x9E37_79B9_7F4A_7C15), 30))
    }

    /// A session token for temporary credentials.
    pub fn session_token(&mut self) -> String {
        let n = self.next("token");
        format!("IQoJwanaSessionToken{}", base32_fixed(n.wrapping_mul(0xD6E8_FEB8_6659_FD93), 60))
    }

    /// An IMDSv2 session token (56 characters, as AWS's are).
    pub fn metadata_token(&mut self) -> String {
        let n = self.next("imds-token");
        format!("AQAEAwana{}", base32_fixed(n.wrapping_mul(0xA076_1D64_78BD_642F), 47))
    }

    /// A request id in the UUID shape AWS uses.
    pub fn request_id(&mut self) -> String {
        let n = self.next("request");
        format!("00000000-0000-4000-8000-{n:012x}")
    }

    /// `width` lower-case characters that encode the counter of `kind` behind `wana`, for ids
    /// written in lower-case letters and digits (AWS Organizations' `o-…`, `r-…`, `ou-…-…`,
    /// `p-…`).
    pub fn lower_suffix(&mut self, kind: &'static str, width: usize) -> String {
        let n = self.next(kind);
        let digits = width.saturating_sub(4);
        format!("wana{n:0digits$x}")
    }

    /// A lower-case hexadecimal resource id such as `i-0123456789abcdef0`.
    pub fn hex_id(&mut self, prefix: &'static str) -> String {
        let n = self.next(prefix);
        format!("{prefix}-{n:017x}")
    }
}

fn base32_fixed(mut n: u64, width: usize) -> String {
    let mut chars = vec![b'A'; width];
    for slot in chars.iter_mut().rev() {
        *slot = BASE32[(n % 32) as usize];
        n /= 32;
    }
    String::from_utf8(chars).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_aws_lengths_and_prefixes() {
        let mut ids = IdGenerator::default();
        let key = ids.access_key_id("AKIA");
        assert_eq!(key.len(), 20);
        assert!(key.starts_with("AKIA"));
        let user = ids.unique_id("AIDA");
        assert_eq!(user.len(), 21);
        assert_eq!(ids.secret_access_key().len(), 40);
    }

    #[test]
    fn ids_repeat_across_runs_and_differ_within_one() {
        let mut first = IdGenerator::default();
        let mut second = IdGenerator::default();
        let a1 = first.access_key_id("AKIA");
        let a2 = first.access_key_id("AKIA");
        assert_ne!(a1, a2);
        assert_eq!(a1, second.access_key_id("AKIA"));
    }
}
