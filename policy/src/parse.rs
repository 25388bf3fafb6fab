//! JSON policy documents → [`Policy`], with IAM's validation and IAM's error texts.
//!
//! # Error texts and where they come from
//!
//! Confirmed as AWS's own wording (IAM `MalformedPolicyDocument` messages quoted in public bug
//! reports, and matched by moto's IAM validator, which was written against real IAM):
//! * `Syntax errors in policy.` — invalid JSON; a document that is not an object; unknown
//!   top-level or statement elements; a `Version` other than `2012-10-17`/`2008-10-17`;
//!   a missing or empty `Statement`; a missing or non-`Allow`/`Deny` `Effect`; both `Action` and
//!   `NotAction` (likewise `Resource`/`NotResource`, `Principal`/`NotPrincipal`); wrong JSON
//!   types; an unknown condition operator (IAM answers this generic text, not a specific one).
//! * `The policy failed legacy parsing` — `Effect` with the right letters in the wrong case
//!   (`"allow"`), a date condition value that does not parse, a resource ARN with `::` but fewer
//!   than six segments or with an empty service segment.
//! * `Policy document should not specify a principal.` — identity policy with `Principal`.
//! * `Missing required field Principal` — resource-based statement without `Principal` (S3's
//!   text for bucket policies).
//! * `Has prohibited field Resource` — trust policy statement with `Resource` (CreateRole).
//! * `Statement IDs (SID) in a single policy must be unique.`
//! * `Policy statement must contain actions.` / `Policy statement must contain resources.`
//! * `Resource X must be in ARN format or "*".`, `Partition "p" is not valid for resource "..."`,
//!   `Resource vendor must be fully qualified and cannot contain regexes.`,
//!   `IAM resource X cannot contain region information.`,
//!   `Resource X can not contain region information.` (S3)
//! * `Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.`,
//!   `Actions/Condition can contain only one colon.`, `Vendor X is not valid` (actions only:
//!   condition keys without a vendor are accepted and never match, as IAM stores them)
//! * `Policy document must be version 2012-10-17 or greater.` (CreatePolicy; see
//!   [`Policy::parse_managed`]): reported right after the syntax checks, before legacy parsing
//!   and every later check, the order LocalStack's snapshot-tested validator follows.
//! * `IAM resource path must either be "*", root, or start with user/, federated-user/, role/,
//!   ...` — an IAM ARN whose resource part is none of those (recorded AWS response to
//!   `create-policy-version` with `arn:aws:iam::*:*/cdk-hnb659fds-*`, quoted in a public
//!   repository; the full list is LocalStack's).
//! * Trust policies (CreateRole): `This policy contains invalid Json` for text that is not JSON,
//!   `AssumeRole policy may only specify STS AssumeRole actions.` for any other action.
//! * `Resource X can not contain region information.` is S3's text for bucket and object ARNs
//!   only: access points (`arn:aws:s3:<region>:<account>:accesspoint/<name>`) are regional.
//!
//! Choices where AWS could not be confirmed:
//! * A bad `Version` value gives `Syntax errors in policy.` (moto and another IAM emulator agree;
//!   no AWS statement found), not `The policy failed legacy parsing`.
//! * "Invalid Condition type : X" was not found anywhere; unknown operators use the generic
//!   syntax text, with the operator in [`PolicyError::detail`]. Like IAM (per moto), an unknown
//!   operator with an empty `{}` body is accepted and ignored.
//! * Condition values may be JSON strings, numbers or booleans (or lists of them): key policies
//!   and bucket policies written with `"Bool": {"kms:GrantIsForAWSResource": true}` are common
//!   and accepted by AWS.
//! * The order of checks follows moto's: syntax, legacy parsing, principal/resource presence
//!   rules, duplicate Sids, missing actions, missing resources, resource formats, vendors.
//! * An explicitly empty `Resource: []` is refused in every kind of policy; only an absent
//!   resource block is allowed in resource-based policies.
//! * Only `*` is accepted as a bare-string `Principal`; principal ARNs are not checked for
//!   existence here (that needs the emulator's state).
//! * `Allow` with `NotPrincipal` is accepted (IAM's documentation calls it "not supported",
//!   without saying that it is refused); evaluation never lets it grant anything to a
//!   principal it names (see `evaluate/principals.rs`).
//! * Trust policies accept exactly `sts:AssumeRole`, `sts:AssumeRoleWithSAML`,
//!   `sts:AssumeRoleWithWebIdentity`, `sts:TagSession`, `sts:SetSourceIdentity` and
//!   `sts:SetContext`, in any case. `*` and `sts:*` are refused, as two independent IAM
//!   emulators and a CDK preflight rule say; AWS does not document the list.

