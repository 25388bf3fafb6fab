//! Instance metadata (IMDS): the unsigned HTTP endpoint an instance reaches at
//! `169.254.169.254`. It never asks for SigV4: who asks is known from where the request arrives,
//! so each instance gets a listener of its own ([`crate::Emulator::serve_instance_metadata`]),
//! bound on loopback, and everything it answers is about that one instance.
//!
//! Routes: `PUT /latest/api/token` (IMDSv2 session tokens, remembered per instance with their TTL
//! on the emulator clock), the `meta-data/` listing and its leaves (`instance-id`, `ami-id`,
//! `instance-type`, `local-ipv4`, `placement/`), `iam/info`, `iam/security-credentials/` (the
//! role of the instance's profile, with credentials EC2 obtains by assuming it as
//! `ec2.amazonaws.com`), and `dynamic/instance-identity/document`. Everything else is AWS's
//! `404 - Not Found` page. A request carrying `X-aws-ec2-metadata-token` must carry a live token of
//! this instance, and an instance with `HttpTokens=required` refuses requests without one, both
//! with the `401 - Unauthorized` page (as AWS's own mock, amazon-ec2-metadata-mock, answers).
//!
//! The instance's applied metadata options (`crate::state::ec2::InstanceMetadataOptions`) decide:
//! with `HttpEndpoint=disabled` every request, the token `PUT` included, gets the
//! `403 - Forbidden` page (EC2 User Guide, "Retrieve instance metadata", "Responses and error
//! messages": "403 - Forbidden – The request is not allowed or the IMDS is turned off",
//! https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html);
//! `HttpTokens` as above; `InstanceMetadataTags=enabled` adds `tags/instance/` with one leaf per
//! tag key (EC2 User Guide, "View tags for your EC2 instances using instance metadata").

use chrono::{DateTime, Duration, SecondsFormat, Utc};

use crate::{
    services::sts,
    state::{
        ec2::{HttpTokens, Instance},
        metadata::{InstanceCredentials, InstanceMetadata},
        World,
    },
};

/// An HTTP answer of IMDS: status, content type and body. IMDS answers `text/plain` for data
/// (JSON documents included) and `text/html` for its error pages.
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

    fn unauthorized() -> Self {
        Self::page(401, "Unauthorized")
    }

    fn forbidden() -> Self {
        Self::page(403, "Forbidden")
    }
}

/// The TTL bounds of `X-aws-ec2-metadata-token-ttl-seconds` (EC2 user guide, "Use IMDSv2").
const TOKEN_TTL_SECONDS: std::ops::RangeInclusive<i64> = 1..=21_600;

/// New credentials are served at least this long before the old ones expire (EC2 user guide,
/// "Retrieve security credentials from instance metadata").
const ROTATE_BEFORE_EXPIRY_MINUTES: i64 = 5;

/// The instance a listener answers for, with where it lives.
struct Located {
    account: String,
    region: String,
    instance: Instance,
}

/// Answers one request to the metadata endpoint of `instance_id` at `now`.
pub fn answer(
    world: &mut World,
    now: DateTime<Utc>,
    instance_id: &str,
    method: &str,
    path: &str,
    headers: &http::HeaderMap,
) -> MetadataResponse {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(here) = find_instance(world, instance_id) else {
        // The instance is gone: nothing answers at its address any more.
        return MetadataResponse::not_found();
    };
    let options = *here.instance.metadata_options.applied();
    if !options.http_endpoint.is_enabled() {
        return MetadataResponse::forbidden();
    }
    if (method, path) == ("PUT", "/latest/api/token") {
        // A request relayed through a proxy carries X-Forwarded-For, which IMDS refuses.
        if header("x-forwarded-for").is_some() {
            return MetadataResponse::forbidden();
        }
        return match header("x-aws-ec2-metadata-token-ttl-seconds").and_then(|v| v.trim().parse::<i64>().ok()) {
            Some(ttl) if TOKEN_TTL_SECONDS.contains(&ttl) => {
                let token = world.ids.metadata_token();
                let memory = world.metadata.entry(instance_id.to_string()).or_default();
                memory.tokens.retain(|_, expires| *expires > now);
                memory.tokens.insert(token.clone(), now + Duration::seconds(ttl));
                MetadataResponse::text(token)
            }
            _ => MetadataResponse::page(400, "Bad Request"),
        };
    }
    match header("x-aws-ec2-metadata-token") {
        Some(token) => {
            let live = world
                .metadata
                .get(instance_id)
                .and_then(|m| m.tokens.get(token))
                .is_some_and(|expires| *expires > now);
            if !live {
                return MetadataResponse::unauthorized();
            }
        }
        None if options.http_tokens == HttpTokens::Required => return MetadataResponse::unauthorized(),
        None => {}
    }
    if method != "GET" {
        return MetadataResponse::not_found();
    }
    get(world, now, &here, path).unwrap_or_else(MetadataResponse::not_found)
}

