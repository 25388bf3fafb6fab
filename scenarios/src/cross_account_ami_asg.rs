//! Trap `cross-account-ami-asg`: an AMI shared from another account and encrypted with that
//! account's customer managed key launches with RunInstances but not from an Auto Scaling group.
//!
//! The scenario, on any backend, with three principals: A's administrator (`admin@a`, owns the
//! key and the AMI), B's administrator (`admin@b`) and B's role `AmiConsumer`, which B's
//! administrator assumes:
//!
//! - provision: in A, a customer managed key with the report's key policy (account B may use the
//!   key and create grants) and an AMI encrypted with it (a copy of Amazon's public image,
//!   re-encrypted), shared with B; in B, the role with an IAM policy for the key.
//! - trigger: as the role, `RunInstances` with the AMI (it reaches `running`: EC2 uses the key as
//!   the role session), then a launch template and an Auto Scaling group for the same AMI.
//! - observe: the group's launches fail; the scaling activity and the instance's state reason
//!   say why as far as AWS says it; where the backend can tell, the refused KMS call of the
//!   service-linked role.
//! - fix: a [`Fix`], by default the report's grant from B ([`Fix::ReportGrant`]).
//! - verify: the group's next retry reaches `InService`.
//!
//! [`reproduce`] runs all of it with any fix, so tests judge other fixes by the same steps.

mod exercise;
mod steps;

use std::time::Duration;

use serde_json::json;
use wana_harness::{
    explain, msg_tr, note_tr, BackendKind, Note, BehaviourProfile, HarnessError, Phase, Principal, RunContext, Scenario,
    ScenarioFuture, Verdict, Waiter,
};

use crate::TrapInfo;
pub use exercise::EXERCISE;
pub use steps::{Activity, Provisioned};

pub const TRAP: TrapInfo = TrapInfo {
    id: "cross-account-ami-asg",
    title: "A shared AMI encrypted with another account's key launches by hand but not from an Auto Scaling group",
    summary: "an AMI encrypted with another account's CMK launches with RunInstances, but the Auto \
              Scaling group's service-linked role has no KMS grant, so its launches fail",
    narrative: include_str!("cross_account_ami_asg.md"),
    narrative_ja: include_str!("cross_account_ami_asg.ja.md"),
    source: "001_4560bbf3eea35f48.txt",
    scenario: Some(&SCENARIO),
};

pub static SCENARIO: CrossAccountAmiAsg = CrossAccountAmiAsg;

/// The key and AMI owner.
pub const OWNER: &str = "a";
/// The account that runs the Auto Scaling group.
pub const CONSUMER: &str = "b";
/// B's role that launches instances (the report's "IAM role in account B").
pub const ROLE_NAME: &str = "AmiConsumer";
pub const SESSION_NAME: &str = "deploy";
/// Amazon Linux 2016.03 (HVM, gp2) in us-east-1: an image every backend knows, copied and
/// re-encrypted into A's AMI.
pub const SOURCE_IMAGE_ID: &str = "ami-374db956";
/// B's service-linked role for Auto Scaling, as `create-grant --grantee-principal` names it.
pub const SERVICE_LINKED_ROLE: &str = "AWSServiceRoleForAutoScaling";
/// The report's grant operations (the source report's `create-grant` line).
pub const REPORT_OPERATIONS: [&str; 5] =
    ["Decrypt", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo", "CreateGrant"];
/// The tag that marks what a run created (the harness adds the trap and an expiry).
pub const RUN_TAG: &str = wana_harness::RUN_ID_TAG;

/// How often the scenario looks again, and for how long at most. On the emulator each look moves
/// its clock; on AWS it sleeps. Auto Scaling retries a failed launch with a backoff of up to
/// five minutes, so a verification may need a few of them.
const POLL: Duration = Duration::from_secs(15);
/// 80 looks at most.
const WAIT: Waiter = Waiter::every("the image, instance or group", POLL, Duration::from_secs(80 * 15));
/// A fresh role may not be assumable yet on AWS (IAM's propagation).
const ASSUME_WAIT: Waiter =
    Waiter::every("the new role to be assumable", Duration::from_secs(5), Duration::from_secs(120)).backoff(150, Duration::from_secs(30));

/// The ARN of account `account`'s Auto Scaling service-linked role.
pub fn service_linked_role_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/aws-service-role/autoscaling.amazonaws.com/{SERVICE_LINKED_ROLE}")
}

