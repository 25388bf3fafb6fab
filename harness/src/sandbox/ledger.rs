//! The run ledger: one JSON line per resource, written before the resource is created, so that
//! a run killed at any moment leaves a record of everything it may have made
//! (`<runs_dir>/<run-id>.jsonl`). Teardown and cleanup add a line when they are done.

use std::{
    fs::{self, OpenOptions},
    io::Write,
    path::{Path, PathBuf},
};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// What kind of resource a ledger line names. The order is the order cleanup deletes in: what
/// launches or holds others first (a group before its instances, an instance before its image,
/// an alias before its key, a profile before its role).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceKind {
    AutoScalingGroup,
    CloudformationStack,
    Ec2Instance,
    Ec2LaunchTemplate,
    Ec2Image,
    SsmDocument,
    S3Bucket,
    KmsAlias,
    KmsKey,
    IamInstanceProfile,
    IamRole,
    IamUser,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 12] = [
        ResourceKind::AutoScalingGroup,
        ResourceKind::CloudformationStack,
        ResourceKind::Ec2Instance,
        ResourceKind::Ec2LaunchTemplate,
        ResourceKind::Ec2Image,
        ResourceKind::SsmDocument,
        ResourceKind::S3Bucket,
        ResourceKind::KmsAlias,
        ResourceKind::KmsKey,
        ResourceKind::IamInstanceProfile,
        ResourceKind::IamRole,
        ResourceKind::IamUser,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::AutoScalingGroup => "auto-scaling-group",
            ResourceKind::CloudformationStack => "cloudformation-stack",
            ResourceKind::Ec2Instance => "ec2-instance",
            ResourceKind::Ec2LaunchTemplate => "ec2-launch-template",
            ResourceKind::Ec2Image => "ec2-image",
            ResourceKind::SsmDocument => "ssm-document",
            ResourceKind::S3Bucket => "s3-bucket",
            ResourceKind::KmsAlias => "kms-alias",
            ResourceKind::KmsKey => "kms-key",
            ResourceKind::IamInstanceProfile => "iam-instance-profile",
            ResourceKind::IamRole => "iam-role",
            ResourceKind::IamUser => "iam-user",
        }
    }
}

impl std::fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One line of a ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Entry {
    /// The first line: which run, and the process that runs it.
    Start {
        run_id: String,
        trap: String,
        backend: String,
        region: String,
        pid: u32,
        host: String,
        started_at: String,
        expires_at: String,
    },
    /// Written before a create call. `name` when the resource has one before it exists; `None`
    /// (instances, keys) when it is found by the run's tag until its id is known.
    Create {
        at: String,
        /// The logical account (`a`) and the account id, checked again before cleanup deletes.
        account: String,
        account_id: String,
        region: String,
        kind: ResourceKind,
        name: Option<String>,
        id: Option<String>,
    },
    /// Teardown ended; `ok` when it reported no failure.
    Teardown { at: String, ok: bool },
    /// `cargo xtask cleanup --yes` deleted everything that was left.
    Cleaned { at: String },
}

/// Now, as ledgers write times.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An open ledger: appends lines to `<dir>/<run-id>.jsonl`.
#[derive(Debug, Clone)]
pub struct Ledger {
    path: PathBuf,
}

impl Ledger {
    /// Creates the ledger of a run with its `Start` line.
    pub fn create(dir: &Path, start: &Entry) -> std::io::Result<Ledger> {
        let Entry::Start { run_id, .. } = start else {
            return Err(std::io::Error::other("a ledger begins with its start line"));
        };
        fs::create_dir_all(dir)?;
        let ledger = Ledger { path: dir.join(format!("{run_id}.jsonl")) };
        ledger.append(start)?;
        Ok(ledger)
    }

    /// Opens an existing ledger to add lines (cleanup).
    pub fn open(path: &Path) -> Ledger {
        Ledger { path: path.to_path_buf() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line. The write reaches the kernel before this returns, so a process killed
    /// right after it (even with SIGKILL) leaves the line in the file.
    /// A line cut short by a kill is ended first, so that the new line stays whole.
    pub fn append(&self, entry: &Entry) -> std::io::Result<()> {
        let mut line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
        line.push('\n');
        let cut_short = fs::read(&self.path).is_ok_and(|text| text.last().is_some_and(|b| *b != b'\n'));
        if cut_short {
            line.insert(0, '\n');
        }
        let mut file = OpenOptions::new().create(true).append(true).open(&self.path)?;
        file.write_all(line.as_bytes())
    }
}

/// A run as its ledger tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLedger {
    pub path: PathBuf,
    pub run_id: String,
    pub trap: String,
    pub backend: String,
    pub region: String,
    pub pid: u32,
    pub host: String,
    pub started_at: Option<DateTime<Utc>>,
    /// The `Create` lines, in order.
    pub creates: Vec<Entry>,
    /// `Some(ok)` once teardown has ended.
    pub teardown: Option<bool>,
    pub cleaned: bool,
}

impl RunLedger {
    /// Whether nothing can be left: teardown ended without failure, or cleanup finished.
    pub fn is_closed(&self) -> bool {
        self.cleaned || self.teardown == Some(true)
    }