use serde_json::{Map, Value};

use crate::condition::{Condition, ConditionOperator};
use crate::error::PolicyError;
use crate::formats::{check_action, check_resource_legacy, is_assume_role_action, resource_format_error};
use crate::model::{
    ActionBlock, ActionPattern, AwsPrincipal, Effect, Policy, PolicyKind, PrincipalBlock,
    PrincipalSet, ResourceBlock, ResourcePattern, Statement, VERSION_2008_10_17,
    VERSION_2012_10_17,
};

/// The grammar to validate against: identity, resource, or trust (a resource policy whose
/// statements may not name resources).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grammar {
    Identity,
    /// An identity policy that must be in the 2012-10-17 language (managed policies).
    Managed,
    Resource,
    Trust,
}

impl Policy {
    /// Parses and validates a policy document.
    pub fn parse(json: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
        let grammar = match kind {
            PolicyKind::Identity => Grammar::Identity,
            PolicyKind::Resource => Grammar::Resource,
        };
        parse_document(json, grammar)
    }

    /// Parses a managed policy (CreatePolicy, CreatePolicyVersion): an identity-based policy
    /// that must say `"Version": "2012-10-17"`. A missing or legacy `Version` is reported right
    /// after the syntax checks, before any other fault, as IAM does.
    pub fn parse_managed(json: &str) -> Result<Policy, PolicyError> {
        parse_document(json, Grammar::Managed)
    }

    /// Parses a role trust policy (`AssumeRolePolicyDocument`): a resource-based policy whose
    /// statements must not have `Resource`/`NotResource` (`Has prohibited field Resource`) and
    /// may name only STS's assume-role actions. Text that is not JSON is refused with
    /// `This policy contains invalid Json`.
    pub fn parse_trust_policy(json: &str) -> Result<Policy, PolicyError> {
        parse_document(json, Grammar::Trust)
    }
}

const TOP_LEVEL_ELEMENTS: [&str; 3] = ["Version", "Id", "Statement"];
const STATEMENT_ELEMENTS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];
const PRINCIPAL_TYPES: [&str; 4] = ["AWS", "Service", "Federated", "CanonicalUser"];

