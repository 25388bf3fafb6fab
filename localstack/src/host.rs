//! Emulators from PyPI run as plain processes on loopback ("host mode"): LocalStack without
//! Docker, and moto's server. Each is installed into a virtual environment of its own at the
//! workspace root (`.venv-localstack`, `.venv-moto`) with pinned versions, and started on a
//! port of `127.0.0.1` with its files under `target/wana/<server>/<port>/`.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::{http, probe, LocalstackError};

/// The LocalStack release host mode installs (`localstack-core` on PyPI).
pub const LOCALSTACK_VERSION: &str = "2026.3.0";
/// The moto release whose server `cargo xtask moto install` installs.
pub const MOTO_VERSION: &str = "5.2.5";

/// Names the interpreter host-mode LocalStack is installed with, overriding the search.
pub const LOCALSTACK_PYTHON_ENV: &str = "WANA_LOCALSTACK_PYTHON";

/// How long a started server may take to answer its health page.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// The file in a venv that says which requirements were installed into it.
const INSTALLED_MARKER: &str = "wana-requirements.txt";

/// LocalStack 2026.3 uses Python 3.13's `warnings.deprecated`; on 3.12 this start-up hook puts
/// `typing_extensions.deprecated` there (without it LocalStack finds no runtime components).
const SITECUSTOMIZE: &str = "\
# Written by wana (cargo xtask localstack install): LocalStack uses Python 3.13's
# warnings.deprecated; older interpreters get typing_extensions' implementation.
import warnings
if not hasattr(warnings, \"deprecated\"):
    try:
        from typing_extensions import deprecated as _deprecated
        warnings.deprecated = _deprecated
    except ImportError:
        pass
";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Localstack,
    Moto,
}

impl Server {
    pub fn name(self) -> &'static str {
        match self {
            Server::Localstack => "localstack",
            Server::Moto => "moto",
        }
    }

    /// What `pip install` is given: pinned releases, and the upper bounds LocalStack 2026.3
    /// needs (`cbor2` 6 and `pyOpenSSL` 25.2 break it).
    pub fn requirements(self) -> Vec<String> {
        match self {
            Server::Localstack => vec![
                format!("localstack-core[runtime]=={LOCALSTACK_VERSION}"),
                "cbor2<6".to_string(),
                "pyopenssl<25.2".to_string(),
            ],
            Server::Moto => vec![format!("moto[server]=={MOTO_VERSION}")],
        }
    }

    /// The oldest Python the release runs on. LocalStack 2026.3's code uses PEP 695 generics
    /// (`class RegionBundle[BaseStoreType](dict)`), a syntax error before 3.12, although its
    /// metadata claims 3.10.
    pub fn min_python(self) -> (u32, u32) {
        match self {
            Server::Localstack => (3, 12),
            Server::Moto => (3, 9),
        }
    }

    pub fn venv_dir(self, workspace: &Path) -> PathBuf {
        workspace.join(format!(".venv-{}", self.name()))
    }

    /// Where a server on `port` keeps its files and log.
    pub fn state_dir(self, workspace: &Path, port: u16) -> PathBuf {
        workspace
            .join("target")
            .join("wana")
            .join(self.name())
            .join(port.to_string())
    }

    fn health_path(self) -> &'static str {
        match self {
            Server::Localstack => "/_localstack/health",
            Server::Moto => "/moto-api/config",
        }
    }

    fn is_healthy(self, answer: &http::Answer) -> bool {
        match self {
            Server::Localstack => probe::localstack_health(answer).is_some(),
            Server::Moto => probe::is_moto_config(answer),
        }
    }

    /// The command that serves on `127.0.0.1:port`, with its environment.
    pub fn command(self, venv: &Path, state: &Path, port: u16) -> Command {
        let bin = venv.join("bin");
        let mut command;
        match self {
            Server::Localstack => {
                command = Command::new(bin.join("python"));
                command
                    .args(["-m", "localstack.runtime.main"])
                    .envs(localstack_env(state, port));
            }
            Server::Moto => {
                command = Command::new(bin.join("moto_server"));
                command
                    .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                    // AWS managed policies (AdministratorAccess, AmazonSSMManagedInstanceCore)
                    // exist only with this set.
                    .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true");
            }
        }
        // The developer's AWS settings are none of the server's business.
        for name in [
            "AWS_ENDPOINT_URL",
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "MOTO_ACCOUNT_ID",
        ] {
            command.env_remove(name);
        }
        command.current_dir(state);
        command
    }
}

