//! EC2: waiting for a stack's instance to run, since only a running instance can be recovered.

use aws_sdk_ec2::types::InstanceStateName;
use serde_json::json;
use wana_harness::{HarnessError, RunContext};

use super::{Actor, STACK_WAIT};

/// Polls DescribeInstances until the instance is `running`; only the final answer is recorded.
pub(super) async fn wait_until_running(
    ctx: &mut RunContext,
    principal: &Actor,
    instance_id: &str,
) -> Result<(), HarnessError> {
    let ec2 = &principal.ec2;
    let mut polling = STACK_WAIT.start();
    loop {
        let result = ec2
            .describe_instances()
            .instance_ids(instance_id)
            .send()
            .await;
        let state = result.as_ref().ok().and_then(|out| {
            out.reservations()
                .iter()
                .flat_map(|r| r.instances())
                .find_map(|i| i.state().and_then(|s| s.name()).cloned())
        });
        if state == Some(InstanceStateName::Pending) && polling.again(ctx).await {
            continue;
        }
        ctx.recorder
            .record_sdk(&principal.label, "ec2:DescribeInstances", result, |_| {
                json!({
                    "InstanceId": instance_id,
                    "State": state.as_ref().map(|s| s.as_str()),
                })
            })?;
        return match state {
            Some(InstanceStateName::Running) => Ok(()),
            other => Err(HarnessError::Scenario(format!(
                "instance {instance_id} is {} instead of running",
                other.as_ref().map_or("unknown", |s| s.as_str())
            ))),
        };
    }
}
