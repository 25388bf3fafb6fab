//! Finding or starting LocalStack (and moto's server) for wana's endpoint backends.
//!
//! [`locate`] looks, in this order, for:
//!
//! 1. an endpoint the user gave (`--endpoint URL`, else `AWS_ENDPOINT_URL`);
//! 2. a LocalStack that already answers on its default address, `127.0.0.1:4566` (for example
//!    one started by `cargo xtask localstack start`);
//! 3. a container through `testcontainers`, where a Docker engine answers ([`container`]);
//! 4. LocalStack in host mode from its venv, installed by `cargo xtask localstack install`
//!    ([`host`]), started on a free loopback port for as long as the returned value lives.
//!
//! Nothing here knows AWS or the rest of wana; the harness decides what to do with the URL.

pub mod container;
pub mod host;
pub mod http;
pub mod probe;

use std::{fmt, path::Path, time::Duration};

pub use host::{HostServer, Server, LOCALSTACK_VERSION, MOTO_VERSION};
pub use probe::Flavour;

/// LocalStack's default gateway address.
pub const DEFAULT_PORT: u16 = 4566;

#[derive(Debug, thiserror::Error)]
pub enum LocalstackError {
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("installing failed: {0}")]
    Install(String),
    #[error("{0}")]
    NoPython(String),
    #[error("{0} is not installed: run `cargo xtask {0} install` first")]
    NotInstalled(&'static str),
    #[error("{server} did not start ({why}); the end of its log:\n{log_tail}")]
    StartFailed {
        server: &'static str,
        why: String,
        log_tail: String,
    },
    #[error("the LocalStack container did not start: {0}")]
    Container(String),
    #[error(
        "no LocalStack found: give --endpoint URL (or AWS_ENDPOINT_URL), start a Docker engine, \
         or install host mode with `cargo xtask localstack install`"
    )]
    NotFound,
}

impl LocalstackError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> LocalstackError {
        LocalstackError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Where the LocalStack a run uses came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `--endpoint` or `AWS_ENDPOINT_URL`.
    Given,
    /// Already answering on `127.0.0.1:4566`.
    Running,
    /// A container started for this run.
    Container,
    /// A host-mode process started for this run.
    Host,
}

impl Origin {
    pub fn describe(self) -> &'static str {
        match self {
            Origin::Given => "the endpoint given",
            Origin::Running => "the LocalStack already running on 127.0.0.1:4566",
            Origin::Container => "a LocalStack container started for this run",
            Origin::Host => "LocalStack in host mode, started for this run",
        }
    }
}

/// A LocalStack to talk to; what this value started stops when it is dropped.
pub struct Localstack {
    pub endpoint_url: String,
    pub origin: Origin,
    _guard: Guard,
}

/// Held only for its `Drop`: the container or the process stops with it.
#[allow(dead_code)]
enum Guard {
    Nothing,
    Container(Box<container::Container>),
    Host(HostServer),
}

impl fmt::Debug for Localstack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Localstack")
            .field("endpoint_url", &self.endpoint_url)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// The user's endpoint: the one given, else `AWS_ENDPOINT_URL` when set and not empty.
pub fn given_endpoint(explicit: Option<&str>) -> Option<String> {
    explicit
        .map(str::to_string)
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
        .map(|url| url.trim().trim_end_matches('/').to_string())
        .filter(|url| !url.is_empty())
}

/// Finds or starts LocalStack in the order of the module documentation. `workspace` is where
/// host mode's venv lives.
pub async fn locate(
    explicit: Option<&str>,
    workspace: &Path,
) -> Result<Localstack, LocalstackError> {
    if let Some(endpoint_url) = given_endpoint(explicit) {
        return Ok(Localstack {
            endpoint_url,
            origin: Origin::Given,
            _guard: Guard::Nothing,
        });
    }
    let default_url = format!("http://127.0.0.1:{DEFAULT_PORT}");
    if let Ok(answer) = http::get(&default_url, "/_localstack/health", Duration::from_secs(2)).await
    {
        if probe::localstack_health(&answer).is_some() {
            return Ok(Localstack {
                endpoint_url: default_url,
                origin: Origin::Running,
                _guard: Guard::Nothing,
            });
        }
    }
    if container::docker_answers().await {
        let started = container::start(&container::ContainerConfig::from_env()).await?;
        return Ok(Localstack {
            endpoint_url: started.endpoint_url.clone(),
            origin: Origin::Container,
            _guard: Guard::Container(Box::new(started)),
        });
    }
    if host::installed(Server::Localstack, workspace) {
        let server = HostServer::start(Server::Localstack, workspace, 0).await?;
        return Ok(Localstack {
            endpoint_url: server.endpoint_url().to_string(),
            origin: Origin::Host,
            _guard: Guard::Host(server),
        });
    }
    Err(LocalstackError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_explicit_endpoint_wins_and_is_not_even_probed() {
        let found = locate(Some("http://127.0.0.1:1/"), Path::new("/nonexistent"))
            .await
            .unwrap();
        assert_eq!(found.endpoint_url, "http://127.0.0.1:1");
        assert_eq!(found.origin, Origin::Given);
    }

    #[test]
    fn not_found_says_every_way_to_get_one() {
        let text = LocalstackError::NotFound.to_string();
        for way in [
            "--endpoint",
            "AWS_ENDPOINT_URL",
            "Docker",
            "cargo xtask localstack install",
        ] {
            assert!(text.contains(way), "{text}");
        }
    }
}
