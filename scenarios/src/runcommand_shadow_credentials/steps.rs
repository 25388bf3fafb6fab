//! The steps of `runcommand-shadow-credentials`: the bucket, the role and its instances, the
//! stale key planted as root's, the report's documents run through Run Command, the fixes, and
//! teardown.

use std::time::Duration;

use aws_sdk_ec2::types::{Filter, IamInstanceProfileSpecification, InstanceStateName, ResourceType, Tag, TagSpecification};
use wana_harness::{ResourceKind, Waiter};
use aws_sdk_ssm::types::{DocumentFormat, DocumentType, InstanceInformationStringFilter};
use serde_json::json;
use wana_harness::{msg_tr, narration::NoteArg, note_tr, HarnessError, Principal, RunContext, StepError};

use super::{
    configure_list_document, documents::copy_lines, fixed_upload_document, Fix, Run, ACCOUNT,
    COMMAND_WITHIN, IMAGE_NAME_PATTERN, LEGACY_USER, MANAGED_POLICY_ARN, POLL, PROFILE_NAME, REPORT_DIR, ROLE_NAME,
    UPLOADED_FILES,
};

/// What provisioning created, and who acts.
#[derive(Debug, Clone)]
pub struct Provisioned {
    pub admin: Principal,
    pub bucket: String,
    /// The instance without a credentials file, and the one with root's stale file.
    pub healthy: String,
    pub stale: String,
    /// The deleted key left in root's credentials file.
    pub stale_key_id: String,
}

/// One command invocation as `get-command-invocation` shows it when it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub instance_id: String,
    pub status: String,
    pub status_details: String,
    pub response_code: i32,
    pub stdout: String,
    pub stderr: String,
}

fn scenario_error(text: impl Into<String>) -> HarnessError {
    HarnessError::Scenario(text.into())
}

/// An instance leaves `pending` within minutes (60 looks); both become managed nodes within
/// half an hour (70 looks).
const RUNNING_WAIT: Waiter = Waiter::every("the instance to run", Duration::from_secs(10), Duration::from_secs(600));
const MANAGED_WAIT: Waiter = Waiter::every("the instances in Systems Manager", Duration::from_secs(30), Duration::from_secs(2100));

fn document_name(ctx: &RunContext, what: &str) -> String {
    format!("{}-{what}", ctx.run_id)
}

// ---------------------------------------------------------------------------------------------
// Provision.

pub async fn provision(ctx: &mut RunContext) -> Result<Provisioned, HarnessError> {
    ctx.recorder.set_phase(wana_harness::Phase::Provision);
    let admin = ctx.admin(ACCOUNT)?;
    let bucket = format!("{}-reports", ctx.run_id.to_ascii_lowercase());
    ctx.will_create(&admin, ResourceKind::S3Bucket, Some(&bucket))?;
    create_bucket(ctx, &admin, &bucket).await?;
    let (stale_key_id, stale_secret) = deleted_key(ctx, &admin).await?;
    create_role(ctx, &admin, &bucket).await?;
    let image_id = newest_image(&admin).await?;
    let healthy = launch(ctx, &admin, &image_id, "healthy").await?;
    let stale = launch(ctx, &admin, &image_id, "stale").await?;
    for id in [&healthy, &stale] {
        wait_running(ctx, &admin, id).await?;
    }
    wait_managed(ctx, &admin, &[&healthy, &stale]).await?;
    let p = Provisioned { admin, bucket, healthy, stale, stale_key_id };

    let files = UPLOADED_FILES.iter().map(|f| format!("echo {f} > {REPORT_DIR}/{f}")).collect::<Vec<_>>();
    let mut commands = vec![format!("mkdir -p {REPORT_DIR}")];
    commands.extend(files);
    let both = [p.healthy.clone(), p.stale.clone()];
    for invocation in run_shell(ctx, &p, &both, &commands, "the report's files").await? {
        expect_success(&invocation, "creating the report's files")?;
    }
    let plant = vec![
        "mkdir -p /root/.aws".to_string(),
        format!(
            "printf '[default]\\naws_access_key_id = %s\\naws_secret_access_key = %s\\n' {} {} > /root/.aws/credentials",
            p.stale_key_id, stale_secret
        ),
        format!("printf '[default]\\nregion = %s\\n' {} > /root/.aws/config", ctx.backend.region()),
    ];
    let [planted] = run_shell(ctx, &p, &[p.stale.clone()], &plant, "root's stale credentials file").await?.try_into().map_err(|_| scenario_error("one invocation expected"))?;
    expect_success(&planted, "planting root's credentials file")?;
    Ok(p)
}

