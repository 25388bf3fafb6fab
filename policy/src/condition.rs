//! The `Condition` element: operators, typed values and their evaluation.
//!
//! Semantics (IAM User Guide, "Condition operators" and "Single-valued vs. multivalued context
//! keys"):
//! * all conditions of a statement must hold (AND across operators and across keys); the values
//!   listed for one key are alternatives (OR);
//! * a negated operator (`StringNotEquals`, `NotIpAddress`, `ArnNotLike`, ...) holds when the
//!   request value matches none of the listed values;
//! * a key absent from the request makes a positive operator false and a negated operator
//!   **true** ("If the policy condition requires that the key is not matched, such as
//!   StringNotLike or ArnNotLike, and the right key is not present, the condition is true");
//!   `...IfExists` makes any operator true for an absent key; `Null` tests presence itself;
//! * `ForAllValues:` is true for an absent or empty key, otherwise every request value must
//!   satisfy the operator; `ForAnyValue:` is false for an absent or empty key (even with
//!   `IfExists`), otherwise at least one request value must satisfy it;
//! * without a set qualifier a multivalued key is treated as "some value matches" for positive
//!   operators and "no value matches" for negated ones (AWS asks for a qualifier there and does
//!   not document the unqualified case);
//! * policy variables are substituted only in string and ARN operators (never in Numeric, Date,
//!   Bool, Binary, IpAddress or Null). A value whose variable cannot be resolved matches nothing;
//!   in a negated operator it makes the whole condition false, because AWS says an unresolvable
//!   variable can make "the entire statement invalid" and a negated operator would otherwise
//!   turn the missing value into a match.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::context::RequestContext;
pub(crate) use crate::dates::parse_date;
use crate::matching::{arn_match_masked, glob_bytes, PatternShape};
use crate::variables::substitute;

/// The operator without its `ForAnyValue:`/`ForAllValues:` prefix and `IfExists` suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnNotEquals,
    ArnLike,
    ArnNotLike,
    Null,
}

const ALL_OPERATORS: [BaseOperator; 27] = [
    BaseOperator::StringEquals,
    BaseOperator::StringNotEquals,
    BaseOperator::StringEqualsIgnoreCase,
    BaseOperator::StringNotEqualsIgnoreCase,
    BaseOperator::StringLike,
    BaseOperator::StringNotLike,
    BaseOperator::NumericEquals,
    BaseOperator::NumericNotEquals,
    BaseOperator::NumericLessThan,
    BaseOperator::NumericLessThanEquals,
    BaseOperator::NumericGreaterThan,
    BaseOperator::NumericGreaterThanEquals,
    BaseOperator::DateEquals,
    BaseOperator::DateNotEquals,
    BaseOperator::DateLessThan,
    BaseOperator::DateLessThanEquals,
    BaseOperator::DateGreaterThan,
    BaseOperator::DateGreaterThanEquals,
    BaseOperator::Bool,
    BaseOperator::BinaryEquals,
    BaseOperator::IpAddress,
    BaseOperator::NotIpAddress,
    BaseOperator::ArnEquals,
    BaseOperator::ArnNotEquals,
    BaseOperator::ArnLike,
    BaseOperator::ArnNotLike,
    BaseOperator::Null,
];

impl BaseOperator {
    /// Operator names are case-sensitive in IAM.
    pub fn from_name(name: &str) -> Option<BaseOperator> {
        ALL_OPERATORS.iter().copied().find(|op| op.name() == name)
    }

