//! KMS of one account in one region: keys with their key policy, state and grants, and aliases;
//! and the KMS operations on them, decided the way KMS decides.
//!
//! The module holds the state ([`Key`], [`Grant`], [`Alias`], [`State`]) and its scheduled
//! events; the operations live by concern: [`errors`] (KMS's error texts), `addr` (how a
//! request names a key), `access` (authorization: key policy, IAM, grants, key states),
//! `policy` (key policies), `crypto` (key material and the cryptographic operations), `keys`
//! (key lifecycle and aliases), `grants`, `tags`, and `service_use` (AWS managed keys, and services that
//! use keys for a caller).

mod access;
mod addr;
mod arn;
mod crypto;
mod documents;
pub mod errors;
mod grants;
mod ids;
mod keys;
mod managed;
mod policy;
mod service_use;
mod tags;
#[cfg(test)]
mod tests;

use std::{collections::BTreeMap, sync::Arc};

use chrono::{DateTime, Utc};
use wana_policy::NamedPolicy;

pub use access::{authorize_key, with_grant_tokens, KeyUse};
pub use addr::{key, resolve_key_arn};
pub use arn::{alias_arn, key_arn, parse_key_arn, KeyAddr};
pub use crypto::{data_key_length, decrypt, encrypt, generate_data_key, re_encrypt, DataKey};
pub use grants::{create_grant, list_grants, retire_grant, revoke_grant, NewGrant};
pub use keys::{
    cancel_key_deletion, create_alias, create_key, delete_alias, describe_key, list_aliases, list_keys,
    schedule_key_deletion, set_key_enabled, NewKey,
};
pub use documents::{default_key_policy, ebs_managed_key_policy};
pub use policy::{get_key_policy, put_key_policy};
pub use managed::default_ebs_key_arn;
pub use service_use::{use_key_via_service, KeyUseDenied};
pub use tags::{list_resource_tags, tag_resource, untag_resource, MAX_TAGS};

/// An encryption context: ordered, so that its authenticated encoding is canonical.
pub type EncryptionContext = BTreeMap<String, String>;

/// The only key policy name KMS has.
pub const DEFAULT_POLICY_NAME: &str = "default";

/// The operations a grant can allow (`GrantOperation` in the KMS model).
pub const GRANT_OPERATIONS: [&str; 19] = [
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "GetPublicKey",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
    "Encapsulate",
    "Decapsulate",
];

/// The alias of the AWS managed key for EBS.
pub const EBS_ALIAS: &str = "alias/aws/ebs";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Enabled => "Enabled",
            KeyState::Disabled => "Disabled",
            KeyState::PendingDeletion => "PendingDeletion",
        }
    }
}

/// Who manages a key: the customer, or AWS (`alias/aws/...` keys, whose policy nobody edits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyManager {
    Customer,
    Aws,
}

impl KeyManager {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyManager::Customer => "CUSTOMER",
            KeyManager::Aws => "AWS",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Key {
    pub id: String,
    pub arn: String,
    pub account: String,
    pub region: String,
    pub created: DateTime<Utc>,
    pub description: String,
    pub key_usage: String,
    pub key_spec: String,
    pub state: KeyState,
    pub manager: KeyManager,
    /// The key policy as written: KMS returns it as it was put.
    pub policy_text: String,
    /// Shared so that an authorization can hold it while the world changes.
    pub policy: Arc<NamedPolicy>,
    pub deletion_date: Option<DateTime<Utc>>,
    pub pending_window_days: Option<i64>,
    pub tags: Vec<(String, String)>,
    pub grants: Vec<Grant>,
    /// Nonces of this key's encryptions: one per encryption, never reused.
    next_nonce: u64,
}

impl Key {
    pub fn enabled(&self) -> bool {
        self.state == KeyState::Enabled
    }
}

/// A grant's encryption-context constraint: at most one of the two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantConstraints {
    /// The request's context must be exactly this.
    EncryptionContextEquals(EncryptionContext),
    /// The request's context must contain these pairs (and may hold more).
    EncryptionContextSubset(EncryptionContext),
}

impl GrantConstraints {
    pub fn type_name(&self) -> &'static str {
        match self {
            GrantConstraints::EncryptionContextEquals(_) => "EncryptionContextEquals",
            GrantConstraints::EncryptionContextSubset(_) => "EncryptionContextSubset",
        }
    }

    pub fn allows(&self, context: &EncryptionContext) -> bool {
        match self {
            GrantConstraints::EncryptionContextEquals(wanted) => wanted == context,
            GrantConstraints::EncryptionContextSubset(wanted) => {
                wanted.iter().all(|(k, v)| context.get(k) == Some(v))
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Grant {
    pub id: String,
    pub name: Option<String>,
    pub created: DateTime<Utc>,
    /// An IAM ARN or a service principal (`ec2.amazonaws.com`).
    pub grantee: String,
    pub retiring: Option<String>,
    /// The account of the principal that created the grant.
    pub issuing_account: String,
    /// Grant operation names (`Decrypt`, ...), in the order given, without repeats.
    pub operations: Vec<String>,
    pub constraints: Option<GrantConstraints>,
}

impl Grant {
    pub fn allows_operation(&self, operation: &str) -> bool {
        self.operations.iter().any(|o| o == operation)
    }
}

#[derive(Debug, Clone)]
pub struct Alias {
    pub name: String,
    pub arn: String,
    pub target_key_id: String,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

/// Everything KMS holds for one account in one region.
#[derive(Debug, Default, Clone)]
pub struct State {
    /// By key id.
    pub keys: BTreeMap<String, Key>,
    /// By alias name (`alias/...`).
    pub aliases: BTreeMap<String, Alias>,
}

/// Effects KMS performs later, on the emulator clock.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The waiting period of a key scheduled for deletion is over.
    DeleteKey { key_id: String },
}

/// Applies a due event (see [`super::scheduler`]).
pub fn on_event(world: &mut super::World, due: &super::scheduler::Due, event: Event) {
    match event {
        Event::DeleteKey { key_id } => {
            let Some(kms) = world.regional_mut(&due.account, &due.region).map(|r| &mut r.kms) else {
                return;
            };
            // A cancelled deletion leaves the key; a deletion cancelled and scheduled again runs
            // on its own, later event.
            let due_now = kms.keys.get(&key_id).is_some_and(|k| {
                k.state == KeyState::PendingDeletion && k.deletion_date.is_some_and(|d| d <= due.at)
            });
            if due_now {
                kms.keys.remove(&key_id);
                kms.aliases.retain(|_, a| a.target_key_id != key_id);
            }
        }
    }
}
