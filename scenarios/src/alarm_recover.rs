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

use std::time::Duration;

use aws_sdk_cloudformation::types::{ResourceStatus, Stack, StackStatus, Tag as StackTag};
use aws_sdk_cloudwatch::types::{HistoryItemType, MetricAlarm, StateValue};
use aws_sdk_ec2::types::InstanceStateName;
use serde_json::{json, Value};
use wana_harness::{
    BackendKind, BehaviourProfile, HarnessError, Phase, Principal, RunContext, Scenario,
    ScenarioFuture, Step, StepError, Verdict,
};

use crate::TrapInfo;

pub const TRAP: TrapInfo = TrapInfo {
    id: "alarm-recover",
    title: "A recover alarm created with role credentials cannot recover the instance",
    summary: "an EC2 recover alarm created with role (temporary) credentials fails with 401 when \
              it fires; created by an IAM user it works (the pre-2017-12 mechanism)",
    narrative: include_str!("alarm_recover.md"),
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
pub const RUN_ID_TAG: &str = "wana:run-id";

/// CloudFormation and IAM settle in seconds on AWS; on the emulator every poll succeeds at once.
const POLL_INTERVAL: Duration = Duration::from_secs(10);
/// An instance and an alarm take a few minutes at most; give up after 15.
const STACK_POLLS: usize = 90;
/// A fresh role may be assumed, and a fresh key used, only once IAM has propagated them.
const IAM_POLLS: usize = 12;
/// CloudWatch writes an action's history item within seconds.
const HISTORY_POLLS: usize = 18;

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
            (BackendKind::Sandbox, _) => Verdict::NotReproduced,
            (BackendKind::Localstack, _) => Verdict::Unsupported,
        }
    }

    fn profiles(&self) -> &'static [BehaviourProfile] {
        // The trap first, then AWS as it is today.
        &[BehaviourProfile::Legacy2016, BehaviourProfile::Current]
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

async fn run(ctx: &mut RunContext) -> Result<Verdict, HarnessError> {
    // Provision: the report's two identities, both with PowerUserAccess.
    ctx.recorder.set_phase(Phase::Provision);
    let admin = Actor::new(ctx.admin("a")?);
    let session = Actor::new(role_session(ctx, &admin).await?);
    let user = Actor::new(iam_user(ctx, &admin).await?);

    // Trigger: each deploys ec2.json, then each alarm is forced into ALARM.
    ctx.recorder.set_phase(Phase::Trigger);
    create_stack(ctx, &session, ROLE_STACK).await?;
    create_stack(ctx, &user, USER_STACK).await?;
    wait_for_stack(ctx, &session, ROLE_STACK, StackStatus::CreateComplete).await?;
    wait_for_stack(ctx, &user, USER_STACK, StackStatus::CreateComplete).await?;
    let (role_alarm, role_instance) = resources_of_stack(ctx, &session, ROLE_STACK).await?;
    let (user_alarm, user_instance) = resources_of_stack(ctx, &user, USER_STACK).await?;
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
        ctx.recorder.note(
            "The alarm created with the role session's temporary credentials recovered the \
             instance: the trap does not reproduce. Since 2017-12-18 CloudWatch runs EC2 alarm \
             actions through the service-linked role AWSServiceRoleForCloudWatchEvents, and a \
             recover action needs no permissions of the alarm's creator, so whoever created the \
             alarm no longer matters.",
        );
        return Ok(Verdict::NotReproduced);
    }
    if !role_action.is_authentication_failure() {
        ctx.recorder.note(format!(
            "The alarm created with the role session's temporary credentials failed, but not with \
             the trap's 401 (EC2 unable to validate the credentials): {}. That is another failure, \
             so the trap does not count as reproduced.",
            role_action.error.as_deref().unwrap_or(&role_action.summary),
        ));
        return Ok(Verdict::NotReproduced);
    }
    ctx.recorder.note(format!(
        "Both stacks were created without error, yet the recover action of the alarm created \
         with the role session's temporary credentials failed ({}), while the one created with \
         the IAM user's long-term key {}. Before 2017-12 the recover action ran with the \
         credentials of whoever created the alarm, and temporary STS credentials could not be \
         used for it.",
        role_action.error.as_deref().unwrap_or(&role_action.summary),
        if user_action.succeeded {
            "ran"
        } else {
            "failed as well"
        },
    ));

    // Fix: as in the report, the IAM user updates the role's stack with a new AlarmName, so
    // CloudFormation replaces the alarm under the user's credentials.
    ctx.recorder.set_phase(Phase::Fix);
    update_stack(ctx, &user, ROLE_STACK).await?;
    wait_for_stack(ctx, &user, ROLE_STACK, StackStatus::UpdateComplete).await?;
    let (renewed, _) = resources_of_stack(ctx, &user, ROLE_STACK).await?;
    if renewed != RENEWED_ALARM {
        return Err(HarnessError::Scenario(format!(
            "after the update the stack's alarm is {renewed:?}, not {RENEWED_ALARM:?}"
        )));
    }

    // Verify: fired again (by the role session, as in the report: who fires does not matter).
    ctx.recorder.set_phase(Phase::Verify);
    set_alarm_state(ctx, &session, &renewed).await?;
    let renewed_action = action_outcome(ctx, &admin, &renewed, &user.label).await?;
    if renewed_action.succeeded {
        ctx.recorder.note(
            "Re-created by the IAM user, the alarm recovers the instance. DescribeAlarms shows \
             the same fields for a broken alarm and a working one: nothing names the creator, so \
             only firing an alarm once tells them apart.",
        );
        Ok(Verdict::ReproducedAndFixed)
    } else {
        ctx.recorder.note(
            "The alarm re-created with the IAM user's long-term key failed as well: the report's \
             fix did not work here.",
        );
        Ok(Verdict::FixFailed)
    }
}