    pub fn name(self) -> &'static str {
        use BaseOperator::*;
        match self {
            StringEquals => "StringEquals",
            StringNotEquals => "StringNotEquals",
            StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            StringLike => "StringLike",
            StringNotLike => "StringNotLike",
            NumericEquals => "NumericEquals",
            NumericNotEquals => "NumericNotEquals",
            NumericLessThan => "NumericLessThan",
            NumericLessThanEquals => "NumericLessThanEquals",
            NumericGreaterThan => "NumericGreaterThan",
            NumericGreaterThanEquals => "NumericGreaterThanEquals",
            DateEquals => "DateEquals",
            DateNotEquals => "DateNotEquals",
            DateLessThan => "DateLessThan",
            DateLessThanEquals => "DateLessThanEquals",
            DateGreaterThan => "DateGreaterThan",
            DateGreaterThanEquals => "DateGreaterThanEquals",
            Bool => "Bool",
            BinaryEquals => "BinaryEquals",
            IpAddress => "IpAddress",
            NotIpAddress => "NotIpAddress",
            ArnEquals => "ArnEquals",
            ArnNotEquals => "ArnNotEquals",
            ArnLike => "ArnLike",
            ArnNotLike => "ArnNotLike",
            Null => "Null",
        }
    }

    /// The positive operator a negated one complements; positive operators return themselves.
    pub fn positive(self) -> BaseOperator {
        use BaseOperator::*;
        match self {
            StringNotEquals => StringEquals,
            StringNotEqualsIgnoreCase => StringEqualsIgnoreCase,
            StringNotLike => StringLike,
            NumericNotEquals => NumericEquals,
            DateNotEquals => DateEquals,
            NotIpAddress => IpAddress,
            ArnNotEquals => ArnEquals,
            ArnNotLike => ArnLike,
            other => other,
        }
    }

    pub fn is_negated(self) -> bool {
        self.positive() != self
    }

    pub fn is_date(self) -> bool {
        use BaseOperator::*;
        matches!(
            self,
            DateEquals
                | DateNotEquals
                | DateLessThan
                | DateLessThanEquals
                | DateGreaterThan
                | DateGreaterThanEquals
        )
    }

    fn is_numeric(self) -> bool {
        use BaseOperator::*;
        matches!(
            self,
            NumericEquals
                | NumericNotEquals
                | NumericLessThan
                | NumericLessThanEquals
                | NumericGreaterThan
                | NumericGreaterThanEquals
        )
    }

    /// Only string and ARN operators accept policy variables in their values.
    fn accepts_variables(self) -> bool {
        use BaseOperator::*;
        matches!(
            self.positive(),
            StringEquals | StringEqualsIgnoreCase | StringLike | ArnEquals | ArnLike
        )
    }
}

/// `ForAnyValue:` / `ForAllValues:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

/// A full operator name such as `ForAnyValue:StringLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConditionOperator {
    pub base: BaseOperator,
    pub if_exists: bool,
    pub qualifier: Option<SetQualifier>,
}

impl ConditionOperator {
    pub fn new(base: BaseOperator) -> ConditionOperator {
        ConditionOperator {
            base,
            if_exists: false,
            qualifier: None,
        }
    }

    /// Parses an operator name as written in a policy; `None` for unknown names.
    pub fn parse(name: &str) -> Option<ConditionOperator> {
        let (qualifier, rest) = if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), rest)
        } else if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), rest)
        } else {
            (None, name)
        };
        let (if_exists, base_name) = match rest.strip_suffix("IfExists") {
            Some(base) => (true, base),
            None => (false, rest),
        };
        Some(ConditionOperator {
            base: BaseOperator::from_name(base_name)?,
            if_exists,
            qualifier,
        })
    }
}

impl std::fmt::Display for ConditionOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.qualifier {
            Some(SetQualifier::ForAnyValue) => f.write_str("ForAnyValue:")?,
            Some(SetQualifier::ForAllValues) => f.write_str("ForAllValues:")?,
            None => {}
        }
        f.write_str(self.base.name())?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

/// One value listed for a condition key, typed once at parse time.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionValue {
    raw: String,
    typed: TypedValue,
    has_variables: bool,
    /// Shape of the value used as a pattern (StringLike / Arn*), decided once.
    shape: PatternShape,
}

#[derive(Debug, Clone, PartialEq)]
enum TypedValue {
    Text,
    Number(f64),
    Date(DateTime<Utc>),
    Network(Cidr),
    /// The value does not parse for its operator's type; it matches nothing.
    Invalid,
}

impl ConditionValue {
    fn new(raw: String, operator: BaseOperator, variables_enabled: bool) -> ConditionValue {
        let typed = if operator.is_numeric() {
            parse_number(&raw).map_or(TypedValue::Invalid, TypedValue::Number)
        } else if operator.is_date() {
            parse_date(&raw).map_or(TypedValue::Invalid, TypedValue::Date)
        } else if operator.positive() == BaseOperator::IpAddress {
            Cidr::parse(&raw).map_or(TypedValue::Invalid, TypedValue::Network)
        } else {
            TypedValue::Text
        };
        let has_variables = variables_enabled && operator.accepts_variables() && raw.contains("${");
        let shape = if operator.positive() == BaseOperator::ArnLike
            || operator.positive() == BaseOperator::ArnEquals
        {
            PatternShape::of_arn(&raw)
        } else {
            PatternShape::of_glob(&raw)
        };
        ConditionValue {
            raw,
            typed,
            has_variables,
            shape,
        }
    }

