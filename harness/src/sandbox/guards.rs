//! The guards before any write (aws-nuke's account guards): every account on the allow-list, no
//! alias that says `prod` unless allowed by name, and distinct accounts where a trap needs two.

use std::fmt;

use super::config::SandboxConfig;

/// Who a logical account's credentials turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The scenarios' name (`a`).
    pub name: String,
    /// The named profile, `None` for the default chain.
    pub profile: Option<String>,
    pub account_id: String,
    /// The caller's ARN from `sts:GetCallerIdentity`.
    pub arn: String,
    /// `iam:ListAccountAliases`, or why it could not be read.
    pub aliases: Result<Vec<String>, String>,
}

impl Identity {
    /// How the profile is named in messages.
    pub fn profile_label(&self) -> String {
        match &self.profile {
            Some(profile) => format!("profile {profile:?}"),
            None => "the default credential chain".to_string(),
        }
    }
}

/// Why the guards refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardFailure {
    NotAllowed { account: String, profile: String, account_id: String },
    ProdAlias { account: String, alias: String },
    AliasUnreadable { account: String, message: String },
    SameAccount { first: String, second: String, account_id: String },
}

impl fmt::Display for GuardFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GuardFailure::NotAllowed { account, profile, account_id } => write!(
                f,
                "account {account} ({profile}) is account {account_id}, which is not in allowed_account_ids"
            ),
            GuardFailure::ProdAlias { account, alias } => write!(
                f,
                "account {account} has the alias {alias:?}, which contains \"prod\"; wana refuses it \
                 unless allowed_aliases names it"
            ),
            GuardFailure::AliasUnreadable { account, message } => write!(
                f,
                "cannot read the alias of account {account} (iam:ListAccountAliases: {message}), so \
                 it cannot be told from a production account"
            ),
            GuardFailure::SameAccount { first, second, account_id } => write!(
                f,
                "accounts {first} and {second} both resolve to account {account_id}; the trap needs \
                 two different accounts"
            ),
        }
    }
}

/// Every guard that fails for `identities`; `distinct` lists the logical accounts that must be
/// different accounts (those of one trap).
pub fn check(config: &SandboxConfig, identities: &[Identity], distinct: &[&str]) -> Vec<GuardFailure> {
    let mut failures = Vec::new();
    for identity in identities {
        if !config.allowed_account_ids.contains(&identity.account_id) {
            failures.push(GuardFailure::NotAllowed {
                account: identity.name.clone(),
                profile: identity.profile_label(),
                account_id: identity.account_id.clone(),
            });
        }
        match &identity.aliases {
            Ok(aliases) => {
                for alias in aliases {
                    let allowed = config.allowed_aliases.iter().any(|a| a == alias);
                    if alias.to_ascii_lowercase().contains("prod") && !allowed {
                        failures.push(GuardFailure::ProdAlias { account: identity.name.clone(), alias: alias.clone() });
                    }
                }
            }
            Err(message) => failures.push(GuardFailure::AliasUnreadable {
                account: identity.name.clone(),
                message: message.clone(),
            }),
        }
    }
    for (i, first) in identities.iter().enumerate() {
        for second in &identities[i + 1..] {
            let both_needed = distinct.contains(&first.name.as_str()) && distinct.contains(&second.name.as_str());
            if both_needed && first.account_id == second.account_id {
                failures.push(GuardFailure::SameAccount {
                    first: first.name.clone(),
                    second: second.name.clone(),
                    account_id: first.account_id.clone(),
                });
            }
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn config() -> SandboxConfig {
        SandboxConfig::parse(
            "region = \"us-east-1\"\nallowed_account_ids = [\"111111111111\", \"222222222222\"]\n\
             allowed_aliases = [\"acme-prod-sandbox\"]\n[accounts.a]\n[accounts.b]\n[accounts.c]\n",
            Path::new("wana.toml"),
        )
        .unwrap()
    }

    fn identity(name: &str, id: &str, aliases: &[&str]) -> Identity {
        Identity {
            name: name.into(),
            profile: Some(format!("p-{name}")),
            account_id: id.into(),
            arn: format!("arn:aws:iam::{id}:user/admin"),
            aliases: Ok(aliases.iter().map(|a| a.to_string()).collect()),
        }
    }

    #[test]
    fn listed_accounts_without_prod_aliases_pass() {
        let ids = [identity("a", "111111111111", &["acme-sandbox"]), identity("b", "222222222222", &[])];
        assert_eq!(check(&config(), &ids, &["a", "b"]), []);
    }

    #[test]
    fn an_account_off_the_list_is_refused_with_its_profile() {
        let failures = check(&config(), &[identity("b", "333333333333", &[])], &["b"]);
        assert_eq!(failures.len(), 1);
        assert_eq!(
            failures[0].to_string(),
            "account b (profile \"p-b\") is account 333333333333, which is not in allowed_account_ids"
        );
    }

    #[test]
    fn a_prod_alias_is_refused_unless_allowed_by_name() {
        let refused = check(&config(), &[identity("a", "111111111111", &["ACME-Prod"])], &["a"]);
        assert!(matches!(&refused[..], [GuardFailure::ProdAlias { alias, .. }] if alias == "ACME-Prod"));
        let allowed = check(&config(), &[identity("a", "111111111111", &["acme-prod-sandbox"])], &["a"]);
        assert_eq!(allowed, []);
        let mut unreadable = identity("a", "111111111111", &[]);
        unreadable.aliases = Err("AccessDenied: not authorized".into());
        assert!(check(&config(), &[unreadable], &["a"])[0].to_string().contains("cannot read the alias of account a"));
    }

    #[test]
    fn two_accounts_that_are_one_are_refused_only_where_both_are_needed() {
        let ids = [identity("a", "111111111111", &[]), identity("c", "111111111111", &[])];
        let failures = check(&config(), &ids, &["a", "c"]);
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(failures[0].to_string().contains("accounts a and c both resolve to account 111111111111"));
        assert_eq!(check(&config(), &ids, &["a"]), [], "a trap that needs only a does not care about c");
    }
}
