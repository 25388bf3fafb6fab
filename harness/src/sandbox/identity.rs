//! Resolving a logical account: its profile's credentials through the SDK's own chain
//! (aws-config), then `sts:GetCallerIdentity` and `iam:ListAccountAliases` with them.

use aws_config::{profile::ProfileFileCredentialsProvider, BehaviorVersion};
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_sts::error::DisplayErrorContext;
use aws_types::region::Region;

pub use aws_runtime::env_config::file::{EnvConfigFileKind as ProfileFileKind, EnvConfigFiles as ProfileFiles};

use super::{config::SandboxConfig, guards::Identity, SandboxError};
use crate::{outcome::StepError, principal::Principal};

/// A logical account whose identity is known: who it is, and a principal that acts as it.
#[derive(Debug, Clone)]
pub struct ResolvedAccount {
    pub identity: Identity,
    /// Labelled `admin@<name>` as on every backend, so that reports compare across backends.
    pub principal: Principal,
}

/// Resolves `name`'s credentials (its named profile, or the default chain) and asks STS and IAM
/// who they are. `files` replaces the shared config files (tests); `None` reads them where the
/// SDK does (`~/.aws`, `AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`).
pub async fn resolve(config: &SandboxConfig, name: &str, files: Option<&ProfileFiles>) -> Result<ResolvedAccount, SandboxError> {
    let account = config.account(name)?;
    let profile = account.profile.clone();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(config.region.clone()));
    if let Some(files) = files {
        loader = loader.profile_files(files.clone());
    }
    if let Some(profile) = &profile {
        // A named profile is used as named: the default chain would let environment variables
        // win over it, and then every logical account could be the same identity.
        let mut provider = ProfileFileCredentialsProvider::builder().profile_name(profile);
        if let Some(files) = files {
            provider = provider.profile_files(files.clone());
        }
        loader = loader.profile_name(profile).credentials_provider(provider.build());
    }
    if let Some(url) = &config.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let sdk_config = loader.load().await;
    let label = match &profile {
        Some(profile) => format!("profile {profile:?}"),
        None => "the default credential chain".to_string(),
    };
    let provider = sdk_config.credentials_provider().ok_or_else(|| SandboxError::Credentials {
        account: name.to_string(),
        profile: label.clone(),
        message: "no credentials provider".into(),
    })?;
    let credentials = provider.provide_credentials().await.map_err(|err| SandboxError::Credentials {
        account: name.to_string(),
        profile: label.clone(),
        message: DisplayErrorContext(&err).to_string(),
    })?;
    let mut principal = Principal::new(
        format!("admin@{name}"),
        String::new(),
        None,
        credentials,
        &config.region,
        sdk_config.endpoint_url(),
    );
    let who = principal.sts().get_caller_identity().send().await.map_err(|err| {
        let err = StepError::from_sdk(&err);
        SandboxError::Identity {
            account: name.to_string(),
            profile: label.clone(),
            message: identity_failure(&err, &config.region, sdk_config.endpoint_url()),
        }
    })?;
    let account_id = who.account().unwrap_or_default().to_string();
    let arn = who.arn().unwrap_or_default().to_string();
    principal.account = account_id.clone();
    principal.arn = Some(arn.clone());
    let aliases = principal
        .iam()
        .list_account_aliases()
        .send()
        .await
        .map(|out| out.account_aliases().to_vec())
        .map_err(|err| StepError::from_sdk(&err).to_string());
    Ok(ResolvedAccount {
        identity: Identity { name: name.to_string(), profile, account_id, arn, aliases },
        principal,
    })
}

/// What a failed GetCallerIdentity means for the person who wrote the config.
fn identity_failure(err: &StepError, region: &str, endpoint: Option<&str>) -> String {
    match err.code.as_str() {
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
            format!("the credentials have expired ({err}); refresh them (aws sso login, or new keys)")
        }
        "InvalidClientTokenId" | "SignatureDoesNotMatch" | "UnrecognizedClientException" => {
            format!("AWS does not accept these credentials ({err})")
        }
        "DispatchFailure" | "TimeoutError" => format!(
            "the account does not answer: STS at {} could not be reached; is the region {region:?} \
             spelled right and the network up? ({})",
            endpoint.unwrap_or("its regional endpoint"),
            err.message
        ),
        _ => err.to_string(),
    }
}
