//! Trap `cross-account-ami-asg`: an AMI shared from another account and encrypted with that
//! account's customer managed key launches with RunInstances but not from an Auto Scaling group.

use crate::TrapInfo;

pub const TRAP: TrapInfo = TrapInfo {
    id: "cross-account-ami-asg",
    title: "A shared AMI encrypted with another account's key launches by hand but not from an Auto Scaling group",
    summary: "an AMI encrypted with another account's CMK launches with RunInstances, but the Auto \
              Scaling group's service-linked role has no KMS grant, so its launches fail",
    narrative: include_str!("cross_account_ami_asg.md"),
    source: "001_4560bbf3eea35f48.txt",
    scenario: None,
};

#[cfg(test)]
mod tests {
    #[test]
    fn narrative_quotes_the_failure_and_the_grant() {
        let narrative = super::TRAP.narrative;
        assert!(narrative.contains("Client.InternalError: Client error on launch"));
        assert!(narrative.contains("AWSServiceRoleForAutoScaling"));
        assert!(narrative.contains("aws kms create-grant"));
    }
}
