//! One HTTP connection to the emulator, on the main port, on an instance's relay, or on an
//! instance's metadata address: hyper's connection loop, the body limit, and the guarantee that
//! every request gets an HTTP answer (a handler panic becomes an `InternalFailure`, never a
//! dropped connection). Below both the listener (`server`) and the instance runtime
//! (`instances`), which accept connections and hand them here.

use std::{convert::Infallible, net::SocketAddr, sync::Arc};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{body::Incoming, service::service_fn, Request, Response};
use hyper_util::rt::TokioIo;

use crate::{
    dispatch::{self, HttpRequest, Shared},
    error::AwsError,
    imds,
    protocol::{self, EncodedResponse, Protocol},
};

/// Larger bodies are refused before they are read: no emulated operation takes more.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

pub(crate) async fn serve_metadata_connection(shared: Arc<Shared>, instance_id: Arc<str>, stream: tokio::net::TcpStream) {
    let service = service_fn(move |request: Request<Incoming>| {
        let shared = shared.clone();
        let instance_id = instance_id.clone();
        async move {
            let (parts, _body) = request.into_parts();
            let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut world = shared.world.lock().unwrap_or_else(|e| e.into_inner());
                let now = shared.clock.now();
                world.run_due(now);
                imds::answer(&mut world, now, &instance_id, parts.method.as_str(), parts.uri.path(), &parts.headers)
            }))
            .unwrap_or_else(|_| imds::MetadataResponse::not_found());
            let mut response = Response::new(Full::new(Bytes::from(answer.body)));
            *response.status_mut() = http::StatusCode::from_u16(answer.status).unwrap_or(http::StatusCode::NOT_FOUND);
            response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(answer.content_type));
            Ok::<_, Infallible>(response)
        }
    });
    if let Err(error) = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
        tracing::debug!(%error, "metadata connection closed with an error");
    }
}

pub(crate) async fn serve_connection(shared: Arc<Shared>, stream: tokio::net::TcpStream, peer: SocketAddr) {
    let service = service_fn(move |request| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(answer(&shared, peer, request).await) }
    });
    if let Err(error) = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
        .await
    {
        tracing::debug!(%error, "connection closed with an error");
    }
}

/// The answer to a body over [`MAX_BODY_BYTES`].
fn too_large() -> Response<Full<Bytes>> {
    let error = AwsError::new(
        "RequestEntityTooLarge",
        413,
        format!("Request body must be at most {MAX_BODY_BYTES} bytes"),
    );
    let mut response = to_http(protocol::encode_error(
        Protocol::AwsQuery,
        crate::protocol::ServiceId::Sts.wire(),
        &error,
        "00000000-0000-4000-8000-000000000000",
    ));
    // The body was not read: the connection cannot carry another request.
    response.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
    response
}

/// A `Content-Length` over the limit (or one that is not a number) is refused before any of
/// the body is awaited: the client may never send it.
fn declared_length_too_large(headers: &http::HeaderMap) -> bool {
    headers.get_all(http::header::CONTENT_LENGTH).iter().any(|value| {
        value.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok()).is_none_or(|n| n > MAX_BODY_BYTES as u64)
    })
}

async fn answer(shared: &Shared, peer: SocketAddr, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    if declared_length_too_large(&parts.headers) {
        return too_large();
    }
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return too_large(),
    };
    // Injected latency: wall time, before the world is locked.
    let latency = shared.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let request = HttpRequest { parts: &parts, body: &body, peer };
    let encoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dispatch::dispatch(shared, &request)))
        .unwrap_or_else(|_| dispatch::internal_failure());
    to_http(encoded)
}

fn to_http(encoded: EncodedResponse) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(encoded.body)));
    *response.status_mut() =
        http::StatusCode::from_u16(encoded.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in encoded.headers {
        if let Ok(value) = http::HeaderValue::from_str(&value) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
