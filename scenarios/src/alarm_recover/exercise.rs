//! The trap as an exercise (under `legacy-2016`, where it reproduces): set up once, take a
//! template from outside (the stack update the report's IAM user makes), check as often as
//! asked.

use aws_sdk_cloudformation::types::StackStatus;
use aws_sdk_cloudwatch::types::StateValue;
use serde_json::json;
use wana_harness::{BehaviourProfile, HarnessError, RunContext, ScenarioFuture, StepError};

use super::cloudformation::{update_stack_with, wait_for_stack};
use super::{setup, verify, Story, ROLE_NAME, USER_NAME};
use crate::exercise::{Applied, Exercise, FixKind, Needs, Observed, Session, UserFix, Verified};

pub static EXERCISE: AlarmExercise = AlarmExercise;

#[derive(Debug)]
pub struct AlarmExercise;

impl Exercise for AlarmExercise {
    fn trap(&self) -> &'static str {
        super::TRAP.id
    }

    fn kinds(&self) -> &'static [FixKind] {
        &[FixKind::Template]
    }

    fn profile(&self) -> BehaviourProfile {
        BehaviourProfile::Legacy2016
    }

    fn own_placeholders(&self) -> &'static [&'static str] {
        &["StackName", "UserName"]
    }

    fn setup<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Box<dyn Session>> {
        Box::pin(async move {
            let story = setup(ctx).await?;
            let action = &story.role_action;
            let observed = Observed {
                reproduced: action.is_authentication_failure(),
                failure: format!(
                    "The recover action of the alarm {} created with the role session's credentials: {}",
                    story.names.role_stack,
                    action.error.as_deref().unwrap_or(&action.summary)
                ),
                denied: Vec::new(),
            };
            let region = ctx.backend.region().to_string();
            Ok(Box::new(AlarmSession { story, observed, region }) as Box<dyn Session>)
        })
    }
}

struct AlarmSession {
    story: Story,
    observed: Observed,
    region: String,
}

impl AlarmSession {
    /// The stack's alarm and instance now (a template may rename them or their logical ids), as
    /// the IAM user.
    async fn resources(&self, ctx: &mut RunContext) -> Result<(String, Option<String>), HarnessError> {
        let user = &self.story.user;
        let stack = &self.story.names.role_stack;
        let out = user.cloudformation.describe_stack_resources().stack_name(stack).send().await;
        let out = ctx.recorder.record_sdk(&user.label, "cloudformation:DescribeStackResources", out, |out| {
            json!({ "StackName": stack, "Alarms": out.stack_resources().iter()
                .filter(|r| r.resource_type() == Some("AWS::CloudWatch::Alarm")).map(|r| r.physical_resource_id()).collect::<Vec<_>>() })
        })?;
        let of_type = |kind: &str| {
            out.stack_resources()
                .iter()
                .find(|r| r.resource_type() == Some(kind))
                .and_then(|r| r.physical_resource_id())
                .map(str::to_string)
        };
        let alarm = of_type("AWS::CloudWatch::Alarm").ok_or_else(|| HarnessError::Scenario(format!("stack {stack} has no alarm")))?;
        Ok((alarm, of_type("AWS::EC2::Instance")))
    }
}

impl Session for AlarmSession {
    fn observed(&self) -> &Observed {
        &self.observed
    }

    fn placeholders(&self, _kind: FixKind) -> Vec<(&'static str, String)> {
        let account = self.story.admin.account.clone();
        vec![
            ("RoleArn", format!("arn:aws:iam::{account}:role/{ROLE_NAME}")),
            ("AccountId", account),
            ("Region", self.region.clone()),
            ("StackName", self.story.names.role_stack.clone()),
            ("UserName", USER_NAME.to_string()),
        ]
    }

    fn needs(&self, _kind: FixKind) -> Needs {
        Needs::default()
    }

    fn baseline(&self, kind: FixKind) -> Option<String> {
        (kind == FixKind::Template).then(|| super::EC2_JSON.to_string())
    }

    fn accounts(&self) -> Vec<(&'static str, &'static str)> {
        vec![("a", "the account of the stacks, the role wana-alarm-operator and the IAM user wana-alarm-deployer")]
    }

    fn apply<'a>(&'a mut self, ctx: &'a mut RunContext, fix: &'a UserFix) -> ScenarioFuture<'a, Applied> {
        Box::pin(async move {
            if fix.kind != FixKind::Template {
                return Err(HarnessError::Scenario(format!("{} takes no {} fix", super::TRAP.id, fix.kind)));
            }
            // The report's story: the IAM user updates the role's stack.
            let user = &self.story.user;
            let stack = self.story.names.role_stack.clone();
            let call = format!("cloudformation:UpdateStack {stack}");
            let principal = user.label.clone();
            if let Err(error) = update_stack_with(ctx, user, &stack, &fix.document).await {
                return Ok(Applied { call, principal, error: Some(error), output: None });
            }
            let error = match wait_for_stack(ctx, user, &stack, StackStatus::UpdateComplete).await {
                Ok(_) => None,
                Err(err) => Some(StepError::new("UpdateFailed", err.to_string())),
            };
            Ok(Applied { call, principal, error, output: None })
        })
    }

    fn verify<'a>(&'a mut self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Verified> {
        Box::pin(async move {
            let (alarm, instance) = self.resources(ctx).await?;
            let Story { admin, session, user, .. } = &self.story;
            // Only a running instance can be recovered (an update may have replaced it).
            if let Some(instance) = instance {
                super::ec2::wait_until_running(ctx, session, &instance).await?;
            }
            // An alarm already in ALARM would not act again: back to OK first.
            let described = admin.cloudwatch.describe_alarms().alarm_names(&alarm).send().await.map_err(|e| StepError::from_sdk(&e))?;
            let in_alarm = described.metric_alarms().first().and_then(|a| a.state_value()) == Some(&StateValue::Alarm);
            if in_alarm {
                let result = session.cloudwatch.set_alarm_state().alarm_name(&alarm).state_value(StateValue::Ok).state_reason("wana: checked again").send().await;
                ctx.recorder.record_sdk(&session.label, "cloudwatch:SetAlarmState", result, |_| json!({ "AlarmName": alarm, "StateValue": "OK" }))?;
            }
            let outcome = verify(ctx, admin, session, user, &alarm).await?;
            let detail = format!("The recover action of {alarm}: {}", outcome.error.as_deref().unwrap_or(&outcome.summary));
            Ok(Verified { gone: outcome.succeeded, detail })
        })
    }
}
