//! wana's emulator and moto's server side by side, in one run, with one load generator: the same
//! signed Rust SDK calls (STS GetCallerIdentity, KMS Encrypt, EC2 DescribeInstances) from eight
//! client tasks against each, reporting requests per second, p50 and p99 and the ratio (issue 15).
//!
//! Run with `cargo xtask bench --peers` (it installs moto into `.venv-moto` first) or
//! `cargo bench -p wana-harness --bench peers`. Both servers run on this machine on 127.0.0.1;
//! the client's signing and HTTP are in every figure, for both alike.

use std::time::{Duration, Instant};

use wana_emulator::BehaviourProfile;
use wana_harness::{aws_cli::workspace_root, Backend, BackendKind, Principal};
use wana_localstack::{HostServer, Server};

const TASKS: usize = 8;

/// `cargo bench` passes `--bench`; `cargo test --all-targets` runs this file without it, as a
/// smoke test that both servers answer the calls, so it measures only briefly then.
fn durations() -> (Duration, Duration) {
    if std::env::args().any(|a| a == "--bench") {
        (Duration::from_millis(500), Duration::from_secs(5))
    } else {
        (Duration::from_millis(10), Duration::from_millis(100))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
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

/// The clients of one server, with a key to encrypt under and one instance to describe.
#[derive(Clone)]
struct Target {
    sts: aws_sdk_sts::Client,
    kms: aws_sdk_kms::Client,
    ec2: aws_sdk_ec2::Client,
    key_id: String,
}

impl Target {
    async fn new(admin: &Principal) -> Target {
        let kms = aws_sdk_kms::Client::new(&admin.config);
        let key = kms.create_key().send().await.expect("CreateKey");
        let key_id = key.key_metadata().expect("key metadata").key_id().to_string();
        let ec2 = aws_sdk_ec2::Client::new(&admin.config);
        ec2.run_instances()
            .image_id("ami-374db956")
            .instance_type("t2.micro".into())
            .min_count(1)
            .max_count(1)
            .send()
            .await
            .expect("RunInstances");
        Target { sts: admin.sts(), kms, ec2, key_id }
    }

    async fn call(&self, call: Call) {
        match call {
            Call::GetCallerIdentity => {
                self.sts.get_caller_identity().send().await.expect("GetCallerIdentity");
            }
            Call::Encrypt => {
                self.kms
                    .encrypt()
                    .key_id(&self.key_id)
                    .plaintext(aws_sdk_kms::primitives::Blob::new(b"wana bench".to_vec()))
                    .send()
                    .await
                    .expect("Encrypt");
            }
            Call::DescribeInstances => {
                self.ec2.describe_instances().send().await.expect("DescribeInstances");
            }
        }
    }
}

struct Measurement {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

async fn measure(target: &Target, call: Call) -> Measurement {
    let (warm_up, measure_for) = durations();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..TASKS {
        let target = target.clone();
        tasks.spawn(async move {
            let warm_until = Instant::now() + warm_up;
            while Instant::now() < warm_until {
                target.call(call).await;
            }
            let mut latencies = Vec::new();
            let started = Instant::now();
            while started.elapsed() < measure_for {
                let one = Instant::now();
                target.call(call).await;
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
    Measurement {
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.5),
        p99: at(0.99),
    }
}

fn main() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async {
        let emulator = Backend::start_emulator(BehaviourProfile::Current).await.expect("emulator");
        let moto_server = HostServer::start(Server::Moto, &workspace_root(), 0)
            .await
            .expect("moto's server (install it with `cargo xtask moto install`)");
        let moto = Backend::start_endpoint(
            BackendKind::Moto,
            Some(moto_server.endpoint_url()),
            BehaviourProfile::Current,
        )
        .await
        .expect("moto's accounts");
        let wana = Target::new(&Principal::account_admin(&emulator, "a").expect("admin")).await;
        let peer = Target::new(&Principal::account_admin(&moto, "a").expect("admin")).await;

        println!("{TASKS} client tasks each; requests/s, p50 and p99 as the client sees them");
        println!("| call | wana req/s | wana p50 | wana p99 | moto req/s | moto p50 | moto p99 | ratio |");
        println!("|---|---|---|---|---|---|---|---|");
        for call in Call::ALL {
            // One server at a time, so that neither competes with the other for the two cores.
            let ours = measure(&wana, call).await;
            let theirs = measure(&peer, call).await;
            println!(
                "| {} | {:.0} | {:.2} ms | {:.2} ms | {:.0} | {:.2} ms | {:.2} ms | {:.1}× |",
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
