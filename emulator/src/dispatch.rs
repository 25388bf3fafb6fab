//! The request pipeline: route to a service and protocol, authenticate, decode, handle, encode.
//! Every step's failure becomes an AWS error in the caller's protocol.

use std::{net::SocketAddr, sync::Mutex};

use crate::{
    clock::Clock,
    error::AwsError,
    protocol::{self, EncodedResponse, Protocol, RawRequest},
    services::{self, Call, ServiceId},
    sigv4::{self, AuthFailure, SignedRequest},
    port::{Acting, InnerCall, Services},
    state::World,
    value::Value,
};

/// What every connection task shares: the world behind its one lock, the clock, and the faults
/// injected into HTTP requests (none by default).
pub(crate) struct Shared {
    pub world: Mutex<World>,
    pub clock: Clock,
    pub faults: crate::faults::FaultInjector,
}

/// An HTTP request whose body has been read.
pub(crate) struct HttpRequest<'a> {
    pub parts: &'a http::request::Parts,
    pub body: &'a [u8],
    pub peer: SocketAddr,
}

impl HttpRequest<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.parts.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The answer when a handler panicked: AWS's generic server error, never a dropped connection.
pub(crate) fn internal_failure() -> EncodedResponse {
    protocol::encode_error(
        Protocol::AwsQuery,
        ServiceId::Sts.wire(),
        &AwsError::internal("An internal error occurred in the wana emulator."),
        "00000000-0000-4000-8000-000000000000",
    )
}

/// Which service and protocol a request is for. Smithy protocols name themselves in headers;
/// query requests are routed by the SigV4 credential scope, or by their `Version` parameter
/// when unsigned.
fn route(request: &HttpRequest<'_>, scope_service: Option<&str>) -> Option<(ServiceId, Protocol)> {
    if request.header("smithy-protocol") == Some("rpc-v2-cbor") {
        return ServiceId::from_cbor_path(request.parts.uri.path()).map(|s| (s, Protocol::RpcV2Cbor));
    }
    if let Some(target) = request.header("x-amz-target") {
        return ServiceId::from_json_target(target).map(|s| (s, Protocol::AwsJson11));
    }
    let service = scope_service.and_then(ServiceId::from_signing_name).or_else(|| {
        let query = request.parts.uri.query().unwrap_or("");
        form_urlencoded::parse(request.body)
            .chain(form_urlencoded::parse(query.as_bytes()))
            .find(|(k, _)| k == "Version")
            .and_then(|(_, v)| ServiceId::from_api_version(&v))
    })?;
    Some((service, service.query_protocol()))
}

pub(crate) fn dispatch(shared: &Shared, request: &HttpRequest<'_>) -> EncodedResponse {
    let auth = request.header("authorization").map(sigv4::parse_authorization);
    let scope_service = match &auth {
        Some(Ok(header)) => Some(header.service.as_str()),
        _ => None,
    };
    let Some((service, protocol)) = route(request, scope_service) else {
        let error = AwsError::new(
            "UnknownService",
            400,
            format!(
                "wana does not emulate the service this request is for (credential scope: {})",
                scope_service.unwrap_or("none")
            ),
        );
        return protocol::encode_error(Protocol::AwsQuery, ServiceId::Sts.wire(), &error, "00000000-0000-4000-8000-000000000000");
    };
    let wire = service.wire();
    let now = shared.clock.now();
    let mut world = shared.world.lock().unwrap_or_else(|e| e.into_inner());
    world.run_due(now);
    let request_id = world.ids.request_id();
    let fail = |error: AwsError| {
        tracing::info!(service = wire.signing_name, code = %error.code, status = error.status, "request failed");
        protocol::encode_error(protocol, wire, &error, &request_id)
    };

    let auth = match auth {
        None => return fail(AuthFailure::Missing.to_aws_error(protocol)),
        Some(Err(failure)) => return fail(failure.to_aws_error(protocol)),
        Some(Ok(auth)) => auth,
    };
    let path_and_query = request.parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let signed = SignedRequest {
        method: request.parts.method.as_str(),
        path_and_query,
        headers: &request.parts.headers,
        body: request.body,
        source_ip: request.peer.ip(),
    };
    let caller = match sigv4::authenticate(&world, now, shared.clock.wall_now(), &signed, &auth) {
        Ok(caller) => caller,
        Err(failure) => return fail(failure.to_aws_error(protocol)),
    };
    // An injected fault is answered here: authenticated, not yet decoded or handled.
    if let Some(kind) = shared.faults.next(&caller.access_key_id) {
        tracing::info!(service = wire.signing_name, ?kind, "fault injected");
        return fail(crate::faults::fault_error(service, kind));
    }

    // S3 verifies the payload against `x-amz-content-sha256` and decodes aws-chunked bodies;
    // a trailing checksum then reads as the header it stands for.
    let s3_payload;
    let merged_headers;
    let (body, headers) = if service == ServiceId::S3 {
        s3_payload = match sigv4::s3_payload(&world, &signed, &auth) {
            Ok(payload) => payload,
            Err(error) => return fail(error),
        };
        let mut headers = request.parts.headers.clone();
        for (name, value) in &s3_payload.trailers {
            if let (Ok(name), Ok(value)) = (http::HeaderName::from_bytes(name.as_bytes()), http::HeaderValue::from_str(value)) {
                headers.insert(name, value);
            }
        }
        merged_headers = headers;
        (s3_payload.body.as_slice(), &merged_headers)
    } else {
        (request.body, &request.parts.headers)
    };
    let raw = RawRequest {
        method: request.parts.method.as_str(),
        path: request.parts.uri.path(),
        query: request.parts.uri.query().unwrap_or(""),
        target: request.header("x-amz-target"),
        content_type: request.header("content-type"),
        host: request.header("host"),
        headers: Some(headers),
        body,
    };
    let decoded = match protocol::decode(protocol, wire, &raw) {
        Ok(decoded) => decoded,
        Err(error) => return fail(error),
    };
    let call = Call {
        caller: &caller,
        region: &auth.region,
        now,
        action: &decoded.action,
        params: &decoded.params,
    };
    let result = services::handle(service, &mut world, &call)
        .unwrap_or_else(|| Err(services::unknown_operation(protocol, &decoded.action)));
    match result {
        Ok(output) => {
            tracing::info!(service = wire.signing_name, action = %decoded.action, "request handled");
            protocol::encode_output(protocol, wire, &decoded.action, &output, &request_id)
        }
        Err(error) => fail(error),
    }
}

