//! Trap `alarm-recover`: a recover alarm created with temporary (role) credentials cannot recover
//! the instance under the alarm-action mechanism AWS replaced in 2017-12.
//!
//! The scenario replays the source report. A role session and an IAM user, both with
//! PowerUserAccess, each deploy the report's `ec2.json` (an instance and a `RecoveryAlarm` whose
//! action is `arn:aws:automate:<region>:ec2:recover`); each alarm is forced into `ALARM` with
//! `SetAlarmState`, and its `Action` history item tells whether the recover ran. Where the
//! role-created alarm fails, the report's fix follows: the IAM user updates the role's stack
//! with `ec2_update.json`, which names the alarm and so makes CloudFormation replace it, this
//! time with the user's credentials; the new alarm is fired again.
//!
//! Verdicts: the role-created alarm's recover failed and the re-created one's succeeded →
//! `reproduced-and-fixed`; the role-created alarm's recover succeeded → `not-reproduced` (the
//! 2017-12 mechanism, and AWS today); the re-created one failed too → `fix-failed`.
//!
//! Nothing here asks which backend runs it. Waiting (for IAM to propagate, for CloudFormation,
//! for the instance to run, for the history item) polls with [`RunContext::wait`] in between: the
//! emulator's clock moves, real AWS is slept on. Polls that only say "not yet" are not recorded.
//! Every resource carries the run id as a tag (`wana:run-id`; CloudFormation passes the stack's
//! tags on to the instance), and [`Scenario::teardown`] deletes both stacks, the user and the
//! role.
//!
//! The report's template names `ami-374db956`, a 2016 Amazon Linux AMI of ap-northeast-1: on a
//! real account elsewhere, or today, the instance cannot be launched and the run ends in
//! `error` with the stack's failure reasons recorded.

mod cloudformation;
mod cloudwatch;
mod ec2;
mod exercise;
mod provision;
mod teardown;
#[cfg(test)]
mod tests;

use std::time::Duration;

use aws_sdk_cloudformation::types::StackStatus;
use wana_harness::{
    msg_tr, note_tr, BackendKind, BehaviourProfile, HarnessError, Phase, Principal, RunContext, Scenario,
    ScenarioFuture, Verdict, Waiter,
};

use crate::TrapInfo;
pub use cloudwatch::{parse_action_item, present_fields};
pub use exercise::EXERCISE;

use cloudformation::{create_stack, resources_of_stack, update_stack, wait_for_stack};
use cloudwatch::{action_outcome, describe_alarms, set_alarm_state};
use ec2::wait_until_running;
use provision::{iam_user, role_session};
use teardown::teardown;

pub const TRAP: TrapInfo = TrapInfo {
    id: "alarm-recover",
    title: "A recover alarm created with role credentials cannot recover the instance",
    summary: "an EC2 recover alarm created with role (temporary) credentials fails with 401 when \
              it fires; created by an IAM user it works (the pre-2017-12 mechanism)",
    narrative: include_str!("alarm_recover.md"),
    narrative_ja: include_str!("alarm_recover.ja.md"),
    source: "000_756a759d912cbb97.txt",
    scenario: Some(&AlarmRecover),
};

/// The source report's template, byte for byte: an EC2 instance (the 2016 Amazon Linux AMI of
/// ap-northeast-1) and a `RecoveryAlarm` on its `StatusCheckFailed` metric.
pub const EC2_JSON: &str = include_str!("alarm_recover/ec2.json");

/// The report's `ec2_update.json`: `ec2.json` with one line added after line 30 (`diff` says
/// `30a31`), the alarm's `AlarmName`. A new name makes CloudFormation replace the alarm.
pub const EC2_UPDATE_JSON: &str = include_str!("alarm_recover/ec2_update.json");

/// The stacks of the report: the role session deploys one, the IAM user the other.
pub const ROLE_STACK: &str = "ec2-recoveryalarm-role";
pub const USER_STACK: &str = "ec2-recoveryalarm-user";
/// The `AlarmName` `ec2_update.json` gives the re-created alarm.
pub const RENEWED_ALARM: &str = "ec2-recoveryalarm-role-RecoveryAlarm-renew";

/// The report's role (the default profile of its CLI) and IAM user (its `cfn` profile).
pub const ROLE_NAME: &str = "wana-alarm-operator";
pub const USER_NAME: &str = "wana-alarm-deployer";
const SESSION_NAME: &str = "cfn-deploy";
const POWER_USER_ACCESS: &str = "arn:aws:iam::aws:policy/PowerUserAccess";

/// The `--state-reason` of the report's `set-alarm-state` commands.
pub const STATE_REASON: &str = "Manual Update to ALARM";

/// The tag that names the run on every resource the scenario creates (sweeps look for it).
pub const RUN_ID_TAG: &str = wana_harness::RUN_ID_TAG;