/// The scenario; see the module documentation.
#[derive(Debug)]
pub struct CrossAccountAmiAsg;

impl Scenario for CrossAccountAmiAsg {
    fn id(&self) -> &'static str {
        TRAP.id
    }

    fn expected_verdict(&self, backend: BackendKind, _profile: BehaviourProfile) -> Verdict {
        match backend {
            BackendKind::Emulator | BackendKind::Sandbox => Verdict::ReproducedAndFixed,
            // Measured on LocalStack 2026.3 and moto 5.2: neither knows Amazon's public image, so
            // the copy the run shares fails (and LocalStack has no Auto Scaling at all).
            BackendKind::Localstack | BackendKind::Moto => Verdict::NotReproduced,
            // An emulator wana does not know is held to AWS's behaviour.
            BackendKind::Endpoint => Verdict::ReproducedAndFixed,
        }
    }

    fn accounts(&self) -> &'static [&'static str] {
        &[OWNER, CONSUMER]
    }

    fn expected_duration(&self) -> Duration {
        Duration::from_secs(30 * 60)
    }

    fn cost_hint(&self) -> &'static str {
        "t2.micro instances for under half an hour, two encrypted AMI copies with their snapshots \
         (deleted at teardown) and one or two KMS keys (scheduled for deletion after 7 days): \
         under a dollar (estimate)"
    }

    fn run<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Verdict> {
        Box::pin(async move { Ok(reproduce(ctx, Fix::ReportGrant).await?.verdict) })
    }

    fn teardown<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, ()> {
        Box::pin(steps::teardown(ctx))
    }
}

/// A change that is meant to let the group launch, valid or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix {
    /// The report's fix: from B, a grant on A's key for B's service-linked role with the report's
    /// five operations.
    ReportGrant,
    /// The same grant, created by A's administrator. KMS's grant rules do not depend on which
    /// account creates a grant: whoever may call `kms:CreateGrant` on the key may name any
    /// grantee (KMS developer guide, "Grants in AWS KMS"). AWS's knowledge-center article says to
    /// create it from B because that is where the group's owner usually has permissions; it
    /// documents no rule against A. So this works, on the emulator by the same rules.
    GrantFromKeyAccount,
    /// The documented alternative: B copies the AMI, re-encrypting it with a key of B whose key
    /// policy names the service-linked role, and points the group at the copy.
    CopyAmiWithOwnKey,
    /// Wrong: the grant without `Decrypt`; EC2 cannot decrypt the volume's data key for the role.
    GrantWithoutDecrypt,
    /// Wrong: the grant names B's `AmiConsumer` role, not the service-linked role.
    GrantForOtherRole,
    /// Wrong setup for the fix: A's key policy lets account B create grants only for AWS
    /// resources (`kms:GrantIsForAWSResource`, the usual recommendation for EBS). EC2's own grants
    /// for B's launches pass, so the direct launch works, but B's `create-grant` from the command
    /// line is not for an AWS resource and is refused: nothing changes.
    GrantWithoutKeyPolicyPermission,
}

impl Fix {
    pub const ALL: [Fix; 6] = [
        Fix::ReportGrant,
        Fix::GrantFromKeyAccount,
        Fix::CopyAmiWithOwnKey,
        Fix::GrantWithoutDecrypt,
        Fix::GrantForOtherRole,
        Fix::GrantWithoutKeyPolicyPermission,
    ];

