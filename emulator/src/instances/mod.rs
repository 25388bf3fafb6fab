//! The instance runtime: emulated instances that really run Run Command's scripts.
//!
//! A background task started by [`crate::Emulator::start`] wakes every [`TICK`] (or when
//! [`Runtime::wake`] is called), runs the world's due effects, takes the jobs Run Command's model
//! queued ([`World::take_ssm_jobs`](crate::state::World::take_ssm_jobs)), and runs each on its
//! instance's sandbox ([`wana_sandbox`]) outside the world lock, jobs of different instances
//! concurrently. While a job runs it asks the world whether to kill it
//! ([`World::ssm_job_cancelled`](crate::state::World::ssm_job_cancelled)); when it ends it hands the
//! outcome back ([`World::finish_ssm_job`](crate::state::World::finish_ssm_job)).
//!
//! An instance's sandbox starts with its first job and lives until the instance stops (its
//! processes are killed, its files kept for the next start) or terminates (its files are
//! removed). Inside it:
//! * `169.254.169.254:80` serves that instance's metadata, as [`crate::imds`] answers it;
//! * `127.0.0.1:<the emulator's port>` serves the emulator itself, through the same pipeline as
//!   the main port, and every job's environment has `AWS_ENDPOINT_URL` pointing at it.
//!
//! That variable is the one difference from EC2: on AWS the CLI finds each service's public
//! endpoint by itself. It changes where requests go, not how the CLI resolves credentials (the
//! endpoint is not part of botocore's credential chain), so `aws configure list` and the chain's
//! order (environment, shared credentials file, ..., instance metadata) are AWS's.
//!
//! Where sandboxes cannot be made ([`wana_sandbox::available`]), or [`ScriptHost::Disabled`]
//! says not to, every job ends `Undeliverable` with the reason. A missing AWS CLI is not an
//! error: jobs run, and `aws` is simply not found inside.

mod job;
#[cfg(target_os = "linux")]
mod sandboxes;
#[cfg(all(test, target_os = "linux"))]
mod tests;

use std::{
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use crate::{
    dispatch::Shared,
    state::ssm::jobs::{Job, JobEnd, JobOutcome},
};

/// How often the runtime looks for jobs when nothing wakes it.
pub const TICK: Duration = Duration::from_millis(50);

/// Whether an emulator's instances run scripts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ScriptHost {
    /// Run them in Linux sandboxes when this machine can make them
    /// ([`wana_sandbox::available`]); otherwise every job is undeliverable, with the reason.
    #[default]
    Sandboxes,
    /// Run nothing: every job is undeliverable (for tests that want no sandbox).
    Disabled,
}

/// Where instances keep their files and which AWS CLI they see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstancesConfig {
    pub scripts: ScriptHost,
    /// The directory holding one directory per instance; `None`:
    /// `<workspace>/target/wana/instances/<emulator-run>/`. Removed when the emulator drops.
    pub dir: Option<PathBuf>,
    /// The Python venv whose `aws` instances run (bound read-only, with its interpreter);
    /// `None`: the venv of `$WANA_AWS_CLI` (`<venv>/bin/aws`), else `<workspace>/.venv`. A venv
    /// that does not exist leaves instances without `aws`.
    pub aws_cli_venv: Option<PathBuf>,
}

/// The workspace this crate was built in (the emulator's folder's parent).
fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(Path::to_path_buf).unwrap_or_else(|| here.to_path_buf())
}

impl InstancesConfig {
    /// The instances' directory of one emulator run.
    fn resolved_dir(&self) -> PathBuf {
        static RUNS: AtomicU64 = AtomicU64::new(0);
        self.dir.clone().unwrap_or_else(|| {
            let run = RUNS.fetch_add(1, Ordering::Relaxed);
            workspace_root().join(format!("target/wana/instances/{}-{run}", std::process::id()))
        })
    }

