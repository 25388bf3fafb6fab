//! Redaction of identifiers and secrets in steps, reports and snapshots.
//!
//! Two levels:
//! - [`RedactionLevel::SecretsOnly`]: secret access keys and session tokens become placeholders;
//!   ids stay readable. Every report goes through at least this level, so a secret can never be
//!   printed, even when a user asks for the real ids.
//! - [`RedactionLevel::Full`]: additionally account ids, access key ids, unique ids, request ids,
//!   timestamps and resource ids, so that snapshots compare equal across runs and backends.
//!
//! Every placeholder is `<…>` with no digits or hex runs inside, so no rule matches a placeholder
//! and redacting twice gives the same text as redacting once.

use std::{borrow::Cow, sync::LazyLock};

use regex::{Captures, Regex};
use serde_json::Value;
use wana_emulator::DEFAULT_ACCOUNTS;


pub const SECRET: &str = "<secret>";
pub const SESSION_TOKEN: &str = "<session-token>";

/// Secrets shorter than this are not replaced verbatim: replacing every occurrence of a short
/// string would mangle unrelated text, and real secrets are far longer.
const MIN_KNOWN_SECRET_LEN: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedactionLevel {
    SecretsOnly,
    Full,
}

#[derive(Debug, Clone)]
pub struct Redactor {
    level: RedactionLevel,
    /// 12-digit id → placeholder (`<account-a>`).
    accounts: Vec<(String, String)>,
    /// Exact values known to be secret, with their placeholder; longest first so a token that
    /// contains another secret is replaced whole.
    known_secrets: Vec<(String, &'static str)>,
    /// `wana-<trap>-`: what comes before a run's random suffix in resource names on shared
    /// backends (`wana-<trap>-1a2b3c4d`, see `run_id::new_run_id`); the suffix becomes `<run>`.
    run_prefixes: Vec<String>,
}

impl Redactor {
    /// Full redaction, knowing the emulator's built-in accounts and their secrets.
    pub fn full() -> Redactor {
        Redactor::new(RedactionLevel::Full)
    }

    /// Secrets only, knowing the emulator's built-in secrets.
    pub fn secrets_only() -> Redactor {
        Redactor::new(RedactionLevel::SecretsOnly)
    }

    pub fn new(level: RedactionLevel) -> Redactor {
        let mut redactor = Redactor {
            level,
            accounts: Vec::new(),
            known_secrets: Vec::new(),
            run_prefixes: Vec::new(),
        };
        for account in DEFAULT_ACCOUNTS {
            redactor.add_account(account.id, account.name);
            redactor.add_secret(account.secret_access_key);
        }
        redactor
    }

    pub fn level(&self) -> RedactionLevel {
        self.level
    }

    /// Names an account id: it becomes `<account-NAME>` instead of `<account>`.
    pub fn add_account(&mut self, id: &str, name: &str) {
        self.accounts.retain(|(known, _)| known != id);
        self.accounts
            .push((id.to_string(), format!("<account-{name}>")));
    }

    /// A secret access key (or any other secret value) to replace wherever it appears.
    pub fn add_secret(&mut self, secret: &str) {
        self.add_known(secret, SECRET);
    }

    /// A session token to replace wherever it appears.
    pub fn add_session_token(&mut self, token: &str) {
        self.add_known(token, SESSION_TOKEN);
    }

    fn add_known(&mut self, value: &str, placeholder: &'static str) {
        if value.len() < MIN_KNOWN_SECRET_LEN || self.known_secrets.iter().any(|(v, _)| v == value)
        {
            return;
        }
        self.known_secrets.push((value.to_string(), placeholder));
        self.known_secrets
            .sort_by(|(a, _), (b, _)| b.len().cmp(&a.len()).then(a.cmp(b)));
    }