    /// The value as written (JSON numbers and booleans in their JSON spelling).
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// False for values that do not parse for their operator (bad dates, numbers, CIDRs).
    pub fn is_well_typed(&self) -> bool {
        self.typed != TypedValue::Invalid
    }
}

/// One condition: an operator applied to one key with its listed values.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub operator: ConditionOperator,
    /// The key as written, e.g. `kms:ViaService`.
    pub key: String,
    key_lowered: String,
    pub values: Vec<ConditionValue>,
}

impl Condition {
    /// `variables_enabled` is true for documents with `"Version": "2012-10-17"`.
    pub fn new(
        operator: ConditionOperator,
        key: &str,
        values: Vec<String>,
        variables_enabled: bool,
    ) -> Condition {
        let values = values
            .into_iter()
            .map(|raw| ConditionValue::new(raw, operator.base, variables_enabled))
            .collect();
        Condition {
            operator,
            key: key.to_string(),
            // A key without a `vendor:` prefix is no request key AWS sets: it never matches.
            key_lowered: if key.contains(':') {
                key.to_lowercase()
            } else {
                String::new()
            },
            values,
        }
    }

    /// Whether the condition holds for the request.
    pub fn holds(&self, context: &RequestContext) -> bool {
        let present = context
            .values_lowered(&self.key_lowered)
            .filter(|values| !values.is_empty());
        let base = self.operator.base;
        if base == BaseOperator::Null {
            let absent = present.is_none();
            return self
                .values
                .iter()
                .any(|v| match v.raw.to_ascii_lowercase().as_str() {
                    "true" => absent,
                    "false" => !absent,
                    _ => false,
                });
        }
        let negated = base.is_negated();
        let positive = base.positive();
        let satisfied_by = |request_value: &str| {
            let outcome = self.any_value_matches(positive, request_value, context);
            if negated {
                !outcome.matched && !outcome.unresolvable
            } else {
                outcome.matched
            }
        };
        match (self.operator.qualifier, present) {
            (None, None) => self.operator.if_exists || negated,
            (None, Some(values)) => {
                if negated {
                    values.iter().all(|v| satisfied_by(v))
                } else {
                    values.iter().any(|v| satisfied_by(v))
                }
            }
            (Some(SetQualifier::ForAnyValue), None) => false,
            (Some(SetQualifier::ForAnyValue), Some(values)) => {
                values.iter().any(|v| satisfied_by(v))
            }
            (Some(SetQualifier::ForAllValues), None) => true,
            (Some(SetQualifier::ForAllValues), Some(values)) => {
                values.iter().all(|v| satisfied_by(v))
            }
        }
    }

    /// A short human description, e.g. `StringEquals kms:ViaService [ec2.us-east-1.amazonaws.com]`.
    pub fn describe(&self) -> String {
        let values: Vec<&str> = self.values.iter().map(|v| v.as_str()).collect();
        format!("{} {} [{}]", self.operator, self.key, values.join(", "))
    }

    fn any_value_matches(
        &self,
        positive: BaseOperator,
        request_value: &str,
        context: &RequestContext,
    ) -> MatchOutcome {
        let mut outcome = MatchOutcome {
            matched: false,
            unresolvable: false,
        };
        for policy_value in &self.values {
            if policy_value.has_variables {
                match substitute(&policy_value.raw, context) {
                    Some(substituted) => {
                        if compare_substituted(
                            positive,
                            request_value,
                            &substituted.text,
                            &substituted.literal,
                        ) {
                            outcome.matched = true;
                            return outcome;
                        }
                    }
                    None => outcome.unresolvable = true,
                }
            } else if compare(positive, request_value, policy_value) {
                outcome.matched = true;
                return outcome;
            }
        }
        outcome
    }
}

struct MatchOutcome {
    matched: bool,
    unresolvable: bool,
}

