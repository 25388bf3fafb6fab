//! Key tags: the checks CreateKey and TagResource share, TagResource, UntagResource and
//! ListResourceTags.
//!
//! Facts (botocore kms 2014-11-01; LocalStack's KMS snapshots recorded against AWS,
//! `tests/aws/services/kms/test_kms.snapshot.json`): a tag key is 1 to 128 characters and a value
//! 0 to 256, checked as `tags.N.member.tagKey` / `tagValue` (`ValidationException`); a key that
//! begins with `aws:` in any case is `TagException` "Tags beginning with aws: are reserved"; the
//! same key twice in one request is `TagException` "Duplicate tag keys"; more than 50 tags on a
//! key is `TagException` "Too many tags". ListResourceTags lists tags in the order they were
//! first set (a new value keeps its place); UntagResource of a key that is not there is no
//! error. The three operations are authorized by the key policy (`kms:TagResource`, ...) and
//! only in the key's own account; tagging a key pending deletion is `KMSInvalidStateException`,
//! listing its tags is not. ListResourceTags pages with `Limit` (1 to 50, default 50) and
//! `Marker`.
//!
//! Not emulated: tag conditions (`aws:RequestTag`, `aws:TagKeys`, `aws:ResourceTag`) in the
//! authorization of these operations.

use super::{
    access::{authorize_key, require_not_pending_deletion, KeyUse},
    addr::{existing_key, key_mut, resolve, Reach},
    errors,
};
use crate::{authz::RequestFacts, error::AwsError, state::World, validation::Violations};

/// The most tags a key holds.
pub const MAX_TAGS: usize = 50;

fn tag_exception(message: &str) -> AwsError {
    AwsError::new("TagException", 400, message)
}

/// The model's length bounds of a request's tags (the front end's validation, before the
/// request is authorized).
pub fn check_tag_lengths(tags: &[(String, String)]) -> Result<(), AwsError> {
    let mut violations = Violations::new();
    for (index, (key, value)) in tags.iter().enumerate() {
        violations.length(&format!("tags.{}.member.tagKey", index + 1), key, 1, 128);
        violations.length(&format!("tags.{}.member.tagValue", index + 1), value, 0, 256);
    }
    violations.message().map_or(Ok(()), |message| Err(errors::validation(message)))
}

/// KMS's own rules for a request's tags, checked once the request is authorized (chosen: AWS
/// does not document the order).
pub fn check_tag_rules(tags: &[(String, String)]) -> Result<(), AwsError> {
    if tags.iter().any(|(key, _)| key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:"))) {
        return Err(tag_exception("Tags beginning with aws: are reserved"));
    }
    let mut seen = std::collections::BTreeSet::new();
    if !tags.iter().all(|(key, _)| seen.insert(key.as_str())) {
        return Err(tag_exception("Duplicate tag keys"));
    }
    if tags.len() > MAX_TAGS {
        return Err(tag_exception("Too many tags"));
    }
    Ok(())
}

/// TagResource: sets each tag, a new value for a key keeping its place.
pub fn tag_resource(world: &mut World, facts: RequestFacts<'_>, key_ref: &str, tags: Vec<(String, String)>) -> Result<(), AwsError> {
    check_tag_lengths(&tags)?;
    let addr = resolve(world, &facts, key_ref, Reach::OwnAccount)?;
    authorize_key(world, facts, &addr, "kms:TagResource", &KeyUse::default())?;
    check_tag_rules(&tags)?;
    let key = key_mut(world, &addr)?;
    require_not_pending_deletion(key)?;
    let mut merged = key.tags.clone();
    for (name, value) in tags {
        match merged.iter_mut().find(|(k, _)| *k == name) {
            Some(existing) => existing.1 = value,
            None => merged.push((name, value)),
        }
    }
    if merged.len() > MAX_TAGS {
        return Err(tag_exception("Too many tags"));
    }
    key.tags = merged;
    Ok(())
}

/// UntagResource: removes the keys named; one that is not there is no error.
pub fn untag_resource(world: &mut World, facts: RequestFacts<'_>, key_ref: &str, tag_keys: &[String]) -> Result<(), AwsError> {
    let addr = resolve(world, &facts, key_ref, Reach::OwnAccount)?;
    authorize_key(world, facts, &addr, "kms:UntagResource", &KeyUse::default())?;
    let key = key_mut(world, &addr)?;
    require_not_pending_deletion(key)?;
    key.tags.retain(|(k, _)| !tag_keys.contains(k));
    Ok(())
}

/// ListResourceTags: the key's tags in the order they were set.
pub fn list_resource_tags(world: &mut World, facts: RequestFacts<'_>, key_ref: &str) -> Result<Vec<(String, String)>, AwsError> {
    let addr = resolve(world, &facts, key_ref, Reach::OwnAccount)?;
    authorize_key(world, facts, &addr, "kms:ListResourceTags", &KeyUse::default())?;
    Ok(existing_key(world, &addr)?.tags)
}
