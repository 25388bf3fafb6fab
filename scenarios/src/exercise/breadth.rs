//! What a fix grants beyond what the trap needs. Pure: a document in, findings out.
//!
//! Only statements a fix adds are judged: a key policy is compared with the key's policy as set
//! up, whose statements (the account's `kms:*`, the administrators') are the account's own
//! business. A finding has a short English `label`, the name `scenarios/fixes/*/fixes.toml`
//! lists under `broader` (the table in scenarios/fixes/README.md: `kms:*`, `ssm:*`,
//! `AdministratorAccess`, `Resource: *`, `missing kms:ViaService`, `missing
//! kms:GrantIsForAWSResource`, `principal: whole account`, `grant operation: <Operation>`,
//! `credentials in command output`, `credentials written to disk`, `replaces Ec2Instance`; and
//! `*`, `NotAction`, `Principal: *`, `PowerUserAccess`), and a message in each language
//! ([`Finding::message`]). Scripts and templates are read for the few patterns named there.

use serde_json::Value;

pub use super::finding::{Finding, FindingKind};
use super::FixKind;

/// The grant operations AWS lists for EBS (Auto Scaling guide, "Required AWS KMS key policy for
/// use with encrypted volumes"): more is broader.
pub const EBS_GRANT_OPERATIONS: [&str; 8] =
    ["Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "DescribeKey", "CreateGrant"];

/// What the trap needs, as far as breadth is concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    /// The principal that needs the permission (a role ARN): a whole account or `*` is broader.
    pub principal: Option<String>,
    /// The resource an identity policy should name (the key ARN): `Resource: *` is broader.
    /// `None` where AWS's own policies use `*` (Systems Manager's agent calls).
    pub resource: Option<String>,
    /// The service the key is used through (`ec2.us-east-1.amazonaws.com`): use of the key
    /// without a `kms:ViaService` condition is broader.
    pub via_service: Option<String>,
    /// Whether the fix is about a KMS key: `kms:CreateGrant` without `kms:GrantIsForAWSResource`
    /// (or `kms:ViaService`) is broader.
    pub kms: bool,
    /// The grant operations the trap needs; more is broader.
    pub grant_operations: Vec<String>,
}


/// Managed policies that grant far beyond any trap's need.
const BROAD_MANAGED_POLICIES: [&str; 5] =
    ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "AmazonSSMFullAccess", "AmazonEC2FullAccess"];

/// The key actions a service uses a volume's key for.
const KEY_USE_ACTIONS: [&str; 4] = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom"];

/// The findings for `document`, a fix of `kind`, against `baseline` (the document it replaces).
pub fn analyse(kind: FixKind, document: &str, baseline: Option<&str>, needs: &Needs) -> Vec<Finding> {
    let mut findings = managed_policies(document);
    match kind {
        FixKind::KeyPolicy | FixKind::IamPolicy | FixKind::TrustPolicy => {
            if let Ok(policy) = serde_json::from_str::<Value>(document) {
                let old: Vec<Value> = baseline
                    .and_then(|b| serde_json::from_str::<Value>(b).ok())
                    .map(|b| statements(&b).into_iter().map(|s| normalized(&s)).collect())
                    .unwrap_or_default();
                for statement in statements(&policy) {
                    if !old.contains(&normalized(&statement)) {
                        findings.extend(statement_findings(kind, &statement, needs));
                    }
                }
            }
        }
        FixKind::Grant => {
            if let Ok(grant) = serde_json::from_str::<Value>(document) {
                findings.extend(grant_findings(&grant, needs));
            }
        }
        FixKind::Script => findings.extend(super::reading::script_findings(document)),
        FixKind::Template => findings.extend(super::reading::template_findings(document, baseline)),
    }
    let mut unique: Vec<Finding> = Vec::new();
    for finding in findings {
        if !unique.contains(&finding) {
            unique.push(finding);
        }
    }
    unique
}

fn managed_policies(document: &str) -> Vec<Finding> {
    BROAD_MANAGED_POLICIES
        .iter()
        .filter(|name| document.contains(&format!("arn:aws:iam::aws:policy/{name}")))
        .map(|name| Finding::new(FindingKind::ManagedPolicy { policy: (*name).to_string() }))
        .collect()
}

fn statements(policy: &Value) -> Vec<Value> {
    match policy.get("Statement") {
        Some(Value::Array(list)) => list.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// A statement without its `Sid`, every single value as a one-element list, lists sorted: two
/// statements that mean the same compare equal.
fn normalized(statement: &Value) -> Value {
    fn norm(value: &Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(map.iter().filter(|(k, _)| *k != "Sid").map(|(k, v)| (k.clone(), norm(v))).collect()),
            Value::Array(list) => {
                let mut items: Vec<Value> =
                    list.iter().map(|v| if v.is_object() || v.is_array() { norm(v) } else { Value::String(scalar(v)) }).collect();
                items.sort_by_key(|v| v.to_string());
                Value::Array(items)
            }
            Value::String(_) | Value::Bool(_) | Value::Number(_) => Value::Array(vec![Value::String(scalar(value))]),
            Value::Null => Value::Null,
        }
    }
    norm(statement)
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(list)) => list.iter().map(scalar).collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(one) => vec![scalar(one)],
    }
}

