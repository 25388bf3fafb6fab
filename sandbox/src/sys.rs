//! The few system calls the host side makes itself, and /proc reading.

use std::{io, os::fd::RawFd, path::PathBuf, time::Duration};

/// `kill(pid, SIGKILL)`, ignoring a process already gone.
pub fn kill(pid: i32) {
    if pid > 0 {
        // SAFETY: kill has no memory effects.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

/// The children of a process (`/proc/<pid>/task/<pid>/children`).
pub fn children(pid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Whether a process still exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // "pid (comm) S ...": the state follows the last ')'.
            let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next());
            !matches!(state, Some('Z') | Some('X') | None)
        }
        Err(_) => false,
    }
}

/// Waits until `pid` is gone (or a zombie), at most `limit`.
pub fn wait_gone(pid: i32, limit: Duration) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while alive(pid) {
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    true
}

/// `/proc/<pid>/ns/<name>`.
pub fn ns_path(pid: i32, name: &str) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/ns/{name}"))
}

/// `setns(fd, 0)`; async-signal-safe (used between fork and exec).
pub fn setns(fd: RawFd) -> io::Result<()> {
    // SAFETY: setns only reads its arguments.
    if unsafe { libc::setns(fd, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Becomes uid and gid 0 of the current user namespace with no supplementary groups;
/// async-signal-safe.
pub fn become_root() -> io::Result<()> {
    // SAFETY: plain system calls on integers.
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0
            || libc::setresgid(0, 0, 0) != 0
            || libc::setresuid(0, 0, 0) != 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

pub fn euid() -> u32 {
    // SAFETY: no arguments.
    unsafe { libc::geteuid() }
}

/// `prctl(PR_SET_PDEATHSIG, SIGKILL)`; async-signal-safe.
pub fn die_with_parent() -> io::Result<()> {
    // SAFETY: prctl with integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `chown(path, uid, gid)` without following a final symlink.
pub fn chown(path: &std::path::Path, uid: u32, gid: u32) -> io::Result<()> {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))
}

/// At most this many processes per instance user (host-wide for the user the instance's ids map
/// to): a fork bomb in a script stops at it instead of exhausting the host.
pub const MAX_PROCESSES: u64 = 4096;
/// At most this large a file a script may write (`SIGXFSZ` beyond): one file cannot fill the
/// host's disk, where the instance's directories live.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024 * 1024;

/// Sets a command's resource limits (called between fork and exec: system calls only).
pub fn limit_resources() -> io::Result<()> {
    for (resource, limit) in [(libc::RLIMIT_NPROC, MAX_PROCESSES), (libc::RLIMIT_FSIZE, MAX_FILE_BYTES)] {
        let value = libc::rlimit { rlim_cur: limit as libc::rlim_t, rlim_max: limit as libc::rlim_t };
        // SAFETY: setrlimit reads the struct it is given and has no other memory effects.
        if unsafe { libc::setrlimit(resource, &value) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
