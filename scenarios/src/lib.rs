//! The trap catalog: one module per trap, holding its narrative (a Markdown file next to it) and,
//! once written, its runnable scenario. Nothing here is backend-specific: scenarios talk to a
//! [`wana_harness::Backend`] through principals and never ask which backend it is.

pub mod alarm_recover;
pub mod cmk_start_external_role;
pub mod cross_account_ami_asg;
pub mod exercise;
pub mod instance_profile_ssm;
pub mod runcommand_shadow_credentials;
mod teardown;
#[cfg(test)]
mod narration_tests;

use std::fmt;

use wana_harness::Scenario;

/// One trap: what it is, where it comes from, and how to run it.
pub struct TrapInfo {
    /// The id used on the command line (`alarm-recover`).
    pub id: &'static str,
    pub title: &'static str,
    /// One line for `cargo xtask list`.
    pub summary: &'static str,
    /// Several paragraphs of Markdown: what the user sees, why AWS behaves so, the fix, the AWS
    /// facts it rests on.
    pub narrative: &'static str,
    /// The same narrative in Japanese (`<trap>.ja.md` next to the English one), for `--lang ja`.
    pub narrative_ja: &'static str,
    /// The source report this trap comes from (a file name in the shared seeds folder).
    pub source: &'static str,
    /// `None` until the trap's scenario is written.
    pub scenario: Option<&'static dyn Scenario>,
}

impl TrapInfo {
    pub fn is_runnable(&self) -> bool {
        self.scenario.is_some()
    }
}

impl fmt::Debug for TrapInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrapInfo")
            .field("id", &self.id)
            .field("title", &self.title)
            .field("source", &self.source)
            .field("runnable", &self.is_runnable())
            .finish_non_exhaustive()
    }
}

/// The traps in the order of the design's trap table.
static CATALOG: [TrapInfo; 5] = [
    alarm_recover::TRAP,
    cross_account_ami_asg::TRAP,
    cmk_start_external_role::TRAP,
    runcommand_shadow_credentials::TRAP,
    instance_profile_ssm::TRAP,
];

pub fn catalog() -> &'static [TrapInfo] {
    &CATALOG
}

pub fn find(id: &str) -> Option<&'static TrapInfo> {
    CATALOG.iter().find(|trap| trap.id == id)
}

/// The known ids, comma-separated, for "unknown trap" messages.
pub fn known_ids() -> String {
    CATALOG
        .iter()
        .map(|trap| trap.id)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_lists_the_five_traps_of_the_design_in_order() {
        let ids: Vec<&str> = catalog().iter().map(|trap| trap.id).collect();
        assert_eq!(
            ids,
            [
                "alarm-recover",
                "cross-account-ami-asg",
                "cmk-start-external-role",
                "runcommand-shadow-credentials",
                "instance-profile-ssm",
            ]
        );
    }

    #[test]
    fn find_knows_every_id_and_nothing_else() {
        for trap in catalog() {
            assert_eq!(find(trap.id).map(|t| t.id), Some(trap.id));
        }
        assert!(find("nope").is_none());
        assert!(find("").is_none());
    }

    #[test]
    fn each_trap_comes_from_its_own_seed_report() {
        let sources: Vec<&str> = catalog().iter().map(|trap| trap.source).collect();
        for (index, source) in sources.iter().enumerate() {
            assert!(source.starts_with(&format!("{index:03}_")), "{source}");
            assert!(source.ends_with(".txt"), "{source}");
        }
    }

    #[test]
    fn a_runnable_trap_runs_the_scenario_of_the_same_id() {
        for trap in catalog() {
            if let Some(scenario) = trap.scenario {
                assert_eq!(scenario.id(), trap.id);
            }
        }
    }

    #[test]
    fn summaries_are_one_line_and_narratives_are_english_prose() {
        for trap in catalog() {
            assert!(!trap.summary.contains('\n'), "{}", trap.id);
            assert!(
                !trap.summary.is_empty() && !trap.title.is_empty(),
                "{}",
                trap.id
            );
            assert!(
                trap.narrative.split("\n\n").count() >= 4,
                "{}: several paragraphs",
                trap.id
            );
            // The seeds are Japanese; the narratives are our own words in English.
            let non_ascii_letters: Vec<char> = trap
                .narrative
                .chars()
                .filter(|c| {
                    ('\u{3000}'..='\u{9fff}').contains(c) || ('\u{ff00}'..='\u{ffef}').contains(c)
                })
                .collect();
            assert!(
                non_ascii_letters.is_empty(),
                "{}: {non_ascii_letters:?}",
                trap.id
            );
            for heading in ["## What you see", "## Why", "## The fix", "## Sources"] {
                assert!(
                    trap.narrative.contains(heading),
                    "{} lacks {heading}",
                    trap.id
                );
            }
        }
    }

    /// The indented code blocks: error texts, commands and policies a reader copies or greps.
    fn indented_code(markdown: &str) -> Vec<&str> {
        markdown
            .lines()
            .filter(|line| line.starts_with("    "))
            .collect()
    }

    /// The `inline code` spans: ids, actions, ARNs, error codes. The English text wraps its lines,
    /// so a span may run over two; the lines are joined with a space.
    fn code_spans(markdown: &str) -> Vec<String> {
        let prose: Vec<&str> = markdown
            .lines()
            .filter(|line| !line.starts_with("    "))
            .collect();
        prose
            .join(" ")
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn each_narrative_has_a_japanese_translation_with_the_same_shape_and_code() {
        for trap in catalog() {
            let (en, ja) = (trap.narrative, trap.narrative_ja);
            if let Err(problem) = wana_i18n::check_markdown_pair(en, ja) {
                panic!("{}: {problem}", trap.id);
            }
            let headings = |text: &str| text.lines().filter(|l| l.starts_with("## ")).count();
            assert_eq!(headings(en), headings(ja), "{}: ## headings", trap.id);
            assert!(
                ja.starts_with(&format!("# {}: ", trap.id)),
                "{}: the title names the trap",
                trap.id
            );
            // Headings are translated, not left in English.
            for heading in ["## What you see", "## Why", "## The fix", "## Sources"] {
                assert!(!ja.contains(heading), "{}: {heading} untranslated", trap.id);
            }
            // Commands, policies and AWS's messages stay exactly as in English.
            assert_eq!(indented_code(en), indented_code(ja), "{}", trap.id);
            for span in code_spans(en) {
                assert!(ja.contains(&format!("`{span}`")), "{}: `{span}`", trap.id);
            }
            // Every link of the English narrative is kept.
            for url in en.split_whitespace().filter(|w| w.starts_with("https://")) {
                assert!(ja.contains(url), "{}: {url}", trap.id);
            }
        }
    }

    #[test]
    fn the_alarm_recover_narrative_tells_about_the_2017_change() {
        let narrative = find("alarm-recover").unwrap().narrative;
        assert!(
            narrative.contains("2017-12"),
            "the mechanism changed in 2017-12"
        );
        assert!(narrative.contains("AWSServiceRoleForCloudWatchEvents"));
        assert!(narrative.contains("legacy-2016"));
    }
}
