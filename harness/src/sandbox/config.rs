//! `wana.toml`: where the sandbox backend acts, as whom, and which accounts it may touch.
//!
//! ```toml
//! region = "eu-west-1"
//! allowed_account_ids = ["123456789012", "210987654321"]
//! allowed_aliases = []            # aliases containing "prod" are refused unless listed here
//!
//! [accounts.a]
//! profile = "wana-sandbox-a"      # a named profile of ~/.aws/config; none: the default chain
//! [accounts.b]
//! profile = "wana-sandbox-b"
//! ```
//!
//! Optional: `endpoint_url` (the SDK's endpoint setting, for an emulator standing in for AWS),
//! `time_scale` (only with `endpoint_url`: divides the harness's waits, for an emulator served
//! with the same `--latency-scale`), `runs_dir` (where run ledgers go, relative to this file;
//! default `<target>/wana/runs`), `allow_unlisted_region` (accept a region wana does not know).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::Deserialize;

use super::SandboxError;

/// The file name looked for at the workspace root.
pub const CONFIG_FILE: &str = "wana.toml";

/// AWS's public Regions as of 2025 (commercial, China, GovCloud). A Region outside this list is
/// refused as a probable typo unless `allow_unlisted_region = true`.
pub const KNOWN_REGIONS: &[&str] = &[
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-east-2",
    "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
    "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ap-northeast-1",
    "ap-northeast-2", "ap-northeast-3", "ca-central-1", "ca-west-1", "eu-central-1",
    "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2",
    "eu-north-1", "il-central-1", "me-south-1", "me-central-1", "mx-central-1", "sa-east-1",
    "cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    region: Option<String>,
    #[serde(default)]
    accounts: BTreeMap<String, AccountConfig>,
    #[serde(default)]
    allowed_account_ids: Vec<String>,
    #[serde(default)]
    allowed_aliases: Vec<String>,
    endpoint_url: Option<String>,
    time_scale: Option<u32>,
    runs_dir: Option<PathBuf>,
    #[serde(default)]
    allow_unlisted_region: bool,
}

/// One logical account (`a`, `b`, ...) of the scenarios.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// A named profile of the shared AWS config files; `None`: the SDK's default chain
    /// (environment, default profile, web identity, container, instance metadata).
    pub profile: Option<String>,
}

/// A checked `wana.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxConfig {
    /// The file it was read from.
    pub path: PathBuf,
    pub region: String,
    pub accounts: BTreeMap<String, AccountConfig>,
    pub allowed_account_ids: Vec<String>,
    pub allowed_aliases: Vec<String>,
    pub endpoint_url: Option<String>,
    /// 1 unless an emulator stands in for AWS (see the module documentation).
    pub time_scale: u32,
    pub runs_dir: PathBuf,
}

impl SandboxConfig {
    /// Reads `path`, or `wana.toml` at the workspace root.
    pub fn load(path: Option<&Path>) -> Result<SandboxConfig, SandboxError> {
        let path = match path {
            Some(path) => path.to_path_buf(),
            None => crate::aws_cli::workspace_root().join(CONFIG_FILE),
        };
        let text = std::fs::read_to_string(&path).map_err(|err| {
            let hint = if err.kind() == std::io::ErrorKind::NotFound {
                " (copy wana.example.toml to wana.toml at the workspace root and fill it in, or \
                 pass --config)"
            } else {
                ""
            };
            SandboxError::Config { path: path.clone(), message: format!("cannot read it: {err}{hint}") }
        })?;
        SandboxConfig::parse(&text, &path)
    }

