//! The steps of `cross-account-ami-asg`: provisioning in both accounts, the two launches, the
//! group's activities, the fixes, and teardown.

use aws_sdk_autoscaling::types::{Activity as SdkActivity, LaunchTemplateSpecification};
use aws_sdk_ec2::types::{
    Filter, InstanceStateName, LaunchPermission, LaunchPermissionModifications, RequestLaunchTemplateData, ResourceType,
};
use serde_json::{json, Value};
use wana_harness::{explain, note_tr, BackendKind, HarnessError, Phase, Principal, ResourceKind, RunContext, StepError};

use super::{
    fixer, report_key_policy, service_linked_role_arn, Fix, ASSUME_WAIT, CONSUMER, OWNER, REPORT_OPERATIONS, ROLE_NAME,
    SESSION_NAME, SOURCE_IMAGE_ID, WAIT,
};

/// What provisioning created, and who acts.
#[derive(Debug, Clone)]
pub struct Provisioned {
    /// A's administrator: owns the key and the AMI.
    pub owner: Principal,
    /// B's administrator.
    pub consumer_admin: Principal,
    /// B's `AmiConsumer` role session: launches and runs the group.
    pub consumer: Principal,
    pub key_arn: String,
    pub image_id: String,
    pub role_arn: String,
    pub template_name: String,
    pub group_name: String,
    pub region: String,
}

/// One scaling activity, as `describe-scaling-activities` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub status_code: String,
    pub description: String,
    pub status_message: Option<String>,
    pub cause: String,
    /// The instance the activity launched (from its description), if any.
    pub instance_id: Option<String>,
}

impl Activity {
    fn from_sdk(activity: &SdkActivity) -> Activity {
        let description = activity.description().unwrap_or_default().to_string();
        let instance_id = description
            .split_whitespace()
            .find(|word| word.starts_with("i-"))
            .map(|word| word.trim_end_matches(|c: char| !c.is_ascii_alphanumeric()).to_string());
        Activity {
            status_code: activity.status_code().map(|c| c.as_str().to_string()).unwrap_or_default(),
            description,
            status_message: activity.status_message().map(str::to_string),
            cause: activity.cause().unwrap_or_default().to_string(),
            instance_id,
        }
    }

    /// The launch failed the way AWS reports a KMS key the launching principal may not use: the
    /// classic `Client.InternalError: Client error on launch`, the 2025 "encrypted with an
    /// inaccessible AWS KMS key" text, or the `Client.InvalidKMSKey.InvalidState` variant
    /// (aws-traps.md, Trap 2). A sandbox run is judged by the same test.
    pub fn is_kms_launch_failure(&self) -> bool {
        let text = format!("{} {}", self.description, self.status_message.as_deref().unwrap_or_default());
        self.status_code != "Successful"
            && (text.contains("Client.InternalError: Client error on launch")
                || text.contains("encrypted with an inaccessible AWS KMS key")
                || text.contains("Client.InvalidKMSKey.InvalidState"))
    }
}

fn scenario_error(text: impl Into<String>) -> HarnessError {
    HarnessError::Scenario(text.into())
}

// ---------------------------------------------------------------------------------------------
// Provision.

pub async fn provision(ctx: &mut RunContext, fix: Fix) -> Result<Provisioned, HarnessError> {
    ctx.recorder.set_phase(Phase::Provision);
    let owner = ctx.admin(OWNER)?;
    let consumer_admin = ctx.admin(CONSUMER)?;
    let region = ctx.backend.region().to_string();
    let run_id = ctx.run_id.clone();
    let key_arn = create_owner_key(ctx, &owner, &consumer_admin.account, fix.key_policy_allows_b_grants()).await?;
    let image_id = encrypted_image(ctx, &owner, &key_arn, &format!("{run_id}-shared")).await?;
    share_image(ctx, &owner, &image_id, &consumer_admin.account).await?;
    let role_arn = create_consumer_role(ctx, &consumer_admin, &key_arn).await?;
    let consumer = assume_consumer_role(ctx, &consumer_admin, &role_arn).await?;
    Ok(Provisioned {
        owner,
        consumer_admin,
        consumer,
        key_arn,
        image_id,
        role_arn,
        template_name: format!("{run_id}-template"),
        group_name: format!("{run_id}-group"),
        region,
    })
}

