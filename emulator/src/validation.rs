//! The one place that words AWS's front-end ("Coral") validation messages:
//!
//! `N validation error(s) detected: Value 'v' at 'member' failed to satisfy constraint: Member must …`
//!
//! joined with `; ` when a request breaks several constraints. Services collect violations with
//! [`Violations`] (or build a single one with [`one`]) and wrap the text in their own error code
//! (`ValidationError` for the query services, `ValidationException` for the JSON ones).

/// Coral names members in lower camel case: the first letter lowered (`OKActions` → `oKActions`).
pub fn coral_name(member: &str) -> String {
    let mut name = member.to_string();
    if let Some(first) = name.get_mut(0..1) {
        first.make_ascii_lowercase();
    }
    name
}

/// One violation: `Value 'v' at 'member' failed to satisfy constraint: <rule>`. A `None` value
/// is written `Value null`, as AWS writes an absent member.
pub fn violation(member: &str, value: Option<&str>, rule: &str) -> String {
    match value {
        Some(value) => format!("Value '{value}' at '{member}' failed to satisfy constraint: {rule}"),
        None => format!("Value null at '{member}' failed to satisfy constraint: {rule}"),
    }
}

/// A violation whose value AWS leaves out of the message (a sensitive or very long member, such
/// as KMS's `plaintext`): `Value at 'member' failed to satisfy constraint: <rule>`.
pub fn violation_without_value(member: &str, rule: &str) -> String {
    format!("Value at '{member}' failed to satisfy constraint: {rule}")
}

/// The whole message of a request that breaks one constraint.
pub fn one(member: &str, value: Option<&str>, rule: &str) -> String {
    summary(&[violation(member, value, rule)])
}

/// The message for an absent required member (`Member must not be null`).
pub fn null(member: &str) -> String {
    one(member, None, "Member must not be null")
}

/// `N validation error(s) detected: a; b`.
pub fn summary(violations: &[String]) -> String {
    let n = violations.len();
    let noun = if n == 1 { "error" } else { "errors" };
    format!("{n} validation {noun} detected: {}", violations.join("; "))
}

/// Violations gathered so that one answer names every one, as AWS does.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Violations(Vec<String>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `Value 'v' at 'member' failed to satisfy constraint: <rule>`.
    pub fn push(&mut self, member: &str, value: &str, rule: impl AsRef<str>) {
        self.0.push(violation(member, Some(value), rule.as_ref()));
    }

    /// Records an absent required member.
    pub fn push_null(&mut self, member: &str, rule: impl AsRef<str>) {
        self.0.push(violation(member, None, rule.as_ref()));
    }

    /// Records a violation whose value AWS leaves out (see [`violation_without_value`]).
    pub fn push_without_value(&mut self, member: &str, rule: impl AsRef<str>) {
        self.0.push(violation_without_value(member, rule.as_ref()));
    }

    /// Length bounds in characters: AWS reports the bound that was broken.
    pub fn length(&mut self, member: &str, value: &str, min: usize, max: usize) {
        let length = value.chars().count();
        if length < min {
            self.push(member, value, format!("Member must have length greater than or equal to {min}"));
        } else if length > max {
            self.push(member, value, format!("Member must have length less than or equal to {max}"));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `None` when nothing was broken, else the whole message.
    pub fn message(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| summary(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_violation_reads_as_aws_writes_it() {
        assert_eq!(
            one("durationSeconds", Some("10"), "Member must have value greater than or equal to 900"),
            "1 validation error detected: Value '10' at 'durationSeconds' failed to satisfy constraint: \
             Member must have value greater than or equal to 900"
        );
        assert_eq!(
            null("alarmName"),
            "1 validation error detected: Value null at 'alarmName' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn several_violations_are_counted_and_joined() {
        let mut v = Violations::new();
        assert_eq!(v.message(), None);
        v.length("userName", "", 1, 64);
        v.push("path", "x", "Member must satisfy regular expression pattern: (/.*/)|/");
        assert_eq!(
            v.message().unwrap(),
            "2 validation errors detected: Value '' at 'userName' failed to satisfy constraint: Member must have \
             length greater than or equal to 1; Value 'x' at 'path' failed to satisfy constraint: Member must \
             satisfy regular expression pattern: (/.*/)|/"
        );
        assert_eq!(coral_name("OKActions"), "oKActions");
    }
}
