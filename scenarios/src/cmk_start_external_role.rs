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

use std::time::Duration;

use aws_sdk_ec2::types::{
    BlockDeviceMapping, EbsBlockDevice, Filter, Instance, InstanceStateName, ResourceType, Tag,
    TagSpecification,
};
use serde_json::{json, Value};
use wana_harness::{
    explain, BackendKind, BehaviourProfile, HarnessError, Phase, Principal, RunContext, Scenario,
    ScenarioFuture, StepError, Verdict,
};

use crate::TrapInfo;

pub const TRAP: TrapInfo = TrapInfo {
    id: "cmk-start-external-role",
    title: "An external automation role starts an instance, which falls back to stopped",
    summary: "a cross-account automation role's StartInstances returns pending, then the instance \
              is stopped again because the role may not use the volume's CMK",
    narrative: include_str!("cmk_start_external_role.md"),
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
/// The tag that marks what a run created, for teardown and for sweeps on real accounts.
pub const RUN_TAG: &str = "wana:run";

/// How often a waiting scenario looks at the instance again, and for how long at most. On the
/// emulator each look moves its clock (transitions take 5 s there); on AWS it sleeps.
const POLL: Duration = Duration::from_secs(5);
const MAX_POLLS: usize = 60;

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
            // LocalStack neither launches real volumes nor checks KMS for EC2.
            BackendKind::Localstack => Verdict::Unsupported,
        }
    }

    fn run<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Verdict> {
        Box::pin(async move {
            let run = reproduce(ctx, Fix::ReportKeyPolicy).await?;
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

/// A change the customer makes so that the role's starts work again, valid or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix {
    /// The report's fix: two key-policy statements for the role, use of the key only via EC2
    /// in the instance's region, and `kms:CreateGrant` only for AWS resources.
    ReportKeyPolicy,
    /// An IAM policy on the role allowing `kms:CreateGrant` on the key for AWS resources; valid
    /// because the default key policy delegates to the account's IAM policies.
    IamCreateGrantForAwsResource,
    /// Wrong: only the "use via EC2" statement, no `kms:CreateGrant`, so EC2 cannot create its
    /// grant for the session.
    KeyPolicyWithoutCreateGrant,
    /// Wrong: `kms:CreateGrant` given to the vendor's account instead of the role. The session
    /// belongs to the customer's account; a statement for account b never matches it.
    KeyPolicyCreateGrantForVendorAccount,
    /// Wrong: both statements limited to EC2 in another region (`kms:ViaService` copied from the
    /// report, which ran in ap-northeast-1).
    KeyPolicyViaAnotherRegion,
}

impl Fix {
    pub const ALL: [Fix; 5] = [
        Fix::ReportKeyPolicy,
        Fix::IamCreateGrantForAwsResource,
        Fix::KeyPolicyWithoutCreateGrant,
        Fix::KeyPolicyCreateGrantForVendorAccount,
        Fix::KeyPolicyViaAnotherRegion,
    ];

    /// Applies the fix as the customer's administrator, recording each call.
    pub async fn apply(self, ctx: &mut RunContext, p: &Provisioned) -> Result<(), HarnessError> {
        let role = p.role_arn.as_str();
        let region = p.region.as_str();
        let statements = match self {
            Fix::ReportKeyPolicy => report_statements(role, region),
            Fix::IamCreateGrantForAwsResource => {
                let policy = json!({
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "CreateGrantsForEncryptedVolumes",
                        "Effect": "Allow",
                        "Action": "kms:CreateGrant",
                        "Resource": p.key_arn,
                        "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}
                    }]
                });
                ctx.recorder.note(format!(
                    "Fix: an IAM policy on {ROLE_NAME} allowing kms:CreateGrant on the key for AWS \
                     resources; the default key policy leaves the key's use to IAM."
                ));
                let result = p
                    .customer
                    .iam()
                    .put_role_policy()
                    .role_name(ROLE_NAME)
                    .policy_name("UseVolumeKeyViaEc2")
                    .policy_document(policy.to_string())
                    .send()
                    .await;
                let label = p.customer.label.clone();
                ctx.recorder.record_sdk(&label, "iam:PutRolePolicy", result, |_| {
                    json!({ "RoleName": ROLE_NAME, "PolicyName": "UseVolumeKeyViaEc2", "PolicyDocument": policy })
                })?;
                return Ok(());
            }
            Fix::KeyPolicyWithoutCreateGrant => vec![use_via_ec2_statement(role, region)],
            Fix::KeyPolicyCreateGrantForVendorAccount => {
                let vendor_root = format!("arn:aws:iam::{}:root", p.vendor.account);
                vec![
                    use_via_ec2_statement(role, region),
                    create_grant_statement(&vendor_root, None),
                ]
            }
            Fix::KeyPolicyViaAnotherRegion => {
                let elsewhere = other_region(region);
                vec![
                    use_via_ec2_statement(role, elsewhere),
                    create_grant_statement(role, Some(elsewhere)),
                ]
            }
        };
        ctx.recorder.note(format!("Fix: {}", self.description()));
        add_key_policy_statements(ctx, p, statements).await
    }

    pub fn description(self) -> &'static str {
        match self {
            Fix::ReportKeyPolicy => {
                "the report's two key-policy statements for the role: use of the key only via EC2 \
                 in this region, and kms:CreateGrant only for AWS resources"
            }
            Fix::IamCreateGrantForAwsResource => {
                "an IAM policy on the role allowing kms:CreateGrant for AWS resources"
            }
            Fix::KeyPolicyWithoutCreateGrant => {
                "a key-policy statement letting the role use the key via EC2, without \
                 kms:CreateGrant"
            }
            Fix::KeyPolicyCreateGrantForVendorAccount => {
                "the key-policy statements, with kms:CreateGrant given to the vendor's account \
                 instead of the role"
            }
            Fix::KeyPolicyViaAnotherRegion => {
                "the key-policy statements, both restricted by kms:ViaService to EC2 in another \
                 region"
            }
        }
    }
}

