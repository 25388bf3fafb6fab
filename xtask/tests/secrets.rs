//! No secret in anything wana writes (issue 15): every trap through `nightly` (its standard
//! streams and every file it writes) on the emulator and on moto's server, and through `repro`
//! (narrative and `--json`, each with `--report`) on the emulator, with debug logs of every crate on. Nothing written may contain a secret
//! access key, a session token, an instance-metadata token or a request signature.

use std::{path::Path, process::Command, sync::LazyLock};

use regex::Regex;
use wana_emulator::DEFAULT_ACCOUNTS;

/// What a secret of the emulator looks like (emulator/src/ids.rs: issued secret keys, session
/// tokens and IMDSv2 tokens carry these prefixes), and a SigV4 signature anywhere.
static EMULATOR_SECRETS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"wanaSecret[A-Z2-7]{10}|IQoJwanaSessionToken[A-Z2-7]{10}|AQAEAwana[A-Z2-7]{10}|Signature=[0-9a-f]{64}")
        .unwrap()
});

/// A secret access key of any issuer (moto's are random): 40 characters of base64's alphabet
/// standing alone, with upper and lower case and a digit. AWS's own session tokens start with
/// `IQoJ`/`FwoG`/`FQoG`.
static ANY_SECRET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^A-Za-z0-9/+=])([A-Za-z0-9/+]{40})(?:$|[^A-Za-z0-9/+=])|\b(?:FwoG|FQoG)[A-Za-z0-9/+=]{40,}").unwrap()
});

fn leaks(text: &str) -> Vec<String> {
    let mut found: Vec<String> =
        EMULATOR_SECRETS.find_iter(text).map(|m| m.as_str().to_string()).collect();
    for account in DEFAULT_ACCOUNTS {
        if text.contains(account.secret_access_key) {
            found.push(account.secret_access_key.to_string());
        }
    }
    for caps in ANY_SECRET.captures_iter(text) {
        let candidate = caps.get(1).or(caps.get(0)).unwrap().as_str();
        let mixed = candidate.chars().any(|c| c.is_ascii_uppercase())
            && candidate.chars().any(|c| c.is_ascii_lowercase())
            && candidate.chars().any(|c| c.is_ascii_digit());
        if mixed {
            found.push(candidate.to_string());
        }
    }
    found
}

fn xtask(args: &[&str]) -> (String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("RUST_LOG", "debug")
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (text, out.status.code().unwrap_or(-1))
}

fn files_under(dir: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap_or_default()));
        }
    }
    files
}

fn assert_no_secret(what: &str, text: &str) {
    let found = leaks(text);
    assert!(found.is_empty(), "{what} shows secrets: {found:?}");
}

#[test]
fn the_detector_finds_what_it_looks_for() {
    assert_eq!(leaks("key wanaSecretABCDEFGHIJKLMNOPQRSTUVWXYZ234567 end").len(), 1);
    assert_eq!(leaks(DEFAULT_ACCOUNTS[0].secret_access_key).len(), 2, "known, and of the shape");
    assert_eq!(leaks("Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef").len(), 1);
    assert_eq!(leaks(r#""SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY""#).len(), 1);
    assert!(leaks("<secret> <session-token> arn:aws:iam::111111111111:role/a-b i-0123456789abcdef0").is_empty());
}

#[rstest::rstest]
#[case::emulator("emulator")]
#[case::moto("moto")]
fn nothing_written_shows_a_secret(#[case] backend: &str) {
    let out_dir = tempfile::tempdir().unwrap();
    let report_dir = tempfile::tempdir().unwrap();
    let (text, code) = xtask(&[
        "nightly",
        "--backend",
        backend,
        "--out",
        out_dir.path().to_str().unwrap(),
        "--report",
        report_dir.path().to_str().unwrap(),
    ]);
    assert!(code == 0, "nightly on {backend} exited {code}: {text}");
    assert_no_secret(&format!("nightly on {backend}"), &text);
    let written: Vec<_> = files_under(out_dir.path()).into_iter().chain(files_under(report_dir.path())).collect();
    assert!(written.iter().any(|(path, _)| path.ends_with("report.html")), "--report wrote report.html");
    for (path, contents) in written {
        assert_no_secret(&path, &contents);
    }
    // repro's narrative and --json on the emulator; on moto nightly's files hold the same reports.
    if backend != "emulator" {
        return;
    }
    for trap in wana_scenarios::catalog().iter().filter(|t| t.is_runnable()) {
        for json in [false, true] {
            let reports = tempfile::tempdir().unwrap();
            let mut args = vec!["repro", trap.id, "--backend", backend, "--report", reports.path().to_str().unwrap()];
            if json {
                args.push("--json");
            }
            let (text, _) = xtask(&args);
            assert_no_secret(&format!("repro {} --backend {backend} (json: {json})", trap.id), &text);
            for (path, contents) in files_under(reports.path()) {
                assert_no_secret(&path, &contents);
            }
        }
    }
}