    fn resolved_venv(&self) -> PathBuf {
        if let Some(venv) = &self.aws_cli_venv {
            return venv.clone();
        }
        std::env::var_os("WANA_AWS_CLI")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .and_then(|aws| aws.parent()?.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| workspace_root().join(".venv"))
    }
}

/// The emulator's instance runtime; dropping the emulator shuts it down.
pub(crate) struct Runtime {
    wake: Arc<tokio::sync::Notify>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    #[cfg(target_os = "linux")]
    sandboxes: Option<Arc<sandboxes::Sandboxes>>,
}

impl Runtime {
    /// Starts the background task on the current tokio runtime.
    pub fn start(shared: Arc<Shared>, config: &InstancesConfig, emulator_port: u16) -> Runtime {
        let wake = Arc::new(tokio::sync::Notify::new());
        let host = Host::new(shared.clone(), config, emulator_port);
        #[cfg(target_os = "linux")]
        let sandboxes = match &host {
            Host::Sandboxes(sandboxes) => Some(sandboxes.clone()),
            Host::None(_) => None,
        };
        let task = tokio::spawn(run_forever(shared, host, wake.clone()));
        Runtime {
            wake,
            task: Mutex::new(Some(task)),
            #[cfg(target_os = "linux")]
            sandboxes,
        }
    }

    /// Makes the runtime look for jobs now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Stops the task, kills every instance's processes and removes the instances' directory.
    pub fn shutdown(&self) {
        if let Some(task) = self.task.lock().unwrap_or_else(|e| e.into_inner()).take() {
            task.abort();
        }
        #[cfg(target_os = "linux")]
        if let Some(sandboxes) = &self.sandboxes {
            sandboxes.shutdown();
        }
    }
}

/// Where jobs go.
enum Host {
    #[cfg(target_os = "linux")]
    Sandboxes(Arc<sandboxes::Sandboxes>),
    /// Nowhere: every job is undeliverable for this reason.
    None(String),
}

impl Host {
    fn new(shared: Arc<Shared>, config: &InstancesConfig, emulator_port: u16) -> Host {
        if config.scripts == ScriptHost::Disabled {
            return Host::None("this emulator runs no scripts (its configuration disables them)".into());
        }
        #[cfg(target_os = "linux")]
        {
            match wana_sandbox::available() {
                Ok(()) => Host::Sandboxes(Arc::new(sandboxes::Sandboxes::new(
                    shared,
                    config.resolved_dir(),
                    config.resolved_venv(),
                    emulator_port,
                ))),
                Err(unavailable) => Host::None(unavailable.to_string()),
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (shared, emulator_port);
            Host::None("emulated instances run scripts only on Linux".into())
        }
    }
}

async fn run_forever(shared: Arc<Shared>, host: Host, wake: Arc<tokio::sync::Notify>) {
    loop {
        let _ = tokio::time::timeout(TICK, wake.notified()).await;
        let jobs = {
            let mut world = shared.world.lock().unwrap_or_else(|e| e.into_inner());
            world.run_due(shared.clock.now());
            world.take_ssm_jobs()
        };
        match &host {
            #[cfg(target_os = "linux")]
            Host::Sandboxes(sandboxes) => {
                sandboxes.follow_instances();
                for job in jobs {
                    sandboxes.clone().dispatch(job).await;
                }
            }
            Host::None(reason) => {
                for job in jobs {
                    let now = shared.clock.now();
                    let outcome = JobOutcome {
                        end: JobEnd::Undeliverable(reason.clone()),
                        stdout: String::new(),
                        stderr: String::new(),
                        started: now,
                        finished: now,
                    };
                    finish(&shared, &job, outcome);
                }
            }
        }
    }
}

/// Hands a job's outcome to Run Command's model.
fn finish(shared: &Shared, job: &Job, outcome: JobOutcome) {
    let mut world = shared.world.lock().unwrap_or_else(|e| e.into_inner());
    world.finish_ssm_job(job, outcome);
}
