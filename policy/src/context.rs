//! Who is asking, for what, and the condition keys of the request.

/// What the caller is, for matching `Principal` blocks in resource-based policies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrincipalInfo {
    /// 12-digit account ID of the principal (may be empty for a service principal).
    pub account: String,
    /// Identities that match a `Principal` entry directly: the user ARN; for a role session both
    /// the session ARN (`arn:aws:sts::A:assumed-role/R/S`) and the role ARN (with its path); for
    /// the root user `arn:aws:iam::A:root`.
    pub arns: Vec<String>,
    /// `Some("ec2.amazonaws.com")` when an AWS service principal calls (then `arns` is empty).
    pub service: Option<String>,
    pub is_root: bool,
}

impl PrincipalInfo {
    /// An IAM user.
    pub fn user(account: impl Into<String>, user_arn: impl Into<String>) -> PrincipalInfo {
        PrincipalInfo {
            account: account.into(),
            arns: vec![user_arn.into()],
            service: None,
            is_root: false,
        }
    }

    /// A role session: matches both its session ARN and its role ARN.
    pub fn role_session(
        account: impl Into<String>,
        session_arn: impl Into<String>,
        role_arn: impl Into<String>,
    ) -> PrincipalInfo {
        PrincipalInfo {
            account: account.into(),
            arns: vec![session_arn.into(), role_arn.into()],
            service: None,
            is_root: false,
        }
    }

    /// The account's root user.
    pub fn root(account: impl Into<String>) -> PrincipalInfo {
        let account = account.into();
        let arn = format!("arn:aws:iam::{account}:root");
        PrincipalInfo {
            account,
            arns: vec![arn],
            service: None,
            is_root: true,
        }
    }

    /// An AWS service principal such as `ec2.amazonaws.com`.
    pub fn service(name: impl Into<String>) -> PrincipalInfo {
        PrincipalInfo {
            account: String::new(),
            arns: Vec::new(),
            service: Some(name.into()),
            is_root: false,
        }
    }
}

/// One authorization question: principal, action, resource and condition keys.
///
/// Condition key names are case-insensitive (`aws:SourceIp` = `AWS:sourceip`); values are kept
/// exactly as given. A key may hold several values (multivalued keys such as `aws:TagKeys`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    principal: PrincipalInfo,
    action: String,
    /// Lower-cased once here so that matching dozens of statements needs no allocation.
    action_lowered: String,
    resource: String,
    /// (lower-cased key, values). A short vector beats a hash map for the handful of keys a
    /// request carries, and keeps evaluation deterministic.
    keys: Vec<(String, Vec<String>)>,
}

impl RequestContext {
    /// `action` like `iam:CreateUser` (matched case-insensitively), `resource` an ARN or `*`.
    pub fn new(principal: PrincipalInfo, action: &str, resource: &str) -> RequestContext {
        RequestContext {
            principal,
            action: action.to_string(),
            action_lowered: action.to_lowercase(),
            resource: resource.to_string(),
            keys: Vec::new(),
        }
    }

    /// Sets a single-valued key, replacing any earlier value.
    pub fn with_key(mut self, key: impl AsRef<str>, value: impl Into<String>) -> RequestContext {
        self.set_values(key.as_ref(), vec![value.into()]);
        self
    }

    /// Sets a multivalued key (e.g. `aws:TagKeys`), replacing any earlier value. An empty list
    /// counts as an absent key.
    pub fn with_multi(mut self, key: impl AsRef<str>, values: Vec<String>) -> RequestContext {
        self.set_values(key.as_ref(), values);
        self
    }

    /// In-place form of [`RequestContext::with_key`] / [`RequestContext::with_multi`].
    pub fn set_values(&mut self, key: &str, values: Vec<String>) {
        let lowered = key.to_lowercase();
        match self.keys.iter_mut().find(|(k, _)| *k == lowered) {
            Some((_, existing)) => *existing = values,
            None => self.keys.push((lowered, values)),
        }
    }

    /// Removes a key; returns whether it was present.
    pub fn remove_key(&mut self, key: &str) -> bool {
        let lowered = key.to_lowercase();
        let before = self.keys.len();
        self.keys.retain(|(k, _)| *k != lowered);
        before != self.keys.len()
    }

    /// Changes the action, e.g. to ask several questions with one context.
    pub fn set_action(&mut self, action: &str) {
        self.action = action.to_string();
        self.action_lowered = action.to_lowercase();
    }

    /// Changes the resource.
    pub fn set_resource(&mut self, resource: &str) {
        self.resource = resource.to_string();
    }

    pub fn principal(&self) -> &PrincipalInfo {
        &self.principal
    }

    pub fn action(&self) -> &str {
        &self.action
    }

    pub fn resource(&self) -> &str {
        &self.resource
    }

    pub(crate) fn action_lowered(&self) -> &str {
        &self.action_lowered
    }

    /// The values of a key (case-insensitive name), `None` when absent.
    pub fn values(&self, key: &str) -> Option<&[String]> {
        let lowered = key.to_lowercase();
        self.values_lowered(&lowered)
    }

    /// Lookup with a key that is already lower-cased (conditions store theirs that way).
    pub(crate) fn values_lowered(&self, lowered_key: &str) -> Option<&[String]> {
        self.keys
            .iter()
            .find(|(k, _)| k == lowered_key)
            .map(|(_, v)| v.as_slice())
    }

    /// Every key and its values, keys lower-cased, in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.keys.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_are_case_insensitive_and_values_replace() {
        let ctx = RequestContext::new(PrincipalInfo::root("111122223333"), "kms:Decrypt", "*")
            .with_key("kms:ViaService", "ec2.us-east-1.amazonaws.com")
            .with_key("KMS:VIASERVICE", "s3.us-east-1.amazonaws.com");
        assert_eq!(
            ctx.values("kms:viaservice"),
            Some(&["s3.us-east-1.amazonaws.com".to_string()][..])
        );
        assert_eq!(ctx.keys().count(), 1);
    }
}
