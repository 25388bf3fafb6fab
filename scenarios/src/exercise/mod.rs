//! A trap run split so that the fix can come from outside: a participant's file (`cargo xtask
//! check <trap> --fix FILE`) or what a participant typed with the AWS CLI (`cargo xtask
//! workshop <trap>`).
//!
//! - [`Exercise::setup`]: provision → trigger → observe, the same steps as the trap's
//!   `reproduce`; the [`Session`] it returns holds what was created and the failure seen
//!   ([`Observed`]).
//! - [`Session::apply`]: a [`UserFix`] (its placeholders replaced, [`substitute`]) applied as the
//!   principal the trap's story gives, through the same AWS call as the reference fix
//!   (`put-key-policy`, `put-role-policy`, `create-grant`, `update-assume-role-policy`, the Run
//!   Command document, the stack update). An AWS error is an answer, not a failure of the run.
//! - [`Session::verify`]: the trap's check again (is the failure gone?); repeatable.
//! - teardown: the scenario's own [`wana_harness::Scenario::teardown`].
//!
//! [`judge`] runs the whole of it for `check`; [`breadth`] names what a fix grants beyond what
//! the trap needs.

pub mod apply;
pub mod breadth;
mod finding;
mod kind;
pub mod manifest;
mod reading;

use std::fmt;

use wana_harness::{BehaviourProfile, HarnessError, RunContext, ScenarioFuture, StepError};

pub use breadth::{Finding, Needs};
pub use kind::{FixKind, UnknownKind};

/// A participant's fix: what kind of document, and the document as written (placeholders and
/// all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFix {
    pub kind: FixKind,
    pub document: String,
}

/// The failure the participant sees after setup, in AWS's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// Whether the trap's failure happened (else there is nothing to fix on this backend).
    pub reproduced: bool,
    /// What a participant would see (the state, the error), AWS's text, English.
    pub failure: String,
    /// The refused calls behind it, where the backend can tell (one sentence each).
    pub denied: Vec<String>,
}

/// What applying a fix did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The AWS call, as `kms:PutKeyPolicy on <key>` (English, for reports).
    pub call: String,
    /// Who made it (`admin@c`).
    pub principal: String,
    /// AWS's answer when it refused (`MalformedPolicyDocument: ...`).
    pub error: Option<StepError>,
    /// Output worth showing (a script's standard error), if any.
    pub output: Option<String>,
}

impl Applied {
    pub fn accepted(&self) -> bool {
        self.error.is_none()
    }
}

/// What the trap's check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The failure is gone.
    pub gone: bool,
    /// What the check saw (English, AWS's text).
    pub detail: String,
}

/// A trap that can be set up and fixed from outside.
pub trait Exercise: Send + Sync {
    fn trap(&self) -> &'static str;
    /// The kinds of fix the trap takes.
    fn kinds(&self) -> &'static [FixKind];
    /// The behaviour profile under which the trap reproduces on the emulator.
    fn profile(&self) -> BehaviourProfile {
        BehaviourProfile::Current
    }
    /// The trap's own placeholders, besides the common ones (for usage messages and docs).
    fn own_placeholders(&self) -> &'static [&'static str];
    /// Provision, trigger and observe.
    fn setup<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Box<dyn Session>>;
}

/// A set-up trap, waiting for fixes.
pub trait Session: Send {
    fn observed(&self) -> &Observed;
    /// Every placeholder's value in this run for a fix of `kind` (`AccountId` is the account
    /// acting, which may depend on the kind).
    fn placeholders(&self, kind: FixKind) -> Vec<(&'static str, String)>;
    /// What the trap needs, for the breadth analysis of a fix of `kind`.
    fn needs(&self, kind: FixKind) -> Needs;
    /// The document a fix of `kind` replaces, where there is one (the key policy as set up):
    /// only statements a fix adds are judged for breadth.
    fn baseline(&self, kind: FixKind) -> Option<String> {
        let _ = kind;
        None
    }
    /// The accounts a participant acts in (logical names, `a`, `b`, `c`) and who they are in the
    /// story, English (`the customer: owns the key, the instance and ThirdPartyRole`).
    fn accounts(&self) -> Vec<(&'static str, &'static str)>;
    /// Applies `fix` (placeholders already replaced).
    fn apply<'a>(&'a mut self, ctx: &'a mut RunContext, fix: &'a UserFix) -> ScenarioFuture<'a, Applied>;
    /// The trap's check again.
    fn verify<'a>(&'a mut self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Verified>;
}

/// The exercises of the runnable traps, in catalog order.
pub fn exercises() -> [&'static dyn Exercise; 5] {
    [
        &crate::alarm_recover::EXERCISE,
        &crate::cross_account_ami_asg::EXERCISE,
        &crate::cmk_start_external_role::EXERCISE,
        &crate::runcommand_shadow_credentials::EXERCISE,
        &crate::instance_profile_ssm::EXERCISE,
    ]
}

