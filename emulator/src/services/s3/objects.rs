//! PutObject, GetObject, HeadObject, DeleteObject and ListObjectsV2.
//!
//! Every object is encrypted at rest with SSE-S3 (S3's default since January 2023), so object
//! responses say `x-amz-server-side-encryption: AES256`. GetObject and HeadObject return the
//! object's checksum only when asked (`x-amz-checksum-mode: ENABLED`, which botocore sends),
//! with `x-amz-checksum-type: FULL_OBJECT`; PutObject always returns the checksum it stored.
//! Not emulated: ranges (`Range`, `partNumber`: the whole object is answered), conditional
//! requests, user metadata (`x-amz-meta-*`), versioning, storage classes other than STANDARD.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::{owner, Call};
use crate::{
    error::AwsError,
    state::{
        s3::{self, Algorithm, Checksum, Entry, ListRequest, NewObject, Object},
        World,
    },
    value::Value,
};

const FULL_OBJECT: &str = "FULL_OBJECT";
const SSE_S3: &str = "AES256";

fn with_checksum(output: Value, checksum: &Checksum) -> Value {
    output.with(checksum.algorithm.member(), checksum.value.clone()).with("ChecksumType", FULL_OBJECT)
}

pub(super) fn put_object(world: &mut World, call: &Call<'_>, bucket: &str) -> Result<Value, AwsError> {
    let key = call.required("Key")?;
    let body = match call.params.get("Body") {
        Some(Value::Blob(bytes)) => bytes.clone(),
        _ => Vec::new(),
    };
    let checksums =
        Algorithm::ALL.into_iter().filter_map(|a| call.optional(a.member()).map(|value| (a, value))).collect();
    let new = NewObject {
        body,
        content_type: call.optional("ContentType"),
        content_md5: call.optional("ContentMD5"),
        algorithm: call.optional("ChecksumAlgorithm"),
        checksums,
    };
    let stored = s3::put_object(world, call.facts(), bucket, key, new)?;
    let output = Value::structure().with("ETag", stored.etag).with("ServerSideEncryption", SSE_S3);
    Ok(with_checksum(output, &stored.checksum))
}

/// What GetObject and HeadObject say about an object in headers.
fn object_headers(call: &Call<'_>, object: &Object) -> Value {
    let output = Value::structure()
        .with("AcceptRanges", "bytes")
        .with("LastModified", object.last_modified)
        .with("ContentLength", object.body.len())
        .with("ETag", object.etag.clone())
        .with("ContentType", object.content_type.clone())
        .with("ServerSideEncryption", SSE_S3);
    if call.optional("ChecksumMode").is_some_and(|mode| mode.eq_ignore_ascii_case("ENABLED")) {
        with_checksum(output, &object.checksum)
    } else {
        output
    }
}

pub(super) fn get_object(world: &mut World, call: &Call<'_>, bucket: &str) -> Result<Value, AwsError> {
    let object = s3::get_object(world, call.facts(), bucket, call.required("Key")?)?;
    Ok(object_headers(call, &object).with("Body", Value::Blob(object.body)))
}

pub(super) fn head_object(world: &mut World, call: &Call<'_>, bucket: &str) -> Result<Value, AwsError> {
    let object = s3::head_object(world, call.facts(), bucket, call.required("Key")?)?;
    Ok(object_headers(call, &object))
}

pub(super) fn delete_object(world: &mut World, call: &Call<'_>, bucket: &str) -> Result<Value, AwsError> {
    s3::delete_object(world, call.facts(), bucket, call.required("Key")?)?;
    Ok(Value::structure())
}

/// What `encoding-type=url` leaves as is: unreserved characters and `/`.
const URL_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

/// ListObjectsV2. With `encoding-type=url` (which botocore always asks for, and decodes) the
/// keys, prefixes, delimiter and start-after are percent-encoded in the answer.
pub(super) fn list_objects_v2(world: &mut World, call: &Call<'_>, bucket: &str) -> Result<Value, AwsError> {
    let encoding = call.optional("EncodingType");
    if encoding.is_some_and(|e| e != "url") {
        return Err(s3::errors::invalid_argument("Invalid Encoding Method specified in Request"));
    }
    let encode = |text: &str| match encoding {
        Some(_) => utf8_percent_encode(text, URL_ENCODE).to_string(),
        None => text.to_string(),
    };
    let request = ListRequest {
        prefix: call.optional("Prefix"),
        delimiter: call.optional("Delimiter"),
        max_keys: call.optional("MaxKeys"),
        continuation_token: call.optional("ContinuationToken"),
        start_after: call.optional("StartAfter"),
    };
    let listing = s3::list_objects_v2(world, call.facts(), bucket, request)?;
    let fetch_owner = call.optional("FetchOwner").is_some_and(|f| f.eq_ignore_ascii_case("true"));
    let (mut contents, mut prefixes) = (Vec::new(), Vec::new());
    for entry in &listing.entries {
        match entry {
            Entry::Object(object) => {
                let mut item = Value::structure()
                    .with("Key", encode(&object.key))
                    .with("LastModified", object.last_modified)
                    .with("ETag", object.etag.clone())
                    .with("ChecksumAlgorithm", Value::List(vec![object.checksum.algorithm.name().into()]))
                    .with("ChecksumType", FULL_OBJECT)
                    .with("Size", object.body.len());
                if fetch_owner {
                    let account = world.s3.buckets.get(bucket).map(|b| b.account.clone()).unwrap_or_default();
                    item = item.with("Owner", owner(&account));
                }
                contents.push(item.with("StorageClass", "STANDARD"));
            }
            Entry::CommonPrefix(prefix) => prefixes.push(Value::structure().with("Prefix", encode(prefix))),
        }
    }
    let result = Value::structure()
        .with("Name", bucket)
        .with("Prefix", encode(request.prefix.unwrap_or("")))
        .with_opt("Delimiter", request.delimiter.map(encode))
        .with("MaxKeys", listing.max_keys)
        .with_opt("EncodingType", encoding)
        .with("KeyCount", listing.entries.len())
        .with("IsTruncated", listing.is_truncated)
        .with_opt("ContinuationToken", request.continuation_token)
        .with_opt("NextContinuationToken", listing.next_continuation_token)
        .with_opt("StartAfter", request.start_after.map(encode))
        .with("Contents", Value::List(contents))
        .with("CommonPrefixes", Value::List(prefixes));
    Ok(Value::structure().with("ListBucketResult", result))
}