/// The report's two statements for `role_arn` (aws-traps.md, Trap 3, "Fix (from the trap)").
pub fn report_statements(role_arn: &str, region: &str) -> Vec<Value> {
    vec![
        use_via_ec2_statement(role_arn, region),
        create_grant_statement(role_arn, None),
    ]
}

/// `current` (a key policy document) with `statements` appended: what editing the key policy
/// in the console does.
pub fn with_statements(current: &str, statements: Vec<Value>) -> Result<String, HarnessError> {
    let mut policy: Value = serde_json::from_str(current)
        .map_err(|err| HarnessError::Scenario(format!("the key policy is not JSON: {err}")))?;
    let field = policy
        .get_mut("Statement")
        .ok_or_else(|| HarnessError::Scenario("the key policy has no Statement".into()))?;
    // A single statement may be written without the array.
    if field.is_object() {
        *field = Value::Array(vec![field.take()]);
    }
    let Value::Array(list) = field else {
        return Err(HarnessError::Scenario(
            "the key policy's Statement is neither a list nor a statement".into(),
        ));
    };
    list.extend(statements);
    serde_json::to_string_pretty(&policy)
        .map_err(|err| HarnessError::Scenario(format!("cannot write the key policy: {err}")))
}

fn use_via_ec2_statement(principal: &str, region: &str) -> Value {
    json!({
        "Sid": "AllowUseViaEC2",
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": format!("ec2.{region}.amazonaws.com")}}
    })
}

fn create_grant_statement(principal: &str, via_region: Option<&str>) -> Value {
    let mut condition = json!({"Bool": {"kms:GrantIsForAWSResource": "true"}});
    if let Some(region) = via_region {
        condition["StringEquals"] =
            json!({"kms:ViaService": format!("ec2.{region}.amazonaws.com")});
    }
    json!({
        "Sid": "AllowGrantsForAWSResources",
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": "kms:CreateGrant",
        "Resource": "*",
        "Condition": condition
    })
}

/// The report's region, unless the run is there; then another one.
fn other_region(region: &str) -> &'static str {
    if region == "ap-northeast-1" {
        "us-west-2"
    } else {
        "ap-northeast-1"
    }
}