fn get(world: &mut World, now: DateTime<Utc>, here: &Located, path: &str) -> Option<MetadataResponse> {
    let instance = &here.instance;
    let text = |s: &str| Some(MetadataResponse::text(s));
    if path == "/latest/dynamic/instance-identity/document" {
        return Some(MetadataResponse::text(identity_document(here)));
    }
    let leaf = path.strip_prefix("/latest/meta-data")?;
    match leaf {
        "" | "/" => {
            let mut entries = vec![
                "ami-id",
                "ami-launch-index",
                "hostname",
                "instance-id",
                "instance-type",
                "local-hostname",
                "local-ipv4",
                "placement/",
            ];
            if instance.iam_instance_profile.is_some() {
                entries.insert(3, "iam/");
            }
            if tags_enabled(instance) {
                entries.push("tags/");
            }
            text(&entries.join("\n"))
        }
        "/ami-id" => text(&instance.image_id),
        "/ami-launch-index" => text(&instance.ami_launch_index.to_string()),
        "/instance-id" => text(&instance.id),
        "/instance-type" => text(&instance.instance_type),
        "/local-ipv4" => text(&instance.private_ip_address),
        "/hostname" | "/local-hostname" => text(&instance.private_dns_name(&here.region)),
        "/placement" | "/placement/" => text("availability-zone\nregion"),
        "/placement/availability-zone" => text(&instance.availability_zone),
        "/placement/region" => text(&here.region),
        "/iam" | "/iam/" => instance.iam_instance_profile.as_ref().and_then(|_| text("info\nsecurity-credentials/")),
        "/iam/info" => iam_info(world, here),
        "/iam/security-credentials" | "/iam/security-credentials/" => role_of(world, here).map(MetadataResponse::text),
        "/tags" | "/tags/" if tags_enabled(instance) => text("instance"),
        "/tags/instance" | "/tags/instance/" if tags_enabled(instance) => {
            text(&instance.tags.iter().map(|t| t.key.as_str()).collect::<Vec<_>>().join("\n"))
        }
        _ => {
            if let Some(key) = leaf.strip_prefix("/tags/instance/").filter(|_| tags_enabled(instance)) {
                return instance.tags.iter().find(|t| t.key == key).and_then(|t| text(&t.value));
            }
            let role = leaf.strip_prefix("/iam/security-credentials/")?;
            credentials(world, now, here, role)
        }
    }
}

fn tags_enabled(instance: &Instance) -> bool {
    instance.metadata_options.applied().instance_metadata_tags.is_enabled()
}

/// The instance profile associated with the instance and the name of its role, if it has both.
/// The profile is found by its ARN in the instance's account; a deleted profile has no role.
fn profile_and_role(world: &World, here: &Located) -> Option<(crate::state::iam::InstanceProfile, Option<String>)> {
    let association = here.instance.iam_instance_profile.as_ref()?;
    let iam = &world.account(&here.account)?.iam;
    let profile = iam.instance_profiles.values().find(|p| p.arn == association.arn)?;
    let role = iam.roles_of(profile).first().map(|r| r.name.clone());
    Some((profile.clone(), role))
}

fn role_of(world: &World, here: &Located) -> Option<String> {
    profile_and_role(world, here)?.1
}

