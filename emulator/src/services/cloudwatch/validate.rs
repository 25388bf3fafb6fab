//! The CloudWatch model's constraints (service-2.json) and their Coral messages, worded by
//! `crate::validation`, plus the two semantic checks whose wording AWS gives otherwise.

use crate::{
    error::AwsError,
    validation::{self, coral_name, Violations},
    value::Value,
};

pub(super) const STATISTICS: &[&str] = &["SampleCount", "Average", "Sum", "Minimum", "Maximum"];
pub(super) const COMPARISON_OPERATORS: &[&str] = &[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
];
pub(super) const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];
/// In the order AWS lists them in its enum message (observed, LocalStack snapshot
/// `test_set_alarm_invalid_input`).
pub(super) const STATE_VALUES_AS_LISTED: &[&str] = &["INSUFFICIENT_DATA", "ALARM", "OK"];
pub(super) const HISTORY_ITEM_TYPES: &[&str] = &[
    "ConfigurationUpdate",
    "StateUpdate",
    "Action",
    "AlarmContributorStateUpdate",
    "AlarmContributorAction",
];
pub(super) const SCAN_BY: &[&str] = &["TimestampDescending", "TimestampAscending"];
pub(super) const ALARM_TYPES: &[&str] = &["CompositeAlarm", "MetricAlarm", "LogAlarm"];
pub(super) const TREAT_MISSING_DATA: &[&str] = &["breaching", "notBreaching", "ignore", "missing"];
pub(super) const LOW_SAMPLE_COUNT: &[&str] = &["evaluate", "ignore"];
/// `ResourceList` holds at most 5 actions; `Dimensions` at most 30; `AlarmNames` at most 100.
pub(super) const MAX_ACTIONS: usize = 5;
pub(super) const MAX_DIMENSIONS: usize = 30;
pub(super) const MAX_ALARM_NAMES: usize = 100;
pub(super) const DEFAULT_MAX_RECORDS: usize = 50;
pub(super) const MAX_RECORDS: i64 = 100;

/// The constraints CloudWatch checks besides lengths (which [`Violations::length`] words).
pub(super) trait Constraints {
    fn one_of(&mut self, member: &str, value: &str, allowed: &[&str]);
    fn at_least(&mut self, member: &str, value: i64, min: i64);
    fn at_most(&mut self, member: &str, value: i64, max: i64);
    fn list(&mut self, member: &str, items: &[String], max: usize);
    /// `Ok` when nothing was broken, else `ValidationError` naming every violation.
    fn finish(self) -> Result<(), AwsError>;
}

impl Constraints for Violations {
    fn one_of(&mut self, member: &str, value: &str, allowed: &[&str]) {
        if !allowed.contains(&value) {
            self.push(
                member,
                value,
                format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            );
        }
    }

    fn at_least(&mut self, member: &str, value: i64, min: i64) {
        if value < min {
            self.push(
                member,
                &value.to_string(),
                format!("Member must have value greater than or equal to {min}"),
            );
        }
    }

    fn at_most(&mut self, member: &str, value: i64, max: i64) {
        if value > max {
            self.push(
                member,
                &value.to_string(),
                format!("Member must have value less than or equal to {max}"),
            );
        }
    }

    fn list(&mut self, member: &str, items: &[String], max: usize) {
        if items.len() > max {
            self.push(
                member,
                &format!("[{}]", items.join(", ")),
                format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    fn finish(self) -> Result<(), AwsError> {
        match self.message() {
            None => Ok(()),
            Some(message) => Err(AwsError::validation(message)),
        }
    }
}

/// A semantic check that has no Coral form: `<Member> must not be null`, as AWS answers a missing
/// `MetricName` (observed: "MetricName must not be null", cfn-lint #771 and terraform-provider-aws
/// #11105). The other members are given the same wording.
pub(super) fn must_not_be_null(member: &str) -> AwsError {
    AwsError::validation(format!("{member} must not be null"))
}

pub(super) fn missing_nested(path: &str, item: &Value) -> AwsError {
    let absent = ["Name", "Value", "Key"]
        .into_iter()
        .find(|m| item.get(m).is_none())
        .unwrap_or("Value");
    AwsError::validation(validation::null(&format!("{path}.{}", coral_name(absent))))
}
