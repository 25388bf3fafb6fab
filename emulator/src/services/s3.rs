//! S3 over restXml. Only the routing is in place so far (see `protocol/rest_xml.rs`): ListBuckets
//! answers from the account's buckets, of which there are none yet; every other S3 operation is
//! routed and answered `NotImplemented` (501) until the S3 model arrives.

use crate::{error::AwsError, state::World, value::Value};

use super::Call;

pub fn handle(world: &mut World, call: &Call<'_>) -> Option<Result<Value, AwsError>> {
    Some(match call.action {
        "ListBuckets" => list_buckets(world, call),
        _ => return None,
    })
}

/// `s3:ListAllMyBuckets` on `*`; S3 words its refusal `AccessDenied` / "Access Denied".
fn list_buckets(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    call.authorize_identity(world, "s3:ListAllMyBuckets", "*")
        .map_err(|_| AwsError::new("AccessDenied", 403, "Access Denied"))?;
    let principal = &call.caller.principal;
    Ok(Value::structure().with(
        "ListAllMyBucketsResult",
        Value::structure()
            .with("Owner", Value::structure().with("ID", canonical_user_id(principal.account())))
            .with("Buckets", Value::structure().with("Bucket", Value::List(Vec::new()))),
    ))
}

/// S3's canonical user id of an account: 64 hex digits, stable per account.
fn canonical_user_id(account: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(format!("wana-canonical-user:{account}")))
}