    /// Makes the run ids of `trap`'s runs stable under full redaction: `wana-<trap>-<run>`.
    pub fn add_trap(&mut self, trap: &str) {
        let prefix = format!("wana-{trap}-");
        if !self.run_prefixes.contains(&prefix) {
            self.run_prefixes.push(prefix);
        }
    }

    pub fn redact_text(&self, text: &str) -> String {
        self.redact_text_as(text, REQUEST_ID)
    }

    /// Redacts `text`; UUIDs become `uuid_placeholder` (a KMS key id is a UUID too, and calling
    /// it a request id would mislead).
    fn redact_text_as(&self, text: &str, uuid_placeholder: &str) -> String {
        let mut out = text.to_string();
        for (secret, placeholder) in &self.known_secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), placeholder);
            }
        }
        for (pattern, replacement) in SECRET_PATTERNS.iter() {
            out = replace(&out, pattern, replacement.as_str());
        }
        if self.level == RedactionLevel::SecretsOnly {
            return out;
        }

        for prefix in &self.run_prefixes {
            out = stable_run_ids(&out, prefix);
        }
        out = replace(&out, &ACCESS_KEY_ID, "<access-key-id>");
        out = replace(&out, &UNIQUE_ID, "<unique-id>");
        out = replace(&out, &KMS_KEY_IN_ARN, "${1}<key-id>");
        out = replace(&out, &MULTI_REGION_KEY_ID, "<key-id>");
        out = replace(&out, &UUID, uuid_placeholder);
        out = replace(&out, &TIMESTAMP, "<timestamp>");
        out = EC2_ID
            .replace_all(&out, |caps: &Captures<'_>| {
                ec2_placeholder(&caps[1]).to_string()
            })
            .into_owned();
        ACCOUNT_ID
            .replace_all(&out, |caps: &Captures<'_>| {
                self.accounts
                    .iter()
                    .find(|(id, _)| id == &caps[0])
                    .map_or("<account>", |(_, placeholder)| placeholder.as_str())
                    .to_string()
            })
            .into_owned()
    }

    /// Redacts a JSON value recursively. Object keys are field names and are left as they are;
    /// they decide how a string value is treated (a `SecretAccessKey` is secret whatever it
    /// looks like).
    pub fn redact_json(&self, value: &Value) -> Value {
        self.redact_json_field(None, value)
    }

    fn redact_json_field(&self, field: Option<&str>, value: &Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.redact_field(field, text)),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.redact_json_field(field, item))
                    .collect(),
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, item)| (key.clone(), self.redact_json_field(Some(key), item)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn redact_field(&self, field: Option<&str>, text: &str) -> String {
        let normalized = field.map(normalize_field_name).unwrap_or_default();
        let is_placeholder = text.starts_with('<') && text.ends_with('>');
        match normalized.as_str() {
            "secretaccesskey" | "awssecretaccesskey" | "secretkey" => SECRET.to_string(),
            "sessiontoken" | "awssessiontoken" | "securitytoken" | "token" => {
                SESSION_TOKEN.to_string()
            }
            _ if self.level == RedactionLevel::SecretsOnly => self.redact_text(text),
            // Grant ids are 64 hex characters and tokens are opaque: no shape to match on.
            "grantid" if !is_placeholder => "<grant-id>".to_string(),
            "granttoken" if !is_placeholder => "<grant-token>".to_string(),
            "keyid" | "targetkeyid" => self.redact_text_as(text, "<key-id>"),
            "commandid" => self.redact_text_as(text, "<command-id>"),
            _ => self.redact_text(text),
        }
    }
}

fn normalize_field_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn replace(text: &str, pattern: &Regex, replacement: &str) -> String {
    match pattern.replace_all(text, replacement) {
        Cow::Borrowed(_) => text.to_string(),
        Cow::Owned(changed) => changed,
    }
}

const REQUEST_ID: &str = "<request-id>";

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("redaction patterns are valid")
}

