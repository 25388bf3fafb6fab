//! The fixes' descriptions in the message catalog: the English is the text reports keep
//! (`description()`), and a Japanese one exists for each.

use wana_harness::{Lang, Note};

fn check(fixes: &[(&str, Note)]) {
    for (english, note) in fixes {
        assert_eq!(note.render(Lang::En), *english, "{}", note.key);
        let ja = note.render(Lang::Ja);
        assert!(!ja.contains('⟦'), "{ja}");
        assert!(ja.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c)), "no kana in {ja}");
    }
}

#[test]
fn every_fix_is_described_in_both_languages_with_the_english_reports_keep() {
    use crate::{cmk_start_external_role as cmk, cross_account_ami_asg as asg, instance_profile_ssm as ips,
                runcommand_shadow_credentials as rsc};
    check(&cmk::Fix::ALL.map(|f| (f.description(), f.description_note())));
    check(&asg::Fix::ALL.map(|f| (f.description(), f.description_note())));
    check(&ips::Fix::ALL.map(|f| (f.description(), f.description_note())));
    check(&rsc::Fix::ALL.map(|f| (f.description(), f.description_note())));
}
