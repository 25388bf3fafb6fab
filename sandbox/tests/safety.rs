//! A script is untrusted input. Real instances, real scripts: each test checks one thing a
//! script must not be able to do (write outside its instance, see the host's home, reach an
//! address, outlive its command or its instance) and what it must find (its own files, users,
//! hostname, metadata address).
//!
//! These tests need namespaces; where they cannot be made they fail with the reason (never
//! skip): CI runs as root.

use std::{
    io::{Read, Write},
    net::{Ipv4Addr, SocketAddr, TcpListener},
    path::PathBuf,
    time::Duration,
};

use wana_sandbox::{available, Cancel, Ended, Instance, InstanceSpec, RunOutcome, RunRequest};

struct Fixture {
    _parent: tempfile::TempDir,
    instance: Instance,
}

fn start() -> Fixture {
    available().expect("namespaces are available on this machine");
    // Under the workspace's target dir, as the emulator does (not /tmp, which is masked
    // inside: the test must prove the instance directories are hidden anyway).
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/wana/sandbox-tests");
    std::fs::create_dir_all(&base).unwrap();
    let parent = tempfile::tempdir_in(&base).unwrap();
    let spec = InstanceSpec::new("i-0123456789abcdef0", parent.path(), "ip-10-0-1-23");
    let instance = Instance::start(spec).expect("the instance starts");
    Fixture { _parent: parent, instance }
}

async fn run(instance: &Instance, script: &str) -> RunOutcome {
    instance.run(request(script)).await.expect("the command runs")
}

fn request(script: &str) -> RunRequest {
    let mut request = RunRequest::new(script);
    request.env = vec![("PATH".into(), "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin".into())];
    request.timeout = Duration::from_secs(30);
    request
}

#[tokio::test]
async fn the_hosts_filesystem_is_read_only() {
    let f = start();
    let out = run(&f.instance, "touch /usr/x").await;
    assert_eq!(out.ended, Ended::Exited(1), "{out:?}");
    assert!(out.stderr.contains("Read-only file system"), "{out:?}");
    assert!(!std::path::Path::new("/usr/x").exists());
    // Not even by remounting: the host's mounts are locked read-only for the instance's root.
    let out = run(&f.instance, "mount -o remount,rw /usr && touch /usr/x").await;
    assert_ne!(out.ended, Ended::Exited(0), "{out:?}");
    assert!(!std::path::Path::new("/usr/x").exists());
}

#[tokio::test]
async fn the_instances_own_directories_are_writable_and_kept_on_the_host() {
    let f = start();
    let out = run(&f.instance, "echo kept > /root/a && echo kept > /tmp/b && hostname && cat /etc/hostname && id").await;
    assert_eq!(out.ended, Ended::Exited(0), "{out:?}");
    assert_eq!(out.stdout, "ip-10-0-1-23\nip-10-0-1-23\nuid=0(root) gid=0(root) groups=0(root)\n");
    assert_eq!(std::fs::read_to_string(f.instance.dir().join("root/a")).unwrap(), "kept\n");
    assert_eq!(std::fs::read_to_string(f.instance.dir().join("tmp/b")).unwrap(), "kept\n");
}

#[tokio::test]
async fn the_hosts_home_and_the_instances_directories_are_invisible() {
    let f = start();
    // The host's /root holds its credentials; the instance's /root is its own.
    let marker = PathBuf::from("/root").join(format!("wana-sandbox-marker-{}", std::process::id()));
    std::fs::write(&marker, "host secret").unwrap();
    let out = run(&f.instance, &format!("ls -a /root; cat {} ; ls {}", marker.display(), f.instance.dir().display())).await;
    std::fs::remove_file(&marker).unwrap();
    assert!(!out.stdout.contains("wana-sandbox-marker"), "{out:?}");
    assert!(!out.stdout.contains("host secret"), "{out:?}");
    assert!(out.stderr.contains("No such file or directory"), "{out:?}");
    // Listing the instance's own directory on the host shows nothing (the parent is masked).
    assert!(!out.stdout.contains("rootfs"), "{out:?}");
}

