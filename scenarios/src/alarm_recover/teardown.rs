//! Teardown: deleting both stacks, then the IAM user and the role.

use aws_sdk_cloudformation::types::StackStatus;
use serde_json::{json, Value};
use wana_harness::{HarnessError, RunContext, StepError};

use super::cloudformation::{in_progress, stack_detail};
use super::{Actor, Names, DELETE_WAIT, POWER_USER_ACCESS};

/// Deletes both stacks (and so the instances and alarms), then the user and the role. Copes with
/// anything that was never created; on AWS it waits for the stacks to be gone.
pub(super) async fn teardown(ctx: &mut RunContext) -> Result<(), HarnessError> {
    let admin = Actor::new(ctx.admin("a")?);
    let cfn = &admin.cloudformation;
    let Names { role: role_name, user: user_name, role_stack, user_stack } = Names::of(ctx);
    let (role_name, user_name) = (role_name.as_str(), user_name.as_str());
    for name in [role_stack.as_str(), user_stack.as_str()] {
        let result = cfn.delete_stack().stack_name(name).send().await;
        ctx.recorder.record_sdk(
            &admin.label,
            "cloudformation:DeleteStack",
            result,
            |_| json!({ "StackName": name }),
        )?;
    }
    // A stack that cannot be deleted does not keep the user and the role alive.
    let mut problems = Vec::new();
    for name in [role_stack.as_str(), user_stack.as_str()] {
        if let Err(err) = wait_until_deleted(ctx, &admin, name).await {
            problems.push(err.to_string());
        }
    }

    let iam = &admin.iam;
    let keys = iam.list_access_keys().user_name(user_name).send().await;
    let keys: Vec<String> = match keys {
        Ok(out) => out
            .access_key_metadata()
            .iter()
            .filter_map(|k| k.access_key_id().map(str::to_string))
            .collect(),
        Err(_) => Vec::new(),
    };
    for key in keys {
        let result = iam
            .delete_access_key()
            .user_name(user_name)
            .access_key_id(&key)
            .send()
            .await;
        note_problem(
            &mut problems,
            ctx.recorder.record_sdk(
                &admin.label,
                "iam:DeleteAccessKey",
                result,
                |_| json!({ "UserName": user_name, "AccessKeyId": key }),
            ),
        );
    }
    let result = iam
        .detach_user_policy()
        .user_name(user_name)
        .policy_arn(POWER_USER_ACCESS)
        .send()
        .await;
    note_problem(
        &mut problems,
        ctx.recorder.record_sdk(
            &admin.label,
            "iam:DetachUserPolicy",
            result,
            |_| json!({ "UserName": user_name }),
        ),
    );
    let result = iam.delete_user().user_name(user_name).send().await;
    note_problem(
        &mut problems,
        ctx.recorder.record_sdk(
            &admin.label,
            "iam:DeleteUser",
            result,
            |_| json!({ "UserName": user_name }),
        ),
    );
    let result = iam
        .detach_role_policy()
        .role_name(role_name)
        .policy_arn(POWER_USER_ACCESS)
        .send()
        .await;
    note_problem(
        &mut problems,
        ctx.recorder.record_sdk(
            &admin.label,
            "iam:DetachRolePolicy",
            result,
            |_| json!({ "RoleName": role_name }),
        ),
    );
    let result = iam.delete_role().role_name(role_name).send().await;
    note_problem(
        &mut problems,
        ctx.recorder.record_sdk(
            &admin.label,
            "iam:DeleteRole",
            result,
            |_| json!({ "RoleName": role_name }),
        ),
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(HarnessError::Scenario(format!(
            "teardown left resources behind: {}",
            problems.join("; ")
        )))
    }
}

/// An entity that does not exist is already torn down; anything else is a problem.
fn note_problem<T>(problems: &mut Vec<String>, result: Result<T, StepError>) {
    if let Err(err) = result {
        if err.code != "NoSuchEntity" {
            problems.push(err.to_string());
        }
    }
}

/// Polls DescribeStacks until the stack is gone (`Stack with id … does not exist`) or
/// `DELETE_COMPLETE`; `DELETE_FAILED` and running out of polls are errors.
async fn wait_until_deleted(
    ctx: &mut RunContext,
    admin: &Actor,
    name: &str,
) -> Result<(), HarnessError> {
    let mut polling = DELETE_WAIT.start();
    loop {
        let result = admin
            .cloudformation
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .map_err(|err| StepError::from_sdk(&err));
        let status = match &result {
            Err(err)
                if err.code == "ValidationError" && err.message.ends_with("does not exist") =>
            {
                return Ok(());
            }
            Err(_) => None,
            Ok(out) => out.stacks().first().and_then(|s| s.stack_status()).cloned(),
        };
        match status {
            Some(StackStatus::DeleteComplete) => return Ok(()),
            Some(status) if in_progress(&status) && polling.again(ctx).await => {}
            Some(status) if in_progress(&status) => return Err(polling.timed_out()),
            _ => {
                ctx.recorder.record(
                    &admin.label,
                    "cloudformation:DescribeStacks",
                    &result,
                    |out| out.stacks().first().map_or(Value::Null, stack_detail),
                );
                return Err(HarnessError::Scenario(format!(
                    "stack {name} could not be deleted"
                )));
            }
        }
    }
}
