//! The steps of `instance-profile-ssm`: the role and profile, the refused second role, the
//! launch, watching Systems Manager, the trust change, the fixes, and teardown.

use std::time::Duration;

use aws_sdk_ec2::types::{Filter, IamInstanceProfileSpecification, InstanceStateName, ResourceType};
use aws_sdk_ssm::types::InstanceInformationStringFilter;
use serde_json::json;
use wana_harness::{explain, msg_tr, narration::NoteArg, note_tr, HarnessError, Principal, ResourceKind, RunContext, StepError, Waiter};

use super::{
    agent_policy, trust_policy, Fix, ACCOUNT, AGENT_POLICY_NAME, IMAGE_NAME_PATTERN, MANAGED_POLICY_ARN,
    PROFILE_NAME, PROPAGATION_POLL, PROPAGATION_RETRY_FOR, ROLE_NAME, RUNNING_WAIT, SECOND_ROLE_NAME, WATCH_WAIT,
};

/// What provisioning created, and who acts.
#[derive(Debug, Clone)]
pub struct Provisioned {
    /// A's administrator: the report's author.
    pub admin: Principal,
    pub role_arn: String,
    /// The principals the role's trust policy named at launch.
    pub launch_trust: Vec<String>,
    pub image_id: String,
    /// Empty until the launch.
    pub instance_id: String,
}

/// The instance as `ssm describe-instance-information` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedNode {
    pub instance_id: String,
    pub ping_status: String,
    pub platform_name: Option<String>,
    pub agent_version: Option<String>,
}

fn scenario_error(text: impl Into<String>) -> HarnessError {
    HarnessError::Scenario(text.into())
}

pub fn mark(ctx: &RunContext) -> usize {
    explain::mark(&ctx.backend)
}

// ---------------------------------------------------------------------------------------------
// Provision.

/// The report's role (trusting `trust`), its instance profile with the role, and the image.
pub async fn provision(ctx: &mut RunContext, trust: &[&str]) -> Result<Provisioned, HarnessError> {
    ctx.recorder.set_phase(wana_harness::Phase::Provision);
    let admin = ctx.admin(ACCOUNT)?;
    let (role, profile) = (ctx.name(ROLE_NAME), ctx.name(PROFILE_NAME));
    let role_arn = create_role(ctx, &admin, &role, trust).await?;
    ctx.will_create(&admin, ResourceKind::IamInstanceProfile, Some(&profile))?;
    let iam = admin.iam();
    let result = iam.create_instance_profile().instance_profile_name(&profile).send().await;
    ctx.recorder.record_sdk(&admin.label, "iam:CreateInstanceProfile", result, |out| {
        json!({ "InstanceProfileName": profile, "Arn": out.instance_profile().map(|p| p.arn()) })
    })?;
    let result = iam.add_role_to_instance_profile().instance_profile_name(&profile).role_name(&role).send().await;
    ctx.recorder.record_sdk(&admin.label, "iam:AddRoleToInstanceProfile", result, |_| {
        json!({ "InstanceProfileName": profile, "RoleName": role })
    })?;
    let image_id = newest_image(ctx, &admin).await?;
    Ok(Provisioned {
        admin,
        role_arn,
        launch_trust: trust.iter().map(|s| s.to_string()).collect(),
        image_id,
        instance_id: String::new(),
    })
}

async fn create_role(ctx: &mut RunContext, admin: &Principal, name: &str, trust: &[&str]) -> Result<String, HarnessError> {
    let document = trust_policy(trust);
    ctx.will_create(admin, ResourceKind::IamRole, Some(name))?;
    let created = admin
        .iam()
        .create_role()
        .role_name(name)
        .assume_role_policy_document(document.to_string())
        .set_tags(Some(ctx.iam_tags()))
        .send()
        .await;
    let created = ctx.recorder.record_sdk(&admin.label, "iam:CreateRole", created, |out| {
        json!({ "RoleName": name, "Arn": out.role().map(|r| r.arn()), "AssumeRolePolicyDocument": document })
    })?;
    created.role().map(|r| r.arn().to_string()).ok_or_else(|| scenario_error("CreateRole returned no role"))
}

