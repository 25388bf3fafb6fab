//! Where `repro` and `nightly` run: the backend, with what each kind needs (an endpoint URL; a
//! sandbox config, its guards and the one question), prepared once before any run.

use std::path::PathBuf;

use clap::Args;
use wana_harness::{
    run_scenario_at, run_scenario_on, sandbox::Connected, Backend, BackendKind, BehaviourProfile,
    FaultProfile, RunReport, Scenario,
};

use crate::UsageError;

/// The options shared by the commands that run traps.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// The endpoint of an emulator (`--backend endpoint`, or a LocalStack or moto already
    /// running); default `AWS_ENDPOINT_URL`.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// The sandbox config (default: `WANA_CONFIG`, else wana.toml at the workspace root).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Do not ask before acting on the sandbox accounts (also skipped when CI=true).
    #[arg(long)]
    pub yes: bool,
    /// Inject faults into the emulator of each run: `standard`, or e.g.
    /// `throttle=1/5,error=1/7,latency=20ms,iam-propagation=10s,grant-propagation=5s,role-propagation=10s`
    /// (ARCHITECTURE.md, "Fault injection"). Emulator backend only.
    #[arg(long, value_name = "SPEC", value_parser = parse_faults)]
    pub faults: Option<FaultProfile>,
}

fn parse_faults(text: &str) -> Result<FaultProfile, String> {
    text.parse().map_err(|err| format!("{err}"))
}

impl TargetArgs {
    /// The options that make sense on `backend` (exit code 2 otherwise).
    pub fn check(&self, backend: BackendKind) -> Result<(), UsageError> {
        if self.endpoint.is_some() && !backend.is_endpoint() {
            return Err(UsageError(format!(
                "--endpoint is for --backend localstack, moto or endpoint, not {backend}"
            )));
        }
        if backend == BackendKind::Endpoint
            && wana_localstack::given_endpoint(self.endpoint.as_deref()).is_none()
        {
            return Err(UsageError(
                "--backend endpoint needs --endpoint URL (or AWS_ENDPOINT_URL)".into(),
            ));
        }
        if self.faults.is_some() && backend != BackendKind::Emulator {
            return Err(UsageError(format!("--faults is for --backend emulator, not {backend}")));
        }
        if (self.config.is_some() || self.yes) && backend != BackendKind::Sandbox {
            return Err(UsageError(format!(
                "--config and --yes are for --backend sandbox, not {backend}"
            )));
        }
        Ok(())
    }
}

/// A backend ready for runs: each run starts its own backend of this kind, except on a sandbox,
/// whose accounts were connected and confirmed once.
pub struct Target {
    kind: BackendKind,
    endpoint: Option<String>,
    sandbox: Option<Connected>,
    faults: Option<FaultProfile>,
}

impl Target {
    /// On a sandbox: the config, the guards for the accounts `needs`, and the question (skipped
    /// with `--yes` or `CI=true`). `Err` is why the backend refused or is unavailable (exit code
    /// 3), already printed.
    pub fn prepare(kind: BackendKind, args: &TargetArgs, needs: &[&str]) -> Result<Target, String> {
        let sandbox = match kind {
            BackendKind::Sandbox => {
                Some(crate::sandbox_cli::prepare(args.config.as_deref(), needs, args.yes)?)
            }
            _ => None,
        };
        Ok(Target {
            kind,
            endpoint: args.endpoint.clone(),
            sandbox,
            faults: args.faults,
        })
    }

    pub fn kind(&self) -> BackendKind {
        self.kind
    }

    /// Starts the backend once and stops it, so that an unreachable backend is known before
    /// any run; `Some` is why it did not start. A sandbox was checked by [`Target::prepare`].
    pub async fn probe(&self) -> Option<String> {
        if self.sandbox.is_some() {
            return None;
        }
        let started = match &self.endpoint {
            Some(url) => {
                Backend::start_endpoint(self.kind, Some(url), BehaviourProfile::Current).await
            }
            None => Backend::start(self.kind, BehaviourProfile::Current).await,
        };
        match started {
            Ok(backend) => {
                backend.stop();
                None
            }
            Err(err) => Some(err.to_string()),
        }
    }

    /// One run of `scenario` under `profile`.
    pub async fn run(&self, scenario: &dyn Scenario, profile: BehaviourProfile) -> RunReport {
        if let Some(faults) = self.faults {
            return wana_harness::faults::run_scenario_with_faults(scenario, profile, faults).await;
        }
        match &self.sandbox {
            Some(connected) => {
                run_scenario_on(scenario, Backend::from_sandbox(profile, connected.clone())).await
            }
            None => run_scenario_at(scenario, self.kind, self.endpoint.as_deref(), profile).await,
        }
    }
}
