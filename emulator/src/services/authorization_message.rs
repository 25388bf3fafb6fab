//! The encoded authorization message of EC2's `UnauthorizedOperation`, and its decoding by STS
//! `DecodeAuthorizationMessage`.
//!
//! # The decoded document
//!
//! AWS's shape, as the AWS CLI's example for `decode-authorization-message` and AWS's knowledge
//! center article on decoding EC2's launch failures show it (key order as there):
//!
//! ```json
//! {"allowed":false,"explicitDeny":false,
//!  "matchedStatements":{"items":[]},"failures":{"items":[]},
//!  "context":{"principal":{"id":"AIDA…","name":"Bob","arn":"arn:aws:iam::…:user/Bob"},
//!             "action":"ec2:RunInstances","resource":"arn:aws:ec2:us-east-1:…:instance/*",
//!             "conditions":{"items":[{"key":"ec2:Region","values":{"items":[{"value":"us-east-1"}]}}, …]}}}
//! ```
//!
//! It is built from the decision EC2 made, never from a second one:
//! - `explicitDeny` is true when a Deny statement decided; `matchedStatements` then holds that
//!   statement (`statementId`, `effect` in capitals, `principals` with the caller's unique id,
//!   `principalGroups`, `actions`, `resources` and `conditions` as the statement wrote them). An
//!   implicit deny has no matched statement, as in every example seen.
//! - `context.principal` has `name` for an IAM user only (a role session shows `id`
//!   `<role id>:<session>` and its `arn`, as in the CLI's example).
//! - `context.action` keeps its service prefix (`ec2:RunInstances`, `iam:PassRole`), as the
//!   knowledge center's and users' decoded messages show. The CLI's own example shows
//!   `RunInstances` without it; chosen: the prefix, which most examples show.
//! - `context.conditions` lists the request's own condition keys (`ec2:Region`,
//!   `ec2:MetadataHttpTokens`, `iam:PassedToService`, ...), then `aws:Region`, `aws:Service`
//!   (the service called: `ec2`, also for `iam:PassRole`, as the knowledge center's example
//!   shows) and, when the resource is an ARN, `aws:Resource` (the part after the account,
//!   `instance/*`), `aws:Account`, `aws:Type` (`instance`, `role`) and `aws:ARN`. AWS's order
//!   varies between examples; here it is this fixed one. Unconfirmed: whether AWS also lists
//!   global keys such as `aws:SourceIp` (no example does, so they are left out).
//! - Unconfirmed, chosen: a statement without a `Sid` has no `statementId`; a statement's
//!   `conditions` items are `{key, values}` like the context's (the operator is not shown);
//!   `NotAction`/`NotResource` entries are listed as `actions`/`resources`.
//!
//! # The encoding
//!
//! AWS encrypts the message so that only `sts:DecodeAuthorizationMessage` can read it. Here it
//! is sealed with AES-256-GCM under a key derived from the caller's account (SHA-256 over a
//! fixed salt and the account id: this is an emulator, the key is not secret) and written in
//! URL-safe base64 like AWS's (`-` and `_`, no padding). Another account's STS cannot open it,
//! and an altered message fails its tag. The nonce is derived from the plaintext, so the same
//! denial gives the same message in every run (tests compare them); two equal messages reveal
//! only that they are equal. AWS's messages also expire; these do not.

use aes_gcm::{
    aead::{Aead, KeyInit},
    Aes256Gcm,
};
use base64::Engine as _;
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};
use wana_policy::{Decision, Effect, NamedPolicy, Outcome, Statement};

use crate::{
    authz::AuthzRequest,
    principal::Principal,
    state::{layers::Gathering, World},
};

/// The fixed salt of the per-account keys. Not a secret: this is an emulator.
const KEY_SALT: &[u8] = b"wana-emulator/sts/authorization-message/v1";
const MAGIC: &[u8; 4] = b"WAM1";
const NONCE_LEN: usize = 12;

