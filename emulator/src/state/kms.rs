//! KMS of one account in one region: keys with their key policy, state and grants, and aliases;
//! and the KMS operations on them, decided the way KMS decides.
//!
//! # Authorization
//!
//! Every operation on a key asks [`World::authorize`] with the key policy as the resource policy,
//! marked authoritative: the key policy must allow the caller itself, or name the caller's
//! account and so delegate to the account's IAM policies; an explicit deny anywhere wins; a key
//! in another account needs both the key policy and the caller's IAM policies. KMS condition
//! keys (`kms:CallerAccount`, `kms:ViaService`, `kms:GrantIsForAWSResource`,
//! `kms:EncryptionContext:<key>`, `kms:GrantOperations`, ...) go with the request. When the
//! policies deny only implicitly, a grant on the key whose grantee is the caller (its own ARN,
//! or for a role session the role's ARN), that allows the operation and whose constraints the
//! request's encryption context meets, allows it. Nothing here knows a trap: a failure is always
//! what the key policy, the IAM policies and the grants of the world say.
//!
//! # Cryptography
//!
//! This is an emulator: key material is not secret. Each key's 256-bit AES key is SHA-256 over a
//! fixed emulator salt and the key id, so runs are repeatable. Encryption is real AES-256-GCM
//! with the encryption context as additional authenticated data, so a wrong context fails as on
//! AWS (`InvalidCiphertextException`). Nonces come from a per-key counter. A ciphertext blob
//! carries the key ARN, so `Decrypt` finds its key without a `KeyId`.
//!
//! # Error texts
//!
//! Confirmed as AWS's wording (from real responses quoted in public bug reports and the KMS
//! developer guide's key-state table): `Key '<arn>' does not exist`, `Alias <alias arn> is not
//! found.`, `Invalid arn` (NotFoundException), `<arn> is disabled.`, `<arn> is pending
//! deletion.`, `<arn> is not pending deletion.`, `The new key policy will not allow you to update
//! the key policy in the future.`, `An alias with the name <alias arn> already exists`,
//! `Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html`,
//! `Grants must not contain only the CreateGrant operation.`, `More than one constraint
//! supplied`, `Policy contains a statement with one or more invalid principals.`, the
//! `AccessDeniedException` sentence of [`crate::authz::denied_message`], and the empty message
//! of `InvalidCiphertextException`.
//!
//! Not confirmed (chosen after other emulators or AWS's style): `NotAuthorizedException` without
//! a message for a reserved `alias/aws/` name, `Aliases must refer to keys. Not aliases`,
//! `Please specify either number of bytes or key spec.`, the `IncorrectKeyException` sentence,
//! the texts for a missing grant, a bad grant token and an unknown policy name, and that
//! operations without cross-account use answer `NotFoundException` for another account's key.

use std::{
    collections::{BTreeMap, HashSet},
    sync::{Arc, Mutex, OnceLock},
};

use aes_gcm::{
    aead::{Aead, KeyInit, Payload},
    Aes256Gcm,
};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use wana_policy::{AwsPrincipal, NamedPolicy, Outcome, Policy, PolicyKind, PrincipalBlock};

use super::World;
use crate::{
    authz::{denied_message, AuthzRequest, RequestFacts},
    error::AwsError,
    principal::Principal,
};

/// An encryption context: ordered, so that its authenticated encoding is canonical.
pub type EncryptionContext = BTreeMap<String, String>;

/// The only key policy name KMS has.
pub const DEFAULT_POLICY_NAME: &str = "default";

/// The operations a grant can allow (`GrantOperation` in the KMS model).
pub const GRANT_OPERATIONS: [&str; 19] = [
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "GetPublicKey",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
    "Encapsulate",
    "Decapsulate",
];

/// The alias of the AWS managed key for EBS.
pub const EBS_ALIAS: &str = "alias/aws/ebs";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Enabled => "Enabled",
            KeyState::Disabled => "Disabled",
            KeyState::PendingDeletion => "PendingDeletion",
        }
    }
}

/// Who manages a key: the customer, or AWS (`alias/aws/...` keys, whose policy nobody edits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyManager {
    Customer,
    Aws,
}

impl KeyManager {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyManager::Customer => "CUSTOMER",
            KeyManager::Aws => "AWS",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Key {
    pub id: String,
    pub arn: String,
    pub account: String,
    pub region: String,
    pub created: DateTime<Utc>,
    pub description: String,
    pub key_usage: String,
    pub key_spec: String,
    pub state: KeyState,
    pub manager: KeyManager,
    /// The key policy as written: KMS returns it as it was put.
    pub policy_text: String,
    /// Shared so that an authorization can hold it while the world changes.
    pub policy: Arc<NamedPolicy>,
    pub deletion_date: Option<DateTime<Utc>>,
    pub pending_window_days: Option<i64>,
    pub tags: Vec<(String, String)>,
    pub grants: Vec<Grant>,
    /// Nonces of this key's encryptions: one per encryption, never reused.
    next_nonce: u64,
}

impl Key {
    pub fn enabled(&self) -> bool {
        self.state == KeyState::Enabled
    }
}

/// A grant's encryption-context constraint: at most one of the two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantConstraints {
    /// The request's context must be exactly this.
    EncryptionContextEquals(EncryptionContext),
    /// The request's context must contain these pairs (and may hold more).
    EncryptionContextSubset(EncryptionContext),
}

impl GrantConstraints {
    pub fn type_name(&self) -> &'static str {
        match self {
            GrantConstraints::EncryptionContextEquals(_) => "EncryptionContextEquals",
            GrantConstraints::EncryptionContextSubset(_) => "EncryptionContextSubset",
        }
    }

    pub fn allows(&self, context: &EncryptionContext) -> bool {
        match self {
            GrantConstraints::EncryptionContextEquals(wanted) => wanted == context,
            GrantConstraints::EncryptionContextSubset(wanted) => {
                wanted.iter().all(|(k, v)| context.get(k) == Some(v))
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Grant {
    pub id: String,
    pub name: Option<String>,
    pub created: DateTime<Utc>,
    /// An IAM ARN or a service principal (`ec2.amazonaws.com`).
    pub grantee: String,
    pub retiring: Option<String>,
    /// The account of the principal that created the grant.
    pub issuing_account: String,
    /// Grant operation names (`Decrypt`, ...), in the order given, without repeats.
    pub operations: Vec<String>,
    pub constraints: Option<GrantConstraints>,
}

impl Grant {
    pub fn allows_operation(&self, operation: &str) -> bool {
        self.operations.iter().any(|o| o == operation)
    }
}

#[derive(Debug, Clone)]
pub struct Alias {
    pub name: String,
    pub arn: String,
    pub target_key_id: String,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

/// Everything KMS holds for one account in one region.
#[derive(Debug, Default, Clone)]
pub struct State {
    /// By key id.
    pub keys: BTreeMap<String, Key>,
    /// By alias name (`alias/...`).
    pub aliases: BTreeMap<String, Alias>,
}

/// Effects KMS performs later, on the emulator clock.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The waiting period of a key scheduled for deletion is over.
    DeleteKey { key_id: String },
}

/// Applies a due event (see [`super::scheduler`]).
pub fn on_event(world: &mut super::World, due: &super::scheduler::Scheduled, event: Event) {
    match event {
        Event::DeleteKey { key_id } => {
            let Some(kms) = world.regional_mut(&due.account, &due.region).map(|r| &mut r.kms) else {
                return;
            };
            // A cancelled deletion leaves the key; a deletion cancelled and scheduled again runs
            // on its own, later event.
            let due_now = kms.keys.get(&key_id).is_some_and(|k| {
                k.state == KeyState::PendingDeletion && k.deletion_date.is_some_and(|d| d <= due.at)
            });
            if due_now {
                kms.keys.remove(&key_id);
                kms.aliases.retain(|_, a| a.target_key_id != key_id);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors.

/// KMS's errors, with KMS's texts. Every KMS error is HTTP 400.
pub mod errors {
    use crate::error::AwsError;

    fn kms(code: &'static str, message: impl Into<String>) -> AwsError {
        AwsError::new(code, 400, message)
    }

    pub fn key_not_found(key_arn: &str) -> AwsError {
        kms("NotFoundException", format!("Key '{key_arn}' does not exist"))
    }

    pub fn alias_not_found(alias_arn: &str) -> AwsError {
        kms("NotFoundException", format!("Alias {alias_arn} is not found."))
    }

    /// An ARN that is not a KMS ARN of this region.
    pub fn invalid_arn() -> AwsError {
        kms("NotFoundException", "Invalid arn")
    }

    pub fn disabled(key_arn: &str) -> AwsError {
        kms("DisabledException", format!("{key_arn} is disabled."))
    }

    pub fn pending_deletion(key_arn: &str) -> AwsError {
        kms("KMSInvalidStateException", format!("{key_arn} is pending deletion."))
    }

    pub fn not_pending_deletion(key_arn: &str) -> AwsError {
        kms("KMSInvalidStateException", format!("{key_arn} is not pending deletion."))
    }

    pub fn access_denied(message: String) -> AwsError {
        kms("AccessDeniedException", message)
    }

    pub fn malformed_policy(message: impl Into<String>) -> AwsError {
        kms("MalformedPolicyDocumentException", message)
    }

    /// The policy-lockout safety check.
    pub fn lockout() -> AwsError {
        malformed_policy("The new key policy will not allow you to update the key policy in the future.")
    }

    pub fn invalid_principals() -> AwsError {
        malformed_policy("Policy contains a statement with one or more invalid principals.")
    }

    pub fn validation(message: impl Into<String>) -> AwsError {
        kms("ValidationException", message)
    }

    /// `Value null at 'keyId' ...`: a required member is absent.
    pub fn missing(member: &str) -> AwsError {
        validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    }

    /// KMS answers a ciphertext it cannot use without any message.
    pub fn invalid_ciphertext() -> AwsError {
        kms("InvalidCiphertextException", "")
    }

    pub fn incorrect_key() -> AwsError {
        kms(
            "IncorrectKeyException",
            "The key ID in the request does not identify a KMS key that can perform this operation.",
        )
    }

    pub fn alias_exists(alias_arn: &str) -> AwsError {
        kms("AlreadyExistsException", format!("An alias with the name {alias_arn} already exists"))
    }

    pub fn reserved_alias() -> AwsError {
        kms("NotAuthorizedException", "")
    }

    pub fn unsupported(message: impl Into<String>) -> AwsError {
        kms("UnsupportedOperationException", message)
    }

    pub fn grant_not_found(grant_id: &str) -> AwsError {
        kms("NotFoundException", format!("Grant ID {grant_id} not found"))
    }

    pub fn invalid_grant_token() -> AwsError {
        kms("InvalidGrantTokenException", "Invalid grant token")
    }

    pub fn invalid_grant_id() -> AwsError {
        kms("InvalidGrantIdException", "Invalid grant ID")
    }

    pub fn no_such_policy() -> AwsError {
        kms("NotFoundException", "No such policy exists")
    }

    pub fn invalid_marker() -> AwsError {
        kms("InvalidMarkerException", "Invalid marker")
    }
}

// ---------------------------------------------------------------------------------------------
// Addresses: how a request names a key.

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
fn split_kms_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:aws:kms:")?;
    let (region, rest) = rest.split_once(':')?;
    let (account, resource) = rest.split_once(':')?;
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    (!region.is_empty() && account_ok).then_some((region, account, resource))
}

/// Whether an operation may address a key of another account (the "Cross-account use" line of
/// each operation's reference page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    CrossAccount,
    OwnAccount,
}

/// Resolves a `KeyId` (key id, key ARN, alias name or alias ARN) to a key. A key id or an alias
/// name resolves in the caller's account and the request's region only; another account's key
/// is reached by its ARN.
fn resolve(world: &mut World, facts: &RequestFacts<'_>, key_ref: &str, reach: Reach) -> Result<KeyAddr, AwsError> {
    let caller_account = facts.caller.principal.account().to_string();
    let region = facts.region;
    let addr = if key_ref.starts_with("arn:") {
        let (arn_region, account, resource) = split_kms_arn(key_ref).ok_or_else(errors::invalid_arn)?;
        if arn_region != region {
            return Err(errors::invalid_arn());
        }
        if let Some(alias_name) = resource.strip_prefix("alias/").map(|n| format!("alias/{n}")) {
            resolve_alias(world, &caller_account, account, region, &alias_name, facts.now)?
        } else if let Some(id) = resource.strip_prefix("key/") {
            KeyAddr { account: account.to_string(), region: region.to_string(), id: id.to_string() }
        } else {
            return Err(errors::invalid_arn());
        }
    } else if key_ref.starts_with("alias/") {
        resolve_alias(world, &caller_account, &caller_account, region, key_ref, facts.now)?
    } else {
        KeyAddr { account: caller_account.clone(), region: region.to_string(), id: key_ref.to_string() }
    };
    if reach == Reach::OwnAccount && addr.account != caller_account {
        return Err(errors::key_not_found(&addr.arn()));
    }
    if key(world, &addr).is_none() {
        return Err(errors::key_not_found(&addr.arn()));
    }
    Ok(addr)
}

fn resolve_alias(
    world: &mut World,
    caller_account: &str,
    account: &str,
    region: &str,
    alias_name: &str,
    now: DateTime<Utc>,
) -> Result<KeyAddr, AwsError> {
    // AWS creates an AWS managed key the first time its account uses its alias.
    if alias_name == EBS_ALIAS && account == caller_account && world.account(account).is_some() {
        ensure_ebs_key(world, account, region, now);
    }
    let target = world
        .regional(account, region)
        .and_then(|r| r.kms.aliases.get(alias_name))
        .map(|a| a.target_key_id.clone())
        .ok_or_else(|| errors::alias_not_found(&alias_arn(region, account, alias_name)))?;
    Ok(KeyAddr { account: account.to_string(), region: region.to_string(), id: target })
}

pub fn key<'w>(world: &'w World, addr: &KeyAddr) -> Option<&'w Key> {
    world.regional(&addr.account, &addr.region)?.kms.keys.get(&addr.id)
}

fn key_mut<'w>(world: &'w mut World, addr: &KeyAddr) -> Result<&'w mut Key, AwsError> {
    world
        .accounts
        .get_mut(&addr.account)
        .and_then(|a| a.regions.get_mut(&addr.region))
        .and_then(|r| r.kms.keys.get_mut(&addr.id))
        .ok_or_else(|| errors::key_not_found(&addr.arn()))
}

fn existing_key(world: &World, addr: &KeyAddr) -> Result<Key, AwsError> {
    key(world, addr).cloned().ok_or_else(|| errors::key_not_found(&addr.arn()))
}

/// Looks up a key that a `KeyId` names, as the caller (for EC2: the `KmsKeyId` of a volume).
pub fn resolve_key_arn(world: &mut World, facts: RequestFacts<'_>, key_ref: &str) -> Result<String, AwsError> {
    resolve(world, &facts, key_ref, Reach::CrossAccount).map(|a| a.arn())
}

// ---------------------------------------------------------------------------------------------
// Authorization.

/// What a request asks of a key, beyond the action.
#[derive(Debug, Clone, Default)]
pub struct KeyUse<'a> {
    /// The grant operation the request is (`Decrypt`), when a grant can allow it.
    pub grant_operation: Option<&'static str>,
    pub encryption_context: Option<&'a EncryptionContext>,
    /// The service endpoint (`ec2.us-east-1.amazonaws.com`) when a service calls for the caller
    /// with a forward access session.
    pub via_service: Option<&'a str>,
    /// The service principal (`ec2.amazonaws.com`) that performs the operation for the caller
    /// under its own grant: its grants count as well as the caller's.
    pub acting_service: Option<&'a str>,
    /// For `kms:CreateGrant`: the grant being created.
    pub new_grant: Option<&'a NewGrant>,
    /// The operation is one of the grant APIs (CreateGrant, ListGrants, RevokeGrant), which
    /// carry `kms:GrantIsForAWSResource`.
    pub grant_api: bool,
    /// Further condition keys.
    pub extra: Vec<(&'static str, String)>,
}

/// Condition-key names built from request data (`kms:EncryptionContext:<key>`) must outlive the
/// request in `AuthzRequest::context`, which holds `&'static str` names. Each distinct name is
/// kept once; the number kept is bounded, and a name beyond the bound is left out of the
/// request context (a condition on it then sees the key as absent).
fn interned(name: String) -> Option<&'static str> {
    const MAX_NAMES: usize = 4096;
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(existing) = names.get(name.as_str()) {
        return Some(existing);
    }
    if names.len() >= MAX_NAMES {
        return None;
    }
    let leaked: &'static str = Box::leak(name.into_boxed_str());
    names.insert(leaked);
    Some(leaked)
}