/// A statement after the syntax pass: structure checked, nothing interpreted yet.
struct RawStatement<'a> {
    sid: Option<&'a str>,
    effect: &'a str,
    principal: Option<(bool, &'a Value)>,
    action: Option<(bool, Vec<&'a str>)>,
    resource: Option<(bool, Vec<&'a str>)>,
    /// Unknown operators with empty bodies are already dropped.
    conditions: Vec<RawCondition<'a>>,
}

/// (operator, key, values as text).
type RawCondition<'a> = (ConditionOperator, &'a str, Vec<String>);

fn syntax(detail: impl Into<String>) -> PolicyError {
    PolicyError::Syntax {
        detail: detail.into(),
    }
}

fn legacy(detail: impl Into<String>) -> PolicyError {
    PolicyError::LegacyParsing {
        detail: detail.into(),
    }
}

fn parse_document(json: &str, grammar: Grammar) -> Result<Policy, PolicyError> {
    let document: Value = serde_json::from_str(json).map_err(|e| {
        let detail = format!("invalid JSON: {e}");
        if grammar == Grammar::Trust {
            PolicyError::InvalidJson { detail }
        } else {
            syntax(detail)
        }
    })?;
    let Value::Object(top) = &document else {
        return Err(syntax("the document is not a JSON object"));
    };
    for key in top.keys() {
        if !TOP_LEVEL_ELEMENTS.contains(&key.as_str()) {
            return Err(syntax(format!("unknown top-level element '{key}'")));
        }
    }
    let version = match top.get("Version") {
        None => None,
        Some(Value::String(v)) if v == VERSION_2012_10_17 || v == VERSION_2008_10_17 => {
            Some(v.clone())
        }
        Some(other) => {
            return Err(syntax(format!(
                "Version {other} is neither \"2012-10-17\" nor \"2008-10-17\""
            )))
        }
    };
    let id = match top.get("Id") {
        None => None,
        Some(Value::String(v)) => Some(v.clone()),
        Some(_) => return Err(syntax("Id must be a string")),
    };
    let statement_values: Vec<&Value> = match top.get("Statement") {
        None => return Err(syntax("missing Statement")),
        Some(Value::Object(_)) => vec![&top["Statement"]],
        Some(Value::Array(items)) if !items.is_empty() => items.iter().collect(),
        Some(Value::Array(_)) => return Err(syntax("Statement is an empty list")),
        Some(_) => return Err(syntax("Statement must be an object or a list of objects")),
    };
    let raw: Vec<RawStatement<'_>> = statement_values
        .iter()
        .enumerate()
        .map(|(i, v)| raw_statement(i, v))
        .collect::<Result<_, _>>()?;
    if grammar == Grammar::Managed && version.as_deref() != Some(VERSION_2012_10_17) {
        return Err(PolicyError::VersionTooOld { version });
    }

    // Legacy parsing, then the presence rules of each grammar.
    let mut first_resource_format_error: Option<PolicyError> = None;
    for (i, statement) in raw.iter().enumerate() {
        if statement.effect != "Allow" && statement.effect != "Deny" {
            return Err(legacy(format!(
                "statement #{i}: Effect '{}' is not spelled Allow or Deny",
                statement.effect
            )));
        }
        for (operator, key, values) in &statement.conditions {
            if operator.base.is_date() {
                if let Some(bad) = values
                    .iter()
                    .find(|v| crate::condition::parse_date(v).is_none())
                {
                    return Err(legacy(format!(
                        "statement #{i}: {operator} {key}: '{bad}' is not a date"
                    )));
                }
            }
        }
        if let Some((_, resources)) = &statement.resource {
            for resource in resources {
                match resource_format_error(resource) {
                    Some(error) => {
                        first_resource_format_error.get_or_insert(error);
                    }
                    None => check_resource_legacy(i, resource)?,
                }
            }
        }
    }
    for (i, statement) in raw.iter().enumerate() {
        match grammar {
            Grammar::Identity | Grammar::Managed if statement.principal.is_some() => {
                return Err(PolicyError::PrincipalNotAllowed { statement: i })
            }
            Grammar::Resource | Grammar::Trust if statement.principal.is_none() => {
                return Err(PolicyError::MissingPrincipal { statement: i })
            }
            Grammar::Trust if statement.resource.is_some() => {
                return Err(PolicyError::ProhibitedResource { statement: i })
            }
            _ => {}
        }
    }
    let mut seen_sids: Vec<&str> = Vec::new();
    for statement in &raw {
        if let Some(sid) = statement.sid.filter(|s| !s.is_empty()) {
            if seen_sids.contains(&sid) {
                return Err(PolicyError::DuplicateSid {
                    sid: sid.to_string(),
                });
            }
            seen_sids.push(sid);
        }
    }
    for (i, statement) in raw.iter().enumerate() {
        if statement
            .action
            .as_ref()
            .is_none_or(|(_, actions)| actions.is_empty())
        {
            return Err(PolicyError::MissingActions { statement: i });
        }
    }
    for (i, statement) in raw.iter().enumerate() {
        let missing = match &statement.resource {
            None => matches!(grammar, Grammar::Identity | Grammar::Managed),
            Some((_, resources)) => resources.is_empty(),
        };
        if missing {
            return Err(PolicyError::MissingResources { statement: i });
        }
    }
    if let Some(error) = first_resource_format_error {
        return Err(error);
    }
    if grammar == Grammar::Trust {
        for (_, actions) in raw.iter().filter_map(|s| s.action.as_ref()) {
            if let Some(action) = actions.iter().find(|a| !is_assume_role_action(a)) {
                return Err(PolicyError::NotAssumeRoleAction {
                    action: action.to_string(),
                });
            }
        }
    }
    // Condition keys need no vendor prefix: IAM stores `{"StringEquals": {"username": "x"}}`
    // and the key simply never matches a request key.
    for statement in &raw {
        if let Some((_, actions)) = &statement.action {
            for action in actions {
                check_action(action)?;
            }
        }
    }

    let variables_enabled = version.as_deref() == Some(VERSION_2012_10_17);
    let statements = raw
        .into_iter()
        .map(|statement| build_statement(statement, variables_enabled))
        .collect();
    Ok(Policy {
        version,
        id,
        statements,
    })
}

fn raw_statement(index: usize, value: &Value) -> Result<RawStatement<'_>, PolicyError> {
    let Value::Object(fields) = value else {
        return Err(syntax(format!("statement #{index} is not a JSON object")));
    };
    for key in fields.keys() {
        if !STATEMENT_ELEMENTS.contains(&key.as_str()) {
            return Err(syntax(format!(
                "statement #{index}: unknown element '{key}'"
            )));
        }
    }
    let sid = match fields.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(syntax(format!("statement #{index}: Sid must be a string"))),
    };
    let effect = match fields.get("Effect") {
        Some(Value::String(e))
            if e.eq_ignore_ascii_case("allow") || e.eq_ignore_ascii_case("deny") =>
        {
            e.as_str()
        }
        Some(other) => {
            return Err(syntax(format!(
                "statement #{index}: Effect {other} is neither Allow nor Deny"
            )))
        }
        None => return Err(syntax(format!("statement #{index}: missing Effect"))),
    };
    let principal = exclusive_pair(fields, index, "Principal", "NotPrincipal")?;
    if let Some((_, principal_value)) = principal {
        check_principal_syntax(index, principal_value)?;
    }
    let action = exclusive_pair(fields, index, "Action", "NotAction")?
        .map(|(negated, v)| {
            string_or_list(index, if negated { "NotAction" } else { "Action" }, v)
                .map(|l| (negated, l))
        })
        .transpose()?;
    let resource = exclusive_pair(fields, index, "Resource", "NotResource")?
        .map(|(negated, v)| {
            string_or_list(index, if negated { "NotResource" } else { "Resource" }, v)
                .map(|l| (negated, l))
        })
        .transpose()?;
    let conditions = match fields.get("Condition") {
        None => Vec::new(),
        Some(value) => raw_conditions(index, value)?,
    };
    Ok(RawStatement {
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

/// Returns `(is_negated_form, value)` for whichever of the two elements is present.
fn exclusive_pair<'a>(
    fields: &'a Map<String, Value>,
    index: usize,
    positive: &str,
    negative: &str,
) -> Result<Option<(bool, &'a Value)>, PolicyError> {
    match (fields.get(positive), fields.get(negative)) {
        (Some(_), Some(_)) => Err(syntax(format!(
            "statement #{index} has both {positive} and {negative}"
        ))),
        (Some(v), None) => Ok(Some((false, v))),
        (None, Some(v)) => Ok(Some((true, v))),
        (None, None) => Ok(None),
    }
}

fn string_or_list<'a>(
    index: usize,
    element: &str,
    value: &'a Value,
) -> Result<Vec<&'a str>, PolicyError> {
    match value {
        Value::String(s) => Ok(vec![s.as_str()]),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.as_str()),
                other => Err(syntax(format!(
                    "statement #{index}: {element} entry {other} is not a string"
                ))),
            })
            .collect(),
        other => Err(syntax(format!(
            "statement #{index}: {element} must be a string or a list of strings, not {other}"
        ))),
    }
}