pub fn find(trap: &str) -> Option<&'static dyn Exercise> {
    exercises().into_iter().find(|e| e.trap() == trap)
}

/// `document` with `${Name}` replaced for every known name; anything else (policy variables such
/// as `${aws:username}`) is left as written.
pub fn substitute(document: &str, values: &[(&'static str, String)]) -> String {
    let mut out = document.to_string();
    for (name, value) in values {
        out = out.replace(&format!("${{{name}}}"), value);
    }
    out
}

/// Whether `document` can be given as a fix of `kind` at all: a grant must be the JSON object
/// `aws kms create-grant --cli-input-json` takes (the CLI refuses anything else before AWS sees
/// it). Policies and templates are AWS's to judge (`MalformedPolicyDocument`, ...).
pub fn validate(kind: FixKind, document: &str) -> Result<(), String> {
    if document.trim().is_empty() {
        return Err("the fix file is empty".into());
    }
    if kind == FixKind::Grant {
        let value: serde_json::Value = serde_json::from_str(document).map_err(|err| format!("a grant is JSON (the create-grant arguments): {err}"))?;
        for field in ["GranteePrincipal", "Operations"] {
            if value.get(field).is_none() {
                return Err(format!("a grant needs {field} (the create-grant arguments as --generate-cli-skeleton shows them)"));
            }
        }
    }
    Ok(())
}

/// The placeholders every trap documents.
pub const COMMON_PLACEHOLDERS: [&str; 5] = ["AccountId", "Region", "KeyArn", "RoleArn", "InstanceId"];

/// The verdict of a fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The failure is gone and the fix grants nothing broader than needed.
    Resolved,
    /// The failure is gone, but the fix grants more than needed.
    Broader,
    /// The failure is still there (or the fix was refused).
    NotResolved,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Resolved => "resolved",
            Verdict::Broader => "broader",
            Verdict::NotResolved => "not-resolved",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A whole check: the failure before, the fix applied, the check after, the findings.
#[derive(Debug, Clone)]
pub struct Judgement {
    pub observed: Observed,
    /// `None` when the trap did not reproduce (nothing was applied).
    pub applied: Option<Applied>,
    pub verified: Option<Verified>,
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
}

/// Set up, apply `fix`, verify, and judge the fix's breadth. The caller tears down (also when
/// this fails).
pub async fn judge(exercise: &dyn Exercise, ctx: &mut RunContext, fix: &UserFix) -> Result<Judgement, HarnessError> {
    let mut session = exercise.setup(ctx).await?;
    judge_session(session.as_mut(), ctx, fix).await
}

/// [`judge`] on a session already set up.
pub async fn judge_session(session: &mut dyn Session, ctx: &mut RunContext, fix: &UserFix) -> Result<Judgement, HarnessError> {
    let observed = session.observed().clone();
    if !observed.reproduced {
        return Ok(Judgement { observed, applied: None, verified: None, findings: Vec::new(), verdict: Verdict::NotResolved });
    }
    let document = substitute(&fix.document, &session.placeholders(fix.kind));
    let fix = UserFix { kind: fix.kind, document };
    let mut applied = session.apply(ctx, &fix).await?;
    // A script's output may print what it read: through the recorder's redaction of secrets.
    if let Some(output) = applied.output.take() {
        ctx.recorder.note(output);
        applied.output = ctx.recorder.notes().last().cloned();
    }
    if !applied.accepted() {
        // AWS refused the fix: nothing changed, so the failure is still there.
        return Ok(Judgement { observed, applied: Some(applied), verified: None, findings: Vec::new(), verdict: Verdict::NotResolved });
    }
    let verified = session.verify(ctx).await?;
    let findings = if verified.gone {
        breadth::analyse(fix.kind, &fix.document, session.baseline(fix.kind).as_deref(), &session.needs(fix.kind))
    } else {
        Vec::new()
    };
    let verdict = match (verified.gone, findings.is_empty()) {
        (false, _) => Verdict::NotResolved,
        (true, true) => Verdict::Resolved,
        (true, false) => Verdict::Broader,
    };
    Ok(Judgement { observed, applied: Some(applied), verified: Some(verified), findings, verdict })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_replaced_and_policy_variables_kept() {
        let values = vec![("AccountId", "333333333333".to_string()), ("Region", "us-east-1".to_string())];
        let text = r#"{"Resource": "arn:aws:iam::${AccountId}:user/${aws:username}", "R": "${Region}${Unknown}"}"#;
        assert_eq!(
            substitute(text, &values),
            r#"{"Resource": "arn:aws:iam::333333333333:user/${aws:username}", "R": "us-east-1${Unknown}"}"#
        );
    }

    #[test]
    fn every_runnable_trap_has_an_exercise_and_nothing_else_does() {
        for trap in crate::catalog() {
            assert_eq!(find(trap.id).is_some(), trap.is_runnable(), "{}", trap.id);
        }
        for exercise in exercises() {
            assert!(!exercise.kinds().is_empty(), "{}", exercise.trap());
        }
    }
}
