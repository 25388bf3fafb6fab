//! CloudFormation: creating, updating and waiting for the report's stacks, and their resources.

use aws_sdk_cloudformation::types::{ResourceStatus, Stack, StackStatus};
use serde_json::{json, Value};
use wana_harness::{BackendKind, HarnessError, ResourceKind, RunContext};

use super::{Actor, EC2_JSON, EC2_UPDATE_JSON, IAM_WAIT, RENEWED_ALARM, STACK_WAIT};

/// `aws cloudformation create-stack --stack-name <name> --template-body file://ec2.json`.
pub(super) async fn create_stack(
    ctx: &mut RunContext,
    principal: &Actor,
    name: &str,
) -> Result<(), HarnessError> {
    ctx.will_create(principal, ResourceKind::CloudformationStack, Some(name))?;
    // The deployer's policy was attached moments ago: IAM may not have propagated it yet (on
    // AWS, and on the emulator under a fault profile, whose clock moves at once). LocalStack
    // and moto have no such window, and waiting there would only sleep.
    let mut polling = IAM_WAIT.start();
    loop {
        let result = principal
            .cloudformation
            .create_stack()
            .stack_name(name)
            .template_body(EC2_JSON)
            .set_tags(Some(ctx.cloudformation_tags()))
            .send()
            .await;
        let recorded = ctx.recorder.record_sdk(
            &principal.label,
            "cloudformation:CreateStack",
            result,
            |_| json!({ "StackName": name, "TemplateBody": "ec2.json" }),
        );
        match recorded {
            Err(err)
                if err.code == "AccessDenied"
                    && matches!(ctx.backend.kind(), BackendKind::Sandbox | BackendKind::Emulator)
                    && polling.again(ctx).await => {}
            recorded => {
                recorded?;
                return Ok(());
            }
        }
    }
}

/// `aws cloudformation update-stack --stack-name <name> --template-body file://ec2_update.json`.
pub(super) async fn update_stack(
    ctx: &mut RunContext,
    principal: &Actor,
    name: &str,
) -> Result<(), HarnessError> {
    let result = principal
        .cloudformation
        .update_stack()
        .stack_name(name)
        .template_body(EC2_UPDATE_JSON)
        .set_tags(Some(ctx.cloudformation_tags()))
        .send()
        .await;
    ctx.recorder.record_sdk(
        &principal.label,
        "cloudformation:UpdateStack",
        result,
        |_| {
            json!({
                "StackName": name,
                "TemplateBody": "ec2_update.json",
                "AlarmName": RENEWED_ALARM,
            })
        },
    )?;
    Ok(())
}

pub(super) fn in_progress(status: &StackStatus) -> bool {
    status.as_str().ends_with("_IN_PROGRESS")
}

/// Polls DescribeStacks until the stack leaves its `…_IN_PROGRESS` status. Only the final answer
/// is recorded (an "in progress" says nothing); a status other than `done` is an error of the
/// run, with the stack's failure reasons recorded from its events.
/// `aws cloudformation update-stack` with a participant's template.
pub(super) async fn update_stack_with(
    ctx: &mut RunContext,
    principal: &Actor,
    name: &str,
    template: &str,
) -> Result<(), wana_harness::StepError> {
    let result = principal
        .cloudformation
        .update_stack()
        .stack_name(name)
        .template_body(template)
        .set_tags(Some(ctx.cloudformation_tags()))
        .send()
        .await;
    ctx.recorder.record_sdk(&principal.label, "cloudformation:UpdateStack", result, |_| {
        json!({ "StackName": name, "TemplateBody": "the participant's template" })
    })?;
    Ok(())
}

