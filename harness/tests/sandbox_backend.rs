//! The sandbox backend pointed at an in-process emulator through the SDK's endpoint setting: the
//! real profile resolution (aws-config, named profiles), the guards, the ledger and teardown,
//! without an AWS account.

use std::{path::Path, sync::Mutex, time::Duration};

use serde_json::{json, Value};
use wana_emulator::{Emulator, EmulatorConfig};
use wana_harness::{
    run_scenario_on,
    sandbox::{self, ledger, GuardFailure, ProfileFileKind, ProfileFiles, SandboxConfig, SandboxError},
    Backend, BackendKind, BehaviourProfile, CliCredentials, HarnessError, ResourceKind, RunContext, Scenario,
    ScenarioFuture, Verdict,
};

const A: (&str, &str) = ("AKIAWANAADMINA000001", "wanaAdminSecretForAccountA00000000000001");
const B: (&str, &str) = ("AKIAWANAADMINB000002", "wanaAdminSecretForAccountB00000000000002");

struct Fixture {
    emulator: Emulator,
    dir: tempfile::TempDir,
}

impl Fixture {
    async fn start() -> Fixture {
        let emulator = Emulator::start(EmulatorConfig::default()).await.expect("the emulator starts");
        Fixture { emulator, dir: tempfile::tempdir().unwrap() }
    }

    /// The shared credentials file: `sbx-a`, `sbx-b`, `sbx-c-is-a` (account a's keys again) and
    /// whatever `extra` adds.
    fn files(&self, extra: &str) -> ProfileFiles {
        let text = format!(
            "[sbx-a]\naws_access_key_id = {}\naws_secret_access_key = {}\n\
             [sbx-b]\naws_access_key_id = {}\naws_secret_access_key = {}\n\
             [sbx-c-is-a]\naws_access_key_id = {}\naws_secret_access_key = {}\n{extra}",
            A.0, A.1, B.0, B.1, A.0, A.1
        );
        ProfileFiles::builder().with_contents(ProfileFileKind::Credentials, text).build()
    }

    fn config(&self, allowed: &[&str], aliases: &[&str], accounts: &[(&str, &str)]) -> SandboxConfig {
        let mut text = format!(
            "region = \"us-east-1\"\nendpoint_url = \"{}\"\nruns_dir = \"runs\"\nallowed_account_ids = {}\nallowed_aliases = {}\n",
            self.emulator.endpoint_url(),
            json!(allowed),
            json!(aliases)
        );
        for (name, profile) in accounts {
            text.push_str(&format!("[accounts.{name}]\nprofile = \"{profile}\"\n"));
        }
        SandboxConfig::parse(&text, &self.dir.path().join("wana.toml")).expect("the config parses")
    }

    fn runs_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("runs")
    }
}

fn guard_failures(result: Result<sandbox::Connected, SandboxError>) -> Vec<GuardFailure> {
    match result {
        Err(SandboxError::Guards(failures)) => failures,
        other => panic!("expected a refusal by the guards, got {other:?}"),
    }
}

#[tokio::test]
async fn an_account_off_the_allow_list_is_refused_before_anything_is_written() {
    let f = Fixture::start().await;
    let config = f.config(&["111111111111"], &[], &[("a", "sbx-a"), ("b", "sbx-b")]);
    let failures = guard_failures(sandbox::connect(&config, &["a", "b"], Some(&f.files(""))).await);
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(
        failures[0].to_string(),
        "account b (profile \"sbx-b\") is account 222222222222, which is not in allowed_account_ids"
    );
    assert!(!f.runs_dir().exists(), "no ledger: nothing was about to be created");
    let connected = sandbox::connect(&config, &["a"], Some(&f.files(""))).await.expect("a alone is allowed");
    assert_eq!(connected.accounts[0].identity.account_id, "111111111111");
    assert_eq!(connected.accounts[0].identity.arn, "arn:aws:iam::111111111111:user/admin");
}