/// LocalStack's settings for host mode: the hypercorn gateway on loopback only, no DNS server,
/// no certificate download and no analytics; its files under `state` rather than `/var/lib`,
/// `/etc` and `/tmp` (it takes any machine with `/.dockerenv` for its own container otherwise).
pub fn localstack_env(state: &Path, port: u16) -> Vec<(String, String)> {
    [
        ("GATEWAY_SERVER", "hypercorn".to_string()),
        ("GATEWAY_LISTEN", format!("127.0.0.1:{port}")),
        ("DNS_ADDRESS", "0".to_string()),
        ("SKIP_SSL_CERT_DOWNLOAD", "1".to_string()),
        ("DISABLE_EVENTS", "1".to_string()),
        ("OVERRIDE_IN_DOCKER", "0".to_string()),
        (
            "FILESYSTEM_ROOT",
            state.join("filesystem").display().to_string(),
        ),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_string(), value))
    .collect()
}

/// Whether `server`'s venv holds exactly the pinned requirements.
pub fn installed(server: Server, workspace: &Path) -> bool {
    let marker = server.venv_dir(workspace).join(INSTALLED_MARKER);
    fs::read_to_string(marker).is_ok_and(|text| text == marker_text(server))
}

fn marker_text(server: Server) -> String {
    server.requirements().join("\n") + "\n"
}

/// Installs `server` into its venv unless the pinned versions are there already. Blocking
/// (pip runs for about a minute); progress goes to stderr.
pub fn install(server: Server, workspace: &Path) -> Result<PathBuf, LocalstackError> {
    let venv = server.venv_dir(workspace);
    if installed(server, workspace) {
        return Ok(venv);
    }
    let python = find_python(server)?;
    eprintln!(
        "installing {} into {} with {}",
        server.requirements().join(" "),
        venv.display(),
        python.display()
    );
    if venv.exists() {
        fs::remove_dir_all(&venv).map_err(|e| LocalstackError::io("removing an old venv", e))?;
    }
    run(
        Command::new(&python).arg("-m").arg("venv").arg(&venv),
        "python -m venv",
    )?;
    run(
        Command::new(venv.join("bin").join("python"))
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--quiet",
            ])
            .args(server.requirements()),
        "pip install",
    )?;
    if server == Server::Localstack {
        let site = site_packages(&venv)?;
        fs::write(site.join("sitecustomize.py"), SITECUSTOMIZE)
            .map_err(|e| LocalstackError::io("writing sitecustomize.py", e))?;
    }
    fs::write(venv.join(INSTALLED_MARKER), marker_text(server))
        .map_err(|e| LocalstackError::io("writing the install marker", e))?;
    Ok(venv)
}

fn run(command: &mut Command, what: &str) -> Result<(), LocalstackError> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| LocalstackError::io(what, e))?;
    if output.status.success() {
        return Ok(());
    }
    Err(LocalstackError::Install(format!(
        "{what} failed ({}): {}",
        output.status,
        tail(&String::from_utf8_lossy(&output.stderr), 20)
    )))
}

fn site_packages(venv: &Path) -> Result<PathBuf, LocalstackError> {
    let lib = venv.join("lib");
    let entries = fs::read_dir(&lib).map_err(|e| LocalstackError::io("reading the venv", e))?;
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("site-packages"))
        .find(|path| path.is_dir())
        .ok_or_else(|| {
            LocalstackError::Install(format!("no site-packages under {}", lib.display()))
        })
}

