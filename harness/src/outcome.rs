//! Outcome recording: who called what in which phase, and exactly what came back.
//!
//! Every step keeps the AWS error code and message verbatim, because the exact text is what a
//! user searches for when they hit the trap. Secrets are scrubbed as steps are recorded, so no
//! report, snapshot or log built from a [`Recorder`] can leak them.

use std::{error::Error as StdError, fmt};

use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_smithy_runtime_api::client::result::SdkError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use wana_i18n::Lang;

use crate::{
    aws_cli::CliOutput,
    narration::{Narration, Note},
    redact::Redactor,
    unimplemented::{Answer, Unimplemented},
};

/// The phases of a scenario, in the order they run (design.md, The scenario model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Provision,
    Trigger,
    Observe,
    Fix,
    Verify,
    Teardown,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Provision => "provision",
            Phase::Trigger => "trigger",
            Phase::Observe => "observe",
            Phase::Fix => "fix",
            Phase::Verify => "verify",
            Phase::Teardown => "teardown",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed call: the AWS error code and message as the service sent them, or, when no service
/// answered, the kind of client-side failure and its full description.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct StepError {
    pub code: String,
    pub message: String,
    /// The HTTP status of the answer, when one came (an endpoint's 501 says "not implemented").
    pub http_status: Option<u16>,
    /// The call that failed, as IAM names actions (`ssm:DescribeInstanceInformation`), when
    /// known: the SDK's error type names it.
    pub operation: Option<String>,
}

impl StepError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> StepError {
        StepError {
            code: code.into(),
            message: message.into(),
            http_status: None,
            operation: None,
        }
    }

    /// Whether the endpoint does not implement the call (as opposed to answering differently
    /// from AWS); see [`crate::unimplemented`].
    pub fn is_unimplemented(&self) -> bool {
        crate::unimplemented::is_unimplemented(self.answer())
    }

    /// The call this error says the endpoint lacks, for an error not recorded as a step: named
    /// by the SDK's operation, if known.
    pub fn unimplemented_call(&self) -> Unimplemented {
        Unimplemented::of(self.operation.as_deref().unwrap_or("a call"), self.answer())
    }

    fn answer(&self) -> Answer<'_> {
        Answer {
            code: &self.code,
            message: &self.message,
            http_status: self.http_status,
        }
    }

    /// Extracts code and message from any aws-sdk-* operation error.
    pub fn from_sdk<E, R>(err: &SdkError<E, R>) -> StepError
    where
        E: ProvideErrorMetadata + StdError + 'static,
        R: fmt::Debug + RawStatus,
    {
        // The SDK's own Display is one word ("service error"); DisplayErrorContext walks the
        // source chain, which is where "connection refused" or a parse failure is explained.
        let full_text = || DisplayErrorContext(err).to_string();
        let http_status = err.raw_response().and_then(RawStatus::http_status);
        let operation = crate::unimplemented::operation_of::<E>();
        // An HTML page where an AWS error belongs (moto's answer to an action it lacks): the
        // SDK's text would carry the whole response with its Date header.
        if let (SdkError::ResponseError(_), Some(status)) = (err, http_status) {
            let text = full_text().to_ascii_lowercase();
            if text.contains("<!doctype html") || text.contains("<html") {
                return StepError {
                    code: "ResponseError".to_string(),
                    message: format!("HTTP {status} with an HTML page instead of an AWS error"),
                    http_status,
                    operation,
                };
            }
        }
        let kind = match err {
            SdkError::ServiceError(_) => {
                return StepError {
                    code: err.code().unwrap_or("UnknownServiceError").to_string(),
                    message: err.message().map(str::to_string).unwrap_or_else(full_text),
                    http_status,
                    operation,
                };
            }
            SdkError::ConstructionFailure(_) => "ConstructionFailure",
            SdkError::TimeoutError(_) => "TimeoutError",
            SdkError::DispatchFailure(_) => "DispatchFailure",
            // The service answered but the SDK could not read the answer: for the emulator this
            // usually means a wire-format bug, so the full text matters.
            SdkError::ResponseError(_) => "ResponseError",
            _ => "SdkError",
        };
        StepError {
            code: kind.to_string(),
            message: full_text(),
            http_status,
            operation,
        }
    }
}

