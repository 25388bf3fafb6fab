//! What kind of backend a run talks to, and the accounts it offers, below the started
//! [`crate::Backend`] so that the modules that start one (`endpoint`, `sandbox`) can name them.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendKind {
    /// wana's own emulator, started in-process on a free loopback port.
    Emulator,
    /// LocalStack (through testcontainers or an endpoint that already runs).
    Localstack,
    /// Real AWS accounts behind guard rails.
    Sandbox,
    /// moto's server, at an endpoint given or started from its venv (`cargo xtask moto
    /// install`).
    Moto,
    /// Any other endpoint (`--endpoint URL`): an emulator wana does not know.
    Endpoint,
}

impl BackendKind {
    pub const ALL: [BackendKind; 5] = [
        BackendKind::Emulator,
        BackendKind::Localstack,
        BackendKind::Sandbox,
        BackendKind::Moto,
        BackendKind::Endpoint,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Emulator => "emulator",
            BackendKind::Localstack => "localstack",
            BackendKind::Sandbox => "sandbox",
            BackendKind::Moto => "moto",
            BackendKind::Endpoint => "endpoint",
        }
    }

    /// Someone else's emulator at a URL (LocalStack, moto, any other).
    pub fn is_endpoint(self) -> bool {
        matches!(self, BackendKind::Localstack | BackendKind::Moto | BackendKind::Endpoint)
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown backend {0:?} (expected emulator, localstack, sandbox, moto or endpoint)")]
pub struct UnknownBackend(String);

impl FromStr for BackendKind {
    type Err = UnknownBackend;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BackendKind::ALL
            .into_iter()
            .find(|kind| kind.name() == s)
            .ok_or_else(|| UnknownBackend(s.to_string()))
    }
}

/// An account a run may act in, with the long-term credentials of its administrator.
#[derive(Clone, PartialEq, Eq)]
pub struct BackendAccount {
    /// Short name scenarios use (`a`, `b`, `c`).
    pub name: String,
    /// 12-digit account id.
    pub id: String,
    pub admin_user: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

// Hand-written so that `{:?}` in a log line or a panic message never prints the secret.
impl fmt::Debug for BackendAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendAccount")
            .field("name", &self.name)
            .field("id", &self.id)
            .field("admin_user", &self.admin_user)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .finish()
    }
}

impl From<&wana_emulator::AccountInfo> for BackendAccount {
    fn from(info: &wana_emulator::AccountInfo) -> Self {
        BackendAccount {
            name: info.name.to_string(),
            id: info.id.to_string(),
            admin_user: info.admin_user.to_string(),
            access_key_id: info.access_key_id.to_string(),
            secret_access_key: info.secret_access_key.to_string(),
        }
    }
}