/// An interpreter new enough for `server`: `WANA_LOCALSTACK_PYTHON` (LocalStack only), then
/// `python3.13`, `python3.12` on the PATH, then pyenv's 3.13 and 3.12, then `python3`.
pub fn find_python(server: Server) -> Result<PathBuf, LocalstackError> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if server == Server::Localstack {
        if let Some(path) = std::env::var_os(LOCALSTACK_PYTHON_ENV) {
            candidates.push(PathBuf::from(path));
        }
    }
    candidates.extend(["python3.13", "python3.12"].map(PathBuf::from));
    candidates.extend(pyenv_pythons());
    candidates.push(PathBuf::from("python3"));
    let mut seen = Vec::new();
    for candidate in candidates {
        match python_version(&candidate) {
            Some(version) if version >= server.min_python() => return Ok(candidate),
            Some(version) => seen.push(format!(
                "{} is {}.{}",
                candidate.display(),
                version.0,
                version.1
            )),
            None => {}
        }
    }
    let (major, minor) = server.min_python();
    Err(LocalstackError::NoPython(format!(
        "{} needs Python {major}.{minor} or newer; found none ({}). Set {LOCALSTACK_PYTHON_ENV} \
         to an interpreter.",
        server.name(),
        if seen.is_empty() {
            "no python3 at all".to_string()
        } else {
            seen.join(", ")
        }
    )))
}

/// pyenv's interpreters of 3.13 and 3.12, newest first.
fn pyenv_pythons() -> Vec<PathBuf> {
    let root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".pyenv")));
    let Some(versions) = root.map(|root| root.join("versions")) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = fs::read_dir(versions)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|entry| {
                    let name = entry.file_name().to_string_lossy().to_string();
                    name.starts_with("3.13") || name.starts_with("3.12")
                })
                .map(|entry| entry.path().join("bin").join("python3"))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.reverse();
    found
}

/// `(major, minor)` of an interpreter, or `None` when it does not run.
pub fn python_version(python: &Path) -> Option<(u32, u32)> {
    let output = Command::new(python)
        .args([
            "-c",
            "import sys; print(sys.version_info[0], sys.version_info[1])",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut words = text.split_whitespace();
    Some((words.next()?.parse().ok()?, words.next()?.parse().ok()?))
}

/// A started server. Dropping it stops the server (its whole process group) unless
/// [`HostServer::detach`] was called.
#[derive(Debug)]
pub struct HostServer {
    server: Server,
    endpoint_url: String,
    log: PathBuf,
    child: Option<Child>,
}

impl HostServer {
    /// Starts `server` from its installed venv on `127.0.0.1:port` (0: a free port) and waits
    /// until its health page answers.
    pub async fn start(
        server: Server,
        workspace: &Path,
        port: u16,
    ) -> Result<HostServer, LocalstackError> {
        if !installed(server, workspace) {
            return Err(LocalstackError::NotInstalled(server.name()));
        }
        let port = if port == 0 { free_port()? } else { port };
        let state = server.state_dir(workspace, port);
        if state.exists() {
            // Whatever a previous server on this port left; a new server starts empty.
            fs::remove_dir_all(&state).map_err(|e| LocalstackError::io("clearing the state", e))?;
        }
        fs::create_dir_all(&state).map_err(|e| LocalstackError::io("creating the state", e))?;
        let log = state.join("server.log");
        let log_file =
            fs::File::create(&log).map_err(|e| LocalstackError::io("creating the log", e))?;
        let err_file = log_file
            .try_clone()
            .map_err(|e| LocalstackError::io("opening the log", e))?;
        let mut command = server.command(&server.venv_dir(workspace), &state, port);
        command
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(err_file);
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command
            .spawn()
            .map_err(|e| LocalstackError::io(format!("starting {}", server.name()), e))?;
        let mut started = HostServer {
            server,
            endpoint_url: format!("http://127.0.0.1:{port}"),
            log,
            child: Some(child),
        };
        started.wait_healthy().await?;
        tracing::info!(server = server.name(), url = %started.endpoint_url, "host server ready");
        Ok(started)
    }

    async fn wait_healthy(&mut self) -> Result<(), LocalstackError> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(self.failed(format!("exited with {status}")));
                }
            }
            let answer = http::get(
                &self.endpoint_url,
                self.server.health_path(),
                Duration::from_secs(2),
            )
            .await;
            if answer.is_ok_and(|answer| self.server.is_healthy(&answer)) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(self.failed(format!("did not answer within {START_TIMEOUT:?}")));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn failed(&self, why: String) -> LocalstackError {
        let log = fs::read_to_string(&self.log).unwrap_or_default();
        LocalstackError::StartFailed {
            server: self.server.name(),
            why,
            log_tail: tail(&log, 15),
        }
    }

    pub fn endpoint_url(&self) -> &str {
        &self.endpoint_url
    }

    pub fn log(&self) -> &Path {
        &self.log
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Leaves the server running after this value is dropped (`cargo xtask localstack start
    /// --background`); returns its process id.
    pub fn detach(mut self) -> Option<u32> {
        self.child.take().map(|child| child.id())
    }

    /// Stops the server now.
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop_group(child.id());
            let _ = child.wait();
        }
    }
}