/// The HTTP status of an SDK's raw response; `()` for test fixtures without one.
pub trait RawStatus {
    fn http_status(&self) -> Option<u16>;
}

impl RawStatus for aws_smithy_runtime_api::http::Response {
    fn http_status(&self) -> Option<u16> {
        Some(self.status().as_u16())
    }
}

impl RawStatus for () {
    fn http_status(&self) -> Option<u16> {
        None
    }
}

/// One recorded call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub phase: Phase,
    /// The principal's label (`admin@a`).
    pub principal: String,
    /// `service:Operation`, as IAM names actions (`sts:AssumeRole`), or `aws <command>` for CLI.
    pub call: String,
    pub ok: bool,
    pub error_code: Option<String>,
    /// The exact message AWS returned.
    pub error_message: Option<String>,
    /// The values that matter for the trap (`{"State":"stopped"}`); `null` when none.
    pub detail: Value,
    /// Why this step matters, in words.
    pub note: Option<String>,
}

impl Step {
    /// The step with every text-bearing field redacted.
    pub fn redacted(&self, redactor: &Redactor) -> Step {
        Step {
            phase: self.phase,
            principal: redactor.redact_text(&self.principal),
            call: redactor.redact_text(&self.call),
            ok: self.ok,
            error_code: self.error_code.clone(),
            error_message: self.error_message.as_deref().map(|m| redactor.redact_text(m)),
            detail: redactor.redact_json(&self.detail),
            note: self.note.as_deref().map(|n| redactor.redact_text(n)),
        }
    }

    pub fn succeeded(phase: Phase, principal: impl Into<String>, call: impl Into<String>) -> Step {
        Step {
            phase,
            principal: principal.into(),
            call: call.into(),
            ok: true,
            error_code: None,
            error_message: None,
            detail: Value::Null,
            note: None,
        }
    }

    pub fn failed(
        phase: Phase,
        principal: impl Into<String>,
        call: impl Into<String>,
        error: &StepError,
    ) -> Step {
        Step {
            ok: false,
            error_code: Some(error.code.clone()),
            error_message: Some(error.message.clone()),
            ..Step::succeeded(phase, principal, call)
        }
    }

