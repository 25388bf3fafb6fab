//! The sandboxes of the instances that ran jobs: started lazily, stopped and destroyed as their
//! instances are, each with its metadata service and its way to the emulator inside.

use std::{
    collections::BTreeMap,
    net::{Ipv4Addr, SocketAddr},
    path::PathBuf,
    sync::{Arc, Mutex},
};

use wana_sandbox::{Instance, InstanceSpec, VenvExposure};

use super::{finish, job};
use crate::{
    dispatch::Shared,
    connection,
    state::{
        ec2::InstanceStateName,
        ssm::jobs::{Job, JobEnd, JobOutcome},
        World,
    },
};

/// The address of instance metadata inside every instance.
pub(crate) const METADATA_ADDR: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)), 80);

/// A running instance's sandbox and the listeners inside it.
pub(crate) struct Sandbox {
    pub instance: Instance,
    /// `http://127.0.0.1:<port>`: the emulator, from inside.
    pub endpoint: String,
    listeners: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for task in &self.listeners {
            task.abort();
        }
    }
}

enum Held {
    Running(Arc<Sandbox>),
    /// Stopped with its instance: processes gone, files kept.
    Stopped(InstanceSpec),
}

struct Entry {
    account: String,
    region: String,
    held: Held,
}

pub(crate) struct Sandboxes {
    shared: Arc<Shared>,
    dir: PathBuf,
    venv: Option<VenvExposure>,
    emulator_port: u16,
    held: Mutex<BTreeMap<String, Entry>>,
}

/// What the runtime does with a sandbox whose instance changed state.
enum Follow {
    Stop(Arc<Sandbox>),
    Destroy(Held),
}

impl Sandboxes {
    pub fn new(shared: Arc<Shared>, dir: PathBuf, venv: PathBuf, emulator_port: u16) -> Sandboxes {
        // A missing or broken venv leaves instances without `aws`, as documented.
        let venv = wana_sandbox::venv_exposure(&venv).ok();
        Sandboxes { shared, dir, venv, emulator_port, held: Mutex::new(BTreeMap::new()) }
    }

    /// Stops the sandboxes of stopped instances and destroys those of terminated ones.
    pub fn follow_instances(&self) {
        let actions: Vec<Follow> = {
            let world = self.shared.world.lock().unwrap_or_else(|e| e.into_inner());
            let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
            let mut actions = Vec::new();
            let ids: Vec<String> = held.keys().cloned().collect();
            for id in ids {
                let entry = &held[&id];
                match (instance_state(&world, &entry.account, &entry.region, &id), &entry.held) {
                    (Some(InstanceStateName::Pending | InstanceStateName::Running), _) => {}
                    (Some(InstanceStateName::Stopping | InstanceStateName::Stopped), Held::Stopped(_)) => {}
                    (Some(InstanceStateName::Stopping | InstanceStateName::Stopped), Held::Running(sandbox)) => {
                        let sandbox = sandbox.clone();
                        let spec = sandbox.instance.spec().clone();
                        if let Some(entry) = held.get_mut(&id) {
                            entry.held = Held::Stopped(spec);
                        }
                        actions.push(Follow::Stop(sandbox));
                    }
                    _ => {
                        if let Some(entry) = held.remove(&id) {
                            actions.push(Follow::Destroy(entry.held));
                        }
                    }
                }
            }
            actions
        };
        for action in actions {
            match action {
                Follow::Stop(sandbox) => sandbox.instance.stop(),
                Follow::Destroy(Held::Running(sandbox)) => {
                    sandbox.instance.stop();
                    let _ = Instance::remove_files(sandbox.instance.spec());
                }
                Follow::Destroy(Held::Stopped(spec)) => {
                    let _ = Instance::remove_files(&spec);
                }
            }
        }
    }

