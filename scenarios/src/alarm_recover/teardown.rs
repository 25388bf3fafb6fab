//! Teardown: deleting both stacks, then the IAM user and the role.

use aws_sdk_cloudformation::types::StackStatus;
use serde_json::{json, Value};
use wana_harness::{HarnessError, RunContext, StepError};

use super::cloudformation::{in_progress, stack_detail};
use super::{
    Actor, POLL_INTERVAL, POWER_USER_ACCESS, ROLE_NAME, ROLE_STACK, STACK_POLLS, USER_NAME,
    USER_STACK,
};

/// Deletes both stacks (and so the instances and alarms), then the user and the role. Copes with
/// anything that was never created; on AWS it waits for the stacks to be gone.
pub(super) async fn teardown(ctx: &mut RunContext) -> Result<(), HarnessError> {
    let admin = Actor::new(ctx.admin("a")?);
    let cfn = &admin.cloudformation;
    for name in [ROLE_STACK, USER_STACK] {
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
    for name in [ROLE_STACK, USER_STACK] {
        if let Err(err) = wait_until_deleted(ctx, &admin, name).await {
            problems.push(err.to_string());
        }
    }

    let iam = &admin.iam;
    let keys = iam.list_access_keys().user_name(USER_NAME).send().await;
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
            .user_name(USER_NAME)
            .access_key_id(&key)
            .send()
            .await;
        note_problem(
            &mut problems,
            ctx.recorder.record_sdk(
                &admin.label,
                "iam:DeleteAccessKey",
                result,
                |_| json!({ "UserName": USER_NAME, "AccessKeyId": key }),
            ),
        );
    }
    let result = iam
        .detach_user_policy()
        .user_name(USER_NAME)
        .policy_arn(POWER_USER_ACCESS)
        .send()
        .await;
    note_problem(
        &mut problems,
        ctx.recorder.record_sdk(
            &admin.label,
            "iam:DetachUserPolicy",
            result,
            |_| json!({ "UserName": USER_NAME }),
        ),
    );
    let result = iam.delete_user().user_name(USER_NAME).send().await;
    note_problem(
        &mut problems,
        ctx.recorder.record_sdk(
            &admin.label,
            "iam:DeleteUser",
            result,
            |_| json!({ "UserName": USER_NAME }),
        ),
    );
    let result = iam
        .detach_role_policy()
        .role_name(ROLE_NAME)
        .policy_arn(POWER_USER_ACCESS)
        .send()
        .await;
    note_problem(
        &mut problems,
        ctx.recorder.record_sdk(
            &admin.label,
            "iam:DetachRolePolicy",
            result,
            |_| json!({ "RoleName": ROLE_NAME }),
        ),
    );
    let result = iam.delete_role().role_name(ROLE_NAME).send().await;
    note_problem(
        &mut problems,
        ctx.recorder.record_sdk(
            &admin.label,
            "iam:DeleteRole",
            result,
            |_| json!({ "RoleName": ROLE_NAME }),
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
    for _ in 0..STACK_POLLS {
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
            Some(status) if in_progress(&status) => ctx.wait(POLL_INTERVAL).await,
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
    Err(HarnessError::Scenario(format!(
        "stack {name} was still being deleted after {STACK_POLLS} polls"
    )))
}