/// CloudFormation and IAM settle in seconds on AWS; on the emulator every poll succeeds at once.
const POLL_INTERVAL: Duration = Duration::from_secs(10);
/// An instance and an alarm take a few minutes at most; give up after 15 (90 looks).
const STACK_WAIT: Waiter = Waiter::every("the stack", POLL_INTERVAL, Duration::from_secs(890));
/// A fresh role may be assumed, and a fresh key used, only once IAM has propagated them
/// (seconds; the interval grows, for two minutes at most).
const IAM_WAIT: Waiter =
    Waiter::every("IAM to propagate", Duration::from_secs(5), Duration::from_secs(120)).backoff(150, Duration::from_secs(30));
/// CloudWatch writes an action's history item within seconds (18 looks).
const HISTORY_WAIT: Waiter = Waiter::every("the alarm's Action history item", POLL_INTERVAL, Duration::from_secs(170));
/// Deleting a stack takes minutes; the interval grows (teardown only waits).
const DELETE_WAIT: Waiter =
    Waiter::every("the stack to be deleted", POLL_INTERVAL, Duration::from_secs(900)).backoff(150, Duration::from_secs(30));

/// The names of the run's IAM entities and stacks: the report's, with the run id on shared
/// backends.
struct Names {
    role: String,
    user: String,
    role_stack: String,
    user_stack: String,
}

impl Names {
    fn of(ctx: &RunContext) -> Names {
        Names {
            role: ctx.name(ROLE_NAME),
            user: ctx.name(USER_NAME),
            role_stack: ctx.name(ROLE_STACK),
            user_stack: ctx.name(USER_STACK),
        }
    }
}

/// The runnable scenario of [`TRAP`].
pub struct AlarmRecover;

impl Scenario for AlarmRecover {
    fn id(&self) -> &'static str {
        "alarm-recover"
    }

    fn expected_verdict(&self, backend: BackendKind, profile: BehaviourProfile) -> Verdict {
        match (backend, profile) {
            (BackendKind::Emulator, BehaviourProfile::Legacy2016) => Verdict::ReproducedAndFixed,
            (BackendKind::Emulator, BehaviourProfile::Current) => Verdict::NotReproduced,
            // AWS today runs EC2 alarm actions through a service-linked role (since 2017-12).
            // An emulator wana does not know is held to AWS's behaviour today.
            (BackendKind::Sandbox | BackendKind::Endpoint, _) => Verdict::NotReproduced,
            // Measured on LocalStack 2026.3 and moto 5.2: neither builds the report's stack (its
            // RecoveryAlarm fails or is missing) and neither runs alarm actions.
            (BackendKind::Localstack | BackendKind::Moto, _) => Verdict::NotReproduced,
        }
    }

    fn profiles(&self) -> &'static [BehaviourProfile] {
        // The trap first, then AWS as it is today.
        &[BehaviourProfile::Legacy2016, BehaviourProfile::Current]
    }

    fn expected_duration(&self) -> Duration {
        Duration::from_secs(20 * 60)
    }

    fn cost_hint(&self) -> &'static str {
        "two t2.micro instances for under half an hour and two alarms: a few cents (estimate); \
         the report's 2016 AMI exists only in ap-northeast-1"
    }

    fn run<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Verdict> {
        Box::pin(run(ctx))
    }

    fn teardown<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, ()> {
        Box::pin(teardown(ctx))
    }
}

/// What CloudWatch recorded about one run of an alarm action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionOutcome {
    /// `actionState` of the item's `HistoryData` is `Succeeded`.
    pub succeeded: bool,
    /// The item's `HistorySummary`.
    pub summary: String,
    /// `actionState` as CloudWatch wrote it.
    pub action_state: String,
    /// The `error` of the item's `HistoryData`: the text EC2's answer became.
    pub error: Option<String>,
}

impl ActionOutcome {
    /// The failure the trap is about: EC2 could not authenticate the credentials the action
    /// ran with (`(401: AWS was not able to validate the provided access credentials)`). Any
    /// other failure (a missing permission, an instance that cannot be recovered) is something
    /// else, and must not count as the trap.
    pub fn is_authentication_failure(&self) -> bool {
        !self.succeeded
            && self.error.as_deref().or(Some(self.summary.as_str())).is_some_and(|text| text.contains("(401: "))
    }
}

/// A principal with its service clients, built once: every client brings its own HTTP client,
/// whose first connection sets up TLS roots, so one client per call would dominate the run time
/// on the emulator.
struct Actor {
    principal: Principal,
    cloudformation: aws_sdk_cloudformation::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    ec2: aws_sdk_ec2::Client,
    iam: aws_sdk_iam::Client,
}

impl Actor {
    fn new(principal: Principal) -> Actor {
        Actor {
            cloudformation: aws_sdk_cloudformation::Client::new(&principal.config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&principal.config),
            ec2: aws_sdk_ec2::Client::new(&principal.config),
            iam: aws_sdk_iam::Client::new(&principal.config),
            principal,
        }
    }
}

impl std::ops::Deref for Actor {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.principal
    }
}