async fn create_bucket(ctx: &mut RunContext, admin: &Principal, bucket: &str) -> Result<(), HarnessError> {
    let s3 = aws_sdk_s3::Client::new(&admin.config);
    let mut request = s3.create_bucket().bucket(bucket);
    if ctx.backend.region() != "us-east-1" {
        request = request.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(ctx.backend.region().into())
                .build(),
        );
    }
    let result = request.send().await;
    ctx.recorder.record_sdk(&admin.label, "s3:CreateBucket", result, |_| json!({ "Bucket": bucket }))?;
    Ok(())
}

/// An access key of a user that someone once used on an instance, deleted since: its id and
/// secret are what the stale file holds.
async fn deleted_key(ctx: &mut RunContext, admin: &Principal) -> Result<(String, String), HarnessError> {
    let (iam, user) = (admin.iam(), ctx.name(LEGACY_USER));
    ctx.will_create(admin, ResourceKind::IamUser, Some(&user))?;
    let result = iam.create_user().user_name(&user).set_tags(Some(ctx.iam_tags())).send().await;
    ctx.recorder.record_sdk(&admin.label, "iam:CreateUser", result, |_| json!({ "UserName": user }))?;
    let created = iam.create_access_key().user_name(&user).send().await;
    let created = ctx.recorder.record_sdk(&admin.label, "iam:CreateAccessKey", created, |out| {
        json!({ "UserName": user, "AccessKeyId": out.access_key().map(|k| k.access_key_id()) })
    })?;
    let key = created.access_key().ok_or_else(|| scenario_error("CreateAccessKey returned no key"))?;
    let (id, secret) = (key.access_key_id().to_string(), key.secret_access_key().to_string());
    ctx.recorder.register_secret(&secret);
    let result = iam.delete_access_key().user_name(&user).access_key_id(&id).send().await;
    ctx.recorder.record_sdk(&admin.label, "iam:DeleteAccessKey", result, |_| json!({ "UserName": user, "AccessKeyId": id }))?;
    Ok((id, secret))
}

/// The instances' role: trusted by EC2, allowed to put objects into the bucket, and managed by
/// Systems Manager; and its instance profile.
async fn create_role(ctx: &mut RunContext, admin: &Principal, bucket: &str) -> Result<(), HarnessError> {
    let iam = admin.iam();
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let (role, profile) = (ctx.name(ROLE_NAME), ctx.name(PROFILE_NAME));
    ctx.will_create(admin, ResourceKind::IamRole, Some(&role))?;
    let result = iam.create_role().role_name(&role).assume_role_policy_document(trust.to_string()).set_tags(Some(ctx.iam_tags())).send().await;
    ctx.recorder.record_sdk(&admin.label, "iam:CreateRole", result, |_| json!({ "RoleName": role, "AssumeRolePolicyDocument": trust }))?;
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]});
    let result = iam.put_role_policy().role_name(&role).policy_name("upload-reports").policy_document(policy.to_string()).send().await;
    ctx.recorder.record_sdk(&admin.label, "iam:PutRolePolicy", result, |_| json!({ "RoleName": role, "PolicyName": "upload-reports", "PolicyDocument": policy }))?;
    let result = iam.attach_role_policy().role_name(&role).policy_arn(MANAGED_POLICY_ARN).send().await;
    ctx.recorder.record_sdk(&admin.label, "iam:AttachRolePolicy", result, |_| json!({ "RoleName": role, "PolicyArn": MANAGED_POLICY_ARN }))?;
    ctx.will_create(admin, ResourceKind::IamInstanceProfile, Some(&profile))?;
    let result = iam.create_instance_profile().instance_profile_name(&profile).send().await;
    ctx.recorder.record_sdk(&admin.label, "iam:CreateInstanceProfile", result, |_| json!({ "InstanceProfileName": profile }))?;
    let result = iam.add_role_to_instance_profile().instance_profile_name(&profile).role_name(&role).send().await;
    ctx.recorder.record_sdk(&admin.label, "iam:AddRoleToInstanceProfile", result, |_| json!({ "InstanceProfileName": profile, "RoleName": role }))?;
    Ok(())
}