    /// [`Fix::description`] as a message of the catalog (English and Japanese).
    pub fn description_note(self) -> Note {
        match self {
            Fix::ReportGrant => msg_tr!(_, "notes.cross_account_ami_asg.fix.report_grant"),
            Fix::GrantFromKeyAccount => msg_tr!(_, "notes.cross_account_ami_asg.fix.grant_from_key_account"),
            Fix::CopyAmiWithOwnKey => msg_tr!(_, "notes.cross_account_ami_asg.fix.copy_ami_with_own_key"),
            Fix::GrantWithoutDecrypt => msg_tr!(_, "notes.cross_account_ami_asg.fix.grant_without_decrypt"),
            Fix::GrantForOtherRole => msg_tr!(_, "notes.cross_account_ami_asg.fix.grant_for_other_role"),
            Fix::GrantWithoutKeyPolicyPermission => msg_tr!(_, "notes.cross_account_ami_asg.fix.grant_without_key_policy_permission"),
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Fix::ReportGrant => "from B, a KMS grant on A's key for B's Auto Scaling service-linked role (the report's operations)",
            Fix::GrantFromKeyAccount => "the same grant, created by A's administrator",
            Fix::CopyAmiWithOwnKey => {
                "a copy of the AMI in B, re-encrypted with a key of B whose policy names the service-linked role"
            }
            Fix::GrantWithoutDecrypt => "the grant without Decrypt",
            Fix::GrantForOtherRole => "the grant for B's AmiConsumer role instead of the service-linked role",
            Fix::GrantWithoutKeyPolicyPermission => {
                "the report's grant from B, while A's key policy lets account B create grants only for AWS resources"
            }
        }
    }

    /// Whether the key policy A writes lets account B create any grant (the report's third
    /// statement, without a condition); [`Fix::GrantWithoutKeyPolicyPermission`] limits it to
    /// grants for AWS resources.
    pub fn key_policy_allows_b_grants(self) -> bool {
        self != Fix::GrantWithoutKeyPolicyPermission
    }
}

/// A whole run.
#[derive(Debug, Clone)]
pub struct Run {
    pub provisioned: Provisioned,
    /// How the direct launch by B's role ended (`running` when the trap's first half holds).
    pub direct_launch_state: String,
    /// The group's first failed launch, if it failed.
    pub failure: Option<Activity>,
    /// Whether the group reached `InService` after the fix.
    pub in_service_after_fix: bool,
    pub verdict: Verdict,
}

/// Provision → trigger → observe → fix (with `fix`) → verify; the verdict says how it went.
pub async fn reproduce(ctx: &mut RunContext, fix: Fix) -> Result<Run, HarnessError> {
    let Setup { provisioned, direct_launch_state: direct, failure } = setup(ctx, fix).await?;
    let Some(failure) = failure else {
        return Ok(Run { provisioned, direct_launch_state: direct, failure: None, in_service_after_fix: false, verdict: Verdict::NotReproduced });
    };

    ctx.recorder.set_phase(Phase::Fix);
    note_tr!(ctx.recorder, "notes.cross_account_ami_asg.fix", fix = fix.description_note());
    steps::apply_fix(ctx, &provisioned, fix).await?;

    let in_service = verify(ctx, &provisioned).await?;
    let verdict = if in_service { Verdict::ReproducedAndFixed } else { Verdict::FixFailed };
    if !in_service {
        note_tr!(ctx.recorder, "notes.cross_account_ami_asg.fix_failed", fix = fix.description_note());
    }
    Ok(Run { provisioned, direct_launch_state: direct, failure: Some(failure), in_service_after_fix: in_service, verdict })
}

/// What setup found: the direct launch's state and the group's failed launch (`None`: the trap
/// did not happen).
#[derive(Debug, Clone)]
pub struct Setup {
    pub provisioned: Provisioned,
    pub direct_launch_state: String,
    pub failure: Option<Activity>,
}

