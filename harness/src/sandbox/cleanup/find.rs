//! Finding what still exists: a ledger line's resource, or every resource of an account that
//! carries a run's tag or a run id in its name.

use aws_sdk_ec2::types::{Filter, InstanceStateName};
use chrono::{DateTime, Utc};

use crate::{
    principal::Principal,
    resources::{run_id_in_name, EXPIRES_AT_TAG, RUN_ID_TAG},
    sandbox::ledger::ResourceKind,
};

/// A resource found by a sweep.
#[derive(Debug, Clone)]
pub struct Swept {
    pub kind: ResourceKind,
    pub id: String,
    pub run_id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub found_by: &'static str,
}

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

async fn live_instances(who: &Principal, id: Option<&str>, run_id: &str) -> Vec<String> {
    let ec2 = aws_sdk_ec2::Client::new(&who.config);
    let request = match id {
        Some(id) => ec2.describe_instances().instance_ids(id),
        None => ec2.describe_instances().filters(Filter::builder().name(format!("tag:{RUN_ID_TAG}")).values(run_id).build()),
    };
    let Ok(out) = request.send().await else { return Vec::new() };
    out.reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter(|i| !matches!(i.state().and_then(|s| s.name()), Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown)))
        .filter_map(|i| i.instance_id().map(str::to_string))
        .collect()
}

async fn live_key(who: &Principal, id: &str) -> Option<String> {
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
        ResourceKind::KmsAlias => aws_sdk_kms::Client::new(config)
            .list_aliases()
            .send()
            .await
            .is_ok_and(|out| out.aliases().iter().any(|a| a.alias_name() == Some(name))),
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

/// Everything in `who`'s account and region that a run marked: instances, launch templates and
/// groups by the run tag; stacks by their tags; images, IAM entities, KMS aliases (and their
/// keys) and buckets by a run id in their names (`traps` lists the trap ids that may appear).
pub async fn sweep(who: &Principal, traps: &[&str]) -> Vec<Swept> {
    let mut found = Vec::new();
    let by_name = |kind: ResourceKind, name: &str| {
        run_id_in_name(name, traps).map(|run_id| Swept { kind, id: name.to_string(), run_id: Some(run_id), expires_at: None, found_by: "name" })
    };
    let ec2 = aws_sdk_ec2::Client::new(&who.config);
    let tagged = Filter::builder().name("tag-key").values(RUN_ID_TAG).build();
    if let Ok(out) = ec2.describe_instances().filters(tagged.clone()).send().await {
        for instance in out.reservations().iter().flat_map(|r| r.instances()) {
            let gone = matches!(instance.state().and_then(|s| s.name()), Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown));
            if let (false, Some(id)) = (gone, instance.instance_id()) {
                let tags: Vec<(&str, &str)> = instance.tags().iter().filter_map(|t| Some((t.key()?, t.value()?))).collect();
                found.push(tagged_resource(ResourceKind::Ec2Instance, id, &tags));
            }
        }
    }
    if let Ok(out) = ec2.describe_launch_templates().filters(tagged).send().await {
        for template in out.launch_templates() {
            if let Some(name) = template.launch_template_name() {
                let tags: Vec<(&str, &str)> = template.tags().iter().filter_map(|t| Some((t.key()?, t.value()?))).collect();
                found.push(tagged_resource(ResourceKind::Ec2LaunchTemplate, name, &tags));
            }
        }
    }
    if let Ok(out) = ec2.describe_images().owners("self").filters(Filter::builder().name("name").values("wana-*").build()).send().await {
        for image in out.images() {
            if let (Some(id), Some(run)) = (image.image_id(), image.name().and_then(|n| by_name(ResourceKind::Ec2Image, n))) {
                found.push(Swept { id: id.to_string(), ..run });
            }
        }
    }
    let autoscaling = aws_sdk_autoscaling::Client::new(&who.config);
    let group_filter = aws_sdk_autoscaling::types::Filter::builder().name("tag-key").values(RUN_ID_TAG).build();
    if let Ok(out) = autoscaling.describe_auto_scaling_groups().filters(group_filter).send().await {
        for group in out.auto_scaling_groups() {
            let tags: Vec<(&str, &str)> = group.tags().iter().filter_map(|t| Some((t.key()?, t.value()?))).collect();
            found.push(tagged_resource(ResourceKind::AutoScalingGroup, group.auto_scaling_group_name().unwrap_or_default(), &tags));
        }
    }
    if let Ok(out) = aws_sdk_cloudformation::Client::new(&who.config).describe_stacks().send().await {
        for stack in out.stacks() {
            let tags: Vec<(&str, &str)> = stack.tags().iter().filter_map(|t| Some((t.key()?, t.value()?))).collect();
            let deleted = stack.stack_status().is_some_and(|s| s.as_str() == "DELETE_COMPLETE");
            if !deleted && tags.iter().any(|(k, _)| *k == RUN_ID_TAG) {
                found.push(tagged_resource(ResourceKind::CloudformationStack, stack.stack_name().unwrap_or_default(), &tags));
            }
        }
    }
    let iam = who.iam();
    if let Ok(out) = iam.list_roles().send().await {
        found.extend(out.roles().iter().filter_map(|r| by_name(ResourceKind::IamRole, r.role_name())));
    }
    if let Ok(out) = iam.list_users().send().await {
        found.extend(out.users().iter().filter_map(|u| by_name(ResourceKind::IamUser, u.user_name())));
    }
    if let Ok(out) = iam.list_instance_profiles().send().await {
        found.extend(out.instance_profiles().iter().filter_map(|p| by_name(ResourceKind::IamInstanceProfile, p.instance_profile_name())));
    }
    let kms = aws_sdk_kms::Client::new(&who.config);
    if let Ok(out) = kms.list_aliases().send().await {
        for alias in out.aliases() {
            let Some(swept) = alias.alias_name().and_then(|n| by_name(ResourceKind::KmsAlias, n)) else { continue };
            if let Some(key) = alias.target_key_id() {
                if let Some(arn) = live_key(who, key).await {
                    found.push(Swept { kind: ResourceKind::KmsKey, id: arn, ..swept.clone() });
                }
            }
            found.push(swept);
        }
    }
    if let Ok(out) = aws_sdk_s3::Client::new(&who.config).list_buckets().send().await {
        found.extend(out.buckets().iter().filter_map(|b| b.name().and_then(|n| by_name(ResourceKind::S3Bucket, n))));
    }
    found
}

fn tagged_resource(kind: ResourceKind, id: &str, tags: &[(&str, &str)]) -> Swept {
    let tag = |key: &str| tags.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_string());
    Swept {
        kind,
        id: id.to_string(),
        run_id: tag(RUN_ID_TAG),
        expires_at: tag(EXPIRES_AT_TAG).and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.with_timezone(&Utc)),
        found_by: "tag",
    }
}

/// KMS keys a ledger names only through the run's aliases: the key each alias points to.
pub async fn keys_of_aliases(who: &Principal, aliases: &[String]) -> Vec<String> {
    let kms = aws_sdk_kms::Client::new(&who.config);
    let Ok(out) = kms.list_aliases().send().await else { return Vec::new() };
    let mut keys = Vec::new();
    for alias in out.aliases() {
        if alias.alias_name().is_some_and(|n| aliases.iter().any(|a| a == n)) {
            if let Some(arn) = alias.target_key_id() {
                keys.extend(live_key(who, arn).await);
            }
        }
    }
    keys
}