// ---------------------------------------------------------------------------------------------
// Provision

fn trust_policy(account: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{account}:root") },
            "Action": "sts:AssumeRole",
        }],
    })
    .to_string()
}

fn iam_tag(ctx: &RunContext) -> Result<aws_sdk_iam::types::Tag, HarnessError> {
    aws_sdk_iam::types::Tag::builder()
        .key(RUN_ID_TAG)
        .value(&ctx.run_id)
        .build()
        .map_err(|err| HarnessError::Scenario(format!("cannot build the run-id tag: {err}")))
}

/// The report's IAM role with PowerUserAccess, trusted by its own account, and a session of it.
async fn role_session(ctx: &mut RunContext, admin: &Actor) -> Result<Principal, HarnessError> {
    let iam = &admin.iam;
    let tag = iam_tag(ctx)?;
    let result = iam
        .create_role()
        .role_name(ROLE_NAME)
        .assume_role_policy_document(trust_policy(&admin.account))
        .description("wana alarm-recover: deploys the recovery alarm with temporary credentials")
        .tags(tag)
        .send()
        .await;
    let created = ctx.recorder.record_sdk(
        &admin.label,
        "iam:CreateRole",
        result,
        |out| json!({ "Arn": out.role().map(|r| r.arn()) }),
    )?;
    let role_arn = created
        .role()
        .map(|r| r.arn().to_string())
        .ok_or_else(|| HarnessError::Scenario("CreateRole answered without a role".into()))?;
    let result = iam
        .attach_role_policy()
        .role_name(ROLE_NAME)
        .policy_arn(POWER_USER_ACCESS)
        .send()
        .await;
    ctx.recorder.record_sdk(
        &admin.label,
        "iam:AttachRolePolicy",
        result,
        |_| json!({ "RoleName": ROLE_NAME, "PolicyArn": POWER_USER_ACCESS }),
    )?;

    let label = format!("{ROLE_NAME}@a");
    let mut attempt = 0;
    let session = loop {
        attempt += 1;
        match ctx
            .assume_role(admin, &role_arn, SESSION_NAME, None, &label)
            .await
        {
            Ok(session) => break session,
            // A new role's trust policy takes seconds to reach STS on AWS.
            Err(err) if err.code == "AccessDenied" && attempt < IAM_POLLS => {
                ctx.wait(POLL_INTERVAL).await;
            }
            Err(err) => return Err(err.into()),
        }
    };
    who_am_i(ctx, &session).await?;
    Ok(session)
}

