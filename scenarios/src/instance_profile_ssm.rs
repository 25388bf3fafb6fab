//! Trap `instance-profile-ssm`: an instance profile holds one role, and an instance becomes an SSM
//! managed node only when that role's policies allow it.

use crate::TrapInfo;

pub const TRAP: TrapInfo = TrapInfo {
    id: "instance-profile-ssm",
    title: "An instance profile holds one role, and only the role's policies make an instance SSM-managed",
    summary: "an instance profile takes a single role (LimitExceeded on a second), and an instance \
              becomes an SSM managed node only when its role has AmazonSSMManagedInstanceCore",
    narrative: include_str!("instance_profile_ssm.md"),
    source: "004_5be120b2e3892768.txt",
    scenario: None,
};

#[cfg(test)]
mod tests {
    #[test]
    fn narrative_quotes_the_quota_error_and_the_policy() {
        let narrative = super::TRAP.narrative;
        assert!(narrative.contains("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"));
        assert!(narrative.contains("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"));
        assert!(narrative.contains("ssm:UpdateInstanceInformation"));
    }
}
