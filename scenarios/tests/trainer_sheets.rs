//! The trainer sheets (`docs/trainers/`) and the fix manifests (`scenarios/fixes/`) agree: every
//! runnable trap has a sheet in both languages, of the same shape; every fix of a manifest exists,
//! has a kind the fixes README lists, parses when it is JSON, and is named in both sheets with the
//! exit code `check` must give it; every trap has its three staged hints. No emulator is needed.

use std::{fs, path::{Path, PathBuf}};

use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Manifest {
    fix: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    file: String,
    kind: String,
    expect: String,
    broader: Vec<String>,
    title: Title,
}

#[derive(Debug, Deserialize)]
struct Title {
    en: String,
    ja: String,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace root").to_path_buf()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The kinds the fixes README's table lists (its rows start with "| `kind` |").
fn kinds_in_readme() -> Vec<String> {
    let readme = read(&repo().join("scenarios/fixes/README.md"));
    let table = readme.split("## Kinds of fix file").nth(1).expect("the README has its kinds table");
    let table = table.split("\n## ").next().unwrap_or_default();
    table
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_string)
        .collect()
}

fn manifest(trap: &str) -> Manifest {
    let path = repo().join("scenarios/fixes").join(trap).join("fixes.toml");
    toml::from_str(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn exit_code(expect: &str) -> u8 {
    match expect {
        "resolved" => 0,
        "not-resolved" => 1,
        "broader" => 5,
        other => panic!("unknown expectation {other:?}"),
    }
}

fn runnable() -> Vec<&'static str> {
    let ids: Vec<&str> = wana_scenarios::catalog().iter().filter(|t| t.is_runnable()).map(|t| t.id).collect();
    assert!(!ids.is_empty());
    ids
}

#[test]
fn every_runnable_trap_has_a_sheet_in_both_languages_of_the_same_shape() {
    let dir = repo().join("docs/trainers");
    let mut problems = Vec::new();
    for trap in runnable() {
        let (en, ja) = (dir.join(format!("{trap}.md")), dir.join(format!("{trap}.ja.md")));
        if !en.exists() || !ja.exists() {
            problems.push(format!("{trap}: a sheet is missing"));
            continue;
        }
        if let Err(why) = wana_i18n::check_markdown_pair(&read(&en), &read(&ja)) {
            problems.push(format!("{trap}: {why}"));
        }
    }
    if let Err(why) = wana_i18n::check_markdown_pair(&read(&dir.join("README.md")), &read(&dir.join("README.ja.md"))) {
        problems.push(format!("README: {why}"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_manifest_entry_exists_has_a_known_kind_and_parses() {
    let kinds = kinds_in_readme();
    assert_eq!(kinds, ["key-policy", "iam-policy", "grant", "trust-policy", "script", "template"]);
    let mut problems = Vec::new();
    for trap in runnable() {
        let manifest = manifest(trap);
        let expects: Vec<&str> = manifest.fix.iter().map(|f| f.expect.as_str()).collect();
        for needed in ["resolved", "broader", "not-resolved"] {
            if !expects.contains(&needed) {
                problems.push(format!("{trap}: no {needed} fix"));
            }
        }
        if expects.iter().filter(|e| **e == "resolved").count() < 2 {
            problems.push(format!("{trap}: a reference and an alternative valid fix are needed"));
        }
        for fix in &manifest.fix {
            let path = repo().join("scenarios/fixes").join(trap).join(&fix.file);
            if !kinds.contains(&fix.kind) {
                problems.push(format!("{trap}/{}: unknown kind {}", fix.file, fix.kind));
            }
            if (fix.expect == "broader") == fix.broader.is_empty() {
                problems.push(format!("{trap}/{}: findings belong to broader fixes, and only to them", fix.file));
            }
            if fix.title.en.trim().is_empty() || !wana_i18n_has_japanese(&fix.title.ja) {
                problems.push(format!("{trap}/{}: a title in each language", fix.file));
            }
            let Ok(text) = fs::read_to_string(&path) else {
                problems.push(format!("{trap}/{}: no such file", fix.file));
                continue;
            };
            if fix.file.ends_with(".json") {
                if let Err(e) = serde_json::from_str::<serde_json::Value>(&text) {
                    problems.push(format!("{trap}/{}: not JSON: {e}", fix.file));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Japanese letters (hiragana, katakana, kanji), as the i18n crate's own check counts them.
fn wana_i18n_has_japanese(text: &str) -> bool {
    wana_i18n::check_markdown_pair("x", text).is_ok()
}

#[test]
fn both_sheets_name_every_fix_with_its_exit_code() {
    let dir = repo().join("docs/trainers");
    let mut problems = Vec::new();
    for trap in runnable() {
        for sheet in [format!("{trap}.md"), format!("{trap}.ja.md")] {
            let text = read(&dir.join(&sheet));
            for fix in manifest(trap).fix {
                let code = exit_code(&fix.expect);
                // The check table's row: | `file` | kind | verdict | exit | findings |
                let row = text.lines().find(|l| l.starts_with(&format!("| `{}` |", fix.file)));
                match row {
                    None => problems.push(format!("{sheet}: no row for {}", fix.file)),
                    Some(row) => {
                        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
                        if cells.get(4) != Some(&code.to_string().as_str()) {
                            problems.push(format!("{sheet}: {} should say exit {code}: {row}", fix.file));
                        }
                        for finding in &fix.broader {
                            if !row.contains(&format!("`{finding}`")) {
                                problems.push(format!("{sheet}: {} does not name {finding}", fix.file));
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_runnable_trap_has_three_staged_hints_in_both_languages() {
    let catalog = wana_i18n::catalog();
    for trap in runnable() {
        for stage in 1..=3 {
            let key = format!("hints.{trap}.{stage}");
            let message = catalog.get(&key).unwrap_or_else(|| panic!("no hint {key}"));
            assert!(message.en.as_deref().is_some_and(|t| t.contains("aws ") || stage > 1), "{key}: stage 1 says which aws command shows the symptom");
            assert!(message.ja.is_some(), "{key}");
        }
    }
}