/// A's customer managed key with the report's key policy; an alias lets teardown find it.
async fn create_owner_key(ctx: &mut RunContext, owner: &Principal, consumer: &str, grants: bool) -> Result<String, HarnessError> {
    let kms = aws_sdk_kms::Client::new(&owner.config);
    let policy = report_key_policy(&owner.account, consumer, grants);
    ctx.will_create(owner, ResourceKind::KmsKey, None)?;
    let created = kms
        .create_key()
        .description("wana cross-account-ami-asg: the key of the shared AMI")
        .policy(policy.to_string())
        .set_tags(Some(ctx.kms_tags()))
        .send()
        .await;
    let created = ctx.recorder.record_sdk(&owner.label, "kms:CreateKey", created, |out| {
        json!({ "Arn": out.key_metadata().and_then(|m| m.arn()), "Policy": policy })
    })?;
    let key_arn = created
        .key_metadata()
        .and_then(|m| m.arn())
        .ok_or_else(|| scenario_error("CreateKey returned no key ARN"))?
        .to_string();
    ctx.created(owner, ResourceKind::KmsKey, &key_arn)?;
    let alias = format!("alias/{}", ctx.run_id);
    ctx.will_create(owner, ResourceKind::KmsAlias, Some(&alias))?;
    let result = kms.create_alias().alias_name(&alias).target_key_id(&key_arn).send().await;
    ctx.recorder.record_sdk(&owner.label, "kms:CreateAlias", result, |_| json!({ "AliasName": alias }))?;
    Ok(key_arn)
}

/// An AMI of `who` whose snapshot is encrypted with `key`: a copy of Amazon's public image,
/// re-encrypted (the usual way to make an encrypted AMI).
pub async fn encrypted_image(ctx: &mut RunContext, who: &Principal, key: &str, name: &str) -> Result<String, HarnessError> {
    let ec2 = aws_sdk_ec2::Client::new(&who.config);
    ctx.will_create(who, ResourceKind::Ec2Image, Some(name))?;
    let copied = ec2
        .copy_image()
        .source_image_id(SOURCE_IMAGE_ID)
        .source_region(ctx.backend.region())
        .name(name)
        .encrypted(true)
        .kms_key_id(key)
        .send()
        .await;
    let copied = ctx.recorder.record_sdk(&who.label, "ec2:CopyImage", copied, |out| {
        json!({ "ImageId": out.image_id(), "Encrypted": true, "KmsKeyId": key })
    })?;
    let image_id = copied.image_id().ok_or_else(|| scenario_error("CopyImage returned no image id"))?.to_string();
    ctx.created(who, ResourceKind::Ec2Image, &image_id)?;
    wait_image_available(ctx, who, &image_id).await?;
    Ok(image_id)
}

async fn wait_image_available(ctx: &mut RunContext, who: &Principal, image_id: &str) -> Result<(), HarnessError> {
    let ec2 = aws_sdk_ec2::Client::new(&who.config);
    let mut polling = WAIT.start();
    loop {
        let described = ec2.describe_images().image_ids(image_id).send().await.map_err(|e| StepError::from_sdk(&e))?;
        let state = described.images().first().and_then(|i| i.state()).map(|s| s.as_str().to_string());
        if state.as_deref() == Some("available") {
            let image = described.images().first().cloned();
            ctx.recorder.record(&who.label, "ec2:DescribeImages", &Ok::<_, StepError>(image), |image| {
                let snapshot = image
                    .as_ref()
                    .and_then(|i| i.block_device_mappings().first())
                    .and_then(|m| m.ebs());
                json!({
                    "ImageId": image_id,
                    "State": "available",
                    "RootSnapshot": { "Encrypted": snapshot.and_then(|e| e.encrypted()) },
                })
            });
            return Ok(());
        }
        if state.as_deref() == Some("failed") {
            return Err(scenario_error(format!("the image {image_id} failed")));
        }
        if !polling.again(ctx).await {
            return Err(scenario_error(format!("the image {image_id} did not become available")));
        }
    }
}