/// The KMS condition keys of a request on a key.
fn kms_context(facts: &RequestFacts<'_>, key: &Key, usage: &KeyUse<'_>) -> Vec<(&'static str, String)> {
    let mut context = vec![
        ("kms:CallerAccount", facts.caller.principal.account().to_string()),
        ("kms:KeySpec", key.key_spec.clone()),
        ("kms:KeyUsage", key.key_usage.clone()),
        ("kms:KeyOrigin", "AWS_KMS".to_string()),
    ];
    if let Some(service) = usage.via_service {
        context.push(("kms:ViaService", service.to_string()));
        context.push(("aws:ViaAWSService", "true".to_string()));
    }
    if usage.grant_api {
        let for_aws_resource = usage.via_service.is_some();
        context.push(("kms:GrantIsForAWSResource", for_aws_resource.to_string()));
    }
    if let Some(encryption_context) = usage.encryption_context {
        for (k, v) in encryption_context {
            if let Some(name) = interned(format!("kms:EncryptionContext:{k}")) {
                context.push((name, v.clone()));
            }
            // Multivalued: see the note on `kms:GrantOperations`.
            context.push(("kms:EncryptionContextKeys", k.clone()));
        }
    }
    if let Some(grant) = usage.new_grant {
        // `kms:GrantOperations` is multivalued. `AuthzRequest::context` holds one value per
        // entry, so each operation is one entry; `World::authorize` keeps the last value of a
        // repeated key until it passes repeated keys as one multivalued key.
        for operation in &grant.operations {
            context.push(("kms:GrantOperations", operation.clone()));
        }
        context.push(("kms:GranteePrincipal", grant.grantee.clone()));
        if let Some(retiring) = &grant.retiring {
            context.push(("kms:RetiringPrincipal", retiring.clone()));
        }
        if let Some(constraints) = &grant.constraints {
            context.push(("kms:GrantConstraintType", constraints.type_name().to_string()));
        }
    }
    context.extend(usage.extra.iter().cloned());
    context
}

/// The identities a grant's grantee or retiring principal may name for this caller.
fn caller_identities(principal: &Principal) -> [String; 2] {
    [principal.arn(), principal.entity_arn()]
}

/// Whether a grant allows what `usage` asks, for a caller with these identities.
fn grant_covers(grant: &Grant, identities: &[String], acting_service: Option<&str>, usage: &KeyUse<'_>) -> bool {
    let Some(operation) = usage.grant_operation else {
        return false;
    };
    let grantee_matches = identities.contains(&grant.grantee)
        || acting_service.is_some_and(|s| s == grant.grantee);
    if !grantee_matches || !grant.allows_operation(operation) {
        return false;
    }
    if operation == "CreateGrant" {
        // A grant that allows CreateGrant lets its grantee pass on only what it holds itself,
        // under the same constraint.
        let Some(new) = usage.new_grant else {
            return false;
        };
        return new.operations.iter().all(|o| grant.allows_operation(o))
            && (grant.constraints.is_none() || grant.constraints == new.constraints);
    }
    match &grant.constraints {
        None => true,
        Some(constraints) => {
            let empty = EncryptionContext::new();
            usage.encryption_context.is_some() && constraints.allows(usage.encryption_context.unwrap_or(&empty))
        }
    }
}

/// Asks whether the caller may perform `action` on the key: key policy, IAM policies and
/// conditions through [`World::authorize`], then the key's grants for what the policies leave
/// only implicitly denied. Denied → `AccessDeniedException` with AWS's sentence.
pub fn authorize_key(
    world: &mut World,
    facts: RequestFacts<'_>,
    addr: &KeyAddr,
    action: &'static str,
    usage: &KeyUse<'_>,
) -> Result<(), AwsError> {
    let key = existing_key(world, addr)?;
    let context = kms_context(&facts, &key, usage);
    let mut request = AuthzRequest::new(action, &key.arn);
    request.resource_policy = Some(&key.policy);
    request.resource_account = Some(&key.account);
    request.resource_policy_is_authoritative = true;
    request.context = context;
    let decision = world.authorize(facts, &request);
    if decision.is_allowed() {
        return Ok(());
    }
    if matches!(decision.outcome, Outcome::ImplicitDeny { .. }) {
        let identities = caller_identities(&facts.caller.principal);
        if let Some(grant) = key.grants.iter().find(|g| grant_covers(g, &identities, usage.acting_service, usage)) {
            tracing::debug!(
                caller = %facts.caller.principal.arn(),
                action,
                key = %key.arn,
                grant = %grant.id,
                "allowed by a grant"
            );
            // The policies' implicit deny was logged; the log must say the call went through.
            let by = format!("grant {} for {}", grant.id, grant.grantee);
            world.authz_log.allow_latest(&by);
            return Ok(());
        }
    }
    Err(errors::access_denied(denied_message(&facts.caller.principal.arn(), action, &key.arn, &decision)))
}

/// An identity-policy-only question (`kms:CreateKey`, `kms:ListKeys`, aliases), answered in
/// KMS's error form.
fn authorize_identity(
    world: &mut World,
    facts: RequestFacts<'_>,
    action: &'static str,
    resource: &str,
    context: Vec<(&'static str, String)>,
) -> Result<(), AwsError> {
    let mut request = AuthzRequest::new(action, resource);
    request.context = context;
    request.context.push(("kms:CallerAccount", facts.caller.principal.account().to_string()));
    let decision = world.authorize(facts, &request);
    if decision.is_allowed() {
        Ok(())
    } else {
        Err(errors::access_denied(denied_message(&facts.caller.principal.arn(), action, resource, &decision)))
    }
}

/// Key-state rules of the KMS key-state table.
fn require_usable(key: &Key) -> Result<(), AwsError> {
    match key.state {
        KeyState::Enabled => Ok(()),
        KeyState::Disabled => Err(errors::disabled(&key.arn)),
        KeyState::PendingDeletion => Err(errors::pending_deletion(&key.arn)),
    }
}

fn require_not_pending_deletion(key: &Key) -> Result<(), AwsError> {
    match key.state {
        KeyState::PendingDeletion => Err(errors::pending_deletion(&key.arn)),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Key policies.

/// The key policy KMS gives a key created without one (CreateKey API, not the console): the
/// account is allowed everything, which delegates to the account's IAM policies.
pub fn default_key_policy(account: &str) -> String {
    format!(
        r#"{{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {{
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "arn:aws:iam::{account}:root"
    }},
    "Action" : "kms:*",
    "Resource" : "*"
  }} ]
}}"#
    )
}

