//! What `check` and `workshop` share: the trap's exercise on a backend where it reproduces, a
//! run context with its ledger, and teardown.

use std::{path::PathBuf, process::ExitCode};

use wana_harness::{Backend, BackendKind, BehaviourProfile, RunContext, Scenario, Verdict};
use wana_i18n::{tr, Lang};
use wana_scenarios::exercise::{self, Exercise};

use crate::{catalog::find_trap, target::TargetArgs, EXIT_NOT_RUNNABLE};

/// A trap that can be exercised on the chosen backend.
pub struct Prepared {
    pub exercise: &'static dyn Exercise,
    pub scenario: &'static dyn Scenario,
    pub backend: BackendKind,
    pub profile: BehaviourProfile,
    sandbox: Option<wana_harness::sandbox::Connected>,
    endpoint: Option<String>,
}

/// The trap's exercise on `backend`, or the exit code and message when it cannot be exercised
/// there (3: not runnable, or the trap does not reproduce on that backend). Usage errors are
/// `Err`.
pub fn prepare(trap: &str, backend: BackendKind, target: &TargetArgs, lang: Lang) -> anyhow::Result<Result<Prepared, ExitCode>> {
    let info = find_trap(trap)?;
    target.check(backend)?;
    let (Some(scenario), Some(exercise)) = (info.scenario, exercise::find(info.id)) else {
        eprintln!("{}", tr!(lang, "check.not_runnable", trap = info.id));
        return Ok(Err(ExitCode::from(EXIT_NOT_RUNNABLE)));
    };
    let profile = exercise.profile();
    let expected = scenario.expected_verdict(backend, profile);
    if expected != Verdict::ReproducedAndFixed {
        eprintln!("{}", tr!(lang, "check.not_on_backend", trap = info.id, backend = backend, verdict = expected));
        return Ok(Err(ExitCode::from(EXIT_NOT_RUNNABLE)));
    }
    if scenario.runs_aws_cli_on_instances() && backend == BackendKind::Emulator {
        crate::test_command::ensure_aws_cli(&wana_harness::aws_cli::workspace_root(), "xtask check")?;
    }
    let sandbox = match backend {
        BackendKind::Sandbox => match crate::sandbox_cli::prepare(target.config.as_deref(), scenario.accounts(), target.yes) {
            Ok(connected) => Some(connected),
            Err(_) => return Ok(Err(ExitCode::from(crate::sandbox_cli::EXIT_REFUSED))),
        },
        _ => None,
    };
    Ok(Ok(Prepared { exercise, scenario, backend, profile, sandbox, endpoint: target.endpoint.clone() }))
}

impl Prepared {
    /// Starts the backend and opens the run (its ledger on a sandbox).
    pub async fn start(&self) -> anyhow::Result<RunContext> {
        let backend = match (&self.sandbox, self.backend) {
            (Some(connected), _) => Backend::from_sandbox(self.profile, connected.clone()),
            (None, BackendKind::Emulator) => Backend::start_emulator(self.profile).await?,
            (None, kind) => Backend::start_endpoint(kind, self.endpoint.as_deref(), self.profile).await?,
        };
        let trap = self.exercise.trap();
        let run_id = match self.backend {
            BackendKind::Emulator => format!("wana-{trap}"),
            _ => wana_harness::run_id::new_run_id(trap),
        };
        let mut ctx = RunContext::new(backend, run_id);
        ctx.begin_run(trap, self.scenario.expected_duration())?;
        Ok(ctx)
    }

    /// The scenario's teardown, the end of the ledger, and the backend stopped. `false` when
    /// teardown failed (something may be left on a sandbox).
    pub async fn finish(&self, mut ctx: RunContext) -> bool {
        ctx.recorder.set_phase(wana_harness::Phase::Teardown);
        let result = self.scenario.teardown(&mut ctx).await;
        if let Err(err) = &result {
            eprintln!("teardown: {err}");
        }
        ctx.end_run(result.is_ok());
        ctx.backend.stop();
        result.is_ok()
    }
}

/// Where the workshop of `trap` writes its control file: `target/wana-workshop/<trap>.json`.
pub fn control_file(trap: &str) -> PathBuf {
    wana_harness::aws_cli::workspace_root().join("target").join("wana-workshop").join(format!("{trap}.json"))
}
