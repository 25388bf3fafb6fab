//! The steps: provisioning, assuming the role, starting the instance and watching it settle.

use aws_sdk_ec2::types::{BlockDeviceMapping, EbsBlockDevice, Instance, InstanceStateName, ResourceType};
use serde_json::json;
use wana_harness::{explain, msg_tr, narration::NoteArg, note_tr, BackendKind, HarnessError, Phase, Principal, ResourceKind, RunContext, StepError};

use super::fixes::policy_sids;
use super::teardown::run_alias;
use super::{
    verdict, Fix, Provisioned, Run, Settled, ASSUME_WAIT, CUSTOMER, EXTERNAL_ID, IMAGE_ID, ROLE_NAME, ROLE_POLICY_NAME,
    SESSION_NAME, SETTLE_WAIT, VENDOR,
};

/// Provision → trigger → observe → fix (with `fix`) → verify; the verdict says how it went.
pub async fn reproduce(ctx: &mut RunContext, fix: Fix) -> Result<Run, HarnessError> {
    let (provisioned, session, first) = setup(ctx).await?;
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

    let second = verify(ctx, &provisioned, &session).await?;
    let verdict = verdict(&first, Some(&second));
    Ok(Run {
        provisioned,
        session,
        first,
        second: Some(second),
        verdict,
    })
}

/// Provision → trigger → observe: the role session's start, and how it settled.
pub async fn setup(ctx: &mut RunContext) -> Result<(Provisioned, Principal, Settled), HarnessError> {
    let provisioned = provision(ctx).await?;
    let session = assume_third_party_role(ctx, &provisioned).await?;

    ctx.recorder.set_phase(Phase::Trigger);
    let since = explain::mark(&ctx.backend);
    start(ctx, &session, &provisioned.instance_id).await?;

    ctx.recorder.set_phase(Phase::Observe);
    let first = settle(ctx, &session, &provisioned.instance_id, since).await?;
    explain_first_start(ctx, &provisioned, &first);
    Ok((provisioned, session, first))
}

/// The trap's check: the same session starts the instance again; how it settled. Repeatable: an
/// instance a previous check left running is stopped first, by the customer's administrator.
pub async fn verify(ctx: &mut RunContext, provisioned: &Provisioned, session: &Principal) -> Result<Settled, HarnessError> {
    ctx.recorder.set_phase(Phase::Verify);
    let before = describe(&aws_sdk_ec2::Client::new(&provisioned.customer.config), &provisioned.instance_id).await?;
    if before.state().and_then(|s| s.name()) != Some(&InstanceStateName::Stopped) {
        let stopped = aws_sdk_ec2::Client::new(&provisioned.customer.config).stop_instances().instance_ids(&provisioned.instance_id).send().await;
        ctx.recorder.record_sdk(&provisioned.customer.label, "ec2:StopInstances", stopped, |_| json!({ "InstanceId": provisioned.instance_id }))?;
        let customer = provisioned.customer.clone();
        settle(ctx, &customer, &provisioned.instance_id, explain::mark(&ctx.backend)).await?;
    }
    let since = explain::mark(&ctx.backend);
    start(ctx, session, &provisioned.instance_id).await?;
    let second = settle(ctx, session, &provisioned.instance_id, since).await?;
    note_denied_calls(ctx, &second);
    if second.is_running() {
        note_tr!(ctx.recorder, "notes.cmk_start_external_role.fixed");
    }
    Ok(second)
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
    ctx.will_create(&customer, ResourceKind::KmsKey, None)?;
    let created = kms
        .create_key()
        .description("wana cmk-start-external-role: the key of the instance's volumes")
        .set_tags(Some(ctx.kms_tags()))
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
    ctx.created(&customer, ResourceKind::KmsKey, &key_arn)?;
    // The alias lets teardown find the key again (keys cannot be listed by tag).
    let alias = run_alias(&run_id);
    ctx.will_create(&customer, ResourceKind::KmsAlias, Some(&alias))?;
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

    ctx.will_create(&customer, ResourceKind::Ec2Instance, None)?;
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
                    // The size is the image's own (8 GiB); AWS takes it from the image's
                    // snapshot when left out, LocalStack insists on it.
                    EbsBlockDevice::builder()
                        .volume_size(8)
                        .encrypted(true)
                        .kms_key_id(&key_arn)
                        .delete_on_termination(true)
                        .build(),
                )
                .build(),
        )
        .tag_specifications(ctx.ec2_tag_specification(ResourceType::Instance))
        .tag_specifications(ctx.ec2_tag_specification(ResourceType::Volume))
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
    ctx.created(&customer, ResourceKind::Ec2Instance, &instance_id)?;
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
    let role_name = ctx.name(ROLE_NAME);
    ctx.will_create(&customer, ResourceKind::IamRole, Some(&role_name))?;
    let created = iam
        .create_role()
        .role_name(&role_name)
        .description("A vendor's automation starts and stops instances")
        .assume_role_policy_document(trust.to_string())
        .set_tags(Some(ctx.iam_tags()))
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
        .role_name(&role_name)
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
    let mut polling = ASSUME_WAIT.start();
    loop {
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
            // IAM is eventually consistent on AWS: a fresh role may not be assumable yet. The
            // emulator has the same window under a fault profile (its clock moves at once);
            // LocalStack and moto have none, and waiting there would only sleep.
            Err(err)
                if err.code == "AccessDenied"
                    && matches!(ctx.backend.kind(), BackendKind::Sandbox | BackendKind::Emulator)
                    && polling.again(ctx).await => {}
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
    let mut polling = SETTLE_WAIT.start();
    loop {
        polling.wait(ctx).await;
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
        if settled || polling.exhausted(ctx) {
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
        note_tr!(
            ctx.recorder,
            "notes.cmk_start_external_role.observed",
            role = ROLE_NAME,
            key = &p.key_arn,
            reason = first.state_reason_message.as_deref().unwrap_or("Client.InternalError")
        );
    } else {
        let reason = match first.state_reason_code.as_deref().filter(|code| !code.is_empty()) {
            Some(code) => NoteArg::Text(code.to_string()),
            None => NoteArg::Note(msg_tr!(_, "notes.cmk_start_external_role.no_state_reason")),
        };
        note_tr!(
            ctx.recorder,
            "notes.cmk_start_external_role.not_reproduced",
            role = ROLE_NAME,
            state = &first.state,
            reason = reason
        );
    }
    note_denied_calls(ctx, first);
    if first.fell_back_to_stopped() && first.denied_inner_calls.is_empty() {
        note_tr!(ctx.recorder, "notes.cmk_start_external_role.no_cloudtrail");
    }
}

fn note_denied_calls(ctx: &mut RunContext, settled: &Settled) {
    for call in &settled.denied_inner_calls {
        note_tr!(ctx.recorder, "notes.ec2_called", call = call.sentence_note());
    }
}