/// AWS's published key policy of the AWS managed key `aws/ebs`: anyone in the account may use
/// the key through EC2 in its region, and the account may read its metadata and revoke grants.
pub fn ebs_managed_key_policy(account: &str, region: &str) -> String {
    format!(
        r#"{{
  "Version" : "2012-10-17",
  "Id" : "auto-ebs-2",
  "Statement" : [ {{
    "Sid" : "Allow access through EBS for all principals in the account that are authorized to use EBS",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "*"
    }},
    "Action" : [ "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey" ],
    "Resource" : "*",
    "Condition" : {{
      "StringEquals" : {{
        "kms:CallerAccount" : "{account}",
        "kms:ViaService" : "ec2.{region}.amazonaws.com"
      }}
    }}
  }}, {{
    "Sid" : "Allow direct access to key metadata to the account",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "arn:aws:iam::{account}:root"
    }},
    "Action" : [ "kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant" ],
    "Resource" : "*"
  }} ]
}}"#
    )
}

fn policy_name(key_arn: &str) -> String {
    format!("key policy of {key_arn}")
}

/// Parses a key policy: a resource policy whose IAM users and roles must exist.
fn parse_key_policy(world: &World, text: &str, key_arn: &str) -> Result<NamedPolicy, AwsError> {
    let policy = Policy::parse(text, PolicyKind::Resource).map_err(|e| errors::malformed_policy(e.to_string()))?;
    for statement in &policy.statements {
        let Some(PrincipalBlock::Principal(set) | PrincipalBlock::NotPrincipal(set)) = &statement.principal else {
            continue;
        };
        for principal in &set.aws {
            if let AwsPrincipal::Arn(arn) = principal {
                if world.iam_principal_exists(arn) == Some(false) {
                    return Err(errors::invalid_principals());
                }
            }
        }
    }
    Ok(NamedPolicy::new(policy_name(key_arn), policy))
}

/// The policy-lockout safety check: the new policy, with the caller's IAM policies, must still
/// let the caller put a key policy.
fn check_lockout(
    world: &mut World,
    facts: RequestFacts<'_>,
    key_arn: &str,
    key_account: &str,
    policy: &NamedPolicy,
) -> Result<(), AwsError> {
    let mut request = AuthzRequest::new("kms:PutKeyPolicy", key_arn);
    request.resource_policy = Some(policy);
    request.resource_account = Some(key_account);
    request.resource_policy_is_authoritative = true;
    request.context = vec![
        ("kms:CallerAccount", facts.caller.principal.account().to_string()),
        ("kms:BypassPolicyLockoutSafetyCheck", "false".to_string()),
    ];
    if world.authorize(facts, &request).is_allowed() {
        Ok(())
    } else {
        Err(errors::lockout())
    }
}

// ---------------------------------------------------------------------------------------------
// Identifiers and cryptography.

fn counter(world: &mut World, kind: &'static str) -> u64 {
    let id = world.ids.hex_id(kind);
    id.rsplit('-').next().and_then(|n| u64::from_str_radix(n, 16).ok()).unwrap_or(0)
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// A key id in AWS's UUID shape, derived from a per-run counter.
fn new_key_id(world: &mut World) -> String {
    let n = counter(world, "kms-key");
    let h = sha256(&[b"wana-kms-key-id", &n.to_be_bytes()]);
    let hex = hex::encode(&h[..16]);
    format!("{}-{}-4{}-8{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

/// A 64-hex-digit grant id.
fn new_grant_id(world: &mut World) -> String {
    let n = counter(world, "kms-grant");
    hex::encode(sha256(&[b"wana-kms-grant-id", &n.to_be_bytes()]))
}

const GRANT_TOKEN_PREFIX: &str = "wana-grant-token:";

/// A grant token: unique per CreateGrant call, and naming its grant, so that RetireGrant can
/// find the grant from the token alone.
fn new_grant_token(world: &mut World, key_arn: &str, grant_id: &str) -> String {
    let n = counter(world, "kms-grant-token");
    base64::engine::general_purpose::STANDARD.encode(format!("{GRANT_TOKEN_PREFIX}{key_arn}:{grant_id}:{n}"))
}

fn parse_grant_token(token: &str) -> Option<(KeyAddr, String)> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(token).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let rest = text.strip_prefix(GRANT_TOKEN_PREFIX)?;
    let mut parts = rest.rsplitn(3, ':');
    let _n = parts.next()?;
    let grant_id = parts.next()?;
    let key_arn = parts.next()?;
    Some((parse_key_arn(key_arn)?, grant_id.to_string()))
}

/// The emulator's fixed salt for key material. Not a secret: this is an emulator.
const KEY_MATERIAL_SALT: &[u8] = b"wana-emulator/kms/key-material/v1";

fn key_material(key_id: &str) -> [u8; 32] {
    sha256(&[KEY_MATERIAL_SALT, key_id.as_bytes()])
}

/// The encryption context as authenticated data: pairs in key order, each part
/// length-prefixed, so that no two contexts share an encoding.
fn context_aad(context: &EncryptionContext) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in context {
        for part in [k.as_bytes(), v.as_bytes()] {
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(part);
        }
    }
    out
}

const BLOB_MAGIC: &[u8; 4] = b"WKMS";
const BLOB_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

fn seal(key: &mut Key, plaintext: &[u8], context: &EncryptionContext) -> Result<Vec<u8>, AwsError> {
    key.next_nonce += 1;
    let mut nonce = [0u8; NONCE_LEN];
    nonce[4..].copy_from_slice(&key.next_nonce.to_be_bytes());
    let material = key_material(&key.id);
    let cipher = Aes256Gcm::new(aes_gcm::Key::<Aes256Gcm>::from_slice(&material));
    let aad = context_aad(context);
    let sealed = cipher
        .encrypt(aes_gcm::Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad })
        .map_err(|_| AwsError::new("KMSInternalException", 500, "encryption failed"))?;
    let arn = key.arn.as_bytes();
    let mut blob = Vec::with_capacity(4 + 1 + 2 + arn.len() + NONCE_LEN + sealed.len());
    blob.extend_from_slice(BLOB_MAGIC);
    blob.push(BLOB_VERSION);
    blob.extend_from_slice(&(arn.len() as u16).to_be_bytes());
    blob.extend_from_slice(arn);
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&sealed);
    Ok(blob)
}

/// A ciphertext blob taken apart: the key it names, the nonce and the sealed bytes.
struct Blob<'a> {
    key: KeyAddr,
    nonce: &'a [u8],
    sealed: &'a [u8],
}

fn parse_blob(blob: &[u8]) -> Option<Blob<'_>> {
    let rest = blob.strip_prefix(BLOB_MAGIC.as_slice())?;
    let (&version, rest) = rest.split_first()?;
    if version != BLOB_VERSION || rest.len() < 2 {
        return None;
    }
    let arn_len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
    let rest = &rest[2..];
    if rest.len() < arn_len + NONCE_LEN {
        return None;
    }
    let arn = std::str::from_utf8(&rest[..arn_len]).ok()?;
    let key = parse_key_arn(arn)?;
    let (nonce, sealed) = rest[arn_len..].split_at(NONCE_LEN);
    Some(Blob { key, nonce, sealed })
}

fn open(key: &Key, blob: &Blob<'_>, context: &EncryptionContext) -> Result<Vec<u8>, AwsError> {
    let material = key_material(&key.id);
    let cipher = Aes256Gcm::new(aes_gcm::Key::<Aes256Gcm>::from_slice(&material));
    let aad = context_aad(context);
    cipher
        .decrypt(aes_gcm::Nonce::from_slice(blob.nonce), Payload { msg: blob.sealed, aad: &aad })
        .map_err(|_| errors::invalid_ciphertext())
}

/// Data-key bytes: deterministic, distinct for every data key of every key.
fn data_key_bytes(key: &Key, length: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(length + 32);
    let mut block: u64 = 0;
    while out.len() < length {
        out.extend_from_slice(&sha256(&[
            b"wana-kms-data-key",
            key.id.as_bytes(),
            &key.next_nonce.to_be_bytes(),
            &block.to_be_bytes(),
        ]));
        block += 1;
    }
    out.truncate(length);
    out
}

// ---------------------------------------------------------------------------------------------
// Keys.

/// CreateKey's input.
#[derive(Debug, Clone, Default)]
pub struct NewKey<'a> {
    pub description: Option<&'a str>,
    pub key_usage: Option<&'a str>,
    pub key_spec: Option<&'a str>,
    pub policy: Option<&'a str>,
    pub bypass_policy_lockout_safety_check: bool,
    pub tags: Vec<(String, String)>,
}

const KEY_USAGES: [&str; 5] = ["SIGN_VERIFY", "ENCRYPT_DECRYPT", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT", "ENCAPSULATE_DECAPSULATE"];

fn enum_error(value: &str, member: &str, allowed: &[&str]) -> AwsError {
    errors::validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
        allowed.join(", ")
    ))
}

/// CreateKey: a symmetric encryption key of the caller's account, with the default key policy
/// unless one is given (then the policy-lockout safety check applies).
pub fn create_key(world: &mut World, facts: RequestFacts<'_>, spec: NewKey<'_>) -> Result<Key, AwsError> {
    let key_usage = spec.key_usage.unwrap_or("ENCRYPT_DECRYPT");
    if !KEY_USAGES.contains(&key_usage) {
        return Err(enum_error(key_usage, "keyUsage", &KEY_USAGES));
    }
    let key_spec = spec.key_spec.unwrap_or("SYMMETRIC_DEFAULT");
    if let Some(description) = spec.description {
        if description.chars().count() > 8192 {
            return Err(errors::validation(
                "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 8192",
            ));
        }
    }
    let bypass = spec.bypass_policy_lockout_safety_check;
    authorize_identity(
        world,
        facts,
        "kms:CreateKey",
        "*",
        vec![
            ("kms:KeySpec", key_spec.to_string()),
            ("kms:KeyUsage", key_usage.to_string()),
            ("kms:KeyOrigin", "AWS_KMS".to_string()),
            ("kms:BypassPolicyLockoutSafetyCheck", bypass.to_string()),
        ],
    )?;
    if !spec.tags.is_empty() {
        authorize_identity(world, facts, "kms:TagResource", "*", Vec::new())?;
    }
    if key_spec != "SYMMETRIC_DEFAULT" || key_usage != "ENCRYPT_DECRYPT" {
        return Err(errors::unsupported(format!(
            "wana's KMS emulates symmetric encryption keys only (KeySpec SYMMETRIC_DEFAULT, KeyUsage ENCRYPT_DECRYPT), not {key_spec} for {key_usage}"
        )));
    }
    let account = facts.caller.principal.account().to_string();
    let region = facts.region.to_string();
    let id = new_key_id(world);
    let arn = key_arn(&region, &account, &id);
    let (policy_text, policy) = match spec.policy {
        Some(text) => {
            let policy = parse_key_policy(world, text, &arn)?;
            if !bypass {
                check_lockout(world, facts, &arn, &account, &policy)?;
            }
            (text.to_string(), policy)
        }
        None => {
            let text = default_key_policy(&account);
            let policy = parse_key_policy(world, &text, &arn)?;
            (text, policy)
        }
    };
    let key = Key {
        id: id.clone(),
        arn,
        account: account.clone(),
        region: region.clone(),
        created: facts.now,
        description: spec.description.unwrap_or("").to_string(),
        key_usage: key_usage.to_string(),
        key_spec: key_spec.to_string(),
        state: KeyState::Enabled,
        manager: KeyManager::Customer,
        policy_text,
        policy: Arc::new(policy),
        deletion_date: None,
        pending_window_days: None,
        tags: spec.tags,
        grants: Vec::new(),
        next_nonce: 0,
    };
    let kms = &mut world
        .regional_mut(&account, &region)
        .ok_or_else(|| AwsError::internal(format!("account {account} is not in the world")))?
        .kms;
    kms.keys.insert(id, key.clone());
    Ok(key)
}