fn check_principal_syntax(index: usize, value: &Value) -> Result<(), PolicyError> {
    match value {
        Value::String(s) if s == "*" => Ok(()),
        Value::Object(types) if !types.is_empty() => {
            for (principal_type, entries) in types {
                if !PRINCIPAL_TYPES.contains(&principal_type.as_str()) {
                    return Err(syntax(format!(
                        "statement #{index}: unknown principal type '{principal_type}'"
                    )));
                }
                let list = string_or_list(index, principal_type, entries)?;
                if list.is_empty() {
                    return Err(syntax(format!(
                        "statement #{index}: empty {principal_type} principal list"
                    )));
                }
            }
            Ok(())
        }
        other => Err(syntax(format!(
            "statement #{index}: Principal must be \"*\" or an object, not {other}"
        ))),
    }
}

fn raw_conditions(index: usize, value: &Value) -> Result<Vec<RawCondition<'_>>, PolicyError> {
    let Value::Object(operators) = value else {
        return Err(syntax(format!(
            "statement #{index}: Condition must be an object"
        )));
    };
    let mut conditions = Vec::new();
    for (operator_name, body) in operators {
        let Value::Object(keys) = body else {
            return Err(syntax(format!(
                "statement #{index}: condition operator {operator_name} must map to an object"
            )));
        };
        let mut values_by_key = Vec::with_capacity(keys.len());
        for (key, values) in keys {
            values_by_key.push((
                key.as_str(),
                condition_values(index, operator_name, key, values)?,
            ));
        }
        match ConditionOperator::parse(operator_name) {
            Some(operator) => {
                conditions.extend(
                    values_by_key
                        .into_iter()
                        .map(|(key, values)| (operator, key, values)),
                );
            }
            None if keys.is_empty() => {}
            None => {
                return Err(syntax(format!(
                    "statement #{index}: unknown condition operator '{operator_name}'"
                )))
            }
        }
    }
    Ok(conditions)
}

