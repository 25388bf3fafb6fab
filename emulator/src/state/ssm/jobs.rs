//! The hand-over between Run Command's model and the instances that run scripts.
//!
//! The world never runs a script: scripts run outside the world lock, on the instances'
//! sandboxes, concurrently. Run Command's model queues a [`Job`] when an instance's agent takes a
//! command invocation; the emulator's instance runtime takes queued jobs
//! ([`World::take_ssm_jobs`]), runs them, and hands the outcome back
//! ([`World::finish_ssm_job`]); the model then records the invocation's result.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::state::World;

/// A script an instance's agent is to run now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub account: String,
    pub region: String,
    pub command_id: String,
    pub instance_id: String,
    /// The document's plugin that runs it (`aws:runShellScript`); one job per plugin step.
    pub plugin: String,
    /// The script, the document's `commands` joined with newlines; run with bash.
    pub script: String,
    /// `workingDirectory`, if the document gave one.
    pub working_directory: Option<String>,
    /// `executionTimeout` (AWS's default for AWS-RunShellScript: 3600 s).
    pub timeout: Duration,
    /// The environment the agent gives the script (no `HOME`; see amazon-ssm-agent issue 427).
    pub env: Vec<(String, String)>,
    /// The user the agent runs it as (`root` for Run Command).
    pub run_as: String,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEnd {
    /// The script exited with this status.
    Exited(i32),
    /// Killed at `executionTimeout`.
    TimedOut,
    /// Killed because the command was cancelled.
    Cancelled,
    /// Killed because the instance stopped or terminated.
    InstanceGone,
    /// The instance cannot run scripts (no sandbox here); the reason says why.
    Undeliverable(String),
}

/// A job's result: its end and its whole output (the model truncates as the agent does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobOutcome {
    pub end: JobEnd,
    pub stdout: String,
    pub stderr: String,
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
}

/// Jobs queued by the model, waiting for the instance runtime.
#[derive(Debug, Default, Clone)]
pub struct JobQueue {
    pub(crate) queued: Vec<Job>,
}

impl World {
    /// Queues a job for the instance runtime (called by Run Command's model).
    pub fn queue_ssm_job(&mut self, job: Job) {
        self.ssm_jobs.queued.push(job);
    }

    /// Takes every queued job, oldest first (called by the instance runtime).
    pub fn take_ssm_jobs(&mut self) -> Vec<Job> {
        std::mem::take(&mut self.ssm_jobs.queued)
    }

    /// Whether a job should be killed now: its invocation was cancelled, or its instance is no
    /// longer running. The runtime asks while a job runs.
    pub fn ssm_job_cancelled(&self, job: &Job) -> Option<JobEnd> {
        super::commands::job_cancelled(self, job)
    }

    /// Records a job's outcome (called by the instance runtime when the job ends).
    pub fn finish_ssm_job(&mut self, job: &Job, outcome: JobOutcome) {
        super::commands::finish_job(self, job, outcome)
    }
}
