//! `cargo xtask workshop` driven as a participant drives it: the binary's output read, the
//! printed environment used by the real AWS CLI to apply the reference fix, `v` typed, and
//! `cargo xtask workshop verify` from another process; in English and in Japanese.

use std::{
    io::{BufRead, BufReader, Write},
    process::{Child, ChildStdin, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use wana_harness::{AwsCli, CliCredentials};

const TRAP: &str = "cmk-start-external-role";

/// One workshop of a trap at a time: its control file (`target/wana-workshop/<trap>.json`) is
/// per trap, so `workshop verify` from another terminal would reach whichever wrote it last.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

struct Workshop {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Drop for Workshop {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Workshop {
    fn start(lang: &str, more: &[&str]) -> Workshop {
        let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["workshop", TRAP, "--lang", lang])
            .args(more)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("xtask workshop starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tell, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tell.send(line).is_err() {
                    break;
                }
            }
        });
        Workshop { child, stdin, lines, seen: Vec::new() }
    }

    /// Reads lines until one contains `text`; returns it.
    fn until(&mut self, text: &str) -> String {
        loop {
            let line = self.lines.recv_timeout(Duration::from_secs(300)).unwrap_or_else(|_| panic!("no {text:?} in {:#?}", self.seen));
            self.seen.push(line.clone());
            if line.contains(text) {
                return line;
            }
        }
    }

    fn send(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// A value printed as `  Name = value`.
    fn value(&self, name: &str) -> String {
        self.seen.iter().find_map(|l| l.trim().strip_prefix(&format!("{name} = ")).map(str::to_string)).unwrap_or_else(|| panic!("{name} in {:#?}", self.seen))
    }

    /// What the block of `account` exports.
    fn credentials(&self, account: &str) -> CliCredentials {
        let start = self.seen.iter().position(|l| l.starts_with(&format!("# account {account} "))).expect("the account's block");
        let block = &self.seen[start..];
        let export = |name: &str| block.iter().find_map(|l| l.strip_prefix(&format!("export {name}="))).unwrap().to_string();
        CliCredentials {
            access_key_id: export("AWS_ACCESS_KEY_ID"),
            secret_access_key: export("AWS_SECRET_ACCESS_KEY"),
            session_token: None,
            region: export("AWS_REGION"),
            endpoint_url: Some(export("AWS_ENDPOINT_URL")),
        }
    }
}

/// The reference fix with the real AWS CLI, as the customer's administrator.
fn apply_reference_fix(workshop: &Workshop) {
    let cli = AwsCli::locate().expect("the AWS CLI is installed by `cargo xtask test`");
    let creds = workshop.credentials("c");
    let reference = std::fs::read_to_string(format!("{}/../scenarios/fixes/{TRAP}/reference.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let mut policy = reference;
    for name in ["AccountId", "Region", "KeyArn", "RoleArn", "VendorAccountId"] {
        policy = policy.replace(&format!("${{{name}}}"), &workshop.value(name));
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.json");
    std::fs::write(&file, policy).unwrap();
    let key = workshop.value("KeyArn");
    let policy_arg = format!("file://{}", file.display());
    let args = ["kms", "put-key-policy", "--key-id", &key, "--policy-name", "default", "--policy", &policy_arg];
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let out = runtime.block_on(cli.run(&creds, &args)).unwrap();
    assert!(out.success(), "aws {args:?}: {}", out.stderr);
}

fn verify_from_another_terminal() -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask")).args(["workshop", "verify", TRAP]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn a_participant_fixes_the_trap_with_the_aws_cli_and_verify_says_it_is_gone() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let reports = tempfile::tempdir().unwrap();
    let report_dir = reports.path().to_str().unwrap();
    let mut workshop = Workshop::start("en", &["--report", report_dir]);
    workshop.until("What you see: StartInstances by ThirdPartyRole answered pending");
    workshop.until("[v] verify  [h] hint  [q] quit");
    // Before the fix, from another terminal: still there.
    assert!(verify_from_another_terminal().contains("The failure is still there."));
    workshop.send("h");
    workshop.until("Hint 1: ");
    apply_reference_fix(&workshop);
    workshop.send("v");
    let answer = workshop.until("The failure ");
    assert!(answer.starts_with("The failure is gone."), "{answer}");
    workshop.send("q");
    workshop.until("Done: the emulator is stopped.");
    assert!(workshop.child.wait().unwrap().success());
    // --report: the workshop's run, concluded by the last verify.
    let markdown = std::fs::read_to_string(reports.path().join("report.md")).unwrap();
    assert!(markdown.contains("reproduced-and-fixed"), "{markdown}");
    let html = std::fs::read_to_string(reports.path().join("report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("ThirdPartyRole"), "{html}");
}

#[test]
fn the_workshop_speaks_japanese() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut workshop = Workshop::start("ja", &[]);
    workshop.until("発生している事象: ");
    workshop.until("[v] 確認  [h] ヒント  [q] 終了");
    workshop.send("v");
    assert!(workshop.until("障害は").contains("障害はまだ残っています。"));
    apply_reference_fix(&workshop);
    workshop.send("v");
    let answer = workshop.until("障害は");
    assert!(answer.starts_with("障害は解消しました。"), "{answer}");
    workshop.send("q");
    workshop.until("終了しました。");
}
