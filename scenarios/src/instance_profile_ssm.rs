//! Trap `instance-profile-ssm`: an instance profile holds one role, and an instance becomes an SSM
//! managed node only when that role's policies allow it.
//!
//! The scenario, on any backend, as account A's administrator (`admin@a`), following the report
//! (`role-for-ec2` in the instance profile `for-ec2`):
//!
//! - provision: the role with a trust policy for `ec2.amazonaws.com`, the instance profile, the
//!   role added to it; a second role (`role-for-ssm`) whose addition to the same profile is
//!   refused with `LimitExceeded`.
//! - trigger: `RunInstances` with the profile at once (IAM's propagation to EC2 may refuse it
//!   with `InvalidParameterValue` for a while; the scenario retries as Terraform does), on
//!   Amazon Linux 2023, whose image ships the SSM Agent.
//! - observe: the instance is running but never appears in `ssm describe-instance-information`;
//!   where the backend can tell, the agent's refused `ssm:UpdateInstanceInformation` calls as
//!   the instance role's session. Then the report's first attempt: `ssm.amazonaws.com` added to
//!   the trust policy, which changes nothing.
//! - fix: a [`Fix`], by default the report's `AmazonSSMManagedInstanceCore` ([`Fix::ManagedPolicy`]).
//! - verify: the instance appears, `Online`.
//!
//! [`reproduce`] runs all of it with any fix, so tests judge other fixes by the same steps.

mod exercise;
mod steps;

use std::time::Duration;

use serde_json::{json, Value};
use wana_harness::{msg_tr, note_tr, BackendKind, BehaviourProfile, Note, HarnessError, Phase, RunContext, Scenario, ScenarioFuture, Verdict, Waiter};

use crate::TrapInfo;
pub use exercise::EXERCISE;
pub use steps::{ManagedNode, Provisioned};

pub const TRAP: TrapInfo = TrapInfo {
    id: "instance-profile-ssm",
    title: "An instance profile holds one role, and only the role's policies make an instance SSM-managed",
    summary: "an instance profile takes a single role (LimitExceeded on a second), and an instance \
              becomes an SSM managed node only when its role has AmazonSSMManagedInstanceCore",
    narrative: include_str!("instance_profile_ssm.md"),
    narrative_ja: include_str!("instance_profile_ssm.ja.md"),
    source: "004_5be120b2e3892768.txt",
    scenario: Some(&SCENARIO),
};

pub static SCENARIO: InstanceProfileSsm = InstanceProfileSsm;

/// The account the report works in.
pub const ACCOUNT: &str = "a";
/// The report's role, instance profile and the second role it tried to add.
pub const ROLE_NAME: &str = "role-for-ec2";
pub const PROFILE_NAME: &str = "for-ec2";
pub const SECOND_ROLE_NAME: &str = "role-for-ssm";
/// The inline policy of [`Fix::InlineAgentPolicy`].
pub const AGENT_POLICY_NAME: &str = "ssm-agent-core";
/// AWS's managed policy for SSM managed nodes.
pub const MANAGED_POLICY_ARN: &str = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";
/// Amazon Linux 2023 images carry the SSM Agent; the scenario picks the newest Amazon-owned one.
pub const IMAGE_NAME_PATTERN: &str = "al2023-ami-2023.*-kernel-6.1-x86_64";
/// The tag that marks what a run created (the harness adds the trap and an expiry).
pub const RUN_TAG: &str = wana_harness::RUN_ID_TAG;
/// AWS's answer to a second role in a profile (IAM, `AddRoleToInstanceProfile`).
pub const QUOTA_MESSAGE: &str = "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1";

/// How often the scenario looks again. On the emulator each look moves its clock; on AWS it
/// sleeps.
const POLL: Duration = Duration::from_secs(30);
/// Watching Systems Manager: every [`POLL`]; each watch sets its own window as the timeout.
const WATCH_WAIT: Waiter = Waiter::every("the instance in Systems Manager", POLL, UNMANAGED_FOR);
/// An instance leaves `pending` within minutes (40 looks).
const RUNNING_WAIT: Waiter = Waiter::every("the instance to run", Duration::from_secs(15), Duration::from_secs(600));
/// How long the scenario retries a launch that EC2 refuses because the profile has not
/// propagated: Terraform's two minutes (aws-traps.md, Trap 5).
const PROPAGATION_RETRY_FOR: Duration = Duration::from_secs(120);
const PROPAGATION_POLL: Duration = Duration::from_secs(4);
/// How long the scenario watches for the instance to appear before it concludes it will not:
/// AWS's troubleshooting guide says to look into it when nothing shows after about five
/// minutes; twice that covers two of the agent's five-minute health pings.
const UNMANAGED_FOR: Duration = Duration::from_secs(10 * 60);
/// How long the scenario waits for the instance to appear after the fix: the agent may back off
/// for up to 30 minutes before it tries again (amazon-ssm-agent issue 544).
const MANAGED_WITHIN: Duration = Duration::from_secs(35 * 60);