/// `positive` is never a negated operator nor `Null`.
fn compare(positive: BaseOperator, request_value: &str, policy_value: &ConditionValue) -> bool {
    use BaseOperator::*;
    let policy = policy_value.raw.as_str();
    match positive {
        StringEquals | BinaryEquals => request_value == policy,
        StringEqualsIgnoreCase => equal_ignoring_case(request_value, policy),
        StringLike => crate::matching::glob_with_shape(policy_value.shape, policy, request_value),
        ArnEquals | ArnLike => {
            crate::matching::arn_with_shape(policy_value.shape, policy, request_value)
        }
        Bool => request_value.eq_ignore_ascii_case(policy),
        NumericEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => match (&policy_value.typed, parse_number(request_value)) {
            (TypedValue::Number(limit), Some(value)) => {
                compare_ordered(positive, value.partial_cmp(limit))
            }
            _ => false,
        },
        DateEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => match (&policy_value.typed, parse_date(request_value)) {
            (TypedValue::Date(limit), Some(value)) => {
                compare_ordered(positive, Some(value.cmp(limit)))
            }
            _ => false,
        },
        IpAddress => match (&policy_value.typed, request_value.trim().parse::<IpAddr>()) {
            (TypedValue::Network(network), Ok(address)) => network.contains(address),
            _ => false,
        },
        // Negated operators and Null never reach here.
        _ => false,
    }
}

/// Comparison against a value produced by variable substitution; only string and ARN
/// operators have variables.
fn compare_substituted(
    positive: BaseOperator,
    request_value: &str,
    policy: &str,
    literal: &[bool],
) -> bool {
    use BaseOperator::*;
    match positive {
        StringEquals => request_value == policy,
        StringEqualsIgnoreCase => equal_ignoring_case(request_value, policy),
        StringLike => glob_bytes(policy.as_bytes(), Some(literal), request_value.as_bytes()),
        ArnEquals | ArnLike => {
            arn_match_masked(policy.as_bytes(), Some(literal), request_value.as_bytes())
        }
        _ => false,
    }
}

fn compare_ordered(operator: BaseOperator, ordering: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    use BaseOperator::*;
    let Some(ordering) = ordering else {
        return false;
    };
    match operator {
        NumericEquals | DateEquals => ordering == Equal,
        NumericLessThan | DateLessThan => ordering == Less,
        NumericLessThanEquals | DateLessThanEquals => ordering != Greater,
        NumericGreaterThan | DateGreaterThan => ordering == Greater,
        NumericGreaterThanEquals | DateGreaterThanEquals => ordering != Less,
        _ => false,
    }
}

fn equal_ignoring_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

