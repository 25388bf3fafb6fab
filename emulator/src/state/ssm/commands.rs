//! Run Command: documents, commands and their invocations on managed nodes.
//! (Built by the Run Command work; until then jobs are never queued.)

use super::jobs::{Job, JobEnd, JobOutcome};
use crate::state::World;

/// Whether a running job must be killed, and why.
pub fn job_cancelled(world: &World, job: &Job) -> Option<JobEnd> {
    let _ = (world, job);
    None
}

/// Records a job's outcome on its invocation.
pub fn finish_job(world: &mut World, job: &Job, outcome: JobOutcome) {
    let _ = (world, job, outcome);
}