#[tokio::test]
async fn nothing_but_the_instances_own_loopback_is_reachable() {
    let f = start();
    let host = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = host.local_addr().unwrap().port();
    let out = run(
        &f.instance,
        &format!(
            "curl -sS -m 3 http://127.0.0.1:{port}/ ; echo \"rc=$?\"; curl -sS -m 3 http://10.0.0.1/ ; echo \"rc=$?\"; \
             curl -sS -m 3 http://169.254.169.254/ ; echo \"rc=$?\"; ip -o link | wc -l"
        ),
    )
    .await;
    // 7: could not connect (nothing listens in the instance; the host's listener is elsewhere).
    assert_eq!(out.stdout, "rc=7\nrc=7\nrc=7\n1\n", "{out:?}");
}

#[tokio::test]
async fn a_listener_bound_inside_answers_the_instances_scripts() {
    let f = start();
    let listener = f.instance.bind_tcp(SocketAddr::from(([169, 254, 169, 254], 80))).unwrap();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = stream.read(&mut buf).unwrap();
        stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nrole-name").unwrap();
    });
    let out = run(&f.instance, "curl -sS -m 5 http://169.254.169.254/latest/meta-data/iam/security-credentials/").await;
    server.join().unwrap();
    assert_eq!(out.stdout, "role-name", "{out:?}");
}

#[tokio::test]
async fn ssm_user_cannot_write_roots_home_but_its_own() {
    let f = start();
    let mut request = request("id; touch /root/x; touch /home/ssm-user/y && echo wrote-home");
    request.run_as = "ssm-user".into();
    let out = f.instance.run(request).await.unwrap();
    assert!(out.stdout.starts_with("uid=1001(ssm-user) gid=1001(ssm-user)"), "{out:?}");
    assert!(out.stderr.contains("touch: cannot touch '/root/x': Permission denied"), "{out:?}");
    assert!(out.stdout.contains("wrote-home"), "{out:?}");
    assert!(!f.instance.dir().join("root/x").exists());
}

#[tokio::test]
async fn the_environment_is_exactly_the_one_given() {
    let f = start();
    let out = run(&f.instance, "env | sort; echo \"HOME=${HOME-unset}\"; pwd").await;
    assert_eq!(out.stdout, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin\nPWD=/\nSHLVL=1\n_=/usr/bin/env\nHOME=unset\n/\n", "{out:?}");
    let mut with_home = request("echo $HOME; pwd");
    with_home.env.push(("HOME".into(), "/root".into()));
    with_home.working_dir = Some("/tmp".into());
    let out = f.instance.run(with_home).await.unwrap();
    assert_eq!(out.stdout, "/root\n/tmp\n");
}

#[tokio::test]
async fn a_timeout_kills_the_command_and_what_it_forked() {
    let f = start();
    let mut request = request("sleep 101 & echo started; sleep 101");
    request.timeout = Duration::from_millis(500);
    let started = std::time::Instant::now();
    let out = f.instance.run(request).await.unwrap();
    assert_eq!(out.ended, Ended::TimedOut);
    assert_eq!(out.stdout, "started\n");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(sleeping(101), Vec::<i32>::new());
}

#[tokio::test]
async fn a_cancel_kills_the_command() {
    let f = start();
    let cancel = Cancel::new();
    let mut request = request("echo going; sleep 100");
    request.cancel = Some(cancel.clone());
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel();
    });
    let out = f.instance.run(request).await.unwrap();
    canceller.await.unwrap();
    assert_eq!(out.ended, Ended::Cancelled);
    assert_eq!(out.stdout, "going\n");
}

#[tokio::test]
async fn background_processes_die_with_their_command() {
    let f = start();
    let out = run(&f.instance, "(sleep 102 &) ; nohup sleep 102 >/dev/null 2>&1 & setsid sleep 102 & echo done").await;
    assert_eq!(out.ended, Ended::Exited(0));
    assert_eq!(out.stdout, "done\n");
    assert_eq!(sleeping(102), Vec::<i32>::new());
}

