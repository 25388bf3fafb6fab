//! Provision: the report's two deployers, a role session and an IAM user, with PowerUserAccess.

use serde_json::json;
use wana_harness::{HarnessError, Principal, ResourceKind, RunContext, StepError};

use super::{Actor, IAM_WAIT, POWER_USER_ACCESS, ROLE_NAME, SESSION_NAME, USER_NAME};

fn trust_policy(account: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{account}:root") },
            "Action": "sts:AssumeRole",
        }],
    })
    .to_string()
}

/// The report's IAM role with PowerUserAccess, trusted by its own account, and a session of it.
pub(super) async fn role_session(ctx: &mut RunContext, admin: &Actor) -> Result<Principal, HarnessError> {
    let iam = &admin.iam;
    let role_name = ctx.name(ROLE_NAME);
    ctx.will_create(admin, ResourceKind::IamRole, Some(&role_name))?;
    let result = iam
        .create_role()
        .role_name(&role_name)
        .assume_role_policy_document(trust_policy(&admin.account))
        .description("wana alarm-recover: deploys the recovery alarm with temporary credentials")
        .set_tags(Some(ctx.iam_tags()))
        .send()
        .await;
    let created = ctx.recorder.record_sdk(
        &admin.label,
        "iam:CreateRole",
        result,
        |out| json!({ "Arn": out.role().map(|r| r.arn()) }),
    )?;
    let role_arn = created
        .role()
        .map(|r| r.arn().to_string())
        .ok_or_else(|| HarnessError::Scenario("CreateRole answered without a role".into()))?;
    let result = iam
        .attach_role_policy()
        .role_name(&role_name)
        .policy_arn(POWER_USER_ACCESS)
        .send()
        .await;
    ctx.recorder.record_sdk(
        &admin.label,
        "iam:AttachRolePolicy",
        result,
        |_| json!({ "RoleName": role_name, "PolicyArn": POWER_USER_ACCESS }),
    )?;

    let label = format!("{ROLE_NAME}@a");
    let mut polling = IAM_WAIT.start();
    let session = loop {
        match ctx
            .assume_role(admin, &role_arn, SESSION_NAME, None, &label)
            .await
        {
            Ok(session) => break session,
            // A new role's trust policy takes seconds to reach STS on AWS.
            Err(err) if err.code == "AccessDenied" && polling.again(ctx).await => {}
            Err(err) => return Err(err.into()),
        }
    };
    who_am_i(ctx, &session).await?;
    Ok(session)
}

/// The report's IAM user (its CLI's `cfn` profile) with PowerUserAccess and an access key.
pub(super) async fn iam_user(ctx: &mut RunContext, admin: &Actor) -> Result<Principal, HarnessError> {
    let iam = &admin.iam;
    let user_name = ctx.name(USER_NAME);
    ctx.will_create(admin, ResourceKind::IamUser, Some(&user_name))?;
    let result = iam
        .create_user()
        .user_name(&user_name)
        .set_tags(Some(ctx.iam_tags()))
        .send()
        .await;
    ctx.recorder.record_sdk(
        &admin.label,
        "iam:CreateUser",
        result,
        |out| json!({ "Arn": out.user().map(|u| u.arn()) }),
    )?;
    let result = iam
        .attach_user_policy()
        .user_name(&user_name)
        .policy_arn(POWER_USER_ACCESS)
        .send()
        .await;
    ctx.recorder.record_sdk(
        &admin.label,
        "iam:AttachUserPolicy",
        result,
        |_| json!({ "UserName": user_name, "PolicyArn": POWER_USER_ACCESS }),
    )?;
    let result = iam.create_access_key().user_name(&user_name).send().await;
    // Only the key id is recorded; the secret goes straight into the principal, whose
    // registration keeps it out of every report.
    let created = ctx.recorder.record_sdk(
        &admin.label,
        "iam:CreateAccessKey",
        result,
        |out| json!({ "AccessKeyId": out.access_key().map(|k| k.access_key_id()) }),
    )?;
    let key = created
        .access_key()
        .ok_or_else(|| HarnessError::Scenario("CreateAccessKey answered without a key".into()))?;
    let user = ctx
        .principal_from_keys(
            &format!("{USER_NAME}@a"),
            &admin.account,
            key.access_key_id(),
            key.secret_access_key(),
            None,
        )?
        .with_arn(format!("arn:aws:iam::{}:user/{user_name}", admin.account));
    // A new key is accepted by every endpoint only after IAM has propagated it.
    let mut polling = IAM_WAIT.start();
    loop {
        match who_am_i(ctx, &user).await {
            Ok(()) => break,
            Err(err) if err.code == "InvalidClientTokenId" && polling.again(ctx).await => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(user)
}

/// `sts:GetCallerIdentity`, recorded with the kind of credentials the principal signs with: the
/// one difference between the two deployers that matters.
async fn who_am_i(ctx: &mut RunContext, principal: &Principal) -> Result<(), StepError> {
    let result = principal.sts().get_caller_identity().send().await;
    let credentials = if principal.is_temporary() {
        "temporary (access key and session token from sts:AssumeRole)"
    } else {
        "long-term (an IAM user's access key)"
    };
    ctx.recorder
        .record_sdk(
            &principal.label,
            "sts:GetCallerIdentity",
            result,
            |out| json!({ "Arn": out.arn(), "Credentials": credentials }),
        )
        .map(drop)
}
