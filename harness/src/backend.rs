//! What a run talks to: the embedded emulator, LocalStack, or a real sandbox account.
//!
//! A scenario never asks which backend it runs on; it asks the [`Backend`] for an account and
//! builds principals from it, so the same steps run unchanged everywhere (design.md, Backends).

use std::fmt;

use wana_emulator::{BehaviourProfile, Emulator, EmulatorConfig, DEFAULT_ACCOUNTS, DEFAULT_REGION};

pub use crate::backend_kind::{BackendAccount, BackendKind, UnknownBackend};
use crate::{principal::is_account_id, HarnessError, Principal};

/// A started backend. Owns the emulator (if any): dropping the backend stops it.
pub struct Backend {
    kind: BackendKind,
    profile: BehaviourProfile,
    /// `None` means the SDK's own AWS endpoints (sandbox).
    endpoint_url: Option<String>,
    region: String,
    accounts: Vec<BackendAccount>,
    emulator: Option<Emulator>,
    /// The accounts of a sandbox backend, resolved and checked by the guards.
    sandbox: Option<crate::sandbox::Connected>,
    /// The run id, as the SDK's app id of every principal (`set_app_name`).
    app_name: Option<aws_types::app_name::AppName>,
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
            // Every account of the default config (`WANA_CONFIG` or wana.toml), guards checked.
            BackendKind::Sandbox => Backend::start_sandbox(profile, &[]).await,
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
            sandbox: None,
            app_name: None,
            endpoint: None,
        })
    }

    /// A sandbox backend from the default config (`WANA_CONFIG`, else `wana.toml` at the
    /// workspace root), connected and checked by the guards for the logical accounts `needs`
    /// (every account of the config when empty).
    pub async fn start_sandbox(
        profile: BehaviourProfile,
        needs: &[&str],
    ) -> Result<Backend, HarnessError> {
        let config = crate::sandbox::default_config()?;
        let connected = crate::sandbox::connect(&config, needs, None).await?;
        Ok(Backend::from_sandbox(profile, connected))
    }

    /// A sandbox backend from accounts that passed the guards ([`crate::sandbox::connect`]).
    /// `profile` names what AWS is expected to behave like (it is AWS itself).
    pub fn from_sandbox(profile: BehaviourProfile, connected: crate::sandbox::Connected) -> Backend {
        let accounts = connected
            .accounts
            .iter()
            .map(|account| {
                let credentials = account.principal.cli_credentials();
                BackendAccount {
                    name: account.identity.name.clone(),
                    id: account.identity.account_id.clone(),
                    admin_user: "admin".to_string(),
                    access_key_id: credentials.access_key_id,
                    secret_access_key: credentials.secret_access_key,
                }
            })
            .collect();
        Backend {
            kind: BackendKind::Sandbox,
            profile,
            endpoint_url: connected.config.endpoint_url.clone(),
            region: connected.config.region.clone(),
            accounts,
            emulator: None,
            sandbox: Some(connected),
            app_name: None,
            endpoint: None,
        }
    }

    /// The SDK app id every principal of a run carries (its run id), once a run has set it.
    pub fn app_name(&self) -> Option<&aws_types::app_name::AppName> {
        self.app_name.as_ref()
    }

    /// Sets the SDK app id principals built from now on carry; an id the SDK refuses (over its
    /// character set) is left out rather than failing the run.
    pub fn set_app_name(&mut self, name: &str) {
        self.app_name = aws_types::app_name::AppName::new(name.to_string()).ok();
    }

    /// The sandbox's accounts and config, on the sandbox backend.
    pub fn sandbox(&self) -> Option<&crate::sandbox::Connected> {
        self.sandbox.as_ref()
    }

    /// How many times faster than AWS the backend's delays run: 1, except for a sandbox config
    /// pointed at an emulator with `time_scale`.
    pub fn time_scale(&self) -> u32 {
        self.sandbox.as_ref().map_or(1, |s| s.config.time_scale.max(1))
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
            sandbox: None,
            app_name: None,
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

/// The principals of a backend's accounts. They live here, not in `principal.rs`, so that a
/// principal knows nothing of backends (the sandbox and endpoint modules build principals, and the
/// backend builds on them: imports point one way).
impl Principal {
    /// The administrator IAM user of a backend account (`"a"` or its id), labelled `admin@a`.
    pub fn account_admin(backend: &Backend, account: &str) -> Result<Principal, HarnessError> {
        let account = backend.account(account)?;
        // On a sandbox the administrator is whoever the account's profile resolved to.
        if let Some(principal) = backend.sandbox().and_then(|s| s.principal(&account.name)) {
            return Ok(principal.clone().with_app_name(backend.app_name()));
        }
        let mut principal = Principal::from_keys(
            backend,
            format!("{}@{}", account.admin_user, account.name),
            &account.id,
            &account.access_key_id,
            &account.secret_access_key,
            None,
        )?;
        principal.arn = Some(format!(
            "arn:aws:iam::{}:user/{}",
            account.id, account.admin_user
        ));
        Ok(principal)
    }

    /// A principal from explicit keys. `account` is a backend account's short name or any
    /// 12-digit account id (a principal may belong to an account the backend does not manage,
    /// such as a third party's).
    pub fn from_keys(
        backend: &Backend,
        label: impl Into<String>,
        account: &str,
        access_key_id: &str,
        secret_access_key: &str,
        session_token: Option<&str>,
    ) -> Result<Principal, HarnessError> {
        let account_id = if is_account_id(account) {
            account.to_string()
        } else {
            backend.account(account)?.id.clone()
        };
        let credentials = aws_credential_types::Credentials::new(
            access_key_id,
            secret_access_key,
            session_token.map(str::to_string),
            None,
            crate::principal::PROVIDER_NAME,
        );
        Ok(Principal::new(
            label.into(),
            account_id,
            None,
            credentials,
            backend.region(),
            backend.endpoint_url(),
        )
        .with_app_name(backend.app_name()))
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
