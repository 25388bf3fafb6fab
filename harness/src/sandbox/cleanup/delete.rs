//! Deleting one leftover, with what it holds (a role's policies and profiles, a bucket's
//! objects, an image's snapshots). A resource that is already gone counts as deleted.

use aws_sdk_sts::error::ProvideErrorMetadata;

use crate::{outcome::StepError, principal::Principal, sandbox::ledger::ResourceKind};

/// Error codes that mean "it is not there (any more)".
const GONE: &[&str] = &[
    "NoSuchEntity",
    "NotFoundException",
    "NoSuchBucket",
    "InvalidInstanceID.NotFound",
    "InvalidAMIID.NotFound",
    "InvalidAMIID.Unavailable",
    "InvalidSnapshot.NotFound",
    "InvalidLaunchTemplateName.NotFoundException",
    "InvalidDocument",
];

fn check<T, E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug + crate::outcome::RawStatus>(
    result: Result<T, aws_smithy_runtime_api::client::result::SdkError<E, R>>,
) -> Result<Option<T>, String> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(err) => {
            let err = StepError::from_sdk(&err);
            if GONE.contains(&err.code.as_str()) {
                Ok(None)
            } else {
                Err(err.to_string())
            }
        }
    }
}

/// Deletes `id` of `kind` as `who`.
pub async fn delete(who: &Principal, kind: ResourceKind, id: &str) -> Result<(), String> {
    let config = &who.config;
    match kind {
        ResourceKind::AutoScalingGroup => {
            let client = aws_sdk_autoscaling::Client::new(config);
            check(client.delete_auto_scaling_group().auto_scaling_group_name(id).force_delete(true).send().await)?;
        }
        ResourceKind::CloudformationStack => {
            check(aws_sdk_cloudformation::Client::new(config).delete_stack().stack_name(id).send().await)?;
        }
        ResourceKind::Ec2Instance => {
            check(aws_sdk_ec2::Client::new(config).terminate_instances().instance_ids(id).send().await)?;
        }
        ResourceKind::Ec2LaunchTemplate => {
            check(aws_sdk_ec2::Client::new(config).delete_launch_template().launch_template_name(id).send().await)?;
        }
        ResourceKind::Ec2Image => {
            let ec2 = aws_sdk_ec2::Client::new(config);
            let described = check(ec2.describe_images().image_ids(id).send().await)?;
            let snapshots: Vec<String> = described
                .iter()
                .flat_map(|out| out.images())
                .flat_map(|image| image.block_device_mappings())
                .filter_map(|m| m.ebs().and_then(|e| e.snapshot_id()).map(str::to_string))
                .collect();
            check(ec2.deregister_image().image_id(id).send().await)?;
            for snapshot in snapshots {
                check(ec2.delete_snapshot().snapshot_id(&snapshot).send().await)?;
            }
        }
        ResourceKind::SsmDocument => {
            check(aws_sdk_ssm::Client::new(config).delete_document().name(id).send().await)?;
        }
        ResourceKind::S3Bucket => {
            let s3 = aws_sdk_s3::Client::new(config);
            if let Some(listed) = check(s3.list_objects_v2().bucket(id).send().await)? {
                for key in listed.contents().iter().filter_map(|o| o.key()) {
                    check(s3.delete_object().bucket(id).key(key).send().await)?;
                }
            }
            check(s3.delete_bucket().bucket(id).send().await)?;
        }
        ResourceKind::KmsAlias => {
            check(aws_sdk_kms::Client::new(config).delete_alias().alias_name(id).send().await)?;
        }
        ResourceKind::KmsKey => {
            // The shortest waiting period KMS allows.
            check(aws_sdk_kms::Client::new(config).schedule_key_deletion().key_id(id).pending_window_in_days(7).send().await)?;
        }
        ResourceKind::IamInstanceProfile => {
            let iam = who.iam();
            if let Some(profile) = check(iam.get_instance_profile().instance_profile_name(id).send().await)? {
                for role in profile.instance_profile().map(|p| p.roles()).unwrap_or_default() {
                    check(iam.remove_role_from_instance_profile().instance_profile_name(id).role_name(role.role_name()).send().await)?;
                }
            }
            check(iam.delete_instance_profile().instance_profile_name(id).send().await)?;
        }
        ResourceKind::IamRole => {
            let iam = who.iam();
            if let Some(profiles) = check(iam.list_instance_profiles_for_role().role_name(id).send().await)? {
                for profile in profiles.instance_profiles() {
                    check(iam.remove_role_from_instance_profile().instance_profile_name(profile.instance_profile_name()).role_name(id).send().await)?;
                }
            }
            if let Some(attached) = check(iam.list_attached_role_policies().role_name(id).send().await)? {
                for policy in attached.attached_policies().iter().filter_map(|p| p.policy_arn()) {
                    check(iam.detach_role_policy().role_name(id).policy_arn(policy).send().await)?;
                }
            }
            if let Some(inline) = check(iam.list_role_policies().role_name(id).send().await)? {
                for name in inline.policy_names() {
                    check(iam.delete_role_policy().role_name(id).policy_name(name).send().await)?;
                }
            }
            check(iam.delete_role().role_name(id).send().await)?;
        }
        ResourceKind::IamUser => {
            let iam = who.iam();
            if let Some(keys) = check(iam.list_access_keys().user_name(id).send().await)? {
                for key in keys.access_key_metadata().iter().filter_map(|k| k.access_key_id()) {
                    check(iam.delete_access_key().user_name(id).access_key_id(key).send().await)?;
                }
            }
            if let Some(attached) = check(iam.list_attached_user_policies().user_name(id).send().await)? {
                for policy in attached.attached_policies().iter().filter_map(|p| p.policy_arn()) {
                    check(iam.detach_user_policy().user_name(id).policy_arn(policy).send().await)?;
                }
            }
            if let Some(inline) = check(iam.list_user_policies().user_name(id).send().await)? {
                for name in inline.policy_names() {
                    check(iam.delete_user_policy().user_name(id).policy_name(name).send().await)?;
                }
            }
            check(iam.delete_user().user_name(id).send().await)?;
        }
    }
    Ok(())
}