/// Secrets recognised by shape or by the field they follow in free text (CLI output, env dumps,
/// XML/JSON bodies kept as text).
static SECRET_PATTERNS: LazyLock<Vec<(Regex, String)>> = LazyLock::new(|| {
    vec![
        // STS session tokens start with a fixed base64 prefix (`IQoJb3JpZ2lu…` today, `FwoG…` and
        // `FQoG…` in older tokens); the emulator's tokens keep the `IQoJ` prefix.
        (
            regex(r"\b(?:IQoJ|FwoG|FQoG)[A-Za-z0-9/+=]{20,}"),
            SESSION_TOKEN.to_string(),
        ),
        (
            regex(
                r#"(?i)(\b(?:aws_?)?secret_?access_?key["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{16,}"#,
            ),
            format!("${{1}}{SECRET}"),
        ),
        (
            regex(
                r#"(?i)(\b(?:aws_?)?(?:session|security)_?token["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{16,}"#,
            ),
            format!("${{1}}{SESSION_TOKEN}"),
        ),
        (
            regex(r"(<SecretAccessKey>)[^<]+(</SecretAccessKey>)"),
            format!("${{1}}{SECRET}${{2}}"),
        ),
        (
            regex(r"(<SessionToken>)[^<]+(</SessionToken>)"),
            format!("${{1}}{SESSION_TOKEN}${{2}}"),
        ),
    ]
});

// LocalStack's own keys start LKIA (long-term) and LSIA (temporary).
static ACCESS_KEY_ID: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(?:AKIA|ASIA|LKIA|LSIA)[A-Z0-9]{16}\b"));

/// IAM unique ids (reference_identifiers.html prefix table): user, role, instance profile,
/// managed policy, managed policy version, group, public key, bearer token, context credential,
/// certificate.
static UNIQUE_ID: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\b(?:AIDA|AROA|AIPA|ANPA|ANVA|AGPA|APKA|ABIA|ACCA|ASCA)[A-Z0-9]{17}\b")
});

static KMS_KEY_IN_ARN: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(:key/)[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
});

static MULTI_REGION_KEY_ID: LazyLock<Regex> = LazyLock::new(|| regex(r"\bmrk-[0-9a-f]{32}\b"));

static UUID: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
});

static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
});

/// EC2 resource ids: a short prefix and 8 or 17 hexadecimal digits.
static EC2_ID: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\b(i|ami|vol|snap|sg|subnet|vpc|eni|lt|r|igw|rtb|acl|eipalloc)-[0-9a-f]{8,17}\b")
});

fn ec2_placeholder(prefix: &str) -> &'static str {
    match prefix {
        "i" => "<instance-id>",
        "ami" => "<image-id>",
        "vol" => "<volume-id>",
        "snap" => "<snapshot-id>",
        "sg" => "<security-group-id>",
        "subnet" => "<subnet-id>",
        "vpc" => "<vpc-id>",
        "eni" => "<network-interface-id>",
        "lt" => "<launch-template-id>",
        "r" => "<reservation-id>",
        "igw" => "<internet-gateway-id>",
        "rtb" => "<route-table-id>",
        "acl" => "<network-acl-id>",
        "eipalloc" => "<allocation-id>",
        _ => "<resource-id>",
    }
}

static ACCOUNT_ID: LazyLock<Regex> = LazyLock::new(|| regex(r"\b\d{12}\b"));