/// The report's second attempt: another role for Systems Manager, added to the same profile.
/// Returns the error code AWS answered with, `None` if the profile took it.
pub async fn add_second_role(ctx: &mut RunContext, p: &Provisioned) -> Result<Option<String>, HarnessError> {
    let (second, profile) = (ctx.name(SECOND_ROLE_NAME), ctx.name(PROFILE_NAME));
    create_role(ctx, &p.admin, &second, &["ec2.amazonaws.com"]).await?;
    let result = p
        .admin
        .iam()
        .add_role_to_instance_profile()
        .instance_profile_name(&profile)
        .role_name(&second)
        .send()
        .await;
    let result = ctx.recorder.record_sdk(&p.admin.label, "iam:AddRoleToInstanceProfile", result, |_| {
        json!({ "InstanceProfileName": profile, "RoleName": second })
    });
    Ok(match result {
        Ok(_) => {
            note_tr!(ctx.recorder, "notes.instance_profile_ssm.second_role_accepted", second = SECOND_ROLE_NAME);
            None
        }
        Err(err) => {
            note_tr!(ctx.recorder, "notes.instance_profile_ssm.second_role_refused", second = SECOND_ROLE_NAME, profile = PROFILE_NAME, code = &err.code);
            Some(err.code)
        }
    })
}

/// The newest Amazon Linux 2023 image (it ships the SSM Agent).
async fn newest_image(ctx: &mut RunContext, who: &Principal) -> Result<String, HarnessError> {
    let ec2 = aws_sdk_ec2::Client::new(&who.config);
    let found = ec2
        .describe_images()
        .owners("amazon")
        .filters(Filter::builder().name("name").values(IMAGE_NAME_PATTERN).build())
        .filters(Filter::builder().name("state").values("available").build())
        .send()
        .await;
    let found = ctx.recorder.record_sdk(&who.label, "ec2:DescribeImages", found, |out| {
        json!({ "Owners": ["amazon"], "Name": IMAGE_NAME_PATTERN, "Found": out.images().len() })
    })?;
    let mut images = found.images().to_vec();
    images.sort_by(|a, b| a.creation_date().cmp(&b.creation_date()));
    images
        .last()
        .and_then(|i| i.image_id())
        .map(str::to_string)
        .ok_or_else(|| scenario_error(format!("no Amazon image named {IMAGE_NAME_PATTERN}")))
}

// ---------------------------------------------------------------------------------------------
// Trigger.

/// `RunInstances` with the profile, right after creating it, retried while EC2 does not know the
/// profile yet. Returns the instance id and how many launches were refused.
pub async fn launch_with_profile(ctx: &mut RunContext, p: &Provisioned) -> Result<(String, usize), HarnessError> {
    let ec2 = aws_sdk_ec2::Client::new(&p.admin.config);
    let attempts = (PROPAGATION_RETRY_FOR.as_secs() / PROPAGATION_POLL.as_secs()).max(1) as usize;
    let mut refusals = 0;
    let profile = ctx.name(PROFILE_NAME);
    for attempt in 1..=attempts {
        ctx.will_create(&p.admin, ResourceKind::Ec2Instance, None)?;
        let launched = ec2
            .run_instances()
            .image_id(&p.image_id)
            .instance_type("t3.micro".into())
            .min_count(1)
            .max_count(1)
            .iam_instance_profile(IamInstanceProfileSpecification::builder().name(&profile).build())
            .tag_specifications(ctx.ec2_tag_specification(ResourceType::Instance))
            .send()
            .await;
        let launched = ctx.recorder.record_sdk(&p.admin.label, "ec2:RunInstances", launched, |out| {
            let instance = out.instances().first();
            json!({ "InstanceId": instance.and_then(|i| i.instance_id()),
                    "IamInstanceProfile": {"Name": profile},
                    "State": instance.and_then(|i| i.state()).and_then(|s| s.name()).map(|n| n.as_str()) })
        });
        match launched {
            Ok(out) => {
                if refusals > 0 {
                    note_tr!(
                        ctx.recorder,
                        "notes.instance_profile_ssm.propagation",
                        refusals = refusals,
                        seconds = refusals as u64 * PROPAGATION_POLL.as_secs()
                    );
                }
                let id = out.instances().first().and_then(|i| i.instance_id()).ok_or_else(|| scenario_error("RunInstances returned no instance"))?;
                ctx.created(&p.admin, ResourceKind::Ec2Instance, id)?;
                return Ok((id.to_string(), refusals));
            }
            Err(err) if err.code == "InvalidParameterValue" && err.message.contains("iamInstanceProfile") && attempt < attempts => {
                refusals += 1;
                ctx.wait(PROPAGATION_POLL).await;
            }
            Err(err) => return Err(err.into()),
        }
    }
    unreachable!("the last attempt returns")
}

