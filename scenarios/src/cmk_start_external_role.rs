//! Trap `cmk-start-external-role`: an external automation role starts an instance whose volumes
//! are encrypted with a customer managed key; the start is accepted, then the instance stops.
//!
//! The scenario, on any backend:
//!
//! - provision, as the customer's administrator (`admin@c`): a KMS key with the default key
//!   policy, an instance whose root volume is encrypted with it (launched, then stopped), and
//!   `ThirdPartyRole`, which trusts the vendor's account (`b`) with an external id and may only
//!   start, stop and describe instances; then the vendor's administrator (`admin@b`) assumes it.
//! - trigger: `StartInstances` as the role session. It answers `pending`.
//! - observe: the instance falls back to `stopped` with `Client.InternalError`; where the
//!   backend can tell (the emulator), the report names the KMS call EC2 made for the session
//!   and which statements refused it.
//! - fix: a [`Fix`], by default the report's two key-policy statements ([`Fix::ReportKeyPolicy`]).
//! - verify: `StartInstances` again; the instance should reach `running`.
//!
//! [`reproduce`] runs all of it with any fix, so tests check other fixes (valid and invalid)
//! through the very same steps.

mod exercise;
mod fixes;
mod steps;
mod teardown;
#[cfg(test)]
mod tests;

use std::time::Duration;

use aws_sdk_ec2::types::InstanceStateName;
use wana_harness::{
    explain, note_tr, BackendKind, BehaviourProfile, Principal, RunContext, Scenario, ScenarioFuture,
    Verdict, Waiter,
};

use crate::TrapInfo;
pub use exercise::EXERCISE;
pub use fixes::{report_statements, with_statements, Fix};
pub use steps::{assume_third_party_role, provision, reproduce};

use teardown::teardown;

pub const TRAP: TrapInfo = TrapInfo {
    id: "cmk-start-external-role",
    title: "An external automation role starts an instance, which falls back to stopped",
    summary: "a cross-account automation role's StartInstances returns pending, then the instance \
              is stopped again because the role may not use the volume's CMK",
    narrative: include_str!("cmk_start_external_role.md"),
    narrative_ja: include_str!("cmk_start_external_role.ja.md"),
    source: "002_56f18fbebca5d240.txt",
    scenario: Some(&SCENARIO),
};

pub static SCENARIO: CmkStartExternalRole = CmkStartExternalRole;

/// The role the vendor's automation assumes in the customer's account.
pub const ROLE_NAME: &str = "ThirdPartyRole";
/// The external id the vendor presents (its trust-policy condition `sts:ExternalId`).
pub const EXTERNAL_ID: &str = "wana-automation-4711";
/// The session name of the vendor's scheduled job.
pub const SESSION_NAME: &str = "scheduled-start";
/// The inline policy that lets the role start, stop and describe instances.
pub const ROLE_POLICY_NAME: &str = "StartStopInstances";
/// Amazon Linux 2016.03 (HVM, gp2) in us-east-1: an image every backend knows.
pub const IMAGE_ID: &str = "ami-374db956";
/// The customer's account (owns the key, the instance and the role).
pub const CUSTOMER: &str = "c";
/// The vendor's account (assumes the role).
pub const VENDOR: &str = "b";
/// The tag that marks what a run created, for teardown and for sweeps on real accounts (the
/// harness adds the trap and an expiry next to it).
pub const RUN_TAG: &str = wana_harness::RUN_ID_TAG;

/// How often a waiting scenario looks at the instance again, and for how long at most (60
/// looks). On the emulator each look moves its clock (transitions take 5 s there); on AWS it
/// sleeps.
const SETTLE_WAIT: Waiter = Waiter::every("the instance to settle", Duration::from_secs(5), Duration::from_secs(300));
/// A fresh role may not be assumable yet on AWS (IAM's propagation).
const ASSUME_WAIT: Waiter =
    Waiter::every("the new role to be assumable", Duration::from_secs(5), Duration::from_secs(120)).backoff(150, Duration::from_secs(30));

