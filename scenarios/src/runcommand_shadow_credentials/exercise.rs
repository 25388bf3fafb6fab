//! The trap as an exercise: set up once, take fixes from outside, check as often as asked.

use wana_harness::{HarnessError, RunContext, ScenarioFuture, StepError};

use super::{setup, steps, uploaded, verify_objects, Invocation, Provisioned, Run, ROLE_NAME};
use crate::exercise::{Applied, Exercise, FixKind, Needs, Observed, Session, UserFix, Verified};

pub static EXERCISE: RunCommandExercise = RunCommandExercise;

#[derive(Debug)]
pub struct RunCommandExercise;

impl Exercise for RunCommandExercise {
    fn trap(&self) -> &'static str {
        super::TRAP.id
    }

    fn kinds(&self) -> &'static [FixKind] {
        &[FixKind::Script]
    }

    fn own_placeholders(&self) -> &'static [&'static str] {
        &["Bucket", "HealthyInstanceId"]
    }

    fn setup<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Box<dyn Session>> {
        Box::pin(async move {
            let run = setup(ctx).await?;
            let observed = observed(&run);
            let role_arn = format!("arn:aws:iam::{}:role/{}", run.provisioned.admin.account, ctx.name(ROLE_NAME));
            Ok(Box::new(RunCommandSession { provisioned: run.provisioned, observed, role_arn }) as Box<dyn Session>)
        })
    }
}

fn failure_line(invocation: &Invocation) -> String {
    let stderr = steps::without_progress(&invocation.stderr);
    stderr.lines().find(|l| l.starts_with("upload failed:")).unwrap_or(stderr.trim()).to_string()
}

fn observed(run: &Run) -> Observed {
    let stale = &run.stale_upload;
    Observed {
        reproduced: stale.status != "Success",
        failure: format!(
            "The report's document through Run Command: Success on {}, {} on {} (ResponseCode {}): {}",
            run.healthy_upload.instance_id,
            stale.status,
            stale.instance_id,
            stale.response_code,
            failure_line(stale)
        ),
        denied: Vec::new(),
    }
}

struct RunCommandSession {
    provisioned: Provisioned,
    observed: Observed,
    role_arn: String,
}

impl Session for RunCommandSession {
    fn observed(&self) -> &Observed {
        &self.observed
    }

    fn placeholders(&self, _kind: FixKind) -> Vec<(&'static str, String)> {
        let p = &self.provisioned;
        vec![
            ("AccountId", p.admin.account.clone()),
            ("Region", p.admin.config.region().map(|r| r.to_string()).unwrap_or_default()),
            ("RoleArn", self.role_arn.clone()),
            ("InstanceId", p.stale.clone()),
            ("HealthyInstanceId", p.healthy.clone()),
            ("Bucket", p.bucket.clone()),
        ]
    }

    fn needs(&self, _kind: FixKind) -> Needs {
        Needs::default()
    }

    fn accounts(&self) -> Vec<(&'static str, &'static str)> {
        vec![(super::ACCOUNT, "the account of the two instances, their role report-uploader and the bucket")]
    }

    fn apply<'a>(&'a mut self, ctx: &'a mut RunContext, fix: &'a UserFix) -> ScenarioFuture<'a, Applied> {
        Box::pin(async move {
            if fix.kind != FixKind::Script {
                return Err(HarnessError::Scenario(format!("{} takes no {} fix", super::TRAP.id, fix.kind)));
            }
            let p = &self.provisioned;
            let invocation = steps::run_script_on_stale(ctx, p, &fix.document).await?;
            let error = (invocation.status != "Success")
                .then(|| StepError::new(invocation.status.clone(), format!("ResponseCode {}: {}", invocation.response_code, failure_line(&invocation))));
            let output = steps::without_progress(&format!("{}{}", invocation.stdout, invocation.stderr)).trim().to_string();
            Ok(Applied {
                call: format!("ssm:SendCommand AWS-RunShellScript to {}", p.stale),
                principal: p.admin.label.clone(),
                // A script that fails is an answer like any other: the check decides.
                error: None,
                output: Some(match error {
                    Some(error) => format!("{}: {}\n{output}", error.code, error.message),
                    None => output,
                }),
            })
        })
    }

    fn verify<'a>(&'a mut self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Verified> {
        Box::pin(async move {
            let p = self.provisioned.clone();
            let objects = verify_objects(ctx, &p).await?;
            if uploaded(&objects) {
                return Ok(Verified { gone: true, detail: format!("The stale instance's objects are in {}: {}", p.bucket, objects.join(", ")) });
            }
            // Nothing uploaded yet: does the report's document itself work now?
            let again = steps::upload_on_stale(ctx, &p).await?;
            let objects = steps::stale_objects(ctx, &p).await?;
            let gone = again.status == "Success" && uploaded(&objects);
            let detail = if gone {
                format!("The report's document succeeded on {}; its objects are in {}.", p.stale, p.bucket)
            } else {
                format!("The report's document on {}: {} — {}", p.stale, again.status, failure_line(&again))
            };
            Ok(Verified { gone, detail })
        })
    }
}