/// Reads the key policy, appends `statements`, and puts it back, as `admin@c`.
async fn add_key_policy_statements(
    ctx: &mut RunContext,
    p: &Provisioned,
    statements: Vec<Value>,
) -> Result<(), HarnessError> {
    let kms = aws_sdk_kms::Client::new(&p.customer.config);
    let label = p.customer.label.clone();
    let current = kms
        .get_key_policy()
        .key_id(&p.key_arn)
        .policy_name("default")
        .send()
        .await;
    let current = ctx.recorder.record_sdk(
        &label,
        "kms:GetKeyPolicy",
        current,
        |out| json!({ "Sids": policy_sids(out.policy().unwrap_or_default()) }),
    )?;
    let added: Vec<Value> = statements.clone();
    let policy = with_statements(current.policy().unwrap_or_default(), statements)?;
    let result = kms
        .put_key_policy()
        .key_id(&p.key_arn)
        .policy_name("default")
        .policy(&policy)
        .send()
        .await;
    ctx.recorder.record_sdk(
        &label,
        "kms:PutKeyPolicy",
        result,
        |_| json!({ "AddedStatements": added }),
    )?;
    Ok(())
}

fn policy_sids(text: &str) -> Vec<String> {
    let Ok(policy) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    let statements = match &policy["Statement"] {
        Value::Array(list) => list.clone(),
        single @ Value::Object(_) => vec![single.clone()],
        _ => Vec::new(),
    };
    statements
        .iter()
        .map(|s| s["Sid"].as_str().unwrap_or("(no Sid)").to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The steps.

/// Provision → trigger → observe → fix (with `fix`) → verify; the verdict says how it went.
pub async fn reproduce(ctx: &mut RunContext, fix: Fix) -> Result<Run, HarnessError> {
    let provisioned = provision(ctx).await?;
    let session = assume_third_party_role(ctx, &provisioned).await?;

    ctx.recorder.set_phase(Phase::Trigger);
    let since = explain::mark(&ctx.backend);
    start(ctx, &session, &provisioned.instance_id).await?;

    ctx.recorder.set_phase(Phase::Observe);
    let first = settle(ctx, &session, &provisioned.instance_id, since).await?;
    explain_first_start(ctx, &provisioned, &first);
    if !first.fell_back_to_stopped() {
        let verdict = verdict(&first, None);
        return Ok(Run {
            provisioned,
            session,
            first,
            second: None,
            verdict,
        });
    }

    ctx.recorder.set_phase(Phase::Fix);
    fix.apply(ctx, &provisioned).await?;

    ctx.recorder.set_phase(Phase::Verify);
    let since = explain::mark(&ctx.backend);
    start(ctx, &session, &provisioned.instance_id).await?;
    let second = settle(ctx, &session, &provisioned.instance_id, since).await?;
    note_denied_calls(ctx, &second);
    if second.is_running() {
        ctx.recorder.note(
            "After the fix the same StartInstances by the same session reached running: EC2 \
             could create its grant for the session and decrypt the volume's data key.",
        );
    }
    let verdict = verdict(&first, Some(&second));
    Ok(Run {
        provisioned,
        session,
        first,
        second: Some(second),
        verdict,
    })
}

/// The key, the stopped instance with its encrypted root volume, and the role, as `admin@c`.
pub async fn provision(ctx: &mut RunContext) -> Result<Provisioned, HarnessError> {
    ctx.recorder.set_phase(Phase::Provision);
    let customer = ctx.admin(CUSTOMER)?;
    let vendor = ctx.admin(VENDOR)?;
    let region = ctx.backend.region().to_string();
    let run_id = ctx.run_id.clone();
    let label = customer.label.clone();
    let kms = aws_sdk_kms::Client::new(&customer.config);
    let ec2 = aws_sdk_ec2::Client::new(&customer.config);

    // A key created without a policy gets the default one: the account, hence IAM, decides.
    let tag = aws_sdk_kms::types::Tag::builder()
        .tag_key(RUN_TAG)
        .tag_value(&run_id)
        .build()
        .map_err(|err| HarnessError::Scenario(format!("KMS tag: {err}")))?;
    let created = kms
        .create_key()
        .description("wana cmk-start-external-role: the key of the instance's volumes")
        .tags(tag)
        .send()
        .await;
    let created = ctx
        .recorder
        .record_sdk(&label, "kms:CreateKey", created, |out| {
            let meta = out.key_metadata();
            json!({
                "KeyId": meta.map(|m| m.key_id()),
                "Arn": meta.and_then(|m| m.arn()),
            })
        })?;
    let key_arn = created
        .key_metadata()
        .and_then(|m| m.arn())
        .ok_or_else(|| HarnessError::Scenario("CreateKey returned no key ARN".into()))?
        .to_string();
    // The alias lets teardown find the key again (keys cannot be listed by tag).
    let alias = run_alias(&run_id);
    let result = kms
        .create_alias()
        .alias_name(&alias)
        .target_key_id(&key_arn)
        .send()
        .await;
    ctx.recorder.record_sdk(
        &label,
        "kms:CreateAlias",
        result,
        |_| json!({ "AliasName": alias }),
    )?;
    let policy = kms
        .get_key_policy()
        .key_id(&key_arn)
        .policy_name("default")
        .send()
        .await;
    ctx.recorder.record_sdk(
        &label,
        "kms:GetKeyPolicy",
        policy,
        |out| json!({ "Sids": policy_sids(out.policy().unwrap_or_default()) }),
    )?;

    let run_tag = Tag::builder().key(RUN_TAG).value(&run_id).build();
    let launched = ec2
        .run_instances()
        .image_id(IMAGE_ID)
        .instance_type("t2.micro".into())
        .min_count(1)
        .max_count(1)
        .block_device_mappings(
            BlockDeviceMapping::builder()
                .device_name("/dev/xvda")
                .ebs(
                    EbsBlockDevice::builder()
                        .encrypted(true)
                        .kms_key_id(&key_arn)
                        .delete_on_termination(true)
                        .build(),
                )
                .build(),
        )
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Instance)
                .tags(run_tag.clone())
                .build(),
        )
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Volume)
                .tags(run_tag)
                .build(),
        )
        .send()
        .await;
    let launched = ctx
        .recorder
        .record_sdk(&label, "ec2:RunInstances", launched, |out| {
            let instance = out.instances().first();
            json!({
                "InstanceId": instance.and_then(|i| i.instance_id()),
                "State": instance.and_then(state_name),
                "RootVolume": {"Encrypted": true, "KmsKeyId": key_arn},
            })
        })?;
    let instance_id = launched
        .instances()
        .first()
        .and_then(|i| i.instance_id())
        .ok_or_else(|| HarnessError::Scenario("RunInstances returned no instance".into()))?
        .to_string();
    let running = settle(ctx, &customer, &instance_id, explain::mark(&ctx.backend)).await?;
    if !running.is_running() {
        // The administrator may use the key; if even its launch fails, the run cannot go on.
        return Err(HarnessError::Scenario(format!(
            "the administrator's instance did not start ({})",
            running.state
        )));
    }
    let stopped = ec2.stop_instances().instance_ids(&instance_id).send().await;
    ctx.recorder.record_sdk(&label, "ec2:StopInstances", stopped, |out| {
        let change = out.stopping_instances().first();
        json!({
            "InstanceId": change.and_then(|c| c.instance_id()),
            "CurrentState": change.and_then(|c| c.current_state()).and_then(|s| s.name()).map(|n| n.as_str()),
        })
    })?;
    let stopped = settle(ctx, &customer, &instance_id, explain::mark(&ctx.backend)).await?;
    if stopped.state != InstanceStateName::Stopped.as_str() {
        return Err(HarnessError::Scenario(format!(
            "the instance did not stop ({})",
            stopped.state
        )));
    }

    let vendor_root = format!("arn:aws:iam::{}:root", vendor.account);
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": vendor_root},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}
        }]
    });
    let iam = customer.iam();
    let role_tag = aws_sdk_iam::types::Tag::builder()
        .key(RUN_TAG)
        .value(&run_id)
        .build()
        .map_err(|err| HarnessError::Scenario(format!("IAM tag: {err}")))?;
    let created = iam
        .create_role()
        .role_name(ROLE_NAME)
        .description("A vendor's automation starts and stops instances")
        .assume_role_policy_document(trust.to_string())
        .tags(role_tag)
        .send()
        .await;
    let created = ctx.recorder.record_sdk(
        &label,
        "iam:CreateRole",
        created,
        |out| json!({ "Arn": out.role().map(|r| r.arn()), "AssumeRolePolicyDocument": trust }),
    )?;
    let role_arn = created
        .role()
        .map(|r| r.arn().to_string())
        .ok_or_else(|| HarnessError::Scenario("CreateRole returned no role".into()))?;
    let permissions = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["ec2:StartInstances", "ec2:StopInstances", "ec2:Describe*"],
            "Resource": "*"
        }]
    });
    let result = iam
        .put_role_policy()
        .role_name(ROLE_NAME)
        .policy_name(ROLE_POLICY_NAME)
        .policy_document(permissions.to_string())
        .send()
        .await;
    ctx.recorder.record_sdk(
        &label,
        "iam:PutRolePolicy",
        result,
        |_| json!({ "PolicyName": ROLE_POLICY_NAME, "PolicyDocument": permissions }),
    )?;

    Ok(Provisioned {
        customer,
        vendor,
        key_arn,
        instance_id,
        role_arn,
        region,
    })
}

