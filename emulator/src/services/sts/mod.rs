//! STS over awsQuery: who am I, and role assumption with trust-policy evaluation and session
//! policies (`session_policies`); `decode` decodes the authorization messages of EC2's denials.

mod decode;
pub mod session_policies;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_decode;

use chrono::Duration;

use wana_policy::{NamedPolicy, Policy};

use crate::{
    authz::AuthzRequest,
    error::AwsError,
    principal::{Caller, CredentialKind, Principal},
    state::{AccessKey, KeyOwner, KeyStatus, Session, SessionPolicies, World},
    validation,
    value::Value,
};

use super::Call;

pub fn handle(world: &mut World, call: &Call<'_>) -> Option<Result<Value, AwsError>> {
    Some(match call.action {
        "GetCallerIdentity" => Ok(get_caller_identity(call)),
        "AssumeRole" => assume_role(world, call),
        "DecodeAuthorizationMessage" => decode::decode_authorization_message(world, call),
        _ => return None,
    })
}

/// Needs no permission: AWS answers it even when every action is denied.
fn get_caller_identity(call: &Call<'_>) -> Value {
    let principal = &call.caller.principal;
    Value::structure()
        .with("UserId", principal.user_id())
        .with("Account", principal.account())
        .with("Arn", principal.arn())
}

const DEFAULT_DURATION_SECONDS: i64 = 3600;
const MIN_DURATION_SECONDS: i64 = 900;
/// Role chaining (a role session assuming a role) is capped at one hour.
const ROLE_CHAINING_LIMIT_SECONDS: i64 = 3600;

fn assume_role(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let role_arn = call.required("RoleArn")?;
    let session_name = call.required("RoleSessionName")?;
    validate_session_name(session_name)?;
    let duration = call.optional_i64("DurationSeconds")?.unwrap_or(DEFAULT_DURATION_SECONDS);
    if duration < MIN_DURATION_SECONDS {
        return Err(AwsError::validation(validation::one(
            "durationSeconds",
            Some(&duration.to_string()),
            &format!("Member must have value greater than or equal to {MIN_DURATION_SECONDS}"),
        )));
    }
    let session_policies = session_policies::read(call)?;
    let caller = call.caller;
    let denied = || {
        AwsError::new(
            "AccessDenied",
            403,
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                caller.principal.arn()
            ),
        )
    };
    // A role that does not exist is reported like one whose trust policy says no, so that the
    // answer does not reveal which roles exist in another account.
    let (role_account, role_name) = parse_role_arn(role_arn).ok_or_else(|| {
        AwsError::validation(format!("{role_arn} is invalid"))
    })?;
    let role = world
        .account(role_account)
        .and_then(|a| a.iam.roles.get(role_name))
        .filter(|r| r.arn == role_arn || format!("arn:aws:iam::{role_account}:role/{}", r.name) == role_arn)
        .cloned();
    let Some(role) = role else {
        // Logged like every decision: no trust policy exists to allow it.
        world.authorize(call.facts(), &missing_role_request(role_arn, role_account));
        return Err(denied());
    };

    // A role IAM created moments ago is not known to STS yet (a fault profile's window).
    if let Some(from) = world.role_propagating(role.created, call.now) {
        let rule = format!(
            "not yet propagated: the role was created at {} and can be assumed from {}",
            role.created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        world.record_rule_refusal(&caller.principal.arn(), "sts:AssumeRole", &role.arn, &rule);
        return Err(denied());
    }

    let mut request = AuthzRequest::new("sts:AssumeRole", &role.arn);
    request.resource_policy = Some(&role.trust_policy.parsed);
    request.resource_account = Some(role_account);
    request.resource_policy_is_authoritative = true;
    request.context.push(("sts:RoleSessionName", session_name.to_string()));
    if let Some(external_id) = call.optional("ExternalId") {
        request.context.push(("sts:ExternalId", external_id.to_string()));
    }
    if !world.authorize(call.facts(), &request).is_allowed() {
        return Err(denied());
    }

    let chained = caller.credential_kind == CredentialKind::Temporary;
    if chained && duration > ROLE_CHAINING_LIMIT_SECONDS {
        return Err(AwsError::validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ));
    }
    if duration > role.max_session_duration {
        return Err(AwsError::validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }

    let (policies, packed_size) = match session_policies {
        Some((policies, size)) => (policies, Some(size)),
        None => (SessionPolicies::default(), None),
    };
    let spec = SessionSpec {
        account: role_account,
        role_name: &role.name,
        session_name,
        duration: Duration::seconds(duration),
        source_instance_arn: None,
        policies,
    };
    let MintedSession { access_key_id, secret, token, expires } = mint_session(world, call.now, spec);
    let session = Principal::AssumedRole {
        account: role_account.to_string(),
        role_name: role.name.clone(),
        role_path: role.path.clone(),
        role_id: role.id.clone(),
        session_name: session_name.to_string(),
    };
    Ok(Value::structure()
        .with(
            "Credentials",
            Value::structure()
                .with("AccessKeyId", access_key_id)
                .with("SecretAccessKey", secret)
                .with("SessionToken", token)
                .with("Expiration", expires),
        )
        .with(
            "AssumedRoleUser",
            Value::structure()
                .with("AssumedRoleId", session.user_id())
                .with("Arn", session.arn()),
        )
        .with_opt("PackedPolicySize", packed_size.map(i64::from)))
}