/// `<prefix><8 lowercase letters or digits>` (then the end or anything else) becomes
/// `<prefix><run>`.
fn stable_run_ids(text: &str, prefix: &str) -> String {
    const SUFFIX: usize = 8;
    let is_id_char = |b: u8| b.is_ascii_digit() || b.is_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let (before, after) = rest.split_at(at + prefix.len());
        out.push_str(before);
        let bytes = after.as_bytes();
        let is_run_id = bytes.len() >= SUFFIX
            && bytes[..SUFFIX].iter().all(|&b| is_id_char(b))
            && bytes.get(SUFFIX).is_none_or(|&b| !is_id_char(b));
        if is_run_id {
            out.push_str("<run>");
            rest = &after[SUFFIX..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use rstest::rstest;
    use serde_json::json;

    use super::*;

    #[test]
    fn a_runs_random_suffix_becomes_run_under_full_redaction_only() {
        let text = "alias/wana-t-tpaus52u and role/wana-t-tpaus52u-operator, wana-t-zz, wana-t-abcdefghi";
        let mut full = Redactor::full();
        full.add_trap("t");
        assert_eq!(
            full.redact_text(text),
            "alias/wana-t-<run> and role/wana-t-<run>-operator, wana-t-zz, wana-t-abcdefghi"
        );
        assert_eq!(full.redact_text(&full.redact_text(text)), full.redact_text(text));
        let mut secrets_only = Redactor::secrets_only();
        secrets_only.add_trap("t");
        assert_eq!(secrets_only.redact_text(text), text);
    }

    #[rstest]
    #[case::built_in_account_in_an_arn(
        "arn:aws:iam::111111111111:user/admin",
        "arn:aws:iam::<account-a>:user/admin"
    )]
    #[case::other_built_in_accounts("222222222222 and 333333333333", "<account-b> and <account-c>")]
    #[case::unknown_account("arn:aws:iam::123456789012:root", "arn:aws:iam::<account>:root")]
    #[case::long_term_key("key AKIAWANAADMINA000001 used", "key <access-key-id> used")]
    #[case::temporary_key("ASIAWANAAAAAAAAAAAAB", "<access-key-id>")]
    #[case::localstack_key("LKIARTXV5AHDVZMGIJFE", "<access-key-id>")]
    #[case::user_and_role_ids(
        "AIDAWANAAAAAAAAAAAAAB / AROAWANAAAAAAAAAAAAAC",
        "<unique-id> / <unique-id>"
    )]
    #[case::profile_and_policy_ids(
        "AIPAWANAAAAAAAAAAAAAB ANPAWANAAAAAAAAAAAAAC",
        "<unique-id> <unique-id>"
    )]
    #[case::request_id(
        "RequestId: 00000000-0000-4000-8000-00000000002a",
        "RequestId: <request-id>"
    )]
    #[case::kms_key_arn(
        "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms:us-east-1:<account-a>:key/<key-id>"
    )]
    #[case::timestamp_utc("at 2024-05-01T12:34:56Z", "at <timestamp>")]
    #[case::timestamp_fraction_offset("2016-08-17T09:00:00.123+09:00 ok", "<timestamp> ok")]
    #[case::instance_ids(
        "i-0123456789abcdef0 and i-1a2b3c4d",
        "<instance-id> and <instance-id>"
    )]
    #[case::ec2_resources(
        "ami-374db956 vol-00000000000000001 snap-0123456789abcdef0",
        "<image-id> <volume-id> <snapshot-id>"
    )]
    #[case::session_token_by_prefix(
        "token IQoJwanaSessionTokenAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
        "token <session-token>"
    )]
    #[case::secret_in_env_dump(
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_SECRET_ACCESS_KEY=<secret>"
    )]
    #[case::secret_in_credentials_file(
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws_secret_access_key = <secret>"
    )]
    #[case::secret_in_xml(
        "<SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey>",
        "<SecretAccessKey><secret></SecretAccessKey>"
    )]
    #[case::token_in_json_text(
        r#"{"SessionToken": "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW"}"#,
        r#"{"SessionToken": "<session-token>"}"#
    )]
    #[case::built_in_secret_anywhere(
        "echo wanaAdminSecretForAccountB00000000000002",
        "echo <secret>"
    )]
    #[case::exact_aws_error_text_is_kept(
        "The security token included in the request is invalid.",
        "The security token included in the request is invalid."
    )]
    #[case::thirteen_digit_epoch_millis_are_not_accounts("1700000000000", "1700000000000")]
    fn full_redaction(#[case] input: &str, #[case] expected: &str) {
        let redactor = Redactor::full();
        let once = redactor.redact_text(input);
        assert_eq!(once, expected);
        assert_eq!(
            redactor.redact_text(&once),
            once,
            "redaction must be idempotent"
        );
    }

    #[rstest]
    #[case::ids_stay_readable(
        "arn:aws:iam::111111111111:user/admin AKIAWANAADMINA000001 i-0123456789abcdef0",
        "arn:aws:iam::111111111111:user/admin AKIAWANAADMINA000001 i-0123456789abcdef0"
    )]
    #[case::secrets_still_go(
        "AWS_SECRET_ACCESS_KEY=wanaAdminSecretForAccountA00000000000001 AWS_SESSION_TOKEN=FwoGZXIvYXdzEXAMPLEEXAMPLEEXAMPLE",
        "AWS_SECRET_ACCESS_KEY=<secret> AWS_SESSION_TOKEN=<session-token>"
    )]
    fn secrets_only_redaction(#[case] input: &str, #[case] expected: &str) {
        let redactor = Redactor::secrets_only();
        assert_eq!(redactor.redact_text(input), expected);
    }

    #[test]
    fn json_secrets_are_found_by_field_name_whatever_their_shape() {
        let credentials = json!({
            "Credentials": {
                "AccessKeyId": "ASIAWANAAAAAAAAAAAAB",
                "SecretAccessKey": "short",
                "SessionToken": "opaque-token-without-a-known-prefix",
                "Expiration": "2030-01-01T00:00:00Z"
            },
            "Token": "x"
        });
        for redactor in [Redactor::secrets_only(), Redactor::full()] {
            let redacted = redactor.redact_json(&credentials);
            assert_eq!(
                redacted["Credentials"]["SecretAccessKey"],
                json!("<secret>")
            );
            assert_eq!(
                redacted["Credentials"]["SessionToken"],
                json!("<session-token>")
            );
            assert_eq!(redacted["Token"], json!("<session-token>"));
        }
        let full = Redactor::full().redact_json(&credentials);
        assert_eq!(full["Credentials"]["AccessKeyId"], json!("<access-key-id>"));
        assert_eq!(full["Credentials"]["Expiration"], json!("<timestamp>"));
    }

    #[test]
    fn json_id_fields_get_the_placeholder_of_their_kind() {
        let detail = json!({
            "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
            "CommandId": "0b1c2d3e-1111-2222-3333-444455556666",
            "GrantId": "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60",
            "Instances": [{ "InstanceId": "i-0123456789abcdef0", "State": "stopped" }],
            "Count": 111111111111u64
        });
        let redactor = Redactor::full();
        let redacted = redactor.redact_json(&detail);
        assert_eq!(
            redacted,
            json!({
                "KeyId": "<key-id>",
                "CommandId": "<command-id>",
                "GrantId": "<grant-id>",
                "Instances": [{ "InstanceId": "<instance-id>", "State": "stopped" }],
                "Count": 111111111111u64
            })
        );
        assert_eq!(
            redactor.redact_json(&redacted),
            redacted,
            "idempotent on JSON too"
        );
    }

    #[test]
    fn registered_secrets_are_replaced_verbatim_and_short_ones_ignored() {
        let mut redactor = Redactor::secrets_only();
        redactor.add_secret("plainSecretWithoutAnyShape");
        redactor.add_session_token("opaqueSessionTokenValue");
        redactor.add_secret("ab");
        assert_eq!(
            redactor.redact_text("x plainSecretWithoutAnyShape y opaqueSessionTokenValue about"),
            "x <secret> y <session-token> about"
        );
    }

    #[test]
    fn named_accounts_beyond_the_built_in_ones() {
        let mut redactor = Redactor::full();
        redactor.add_account("444455556666", "sandbox");
        assert_eq!(redactor.redact_text("444455556666"), "<account-sandbox>");
    }
}