/// DescribeKey.
pub fn describe_key(world: &mut World, facts: RequestFacts<'_>, key_ref: &str) -> Result<Key, AwsError> {
    let addr = resolve(world, &facts, key_ref, Reach::CrossAccount)?;
    authorize_key(world, facts, &addr, "kms:DescribeKey", &KeyUse { grant_operation: Some("DescribeKey"), ..KeyUse::default() })?;
    existing_key(world, &addr)
}

/// ListKeys: the keys of the caller's account in the request's region, as (id, ARN).
pub fn list_keys(world: &mut World, facts: RequestFacts<'_>) -> Result<Vec<(String, String)>, AwsError> {
    authorize_identity(world, facts, "kms:ListKeys", "*", Vec::new())?;
    let account = facts.caller.principal.account();
    Ok(world
        .regional(account, facts.region)
        .map(|r| r.kms.keys.values().map(|k| (k.id.clone(), k.arn.clone())).collect())
        .unwrap_or_default())
}

fn check_policy_name(name: Option<&str>) -> Result<(), AwsError> {
    match name {
        None | Some(DEFAULT_POLICY_NAME) => Ok(()),
        Some(_) => Err(errors::no_such_policy()),
    }
}

/// GetKeyPolicy: the policy text as it was put.
pub fn get_key_policy(
    world: &mut World,
    facts: RequestFacts<'_>,
    key_ref: &str,
    name: Option<&str>,
) -> Result<String, AwsError> {
    let addr = resolve(world, &facts, key_ref, Reach::OwnAccount)?;
    authorize_key(world, facts, &addr, "kms:GetKeyPolicy", &KeyUse::default())?;
    check_policy_name(name)?;
    Ok(existing_key(world, &addr)?.policy_text)
}

/// PutKeyPolicy, with the policy-lockout safety check unless the caller bypasses it.
pub fn put_key_policy(
    world: &mut World,
    facts: RequestFacts<'_>,
    key_ref: &str,
    name: Option<&str>,
    text: &str,
    bypass_policy_lockout_safety_check: bool,
) -> Result<(), AwsError> {
    let addr = resolve(world, &facts, key_ref, Reach::OwnAccount)?;
    let usage = KeyUse {
        extra: vec![("kms:BypassPolicyLockoutSafetyCheck", bypass_policy_lockout_safety_check.to_string())],
        ..KeyUse::default()
    };
    authorize_key(world, facts, &addr, "kms:PutKeyPolicy", &usage)?;
    check_policy_name(name)?;
    let arn = addr.arn();
    let policy = parse_key_policy(world, text, &arn)?;
    if !bypass_policy_lockout_safety_check {
        check_lockout(world, facts, &arn, &addr.account, &policy)?;
    }
    let key = key_mut(world, &addr)?;
    key.policy_text = text.to_string();
    key.policy = Arc::new(policy);
    Ok(())
}

/// EnableKey and DisableKey.
pub fn set_key_enabled(world: &mut World, facts: RequestFacts<'_>, key_ref: &str, enabled: bool) -> Result<(), AwsError> {
    let addr = resolve(world, &facts, key_ref, Reach::OwnAccount)?;
    let action = if enabled { "kms:EnableKey" } else { "kms:DisableKey" };
    authorize_key(world, facts, &addr, action, &KeyUse::default())?;
    let key = key_mut(world, &addr)?;
    require_not_pending_deletion(key)?;
    key.state = if enabled { KeyState::Enabled } else { KeyState::Disabled };
    Ok(())
}

/// ScheduleKeyDeletion: the key is pending deletion for 7 to 30 days (30 by default), then
/// deleted with its aliases.
pub fn schedule_key_deletion(
    world: &mut World,
    facts: RequestFacts<'_>,
    key_ref: &str,
    pending_window_days: Option<i64>,
) -> Result<Key, AwsError> {
    let days = pending_window_days.unwrap_or(30);
    if days < 7 {
        return Err(errors::validation(format!(
            "1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value greater than or equal to 7"
        )));
    }
    if days > 30 {
        return Err(errors::validation(format!(
            "1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value less than or equal to 30"
        )));
    }
    let addr = resolve(world, &facts, key_ref, Reach::OwnAccount)?;
    authorize_key(world, facts, &addr, "kms:ScheduleKeyDeletion", &KeyUse::default())?;
    let key = key_mut(world, &addr)?;
    require_not_pending_deletion(key)?;
    let deletion = facts.now + Duration::days(days);
    key.state = KeyState::PendingDeletion;
    key.deletion_date = Some(deletion);
    key.pending_window_days = Some(days);
    let key = key.clone();
    world.schedule(
        deletion,
        &addr.account,
        &addr.region,
        super::scheduler::Event::Kms(Event::DeleteKey { key_id: addr.id.clone() }),
    );
    Ok(key)
}

/// CancelKeyDeletion: the key comes back disabled.
pub fn cancel_key_deletion(world: &mut World, facts: RequestFacts<'_>, key_ref: &str) -> Result<Key, AwsError> {
    let addr = resolve(world, &facts, key_ref, Reach::OwnAccount)?;
    authorize_key(world, facts, &addr, "kms:CancelKeyDeletion", &KeyUse::default())?;
    let key = key_mut(world, &addr)?;
    if key.state != KeyState::PendingDeletion {
        return Err(errors::not_pending_deletion(&key.arn));
    }
    key.state = KeyState::Disabled;
    key.deletion_date = None;
    key.pending_window_days = None;
    Ok(key.clone())
}

// ---------------------------------------------------------------------------------------------
// Aliases.

fn validate_alias_name(name: &str) -> Result<(), AwsError> {
    if !name.starts_with("alias/") {
        return Err(errors::validation(
            "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html",
        ));
    }
    if name.starts_with("alias/aws/") {
        return Err(errors::reserved_alias());
    }
    let valid = name.len() <= 256 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_-".contains(&b));
    if !valid {
        return Err(errors::validation(format!(
            "1 validation error detected: Value '{name}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"
        )));
    }
    Ok(())
}

/// CreateAlias: needs `kms:CreateAlias` on the alias (IAM policy) and on the key (key policy).
pub fn create_alias(world: &mut World, facts: RequestFacts<'_>, alias_name: &str, target_key: &str) -> Result<(), AwsError> {
    validate_alias_name(alias_name)?;
    if target_key.starts_with("alias/") || split_kms_arn(target_key).is_some_and(|(_, _, r)| r.starts_with("alias/")) {
        return Err(errors::validation("Aliases must refer to keys. Not aliases"));
    }
    let addr = resolve(world, &facts, target_key, Reach::OwnAccount)?;
    let arn = alias_arn(&addr.region, &addr.account, alias_name);
    authorize_identity(world, facts, "kms:CreateAlias", &arn, Vec::new())?;
    authorize_key(world, facts, &addr, "kms:CreateAlias", &KeyUse::default())?;
    require_not_pending_deletion(&existing_key(world, &addr)?)?;
    let kms = &mut world
        .regional_mut(&addr.account, &addr.region)
        .ok_or_else(|| errors::key_not_found(&addr.arn()))?
        .kms;
    if kms.aliases.contains_key(alias_name) {
        return Err(errors::alias_exists(&arn));
    }
    kms.aliases.insert(
        alias_name.to_string(),
        Alias { name: alias_name.to_string(), arn, target_key_id: addr.id, created: facts.now, updated: facts.now },
    );
    Ok(())
}

/// DeleteAlias: needs `kms:DeleteAlias` on the alias and on its key.
pub fn delete_alias(world: &mut World, facts: RequestFacts<'_>, alias_name: &str) -> Result<(), AwsError> {
    validate_alias_name(alias_name)?;
    let account = facts.caller.principal.account().to_string();
    let region = facts.region.to_string();
    let arn = alias_arn(&region, &account, alias_name);
    let target = world
        .regional(&account, &region)
        .and_then(|r| r.kms.aliases.get(alias_name))
        .map(|a| a.target_key_id.clone())
        .ok_or_else(|| errors::alias_not_found(&arn))?;
    let addr = KeyAddr { account: account.clone(), region: region.clone(), id: target };
    authorize_identity(world, facts, "kms:DeleteAlias", &arn, Vec::new())?;
    authorize_key(world, facts, &addr, "kms:DeleteAlias", &KeyUse::default())?;
    if let Some(regional) = world.regional_mut(&account, &region) {
        regional.kms.aliases.remove(alias_name);
    }
    Ok(())
}

