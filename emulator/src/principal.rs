//! Who is calling: the principal behind an access key, and what kind of credentials it used.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use wana_policy::PrincipalInfo;

/// An authenticated identity, resolved from the access key that signed the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User {
        account: String,
        name: String,
        path: String,
        user_id: String,
    },
    /// A session of an assumed role (`arn:aws:sts::<acct>:assumed-role/<role>/<session>`).
    AssumedRole {
        account: String,
        role_name: String,
        role_path: String,
        role_id: String,
        session_name: String,
    },
}

impl Principal {
    pub fn account(&self) -> &str {
        match self {
            Principal::User { account, .. } | Principal::AssumedRole { account, .. } => account,
        }
    }

    /// The ARN AWS shows for this caller (GetCallerIdentity, AccessDenied messages).
    pub fn arn(&self) -> String {
        match self {
            Principal::User { account, name, path, .. } => {
                format!("arn:aws:iam::{account}:user{path}{name}")
            }
            Principal::AssumedRole { account, role_name, session_name, .. } => {
                format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}")
            }
        }
    }

    /// `aws:userid`: the user's unique id, or `<role id>:<session name>` for a role session.
    pub fn user_id(&self) -> String {
        match self {
            Principal::User { user_id, .. } => user_id.clone(),
            Principal::AssumedRole { role_id, session_name, .. } => format!("{role_id}:{session_name}"),
        }
    }

    /// The ARN of the IAM entity behind the caller (`aws:PrincipalArn`): for a role session,
    /// the role, which is also what a resource policy may name to admit its sessions.
    pub fn entity_arn(&self) -> String {
        match self {
            Principal::User { .. } => self.arn(),
            Principal::AssumedRole { account, role_name, role_path, .. } => {
                format!("arn:aws:iam::{account}:role{role_path}{role_name}")
            }
        }
    }

    /// `aws:PrincipalType`.
    pub fn principal_type(&self) -> &'static str {
        match self {
            Principal::User { .. } => "User",
            Principal::AssumedRole { .. } => "AssumedRole",
        }
    }

    /// What the policy engine needs to match this caller against `Principal` blocks.
    pub fn policy_info(&self) -> PrincipalInfo {
        let mut arns = vec![self.arn()];
        if let Principal::AssumedRole { .. } = self {
            arns.push(self.entity_arn());
        }
        PrincipalInfo {
            account: self.account().to_string(),
            arns,
            service: None,
            is_root: false,
        }
    }
}

/// Long-term keys (`AKIA…`) belong to IAM users; temporary ones (`ASIA…` with a session token)
/// come from STS. Some AWS behaviour depends on which kind signed a request, so every request
/// remembers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    LongTerm,
    Temporary,
}

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub access_key_id: String,
    pub credential_kind: CredentialKind,
    pub source_ip: IpAddr,
    /// When the session's credentials were issued, for `aws:TokenIssueTime`.
    pub token_issued: Option<DateTime<Utc>>,
    /// The service principal (`cloudformation.amazonaws.com`) that makes this call with the
    /// caller's identity, in a forward access session; `None` for the caller's own request.
    pub via_service: Option<String>,
}

/// The services that name themselves in `aws:CalledVia` when they call with a principal's
/// credentials (IAM user guide, "AWS global condition context keys", `aws:CalledVia`). Other
/// services (EC2 using a volume's key) set only `aws:ViaAWSService`.
pub const CALLED_VIA_SERVICES: [&str; 4] =
    ["athena.amazonaws.com", "cloudformation.amazonaws.com", "dynamodb.amazonaws.com", "kms.amazonaws.com"];

impl Caller {
    /// The same identity, used by `service` on the caller's behalf (a forward access session).
    pub fn via(&self, service: &str) -> Caller {
        Caller { via_service: Some(service.to_string()), ..self.clone() }
    }
}
