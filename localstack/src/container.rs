//! LocalStack in a container through `testcontainers`, where a Docker engine answers.
//!
//! The image is pinned to the release host mode installs. Since 2026-03 LocalStack's image asks
//! for an auth token; `LOCALSTACK_AUTH_TOKEN` is passed through when the user has set it, and is
//! never printed (the configuration's `Debug` hides it). The container is removed when the
//! value holding it is dropped.

use std::{fmt, path::PathBuf, time::Duration};

use testcontainers::{
    core::{IntoContainerPort, WaitFor},
    runners::AsyncRunner,
    ContainerAsync, ContainerRequest, GenericImage, ImageExt,
};

use crate::{host::LOCALSTACK_VERSION, http, LocalstackError};

pub const IMAGE_NAME: &str = "localstack/localstack";
/// LocalStack's gateway port inside the container.
pub const GATEWAY_PORT: u16 = 4566;
/// What LocalStack prints once every service answers.
pub const READY_LINE: &str = "Ready.";
pub const AUTH_TOKEN_ENV: &str = "LOCALSTACK_AUTH_TOKEN";
const STARTUP_TIMEOUT: Duration = Duration::from_secs(180);

/// How the container is made: image, tag, environment.
#[derive(Clone, PartialEq, Eq)]
pub struct ContainerConfig {
    pub image: String,
    pub tag: String,
    auth_token: Option<String>,
}

impl fmt::Debug for ContainerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContainerConfig")
            .field("image", &self.image)
            .field("tag", &self.tag)
            .field("auth_token", &self.auth_token.as_ref().map(|_| "** set **"))
            .finish()
    }
}

impl ContainerConfig {
    /// The pinned image, with the auth token of this process's environment if any.
    pub fn from_env() -> ContainerConfig {
        ContainerConfig::with_auth_token(
            std::env::var(AUTH_TOKEN_ENV)
                .ok()
                .filter(|token| !token.is_empty()),
        )
    }

    pub fn with_auth_token(auth_token: Option<String>) -> ContainerConfig {
        ContainerConfig {
            image: IMAGE_NAME.to_string(),
            tag: LOCALSTACK_VERSION.to_string(),
            auth_token,
        }
    }

    pub fn image_ref(&self) -> String {
        format!("{}:{}", self.image, self.tag)
    }

    pub fn has_auth_token(&self) -> bool {
        self.auth_token.is_some()
    }

    /// The environment the container gets.
    pub fn env(&self) -> Vec<(String, String)> {
        self.auth_token
            .iter()
            .map(|token| (AUTH_TOKEN_ENV.to_string(), token.clone()))
            .collect()
    }

    /// The testcontainers request: the gateway port exposed on a free host port, ready when
    /// LocalStack prints `Ready.`.
    pub fn request(&self) -> ContainerRequest<GenericImage> {
        let image = GenericImage::new(self.image.clone(), self.tag.clone())
            .with_exposed_port(GATEWAY_PORT.tcp())
            .with_wait_for(WaitFor::message_on_stdout(READY_LINE));
        let mut request = image.with_startup_timeout(STARTUP_TIMEOUT);
        for (name, value) in self.env() {
            request = request.with_env_var(name, value);
        }
        request
    }
}

/// A LocalStack container; removed on drop.
pub struct Container {
    pub endpoint_url: String,
    _container: ContainerAsync<GenericImage>,
}

impl fmt::Debug for Container {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Container")
            .field("endpoint_url", &self.endpoint_url)
            .finish()
    }
}

/// Starts the container and waits for LocalStack's health page.
pub async fn start(config: &ContainerConfig) -> Result<Container, LocalstackError> {
    let container = config
        .request()
        .start()
        .await
        .map_err(|err| LocalstackError::Container(format!("{}: {err}", config.image_ref())))?;
    let port = container
        .get_host_port_ipv4(GATEWAY_PORT)
        .await
        .map_err(|err| LocalstackError::Container(err.to_string()))?;
    let endpoint_url = format!("http://127.0.0.1:{port}");
    let health = http::get(
        &endpoint_url,
        "/_localstack/health",
        Duration::from_secs(10),
    )
    .await
    .map_err(|err| LocalstackError::Container(format!("health page: {err}")))?;
    if crate::probe::localstack_health(&health).is_none() {
        return Err(LocalstackError::Container(format!(
            "the container answered its health page with {}",
            health.status
        )));
    }
    Ok(Container {
        endpoint_url,
        _container: container,
    })
}

