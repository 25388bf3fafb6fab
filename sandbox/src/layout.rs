//! An instance's directory on the host, and the users of the instance.
//!
//! ```text
//! <parent>/<id>/
//!   rootfs/          where the init assembles the instance's root (empty on the host)
//!   root/            /root          (root, 0700; 0711 when a host path is bound under it)
//!   home/ssm-user/   /home/ssm-user (ssm-user, 0700)
//!   tmp/             /tmp           (1777)
//!   etc/hostname, etc/passwd, etc/group
//! ```
//!
//! Files are owned on the host by the ids they have inside, shifted by [`HOST_ID_BASE`]. An
//! existing directory is kept as it is (an instance that stops and starts again finds its
//! files); [`crate::Instance::destroy`] removes it.

use std::{
    io,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
};

use crate::sys;

/// Uid and gid `n` inside an instance are `HOST_ID_BASE + n` on the host, for `n` below
/// [`ID_COUNT`]. Chosen far above the ids a distribution allocates (and above the subordinate
/// ranges `useradd` hands out from 100000), so that nothing on the host belongs to an
/// instance's users.
pub const HOST_ID_BASE: u32 = 1_000_000_000;
/// How many ids an instance has (0 to 65535).
pub const ID_COUNT: u32 = 65_536;
/// `ssm-user`'s uid and gid, as the SSM Agent creates it on Amazon Linux.
pub const SSM_USER_ID: u32 = 1001;

const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
ssm-user:x:1001:1001::/home/ssm-user:/bin/bash\n\
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
const GROUP: &str = "root:x:0:\nssm-user:x:1001:\nnogroup:x:65534:\n";

/// Creates what is missing of an instance's directory; returns its path.
pub fn prepare(parent: &Path, id: &str, hostname: &str, root_traversable: bool) -> io::Result<PathBuf> {
    if id.is_empty() || id.contains('/') || id.starts_with('.') {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("not an instance id: {id:?}")));
    }
    let dir = parent.join(id);
    let root = HOST_ID_BASE;
    let ssm_user = HOST_ID_BASE + SSM_USER_ID;
    std::fs::create_dir_all(&dir)?;
    owned_dir(&dir, root, 0o755)?;
    owned_dir(&dir.join("rootfs"), root, 0o755)?;
    let root_mode = if root_traversable { 0o711 } else { 0o700 };
    owned_dir(&dir.join("root"), root, root_mode)?;
    owned_dir(&dir.join("home"), root, 0o755)?;
    owned_dir(&dir.join("home/ssm-user"), ssm_user, 0o700)?;
    owned_dir(&dir.join("tmp"), root, 0o1777)?;
    owned_dir(&dir.join("etc"), root, 0o755)?;
    owned_file(&dir.join("etc/hostname"), root, &format!("{hostname}\n"))?;
    owned_file(&dir.join("etc/passwd"), root, PASSWD)?;
    owned_file(&dir.join("etc/group"), root, GROUP)?;
    Ok(dir)
}

/// A directory that exists keeps its owner and mode, except `root/`'s mode, which follows
/// what is bound under it this time.
fn owned_dir(path: &Path, owner: u32, mode: u32) -> io::Result<()> {
    let created = match std::fs::create_dir(path) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
        Err(e) => return Err(e),
    };
    if created || path.ends_with("root") {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    if created {
        sys::chown(path, owner, owner)?;
    }
    Ok(())
}

fn owned_file(path: &Path, owner: u32, text: &str) -> io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    std::fs::write(path, text)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))?;
    sys::chown(path, owner, owner)
}

/// A user of the instance, from its `/etc/passwd` (which scripts may edit).
pub fn lookup_user(dir: &Path, name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string(dir.join("etc/passwd")).ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        if fields.next()? != name {
            return None;
        }
        let _password = fields.next()?;
        let uid = fields.next()?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        Some((uid, gid))
    })
}

/// What an instance needs to run a Python virtual environment's `aws`: the venv, and the
/// Python installation its `pyvenv.cfg` names (`home = <prefix>/bin`), which may live where
/// the instance cannot otherwise see it (under the host's `/root`, for pyenv).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenvExposure {
    /// Host paths to bind read-only at the same path.
    pub binds: Vec<PathBuf>,
    /// `<venv>/bin/aws`, if it exists.
    pub aws: Option<PathBuf>,
}

/// Reads `<venv>/pyvenv.cfg`. A venv without one (or a missing venv) is an error.
pub fn venv_exposure(venv: &Path) -> io::Result<VenvExposure> {
    let venv = std::fs::canonicalize(venv)?;
    let cfg = std::fs::read_to_string(venv.join("pyvenv.cfg"))?;
    let home = cfg
        .lines()
        .filter_map(|line| line.split_once('='))
        .find(|(key, _)| key.trim() == "home")
        .map(|(_, value)| PathBuf::from(value.trim()))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "pyvenv.cfg has no `home`"))?;
    // `home` is the interpreter's bin/; its parent holds the standard library.
    let prefix = home.parent().map(Path::to_path_buf).unwrap_or(home);
    let prefix = std::fs::canonicalize(&prefix).unwrap_or(prefix);
    let aws = venv.join("bin/aws");
    let aws = aws.is_file().then_some(aws);
    let mut binds = vec![venv];
    if !binds.iter().any(|b| prefix.starts_with(b)) {
        binds.push(prefix);
    }
    Ok(VenvExposure { binds, aws })
}
