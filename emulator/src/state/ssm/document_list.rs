//! `ListDocuments`: the documents the caller's account may see in the region (its own and
//! AWS's `AWS-RunShellScript`), filtered.
//!
//! Facts (botocore ssm 2014-11-06, `ListDocuments`, `DocumentKeyValuesFilter`): filters come as
//! `Filters` (`Key`/`Values`, up to 6) or the deprecated `DocumentFilterList` (`key`/`value`,
//! keys `Name`, `Owner`, `PlatformTypes`, `DocumentType`); `Owner` takes one value of `Amazon`,
//! `Private`, `Public`, `Self`, `ThirdParty`; `Name` is a name prefix; `tag:<key>` keeps
//! documents whose tag `key` has one of the values; several keys must all hold, several values of
//! a key any; the errors are `InvalidFilterKey` and `InvalidNextToken`. IAM authorizes
//! `ssm:ListDocuments` on `*` (the action has no resource type).
//!
//! Chosen, unconfirmed: documents listed by name; `Owner` `Private` is the account's own
//! documents (nothing is shared in the emulator), `Public` and `ThirdParty` match nothing, and
//! `All` everything; an `Owner` value outside these matches nothing; more than one `Owner` value
//! is `ValidationException` "Only one owner can be specified." (the model says only that one may
//! be given); `Name` and the legacy `Name` alike are prefixes; `TargetType` compares exactly.

use crate::{authz::RequestFacts, error::AwsError, state::World};

use super::{
    access::authorize,
    documents::{built_in, Document},
    errors, state,
};

/// One filter of a `ListDocuments` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentFilter {
    Owner(String),
    /// A name prefix.
    Name(Vec<String>),
    DocumentType(Vec<String>),
    PlatformTypes(Vec<String>),
    TargetType(Vec<String>),
    /// `tag:<key>`: the document's tag `key` has one of these values.
    Tag { key: String, values: Vec<String> },
}

impl DocumentFilter {
    /// A filter from its key and values; an unknown key is `InvalidFilterKey`.
    pub fn parse(key: &str, values: Vec<String>) -> Result<DocumentFilter, AwsError> {
        Ok(match key {
            "Owner" => match values.as_slice() {
                [one] => DocumentFilter::Owner(one.clone()),
                _ => return Err(errors::validation("Only one owner can be specified.")),
            },
            "Name" => DocumentFilter::Name(values),
            "DocumentType" => DocumentFilter::DocumentType(values),
            "PlatformTypes" => DocumentFilter::PlatformTypes(values),
            "TargetType" => DocumentFilter::TargetType(values),
            _ => match key.strip_prefix("tag:") {
                Some(tag) if !tag.is_empty() => DocumentFilter::Tag { key: tag.to_string(), values },
                _ => return Err(errors::invalid_filter_key()),
            },
        })
    }

    fn keeps(&self, document: &Document, account: &str) -> bool {
        let any = |values: &[String], value: &str| values.iter().any(|v| v == value);
        match self {
            DocumentFilter::Owner(owner) => match owner.as_str() {
                "Self" | "Private" => document.owner == account,
                "Amazon" => document.is_aws_owned(),
                "All" => true,
                _ => false,
            },
            DocumentFilter::Name(prefixes) => prefixes.iter().any(|p| document.name.starts_with(p.as_str())),
            DocumentFilter::DocumentType(types) => any(types, &document.document_type),
            DocumentFilter::PlatformTypes(platforms) => document.platform_types().iter().any(|p| any(platforms, p)),
            DocumentFilter::TargetType(targets) => document.target_type.as_deref().is_some_and(|t| any(targets, t)),
            DocumentFilter::Tag { key, values } => {
                document.tags.iter().any(|(k, v)| k == key && (values.is_empty() || any(values, v)))
            }
        }
    }
}

/// `ListDocuments`: IAM's `ssm:ListDocuments`, then every document the filters keep, by name.
pub fn list_documents(world: &mut World, facts: RequestFacts<'_>, filters: &[DocumentFilter]) -> Result<Vec<Document>, AwsError> {
    authorize(world, facts, "ssm:ListDocuments", "*")?;
    let account = facts.caller.principal.account();
    let mut documents: Vec<Document> =
        state(world, account, facts.region).map(|s| s.documents.values().cloned().collect()).unwrap_or_default();
    documents.push(built_in());
    documents.sort_by(|a, b| a.name.cmp(&b.name));
    documents.retain(|d| filters.iter().all(|f| f.keeps(d, account)));
    Ok(documents)
}