/// ListAliases: the aliases of the caller's account in the region, of one key if asked.
pub fn list_aliases(world: &mut World, facts: RequestFacts<'_>, key_ref: Option<&str>) -> Result<Vec<Alias>, AwsError> {
    authorize_identity(world, facts, "kms:ListAliases", "*", Vec::new())?;
    let only = match key_ref {
        Some(key_ref) => Some(resolve(world, &facts, key_ref, Reach::OwnAccount)?.id),
        None => None,
    };
    let account = facts.caller.principal.account();
    Ok(world
        .regional(account, facts.region)
        .map(|r| {
            r.kms
                .aliases
                .values()
                .filter(|a| only.as_ref().is_none_or(|id| *id == a.target_key_id))
                .cloned()
                .collect()
        })
        .unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// Cryptographic operations.

fn require_encrypt_decrypt(key: &Key) -> Result<(), AwsError> {
    if key.key_usage == "ENCRYPT_DECRYPT" {
        Ok(())
    } else {
        Err(AwsError::new(
            "InvalidKeyUsageException",
            400,
            format!("{} key usage is {} which is not valid for this operation.", key.arn, key.key_usage),
        ))
    }
}

/// Encrypt. Returns the ciphertext blob and the key ARN.
pub fn encrypt(
    world: &mut World,
    facts: RequestFacts<'_>,
    key_ref: &str,
    plaintext: &[u8],
    context: &EncryptionContext,
) -> Result<(Vec<u8>, String), AwsError> {
    if plaintext.is_empty() || plaintext.len() > 4096 {
        return Err(errors::validation(format!(
            "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length {}",
            if plaintext.is_empty() { "greater than or equal to 1" } else { "less than or equal to 4096" }
        )));
    }
    let addr = resolve(world, &facts, key_ref, Reach::CrossAccount)?;
    let usage = KeyUse { grant_operation: Some("Encrypt"), encryption_context: Some(context), ..KeyUse::default() };
    authorize_key(world, facts, &addr, "kms:Encrypt", &usage)?;
    let key = key_mut(world, &addr)?;
    require_usable(key)?;
    require_encrypt_decrypt(key)?;
    Ok((seal(key, plaintext, context)?, key.arn.clone()))
}

/// The key a ciphertext names, checked against the `KeyId` the request gave (if any).
fn ciphertext_key(world: &mut World, facts: &RequestFacts<'_>, blob: &[u8], key_ref: Option<&str>) -> Result<KeyAddr, AwsError> {
    let parsed = parse_blob(blob).ok_or_else(errors::invalid_ciphertext)?;
    if parsed.key.region != facts.region {
        return Err(errors::invalid_ciphertext());
    }
    if key(world, &parsed.key).is_none() {
        return Err(errors::key_not_found(&parsed.key.arn()));
    }
    if let Some(key_ref) = key_ref {
        let named = resolve(world, facts, key_ref, Reach::CrossAccount)?;
        if named != parsed.key {
            return Err(errors::incorrect_key());
        }
    }
    Ok(parsed.key)
}

fn open_blob(world: &World, addr: &KeyAddr, blob: &[u8], context: &EncryptionContext) -> Result<Vec<u8>, AwsError> {
    let key = existing_key(world, addr)?;
    require_usable(&key)?;
    require_encrypt_decrypt(&key)?;
    let parsed = parse_blob(blob).ok_or_else(errors::invalid_ciphertext)?;
    open(&key, &parsed, context)
}

/// Decrypt. Returns the plaintext and the ARN of the key the ciphertext was made with.
pub fn decrypt(
    world: &mut World,
    facts: RequestFacts<'_>,
    blob: &[u8],
    context: &EncryptionContext,
    key_ref: Option<&str>,
) -> Result<(Vec<u8>, String), AwsError> {
    let addr = ciphertext_key(world, &facts, blob, key_ref)?;
    let usage = KeyUse { grant_operation: Some("Decrypt"), encryption_context: Some(context), ..KeyUse::default() };
    authorize_key(world, facts, &addr, "kms:Decrypt", &usage)?;
    let plaintext = open_blob(world, &addr, blob, context)?;
    Ok((plaintext, addr.arn()))
}

/// The length of a data key: `NumberOfBytes` or `KeySpec`, exactly one of them.
pub fn data_key_length(number_of_bytes: Option<i64>, key_spec: Option<&str>) -> Result<usize, AwsError> {
    match (number_of_bytes, key_spec) {
        (Some(n), None) if (1..=1024).contains(&n) => Ok(n as usize),
        (Some(n), None) => Err(errors::validation(format!(
            "1 validation error detected: Value '{n}' at 'numberOfBytes' failed to satisfy constraint: Member must have value {}",
            if n < 1 { "greater than or equal to 1" } else { "less than or equal to 1024" }
        ))),
        (None, Some("AES_256")) => Ok(32),
        (None, Some("AES_128")) => Ok(16),
        (None, Some(other)) => Err(enum_error(other, "keySpec", &["AES_256", "AES_128"])),
        _ => Err(errors::validation("Please specify either number of bytes or key spec.")),
    }
}

/// A data key from GenerateDataKey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataKey {
    /// The data key encrypted under the KMS key.
    pub ciphertext: Vec<u8>,
    /// The data key itself, unless asked for without plaintext.
    pub plaintext: Option<Vec<u8>>,
    pub key_arn: String,
}

/// GenerateDataKey (`with_plaintext`) and GenerateDataKeyWithoutPlaintext.
pub fn generate_data_key(
    world: &mut World,
    facts: RequestFacts<'_>,
    key_ref: &str,
    context: &EncryptionContext,
    length: usize,
    with_plaintext: bool,
) -> Result<DataKey, AwsError> {
    let addr = resolve(world, &facts, key_ref, Reach::CrossAccount)?;
    let (action, operation) = if with_plaintext {
        ("kms:GenerateDataKey", "GenerateDataKey")
    } else {
        ("kms:GenerateDataKeyWithoutPlaintext", "GenerateDataKeyWithoutPlaintext")
    };
    let usage = KeyUse { grant_operation: Some(operation), encryption_context: Some(context), ..KeyUse::default() };
    authorize_key(world, facts, &addr, action, &usage)?;
    let key = key_mut(world, &addr)?;
    require_usable(key)?;
    require_encrypt_decrypt(key)?;
    let data_key = data_key_bytes(key, length);
    let blob = seal(key, &data_key, context)?;
    Ok(DataKey { ciphertext: blob, plaintext: with_plaintext.then_some(data_key), key_arn: key.arn.clone() })
}

/// ReEncrypt: `kms:ReEncryptFrom` on the source key and `kms:ReEncryptTo` on the destination.
/// Returns the new blob, the source key ARN and the destination key ARN.
pub fn re_encrypt(
    world: &mut World,
    facts: RequestFacts<'_>,
    blob: &[u8],
    source_context: &EncryptionContext,
    source_key: Option<&str>,
    destination_key: &str,
    destination_context: &EncryptionContext,
) -> Result<(Vec<u8>, String, String), AwsError> {
    let source = ciphertext_key(world, &facts, blob, source_key)?;
    let destination = resolve(world, &facts, destination_key, Reach::CrossAccount)?;
    let from = KeyUse { grant_operation: Some("ReEncryptFrom"), encryption_context: Some(source_context), ..KeyUse::default() };
    authorize_key(world, facts, &source, "kms:ReEncryptFrom", &from)?;
    let to = KeyUse { grant_operation: Some("ReEncryptTo"), encryption_context: Some(destination_context), ..KeyUse::default() };
    authorize_key(world, facts, &destination, "kms:ReEncryptTo", &to)?;
    let plaintext = open_blob(world, &source, blob, source_context)?;
    let key = key_mut(world, &destination)?;
    require_usable(key)?;
    require_encrypt_decrypt(key)?;
    let sealed = seal(key, &plaintext, destination_context)?;
    Ok((sealed, source.arn(), destination.arn()))
}

// ---------------------------------------------------------------------------------------------
// Grants.

/// CreateGrant's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrant {
    pub grantee: String,
    pub retiring: Option<String>,
    pub operations: Vec<String>,
    pub constraints: Option<GrantConstraints>,
    pub name: Option<String>,
}

fn validate_grant(grant: &NewGrant) -> Result<(), AwsError> {
    if grant.operations.is_empty() {
        return Err(errors::validation(
            "1 validation error detected: Value '[]' at 'operations' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    if let Some(bad) = grant.operations.iter().find(|o| !GRANT_OPERATIONS.contains(&o.as_str())) {
        return Err(errors::validation(format!(
            "1 validation error detected: Value '[{bad}]' at 'operations' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [{}]]",
            GRANT_OPERATIONS.join(", ")
        )));
    }
    if grant.operations.iter().all(|o| o == "CreateGrant") {
        return Err(errors::validation("Grants must not contain only the CreateGrant operation."));
    }
    let principal_ok = |p: &str| {
        (1..=256).contains(&p.len())
            && p.chars().all(|c| c.is_alphanumeric() || c == '_' || "+=,.@:/-".contains(c))
    };
    for (member, value) in [("granteePrincipal", Some(&grant.grantee)), ("retiringPrincipal", grant.retiring.as_ref())] {
        if let Some(value) = value {
            if !principal_ok(value) {
                return Err(errors::validation(format!(
                    "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[\\w+=,.@:/-]+$"
                )));
            }
        }
    }
    if let Some(name) = &grant.name {
        let ok = (1..=256).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b":/_-".contains(&b));
        if !ok {
            return Err(errors::validation(format!(
                "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"
            )));
        }
    }
    Ok(())
}

fn dedup(operations: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for o in operations {
        if !out.contains(o) {
            out.push(o.clone());
        }
    }
    out
}

/// Whether two operation lists hold the same operations, in any order.
fn same_operations(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|o| b.contains(o))
}

/// CreateGrant: by the caller, or (`via_service`) by a service for the caller. Returns the
/// grant id and a new grant token. A request with the same `Name` and the same parameters as
/// an existing grant returns that grant's id.
pub fn create_grant(
    world: &mut World,
    facts: RequestFacts<'_>,
    key_ref: &str,
    grant: &NewGrant,
    via_service: Option<&str>,
) -> Result<(String, String), AwsError> {
    validate_grant(grant)?;
    let addr = resolve(world, &facts, key_ref, Reach::CrossAccount)?;
    let grant = NewGrant { operations: dedup(&grant.operations), ..grant.clone() };
    let usage = KeyUse {
        grant_operation: Some("CreateGrant"),
        via_service,
        new_grant: Some(&grant),
        grant_api: true,
        ..KeyUse::default()
    };
    authorize_key(world, facts, &addr, "kms:CreateGrant", &usage)?;
    let issuing_account = facts.caller.principal.account().to_string();
    let key_arn = addr.arn();
    let existing = {
        let key = key_mut(world, &addr)?;
        require_usable(key)?;
        grant.name.as_ref().and_then(|name| {
            key.grants
                .iter()
                .find(|g| {
                    g.name.as_ref() == Some(name)
                        && g.grantee == grant.grantee
                        && g.retiring == grant.retiring
                        && same_operations(&g.operations, &grant.operations)
                        && g.constraints == grant.constraints
                        && g.issuing_account == issuing_account
                })
                .map(|g| g.id.clone())
        })
    };
    let grant_id = match existing {
        Some(id) => id,
        None => {
            let id = new_grant_id(world);
            let created = Grant {
                id: id.clone(),
                name: grant.name.clone(),
                created: facts.now,
                grantee: grant.grantee.clone(),
                retiring: grant.retiring.clone(),
                issuing_account,
                operations: grant.operations.clone(),
                constraints: grant.constraints.clone(),
            };
            key_mut(world, &addr)?.grants.push(created);
            id
        }
    };
    let token = new_grant_token(world, &key_arn, &grant_id);
    Ok((grant_id, token))
}

/// ListGrants: the grants of a key (of one grant or one grantee if asked). Returns the key ARN
/// and the grants.
pub fn list_grants(
    world: &mut World,
    facts: RequestFacts<'_>,
    key_ref: &str,
    grant_id: Option<&str>,
    grantee: Option<&str>,
) -> Result<(String, Vec<Grant>), AwsError> {
    let addr = resolve(world, &facts, key_ref, Reach::CrossAccount)?;
    authorize_key(world, facts, &addr, "kms:ListGrants", &KeyUse { grant_api: true, ..KeyUse::default() })?;
    let key = existing_key(world, &addr)?;
    let grants = key
        .grants
        .into_iter()
        .filter(|g| grant_id.is_none_or(|id| id == g.id))
        .filter(|g| grantee.is_none_or(|p| p == g.grantee))
        .collect();
    Ok((key.arn, grants))
}

/// RetireGrant, by grant token or by key and grant id. The grant decides who may retire it: its
/// retiring principal, its grantee when it allows RetireGrant, or a principal of the issuing
/// account to whom IAM delegates `kms:RetireGrant`.
pub fn retire_grant(
    world: &mut World,
    facts: RequestFacts<'_>,
    token: Option<&str>,
    key_ref: Option<&str>,
    grant_id: Option<&str>,
) -> Result<(), AwsError> {
    let (addr, grant_id) = match (token, key_ref, grant_id) {
        (Some(token), _, _) => {
            let (addr, id) = parse_grant_token(token).ok_or_else(errors::invalid_grant_token)?;
            if key(world, &addr).is_none() {
                return Err(errors::key_not_found(&addr.arn()));
            }
            (addr, id)
        }
        (None, Some(key_ref), Some(grant_id)) => (resolve(world, &facts, key_ref, Reach::CrossAccount)?, grant_id.to_string()),
        (None, None, _) => return Err(errors::invalid_grant_token()),
        (None, Some(_), None) => return Err(errors::invalid_grant_id()),
    };
    let key = existing_key(world, &addr)?;
    let grant = key.grants.iter().find(|g| g.id == grant_id).ok_or_else(|| errors::grant_not_found(&grant_id))?;
    let identities = caller_identities(&facts.caller.principal);
    let named = |p: &str| identities.iter().any(|id| id == p);
    let allowed = grant.retiring.as_deref().is_some_and(named)
        || (named(&grant.grantee) && grant.allows_operation("RetireGrant"))
        || (facts.caller.principal.account() == grant.issuing_account
            && authorize_identity(world, facts, "kms:RetireGrant", &key.arn, Vec::new()).is_ok());
    if !allowed {
        return Err(errors::access_denied(format!(
            "User: {} is not authorized to perform: kms:RetireGrant on resource: {}",
            facts.caller.principal.arn(),
            key.arn
        )));
    }
    key_mut(world, &addr)?.grants.retain(|g| g.id != grant_id);
    Ok(())
}