pub(super) async fn wait_for_stack(
    ctx: &mut RunContext,
    principal: &Actor,
    name: &str,
    done: StackStatus,
) -> Result<Stack, HarnessError> {
    let mut polling = STACK_WAIT.start();
    loop {
        let result = principal
            .cloudformation
            .describe_stacks()
            .stack_name(name)
            .send()
            .await;
        let stack = match &result {
            Ok(out) => out.stacks().first().cloned(),
            Err(_) => None,
        };
        let status = stack.as_ref().and_then(|s| s.stack_status()).cloned();
        let still_running = status.as_ref().is_some_and(in_progress);
        if still_running && polling.again(ctx).await {
            continue;
        }
        ctx.recorder.record_sdk(
            &principal.label,
            "cloudformation:DescribeStacks",
            result,
            |out| out.stacks().first().map_or(Value::Null, stack_detail),
        )?;
        let stack = stack
            .ok_or_else(|| HarnessError::Scenario(format!("DescribeStacks did not list {name}")))?;
        if status.as_ref() == Some(&done) {
            return Ok(stack);
        }
        record_failure_events(ctx, principal, name).await;
        return Err(HarnessError::Scenario(format!(
            "stack {name} ended in {} instead of {}",
            status.as_ref().map_or("no status", |s| s.as_str()),
            done.as_str()
        )));
    }
}

pub(super) fn stack_detail(stack: &Stack) -> Value {
    let outputs: serde_json::Map<String, Value> = stack
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_string(), json!(o.output_value()?))))
        .collect();
    json!({
        "StackName": stack.stack_name(),
        "StackStatus": stack.stack_status().map(|s| s.as_str()),
        "Outputs": outputs,
    })
}

/// Records the events that say why a stack failed (the inner AWS errors are in their reasons).
async fn record_failure_events(ctx: &mut RunContext, principal: &Actor, name: &str) {
    let result = principal
        .cloudformation
        .describe_stack_events()
        .stack_name(name)
        .send()
        .await;
    let _ = ctx.recorder.record_sdk(
        &principal.label,
        "cloudformation:DescribeStackEvents",
        result,
        |out| {
            let failed: Vec<Value> = out
                .stack_events()
                .iter()
                .filter(|e| {
                    e.resource_status()
                        .is_some_and(|s| s.as_str().ends_with("_FAILED"))
                })
                .map(|e| {
                    json!({
                        "LogicalResourceId": e.logical_resource_id(),
                        "ResourceStatus": e.resource_status().map(|s| s.as_str()),
                        "ResourceStatusReason": e.resource_status_reason(),
                    })
                })
                .collect();
            json!({ "FailedEvents": failed })
        },
    );
}

/// The physical ids of the stack's `RecoveryAlarm` and `Ec2Instance`. CloudFormation generates
/// the alarm's name (`<stack>-RecoveryAlarm-<13 characters>`) unless the template sets
/// `AlarmName`.
pub(super) async fn resources_of_stack(
    ctx: &mut RunContext,
    principal: &Actor,
    stack_name: &str,
) -> Result<(String, String), HarnessError> {
    let result = principal
        .cloudformation
        .describe_stack_resources()
        .stack_name(stack_name)
        .send()
        .await;
    let out = ctx.recorder.record_sdk(
        &principal.label,
        "cloudformation:DescribeStackResources",
        result,
        |out| {
            let resources: serde_json::Map<String, Value> = out
                .stack_resources()
                .iter()
                .filter_map(|r| {
                    Some((
                        r.logical_resource_id()?.to_string(),
                        json!({
                            "ResourceType": r.resource_type(),
                            "PhysicalResourceId": r.physical_resource_id(),
                            "ResourceStatus": r.resource_status().map(ResourceStatus::as_str),
                        }),
                    ))
                })
                .collect();
            json!({ "StackName": stack_name, "StackResources": resources })
        },
    )?;
    let physical_id = |logical: &str| {
        out.stack_resources()
            .iter()
            .find(|r| r.logical_resource_id() == Some(logical))
            .and_then(|r| r.physical_resource_id())
            .map(str::to_string)
            .ok_or_else(|| {
                HarnessError::Scenario(format!("stack {stack_name} has no {logical} resource"))
            })
    };
    Ok((physical_id("RecoveryAlarm")?, physical_id("Ec2Instance")?))
}
