//! Trap `cmk-start-external-role`: an external automation role starts an instance whose volumes
//! are encrypted with a customer managed key; the start is accepted, then the instance stops.

use crate::TrapInfo;

pub const TRAP: TrapInfo = TrapInfo {
    id: "cmk-start-external-role",
    title: "An external automation role starts an instance, which falls back to stopped",
    summary: "a cross-account automation role's StartInstances returns pending, then the instance \
              is stopped again because the role may not use the volume's CMK",
    narrative: include_str!("cmk_start_external_role.md"),
    source: "002_56f18fbebca5d240.txt",
    scenario: None,
};

#[cfg(test)]
mod tests {
    #[test]
    fn narrative_explains_the_grant_and_both_fixes() {
        let narrative = super::TRAP.narrative;
        assert!(narrative.contains("Client.InternalError: Client error on launch"));
        assert!(narrative.contains("kms:GrantIsForAWSResource"));
        assert!(narrative.contains("kms:ViaService"));
        assert!(narrative.contains("forward access session"));
    }
}
