//! Key and alias ARNs, and a key's address (account, region, id).

/// Where a key lives, and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAddr {
    pub account: String,
    pub region: String,
    pub id: String,
}

impl KeyAddr {
    pub fn arn(&self) -> String {
        key_arn(&self.region, &self.account, &self.id)
    }
}

pub fn key_arn(region: &str, account: &str, id: &str) -> String {
    format!("arn:aws:kms:{region}:{account}:key/{id}")
}

pub fn alias_arn(region: &str, account: &str, alias_name: &str) -> String {
    format!("arn:aws:kms:{region}:{account}:{alias_name}")
}

/// A key ARN (`arn:aws:kms:<region>:<account>:key/<id>`) as an address, if it is one.
pub fn parse_key_arn(arn: &str) -> Option<KeyAddr> {
    let (region, account, resource) = split_kms_arn(arn)?;
    let id = resource.strip_prefix("key/")?;
    (!id.is_empty()).then(|| KeyAddr { account: account.to_string(), region: region.to_string(), id: id.to_string() })
}

/// `arn:aws:kms:<region>:<account>:<resource>` → (region, account, resource).
pub(super) fn split_kms_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:aws:kms:")?;
    let (region, rest) = rest.split_once(':')?;
    let (account, resource) = rest.split_once(':')?;
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    (!region.is_empty() && account_ok).then_some((region, account, resource))
}
