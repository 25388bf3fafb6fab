//! The sandbox backend: real AWS accounts behind guard rails.
//!
//! - [`config`]: `wana.toml` (region, a profile per logical account, the allow-lists).
//! - [`identity`]: each profile's credentials through the SDK's own chain, and who they are.
//! - [`guards`]: what must hold before anything is written.
//! - [`ledger`]: a line per resource, written before it is created (`<runs_dir>/<run-id>.jsonl`).
//! - [`cleanup`]: finding and deleting what earlier runs left.
//!
//! [`connect`] resolves the accounts a trap needs and refuses, before any write, unless every
//! guard passes; [`crate::Backend::from_sandbox`] (or [`crate::Backend::start_sandbox`]) turns the result into a backend.

pub mod cleanup;
pub mod config;
pub mod guards;
pub mod identity;
pub mod ledger;

use std::path::PathBuf;

pub use config::SandboxConfig;
pub use guards::{GuardFailure, Identity};
pub use identity::{ProfileFileKind, ProfileFiles, ResolvedAccount};

/// Why the sandbox backend will not act. Every variant is "backend unavailable or refused"
/// (`cargo xtask` exit code 3) and is raised before anything is created.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SandboxError {
    #[error("{}: {message}", path.display())]
    Config { path: PathBuf, message: String },

    #[error("the trap needs account {name}, but {} has no [accounts.{name}] table", path.display())]
    MissingAccount { name: String, path: PathBuf },

    #[error("no credentials for account {account} from {profile}: {message}")]
    Credentials { account: String, profile: String, message: String },

    #[error("account {account} ({profile}): {message}")]
    Identity { account: String, profile: String, message: String },

    #[error("refused before any write: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Guards(Vec<GuardFailure>),

    #[error("not confirmed; nothing was created (pass --yes, or set CI=true, to skip the question)")]
    NotConfirmed,
}

/// Accounts that passed the guards, ready to act in.
#[derive(Debug, Clone)]
pub struct Connected {
    pub config: SandboxConfig,
    pub accounts: Vec<ResolvedAccount>,
}

impl Connected {
    /// What the run will act as and where, for the question asked before it starts (account
    /// ids in full: the person answering must recognise them).
    pub fn summary(&self) -> String {
        let mut text = format!("wana will act in region {}", self.config.region);
        if let Some(url) = &self.config.endpoint_url {
            text.push_str(&format!(" through {url}"));
        }
        text.push_str(":\n");
        for account in &self.accounts {
            let id = &account.identity;
            let aliases = match &id.aliases {
                Ok(aliases) if aliases.is_empty() => "no alias".to_string(),
                Ok(aliases) => format!("alias {}", aliases.join(", ")),
                Err(_) => "alias unreadable".to_string(),
            };
            text.push_str(&format!(
                "  {}: account {} ({aliases}) as {}, from {}\n",
                id.name,
                id.account_id,
                id.arn,
                id.profile_label()
            ));
        }
        text
    }

    /// A logical account's principal.
    pub fn principal(&self, name: &str) -> Option<&crate::Principal> {
        self.accounts.iter().find(|a| a.identity.name == name).map(|a| &a.principal)
    }
}

/// Whether the question before a run must be skipped: `--yes` was given or `CI` is `true`.
pub fn confirmation_skipped(yes: bool) -> bool {
    yes || std::env::var("CI").is_ok_and(|value| value.eq_ignore_ascii_case("true") || value == "1")
}

/// Resolves the logical accounts `needs` (all of the config's when empty) and checks the guards;
/// `needs` must also be distinct accounts.
pub async fn connect(config: &SandboxConfig, needs: &[&str], files: Option<&ProfileFiles>) -> Result<Connected, SandboxError> {
    let names: Vec<&str> = if needs.is_empty() {
        config.accounts.keys().map(String::as_str).collect()
    } else {
        needs.to_vec()
    };
    let mut accounts = Vec::new();
    for name in &names {
        accounts.push(identity::resolve(config, name, files).await?);
    }
    let identities: Vec<Identity> = accounts.iter().map(|a| a.identity.clone()).collect();
    let distinct = if needs.is_empty() { &[][..] } else { needs };
    let failures = guards::check(config, &identities, distinct);
    if !failures.is_empty() {
        return Err(SandboxError::Guards(failures));
    }
    tracing::debug!(accounts = names.len(), region = %config.region, "sandbox guards passed");
    Ok(Connected { config: config.clone(), accounts })
}

/// The config file the command line did not name: `WANA_CONFIG`, else `wana.toml` at the
/// workspace root.
pub fn default_config() -> Result<SandboxConfig, SandboxError> {
    match std::env::var_os("WANA_CONFIG") {
        Some(path) => SandboxConfig::load(Some(std::path::Path::new(&path))),
        None => SandboxConfig::load(None),
    }
}