/// The scenario; see the module documentation.
#[derive(Debug)]
pub struct InstanceProfileSsm;

impl Scenario for InstanceProfileSsm {
    fn id(&self) -> &'static str {
        TRAP.id
    }

    fn expected_verdict(&self, backend: BackendKind, _profile: BehaviourProfile) -> Verdict {
        match backend {
            BackendKind::Emulator | BackendKind::Sandbox => Verdict::ReproducedAndFixed,
            // Measured on LocalStack 2026.3: its EC2 does not find the instance profiles its IAM
            // made, so no instance carries a role. moto 5.2 launches it, but has no
            // DescribeInstanceInformation (and no agent).
            BackendKind::Localstack => Verdict::NotReproduced,
            BackendKind::Moto => Verdict::Unsupported,
            // An emulator wana does not know is held to AWS's behaviour.
            BackendKind::Endpoint => Verdict::ReproducedAndFixed,
        }
    }

    fn expected_duration(&self) -> Duration {
        // Ten minutes watching the unmanaged instance, up to 35 for the agent's backoff.
        Duration::from_secs(50 * 60)
    }

    fn cost_hint(&self) -> &'static str {
        "one t3.micro instance for up to an hour: about two cents (estimate)"
    }

    fn run<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Verdict> {
        Box::pin(async move { Ok(reproduce(ctx, Fix::ManagedPolicy).await?.verdict) })
    }

    fn teardown<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, ()> {
        Box::pin(steps::teardown(ctx))
    }
}

/// A change that is meant to make the instance a managed node, valid or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix {
    /// The report's fix: `AmazonSSMManagedInstanceCore` attached to the role in the profile.
    ManagedPolicy,
    /// An inline policy on the role with just the calls the agent makes to register and report
    /// (`ssm:UpdateInstanceInformation`, the `ssmmessages` and `ec2messages` channels).
    InlineAgentPolicy,
    /// Wrong: the managed policy on the second role, which the profile could not take.
    PolicyOnSecondRole,
    /// Wrong: the role's trust policy names only `ssm.amazonaws.com` (EC2 may not assume it),
    /// then the managed policy is attached. EC2 cannot obtain the role's credentials, so the
    /// instance has none, and the agent never calls at all.
    ManagedPolicyButTrustOnlySsm,
}

impl Fix {
    pub const ALL: [Fix; 4] =
        [Fix::ManagedPolicy, Fix::InlineAgentPolicy, Fix::PolicyOnSecondRole, Fix::ManagedPolicyButTrustOnlySsm];

    /// [`Fix::description`] as a message of the catalog (English and Japanese).
    pub fn description_note(self) -> Note {
        match self {
            Fix::ManagedPolicy => msg_tr!(_, "notes.instance_profile_ssm.fix.managed_policy"),
            Fix::InlineAgentPolicy => msg_tr!(_, "notes.instance_profile_ssm.fix.inline_agent_policy"),
            Fix::PolicyOnSecondRole => msg_tr!(_, "notes.instance_profile_ssm.fix.policy_on_second_role"),
            Fix::ManagedPolicyButTrustOnlySsm => msg_tr!(_, "notes.instance_profile_ssm.fix.managed_policy_but_trust_only_ssm"),
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Fix::ManagedPolicy => "AmazonSSMManagedInstanceCore attached to role-for-ec2, the role in the instance profile",
            Fix::InlineAgentPolicy => {
                "an inline policy on role-for-ec2 allowing only the agent's calls (ssm:UpdateInstanceInformation, ssmmessages, ec2messages)"
            }
            Fix::PolicyOnSecondRole => "AmazonSSMManagedInstanceCore attached to role-for-ssm, which is not in the profile",
            Fix::ManagedPolicyButTrustOnlySsm => {
                "AmazonSSMManagedInstanceCore attached to role-for-ec2, whose trust policy names only ssm.amazonaws.com"
            }
        }
    }

    /// The principals the role's trust policy names when the instance is launched.
    pub fn launch_trust(self) -> &'static [&'static str] {
        match self {
            Fix::ManagedPolicyButTrustOnlySsm => &["ssm.amazonaws.com"],
            _ => &["ec2.amazonaws.com"],
        }
    }
}

/// A trust policy letting `services` assume a role: the report's `assume-role-policy.json`
/// (`ec2.amazonaws.com`, later with `ssm.amazonaws.com`).
pub fn trust_policy(services: &[&str]) -> Value {
    let principal = match services {
        [one] => json!(one),
        many => json!(many),
    };
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}]
    })
}

/// The inline policy of [`Fix::InlineAgentPolicy`]: what the agent calls to register, report in
/// and open its channels (AmazonSSMManagedInstanceCore's first statements, without documents,
/// associations, inventory or parameters).
pub fn agent_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": [
                "ssm:UpdateInstanceInformation",
                "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
                "ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage",
                "ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply"
            ],
            "Resource": "*"
        }]
    })
}

