//! The sweep of one account and region: every resource that carries a run's tag or a run id in
//! its name, whatever ledger knows of it, read page after page through the SDK's paginators (a
//! sandbox account with hundreds of roles must not hide a leftover on page two).
//!
//! What is swept, and how each resource is recognised:
//! - instances, Auto Scaling groups, CloudFormation stacks: the `wana:run-id` tag;
//! - launch templates: the tag, or a run id in the name (templates made without tags);
//! - KMS keys: the tag (`ListKeys`, then each key's `ListResourceTags`), or the alias that
//!   carries a run id in its name; keys pending deletion are left alone;
//! - images, IAM roles, users and instance profiles, KMS aliases, S3 buckets and SSM documents
//!   (the account's own, `Owner=Self`): a run id in the name.
//!
//! A listing that fails (a page refused, a service that does not answer) ends that listing with a
//! warning that names the call and AWS's error, and the sweep goes on with the next: what that
//! listing would have shown may still be there.

use aws_sdk_ec2::types::{Filter, InstanceStateName};
use chrono::{DateTime, Utc};

use super::find::live_key;
use crate::{
    outcome::StepError,
    principal::Principal,
    resources::{run_id_in_name, EXPIRES_AT_TAG, RUN_ID_TAG},
    sandbox::ledger::ResourceKind,
};

/// Runs `$body` with each page of `$request`'s paginator; a page that fails ends the listing
/// with a warning in `$warnings` naming `$what`.
macro_rules! each_page {
    ($request:expr, $what:expr, $warnings:expr, |$page:ident| $body:block) => {{
        let mut pages = $request.into_paginator().send();
        while let Some(result) = pages.next().await {
            match result {
                Ok($page) => $body,
                Err(err) => {
                    $warnings.push(format!("{}: {}; what it would list was not swept", $what, StepError::from_sdk(&err)));
                    break;
                }
            }
        }
    }};
}

/// What a sweep found, and the listings that failed.
#[derive(Debug, Default)]
pub struct Sweep {
    pub found: Vec<Swept>,
    pub warnings: Vec<String>,
}

/// A resource found by a sweep.
#[derive(Debug, Clone)]
pub struct Swept {
    pub kind: ResourceKind,
    pub id: String,
    pub run_id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub found_by: &'static str,
}

/// How many items the sweep asks each listing for. By default each service's largest page (the
/// fewest calls); [`Pages::of`] asks for `n`, kept within each operation's bounds, so that tests
/// meet several pages with a few resources. CloudFormation's DescribeStacks takes no page size.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pages(Option<i32>);

impl Pages {
    pub fn of(n: i32) -> Pages {
        Pages(Some(n))
    }

    fn size(self, least: i32, most: i32) -> i32 {
        self.0.map_or(most, |n| n.clamp(least, most))
    }
}

/// Everything in `who`'s account and region that a run marked (`traps` lists the trap ids that
/// may appear in names).
pub async fn sweep(who: &Principal, traps: &[&str], pages: Pages) -> Sweep {
    let by_name = |kind: ResourceKind, name: &str| {
        run_id_in_name(name, traps).map(|run_id| Swept { kind, id: name.to_string(), run_id: Some(run_id), expires_at: None, found_by: "name" })
    };
    let mut sweep = Sweep::default();
    ec2(who, pages, &by_name, &mut sweep).await;
    autoscaling_and_stacks(who, pages, &mut sweep).await;
    iam(who, pages, &by_name, &mut sweep).await;
    kms(who, pages, &by_name, &mut sweep).await;
    let s3 = aws_sdk_s3::Client::new(&who.config);
    each_page!(s3.list_buckets().max_buckets(pages.size(1, 10_000)), "s3:ListBuckets", sweep.warnings, |page| {
        sweep.found.extend(page.buckets().iter().filter_map(|b| b.name().and_then(|n| by_name(ResourceKind::S3Bucket, n))));
    });
    let ssm = aws_sdk_ssm::Client::new(&who.config);
    let own = aws_sdk_ssm::types::DocumentKeyValuesFilter::builder().key("Owner").values("Self").build();
    each_page!(ssm.list_documents().filters(own).max_results(pages.size(1, 50)), "ssm:ListDocuments", sweep.warnings, |page| {
        sweep.found.extend(page.document_identifiers().iter().filter_map(|d| d.name().and_then(|n| by_name(ResourceKind::SsmDocument, n))));
    });
    sweep
}

type ByName<'a> = dyn Fn(ResourceKind, &str) -> Option<Swept> + 'a;

fn tags_of<'a>(pairs: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>) -> Vec<(&'a str, &'a str)> {
    pairs.filter_map(|(k, v)| Some((k?, v?))).collect()
}

