//! The trap as an exercise: set up once, take fixes from outside, check as often as asked.

use wana_harness::{explain, HarnessError, RunContext, ScenarioFuture};

use super::{setup, trust_policy, verify, Provisioned, Run, ROLE_NAME};
use crate::exercise::{apply, Applied, Exercise, FixKind, Needs, Observed, Session, UserFix, Verified};

pub static EXERCISE: SsmExercise = SsmExercise;

#[derive(Debug)]
pub struct SsmExercise;

impl Exercise for SsmExercise {
    fn trap(&self) -> &'static str {
        super::TRAP.id
    }

    fn kinds(&self) -> &'static [FixKind] {
        &[FixKind::IamPolicy, FixKind::TrustPolicy]
    }

    fn own_placeholders(&self) -> &'static [&'static str] {
        &["RoleName", "InstanceProfileName"]
    }

    fn setup<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Box<dyn Session>> {
        Box::pin(async move {
            let since = explain::mark(&ctx.backend);
            let run = setup(ctx, &["ec2.amazonaws.com"]).await?;
            let observed = observed(ctx, &run, since);
            let names = (ctx.name(ROLE_NAME), ctx.name(super::PROFILE_NAME));
            Ok(Box::new(SsmSession { provisioned: run.provisioned, observed, names }) as Box<dyn Session>)
        })
    }
}

fn observed(ctx: &RunContext, run: &Run, since: usize) -> Observed {
    let p = &run.provisioned;
    let failure = match &run.managed_before_fix {
        None => format!(
            "The instance {} is running, but ssm describe-instance-information does not list it (watched {} minutes).",
            p.instance_id,
            super::UNMANAGED_FOR.as_secs() / 60
        ),
        Some(node) => format!("The instance {} is a managed node ({}).", p.instance_id, node.ping_status),
    };
    let session = format!("arn:aws:sts::{}:assumed-role/{}/{}", p.admin.account, ctx.name(ROLE_NAME), p.instance_id);
    let denied = explain::denied_calls(&ctx.backend, since)
        .iter()
        .filter(|c| c.principal == session)
        .take(1)
        .map(|c| c.sentence())
        .collect();
    Observed { reproduced: run.managed_before_fix.is_none(), failure, denied }
}

struct SsmSession {
    provisioned: Provisioned,
    observed: Observed,
    /// The role's and the profile's names in this run.
    names: (String, String),
}

impl Session for SsmSession {
    fn observed(&self) -> &Observed {
        &self.observed
    }

    fn placeholders(&self, _kind: FixKind) -> Vec<(&'static str, String)> {
        let p = &self.provisioned;
        vec![
            ("AccountId", p.admin.account.clone()),
            ("Region", p.admin.config.region().map(|r| r.to_string()).unwrap_or_default()),
            ("RoleArn", p.role_arn.clone()),
            ("InstanceId", p.instance_id.clone()),
            ("RoleName", self.names.0.clone()),
            ("InstanceProfileName", self.names.1.clone()),
        ]
    }

    fn needs(&self, _kind: FixKind) -> Needs {
        // AWS's own policy for the agent (AmazonSSMManagedInstanceCore) names `Resource: *`.
        Needs { principal: Some(self.provisioned.role_arn.clone()), ..Needs::default() }
    }

    fn baseline(&self, kind: FixKind) -> Option<String> {
        (kind == FixKind::TrustPolicy).then(|| trust_policy(&["ec2.amazonaws.com"]).to_string())
    }

    fn accounts(&self) -> Vec<(&'static str, &'static str)> {
        vec![(super::ACCOUNT, "the account of the instance, role-for-ec2 and the instance profile for-ec2")]
    }

    fn apply<'a>(&'a mut self, ctx: &'a mut RunContext, fix: &'a UserFix) -> ScenarioFuture<'a, Applied> {
        Box::pin(async move {
            let admin = self.provisioned.admin.clone();
            let role = self.names.0.clone();
            Ok(match fix.kind {
                FixKind::IamPolicy => apply::put_role_policy(ctx, &admin, &role, &fix.document).await,
                FixKind::TrustPolicy => apply::update_trust_policy(ctx, &admin, &role, &fix.document).await,
                other => return Err(HarnessError::Scenario(format!("{} takes no {other} fix", super::TRAP.id))),
            })
        })
    }

    fn verify<'a>(&'a mut self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Verified> {
        Box::pin(async move {
            let node = verify(ctx, &self.provisioned).await?;
            let id = &self.provisioned.instance_id;
            Ok(match node {
                Some(node) if node.ping_status == "Online" => {
                    Verified { gone: true, detail: format!("ssm describe-instance-information lists {id}: PingStatus Online.") }
                }
                Some(node) => Verified { gone: false, detail: format!("ssm describe-instance-information lists {id}: PingStatus {}.", node.ping_status) },
                None => Verified { gone: false, detail: format!("ssm describe-instance-information still does not list {id}.") },
            })
        })
    }
}