fn condition_values(
    index: usize,
    operator: &str,
    key: &str,
    value: &Value,
) -> Result<Vec<String>, PolicyError> {
    let scalar = |v: &Value| {
        match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(syntax(format!("statement #{index}: {operator} {key}: value {other} is not a string, number or boolean"))),
    }
    };
    match value {
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => Ok(vec![scalar(other)?]),
    }
}

fn build_statement(raw: RawStatement<'_>, variables_enabled: bool) -> Statement {
    let effect = if raw.effect == "Allow" {
        Effect::Allow
    } else {
        Effect::Deny
    };
    let (not_action, actions) = raw.action.unwrap_or_default();
    let patterns: Vec<ActionPattern> = actions.into_iter().map(ActionPattern::new).collect();
    let action = if not_action {
        ActionBlock::NotAction(patterns)
    } else {
        ActionBlock::Action(patterns)
    };
    let resource = raw.resource.map(|(negated, resources)| {
        let patterns = resources
            .into_iter()
            .map(|r| ResourcePattern::new(r, variables_enabled))
            .collect();
        if negated {
            ResourceBlock::NotResource(patterns)
        } else {
            ResourceBlock::Resource(patterns)
        }
    });
    let principal = raw.principal.map(|(negated, value)| {
        let set = principal_set(value);
        if negated {
            PrincipalBlock::NotPrincipal(set)
        } else {
            PrincipalBlock::Principal(set)
        }
    });
    let conditions = raw
        .conditions
        .into_iter()
        .map(|(operator, key, values)| Condition::new(operator, key, values, variables_enabled))
        .collect();
    Statement {
        sid: raw.sid.map(str::to_string),
        effect,
        principal,
        action,
        resource,
        conditions,
    }
}

/// Interprets a principal value whose syntax was already checked.
fn principal_set(value: &Value) -> PrincipalSet {
    let mut set = PrincipalSet::default();
    let Value::Object(types) = value else {
        set.everyone = true;
        return set;
    };
    let entries = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    };
    for (principal_type, v) in types {
        match principal_type.as_str() {
            "AWS" => {
                for entry in entries(v) {
                    if entry == "*" {
                        set.everyone = true;
                    } else {
                        set.aws.push(AwsPrincipal::from_value(&entry));
                    }
                }
            }
            "Service" => set.services.extend(entries(v)),
            "Federated" => set.federated.extend(entries(v)),
            _ => set.canonical_users.extend(entries(v)),
        }
    }
    set
}
