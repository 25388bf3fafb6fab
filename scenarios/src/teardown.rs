//! Teardown steps the traps share.

use aws_sdk_ec2::types::{Filter, InstanceStateName};
use serde_json::json;
use wana_harness::{HarnessError, Principal, RunContext, StepError, RUN_ID_TAG};

/// Terminates the instances of `who`'s account that carry this run's id and are not already
/// on their way out; recorded as one step, none when there is nothing to terminate.
pub(crate) async fn terminate_tagged(ctx: &mut RunContext, who: &Principal) -> Result<(), HarnessError> {
    let ec2 = aws_sdk_ec2::Client::new(&who.config);
    let found = ec2
        .describe_instances()
        .filters(Filter::builder().name(format!("tag:{RUN_ID_TAG}")).values(&ctx.run_id).build())
        .send()
        .await
        .map_err(|err| StepError::from_sdk(&err))?;
    let ids: Vec<String> = found
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter(|i| !matches!(i.state().and_then(|s| s.name()), Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown)))
        .filter_map(|i| i.instance_id().map(str::to_string))
        .collect();
    if !ids.is_empty() {
        let result = ec2.terminate_instances().set_instance_ids(Some(ids.clone())).send().await;
        ctx.recorder.record_sdk(&who.label, "ec2:TerminateInstances", result, |_| json!({ "InstanceIds": ids }))?;
    }
    Ok(())
}