/// The vendor's automation assumes the role with its external id.
pub async fn assume_third_party_role(
    ctx: &mut RunContext,
    p: &Provisioned,
) -> Result<Principal, HarnessError> {
    let label = format!("{ROLE_NAME}@{CUSTOMER}");
    let mut attempts = 0;
    loop {
        attempts += 1;
        let result = ctx
            .assume_role(
                &p.vendor,
                &p.role_arn,
                SESSION_NAME,
                Some(EXTERNAL_ID),
                &label,
            )
            .await;
        match result {
            // IAM is eventually consistent on AWS: a fresh role may not be assumable yet.
            Err(err)
                if err.code == "AccessDenied"
                    && attempts < 6
                    && ctx.backend.kind() == BackendKind::Sandbox =>
            {
                ctx.wait(Duration::from_secs(10)).await;
            }
            result => return Ok(result?),
        }
    }
}

/// `StartInstances` as `who`, recorded.
async fn start(
    ctx: &mut RunContext,
    who: &Principal,
    instance_id: &str,
) -> Result<(), HarnessError> {
    let result = aws_sdk_ec2::Client::new(&who.config)
        .start_instances()
        .instance_ids(instance_id)
        .send()
        .await;
    ctx.recorder
        .record_sdk(&who.label, "ec2:StartInstances", result, |out| {
            let change = out.starting_instances().first();
            json!({
                "InstanceId": change.and_then(|c| c.instance_id()),
                "PreviousState": change.and_then(|c| c.previous_state()).and_then(|s| s.name()).map(|n| n.as_str()),
                "CurrentState": change.and_then(|c| c.current_state()).and_then(|s| s.name()).map(|n| n.as_str()),
            })
        })?;
    Ok(())
}

