//! wana's harness: everything between a scenario and a backend.
//!
//! - [`backend`]: what a run talks to (emulator, LocalStack, moto, any endpoint, sandbox);
//!   [`endpoint`]: someone else's emulator and its accounts; [`unimplemented`]: "does not
//!   implement" told apart from "answered differently".
//! - [`principal`] and [`assume`]: identities as SDK configurations, role sessions.
//! - [`scenario`]: the scenario trait, the run context and the runner (teardown always runs).
//! - [`outcome`]: recording each step with the exact AWS error text.
//! - [`verdict`], [`report`], [`redact`]: what a run concluded and how it is shown safely;
//!   [`report_html`]: `--report DIR`, report.md and a self-contained report.html.
//! - [`aws_cli`]: driving the real AWS CLI in an isolated environment.
//! - [`explain`], [`explanation`]: the denied calls of a run on the emulator, and who made them.
//! - [`wait`]: polling with intervals, backoff and total timeouts, on every backend.
//! - [`resources`]: the run id in names and tags, and the ledger line before each create.
//! - [`sandbox`]: real AWS accounts behind guard rails, and cleanup of what runs left.

pub mod assume;
pub mod aws_cli;
pub mod backend;
pub mod backend_kind;
pub mod endpoint;
pub mod error;
pub mod explain;
pub mod explanation;
pub mod faults;
pub mod retry;
mod origin;
pub mod interrupt;
pub mod narration;
pub mod outcome;
pub mod principal;
pub mod provision;
pub mod redact;
pub mod report;
pub mod report_html;
pub mod resources;
pub mod run_id;
pub mod sandbox;
pub mod scenario;
pub mod unimplemented;
pub mod verdict;
pub mod wait;

pub use assume::assume_role;
pub use aws_cli::{AwsCli, CliCredentials, CliOutput};
pub use backend::Backend;
pub use backend_kind::{BackendAccount, BackendKind};
pub use error::HarnessError;
pub use narration::{Narration, Note};
pub use wana_i18n::Lang;
pub use outcome::{Phase, Recorder, Step, StepError};
pub use principal::Principal;
pub use redact::{RedactionLevel, Redactor};
pub use report::RunReport;
pub use report_html::{write_report, ReportFiles};
pub use scenario::{report_so_far, run_scenario, run_scenario_at, run_scenario_on, RunContext, Scenario, ScenarioFuture};
pub use unimplemented::Unimplemented;
pub use verdict::Verdict;
pub use wait::{Polling, Waiter};
pub use resources::{EXPIRES_AT_TAG, RUN_ID_TAG, TRAP_TAG};
pub use sandbox::ledger::ResourceKind;
/// Re-exported so scenario crates name profiles without depending on the emulator.
pub use wana_emulator::{BehaviourProfile, FaultProfile};