async fn newest_image(admin: &Principal) -> Result<String, HarnessError> {
    let ec2 = aws_sdk_ec2::Client::new(&admin.config);
    let found = ec2
        .describe_images()
        .owners("amazon")
        .filters(Filter::builder().name("name").values(IMAGE_NAME_PATTERN).build())
        .send()
        .await
        .map_err(|e| StepError::from_sdk(&e))?;
    let mut images = found.images().to_vec();
    images.sort_by(|a, b| a.creation_date().cmp(&b.creation_date()));
    images.last().and_then(|i| i.image_id()).map(str::to_string).ok_or_else(|| scenario_error(format!("no Amazon image named {IMAGE_NAME_PATTERN}")))
}

/// Launches one instance with the profile, retrying while IAM's propagation to EC2 refuses it.
async fn launch(ctx: &mut RunContext, admin: &Principal, image_id: &str, name: &str) -> Result<String, HarnessError> {
    let (ec2, profile) = (aws_sdk_ec2::Client::new(&admin.config), ctx.name(PROFILE_NAME));
    for attempt in 1..=30 {
        let mut tags = ctx.ec2_tags();
        tags.push(Tag::builder().key("Name").value(name).build());
        let tags = TagSpecification::builder().resource_type(ResourceType::Instance).set_tags(Some(tags)).build();
        ctx.will_create(admin, ResourceKind::Ec2Instance, None)?;
        let launched = ec2
            .run_instances()
            .image_id(image_id)
            .instance_type("t3.micro".into())
            .min_count(1)
            .max_count(1)
            .iam_instance_profile(IamInstanceProfileSpecification::builder().name(&profile).build())
            .tag_specifications(tags)
            .send()
            .await
            .map_err(|e| StepError::from_sdk(&e));
        match launched {
            Err(err) if err.code == "InvalidParameterValue" && err.message.contains("iamInstanceProfile") && attempt < 30 => {
                ctx.wait(Duration::from_secs(4)).await;
            }
            launched => {
                ctx.recorder.record(&admin.label, "ec2:RunInstances", &launched, |out| {
                    json!({ "Name": name, "InstanceId": out.instances().first().and_then(|i| i.instance_id()), "IamInstanceProfile": {"Name": profile} })
                });
                let out = launched?;
                let id = out.instances().first().and_then(|i| i.instance_id()).ok_or_else(|| scenario_error("RunInstances returned no instance"))?;
                ctx.created(admin, ResourceKind::Ec2Instance, id)?;
                return Ok(id.to_string());
            }
        }
    }
    unreachable!("the last attempt returns")
}

async fn wait_running(ctx: &mut RunContext, admin: &Principal, id: &str) -> Result<(), HarnessError> {
    let ec2 = aws_sdk_ec2::Client::new(&admin.config);
    let mut polling = RUNNING_WAIT.start();
    while !polling.exhausted(ctx) {
        polling.wait(ctx).await;
        let out = ec2.describe_instances().instance_ids(id).send().await.map_err(|e| StepError::from_sdk(&e))?;
        let state = out.reservations().iter().flat_map(|r| r.instances()).next().and_then(|i| i.state()).and_then(|s| s.name()).cloned();
        match state {
            Some(InstanceStateName::Running) => return Ok(()),
            Some(InstanceStateName::Pending) => {}
            other => return Err(scenario_error(format!("instance {id} ended {other:?}"))),
        }
    }
    Err(scenario_error(format!("instance {id} did not start")))
}

