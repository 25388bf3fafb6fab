//! Trap `runcommand-shadow-credentials`: Run Command runs as root, and a stale
//! `/root/.aws/credentials` shadows the instance role.

use crate::TrapInfo;

pub const TRAP: TrapInfo = TrapInfo {
    id: "runcommand-shadow-credentials",
    title: "Run Command runs as root, and root's stale credentials file shadows the instance role",
    summary:
        "a Run Command script's aws s3 cp fails with InvalidAccessKeyId on some instances: it \
              runs as root, whose ~/.aws/credentials wins over the instance role",
    narrative: include_str!("runcommand_shadow_credentials.md"),
    source: "003_80295c6b111c9292.txt",
    scenario: None,
};

#[cfg(test)]
mod tests {
    #[test]
    fn narrative_quotes_the_error_and_the_credential_order() {
        let narrative = super::TRAP.narrative;
        assert!(narrative.contains(
            "An error occurred (InvalidAccessKeyId) when calling the PutObject operation: The AWS Access Key Id you provided does not exist in our records."
        ));
        assert!(narrative.contains("shared-credentials-file"));
        assert!(narrative.contains("/root/.aws/credentials"));
    }
}
