//! Running a script in an instance.

use std::{os::fd::AsRawFd, path::PathBuf, process::Stdio, time::Duration};

use tokio::{io::AsyncReadExt, process::Command};

use crate::{layout, sys, Cancel, Instance};

/// How much of each of stdout and stderr a command keeps; the rest is read and dropped (the
/// SSM Agent keeps far less: 24,000 and 8,000 characters). Protects the host's memory from a
/// script that prints forever.
pub const OUTPUT_LIMIT: usize = 8 * 1024 * 1024;

/// How long a killed command's output may take to close (every process holding it is dead
/// by then; this only bounds waiting for the kernel).
const DRAIN_AFTER_KILL: Duration = Duration::from_secs(5);

/// A script to run.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// Run with `bash -c`.
    pub script: String,
    /// A user of the instance's `/etc/passwd` (`root`, `ssm-user`).
    pub run_as: String,
    /// The whole environment: nothing else is set (no `HOME` unless given).
    pub env: Vec<(String, String)>,
    /// The working directory inside; `None`: `/`.
    pub working_dir: Option<PathBuf>,
    /// Killed after this long.
    pub timeout: Duration,
    /// Killed when cancelled.
    pub cancel: Option<Cancel>,
}

impl RunRequest {
    /// A script as root, with no environment, no working directory, a timeout of an hour.
    pub fn new(script: impl Into<String>) -> RunRequest {
        RunRequest {
            script: script.into(),
            run_as: "root".into(),
            env: Vec::new(),
            working_dir: None,
            timeout: Duration::from_secs(3600),
            cancel: None,
        }
    }
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// bash exited with this status (128 + n when killed by signal n, as a shell reports).
    Exited(i32),
    TimedOut,
    Cancelled,
    /// The instance stopped while it ran.
    InstanceStopped,
}

/// A command's end and its output (lossily decoded; at most [`OUTPUT_LIMIT`] bytes each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    pub ended: Ended,
    pub stdout: String,
    pub stderr: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the instance is not running")]
    NotRunning,
    #[error("no user {0} in the instance's /etc/passwd")]
    UnknownUser(String),
    #[error("cannot start the command: {0}")]
    Spawn(std::io::Error),
}

enum Stop {
    Exited(std::io::Result<std::process::ExitStatus>),
    Kill(Ended),
}

impl Instance {
    /// Runs `request.script` with bash as `request.run_as` in the instance, in a PID
    /// namespace of its own (nested in the instance's): when it ends, is killed, or the
    /// instance stops, every process it forked dies with it.
    pub async fn run(&self, request: RunRequest) -> Result<RunOutcome, RunError> {
        let pid1 = self.pid1().ok_or(RunError::NotRunning)?;
        let (uid, gid) =
            layout::lookup_user(&self.dir, &request.run_as).ok_or_else(|| RunError::UnknownUser(request.run_as.clone()))?;
        let namespaces = ["user", "mnt", "net", "uts", "pid"]
            .into_iter()
            .map(|name| std::fs::File::open(sys::ns_path(pid1, name)))
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(|_| RunError::NotRunning)?;
        let mut stopped = self.stopped.subscribe();
        if *stopped.borrow() {
            return Err(RunError::NotRunning);
        }

        let mut command = Command::new(&self.tools.unshare);
        // The outer unshare stays in the host's PID namespace (its child enters the
        // instance's); the inner one makes the command's own PID namespace and /proc.
        command.args(["--fork", "--kill-child", "--"]).arg(&self.tools.unshare);
        command.args(["--pid", "--fork", "--kill-child", "--mount-proc"]);
        command.arg(format!("--wd={}", request.working_dir.as_deref().unwrap_or("/".as_ref()).display()));
        command.arg("--");
        if uid != 0 {
            command
                .arg(&self.tools.setpriv)
                .arg("--pdeathsig=SIGKILL")
                .arg(format!("--reuid={uid}"))
                .arg(format!("--regid={gid}"))
                .arg("--init-groups")
                .arg("--");
        }
        command.arg(&self.tools.bash).arg("-c").arg(&request.script);
        command.env_clear().envs(request.env.iter().map(|(k, v)| (k, v)));
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        let fds: Vec<i32> = namespaces.iter().map(|f| f.as_raw_fd()).collect();
        // SAFETY: only async-signal-safe system calls between fork and exec.
        unsafe {
            command.pre_exec(move || {
                // The user namespace first: it owns the others, and entering it gives the
                // capabilities to enter them.
                for fd in &fds {
                    sys::setns(*fd)?;
                }
                sys::become_root()?;
                sys::limit_resources()
            });
        }
        let mut child = command.spawn().map_err(RunError::Spawn)?;
        drop(namespaces);
        let outer = child.id().map(|p| p as i32).unwrap_or(0);
        let mut stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let out = tokio::spawn(async move { read_capped(&mut stdout).await });
        let err = tokio::spawn(async move { read_capped(&mut stderr).await });

        let cancel = request.cancel.clone().unwrap_or_default();
        let stop = tokio::select! {
            status = child.wait() => Stop::Exited(status),
            _ = tokio::time::sleep(request.timeout) => Stop::Kill(Ended::TimedOut),
            _ = cancel.cancelled() => Stop::Kill(Ended::Cancelled),
            _ = stopped.wait_for(|s| *s) => Stop::Kill(Ended::InstanceStopped),
        };
        let ended = match stop {
            Stop::Exited(status) => {
                if *self.stopped.borrow() {
                    Ended::InstanceStopped
                } else {
                    let status = status.map_err(RunError::Spawn)?;
                    Ended::Exited(exit_code(status))
                }
            }
            Stop::Kill(ended) => {
                kill_command(outer);
                let _ = child.kill().await;
                ended
            }
        };
        let stdout = drain(out).await;
        let stderr = drain(err).await;
        Ok(RunOutcome { ended, stdout, stderr })
    }
}

/// Kills a command: PID 1 of its PID namespace (which kills every process in it), then the
/// two `unshare` processes above it.
fn kill_command(outer: i32) {
    for inner in sys::children(outer) {
        for command_init in sys::children(inner) {
            sys::kill(command_init);
        }
        sys::kill(inner);
    }
    sys::kill(outer);
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

async fn read_capped<R: tokio::io::AsyncRead + Unpin>(reader: &mut R) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => return kept,
            Ok(n) => {
                let room = OUTPUT_LIMIT.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
}

async fn drain(reader: tokio::task::JoinHandle<Vec<u8>>) -> String {
    match tokio::time::timeout(DRAIN_AFTER_KILL, reader).await {
        Ok(Ok(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        _ => String::new(),
    }
}
