//! Tags of users, roles, instance profiles and customer managed policies, kept by the entity's
//! unique id (`IamState::tags`): keys are unique per entity, compared case-insensitively.

use super::{errors, IamState, Tag, TAGS_PER_ENTITY};
use crate::error::AwsError;

impl IamState {
    /// The tags of an entity, by unique id.
    pub fn tags_of(&self, id: &str) -> &[Tag] {
        self.tags.get(id).map(Vec::as_slice).unwrap_or(&[])
    }

    pub(super) fn set_tags(&mut self, id: &str, tags: Vec<Tag>) {
        if tags.is_empty() {
            self.tags.remove(id);
        } else {
            self.tags.insert(id.to_string(), tags);
        }
    }

    /// Adds or overwrites tags (TagUser, TagRole): a key already present takes the new value.
    fn merge_tags(&mut self, id: &str, tags: Vec<Tag>) -> Result<(), AwsError> {
        check_unique_tag_keys(&tags)?;
        let mut merged = self.tags_of(id).to_vec();
        for tag in tags {
            match merged.iter_mut().find(|t| t.key.eq_ignore_ascii_case(&tag.key)) {
                Some(existing) => *existing = tag,
                None => merged.push(tag),
            }
        }
        if merged.len() > TAGS_PER_ENTITY {
            return Err(errors::limit_exceeded(format!(
                "Cannot exceed quota for TagsPerEntity: {TAGS_PER_ENTITY}"
            )));
        }
        self.set_tags(id, merged);
        Ok(())
    }

    fn remove_tags(&mut self, id: &str, keys: &[String]) {
        let remaining: Vec<Tag> = self
            .tags_of(id)
            .iter()
            .filter(|t| !keys.iter().any(|k| k.eq_ignore_ascii_case(&t.key)))
            .cloned()
            .collect();
        self.set_tags(id, remaining);
    }

    // ---- users and roles ------------------------------------------------------------------

    pub fn tag_user(&mut self, name: &str, tags: Vec<Tag>) -> Result<(), AwsError> {
        let id = self.user(name)?.id.clone();
        self.merge_tags(&id, tags)
    }

    pub fn untag_user(&mut self, name: &str, keys: &[String]) -> Result<(), AwsError> {
        let id = self.user(name)?.id.clone();
        self.remove_tags(&id, keys);
        Ok(())
    }

    pub fn tag_role(&mut self, name: &str, tags: Vec<Tag>) -> Result<(), AwsError> {
        let id = self.role(name)?.id.clone();
        self.merge_tags(&id, tags)
    }

    pub fn untag_role(&mut self, name: &str, keys: &[String]) -> Result<(), AwsError> {
        let id = self.role(name)?.id.clone();
        self.remove_tags(&id, keys);
        Ok(())
    }
}

/// Duplicate tag keys, compared case-insensitively as IAM does.
pub(super) fn check_unique_tag_keys(tags: &[Tag]) -> Result<(), AwsError> {
    for (i, tag) in tags.iter().enumerate() {
        if tags[..i].iter().any(|t| t.key.eq_ignore_ascii_case(&tag.key)) {
            return Err(errors::invalid_input(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
    }
    Ok(())
}
