//! Emulator throughput and latency on a fixed mix of signed SDK calls.
//!
//! Run with `cargo bench -p wana-harness --bench emulator` (or `cargo xtask bench`). The mix, per
//! round: STS GetCallerIdentity, STS AssumeRole (trust policy and identity policy evaluated), IAM
//! GetRole and IAM ListRoles as a user whose 20-statement policy is evaluated on every call. The
//! same mix runs with one client task and with eight; each reports requests per second and the
//! 50th and 99th percentile latency as the client sees it (SigV4 signing and HTTP included).

use std::time::{Duration, Instant};

use wana_emulator::BehaviourProfile;
use wana_harness::{backend::Backend, principal::Principal};

/// `cargo bench` passes `--bench`; `cargo test --all-targets` runs this file without it, as a
/// smoke test that the mix still works, so it measures only briefly then.
fn durations() -> (Duration, Duration) {
    if std::env::args().any(|a| a == "--bench") {
        (Duration::from_millis(500), Duration::from_secs(5))
    } else {
        (Duration::from_millis(10), Duration::from_millis(100))
    }
}

const TRUST_ACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}"#;

/// Twenty statements, like a real hand-written policy: most do not match the calls of the mix,
/// so evaluation walks all of them.
fn twenty_statement_policy() -> String {
    let mut statements: Vec<String> = (0..17)
        .map(|i| {
            format!(
                r#"{{"Sid":"Unrelated{i}","Effect":"Allow","Action":["s3:GetObject{i}","ec2:Describe{i}*"],"Resource":"arn:aws:s3:::bucket-{i}/*","Condition":{{"StringEquals":{{"aws:RequestedRegion":"eu-west-{i}"}}}}}}"#
            )
        })
        .collect();
    statements.push(r#"{"Sid":"NoDeletes","Effect":"Deny","Action":"iam:Delete*","Resource":"*"}"#.to_string());
    statements.push(
        r#"{"Sid":"ReadRoles","Effect":"Allow","Action":["iam:GetRole","iam:ListRoles"],"Resource":"*"}"#.to_string(),
    );
    statements.push(
        r#"{"Sid":"AssumeBench","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111111111111:role/Bench*"}"#
            .to_string(),
    );
    format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, statements.join(","))
}

struct Measurement {
    requests: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Measurement {
    fn percentile(&self, p: f64) -> Duration {
        let index = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[index]
    }
}

async fn one_round(user: &Principal, latencies: &mut Vec<Duration>) {
    let sts = user.sts();
    let iam = user.iam();
    let started = Instant::now();
    sts.get_caller_identity().send().await.expect("GetCallerIdentity");
    latencies.push(started.elapsed());
    let started = Instant::now();
    sts.assume_role()
        .role_arn("arn:aws:iam::111111111111:role/BenchRole")
        .role_session_name("bench")
        .send()
        .await
        .expect("AssumeRole");
    latencies.push(started.elapsed());
    let started = Instant::now();
    iam.get_role().role_name("BenchRole").send().await.expect("GetRole");
    latencies.push(started.elapsed());
    let started = Instant::now();
    iam.list_roles().send().await.expect("ListRoles");
    latencies.push(started.elapsed());
}

async fn measure(user: &Principal, tasks: usize) -> Measurement {
    let (warm_up, measure_for) = durations();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let user = user.clone();
        handles.push(tokio::spawn(async move {
            let mut discard = Vec::new();
            let warm_until = Instant::now() + warm_up;
            while Instant::now() < warm_until {
                one_round(&user, &mut discard).await;
            }
            let mut latencies = Vec::new();
            let started = Instant::now();
            while started.elapsed() < measure_for {
                one_round(&user, &mut latencies).await;
            }
            (latencies, started.elapsed())
        }));
    }
    let mut latencies = Vec::new();
    let mut elapsed = Duration::ZERO;
    for handle in handles {
        let (mut task_latencies, task_elapsed) = handle.await.expect("bench task");
        latencies.append(&mut task_latencies);
        elapsed = elapsed.max(task_elapsed);
    }
    latencies.sort();
    Measurement { requests: latencies.len(), elapsed, latencies }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async {
        let backend = Backend::start_emulator(BehaviourProfile::Current).await.expect("emulator");
        let admin = Principal::account_admin(&backend, "a").expect("admin");
        let iam = admin.iam();
        iam.create_role()
            .role_name("BenchRole")
            .assume_role_policy_document(TRUST_ACCOUNT)
            .send()
            .await
            .expect("CreateRole");
        iam.create_user().user_name("bench").send().await.expect("CreateUser");
        // A managed policy: 20 statements exceed the 2,048-byte quota of inline user policies.
        let policy = iam
            .create_policy()
            .policy_name("TwentyStatements")
            .policy_document(twenty_statement_policy())
            .send()
            .await
            .expect("CreatePolicy")
            .policy
            .expect("policy");
        iam.attach_user_policy()
            .user_name("bench")
            .policy_arn(policy.arn().expect("policy ARN"))
            .send()
            .await
            .expect("AttachUserPolicy");
        let key = iam
            .create_access_key()
            .user_name("bench")
            .send()
            .await
            .expect("CreateAccessKey")
            .access_key
            .expect("key");
        let user = Principal::from_keys(&backend, "bench", "a", key.access_key_id(), key.secret_access_key(), None)
            .expect("bench principal");

        println!("emulator: signed SDK call mix (GetCallerIdentity, AssumeRole, GetRole, ListRoles)");
        println!("{:>12} {:>10} {:>12} {:>10} {:>10}", "client tasks", "requests", "requests/s", "p50 ms", "p99 ms");
        for tasks in [1, 8] {
            let m = measure(&user, tasks).await;
            let per_second = m.requests as f64 / m.elapsed.as_secs_f64();
            println!(
                "{:>12} {:>10} {:>12.0} {:>10.3} {:>10.3}",
                tasks,
                m.requests,
                per_second,
                m.percentile(0.50).as_secs_f64() * 1e3,
                m.percentile(0.99).as_secs_f64() * 1e3,
            );
        }
    });
}