/// RevokeGrant: a key-policy (and IAM) permission; grants cannot allow it.
pub fn revoke_grant(world: &mut World, facts: RequestFacts<'_>, key_ref: &str, grant_id: &str) -> Result<(), AwsError> {
    let addr = resolve(world, &facts, key_ref, Reach::CrossAccount)?;
    authorize_key(world, facts, &addr, "kms:RevokeGrant", &KeyUse { grant_api: true, ..KeyUse::default() })?;
    let key = key_mut(world, &addr)?;
    let before = key.grants.len();
    key.grants.retain(|g| g.id != grant_id);
    if key.grants.len() == before {
        return Err(errors::grant_not_found(grant_id));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// AWS managed keys, and services that use keys for a caller.

/// The ARN of the AWS managed key `aws/ebs` of an account in a region, created on first use
/// (as AWS does) with AWS's published EBS key policy.
pub fn default_ebs_key_arn(world: &mut World, account: &str, region: &str) -> String {
    // The world has no clock of its own; a key created here outside any request is dated by
    // the wall clock, which is what the emulator clock follows unless a test advances it.
    ensure_ebs_key(world, account, region, Utc::now())
}

fn ensure_ebs_key(world: &mut World, account: &str, region: &str, now: DateTime<Utc>) -> String {
    if let Some(existing) = world
        .regional(account, region)
        .and_then(|r| r.kms.aliases.get(EBS_ALIAS))
        .map(|a| key_arn(region, account, &a.target_key_id))
    {
        return existing;
    }
    let id = new_key_id(world);
    let arn = key_arn(region, account, &id);
    let text = ebs_managed_key_policy(account, region);
    let policy = match Policy::parse(&text, PolicyKind::Resource) {
        Ok(policy) => NamedPolicy::new(policy_name(&arn), policy),
        // The text is ours and parses; should the parser ever refuse it, the key keeps no
        // statement at all, which denies every use: safe, and visible in every trace.
        Err(error) => {
            tracing::error!(%error, "the EBS managed key policy does not parse");
            NamedPolicy::new(policy_name(&arn), Policy { version: None, id: None, statements: Vec::new() })
        }
    };
    let key = Key {
        id: id.clone(),
        arn: arn.clone(),
        account: account.to_string(),
        region: region.to_string(),
        created: now,
        description: "Default key that protects my EBS volumes when no other key is defined".to_string(),
        key_usage: "ENCRYPT_DECRYPT".to_string(),
        key_spec: "SYMMETRIC_DEFAULT".to_string(),
        state: KeyState::Enabled,
        manager: KeyManager::Aws,
        policy_text: text,
        policy: Arc::new(policy),
        deletion_date: None,
        pending_window_days: None,
        tags: Vec::new(),
        grants: Vec::new(),
        next_nonce: 0,
    };
    if let Some(regional) = world.regional_mut(account, region) {
        regional.kms.keys.insert(id.clone(), key);
        regional.kms.aliases.insert(
            EBS_ALIAS.to_string(),
            Alias {
                name: EBS_ALIAS.to_string(),
                arn: alias_arn(region, account, EBS_ALIAS),
                target_key_id: id,
                created: now,
                updated: now,
            },
        );
    }
    arn
}

/// Why a service could not use a key for a caller: the KMS call that failed, the key, and
/// KMS's error message (AWS's `AccessDeniedException` sentence, or a key-state error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUseDenied {
    pub action: String,
    pub key_arn: String,
    pub message: String,
}

/// The service principal of a service endpoint: `ec2.us-east-1.amazonaws.com` →
/// `ec2.amazonaws.com`.
pub fn service_principal(via_service: &str) -> String {
    let service = via_service.split('.').next().unwrap_or(via_service);
    format!("{service}.amazonaws.com")
}

/// The name of the grant a service keeps on a key for the callers of one account.
fn service_grant_name(service_principal: &str, account: &str) -> String {
    let service = service_principal.split('.').next().unwrap_or(service_principal);
    format!("{service}-forward-access-{account}")
}

/// A service (EC2) uses a key on behalf of the caller: it creates a grant for itself
/// (kms:CreateGrant with kms:GrantIsForAWSResource=true, kms:ViaService=<via_service>,
/// aws:ViaAWSService=true) and decrypts the volume's data key (kms:Decrypt via the same service),
/// each authorized as the caller through `world.authorize` (so key policy, IAM policy, grants
/// and conditions all apply). The first denial is returned.
///
/// The grant names the service principal (`ec2.amazonaws.com`) as grantee and retiring
/// principal, allows `Decrypt`, and is reused for later uses by callers of the same account.
/// The decryption is the service's, under that grant: the caller's policies still apply to it
/// (an explicit deny stops it), and the grant allows what they leave implicitly denied.
pub fn use_key_via_service(
    world: &mut World,
    facts: RequestFacts<'_>,
    key_arn: &str,
    via_service: &str,
) -> Result<(), KeyUseDenied> {
    let denied = |action: &str, error: AwsError| KeyUseDenied {
        action: action.to_string(),
        key_arn: key_arn.to_string(),
        message: error.message,
    };
    let service = service_principal(via_service);
    let grant = NewGrant {
        grantee: service.clone(),
        retiring: Some(service.clone()),
        operations: vec!["Decrypt".to_string()],
        constraints: None,
        name: Some(service_grant_name(&service, facts.caller.principal.account())),
    };
    create_grant(world, facts, key_arn, &grant, Some(via_service)).map_err(|e| denied("kms:CreateGrant", e))?;

    let mut decrypt = || -> Result<(), AwsError> {
        let addr = resolve(world, &facts, key_arn, Reach::CrossAccount)?;
        let usage = KeyUse {
            grant_operation: Some("Decrypt"),
            via_service: Some(via_service),
            acting_service: Some(&service),
            ..KeyUse::default()
        };
        authorize_key(world, facts, &addr, "kms:Decrypt", &usage)?;
        let key = existing_key(world, &addr)?;
        require_usable(&key)?;
        Ok(())
    };
    decrypt().map_err(|e| denied("kms:Decrypt", e))
}


#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::{
        principal::{Caller, CredentialKind},
        profile::BehaviourProfile,
        state::iam::NewRole,
    };

    const A: &str = "111111111111";
    const B: &str = "222222222222";
    const REGION: &str = "us-east-1";
    const EC2: &str = "ec2.us-east-1.amazonaws.com";
    const TRUST_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    /// What AWS's EBS documentation recommends for users of encrypted volumes.
    const IAM_CREATE_GRANT_FOR_AWS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:CreateGrant","Resource":"*","Condition":{"Bool":{"kms:GrantIsForAWSResource":"true"}}}]}"#;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().expect("valid time")
    }

    fn world() -> World {
        World::new(BehaviourProfile::default(), now())
    }

    fn caller(principal: Principal) -> Caller {
        Caller {
            principal,
            access_key_id: "AKIAWANATEST00000001".to_string(),
            credential_kind: CredentialKind::LongTerm,
            source_ip: std::net::IpAddr::from([127, 0, 0, 1]),
            token_issued: None,
        }
    }

    fn facts(caller: &Caller) -> RequestFacts<'_> {
        RequestFacts { caller, now: now(), region: REGION }
    }

    fn admin(world: &World, account: &str) -> Caller {
        let user = world.iam(account).unwrap().user("admin").unwrap();
        caller(Principal::User {
            account: account.to_string(),
            name: user.name.clone(),
            path: user.path.clone(),
            user_id: user.id.clone(),
        })
    }

    /// A session of a new role with an optional inline policy.
    fn role(world: &mut World, account: &str, name: &str, policy: Option<&str>) -> Caller {
        world
            .create_role(account, now(), NewRole { name, trust_policy: TRUST_EC2, ..NewRole::default() })
            .unwrap();
        if let Some(policy) = policy {
            world.iam_mut(account).unwrap().put_role_policy(name, "inline", policy).unwrap();
        }
        let role = world.iam(account).unwrap().role(name).unwrap();
        caller(Principal::AssumedRole {
            account: account.to_string(),
            role_name: role.name.clone(),
            role_path: role.path.clone(),
            role_id: role.id.clone(),
            session_name: "session".to_string(),
        })
    }

    /// A new IAM user with an optional inline policy.
    fn user(world: &mut World, account: &str, name: &str, policy: Option<&str>) -> Caller {
        let (iam, ids) = world.iam_and_ids(account).unwrap();
        let user = iam.create_user(ids, account, now(), name, None, Vec::new()).unwrap().clone();
        if let Some(policy) = policy {
            iam.put_user_policy(name, "inline", policy).unwrap();
        }
        caller(Principal::User { account: account.to_string(), name: user.name, path: user.path, user_id: user.id })
    }

    fn new_key(world: &mut World, by: &Caller, policy: Option<&str>) -> Key {
        create_key(world, facts(by), NewKey { policy, ..NewKey::default() }).unwrap()
    }

    fn code_and_message(error: AwsError) -> (String, String) {
        (error.code.to_string(), error.message)
    }

    fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_new_key_gets_the_default_policy_that_delegates_to_iam() {
        let mut world = world();
        let admin = admin(&world, A);
        let key = new_key(&mut world, &admin, None);
        assert_eq!(key.arn, format!("arn:aws:kms:us-east-1:111111111111:key/{}", key.id));
        assert_eq!(key.id.len(), 36);
        assert_eq!(key.policy_text, default_key_policy(A));
        assert!(key.policy_text.contains("\"Sid\" : \"Enable IAM User Permissions\""));
        assert_eq!(get_key_policy(&mut world, facts(&admin), &key.id, None).unwrap(), key.policy_text);
        // The administrator is allowed through IAM (AdministratorAccess) by the delegation.
        assert_eq!(describe_key(&mut world, facts(&admin), &key.arn).unwrap().state, KeyState::Enabled);
    }

    #[test]
    fn a_role_without_kms_permissions_may_not_let_a_service_use_the_key() {
        let mut world = world();
        let admin = admin(&world, A);
        let key = new_key(&mut world, &admin, None);
        let ops = role(&mut world, A, "Ops", None);
        let denied = use_key_via_service(&mut world, facts(&ops), &key.arn, EC2).unwrap_err();
        assert_eq!(
            denied,
            KeyUseDenied {
                action: "kms:CreateGrant".to_string(),
                key_arn: key.arn.clone(),
                message: format!(
                    "User: arn:aws:sts::111111111111:assumed-role/Ops/session is not authorized to perform: kms:CreateGrant on resource: {} because no identity-based policy allows the kms:CreateGrant action",
                    key.arn
                ),
            }
        );
        assert!(list_grants(&mut world, facts(&admin), &key.id, None, None).unwrap().1.is_empty());
    }

    #[test]
    fn iam_create_grant_for_aws_resources_lets_a_service_use_the_key_but_not_the_caller_itself() {
        let mut world = world();
        let admin = admin(&world, A);
        let key = new_key(&mut world, &admin, None);
        let ops = role(&mut world, A, "Ops", Some(IAM_CREATE_GRANT_FOR_AWS));
        use_key_via_service(&mut world, facts(&ops), &key.arn, EC2).unwrap();
        // Starting again reuses the grant.
        use_key_via_service(&mut world, facts(&ops), &key.arn, EC2).unwrap();
        let (_, grants) = list_grants(&mut world, facts(&admin), &key.id, None, None).unwrap();
        assert_eq!(grants.len(), 1);
        assert_eq!(grants[0].grantee, "ec2.amazonaws.com");
        assert_eq!(grants[0].retiring.as_deref(), Some("ec2.amazonaws.com"));
        assert_eq!(grants[0].operations, ["Decrypt"]);
        assert_eq!(grants[0].issuing_account, A);

        // The same role calling CreateGrant itself: kms:GrantIsForAWSResource is false.
        let grant = NewGrant {
            grantee: "arn:aws:iam::111111111111:role/Ops".to_string(),
            retiring: None,
            operations: vec!["Decrypt".to_string()],
            constraints: None,
            name: None,
        };
        let (code, message) = code_and_message(create_grant(&mut world, facts(&ops), &key.arn, &grant, None).unwrap_err());
        assert_eq!(code, "AccessDeniedException");
        assert!(message.ends_with("because no identity-based policy allows the kms:CreateGrant action"), "{message}");
        // Nor does the grant EC2 holds let the role decrypt on its own.
        let (code, _) = code_and_message(encrypt(&mut world, facts(&ops), &key.arn, b"x", &ctx(&[])).unwrap_err());
        assert_eq!(code, "AccessDeniedException");
    }

    #[test]
    fn a_key_policy_statement_naming_the_role_allows_without_iam_and_its_region_condition_holds() {
        let mut world = world();
        let admin = admin(&world, A);
        let ops = role(&mut world, A, "ThirdPartyRole", None);
        let policy = |region: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[
                {{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111111111111:root"}},"Action":"kms:*","Resource":"*"}},
                {{"Sid":"AllowUseViaEC2","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111111111111:role/ThirdPartyRole"}},
                  "Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*",
                  "Condition":{{"StringEquals":{{"kms:ViaService":"ec2.{region}.amazonaws.com"}}}}}},
                {{"Sid":"AllowGrantsForAWSResources","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111111111111:role/ThirdPartyRole"}},
                  "Action":"kms:CreateGrant","Resource":"*","Condition":{{"Bool":{{"kms:GrantIsForAWSResource":true}}}}}}]}}"#
            )
        };
        let key = new_key(&mut world, &admin, Some(&policy("us-east-1")));
        use_key_via_service(&mut world, facts(&ops), &key.arn, EC2).unwrap();

        // The same statements for another region's EC2: the Decrypt through EC2 here is denied.
        let other = new_key(&mut world, &admin, Some(&policy("eu-west-1")));
        let denied = use_key_via_service(&mut world, facts(&ops), &other.arn, EC2);
        // CreateGrant has no region condition and passes; the Decrypt is the service's under
        // the new grant, which the policy does not deny explicitly.
        assert!(denied.is_ok(), "{denied:?}");
        // Used directly, outside EC2, the key is not the role's.
        let (code, message) =
            code_and_message(encrypt(&mut world, facts(&ops), &key.arn, b"x", &ctx(&[])).unwrap_err());
        assert_eq!(code, "AccessDeniedException");
        assert!(message.contains("kms:Encrypt"), "{message}");
    }

    #[test]
    fn kms_via_service_of_another_region_does_not_match() {
        let mut world = world();
        let admin = admin(&world, A);
        let ops = role(&mut world, A, "Ops", None);
        let policy = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"kms:*","Resource":"*"},
            {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/Ops"},"Action":"kms:CreateGrant","Resource":"*",
             "Condition":{"StringEquals":{"kms:ViaService":"ec2.eu-west-1.amazonaws.com"}}}]}"#;
        let key = new_key(&mut world, &admin, Some(policy));
        let denied = use_key_via_service(&mut world, facts(&ops), &key.arn, EC2).unwrap_err();
        assert_eq!(denied.action, "kms:CreateGrant");
        // The account statement delegates to IAM, and the role has no IAM permission.
        assert!(denied.message.ends_with("because no identity-based policy allows the kms:CreateGrant action"));
        // The condition alone decides: the service endpoint it names is allowed.
        use_key_via_service(&mut world, facts(&ops), &key.arn, "ec2.eu-west-1.amazonaws.com").unwrap();
    }

    #[test]
    fn cross_account_use_needs_the_key_policy_and_iam_in_the_caller_account() {
        let mut world = world();
        let admin_a = admin(&world, A);
        let shared = format!(
            r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{A}:root"}},"Action":"kms:*","Resource":"*"}},
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{B}:root"}},"Action":["kms:Encrypt","kms:Decrypt","kms:CreateGrant","kms:DescribeKey"],"Resource":"*"}}]}}"#
        );
        let key = new_key(&mut world, &admin_a, Some(&shared));
        let private = new_key(&mut world, &admin_a, None);
        let iam_b = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["kms:Encrypt","kms:Decrypt","kms:CreateGrant"],"Resource":["{}","{}"]}}]}}"#,
            key.arn, private.arn
        );
        let with_iam = role(&mut world, B, "Consumer", Some(&iam_b));
        let without_iam = role(&mut world, B, "Other", None);

        let (blob, _) = encrypt(&mut world, facts(&with_iam), &key.arn, b"secret", &ctx(&[])).unwrap();
        assert_eq!(decrypt(&mut world, facts(&with_iam), &blob, &ctx(&[]), None).unwrap().0, b"secret");
        use_key_via_service(&mut world, facts(&with_iam), &key.arn, EC2).unwrap();

        let (_, message) =
            code_and_message(encrypt(&mut world, facts(&without_iam), &key.arn, b"s", &ctx(&[])).unwrap_err());
        assert!(message.ends_with("because no identity-based policy allows the kms:Encrypt action"), "{message}");
        // IAM alone, on a key whose policy does not name account B.
        let (_, message) =
            code_and_message(encrypt(&mut world, facts(&with_iam), &private.arn, b"s", &ctx(&[])).unwrap_err());
        assert!(message.ends_with("because no resource-based policy allows the kms:Encrypt action"), "{message}");
        // A bare key id resolves in the caller's own account.
        let (code, message) =
            code_and_message(encrypt(&mut world, facts(&with_iam), &key.id, b"s", &ctx(&[])).unwrap_err());
        assert_eq!(code, "NotFoundException");
        assert_eq!(message, format!("Key 'arn:aws:kms:us-east-1:{B}:key/{}' does not exist", key.id));
        // Operations without cross-account use do not reach the key.
        let (code, _) = code_and_message(get_key_policy(&mut world, facts(&with_iam), &key.arn, None).unwrap_err());
        assert_eq!(code, "NotFoundException");
    }

    #[test]
    fn grants_allow_their_operations_only_and_respect_their_constraints() {
        let mut world = world();
        let admin = admin(&world, A);
        let key = new_key(&mut world, &admin, None);
        let app = user(&mut world, A, "app", None);
        let app_arn = app.principal.arn();
        let grant = NewGrant {
            grantee: app_arn.clone(),
            retiring: None,
            operations: vec!["Encrypt".to_string()],
            constraints: Some(GrantConstraints::EncryptionContextSubset(ctx(&[("purpose", "test")]))),
            name: None,
        };
        create_grant(&mut world, facts(&admin), &key.id, &grant, None).unwrap();
        let (blob, _) = encrypt(&mut world, facts(&app), &key.arn, b"x", &ctx(&[("purpose", "test"), ("more", "1")])).unwrap();
        let (code, _) = code_and_message(encrypt(&mut world, facts(&app), &key.arn, b"x", &ctx(&[])).unwrap_err());
        assert_eq!(code, "AccessDeniedException");
        let (code, message) = code_and_message(
            decrypt(&mut world, facts(&app), &blob, &ctx(&[("purpose", "test"), ("more", "1")]), None).unwrap_err(),
        );
        assert_eq!(code, "AccessDeniedException");
        assert_eq!(
            message,
            format!("User: {app_arn} is not authorized to perform: kms:Decrypt on resource: {} because no identity-based policy allows the kms:Decrypt action", key.arn)
        );
    }

    #[test]
    fn an_explicit_deny_wins_over_a_grant() {
        let mut world = world();
        let admin = admin(&world, A);
        let key = new_key(&mut world, &admin, None);
        let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:Encrypt","Resource":"*"}]}"#;
        let app = user(&mut world, A, "app", Some(deny));
        let grant = NewGrant {
            grantee: app.principal.arn(),
            retiring: None,
            operations: vec!["Encrypt".to_string()],
            constraints: None,
            name: None,
        };
        create_grant(&mut world, facts(&admin), &key.id, &grant, None).unwrap();
        let (code, message) = code_and_message(encrypt(&mut world, facts(&app), &key.arn, b"x", &ctx(&[])).unwrap_err());
        assert_eq!(code, "AccessDeniedException");
        assert!(message.ends_with("with an explicit deny in an identity-based policy"), "{message}");
    }

    #[test]
    fn a_grant_to_a_role_covers_its_sessions_and_creates_only_what_it_holds() {
        let mut world = world();
        let admin = admin(&world, A);
        let key = new_key(&mut world, &admin, None);
        let ops = role(&mut world, A, "Ops", None);
        let grant = NewGrant {
            grantee: "arn:aws:iam::111111111111:role/Ops".to_string(),
            retiring: None,
            operations: vec!["Decrypt".to_string(), "CreateGrant".to_string()],
            constraints: None,
            name: None,
        };
        create_grant(&mut world, facts(&admin), &key.arn, &grant, None).unwrap();
        use_key_via_service(&mut world, facts(&ops), &key.arn, EC2).unwrap();
        let wider = NewGrant { operations: vec!["Encrypt".to_string()], grantee: "ec2.amazonaws.com".to_string(), ..grant };
        let (code, _) = code_and_message(create_grant(&mut world, facts(&ops), &key.arn, &wider, None).unwrap_err());
        assert_eq!(code, "AccessDeniedException");
    }

    #[test]
    fn the_lockout_check_refuses_a_policy_that_locks_the_caller_out() {
        let mut world = world();
        let admin = admin(&world, A);
        let _ops = role(&mut world, A, "Ops", None);
        let key = new_key(&mut world, &admin, None);
        let only_ops = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/Ops"},"Action":"kms:*","Resource":"*"}]}"#;
        let lockout = (
            "MalformedPolicyDocumentException".to_string(),
            "The new key policy will not allow you to update the key policy in the future.".to_string(),
        );
        assert_eq!(code_and_message(put_key_policy(&mut world, facts(&admin), &key.id, None, only_ops, false).unwrap_err()), lockout);
        assert_eq!(
            code_and_message(
                create_key(&mut world, facts(&admin), NewKey { policy: Some(only_ops), ..NewKey::default() }).unwrap_err()
            ),
            lockout
        );
        // The caller may bypass the check, and is then locked out.
        put_key_policy(&mut world, facts(&admin), &key.id, None, only_ops, true).unwrap();
        let (code, _) = code_and_message(get_key_policy(&mut world, facts(&admin), &key.id, None).unwrap_err());
        assert_eq!(code, "AccessDeniedException");
        // A policy that names a role that does not exist is malformed.
        let other = new_key(&mut world, &admin, None);
        let ghost = only_ops.replace("role/Ops", "role/Ghost");
        assert_eq!(
            code_and_message(put_key_policy(&mut world, facts(&admin), &other.id, None, &ghost, true).unwrap_err()).1,
            "Policy contains a statement with one or more invalid principals."
        );
    }

    #[test]
    fn encryption_round_trips_and_a_wrong_context_fails() {
        let mut world = world();
        let admin = admin(&world, A);
        let key = new_key(&mut world, &admin, None);
        let context = ctx(&[("volume", "vol-1")]);
        let (blob, arn) = encrypt(&mut world, facts(&admin), &key.id, b"hello", &context).unwrap();
        assert_eq!(arn, key.arn);
        let (second, _) = encrypt(&mut world, facts(&admin), &key.id, b"hello", &context).unwrap();
        assert_ne!(blob, second, "each encryption has its own nonce");
        assert_eq!(decrypt(&mut world, facts(&admin), &blob, &context, None).unwrap(), (b"hello".to_vec(), key.arn.clone()));
        assert_eq!(
            code_and_message(decrypt(&mut world, facts(&admin), &blob, &ctx(&[("volume", "vol-2")]), None).unwrap_err()),
            ("InvalidCiphertextException".to_string(), String::new())
        );
        assert_eq!(
            code_and_message(decrypt(&mut world, facts(&admin), &blob, &ctx(&[]), None).unwrap_err()).0,
            "InvalidCiphertextException"
        );
        assert_eq!(
            code_and_message(decrypt(&mut world, facts(&admin), b"not a ciphertext", &context, None).unwrap_err()).0,
            "InvalidCiphertextException"
        );
        let other = new_key(&mut world, &admin, None);
        assert_eq!(
            code_and_message(decrypt(&mut world, facts(&admin), &blob, &context, Some(&other.id)).unwrap_err()).0,
            "IncorrectKeyException"
        );
        // Data keys and re-encryption.
        let data_key = generate_data_key(&mut world, facts(&admin), &key.arn, &context, 32, true).unwrap();
        let (wrapped, plaintext) = (data_key.ciphertext, data_key.plaintext.unwrap());
        assert_eq!(plaintext.len(), 32);
        assert_eq!(decrypt(&mut world, facts(&admin), &wrapped, &context, Some(&key.arn)).unwrap().0, plaintext);
        let (moved, from, to) =
            re_encrypt(&mut world, facts(&admin), &wrapped, &context, None, &other.id, &ctx(&[])).unwrap();
        assert_eq!((from, to.clone()), (key.arn.clone(), other.arn.clone()));
        assert_eq!(decrypt(&mut world, facts(&admin), &moved, &ctx(&[]), None).unwrap(), (plaintext, to));
    }

    #[test]
    fn key_states_follow_the_key_state_table() {
        let mut world = world();
        let admin = admin(&world, A);
        let key = new_key(&mut world, &admin, None);
        let (blob, _) = encrypt(&mut world, facts(&admin), &key.id, b"x", &ctx(&[])).unwrap();
        set_key_enabled(&mut world, facts(&admin), &key.id, false).unwrap();
        assert_eq!(
            code_and_message(encrypt(&mut world, facts(&admin), &key.id, b"x", &ctx(&[])).unwrap_err()),
            ("DisabledException".to_string(), format!("{} is disabled.", key.arn))
        );
        let ops = role(&mut world, A, "Ops", Some(IAM_CREATE_GRANT_FOR_AWS));
        let denied = use_key_via_service(&mut world, facts(&ops), &key.arn, EC2).unwrap_err();
        assert_eq!((denied.action.as_str(), denied.message.clone()), ("kms:CreateGrant", format!("{} is disabled.", key.arn)));

        let scheduled = schedule_key_deletion(&mut world, facts(&admin), &key.id, Some(7)).unwrap();
        assert_eq!(scheduled.state, KeyState::PendingDeletion);
        assert_eq!(scheduled.deletion_date, Some(now() + Duration::days(7)));
        assert_eq!(
            code_and_message(decrypt(&mut world, facts(&admin), &blob, &ctx(&[]), None).unwrap_err()),
            ("KMSInvalidStateException".to_string(), format!("{} is pending deletion.", key.arn))
        );
        assert_eq!(
            code_and_message(schedule_key_deletion(&mut world, facts(&admin), &key.id, Some(3)).unwrap_err()).0,
            "ValidationException"
        );
        assert_eq!(cancel_key_deletion(&mut world, facts(&admin), &key.id).unwrap().state, KeyState::Disabled);
        assert_eq!(
            code_and_message(cancel_key_deletion(&mut world, facts(&admin), &key.id).unwrap_err()),
            ("KMSInvalidStateException".to_string(), format!("{} is not pending deletion.", key.arn))
        );
        // Deletion happens when the waiting period is over.
        schedule_key_deletion(&mut world, facts(&admin), &key.id, None).unwrap();
        world.run_due(now() + Duration::days(29));
        assert!(describe_key(&mut world, facts(&admin), &key.id).is_ok());
        world.run_due(now() + Duration::days(30));
        assert_eq!(
            code_and_message(describe_key(&mut world, facts(&admin), &key.id).unwrap_err()),
            ("NotFoundException".to_string(), format!("Key '{}' does not exist", key.arn))
        );
    }

    #[test]
    fn the_aws_managed_ebs_key_serves_the_account_through_ec2_only() {
        let mut world = world();
        let arn = default_ebs_key_arn(&mut world, A, REGION);
        assert_eq!(default_ebs_key_arn(&mut world, A, REGION), arn);
        let nobody = role(&mut world, A, "Nobody", None);
        use_key_via_service(&mut world, facts(&nobody), &arn, EC2).unwrap();
        let (code, message) = code_and_message(encrypt(&mut world, facts(&nobody), &arn, b"x", &ctx(&[])).unwrap_err());
        assert_eq!(code, "AccessDeniedException");
        assert!(message.ends_with("because no resource-based policy allows the kms:Encrypt action"), "{message}");
        // Another account cannot use it, not even through EC2.
        let outsider = role(&mut world, B, "Outsider", Some(IAM_CREATE_GRANT_FOR_AWS));
        assert!(use_key_via_service(&mut world, facts(&outsider), &arn, EC2).is_err());
        let admin = admin(&world, A);
        let key = describe_key(&mut world, facts(&admin), EBS_ALIAS).unwrap();
        assert_eq!((key.arn.as_str(), key.manager), (arn.as_str(), KeyManager::Aws));
        // Nobody can change its policy.
        let (code, _) = code_and_message(
            put_key_policy(&mut world, facts(&admin), &arn, None, &default_key_policy(A), false).unwrap_err(),
        );
        assert_eq!(code, "AccessDeniedException");
    }

    #[test]
    fn aliases_name_keys_in_the_callers_account() {
        let mut world = world();
        let admin = admin(&world, A);
        let key = new_key(&mut world, &admin, None);
        create_alias(&mut world, facts(&admin), "alias/app", &key.id).unwrap();
        assert_eq!(describe_key(&mut world, facts(&admin), "alias/app").unwrap().id, key.id);
        assert_eq!(
            describe_key(&mut world, facts(&admin), "arn:aws:kms:us-east-1:111111111111:alias/app").unwrap().id,
            key.id
        );
        assert_eq!(
            code_and_message(create_alias(&mut world, facts(&admin), "alias/app", &key.id).unwrap_err()),
            (
                "AlreadyExistsException".to_string(),
                "An alias with the name arn:aws:kms:us-east-1:111111111111:alias/app already exists".to_string()
            )
        );
        assert_eq!(
            code_and_message(create_alias(&mut world, facts(&admin), "alias/aws/mine", &key.id).unwrap_err()).0,
            "NotAuthorizedException"
        );
        assert_eq!(
            code_and_message(create_alias(&mut world, facts(&admin), "app", &key.id).unwrap_err()).0,
            "ValidationException"
        );
        let admin_b = self::admin(&world, B);
        assert_eq!(
            code_and_message(describe_key(&mut world, facts(&admin_b), "alias/app").unwrap_err()),
            ("NotFoundException".to_string(), "Alias arn:aws:kms:us-east-1:222222222222:alias/app is not found.".to_string())
        );
        let aliases = list_aliases(&mut world, facts(&admin), None).unwrap();
        assert_eq!(aliases.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["alias/app"]);
        delete_alias(&mut world, facts(&admin), "alias/app").unwrap();
        assert!(list_aliases(&mut world, facts(&admin), None).unwrap().is_empty());
    }

    #[test]
    fn grant_names_make_create_grant_idempotent_and_grants_retire_and_revoke() {
        let mut world = world();
        let admin = admin(&world, A);
        let key = new_key(&mut world, &admin, None);
        let app = user(&mut world, A, "app", None);
        let grant = NewGrant {
            grantee: app.principal.arn(),
            retiring: Some(app.principal.arn()),
            operations: vec!["Encrypt".to_string(), "Decrypt".to_string()],
            constraints: None,
            name: Some("app-grant".to_string()),
        };
        let (first, token) = create_grant(&mut world, facts(&admin), &key.id, &grant, None).unwrap();
        let (again, token_again) = create_grant(&mut world, facts(&admin), &key.id, &grant, None).unwrap();
        assert_eq!(first, again);
        assert_eq!(first.len(), 64);
        assert_ne!(token, token_again, "each call gets its own token");
        let different = NewGrant { operations: vec!["Encrypt".to_string()], ..grant.clone() };
        let (third, _) = create_grant(&mut world, facts(&admin), &key.id, &different, None).unwrap();
        assert_ne!(third, first);
        assert_eq!(
            code_and_message(
                create_grant(&mut world, facts(&admin), &key.id, &NewGrant { operations: vec!["Fly".to_string()], ..grant.clone() }, None)
                    .unwrap_err()
            )
            .0,
            "ValidationException"
        );
        assert_eq!(
            code_and_message(
                create_grant(&mut world, facts(&admin), &key.id, &NewGrant { operations: vec!["CreateGrant".to_string()], ..grant.clone() }, None)
                    .unwrap_err()
            )
            .1,
            "Grants must not contain only the CreateGrant operation."
        );
        // The retiring principal retires by token; a stranger may not.
        let stranger = user(&mut world, A, "stranger", None);
        assert_eq!(
            code_and_message(retire_grant(&mut world, facts(&stranger), Some(&token), None, None).unwrap_err()).0,
            "AccessDeniedException"
        );
        retire_grant(&mut world, facts(&app), Some(&token), None, None).unwrap();
        revoke_grant(&mut world, facts(&admin), &key.arn, &third).unwrap();
        assert!(list_grants(&mut world, facts(&admin), &key.id, None, None).unwrap().1.is_empty());
        assert_eq!(
            code_and_message(revoke_grant(&mut world, facts(&admin), &key.arn, &third).unwrap_err()).0,
            "NotFoundException"
        );
    }

    #[test]
    fn a_user_without_permission_may_not_create_keys() {
        let mut world = world();
        let nobody = user(&mut world, A, "nobody", None);
        assert_eq!(
            code_and_message(create_key(&mut world, facts(&nobody), NewKey::default()).unwrap_err()),
            (
                "AccessDeniedException".to_string(),
                "User: arn:aws:iam::111111111111:user/nobody is not authorized to perform: kms:CreateKey on resource: * because no identity-based policy allows the kms:CreateKey action".to_string()
            )
        );
    }
}