    /// Runs a job on its instance's sandbox (started if needed), in a task of its own.
    pub async fn dispatch(self: Arc<Self>, job: Job) {
        let hostname = {
            let world = self.shared.world.lock().unwrap_or_else(|e| e.into_inner());
            let instance = world.regional(&job.account, &job.region).and_then(|r| r.ec2.instances.get(&job.instance_id));
            match instance {
                Some(instance) if instance.state == InstanceStateName::Running => {
                    Some(format!("ip-{}", instance.private_ip_address.replace('.', "-")))
                }
                _ => None,
            }
        };
        let Some(hostname) = hostname else {
            let now = self.shared.clock.now();
            let outcome = JobOutcome { end: JobEnd::InstanceGone, stdout: String::new(), stderr: String::new(), started: now, finished: now };
            finish(&self.shared, &job, outcome);
            return;
        };
        match self.sandbox(&job, hostname).await {
            Ok(sandbox) => {
                let shared = self.shared.clone();
                tokio::spawn(async move {
                    let outcome = job::run(&shared, &sandbox.instance, &sandbox.endpoint, &job).await;
                    finish(&shared, &job, outcome);
                });
            }
            Err(reason) => {
                let now = self.shared.clock.now();
                let outcome = JobOutcome {
                    end: JobEnd::Undeliverable(reason),
                    stdout: String::new(),
                    stderr: String::new(),
                    started: now,
                    finished: now,
                };
                finish(&self.shared, &job, outcome);
            }
        }
    }

    /// The instance's running sandbox, started (with its listeners) if it has none.
    pub(crate) async fn sandbox(&self, job: &Job, hostname: String) -> Result<Arc<Sandbox>, String> {
        let spec = {
            let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
            match held.get(&job.instance_id).map(|e| &e.held) {
                Some(Held::Running(sandbox)) if sandbox.instance.is_running() => return Ok(sandbox.clone()),
                _ => {
                    let mut spec = InstanceSpec::new(&job.instance_id, &self.dir, &hostname);
                    if let Some(venv) = &self.venv {
                        spec = spec.with_venv(venv.clone());
                    }
                    spec
                }
            }
        };
        let instance = tokio::task::spawn_blocking(move || Instance::start(spec))
            .await
            .map_err(|e| format!("the instance's sandbox did not start: {e}"))?
            .map_err(|e| e.to_string())?;
        let sandbox = Arc::new(self.listen(instance, &job.instance_id).map_err(|e| format!("the instance's network: {e}"))?);
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.insert(
            job.instance_id.clone(),
            Entry { account: job.account.clone(), region: job.region.clone(), held: Held::Running(sandbox.clone()) },
        );
        Ok(sandbox)
    }

    /// Puts the instance's metadata service and the emulator's relay inside its network.
    fn listen(&self, instance: Instance, instance_id: &str) -> std::io::Result<Sandbox> {
        let metadata = tokio_listener(instance.bind_tcp(METADATA_ADDR)?)?;
        // The emulator's own port when possible, so that the endpoint reads the same inside.
        let relay = instance
            .bind_tcp(SocketAddr::from((Ipv4Addr::LOCALHOST, self.emulator_port)))
            .or_else(|_| instance.bind_tcp(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))))?;
        let relay = tokio_listener(relay)?;
        let endpoint = format!("http://{}", relay.local_addr()?);
        let shared = self.shared.clone();
        let id: Arc<str> = Arc::from(instance_id);
        let metadata_task = tokio::spawn(async move {
            loop {
                if let Ok((stream, _)) = metadata.accept().await {
                    tokio::spawn(connection::serve_metadata_connection(shared.clone(), id.clone(), stream));
                }
            }
        });
        let shared = self.shared.clone();
        let relay_task = tokio::spawn(async move {
            loop {
                if let Ok((stream, peer)) = relay.accept().await {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(connection::serve_connection(shared.clone(), stream, peer));
                }
            }
        });
        Ok(Sandbox { instance, endpoint, listeners: vec![metadata_task, relay_task] })
    }

    /// Kills every instance's processes and removes the instances' directory.
    pub fn shutdown(&self) {
        let held = std::mem::take(&mut *self.held.lock().unwrap_or_else(|e| e.into_inner()));
        for entry in held.into_values() {
            if let Held::Running(sandbox) = entry.held {
                sandbox.instance.stop();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn instance_state(world: &World, account: &str, region: &str, id: &str) -> Option<InstanceStateName> {
    world.regional(account, region).and_then(|r| r.ec2.instances.get(id)).map(|i| i.state)
}

fn tokio_listener(listener: std::net::TcpListener) -> std::io::Result<tokio::net::TcpListener> {
    listener.set_nonblocking(true)?;
    tokio::net::TcpListener::from_std(listener)
}