fn parse_number(raw: &str) -> Option<f64> {
    let trimmed = raw.trim();
    // Rust also accepts "inf"/"NaN"; IAM numbers are plain decimals.
    if trimmed.is_empty()
        || !trimmed
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    trimmed.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// An IPv4 or IPv6 network in CIDR notation; a bare address is a /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(raw: &str) -> Option<Cidr> {
        let s = raw.trim();
        let (address, prefix) = match s.split_once('/') {
            Some((address, prefix)) => (
                address.parse::<IpAddr>().ok()?,
                Some(prefix.parse::<u8>().ok()?),
            ),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Cidr {
            network: address,
            prefix,
        })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::PrincipalInfo;
    use rstest::rstest;

    fn context(pairs: &[(&str, &str)]) -> RequestContext {
        let mut ctx = RequestContext::new(PrincipalInfo::root("111122223333"), "s3:GetObject", "*");
        for (key, values) in pairs {
            let values = if values.is_empty() {
                Vec::new()
            } else {
                values.split('|').map(str::to_string).collect()
            };
            ctx.set_values(key, values);
        }
        ctx
    }

    fn condition(operator: &str, key: &str, values: &[&str]) -> Condition {
        Condition::new(
            ConditionOperator::parse(operator).expect("known operator"),
            key,
            values.iter().map(|v| v.to_string()).collect(),
            true,
        )
    }

    #[rstest]
    #[case("StringEquals", "kms:ViaService", &["ec2.us-east-1.amazonaws.com"], &[("kms:viaservice", "ec2.us-east-1.amazonaws.com")], true)]
    #[case("StringEquals", "kms:ViaService", &["ec2.us-east-1.amazonaws.com"], &[("kms:ViaService", "ec2.us-west-2.amazonaws.com")], false)]
    #[case("StringEquals", "kms:ViaService", &["ec2.us-east-1.amazonaws.com"], &[], false)]
    #[case("StringEquals", "aws:username", &["bob", "alice"], &[("aws:username", "alice")], true)]
    #[case("StringEquals", "aws:username", &["bob"], &[("aws:username", "Bob")], false)]
    #[case("StringEqualsIgnoreCase", "aws:username", &["bob"], &[("aws:username", "BOB")], true)]
    #[case("StringNotEquals", "aws:username", &["bob", "alice"], &[("aws:username", "carol")], true)]
    #[case("StringNotEquals", "aws:username", &["bob", "alice"], &[("aws:username", "alice")], false)]
    #[case("StringNotEquals", "aws:username", &["bob"], &[], true)]
    #[case("StringNotEqualsIgnoreCase", "aws:username", &["bob"], &[("aws:username", "BOB")], false)]
    #[case("StringLike", "s3:prefix", &["home/*"], &[("s3:prefix", "home/bob/x")], true)]
    #[case("StringNotLike", "s3:prefix", &["home/*"], &[("s3:prefix", "tmp/x")], true)]
    #[case("StringEqualsIfExists", "aws:username", &["bob"], &[], true)]
    #[case("StringEqualsIfExists", "aws:username", &["bob"], &[("aws:username", "eve")], false)]
    #[case("Bool", "kms:GrantIsForAWSResource", &["true"], &[("kms:GrantIsForAWSResource", "true")], true)]
    #[case("Bool", "kms:GrantIsForAWSResource", &["true"], &[("kms:GrantIsForAWSResource", "false")], false)]
    #[case("Bool", "kms:GrantIsForAWSResource", &["true"], &[], false)]
    #[case("Bool", "aws:MultiFactorAuthPresent", &["false"], &[("aws:MultiFactorAuthPresent", "FALSE")], true)]
    #[case("BoolIfExists", "aws:MultiFactorAuthPresent", &["false"], &[], true)]
    #[case("Null", "aws:TokenIssueTime", &["true"], &[], true)]
    #[case("Null", "aws:TokenIssueTime", &["true"], &[("aws:TokenIssueTime", "2024-01-01T00:00:00Z")], false)]
    #[case("Null", "aws:TokenIssueTime", &["false"], &[("aws:TokenIssueTime", "2024-01-01T00:00:00Z")], true)]
    #[case("NumericLessThan", "s3:max-keys", &["10"], &[("s3:max-keys", "9")], true)]
    #[case("NumericLessThan", "s3:max-keys", &["10"], &[("s3:max-keys", "10")], false)]
    #[case("NumericLessThanEquals", "s3:max-keys", &["10"], &[("s3:max-keys", "10")], true)]
    #[case("NumericGreaterThan", "s3:max-keys", &["10"], &[("s3:max-keys", "10.5")], true)]
    #[case("NumericNotEquals", "s3:max-keys", &["10"], &[("s3:max-keys", "10")], false)]
    #[case("NumericEquals", "s3:max-keys", &["10"], &[("s3:max-keys", "ten")], false)]
    #[case("DateLessThan", "aws:CurrentTime", &["2030-01-01T00:00:00Z"], &[("aws:CurrentTime", "2024-06-01T12:00:00Z")], true)]
    #[case("DateLessThan", "aws:CurrentTime", &["2020-01-01"], &[("aws:CurrentTime", "2024-06-01T12:00:00Z")], false)]
    #[case("DateGreaterThan", "aws:EpochTime", &["1700000000"], &[("aws:EpochTime", "1800000000")], true)]
    #[case("DateGreaterThanEquals", "aws:CurrentTime", &["2024-06-01T14:00:00+02:00"], &[("aws:CurrentTime", "2024-06-01T12:00:00Z")], true)]
    #[case("DateEquals", "aws:CurrentTime", &["1717243200"], &[("aws:CurrentTime", "2024-06-01T12:00:00Z")], true)]
    #[case("IpAddress", "aws:SourceIp", &["203.0.113.0/24"], &[("aws:SourceIp", "203.0.113.7")], true)]
    #[case("IpAddress", "aws:SourceIp", &["203.0.113.0/24"], &[("aws:SourceIp", "198.51.100.7")], false)]
    #[case("IpAddress", "aws:SourceIp", &["2001:db8::/32"], &[("aws:SourceIp", "2001:db8:1::5")], true)]
    #[case("IpAddress", "aws:SourceIp", &["2001:db8::/32"], &[("aws:SourceIp", "203.0.113.7")], false)]
    #[case("IpAddress", "aws:SourceIp", &["0.0.0.0/0"], &[("aws:SourceIp", "8.8.8.8")], true)]
    #[case("NotIpAddress", "aws:SourceIp", &["203.0.113.0/24", "2001:db8::/32"], &[("aws:SourceIp", "198.51.100.7")], true)]
    #[case("NotIpAddress", "aws:SourceIp", &["203.0.113.0/24"], &[("aws:SourceIp", "203.0.113.9")], false)]
    #[case("ArnLike", "aws:SourceArn", &["arn:aws:sns:*:111122223333:*"], &[("aws:SourceArn", "arn:aws:sns:us-east-1:111122223333:topic")], true)]
    #[case("ArnEquals", "aws:SourceArn", &["arn:aws:sns:*:111122223333:*"], &[("aws:SourceArn", "arn:aws:sns:us-east-1:444455556666:topic")], false)]
    #[case("ArnNotLike", "aws:PrincipalArn", &["arn:aws:iam::*:role/Admin*"], &[("aws:PrincipalArn", "arn:aws:iam::111122223333:role/Dev")], true)]
    #[case("BinaryEquals", "k:bin", &["QmluYXJ5"], &[("k:bin", "QmluYXJ5")], true)]
    #[case("ForAnyValue:StringEquals", "aws:TagKeys", &["team"], &[("aws:TagKeys", "env|team")], true)]
    #[case("ForAnyValue:StringEquals", "aws:TagKeys", &["team"], &[("aws:TagKeys", "env")], false)]
    #[case("ForAnyValue:StringEquals", "aws:TagKeys", &["team"], &[], false)]
    #[case("ForAnyValue:StringEqualsIfExists", "aws:TagKeys", &["team"], &[], false)]
    #[case("ForAllValues:StringEquals", "aws:TagKeys", &["team", "env"], &[("aws:TagKeys", "env|team")], true)]
    #[case("ForAllValues:StringEquals", "aws:TagKeys", &["team", "env"], &[("aws:TagKeys", "env|cost")], false)]
    #[case("ForAllValues:StringEquals", "aws:TagKeys", &["team"], &[], true)]
    #[case("ForAllValues:StringEquals", "aws:TagKeys", &["team"], &[("aws:TagKeys", "")], true)]
    #[case("ForAllValues:StringNotEquals", "aws:TagKeys", &["secret"], &[("aws:TagKeys", "env|team")], true)]
    #[case("ForAnyValue:StringNotEquals", "aws:TagKeys", &["env"], &[("aws:TagKeys", "env|team")], true)]
    #[case("ForAnyValue:StringNotEquals", "aws:TagKeys", &["env"], &[("aws:TagKeys", "env")], false)]
    #[case("StringEquals", "aws:username", &["${aws:PrincipalTag/name}"], &[("aws:username", "bob"), ("aws:PrincipalTag/name", "bob")], true)]
    #[case("StringEquals", "aws:username", &["${aws:PrincipalTag/name}"], &[("aws:username", "bob")], false)]
    #[case("StringNotEquals", "aws:username", &["${aws:PrincipalTag/name}"], &[("aws:username", "bob")], false)]
    #[case("StringLike", "s3:prefix", &["${aws:username}/*"], &[("s3:prefix", "bob/x"), ("aws:username", "bob")], true)]
    #[case("StringLike", "s3:prefix", &["${aws:username}/*"], &[("s3:prefix", "bobby/x"), ("aws:username", "b*")], false)]
    fn condition_table(
        #[case] operator: &str,
        #[case] key: &str,
        #[case] values: &[&str],
        #[case] request: &[(&str, &str)],
        #[case] expected: bool,
    ) {
        let cond = condition(operator, key, values);
        assert_eq!(
            cond.holds(&context(request)),
            expected,
            "{}",
            cond.describe()
        );
    }

    #[test]
    fn operator_names_round_trip() {
        for name in [
            "ForAnyValue:StringLikeIfExists",
            "ForAllValues:ArnNotEquals",
            "NullIfExists",
            "Bool",
        ] {
            assert_eq!(
                ConditionOperator::parse(name)
                    .map(|op| op.to_string())
                    .as_deref(),
                Some(name)
            );
        }
        assert!(ConditionOperator::parse("StringEqual").is_none());
        assert!(ConditionOperator::parse("stringequals").is_none());
        assert!(ConditionOperator::parse("ForSomeValues:StringEquals").is_none());
    }

    #[rstest]
    #[case("2024-06-01", Some(1717200000))]
    #[case("2024-06-01T12:00:00Z", Some(1717243200))]
    #[case("2024-06-01T12:00:00.5Z", Some(1717243200))]
    #[case("2024-06-01T12:00Z", Some(1717243200))]
    #[case("2024-06-01T14:00:00+02:00", Some(1717243200))]
    #[case("1717243200", Some(1717243200))]
    #[case("not a date", None)]
    #[case("2024-13-01", None)]
    fn dates(#[case] raw: &str, #[case] epoch: Option<i64>) {
        assert_eq!(parse_date(raw).map(|d| d.timestamp()), epoch, "{raw}");
    }
}
