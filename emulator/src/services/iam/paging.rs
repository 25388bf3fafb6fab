//! Pagination of the IAM list operations: `MaxItems` (1..=1000, default 100 as in IAM) and an
//! opaque `Marker`; a truncated page carries `IsTruncated=true` and the marker of the next one.

use base64::Engine as _;

use super::validate::Validation;
use crate::{error::AwsError, services::Call, value::Value};

const DEFAULT_MAX_ITEMS: i64 = 100;
const MARKER_PREFIX: &str = "wana-page:";

/// The page a list operation asked for: `MaxItems` and `Marker`, checked.
pub(super) struct PageRequest {
    pub(super) start: usize,
    pub(super) max_items: usize,
}

pub(super) fn page_request(call: &Call<'_>) -> Result<PageRequest, AwsError> {
    let max_items = call.optional_i64("MaxItems")?;
    let marker = call.optional("Marker");
    let mut validation = Validation::new();
    if let Some(max) = max_items {
        validation.range("maxItems", max, 1, 1000);
    }
    validation.finish()?;
    let start = match marker {
        None => 0,
        Some(marker) => decode_marker(marker).ok_or_else(|| AwsError::validation("Invalid Marker."))?,
    };
    let max_items = usize::try_from(max_items.unwrap_or(DEFAULT_MAX_ITEMS)).unwrap_or(1);
    Ok(PageRequest { start, max_items })
}

pub(super) fn encode_marker(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{MARKER_PREFIX}{offset}"))
}

pub(super) fn decode_marker(marker: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(marker).ok()?;
    String::from_utf8(bytes).ok()?.strip_prefix(MARKER_PREFIX)?.parse().ok()
}

/// One page of a list, and the marker of the next page if there is one.
pub(super) fn paginate<T>(items: Vec<T>, page: &PageRequest) -> (Vec<T>, Option<String>) {
    let total = items.len();
    let start = page.start.min(total);
    let end = start.saturating_add(page.max_items).min(total);
    let next = (end < total).then(|| encode_marker(end));
    (items.into_iter().skip(start).take(end - start).collect(), next)
}

/// `{member: [...], IsTruncated, Marker}`, the output of every IAM list operation.
pub(super) fn list_output(member: &str, items: Vec<Value>, next: Option<String>) -> Value {
    Value::structure()
        .with(member, Value::List(items))
        .with("IsTruncated", next.is_some())
        .with_opt("Marker", next)
}
