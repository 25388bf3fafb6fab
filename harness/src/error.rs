//! The harness's error type: why a run could not say anything about AWS behaviour.

use std::path::PathBuf;

use crate::outcome::StepError;

#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The backend cannot run this at all (not built yet, or AWS feature it lacks). Becomes the
    /// verdict `unsupported`, never a pass.
    #[error("unsupported: {0}")]
    Unsupported(String),

    #[error("cannot start the emulator: {0}")]
    EmulatorStart(#[from] wana_emulator::StartError),

    #[error("unknown account {name:?} on the {backend} backend (known: {known})")]
    UnknownAccount {
        name: String,
        backend: String,
        known: String,
    },

    /// A call the scenario needed (typically during provisioning) failed; the step with the
    /// exact AWS text is already in the recorder.
    #[error("AWS call failed: {0}")]
    Aws(#[from] StepError),

    /// The scenario found the world in a state it cannot continue from.
    #[error("{0}")]
    Scenario(String),

    #[error(
        "the AWS CLI was not found at {}; run `cargo xtask test` (it installs awscli into \
         <workspace>/.venv) or set WANA_AWS_CLI to an `aws` executable",
        looked_at.display()
    )]
    AwsCliMissing { looked_at: PathBuf },

    /// The sandbox backend refused or could not reach its accounts (before any write).
    #[error(transparent)]
    Sandbox(#[from] crate::sandbox::SandboxError),

    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

impl HarnessError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        HarnessError::Io {
            context: context.into(),
            source,
        }
    }
}