/// Waits until the instance is running.
pub async fn wait_running(ctx: &mut RunContext, p: &Provisioned) -> Result<(), HarnessError> {
    let ec2 = aws_sdk_ec2::Client::new(&p.admin.config);
    let mut polling = RUNNING_WAIT.start();
    while !polling.exhausted(ctx) {
        polling.wait(ctx).await;
        let described = ec2.describe_instances().instance_ids(&p.instance_id).send().await.map_err(|e| StepError::from_sdk(&e))?;
        let instance = described.reservations().iter().flat_map(|r| r.instances()).next();
        let state = instance.and_then(|i| i.state()).and_then(|s| s.name()).cloned();
        if state != Some(InstanceStateName::Pending) {
            let profile = instance.and_then(|i| i.iam_instance_profile()).and_then(|p| p.arn()).map(str::to_string);
            let result: Result<_, StepError> = Ok(());
            ctx.recorder.record(&p.admin.label, "ec2:DescribeInstances", &result, |_| {
                json!({ "InstanceId": p.instance_id, "State": state.as_ref().map(|s| s.as_str()), "IamInstanceProfile": {"Arn": profile} })
            });
            return match state {
                Some(InstanceStateName::Running) => Ok(()),
                other => Err(scenario_error(format!("the instance ended {other:?}, not running"))),
            };
        }
    }
    Err(scenario_error("the instance did not leave pending"))
}

// ---------------------------------------------------------------------------------------------
// Observe.

/// One `describe-instance-information` for the instance.
async fn describe_node(p: &Provisioned) -> Result<Option<ManagedNode>, StepError> {
    let ssm = aws_sdk_ssm::Client::new(&p.admin.config);
    let filter = InstanceInformationStringFilter::builder()
        .key("InstanceIds")
        .values(&p.instance_id)
        .build()
        .map_err(|err| StepError::new("InvalidFilter", err.to_string()))?;
    let out = ssm.describe_instance_information().filters(filter).send().await.map_err(|e| StepError::from_sdk(&e))?;
    Ok(out.instance_information_list().iter().find(|i| i.instance_id() == Some(p.instance_id.as_str())).map(|i| ManagedNode {
        instance_id: p.instance_id.clone(),
        ping_status: i.ping_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        platform_name: i.platform_name().map(str::to_string),
        agent_version: i.agent_version().map(str::to_string),
    }))
}

fn record_node(ctx: &mut RunContext, p: &Provisioned, node: &Result<Option<ManagedNode>, StepError>, watched: Duration) {
    ctx.recorder.record(&p.admin.label, "ssm:DescribeInstanceInformation", node, |node| match node {
        Some(node) => json!({ "InstanceId": node.instance_id, "PingStatus": node.ping_status,
                              "PlatformName": node.platform_name, "WatchedMinutes": watched.as_secs() / 60 }),
        None => json!({ "InstanceId": p.instance_id, "InstanceInformationList": [], "WatchedMinutes": watched.as_secs() / 60 }),
    });
}

/// Looks at Systems Manager for `window`, stopping as soon as the instance appears.
pub async fn watch_managed(ctx: &mut RunContext, p: &Provisioned, window: Duration) -> Result<Option<ManagedNode>, HarnessError> {
    watch(ctx, p, window, |node| node.is_some()).await
}

/// Looks at Systems Manager for `window`, stopping as soon as the instance is `Online`.
pub async fn watch_managed_until_online(ctx: &mut RunContext, p: &Provisioned, window: Duration) -> Result<Option<ManagedNode>, HarnessError> {
    watch(ctx, p, window, |node| node.as_ref().is_some_and(|n| n.ping_status == "Online")).await
}

async fn watch(
    ctx: &mut RunContext,
    p: &Provisioned,
    window: Duration,
    done: impl Fn(&Option<ManagedNode>) -> bool,
) -> Result<Option<ManagedNode>, HarnessError> {
    let mut polling = Waiter { timeout: window, ..WATCH_WAIT }.start();
    loop {
        polling.wait(ctx).await;
        let watched = polling.elapsed(ctx);
        let node = describe_node(p).await;
        let finished = node.as_ref().map_or(true, |n| done(n)) || polling.exhausted(ctx);
        if finished {
            // One step per watch: the last look, with how long the scenario watched.
            record_node(ctx, p, &node, watched);
            return Ok(node?);
        }
    }
}

