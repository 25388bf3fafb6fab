//! Bucket policies: GetBucketPolicy, PutBucketPolicy, DeleteBucketPolicy, and S3's validation
//! of a policy when it is put (`MalformedPolicy`, 400).
//!
//! The three operations need their permission (`s3:GetBucketPolicy`, ...) and, once allowed,
//! an identity of the bucket owner's account: another account's caller gets `MethodNotAllowed`
//! (405) even when the policies allow it (S3 API reference, GetBucketPolicy).
//!
//! Validation, in S3's words (as reported by users of the AWS CLI and mirrored by S3 gateways):
//! * `Policies must be valid JSON and the first byte must be '{'`;
//! * `This policy contains invalid Json` for a document the policy grammar refuses as syntax;
//! * `Missing required field Principal` and the policy language's other texts otherwise;
//! * `Policy has invalid resource`: a resource that is not `arn:aws:s3:::<this bucket>` or an
//!   object ARN under it (wildcards in the bucket part must match this bucket; `*` alone is
//!   refused);
//! * `Policy has invalid action`: an action outside `s3:`;
//! * `Action does not apply to any resource(s) in statement`: an object action (`s3:GetObject`)
//!   with only the bucket ARN, or a bucket action (`s3:ListBucket`) with only object ARNs;
//!   wildcard actions and `NotAction`/`NotResource` statements are not checked;
//! * `Invalid principal in policy`: an IAM user or role ARN that does not exist.

use wana_policy::{ActionBlock, AwsPrincipal, NamedPolicy, Policy, PolicyError, PolicyKind, PrincipalBlock, ResourceBlock};

use super::{
    access::{authorize, bucket_arn, Owner},
    errors, existing, existing_mut,
};
use crate::{authz::RequestFacts, error::AwsError, state::{iam::PolicyDocument, World}};

/// The permission, then the owner's-account rule.
fn authorize_policy_operation(world: &mut World, facts: RequestFacts<'_>, bucket: &str, action: &'static str) -> Result<(), AwsError> {
    let owner = Owner::of(existing(world, bucket)?);
    authorize(world, facts, &owner, action, &bucket_arn(bucket), Vec::new())?;
    if facts.caller.principal.account() != owner.account {
        return Err(errors::method_not_allowed());
    }
    Ok(())
}

pub fn get_bucket_policy(world: &mut World, facts: RequestFacts<'_>, bucket: &str) -> Result<String, AwsError> {
    authorize_policy_operation(world, facts, bucket, "s3:GetBucketPolicy")?;
    existing(world, bucket)?.policy.as_ref().map(|p| p.text.clone()).ok_or_else(errors::no_such_bucket_policy)
}

pub fn put_bucket_policy(world: &mut World, facts: RequestFacts<'_>, bucket: &str, text: &str) -> Result<(), AwsError> {
    authorize_policy_operation(world, facts, bucket, "s3:PutBucketPolicy")?;
    let parsed = parse_bucket_policy(world, bucket, text)?;
    existing_mut(world, bucket)?.policy = Some(PolicyDocument { text: text.to_string(), parsed });
    Ok(())
}

/// DeleteBucketPolicy: a bucket without a policy is answered with success too.
pub fn delete_bucket_policy(world: &mut World, facts: RequestFacts<'_>, bucket: &str) -> Result<(), AwsError> {
    authorize_policy_operation(world, facts, bucket, "s3:DeleteBucketPolicy")?;
    existing_mut(world, bucket)?.policy = None;
    Ok(())
}

const INVALID_RESOURCE: &str = "Policy has invalid resource";

/// S3's wording for what the policy language refuses.
fn policy_error(error: PolicyError) -> AwsError {
    errors::malformed_policy(match error {
        PolicyError::Syntax { .. } | PolicyError::LegacyParsing { .. } => "This policy contains invalid Json".to_string(),
        PolicyError::ResourceNotArn { .. }
        | PolicyError::InvalidPartition { .. }
        | PolicyError::ResourceVendorNotQualified { .. }
        | PolicyError::S3ResourceWithRegion { .. } => INVALID_RESOURCE.to_string(),
        PolicyError::MissingVendor { .. } | PolicyError::TooManyColons { .. } | PolicyError::InvalidVendor { .. } => {
            "Policy has invalid action".to_string()
        }
        other => other.to_string(),
    })
}

/// Whether an S3 action acts on objects (`s3:GetObject`, `s3:AbortMultipartUpload`) rather
/// than on the bucket; `None` for a wildcard, which may be either.
fn object_action(action: &str) -> Option<bool> {
    let name = action.split_once(':').map_or(action, |(_, name)| name);
    if name.contains(['*', '?']) {
        return None;
    }
    let name = name.to_ascii_lowercase();
    Some(name.contains("object") || name == "abortmultipartupload" || name == "listmultipartuploadparts")
}

/// Checks one resource against the bucket; returns whether it can name the bucket itself and
/// whether it can name objects.
fn resource_kinds(bucket: &str, resource: &str) -> Result<(bool, bool), AwsError> {
    let rest = resource.strip_prefix("arn:aws:s3:::").ok_or_else(|| errors::malformed_policy(INVALID_RESOURCE))?;
    let (bucket_part, object_part) = match rest.split_once('/') {
        Some((b, o)) => (b, Some(o)),
        None => (rest, None),
    };
    if !wana_policy::wildcard_match(bucket_part, bucket) {
        return Err(errors::malformed_policy(INVALID_RESOURCE));
    }
    Ok(match object_part {
        Some(_) => (false, true),
        // `arn:aws:s3:::bucket*` also matches `arn:aws:s3:::bucket/key`.
        None => (true, bucket_part.ends_with('*')),
    })
}

fn parse_bucket_policy(world: &World, bucket: &str, text: &str) -> Result<NamedPolicy, AwsError> {
    if !text.trim_start().starts_with('{') {
        return Err(errors::malformed_policy("Policies must be valid JSON and the first byte must be '{'"));
    }
    let policy = Policy::parse(text, PolicyKind::Resource).map_err(policy_error)?;
    for statement in &policy.statements {
        let (mut names_bucket, mut names_objects) = (false, false);
        if let Some(ResourceBlock::Resource(patterns)) = &statement.resource {
            for pattern in patterns {
                let (b, o) = resource_kinds(bucket, pattern.as_str())?;
                names_bucket |= b;
                names_objects |= o;
            }
        }
        if let ActionBlock::Action(actions) = &statement.action {
            for action in actions {
                let action = action.as_str();
                if action != "*" && !action.to_ascii_lowercase().starts_with("s3:") {
                    return Err(errors::malformed_policy("Policy has invalid action"));
                }
                let applies = match object_action(action) {
                    _ if !matches!(statement.resource, Some(ResourceBlock::Resource(_))) => true,
                    None => true,
                    Some(true) => names_objects,
                    Some(false) => names_bucket,
                };
                if !applies {
                    return Err(errors::malformed_policy("Action does not apply to any resource(s) in statement"));
                }
            }
        }
        if let Some(PrincipalBlock::Principal(set) | PrincipalBlock::NotPrincipal(set)) = &statement.principal {
            for principal in &set.aws {
                if let AwsPrincipal::Arn(arn) = principal {
                    let valid = match world.iam_principal_exists(arn) {
                        Some(exists) => exists,
                        None => arn.starts_with("arn:aws:sts::") && arn.contains(":assumed-role/"),
                    };
                    if !valid {
                        return Err(errors::malformed_policy("Invalid principal in policy"));
                    }
                }
            }
        }
    }
    Ok(NamedPolicy::new(format!("bucket-policy:{bucket}"), policy))
}