/// Lets time pass until the instance leaves its transition (`pending`, `stopping`, …), then
/// records one DescribeInstances as `who` with what a user would look at.
async fn settle(
    ctx: &mut RunContext,
    who: &Principal,
    instance_id: &str,
    since: usize,
) -> Result<Settled, HarnessError> {
    let ec2 = aws_sdk_ec2::Client::new(&who.config);
    let mut polls = 0;
    loop {
        ctx.wait(POLL).await;
        polls += 1;
        let result = describe(&ec2, instance_id).await;
        let settled = match &result {
            Ok(instance) => !matches!(
                instance.state().and_then(|s| s.name()),
                Some(
                    InstanceStateName::Pending
                        | InstanceStateName::Stopping
                        | InstanceStateName::ShuttingDown
                )
            ),
            Err(_) => true,
        };
        if settled || polls == MAX_POLLS {
            ctx.recorder
                .record(&who.label, "ec2:DescribeInstances", &result, |instance| {
                    let mut detail = json!({
                        "InstanceId": instance.instance_id(),
                        "State": state_name(instance),
                    });
                    if let Some(reason) = instance.state_reason() {
                        detail["StateReason"] =
                            json!({ "Code": reason.code(), "Message": reason.message() });
                    }
                    detail
                });
            let instance = result?;
            return Ok(Settled {
                state: state_name(&instance).unwrap_or("unknown").to_string(),
                state_reason_code: instance
                    .state_reason()
                    .and_then(|r| r.code())
                    .map(str::to_string),
                state_reason_message: instance
                    .state_reason()
                    .and_then(|r| r.message())
                    .map(str::to_string),
                denied_inner_calls: explain::denied_inner_calls(&ctx.backend, since),
            });
        }
    }
}

