//! Services that use keys for a caller (EC2 and a volume's key).

use super::{
    access::{authorize_key, require_usable, KeyUse},
    addr::{existing_key, resolve, Reach},
};
use crate::{
    authz::RequestFacts,
    error::AwsError,
    port::{via_endpoint, Acting, InnerCall},
    protocol::ServiceId,
    state::World,
    value::Value,
};

/// Why a service could not use a key for a caller: the KMS call that failed, the key, and
/// KMS's error message (AWS's `AccessDeniedException` sentence, or a key-state error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUseDenied {
    pub action: String,
    pub key_arn: String,
    pub message: String,
}

/// The name of the grant a service keeps on a key for the callers of one account.
fn service_grant_name(service_principal: &str, account: &str) -> String {
    let service = service_principal.split('.').next().unwrap_or(service_principal);
    format!("{service}-forward-access-{account}")
}

/// A service (`ec2.amazonaws.com`) uses a key on behalf of the caller, in a forward access
/// session: it creates a grant for itself with KMS's CreateGrant, called through the port as the
/// caller (so KMS sees `kms:GrantIsForAWSResource=true`, `kms:ViaService=ec2.<region>.amazonaws.com`
/// and `aws:ViaAWSService=true`, and authorizes it like any CreateGrant), then decrypts the
/// volume's data key (`kms:Decrypt` via the same service). Key policy, IAM policies, grants and
/// conditions all apply, and every decision is logged with EC2 as the acting service. The first
/// denial is returned.
///
/// The grant names the service principal as grantee and retiring principal, allows `Decrypt`,
/// and is reused for later uses by callers of the same account (the issuing account scopes it:
/// see `grant_covers`). The decryption is the service's, under that grant: the caller's policies
/// still apply to it (an explicit deny stops it), and the grant allows what they leave
/// implicitly denied.
pub fn use_key_via_service(
    world: &mut World,
    facts: RequestFacts<'_>,
    key_arn: &str,
    service: &str,
) -> Result<(), KeyUseDenied> {
    let denied = |action: &str, error: AwsError| KeyUseDenied {
        action: action.to_string(),
        key_arn: key_arn.to_string(),
        message: error.message,
    };
    let grant = InnerCall {
        acting: Acting::ForwardAccess { caller: facts.caller.clone(), service: service.to_string() },
        service: ServiceId::Kms,
        region: facts.region,
        now: facts.now,
        action: "CreateGrant",
        params: Value::structure()
            .with("KeyId", key_arn)
            .with("GranteePrincipal", service)
            .with("RetiringPrincipal", service)
            .with("Operations", Value::List(vec![Value::from("Decrypt")]))
            .with("Name", service_grant_name(service, facts.caller.principal.account())),
    };
    world.inner_call(grant).map_err(|e| denied("kms:CreateGrant", e))?;

    let forward = facts.caller.via(service);
    let facts = RequestFacts { caller: &forward, ..facts };
    let via = via_endpoint(service, facts.region);
    let mut decrypt = || -> Result<(), AwsError> {
        let addr = resolve(world, &facts, key_arn, Reach::CrossAccount)?;
        let usage = KeyUse {
            grant_operation: Some("Decrypt"),
            via_service: Some(&via),
            acting_service: Some(service),
            ..KeyUse::default()
        };
        authorize_key(world, facts, &addr, "kms:Decrypt", &usage)?;
        let key = existing_key(world, &addr)?;
        require_usable(&key)?;
        Ok(())
    };
    decrypt().map_err(|e| denied("kms:Decrypt", e))
}
