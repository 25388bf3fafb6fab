//! The resource's own policy, where the world holds one: what wana's simulator adds to AWS's,
//! which evaluates only the `ResourcePolicy` it is given. A role's trust policy answers for
//! STS's actions on the role, a KMS key's policy for KMS's on the key (both authoritative, as
//! in every request), a bucket policy for S3's on the bucket and its objects.

use super::SimPolicy;
use crate::state::World;

/// A resource policy found in the world, with what the evaluation needs to know about it.
pub struct OwnPolicy {
    pub policy: SimPolicy,
    pub account: String,
    pub authoritative: bool,
}

/// The 12-digit account of an ARN (`arn:aws:<service>:<region>:<account>:...`), if it has one.
pub fn arn_account(arn: &str) -> Option<&str> {
    let account = arn.split(':').nth(4)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

impl World {
    /// The policy the resource `arn` holds for `action`, if any.
    pub fn own_resource_policy(&self, action: &str, arn: &str) -> Option<OwnPolicy> {
        let service = action.split(':').next()?.to_ascii_lowercase();
        let mut parts = arn.splitn(6, ':');
        let (_, _, arn_service, region, account, resource) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        match (service.as_str(), arn_service) {
            ("sts", "iam") => {
                let name = resource.strip_prefix("role/")?.rsplit('/').next()?;
                let role = self.account(account)?.iam.roles.get(name).filter(|r| r.arn == arn)?;
                Some(OwnPolicy {
                    policy: SimPolicy::new(format!("{} trust policy", role.name), Some("Resource Policy"), &role.trust_policy.text, role.trust_policy.parsed.clone()),
                    account: account.to_string(),
                    authoritative: true,
                })
            }
            ("kms", "kms") => {
                let id = resource.strip_prefix("key/")?;
                let key = self.regional(account, region)?.kms.keys.get(id)?;
                Some(OwnPolicy {
                    policy: SimPolicy::new(format!("{id} key policy"), Some("Resource Policy"), &key.policy_text, (*key.policy).clone()),
                    account: account.to_string(),
                    authoritative: true,
                })
            }
            ("s3", "s3") => {
                let bucket_name = resource.split('/').next()?;
                let bucket = self.s3.buckets.get(bucket_name)?;
                let document = bucket.policy.as_ref()?;
                Some(OwnPolicy {
                    policy: SimPolicy::new(format!("{bucket_name} bucket policy"), Some("Resource Policy"), &document.text, document.parsed.clone()),
                    account: bucket.account.clone(),
                    authoritative: false,
                })
            }
            _ => None,
        }
    }
}
