//! Trap `runcommand-shadow-credentials`: Run Command runs as root, and a stale
//! `/root/.aws/credentials` shadows the instance role.
//!
//! The scenario, on any backend whose instances really run scripts, as account A's administrator:
//!
//! - provision: a bucket; a role trusted by EC2 that may put objects into it and has
//!   `AmazonSSMManagedInstanceCore`; its instance profile; two instances with the profile, both
//!   managed nodes; on both, the report's files in `/tmp/reports`; on one (`stale`), an access key
//!   that was deleted since, left in root's `~/.aws/credentials` (with a config file naming the
//!   region), as someone once left it.
//! - trigger: the report's document (`aws s3 cp` of two files) sent to both.
//! - observe: `Success` on one, `Failed` with the CLI's `InvalidAccessKeyId` line on the other;
//!   the report's `aws configure list` document on both (`iam-role` versus
//!   `shared-credentials-file`); the same command as `ssm-user` on the stale instance, standing
//!   for the report's Session Manager shell (`iam-role`).
//! - fix: a [`Fix`], by default the report's (the IMDS `curl` and `export` lines before the copy).
//! - verify: the stale instance's upload succeeds and its objects are in the bucket.
//!
//! The scripts run for real: the real AWS CLI in each instance's sandbox, its files, its metadata
//! service. [`reproduce`] runs all of it with any fix, so tests judge other fixes by what happens.

mod documents;
mod exercise;
mod steps;

use std::time::Duration;

use wana_harness::{msg_tr, note_tr, BackendKind, BehaviourProfile, Note, HarnessError, Phase, RunContext, Scenario, ScenarioFuture, Verdict};

use crate::TrapInfo;
pub use documents::{configure_list_document, fixed_upload_document, upload_document, UPLOADED_FILES};
pub use exercise::EXERCISE;
pub use steps::{access_key_type, Invocation, Provisioned};

pub const TRAP: TrapInfo = TrapInfo {
    id: "runcommand-shadow-credentials",
    title: "Run Command runs as root, and root's stale credentials file shadows the instance role",
    summary:
        "a Run Command script's aws s3 cp fails with InvalidAccessKeyId on some instances: it \
              runs as root, whose ~/.aws/credentials wins over the instance role",
    narrative: include_str!("runcommand_shadow_credentials.md"),
    narrative_ja: include_str!("runcommand_shadow_credentials.ja.md"),
    source: "003_80295c6b111c9292.txt",
    scenario: Some(&SCENARIO),
};

pub static SCENARIO: RunCommandShadowCredentials = RunCommandShadowCredentials;

pub const ACCOUNT: &str = "a";
pub const ROLE_NAME: &str = "report-uploader";
pub const PROFILE_NAME: &str = "report-uploader";
/// The IAM user whose key was once left on the instance, and deleted since.
pub const LEGACY_USER: &str = "legacy-uploader";
pub const MANAGED_POLICY_ARN: &str = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";
/// Amazon Linux 2023 images carry the SSM Agent and the AWS CLI.
pub const IMAGE_NAME_PATTERN: &str = "al2023-ami-2023.*-kernel-6.1-x86_64";
/// The tag that marks what a run created (the harness adds the trap and an expiry).
pub const RUN_TAG: &str = wana_harness::RUN_ID_TAG;
/// Where the report's files are on the instances (its document copies relative names).
pub const REPORT_DIR: &str = "/tmp/reports";
/// The CLI's line for the failed upload (aws-traps.md, Trap 4), without the file and bucket.
pub const INVALID_KEY_LINE: &str = "An error occurred (InvalidAccessKeyId) when calling the PutObject operation: \
     The AWS Access Key Id you provided does not exist in our records.";

/// How often the scenario looks at a command again, and for how long at most.
const POLL: Duration = Duration::from_secs(2);
const COMMAND_WITHIN: Duration = Duration::from_secs(10 * 60);

/// The scenario; see the module documentation.
#[derive(Debug)]
pub struct RunCommandShadowCredentials;

impl Scenario for RunCommandShadowCredentials {
    fn id(&self) -> &'static str {
        TRAP.id
    }

    fn expected_verdict(&self, backend: BackendKind, _profile: BehaviourProfile) -> Verdict {
        match backend {
            BackendKind::Emulator | BackendKind::Sandbox => Verdict::ReproducedAndFixed,
            // Measured on LocalStack 2026.3: its EC2 does not find the instance profile its IAM
            // made. moto 5.2 launches the instances but has no DescribeInstanceInformation (and
            // runs no script).
            BackendKind::Localstack => Verdict::NotReproduced,
            BackendKind::Moto => Verdict::Unsupported,
            // An emulator wana does not know is held to AWS's behaviour.
            BackendKind::Endpoint => Verdict::ReproducedAndFixed,
        }
    }

    fn runs_aws_cli_on_instances(&self) -> bool {
        true
    }

    fn expected_duration(&self) -> Duration {
        Duration::from_secs(25 * 60)
    }

    fn cost_hint(&self) -> &'static str {
        "two t3.micro instances for under half an hour and a bucket with a few bytes: a few cents \
         (estimate)"
    }

    fn run<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Verdict> {
        Box::pin(async move { Ok(reproduce(ctx, Fix::ReportExports).await?.verdict) })
    }

    fn teardown<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, ()> {
        Box::pin(steps::teardown(ctx))
    }
}

