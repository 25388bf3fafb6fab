//! The trap as an exercise: set up once, take fixes from outside, check as often as asked.

use wana_harness::{HarnessError, RunContext, ScenarioFuture, StepError};

use super::{service_linked_role_arn, setup, verify, Activity, Fix, Provisioned, ROLE_NAME, SERVICE_LINKED_ROLE};
use crate::exercise::{apply, breadth::EBS_GRANT_OPERATIONS, Applied, Exercise, FixKind, Needs, Observed, Session, UserFix, Verified};

pub static EXERCISE: AsgExercise = AsgExercise;

#[derive(Debug)]
pub struct AsgExercise;

impl Exercise for AsgExercise {
    fn trap(&self) -> &'static str {
        super::TRAP.id
    }

    fn kinds(&self) -> &'static [FixKind] {
        &[FixKind::Grant, FixKind::KeyPolicy, FixKind::IamPolicy]
    }

    fn own_placeholders(&self) -> &'static [&'static str] {
        &["OwnerAccountId", "ConsumerAccountId", "ServiceLinkedRoleArn", "ConsumerRoleArn", "ImageId"]
    }

    fn setup<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Box<dyn Session>> {
        Box::pin(async move {
            // A's key policy as the report has it: account B may create grants from the CLI.
            let set_up = setup(ctx, Fix::ReportGrant).await?;
            let provisioned = set_up.provisioned;
            let out = aws_sdk_kms::Client::new(&provisioned.owner.config)
                .get_key_policy()
                .key_id(&provisioned.key_arn)
                .policy_name("default")
                .send()
                .await
                .map_err(|e| StepError::from_sdk(&e))?;
            let baseline = out.policy().unwrap_or_default().to_string();
            let observed = observed(&set_up.direct_launch_state, set_up.failure.as_ref());
            Ok(Box::new(AsgSession { provisioned, observed, baseline }) as Box<dyn Session>)
        })
    }
}

fn observed(direct: &str, failure: Option<&Activity>) -> Observed {
    let failure_text = match failure {
        Some(activity) => format!(
            "RunInstances by {ROLE_NAME} with the shared AMI: {direct}. The Auto Scaling group's launch: {} — {}",
            activity.status_code,
            activity.status_message.as_deref().unwrap_or(&activity.description)
        ),
        None => format!("RunInstances by {ROLE_NAME} with the shared AMI: {direct}; the group's launch did not fail"),
    };
    Observed { reproduced: failure.is_some_and(Activity::is_kms_launch_failure), failure: failure_text, denied: Vec::new() }
}

struct AsgSession {
    provisioned: Provisioned,
    observed: Observed,
    baseline: String,
}

impl Session for AsgSession {
    fn observed(&self) -> &Observed {
        &self.observed
    }

    fn placeholders(&self, kind: FixKind) -> Vec<(&'static str, String)> {
        let p = &self.provisioned;
        let slr = service_linked_role_arn(&p.consumer_admin.account);
        // The account acting: A puts its key policy, B creates grants and IAM policies.
        let acting = if kind == FixKind::KeyPolicy { &p.owner } else { &p.consumer_admin };
        vec![
            ("AccountId", acting.account.clone()),
            ("OwnerAccountId", p.owner.account.clone()),
            ("ConsumerAccountId", p.consumer_admin.account.clone()),
            ("Region", p.region.clone()),
            ("KeyArn", p.key_arn.clone()),
            ("RoleArn", p.role_arn.clone()),
            ("ServiceLinkedRoleArn", slr),
            ("ConsumerRoleArn", p.role_arn.clone()),
            ("ImageId", p.image_id.clone()),
        ]
    }

    fn needs(&self, _kind: FixKind) -> Needs {
        let p = &self.provisioned;
        Needs {
            principal: Some(service_linked_role_arn(&p.consumer_admin.account)),
            resource: Some(p.key_arn.clone()),
            via_service: None,
            kms: true,
            grant_operations: EBS_GRANT_OPERATIONS.map(String::from).to_vec(),
        }
    }

    fn baseline(&self, kind: FixKind) -> Option<String> {
        (kind == FixKind::KeyPolicy).then(|| self.baseline.clone())
    }

    fn accounts(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            (super::OWNER, "the image owner: owns the key and the shared AMI"),
            (super::CONSUMER, "the consumer: runs the Auto Scaling group, with AmiConsumer and AWSServiceRoleForAutoScaling"),
        ]
    }

    fn apply<'a>(&'a mut self, ctx: &'a mut RunContext, fix: &'a UserFix) -> ScenarioFuture<'a, Applied> {
        Box::pin(async move {
            let p = &self.provisioned;
            Ok(match fix.kind {
                // The report's story: B's administrator creates the grant on A's key.
                FixKind::Grant => apply::create_grant(ctx, &p.consumer_admin.clone(), &p.key_arn, &fix.document).await,
                // A's administrator owns the key policy.
                FixKind::KeyPolicy => apply::put_key_policy(ctx, &p.owner.clone(), &p.key_arn, &fix.document).await,
                // The role that needs the key is the service-linked role (AWS refuses changes to it).
                FixKind::IamPolicy => apply::put_role_policy(ctx, &p.consumer_admin.clone(), SERVICE_LINKED_ROLE, &fix.document).await,
                other => return Err(HarnessError::Scenario(format!("{} takes no {other} fix", super::TRAP.id))),
            })
        })
    }

    fn verify<'a>(&'a mut self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Verified> {
        Box::pin(async move {
            let gone = verify(ctx, &self.provisioned).await?;
            let detail = if gone {
                format!("The Auto Scaling group {} has an instance InService.", self.provisioned.group_name)
            } else {
                format!("The Auto Scaling group {} still has no instance InService: its launches fail.", self.provisioned.group_name)
            };
            Ok(Verified { gone, detail })
        })
    }
}