fn iam_info(world: &World, here: &Located) -> Option<MetadataResponse> {
    let (profile, _) = profile_and_role(world, here)?;
    // When no credentials were served yet, the association's start (the launch) is shown.
    let updated = world
        .metadata
        .get(&here.instance.id)
        .and_then(|m| m.credentials.as_ref())
        .map_or(here.instance.launch_time, |c| c.last_updated);
    Some(MetadataResponse::text(document(&[
        ("Code", Some("Success".to_string())),
        ("LastUpdated", Some(timestamp(updated))),
        ("InstanceProfileArn", Some(profile.arn)),
        ("InstanceProfileId", Some(profile.id)),
    ])))
}

/// The credentials of the instance's role. A role that is not the profile's is not found; when
/// EC2 cannot assume the role (its trust policy does not allow `ec2.amazonaws.com`) there are no
/// credentials to serve, and the role's path answers 404 as well (chosen: AWS's exact answer in
/// that case is unconfirmed; SDKs treat both as "no credentials"). The refused decision is in the
/// authorization log.
fn credentials(world: &mut World, now: DateTime<Utc>, here: &Located, role: &str) -> Option<MetadataResponse> {
    let current_role = role_of(world, here)?;
    if role != current_role {
        return None;
    }
    let instance_id = here.instance.id.clone();
    let reusable = world
        .metadata
        .get(&instance_id)
        .and_then(|m| m.credentials.clone())
        .filter(|c| c.role_name == role && now < c.expires - Duration::minutes(ROTATE_BEFORE_EXPIRY_MINUTES))
        .filter(|c| world.access_keys.contains_key(&c.access_key_id));
    let served = match reusable {
        Some(served) => served,
        None => {
            let minted = sts::instance_role_session(world, now, &here.region, &here.account, role, &instance_id).ok()?;
            let served = InstanceCredentials {
                role_name: role.to_string(),
                access_key_id: minted.access_key_id,
                last_updated: now,
                expires: minted.expires,
            };
            let memory: &mut InstanceMetadata = world.metadata.entry(instance_id).or_default();
            memory.credentials = Some(served.clone());
            served
        }
    };
    let key = world.access_keys.get(&served.access_key_id)?;
    let crate::state::KeyOwner::Session(session) = &key.owner else { return None };
    Some(MetadataResponse::text(document(&[
        ("Code", Some("Success".to_string())),
        ("LastUpdated", Some(timestamp(served.last_updated))),
        ("Type", Some("AWS-HMAC".to_string())),
        ("AccessKeyId", Some(served.access_key_id.clone())),
        ("SecretAccessKey", Some(key.secret.clone())),
        ("Token", Some(session.session_token.clone())),
        ("Expiration", Some(timestamp(served.expires))),
    ])))
}

/// The instance identity document, with AWS's fields (null where EC2 has nothing to say).
fn identity_document(here: &Located) -> String {
    let instance = &here.instance;
    document(&[
        ("accountId", Some(here.account.clone())),
        ("architecture", Some(instance.architecture.clone())),
        ("availabilityZone", Some(instance.availability_zone.clone())),
        ("billingProducts", None),
        ("devpayProductCodes", None),
        ("marketplaceProductCodes", None),
        ("imageId", Some(instance.image_id.clone())),
        ("instanceId", Some(instance.id.clone())),
        ("instanceType", Some(instance.instance_type.clone())),
        ("kernelId", None),
        ("pendingTime", Some(timestamp(instance.launch_time))),
        ("privateIp", Some(instance.private_ip_address.clone())),
        ("ramdiskId", None),
        ("region", Some(here.region.clone())),
        ("version", Some("2017-09-30".to_string())),
    ])
}

/// A JSON object laid out as IMDS lays out its documents: one member a line, `"key" : value`.
fn document(members: &[(&str, Option<String>)]) -> String {
    let lines: Vec<String> = members
        .iter()
        .map(|(key, value)| {
            let value = value.as_ref().map_or_else(|| "null".to_string(), |v| serde_json::Value::from(v.as_str()).to_string());
            format!("  \"{key}\" : {value}")
        })
        .collect();
    format!("{{\n{}\n}}", lines.join(",\n"))
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn find_instance(world: &World, instance_id: &str) -> Option<Located> {
    world.accounts.values().find_map(|account| {
        account.regions.iter().find_map(|(region, regional)| {
            regional.ec2.instances.get(instance_id).map(|instance| Located {
                account: account.id.clone(),
                region: region.clone(),
                instance: instance.clone(),
            })
        })
    })
}

#[cfg(test)]
mod tests;
