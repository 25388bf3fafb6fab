//! `cargo xtask repro --report DIR` rendered in a real browser: Debian's Chromium, headless, opens
//! the report.html a run of cmk-start-external-role on the emulator wrote, and the diagram is
//! there: its participants are in the SVG of the rendered DOM, the refused call is marked, the
//! screenshot has its red arrow, and the page asked for nothing outside itself.
//!
//! Chromium must be installed (`cargo xtask test` installs Debian's `chromium` when
//! /usr/bin/chromium is missing); without it this test fails, it does not skip.

use std::{
    io::{BufRead, BufReader, Write},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

const CHROMIUM: &str = "/usr/bin/chromium";

/// A proxy that answers every request 404 and remembers its first line: Chromium is pointed at
/// it, so any resource a page asks for from the network shows up here.
struct Proxy {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut line = String::new();
                let mut reader = BufReader::new(&stream);
                let _ = reader.read_line(&mut line);
                seen.lock().unwrap().push(line.trim().to_string());
                let _ = (&stream).write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Proxy { port, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// The hosts asked for since the last call.
    fn take_hosts(&self) -> Vec<String> {
        std::mem::take(&mut *self.requests.lock().unwrap())
            .iter()
            .map(|line| host(line))
            .collect()
    }
}

/// `h` of `CONNECT h:443 HTTP/1.1` and of `GET http://h/path HTTP/1.1`.
fn host(request_line: &str) -> String {
    let target = request_line.split_whitespace().nth(1).unwrap_or("");
    let target = target.strip_prefix("http://").unwrap_or(target);
    let authority = target.split('/').next().unwrap_or("");
    authority
        .rsplit_once(':')
        .map_or(authority, |(h, _)| h)
        .to_string()
}

/// Hosts Chromium asks for by itself, whatever the page, even with the background-networking
/// flags (seen here with Debian's Chromium 148: network time, account and search preconnects).
const CHROMIUM_OWN_HOSTS: [&str; 3] = [
    "clients2.google.com",
    "accounts.google.com",
    "www.google.com",
];

/// Runs headless Chromium on `page` with `args` (`--dump-dom`, `--screenshot=...`), through
/// `proxy`, with the flags this closed network needs; returns its stdout.
fn chromium(page: &Path, args: &[&str], proxy: &Proxy) -> String {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: `cargo xtask test` installs it (apt-get install chromium)"
    );
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1600,1400",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--proxy-server=http://127.0.0.1:{}", proxy.port))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium did not finish within 120 s on {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "chromium failed on {}",
        page.display()
    );
    String::from_utf8(output.stdout).unwrap()
}

fn repro_report(dir: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .env_remove("RUST_LOG")
        .args([
            "repro",
            "cmk-start-external-role",
            "--lang",
            "en",
            "--report",
        ])
        .arg(dir)
        .output()
        .expect("the xtask binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("report written:"));
}

/// Pixels of `png` within a small distance of `rgb`.
fn pixels_like(png: &Path, rgb: [u8; 3]) -> usize {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).unwrap();
    let channels = info.color_type.samples();
    buffer[..info.buffer_size()]
        .chunks(channels)
        .filter(|p| (0..3).all(|i| p[i].abs_diff(rgb[i]) <= 12))
        .count()
}

#[test]
fn a_repro_report_renders_in_chromium_with_its_diagram_and_nothing_external() {
    let dir = tempfile::tempdir().unwrap();
    let report_dir: PathBuf = dir.path().join("report");
    repro_report(&report_dir);
    let page = report_dir.join("report.html");
    let proxy = Proxy::start();
    // What Chromium asks for on its own, on an empty page: not the report's doing.
    let empty = dir.path().join("empty.html");
    std::fs::write(&empty, "<!DOCTYPE html><title>empty</title>").unwrap();
    chromium(&empty, &["--dump-dom"], &proxy);
    let mut own_hosts = proxy.take_hosts();
    own_hosts.extend(CHROMIUM_OWN_HOSTS.map(String::from));

    // The rendered DOM: the diagram's participants and the refused call.
    let dom = chromium(&page, &["--dump-dom"], &proxy);
    let start = dom.find("<svg").expect("the rendered page has an SVG");
    let svg = &dom[start..start + dom[start..].find("</svg>").expect("the SVG is closed")];
    for participant in [
        "admin@c",
        "admin@b",
        "ThirdPartyRole@c",
        "KMS",
        "EC2",
        "IAM",
        "STS",
    ] {
        assert!(
            svg.contains(&format!(">{participant}</text>")),
            "no lifeline for {participant} in the rendered SVG"
        );
    }
    let failed = svg
        .find("class=\"call inner failed\"")
        .expect("the refused call is marked");
    let failed = &svg[failed..failed + svg[failed..].find("</g>").unwrap()];
    assert!(
        failed.contains("data-error-code=\"AccessDeniedException\""),
        "{failed}"
    );
    assert!(
        failed.contains("kms:CreateGrant as ThirdPartyRole/scheduled-start"),
        "{failed}"
    );
    assert_eq!(
        svg.matches("class=\"call inner failed\"").count(),
        1,
        "one refused call"
    );

    // Drawn, not only present: the screenshot has the red arrow and the principals' heads.
    let screenshot = dir.path().join("report.png");
    chromium(
        &page,
        &[&format!("--screenshot={}", screenshot.display())],
        &proxy,
    );
    assert!(
        pixels_like(&screenshot, [0xc6, 0x28, 0x28]) > 200,
        "no red arrow drawn"
    );
    assert!(
        pixels_like(&screenshot, [0xdb, 0xea, 0xfe]) > 2000,
        "no principal drawn"
    );
    let asked: Vec<String> = proxy
        .take_hosts()
        .into_iter()
        .filter(|h| !own_hosts.contains(h))
        .collect();
    assert_eq!(
        asked,
        Vec::<String>::new(),
        "the report asked the network for something"
    );

    // The check above can see a page that loads something: a page with an external image does.
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><img src=\"http://wana-external.test/pixel.png\">",
    )
    .unwrap();
    chromium(&control, &["--dump-dom"], &proxy);
    assert!(
        proxy
            .requests()
            .iter()
            .any(|r| r.contains("wana-external.test")),
        "the proxy saw no request from the control page: {:?}",
        proxy.requests()
    );
}

/// `nightly --report DIR`: one report listing every run, beside (not over) the drift report.
#[test]
fn nightly_writes_one_report_of_its_runs_beside_the_drift_report() {
    let dir = tempfile::tempdir().unwrap();
    let (out, report) = (dir.path().join("out"), dir.path().join("report"));
    let nightly = |report_dir: &Path| {
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .env_remove("RUST_LOG")
            .args([
                "nightly",
                "--backend",
                "emulator",
                "--traps",
                "cmk-start-external-role",
                "--lang",
                "ja",
            ])
            .arg("--out")
            .arg(&out)
            .arg("--report")
            .arg(report_dir)
            .output()
            .expect("the xtask binary runs")
    };
    let output = nightly(&report);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let html = std::fs::read_to_string(report.join("report.html")).unwrap();
    assert!(
        html.contains("<h2>cmk-start-external-role — emulator (current)</h2>"),
        "{html}"
    );
    assert!(html.contains("シーケンス図") && html.contains("class=\"call inner failed\""));
    // --redact is nightly's default: no account id in the report.
    assert!(!html.contains("333333333333"));
    let drift = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        !drift.contains("シーケンス図"),
        "the drift report is left as it was"
    );

    let refused = nightly(&out);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr)
        .contains("--report must name another directory than --out"));
}
