//! CreateBucket, HeadBucket, ListBuckets and DeleteBucket.
//!
//! Where a bucket is created: in the region of the endpoint the request was signed for, which
//! `LocationConstraint` must then name (`IllegalLocationConstraintException` otherwise, and
//! without one outside us-east-1); us-east-1 is the default and may not be named
//! (`InvalidLocationConstraint`, as S3 answers `LocationConstraint=us-east-1`); `EU` is the legacy
//! name of eu-west-1. Choices where AWS could not be confirmed: a request signed for us-east-1
//! may create a bucket in any region (the legacy global endpoint's behaviour); a constraint is a
//! valid region when it is shaped like one (`xx-name-N`), as wana accepts any region name.
//!
//! A name already taken: by another account, `BucketAlreadyExists`; by the caller's account,
//! `BucketAlreadyOwnedByYou` (409), except that re-creating a us-east-1 bucket in us-east-1
//! succeeds, for legacy compatibility (S3 API reference, CreateBucket and its error table: "in
//! the North Virginia Region (us-east-1), Amazon S3 returns 200 OK"). The AWS CLI's `s3 mb` and
//! `s3api create-bucket` therefore succeed twice there and fail the second time elsewhere.

use chrono::{DateTime, Utc};

use super::{
    access::{authorize, authorize_identity, bucket_arn, Owner},
    errors, existing, names::valid_bucket_name, Bucket,
};
use crate::{authz::RequestFacts, error::AwsError, state::World};

const US_EAST_1: &str = "us-east-1";

/// `xx-name-N`, the shape of every AWS region name.
fn looks_like_region(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// The region a bucket is created in, from the endpoint's region and the location constraint.
fn bucket_region(endpoint_region: &str, constraint: Option<&str>) -> Result<String, AwsError> {
    let constraint = constraint.filter(|c| !c.is_empty());
    let region = match constraint {
        None if endpoint_region == US_EAST_1 => return Ok(US_EAST_1.to_string()),
        None => return Err(errors::illegal_location_constraint(None)),
        Some(US_EAST_1) => return Err(errors::invalid_location_constraint()),
        Some("EU") => "eu-west-1",
        Some(c) if looks_like_region(c) => c,
        Some(_) => return Err(errors::invalid_location_constraint()),
    };
    if endpoint_region != US_EAST_1 && endpoint_region != region {
        return Err(errors::illegal_location_constraint(constraint));
    }
    Ok(region.to_string())
}

/// Creates a bucket; `Ok(false)` when the caller re-created its own us-east-1 bucket, which S3
/// answers with success and leaves as it was.
pub fn create_bucket(world: &mut World, facts: RequestFacts<'_>, name: &str, constraint: Option<&str>) -> Result<bool, AwsError> {
    if !valid_bucket_name(name) {
        return Err(errors::invalid_bucket_name());
    }
    let region = bucket_region(facts.region, constraint)?;
    authorize_identity(world, facts, "s3:CreateBucket", &bucket_arn(name))?;
    let account = facts.caller.principal.account();
    if let Some(existing) = world.s3.buckets.get(name) {
        return if existing.account != account {
            Err(errors::bucket_already_exists())
        } else if existing.region == US_EAST_1 && region == US_EAST_1 {
            Ok(false)
        } else {
            Err(errors::bucket_already_owned_by_you())
        };
    }
    let bucket = Bucket {
        name: name.to_string(),
        account: account.to_string(),
        region,
        created: chrono::SubsecRound::trunc_subsecs(facts.now, 0),
        policy: None,
        objects: Default::default(),
    };
    world.s3.buckets.insert(name.to_string(), bucket);
    Ok(true)
}

/// `x-amz-expected-bucket-owner`: a bucket owned by another account is `AccessDenied`. A
/// bucket that does not exist is left to the operation (`NoSuchBucket`).
pub fn check_expected_owner(world: &World, name: &str, expected: Option<&str>) -> Result<(), AwsError> {
    match (world.s3.buckets.get(name), expected) {
        (Some(bucket), Some(expected)) if bucket.account != expected => Err(errors::access_denied()),
        _ => Ok(()),
    }
}

/// HeadBucket (`s3:ListBucket`): the bucket's region.
pub fn head_bucket(world: &mut World, facts: RequestFacts<'_>, name: &str) -> Result<String, AwsError> {
    let bucket = existing(world, name)?;
    let (owner, region) = (Owner::of(bucket), bucket.region.clone());
    authorize(world, facts, &owner, "s3:ListBucket", &bucket_arn(name), Vec::new())?;
    Ok(region)
}

/// One bucket as ListBuckets shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketSummary {
    pub name: String,
    pub created: DateTime<Utc>,
    pub region: String,
}

/// ListBuckets (`s3:ListAllMyBuckets`): the caller's account's buckets in every region, by
/// name, optionally only those with a prefix or in a region.
pub fn list_buckets(
    world: &mut World,
    facts: RequestFacts<'_>,
    prefix: Option<&str>,
    region: Option<&str>,
) -> Result<Vec<BucketSummary>, AwsError> {
    authorize_identity(world, facts, "s3:ListAllMyBuckets", "*")?;
    let account = facts.caller.principal.account();
    Ok(world
        .s3
        .buckets
        .values()
        .filter(|b| b.account == account)
        .filter(|b| prefix.is_none_or(|p| b.name.starts_with(p)))
        .filter(|b| region.is_none_or(|r| b.region == r))
        .map(|b| BucketSummary { name: b.name.clone(), created: b.created, region: b.region.clone() })
        .collect())
}

/// DeleteBucket (`s3:DeleteBucket`): only an empty bucket (`BucketNotEmpty`).
pub fn delete_bucket(world: &mut World, facts: RequestFacts<'_>, name: &str) -> Result<(), AwsError> {
    let bucket = existing(world, name)?;
    let (owner, empty) = (Owner::of(bucket), bucket.objects.is_empty());
    authorize(world, facts, &owner, "s3:DeleteBucket", &bucket_arn(name), Vec::new())?;
    if !empty {
        return Err(errors::bucket_not_empty());
    }
    world.s3.buckets.remove(name);
    Ok(())
}
