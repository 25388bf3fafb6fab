//! Key ids and the per-run counters and digests that key ids, grant ids and tokens derive from.

use base64::Engine;
use sha2::{Digest, Sha256};

use super::arn::{parse_key_arn, KeyAddr};
use crate::state::World;

pub(super) fn counter(world: &mut World, kind: &'static str) -> u64 {
    let id = world.ids.hex_id(kind);
    id.rsplit('-').next().and_then(|n| u64::from_str_radix(n, 16).ok()).unwrap_or(0)
}

pub(super) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// A key id in AWS's UUID shape, derived from a per-run counter.
pub(super) fn new_key_id(world: &mut World) -> String {
    let n = counter(world, "kms-key");
    let h = sha256(&[b"wana-kms-key-id", &n.to_be_bytes()]);
    let hex = hex::encode(&h[..16]);
    format!("{}-{}-4{}-8{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

/// A 64-hex-digit grant id.
pub(super) fn new_grant_id(world: &mut World) -> String {
    let n = counter(world, "kms-grant");
    hex::encode(sha256(&[b"wana-kms-grant-id", &n.to_be_bytes()]))
}

const GRANT_TOKEN_PREFIX: &str = "wana-grant-token:";

/// A grant token: unique per CreateGrant call, and naming its grant, so that RetireGrant can
/// find the grant from the token alone.
pub(super) fn new_grant_token(world: &mut World, key_arn: &str, grant_id: &str) -> String {
    let n = counter(world, "kms-grant-token");
    base64::engine::general_purpose::STANDARD.encode(format!("{GRANT_TOKEN_PREFIX}{key_arn}:{grant_id}:{n}"))
}

pub(super) fn parse_grant_token(token: &str) -> Option<(KeyAddr, String)> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(token).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let rest = text.strip_prefix(GRANT_TOKEN_PREFIX)?;
    let mut parts = rest.rsplitn(3, ':');
    let _n = parts.next()?;
    let grant_id = parts.next()?;
    let key_arn = parts.next()?;
    Some((parse_key_arn(key_arn)?, grant_id.to_string()))
}