/// The report's IAM user (its CLI's `cfn` profile) with PowerUserAccess and an access key.
async fn iam_user(ctx: &mut RunContext, admin: &Actor) -> Result<Principal, HarnessError> {
    let iam = &admin.iam;
    let tag = iam_tag(ctx)?;
    let result = iam
        .create_user()
        .user_name(USER_NAME)
        .tags(tag)
        .send()
        .await;
    ctx.recorder.record_sdk(
        &admin.label,
        "iam:CreateUser",
        result,
        |out| json!({ "Arn": out.user().map(|u| u.arn()) }),
    )?;
    let result = iam
        .attach_user_policy()
        .user_name(USER_NAME)
        .policy_arn(POWER_USER_ACCESS)
        .send()
        .await;
    ctx.recorder.record_sdk(
        &admin.label,
        "iam:AttachUserPolicy",
        result,
        |_| json!({ "UserName": USER_NAME, "PolicyArn": POWER_USER_ACCESS }),
    )?;
    let result = iam.create_access_key().user_name(USER_NAME).send().await;
    // Only the key id is recorded; the secret goes straight into the principal, whose
    // registration keeps it out of every report.
    let created = ctx.recorder.record_sdk(
        &admin.label,
        "iam:CreateAccessKey",
        result,
        |out| json!({ "AccessKeyId": out.access_key().map(|k| k.access_key_id()) }),
    )?;
    let key = created
        .access_key()
        .ok_or_else(|| HarnessError::Scenario("CreateAccessKey answered without a key".into()))?;
    let user = ctx
        .principal_from_keys(
            &format!("{USER_NAME}@a"),
            &admin.account,
            key.access_key_id(),
            key.secret_access_key(),
            None,
        )?
        .with_arn(format!("arn:aws:iam::{}:user/{USER_NAME}", admin.account));
    // A new key is accepted by every endpoint only after IAM has propagated it.
    for attempt in 1..=IAM_POLLS {
        match who_am_i(ctx, &user).await {
            Ok(()) => break,
            Err(err) if err.code == "InvalidClientTokenId" && attempt < IAM_POLLS => {
                ctx.wait(POLL_INTERVAL).await;
            }
            Err(err) => return Err(err.into()),
        }
    }
    Ok(user)
}

/// `sts:GetCallerIdentity`, recorded with the kind of credentials the principal signs with: the
/// one difference between the two deployers that matters.
async fn who_am_i(ctx: &mut RunContext, principal: &Principal) -> Result<(), StepError> {
    let result = principal.sts().get_caller_identity().send().await;
    let credentials = if principal.is_temporary() {
        "temporary (access key and session token from sts:AssumeRole)"
    } else {
        "long-term (an IAM user's access key)"
    };
    ctx.recorder
        .record_sdk(
            &principal.label,
            "sts:GetCallerIdentity",
            result,
            |out| json!({ "Arn": out.arn(), "Credentials": credentials }),
        )
        .map(drop)
}

// ---------------------------------------------------------------------------------------------
// CloudFormation

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

fn stack_tag(ctx: &RunContext) -> StackTag {
    StackTag::builder()
        .key(RUN_ID_TAG)
        .value(&ctx.run_id)
        .build()
}

/// `aws cloudformation create-stack --stack-name <name> --template-body file://ec2.json`.
async fn create_stack(
    ctx: &mut RunContext,
    principal: &Actor,
    name: &str,
) -> Result<(), HarnessError> {
    let result = principal
        .cloudformation
        .create_stack()
        .stack_name(name)
        .template_body(EC2_JSON)
        .tags(stack_tag(ctx))
        .send()
        .await;
    ctx.recorder.record_sdk(
        &principal.label,
        "cloudformation:CreateStack",
        result,
        |_| json!({ "StackName": name, "TemplateBody": "ec2.json" }),
    )?;
    Ok(())
}

/// `aws cloudformation update-stack --stack-name <name> --template-body file://ec2_update.json`.
async fn update_stack(
    ctx: &mut RunContext,
    principal: &Actor,
    name: &str,
) -> Result<(), HarnessError> {
    let result = principal
        .cloudformation
        .update_stack()
        .stack_name(name)
        .template_body(EC2_UPDATE_JSON)
        .tags(stack_tag(ctx))
        .send()
        .await;
    ctx.recorder.record_sdk(
        &principal.label,
        "cloudformation:UpdateStack",
        result,
        |_| {
            json!({
                "StackName": name,
                "TemplateBody": "ec2_update.json",
                "AlarmName": RENEWED_ALARM,
            })
        },
    )?;
    Ok(())
}

fn in_progress(status: &StackStatus) -> bool {
    status.as_str().ends_with("_IN_PROGRESS")
}