/// The question asked of a role that does not exist: with no trust policy to consult, the
/// authoritative resource policy is an empty one, so the decision is an implicit deny.
fn missing_role_request<'a>(role_arn: &'a str, role_account: &'a str) -> AuthzRequest<'a> {
    static NO_TRUST_POLICY: std::sync::OnceLock<NamedPolicy> = std::sync::OnceLock::new();
    let empty = NO_TRUST_POLICY.get_or_init(|| {
        NamedPolicy::new("no such role", Policy { version: None, id: None, statements: Vec::new() })
    });
    let mut request = AuthzRequest::new("sts:AssumeRole", role_arn);
    request.resource_policy = Some(empty);
    request.resource_account = Some(role_account);
    request.resource_policy_is_authoritative = true;
    request
}

/// A service assumes a role of an account to act (the port's `Acting::ServiceRole`): the role's
/// trust policy must allow the service principal, decided and logged like any `sts:AssumeRole`.
/// A role that does not exist, or whose trust policy does not name the service, gives
/// `AccessDenied` in STS's words.
pub fn service_session(
    world: &mut World,
    now: chrono::DateTime<chrono::Utc>,
    region: &str,
    account: &str,
    role_name: &str,
    service: &str,
    session_name: &str,
) -> Result<Caller, AwsError> {
    let role_arn = format!("arn:aws:iam::{account}:role/{role_name}");
    let role = world.account(account).and_then(|a| a.iam.roles.get(role_name)).cloned();
    let decision = match &role {
        Some(role) => {
            let mut request = AuthzRequest::new("sts:AssumeRole", &role.arn);
            request.resource_policy = Some(&role.trust_policy.parsed);
            request.resource_account = Some(account);
            request.resource_policy_is_authoritative = true;
            request.context.push(("sts:RoleSessionName", session_name.to_string()));
            world.authorize_service(service, now, region, &request)
        }
        None => world.authorize_service(service, now, region, &missing_role_request(&role_arn, account)),
    };
    let role = role.filter(|_| decision.is_allowed()).ok_or_else(|| {
        AwsError::new(
            "AccessDenied",
            403,
            format!("User: {service} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"),
        )
    })?;
    Ok(Caller {
        principal: Principal::AssumedRole {
            account: account.to_string(),
            role_name: role.name.clone(),
            role_path: role.path.clone(),
            role_id: role.id.clone(),
            session_name: session_name.to_string(),
        },
        access_key_id: String::new(),
        credential_kind: CredentialKind::Temporary,
        source_ip: std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        token_issued: Some(now),
        via_service: None,
    })
}