async fn describe(ec2: &aws_sdk_ec2::Client, instance_id: &str) -> Result<Instance, StepError> {
    let described = ec2
        .describe_instances()
        .instance_ids(instance_id)
        .send()
        .await
        .map_err(|err| StepError::from_sdk(&err))?;
    described
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .find(|i| i.instance_id() == Some(instance_id))
        .cloned()
        .ok_or_else(|| {
            StepError::new(
                "MissingInstance",
                format!("DescribeInstances did not list {instance_id}"),
            )
        })
}

fn state_name(instance: &Instance) -> Option<&str> {
    instance
        .state()
        .and_then(|s| s.name())
        .map(InstanceStateName::as_str)
}

fn explain_first_start(ctx: &mut RunContext, p: &Provisioned, first: &Settled) {
    if first.fell_back_to_stopped() {
        ctx.recorder.note(format!(
            "StartInstances answered pending because it checks only ec2:StartInstances, which \
             {ROLE_NAME} has. Attaching the encrypted root volume needs the key {}, and EC2 uses \
             it as the role session (a forward access session): KMS refused, and the instance \
             fell back to stopped with {}.",
            p.key_arn,
            first
                .state_reason_message
                .as_deref()
                .unwrap_or("Client.InternalError")
        ));
    } else {
        ctx.recorder.note(format!(
            "The first start by {ROLE_NAME} ended {} ({}): the trap did not happen here.",
            first.state,
            first
                .state_reason_code
                .as_deref()
                .unwrap_or("no state reason")
        ));
    }
    note_denied_calls(ctx, first);
    if first.fell_back_to_stopped() && first.denied_inner_calls.is_empty() {
        ctx.recorder.note(
            "This backend cannot name the refused call; on AWS, CloudTrail holds a CreateGrant \
             event by the role session with errorCode AccessDenied.",
        );
    }
}

fn note_denied_calls(ctx: &mut RunContext, settled: &Settled) {
    for call in &settled.denied_inner_calls {
        ctx.recorder.note(format!("EC2 called {}", call.sentence()));
    }
}

// ---------------------------------------------------------------------------------------------
// Teardown: find what this run created by its tag, alias and role tag, and delete it.

fn run_alias(run_id: &str) -> String {
    format!("alias/{run_id}")
}