impl Drop for HostServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Ends the process group `pid` leads: SIGTERM, then SIGKILL after five seconds.
pub fn stop_group(pid: u32) {
    #[cfg(unix)]
    {
        let Ok(pid) = i32::try_from(pid) else { return };
        // SAFETY: kill(2) with a negative pid signals that process group; no memory involved.
        unsafe { libc::kill(-pid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        // SAFETY: signal 0 only checks whether the group still exists.
        while Instant::now() < deadline && unsafe { libc::kill(-pid, 0) } == 0 {
            std::thread::sleep(Duration::from_millis(100));
        }
        // SAFETY: as above.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
}

fn free_port() -> Result<u16, LocalstackError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| LocalstackError::io("finding a free port", e))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|e| LocalstackError::io("finding a free port", e))
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_are_pinned() {
        assert_eq!(
            Server::Localstack.requirements(),
            [
                "localstack-core[runtime]==2026.3.0",
                "cbor2<6",
                "pyopenssl<25.2"
            ]
        );
        assert_eq!(Server::Moto.requirements(), ["moto[server]==5.2.5"]);
    }

    #[test]
    fn localstack_listens_on_loopback_with_its_files_in_the_state_dir() {
        let env = localstack_env(Path::new("/w/target/wana/localstack/4566"), 4566);
        let get = |name: &str| env.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        assert_eq!(get("GATEWAY_LISTEN"), Some("127.0.0.1:4566"));
        assert_eq!(get("GATEWAY_SERVER"), Some("hypercorn"));
        assert_eq!(get("DNS_ADDRESS"), Some("0"));
        assert_eq!(get("OVERRIDE_IN_DOCKER"), Some("0"));
        assert_eq!(
            get("FILESYSTEM_ROOT"),
            Some("/w/target/wana/localstack/4566/filesystem")
        );
    }

    #[test]
    fn moto_serves_on_loopback() {
        let command = Server::Moto.command(Path::new("/v"), Path::new("/s"), 5000);
        assert_eq!(command.get_program(), "/v/bin/moto_server");
        let args: Vec<_> = command
            .get_args()
            .map(|a| a.to_string_lossy().to_string())
            .collect();
        assert_eq!(args, ["-H", "127.0.0.1", "-p", "5000"]);
        let managed = command
            .get_envs()
            .find(|(name, _)| *name == "MOTO_IAM_LOAD_MANAGED_POLICIES")
            .and_then(|(_, value)| value);
        assert_eq!(managed, Some(std::ffi::OsStr::new("true")));
    }

    #[test]
    fn an_empty_venv_is_not_installed_and_a_marked_one_is() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!installed(Server::Moto, dir.path()));
        let venv = Server::Moto.venv_dir(dir.path());
        fs::create_dir_all(&venv).unwrap();
        fs::write(venv.join(INSTALLED_MARKER), "moto[server]==5.0.0\n").unwrap();
        assert!(!installed(Server::Moto, dir.path()), "another version");
        fs::write(venv.join(INSTALLED_MARKER), marker_text(Server::Moto)).unwrap();
        assert!(installed(Server::Moto, dir.path()));
    }

    #[test]
    fn python_version_reads_a_real_interpreter_and_rejects_a_missing_one() {
        let version = python_version(Path::new("python3")).expect("python3 is on the machine");
        assert!(version >= (3, 9), "{version:?}");
        assert_eq!(python_version(Path::new("/nonexistent/python3")), None);
    }

    #[tokio::test]
    async fn starting_an_uninstalled_server_says_how_to_install_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = HostServer::start(Server::Localstack, dir.path(), 0)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("cargo xtask localstack install"),
            "{err}"
        );
    }
}
