//! Reading members in any of the three protocols: lists, structures, booleans, numbers and
//! timestamps arrive typed (CBOR, JSON) or as text (query).

use chrono::{DateTime, Utc};

use crate::{error::AwsError, value::Value};

use super::Call;

pub(super) fn invalid_type(name: &str) -> AwsError {
    AwsError::validation(format!("Invalid value for parameter {name}"))
}

pub(super) fn string_list(call: &Call<'_>, name: &str) -> Result<Vec<String>, AwsError> {
    match call.params.get(name) {
        None => Ok(Vec::new()),
        // The query protocols spell an empty list `Name=`.
        Some(Value::Str(s)) if s.is_empty() => Ok(Vec::new()),
        Some(Value::List(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid_type(name))
            })
            .collect(),
        Some(_) => Err(invalid_type(name)),
    }
}

pub(super) fn structures<'a>(call: &Call<'a>, name: &str) -> Result<&'a [Value], AwsError> {
    match call.params.get(name) {
        None => Ok(&[]),
        Some(Value::Str(s)) if s.is_empty() => Ok(&[]),
        Some(Value::List(items))
            if items
                .iter()
                .all(|i| matches!(i, Value::Struct(_) | Value::Map(_))) =>
        {
            Ok(items)
        }
        Some(_) => Err(invalid_type(name)),
    }
}

pub(super) fn optional_bool(call: &Call<'_>, name: &str) -> Result<Option<bool>, AwsError> {
    match call.params.get(name) {
        None => Ok(None),
        Some(v) => v.as_bool().map(Some).ok_or_else(|| invalid_type(name)),
    }
}

pub(super) fn optional_f64(call: &Call<'_>, name: &str) -> Result<Option<f64>, AwsError> {
    match call.params.get(name) {
        None => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or_else(|| invalid_type(name)),
    }
}

/// A timestamp member: a CBOR timestamp, JSON epoch seconds, or query ISO 8601 text.
pub(super) fn optional_timestamp(call: &Call<'_>, name: &str) -> Result<Option<DateTime<Utc>>, AwsError> {
    let parsed = match call.params.get(name) {
        None => return Ok(None),
        Some(Value::Timestamp(t)) => Some(*t),
        Some(Value::Int(seconds)) => DateTime::from_timestamp(*seconds, 0),
        Some(Value::Float(seconds)) if seconds.is_finite() => {
            DateTime::from_timestamp_millis((seconds * 1000.0).round() as i64)
        }
        Some(Value::Str(text)) => DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                text.parse::<f64>()
                    .ok()
                    .and_then(|s| DateTime::from_timestamp_millis((s * 1000.0).round() as i64))
            }),
        Some(_) => None,
    };
    parsed.map(Some).ok_or_else(|| invalid_type(name))
}

pub(super) fn member_str<'a>(item: &'a Value, name: &str) -> Option<&'a str> {
    item.get(name).and_then(Value::as_str)
}
