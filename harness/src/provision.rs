//! Provisioning helpers that many scenarios and tests share.

use crate::{backend::Backend, outcome::StepError, principal::Principal};

/// What a new IAM user is given besides its access key.
#[derive(Debug, Clone, Copy, Default)]
pub struct UserPolicies<'a> {
    /// ARNs of managed policies to attach (`arn:aws:iam::aws:policy/PowerUserAccess`).
    pub managed: &'a [&'a str],
    /// An inline policy document, stored as `Inline`.
    pub inline: Option<&'a str>,
}

/// Creates an IAM user in `admin`'s account with the given policies and a long-term access key,
/// and returns it as a principal labelled with its name.
pub async fn user_with_access_key(
    backend: &Backend,
    admin: &Principal,
    name: &str,
    policies: UserPolicies<'_>,
) -> Result<Principal, StepError> {
    let iam = admin.iam();
    iam.create_user()
        .user_name(name)
        .send()
        .await
        .map_err(|e| StepError::from_sdk(&e))?;
    for arn in policies.managed {
        iam.attach_user_policy()
            .user_name(name)
            .policy_arn(*arn)
            .send()
            .await
            .map_err(|e| StepError::from_sdk(&e))?;
    }
    if let Some(document) = policies.inline {
        iam.put_user_policy()
            .user_name(name)
            .policy_name("Inline")
            .policy_document(document)
            .send()
            .await
            .map_err(|e| StepError::from_sdk(&e))?;
    }
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .map_err(|e| StepError::from_sdk(&e))?
        .access_key
        .ok_or_else(|| {
            StepError::new("MalformedResponse", "CreateAccessKey returned no AccessKey")
        })?;
    let mut user = Principal::from_keys(
        backend,
        name,
        &admin.account,
        key.access_key_id(),
        key.secret_access_key(),
        None,
    )
    .map_err(|e| StepError::new("HarnessError", e.to_string()))?;
    user.arn = Some(format!("arn:aws:iam::{}:user/{name}", admin.account));
    Ok(user)
}
