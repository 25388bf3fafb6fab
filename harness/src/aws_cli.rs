//! Running the real AWS CLI (v1, `awscli==1.46.3` from PyPI) against a backend.
//!
//! Traps are about what users type and read, so tests and scenarios also drive the actual CLI,
//! not only the Rust SDK. The CLI runs in an isolated environment: nothing from the developer's
//! shell, `~/.aws` or an instance metadata service can change which identity it acts as.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::LazyLock,
    time::Duration,
};

use regex::Regex;

use crate::HarnessError;

/// The environment variable that names the `aws` executable (`cargo xtask test` sets it).
pub const AWS_CLI_ENV: &str = "WANA_AWS_CLI";

/// The CLI version `cargo xtask test` installs; its botocore models are the ones the emulator is
/// checked against.
pub const AWS_CLI_VERSION: &str = "1.46.3";

/// A CLI call that hangs (an endpoint that never answers, retries with back-off) must fail the
/// test rather than block it forever.
const CLI_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone)]
pub struct AwsCli {
    executable: PathBuf,
}

/// The identity and endpoint a CLI call uses. `Debug` is hand-written to hide the secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct CliCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub region: String,
    /// `None` sends the CLI to real AWS.
    pub endpoint_url: Option<String>,
}

impl std::fmt::Debug for CliCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CliCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .field("endpoint_url", &self.endpoint_url)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliOutput {
    /// The exit status; -1 when the process was killed by a signal.
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `An error occurred (Code) when calling the Operation operation: message` — botocore's
/// ClientError text, also embedded in `aws s3` lines such as `upload failed: … An error occurred …`.
/// Retried calls insert `(reached max retries: N)` before the colon.
static CLIENT_ERROR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"An error occurred \(([^)]+)\) when calling the (\w+) operation(?: \(reached max retries: \d+\))?: ([^\r\n]*)",
    )
    .expect("valid pattern")
});

impl CliOutput {
    pub fn success(&self) -> bool {
        self.status == 0
    }

    /// The AWS error code from stderr (`InvalidAccessKeyId`), if the CLI reported a service error.
    pub fn error_code(&self) -> Option<&str> {
        CLIENT_ERROR
            .captures(&self.stderr)
            .and_then(|caps| caps.get(1))
            .map(|m| m.as_str())
    }

    /// The operation that failed (`PutObject`).
    pub fn error_operation(&self) -> Option<&str> {
        CLIENT_ERROR
            .captures(&self.stderr)
            .and_then(|caps| caps.get(2))
            .map(|m| m.as_str())
    }

    /// The AWS error message exactly as printed.
    pub fn error_message(&self) -> Option<&str> {
        CLIENT_ERROR
            .captures(&self.stderr)
            .and_then(|caps| caps.get(3))
            .map(|m| m.as_str().trim_end())
    }

    /// stdout parsed as JSON (the CLI runs with `--output json` unless told otherwise).
    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self.stdout)
    }
}

impl AwsCli {
    /// Finds the CLI: `$WANA_AWS_CLI`, else `<workspace>/.venv/bin/aws`. A missing CLI is an
    /// error that tells how to install it; tests that need the CLI fail on it, never skip.
    pub fn locate() -> Result<AwsCli, HarnessError> {
        let executable = match std::env::var_os(AWS_CLI_ENV) {
            Some(path) if !path.is_empty() => PathBuf::from(path),
            _ => default_location(),
        };
        if executable.is_file() {
            Ok(AwsCli { executable })
        } else {
            Err(HarnessError::AwsCliMissing {
                looked_at: executable,
            })
        }
    }

    pub fn at(executable: impl Into<PathBuf>) -> AwsCli {
        AwsCli {
            executable: executable.into(),
        }
    }

    pub fn executable(&self) -> &Path {
        &self.executable
    }