/// Provision (A's key policy as `fix` needs it) → trigger → observe.
pub async fn setup(ctx: &mut RunContext, fix: Fix) -> Result<Setup, HarnessError> {
    let provisioned = steps::provision(ctx, fix).await?;

    ctx.recorder.set_phase(Phase::Trigger);
    let direct = steps::launch_directly(ctx, &provisioned).await?;
    if direct != "running" {
        note_tr!(ctx.recorder, "notes.cross_account_ami_asg.setup_does_not_hold", role = ROLE_NAME, direct = &direct);
        return Ok(Setup { provisioned, direct_launch_state: direct, failure: None });
    }
    note_tr!(ctx.recorder, "notes.cross_account_ami_asg.direct_launch_ran", role = ROLE_NAME);
    let since = explain::mark(&ctx.backend);
    steps::create_group(ctx, &provisioned).await?;

    ctx.recorder.set_phase(Phase::Observe);
    let failure = steps::first_failed_launch(ctx, &provisioned).await?;
    let Some(failure) = failure else {
        note_tr!(ctx.recorder, "notes.cross_account_ami_asg.not_reproduced");
        return Ok(Setup { provisioned, direct_launch_state: direct, failure: None });
    };
    steps::explain_failure(ctx, &provisioned, &failure, since);
    Ok(Setup { provisioned, direct_launch_state: direct, failure: Some(failure) })
}

/// The trap's check: does the group's next retry reach `InService`? Repeatable.
pub async fn verify(ctx: &mut RunContext, provisioned: &Provisioned) -> Result<bool, HarnessError> {
    ctx.recorder.set_phase(Phase::Verify);
    let in_service = steps::wait_in_service(ctx, provisioned).await?;
    if in_service {
        note_tr!(ctx.recorder, "notes.cross_account_ami_asg.fixed");
    }
    Ok(in_service)
}

/// The report's key policy in A: the account statement, use of the key by account B, and
/// `kms:CreateGrant` by account B. With `cli_grants` the last statement has no condition, as in
/// the report, so that a principal of B can create a grant from the command line; without it,
/// it is limited to grants for AWS resources (`kms:GrantIsForAWSResource`), which lets EC2 attach
/// B's volumes but refuses a grant typed by hand.
pub fn report_key_policy(owner: &str, consumer: &str, cli_grants: bool) -> serde_json::Value {
    let mut statements = vec![
        json!({
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{owner}:root")},
            "Action": "kms:*",
            "Resource": "*"
        }),
        json!({
            "Sid": "Allow external account use of the KMS",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{consumer}:root")},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*"
        }),
    ];
    let mut grants = json!({
        "Sid": "Allow attachment of persistent resources in external account",
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{consumer}:root")},
        "Action": "kms:CreateGrant",
        "Resource": "*"
    });
    if !cli_grants {
        grants["Condition"] = json!({"Bool": {"kms:GrantIsForAWSResource": "true"}});
    }
    statements.push(grants);
    json!({"Version": "2012-10-17", "Id": "key-consolepolicy-3", "Statement": statements})
}

/// Who acts for the fix.
fn fixer<'p>(p: &'p Provisioned, fix: Fix) -> &'p Principal {
    match fix {
        Fix::GrantFromKeyAccount => &p.owner,
        _ => &p.consumer_admin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrative_quotes_the_failure_and_the_grant() {
        let narrative = TRAP.narrative;
        assert!(narrative.contains("Client.InternalError: Client error on launch"));
        assert!(narrative.contains("AWSServiceRoleForAutoScaling"));
        assert!(narrative.contains("aws kms create-grant"));
    }

    #[test]
    fn the_key_policy_names_account_b_for_use_and_grants() {
        let policy = report_key_policy("111111111111", "222222222222", true);
        let statements = policy["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 3);
        assert_eq!(statements[2]["Action"], "kms:CreateGrant");
        assert!(statements[2].get("Condition").is_none(), "B must be able to create the grant from the CLI");
        let for_aws_resources = report_key_policy("111111111111", "222222222222", false);
        assert_eq!(for_aws_resources["Statement"][2]["Condition"]["Bool"]["kms:GrantIsForAWSResource"], "true");
        assert_eq!(
            service_linked_role_arn("222222222222"),
            "arn:aws:iam::222222222222:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
        );
    }
}
