//! What `list` and `show` print about a trap, in the reader's language: its summary, its cost on
//! a sandbox, and its narrative.

use wana_i18n::{tr, Lang};
use wana_scenarios::TrapInfo;

/// The trap's one-line summary (`TrapInfo::summary` in English).
pub fn summary(trap: &TrapInfo, lang: Lang) -> String {
    let text = match trap.id {
        "alarm-recover" => tr!(lang, "cli.summary.alarm-recover"),
        "cross-account-ami-asg" => tr!(lang, "cli.summary.cross-account-ami-asg"),
        "cmk-start-external-role" => tr!(lang, "cli.summary.cmk-start-external-role"),
        "runcommand-shadow-credentials" => tr!(lang, "cli.summary.runcommand-shadow-credentials"),
        "instance-profile-ssm" => tr!(lang, "cli.summary.instance-profile-ssm"),
        _ => return trap.summary.to_string(),
    };
    if lang == Lang::En { trap.summary.to_string() } else { text }
}

/// The scenario's `cost_hint()` in `lang`.
pub fn cost_hint(trap: &TrapInfo, lang: Lang) -> Option<String> {
    let english = trap.scenario?.cost_hint();
    let text = match trap.id {
        "alarm-recover" => tr!(lang, "cost.alarm-recover"),
        "cross-account-ami-asg" => tr!(lang, "cost.cross-account-ami-asg"),
        "cmk-start-external-role" => tr!(lang, "cost.cmk-start-external-role"),
        "runcommand-shadow-credentials" => tr!(lang, "cost.runcommand-shadow-credentials"),
        "instance-profile-ssm" => tr!(lang, "cost.instance-profile-ssm"),
        _ => return Some(english.to_string()),
    };
    Some(if lang == Lang::En { english.to_string() } else { text })
}

/// The trap's narrative in `lang` (`scenarios/src/<trap>.md` or `.ja.md`).
pub fn narrative(trap: &TrapInfo, lang: Lang) -> &'static str {
    match lang {
        Lang::En => trap.narrative,
        Lang::Ja => trap.narrative_ja,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalog's English is the text the scenarios carry, so that `--lang en` prints what
    /// it always printed; and each trap has a Japanese one.
    #[test]
    fn summaries_and_cost_hints_exist_in_both_languages_and_match_the_scenarios() {
        for trap in wana_scenarios::catalog() {
            let key = format!("cli.summary.{}", trap.id);
            let message = wana_i18n::catalog().get(&key).unwrap_or_else(|| panic!("{key} missing"));
            assert_eq!(message.en.as_deref(), Some(trap.summary), "{key}");
            assert_ne!(summary(trap, Lang::Ja), trap.summary);
            if let Some(scenario) = trap.scenario {
                let key = format!("cost.{}", trap.id);
                let message = wana_i18n::catalog().get(&key).unwrap_or_else(|| panic!("{key} missing"));
                assert_eq!(message.en.as_deref(), Some(scenario.cost_hint()), "{key}");
                assert_ne!(cost_hint(trap, Lang::Ja).unwrap(), scenario.cost_hint());
            }
        }
    }
}
