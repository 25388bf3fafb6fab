//! Role assumption: from one principal to a role session with temporary credentials.

use aws_credential_types::Credentials;

use crate::{outcome::StepError, principal::Principal};

/// Calls `sts:AssumeRole` as `from` and returns the role session as a new principal labelled
/// `label`. Its account is taken from the session ARN STS returns (the role's account), its ARN is
/// the `assumed-role` session ARN.
pub async fn assume_role(
    from: &Principal,
    role_arn: &str,
    session_name: &str,
    external_id: Option<&str>,
    label: &str,
) -> Result<Principal, StepError> {
    let output = from
        .sts()
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session_name)
        .set_external_id(external_id.map(str::to_string))
        .send()
        .await
        .map_err(|err| StepError::from_sdk(&err))?;

    let credentials = output
        .credentials()
        .ok_or_else(|| malformed("the AssumeRole response has no Credentials"))?;
    let session_arn = output
        .assumed_role_user()
        .map(|user| user.arn().to_string());
    let account = session_arn
        .as_deref()
        .and_then(account_of_arn)
        .or_else(|| account_of_arn(role_arn))
        .ok_or_else(|| malformed(format!("cannot tell the account of role {role_arn}")))?
        .to_string();
    let expiry = std::time::SystemTime::try_from(*credentials.expiration()).ok();

    Ok(Principal::new(
        label.to_string(),
        account,
        session_arn,
        Credentials::new(
            credentials.access_key_id(),
            credentials.secret_access_key(),
            Some(credentials.session_token().to_string()),
            expiry,
            "wana-assume-role",
        ),
        from.region(),
        from.endpoint_url(),
    )
    .with_app_name(from.config.app_name()))
}

fn malformed(message: impl Into<String>) -> StepError {
    StepError::new("MalformedResponse", message)
}

/// The account field of an ARN (`arn:partition:service:region:ACCOUNT:resource`), if it is a
/// 12-digit id.
pub fn account_of_arn(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    if parts.next() != Some("arn") {
        return None;
    }
    let account = parts.nth(3)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("arn:aws:iam::222222222222:role/ThirdPartyRole", Some("222222222222"))]
    #[case(
        "arn:aws:sts::111111111111:assumed-role/R/session",
        Some("111111111111")
    )]
    #[case("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", None)]
    #[case("arn:aws:s3:::bucket", None)]
    #[case("not-an-arn", None)]
    fn account_of_arn_reads_only_real_account_ids(
        #[case] arn: &str,
        #[case] expected: Option<&str>,
    ) {
        assert_eq!(account_of_arn(arn), expected);
    }
}
