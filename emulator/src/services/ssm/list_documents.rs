//! `ListDocuments` on the wire (botocore ssm 2014-11-06): `Filters` (`Key`/`Values`)
//! or the deprecated `DocumentFilterList` (`key`/`value`, the key from the model's enum),
//! `MaxResults` 1 to 50 and `NextToken`; `DocumentIdentifiers` back, with `NextToken` while more
//! remain. The model (`crate::state::ssm::document_list`) authorizes and filters.
//!
//! Chosen, unconfirmed: `MaxResults` defaults to 50 (the model gives no default); both filter
//! lists in one request are `ValidationException` "DocumentFilterList and Filters cannot be used
//! in the same request." (as for `DescribeInstanceInformation`); a `Filters` entry without
//! `Key` is `InvalidFilterKey`. Not checked: the model's limit of 6 `Filters` (how Coral shows
//! a list of structures in its message is not known).

use crate::{
    error::AwsError,
    state::{
        ssm::{
            document_list::{list_documents as listed, DocumentFilter},
            documents::Document,
            errors,
        },
        World,
    },
    validation::Violations,
    value::Value,
};

use super::{check, list_of, one_of, page, range, string_of, strings_of, Call, Input};

/// The keys `DocumentFilterList` accepts (`DocumentFilterKey`).
const LEGACY_KEYS: [&str; 4] = ["Name", "Owner", "PlatformTypes", "DocumentType"];

/// A request's filters as (key, values), in the order given; a `Filters` entry may lack its key.
type GivenFilters = Vec<(Option<String>, Vec<String>)>;

fn filters(input: &Input<'_>, violations: &mut Violations) -> Result<GivenFilters, AwsError> {
    let legacy = input.list("DocumentFilterList")?;
    let current = input.list("Filters")?;
    let mut filters = Vec::new();
    if let Some(items) = legacy {
        if items.is_empty() {
            violations.push("documentFilterList", "[]", "Member must have length greater than or equal to 1");
        }
        for (index, item) in items.iter().enumerate() {
            let at = |member: &str| format!("documentFilterList.{}.member.{member}", index + 1);
            let key = string_of(item, "key")?;
            let value = string_of(item, "value")?;
            match key {
                None => violations.push_null(&at("key"), "Member must not be null"),
                Some(key) => one_of(violations, &at("key"), Some(key), &LEGACY_KEYS),
            }
            match value {
                None => violations.push_null(&at("value"), "Member must not be null"),
                Some(value) => violations.length(&at("value"), value, 1, usize::MAX),
            }
            if let (Some(key), Some(value)) = (key, value) {
                filters.push((Some(key.to_string()), vec![value.to_string()]));
            }
        }
    }
    if let Some(items) = current {
        for (index, item) in items.iter().enumerate() {
            let at = |member: &str| format!("filters.{}.member.{member}", index + 1);
            let key = string_of(item, "Key")?;
            if let Some(key) = key {
                violations.length(&at("key"), key, 1, 128);
            }
            let values = list_of(item, "Values")?.map(strings_of).transpose()?.unwrap_or_default();
            for (n, value) in values.iter().enumerate() {
                violations.length(&format!("{}.{}.member", at("values"), n + 1), value, 1, 256);
            }
            filters.push((key.map(str::to_string), values));
        }
    }
    if legacy.is_some() && current.is_some() {
        return Err(errors::validation("DocumentFilterList and Filters cannot be used in the same request."));
    }
    Ok(filters)
}

fn identifier(document: &Document) -> Value {
    let tags = document
        .tags
        .iter()
        .map(|(k, v)| Value::structure().with("Key", k.as_str()).with("Value", v.as_str()))
        .collect::<Value>();
    Value::structure()
        .with("Name", document.name.as_str())
        .with("CreatedDate", document.created)
        .with_opt("DisplayName", document.display_name.as_deref())
        .with("Owner", document.owner.as_str())
        .with_opt("VersionName", document.version_name.as_deref())
        .with("PlatformTypes", document.platform_types().into_iter().map(Value::from).collect::<Value>())
        .with("DocumentVersion", "1")
        .with("DocumentType", document.document_type.as_str())
        .with("SchemaVersion", document.schema_version.as_str())
        .with("DocumentFormat", document.format.as_str())
        .with_opt("TargetType", document.target_type.as_deref())
        .with("Tags", tags)
}

pub(super) fn list_documents(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let mut violations = Violations::new();
    let max_results = input.int("MaxResults")?;
    range(&mut violations, "maxResults", max_results, 1, 50);
    let filters = filters(input, &mut violations)?;
    check(&violations)?;
    let filters = filters
        .into_iter()
        .map(|(key, values)| match key {
            Some(key) => DocumentFilter::parse(&key, values),
            None => Err(errors::invalid_filter_key()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let documents = listed(world, call.facts(), &filters)?;
    let max_results = usize::try_from(max_results.unwrap_or(50)).unwrap_or(50);
    let (documents, next) = page(documents, input.string("NextToken")?, max_results)?;
    Ok(Value::structure()
        .with("DocumentIdentifiers", documents.iter().map(identifier).collect::<Value>())
        .with_opt("NextToken", next))
}