/// Waits until both instances are managed nodes, `Online`.
async fn wait_managed(ctx: &mut RunContext, admin: &Principal, ids: &[&str]) -> Result<(), HarnessError> {
    let ssm = aws_sdk_ssm::Client::new(&admin.config);
    let filter = InstanceInformationStringFilter::builder()
        .key("InstanceIds")
        .set_values(Some(ids.iter().map(|s| s.to_string()).collect()))
        .build()
        .map_err(|e| scenario_error(e.to_string()))?;
    let mut polling = MANAGED_WAIT.start();
    while !polling.exhausted(ctx) {
        polling.wait(ctx).await;
        let out = ssm.describe_instance_information().filters(filter.clone()).send().await.map_err(|e| StepError::from_sdk(&e));
        let online = out.as_ref().map(|o| o.instance_information_list().iter().filter(|i| i.ping_status().map(|s| s.as_str()) == Some("Online")).count()).unwrap_or(0);
        if online == ids.len() {
            ctx.recorder.record(&admin.label, "ssm:DescribeInstanceInformation", &out, |_| json!({ "Online": ids.len() }));
            return Ok(());
        }
        out?;
    }
    Err(scenario_error("the instances did not become managed nodes"))
}

// ---------------------------------------------------------------------------------------------
// Run Command.

pub async fn create_document(ctx: &mut RunContext, p: &Provisioned, what: &str, content: &str) -> Result<String, HarnessError> {
    let name = document_name(ctx, what);
    let ssm = aws_sdk_ssm::Client::new(&p.admin.config);
    ctx.will_create(&p.admin, ResourceKind::SsmDocument, Some(&name))?;
    let result = ssm
        .create_document()
        .name(&name)
        .content(content)
        .document_type(DocumentType::Command)
        .document_format(DocumentFormat::Yaml)
        .send()
        .await;
    ctx.recorder.record_sdk(&p.admin.label, "ssm:CreateDocument", result, |_| json!({ "Name": name, "Content": content }))?;
    Ok(name)
}

/// Which instance an id is, for reports.
fn label(p: &Provisioned, id: &str) -> &'static str {
    if id == p.stale { "stale" } else { "healthy" }
}

/// Sends `document` to `instances` and waits until every invocation has ended.
async fn send(
    ctx: &mut RunContext,
    p: &Provisioned,
    instances: &[String],
    document: &str,
    commands: Option<&[String]>,
    what: &str,
) -> Result<Vec<Invocation>, HarnessError> {
    let ssm = aws_sdk_ssm::Client::new(&p.admin.config);
    let mut request = ssm.send_command().document_name(document).set_instance_ids(Some(instances.to_vec())).comment(what);
    if let Some(commands) = commands {
        request = request.parameters("commands", commands.to_vec());
    }
    let sent = request.send().await;
    let names: Vec<&str> = instances.iter().map(|i| label(p, i)).collect();
    let sent = ctx.recorder.record_sdk(&p.admin.label, "ssm:SendCommand", sent, |_| {
        let mut detail = json!({ "DocumentName": document, "Instances": names, "Comment": what });
        if let Some(commands) = commands {
            detail["Parameters"] = json!({ "commands": commands });
        }
        detail
    })?;
    let command_id = sent.command().and_then(|c| c.command_id()).ok_or_else(|| scenario_error("SendCommand returned no command id"))?.to_string();
    let mut ended = Vec::new();
    for instance in instances {
        let invocation = wait_invocation(ctx, p, &command_id, instance).await?;
        ctx.recorder.record(&p.admin.label, "ssm:GetCommandInvocation", &Ok::<_, StepError>(&invocation), |i| {
            json!({ "Instance": label(p, &i.instance_id), "Status": i.status, "StatusDetails": i.status_details,
                    "ResponseCode": i.response_code, "StandardOutputContent": without_progress(&i.stdout),
                    "StandardErrorContent": without_progress(&i.stderr) })
        });
        if invocation.status_details == "Undeliverable" {
            return Err(HarnessError::Unsupported(format!("this backend's instances cannot run scripts: {}", invocation.stderr.trim())));
        }
        ended.push(invocation);
    }
    Ok(ended)
}

