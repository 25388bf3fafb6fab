use std::{fs, path::Path};

use crate::{
    catalog::{fill_for_test, placeholders},
    check_markdown_pair, markdown::has_japanese, Catalog, CatalogError, Lang, SOURCES,
};

#[test]
fn every_message_exists_in_both_languages_with_the_same_placeholders() {
    let catalog = Catalog::parse(SOURCES).expect("the catalog files parse");
    let mut problems = Vec::new();
    for (key, file, message) in catalog.iter() {
        let (Some(en), Some(ja)) = (message.en.as_deref(), message.ja.as_deref()) else {
            problems.push(format!("{file}: {key} exists in one language only"));
            continue;
        };
        if en.trim().is_empty() || ja.trim().is_empty() {
            problems.push(format!("{file}: {key} is empty in one language"));
            continue;
        }
        let (mut pe, mut pj) = (placeholders(en), placeholders(ja));
        pe.sort();
        pj.sort();
        if pe != pj {
            problems.push(format!("{file}: {key}: placeholders {pe:?} in en, {pj:?} in ja"));
        }
        if !has_japanese(ja) {
            problems.push(format!("{file}: {key}: the ja text has no Japanese in it: {ja:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_message_in_one_language_only_is_found() {
    let catalog = Catalog::parse(&[("x.toml", "[\"a.b\"]\nen = \"only English\"\n")]).unwrap();
    let message = catalog.get("a.b").unwrap();
    assert_eq!(message.ja, None);
    // Rendering falls back to English rather than showing nothing.
    assert_eq!(message.render(Lang::Ja, &[]), "only English");
}

#[test]
fn a_key_defined_in_two_files_is_refused() {
    let err = Catalog::parse(&[
        ("a.toml", "[\"k\"]\nen = \"a\"\nja = \"あ\"\n"),
        ("b.toml", "[\"k\"]\nen = \"b\"\nja = \"い\"\n"),
    ])
    .unwrap_err();
    assert_eq!(
        err,
        CatalogError::Duplicate {
            key: "k".into(),
            first: "a.toml".into(),
            second: "b.toml".into()
        }
    );
}

/// Every `tr!(lang, "key"...)` and `wana_i18n::text(lang, "key"...)` in the workspace's sources
/// names a key the catalog has.
#[test]
fn every_key_used_in_the_workspace_exists() {
    let catalog = Catalog::parse(SOURCES).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut missing = Vec::new();
    let mut used = 0;
    for crate_dir in fs::read_dir(root).unwrap().flatten() {
        let src = crate_dir.path().join("src");
        if src.is_dir() && crate_dir.file_name() != "i18n" {
            walk(&src, &mut |path, text| {
                for key in keys_used(text) {
                    used += 1;
                    if catalog.get(&key).is_none() {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            });
        }
    }
    assert!(missing.is_empty(), "keys no catalog has:\n{}", missing.join("\n"));
    let _ = used;
}

fn walk(dir: &Path, visit: &mut dyn FnMut(&Path, &str)) {
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, visit);
        } else if path.extension().is_some_and(|e| e == "rs") {
            if let Ok(text) = fs::read_to_string(&path) {
                visit(&path, &text);
            }
        }
    }
}

/// The literal keys after `tr!(<lang>, ` in a source text.
fn keys_used(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for (index, _) in text.match_indices("tr!(") {
        let rest = &text[index + 4..];
        let Some(comma) = rest.find(',') else { continue };
        let after = rest[comma + 1..].trim_start();
        if let Some(literal) = after.strip_prefix('"') {
            if let Some(end) = literal.find('"') {
                keys.push(literal[..end].to_string());
            }
        }
    }
    keys
}

#[test]
fn keys_used_reads_the_macro_calls() {
    let text = "let a = tr!(lang, \"x.one\");\nlet b = tr!(self.lang,\n  \"x.two\", n = 3);";
    assert_eq!(keys_used(text), ["x.one", "x.two"]);
}

#[test]
fn placeholders_are_filled_by_name_and_braces_can_be_escaped() {
    let n = 3;
    let s = fill_for_test("{n} keys in {{braces}}, {unknown} stays", &[("n", &n)]);
    assert_eq!(s, "3 keys in {braces}, {unknown} stays");
    assert_eq!(placeholders("{a} and {b} and {a} {{c}}"), ["a", "b"]);
}

#[test]
fn tr_renders_the_catalog_in_each_language() {
    let id = "nope";
    let known = "alarm-recover";
    assert_eq!(
        tr!(Lang::En, "common.unknown_trap", id = id, known = known),
        "unknown trap nope; known traps: alarm-recover"
    );
    assert!(tr!(Lang::Ja, "common.unknown_trap", id = id, known = known).contains("不明な罠"));
    assert_eq!(crate::text(Lang::En, "no.such.key", &[]), "⟦no.such.key⟧");
}

#[test]
fn the_language_comes_from_the_flag_then_the_locale() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
    };
    assert_eq!(Lang::from_locale(env(&[("LANG", "ja_JP.UTF-8")])), Lang::Ja);
    assert_eq!(Lang::from_locale(env(&[("LANG", "en_US.UTF-8")])), Lang::En);
    assert_eq!(Lang::from_locale(env(&[])), Lang::En);
    // LC_ALL wins over LANG; an empty value is skipped.
    assert_eq!(
        Lang::from_locale(env(&[("LC_ALL", "C.UTF-8"), ("LANG", "ja_JP.UTF-8")])),
        Lang::En
    );
    assert_eq!(
        Lang::from_locale(env(&[("LC_ALL", ""), ("LANG", "ja_JP.UTF-8")])),
        Lang::Ja
    );
    assert_eq!("ja".parse::<Lang>(), Ok(Lang::Ja));
    assert_eq!("EN".parse::<Lang>(), Ok(Lang::En));
    assert!("fr".parse::<Lang>().is_err());
    assert_eq!(Lang::choose(Some(Lang::Ja)), Lang::Ja);
}

#[test]
fn markdown_pairs_must_match_in_shape() {
    let en = "# Title\n\nText.\n\n## Part\n\n```sh\naws kms list-keys\n```\n";
    let ja = "# 題名\n\n本文。\n\n## 部分\n\n```sh\naws kms list-keys\n```\n";
    assert_eq!(check_markdown_pair(en, ja), Ok(()));
    let missing_heading = "# 題名\n\n本文。\n\n```sh\naws kms list-keys\n```\n";
    assert!(check_markdown_pair(en, missing_heading)
        .unwrap_err()
        .contains("level-2"));
    let changed_code = ja.replace("list-keys", "list-aliases");
    assert!(check_markdown_pair(en, &changed_code)
        .unwrap_err()
        .contains("code blocks"));
    assert!(check_markdown_pair(en, en)
        .unwrap_err()
        .contains("no Japanese"));
}