/// A change meant to make the upload work on the stale instance, valid or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix {
    /// The report's fix: the role's credentials read from instance metadata with `curl` and
    /// exported (key, secret and token) before `aws s3 cp`.
    ReportExports,
    /// The stale file removed (`rm /root/.aws/credentials`), then the report's document again.
    RemoveCredentialsFile,
    /// The copy run with `AWS_SHARED_CREDENTIALS_FILE=/dev/null`.
    SharedCredentialsFileDevNull,
    /// Wrong: the report's exports without `AWS_SESSION_TOKEN`; a temporary key without its
    /// token is unknown to S3.
    ExportsWithoutToken,
}

impl Fix {
    pub const ALL: [Fix; 4] =
        [Fix::ReportExports, Fix::RemoveCredentialsFile, Fix::SharedCredentialsFileDevNull, Fix::ExportsWithoutToken];

    /// [`Fix::description`] as a message of the catalog (English and Japanese).
    pub fn description_note(self) -> Note {
        match self {
            Fix::ReportExports => msg_tr!(_, "notes.runcommand_shadow_credentials.fix.report_exports"),
            Fix::RemoveCredentialsFile => msg_tr!(_, "notes.runcommand_shadow_credentials.fix.remove_credentials_file"),
            Fix::SharedCredentialsFileDevNull => msg_tr!(_, "notes.runcommand_shadow_credentials.fix.shared_credentials_file_dev_null"),
            Fix::ExportsWithoutToken => msg_tr!(_, "notes.runcommand_shadow_credentials.fix.exports_without_token"),
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Fix::ReportExports => "the report's script: the role's credentials from instance metadata, exported before aws s3 cp",
            Fix::RemoveCredentialsFile => "rm /root/.aws/credentials, then the report's document again",
            Fix::SharedCredentialsFileDevNull => "aws s3 cp with AWS_SHARED_CREDENTIALS_FILE=/dev/null",
            Fix::ExportsWithoutToken => "the report's exports of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY without AWS_SESSION_TOKEN",
        }
    }
}

/// A whole run.
#[derive(Debug, Clone)]
pub struct Run {
    pub provisioned: Provisioned,
    /// The report's document on the healthy and on the stale instance.
    pub healthy_upload: Invocation,
    pub stale_upload: Invocation,
    /// `aws configure list` through Run Command on both, and as ssm-user on the stale one.
    pub healthy_configure_list: Option<Invocation>,
    pub stale_configure_list: Option<Invocation>,
    pub ssm_user_configure_list: Option<Invocation>,
    /// The upload on the stale instance after the fix.
    pub after_fix: Option<Invocation>,
    /// The objects the stale instance put into the bucket after the fix.
    pub stale_objects: Vec<String>,
    pub verdict: Verdict,
}

/// Provision → trigger → observe → fix (with `fix`) → verify; the verdict says how it went.
pub async fn reproduce(ctx: &mut RunContext, fix: Fix) -> Result<Run, HarnessError> {
    let mut run = setup(ctx).await?;
    if run.stale_upload.status == "Success" {
        return Ok(run);
    }

    ctx.recorder.set_phase(Phase::Fix);
    note_tr!(ctx.recorder, "notes.runcommand_shadow_credentials.fix", fix = fix.description_note());
    let after = steps::apply_fix(ctx, &run.provisioned, fix).await?;

    run.stale_objects = verify_objects(ctx, &run.provisioned).await?;
    let fixed = after.status == "Success" && uploaded(&run.stale_objects);
    run.after_fix = Some(after);
    run.verdict = if fixed { Verdict::ReproducedAndFixed } else { Verdict::FixFailed };
    steps::explain_fix(ctx, &run, fix);
    Ok(run)
}

/// Provision → trigger → observe (with the report's diagnosis when the upload failed on the
/// stale instance): the run so far.
pub async fn setup(ctx: &mut RunContext) -> Result<Run, HarnessError> {
    let p = steps::provision(ctx).await?;

    ctx.recorder.set_phase(Phase::Trigger);
    let document = steps::create_document(ctx, &p, "upload", &upload_document(&p.bucket)).await?;
    let [healthy_upload, stale_upload] = steps::run_on_both(ctx, &p, &document).await?;

    ctx.recorder.set_phase(Phase::Observe);
    let mut run = Run {
        provisioned: p,
        healthy_upload,
        stale_upload,
        healthy_configure_list: None,
        stale_configure_list: None,
        ssm_user_configure_list: None,
        after_fix: None,
        stale_objects: Vec::new(),
        verdict: Verdict::NotReproduced,
    };
    if run.healthy_upload.status != "Success" {
        return Err(HarnessError::Scenario(format!(
            "the report's document failed on the healthy instance too ({}): the setup does not hold here",
            run.healthy_upload.status
        )));
    }
    if run.stale_upload.status == "Success" {
        note_tr!(ctx.recorder, "notes.runcommand_shadow_credentials.not_reproduced");
        return Ok(run);
    }
    steps::diagnose(ctx, &mut run).await?;
    Ok(run)
}

/// The trap's check, first part: the objects the stale instance put into the bucket.
pub async fn verify_objects(ctx: &mut RunContext, p: &Provisioned) -> Result<Vec<String>, HarnessError> {
    ctx.recorder.set_phase(Phase::Verify);
    steps::stale_objects(ctx, p).await
}

/// Whether `objects` hold every file the report's document uploads.
pub fn uploaded(objects: &[String]) -> bool {
    UPLOADED_FILES.iter().all(|f| objects.iter().any(|o| o.ends_with(f)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn narrative_quotes_the_error_and_the_credential_order() {
        let narrative = super::TRAP.narrative;
        assert!(narrative.contains(super::INVALID_KEY_LINE));
        assert!(narrative.contains("shared-credentials-file"));
        assert!(narrative.contains("/root/.aws/credentials"));
    }
}
