//! The trap as an exercise: set up once, take fixes from outside, check as often as asked.

use wana_harness::{BehaviourProfile, HarnessError, Principal, RunContext, ScenarioFuture};

use super::{steps, Provisioned, Settled, EXTERNAL_ID, ROLE_NAME};
use crate::exercise::{apply, breadth::EBS_GRANT_OPERATIONS, Applied, Exercise, FixKind, Needs, Observed, Session, UserFix, Verified};

pub static EXERCISE: CmkExercise = CmkExercise;

#[derive(Debug)]
pub struct CmkExercise;

impl Exercise for CmkExercise {
    fn trap(&self) -> &'static str {
        super::TRAP.id
    }

    fn kinds(&self) -> &'static [FixKind] {
        &[FixKind::KeyPolicy, FixKind::IamPolicy, FixKind::Grant, FixKind::TrustPolicy]
    }

    fn profile(&self) -> BehaviourProfile {
        BehaviourProfile::Current
    }

    fn own_placeholders(&self) -> &'static [&'static str] {
        &["VendorAccountId", "OtherRegion", "CustomerAccountId", "ExternalId"]
    }

    fn setup<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Box<dyn Session>> {
        Box::pin(async move {
            let (provisioned, session, first) = steps::setup(ctx).await?;
            let baseline = key_policy(&provisioned).await?;
            let observed = observed(&first);
            Ok(Box::new(CmkSession { provisioned, session, observed, baseline }) as Box<dyn Session>)
        })
    }
}

fn observed(first: &Settled) -> Observed {
    Observed {
        reproduced: first.fell_back_to_stopped(),
        failure: format!(
            "StartInstances by {ROLE_NAME} answered pending; the instance is {} ({})",
            first.state,
            first.state_reason_message.as_deref().or(first.state_reason_code.as_deref()).unwrap_or("no state reason")
        ),
        denied: first.denied_inner_calls.iter().map(|c| c.sentence()).collect(),
    }
}

async fn key_policy(p: &Provisioned) -> Result<String, HarnessError> {
    let out = aws_sdk_kms::Client::new(&p.customer.config)
        .get_key_policy()
        .key_id(&p.key_arn)
        .policy_name("default")
        .send()
        .await
        .map_err(|e| wana_harness::StepError::from_sdk(&e))?;
    Ok(out.policy().unwrap_or_default().to_string())
}

struct CmkSession {
    provisioned: Provisioned,
    session: Principal,
    observed: Observed,
    baseline: String,
}

impl Session for CmkSession {
    fn observed(&self) -> &Observed {
        &self.observed
    }

    fn placeholders(&self, _kind: FixKind) -> Vec<(&'static str, String)> {
        let p = &self.provisioned;
        vec![
            ("AccountId", p.customer.account.clone()),
            ("CustomerAccountId", p.customer.account.clone()),
            ("VendorAccountId", p.vendor.account.clone()),
            ("Region", p.region.clone()),
            ("KeyArn", p.key_arn.clone()),
            ("RoleArn", p.role_arn.clone()),
            ("InstanceId", p.instance_id.clone()),
            ("ExternalId", EXTERNAL_ID.to_string()),
            ("OtherRegion", super::fixes::other_region(&p.region).to_string()),
        ]
    }

    fn needs(&self, _kind: FixKind) -> Needs {
        let p = &self.provisioned;
        Needs {
            principal: Some(p.role_arn.clone()),
            resource: Some(p.key_arn.clone()),
            via_service: Some(format!("ec2.{}.amazonaws.com", p.region)),
            kms: true,
            grant_operations: EBS_GRANT_OPERATIONS.map(String::from).to_vec(),
        }
    }

    fn baseline(&self, kind: FixKind) -> Option<String> {
        (kind == FixKind::KeyPolicy).then(|| self.baseline.clone())
    }

    fn accounts(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            (super::CUSTOMER, "the customer: owns the key, the instance and ThirdPartyRole"),
            (super::VENDOR, "the vendor: its automation assumes ThirdPartyRole"),
        ]
    }

    fn apply<'a>(&'a mut self, ctx: &'a mut RunContext, fix: &'a UserFix) -> ScenarioFuture<'a, Applied> {
        Box::pin(async move {
            let p = &self.provisioned;
            // The customer's administrator manages the key and the role.
            let admin = p.customer.clone();
            let role = ctx.name(ROLE_NAME);
            Ok(match fix.kind {
                FixKind::KeyPolicy => apply::put_key_policy(ctx, &admin, &p.key_arn, &fix.document).await,
                FixKind::IamPolicy => apply::put_role_policy(ctx, &admin, &role, &fix.document).await,
                FixKind::Grant => apply::create_grant(ctx, &admin, &p.key_arn, &fix.document).await,
                FixKind::TrustPolicy => apply::update_trust_policy(ctx, &admin, &role, &fix.document).await,
                other => return Err(HarnessError::Scenario(format!("{} takes no {other} fix", super::TRAP.id))),
            })
        })
    }

    fn verify<'a>(&'a mut self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Verified> {
        Box::pin(async move {
            let settled = steps::verify(ctx, &self.provisioned, &self.session).await?;
            let mut detail = format!(
                "StartInstances by {ROLE_NAME}: the instance is {}{}",
                settled.state,
                settled.state_reason_message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default()
            );
            for call in &settled.denied_inner_calls {
                detail.push_str(&format!("\nEC2 called {}", call.sentence()));
            }
            Ok(Verified { gone: settled.is_running(), detail })
        })
    }
}
