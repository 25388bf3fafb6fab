//! Teardown: find what this run created by its tag, alias and role tag, and delete it.

use aws_sdk_ec2::types::{Filter, InstanceStateName};
use serde_json::json;
use wana_harness::{HarnessError, RunContext, StepError};

use super::{CUSTOMER, ROLE_NAME, RUN_TAG};

pub(super) fn run_alias(run_id: &str) -> String {
    format!("alias/{run_id}")
}

pub(super) async fn teardown(ctx: &mut RunContext) -> Result<(), HarnessError> {
    let admin = ctx.admin(CUSTOMER)?;
    let label = admin.label.clone();
    let run_id = ctx.run_id.clone();
    let ec2 = aws_sdk_ec2::Client::new(&admin.config);
    let kms = aws_sdk_kms::Client::new(&admin.config);
    let iam = admin.iam();

    let found = ec2
        .describe_instances()
        .filters(
            Filter::builder()
                .name(format!("tag:{RUN_TAG}"))
                .values(&run_id)
                .build(),
        )
        .send()
        .await
        .map_err(|err| StepError::from_sdk(&err))?;
    let instance_ids: Vec<String> = found
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter(|i| {
            !matches!(
                i.state().and_then(|s| s.name()),
                Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown)
            )
        })
        .filter_map(|i| i.instance_id().map(str::to_string))
        .collect();
    if !instance_ids.is_empty() {
        let result = ec2
            .terminate_instances()
            .set_instance_ids(Some(instance_ids))
            .send()
            .await;
        ctx.recorder
            .record_sdk(&label, "ec2:TerminateInstances", result, |out| {
                json!(out
                    .terminating_instances()
                    .iter()
                    .map(|c| json!({
                        "InstanceId": c.instance_id(),
                        "CurrentState": c.current_state().and_then(|s| s.name()).map(|n| n.as_str()),
                    }))
                    .collect::<Vec<_>>())
            })?;
    }

    let alias = run_alias(&run_id);
    let aliases = kms
        .list_aliases()
        .send()
        .await
        .map_err(|err| StepError::from_sdk(&err))?;
    let target = aliases
        .aliases()
        .iter()
        .find(|a| a.alias_name() == Some(alias.as_str()))
        .and_then(|a| a.target_key_id())
        .map(str::to_string);
    if let Some(key_id) = target {
        let result = kms
            .schedule_key_deletion()
            .key_id(&key_id)
            .pending_window_in_days(7)
            .send()
            .await;
        ctx.recorder.record_sdk(
            &label,
            "kms:ScheduleKeyDeletion",
            result,
            |out| json!({ "KeyId": out.key_id(), "KeyState": out.key_state().map(|s| s.as_str()) }),
        )?;
        let result = kms.delete_alias().alias_name(&alias).send().await;
        ctx.recorder.record_sdk(
            &label,
            "kms:DeleteAlias",
            result,
            |_| json!({ "AliasName": alias }),
        )?;
    }

    // The role, only if this run created it (its tag says so).
    let role_name = ctx.name(ROLE_NAME);
    let tags = iam.list_role_tags().role_name(&role_name).send().await;
    let ours = match tags {
        Ok(out) => out
            .tags()
            .iter()
            .any(|t| t.key() == RUN_TAG && t.value() == run_id),
        Err(err) => {
            let err = StepError::from_sdk(&err);
            if err.code == "NoSuchEntity" {
                false
            } else {
                return Err(err.into());
            }
        }
    };
    if ours {
        let policies = iam
            .list_role_policies()
            .role_name(&role_name)
            .send()
            .await
            .map_err(|err| StepError::from_sdk(&err))?;
        for name in policies.policy_names() {
            let result = iam
                .delete_role_policy()
                .role_name(&role_name)
                .policy_name(name)
                .send()
                .await;
            ctx.recorder.record_sdk(
                &label,
                "iam:DeleteRolePolicy",
                result,
                |_| json!({ "RoleName": role_name, "PolicyName": name }),
            )?;
        }
        let result = iam.delete_role().role_name(&role_name).send().await;
        ctx.recorder.record_sdk(
            &label,
            "iam:DeleteRole",
            result,
            |_| json!({ "RoleName": role_name }),
        )?;
    }
    Ok(())
}
