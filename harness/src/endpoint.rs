//! Endpoint backends: someone else's emulator at a URL (LocalStack, moto's server, any other),
//! and wana's three accounts made there as that emulator expects them.
//!
//! Each account gets an IAM user `admin` with `AdministratorAccess` and a fresh access key, so
//! that scenarios act as long-term users exactly as on the emulator. How a request reaches an
//! account differs:
//!
//! - LocalStack takes a 12-digit access key id for that account, and maps keys made by
//!   `iam:CreateAccessKey` to the account they were made in;
//! - moto acts in its default account whatever the key, except with credentials of a role
//!   session from `sts:AssumeRole` into a role of another account (the role need not exist) and
//!   with keys made in that account;
//! - any other endpoint is tried both ways, and must show each account through
//!   `sts:GetCallerIdentity`.
//!
//! Old access keys of `admin` are deleted first, so repeated runs on a long-lived LocalStack do
//! not reach IAM's two-keys-per-user quota.

use aws_credential_types::Credentials;
use wana_emulator::{DEFAULT_ACCOUNTS, DEFAULT_REGION};
use wana_localstack::{Flavour, HostServer, Localstack, Server};

use crate::{
    assume, aws_cli::workspace_root, backend_kind::BackendAccount, outcome::StepError,
    backend_kind::BackendKind, principal::Principal, HarnessError,
};

const ADMIN_USER: &str = "admin";
const ADMIN_POLICY: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
/// The secret for keys an emulator takes without checking (LocalStack's 12-digit ids, moto's
/// default account).
const UNCHECKED_SECRET: &str = "wana-unchecked-secret";
const BOOTSTRAP_ROLE: &str = "wana-bootstrap";

/// The emulator a backend is attached to, and what it started (stopped on drop).
pub struct Attached {
    kind: BackendKind,
    endpoint_url: String,
    flavour: Flavour,
    origin: &'static str,
    _localstack: Option<Localstack>,
    _moto: Option<HostServer>,
}

impl std::fmt::Debug for Attached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attached")
            .field("kind", &self.kind)
            .field("endpoint_url", &self.endpoint_url)
            .field("flavour", &self.flavour)
            .finish_non_exhaustive()
    }
}

impl Attached {
    pub fn kind(&self) -> BackendKind {
        self.kind
    }

    pub fn endpoint_url(&self) -> &str {
        &self.endpoint_url
    }

    pub fn description(&self) -> String {
        let what = match &self.flavour {
            Flavour::Localstack { version, edition } => {
                format!("LocalStack {version} ({edition})")
            }
            Flavour::Moto => format!("moto's server ({})", wana_localstack::MOTO_VERSION),
            Flavour::Other => "an endpoint that is neither LocalStack nor moto".to_string(),
        };
        format!("{what} at {}, {}", self.endpoint_url, self.origin)
    }
}

/// How people name what answers on an endpoint backend (`LocalStack`), for narratives.
pub fn product_name(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::Localstack => "LocalStack",
        BackendKind::Moto => "moto",
        BackendKind::Endpoint => "the endpoint",
        BackendKind::Emulator => "wana's emulator",
        BackendKind::Sandbox => "AWS",
    }
}

/// Finds or starts the emulator for `kind` and makes the accounts there.
pub async fn attach(
    kind: BackendKind,
    endpoint: Option<&str>,
) -> Result<(Attached, Vec<BackendAccount>), HarnessError> {
    let attached = locate(kind, endpoint).await?;
    let accounts = make_accounts(&attached).await?;
    Ok((attached, accounts))
}