/// Why the instance is not managed, where the backend can tell: the agent's refused calls as the
/// instance role's session, or EC2's refused attempt to assume the role.
pub fn explain_unmanaged(ctx: &mut RunContext, p: &Provisioned, since: usize) {
    let denied = explain::denied_calls(&ctx.backend, since);
    let session_prefix = format!("arn:aws:sts::{}:assumed-role/{}/{}", p.admin.account, ctx.name(ROLE_NAME), p.instance_id);
    let agent = denied.iter().filter(|c| c.principal == session_prefix).collect::<Vec<_>>();
    let assume = denied.iter().find(|c| c.action == "sts:AssumeRole" && c.resource == p.role_arn);
    if let Some(first) = agent.first() {
        note_tr!(
            ctx.recorder,
            "notes.instance_profile_ssm.agent_denied",
            instance = &p.instance_id,
            action = &first.action,
            principal = &first.principal,
            count = agent.len(),
            explanation = &first.explanation
        );
    } else if let Some(assume) = assume {
        note_tr!(
            ctx.recorder,
            "notes.instance_profile_ssm.assume_denied",
            role = &assume.resource,
            service = assume.acting_service.as_deref().unwrap_or("ec2.amazonaws.com"),
            explanation = &assume.explanation
        );
    } else {
        note_tr!(ctx.recorder, "notes.instance_profile_ssm.not_managed", minutes = super::UNMANAGED_FOR.as_secs() / 60);
    }
}

/// The report's first attempt: `ssm.amazonaws.com` added to the role's trust policy.
pub async fn trust_ssm_too(ctx: &mut RunContext, p: &Provisioned, fix: Fix) -> Result<(), HarnessError> {
    let mut services: Vec<&str> = p.launch_trust.iter().map(String::as_str).collect();
    if services.contains(&"ssm.amazonaws.com") {
        note_tr!(ctx.recorder, "notes.instance_profile_ssm.trust_already_ssm", fix = fix.description_note());
        return Ok(());
    }
    services.push("ssm.amazonaws.com");
    let document = trust_policy(&services);
    let role = ctx.name(ROLE_NAME);
    let result = p.admin.iam().update_assume_role_policy().role_name(&role).policy_document(document.to_string()).send().await;
    ctx.recorder.record_sdk(&p.admin.label, "iam:UpdateAssumeRolePolicy", result, |_| {
        json!({ "RoleName": role, "PolicyDocument": document })
    })?;
    Ok(())
}

pub fn explain_trust_change(ctx: &mut RunContext, p: &Provisioned, since: usize) {
    let session = format!("arn:aws:sts::{}:assumed-role/{}/{}", p.admin.account, ctx.name(ROLE_NAME), p.instance_id);
    let again = explain::denied_calls(&ctx.backend, since).iter().filter(|c| c.principal == session).count();
    let tries = if again > 0 {
        NoteArg::Note(msg_tr!(_, "notes.instance_profile_ssm.tried_again", again = again))
    } else {
        NoteArg::Text(String::new())
    };
    note_tr!(ctx.recorder, "notes.instance_profile_ssm.trust_change_useless", tries = tries);
}

// ---------------------------------------------------------------------------------------------
// Fix.

pub async fn apply_fix(ctx: &mut RunContext, p: &Provisioned, fix: Fix) -> Result<(), HarnessError> {
    let iam = p.admin.iam();
    match fix {
        Fix::ManagedPolicy | Fix::ManagedPolicyButTrustOnlySsm | Fix::PolicyOnSecondRole => {
            let role = ctx.name(if fix == Fix::PolicyOnSecondRole { SECOND_ROLE_NAME } else { ROLE_NAME });
            let result = iam.attach_role_policy().role_name(&role).policy_arn(MANAGED_POLICY_ARN).send().await;
            ctx.recorder.record_sdk(&p.admin.label, "iam:AttachRolePolicy", result, |_| {
                json!({ "RoleName": role, "PolicyArn": MANAGED_POLICY_ARN })
            })?;
        }
        Fix::InlineAgentPolicy => {
            let document = agent_policy();
            let role = ctx.name(ROLE_NAME);
            let result = iam
                .put_role_policy()
                .role_name(&role)
                .policy_name(AGENT_POLICY_NAME)
                .policy_document(document.to_string())
                .send()
                .await;
            ctx.recorder.record_sdk(&p.admin.label, "iam:PutRolePolicy", result, |_| {
                json!({ "RoleName": role, "PolicyName": AGENT_POLICY_NAME, "PolicyDocument": document })
            })?;
        }
    }
    Ok(())
}