/// Instances by tag, launch templates by tag or name, images by name.
async fn ec2(who: &Principal, pages: Pages, by_name: &ByName<'_>, sweep: &mut Sweep) {
    let ec2 = aws_sdk_ec2::Client::new(&who.config);
    let tagged = Filter::builder().name("tag-key").values(RUN_ID_TAG).build();
    let instances = ec2.describe_instances().filters(tagged).max_results(pages.size(5, 1000));
    each_page!(instances, "ec2:DescribeInstances", sweep.warnings, |page| {
        for instance in page.reservations().iter().flat_map(|r| r.instances()) {
            let gone = matches!(instance.state().and_then(|s| s.name()), Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown));
            if let (false, Some(id)) = (gone, instance.instance_id()) {
                let tags = tags_of(instance.tags().iter().map(|t| (t.key(), t.value())));
                sweep.found.push(tagged_resource(ResourceKind::Ec2Instance, id, &tags));
            }
        }
    });
    let templates = ec2.describe_launch_templates().max_results(pages.size(1, 200));
    each_page!(templates, "ec2:DescribeLaunchTemplates", sweep.warnings, |page| {
        for template in page.launch_templates() {
            let Some(name) = template.launch_template_name() else { continue };
            let tags = tags_of(template.tags().iter().map(|t| (t.key(), t.value())));
            if tags.iter().any(|(k, _)| *k == RUN_ID_TAG) {
                sweep.found.push(tagged_resource(ResourceKind::Ec2LaunchTemplate, name, &tags));
            } else {
                sweep.found.extend(by_name(ResourceKind::Ec2LaunchTemplate, name));
            }
        }
    });
    let named = Filter::builder().name("name").values("wana-*").build();
    let images = ec2.describe_images().owners("self").filters(named).max_results(pages.size(5, 1000));
    each_page!(images, "ec2:DescribeImages", sweep.warnings, |page| {
        for image in page.images() {
            if let (Some(id), Some(run)) = (image.image_id(), image.name().and_then(|n| by_name(ResourceKind::Ec2Image, n))) {
                sweep.found.push(Swept { id: id.to_string(), ..run });
            }
        }
    });
}

/// Auto Scaling groups and CloudFormation stacks, by tag.
async fn autoscaling_and_stacks(who: &Principal, pages: Pages, sweep: &mut Sweep) {
    let autoscaling = aws_sdk_autoscaling::Client::new(&who.config);
    let tagged = aws_sdk_autoscaling::types::Filter::builder().name("tag-key").values(RUN_ID_TAG).build();
    let groups = autoscaling.describe_auto_scaling_groups().filters(tagged).max_records(pages.size(1, 100));
    each_page!(groups, "autoscaling:DescribeAutoScalingGroups", sweep.warnings, |page| {
        for group in page.auto_scaling_groups() {
            let tags = tags_of(group.tags().iter().map(|t| (t.key(), t.value())));
            sweep.found.push(tagged_resource(ResourceKind::AutoScalingGroup, group.auto_scaling_group_name().unwrap_or_default(), &tags));
        }
    });
    let cfn = aws_sdk_cloudformation::Client::new(&who.config);
    each_page!(cfn.describe_stacks(), "cloudformation:DescribeStacks", sweep.warnings, |page| {
        for stack in page.stacks() {
            let tags = tags_of(stack.tags().iter().map(|t| (t.key(), t.value())));
            let deleted = stack.stack_status().is_some_and(|s| s.as_str() == "DELETE_COMPLETE");
            if !deleted && tags.iter().any(|(k, _)| *k == RUN_ID_TAG) {
                sweep.found.push(tagged_resource(ResourceKind::CloudformationStack, stack.stack_name().unwrap_or_default(), &tags));
            }
        }
    });
}

/// Roles, users and instance profiles, by name.
async fn iam(who: &Principal, pages: Pages, by_name: &ByName<'_>, sweep: &mut Sweep) {
    let iam = who.iam();
    let size = pages.size(1, 1000);
    each_page!(iam.list_roles().max_items(size), "iam:ListRoles", sweep.warnings, |page| {
        sweep.found.extend(page.roles().iter().filter_map(|r| by_name(ResourceKind::IamRole, r.role_name())));
    });
    each_page!(iam.list_users().max_items(size), "iam:ListUsers", sweep.warnings, |page| {
        sweep.found.extend(page.users().iter().filter_map(|u| by_name(ResourceKind::IamUser, u.user_name())));
    });
    each_page!(iam.list_instance_profiles().max_items(size), "iam:ListInstanceProfiles", sweep.warnings, |page| {
        sweep.found.extend(page.instance_profiles().iter().filter_map(|p| by_name(ResourceKind::IamInstanceProfile, p.instance_profile_name())));
    });
}

/// Aliases by name with the keys they point to, and keys by their tags.
async fn kms(who: &Principal, pages: Pages, by_name: &ByName<'_>, sweep: &mut Sweep) {
    let kms = aws_sdk_kms::Client::new(&who.config);
    let mut aliases = Vec::new();
    each_page!(kms.list_aliases().limit(pages.size(1, 100)), "kms:ListAliases", sweep.warnings, |page| {
        aliases.extend(page.aliases().iter().cloned());
    });
    for alias in aliases {
        let Some(swept) = alias.alias_name().and_then(|n| by_name(ResourceKind::KmsAlias, n)) else { continue };
        if let Some(key) = alias.target_key_id() {
            if let Some(arn) = live_key(who, key).await {
                sweep.found.push(Swept { kind: ResourceKind::KmsKey, id: arn, ..swept.clone() });
            }
        }
        sweep.found.push(swept);
    }
    let mut keys = Vec::new();
    each_page!(kms.list_keys().limit(pages.size(1, 1000)), "kms:ListKeys", sweep.warnings, |page| {
        keys.extend(page.keys().iter().filter_map(|k| k.key_arn().or(k.key_id()).map(str::to_string)));
    });
    for key in keys {
        let mut tags = Vec::new();
        let listing = kms.list_resource_tags().key_id(&key).limit(pages.size(1, 50));
        each_page!(listing, format!("kms:ListResourceTags on {key}"), sweep.warnings, |page| {
            tags.extend(page.tags().iter().map(|t| (t.tag_key().to_string(), t.tag_value().to_string())));
        });
        if !tags.iter().any(|(k, _)| k == RUN_ID_TAG) {
            continue;
        }
        if let Some(arn) = live_key(who, &key).await {
            let tags: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            sweep.found.push(tagged_resource(ResourceKind::KmsKey, &arn, &tags));
        }
    }
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