/// Where the Docker engine's API socket is: `DOCKER_HOST` (`unix://…`), else the default.
pub fn docker_socket() -> Option<PathBuf> {
    match std::env::var("DOCKER_HOST") {
        Ok(host) => host.strip_prefix("unix://").map(PathBuf::from),
        Err(_) => Some(PathBuf::from("/var/run/docker.sock")),
    }
}

/// Whether a Docker engine answers `GET /_ping` with `OK` (a `docker` client alone is not an
/// engine). `DOCKER_HOST=tcp://…` is taken at its word and probed over TCP.
pub async fn docker_answers() -> bool {
    let timeout = Duration::from_secs(3);
    if let Ok(host) = std::env::var("DOCKER_HOST") {
        if let Some(address) = host.strip_prefix("tcp://") {
            let answer = http::get(&format!("http://{address}"), "/_ping", timeout).await;
            return answer.is_ok_and(|a| a.status == 200 && a.body.trim() == "OK");
        }
    }
    #[cfg(unix)]
    if let Some(socket) = docker_socket() {
        let answer = http::get_unix(&socket, "/_ping", timeout).await;
        return answer.is_ok_and(|a| a.status == 200 && a.body.trim() == "OK");
    }
    false
}

#[cfg(test)]
mod tests {
    use testcontainers::Image;

    use super::*;

    #[test]
    fn the_image_is_pinned_to_the_host_mode_release() {
        let config = ContainerConfig::with_auth_token(None);
        assert_eq!(config.image_ref(), "localstack/localstack:2026.3.0");
        let request = config.request();
        assert_eq!(request.image().name(), "localstack/localstack");
        assert_eq!(request.image().tag(), "2026.3.0");
        assert_eq!(request.image().expose_ports(), [GATEWAY_PORT.tcp()]);
        assert_eq!(request.startup_timeout(), Some(STARTUP_TIMEOUT));
        let ready = request.image().ready_conditions();
        assert_eq!(ready.len(), 1);
        assert_eq!(
            format!("{:?}", ready[0]),
            format!("{:?}", WaitFor::message_on_stdout(READY_LINE))
        );
    }

    #[test]
    fn the_auth_token_is_passed_through_only_when_set_and_never_shown() {
        let without = ContainerConfig::with_auth_token(None);
        assert!(without.env().is_empty());
        assert_eq!(without.request().env_vars().count(), 0);

        let with = ContainerConfig::with_auth_token(Some("ls-secret-token-123".into()));
        assert_eq!(
            with.env(),
            [(
                AUTH_TOKEN_ENV.to_string(),
                "ls-secret-token-123".to_string()
            )]
        );
        let request = with.request();
        let vars: Vec<(String, String)> = request
            .env_vars()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(vars, with.env());
        let debug = format!("{with:?}");
        assert!(!debug.contains("ls-secret-token-123"), "{debug}");
        assert!(debug.contains("** set **"));
    }

    #[tokio::test]
    async fn no_engine_answers_at_a_socket_that_does_not_exist() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("docker.sock");
        assert!(http::get_unix(&socket, "/_ping", Duration::from_secs(1))
            .await
            .is_err());
    }

    #[tokio::test]
    async fn an_engine_is_recognised_by_its_ping_answer() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("docker.sock");
        let listener = tokio::net::UnixListener::bind(&socket).unwrap();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 512];
            let _ = stream.read(&mut buf).await.unwrap();
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")
                .await
                .unwrap();
        });
        let answer = http::get_unix(&socket, "/_ping", Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!((answer.status, answer.body.as_str()), (200, "OK"));
    }
}
