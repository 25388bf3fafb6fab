//! S3 over restXml: the operations a bucket and its objects need, with S3's own errors.
//! Members arrive under their model names (`protocol/rest_xml.rs` binds the URI, query string,
//! headers, trailers and payload); the model (`state::s3`) authorizes and decides; the handlers
//! shape outputs, whose header members the codec writes as headers.
//!
//! Buckets here (CreateBucket, HeadBucket, ListBuckets, DeleteBucket, and the bucket policy
//! operations); objects and listings in `objects.rs`. Every operation first honours
//! `x-amz-expected-bucket-owner`. Operations S3 has and wana does not (ListObjects v1,
//! GetBucketLocation, multipart uploads, ACLs, ...) are answered `NotImplemented` (501).
//! Not emulated either: S3's answer to a request signed for another region than the bucket's
//! (`AuthorizationHeaderMalformed` with the bucket's region, which botocore follows); such a
//! request is served as if signed for the bucket's region.

mod objects;
#[cfg(test)]
mod tests;

use base64::Engine as _;

use super::Call;
use crate::{
    error::AwsError,
    state::{s3, World},
    value::Value,
};

pub fn handle(world: &mut World, call: &Call<'_>) -> Option<Result<Value, AwsError>> {
    let run = |world: &mut World, op: fn(&mut World, &Call<'_>, &str) -> Result<Value, AwsError>| {
        let bucket = call.required("Bucket")?;
        s3::check_expected_owner(world, bucket, call.optional("ExpectedBucketOwner"))?;
        op(world, call, bucket)
    };
    Some(match call.action {
        "ListBuckets" => list_buckets(world, call),
        "CreateBucket" => run(world, create_bucket),
        "HeadBucket" => run(world, head_bucket),
        "DeleteBucket" => run(world, delete_bucket),
        "GetBucketPolicy" => run(world, get_bucket_policy),
        "PutBucketPolicy" => run(world, put_bucket_policy),
        "DeleteBucketPolicy" => run(world, delete_bucket_policy),
        "PutObject" => run(world, objects::put_object),
        "GetObject" => run(world, objects::get_object),
        "HeadObject" => run(world, objects::head_object),
        "DeleteObject" => run(world, objects::delete_object),
        "ListObjectsV2" => run(world, objects::list_objects_v2),
        _ => return None,
    })
}

/// S3's canonical user id of an account: 64 hex digits, stable per account.
pub(super) fn canonical_user_id(account: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(format!("wana-canonical-user:{account}")))
}

fn owner(account: &str) -> Value {
    Value::structure().with("ID", canonical_user_id(account))
}

/// The most buckets a page of ListBuckets holds (`max-buckets` 1 to 10,000, the model's bounds),
/// and what S3 applies when a request names none (the model: "a default page size of 10,000").
const MAX_BUCKETS: usize = 10_000;

/// ListBuckets: the caller's account's buckets in name order, with each bucket's region; a page
/// of `max-buckets` of them and a `ContinuationToken` while more remain. The token is opaque to
/// clients (the model: "obfuscated"): here the base64 of the last name listed. Chosen,
/// unconfirmed: a token that does not decode is `InvalidArgument` "The continuation token
/// provided is incorrect" (ListObjectsV2's text), a `max-buckets` outside 1 to 10,000
/// `InvalidArgument` "Provided max-buckets not an integer or within integer range" (written like
/// ListObjectsV2's `max-keys` text).
fn list_buckets(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let size = match call.optional("MaxBuckets") {
        None => MAX_BUCKETS,
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_BUCKETS).contains(n))
            .ok_or_else(|| s3::errors::invalid_argument("Provided max-buckets not an integer or within integer range"))?,
    };
    let after = match call.optional("ContinuationToken").filter(|t| !t.is_empty()) {
        None => None,
        Some(token) => {
            let incorrect = || s3::errors::invalid_argument("The continuation token provided is incorrect");
            let raw = base64::engine::general_purpose::STANDARD.decode(token).map_err(|_| incorrect())?;
            Some(String::from_utf8(raw).map_err(|_| incorrect())?)
        }
    };
    let mut buckets = s3::list_buckets(world, call.facts(), call.optional("Prefix"), call.optional("BucketRegion"))?;
    buckets.sort_by(|a, b| a.name.cmp(&b.name));
    buckets.retain(|b| after.as_deref().is_none_or(|after| b.name.as_str() > after));
    let next = (buckets.len() > size).then(|| base64::engine::general_purpose::STANDARD.encode(&buckets[size - 1].name));
    buckets.truncate(size);
    let buckets: Vec<Value> = buckets
        .into_iter()
        .map(|b| {
            Value::structure().with("Name", b.name).with("CreationDate", b.created).with("BucketRegion", b.region)
        })
        .collect();
    Ok(Value::structure().with(
        "ListAllMyBucketsResult",
        Value::structure()
            .with("Buckets", Value::structure().with("Bucket", Value::List(buckets)))
            .with("Owner", owner(call.account()))
            .with_opt("ContinuationToken", next)
            .with_opt("Prefix", call.optional("Prefix")),
    ))
}

/// CreateBucket: `Location: /<bucket>`, as S3 answers a path-style request.
fn create_bucket(world: &mut World, call: &Call<'_>, bucket: &str) -> Result<Value, AwsError> {
    let constraint = call.params.get("CreateBucketConfiguration").and_then(|c| c.get("LocationConstraint")).and_then(Value::as_str);
    s3::create_bucket(world, call.facts(), bucket, constraint)?;
    Ok(Value::structure().with("Location", format!("/{bucket}")))
}

/// HeadBucket: the bucket's region in `x-amz-bucket-region`.
fn head_bucket(world: &mut World, call: &Call<'_>, bucket: &str) -> Result<Value, AwsError> {
    let region = s3::head_bucket(world, call.facts(), bucket)?;
    Ok(Value::structure().with("BucketRegion", region))
}

fn delete_bucket(world: &mut World, call: &Call<'_>, bucket: &str) -> Result<Value, AwsError> {
    s3::delete_bucket(world, call.facts(), bucket)?;
    Ok(Value::structure())
}

/// GetBucketPolicy: the policy as it was put, as the payload.
fn get_bucket_policy(world: &mut World, call: &Call<'_>, bucket: &str) -> Result<Value, AwsError> {
    let text = s3::get_bucket_policy(world, call.facts(), bucket)?;
    Ok(Value::structure().with("Policy", text))
}

fn put_bucket_policy(world: &mut World, call: &Call<'_>, bucket: &str) -> Result<Value, AwsError> {
    let text = match call.params.get("Policy") {
        Some(Value::Str(text)) => text.as_str(),
        // Not UTF-8, or no body at all.
        _ => return Err(s3::errors::malformed_policy("This policy contains invalid Json")),
    };
    s3::put_bucket_policy(world, call.facts(), bucket, text)?;
    Ok(Value::structure())
}

fn delete_bucket_policy(world: &mut World, call: &Call<'_>, bucket: &str) -> Result<Value, AwsError> {
    s3::delete_bucket_policy(world, call.facts(), bucket)?;
    Ok(Value::structure())
}
