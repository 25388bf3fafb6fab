//! An instance's init: start, stop, destroy, and listeners inside its network namespace.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpListener},
    os::fd::AsRawFd,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{mpsc, Mutex, OnceLock},
    time::Duration,
};

use tokio::sync::watch;

use crate::{layout, probe::Tools, sys};

/// The init's own setup, run as root inside (see the crate documentation).
const INIT_SH: &str = include_str!("init.sh");

/// What the `unshare` child runs first: it waits until the host has written the user
/// namespace's maps (and says "go" on stdin), opens the instance's directory and the host
/// paths to bind (fds 3, 4, ...: see init.sh), then becomes root inside and runs the init.
///
/// It opens them here because here it still has the host's uid (unmapped in the namespace,
/// yet the owner of the host's `/root`, so it may traverse it), and already the new mount
/// namespace (a mount may only use paths of its own namespace).
/// `setpriv --pdeathsig` because changing uid clears `--kill-child`'s parent-death signal.
fn wait_for_maps(binds: usize) -> String {
    let mut script = String::from(r#"read go && exec 3<"$WANA_DIR""#);
    for i in 0..binds {
        let fd = FIRST_FD + 1 + i as i32;
        script.push_str(&format!(r#" && exec {fd}<"$WANA_BIND_{fd}""#));
    }
    script.push_str(r#" && exec "$WANA_SETPRIV" --pdeathsig=SIGKILL --reuid=0 --regid=0 --clear-groups -- "$WANA_SH" -c "$WANA_INIT""#);
    script
}

/// At most this many host paths to bind (the init's shell opens single-digit fds).
const MAX_BINDS: usize = 6;

/// The PATH of the init.
const INIT_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// How long an init may take to set its instance up.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The first fd the init finds its inputs at (3: the instance directory, then the binds).
const FIRST_FD: i32 = 3;

/// What an instance is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSpec {
    /// Its id: the name of its directory.
    pub id: String,
    /// The directory holding the instances' directories (hidden inside every instance).
    pub parent: PathBuf,
    /// Its hostname (`ip-10-0-1-23`).
    pub hostname: String,
    /// Host paths bound read-only at the same path inside, even under its own `/root`.
    pub ro_binds: Vec<PathBuf>,
    /// The `aws` executable `/usr/local/bin/aws` links to; `None`: no `aws` on the PATH.
    pub aws: Option<PathBuf>,
}

impl InstanceSpec {
    pub fn new(id: &str, parent: &Path, hostname: &str) -> InstanceSpec {
        InstanceSpec {
            id: id.to_string(),
            parent: parent.to_path_buf(),
            hostname: hostname.to_string(),
            ro_binds: Vec::new(),
            aws: None,
        }
    }

    /// Exposes a Python venv's `aws` (see [`crate::venv_exposure`]).
    pub fn with_venv(mut self, exposure: crate::VenvExposure) -> InstanceSpec {
        self.ro_binds.extend(exposure.binds);
        self.aws = exposure.aws;
        self
    }

    /// The instance's directory on the host.
    pub fn dir(&self) -> PathBuf {
        self.parent.join(&self.id)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Unsupported(String),
    #[error("cannot prepare the instance's directory {path}: {source}")]
    Directory { path: PathBuf, source: std::io::Error },
    #[error("cannot start the instance's init: {0}")]
    Spawn(std::io::Error),
    #[error("the instance's init failed: {0}")]
    Init(String),
}

/// A running instance. Dropping it stops it (its files stay).
pub struct Instance {
    pub(crate) spec: InstanceSpec,
    pub(crate) dir: PathBuf,
    pub(crate) tools: Tools,
    init: Mutex<Option<Init>>,
    pub(crate) stopped: watch::Sender<bool>,
}

struct Init {
    /// The `unshare` process (in the host's PID namespace).
    unshare: Child,
    /// PID 1 of the instance, as the host sees it.
    pid1: i32,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance").field("id", &self.spec.id).field("pid1", &self.pid1()).finish()
    }
}

impl Instance {
    /// Starts the instance's init (tens of milliseconds; blocks meanwhile), creating its
    /// directory if it does not exist yet, and keeping it as it is otherwise.
    pub fn start(spec: InstanceSpec) -> Result<Instance, StartError> {
        let tools = crate::probe::tools().map_err(|missing| StartError::Unsupported(format!("`{missing}` is not installed")))?;
        let root_traversable = spec.ro_binds.iter().any(|b| b.starts_with("/root"));
        let dir = layout::prepare(&spec.parent, &spec.id, &spec.hostname, root_traversable)
            .map_err(|source| StartError::Directory { path: spec.dir(), source })?;
        let binds: Vec<&PathBuf> = spec.ro_binds.iter().filter(|b| b.exists()).collect();
        if binds.len() > MAX_BINDS {
            return Err(StartError::Unsupported(format!("at most {MAX_BINDS} host paths can be bound")));
        }
        let mut bind_lines = String::new();
        let mut command = Command::new(&tools.unshare);
        command.env_clear();
        for (i, path) in binds.iter().enumerate() {
            let fd = FIRST_FD + 1 + i as i32;
            bind_lines.push_str(&format!("{fd} {}\n", path.display()));
            command.env(format!("WANA_BIND_{fd}"), path);
        }
        command
            .args(["--user", "--mount", "--net", "--pid", "--uts", "--fork", "--kill-child", "--keep-caps", "--"])
            .arg(&tools.sh)
            .arg("-c")
            .arg(wait_for_maps(binds.len()))
            .env("PATH", INIT_PATH)
            .env("WANA_INIT", INIT_SH)
            .env("WANA_DIR", &dir)
            .env("WANA_SH", &tools.sh)
            .env("WANA_SETPRIV", &tools.setpriv)
            .env("WANA_BASH", &tools.bash)
            .env("WANA_HOSTNAME", &spec.hostname)
            .env("WANA_MASK", &spec.parent)
            .env("WANA_BINDS", &bind_lines)
            .env("WANA_AWS", spec.aws.as_deref().map(Path::as_os_str).unwrap_or_default())
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: prctl only, between fork and exec.
        unsafe {
            command.pre_exec(sys::die_with_parent);
        }
        let mut unshare = spawn_from_keeper(command).map_err(StartError::Spawn)?;
        match Self::hand_over(&mut unshare) {
            Ok(pid1) => {
                let (stopped, _) = watch::channel(false);
                Ok(Instance { spec, dir, tools, init: Mutex::new(Some(Init { unshare, pid1 })), stopped })
            }
            Err(reason) => {
                let _ = unshare.kill();
                let _ = unshare.wait();
                let mut stderr = String::new();
                if let Some(mut err) = unshare.stderr.take() {
                    let _ = err.read_to_string(&mut stderr);
                }
                let stderr = stderr.trim();
                Err(StartError::Init(if stderr.is_empty() { reason } else { format!("{reason}: {stderr}") }))
            }
        }
    }

    /// Writes the user namespace's maps once `unshare` made it, lets the init go on, and
    /// waits for its "ready"; returns PID 1's host pid.
    fn hand_over(unshare: &mut Child) -> Result<i32, String> {
        let pid = unshare.id() as i32;
        let ours = std::fs::read_link("/proc/self/ns/user").map_err(|e| e.to_string())?;
        let deadline = std::time::Instant::now() + START_TIMEOUT;
        loop {
            match std::fs::read_link(sys::ns_path(pid, "user")) {
                Ok(ns) if ns != ours => break,
                Ok(_) => {}
                Err(e) => return Err(format!("unshare exited early ({e})")),
            }
            if std::time::Instant::now() > deadline {
                return Err("unshare made no user namespace".into());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let map = format!("0 {} {}\n", layout::HOST_ID_BASE, layout::ID_COUNT);
        for file in ["uid_map", "gid_map"] {
            std::fs::write(format!("/proc/{pid}/{file}"), &map).map_err(|e| format!("cannot write {file}: {e}"))?;
        }
        let mut stdin = unshare.stdin.take().ok_or("no stdin")?;
        stdin.write_all(b"go\n").map_err(|e| format!("the init did not wait for its maps ({e})"))?;
        drop(stdin);
        let stdout = unshare.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(line) if line.trim() == "ready" => {}
            Ok(_) => return Err("the init's setup failed".into()),
            Err(_) => return Err(format!("the init was not ready within {START_TIMEOUT:?}")),
        }
        for _ in 0..1000 {
            if let Some(pid1) = sys::children(pid).first() {
                return Ok(*pid1);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Err("the init has no PID 1".into())
    }

    pub fn id(&self) -> &str {
        &self.spec.id
    }

    pub fn spec(&self) -> &InstanceSpec {
        &self.spec
    }

    /// The instance's directory on the host.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// PID 1 of the instance as the host sees it, while it runs.
    pub fn pid1(&self) -> Option<i32> {
        self.init.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(|init| init.pid1)
    }

    pub fn is_running(&self) -> bool {
        self.pid1().is_some_and(sys::alive)
    }

    /// A TCP listener bound to `addr` inside the instance's network namespace (a thread of
    /// this process enters it, binds, and ends): connections from the instance's scripts to
    /// `addr` reach whoever accepts on it.
    pub fn bind_tcp(&self, addr: SocketAddr) -> std::io::Result<TcpListener> {
        let pid1 = self.pid1().ok_or_else(|| std::io::Error::other("the instance is not running"))?;
        let netns = std::fs::File::open(sys::ns_path(pid1, "net"))?;
        std::thread::spawn(move || {
            sys::setns(netns.as_raw_fd())?;
            TcpListener::bind(addr)
        })
        .join()
        .map_err(|_| std::io::Error::other("the binding thread panicked"))?
    }

    /// Kills every process of the instance (its init, hence its PID namespace and every
    /// command's, nested in it) and waits until they are gone. Its files stay.
    pub fn stop(&self) {
        let init = self.init.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.stopped.send_replace(true);
        if let Some(mut init) = init {
            sys::kill(init.pid1);
            let _ = init.unshare.kill();
            let _ = init.unshare.wait();
            sys::wait_gone(init.pid1, Duration::from_secs(5));
        }
    }

    /// Stops the instance and removes its directory (the instance terminated).
    pub fn destroy(self) -> std::io::Result<()> {
        self.stop();
        remove_dir(&self.dir)
    }

    /// Removes a stopped instance's directory.
    pub fn remove_files(spec: &InstanceSpec) -> std::io::Result<()> {
        remove_dir(&spec.dir())
    }
}

fn remove_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.stop();
    }
}

type SpawnJob = (Command, mpsc::Sender<std::io::Result<Child>>);

/// Spawns on a thread that lives as long as the process: a parent-death signal fires when the
/// spawning *thread* ends, and the inits must die only with the process.
fn spawn_from_keeper(command: Command) -> std::io::Result<Child> {
    static KEEPER: OnceLock<Mutex<mpsc::Sender<SpawnJob>>> = OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnJob>();
        std::thread::Builder::new()
            .name("wana-sandbox-keeper".into())
            .spawn(move || {
                for (mut command, reply) in rx {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("a thread starts");
        Mutex::new(tx)
    });
    let (tx, rx) = mpsc::channel();
    keeper
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((command, tx))
        .map_err(|_| std::io::Error::other("the spawning thread is gone"))?;
    rx.recv().map_err(|_| std::io::Error::other("the spawning thread is gone"))?
}
