//! IAM's input constraints, with the wording of its `ValidationError`: the names, paths,
//! documents, tags, ARNs and ranges of the IAM model, checked on the wire before a request is
//! authorized and before `crate::state::iam` sees it. The messages are built by
//! [`crate::validation`].

use crate::{
    error::AwsError,
    state::iam::{Tag, TAGS_PER_ENTITY},
    validation::Violations,
};

/// The model's patterns, as IAM quotes them in its messages.
pub mod patterns {
    pub const NAME: &str = r"[\w+=,.@-]+";
    pub const PATH: &str = r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)";
    pub const PATH_PREFIX: &str = r"\u002F[\u0021-\u007F]*";
    pub const POLICY_PATH: &str = r"((/[A-Za-z0-9\.,\+@=_-]+)*)/";
    pub const DOCUMENT: &str = r"[\u0009\u000A\u000D\u0020-\u00FF]+";
    pub const ROLE_DESCRIPTION: &str = r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*";
    pub const ACCESS_KEY_ID: &str = r"[\w]+";
    pub const VERSION_ID: &str = r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?";
    pub const TAG_KEY: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+";
    pub const TAG_VALUE: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*";
}

/// Collects every constraint a request breaks, then answers them in one `ValidationError`:
/// `N validation error(s) detected: Value 'v' at 'member' failed to satisfy constraint: ...`,
/// joined with `; ` as AWS's front end does (worded by [`Violations`]).
#[derive(Debug, Default)]
pub struct Validation {
    violations: Violations,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_name_char(c: char) -> bool {
    is_word_char(c) || "+=,.@-".contains(c)
}

fn is_tag_char(c: char) -> bool {
    c.is_alphabetic() || c.is_numeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

impl Validation {
    pub fn new() -> Self {
        Self::default()
    }

    fn fail(&mut self, value: &str, member: &str, constraint: &str) {
        self.violations.push(member, value, format!("Member must {constraint}"));
    }

    fn length(&mut self, member: &str, value: &str, min: usize, max: usize) {
        self.violations.length(member, value, min, max);
    }

    fn pattern(&mut self, member: &str, value: &str, matches: bool, pattern: &str) {
        if !matches {
            self.fail(value, member, &format!("satisfy regular expression pattern: {pattern}"));
        }
    }

    /// An account alias: 3 to 63 lowercase letters, digits and dashes, neither first nor last,
    /// never two in a row (`^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$`).
    pub fn account_alias(&mut self, member: &str, value: &str) -> &mut Self {
        self.length(member, value, 3, 63);
        let bytes = value.as_bytes();
        let ok = bytes.len() >= 2
            && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
            && bytes[0] != b'-'
            && bytes[bytes.len() - 1] != b'-'
            && !value.contains("--");
        self.pattern(member, value, ok, "^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$");
        self
    }

    /// User, role, instance profile and policy names: `[\w+=,.@-]+` of `1..=max` characters.
    pub fn name(&mut self, member: &str, value: &str, max: usize) -> &mut Self {
        self.length(member, value, 1, max);
        let ok = !value.is_empty() && value.chars().all(is_name_char);
        self.pattern(member, value, ok, patterns::NAME);
        self
    }

    /// Entity paths: `/` or `/…/` with printable ASCII between.
    pub fn path(&mut self, member: &str, value: &str) -> &mut Self {
        self.length(member, value, 1, 512);
        let printable = |c: char| ('\u{21}'..='\u{7e}').contains(&c);
        let ok = value == "/"
            || (value.len() >= 3
                && value.starts_with('/')
                && value.ends_with('/')
                && value.chars().all(printable));
        self.pattern(member, value, ok, patterns::PATH);
        self
    }

    /// `PathPrefix` of ListUsers, ListRoles and ListInstanceProfiles.
    pub fn path_prefix(&mut self, member: &str, value: &str) -> &mut Self {
        self.length(member, value, 1, 512);
        let ok = value.starts_with('/') && value.chars().all(|c| ('\u{21}'..='\u{7f}').contains(&c));
        self.pattern(member, value, ok, patterns::PATH_PREFIX);
        self
    }

    /// Paths of managed policies (`Path` of CreatePolicy, `PathPrefix` of ListPolicies).
    pub fn policy_path(&mut self, member: &str, value: &str) -> &mut Self {
        self.length(member, value, 1, 512);
        let segment_char = |c: char| c.is_ascii_alphanumeric() || ".,+@=_-".contains(c);
        let ok = value.ends_with('/')
            && value.starts_with('/')
            && value[..value.len() - 1].split('/').skip(1).all(|s| !s.is_empty() && s.chars().all(segment_char));
        self.pattern(member, value, ok, patterns::POLICY_PATH);
        self
    }

    /// Policy documents: at most 131072 characters of tab, newline, carriage return and
    /// U+0020..U+00FF.
    pub fn document(&mut self, member: &str, value: &str) -> &mut Self {
        self.length(member, value, 1, 131_072);
        let ok = !value.is_empty()
            && value.chars().all(|c| matches!(c, '\t' | '\n' | '\r') || ('\u{20}'..='\u{ff}').contains(&c));
        self.pattern(member, value, ok, patterns::DOCUMENT);
        self
    }

    /// Role descriptions.
    pub fn role_description(&mut self, member: &str, value: &str) -> &mut Self {
        self.length(member, value, 0, 1000);
        let ok = value.chars().all(|c| {
            matches!(c, '\t' | '\n' | '\r') || ('\u{20}'..='\u{7e}').contains(&c) || ('\u{a1}'..='\u{ff}').contains(&c)
        });
        self.pattern(member, value, ok, patterns::ROLE_DESCRIPTION);
        self
    }

    /// Policy descriptions: up to 1000 characters, no pattern.
    pub fn policy_description(&mut self, member: &str, value: &str) -> &mut Self {
        self.length(member, value, 0, 1000);
        self
    }

    /// An integer in `min..=max`.
    pub fn range(&mut self, member: &str, value: i64, min: i64, max: i64) -> &mut Self {
        let text = value.to_string();
        if value < min {
            self.fail(&text, member, &format!("have value greater than or equal to {min}"));
        }
        if value > max {
            self.fail(&text, member, &format!("have value less than or equal to {max}"));
        }
        self
    }

    /// An access key id: `[\w]+`, 16..=128 characters.
    pub fn access_key_id(&mut self, member: &str, value: &str) -> &mut Self {
        self.length(member, value, 16, 128);
        let ok = !value.is_empty() && value.chars().all(is_word_char);
        self.pattern(member, value, ok, patterns::ACCESS_KEY_ID);
        self
    }

    /// A policy ARN: 20..=2048 characters.
    pub fn arn(&mut self, member: &str, value: &str) -> &mut Self {
        self.length(member, value, 20, 2048);
        self
    }

    pub fn version_id(&mut self, member: &str, value: &str) -> &mut Self {
        let ok = is_version_id(value);
        self.pattern(member, value, ok, patterns::VERSION_ID);
        self
    }

    /// A value of a closed set, e.g. an access key `Status`.
    pub fn one_of(&mut self, member: &str, value: &str, allowed: &[&str]) -> &mut Self {
        if !allowed.contains(&value) {
            let set = allowed.join(", ");
            self.fail(value, member, &format!("satisfy enum value set: [{set}]"));
        }
        self
    }

    /// Tag lists: at most 50 tags, keys and values of the tag alphabet.
    pub fn tags(&mut self, member: &str, tags: &[Tag]) -> &mut Self {
        for (i, tag) in tags.iter().enumerate() {
            let key_member = format!("{member}.{}.member.key", i + 1);
            self.length(&key_member, &tag.key, 1, 128);
            let ok = !tag.key.is_empty() && tag.key.chars().all(is_tag_char);
            self.pattern(&key_member, &tag.key, ok, patterns::TAG_KEY);
            let value_member = format!("{member}.{}.member.value", i + 1);
            self.length(&value_member, &tag.value, 0, 256);
            let ok = tag.value.chars().all(is_tag_char);
            self.pattern(&value_member, &tag.value, ok, patterns::TAG_VALUE);
        }
        if tags.len() > TAGS_PER_ENTITY {
            self.violations.push(
                member,
                &tag_list_text(tags),
                format!("Member must have length less than or equal to {TAGS_PER_ENTITY}"),
            );
        }
        self
    }

    /// Tag key lists of the Untag operations.
    pub fn tag_keys(&mut self, member: &str, keys: &[String]) -> &mut Self {
        for (i, key) in keys.iter().enumerate() {
            let key_member = format!("{member}.{}.member", i + 1);
            self.length(&key_member, key, 1, 128);
            let ok = !key.is_empty() && key.chars().all(is_tag_char);
            self.pattern(&key_member, key, ok, patterns::TAG_KEY);
        }
        self
    }

    /// `ValidationError` naming every broken constraint, if any; the collection starts afresh.
    pub fn finish(&mut self) -> Result<(), AwsError> {
        match std::mem::take(&mut self.violations).message() {
            None => Ok(()),
            Some(message) => Err(AwsError::validation(message)),
        }
    }
}

fn tag_list_text(tags: &[Tag]) -> String {
    let items: Vec<String> = tags.iter().map(|t| format!("{}={}", t.key, t.value)).collect();
    format!("[{}]", items.join(", "))
}

fn is_version_id(value: &str) -> bool {
    let Some(rest) = value.strip_prefix('v') else {
        return false;
    };
    let (number, suffix) = match rest.split_once('.') {
        Some((n, s)) => (n, Some(s)),
        None => (rest, None),
    };
    let number_ok = number.starts_with(|c: char| ('1'..='9').contains(&c)) && number.chars().all(|c| c.is_ascii_digit());
    number_ok && suffix.is_none_or(|s| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}