/// The request a service refused, as the message describes it.
#[derive(Debug, Clone, Copy)]
pub struct Refused<'a> {
    pub principal: &'a Principal,
    /// The key that signed the request (a role session's key carries its session policies).
    pub access_key_id: &'a str,
    /// The service whose API was called (`ec2`): `aws:Service`.
    pub service: &'a str,
    pub region: &'a str,
    pub request: &'a AuthzRequest<'a>,
}

/// The encoded authorization message of a refused request, for its caller's account.
pub fn encode(world: &World, refused: &Refused<'_>, decision: &Decision) -> String {
    let document = decoded_document(world, refused, decision).to_string();
    seal(refused.principal.account(), document.as_bytes())
}

/// The decoded document of a message, when `account` can read it: it was issued to a caller of
/// that account and is intact. `None` otherwise (STS's `InvalidAuthorizationMessageException`).
pub fn decode(account: &str, encoded: &str) -> Option<String> {
    let blob = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded).ok()?;
    let rest = blob.strip_prefix(MAGIC.as_slice())?;
    if rest.len() < NONCE_LEN {
        return None;
    }
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    let plain = cipher(account).decrypt(aes_gcm::Nonce::from_slice(nonce), sealed).ok()?;
    String::from_utf8(plain).ok()
}

fn cipher(account: &str) -> Aes256Gcm {
    let key: [u8; 32] = Sha256::new().chain_update(KEY_SALT).chain_update(account.as_bytes()).finalize().into();
    Aes256Gcm::new(aes_gcm::Key::<Aes256Gcm>::from_slice(&key))
}

fn seal(account: &str, plain: &[u8]) -> String {
    let digest = Sha256::new().chain_update(KEY_SALT).chain_update(account.as_bytes()).chain_update(plain).finalize();
    let nonce = &digest[..NONCE_LEN];
    let sealed = cipher(account)
        .encrypt(aes_gcm::Nonce::from_slice(nonce), plain)
        .expect("AES-GCM encrypts any message of this size");
    let mut blob = Vec::with_capacity(MAGIC.len() + NONCE_LEN + sealed.len());
    blob.extend_from_slice(MAGIC);
    blob.extend_from_slice(nonce);
    blob.extend_from_slice(&sealed);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(blob)
}

/// AWS's `{"items":[{"value":…}, …]}`.
fn items<'a>(values: impl IntoIterator<Item = &'a str>) -> Json {
    let items: Vec<Json> = values.into_iter().map(|value| json!({ "value": value })).collect();
    json!({ "items": items })
}

fn key_values(key: &str, values: Vec<&str>) -> Json {
    json!({ "key": key, "values": items(values) })
}

/// The document `DecodeAuthorizationMessage` returns, built from the decision.
pub fn decoded_document(world: &World, refused: &Refused<'_>, decision: &Decision) -> Json {
    let principal = refused.principal;
    let explicit_deny = matches!(decision.outcome, Outcome::ExplicitDeny { .. });
    let matched: Vec<Json> = if explicit_deny && decision.deciding_statement().is_some() {
        vec![statement_json(principal, decision, deciding_statement(world, refused, decision).as_ref())]
    } else {
        Vec::new()
    };
    let mut who = serde_json::Map::new();
    who.insert("id".into(), principal.user_id().into());
    if let Principal::User { name, .. } = principal {
        who.insert("name".into(), name.clone().into());
    }
    who.insert("arn".into(), principal.arn().into());
    json!({
        "allowed": decision.is_allowed(),
        "explicitDeny": explicit_deny,
        "matchedStatements": { "items": matched },
        "failures": { "items": [] },
        "context": {
            "principal": who,
            "action": refused.request.action,
            "resource": refused.request.resource,
            "conditions": { "items": context_conditions(refused) },
        },
    })
}

