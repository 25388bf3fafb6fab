//! Behaviour profiles: AWS rules that changed over time, chosen once per emulator run.
//!
//! Every rule that differs between eras is a field of [`BehaviourProfile`] read where the rule is
//! applied, so that no handler carries its own date check.

use std::{fmt, str::FromStr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BehaviourProfile {
    /// AWS as documented today.
    #[default]
    Current,
    /// AWS before the 2017-12 switch of EC2 alarm actions to a service-linked role.
    Legacy2016,
}

impl BehaviourProfile {
    pub const ALL: [BehaviourProfile; 2] = [BehaviourProfile::Current, BehaviourProfile::Legacy2016];

    pub fn name(self) -> &'static str {
        match self {
            BehaviourProfile::Current => "current",
            BehaviourProfile::Legacy2016 => "legacy-2016",
        }
    }
}

impl fmt::Display for BehaviourProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown behaviour profile {0:?} (expected current or legacy-2016)")]
pub struct UnknownProfile(String);

impl FromStr for BehaviourProfile {
    type Err = UnknownProfile;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BehaviourProfile::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| UnknownProfile(s.to_string()))
    }
}
