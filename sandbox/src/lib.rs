//! Emulated EC2 instances as Linux sandboxes, without Docker.
//!
//! An [`Instance`] is a long-lived init process holding its own user, mount, network, PID and
//! UTS namespaces; [`Instance::run`] runs a bash script inside, as a user of the instance, and
//! returns its exit status and whole output. Scripts are untrusted input: they must not write
//! outside their instance, reach any address but the listeners the caller puts in the
//! instance's network namespace ([`Instance::bind_tcp`]), outlive their command or their
//! instance, or see the host's home and credentials.
//!
//! # How (util-linux, no runtime of our own)
//!
//! * The init is `unshare --user --mount --net --pid --uts --fork` running `init.sh` (in this
//!   folder) as PID 1. The host writes its user namespace's maps: uid and gid `n` inside are
//!   `HOST_ID_BASE + n` outside, for 65,536 ids. Root inside is therefore no one on the host:
//!   the host's files show as `nobody`, its root-owned files (the host's `/root`, `/etc/shadow`,
//!   devices, `/proc/sysrq-trigger`) are out of reach, and the mounts inherited from the host
//!   are locked read-only by the kernel (a less privileged mount namespace cannot clear them).
//! * The init builds a new root on a tmpfs: every top-level entry of the host's `/`, bound
//!   read-only, except `/root`, `/home`, `/tmp` (the instance's own, from its directory on the
//!   host), `/proc` (its own PID namespace), `/sys`, `/dev` (null, zero, full, random, urandom,
//!   tty, its own devpts and shm), `/run`, `/mnt` and `/media` (empty). `/etc/hostname`,
//!   `/etc/passwd` and `/etc/group` are the instance's files; `/usr/local/bin` holds only the
//!   `aws` link; the directory holding the instances' directories is hidden. It pivots into
//!   that root, sets the hostname, brings `lo` up with 127.0.0.1 and 169.254.169.254/32: the
//!   network namespace has no other interface, so nothing else is reachable.
//! * A command enters the init's namespaces (`setns`, in the child before `exec`), becomes
//!   root inside, and runs `unshare --fork -- unshare --pid --fork --mount-proc -- [setpriv
//!   --reuid …] bash -c <script>`: each command is PID 1 of a PID namespace of its own, nested
//!   in the instance's, so that killing it kills everything it forked. Stopping the instance
//!   kills its init, which kills every process of the instance and of its commands.
//! * The inits are spawned by one long-lived thread with `PR_SET_PDEATHSIG`: if the process
//!   that owns them dies, so do its instances.
//!
//! Linux only; root only (see [`available`]): the 65,536-id mapping that gives an instance its
//! `ssm-user` needs either root or `newuidmap` with subordinate ids, which is not implemented.

#![cfg(target_os = "linux")]

mod cancel;
mod instance;
mod layout;
mod probe;
mod run;
mod sys;

pub use cancel::Cancel;
pub use instance::{Instance, InstanceSpec, StartError};
pub use layout::{venv_exposure, VenvExposure, HOST_ID_BASE, ID_COUNT, SSM_USER_ID};
pub use probe::{available, Unavailable};
pub use run::{Ended, RunError, RunOutcome, RunRequest, OUTPUT_LIMIT};
