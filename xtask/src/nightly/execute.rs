//! Running the planned runs: which may run at the same time, and stopping cleanly on Ctrl-C.
//!
//! The rule: two runs may run at the same time when they share no resource.
//! - On the emulator every run starts an emulator of its own (its own accounts, ports and
//!   instance directories), so every run starts at once.
//! - On LocalStack, moto or another endpoint the runs go one after another: each run finds or
//!   starts the endpoint, and two runs must not race to start it.
//! - On sandbox accounts the runs share the accounts. A trap's scenario uses
//!   fixed names (roles, instance profiles, aliases), so the runs of one trap (its profiles) go one
//!   after another; different traps use different names and run side by side, as the CI matrix
//!   runs them (one job per trap).

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Instant,
};

use chrono::{SecondsFormat, Utc};
use wana_harness::{BackendKind, BehaviourProfile, RunReport, Scenario};

use crate::target::Target;

/// One run to make: a trap's scenario under one behaviour profile.
#[derive(Clone, Copy)]
pub struct Planned {
    pub trap: &'static str,
    pub scenario: &'static dyn Scenario,
    pub profile: BehaviourProfile,
    /// Whether the trap runs under several profiles on this backend (it names its snapshots by
    /// profile then).
    pub several_profiles: bool,
}

impl std::fmt::Debug for Planned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.trap, self.profile)
    }
}

/// A finished run and when it ran.
pub struct Finished {
    pub planned: Planned,
    pub report: RunReport,
    pub started_at: String,
    pub duration_seconds: f64,
}

pub enum Outcome {
    Finished(Finished),
    /// Not started because the run was interrupted first.
    Interrupted(Planned),
}

/// The runs grouped into lanes: lanes run at the same time, the runs of a lane one after
/// another (the rule in the module's documentation).
pub fn lanes(backend: BackendKind, planned: &[Planned]) -> Vec<Vec<Planned>> {
    match backend {
        BackendKind::Emulator => planned.iter().map(|run| vec![*run]).collect(),
        // Someone else's emulator, found or started per run: one run at a time, so that two runs
        // never race to start it.
        BackendKind::Localstack | BackendKind::Moto | BackendKind::Endpoint => {
            vec![planned.to_vec()]
        }
        BackendKind::Sandbox => {
            let mut lanes: Vec<Vec<Planned>> = Vec::new();
            for run in planned {
                match lanes.iter_mut().find(|lane| lane[0].trap == run.trap) {
                    Some(lane) => lane.push(*run),
                    None => lanes.push(vec![*run]),
                }
            }
            lanes
        }
    }
}

/// Runs the lanes at the same time and returns every planned run's outcome in `planned`'s
/// order. Once `interrupted` is set no further run starts; runs under way stop and tear down
/// (the harness's Ctrl-C rule).
pub async fn execute(
    target: Arc<Target>,
    planned: &[Planned],
    interrupted: Arc<AtomicBool>,
) -> Vec<Outcome> {
    let mut tasks = tokio::task::JoinSet::new();
    for lane in lanes(target.kind(), planned) {
        let interrupted = interrupted.clone();
        let target = target.clone();
        tasks.spawn(async move {
            let mut outcomes = Vec::new();
            for run in lane {
                if interrupted.load(Ordering::SeqCst) {
                    outcomes.push(Outcome::Interrupted(run));
                    continue;
                }
                outcomes.push(Outcome::Finished(run_one(&target, run).await));
            }
            outcomes
        });
    }
    let mut outcomes = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        // run_scenario turns a scenario's panic into a report; a lane itself has nothing else
        // that could panic.
        outcomes.extend(joined.expect("a nightly lane panicked"));
    }
    let position = |outcome: &Outcome| {
        let run = match outcome {
            Outcome::Finished(finished) => &finished.planned,
            Outcome::Interrupted(run) => run,
        };
        planned
            .iter()
            .position(|p| p.trap == run.trap && p.profile == run.profile)
            .unwrap_or(usize::MAX)
    };
    outcomes.sort_by_key(position);
    outcomes
}

async fn run_one(target: &Target, run: Planned) -> Finished {
    eprintln!("nightly: {} ({}) started", run.trap, run.profile);
    let started_at = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let clock = Instant::now();
    let report = target.run(run.scenario, run.profile).await;
    let duration_seconds = (clock.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
    eprintln!(
        "nightly: {} ({}) finished in {duration_seconds:.1} s: {}",
        run.trap, run.profile, report.verdict
    );
    Finished {
        planned: run,
        report,
        started_at,
        duration_seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Vec<Planned> {
        let mut planned = Vec::new();
        for trap in wana_scenarios::catalog() {
            let Some(scenario) = trap.scenario else {
                continue;
            };
            for profile in BehaviourProfile::ALL {
                planned.push(Planned {
                    trap: trap.id,
                    scenario,
                    profile,
                    several_profiles: true,
                });
            }
        }
        planned
    }

    fn names(lanes: &[Vec<Planned>]) -> Vec<Vec<String>> {
        lanes
            .iter()
            .map(|lane| lane.iter().map(|run| format!("{run:?}")).collect())
            .collect()
    }

    #[test]
    fn on_the_emulator_every_run_has_a_lane_of_its_own() {
        let planned = plan();
        let lanes = lanes(BackendKind::Emulator, &planned);
        assert_eq!(lanes.len(), planned.len());
        assert!(lanes.iter().all(|lane| lane.len() == 1));
    }

    #[test]
    fn on_shared_accounts_a_traps_profiles_run_one_after_another_and_traps_side_by_side() {
        let planned = plan();
        {
            let backend = BackendKind::Sandbox;
            let lanes = lanes(backend, &planned);
            let runnable = wana_scenarios::catalog()
                .iter()
                .filter(|t| t.is_runnable())
                .count();
            assert_eq!(lanes.len(), runnable, "{backend}");
            assert_eq!(
                names(&lanes)[0],
                ["alarm-recover (current)", "alarm-recover (legacy-2016)"],
                "{backend}"
            );
            for lane in &lanes {
                assert!(lane.iter().all(|run| run.trap == lane[0].trap), "{lane:?}");
            }
        }
    }

    #[test]
    fn on_someone_elses_emulator_runs_go_one_at_a_time() {
        let planned = plan();
        for backend in [BackendKind::Localstack, BackendKind::Moto, BackendKind::Endpoint] {
            let lanes = lanes(backend, &planned);
            assert_eq!(lanes.len(), 1, "{backend}");
            assert_eq!(lanes[0].len(), planned.len(), "{backend}");
        }
    }
}
