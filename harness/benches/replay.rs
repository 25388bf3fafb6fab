//! The emulator and moto's server side by side with a bare load generator (issue 15): each call
//! (STS GetCallerIdentity, KMS Encrypt, EC2 DescribeInstances) is signed ONCE, as the SDKs sign
//! it, and the same bytes are replayed over keep-alive connections, closed loop (one request in
//! flight per connection, as wrk does). No SDK runs while measuring, so the figures are the
//! servers' own, less the cost of writing and reading bytes on loopback.
//!
//! Run with `cargo xtask bench --peers` or `cargo bench -p wana-harness --bench replay`. The
//! signatures stay valid for SigV4's 15-minute window, far longer than a run.

use std::{
    net::SocketAddr,
    time::{Duration, Instant, SystemTime},
};

use aws_credential_types::Credentials;
use aws_sigv4::{
    http_request::{sign, SignableBody, SignableRequest, SigningSettings},
    sign::v4,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use wana_emulator::BehaviourProfile;
use wana_harness::{aws_cli::workspace_root, Backend, BackendKind, Principal};
use wana_localstack::{HostServer, Server};

/// Connections per server, each with one request in flight.
const CONNECTIONS: usize = 8;

/// `cargo bench` passes `--bench`; `cargo test --all-targets` runs this file without it, as a
/// smoke test that both servers answer the replayed requests with 200.
fn durations() -> (Duration, Duration) {
    if std::env::args().any(|a| a == "--bench") {
        (Duration::from_millis(500), Duration::from_secs(5))
    } else {
        (Duration::from_millis(10), Duration::from_millis(100))
    }
}

/// One server: where it listens, and an account's key to sign with.
struct Peer {
    addr: SocketAddr,
    key: String,
    secret: String,
    key_id: String,
}

impl Peer {
    async fn new(backend: &Backend) -> Peer {
        let url = backend.endpoint_url().expect("a local endpoint");
        let addr = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .expect("an http://127.0.0.1:port endpoint");
        let account = &backend.accounts()[0];
        let admin = Principal::account_admin(backend, &account.name).expect("admin");
        let kms = aws_sdk_kms::Client::new(&admin.config);
        let key = kms.create_key().send().await.expect("CreateKey");
        let key_id = key.key_metadata().expect("key metadata").key_id().to_string();
        aws_sdk_ec2::Client::new(&admin.config)
            .run_instances()
            .image_id("ami-374db956")
            .instance_type("t2.micro".into())
            .min_count(1)
            .max_count(1)
            .send()
            .await
            .expect("RunInstances");
        Peer {
            addr,
            key: account.access_key_id.clone(),
            secret: account.secret_access_key.clone(),
            key_id,
        }
    }

    /// The call as the bytes of one signed HTTP/1.1 request.
    fn request(&self, call: Call) -> Vec<u8> {
        let host = self.addr.to_string();
        let (service, mut headers, body) = match call {
            Call::GetCallerIdentity => (
                "sts",
                vec![("content-type", "application/x-www-form-urlencoded".to_string())],
                "Action=GetCallerIdentity&Version=2011-06-15".to_string(),
            ),
            Call::Encrypt => (
                "kms",
                vec![
                    ("content-type", "application/x-amz-json-1.1".to_string()),
                    ("x-amz-target", "TrentService.Encrypt".to_string()),
                ],
                format!(r#"{{"KeyId":"{}","Plaintext":"d2FuYSBiZW5jaA=="}}"#, self.key_id),
            ),
            Call::DescribeInstances => (
                "ec2",
                vec![("content-type", "application/x-www-form-urlencoded".to_string())],
                "Action=DescribeInstances&Version=2016-11-15".to_string(),
            ),
        };
        headers.push(("host", host));
        let identity = Credentials::new(&self.key, &self.secret, None, None, "bench").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name(service)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .expect("signing params");
        let signable = SignableRequest::new(
            "POST",
            "/",
            headers.iter().map(|(k, v)| (*k, v.as_str())),
            SignableBody::Bytes(body.as_bytes()),
        )
        .expect("signable request");
        let (instructions, _) = sign(signable, &params.into()).expect("signed").into_parts();
        let mut head = String::from("POST / HTTP/1.1\r\n");
        for (name, value) in &headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        for (name, value) in instructions.headers() {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body.as_bytes());
        bytes
    }
}

#[derive(Clone, Copy)]
enum Call {
    GetCallerIdentity,
    Encrypt,
    DescribeInstances,
}

impl Call {
    const ALL: [Call; 3] = [Call::GetCallerIdentity, Call::Encrypt, Call::DescribeInstances];

    fn name(self) -> &'static str {
        match self {
            Call::GetCallerIdentity => "STS GetCallerIdentity",
            Call::Encrypt => "KMS Encrypt",
            Call::DescribeInstances => "EC2 DescribeInstances",
        }
    }
}

/// Reads one response (head and a `content-length` body) and returns its status and whether the
/// server closes the connection after it (moto's server, Werkzeug's, answers `Connection: close`
/// to every request; the emulator keeps connections alive). Leftover bytes stay in `buffer`
/// (none, with one request in flight).
async fn read_response(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> (u16, bool) {
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buffer[..end]).expect("an ASCII response head");
            let status: u16 = head
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .expect("a status line");
            let length: usize = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
                })
                .expect("a content-length (chunked responses are not read here)");
            let closes = head.lines().any(|line| {
                line.split_once(':').is_some_and(|(name, value)| {
                    name.eq_ignore_ascii_case("connection") && value.trim().eq_ignore_ascii_case("close")
                })
            });
            let total = end + 4 + length;
            while buffer.len() < total {
                read_more(stream, buffer).await;
            }
            buffer.drain(..total);
            return (status, closes);
        }
        read_more(stream, buffer).await;
    }
}

async fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>) {
    let mut chunk = [0u8; 16 * 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
        .await
        .unwrap_or_else(|_| panic!("no answer in 10 s; read so far: {:?}", String::from_utf8_lossy(buffer)))
        .expect("read");
    assert!(n > 0, "the server closed the connection");
    buffer.extend_from_slice(&chunk[..n]);
}

/// One request written, its response read (on a new connection when the last one was closed, as
/// wrk does: connecting is then part of the server's cost); anything but 200 stops the bench.
async fn once(addr: SocketAddr, stream: &mut Option<TcpStream>, buffer: &mut Vec<u8>, request: &[u8]) {
    if stream.is_none() {
        let connected = TcpStream::connect(addr).await.expect("connect");
        connected.set_nodelay(true).expect("nodelay");
        buffer.clear();
        *stream = Some(connected);
    }
    let open = stream.as_mut().expect("connected");
    open.write_all(request).await.expect("write");
    let (status, closes) = read_response(open, buffer).await;
    assert_eq!(status, 200, "the replayed request was refused");
    if closes {
        *stream = None;
    }
}

struct Measurement {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

async fn measure(addr: SocketAddr, request: Vec<u8>) -> Measurement {
    let (warm_up, measure_for) = durations();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONNECTIONS {
        let request = request.clone();
        tasks.spawn(async move {
            let mut stream = None;
            let mut buffer = Vec::with_capacity(64 * 1024);
            let warm_until = Instant::now() + warm_up;
            while Instant::now() < warm_until {
                once(addr, &mut stream, &mut buffer, &request).await;
            }
            let mut latencies = Vec::new();
            let started = Instant::now();
            while started.elapsed() < measure_for {
                let one = Instant::now();
                once(addr, &mut stream, &mut buffer, &request).await;
                latencies.push(one.elapsed());
            }
            (latencies, started.elapsed())
        });
    }
    let mut latencies = Vec::new();
    let mut elapsed = Duration::ZERO;
    while let Some(done) = tasks.join_next().await {
        let (mut task_latencies, task_elapsed) = done.expect("bench task");
        latencies.append(&mut task_latencies);
        elapsed = elapsed.max(task_elapsed);
    }
    latencies.sort();
    let at = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    Measurement { per_second: latencies.len() as f64 / elapsed.as_secs_f64(), p50: at(0.5), p99: at(0.99) }
}

fn main() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async {
        let emulator = Backend::start_emulator(BehaviourProfile::Current).await.expect("emulator");
        let moto_server = HostServer::start(Server::Moto, &workspace_root(), 0)
            .await
            .expect("moto's server (install it with `cargo xtask moto install`)");
        let moto = Backend::start_endpoint(BackendKind::Moto, Some(moto_server.endpoint_url()), BehaviourProfile::Current)
            .await
            .expect("moto's accounts");
        let wana = Peer::new(&emulator).await;
        let peer = Peer::new(&moto).await;
        println!("{CONNECTIONS} connections each, one request in flight per connection; the same pre-signed bytes replayed");
        println!("| call | wana req/s | wana p50 | wana p99 | moto req/s | moto p50 | moto p99 | ratio |");
        println!("|---|---|---|---|---|---|---|---|");
        for call in Call::ALL {
            // One server at a time, so that neither competes with the other for the cores.
            let ours = measure(wana.addr, wana.request(call)).await;
            let theirs = measure(peer.addr, peer.request(call)).await;
            println!(
                "| {} | {:.0} | {:.3} ms | {:.3} ms | {:.0} | {:.2} ms | {:.2} ms | {:.1}× |",
                call.name(),
                ours.per_second,
                ours.p50.as_secs_f64() * 1e3,
                ours.p99.as_secs_f64() * 1e3,
                theirs.per_second,
                theirs.p50.as_secs_f64() * 1e3,
                theirs.p99.as_secs_f64() * 1e3,
                ours.per_second / theirs.per_second,
            );
        }
        moto.stop();
        moto_server.stop();
        emulator.stop();
    });
}
