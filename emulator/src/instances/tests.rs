//! The instance runtime with real sandboxes and the real AWS CLI inside: a job queued by hand
//! for a running instance with a role, run by [`super::job::run`] as the runtime runs it.
//!
//! Needs namespaces (root) and the AWS CLI venv (`cargo xtask test` installs it and sets
//! `WANA_AWS_CLI`); without either these tests fail with the reason, never skip.

use std::{path::PathBuf, sync::Arc, time::Duration};

use super::{job, sandboxes::Sandboxes, InstancesConfig};
use crate::{
    clock::Clock,
    dispatch::Shared,
    principal::Caller,
    protocol::ServiceId,
    services::{handle, Call},
    state::ssm::{
        jobs::{Job, JobEnd},
        tests::{at, Fixture, ACCOUNT, EC2_TRUST, REGION},
    },
    value::Value,
};

const ROLE: &str = "app-role";

/// The environment the SSM Agent gives a script (amazon-ssm-agent issue 427): no HOME.
fn agent_env(instance_id: &str) -> Vec<(String, String)> {
    [
        ("AWS_SSM_INSTANCE_ID", instance_id),
        ("AWS_SSM_REGION_NAME", REGION),
        ("LANG", "C.UTF-8"),
        ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

struct Runtime {
    shared: Arc<Shared>,
    sandboxes: Arc<Sandboxes>,
    admin: Caller,
    instance_id: String,
    _dir: tempfile::TempDir,
}

impl Runtime {
    /// A running instance whose profile's role EC2 may assume, and the runtime's sandboxes.
    fn new() -> Runtime {
        wana_sandbox::available().expect("namespaces can be made on this machine");
        let venv = InstancesConfig::default().resolved_venv();
        assert!(venv.join("bin/aws").is_file(), "the AWS CLI venv ({}) is installed by `cargo xtask test`", venv.display());
        let mut fx = Fixture::new();
        fx.role_in_profile(ROLE, EC2_TRUST);
        let instance_id = fx.launch(Some(ROLE));
        fx.world.run_due(at(10));
        let admin = fx.admin();
        let shared = Arc::new(Shared { world: std::sync::Mutex::new(fx.world), clock: Clock::default(), faults: Default::default() });
        let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/wana/runtime-tests");
        std::fs::create_dir_all(&base).unwrap();
        let dir = tempfile::tempdir_in(base).unwrap();
        let sandboxes = Arc::new(Sandboxes::new(shared.clone(), dir.path().to_path_buf(), venv, 0));
        Runtime { shared, sandboxes, admin, instance_id, _dir: dir }
    }

    fn job(&self, script: &str) -> Job {
        Job {
            account: ACCOUNT.into(),
            region: REGION.into(),
            command_id: "7f0d2b6e-0000-4000-8000-000000000001".into(),
            instance_id: self.instance_id.clone(),
            plugin: "aws:runShellScript".into(),
            script: script.into(),
            working_directory: None,
            timeout: Duration::from_secs(120),
            env: agent_env(&self.instance_id),
            run_as: "root".into(),
        }
    }

    /// Runs a job as the runtime does; returns (end, stdout, stderr).
    async fn run(&self, script: &str) -> (JobEnd, String, String) {
        let job = self.job(script);
        let hostname = "ip-10-0-1-23".to_string();
        let sandbox = self.sandboxes.sandbox(&job, hostname).await.expect("the sandbox starts");
        let outcome = job::run(&self.shared, &sandbox.instance, &sandbox.endpoint, &job).await;
        (outcome.end, outcome.stdout, outcome.stderr)
    }

    fn ec2(&self, action: &str) {
        let mut world = self.shared.world.lock().unwrap();
        let now = self.shared.clock.now();
        world.run_due(now);
        let params = Value::structure().with("InstanceId", self.instance_id.as_str());
        let call = Call { caller: &self.admin, region: REGION, now, action, params: &params };
        handle(ServiceId::Ec2, &mut world, &call).unwrap().unwrap();
    }

    fn instance_dir(&self) -> PathBuf {
        self._dir.path().join(&self.instance_id)
    }
}

/// The `Type` column of `aws configure list`'s access_key row.
fn access_key_type(listing: &str) -> Option<String> {
    let row = listing.lines().find(|l| l.trim_start().starts_with("access_key"))?;
    row.split_whitespace().nth(2).map(str::to_string)
}

#[tokio::test]
async fn the_reports_curl_reads_the_instances_role_from_metadata_inside() {
    let rt = Runtime::new();
    let (end, out, err) = rt.run("curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/").await;
    assert_eq!(end, JobEnd::Exited(0), "{err}");
    assert_eq!(out, ROLE);
}

#[tokio::test]
async fn the_cli_inside_signs_as_the_instance_roles_session() {
    let rt = Runtime::new();
    let (end, out, err) = rt.run("aws sts get-caller-identity --region us-east-1 --query Arn --output text").await;
    assert_eq!(end, JobEnd::Exited(0), "{err}");
    assert_eq!(out.trim(), format!("arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/{}", rt.instance_id));
    let (_, listing, err) = rt.run("aws configure list").await;
    assert_eq!(access_key_type(&listing).as_deref(), Some("iam-role"), "{listing}{err}");
}

#[tokio::test]
async fn roots_stale_credentials_file_shadows_the_role_for_root_but_not_for_ssm_user() {
    let rt = Runtime::new();
    let plant = "mkdir -p /root/.aws && printf '[default]\\naws_access_key_id = AKIAOLDSTALEKEY00001\\naws_secret_access_key = stale\\n' > /root/.aws/credentials";
    let (end, _, err) = rt.run(plant).await;
    assert_eq!(end, JobEnd::Exited(0), "{err}");
    // A later job finds the file (files persist across jobs); with no HOME, botocore finds
    // root's home through the password database.
    let (_, listing, err) = rt.run("aws configure list").await;
    assert_eq!(access_key_type(&listing).as_deref(), Some("shared-credentials-file"), "{listing}{err}");
    let (_, listing, err) = rt.run("runuser -u ssm-user -- aws configure list").await;
    assert_eq!(access_key_type(&listing).as_deref(), Some("iam-role"), "{listing}{err}");
    // The stale key is unknown to STS.
    let (end, _, err) = rt.run("aws sts get-caller-identity --region us-east-1").await;
    assert_eq!(end, JobEnd::Exited(255), "{err}");
    assert!(err.contains("InvalidClientTokenId"), "{err}");
}

#[tokio::test]
async fn a_stopped_instance_keeps_its_files_and_a_terminated_one_loses_them() {
    let rt = Runtime::new();
    let (end, _, _) = rt.run("echo kept > /root/note").await;
    assert_eq!(end, JobEnd::Exited(0));
    rt.ec2("StopInstances");
    rt.sandboxes.follow_instances();
    assert!(rt.instance_dir().join("root/note").is_file(), "files stay while stopped");
    rt.ec2("TerminateInstances");
    rt.sandboxes.follow_instances();
    assert!(!rt.instance_dir().exists(), "files go with the instance");
}