async fn locate(kind: BackendKind, endpoint: Option<&str>) -> Result<Attached, HarnessError> {
    let given = wana_localstack::given_endpoint(endpoint);
    let (url, origin, localstack, moto) = match kind {
        BackendKind::Localstack => {
            let found = wana_localstack::locate(endpoint, &workspace_root())
                .await
                .map_err(|e| HarnessError::Unsupported(e.to_string()))?;
            (
                found.endpoint_url.clone(),
                found.origin.describe(),
                Some(found),
                None,
            )
        }
        BackendKind::Moto => match given {
            Some(url) => (url, "the endpoint given", None, None),
            None => {
                let server = HostServer::start(Server::Moto, &workspace_root(), 0)
                    .await
                    .map_err(|e| {
                        HarnessError::Unsupported(format!(
                            "no moto server: give --endpoint URL, or install one: {e}"
                        ))
                    })?;
                (
                    server.endpoint_url().to_string(),
                    "moto's server started for this run",
                    None,
                    Some(server),
                )
            }
        },
        _ => match given {
            Some(url) => (url, "the endpoint given", None, None),
            None => {
                return Err(HarnessError::Unsupported(
                    "the endpoint backend needs --endpoint URL (or AWS_ENDPOINT_URL)".into(),
                ))
            }
        },
    };
    let flavour = wana_localstack::probe::identify(&url)
        .await
        .map_err(|e| HarnessError::Scenario(format!("nothing answers HTTP at {url}: {e}")))?;
    let resolved = match (&flavour, kind) {
        (Flavour::Localstack { .. }, BackendKind::Localstack | BackendKind::Endpoint) => {
            BackendKind::Localstack
        }
        (Flavour::Moto, BackendKind::Moto | BackendKind::Endpoint) => BackendKind::Moto,
        (Flavour::Other, BackendKind::Endpoint) => BackendKind::Endpoint,
        (found, asked) => {
            return Err(HarnessError::Scenario(format!(
                "the endpoint at {url} is {}, not {asked}; use --backend endpoint to take it as \
                 it is",
                found.name()
            )))
        }
    };
    tracing::info!(%url, backend = %resolved, "endpoint backend attached");
    Ok(Attached {
        kind: resolved,
        endpoint_url: url,
        flavour,
        origin,
        _localstack: localstack,
        _moto: moto,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    /// The 12-digit account id is the access key id (LocalStack).
    KeyIsAccount,
    /// A role session in the account (moto).
    AssumeRole,
}

async fn make_accounts(attached: &Attached) -> Result<Vec<BackendAccount>, HarnessError> {
    let schemes: &[Scheme] = match attached.flavour {
        Flavour::Localstack { .. } => &[Scheme::KeyIsAccount],
        Flavour::Moto => &[Scheme::AssumeRole],
        Flavour::Other => &[Scheme::KeyIsAccount, Scheme::AssumeRole],
    };
    let url = attached.endpoint_url();
    let mut accounts = Vec::new();
    for info in DEFAULT_ACCOUNTS.iter() {
        let mut last_failure = None;
        let mut made = None;
        for scheme in schemes {
            match bootstrap(*scheme, info.id, url).await {
                Ok(bootstrap) => match admin_account(&bootstrap, info.name, info.id).await {
                    Ok(account) => {
                        made = Some(account);
                        break;
                    }
                    Err(err) => last_failure = Some(err),
                },
                Err(err) => last_failure = Some(err),
            }
        }
        match (made, last_failure) {
            (Some(account), _) => accounts.push(account),
            (None, Some(err)) => return Err(account_failure(info.name, info.id, url, err)),
            (None, None) => unreachable!("at least one scheme is tried"),
        }
    }
    Ok(accounts)
}

fn account_failure(name: &str, id: &str, url: &str, err: StepError) -> HarnessError {
    let why = format!("cannot set up account {name} ({id}) at {url}: {err}");
    if err.is_unimplemented() {
        HarnessError::Unsupported(why)
    } else {
        HarnessError::Scenario(why)
    }
}

fn principal(
    label: &str,
    account: &str,
    key: &str,
    secret: &str,
    token: Option<&str>,
    url: &str,
) -> Principal {
    Principal::new(
        label.to_string(),
        account.to_string(),
        None,
        Credentials::new(
            key,
            secret,
            token.map(str::to_string),
            None,
            "wana-endpoint",
        ),
        DEFAULT_REGION,
        Some(url),
    )
}

/// A principal that acts in account `id`, checked with `sts:GetCallerIdentity`.
async fn bootstrap(scheme: Scheme, id: &str, url: &str) -> Result<Principal, StepError> {
    let principal = match scheme {
        Scheme::KeyIsAccount => principal("bootstrap", id, id, UNCHECKED_SECRET, None, url),
        Scheme::AssumeRole => {
            let base = principal(
                "bootstrap",
                id,
                "AKIAWANABOOTSTRAP000",
                UNCHECKED_SECRET,
                None,
                url,
            );
            let role = format!("arn:aws:iam::{id}:role/{BOOTSTRAP_ROLE}");
            assume::assume_role(&base, &role, BOOTSTRAP_ROLE, None, "bootstrap").await?
        }
    };
    expect_account(&principal, id).await?;
    Ok(principal)
}

async fn expect_account(principal: &Principal, id: &str) -> Result<String, StepError> {
    let identity = principal
        .sts()
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| StepError::from_sdk(&e))?;
    match identity.account() {
        Some(account) if account == id => Ok(identity.arn().unwrap_or_default().to_string()),
        other => Err(StepError::new(
            "WrongAccount",
            format!(
                "the endpoint acts in account {} instead",
                other.unwrap_or("(none)")
            ),
        )),
    }
}

/// Makes (or finds) `admin` in the bootstrap principal's account with a new access key.
async fn admin_account(
    bootstrap: &Principal,
    name: &str,
    id: &str,
) -> Result<BackendAccount, StepError> {
    let iam = bootstrap.iam();
    match iam.create_user().user_name(ADMIN_USER).send().await {
        Ok(_) => {}
        Err(err) => {
            let err = StepError::from_sdk(&err);
            if err.code != "EntityAlreadyExists" {
                return Err(err);
            }
        }
    }
    let attached = iam
        .attach_user_policy()
        .user_name(ADMIN_USER)
        .policy_arn(ADMIN_POLICY)
        .send()
        .await;
    if let Err(err) = attached {
        let err = StepError::from_sdk(&err);
        // moto knows AWS managed policies only with MOTO_IAM_LOAD_MANAGED_POLICIES=true (as
        // `cargo xtask moto start` sets); it enforces no IAM either way.
        if err.code != "NoSuchEntity" {
            return Err(err);
        }
        tracing::warn!(%err, "the endpoint has no AdministratorAccess policy; admin keeps none");
    }
    let old = iam
        .list_access_keys()
        .user_name(ADMIN_USER)
        .send()
        .await
        .map_err(|e| StepError::from_sdk(&e))?;
    for key in old.access_key_metadata() {
        if let Some(key_id) = key.access_key_id() {
            iam.delete_access_key()
                .user_name(ADMIN_USER)
                .access_key_id(key_id)
                .send()
                .await
                .map_err(|e| StepError::from_sdk(&e))?;
        }
    }
    let key = iam
        .create_access_key()
        .user_name(ADMIN_USER)
        .send()
        .await
        .map_err(|e| StepError::from_sdk(&e))?
        .access_key
        .ok_or_else(|| {
            StepError::new("MalformedResponse", "CreateAccessKey returned no AccessKey")
        })?;
    let account = BackendAccount {
        name: name.to_string(),
        id: id.to_string(),
        admin_user: ADMIN_USER.to_string(),
        access_key_id: key.access_key_id().to_string(),
        secret_access_key: key.secret_access_key().to_string(),
    };
    let url = bootstrap.endpoint_url().unwrap_or_default();
    let admin = principal(
        "admin",
        id,
        &account.access_key_id,
        &account.secret_access_key,
        None,
        url,
    );
    let arn = expect_account(&admin, id).await?;
    if !arn.ends_with(&format!(":user/{ADMIN_USER}")) {
        return Err(StepError::new(
            "WrongIdentity",
            format!("the new key of {ADMIN_USER} acts as {arn}"),
        ));
    }
    Ok(account)
}