async fn teardown(ctx: &mut RunContext) -> Result<(), HarnessError> {
    let admin = ctx.admin(CUSTOMER)?;
    let label = admin.label.clone();
    let run_id = ctx.run_id.clone();
    let ec2 = aws_sdk_ec2::Client::new(&admin.config);
    let kms = aws_sdk_kms::Client::new(&admin.config);
    let iam = admin.iam();

    let found = ec2
        .describe_instances()
        .filters(
            Filter::builder()
                .name(format!("tag:{RUN_TAG}"))
                .values(&run_id)
                .build(),
        )
        .send()
        .await
        .map_err(|err| StepError::from_sdk(&err))?;
    let instance_ids: Vec<String> = found
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter(|i| {
            !matches!(
                i.state().and_then(|s| s.name()),
                Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown)
            )
        })
        .filter_map(|i| i.instance_id().map(str::to_string))
        .collect();
    if !instance_ids.is_empty() {
        let result = ec2
            .terminate_instances()
            .set_instance_ids(Some(instance_ids))
            .send()
            .await;
        ctx.recorder
            .record_sdk(&label, "ec2:TerminateInstances", result, |out| {
                json!(out
                    .terminating_instances()
                    .iter()
                    .map(|c| json!({
                        "InstanceId": c.instance_id(),
                        "CurrentState": c.current_state().and_then(|s| s.name()).map(|n| n.as_str()),
                    }))
                    .collect::<Vec<_>>())
            })?;
    }

    let alias = run_alias(&run_id);
    let aliases = kms
        .list_aliases()
        .send()
        .await
        .map_err(|err| StepError::from_sdk(&err))?;
    let target = aliases
        .aliases()
        .iter()
        .find(|a| a.alias_name() == Some(alias.as_str()))
        .and_then(|a| a.target_key_id())
        .map(str::to_string);
    if let Some(key_id) = target {
        let result = kms
            .schedule_key_deletion()
            .key_id(&key_id)
            .pending_window_in_days(7)
            .send()
            .await;
        ctx.recorder.record_sdk(
            &label,
            "kms:ScheduleKeyDeletion",
            result,
            |out| json!({ "KeyId": out.key_id(), "KeyState": out.key_state().map(|s| s.as_str()) }),
        )?;
        let result = kms.delete_alias().alias_name(&alias).send().await;
        ctx.recorder.record_sdk(
            &label,
            "kms:DeleteAlias",
            result,
            |_| json!({ "AliasName": alias }),
        )?;
    }

    // The role, only if this run created it (its tag says so).
    let tags = iam.list_role_tags().role_name(ROLE_NAME).send().await;
    let ours = match tags {
        Ok(out) => out
            .tags()
            .iter()
            .any(|t| t.key() == RUN_TAG && t.value() == run_id),
        Err(err) => {
            let err = StepError::from_sdk(&err);
            if err.code == "NoSuchEntity" {
                false
            } else {
                return Err(err.into());
            }
        }
    };
    if ours {
        let policies = iam
            .list_role_policies()
            .role_name(ROLE_NAME)
            .send()
            .await
            .map_err(|err| StepError::from_sdk(&err))?;
        for name in policies.policy_names() {
            let result = iam
                .delete_role_policy()
                .role_name(ROLE_NAME)
                .policy_name(name)
                .send()
                .await;
            ctx.recorder.record_sdk(
                &label,
                "iam:DeleteRolePolicy",
                result,
                |_| json!({ "RoleName": ROLE_NAME, "PolicyName": name }),
            )?;
        }
        let result = iam.delete_role().role_name(ROLE_NAME).send().await;
        ctx.recorder.record_sdk(
            &label,
            "iam:DeleteRole",
            result,
            |_| json!({ "RoleName": ROLE_NAME }),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrative_explains_the_grant_and_both_fixes() {
        let narrative = super::TRAP.narrative;
        assert!(narrative.contains("Client.InternalError: Client error on launch"));
        assert!(narrative.contains("kms:GrantIsForAWSResource"));
        assert!(narrative.contains("kms:ViaService"));
        assert!(narrative.contains("forward access session"));
    }

    fn settled(state: &str, code: Option<&str>) -> Settled {
        Settled {
            state: state.into(),
            state_reason_code: code.map(str::to_string),
            state_reason_message: None,
            denied_inner_calls: Vec::new(),
        }
    }

    #[test]
    fn the_verdict_needs_the_documented_failure_then_running() {
        let failed = settled("stopped", Some("Client.InternalError"));
        let running = settled("running", None);
        assert_eq!(
            verdict(&failed, Some(&running)),
            Verdict::ReproducedAndFixed
        );
        assert_eq!(verdict(&failed, Some(&failed)), Verdict::FixFailed);
        assert_eq!(verdict(&failed, None), Verdict::FixFailed);
        assert_eq!(verdict(&running, None), Verdict::NotReproduced);
        // Stopped for another reason is not this trap.
        let other = settled("stopped", Some("Client.UserInitiatedShutdown"));
        assert_eq!(verdict(&other, Some(&running)), Verdict::NotReproduced);
    }

    #[test]
    fn statements_are_appended_to_the_current_policy() {
        let current = r#"{"Version":"2012-10-17","Statement":{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"kms:*","Resource":"*"}}"#;
        let role = "arn:aws:iam::333333333333:role/ThirdPartyRole";
        let policy = with_statements(current, report_statements(role, "us-east-1")).unwrap();
        assert_eq!(
            policy_sids(&policy),
            [
                "Enable IAM User Permissions",
                "AllowUseViaEC2",
                "AllowGrantsForAWSResources"
            ]
        );
        let value: Value = serde_json::from_str(&policy).unwrap();
        assert_eq!(
            value["Statement"][1]["Condition"]["StringEquals"]["kms:ViaService"],
            "ec2.us-east-1.amazonaws.com"
        );
        assert_eq!(
            value["Statement"][2]["Condition"]["Bool"]["kms:GrantIsForAWSResource"],
            "true"
        );
        assert_eq!(value["Statement"][2]["Principal"]["AWS"], role);
        assert!(with_statements("{}", Vec::new()).is_err());
    }

    #[test]
    fn the_wrong_region_is_never_the_run_region() {
        for region in ["us-east-1", "ap-northeast-1", "eu-west-1"] {
            assert_ne!(other_region(region), region);
        }
    }
}