/// Provision → trigger → observe, with the notes that say what the alarms' actions did.
async fn setup(ctx: &mut RunContext) -> Result<Story, HarnessError> {
    // Provision: the report's two identities, both with PowerUserAccess.
    ctx.recorder.set_phase(Phase::Provision);
    let admin = Actor::new(ctx.admin("a")?);
    let session = Actor::new(role_session(ctx, &admin).await?);
    let user = Actor::new(iam_user(ctx, &admin).await?);

    // Trigger: each deploys ec2.json, then each alarm is forced into ALARM.
    ctx.recorder.set_phase(Phase::Trigger);
    let names = Names::of(ctx);
    create_stack(ctx, &session, &names.role_stack).await?;
    create_stack(ctx, &user, &names.user_stack).await?;
    wait_for_stack(ctx, &session, &names.role_stack, StackStatus::CreateComplete).await?;
    wait_for_stack(ctx, &user, &names.user_stack, StackStatus::CreateComplete).await?;
    let (role_alarm, role_instance) = resources_of_stack(ctx, &session, &names.role_stack).await?;
    let (user_alarm, user_instance) = resources_of_stack(ctx, &user, &names.user_stack).await?;
    // Only a running instance can be recovered.
    wait_until_running(ctx, &session, &role_instance).await?;
    wait_until_running(ctx, &user, &user_instance).await?;
    set_alarm_state(ctx, &session, &role_alarm).await?;
    set_alarm_state(ctx, &user, &user_alarm).await?;

    // Observe: the Action item of each alarm's history, and what DescribeAlarms shows.
    ctx.recorder.set_phase(Phase::Observe);
    let role_action = action_outcome(ctx, &admin, &role_alarm, &session.label).await?;
    let user_action = action_outcome(ctx, &admin, &user_alarm, &user.label).await?;
    describe_alarms(ctx, &admin, &[&role_alarm, &user_alarm]).await?;
    if role_action.succeeded {
        note_tr!(ctx.recorder, "notes.alarm_recover.not_reproduced");
        return Ok(Story { admin, session, user, names, role_action });
    }
    if !role_action.is_authentication_failure() {
        note_tr!(ctx.recorder, "notes.alarm_recover.other_failure", error = role_action.error.as_deref().unwrap_or(&role_action.summary));
        return Ok(Story { admin, session, user, names, role_action });
    }
    note_tr!(
        ctx.recorder,
        "notes.alarm_recover.observed",
        error = role_action.error.as_deref().unwrap_or(&role_action.summary),
        user_outcome = if user_action.succeeded {
            msg_tr!(_, "notes.alarm_recover.user_ran")
        } else {
            msg_tr!(_, "notes.alarm_recover.user_failed_too")
        },
    );
    Ok(Story { admin, session, user, names, role_action })
}

/// What setup made and saw: the report's three identities, the run's names, and the Action
/// item of each alarm.
struct Story {
    admin: Actor,
    session: Actor,
    user: Actor,
    names: Names,
    role_action: ActionOutcome,
}

async fn run(ctx: &mut RunContext) -> Result<Verdict, HarnessError> {
    let story = setup(ctx).await?;
    if !story.role_action.is_authentication_failure() {
        return Ok(Verdict::NotReproduced);
    }
    let Story { admin, session, user, names, .. } = story;

    // Fix: as in the report, the IAM user updates the role's stack with a new AlarmName, so
    // CloudFormation replaces the alarm under the user's credentials.
    ctx.recorder.set_phase(Phase::Fix);
    update_stack(ctx, &user, &names.role_stack).await?;
    wait_for_stack(ctx, &user, &names.role_stack, StackStatus::UpdateComplete).await?;
    let (renewed, _) = resources_of_stack(ctx, &user, &names.role_stack).await?;
    if renewed != RENEWED_ALARM {
        return Err(HarnessError::Scenario(format!(
            "after the update the stack's alarm is {renewed:?}, not {RENEWED_ALARM:?}"
        )));
    }

    let renewed_action = verify(ctx, &admin, &session, &user, &renewed).await?;
    Ok(if renewed_action.succeeded { Verdict::ReproducedAndFixed } else { Verdict::FixFailed })
}

/// The trap's check: the alarm is fired again (by the role session, as in the report: who fires
/// does not matter) and its Action item read.
async fn verify(ctx: &mut RunContext, admin: &Actor, session: &Actor, user: &Actor, alarm: &str) -> Result<ActionOutcome, HarnessError> {
    ctx.recorder.set_phase(Phase::Verify);
    set_alarm_state(ctx, session, alarm).await?;
    let renewed_action = action_outcome(ctx, admin, alarm, &user.label).await?;
    if renewed_action.succeeded {
        note_tr!(ctx.recorder, "notes.alarm_recover.fixed");
    } else {
        note_tr!(ctx.recorder, "notes.alarm_recover.fix_failed");
    }
    Ok(renewed_action)
}