async fn wait_invocation(ctx: &mut RunContext, p: &Provisioned, command_id: &str, instance: &str) -> Result<Invocation, HarnessError> {
    let ssm = aws_sdk_ssm::Client::new(&p.admin.config);
    let mut polling = Waiter::every("the command to end", POLL, COMMAND_WITHIN).start();
    while polling.again_pausing(ctx).await {
        let out = match ssm.get_command_invocation().command_id(command_id).instance_id(instance).send().await {
            // Eventual consistency: an invocation may not be visible at once.
            Err(err) if err.as_service_error().is_some_and(|e| e.is_invocation_does_not_exist()) => continue,
            other => other.map_err(|e| StepError::from_sdk(&e))?,
        };
        let status = out.status().map(|s| s.as_str().to_string()).unwrap_or_default();
        if matches!(status.as_str(), "Success" | "Failed" | "TimedOut" | "Cancelled") {
            return Ok(Invocation {
                instance_id: instance.to_string(),
                status,
                status_details: out.status_details().unwrap_or_default().to_string(),
                response_code: out.response_code(),
                stdout: out.standard_output_content().unwrap_or_default().to_string(),
                stderr: out.standard_error_content().unwrap_or_default().to_string(),
            });
        }
    }
    Err(scenario_error(format!("the command {command_id} did not end on {instance}")))
}

/// `AWS-RunShellScript` with `commands`.
async fn run_shell(ctx: &mut RunContext, p: &Provisioned, instances: &[String], commands: &[String], what: &str) -> Result<Vec<Invocation>, HarnessError> {
    send(ctx, p, instances, "AWS-RunShellScript", Some(commands), what).await
}

/// Runs a custom document on both instances: (healthy, stale).
pub async fn run_on_both(ctx: &mut RunContext, p: &Provisioned, document: &str) -> Result<[Invocation; 2], HarnessError> {
    let both = [p.healthy.clone(), p.stale.clone()];
    let ended = send(ctx, p, &both, document, None, "the report's document").await?;
    ended.try_into().map_err(|_| scenario_error("two invocations expected"))
}

/// Output without the CLI's transfer progress (`Completed 13 Bytes/13 Bytes (1.9 KiB/s) with 1
/// file(s) remaining` and a carriage return), whose speeds differ from run to run.
pub fn without_progress(output: &str) -> String {
    let mut kept = String::with_capacity(output.len());
    let mut rest = output;
    while let Some(start) = rest.find("Completed ") {
        let Some(end) = rest[start..].find(" remaining\r").map(|e| start + e + " remaining\r".len()) else { break };
        kept.push_str(&rest[..start]);
        rest = &rest[end..];
    }
    kept.push_str(rest);
    kept
}

fn expect_success(invocation: &Invocation, what: &str) -> Result<(), HarnessError> {
    if invocation.status == "Success" {
        Ok(())
    } else {
        Err(scenario_error(format!("{what} failed on {}: {} {}", invocation.instance_id, invocation.status, invocation.stderr.trim())))
    }
}

/// The credentials' `Type` in an `aws configure list` table (`iam-role`,
/// `shared-credentials-file`, …).
pub fn access_key_type(table: &str) -> Option<&str> {
    table.lines().find(|l| l.trim_start().starts_with("access_key")).and_then(|l| l.split_whitespace().nth(2))
}

// ---------------------------------------------------------------------------------------------
// Observe.

