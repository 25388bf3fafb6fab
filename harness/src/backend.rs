//! What a run talks to: the embedded emulator, LocalStack, or a real sandbox account.
//!
//! A scenario never asks which backend it runs on; it asks the [`Backend`] for an account and
//! builds principals from it, so the same steps run unchanged everywhere (design.md, Backends).

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use wana_emulator::{BehaviourProfile, Emulator, EmulatorConfig, DEFAULT_ACCOUNTS, DEFAULT_REGION};

use crate::HarnessError;

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

/// A started backend. Owns the emulator (if any): dropping the backend stops it.
pub struct Backend {
    kind: BackendKind,
    profile: BehaviourProfile,
    /// `None` means the SDK's own AWS endpoints (sandbox).
    endpoint_url: Option<String>,
    region: String,
    accounts: Vec<BackendAccount>,
    emulator: Option<Emulator>,
    /// The LocalStack or moto this backend started, if any (stopped with the backend), and what
    /// answers at the endpoint.
    endpoint: Option<crate::endpoint::Attached>,
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backend")
            .field("kind", &self.kind)
            .field("profile", &self.profile)
            .field("endpoint_url", &self.endpoint_url)
            .field("region", &self.region)
            .field("accounts", &self.accounts)
            .finish_non_exhaustive()
    }
}

impl Backend {
    /// Starts (or, later, connects to) a backend of `kind` with AWS behaving as `profile`.
    pub async fn start(
        kind: BackendKind,
        profile: BehaviourProfile,
    ) -> Result<Backend, HarnessError> {
        match kind {
            BackendKind::Emulator => Backend::start_emulator(profile).await,
            BackendKind::Localstack | BackendKind::Moto | BackendKind::Endpoint => {
                Backend::start_endpoint(kind, None, profile).await
            }
            BackendKind::Sandbox => Err(HarnessError::Unsupported(
                "the sandbox backend is not built yet; use --backend emulator".into(),
            )),
        }
    }

    /// Starts wana's emulator in-process on a free loopback port, with AWS's timings: an instance
    /// profile created moments ago is unknown to EC2 for AWS's propagation window
    /// ([`wana_emulator::AWS_INSTANCE_PROFILE_PROPAGATION`], on the emulator clock), so that
    /// scenarios meet it as users do.
    pub async fn start_emulator(profile: BehaviourProfile) -> Result<Backend, HarnessError> {
        Backend::start_emulator_with(EmulatorConfig { profile, ..EmulatorConfig::default() }).await
    }

    /// Starts wana's emulator in-process with `config` (its port is ignored: a free one is
    /// picked). For tests that are not about a timing, e.g. `instance_profile_propagation` zero
    /// for a test that launches with a profile it has just created.
    pub async fn start_emulator_with(config: EmulatorConfig) -> Result<Backend, HarnessError> {
        let profile = config.profile;
        let emulator = Emulator::start(EmulatorConfig { port: 0, ..config }).await?;
        tracing::debug!(endpoint = %emulator.endpoint_url(), %profile, "emulator backend started");
        Ok(Backend {
            kind: BackendKind::Emulator,
            profile,
            endpoint_url: Some(emulator.endpoint_url()),
            region: DEFAULT_REGION.to_string(),
            accounts: DEFAULT_ACCOUNTS.iter().map(BackendAccount::from).collect(),
            emulator: Some(emulator),
            endpoint: None,
        })
    }

    /// Connects to an emulator at a URL (`endpoint`, else `AWS_ENDPOINT_URL`), or for
    /// LocalStack and moto finds or starts one (see `wana-localstack`), and sets up the
    /// accounts as that emulator expects them. The kind of the result is what answers:
    /// `endpoint` resolves to `localstack` or `moto` when it recognises them.
    pub async fn start_endpoint(
        kind: BackendKind,
        endpoint: Option<&str>,
        profile: BehaviourProfile,
    ) -> Result<Backend, HarnessError> {
        let (attached, accounts) = crate::endpoint::attach(kind, endpoint).await?;
        Ok(Backend {
            kind: attached.kind(),
            profile,
            endpoint_url: Some(attached.endpoint_url().to_string()),
            region: DEFAULT_REGION.to_string(),
            accounts,
            emulator: None,
            endpoint: Some(attached),
        })
    }

    /// What answers at an endpoint backend, for people (`LocalStack 2026.3.0 (community),
    /// started in host mode for this run`).
    pub fn description(&self) -> Option<String> {
        self.endpoint.as_ref().map(crate::endpoint::Attached::description)
    }

    pub fn kind(&self) -> BackendKind {
        self.kind
    }

    pub fn profile(&self) -> BehaviourProfile {
        self.profile
    }

    pub fn endpoint_url(&self) -> Option<&str> {
        self.endpoint_url.as_deref()
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn accounts(&self) -> &[BackendAccount] {
        &self.accounts
    }

    /// Finds an account by short name (`a`) or 12-digit id.
    pub fn account(&self, name_or_id: &str) -> Result<&BackendAccount, HarnessError> {
        self.accounts
            .iter()
            .find(|account| account.name == name_or_id || account.id == name_or_id)
            .ok_or_else(|| HarnessError::UnknownAccount {
                name: name_or_id.to_string(),
                backend: self.kind.to_string(),
                known: self
                    .accounts
                    .iter()
                    .map(|account| format!("{} ({})", account.name, account.id))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The in-process emulator, for what only it can do (moving its clock forward).
    pub fn emulator(&self) -> Option<&Emulator> {
        self.emulator.as_ref()
    }

    /// Stops the emulator, if this backend started one.
    pub fn stop(mut self) {
        if let Some(emulator) = self.emulator.take() {
            emulator.stop();
        }
        drop(self.endpoint.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_kind_names_round_trip_through_text_and_json() {
        for kind in BackendKind::ALL {
            assert_eq!(kind.name().parse::<BackendKind>(), Ok(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::String(kind.name().to_string())
            );
        }
        assert_eq!(BackendKind::Localstack.to_string(), "localstack");
    }

    #[test]
    fn unknown_backend_names_the_valid_ones() {
        let err = "aws".parse::<BackendKind>().unwrap_err();
        assert!(
            err.to_string().contains("emulator, localstack, sandbox, moto or endpoint"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn unbuilt_backends_are_unsupported_not_errors() {
        for kind in [BackendKind::Sandbox] {
            let err = Backend::start(kind, BehaviourProfile::Current)
                .await
                .unwrap_err();
            assert!(
                matches!(err, HarnessError::Unsupported(_)),
                "{kind}: {err:?}"
            );
        }
    }

    #[test]
    fn account_debug_output_hides_the_secret() {
        let account = BackendAccount::from(&DEFAULT_ACCOUNTS[0]);
        let debug = format!("{account:?}");
        assert!(
            !debug.contains(DEFAULT_ACCOUNTS[0].secret_access_key),
            "{debug}"
        );
        assert!(debug.contains(DEFAULT_ACCOUNTS[0].access_key_id));
    }
}