/// The temporary credentials of a role session, stored in `world.access_keys` so that requests
/// signed with them authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintedSession {
    pub access_key_id: String,
    pub secret: String,
    pub token: String,
    pub expires: chrono::DateTime<chrono::Utc>,
}

/// What a new role session is: whose, for how long, and with which session policies.
struct SessionSpec<'a> {
    account: &'a str,
    role_name: &'a str,
    session_name: &'a str,
    duration: Duration,
    source_instance_arn: Option<String>,
    policies: SessionPolicies,
}

fn mint_session(world: &mut World, now: chrono::DateTime<chrono::Utc>, spec: SessionSpec<'_>) -> MintedSession {
    let SessionSpec { account, role_name, session_name, duration, source_instance_arn, policies } = spec;
    let access_key_id = world.ids.access_key_id("ASIA");
    let secret = world.ids.secret_access_key();
    let token = world.ids.session_token();
    let expires = now + duration;
    world.access_keys.insert(
        access_key_id.clone(),
        AccessKey {
            id: access_key_id.clone(),
            secret: secret.clone(),
            created: now,
            status: KeyStatus::Active,
            owner: KeyOwner::Session(Session {
                account: account.to_string(),
                role_name: role_name.to_string(),
                session_name: session_name.to_string(),
                session_token: token.clone(),
                issued: now,
                expires,
                source_instance_arn,
                policies,
            }),
        },
    );
    MintedSession { access_key_id, secret, token, expires }
}

/// How long EC2's role sessions for instances last. Unconfirmed: AWS documents only that new
/// credentials are available at least five minutes before the old expire; observed documents show
/// about six hours between `LastUpdated` and `Expiration`, so six hours is chosen. EC2 is not
/// bound by the role's `MaxSessionDuration` here (unconfirmed either way).
pub const INSTANCE_SESSION_SECONDS: i64 = 6 * 3600;

/// EC2 obtains credentials for an instance's role: it assumes the role as `ec2.amazonaws.com`
/// with the instance id as the session name (session `assumed-role/<role>/<instance-id>`). The
/// trust policy decides, logged like any `sts:AssumeRole`; a refusal is STS's `AccessDenied`.
/// The credentials carry the instance as `ec2:SourceInstanceARN`, as AWS's instance
/// credentials do.
pub fn instance_role_session(
    world: &mut World,
    now: chrono::DateTime<chrono::Utc>,
    region: &str,
    account: &str,
    role_name: &str,
    instance_id: &str,
) -> Result<MintedSession, AwsError> {
    service_session(world, now, region, account, role_name, "ec2.amazonaws.com", instance_id)?;
    let source = format!("arn:aws:ec2:{region}:{account}:instance/{instance_id}");
    let duration = Duration::seconds(INSTANCE_SESSION_SECONDS);
    let spec = SessionSpec {
        account,
        role_name,
        session_name: instance_id,
        duration,
        source_instance_arn: Some(source),
        policies: SessionPolicies::default(),
    };
    Ok(mint_session(world, now, spec))
}

/// `arn:aws:iam::<account>:role/<path/><name>` → (account, name).
fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("role/")?;
    let name = path_and_name.rsplit('/').next()?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty())
        .then_some((account, name))
}

fn validate_session_name(name: &str) -> Result<(), AwsError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    if !name.chars().all(allowed) {
        return Err(AwsError::validation(validation::one(
            "roleSessionName",
            Some(name),
            "Member must satisfy regular expression pattern: [\\w+=,.@-]*",
        )));
    }
    if !(2..=64).contains(&name.len()) {
        return Err(AwsError::validation(validation::one(
            "roleSessionName",
            Some(name),
            "Member must have length between 2 and 64",
        )));
    }
    Ok(())
}

#[cfg(test)]
mod arn_tests {
    use super::*;

    #[test]
    fn role_arns_with_paths_resolve_to_the_role_name() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::111111111111:role/service/Deployer"),
            Some(("111111111111", "Deployer"))
        );
        assert_eq!(parse_role_arn("arn:aws:iam::11:role/X"), None);
        assert_eq!(parse_role_arn("arn:aws:iam::111111111111:user/X"), None);
    }
}
