//! Running one job on its instance's sandbox.

#[cfg(target_os = "linux")]
use std::time::Duration;

#[cfg(target_os = "linux")]
use crate::{
    dispatch::Shared,
    state::ssm::jobs::{Job, JobEnd, JobOutcome},
};

/// What the runtime adds to a job's environment (the only variables a script sees that the
/// real agent does not give): the emulator's endpoint and the CLI's patience with instance
/// metadata.
#[cfg(target_os = "linux")]
const RUNTIME_ENV: [&str; 3] = ["AWS_ENDPOINT_URL", "AWS_METADATA_SERVICE_TIMEOUT", "AWS_METADATA_SERVICE_NUM_ATTEMPTS"];

/// How often a running job asks the world whether to kill it (cancelled, instance stopped).
#[cfg(target_os = "linux")]
const CANCEL_POLL: Duration = Duration::from_millis(100);

/// Runs `job` in its instance's sandbox (reached at `endpoint` from inside) with the job's environment plus [`RUNTIME_ENV`] (the emulator from
/// inside the instance, and metadata patience), asking the world every [`CANCEL_POLL`] whether to kill it.
/// Returns the outcome; the caller hands it to the world.
#[cfg(target_os = "linux")]
pub(crate) async fn run(shared: &Shared, instance: &wana_sandbox::Instance, endpoint: &str, job: &Job) -> JobOutcome {
    let started = shared.clock.now();
    let mut env = job.env.clone();
    env.retain(|(name, _)| !RUNTIME_ENV.contains(&name.as_str()));
    env.push(("AWS_ENDPOINT_URL".to_string(), endpoint.to_string()));
    // botocore gives instance metadata one attempt of one second; EC2's metadata service answers
    // in microseconds, the emulator's within milliseconds, but a loaded test machine can starve
    // it for longer, and a credential chain that skips the instance role on a slow answer would
    // make a run flaky. Five seconds and three attempts change no outcome, only patience.
    env.push(("AWS_METADATA_SERVICE_TIMEOUT".to_string(), "5".to_string()));
    env.push(("AWS_METADATA_SERVICE_NUM_ATTEMPTS".to_string(), "3".to_string()));
    let cancel = wana_sandbox::Cancel::new();
    let request = wana_sandbox::RunRequest {
        script: job.script.clone(),
        run_as: job.run_as.clone(),
        env,
        working_dir: job.working_directory.as_ref().map(Into::into),
        timeout: job.timeout,
        cancel: Some(cancel.clone()),
    };
    let watch = async {
        loop {
            tokio::time::sleep(CANCEL_POLL).await;
            let verdict = {
                let world = shared.world.lock().unwrap_or_else(|e| e.into_inner());
                world.ssm_job_cancelled(job)
            };
            if let Some(end) = verdict {
                cancel.cancel();
                return end;
            }
        }
    };
    let run = instance.run(request);
    tokio::pin!(run);
    let mut why_killed = None;
    let result = tokio::select! {
        result = &mut run => result,
        // The watch cancelled the run: it ends at once, killed.
        end = watch => {
            why_killed = Some(end);
            run.await
        }
    };
    let finished = shared.clock.now();
    match result {
        Ok(outcome) => JobOutcome {
            end: match outcome.ended {
                wana_sandbox::Ended::Exited(code) => JobEnd::Exited(code),
                wana_sandbox::Ended::TimedOut => JobEnd::TimedOut,
                wana_sandbox::Ended::Cancelled => why_killed.unwrap_or(JobEnd::Cancelled),
                wana_sandbox::Ended::InstanceStopped => JobEnd::InstanceGone,
            },
            stdout: outcome.stdout,
            stderr: outcome.stderr,
            started,
            finished,
        },
        Err(error) => JobOutcome {
            end: match error {
                wana_sandbox::RunError::NotRunning => JobEnd::InstanceGone,
                other => JobEnd::Undeliverable(other.to_string()),
            },
            stdout: String::new(),
            stderr: String::new(),
            started,
            finished,
        },
    }
}