/// A whole run.
#[derive(Debug, Clone)]
pub struct Run {
    pub provisioned: Provisioned,
    /// The second `AddRoleToInstanceProfile`'s error code (`LimitExceeded` on AWS).
    pub second_role_error: Option<String>,
    /// How many launches EC2 refused before the profile had propagated.
    pub propagation_refusals: usize,
    /// The instance as SSM listed it before the fix, if it did.
    pub managed_before_fix: Option<ManagedNode>,
    /// The instance as SSM listed it after the trust-policy change, if it did.
    pub managed_after_trust_change: Option<ManagedNode>,
    /// The instance as SSM listed it after the fix, if it did.
    pub managed_after_fix: Option<ManagedNode>,
    pub verdict: Verdict,
}

/// Provision → trigger → observe → fix (with `fix`) → verify; the verdict says how it went.
pub async fn reproduce(ctx: &mut RunContext, fix: Fix) -> Result<Run, HarnessError> {
    let mut run = setup(ctx, fix.launch_trust()).await?;
    if run.managed_before_fix.is_some() {
        return Ok(run);
    }

    let since = steps::mark(ctx);
    steps::trust_ssm_too(ctx, &run.provisioned, fix).await?;
    run.managed_after_trust_change = steps::watch_managed(ctx, &run.provisioned, UNMANAGED_FOR).await?;
    if run.managed_after_trust_change.is_none() {
        steps::explain_trust_change(ctx, &run.provisioned, since);
    }

    ctx.recorder.set_phase(Phase::Fix);
    note_tr!(ctx.recorder, "notes.instance_profile_ssm.fix", fix = fix.description_note());
    steps::apply_fix(ctx, &run.provisioned, fix).await?;

    run.managed_after_fix = verify(ctx, &run.provisioned).await?;
    let online = run.managed_after_fix.as_ref().is_some_and(|node| node.ping_status == "Online");
    run.verdict = if online { Verdict::ReproducedAndFixed } else { Verdict::FixFailed };
    if !online {
        steps::explain_fix_failed(ctx, &run.provisioned, fix);
    }
    Ok(run)
}

/// Provision (the role trusting `launch_trust`) → trigger → observe: the run so far; the trap
/// happened when `managed_before_fix` is `None`.
pub async fn setup(ctx: &mut RunContext, launch_trust: &[&str]) -> Result<Run, HarnessError> {
    let provisioned = steps::provision(ctx, launch_trust).await?;
    let second_role_error = steps::add_second_role(ctx, &provisioned).await?;

    ctx.recorder.set_phase(Phase::Trigger);
    let (instance_id, propagation_refusals) = steps::launch_with_profile(ctx, &provisioned).await?;
    let provisioned = Provisioned { instance_id, ..provisioned };
    let since = steps::mark(ctx);
    steps::wait_running(ctx, &provisioned).await?;

    ctx.recorder.set_phase(Phase::Observe);
    let mut run = Run {
        provisioned,
        second_role_error,
        propagation_refusals,
        managed_before_fix: None,
        managed_after_trust_change: None,
        managed_after_fix: None,
        verdict: Verdict::NotReproduced,
    };
    run.managed_before_fix = steps::watch_managed(ctx, &run.provisioned, UNMANAGED_FOR).await?;
    if let Some(node) = &run.managed_before_fix {
        note_tr!(ctx.recorder, "notes.instance_profile_ssm.not_reproduced", status = &node.ping_status);
        return Ok(run);
    }
    steps::explain_unmanaged(ctx, &run.provisioned, since);
    Ok(run)
}

/// The trap's check: does the instance appear in Systems Manager, `Online`? Repeatable.
pub async fn verify(ctx: &mut RunContext, provisioned: &Provisioned) -> Result<Option<ManagedNode>, HarnessError> {
    ctx.recorder.set_phase(Phase::Verify);
    let node = steps::watch_managed_until_online(ctx, provisioned, MANAGED_WITHIN).await?;
    if node.as_ref().is_some_and(|node| node.ping_status == "Online") {
        note_tr!(ctx.recorder, "notes.instance_profile_ssm.fixed");
    }
    Ok(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrative_quotes_the_quota_error_and_the_policy() {
        let narrative = TRAP.narrative;
        assert!(narrative.contains(QUOTA_MESSAGE));
        assert!(narrative.contains(MANAGED_POLICY_ARN));
        assert!(narrative.contains("ssm:UpdateInstanceInformation"));
    }

    #[test]
    fn the_trust_policy_is_the_reports_document() {
        assert_eq!(
            trust_policy(&["ec2.amazonaws.com"])["Statement"][0]["Principal"]["Service"],
            "ec2.amazonaws.com"
        );
        let both = trust_policy(&["ec2.amazonaws.com", "ssm.amazonaws.com"]);
        assert_eq!(both["Statement"][0]["Principal"]["Service"], json!(["ec2.amazonaws.com", "ssm.amazonaws.com"]));
        assert_eq!(both["Statement"][0]["Action"], "sts:AssumeRole");
    }
}
