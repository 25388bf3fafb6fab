//! ListObjectsV2 (`s3:ListBucket` on the bucket, with `s3:prefix`, `s3:delimiter` and
//! `s3:max-keys`).
//!
//! Keys in UTF-8 byte order, those with the prefix only, after `start-after` or after the
//! continuation token's position; with a delimiter, the keys that hold it after the prefix roll
//! up into one common prefix each, which counts against `max-keys` like a key. `max-keys`
//! defaults to 1,000 and is capped there. The continuation token is opaque to clients: here it
//! is the base64 of the last entry returned (`K<key>` or `P<common prefix>`); one that does not
//! decode is `InvalidArgument` "The continuation token provided is incorrect".
//!
//! Choices where AWS could not be confirmed: `s3:prefix` is the empty string when the request
//! has no prefix (the documented policies list `""` to allow listing the root); `max-keys=0`
//! answers no entries and `IsTruncated` false.

use base64::Engine as _;

use super::{
    access::{authorize, bucket_arn, Owner},
    errors, existing, Object,
};
use crate::{authz::RequestFacts, error::AwsError, state::World};

const MAX_KEYS: i64 = 1000;

/// What ListObjectsV2 asks.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListRequest<'a> {
    pub prefix: Option<&'a str>,
    pub delimiter: Option<&'a str>,
    /// As sent: S3 validates it (`InvalidArgument`).
    pub max_keys: Option<&'a str>,
    pub continuation_token: Option<&'a str>,
    pub start_after: Option<&'a str>,
}

/// One entry of a listing.
#[derive(Debug, Clone)]
pub enum Entry {
    Object(Object),
    CommonPrefix(String),
}

#[derive(Debug, Clone)]
pub struct Listing {
    pub entries: Vec<Entry>,
    pub max_keys: i64,
    pub is_truncated: bool,
    pub next_continuation_token: Option<String>,
}

fn encode_token(entry: &Entry) -> String {
    let raw = match entry {
        Entry::Object(object) => format!("K{}", object.key),
        Entry::CommonPrefix(prefix) => format!("P{prefix}"),
    };
    base64::engine::general_purpose::STANDARD.encode(raw)
}

/// The position a token resumes after: a key, or a common prefix whose keys are all behind.
enum Position {
    After(String),
    AfterPrefix(String),
}

fn decode_token(token: &str) -> Result<Position, AwsError> {
    let incorrect = || errors::invalid_argument("The continuation token provided is incorrect");
    let raw = base64::engine::general_purpose::STANDARD.decode(token).map_err(|_| incorrect())?;
    let raw = String::from_utf8(raw).map_err(|_| incorrect())?;
    match raw.split_at_checked(1) {
        Some(("K", key)) => Ok(Position::After(key.to_string())),
        Some(("P", prefix)) if !prefix.is_empty() => Ok(Position::AfterPrefix(prefix.to_string())),
        _ => Err(incorrect()),
    }
}

fn max_keys(raw: Option<&str>) -> Result<i64, AwsError> {
    match raw {
        None => Ok(MAX_KEYS),
        Some(text) => match text.trim().parse::<i64>() {
            Ok(n) if n >= 0 => Ok(n.min(MAX_KEYS)),
            _ => Err(errors::invalid_argument("Provided max-keys not an integer or within integer range")),
        },
    }
}

pub fn list_objects_v2(world: &mut World, facts: RequestFacts<'_>, bucket: &str, request: ListRequest<'_>) -> Result<Listing, AwsError> {
    let owner = Owner::of(existing(world, bucket)?);
    let prefix = request.prefix.unwrap_or("");
    let delimiter = request.delimiter.filter(|d| !d.is_empty());
    let mut context = vec![("s3:prefix", prefix.to_string())];
    if let Some(delimiter) = delimiter {
        context.push(("s3:delimiter", delimiter.to_string()));
    }
    if let Some(max) = request.max_keys {
        context.push(("s3:max-keys", max.to_string()));
    }
    authorize(world, facts, &owner, "s3:ListBucket", &bucket_arn(bucket), context)?;
    let limit = max_keys(request.max_keys)?;
    let position = match (request.continuation_token, request.start_after) {
        (Some(token), _) => Some(decode_token(token)?),
        (None, Some(after)) if !after.is_empty() => Some(Position::After(after.to_string())),
        _ => None,
    };
    let objects = &existing(world, bucket)?.objects;
    let mut entries: Vec<Entry> = Vec::new();
    let mut is_truncated = false;
    for (key, object) in objects {
        let passed = match &position {
            None => true,
            Some(Position::After(after)) => key.as_str() > after.as_str(),
            Some(Position::AfterPrefix(done)) => key.as_str() > done.as_str() && !key.starts_with(done.as_str()),
        };
        if !passed || !key.starts_with(prefix) {
            continue;
        }
        let entry = match delimiter.and_then(|d| key[prefix.len()..].find(d).map(|at| prefix.len() + at + d.len())) {
            Some(end) => {
                let common = &key[..end];
                if matches!(entries.last(), Some(Entry::CommonPrefix(last)) if last == common) {
                    continue;
                }
                Entry::CommonPrefix(common.to_string())
            }
            None => Entry::Object(object.clone()),
        };
        if entries.len() as i64 >= limit {
            is_truncated = limit > 0;
            break;
        }
        entries.push(entry);
    }
    let next_continuation_token = if is_truncated { entries.last().map(encode_token) } else { None };
    Ok(Listing { entries, max_keys: limit, is_truncated, next_continuation_token })
}