/// Polls DescribeStacks until the stack leaves its `…_IN_PROGRESS` status. Only the final answer
/// is recorded (an "in progress" says nothing); a status other than `done` is an error of the
/// run, with the stack's failure reasons recorded from its events.
async fn wait_for_stack(
    ctx: &mut RunContext,
    principal: &Actor,
    name: &str,
    done: StackStatus,
) -> Result<Stack, HarnessError> {
    for poll in 1..=STACK_POLLS {
        let result = principal
            .cloudformation
            .describe_stacks()
            .stack_name(name)
            .send()
            .await;
        let stack = match &result {
            Ok(out) => out.stacks().first().cloned(),
            Err(_) => None,
        };
        let status = stack.as_ref().and_then(|s| s.stack_status()).cloned();
        let still_running = status.as_ref().is_some_and(in_progress);
        if still_running && poll < STACK_POLLS {
            ctx.wait(POLL_INTERVAL).await;
            continue;
        }
        ctx.recorder.record_sdk(
            &principal.label,
            "cloudformation:DescribeStacks",
            result,
            |out| out.stacks().first().map_or(Value::Null, stack_detail),
        )?;
        let stack = stack
            .ok_or_else(|| HarnessError::Scenario(format!("DescribeStacks did not list {name}")))?;
        if status.as_ref() == Some(&done) {
            return Ok(stack);
        }
        record_failure_events(ctx, principal, name).await;
        return Err(HarnessError::Scenario(format!(
            "stack {name} ended in {} instead of {}",
            status.as_ref().map_or("no status", |s| s.as_str()),
            done.as_str()
        )));
    }
    unreachable!("the last poll always returns")
}

fn stack_detail(stack: &Stack) -> Value {
    let outputs: serde_json::Map<String, Value> = stack
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_string(), json!(o.output_value()?))))
        .collect();
    json!({
        "StackName": stack.stack_name(),
        "StackStatus": stack.stack_status().map(|s| s.as_str()),
        "Outputs": outputs,
    })
}

/// Records the events that say why a stack failed (the inner AWS errors are in their reasons).
async fn record_failure_events(ctx: &mut RunContext, principal: &Actor, name: &str) {
    let result = principal
        .cloudformation
        .describe_stack_events()
        .stack_name(name)
        .send()
        .await;
    let _ = ctx.recorder.record_sdk(
        &principal.label,
        "cloudformation:DescribeStackEvents",
        result,
        |out| {
            let failed: Vec<Value> = out
                .stack_events()
                .iter()
                .filter(|e| {
                    e.resource_status()
                        .is_some_and(|s| s.as_str().ends_with("_FAILED"))
                })
                .map(|e| {
                    json!({
                        "LogicalResourceId": e.logical_resource_id(),
                        "ResourceStatus": e.resource_status().map(|s| s.as_str()),
                        "ResourceStatusReason": e.resource_status_reason(),
                    })
                })
                .collect();
            json!({ "FailedEvents": failed })
        },
    );
}

/// The physical ids of the stack's `RecoveryAlarm` and `Ec2Instance`. CloudFormation generates
/// the alarm's name (`<stack>-RecoveryAlarm-<13 characters>`) unless the template sets
/// `AlarmName`.
async fn resources_of_stack(
    ctx: &mut RunContext,
    principal: &Actor,
    stack_name: &str,
) -> Result<(String, String), HarnessError> {
    let result = principal
        .cloudformation
        .describe_stack_resources()
        .stack_name(stack_name)
        .send()
        .await;
    let out = ctx.recorder.record_sdk(
        &principal.label,
        "cloudformation:DescribeStackResources",
        result,
        |out| {
            let resources: serde_json::Map<String, Value> = out
                .stack_resources()
                .iter()
                .filter_map(|r| {
                    Some((
                        r.logical_resource_id()?.to_string(),
                        json!({
                            "ResourceType": r.resource_type(),
                            "PhysicalResourceId": r.physical_resource_id(),
                            "ResourceStatus": r.resource_status().map(ResourceStatus::as_str),
                        }),
                    ))
                })
                .collect();
            json!({ "StackName": stack_name, "StackResources": resources })
        },
    )?;
    let physical_id = |logical: &str| {
        out.stack_resources()
            .iter()
            .find(|r| r.logical_resource_id() == Some(logical))
            .and_then(|r| r.physical_resource_id())
            .map(str::to_string)
            .ok_or_else(|| {
                HarnessError::Scenario(format!("stack {stack_name} has no {logical} resource"))
            })
    };
    Ok((physical_id("RecoveryAlarm")?, physical_id("Ec2Instance")?))
}