/// The scenario; see the module documentation.
#[derive(Debug)]
pub struct CmkStartExternalRole;

impl Scenario for CmkStartExternalRole {
    fn id(&self) -> &'static str {
        TRAP.id
    }

    fn expected_verdict(&self, backend: BackendKind, _profile: BehaviourProfile) -> Verdict {
        match backend {
            // The sandbox expectation is AWS's documented behaviour today (aws-traps.md, Trap 3).
            BackendKind::Emulator | BackendKind::Sandbox => Verdict::ReproducedAndFixed,
            // Measured on LocalStack 2026.3 and moto 5.2: EC2 starts the instance without
            // asking KMS for the caller, so the start by the role succeeds.
            BackendKind::Localstack | BackendKind::Moto => Verdict::NotReproduced,
            // An emulator wana does not know is held to AWS's behaviour.
            BackendKind::Endpoint => Verdict::ReproducedAndFixed,
        }
    }

    fn accounts(&self) -> &'static [&'static str] {
        &[VENDOR, CUSTOMER]
    }

    fn expected_duration(&self) -> Duration {
        Duration::from_secs(10 * 60)
    }

    fn cost_hint(&self) -> &'static str {
        "one t2.micro instance for a few minutes and one KMS key (scheduled for deletion after 7 \
         days, the shortest window): well under a dollar (estimate)"
    }

    fn run<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Verdict> {
        Box::pin(async move {
            let run = reproduce(ctx, Fix::ReportKeyPolicy).await?;
            let backend = ctx.backend.kind();
            if run.verdict == Verdict::NotReproduced && backend.is_endpoint() {
                let product = wana_harness::endpoint::product_name(backend);
                note_tr!(
                    ctx.recorder,
                    "notes.cmk_start_external_role.endpoint_ignores_key_policy",
                    backend = backend,
                    product = product,
                    role = ROLE_NAME,
                    state = &run.first.state
                );
            }
            Ok(run.verdict)
        })
    }

    fn teardown<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, ()> {
        Box::pin(teardown(ctx))
    }
}

// ---------------------------------------------------------------------------------------------
// What the tests reuse.

/// What provisioning created, and who acts.
#[derive(Debug, Clone)]
pub struct Provisioned {
    /// The customer's administrator (`admin@c`).
    pub customer: Principal,
    /// The vendor's administrator (`admin@b`), who assumes the role.
    pub vendor: Principal,
    pub key_arn: String,
    pub instance_id: String,
    pub role_arn: String,
    pub region: String,
}

/// Where a start ended: the instance as DescribeInstances showed it once it settled, and the
/// calls that a service made for the caller and that were denied meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// `running`, `stopped`, … (`InstanceStateName::as_str`).
    pub state: String,
    pub state_reason_code: Option<String>,
    pub state_reason_message: Option<String>,
    pub denied_inner_calls: Vec<explain::DeniedCall>,
}

impl Settled {
    pub fn is_running(&self) -> bool {
        self.state == InstanceStateName::Running.as_str()
    }

    /// The trap as AWS documents it: back to `stopped` with `Client.InternalError`.
    pub fn fell_back_to_stopped(&self) -> bool {
        self.state == InstanceStateName::Stopped.as_str()
            && self.state_reason_code.as_deref() == Some("Client.InternalError")
    }
}

/// A whole run: what was provisioned, how the first start ended, and how the start after the
/// fix ended (`None` when the first start did not fail, so nothing was fixed).
#[derive(Debug, Clone)]
pub struct Run {
    pub provisioned: Provisioned,
    pub session: Principal,
    pub first: Settled,
    pub second: Option<Settled>,
    pub verdict: Verdict,
}

/// The verdict of a run from how its two starts ended.
pub fn verdict(first: &Settled, second: Option<&Settled>) -> Verdict {
    if !first.fell_back_to_stopped() {
        return Verdict::NotReproduced;
    }
    match second {
        Some(second) if second.is_running() => Verdict::ReproducedAndFixed,
        _ => Verdict::FixFailed,
    }
}