    /// Whether the process that wrote it still runs on this machine (its resources are not
    /// leftovers then).
    pub fn is_running_here(&self) -> bool {
        self.host == host_name() && process_alive(self.pid)
    }
}

/// Reads every `*.jsonl` ledger of `dir`, oldest first. Lines that do not parse are skipped
/// (a line cut short by a kill); a file without a start line is not a ledger.
pub fn read_dir(dir: &Path) -> std::io::Result<Vec<RunLedger>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut runs = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "jsonl") {
            if let Some(run) = read_file(&path)? {
                runs.push(run);
            }
        }
    }
    runs.sort_by(|a, b| a.started_at.cmp(&b.started_at).then_with(|| a.run_id.cmp(&b.run_id)));
    Ok(runs)
}

/// Reads one ledger.
pub fn read_file(path: &Path) -> std::io::Result<Option<RunLedger>> {
    let text = fs::read_to_string(path)?;
    let mut run: Option<RunLedger> = None;
    for line in text.lines() {
        let Ok(entry) = serde_json::from_str::<Entry>(line) else { continue };
        match (&mut run, entry) {
            (None, Entry::Start { run_id, trap, backend, region, pid, host, started_at, .. }) => {
                run = Some(RunLedger {
                    path: path.to_path_buf(),
                    run_id,
                    trap,
                    backend,
                    region,
                    pid,
                    host,
                    started_at: DateTime::parse_from_rfc3339(&started_at).ok().map(|t| t.with_timezone(&Utc)),
                    creates: Vec::new(),
                    teardown: None,
                    cleaned: false,
                });
            }
            (Some(run), entry @ Entry::Create { .. }) => run.creates.push(entry),
            (Some(run), Entry::Teardown { ok, .. }) => run.teardown = Some(ok),
            (Some(run), Entry::Cleaned { .. }) => run.cleaned = true,
            _ => {}
        }
    }
    Ok(run)
}

/// This machine's name, as ledgers record it.
pub fn host_name() -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: the buffer is writable for its whole length, which is what is passed.
    let result = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if result != 0 {
        return String::new();
    }
    let end = buffer.iter().position(|b| *b == 0).unwrap_or(buffer.len());
    String::from_utf8_lossy(&buffer[..end]).into_owned()
}

/// Whether a process runs (a zombie, killed and not yet reaped, does not).
pub fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    let exists = unsafe { libc::kill(pid, 0) } == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !exists {
        return false;
    }
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses: `1234 (xtask) Z ...`.
        Ok(stat) => stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()) != Some("Z"),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(run_id: &str) -> Entry {
        Entry::Start {
            run_id: run_id.into(),
            trap: "cmk-start-external-role".into(),
            backend: "sandbox".into(),
            region: "us-east-1".into(),
            pid: std::process::id(),
            host: host_name(),
            started_at: timestamp(Utc::now()),
            expires_at: timestamp(Utc::now()),
        }
    }

    fn create(kind: ResourceKind, name: &str) -> Entry {
        Entry::Create {
            at: timestamp(Utc::now()),
            account: "c".into(),
            account_id: "333333333333".into(),
            region: "us-east-1".into(),
            kind,
            name: Some(name.into()),
            id: None,
        }
    }

    #[test]
    fn a_ledger_reads_back_its_lines_and_skips_a_cut_line() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::create(dir.path(), &start("wana-x-1")).unwrap();
        ledger.append(&create(ResourceKind::IamRole, "wana-x-1-ThirdPartyRole")).unwrap();
        ledger.append(&create(ResourceKind::KmsAlias, "alias/wana-x-1")).unwrap();
        fs::OpenOptions::new().append(true).open(ledger.path()).unwrap().write_all(b"{\"event\":\"cre").unwrap();
        let runs = read_dir(dir.path()).unwrap();
        assert_eq!(runs.len(), 1);
        let run = &runs[0];
        assert_eq!(run.run_id, "wana-x-1");
        assert_eq!(run.creates.len(), 2);
        assert!(!run.is_closed());
        assert!(run.is_running_here(), "this test process wrote it");
        let text = fs::read_to_string(ledger.path()).unwrap();
        assert!(text.starts_with("{\"event\":\"start\",\"run_id\":\"wana-x-1\""), "{text}");
        assert!(text.contains("\"kind\":\"iam-role\",\"name\":\"wana-x-1-ThirdPartyRole\""), "{text}");

        ledger.append(&Entry::Teardown { at: timestamp(Utc::now()), ok: true }).unwrap();
        assert!(read_file(ledger.path()).unwrap().unwrap().is_closed());
    }

    #[test]
    fn dead_and_zombie_processes_are_not_running() {
        assert!(process_alive(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        // Not yet reaped: a zombie for a moment, which must not count as running.
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(!process_alive(pid));
        child.wait().unwrap();
        assert!(!process_alive(pid));
    }

    #[test]
    fn kinds_sort_in_deletion_order() {
        let mut kinds = vec![ResourceKind::IamRole, ResourceKind::KmsKey, ResourceKind::Ec2Instance, ResourceKind::KmsAlias];
        kinds.sort();
        assert_eq!(kinds, [ResourceKind::Ec2Instance, ResourceKind::KmsAlias, ResourceKind::KmsKey, ResourceKind::IamRole]);
        for kind in ResourceKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), serde_json::Value::String(kind.name().into()));
        }
    }
}
