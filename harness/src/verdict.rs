//! What a run concluded about AWS behaviour.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// The conclusion of one run of one scenario on one backend and behaviour profile.
///
/// Only [`Verdict::ReproducedAndFixed`] says "the trap is real and the fix works"; every other
/// verdict is reported as such and none is ever turned into a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The trigger failed the way AWS documents it (the exact error, or the documented end
    /// state), and after the fix the same trigger succeeded.
    ReproducedAndFixed,
    /// The trigger succeeded, so the trap did not happen here: the backend does not model the
    /// rule, or AWS changed its behaviour (the nightly sandbox run exists to notice this).
    NotReproduced,
    /// The trap reproduced, but the trigger still failed after the fix: the documented fix no
    /// longer works, or the fix under test is wrong.
    FixFailed,
    /// The scenario cannot run on this backend or profile at all (a backend not built yet, a
    /// service it lacks). Says nothing about AWS.
    Unsupported,
    /// The run itself broke: provisioning failed, a call returned something no branch of the
    /// scenario expects, teardown failed, or the harness has a bug. Says nothing about AWS.
    Error,
}

impl Verdict {
    pub const ALL: [Verdict; 5] = [
        Verdict::ReproducedAndFixed,
        Verdict::NotReproduced,
        Verdict::FixFailed,
        Verdict::Unsupported,
        Verdict::Error,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Verdict::ReproducedAndFixed => "reproduced-and-fixed",
            Verdict::NotReproduced => "not-reproduced",
            Verdict::FixFailed => "fix-failed",
            Verdict::Unsupported => "unsupported",
            Verdict::Error => "error",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown verdict {0:?}")]
pub struct UnknownVerdict(String);

impl FromStr for Verdict {
    type Err = UnknownVerdict;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Verdict::ALL
            .into_iter()
            .find(|verdict| verdict.name() == s)
            .ok_or_else(|| UnknownVerdict(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case(Verdict::ReproducedAndFixed, "reproduced-and-fixed")]
    #[case(Verdict::NotReproduced, "not-reproduced")]
    #[case(Verdict::FixFailed, "fix-failed")]
    #[case(Verdict::Unsupported, "unsupported")]
    #[case(Verdict::Error, "error")]
    fn verdicts_use_the_names_of_the_design(#[case] verdict: Verdict, #[case] name: &str) {
        assert_eq!(
            serde_json::to_value(verdict).unwrap(),
            serde_json::json!(name)
        );
        assert_eq!(
            serde_json::from_value::<Verdict>(name.into()).unwrap(),
            verdict
        );
        assert_eq!(verdict.to_string(), name);
        assert_eq!(name.parse::<Verdict>(), Ok(verdict));
    }
}