pub fn explain_fix_failed(ctx: &mut RunContext, p: &Provisioned, fix: Fix) {
    let why = match fix {
        Fix::PolicyOnSecondRole => {
            msg_tr!(_, "notes.instance_profile_ssm.why.second_role", second = SECOND_ROLE_NAME, role = ROLE_NAME)
        }
        Fix::ManagedPolicyButTrustOnlySsm => msg_tr!(_, "notes.instance_profile_ssm.why.trust_only_ssm", role = ROLE_NAME),
        _ => msg_tr!(_, "notes.instance_profile_ssm.why.still_denied", role = ROLE_NAME),
    };
    note_tr!(
        ctx.recorder,
        "notes.instance_profile_ssm.fix_failed",
        fix = fix.description_note(),
        instance = &p.instance_id,
        why = why
    );
}

// ---------------------------------------------------------------------------------------------
// Teardown.

/// Removes what a run created: its instances, the profile and both roles with their policies.
/// Safe to run twice and after a partial run.
pub async fn teardown(ctx: &mut RunContext) -> Result<(), HarnessError> {
    let admin = ctx.admin(ACCOUNT)?;
    crate::teardown::terminate_tagged(ctx, &admin).await?;
    let (iam, profile_name) = (admin.iam(), ctx.name(PROFILE_NAME));
    if let Ok(profile) = iam.get_instance_profile().instance_profile_name(&profile_name).send().await {
        let roles: Vec<String> = profile.instance_profile().map(|p| p.roles().iter().map(|r| r.role_name().to_string()).collect()).unwrap_or_default();
        for role in roles {
            let result = iam.remove_role_from_instance_profile().instance_profile_name(&profile_name).role_name(&role).send().await;
            ctx.recorder.record_sdk(&admin.label, "iam:RemoveRoleFromInstanceProfile", result, |_| {
                json!({ "InstanceProfileName": profile_name, "RoleName": role })
            })?;
        }
        let result = iam.delete_instance_profile().instance_profile_name(&profile_name).send().await;
        ctx.recorder.record_sdk(&admin.label, "iam:DeleteInstanceProfile", result, |_| json!({ "InstanceProfileName": profile_name }))?;
    }
    for role in [ctx.name(ROLE_NAME), ctx.name(SECOND_ROLE_NAME)] {
        delete_role(ctx, &admin, &role).await?;
    }
    Ok(())
}

async fn delete_role(ctx: &mut RunContext, admin: &Principal, role: &str) -> Result<(), HarnessError> {
    let iam = admin.iam();
    if iam.get_role().role_name(role).send().await.is_err() {
        return Ok(());
    }
    let attached = iam.list_attached_role_policies().role_name(role).send().await.map_err(|e| StepError::from_sdk(&e))?;
    for policy in attached.attached_policies() {
        let arn = policy.policy_arn().unwrap_or_default().to_string();
        let result = iam.detach_role_policy().role_name(role).policy_arn(&arn).send().await;
        ctx.recorder.record_sdk(&admin.label, "iam:DetachRolePolicy", result, |_| json!({ "RoleName": role, "PolicyArn": arn }))?;
    }
    let inline = iam.list_role_policies().role_name(role).send().await.map_err(|e| StepError::from_sdk(&e))?;
    for name in inline.policy_names() {
        let result = iam.delete_role_policy().role_name(role).policy_name(name).send().await;
        ctx.recorder.record_sdk(&admin.label, "iam:DeleteRolePolicy", result, |_| json!({ "RoleName": role, "PolicyName": name }))?;
    }
    let result = iam.delete_role().role_name(role).send().await;
    ctx.recorder.record_sdk(&admin.label, "iam:DeleteRole", result, |_| json!({ "RoleName": role }))?;
    Ok(())
}