// ---------------------------------------------------------------------------------------------
// EC2

/// Polls DescribeInstances until the instance is `running`; only the final answer is recorded.
async fn wait_until_running(
    ctx: &mut RunContext,
    principal: &Actor,
    instance_id: &str,
) -> Result<(), HarnessError> {
    let ec2 = &principal.ec2;
    for poll in 1..=STACK_POLLS {
        let result = ec2
            .describe_instances()
            .instance_ids(instance_id)
            .send()
            .await;
        let state = result.as_ref().ok().and_then(|out| {
            out.reservations()
                .iter()
                .flat_map(|r| r.instances())
                .find_map(|i| i.state().and_then(|s| s.name()).cloned())
        });
        if state == Some(InstanceStateName::Pending) && poll < STACK_POLLS {
            ctx.wait(POLL_INTERVAL).await;
            continue;
        }
        ctx.recorder
            .record_sdk(&principal.label, "ec2:DescribeInstances", result, |_| {
                json!({
                    "InstanceId": instance_id,
                    "State": state.as_ref().map(|s| s.as_str()),
                })
            })?;
        return match state {
            Some(InstanceStateName::Running) => Ok(()),
            other => Err(HarnessError::Scenario(format!(
                "instance {instance_id} is {} instead of running",
                other.as_ref().map_or("unknown", |s| s.as_str())
            ))),
        };
    }
    unreachable!("the last poll always returns")
}

// ---------------------------------------------------------------------------------------------
// CloudWatch

/// `aws cloudwatch set-alarm-state --alarm-name <alarm> --state-value ALARM --state-reason
/// "Manual Update to ALARM"`.
async fn set_alarm_state(
    ctx: &mut RunContext,
    principal: &Actor,
    alarm: &str,
) -> Result<(), HarnessError> {
    let result = principal
        .cloudwatch
        .set_alarm_state()
        .alarm_name(alarm)
        .state_value(StateValue::Alarm)
        .state_reason(STATE_REASON)
        .send()
        .await;
    ctx.recorder.record_sdk(
        &principal.label,
        "cloudwatch:SetAlarmState",
        result,
        |_| json!({ "AlarmName": alarm, "StateValue": "ALARM", "StateReason": STATE_REASON }),
    )?;
    Ok(())
}

/// `aws cloudwatch describe-alarm-history --alarm-name <alarm> --history-item-type Action`,
/// polled until CloudWatch has written the item of the action. The read is recorded with the
/// summary; the action itself is then recorded as a step of its own, failed or not, with the
/// error text CloudWatch kept: what the action did is the point of the trap.
async fn action_outcome(
    ctx: &mut RunContext,
    reader: &Actor,
    alarm: &str,
    creator_label: &str,
) -> Result<ActionOutcome, HarnessError> {
    for poll in 1..=HISTORY_POLLS {
        let result = reader
            .cloudwatch
            .describe_alarm_history()
            .alarm_name(alarm)
            .history_item_type(HistoryItemType::Action)
            .send()
            .await;
        // Newest first, as CloudWatch lists them.
        let newest = match &result {
            Ok(out) => out.alarm_history_items().first().cloned(),
            Err(_) => None,
        };
        if result.is_ok() && newest.is_none() && poll < HISTORY_POLLS {
            ctx.wait(POLL_INTERVAL).await;
            continue;
        }
        ctx.recorder.record_sdk(
            &reader.label,
            "cloudwatch:DescribeAlarmHistory",
            result,
            |out| {
                let items: Vec<Value> = out
                    .alarm_history_items()
                    .iter()
                    .map(|i| {
                        json!({
                            "HistoryItemType": i.history_item_type().map(|t| t.as_str()),
                            "HistorySummary": i.history_summary(),
                        })
                    })
                    .collect();
                json!({ "AlarmName": alarm, "HistoryItemType": "Action", "AlarmHistoryItems": items })
            },
        )?;
        let item = newest.ok_or_else(|| {
            HarnessError::Scenario(format!(
                "alarm {alarm} has no Action item in its history after {HISTORY_POLLS} reads"
            ))
        })?;
        let outcome = parse_action_item(
            item.history_summary().unwrap_or_default(),
            item.history_data().unwrap_or_default(),
        );
        let call = format!("alarm action of {alarm}");
        let step = if outcome.succeeded {
            Step::succeeded(ctx.recorder.phase(), "cloudwatch.amazonaws.com", call)
                .with_detail(json!({ "HistorySummary": outcome.summary }))
        } else {
            let error = StepError::new(
                outcome.action_state.clone(),
                outcome
                    .error
                    .clone()
                    .unwrap_or_else(|| outcome.summary.clone()),
            );
            Step::failed(
                ctx.recorder.phase(),
                "cloudwatch.amazonaws.com",
                call,
                &error,
            )
            .with_detail(json!({ "HistorySummary": outcome.summary }))
        };
        ctx.recorder.push(step.with_note(format!(
            "the alarm's recover action, as its Action history item tells it; the alarm was \
             created by {creator_label}"
        )));
        return Ok(outcome);
    }
    unreachable!("the last poll always returns")
}

