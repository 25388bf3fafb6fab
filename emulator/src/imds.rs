//! Instance metadata (IMDS): the unsigned HTTP endpoint an instance reaches at
//! `169.254.169.254`. It never asks for SigV4: who asks is known from where the request arrives,
//! so each instance gets a listener of its own ([`crate::Emulator::serve_instance_metadata`]),
//! bound on loopback, and everything it answers is about that one instance.
//!
//! The routes so far: `PUT /latest/api/token` (IMDSv2 session tokens, with AWS's TTL bounds) and
//! `GET /latest/meta-data/instance-id`. Everything else is AWS's `404 - Not Found` page, as IMDS
//! answers unknown paths. Credentials, placement and the identity document come with the
//! instance-profile model.

use crate::state::World;

/// An HTTP answer of IMDS: status, content type and body. IMDS answers `text/plain` for data and
/// `text/html` for its error pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl MetadataResponse {
    fn text(body: impl Into<String>) -> Self {
        MetadataResponse { status: 200, content_type: "text/plain", body: body.into() }
    }

    fn page(status: u16, title: &str) -> Self {
        // The exact page IMDS serves (it is the same for 400, 401, 403 and 404 but for the title).
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n\t\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n <head>\n  <title>{status} - {title}</title>\n </head>\n <body>\n  <h1>{status} - {title}</h1>\n </body>\n</html>\n"
        );
        MetadataResponse { status, content_type: "text/html", body }
    }

    pub fn not_found() -> Self {
        Self::page(404, "Not Found")
    }
}

/// The TTL bounds of `X-aws-ec2-metadata-token-ttl-seconds` (EC2 user guide, "Use IMDSv2").
const TOKEN_TTL_SECONDS: std::ops::RangeInclusive<u64> = 1..=21_600;

/// Answers one request to the metadata endpoint of `instance_id`.
pub fn answer(world: &mut World, instance_id: &str, method: &str, path: &str, headers: &http::HeaderMap) -> MetadataResponse {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(_instance) = find_instance(world, instance_id) else {
        // The instance is gone: nothing answers at its address any more.
        return MetadataResponse::not_found();
    };
    match (method, path) {
        ("PUT", "/latest/api/token") => {
            // A request relayed through a proxy carries X-Forwarded-For, which IMDS refuses.
            if header("x-forwarded-for").is_some() {
                return MetadataResponse::page(403, "Forbidden");
            }
            match header("x-aws-ec2-metadata-token-ttl-seconds").and_then(|v| v.parse::<u64>().ok()) {
                Some(ttl) if TOKEN_TTL_SECONDS.contains(&ttl) => {
                    let token = world.ids.metadata_token();
                    MetadataResponse::text(token)
                }
                _ => MetadataResponse::page(400, "Bad Request"),
            }
        }
        ("GET", "/latest/meta-data/instance-id") => MetadataResponse::text(instance_id),
        _ => MetadataResponse::not_found(),
    }
}

fn find_instance<'w>(world: &'w World, instance_id: &str) -> Option<&'w crate::state::ec2::Instance> {
    world
        .accounts
        .values()
        .flat_map(|account| account.regions.values())
        .find_map(|regional| regional.ec2.instances.get(instance_id))
}
