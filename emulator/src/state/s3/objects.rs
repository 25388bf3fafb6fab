//! PutObject, GetObject, HeadObject and DeleteObject.
//!
//! PutObject verifies what the client declared about the bytes: `Content-MD5` (`InvalidDigest`
//! when it is not a base64 MD5 digest, `BadDigest` when it differs) and at most one flexible
//! checksum, sent as a header or as an aws-chunked trailer (`BadDigest` "The CRC32 you
//! specified did not match the calculated checksum."); `x-amz-sdk-checksum-algorithm` must name
//! a supported algorithm and come with its checksum (`InvalidRequest`). The messages are those
//! S3 gateways that mirror S3 use; the codes are S3's.
//!
//! GetObject and HeadObject are `s3:GetObject`. For a key that does not exist S3 answers
//! according to `s3:ListBucket` on the bucket: `NoSuchKey` (404) to a caller who may list the
//! bucket, `AccessDenied` (403) to one who may not, so that a caller cannot learn which keys
//! exist (S3 API reference, GetObject, "Permissions").

use super::{
    access::{authorize, bucket_arn, object_arn, Owner},
    checksum::{self, Algorithm, Checksum},
    errors, existing, existing_mut, Object,
};
use crate::{authz::RequestFacts, error::AwsError, state::World};

/// S3's longest key, in UTF-8 bytes.
const MAX_KEY_BYTES: usize = 1024;

/// What a PutObject request carries.
#[derive(Debug, Clone, Default)]
pub struct NewObject<'a> {
    pub body: Vec<u8>,
    pub content_type: Option<&'a str>,
    pub content_md5: Option<&'a str>,
    /// `x-amz-sdk-checksum-algorithm`.
    pub algorithm: Option<&'a str>,
    /// Every `x-amz-checksum-*` the request carried, header or trailer.
    pub checksums: Vec<(Algorithm, &'a str)>,
}

/// What PutObject answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub etag: String,
    pub checksum: Checksum,
}

/// The checksum to store: the one the client sent, verified, else CRC64NVME.
fn verified_checksum(new: &NewObject<'_>) -> Result<Checksum, AwsError> {
    let algorithm = match new.algorithm {
        None => None,
        Some(name) => Some(Algorithm::from_name(name).ok_or_else(|| {
            errors::invalid_request(
                "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
            )
        })?),
    };
    if new.checksums.len() > 1 {
        return Err(errors::invalid_request(
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
        ));
    }
    if let Some(algorithm) = algorithm {
        if !new.checksums.iter().any(|(a, _)| *a == algorithm) {
            return Err(errors::invalid_request(
                "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.",
            ));
        }
    }
    if let Some(md5) = new.content_md5 {
        let digest = checksum::decode_base64(md5).filter(|d| d.len() == 16).ok_or_else(errors::invalid_digest)?;
        if digest != checksum::md5(&new.body) {
            return Err(errors::bad_digest("The Content-MD5 you specified did not match what we received."));
        }
    }
    match new.checksums.first() {
        Some((algorithm, presented)) => {
            let computed = algorithm.compute(&new.body);
            if computed != presented.trim() {
                return Err(errors::bad_digest(format!(
                    "The {} you specified did not match the calculated checksum.",
                    algorithm.name()
                )));
            }
            Ok(Checksum { algorithm: *algorithm, value: computed })
        }
        None => Ok(Checksum { algorithm: Algorithm::Crc64Nvme, value: Algorithm::Crc64Nvme.compute(&new.body) }),
    }
}

/// PutObject (`s3:PutObject` on the object): stores the bytes, replacing any object of the key.
pub fn put_object(world: &mut World, facts: RequestFacts<'_>, bucket: &str, key: &str, new: NewObject<'_>) -> Result<Stored, AwsError> {
    let owner = Owner::of(existing(world, bucket)?);
    if key.len() > MAX_KEY_BYTES {
        return Err(errors::key_too_long());
    }
    authorize(world, facts, &owner, "s3:PutObject", &object_arn(bucket, key), Vec::new())?;
    let checksum = verified_checksum(&new)?;
    let etag = checksum::etag(&new.body);
    let object = Object {
        key: key.to_string(),
        etag: etag.clone(),
        last_modified: chrono::SubsecRound::trunc_subsecs(facts.now, 0),
        content_type: new.content_type.unwrap_or("binary/octet-stream").to_string(),
        checksum: checksum.clone(),
        body: new.body,
    };
    existing_mut(world, bucket)?.objects.insert(key.to_string(), object);
    Ok(Stored { etag, checksum })
}

/// The object, after `s3:GetObject`; a missing key is `NoSuchKey` or `AccessDenied` by
/// `s3:ListBucket`.
fn read(world: &mut World, facts: RequestFacts<'_>, bucket: &str, key: &str) -> Result<Object, AwsError> {
    let owner = Owner::of(existing(world, bucket)?);
    authorize(world, facts, &owner, "s3:GetObject", &object_arn(bucket, key), Vec::new())?;
    if let Some(object) = existing(world, bucket)?.objects.get(key) {
        return Ok(object.clone());
    }
    match authorize(world, facts, &owner, "s3:ListBucket", &bucket_arn(bucket), Vec::new()) {
        Ok(()) => Err(errors::no_such_key()),
        Err(_) => Err(errors::access_denied()),
    }
}

/// GetObject: the object with its bytes.
pub fn get_object(world: &mut World, facts: RequestFacts<'_>, bucket: &str, key: &str) -> Result<Object, AwsError> {
    read(world, facts, bucket, key)
}

/// HeadObject: what GetObject answers, asked with the same permission.
pub fn head_object(world: &mut World, facts: RequestFacts<'_>, bucket: &str, key: &str) -> Result<Object, AwsError> {
    read(world, facts, bucket, key)
}

/// DeleteObject (`s3:DeleteObject`): a key that does not exist is deleted all the same.
pub fn delete_object(world: &mut World, facts: RequestFacts<'_>, bucket: &str, key: &str) -> Result<(), AwsError> {
    let owner = Owner::of(existing(world, bucket)?);
    authorize(world, facts, &owner, "s3:DeleteObject", &object_arn(bucket, key), Vec::new())?;
    existing_mut(world, bucket)?.objects.remove(key);
    Ok(())
}
