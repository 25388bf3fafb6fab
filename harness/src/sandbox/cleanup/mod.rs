//! `cargo xtask cleanup`: what earlier runs left on the sandbox accounts, found from their
//! ledgers first (`find`), then by the run tags and the run id in names (`sweep`, for runs whose
//! ledger is on another machine, such as a CI runner), and deleted in dependency order
//! (`delete`).
//!
//! Which runs count as leftovers:
//! - a ledger of this machine that is not closed (no successful teardown, no finished cleanup)
//!   and whose process no longer runs; with `older_than`, only runs that started that long ago;
//! - a resource found by tag or name whose run has no open ledger here: once its
//!   `wana:expires-at` has passed (by name: a day after its run started), or, with
//!   `older_than`, when its run started that long ago.
//!
//! Nothing is deleted in a dry run. Every account is resolved and checked by the same guards as
//! a run before anything is listed, and a ledger's resource is touched only when its logical
//! account still resolves to the account id the ledger wrote.

mod delete;
mod find;
mod sweep;

pub use sweep::Pages;

use std::{collections::BTreeSet, time::Duration};

use chrono::{DateTime, Utc};

use super::{
    connect,
    ledger::{self, timestamp, Entry, Ledger, ResourceKind, RunLedger},
    Connected, ProfileFiles, SandboxConfig, SandboxError,
};

/// How old a resource found only by its name must be before a sweep without `older_than` takes
/// it (names carry no expiry).
pub const NAME_ONLY_EXPIRY: Duration = Duration::from_secs(24 * 3600);

/// What the command line asked for.
#[derive(Debug, Clone, Default)]
pub struct CleanupOptions {
    /// Only runs that started at least this long ago.
    pub older_than: Option<Duration>,
    /// The trap ids, to read run ids out of resource names.
    pub traps: Vec<String>,
    /// How many items each listing of the sweep asks for (by default each service's largest).
    pub pages: Pages,
}

/// A resource a run left.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Leftover {
    pub kind: ResourceKind,
    /// The logical account (`a`).
    pub account: String,
    /// What identifies it for deletion: a name, an instance id, a key ARN, an image id.
    pub id: String,
    pub run_id: Option<String>,
    /// `ledger`, `tag` or `name`: how it was found.
    pub found_by: &'static str,
}

impl std::fmt::Display for Leftover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:<22} {:<40} account {}  run {}  (found by {})",
            self.kind.name(),
            self.id,
            self.account,
            self.run_id.as_deref().unwrap_or("?"),
            self.found_by
        )
    }
}

/// What a cleanup found, before deleting.
#[derive(Debug)]
pub struct Plan {
    pub connected: Connected,
    /// In deletion order.
    pub leftovers: Vec<Leftover>,
    /// Ledgers whose every resource is in `leftovers` (or gone): closed once those are deleted.
    pub ledgers: Vec<RunLedger>,
    /// Ledger lines that could not be followed (an account that now resolves elsewhere), and
    /// listings of the sweep that failed (what they would have shown was not looked at).
    pub warnings: Vec<String>,
}

/// What deleting did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub deleted: Vec<Leftover>,
    pub failed: Vec<(Leftover, String)>,
}