/// Shares the AMI with account `consumer` (launch permission); the snapshot behind it needs no
/// sharing of its own for launches, but its key does (EC2 user guide, "Share an AMI").
async fn share_image(ctx: &mut RunContext, owner: &Principal, image_id: &str, consumer: &str) -> Result<(), HarnessError> {
    let ec2 = aws_sdk_ec2::Client::new(&owner.config);
    let result = ec2
        .modify_image_attribute()
        .image_id(image_id)
        .launch_permission(
            LaunchPermissionModifications::builder()
                .add(LaunchPermission::builder().user_id(consumer).build())
                .build(),
        )
        .send()
        .await;
    ctx.recorder.record_sdk(&owner.label, "ec2:ModifyImageAttribute", result, |_| {
        json!({ "ImageId": image_id, "LaunchPermission": {"Add": [{"UserId": consumer}]} })
    })?;
    Ok(())
}

/// B's role: trusted by B, allowed to launch, run Auto Scaling and use A's key (the report's IAM
/// policy in B, without which the key policy's statement for B grants nothing).
async fn create_consumer_role(ctx: &mut RunContext, admin: &Principal, key_arn: &str) -> Result<String, HarnessError> {
    let iam = admin.iam();
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{}:root", admin.account)}, "Action": "sts:AssumeRole"}]
    });
    let role_name = ctx.name(ROLE_NAME);
    ctx.will_create(admin, ResourceKind::IamRole, Some(&role_name))?;
    let created = iam
        .create_role()
        .role_name(&role_name)
        .assume_role_policy_document(trust.to_string())
        .set_tags(Some(ctx.iam_tags()))
        .send()
        .await;
    let created = ctx.recorder.record_sdk(&admin.label, "iam:CreateRole", created, |out| {
        json!({ "Arn": out.role().map(|r| r.arn()), "AssumeRolePolicyDocument": trust })
    })?;
    let role_arn = created.role().map(|r| r.arn().to_string()).ok_or_else(|| scenario_error("CreateRole returned no role"))?;
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "UseTheSharedKey", "Effect": "Allow",
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"],
             "Resource": key_arn},
            {"Sid": "LaunchAndScale", "Effect": "Allow",
             "Action": ["ec2:*", "autoscaling:*"], "Resource": "*"},
            {"Sid": "AutoScalingServiceLinkedRole", "Effect": "Allow",
             "Action": "iam:CreateServiceLinkedRole", "Resource": "*",
             "Condition": {"StringEquals": {"iam:AWSServiceName": "autoscaling.amazonaws.com"}}}
        ]
    });
    let result = iam
        .put_role_policy()
        .role_name(&role_name)
        .policy_name("UseSharedAmi")
        .policy_document(policy.to_string())
        .send()
        .await;
    ctx.recorder.record_sdk(&admin.label, "iam:PutRolePolicy", result, |_| json!({ "PolicyName": "UseSharedAmi", "PolicyDocument": policy }))?;
    Ok(role_arn)
}

