//! Whether instances can be made here, asked once.

use std::{
    path::{Path, PathBuf},
    sync::OnceLock,
};

/// Why this machine cannot run instances; the text is for users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("emulated instances cannot run scripts here: {reason}")]
pub struct Unavailable {
    pub reason: String,
}

/// The programs an instance is made of, resolved on the host (the host's filesystem is the
/// instance's, so the same paths work inside).
#[derive(Debug, Clone)]
pub(crate) struct Tools {
    pub unshare: PathBuf,
    pub setpriv: PathBuf,
    pub sh: PathBuf,
    pub bash: PathBuf,
}

const NEEDED: [&str; 9] = ["unshare", "setpriv", "mount", "umount", "pivot_root", "ip", "hostname", "sh", "bash"];

/// Whether this machine can run instances (probed once, then cached): Linux, root, user
/// namespaces enabled, the util-linux and iproute2 programs present, and a real instance
/// started and stopped in a temporary directory.
pub fn available() -> Result<(), Unavailable> {
    static PROBED: OnceLock<Result<(), Unavailable>> = OnceLock::new();
    PROBED.get_or_init(probe).clone()
}

fn probe() -> Result<(), Unavailable> {
    let unavailable = |reason: String| Err(Unavailable { reason });
    if crate::sys::euid() != 0 {
        return unavailable(
            "an instance maps 65,536 user ids into its user namespace (root and ssm-user), which \
             needs root; rootless mapping through newuidmap and subordinate ids is not implemented"
                .into(),
        );
    }
    let max = std::fs::read_to_string("/proc/sys/user/max_user_namespaces").unwrap_or_default();
    if max.trim() == "0" {
        return unavailable("user namespaces are disabled (/proc/sys/user/max_user_namespaces is 0)".into());
    }
    if let Err(missing) = tools() {
        return unavailable(format!("`{missing}` is not installed (needs util-linux, iproute2 and bash)"));
    }
    let dir = std::env::temp_dir().join(format!("wana-sandbox-probe-{}", std::process::id()));
    let spec = crate::InstanceSpec::new("probe", &dir, "ip-10-0-0-1");
    let outcome = crate::Instance::start(spec).map(|instance| instance.destroy());
    let _ = std::fs::remove_dir_all(&dir);
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => unavailable(format!("a test instance could not be removed: {error}")),
        Err(error) => unavailable(format!("a test instance could not start: {error}")),
    }
}

pub(crate) fn tools() -> Result<Tools, String> {
    for name in NEEDED {
        find(name).ok_or_else(|| name.to_string())?;
    }
    let get = |name: &str| find(name).ok_or_else(|| name.to_string());
    Ok(Tools { unshare: get("unshare")?, setpriv: get("setpriv")?, sh: get("sh")?, bash: get("bash")? })
}

fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    // The system's directories first: an instance's /usr/local/bin holds only `aws`.
    ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        .map(PathBuf::from)
        .into_iter()
        .chain(std::env::split_paths(&path))
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}