#[tokio::test]
async fn an_alias_with_prod_is_refused_unless_allowed_by_name() {
    let f = Fixture::start().await;
    // The account's alias, made the way a person makes it: the AWS CLI.
    let cli = wana_harness::AwsCli::locate().expect("the AWS CLI is installed by `cargo xtask test`");
    let b = CliCredentials {
        access_key_id: B.0.into(),
        secret_access_key: B.1.into(),
        session_token: None,
        region: "us-east-1".into(),
        endpoint_url: Some(f.emulator.endpoint_url()),
    };
    let made = cli.run(&b, &["iam", "create-account-alias", "--account-alias", "acme-prod"]).await.unwrap();
    assert!(made.success(), "{}", made.stderr);
    let listed = cli.run(&b, &["iam", "list-account-aliases"]).await.unwrap();
    assert_eq!(listed.json().unwrap()["AccountAliases"], json!(["acme-prod"]));

    let ids = ["111111111111", "222222222222"];
    let refused = f.config(&ids, &[], &[("b", "sbx-b")]);
    let failures = guard_failures(sandbox::connect(&refused, &["b"], Some(&f.files(""))).await);
    assert!(matches!(&failures[..], [GuardFailure::ProdAlias { account, alias }] if account == "b" && alias == "acme-prod"), "{failures:?}");
    assert!(failures[0].to_string().contains("contains \"prod\""));

    let allowed = f.config(&ids, &["acme-prod"], &[("b", "sbx-b")]);
    let connected = sandbox::connect(&allowed, &["b"], Some(&f.files(""))).await.expect("allowed by name");
    assert!(connected.summary().contains("b: account 222222222222 (alias acme-prod) as arn:aws:iam::222222222222:user/admin"), "{}", connected.summary());
}

#[tokio::test]
async fn two_logical_accounts_that_are_one_account_are_refused_where_a_trap_needs_both() {
    let f = Fixture::start().await;
    let config = f.config(&["111111111111", "222222222222"], &[], &[("a", "sbx-a"), ("c", "sbx-c-is-a")]);
    let failures = guard_failures(sandbox::connect(&config, &["a", "c"], Some(&f.files(""))).await);
    assert_eq!(failures[0].to_string(), "accounts a and c both resolve to account 111111111111; the trap needs two different accounts");
    sandbox::connect(&config, &["c"], Some(&f.files(""))).await.expect("a trap that needs only c");
}

#[tokio::test]
async fn a_missing_profile_and_expired_credentials_are_clear_refusals() {
    let f = Fixture::start().await;
    let config = f.config(&["111111111111"], &[], &[("a", "nobody-wrote-this")]);
    let err = sandbox::connect(&config, &["a"], Some(&f.files(""))).await.unwrap_err();
    assert!(matches!(err, SandboxError::Credentials { .. }), "{err:?}");
    assert!(err.to_string().starts_with("no credentials for account a from profile \"nobody-wrote-this\": "), "{err}");

    // A role session whose hour has passed.
    let admin_config = f.config(&["111111111111"], &[], &[("a", "sbx-a")]);
    let connected = sandbox::connect(&admin_config, &["a"], Some(&f.files(""))).await.unwrap();
    let admin = connected.principal("a").unwrap();
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sts:AssumeRole"}]});
    admin.iam().create_role().role_name("short-lived").assume_role_policy_document(trust.to_string()).send().await.unwrap();
    let session = wana_harness::assume_role(admin, "arn:aws:iam::111111111111:role/short-lived", "expiring", None, "session").await.unwrap();
    let creds = session.cli_credentials();
    let expired = format!(
        "[sbx-expired]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
        creds.access_key_id,
        creds.secret_access_key,
        creds.session_token.unwrap()
    );
    f.emulator.clock().advance(Duration::from_secs(2 * 3600));
    let config = f.config(&["111111111111"], &[], &[("a", "sbx-expired")]);
    let err = sandbox::connect(&config, &["a"], Some(&f.files(&expired))).await.unwrap_err();
    assert!(matches!(err, SandboxError::Identity { .. }), "{err:?}");
    assert!(err.to_string().contains("the credentials have expired (ExpiredToken: "), "{err}");
    assert!(!err.to_string().contains(&creds.secret_access_key), "no secret in the message");
}

/// Creates a role with the run's name and tags, then fails (or, `interrupt`ed, waits).
struct Probe {
    seen: Mutex<Option<Value>>,
}

const PROBE: &str = "probe";