/// The port a world is connected to: inner calls through this pipeline.
pub(crate) fn pipeline() -> crate::state::Port {
    crate::state::Port::new(Pipeline)
}

/// The request pipeline as the port for inner calls ([`crate::port::Services`]): a service that
/// acts as a principal is authenticated (a stored key as a signed request's key would be, a
/// service role through its trust policy), then handled by the target service, whose handler
/// authorizes the call as for any caller.
pub(crate) struct Pipeline;

impl Services<World> for Pipeline {
    fn call(&self, world: &mut World, inner: InnerCall<'_>) -> Result<Value, AwsError> {
        let protocol = inner.service.native_protocol();
        let caller = match inner.acting {
            Acting::ForwardAccess { caller, service } => caller.via(&service),
            Acting::ServiceRole { account, role_name, service, session_name } => services::sts::service_session(
                world,
                inner.now,
                inner.region,
                &account,
                &role_name,
                &service,
                &session_name,
            )?,
            Acting::StoredCredential { access_key_id, session_token } => {
                match sigv4::authenticate_stored(world, inner.now, &access_key_id, session_token.as_deref()) {
                    Ok(caller) => caller,
                    Err(failure) => {
                        let who = world
                            .access_keys
                            .get(&access_key_id)
                            .and_then(|key| world.principal_of(key))
                            .map_or_else(|| "an unknown access key".to_string(), |p| p.arn());
                        let action = format!("{}:{}", inner.service.wire().signing_name, inner.action);
                        world.record_authentication_failure(&who, &action, failure.reason());
                        return Err(failure.to_aws_error(protocol));
                    }
                }
            }
        };
        let call = Call { caller: &caller, region: inner.region, now: inner.now, action: inner.action, params: &inner.params };
        tracing::debug!(service = inner.service.wire().signing_name, action = inner.action, caller = %caller.principal.arn(), "inner call");
        services::handle_inner(inner.service, world, &call)
            .unwrap_or_else(|| Err(services::unknown_operation(protocol, inner.action)))
    }

    /// IMDSv2 as the SSM Agent speaks it: `PUT /latest/api/token` with a six-hour TTL (the
    /// longest IMDS gives, which the agent asks for), then `GET path` with the token, both
    /// answered by [`crate::imds::answer`].
    fn instance_metadata(&self, world: &mut World, now: chrono::DateTime<chrono::Utc>, instance_id: &str, path: &str) -> Option<String> {
        let mut headers = http::HeaderMap::new();
        headers.insert("x-aws-ec2-metadata-token-ttl-seconds", http::HeaderValue::from_static("21600"));
        let token = crate::imds::answer(world, now, instance_id, "PUT", "/latest/api/token", &headers);
        if token.status != 200 {
            return None;
        }
        let mut headers = http::HeaderMap::new();
        headers.insert("x-aws-ec2-metadata-token", http::HeaderValue::from_str(&token.body).ok()?);
        let reply = crate::imds::answer(world, now, instance_id, "GET", path, &headers);
        (reply.status == 200).then_some(reply.body)
    }
}