/// Reads an `Action` history item: `HistoryData` is JSON with `actionState` (`Succeeded`,
/// `Failed`) and `error` (null on success).
pub fn parse_action_item(summary: &str, data: &str) -> ActionOutcome {
    let data: Value = serde_json::from_str(data).unwrap_or(Value::Null);
    let action_state = data["actionState"]
        .as_str()
        .map(str::to_string)
        // Without data, the summary's wording is all there is to go by.
        .unwrap_or_else(|| {
            if summary.starts_with("Successfully executed action") {
                "Succeeded".to_string()
            } else {
                "Failed".to_string()
            }
        });
    ActionOutcome {
        succeeded: action_state == "Succeeded",
        summary: summary.to_string(),
        error: data["error"].as_str().map(str::to_string),
        action_state,
    }
}

/// `aws cloudwatch describe-alarms`: the alarms as anyone can see them. The fields the answer
/// carries are recorded by name, to show that none of them says who created the alarm.
async fn describe_alarms(
    ctx: &mut RunContext,
    reader: &Actor,
    alarms: &[&str],
) -> Result<(), HarnessError> {
    let result = reader
        .cloudwatch
        .describe_alarms()
        .set_alarm_names(Some(alarms.iter().map(|a| a.to_string()).collect()))
        .send()
        .await;
    ctx.recorder
        .record_sdk(&reader.label, "cloudwatch:DescribeAlarms", result, |out| {
            let described: Vec<Value> = out
                .metric_alarms()
                .iter()
                .map(|alarm| {
                    json!({
                        "AlarmName": alarm.alarm_name(),
                        "StateValue": alarm.state_value().map(|s| s.as_str()),
                        "AlarmActions": alarm.alarm_actions(),
                        "Fields": present_fields(alarm),
                    })
                })
                .collect();
            json!({ "MetricAlarms": described })
        })?;
    Ok(())
}

