//! What the CLI tests share: `cargo xtask emulator` as a user starts it, the exports of
//! `--print-env`, and running the real AWS CLI expecting success.

#![allow(dead_code)] // each test binary uses its own subset

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

use serde_json::Value;
use wana_harness::{AwsCli, CliCredentials};

/// The emulator process, stopped when the test ends.
pub struct RunningEmulator {
    child: Child,
    pub port: u16,
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts `xtask emulator --port <free> <extra…>` and returns once it has printed its ready line.
pub fn start_emulator(extra: &[&str]) -> RunningEmulator {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["emulator", "--port", &port.to_string()])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("xtask emulator starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    loop {
        let line = lines.next().expect("the emulator prints a ready line").unwrap();
        if line.contains("ready") {
            if let Some(profile) = extra.iter().position(|a| *a == "--profile").and_then(|i| extra.get(i + 1)) {
                assert!(line.contains(&format!("(profile {profile})")), "{line}");
            }
            break;
        }
    }
    // Keep draining stdout so the emulator never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    RunningEmulator { child, port }
}

/// What `eval "$(cargo xtask emulator --print-env <account> --port <port>)"` would export.
pub fn print_env(account: &str, port: u16) -> CliCredentials {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["emulator", "--print-env", account, "--port", &port.to_string()])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("export {name}=")))
            .unwrap_or_else(|| panic!("{name} in {text}"))
            .trim_matches(|c| c == '"' || c == '\'')
            .to_string()
    };
    CliCredentials {
        access_key_id: value("AWS_ACCESS_KEY_ID"),
        secret_access_key: value("AWS_SECRET_ACCESS_KEY"),
        session_token: None,
        region: value("AWS_REGION"),
        endpoint_url: Some(value("AWS_ENDPOINT_URL")),
    }
}

/// The installed AWS CLI; tests fail (never skip) without it.
pub fn cli() -> AwsCli {
    AwsCli::locate().expect("the AWS CLI is installed by `cargo xtask test`")
}

/// Runs the CLI and returns its JSON output, failing the test if the command failed.
pub async fn ok(cli: &AwsCli, creds: &CliCredentials, args: &[&str]) -> Value {
    let out = cli.run(creds, args).await.unwrap();
    assert!(out.success(), "aws {args:?} failed: {}", out.stderr);
    if out.stdout.trim().is_empty() {
        Value::Null
    } else {
        out.json().unwrap()
    }
}
