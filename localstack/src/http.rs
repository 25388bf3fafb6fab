//! The few plain HTTP requests this crate makes (health checks, probes, Docker's `_ping`), over
//! a TCP or Unix socket, without an HTTP client dependency: HTTP/1.0 with `Connection: close`, so
//! the answer ends when the server closes the connection.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The most of an answer that is read; probes need only the beginning of a page.
const MAX_ANSWER: usize = 256 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// `host:port` of an `http://` URL (`http://127.0.0.1:4566/` → `127.0.0.1:4566`), or `None`
/// for any other scheme. The port defaults to 80.
pub fn authority(url: &str) -> Option<String> {
    let rest = url.strip_prefix("http://")?;
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return None;
    }
    Some(if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    })
}

/// `GET path` at an `http://` base URL.
pub async fn get(base_url: &str, path: &str, timeout: Duration) -> std::io::Result<Answer> {
    let authority = authority(base_url).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{base_url} is not an http:// URL"),
        )
    })?;
    let host = authority.clone();
    within(timeout, async move {
        let stream = tokio::net::TcpStream::connect(&authority).await?;
        exchange(stream, &host, path).await
    })
    .await
}

/// `GET path` over a Unix socket (Docker's API).
#[cfg(unix)]
pub async fn get_unix(
    socket: &std::path::Path,
    path: &str,
    timeout: Duration,
) -> std::io::Result<Answer> {
    let socket = socket.to_path_buf();
    within(timeout, async move {
        let stream = tokio::net::UnixStream::connect(&socket).await?;
        exchange(stream, "localhost", path).await
    })
    .await
}

async fn within<T>(
    timeout: Duration,
    work: impl std::future::Future<Output = std::io::Result<T>>,
) -> std::io::Result<T> {
    tokio::time::timeout(timeout, work)
        .await
        .unwrap_or_else(|_| {
            Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {timeout:?}"),
            ))
        })
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    host: &str,
    path: &str,
) -> std::io::Result<Answer> {
    let request =
        format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    let mut chunk = [0u8; 8192];
    while raw.len() < MAX_ANSWER {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        raw.extend_from_slice(&chunk[..read]);
    }
    parse(&raw).ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, "the answer is not HTTP")
    })
}

/// Status and body of a raw HTTP/1.x answer.
pub fn parse(raw: &[u8]) -> Option<Answer> {
    let text = String::from_utf8_lossy(raw);
    let status_line = text.lines().next()?;
    let mut words = status_line.split_whitespace();
    if !words.next()?.starts_with("HTTP/") {
        return None;
    }
    let status = words.next()?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    Some(Answer { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_takes_http_urls_only() {
        assert_eq!(
            authority("http://127.0.0.1:4566"),
            Some("127.0.0.1:4566".into())
        );
        assert_eq!(
            authority("http://127.0.0.1:4566/path"),
            Some("127.0.0.1:4566".into())
        );
        assert_eq!(authority("http://localhost/"), Some("localhost:80".into()));
        assert_eq!(authority("https://127.0.0.1:4566"), None);
        assert_eq!(authority("http://"), None);
    }

    #[test]
    fn parse_reads_status_and_body() {
        let answer = parse(b"HTTP/1.1 404 NOT FOUND\r\nServer: x\r\n\r\n<h1>no</h1>").unwrap();
        assert_eq!(
            answer,
            Answer {
                status: 404,
                body: "<h1>no</h1>".into()
            }
        );
        assert!(parse(b"SSH-2.0-OpenSSH\r\n").is_none());
    }

    #[tokio::test]
    async fn get_talks_http_to_a_listener() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 1024];
            let read = socket.read(&mut request).await.unwrap();
            let request = String::from_utf8_lossy(&request[..read]).to_string();
            socket
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .await
                .unwrap();
            request
        });
        let answer = get(&url, "/_localstack/health", Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(
            answer,
            Answer {
                status: 200,
                body: "ok".into()
            }
        );
        assert!(server
            .await
            .unwrap()
            .starts_with("GET /_localstack/health HTTP/1.0\r\n"));
    }

    #[tokio::test]
    async fn get_fails_fast_when_nothing_listens() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        assert!(get(&url, "/", Duration::from_secs(5)).await.is_err());
    }
}
