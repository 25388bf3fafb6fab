//! The HTTP side: a loopback listener, one task per connection, and the guarantee that every
//! request gets an HTTP answer (a handler panic becomes an `InternalFailure`, never a dropped
//! connection).

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex},
};

use tokio::net::TcpListener;

use crate::{
    clock::Clock,
    connection::{serve_connection, serve_metadata_connection},
    dispatch::{self, Shared},
    instances::{InstancesConfig, Runtime},
    profile::BehaviourProfile,
    state::World,
};

/// How long EC2 refuses an IAM instance profile after IAM created it, as on AWS: RunInstances
/// and AssociateIamInstanceProfile answer `InvalidParameterValue` "Value (<name>) for parameter
/// iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name" meanwhile
/// (aws-traps.md, Trap 5).
///
/// AWS publishes no figure; chosen: 10 s. The evidence bounds it loosely: Terraform retries this
/// error for up to 2 minutes, Packer 11 times with 0.5–5 s backoff (about 30 s in all), and
/// reports describe launches right after `create-instance-profile` failing and a retry seconds
/// later succeeding (aws-traps.md, Trap 5 and its addendum). Ten seconds makes a script that
/// launches at once fail, and one that retries like the AWS tools succeed.
pub const AWS_INSTANCE_PROFILE_PROPAGATION: std::time::Duration = std::time::Duration::from_secs(10);

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The loopback port; 0 picks a free one.
    pub port: u16,
    pub profile: BehaviourProfile,
    /// Divides AWS's service latencies (see `World::latency`); 0 and 1 keep AWS's timings.
    pub latency_scale: u32,
    /// How long EC2 does not know a new instance profile (AWS's eventual consistency); divided
    /// by `latency_scale` like AWS's other latencies. Zero makes a profile usable at once.
    pub instance_profile_propagation: std::time::Duration,
    /// Whether instances run Run Command's scripts, where they keep their files, and which AWS
    /// CLI they see (see [`crate::instances`]). The default runs them in sandboxes where this
    /// machine can make them.
    pub instances: InstancesConfig,
    /// Faults injected into HTTP requests and the propagation windows they open (see
    /// [`crate::faults`]); none by default.
    pub faults: crate::faults::FaultProfile,
}

impl Default for EmulatorConfig {
    /// A free port, the current behaviour, AWS's timings and AWS's propagation window.
    fn default() -> Self {
        EmulatorConfig {
            port: 0,
            profile: BehaviourProfile::default(),
            latency_scale: 1,
            instance_profile_propagation: AWS_INSTANCE_PROFILE_PROPAGATION,
            instances: InstancesConfig::default(),
            faults: crate::faults::FaultProfile::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
}

/// A running emulator. Dropping it stops the server, kills its instances' processes and
/// removes their files.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    profile: BehaviourProfile,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    instances: Runtime,
}

impl Emulator {
    /// Binds 127.0.0.1 (never another interface) and starts serving on the current tokio
    /// runtime. Requests are accepted as soon as this returns.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, StartError> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))
            .await
            .map_err(|source| StartError::Bind { port: config.port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartError::Bind { port: config.port, source })?;
        let clock = Clock::default();
        let shared = Arc::new(Shared {
            world: Mutex::new(
                World::new(config.profile, clock.now())
                    .with_port(dispatch::pipeline())
                    .with_latency_scale(config.latency_scale)
                    .with_instance_profile_propagation(
                        chrono::Duration::from_std(config.instance_profile_propagation)
                            .unwrap_or(chrono::Duration::MAX),
                    )
                    .with_propagation(crate::state::Propagation::of(&config.faults)),
            ),
            clock,
            faults: crate::faults::FaultInjector::new(config.faults),
        });
        let (shutdown, mut stop) = tokio::sync::oneshot::channel::<()>();
        let accept_shared = shared.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stop => break,
                    accepted = listener.accept() => {
                        let Ok((stream, peer)) = accepted else { continue };
                        let _ = stream.set_nodelay(true);
                        tokio::spawn(serve_connection(accept_shared.clone(), stream, peer));
                    }
                }
            }
        });
        let instances = Runtime::start(shared.clone(), &config.instances, addr.port());
        tracing::info!(%addr, profile = %config.profile, faults = %config.faults, "emulator listening");
        Ok(Emulator { addr, shared, profile: config.profile, shutdown: Some(shutdown), instances })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL` and SDK `endpoint_url`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    pub fn profile(&self) -> BehaviourProfile {
        self.profile
    }

    /// How many HTTP requests were answered with an injected fault (see [`crate::faults`]).
    pub fn faults_injected(&self) -> u64 {
        self.shared.faults.faulted()
    }

    /// Runs `f` with the world locked: for tests and for the harness to read what the
    /// emulator decided (the authorization log) without a wire protocol.
    pub fn inspect<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        let world = self.shared.world.lock().unwrap_or_else(|e| e.into_inner());
        f(&world)
    }

    /// A handle that reads the world after the emulator has stopped: what the harness uses to
    /// explain a finished run from its authorization log. It keeps the world's memory alive, and
    /// nothing else: no listener, no instance.
    pub fn inspector(&self) -> Inspector {
        Inspector { shared: self.shared.clone() }
    }

    /// Starts the instance-metadata endpoint of one instance on a loopback port of its own
    /// (see [`crate::imds`]): unsigned, answering only about that instance. It stops when the
    /// returned handle is dropped.
    pub async fn serve_instance_metadata(&self, instance_id: &str) -> Result<MetadataEndpoint, StartError> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|source| StartError::Bind { port: 0, source })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind { port: 0, source })?;
        let (shutdown, mut stop) = tokio::sync::oneshot::channel::<()>();
        let shared = self.shared.clone();
        let instance_id: Arc<str> = Arc::from(instance_id);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stop => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        tokio::spawn(serve_metadata_connection(shared.clone(), instance_id.clone(), stream));
                    }
                }
            }
        });
        Ok(MetadataEndpoint { addr, _shutdown: shutdown })
    }

    /// Makes the instance runtime look for Run Command jobs now rather than at its next tick.
    pub fn wake_instances(&self) {
        self.instances.wake();
    }

    /// Stops accepting connections (and stops the instances).
    pub fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.instances.shutdown();
    }
}

/// Reads an emulator's world, also once the emulator has stopped ([`Emulator::inspector`]).
#[derive(Clone)]
pub struct Inspector {
    shared: Arc<Shared>,
}

impl Inspector {
    /// How many HTTP requests were answered with an injected fault, as
    /// [`Emulator::faults_injected`] says.
    pub fn faults_injected(&self) -> u64 {
        self.shared.faults.faulted()
    }

    /// Runs `f` with the world locked, as [`Emulator::inspect`] does.
    pub fn inspect<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        let world = self.shared.world.lock().unwrap_or_else(|e| e.into_inner());
        f(&world)
    }
}

impl std::fmt::Debug for Inspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inspector").finish_non_exhaustive()
    }
}

/// A running instance-metadata endpoint; dropping it stops the listener.
pub struct MetadataEndpoint {
    addr: SocketAddr,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl MetadataEndpoint {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}
