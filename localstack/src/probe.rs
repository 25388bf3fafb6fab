//! Which emulator answers at an endpoint: LocalStack (its `/_localstack/health` page), moto's
//! server (its `/moto-api/config`), or something else. The harness needs to know, because each
//! maps accounts differently and each scenario declares what it expects from each.

use std::time::Duration;

use crate::http;

const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flavour {
    /// LocalStack, with the version and edition its health page reports.
    Localstack { version: String, edition: String },
    /// moto in server mode.
    Moto,
    /// Answers HTTP, but is neither (real AWS behind a proxy, another emulator).
    Other,
}

impl Flavour {
    pub fn name(&self) -> &'static str {
        match self {
            Flavour::Localstack { .. } => "localstack",
            Flavour::Moto => "moto",
            Flavour::Other => "endpoint",
        }
    }
}

/// Asks the endpoint what it is. An endpoint that does not answer HTTP at all is an error;
/// an `https://` endpoint cannot be probed and is [`Flavour::Other`].
pub async fn identify(endpoint_url: &str) -> std::io::Result<Flavour> {
    if http::authority(endpoint_url).is_none() {
        return Ok(Flavour::Other);
    }
    let health = http::get(endpoint_url, "/_localstack/health", PROBE_TIMEOUT).await?;
    if let Some(flavour) = localstack_health(&health) {
        return Ok(flavour);
    }
    let moto = http::get(endpoint_url, "/moto-api/config", PROBE_TIMEOUT).await?;
    if is_moto_config(&moto) {
        return Ok(Flavour::Moto);
    }
    Ok(Flavour::Other)
}

/// LocalStack's health page: `{"services": {...}, "edition": "...", "version": "..."}`.
pub fn localstack_health(answer: &http::Answer) -> Option<Flavour> {
    if answer.status != 200 {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(&answer.body).ok()?;
    value.get("services")?.as_object()?;
    let text = |key: &str| {
        value
            .get(key)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("unknown")
            .to_string()
    };
    Some(Flavour::Localstack {
        version: text("version"),
        edition: text("edition"),
    })
}

/// moto's configuration page: a JSON object such as `{"batch": {...}, "lambda": {...}}`.
pub fn is_moto_config(answer: &http::Answer) -> bool {
    // moto answers 201 to this GET (its handler serves POST too)
    (200..300).contains(&answer.status)
        && serde_json::from_str::<serde_json::Value>(&answer.body)
            .map(|value| value.get("lambda").is_some() || value.get("batch").is_some())
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> http::Answer {
        http::Answer {
            status,
            body: body.to_string(),
        }
    }

    #[test]
    fn localstack_is_known_by_its_health_page() {
        let page =
            r#"{"services": {"ec2": "available"}, "edition": "community", "version": "2026.3.0"}"#;
        assert_eq!(
            localstack_health(&answer(200, page)),
            Some(Flavour::Localstack {
                version: "2026.3.0".into(),
                edition: "community".into()
            })
        );
        assert_eq!(localstack_health(&answer(404, page)), None);
        assert_eq!(localstack_health(&answer(200, "<html>")), None);
        assert_eq!(localstack_health(&answer(200, r#"{"status": "ok"}"#)), None);
    }

    #[test]
    fn moto_is_known_by_its_config_page() {
        assert!(is_moto_config(&answer(
            200,
            r#"{"batch": {"use_docker": true}, "lambda": {"use_docker": true}}"#
        )));
        assert!(is_moto_config(&answer(
            201,
            r#"{"batch": {}, "lambda": {}}"#
        )));
        assert!(!is_moto_config(&answer(404, "")));
        assert!(!is_moto_config(&answer(200, r#"{"other": 1}"#)));
    }

    #[test]
    fn flavour_names_are_the_backend_names() {
        assert_eq!(Flavour::Moto.name(), "moto");
        assert_eq!(Flavour::Other.name(), "endpoint");
    }
}
