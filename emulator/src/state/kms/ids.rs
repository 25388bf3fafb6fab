//! Key ids and the per-run counters and digests that key ids, grant ids and tokens derive from.

use sha2::{Digest, Sha256};

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