impl Scenario for Probe {
    fn id(&self) -> &'static str {
        "sandbox-probe"
    }

    fn expected_verdict(&self, _: BackendKind, _: BehaviourProfile) -> Verdict {
        Verdict::ReproducedAndFixed
    }

    fn run<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Verdict> {
        Box::pin(async move {
            let admin = ctx.admin("a")?;
            let name = ctx.name(PROBE);
            let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
            ctx.will_create(&admin, ResourceKind::IamRole, Some(&name))?;
            admin
                .iam()
                .create_role()
                .role_name(&name)
                .assume_role_policy_document(trust.to_string())
                .set_tags(Some(ctx.iam_tags()))
                .send()
                .await
                .map_err(|e| HarnessError::Scenario(e.to_string()))?;
            let tags = admin.iam().list_role_tags().role_name(&name).send().await.unwrap();
            let tags: serde_json::Map<String, Value> = tags.tags().iter().map(|t| (t.key().to_string(), json!(t.value()))).collect();
            *self.seen.lock().unwrap() = Some(json!({
                "name": name,
                "run_id": ctx.run_id,
                "tags": tags,
                "app_name": admin.config.app_name().map(|a| a.to_string()),
            }));
            Err(HarnessError::Scenario("the probe fails on purpose".into()))
        })
    }

    fn teardown<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, ()> {
        Box::pin(async move {
            let admin = ctx.admin("a")?;
            let name = ctx.name(PROBE);
            let result = admin.iam().delete_role().role_name(&name).send().await;
            ctx.recorder.record_sdk(&admin.label, "iam:DeleteRole", result, |_| json!({ "RoleName": name }))?;
            Ok(())
        })
    }
}

#[tokio::test]
async fn teardown_runs_after_a_failure_and_the_ledger_tells_what_was_made() {
    let f = Fixture::start().await;
    let config = f.config(&["111111111111"], &[], &[("a", "sbx-a")]);
    let connected = sandbox::connect(&config, &["a"], Some(&f.files(""))).await.unwrap();
    let admin = connected.principal("a").unwrap().clone();
    let probe = Probe { seen: Mutex::new(None) };
    let report = run_scenario_on(&probe, Backend::from_sandbox(BehaviourProfile::Current, connected)).await;

    assert_eq!(report.verdict, Verdict::Error);
    assert_eq!(report.error.as_deref(), Some("the probe fails on purpose"));
    let seen = probe.seen.lock().unwrap().clone().expect("the probe created its role");
    let run_id = seen["run_id"].as_str().unwrap().to_string();
    assert!(run_id.starts_with("wana-sandbox-probe-") && wana_harness::resources::run_started(&run_id).is_some(), "{run_id}");
    assert_eq!(seen["name"], format!("{run_id}-probe"), "the name carries the run id");
    assert_eq!(seen["tags"]["wana:run-id"], run_id);
    assert_eq!(seen["tags"]["wana:trap"], "sandbox-probe");
    let expires = seen["tags"]["wana:expires-at"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(expires).is_ok(), "{expires}");
    assert_eq!(seen["app_name"], run_id, "the run id is the SDK's app id");

    // Teardown ran: the role is gone, and says so in the report.
    let teardown: Vec<_> = report.steps.iter().filter(|s| s.phase == wana_harness::Phase::Teardown).collect();
    assert!(teardown.iter().any(|s| s.call == "iam:DeleteRole" && s.ok), "{teardown:?}");
    let gone = admin.iam().get_role().role_name(seen["name"].as_str().unwrap()).send().await;
    assert!(gone.is_err(), "the role was deleted");

    // The ledger: the start, the role before it was created, and the teardown's end.
    let runs = ledger::read_dir(&f.runs_dir()).unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!((run.run_id.as_str(), run.trap.as_str(), run.backend.as_str()), (run_id.as_str(), "sandbox-probe", "sandbox"));
    assert_eq!(run.teardown, Some(true));
    assert!(run.is_closed());
    match &run.creates[..] {
        [ledger::Entry::Create { account, account_id, kind, name, .. }] => {
            assert_eq!((account.as_str(), account_id.as_str(), *kind), ("a", "111111111111", ResourceKind::IamRole));
            assert_eq!(name.as_deref(), seen["name"].as_str());
        }
        other => panic!("one create line expected: {other:?}"),
    }
    let text = std::fs::read_to_string(Path::new(&run.path)).unwrap();
    assert!(!text.contains(A.1), "no secret in the ledger");
}
