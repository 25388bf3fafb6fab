//! wana's harness: everything between a scenario and a backend.
//!
//! - [`backend`]: what a run talks to (emulator, LocalStack, moto, any endpoint, sandbox);
//!   [`endpoint`]: someone else's emulator and its accounts; [`unimplemented`]: "does not
//!   implement" told apart from "answered differently".
//! - [`principal`] and [`assume`]: identities as SDK configurations, role sessions.
//! - [`scenario`]: the scenario trait, the run context and the runner (teardown always runs).
//! - [`outcome`]: recording each step with the exact AWS error text.
//! - [`verdict`], [`report`], [`redact`]: what a run concluded and how it is shown safely.
//! - [`aws_cli`]: driving the real AWS CLI in an isolated environment.

pub mod assume;
pub mod aws_cli;
pub mod backend;
pub mod endpoint;
pub mod error;
pub mod explain;
pub mod outcome;
pub mod principal;
pub mod provision;
pub mod redact;
pub mod report;
pub mod scenario;
pub mod unimplemented;
pub mod verdict;

pub use assume::assume_role;
pub use aws_cli::{AwsCli, CliCredentials, CliOutput};
pub use backend::{Backend, BackendAccount, BackendKind};
pub use error::HarnessError;
pub use outcome::{Phase, Recorder, Step, StepError};
pub use principal::Principal;
pub use redact::{RedactionLevel, Redactor};
pub use report::RunReport;
pub use scenario::{run_scenario, run_scenario_at, RunContext, Scenario, ScenarioFuture};
pub use unimplemented::Unimplemented;
pub use verdict::Verdict;
/// Re-exported so scenario crates name profiles without depending on the emulator.
pub use wana_emulator::BehaviourProfile;