#[tokio::test]
async fn nothing_outlives_stop() {
    let f = start();
    let instance = std::sync::Arc::new(f.instance);
    let running = {
        let instance = instance.clone();
        tokio::spawn(async move { instance.run(request("setsid sleep 103 & sleep 103")).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sleeping(103).len(), 2, "both sleeps run");
    let pid1 = instance.pid1().unwrap();
    instance.stop();
    let out = running.await.unwrap().unwrap();
    assert_eq!(out.ended, Ended::InstanceStopped);
    assert_eq!(sleeping(103), Vec::<i32>::new());
    assert!(zombie(pid1), "the instance's init is gone");
    assert!(matches!(instance.run(request("true")).await, Err(wana_sandbox::RunError::NotRunning)));
    // Its files stay until it is destroyed.
    assert!(instance.dir().join("etc/passwd").exists());
}

#[tokio::test]
async fn files_persist_across_a_stop_and_go_with_destroy() {
    let f = start();
    run(&f.instance, "mkdir -p /root/.aws && echo '[default]' > /root/.aws/credentials").await;
    let spec = f.instance.spec().clone();
    f.instance.stop();
    let again = Instance::start(spec).unwrap();
    let out = run(&again, "cat /root/.aws/credentials").await;
    assert_eq!(out.stdout, "[default]\n");
    let dir = again.dir().to_path_buf();
    again.destroy().unwrap();
    assert!(!dir.exists());
}

#[tokio::test]
async fn the_venvs_aws_runs_inside_for_root_and_ssm_user() {
    let Some(venv) = aws_cli_venv() else {
        panic!("the AWS CLI venv is installed by `cargo xtask test` (or named by WANA_AWS_CLI)");
    };
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/wana/sandbox-tests");
    std::fs::create_dir_all(&base).unwrap();
    let parent = tempfile::tempdir_in(&base).unwrap();
    let spec = InstanceSpec::new("i-0aaaaaaaaaaaaaaa0", parent.path(), "ip-10-0-1-24")
        .with_venv(wana_sandbox::venv_exposure(&venv).unwrap());
    let instance = Instance::start(spec).unwrap();
    let out = run(&instance, "aws --version; ls -ld /root | cut -c1-10").await;
    assert!(out.stdout.starts_with("aws-cli/") || out.stderr.starts_with("aws-cli/"), "{out:?}");
    let mut as_ssm_user = request("aws --version");
    as_ssm_user.run_as = "ssm-user".into();
    let out = instance.run(as_ssm_user).await.unwrap();
    assert_eq!(out.ended, Ended::Exited(0), "{out:?}");
}

/// `WANA_AWS_CLI`'s venv, else the workspace's `.venv`.
fn aws_cli_venv() -> Option<PathBuf> {
    let from_env = std::env::var_os("WANA_AWS_CLI")
        .map(PathBuf::from)
        .and_then(|aws| aws.parent()?.parent().map(PathBuf::from));
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv");
    from_env.into_iter().chain([workspace]).find(|v| v.join("pyvenv.cfg").is_file())
}

/// Live host processes running `sleep <seconds>` (each test sleeps a duration of its own:
/// tests run in parallel).
fn sleeping(seconds: u32) -> Vec<i32> {
    std::thread::sleep(Duration::from_millis(200));
    let wanted = format!("sleep\0{seconds}\0");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == wanted.as_bytes()))
        .filter(|pid| !zombie(*pid))
        .collect()
}

fn zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')))
        .unwrap_or(true)
}

/// A fork bomb or a runaway file stops at the command's limits instead of exhausting the host.
#[tokio::test]
async fn a_command_has_process_and_file_size_limits() {
    let fixture = start();
    let out = run(&fixture.instance, "ulimit -u; ulimit -f").await;
    assert_eq!(out.ended, Ended::Exited(0), "{}", out.stderr);
    let limits: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(limits, ["4096", &(1024 * 1024).to_string()], "ulimit -f counts 1024-byte blocks");
}