/// The names of the `MetricAlarm` members present in a DescribeAlarms answer.
pub fn present_fields(alarm: &MetricAlarm) -> Vec<&'static str> {
    let checks: [(&'static str, bool); 26] = [
        ("AlarmName", alarm.alarm_name().is_some()),
        ("AlarmArn", alarm.alarm_arn().is_some()),
        ("AlarmDescription", alarm.alarm_description().is_some()),
        (
            "AlarmConfigurationUpdatedTimestamp",
            alarm.alarm_configuration_updated_timestamp().is_some(),
        ),
        ("ActionsEnabled", alarm.actions_enabled().is_some()),
        ("OKActions", alarm.ok_actions.is_some()),
        ("AlarmActions", alarm.alarm_actions.is_some()),
        (
            "InsufficientDataActions",
            alarm.insufficient_data_actions.is_some(),
        ),
        ("StateValue", alarm.state_value().is_some()),
        ("StateReason", alarm.state_reason().is_some()),
        ("StateReasonData", alarm.state_reason_data().is_some()),
        (
            "StateUpdatedTimestamp",
            alarm.state_updated_timestamp().is_some(),
        ),
        ("MetricName", alarm.metric_name().is_some()),
        ("Namespace", alarm.namespace().is_some()),
        ("Statistic", alarm.statistic().is_some()),
        ("ExtendedStatistic", alarm.extended_statistic().is_some()),
        ("Dimensions", alarm.dimensions.is_some()),
        ("Period", alarm.period().is_some()),
        ("Unit", alarm.unit().is_some()),
        ("EvaluationPeriods", alarm.evaluation_periods().is_some()),
        ("DatapointsToAlarm", alarm.datapoints_to_alarm().is_some()),
        ("Threshold", alarm.threshold().is_some()),
        ("ComparisonOperator", alarm.comparison_operator().is_some()),
        ("TreatMissingData", alarm.treat_missing_data().is_some()),
        (
            "EvaluateLowSampleCountPercentile",
            alarm.evaluate_low_sample_count_percentile().is_some(),
        ),
        (
            "StateTransitionedTimestamp",
            alarm.state_transitioned_timestamp().is_some(),
        ),
    ];
    checks
        .into_iter()
        .filter(|(_, present)| *present)
        .map(|(name, _)| name)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Teardown

/// Deletes both stacks (and so the instances and alarms), then the user and the role. Copes with
/// anything that was never created; on AWS it waits for the stacks to be gone.
async fn teardown(ctx: &mut RunContext) -> Result<(), HarnessError> {
    let admin = Actor::new(ctx.admin("a")?);
    let cfn = &admin.cloudformation;
    for name in [ROLE_STACK, USER_STACK] {
        let result = cfn.delete_stack().stack_name(name).send().await;
        ctx.recorder.record_sdk(
            &admin.label,
            "cloudformation:DeleteStack",
            result,
            |_| json!({ "StackName": name }),
        )?;
    }
    for name in [ROLE_STACK, USER_STACK] {
        wait_until_deleted(ctx, &admin, name).await?;
    }

    let iam = &admin.iam;
    let mut problems = Vec::new();
    let keys = iam.list_access_keys().user_name(USER_NAME).send().await;
    let keys: Vec<String> = match keys {
        Ok(out) => out
            .access_key_metadata()
            .iter()
            .filter_map(|k| k.access_key_id().map(str::to_string))
            .collect(),
        Err(_) => Vec::new(),
    };
    for key in keys {
        let result = iam
            .delete_access_key()
            .user_name(USER_NAME)
            .access_key_id(&key)
            .send()
            .await;
        note_problem(
            &mut problems,
            ctx.recorder.record_sdk(
                &admin.label,
                "iam:DeleteAccessKey",
                result,
                |_| json!({ "UserName": USER_NAME, "AccessKeyId": key }),
            ),
        );
    }
    let result = iam
        .detach_user_policy()
        .user_name(USER_NAME)
        .policy_arn(POWER_USER_ACCESS)
        .send()
        .await;
    note_problem(
        &mut problems,
        ctx.recorder.record_sdk(
            &admin.label,
            "iam:DetachUserPolicy",
            result,
            |_| json!({ "UserName": USER_NAME }),
        ),
    );
    let result = iam.delete_user().user_name(USER_NAME).send().await;
    note_problem(
        &mut problems,
        ctx.recorder.record_sdk(
            &admin.label,
            "iam:DeleteUser",
            result,
            |_| json!({ "UserName": USER_NAME }),
        ),
    );
    let result = iam
        .detach_role_policy()
        .role_name(ROLE_NAME)
        .policy_arn(POWER_USER_ACCESS)
        .send()
        .await;
    note_problem(
        &mut problems,
        ctx.recorder.record_sdk(
            &admin.label,
            "iam:DetachRolePolicy",
            result,
            |_| json!({ "RoleName": ROLE_NAME }),
        ),
    );
    let result = iam.delete_role().role_name(ROLE_NAME).send().await;
    note_problem(
        &mut problems,
        ctx.recorder.record_sdk(
            &admin.label,
            "iam:DeleteRole",
            result,
            |_| json!({ "RoleName": ROLE_NAME }),
        ),
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(HarnessError::Scenario(format!(
            "teardown left resources behind: {}",
            problems.join("; ")
        )))
    }
}

/// An entity that does not exist is already torn down; anything else is a problem.
fn note_problem<T>(problems: &mut Vec<String>, result: Result<T, StepError>) {
    if let Err(err) = result {
        if err.code != "NoSuchEntity" {
            problems.push(err.to_string());
        }
    }
}

/// Polls DescribeStacks until the stack is gone (`Stack with id … does not exist`) or
/// `DELETE_COMPLETE`; `DELETE_FAILED` and running out of polls are errors.
async fn wait_until_deleted(
    ctx: &mut RunContext,
    admin: &Actor,
    name: &str,
) -> Result<(), HarnessError> {
    for _ in 0..STACK_POLLS {
        let result = admin
            .cloudformation
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .map_err(|err| StepError::from_sdk(&err));
        let status = match &result {
            Err(err)
                if err.code == "ValidationError" && err.message.ends_with("does not exist") =>
            {
                return Ok(());
            }
            Err(_) => None,
            Ok(out) => out.stacks().first().and_then(|s| s.stack_status()).cloned(),
        };
        match status {
            Some(StackStatus::DeleteComplete) => return Ok(()),
            Some(status) if in_progress(&status) => ctx.wait(POLL_INTERVAL).await,
            _ => {
                ctx.recorder.record(
                    &admin.label,
                    "cloudformation:DescribeStacks",
                    &result,
                    |out| out.stacks().first().map_or(Value::Null, stack_detail),
                );
                return Err(HarnessError::Scenario(format!(
                    "stack {name} could not be deleted"
                )));
            }
        }
    }
    Err(HarnessError::Scenario(format!(
        "stack {name} was still being deleted after {STACK_POLLS} polls"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrative_quotes_the_failure_and_names_both_eras() {
        let narrative = super::TRAP.narrative;
        assert!(narrative.contains(
            "Encountered error calling EC2 recover. (401: AWS was not able to validate the provided access credentials)"
        ));
        assert!(narrative.contains("arn:aws:automate:"));
        assert!(narrative.contains("2017-12-18"));
    }

    #[test]
    fn the_update_template_is_the_report_template_plus_one_alarm_name_line() {
        let original: Vec<&str> = EC2_JSON.lines().collect();
        let updated: Vec<&str> = EC2_UPDATE_JSON.lines().collect();
        assert_eq!(updated.len(), original.len() + 1);
        // `diff ec2.json ec2_update.json` in the report: `30a31`.
        assert_eq!(updated[..30], original[..30]);
        assert_eq!(
            updated[30],
            format!("        \"AlarmName\": \"{RENEWED_ALARM}\",")
        );
        assert_eq!(updated[31..], original[30..]);
        for template in [EC2_JSON, EC2_UPDATE_JSON] {
            let parsed: Value = serde_json::from_str(template).unwrap();
            assert_eq!(
                parsed["Resources"]["Ec2Instance"]["Properties"]["ImageId"],
                "ami-374db956"
            );
        }
    }

    #[test]
    fn action_items_are_read_from_their_history_data() {
        let failed = parse_action_item(
            "Failed to execute action arn:aws:automate:us-east-1:ec2:recover. Received error: \"x\"",
            r#"{"error":"Encountered error calling EC2 recover. (401: AWS was not able to validate the provided access credentials)","actionState":"Failed"}"#,
        );
        assert!(!failed.succeeded);
        assert_eq!(failed.action_state, "Failed");
        assert!(failed.is_authentication_failure());
        assert!(failed.error.unwrap().contains("(401: "));

        // A failure for another reason (a permission the action's identity lacks) is not the trap.
        let unauthorized = parse_action_item(
            "Failed to execute action arn:aws:automate:us-east-1:ec2:stop. Received error: \"x\"",
            r#"{"error":"Encountered error calling EC2 stop. (403: You are not authorized to perform this operation.)","actionState":"Failed"}"#,
        );
        assert!(!unauthorized.succeeded);
        assert!(!unauthorized.is_authentication_failure());

        let ok = parse_action_item(
            "Successfully executed action arn:aws:automate:us-east-1:ec2:recover",
            r#"{"error":null,"actionState":"Succeeded"}"#,
        );
        assert!(ok.succeeded && ok.error.is_none());

        let no_data = parse_action_item("Successfully executed action arn:aws:sns:x", "");
        assert!(no_data.succeeded);
    }

    #[test]
    fn expectations_follow_the_eras() {
        let s = AlarmRecover;
        assert_eq!(
            s.expected_verdict(BackendKind::Emulator, BehaviourProfile::Legacy2016),
            Verdict::ReproducedAndFixed
        );
        assert_eq!(
            s.expected_verdict(BackendKind::Emulator, BehaviourProfile::Current),
            Verdict::NotReproduced
        );
        assert_eq!(
            s.expected_verdict(BackendKind::Sandbox, BehaviourProfile::Current),
            Verdict::NotReproduced
        );
        assert_eq!(
            s.expected_verdict(BackendKind::Localstack, BehaviourProfile::Current),
            Verdict::Unsupported
        );
        assert_eq!(s.profiles().len(), 2);
    }
}
