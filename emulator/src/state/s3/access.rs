//! S3 authorization as AWS evaluates it, decided by `wana-policy` through [`World::authorize`]:
//! the caller's identity policies and the bucket policy together. In the bucket owner's
//! account either one allowing is enough (a bucket policy that names only the account delegates
//! to IAM); for a caller of another account both must allow; an explicit deny in either wins.
//! The bucket policy is never authoritative the way a KMS key policy is.
//!
//! Resources are `arn:aws:s3:::<bucket>` for bucket operations and `arn:aws:s3:::<bucket>/<key>`
//! for object operations. Every question carries `s3:ResourceAccount` (the bucket owner),
//! `s3:authType` (`REST-HEADER`: wana authenticates only the `Authorization` header) and
//! `s3:signatureversion` (`AWS4-HMAC-SHA256`); ListBucket adds `s3:prefix`, `s3:delimiter` and
//! `s3:max-keys`. A refusal is S3's `AccessDenied` "Access Denied"; the decision, with the
//! statement that made it, is in the authorization log.

use wana_policy::NamedPolicy;

use super::{errors, Bucket};
use crate::{authz::{AuthzRequest, RequestFacts}, error::AwsError, state::World};

pub fn bucket_arn(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

pub fn object_arn(bucket: &str, key: &str) -> String {
    format!("arn:aws:s3:::{bucket}/{key}")
}

/// What authorizing a request on a bucket needs of the bucket.
#[derive(Debug, Clone)]
pub(super) struct Owner {
    pub account: String,
    pub policy: Option<NamedPolicy>,
}

impl Owner {
    pub fn of(bucket: &Bucket) -> Owner {
        Owner { account: bucket.account.clone(), policy: bucket.policy.as_ref().map(|p| p.parsed.clone()) }
    }
}

fn s3_context(account: Option<&str>) -> Vec<(&'static str, String)> {
    let mut context = vec![
        ("s3:authType", "REST-HEADER".to_string()),
        ("s3:signatureversion", "AWS4-HMAC-SHA256".to_string()),
    ];
    if let Some(account) = account {
        context.push(("s3:ResourceAccount", account.to_string()));
    }
    context
}

/// Asks whether the caller may perform `action` on `resource` of a bucket owned by `owner`,
/// with its bucket policy.
pub(super) fn authorize(
    world: &mut World,
    facts: RequestFacts<'_>,
    owner: &Owner,
    action: &'static str,
    resource: &str,
    context: Vec<(&'static str, String)>,
) -> Result<(), AwsError> {
    let mut request = AuthzRequest::new(action, resource);
    request.resource_policy = owner.policy.as_ref();
    request.resource_account = Some(&owner.account);
    request.context = s3_context(Some(&owner.account));
    request.context.extend(context);
    if world.authorize(facts, &request).is_allowed() {
        Ok(())
    } else {
        Err(errors::access_denied())
    }
}

/// A question no bucket policy can answer: `s3:CreateBucket` (the bucket does not exist yet)
/// and `s3:ListAllMyBuckets`.
pub(super) fn authorize_identity(world: &mut World, facts: RequestFacts<'_>, action: &'static str, resource: &str) -> Result<(), AwsError> {
    let mut request = AuthzRequest::new(action, resource);
    request.context = s3_context(None);
    if world.authorize(facts, &request).is_allowed() {
        Ok(())
    } else {
        Err(errors::access_denied())
    }
}