/// Finds what earlier runs left. Refuses (as a run would) unless every account passes the
/// guards.
pub async fn plan(config: &SandboxConfig, files: Option<&ProfileFiles>, options: &CleanupOptions) -> Result<Plan, SandboxError> {
    let connected = connect(config, &[], files).await?;
    let now = Utc::now();
    let runs = ledger::read_dir(&config.runs_dir).map_err(|err| SandboxError::Config {
        path: config.runs_dir.clone(),
        message: format!("cannot read the run ledgers: {err}"),
    })?;
    let old_enough = |started: Option<DateTime<Utc>>| match options.older_than {
        None => true,
        Some(age) => started.is_some_and(|s| now - s >= chrono::Duration::from_std(age).unwrap_or_default()),
    };
    let mut leftovers = BTreeSet::new();
    let mut warnings = Vec::new();
    let mut ledgers = Vec::new();
    // Runs with an open ledger here are judged by it alone (and live ones not at all).
    let mut judged_here = BTreeSet::new();
    for run in runs.into_iter().filter(|r| r.backend == "sandbox") {
        if run.is_running_here() {
            judged_here.insert(run.run_id.clone());
            continue;
        }
        if run.is_closed() {
            continue;
        }
        judged_here.insert(run.run_id.clone());
        if !old_enough(run.started_at) {
            continue;
        }
        for entry in &run.creates {
            let Entry::Create { account, account_id, kind, name, id, .. } = entry else { continue };
            let Some(resolved) = connected.accounts.iter().find(|a| &a.identity.name == account) else {
                warnings.push(format!("{}: account {account} is not in {} any more; its {kind} is not followed", run.run_id, config.path.display()));
                continue;
            };
            if &resolved.identity.account_id != account_id {
                warnings.push(format!(
                    "{}: account {account} now resolves to another account than the run used; its {kind} is not followed",
                    run.run_id
                ));
                continue;
            }
            let found = find::from_ledger(&resolved.principal, *kind, name.as_deref(), id.as_deref(), &run.run_id).await;
            for found_id in found {
                leftovers.insert(Leftover { kind: *kind, account: account.clone(), id: found_id, run_id: Some(run.run_id.clone()), found_by: "ledger" });
            }
        }
        // A key whose id line the run did not live to write is found through the run's aliases.
        for account in run.creates.iter().filter_map(|e| match e {
            Entry::Create { account, kind: ResourceKind::KmsKey, id: None, .. } => Some(account.clone()),
            _ => None,
        }).collect::<BTreeSet<_>>() {
            let aliases: Vec<String> = run.creates.iter().filter_map(|e| match e {
                Entry::Create { account: a, kind: ResourceKind::KmsAlias, name: Some(name), .. } if *a == account => Some(name.clone()),
                _ => None,
            }).collect();
            let Some(principal) = connected.principal(&account) else { continue };
            for key in find::keys_of_aliases(principal, &aliases).await {
                leftovers.insert(Leftover { kind: ResourceKind::KmsKey, account: account.clone(), id: key, run_id: Some(run.run_id.clone()), found_by: "ledger" });
            }
        }
        ledgers.push(run);
    }
    let traps: Vec<&str> = options.traps.iter().map(String::as_str).collect();
    for account in &connected.accounts {
        let sweep = sweep::sweep(&account.principal, &traps, options.pages).await;
        warnings.extend(sweep.warnings.iter().map(|w| format!("account {}: {w}", account.identity.name)));
        for swept in sweep.found {
            let Some(run_id) = swept.run_id.clone() else { continue };
            if judged_here.contains(&run_id) {
                continue;
            }
            let started = crate::resources::run_started(&run_id);
            let due = match options.older_than {
                Some(_) => old_enough(started),
                None => match swept.expires_at {
                    Some(expiry) => expiry <= now,
                    None => started.is_some_and(|s| now - s >= chrono::Duration::from_std(NAME_ONLY_EXPIRY).unwrap_or_default()),
                },
            };
            if due {
                leftovers.insert(Leftover {
                    kind: swept.kind,
                    account: account.identity.name.clone(),
                    id: swept.id,
                    run_id: Some(run_id),
                    found_by: swept.found_by,
                });
            }
        }
    }
    // One resource found both ways is listed once, as the ledger found it.
    let mut seen = BTreeSet::new();
    let leftovers: Vec<Leftover> = leftovers
        .into_iter()
        .filter(|l| seen.insert((l.kind, l.account.clone(), l.id.clone())))
        .collect();
    Ok(Plan { connected, leftovers, ledgers, warnings })
}

/// Deletes the plan's leftovers in dependency order; closes the ledgers of runs whose every
/// leftover was deleted.
pub async fn execute(plan: &Plan) -> Outcome {
    let mut outcome = Outcome::default();
    for leftover in &plan.leftovers {
        let Some(principal) = plan.connected.principal(&leftover.account) else { continue };
        match delete::delete(principal, leftover.kind, &leftover.id).await {
            Ok(()) => outcome.deleted.push(leftover.clone()),
            Err(err) => outcome.failed.push((leftover.clone(), err)),
        }
    }
    for run in &plan.ledgers {
        let failed = outcome.failed.iter().any(|(l, _)| l.run_id.as_deref() == Some(run.run_id.as_str()));
        if !failed {
            if let Err(err) = Ledger::open(&run.path).append(&Entry::Cleaned { at: timestamp(Utc::now()) }) {
                tracing::warn!(%err, "cannot close a cleaned run's ledger");
            }
        }
    }
    outcome
}
