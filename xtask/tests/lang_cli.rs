//! `--lang` through the built binary: the narrative report, `show`, `list` and `explain` in
//! Japanese, the language taken from `LANG` when no flag is given, and `--json` unchanged by the
//! language.

use std::process::{Command, Output};

/// The xtask binary with no locale of the test's own environment, so that each test says which
/// language it means.
fn xtask(args: &[&str], lang_env: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.args(args).env_remove("RUST_LOG").env_remove("LC_ALL").env_remove("LC_MESSAGES");
    match lang_env {
        Some(value) => command.env("LANG", value),
        None => command.env("LANG", "C.UTF-8"),
    };
    command.output().expect("the xtask binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn has_kana(text: &str) -> bool {
    text.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c))
}

fn runnable() -> Vec<&'static str> {
    wana_scenarios::catalog().iter().filter(|t| t.is_runnable()).map(|t| t.id).collect()
}

#[test]
fn repro_in_japanese_narrates_every_runnable_trap_and_exits_as_in_english() {
    for trap in runnable() {
        let ja = xtask(&["repro", trap, "--lang", "ja"], None);
        let en_json = xtask(&["repro", trap, "--lang", "en", "--json", "--redact"], None);
        let ja_json = xtask(&["repro", trap, "--lang", "ja", "--json", "--redact"], None);
        let text = stdout(&ja);
        assert_eq!(ja.status.code(), en_json.status.code(), "{trap}: exit codes differ\n{text}");
        assert_eq!(ja_json.status.code(), en_json.status.code(), "{trap}");
        // The JSON form is English whatever the language.
        assert_eq!(
            stdout(&ja_json),
            stdout(&en_json),
            "{trap}: --json differs with --lang ja; stderr: {}",
            String::from_utf8_lossy(&ja_json.stderr)
        );
        assert!(!stdout(&en_json).is_empty(), "{trap}");

        assert!(text.starts_with(&format!("{trap}（バックエンド: emulator")), "{trap}:\n{text}");
        assert!(text.contains("[準備]") && text.contains("[後片付け]"), "{trap}:\n{text}");
        let verdicts: Vec<&str> = text.lines().filter(|l| l.starts_with("判定: ")).collect();
        assert!(!verdicts.is_empty(), "{trap}: no Japanese verdict line:\n{text}");
        assert!(verdicts.iter().all(|l| has_kana(l)), "{trap}: {verdicts:?}");
        assert!(!text.lines().any(|l| l.starts_with("verdict: ")), "{trap}: an English verdict line:\n{text}");
        // Every note of the scenario is narrated in Japanese, none left in English.
        let notes: Vec<&str> = text.lines().filter(|l| l.starts_with("  - ")).collect();
        assert!(!notes.is_empty(), "{trap}: no notes:\n{text}");
        for note in notes {
            assert!(has_kana(note), "{trap}: a note in English only: {note}");
        }
        assert!(!text.contains('⟦'), "{trap}: a key no catalog has:\n{text}");
    }
}

#[test]
fn the_language_comes_from_lang_when_no_flag_is_given() {
    let trap = "cmk-start-external-role";
    let from_env = xtask(&["repro", trap], Some("ja_JP.UTF-8"));
    assert!(from_env.status.success());
    assert!(stdout(&from_env).lines().any(|l| l.starts_with("判定: reproduced-and-fixed")), "{}", stdout(&from_env));
    // The flag wins over the locale.
    let flag = xtask(&["repro", trap, "--lang", "en"], Some("ja_JP.UTF-8"));
    assert!(stdout(&flag).ends_with("verdict: reproduced-and-fixed, as expected (reproduced-and-fixed)\n"), "{}", stdout(&flag));
    let list = xtask(&["list"], Some("ja_JP.UTF-8"));
    assert!(stdout(&list).contains("[実行可能]"), "{}", stdout(&list));
    let list = xtask(&["list"], None);
    assert!(stdout(&list).contains("[runnable]"), "{}", stdout(&list));
}

#[test]
fn show_and_explain_speak_japanese_with_lang_ja() {
    let show = xtask(&["show", "cmk-start-external-role", "--lang", "ja"], None);
    assert!(show.status.success());
    let text = stdout(&show);
    assert!(text.contains("実行するには: cargo xtask repro cmk-start-external-role"), "{text}");
    assert!(text.contains("所要時間は約 10 分") && text.contains("KMS キー"), "{text}");
    // The narrative itself is the Japanese one, headings and all.
    assert!(text.starts_with("# cmk-start-external-role: ") && text.contains("\n## なぜか\n"), "{text}");
    assert!(!text.contains("## What you see"), "{text}");
    let english = stdout(&xtask(&["show", "cmk-start-external-role", "--lang", "en"], None));
    assert!(english.contains("Run it: cargo xtask repro cmk-start-external-role"), "{english}");
    assert!(!has_kana(english.lines().last().unwrap()), "{english}");

    let explain = xtask(&["explain", "cross-account-ami-asg", "--lang", "ja"], None);
    assert!(explain.status.success());
    let text = stdout(&explain);
    assert!(text.contains("拒否された呼び出しは"), "{text}");
    assert!(text.contains("   呼び出し元       ") && text.contains("キーポリシー: key policy of"), "{text}");
    let json_en = xtask(&["explain", "cross-account-ami-asg", "--json", "--redact", "--lang", "en"], None);
    let json_ja = xtask(&["explain", "cross-account-ami-asg", "--json", "--redact", "--lang", "ja"], None);
    assert_eq!(stdout(&json_en), stdout(&json_ja));
}
