//! S3's model: buckets and their objects and policies.
//!
//! Bucket names are global: one name exists once across every account and region, owned by the
//! account that created it, in the region it was created in (`CreateBucketConfiguration/
//! LocationConstraint`, us-east-1 without one). So the buckets live in the world itself, not in
//! an account's regional state. Objects keep their bytes, their ETag (MD5), their content type
//! and one flexible checksum: the one the client sent, else CRC64NVME, which S3 computes for
//! every object uploaded without a checksum since its default data integrity protections
//! (S3 user guide, "Checking object integrity").
//!
//! Concerns, one file each: `names` (bucket naming rules), `access` (authorization with the
//! bucket policy), `buckets`, `objects`, `listing` (ListObjectsV2), `policy` (bucket policies and
//! their validation), `checksum` and `errors`.

mod access;
mod buckets;
pub mod checksum;
pub mod errors;
mod listing;
mod names;
mod objects;
mod policy;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

pub use access::{bucket_arn, object_arn};
pub use buckets::{check_expected_owner, create_bucket, delete_bucket, head_bucket, list_buckets, BucketSummary};
pub use checksum::{Algorithm, Checksum};
pub use listing::{list_objects_v2, Entry, ListRequest, Listing};
pub use names::valid_bucket_name;
pub use objects::{delete_object, get_object, head_object, put_object, NewObject, Stored};
pub use policy::{delete_bucket_policy, get_bucket_policy, put_bucket_policy};

use crate::{error::AwsError, state::World};

/// Every bucket, by name.
#[derive(Debug, Default)]
pub struct State {
    pub buckets: BTreeMap<String, Bucket>,
}

#[derive(Debug, Clone)]
pub struct Bucket {
    pub name: String,
    /// The owner's account.
    pub account: String,
    pub region: String,
    pub created: DateTime<Utc>,
    pub policy: Option<crate::state::iam::PolicyDocument>,
    pub objects: BTreeMap<String, Object>,
}

#[derive(Clone)]
pub struct Object {
    pub key: String,
    pub body: Vec<u8>,
    /// The MD5 digest in hex, in quotes, as S3 sends it.
    pub etag: String,
    pub last_modified: DateTime<Utc>,
    pub content_type: String,
    pub checksum: Checksum,
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Object")
            .field("key", &self.key)
            .field("size", &self.body.len())
            .field("etag", &self.etag)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

/// The bucket named `name`, or `NoSuchBucket`.
fn existing<'w>(world: &'w World, name: &str) -> Result<&'w Bucket, AwsError> {
    world.s3.buckets.get(name).ok_or_else(errors::no_such_bucket)
}

fn existing_mut<'w>(world: &'w mut World, name: &str) -> Result<&'w mut Bucket, AwsError> {
    world.s3.buckets.get_mut(name).ok_or_else(errors::no_such_bucket)
}