    pub fn with_detail(mut self, detail: Value) -> Step {
        self.detail = detail;
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Step {
        self.note = Some(note.into());
        self
    }
}

/// Collects the steps of one run. Scenarios set the phase as they move on and record each call.
#[derive(Debug)]
pub struct Recorder {
    phase: Phase,
    steps: Vec<Step>,
    notes: Vec<String>,
    /// Calls the backend does not implement, met before teardown: they make the run
    /// `unsupported` whatever the scenario concluded.
    unimplemented: Vec<Unimplemented>,
    /// The notes in catalog form, for reading the report in another language.
    narration: Narration,
    /// Scrubs secrets only; ids stay readable until a report is rendered for a snapshot.
    secrets: Redactor,
    /// On the emulator: its authorization log, and how many decisions it held when each step
    /// was recorded, so that the report can put a service's inner calls under their step.
    authz: Option<wana_emulator::Inspector>,
    authz_marks: Vec<usize>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new()
    }
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder {
            phase: Phase::Provision,
            steps: Vec::new(),
            notes: Vec::new(),
            unimplemented: Vec::new(),
            narration: Narration::default(),
            secrets: Redactor::secrets_only(),
            authz: None,
            authz_marks: Vec::new(),
        }
    }

    /// Notes, at each step recorded from now on, how far the emulator's authorization log has
    /// come (see [`crate::report_html::inner`]).
    pub(crate) fn watch_authz(&mut self, inspector: wana_emulator::Inspector) {
        self.authz = Some(inspector);
    }

    /// Per recorded step, the authorization log's length when it was recorded; empty when no
    /// log was watched.
    pub(crate) fn authz_marks(&self) -> &[usize] {
        &self.authz_marks
    }

    /// `text` with every secret this recorder knows hidden.
    pub(crate) fn scrub(&self, text: &str) -> String {
        self.secrets.redact_text(text)
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Moves to the next phase; later records belong to it.
    pub fn set_phase(&mut self, phase: Phase) {
        tracing::debug!(%phase, "entering phase");
        self.phase = phase;
    }

    /// Makes sure `secret` never appears in what this recorder keeps. Call it for every
    /// credential a run obtains (the runner does it for backend accounts and assumed roles).
    pub fn register_secret(&mut self, secret: &str) {
        self.secrets.add_secret(secret);
    }

    /// Like [`Recorder::register_secret`], for a session token (it gets its own placeholder).
    pub fn register_session_token(&mut self, token: &str) {
        self.secrets.add_session_token(token);
    }

    /// Records a step as given (its own phase wins), scrubbed of secrets.
    pub fn push(&mut self, step: Step) -> &Step {
        let step = step.redacted(&self.secrets);
        tracing::debug!(
            phase = %step.phase,
            principal = %step.principal,
            call = %step.call,
            ok = step.ok,
            error_code = step.error_code.as_deref().unwrap_or(""),
            "step"
        );
        if let Some(inspector) = &self.authz {
            self.authz_marks.push(inspector.inspect(|world| world.authz_log.recorded()));
        }
        self.steps.push(step);
        self.steps.last().expect("just pushed")
    }

    /// Records the outcome of a call in the current phase. `detail` picks the values that matter
    /// from a success.
    pub fn record<T>(
        &mut self,
        principal: &str,
        call: &str,
        result: &Result<T, StepError>,
        detail: impl FnOnce(&T) -> Value,
    ) -> &Step {
        let step = match result {
            Ok(value) => Step::succeeded(self.phase, principal, call).with_detail(detail(value)),
            Err(error) => {
                if error.is_unimplemented() && self.phase != Phase::Teardown {
                    let unimplemented = Unimplemented::of(call, error.answer());
                    self.unimplemented.push(unimplemented.redacted(&self.secrets));
                }
                Step::failed(self.phase, principal, call, error)
            }
        };
        self.push(step)
    }

    /// Records an aws-sdk-* call in the current phase and returns its result with the error
    /// turned into a [`StepError`], so scenarios can `?` it after recording.
    pub fn record_sdk<T, E, R>(
        &mut self,
        principal: &str,
        call: &str,
        result: Result<T, SdkError<E, R>>,
        detail: impl FnOnce(&T) -> Value,
    ) -> Result<T, StepError>
    where
        E: ProvideErrorMetadata + StdError + 'static,
        R: fmt::Debug + RawStatus,
    {
        let result = result.map_err(|err| StepError::from_sdk(&err));
        self.record(principal, call, &result, detail);
        result
    }

    /// Records a run of the real AWS CLI in the current phase. A failure keeps the AWS code and
    /// message the CLI printed; a failure without one (bad arguments, no connection) is recorded
    /// as `CliError` with the CLI's whole error output.
    pub fn record_cli(
        &mut self,
        principal: &str,
        call: &str,
        output: &CliOutput,
        detail: impl FnOnce(&CliOutput) -> Value,
    ) -> Result<(), StepError> {
        let result = if output.success() {
            Ok(output)
        } else {
            Err(match (output.error_code(), output.error_message()) {
                (Some(code), Some(message)) => StepError::new(code, message),
                _ => StepError::new(
                    "CliError",
                    format!("exit status {}: {}", output.status, output.stderr.trim()),
                ),
            })
        };
        self.record(principal, call, &result, |output| detail(output));
        result.map(|_| ())
    }

    /// Adds an explanation to the report (why AWS behaved as it did).
    pub fn note(&mut self, text: impl Into<String>) {
        self.notes.push(self.secrets.redact_text(&text.into()));
        self.narration.notes.push(None);
    }

    /// Adds an explanation from the message catalog: its English text, as [`Recorder::note`]
    /// keeps it, and the message itself, so the report can be read in Japanese too
    /// ([`crate::note_tr!`] calls this).
    pub fn note_msg(&mut self, note: Note) {
        self.notes.push(self.secrets.redact_text(&note.render(Lang::En)));
        self.narration.notes.push(Some(note.redacted(&self.secrets)));
    }

    /// Records `step` with `note` as its note, in English as [`Step::with_note`] keeps it and as
    /// a message of the catalog.
    pub fn push_noted(&mut self, step: Step, note: Note) -> &Step {
        let index = self.steps.len();
        self.narration.step_notes.insert(index, note.redacted(&self.secrets));
        self.push(step.with_note(note.render(Lang::En)))
    }

    /// The notes in catalog form (for [`crate::RunReport::narration`]).
    pub fn narration(&self) -> &Narration {
        &self.narration
    }

    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The recorded calls (before teardown) that the backend does not implement.
    pub fn unimplemented(&self) -> &[Unimplemented] {
        &self.unimplemented
    }

    pub fn into_parts(self) -> (Vec<Step>, Vec<String>) {
        (self.steps, self.notes)
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_sts::{
        error::ErrorMetadata, operation::get_caller_identity::GetCallerIdentityError,
    };
    use aws_smithy_runtime_api::client::result::{ConnectorError, DispatchFailure, ServiceError};
    use serde_json::json;

    use super::*;

    // The raw response type is generic; `()` keeps the fixtures free of HTTP plumbing.
    type TestSdkError = SdkError<GetCallerIdentityError, ()>;

    fn service_error(code: &str, message: &str) -> TestSdkError {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        SdkError::ServiceError(
            ServiceError::builder()
                .source(GetCallerIdentityError::generic(meta))
                .raw(())
                .build(),
        )
    }

    #[test]
    fn service_errors_keep_the_exact_code_and_message() {
        let err = service_error(
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        );
        let step_error = StepError::from_sdk(&err);
        assert_eq!(
            (step_error.code.as_str(), step_error.message.as_str()),
            (
                "InvalidClientTokenId",
                "The security token included in the request is invalid."
            )
        );
        // The operation comes from the SDK's error type; the fixture has no HTTP answer.
        assert_eq!(step_error.operation.as_deref(), Some("sts:GetCallerIdentity"));
        assert_eq!(step_error.http_status, None);
        assert!(!step_error.is_unimplemented());
    }

    #[test]
    fn dispatch_failures_say_what_went_wrong_on_the_wire() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let err: TestSdkError = SdkError::DispatchFailure(
            DispatchFailure::builder()
                .source(ConnectorError::io(Box::new(io)))
                .build(),
        );
        let step_error = StepError::from_sdk(&err);
        assert_eq!(step_error.code, "DispatchFailure");
        assert!(
            step_error.message.contains("connection refused"),
            "{}",
            step_error.message
        );
    }

    #[test]
    fn record_sdk_records_in_the_current_phase_and_returns_the_error() {
        let mut recorder = Recorder::new();
        recorder.set_phase(Phase::Trigger);
        let result: Result<(), _> = recorder.record_sdk(
            "role@b",
            "sts:GetCallerIdentity",
            Err(service_error("AccessDenied", "no")),
            |_| Value::Null,
        );
        assert_eq!(result.unwrap_err().code, "AccessDenied");
        let step = &recorder.steps()[0];
        assert_eq!((step.phase, step.ok), (Phase::Trigger, false));
        assert_eq!(step.error_code.as_deref(), Some("AccessDenied"));
        assert_eq!(step.error_message.as_deref(), Some("no"));
    }

    #[test]
    fn successes_keep_the_chosen_detail() {
        let mut recorder = Recorder::new();
        let ok: Result<&str, StepError> = Ok("stopped");
        let step = recorder.record(
            "admin@a",
            "ec2:DescribeInstances",
            &ok,
            |state| json!({ "State": state }),
        );
        assert!(step.ok);
        assert_eq!(step.detail, json!({ "State": "stopped" }));
        assert_eq!(step.phase, Phase::Provision);
    }

    #[test]
    fn registered_secrets_never_reach_the_steps() {
        let mut recorder = Recorder::new();
        recorder.register_secret("s3cr3tValueThatMustNotLeak");
        recorder.push(
            Step::succeeded(Phase::Provision, "admin@a", "sts:AssumeRole")
                .with_detail(json!({ "echo": "key s3cr3tValueThatMustNotLeak" }))
                .with_note("s3cr3tValueThatMustNotLeak"),
        );
        let text = serde_json::to_string(recorder.steps()).unwrap();
        assert!(!text.contains("s3cr3tValueThatMustNotLeak"), "{text}");
    }

    #[test]
    fn cli_failures_keep_the_aws_text_and_other_failures_the_stderr() {
        let mut recorder = Recorder::new();
        let denied = CliOutput {
            status: 1,
            stdout: String::new(),
            stderr:
                "upload failed: a.txt to s3://b/a.txt An error occurred (InvalidAccessKeyId) when \
                     calling the PutObject operation: The AWS Access Key Id you provided does not \
                     exist in our records.\n"
                    .into(),
        };
        let err = recorder
            .record_cli("root@i-1", "aws s3 cp", &denied, |_| Value::Null)
            .unwrap_err();
        assert_eq!(
            err,
            StepError::new(
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records."
            )
        );
        let usage = CliOutput {
            status: 252,
            stdout: String::new(),
            stderr: "\naws: error: argument --instance-ids is required\n".into(),
        };
        let err = recorder
            .record_cli("admin@a", "aws ec2 start-instances", &usage, |_| {
                Value::Null
            })
            .unwrap_err();
        assert_eq!(err.code, "CliError");
        assert_eq!(
            err.message,
            "exit status 252: aws: error: argument --instance-ids is required"
        );
        let fine = CliOutput {
            status: 0,
            stdout: "{\"State\":\"ok\"}".into(),
            stderr: String::new(),
        };
        recorder
            .record_cli("admin@a", "aws sts get-caller-identity", &fine, |out| {
                out.json().unwrap()
            })
            .unwrap();
        assert_eq!(recorder.steps()[2].detail, json!({ "State": "ok" }));
        assert_eq!(recorder.steps().iter().filter(|s| s.ok).count(), 1);
    }

    #[test]
    fn phases_serialize_lowercase() {
        assert_eq!(
            serde_json::to_value(Phase::Teardown).unwrap(),
            json!("teardown")
        );
    }

    #[test]
    fn steps_are_redacted_in_every_text_field() {
        let step = Step {
            phase: Phase::Trigger,
            principal: "role@111111111111".into(),
            call: "ec2:StartInstances".into(),
            ok: false,
            error_code: Some("AccessDenied".into()),
            error_message: Some(
                "User: arn:aws:sts::222222222222:assumed-role/Ops/s is not authorized".into(),
            ),
            detail: json!({ "InstanceId": "i-0123456789abcdef0" }),
            note: Some("created at 2024-01-01T00:00:00Z".into()),
        };
        let redacted = step.redacted(&Redactor::full());
        assert_eq!(redacted.principal, "role@<account-a>");
        assert_eq!(
            redacted.error_message.as_deref(),
            Some("User: arn:aws:sts::<account-b>:assumed-role/Ops/s is not authorized")
        );
        assert_eq!(redacted.detail, json!({ "InstanceId": "<instance-id>" }));
        assert_eq!(redacted.note.as_deref(), Some("created at <timestamp>"));
        assert_eq!(redacted.error_code.as_deref(), Some("AccessDenied"));
        assert_eq!(redacted.redacted(&Redactor::full()), redacted);
    }
}
