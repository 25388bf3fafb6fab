//! Finding what of a ledger still exists: a ledger line's resource, and the keys of a run's
//! aliases. The sweep of a whole account is in `sweep`.

use aws_sdk_ec2::types::{Filter, InstanceStateName};

use crate::{principal::Principal, resources::RUN_ID_TAG, sandbox::ledger::ResourceKind};

/// The identifiers of what a ledger line names that still exist (none when it is gone or was
/// never created). A line without name or id (an instance, a key) is followed by the run's tag.
pub async fn from_ledger(who: &Principal, kind: ResourceKind, name: Option<&str>, id: Option<&str>, run_id: &str) -> Vec<String> {
    let wanted = id.or(name);
    match kind {
        ResourceKind::Ec2Instance => live_instances(who, id, run_id).await,
        ResourceKind::KmsKey => match id {
            Some(id) => live_key(who, id).await.into_iter().collect(),
            // Until its id is written, a key is found through the run's aliases (below).
            None => Vec::new(),
        },
        ResourceKind::Ec2Image => match (id, name) {
            (Some(id), _) => images(who, Filter::builder().name("image-id").values(id).build()).await,
            (None, Some(name)) => images(who, Filter::builder().name("name").values(name).build()).await,
            _ => Vec::new(),
        },
        _ => match wanted {
            Some(wanted) if exists(who, kind, wanted).await => vec![wanted.to_string()],
            _ => Vec::new(),
        },
    }
}

/// The run's instances that are not terminated or shutting down: the one named, or those with
/// the run's tag (every page).
async fn live_instances(who: &Principal, id: Option<&str>, run_id: &str) -> Vec<String> {
    let ec2 = aws_sdk_ec2::Client::new(&who.config);
    let request = match id {
        // Instance ids and MaxResults do not go together.
        Some(id) => ec2.describe_instances().instance_ids(id),
        None => ec2
            .describe_instances()
            .filters(Filter::builder().name(format!("tag:{RUN_ID_TAG}")).values(run_id).build())
            .max_results(1000),
    };
    let mut live = Vec::new();
    let mut pages = request.into_paginator().send();
    while let Some(Ok(page)) = pages.next().await {
        live.extend(
            page.reservations()
                .iter()
                .flat_map(|r| r.instances())
                .filter(|i| !matches!(i.state().and_then(|s| s.name()), Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown)))
                .filter_map(|i| i.instance_id().map(str::to_string)),
        );
    }
    live
}

/// The ARN of a key that is not pending deletion.
pub(super) async fn live_key(who: &Principal, id: &str) -> Option<String> {
    let kms = aws_sdk_kms::Client::new(&who.config);
    let out = kms.describe_key().key_id(id).send().await.ok()?;
    let meta = out.key_metadata()?;
    let pending = meta.key_state().is_some_and(|s| s.as_str() == "PendingDeletion");
    (!pending).then(|| meta.arn().unwrap_or(id).to_string())
}

async fn images(who: &Principal, filter: Filter) -> Vec<String> {
    let ec2 = aws_sdk_ec2::Client::new(&who.config);
    match ec2.describe_images().owners("self").filters(filter).send().await {
        Ok(out) => out.images().iter().filter_map(|i| i.image_id().map(str::to_string)).collect(),
        Err(_) => Vec::new(),
    }
}

/// Whether a named resource exists.
async fn exists(who: &Principal, kind: ResourceKind, name: &str) -> bool {
    let config = &who.config;
    match kind {
        ResourceKind::IamRole => who.iam().get_role().role_name(name).send().await.is_ok(),
        ResourceKind::IamUser => who.iam().get_user().user_name(name).send().await.is_ok(),
        ResourceKind::IamInstanceProfile => who.iam().get_instance_profile().instance_profile_name(name).send().await.is_ok(),
        ResourceKind::KmsAlias => aliases(who).await.iter().any(|a| a.alias_name() == Some(name)),
        ResourceKind::CloudformationStack => aws_sdk_cloudformation::Client::new(config)
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .is_ok_and(|out| out.stacks().iter().any(|s| s.stack_status().is_none_or(|st| st.as_str() != "DELETE_COMPLETE"))),
        ResourceKind::AutoScalingGroup => aws_sdk_autoscaling::Client::new(config)
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(name)
            .send()
            .await
            .is_ok_and(|out| !out.auto_scaling_groups().is_empty()),
        ResourceKind::Ec2LaunchTemplate => aws_sdk_ec2::Client::new(config)
            .describe_launch_templates()
            .launch_template_names(name)
            .send()
            .await
            .is_ok_and(|out| !out.launch_templates().is_empty()),
        ResourceKind::S3Bucket => aws_sdk_s3::Client::new(config).head_bucket().bucket(name).send().await.is_ok(),
        ResourceKind::SsmDocument => aws_sdk_ssm::Client::new(config).describe_document().name(name).send().await.is_ok(),
        ResourceKind::Ec2Instance | ResourceKind::Ec2Image | ResourceKind::KmsKey => false,
    }
}

/// Every alias of `who`'s account and region, page after page as far as they can be read.
async fn aliases(who: &Principal) -> Vec<aws_sdk_kms::types::AliasListEntry> {
    let kms = aws_sdk_kms::Client::new(&who.config);
    let mut found = Vec::new();
    let mut pages = kms.list_aliases().limit(100).into_paginator().send();
    while let Some(Ok(page)) = pages.next().await {
        found.extend(page.aliases().iter().cloned());
    }
    found
}

/// KMS keys a ledger names only through the run's aliases: the key each alias points to.
pub async fn keys_of_aliases(who: &Principal, aliases: &[String]) -> Vec<String> {
    let mut keys = Vec::new();
    for alias in self::aliases(who).await {
        if alias.alias_name().is_some_and(|n| aliases.iter().any(|a| a == n)) {
            if let Some(arn) = alias.target_key_id() {
                keys.extend(live_key(who, arn).await);
            }
        }
    }
    keys
}