/// The statement that decided, found among the policies the request was decided with (gathered
/// again as `World::authorize` gathers them: identity policies, the permissions boundary, session
/// policies, SCPs and RCPs) and the resource's own policy. `None` when no statement decided or
/// its policy is not among them.
fn deciding_statement(world: &World, refused: &Refused<'_>, decision: &Decision) -> Option<Statement> {
    let entry = decision.deciding_statement()?;
    let gathered = world.request_policies(Gathering {
        principal: refused.principal,
        access_key_id: Some(refused.access_key_id),
        action: refused.request.action,
        resource_account: refused.request.resource_account,
    });
    let organization = &gathered.organization;
    let levels = organization.scp_levels.iter().chain(&organization.rcp_levels).flatten();
    let policies = gathered
        .identity
        .iter()
        .chain(&gathered.boundary)
        .chain(&gathered.session)
        .chain(levels.flat_map(|level| &level.policies))
        .chain(refused.request.resource_policy);
    policies
        .filter(|policy: &&NamedPolicy| policy.name == entry.policy)
        .find_map(|policy| policy.policy.statements.get(entry.index))
        .cloned()
}

/// A matched statement as AWS lists it; what the trace does not say is left empty.
fn statement_json(principal: &Principal, decision: &Decision, statement: Option<&Statement>) -> Json {
    let entry = decision.deciding_statement();
    let effect = match entry.map(|e| e.effect) {
        Some(Effect::Allow) => "ALLOW",
        _ => "DENY",
    };
    let mut out = serde_json::Map::new();
    if let Some(sid) = entry.and_then(|e| e.sid.as_deref()).filter(|sid| !sid.is_empty()) {
        out.insert("statementId".into(), sid.into());
    }
    out.insert("effect".into(), effect.into());
    let entity_id = match principal {
        Principal::User { user_id, .. } => user_id.as_str(),
        Principal::AssumedRole { role_id, .. } => role_id.as_str(),
    };
    out.insert("principals".into(), items([entity_id]));
    out.insert("principalGroups".into(), items([]));
    let actions: Vec<&str> = statement.map(|s| s.action.patterns().iter().map(|p| p.as_str()).collect()).unwrap_or_default();
    out.insert("actions".into(), items(actions));
    let resources: Vec<&str> = statement
        .and_then(|s| s.resource.as_ref())
        .map(|r| r.patterns().iter().map(|p| p.as_str()).collect())
        .unwrap_or_default();
    out.insert("resources".into(), items(resources));
    let conditions: Vec<Json> = statement
        .map(|s| {
            s.conditions.iter().map(|c| key_values(&c.key, c.values.iter().map(|v| v.as_str()).collect())).collect()
        })
        .unwrap_or_default();
    out.insert("conditions".into(), json!({ "items": conditions }));
    Json::Object(out)
}

/// The request's condition keys, then the ones AWS derives from the request and its resource.
fn context_conditions(refused: &Refused<'_>) -> Vec<Json> {
    let mut keys: Vec<&str> = Vec::new();
    for (key, _) in &refused.request.context {
        if !keys.contains(key) {
            keys.push(key);
        }
    }
    let mut out: Vec<Json> = keys
        .iter()
        .map(|key| {
            let values = refused.request.context.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect();
            key_values(key, values)
        })
        .collect();
    out.push(key_values("aws:Region", vec![refused.region]));
    out.push(key_values("aws:Service", vec![refused.service]));
    let resource = refused.request.resource;
    // arn:partition:service:region:account:resource
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    if let [prefix, _, _, _, account, relative] = parts.as_slice() {
        if *prefix == "arn" {
            out.push(key_values("aws:Resource", vec![relative]));
            if !account.is_empty() {
                out.push(key_values("aws:Account", vec![account]));
            }
            let kind = relative.split(['/', ':']).next().unwrap_or(relative);
            out.push(key_values("aws:Type", vec![kind]));
            out.push(key_values("aws:ARN", vec![resource]));
        }
    }
    out
}
