//! Identities as SDK configurations.
//!
//! A [`Principal`] is one set of credentials plus where to send requests. Scenarios act as several
//! principals at once (an admin in account a, a role session from account b, …), so each carries
//! its own `SdkConfig` instead of relying on the process environment or `~/.aws`.
//!
//! The config is built without `aws-config` on purpose: the standard credential chain would read
//! the developer's own profiles and environment, and a repro must never act as anyone but the
//! principal it names. The aws-sdk-* crates' default features (`default-https-client`,
//! `rt-tokio`) supply the HTTP client and the sleep implementation once a behaviour version is
//! set (aws-smithy-runtime `client::defaults::default_plugins`).

use std::{fmt, time::SystemTime};

use aws_credential_types::{provider::SharedCredentialsProvider, Credentials};
use aws_sdk_sts::config::BehaviorVersion;
use aws_types::{region::Region, SdkConfig};

use crate::aws_cli::CliCredentials;

/// The provider name the SDK shows in its own debug output for these credentials.
pub(crate) const PROVIDER_NAME: &str = "wana";

#[derive(Clone)]
pub struct Principal {
    /// How reports name this principal (`admin@a`, `automation@b`, …).
    pub label: String,
    /// The 12-digit id of the account the principal belongs to.
    pub account: String,
    /// The IAM ARN the principal acts as, when known (`arn:aws:iam::…:user/admin`,
    /// `arn:aws:sts::…:assumed-role/…/…`).
    pub arn: Option<String>,
    pub config: SdkConfig,
    credentials: Credentials,
}

// Hand-written: only what identifies the principal, never its credentials.
impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("label", &self.label)
            .field("account", &self.account)
            .field("arn", &self.arn)
            .finish_non_exhaustive()
    }
}

impl Principal {
    /// The same principal whose SDK calls carry `app_name` in their user agent (the run id).
    pub fn with_app_name(mut self, app_name: Option<&aws_types::app_name::AppName>) -> Principal {
        if let Some(app_name) = app_name {
            self.config = self.config.into_builder().app_name(app_name.clone()).build();
        }
        self
    }

    /// Builds the principal from parts; [`crate::assume::assume_role`] uses it for sessions.
    pub(crate) fn new(
        label: String,
        account: String,
        arn: Option<String>,
        credentials: Credentials,
        region: &str,
        endpoint_url: Option<&str>,
    ) -> Principal {
        let mut builder = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .credentials_provider(SharedCredentialsProvider::new(credentials.clone()))
            .retry_config(crate::retry::retry_config(endpoint_url));
        if let Some(url) = endpoint_url {
            builder = builder.endpoint_url(url);
        }
        Principal {
            label,
            account,
            arn,
            config: builder.build(),
            credentials,
        }
    }

    pub fn with_arn(mut self, arn: impl Into<String>) -> Principal {
        self.arn = Some(arn.into());
        self
    }

    pub fn access_key_id(&self) -> &str {
        self.credentials.access_key_id()
    }

    /// Secret parts, for registering with the redactor: the secret key and the session token.
    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.credentials.secret_access_key())
            .chain(self.credentials.session_token())
    }

    /// Whether these are temporary (STS) credentials.
    pub fn is_temporary(&self) -> bool {
        self.credentials.session_token().is_some()
    }

    /// When temporary credentials expire, if the issuer said so.
    pub fn expiry(&self) -> Option<SystemTime> {
        self.credentials.expiry()
    }

    pub fn region(&self) -> &str {
        self.config.region().map(Region::as_ref).unwrap_or_default()
    }

    pub fn endpoint_url(&self) -> Option<&str> {
        self.config.endpoint_url()
    }

    /// The same identity for the real AWS CLI.
    pub fn cli_credentials(&self) -> CliCredentials {
        CliCredentials {
            access_key_id: self.credentials.access_key_id().to_string(),
            secret_access_key: self.credentials.secret_access_key().to_string(),
            session_token: self.credentials.session_token().map(str::to_string),
            region: self.region().to_string(),
            endpoint_url: self.endpoint_url().map(str::to_string),
        }
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.config)
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.config)
    }
}

pub(crate) fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(session_token: Option<&str>) -> Principal {
        Principal::new(
            "tester@a".into(),
            "111111111111".into(),
            None,
            Credentials::new(
                "ASIAEXAMPLEEXAMPLE01",
                "secretsecret",
                session_token.map(str::to_string),
                None,
                "t",
            ),
            "us-east-1",
            Some("http://127.0.0.1:4599"),
        )
    }

    #[test]
    fn sdk_config_sends_to_the_backend_endpoint_in_its_region() {
        let p = principal(None);
        assert_eq!(p.config.endpoint_url(), Some("http://127.0.0.1:4599"));
        assert_eq!(p.region(), "us-east-1");
        assert!(
            p.config.behavior_version().is_some(),
            "clients panic without a behaviour version"
        );
        assert!(p.config.credentials_provider().is_some());
    }

    #[test]
    fn cli_credentials_carry_the_same_identity() {
        let cli = principal(Some("token")).cli_credentials();
        assert_eq!(cli.access_key_id, "ASIAEXAMPLEEXAMPLE01");
        assert_eq!(cli.secret_access_key, "secretsecret");
        assert_eq!(cli.session_token.as_deref(), Some("token"));
        assert_eq!(cli.endpoint_url.as_deref(), Some("http://127.0.0.1:4599"));
    }

    #[test]
    fn debug_output_never_shows_credentials() {
        let debug = format!("{:?}", principal(Some("the-session-token")));
        assert!(
            !debug.contains("secretsecret") && !debug.contains("the-session-token"),
            "{debug}"
        );
        assert!(debug.contains("tester@a"));
    }

    #[test]
    fn secrets_lists_secret_key_and_token() {
        let p = principal(Some("tok"));
        assert_eq!(p.secrets().collect::<Vec<_>>(), ["secretsecret", "tok"]);
        assert!(p.is_temporary());
        assert!(!principal(None).is_temporary());
    }
}
