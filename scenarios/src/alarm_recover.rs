//! Trap `alarm-recover`: a recover alarm created with temporary (role) credentials cannot recover
//! the instance under the alarm-action mechanism AWS replaced in 2017-12.
//!
//! The scenario (a later issue) runs under both behaviour profiles: `legacy-2016` should
//! reproduce the failure, `current` should not.

use crate::TrapInfo;

pub const TRAP: TrapInfo = TrapInfo {
    id: "alarm-recover",
    title: "A recover alarm created with role credentials cannot recover the instance",
    summary: "an EC2 recover alarm created with role (temporary) credentials fails with 401 when \
              it fires; created by an IAM user it works (the pre-2017-12 mechanism)",
    narrative: include_str!("alarm_recover.md"),
    source: "000_756a759d912cbb97.txt",
    scenario: None,
};

#[cfg(test)]
mod tests {
    #[test]
    fn narrative_quotes_the_failure_and_names_both_eras() {
        let narrative = super::TRAP.narrative;
        assert!(narrative.contains(
            "Encountered error calling EC2 recover. (401: AWS was not able to validate the provided access credentials)"
        ));
        assert!(narrative.contains("arn:aws:automate:"));
        assert!(narrative.contains("2017-12-18"));
    }
}