/// The report's diagnosis: `aws configure list` through Run Command on both instances, and as
/// `ssm-user` on the stale one (what a Session Manager shell runs as).
pub async fn diagnose(ctx: &mut RunContext, run: &mut Run) -> Result<(), HarnessError> {
    let p = run.provisioned.clone();
    let failure = run.stale_upload.stderr.lines().find(|l| l.starts_with("upload failed:")).unwrap_or_default().to_string();
    note_tr!(ctx.recorder, "notes.runcommand_shadow_credentials.observed", status = &run.stale_upload.status, code = &run.stale_upload.response_code, failure = &failure);
    let document = create_document(ctx, &p, "configure-list", &configure_list_document()).await?;
    let [healthy, stale] = run_on_both(ctx, &p, &document).await?;
    let ssm_user = run_shell(ctx, &p, &[p.stale.clone()], &["runuser -u ssm-user -- aws configure list".to_string()], "Session Manager's user")
        .await?
        .pop();
    let kind = |i: &Invocation| access_key_type(&i.stdout).unwrap_or("none").to_string();
    note_tr!(ctx.recorder, "notes.runcommand_shadow_credentials.configure_list", healthy = kind(&healthy), stale = kind(&stale));
    if let Some(shell) = &ssm_user {
        note_tr!(ctx.recorder, "notes.runcommand_shadow_credentials.ssm_user", source = kind(shell));
    }
    run.healthy_configure_list = Some(healthy);
    run.stale_configure_list = Some(stale);
    run.ssm_user_configure_list = ssm_user;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Fix and verify.

/// Applies `fix` on the stale instance and returns the upload's invocation there.
pub async fn apply_fix(ctx: &mut RunContext, p: &Provisioned, fix: Fix) -> Result<Invocation, HarnessError> {
    let stale = [p.stale.clone()];
    let mut ended = match fix {
        Fix::ReportExports | Fix::ExportsWithoutToken => {
            let document = create_document(ctx, p, "fixed-upload", &fixed_upload_document(&p.bucket, fix == Fix::ReportExports)).await?;
            send(ctx, p, &stale, &document, None, "the report's fixed document").await?
        }
        Fix::RemoveCredentialsFile => {
            let removed = run_shell(ctx, p, &stale, &["rm /root/.aws/credentials".to_string()], "remove the stale file").await?;
            expect_success(&removed[0], "removing the file")?;
            let document = document_name(ctx, "upload");
            send(ctx, p, &stale, &document, None, "the report's document").await?
        }
        Fix::SharedCredentialsFileDevNull => {
            let commands = vec![format!("cd {REPORT_DIR}"), "export AWS_SHARED_CREDENTIALS_FILE=/dev/null".to_string(), copy_lines(&p.bucket)];
            run_shell(ctx, p, &stale, &commands, "upload without the credentials file").await?
        }
    };
    ended.pop().ok_or_else(|| scenario_error("no invocation"))
}

/// A participant's script on the stale instance, through `AWS-RunShellScript`, in the report's
/// directory.
pub async fn run_script_on_stale(ctx: &mut RunContext, p: &Provisioned, script: &str) -> Result<Invocation, HarnessError> {
    let commands = vec![format!("cd {REPORT_DIR}"), script.to_string()];
    let mut ended = run_shell(ctx, p, &[p.stale.clone()], &commands, "the participant's script").await?;
    ended.pop().ok_or_else(|| scenario_error("no invocation"))
}

/// The report's document on the stale instance again (the trigger, repeated).
pub async fn upload_on_stale(ctx: &mut RunContext, p: &Provisioned) -> Result<Invocation, HarnessError> {
    let document = document_name(ctx, "upload");
    let mut ended = send(ctx, p, &[p.stale.clone()], &document, None, "the report's document").await?;
    ended.pop().ok_or_else(|| scenario_error("no invocation"))
}

/// The objects the stale instance uploaded.
pub async fn stale_objects(ctx: &mut RunContext, p: &Provisioned) -> Result<Vec<String>, HarnessError> {
    let s3 = aws_sdk_s3::Client::new(&p.admin.config);
    let listed = s3.list_objects_v2().bucket(&p.bucket).prefix(format!("{}/", p.stale)).send().await;
    let listed = ctx.recorder.record_sdk(&p.admin.label, "s3:ListObjectsV2", listed, |out| {
        json!({ "Bucket": p.bucket, "Prefix": "<stale>/", "Keys": out.contents().iter().filter_map(|o| o.key()).map(|k| k.replace(&p.stale, "<stale>")).collect::<Vec<_>>() })
    })?;
    Ok(listed.contents().iter().filter_map(|o| o.key()).map(str::to_string).collect())
}

pub fn explain_fix(ctx: &mut RunContext, run: &Run, fix: Fix) {
    let Some(after) = &run.after_fix else { return };
    if after.status == "Success" {
        note_tr!(ctx.recorder, "notes.runcommand_shadow_credentials.fixed", count = run.stale_objects.len());
        return;
    }
    let failure = after.stderr.lines().find(|l| l.starts_with("upload failed:")).unwrap_or(after.stderr.trim());
    let why = match fix {
        Fix::ExportsWithoutToken => NoteArg::Note(msg_tr!(_, "notes.runcommand_shadow_credentials.why_no_token")),
        _ => NoteArg::Text(String::new()),
    };
    note_tr!(
        ctx.recorder,
        "notes.runcommand_shadow_credentials.fix_failed",
        fix = fix.description_note(),
        failure = failure,
        why = why
    );
}

// ---------------------------------------------------------------------------------------------
// Teardown.

/// Removes what a run created. Safe to run twice and after a partial run.
pub async fn teardown(ctx: &mut RunContext) -> Result<(), HarnessError> {
    let admin = ctx.admin(ACCOUNT)?;
    crate::teardown::terminate_tagged(ctx, &admin).await?;
    let ssm = aws_sdk_ssm::Client::new(&admin.config);
    for what in ["upload", "configure-list", "fixed-upload"] {
        let name = document_name(ctx, what);
        if ssm.describe_document().name(&name).send().await.is_ok() {
            let result = ssm.delete_document().name(&name).send().await;
            ctx.recorder.record_sdk(&admin.label, "ssm:DeleteDocument", result, |_| json!({ "Name": name }))?;
        }
    }
    let bucket = format!("{}-reports", ctx.run_id.to_ascii_lowercase());
    let s3 = aws_sdk_s3::Client::new(&admin.config);
    if s3.head_bucket().bucket(&bucket).send().await.is_ok() {
        let listed = s3.list_objects_v2().bucket(&bucket).send().await.map_err(|e| StepError::from_sdk(&e))?;
        for key in listed.contents().iter().filter_map(|o| o.key()) {
            let result = s3.delete_object().bucket(&bucket).key(key).send().await;
            ctx.recorder.record_sdk(&admin.label, "s3:DeleteObject", result, |_| json!({ "Bucket": bucket }))?;
        }
        let result = s3.delete_bucket().bucket(&bucket).send().await;
        ctx.recorder.record_sdk(&admin.label, "s3:DeleteBucket", result, |_| json!({ "Bucket": bucket }))?;
    }
    let (iam, role, profile, user) = (admin.iam(), ctx.name(ROLE_NAME), ctx.name(PROFILE_NAME), ctx.name(LEGACY_USER));
    if iam.get_instance_profile().instance_profile_name(&profile).send().await.is_ok() {
        let _ = iam.remove_role_from_instance_profile().instance_profile_name(&profile).role_name(&role).send().await;
        let result = iam.delete_instance_profile().instance_profile_name(&profile).send().await;
        ctx.recorder.record_sdk(&admin.label, "iam:DeleteInstanceProfile", result, |_| json!({ "InstanceProfileName": profile }))?;
    }
    if iam.get_role().role_name(&role).send().await.is_ok() {
        let _ = iam.detach_role_policy().role_name(&role).policy_arn(MANAGED_POLICY_ARN).send().await;
        let _ = iam.delete_role_policy().role_name(&role).policy_name("upload-reports").send().await;
        let result = iam.delete_role().role_name(&role).send().await;
        ctx.recorder.record_sdk(&admin.label, "iam:DeleteRole", result, |_| json!({ "RoleName": role }))?;
    }
    if iam.get_user().user_name(&user).send().await.is_ok() {
        let result = iam.delete_user().user_name(&user).send().await;
        ctx.recorder.record_sdk(&admin.label, "iam:DeleteUser", result, |_| json!({ "UserName": user }))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{access_key_type, without_progress};

    #[test]
    fn transfer_progress_is_left_out_of_reports() {
        let out = "Completed 13 Bytes/13 Bytes (1.9 KiB/s) with 1 file(s) remaining\rupload: ./a.txt to s3://b/a.txt\nCompleted 15 Bytes/15 Bytes (1.4 KiB/s) with 1 file(s) remaining\r";
        assert_eq!(without_progress(out), "upload: ./a.txt to s3://b/a.txt\n");
        assert_eq!(without_progress("Completed the job"), "Completed the job");
    }

    #[test]
    fn the_credentials_type_is_read_from_the_clis_table() {
        let table = "      Name                    Value             Type    Location\n      ----                    -----             ----    --------\n   profile                <not set>             None    None\naccess_key     ****************U3QW shared-credentials-file    \nsecret_key     ****************Ifje shared-credentials-file    \n    region           ap-northeast-1      config-file    ~/.aws/config\n";
        assert_eq!(access_key_type(table), Some("shared-credentials-file"));
        assert_eq!(access_key_type("nothing"), None);
    }
}