    /// Runs `aws <args> [--output json]` as `creds`, in an environment that holds only what the
    /// call needs.
    pub async fn run(
        &self,
        creds: &CliCredentials,
        args: &[&str],
    ) -> Result<CliOutput, HarnessError> {
        // A fresh HOME per call: the CLI must not find a config, credentials or cache from an
        // earlier call or from the developer.
        let home = tempfile::Builder::new()
            .prefix("wana-aws-cli-")
            .tempdir()
            .map_err(|err| HarnessError::io("cannot create a HOME for the AWS CLI", err))?;
        let mut command = tokio::process::Command::new(&self.executable);
        command
            .args(args)
            .env_clear()
            .env("HOME", home.path())
            .env("AWS_ACCESS_KEY_ID", &creds.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &creds.secret_access_key)
            .env("AWS_DEFAULT_REGION", &creds.region)
            // Files that do not exist, so that no profile can override the environment.
            .env("AWS_CONFIG_FILE", home.path().join("no-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                home.path().join("no-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_PAGER", "")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if !args.contains(&"--output") {
            command.args(["--output", "json"]);
        }
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        if let Some(token) = &creds.session_token {
            command.env("AWS_SESSION_TOKEN", token);
        }
        if let Some(url) = &creds.endpoint_url {
            command.env("AWS_ENDPOINT_URL", url);
        }

        // Arguments may carry a secret (`aws configure set aws_secret_access_key …`).
        tracing::debug!(
            cli = %self.executable.display(),
            args = %crate::redact::Redactor::secrets_only().redact_text(&args.join(" ")),
            "running the AWS CLI"
        );
        let output = tokio::time::timeout(CLI_TIMEOUT, command.output())
            .await
            .map_err(|_| {
                HarnessError::io(
                    format!("aws {}", args.join(" ")),
                    std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("no answer within {}s", CLI_TIMEOUT.as_secs()),
                    ),
                )
            })?
            .map_err(|err| {
                HarnessError::io(format!("cannot run {}", self.executable.display()), err)
            })?;
        Ok(CliOutput {
            status: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

/// `<workspace root>/.venv/bin/aws`; the harness lives one level below the workspace root.
fn default_location() -> PathBuf {
    workspace_root().join(".venv").join("bin").join("aws")
}

pub fn workspace_root() -> PathBuf {
    let harness_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    harness_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| harness_dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn output_with_stderr(stderr: &str) -> CliOutput {
        CliOutput {
            status: 254,
            stdout: String::new(),
            stderr: stderr.to_string(),
        }
    }

    #[rstest]
    #[case::plain_client_error(
        "\nAn error occurred (AccessDenied) when calling the AssumeRole operation: User: arn:aws:iam::111111111111:user/admin is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/R\n",
        "AccessDenied",
        "AssumeRole",
        "User: arn:aws:iam::111111111111:user/admin is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/R"
    )]
    #[case::s3_transfer_line(
        "upload failed: ./a.txt to s3://bucket/a.txt An error occurred (InvalidAccessKeyId) when calling the PutObject operation: The AWS Access Key Id you provided does not exist in our records.\n",
        "InvalidAccessKeyId",
        "PutObject",
        "The AWS Access Key Id you provided does not exist in our records."
    )]
    #[case::after_retries(
        "An error occurred (Throttling) when calling the DescribeInstances operation (reached max retries: 4): Rate exceeded\r\n",
        "Throttling",
        "DescribeInstances",
        "Rate exceeded"
    )]
    #[case::iam_quota(
        "An error occurred (LimitExceeded) when calling the AddRoleToInstanceProfile operation: Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
        "LimitExceeded",
        "AddRoleToInstanceProfile",
        "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"
    )]
    fn client_errors_are_parsed_from_stderr(
        #[case] stderr: &str,
        #[case] code: &str,
        #[case] operation: &str,
        #[case] message: &str,
    ) {
        let output = output_with_stderr(stderr);
        assert_eq!(output.error_code(), Some(code));
        assert_eq!(output.error_operation(), Some(operation));
        assert_eq!(output.error_message(), Some(message));
    }

    #[test]
    fn other_failures_have_no_error_code() {
        let output = output_with_stderr(
            "\nCould not connect to the endpoint URL: \"http://127.0.0.1:1/\"\n",
        );
        assert_eq!(output.error_code(), None);
        assert_eq!(output.error_message(), None);
        assert!(!output.success());
    }

    #[test]
    fn a_missing_cli_error_says_how_to_install_it() {
        let err = HarnessError::AwsCliMissing {
            looked_at: PathBuf::from("/nowhere/aws"),
        };
        let text = err.to_string();
        assert!(
            text.contains("cargo xtask test") && text.contains("/nowhere/aws"),
            "{text}"
        );
    }

    #[test]
    fn default_location_is_the_workspace_venv() {
        let path = default_location();
        assert!(path.ends_with(".venv/bin/aws"), "{}", path.display());
        assert!(workspace_root().join("Cargo.toml").is_file());
        assert!(workspace_root().join("harness").is_dir());
    }

    #[test]
    fn credentials_debug_hides_secrets() {
        let creds = CliCredentials {
            access_key_id: "AKIAWANAADMINA000001".into(),
            secret_access_key: "very-secret-value".into(),
            session_token: Some("very-secret-token".into()),
            region: "us-east-1".into(),
            endpoint_url: None,
        };
        let debug = format!("{creds:?}");
        assert!(!debug.contains("very-secret"), "{debug}");
    }

    /// The isolation is what makes CLI-based repros trustworthy, so it is checked with a stand-in
    /// executable that prints its environment: only the listed variables may reach the CLI.
    #[tokio::test]
    async fn the_cli_sees_only_the_isolated_environment() {
        use std::os::unix::fs::PermissionsExt;

        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("aws");
        std::fs::write(&fake, "#!/bin/sh\nenv | sort\necho \"ARGS $*\"\n").unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();

        let creds = CliCredentials {
            access_key_id: "ASIAWANAAAAAAAAAAAAB".into(),
            secret_access_key: "secret".into(),
            session_token: Some("token".into()),
            region: "us-east-1".into(),
            endpoint_url: Some("http://127.0.0.1:4599".into()),
        };
        let output = AwsCli::at(&fake)
            .run(&creds, &["sts", "get-caller-identity"])
            .await
            .unwrap();
        assert!(output.success(), "{output:?}");
        let names: Vec<&str> = output
            .stdout
            .lines()
            .filter_map(|line| line.split_once('=').map(|(name, _)| name))
            .filter(|name| !["PWD", "SHLVL", "_", "OLDPWD"].contains(name)) // set by sh itself
            .collect();
        assert_eq!(
            names,
            [
                "AWS_ACCESS_KEY_ID",
                "AWS_CONFIG_FILE",
                "AWS_DEFAULT_REGION",
                "AWS_EC2_METADATA_DISABLED",
                "AWS_ENDPOINT_URL",
                "AWS_PAGER",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
                "AWS_SHARED_CREDENTIALS_FILE",
                "HOME",
                "PATH",
            ]
        );
        assert!(output
            .stdout
            .contains("AWS_ENDPOINT_URL=http://127.0.0.1:4599\n"));
        assert!(output.stdout.contains("AWS_EC2_METADATA_DISABLED=true\n"));
        assert!(output
            .stdout
            .contains("ARGS sts get-caller-identity --output json\n"));
        let config_file = output
            .stdout
            .lines()
            .find_map(|line| line.strip_prefix("AWS_CONFIG_FILE="))
            .unwrap();
        assert!(
            !Path::new(config_file).exists(),
            "the config file must not exist"
        );
    }
}