/// IAM's wildcard match (`*`, `?`), case-insensitive as actions are.
fn matches(pattern: &str, action: &str) -> bool {
    fn go(p: &[u8], a: &[u8]) -> bool {
        match (p.first(), a.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], a) || (!a.is_empty() && go(p, &a[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &a[1..]),
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => go(&p[1..], &a[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), action.as_bytes())
}

fn condition_keys(statement: &Value) -> Vec<String> {
    let Some(Value::Object(operators)) = statement.get("Condition") else { return Vec::new() };
    operators
        .values()
        .filter_map(Value::as_object)
        .flat_map(|keys| keys.keys().map(|k| k.to_ascii_lowercase()))
        .collect()
}

fn statement_findings(kind: FixKind, statement: &Value, needs: &Needs) -> Vec<Finding> {
    if statement.get("Effect").and_then(Value::as_str) != Some("Allow") {
        return Vec::new();
    }
    let mut findings = Vec::new();
    if statement.get("NotAction").is_some() {
        findings.push(Finding::new(FindingKind::NotAction));
    }
    let actions = strings(statement.get("Action"));
    let resources = strings(statement.get("Resource"));
    if kind == FixKind::IamPolicy && actions.iter().any(|a| a == "*") && resources.iter().any(|r| r == "*") {
        findings.push(Finding::new(FindingKind::AdministratorEquivalent));
    }
    for action in &actions {
        if action == "*" || (action.ends_with(":*") && !action[..action.len() - 2].contains('*')) {
            findings.push(Finding::new(FindingKind::ActionWildcard { action: action.to_ascii_lowercase() }));
        }
    }
    let allows = |wanted: &str| actions.iter().any(|a| matches(a, wanted)) || statement.get("NotAction").is_some();
    let conditions = condition_keys(statement);
    let has = |key: &str| conditions.iter().any(|k| k == &key.to_ascii_lowercase());
    if kind == FixKind::IamPolicy {
        if let Some(resource) = &needs.resource {
            if strings(statement.get("Resource")).iter().any(|r| r == "*") {
                findings.push(Finding::new(FindingKind::ResourceStar { resource: resource.clone() }));
            }
        }
    }
    if needs.kms && kind != FixKind::TrustPolicy {
        if allows("kms:CreateGrant") && !has("kms:GrantIsForAWSResource") && !has("kms:ViaService") {
            findings.push(Finding::new(FindingKind::CreateGrantUnconditioned));
        }
        if let Some(service) = &needs.via_service {
            if KEY_USE_ACTIONS.iter().any(|a| allows(a)) && !has("kms:ViaService") {
                findings.push(Finding::new(FindingKind::UseWithoutViaService { service: service.clone() }));
            }
        }
    }
    if kind != FixKind::IamPolicy {
        findings.extend(principal_findings(statement, needs));
    }
    findings
}

fn principal_findings(statement: &Value, needs: &Needs) -> Vec<Finding> {
    let principals = match statement.get("Principal") {
        Some(Value::String(star)) => vec![star.clone()],
        Some(Value::Object(map)) => map.get("AWS").map(|v| strings(Some(v))).unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut findings = Vec::new();
    for principal in principals {
        let conditions = condition_keys(statement);
        let one_account = conditions.iter().any(|k| k == "kms:calleraccount" || k == "aws:principalaccount");
        if principal == "*" && one_account {
            findings.push(Finding::new(FindingKind::PrincipalAccount { principal: "*".into(), needed: needs.principal.clone().unwrap_or_default() }));
        } else if principal == "*" {
            findings.push(Finding::new(FindingKind::PrincipalStar));
        } else if let (true, Some(needed)) = (is_account(&principal), &needs.principal) {
            findings.push(Finding::new(FindingKind::PrincipalAccount { principal, needed: needed.clone() }));
        }
    }
    findings
}

/// `123456789012` or `arn:aws:iam::123456789012:root`.
fn is_account(principal: &str) -> bool {
    let id = principal.strip_prefix("arn:aws:iam::").and_then(|rest| rest.strip_suffix(":root")).unwrap_or(principal);
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

fn grant_findings(grant: &Value, needs: &Needs) -> Vec<Finding> {
    let mut findings = Vec::new();
    let operations = strings(grant.get("Operations"));
    if !needs.grant_operations.is_empty() {
        for operation in operations.iter().filter(|op| !needs.grant_operations.contains(op)) {
            findings.push(Finding::new(FindingKind::GrantOperation { operation: operation.clone(), needed: needs.grant_operations.clone() }));
        }
    }
    if let Some(grantee) = grant.get("GranteePrincipal").and_then(Value::as_str) {
        if grantee == "*" {
            findings.push(Finding::new(FindingKind::PrincipalStar));
        } else if let (true, Some(needed)) = (is_account(grantee), &needs.principal) {
            findings.push(Finding::new(FindingKind::PrincipalAccount { principal: grantee.to_string(), needed: needed.clone() }));
        }
    }
    findings
}

#[cfg(test)]
mod tests;