async fn assume_consumer_role(ctx: &mut RunContext, admin: &Principal, role_arn: &str) -> Result<Principal, HarnessError> {
    let label = format!("{ROLE_NAME}@{CONSUMER}");
    let mut polling = ASSUME_WAIT.start();
    loop {
        match ctx.assume_role(admin, role_arn, SESSION_NAME, None, &label).await {
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

// ---------------------------------------------------------------------------------------------
// Trigger and observe.

/// `RunInstances` with the shared AMI as B's role; returns the state it settled in, and
/// terminates the instance again.
pub async fn launch_directly(ctx: &mut RunContext, p: &Provisioned) -> Result<String, HarnessError> {
    let ec2 = aws_sdk_ec2::Client::new(&p.consumer.config);
    ctx.will_create(&p.consumer, ResourceKind::Ec2Instance, None)?;
    let launched = ec2
        .run_instances()
        .image_id(&p.image_id)
        .instance_type("t2.micro".into())
        .min_count(1)
        .max_count(1)
        .tag_specifications(ctx.ec2_tag_specification(ResourceType::Instance))
        .send()
        .await;
    let launched = ctx.recorder.record_sdk(&p.consumer.label, "ec2:RunInstances", launched, |out| {
        let instance = out.instances().first();
        json!({ "InstanceId": instance.and_then(|i| i.instance_id()), "ImageId": p.image_id,
                "State": instance.and_then(|i| i.state()).and_then(|s| s.name()).map(|n| n.as_str()) })
    })?;
    let instance_id = launched
        .instances()
        .first()
        .and_then(|i| i.instance_id())
        .ok_or_else(|| scenario_error("RunInstances returned no instance"))?
        .to_string();
    ctx.created(&p.consumer, ResourceKind::Ec2Instance, &instance_id)?;
    let (state, _) = settle_instance(ctx, &p.consumer, &instance_id).await?;
    let result = ec2.terminate_instances().instance_ids(&instance_id).send().await;
    ctx.recorder.record_sdk(&p.consumer.label, "ec2:TerminateInstances", result, |_| json!({ "InstanceId": instance_id }))?;
    Ok(state)
}

/// Waits until an instance leaves its transition and records it: (state, state reason message).
async fn settle_instance(ctx: &mut RunContext, who: &Principal, instance_id: &str) -> Result<(String, Option<String>), HarnessError> {
    let ec2 = aws_sdk_ec2::Client::new(&who.config);
    let mut polling = WAIT.start();
    loop {
        polling.wait(ctx).await;
        let described = ec2.describe_instances().instance_ids(instance_id).send().await.map_err(|e| StepError::from_sdk(&e));
        let instance = described.map(|out| out.reservations().iter().flat_map(|r| r.instances()).next().cloned());
        let state = instance.as_ref().ok().and_then(|i| i.as_ref()).and_then(|i| i.state()).and_then(|s| s.name()).cloned();
        let moving = matches!(state, Some(InstanceStateName::Pending | InstanceStateName::Stopping | InstanceStateName::ShuttingDown));
        if !moving || polling.exhausted(ctx) {
            ctx.recorder.record(&who.label, "ec2:DescribeInstances", &instance, |instance| {
                let mut detail = json!({ "InstanceId": instance_id,
                    "State": instance.as_ref().and_then(|i| i.state()).and_then(|s| s.name()).map(|n| n.as_str()) });
                if let Some(reason) = instance.as_ref().and_then(|i| i.state_reason()) {
                    detail["StateReason"] = json!({ "Code": reason.code(), "Message": reason.message() });
                }
                detail
            });
            let instance = instance?;
            let reason = instance.as_ref().and_then(|i| i.state_reason()).and_then(|r| r.message()).map(str::to_string);
            return Ok((state.map(|s| s.as_str().to_string()).unwrap_or_else(|| "unknown".into()), reason));
        }
    }
}

/// The launch template and the group (desired capacity 1), as B's role.
pub async fn create_group(ctx: &mut RunContext, p: &Provisioned) -> Result<(), HarnessError> {
    let ec2 = aws_sdk_ec2::Client::new(&p.consumer.config);
    ctx.will_create(&p.consumer, ResourceKind::Ec2LaunchTemplate, Some(&p.template_name))?;
    let created = ec2
        .create_launch_template()
        .launch_template_name(&p.template_name)
        .launch_template_data(RequestLaunchTemplateData::builder().image_id(&p.image_id).instance_type("t2.micro".into()).build())
        .send()
        .await;
    ctx.recorder.record_sdk(&p.consumer.label, "ec2:CreateLaunchTemplate", created, |out| {
        json!({ "LaunchTemplateName": p.template_name, "ImageId": p.image_id,
                "LatestVersionNumber": out.launch_template().and_then(|t| t.latest_version_number()) })
    })?;
    let zone = format!("{}a", p.region);
    let autoscaling = aws_sdk_autoscaling::Client::new(&p.consumer.config);
    ctx.will_create(&p.consumer, ResourceKind::AutoScalingGroup, Some(&p.group_name))?;
    let created = autoscaling
        .create_auto_scaling_group()
        .auto_scaling_group_name(&p.group_name)
        .launch_template(LaunchTemplateSpecification::builder().launch_template_name(&p.template_name).version("$Latest").build())
        .min_size(1)
        .max_size(1)
        .desired_capacity(1)
        .availability_zones(&zone)
        .set_tags(Some(ctx.autoscaling_tags()))
        .send()
        .await;
    ctx.recorder.record_sdk(&p.consumer.label, "autoscaling:CreateAutoScalingGroup", created, |_| {
        json!({ "AutoScalingGroupName": p.group_name, "LaunchTemplate": {"LaunchTemplateName": p.template_name, "Version": "$Latest"},
                "MinSize": 1, "MaxSize": 1, "DesiredCapacity": 1, "AvailabilityZones": [zone] })
    })?;
    Ok(())
}

async fn activities(ctx: &mut RunContext, p: &Provisioned) -> Result<Vec<Activity>, StepError> {
    let autoscaling = aws_sdk_autoscaling::Client::new(&p.consumer.config);
    let _ = ctx;
    autoscaling
        .describe_scaling_activities()
        .auto_scaling_group_name(&p.group_name)
        .send()
        .await
        .map(|out| out.activities().iter().map(Activity::from_sdk).collect())
        .map_err(|e| StepError::from_sdk(&e))
}

/// Waits for the group's first launch to end: `Some` with the failed activity, `None` when it
/// succeeded. The activity is recorded as `describe-scaling-activities` shows it.
pub async fn first_failed_launch(ctx: &mut RunContext, p: &Provisioned) -> Result<Option<Activity>, HarnessError> {
    let mut polling = WAIT.start();
    loop {
        polling.wait(ctx).await;
        let found = activities(ctx, p).await;
        // Newest first: the oldest finished activity is the group's first launch.
        let finished = found.as_ref().ok().and_then(|list| {
            list.iter().rev().find(|a| matches!(a.status_code.as_str(), "Successful" | "Failed" | "Cancelled")).cloned()
        });
        if finished.is_some() || polling.exhausted(ctx) || found.is_err() {
            let recorded = found.map(|_| finished.clone());
            ctx.recorder.record(&p.consumer.label, "autoscaling:DescribeScalingActivities", &recorded, |activity| match activity {
                Some(a) => json!({ "StatusCode": a.status_code, "Description": a.description, "StatusMessage": a.status_message, "Cause": a.cause }),
                None => Value::Null,
            });
            let activity = recorded?;
            return match activity {
                Some(a) if a.status_code == "Successful" => Ok(None),
                Some(a) => {
                    if let Some(instance_id) = &a.instance_id {
                        settle_instance(ctx, &p.consumer, instance_id).await?;
                    }
                    Ok(Some(a))
                }
                None => Err(scenario_error("the group recorded no finished launch")),
            };
        }
    }
}

/// Says why the group failed where the direct launch worked, naming the refused KMS call where
/// the backend can tell.
pub fn explain_failure(ctx: &mut RunContext, p: &Provisioned, failure: &Activity, since: usize) {
    let role = service_linked_role_arn(&p.consumer_admin.account);
    if failure.is_kms_launch_failure() {
        note_tr!(ctx.recorder, "notes.cross_account_ami_asg.observed", status = &failure.status_code, role = &role);
    } else {
        note_tr!(ctx.recorder, "notes.cross_account_ami_asg.other_failure", reason = failure.status_message.as_deref().unwrap_or(&failure.description));
    }
    let denied = explain::denied_inner_calls(&ctx.backend, since);
    for call in denied.iter().filter(|c| c.principal.contains(super::SERVICE_LINKED_ROLE)).take(1) {
        note_tr!(ctx.recorder, "notes.ec2_called", call = call.sentence_note());
    }
    if denied.is_empty() && ctx.backend.kind() != BackendKind::Emulator {
        note_tr!(ctx.recorder, "notes.cross_account_ami_asg.no_cloudtrail");
    }
}

// ---------------------------------------------------------------------------------------------
// Fix and verify.

pub async fn apply_fix(ctx: &mut RunContext, p: &Provisioned, fix: Fix) -> Result<(), HarnessError> {
    let slr = service_linked_role_arn(&p.consumer_admin.account);
    let (grantee, operations): (String, Vec<&str>) = match fix {
        Fix::ReportGrant | Fix::GrantFromKeyAccount | Fix::GrantWithoutKeyPolicyPermission => (slr, REPORT_OPERATIONS.to_vec()),
        Fix::GrantWithoutDecrypt => (slr, REPORT_OPERATIONS.iter().copied().filter(|o| *o != "Decrypt").collect()),
        Fix::GrantForOtherRole => (p.role_arn.clone(), REPORT_OPERATIONS.to_vec()),
        Fix::CopyAmiWithOwnKey => return copy_ami_with_own_key(ctx, p).await,
    };
    let who = fixer(p, fix).clone();
    let kms = aws_sdk_kms::Client::new(&who.config);
    let mut request = kms.create_grant().key_id(&p.key_arn).grantee_principal(&grantee);
    for operation in &operations {
        request = request.operations((*operation).into());
    }
    let result = request.send().await;
    // A refused grant is part of what a wrong fix shows: recorded, not an error of the run.
    let _ = ctx.recorder.record_sdk(&who.label, "kms:CreateGrant", result, |out| {
        json!({ "KeyId": p.key_arn, "GranteePrincipal": grantee, "Operations": operations, "GrantId": out.grant_id() })
    });
    Ok(())
}

/// The documented alternative: a key of B whose policy lets B's service-linked role use it (and
/// create grants for AWS resources), a copy of the AMI re-encrypted with it, and a new template
/// version for the group.
async fn copy_ami_with_own_key(ctx: &mut RunContext, p: &Provisioned) -> Result<(), HarnessError> {
    // Copying another account's AMI reads its snapshots: A shares them with B too (EC2 user
    // guide, "Copy an AMI": the snapshots of a shared AMI must be shared for a copy).
    share_snapshots(ctx, &p.owner, &p.image_id, &p.consumer_admin.account).await?;
    let admin = p.consumer_admin.clone();
    let slr = service_linked_role_arn(&admin.account);
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
             "Principal": {"AWS": format!("arn:aws:iam::{}:root", admin.account)}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "Allow service-linked role use of the customer managed key", "Effect": "Allow",
             "Principal": {"AWS": slr},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*"},
            {"Sid": "Allow attachment of persistent resources", "Effect": "Allow",
             "Principal": {"AWS": slr}, "Action": "kms:CreateGrant", "Resource": "*",
             "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}
        ]
    });
    let kms = aws_sdk_kms::Client::new(&admin.config);
    ctx.will_create(&admin, ResourceKind::KmsKey, None)?;
    let created = kms.create_key().description("wana cross-account-ami-asg: B's own key").policy(policy.to_string()).set_tags(Some(ctx.kms_tags())).send().await;
    let created = ctx.recorder.record_sdk(&admin.label, "kms:CreateKey", created, |out| {
        json!({ "Arn": out.key_metadata().and_then(|m| m.arn()), "Policy": policy })
    })?;
    let key = created.key_metadata().and_then(|m| m.arn()).ok_or_else(|| scenario_error("CreateKey returned no ARN"))?.to_string();
    ctx.created(&admin, ResourceKind::KmsKey, &key)?;
    let alias = format!("alias/{}-b", ctx.run_id);
    ctx.will_create(&admin, ResourceKind::KmsAlias, Some(&alias))?;
    let result = kms.create_alias().alias_name(&alias).target_key_id(&key).send().await;
    ctx.recorder.record_sdk(&admin.label, "kms:CreateAlias", result, |_| json!({ "AliasName": alias }))?;
    // B's administrator copies: it may use both keys (B's role may use only A's).
    let ec2 = aws_sdk_ec2::Client::new(&admin.config);
    let copy_name = format!("{}-copy", ctx.run_id);
    ctx.will_create(&admin, ResourceKind::Ec2Image, Some(&copy_name))?;
    let copied = ec2
        .copy_image()
        .source_image_id(&p.image_id)
        .source_region(&p.region)
        .name(&copy_name)
        .encrypted(true)
        .kms_key_id(&key)
        .send()
        .await;
    let copied = ctx.recorder.record_sdk(&admin.label, "ec2:CopyImage", copied, |out| {
        json!({ "SourceImageId": p.image_id, "ImageId": out.image_id(), "KmsKeyId": key })
    })?;
    let image_id = copied.image_id().ok_or_else(|| scenario_error("CopyImage returned no image id"))?.to_string();
    wait_image_available(ctx, &admin, &image_id).await?;
    let version = aws_sdk_ec2::Client::new(&p.consumer.config)
        .create_launch_template_version()
        .launch_template_name(&p.template_name)
        .launch_template_data(RequestLaunchTemplateData::builder().image_id(&image_id).instance_type("t2.micro".into()).build())
        .send()
        .await;
    ctx.recorder.record_sdk(&p.consumer.label, "ec2:CreateLaunchTemplateVersion", version, |out| {
        json!({ "ImageId": image_id, "VersionNumber": out.launch_template_version().and_then(|v| v.version_number()) })
    })?;
    Ok(())
}

/// Shares the snapshots behind `image_id` with `account` (create volume permission).
async fn share_snapshots(ctx: &mut RunContext, owner: &Principal, image_id: &str, account: &str) -> Result<(), HarnessError> {
    let ec2 = aws_sdk_ec2::Client::new(&owner.config);
    let described = ec2.describe_images().image_ids(image_id).send().await.map_err(|e| StepError::from_sdk(&e))?;
    let snapshots: Vec<String> = described
        .images()
        .iter()
        .flat_map(|i| i.block_device_mappings())
        .filter_map(|m| m.ebs().and_then(|e| e.snapshot_id()).map(str::to_string))
        .collect();
    for snapshot in snapshots {
        let result = ec2
            .modify_snapshot_attribute()
            .snapshot_id(&snapshot)
            .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
            .create_volume_permission(
                aws_sdk_ec2::types::CreateVolumePermissionModifications::builder()
                    .add(aws_sdk_ec2::types::CreateVolumePermission::builder().user_id(account).build())
                    .build(),
            )
            .send()
            .await;
        ctx.recorder.record_sdk(&owner.label, "ec2:ModifySnapshotAttribute", result, |_| {
            json!({ "SnapshotId": snapshot, "CreateVolumePermission": {"Add": [{"UserId": account}]} })
        })?;
    }
    Ok(())
}

/// Waits for an instance of the group to be `InService`, recording the group as it ends.
pub async fn wait_in_service(ctx: &mut RunContext, p: &Provisioned) -> Result<bool, HarnessError> {
    let autoscaling = aws_sdk_autoscaling::Client::new(&p.consumer.config);
    let mut polling = WAIT.start();
    loop {
        polling.wait(ctx).await;
        let described = autoscaling
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(&p.group_name)
            .send()
            .await
            .map_err(|e| StepError::from_sdk(&e));
        let in_service = described.as_ref().is_ok_and(|out| {
            out.auto_scaling_groups().iter().flat_map(|g| g.instances()).any(|i| i.lifecycle_state().map(|s| s.as_str()) == Some("InService"))
        });
        if in_service || polling.exhausted(ctx) || described.is_err() {
            ctx.recorder.record(&p.consumer.label, "autoscaling:DescribeAutoScalingGroups", &described, |out| {
                let group = out.auto_scaling_groups().first();
                json!({
                    "AutoScalingGroupName": p.group_name,
                    "DesiredCapacity": group.and_then(|g| g.desired_capacity()),
                    "Instances": group.map(|g| g.instances().iter().map(|i| json!({
                        "InstanceId": i.instance_id(),
                        "LifecycleState": i.lifecycle_state().map(|s| s.as_str()),
                    })).collect::<Vec<_>>()),
                })
            });
            described?;
            if in_service {
                let latest = activities(ctx, p).await?;
                if let Some(success) = latest.iter().find(|a| a.status_code == "Successful") {
                    note_tr!(ctx.recorder, "notes.cross_account_ami_asg.activity", activity = &success.description);
                }
            }
            return Ok(in_service);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Teardown: the group (with its instances), the template, the direct launch's instance, the
// images and snapshots, the keys (scheduled for deletion) and the role, in both accounts.

pub async fn teardown(ctx: &mut RunContext) -> Result<(), HarnessError> {
    let run_id = ctx.run_id.clone();
    let consumer = ctx.admin(CONSUMER)?;
    let owner = ctx.admin(OWNER)?;
    let autoscaling = aws_sdk_autoscaling::Client::new(&consumer.config);
    let group = format!("{run_id}-group");
    let exists = autoscaling.describe_auto_scaling_groups().auto_scaling_group_names(&group).send().await
        .is_ok_and(|out| !out.auto_scaling_groups().is_empty());
    if exists {
        let result = autoscaling.delete_auto_scaling_group().auto_scaling_group_name(&group).force_delete(true).send().await;
        ctx.recorder.record_sdk(&consumer.label, "autoscaling:DeleteAutoScalingGroup", result, |_| json!({ "AutoScalingGroupName": group, "ForceDelete": true }))?;
    }
    let ec2_b = aws_sdk_ec2::Client::new(&consumer.config);
    let template = format!("{run_id}-template");
    if ec2_b.describe_launch_templates().launch_template_names(&template).send().await.is_ok() {
        let result = ec2_b.delete_launch_template().launch_template_name(&template).send().await;
        ctx.recorder.record_sdk(&consumer.label, "ec2:DeleteLaunchTemplate", result, |_| json!({ "LaunchTemplateName": template }))?;
    }
    crate::teardown::terminate_tagged(ctx, &consumer).await?;
    for who in [&consumer, &owner] {
        deregister_own_images(ctx, who, &run_id).await?;
        delete_run_keys(ctx, who, &run_id).await?;
    }
    let (iam, role) = (consumer.iam(), ctx.name(ROLE_NAME));
    if iam.get_role().role_name(&role).send().await.is_ok() {
        let result = iam.delete_role_policy().role_name(&role).policy_name("UseSharedAmi").send().await;
        ctx.recorder.record_sdk(&consumer.label, "iam:DeleteRolePolicy", result, |_| json!({ "RoleName": role }))?;
        let result = iam.delete_role().role_name(&role).send().await;
        ctx.recorder.record_sdk(&consumer.label, "iam:DeleteRole", result, |_| json!({ "RoleName": role }))?;
    }
    Ok(())
}

/// The images the run made in `who`'s account (named after the run), and their snapshots.
async fn deregister_own_images(ctx: &mut RunContext, who: &Principal, run_id: &str) -> Result<(), HarnessError> {
    let ec2 = aws_sdk_ec2::Client::new(&who.config);
    let images = ec2
        .describe_images()
        .owners("self")
        .filters(Filter::builder().name("name").values(format!("{run_id}-*")).build())
        .send()
        .await
        .map_err(|err| StepError::from_sdk(&err))?;
    for image in images.images() {
        let Some(image_id) = image.image_id() else { continue };
        let snapshots: Vec<String> = image
            .block_device_mappings()
            .iter()
            .filter_map(|m| m.ebs().and_then(|e| e.snapshot_id()).map(str::to_string))
            .collect();
        let result = ec2.deregister_image().image_id(image_id).send().await;
        ctx.recorder.record_sdk(&who.label, "ec2:DeregisterImage", result, |_| json!({ "ImageId": image_id }))?;
        for snapshot in snapshots {
            let result = ec2.delete_snapshot().snapshot_id(&snapshot).send().await;
            ctx.recorder.record_sdk(&who.label, "ec2:DeleteSnapshot", result, |_| json!({ "SnapshotId": snapshot }))?;
        }
    }
    Ok(())
}

/// The run's keys in `who`'s account (found by their aliases), scheduled for deletion.
async fn delete_run_keys(ctx: &mut RunContext, who: &Principal, run_id: &str) -> Result<(), HarnessError> {
    let kms = aws_sdk_kms::Client::new(&who.config);
    let aliases = kms.list_aliases().send().await.map_err(|err| StepError::from_sdk(&err))?;
    let prefix = format!("alias/{run_id}");
    let ours: Vec<(String, String)> = aliases
        .aliases()
        .iter()
        .filter(|a| a.alias_name().is_some_and(|n| n == prefix || n.starts_with(&format!("{prefix}-"))))
        .filter_map(|a| Some((a.alias_name()?.to_string(), a.target_key_id()?.to_string())))
        .collect();
    for (alias, key_id) in ours {
        let result = kms.schedule_key_deletion().key_id(&key_id).pending_window_in_days(7).send().await;
        ctx.recorder.record_sdk(&who.label, "kms:ScheduleKeyDeletion", result, |out| json!({ "KeyState": out.key_state().map(|s| s.as_str()) }))?;
        let result = kms.delete_alias().alias_name(&alias).send().await;
        ctx.recorder.record_sdk(&who.label, "kms:DeleteAlias", result, |_| json!({ "AliasName": alias }))?;
    }
    Ok(())
}