    /// Parses and checks the text of a config file found at `path`.
    pub fn parse(text: &str, path: &Path) -> Result<SandboxConfig, SandboxError> {
        let bad = |message: String| SandboxError::Config { path: path.to_path_buf(), message };
        let raw: RawConfig = toml::from_str(text).map_err(|err| bad(err.message().to_string()))?;
        let region = raw.region.filter(|r| !r.trim().is_empty()).ok_or_else(|| bad("`region` is missing".into()))?;
        if !raw.allow_unlisted_region && !KNOWN_REGIONS.contains(&region.as_str()) {
            return Err(bad(format!(
                "unknown region {region:?}{}; if AWS opened it after this list was written, set \
                 `allow_unlisted_region = true`",
                closest_region(&region).map(|r| format!(" (did you mean {r:?}?)")).unwrap_or_default()
            )));
        }
        if raw.accounts.is_empty() {
            return Err(bad("no `[accounts.<name>]` table: name the profile of each logical account (a, b, ...)".into()));
        }
        for name in raw.accounts.keys() {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
                return Err(bad(format!("account name {name:?}: use the scenarios' names (a, b, c)")));
            }
        }
        if raw.allowed_account_ids.is_empty() {
            return Err(bad(
                "`allowed_account_ids` is empty: list the sandbox accounts wana may act in (nothing else is touched)".into(),
            ));
        }
        for id in &raw.allowed_account_ids {
            if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(format!("`allowed_account_ids`: {id:?} is not a 12-digit account id")));
            }
        }
        let time_scale = raw.time_scale.unwrap_or(1).max(1);
        if time_scale > 1 && raw.endpoint_url.is_none() {
            return Err(bad("`time_scale` shortens waits and is only for an emulator at `endpoint_url`".into()));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let runs_dir = match raw.runs_dir {
            Some(dir) if dir.is_absolute() => dir,
            Some(dir) => base.join(dir),
            None => default_runs_dir(),
        };
        Ok(SandboxConfig {
            path: path.to_path_buf(),
            region,
            accounts: raw.accounts,
            allowed_account_ids: raw.allowed_account_ids,
            allowed_aliases: raw.allowed_aliases,
            endpoint_url: raw.endpoint_url,
            time_scale,
            runs_dir,
        })
    }

    /// The profile of a logical account, or why there is none.
    pub fn account(&self, name: &str) -> Result<&AccountConfig, SandboxError> {
        self.accounts.get(name).ok_or_else(|| SandboxError::MissingAccount {
            name: name.to_string(),
            path: self.path.clone(),
        })
    }
}

/// `<target>/wana/runs`: `CARGO_TARGET_DIR` when set, else the workspace's `target`.
pub fn default_runs_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::aws_cli::workspace_root().join("target"));
    target.join("wana").join("runs")
}

/// The known region nearest to a typo (by edit distance), if one is close.
fn closest_region(region: &str) -> Option<&'static str> {
    KNOWN_REGIONS
        .iter()
        .map(|known| (edit_distance(region, known), *known))
        .filter(|(distance, _)| *distance <= 3)
        .min()
        .map(|(_, known)| known)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb)).min(row[j] + 1).min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
region = "eu-west-1"
allowed_account_ids = ["111111111111", "222222222222"]
allowed_aliases = ["acme-prod-sandbox"]
runs_dir = "runs"

[accounts.a]
profile = "sandbox-a"
[accounts.b]
"#;

    fn parse(text: &str) -> Result<SandboxConfig, SandboxError> {
        SandboxConfig::parse(text, Path::new("/etc/wana/wana.toml"))
    }

    fn error(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn a_good_file_names_the_profiles_and_resolves_the_runs_dir_next_to_it() {
        let config = parse(GOOD).unwrap();
        assert_eq!(config.region, "eu-west-1");
        assert_eq!(config.account("a").unwrap().profile.as_deref(), Some("sandbox-a"));
        assert_eq!(config.account("b").unwrap().profile, None, "b uses the default chain");
        assert_eq!(config.runs_dir, Path::new("/etc/wana/runs"));
        assert_eq!(config.time_scale, 1);
        let missing = config.account("c").unwrap_err().to_string();
        assert!(missing.contains("account c") && missing.contains("/etc/wana/wana.toml"), "{missing}");
    }

    #[test]
    fn a_region_typo_is_refused_with_the_region_meant() {
        let text = GOOD.replace("eu-west-1", "us-esat-1");
        let message = error(&text);
        assert!(message.contains("unknown region \"us-esat-1\" (did you mean \"us-east-1\"?)"), "{message}");
        let allowed = format!("allow_unlisted_region = true\n{text}");
        assert_eq!(parse(&allowed).unwrap().region, "us-esat-1");
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        assert!(error("region = \"us-east-1\"\nallowed_account_ids = [\"111111111111\"]").contains("[accounts.<name>]"));
        assert!(error(&GOOD.replace("\"111111111111\", \"222222222222\"", "")).contains("`allowed_account_ids` is empty"));
        assert!(error(&GOOD.replace("111111111111", "1111")).contains("\"1111\" is not a 12-digit account id"));
        assert!(error(&format!("{GOOD}\n[accounts.B]\n")).contains("account name \"B\""));
        assert!(error(&GOOD.replace("region = \"eu-west-1\"", "")).contains("`region` is missing"));
        assert!(error(&format!("regoin = 1\n{GOOD}")).contains("unknown field `regoin`"));
        assert!(error(&format!("time_scale = 10\n{GOOD}")).contains("only for an emulator"));
        let scaled = parse(&format!("time_scale = 10\nendpoint_url = \"http://127.0.0.1:1\"\n{GOOD}")).unwrap();
        assert_eq!(scaled.time_scale, 10);
    }

    #[test]
    fn a_missing_file_tells_how_to_make_one() {
        let message = SandboxConfig::load(Some(Path::new("/nonexistent/wana.toml"))).unwrap_err().to_string();
        assert!(message.contains("copy wana.example.toml"), "{message}");
    }
}
