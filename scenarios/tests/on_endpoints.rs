//! All five traps on LocalStack in host mode and on moto's server, each started here from the
//! venv `cargo xtask test` installs: every run must conclude what its scenario declares for
//! that backend, name what was missing when the trap did not reproduce, and match its recorded
//! report (`snapshots/<trap>@localstack.snap`, `@moto`), which `cargo xtask backends` turns
//! into README.md's table.

use serde_json::Value;
use wana_harness::{
    aws_cli::workspace_root, run_scenario_at, Backend, BackendKind, BehaviourProfile, Principal,
    Redactor, RunReport, Verdict,
};
use wana_localstack::{HostServer, Server};
use wana_scenarios::catalog;

async fn every_trap_on(server: Server, kind: BackendKind) {
    let started = HostServer::start(server, &workspace_root(), 0)
        .await
        .unwrap_or_else(|err| panic!("{err} (`cargo xtask test` installs it)"));
    accounts_are_who_sts_says(kind, started.endpoint_url()).await;
    let mut mismatches = Vec::new();
    for trap in catalog() {
        let scenario = trap.scenario.expect("every trap is runnable");
        let report = run_scenario_at(
            scenario,
            kind,
            Some(started.endpoint_url()),
            BehaviourProfile::Current,
        )
        .await;
        assert_eq!(report.backend, kind, "{}", trap.id);
        if !report.matches_expectation {
            mismatches.push(format!(
                "{}: {} instead of {:?}\n{}",
                trap.id,
                report.verdict,
                report.expected_verdict,
                report.render_text(&Redactor::secrets_only())
            ));
            continue;
        }
        if report.verdict != Verdict::ReproducedAndFixed {
            let prefix = format!("Missing on {kind}: ");
            assert!(
                report
                    .narrative_notes
                    .iter()
                    .any(|note| note.starts_with(&prefix)),
                "{}: the narrative names what {kind} lacks: {:#?}",
                trap.id,
                report.narrative_notes
            );
        }
        if report.verdict == Verdict::Unsupported {
            let error = report.error.as_deref().unwrap_or_default();
            assert!(
                error.contains("does not implement "),
                "{}: {error}",
                trap.id
            );
        }
        snapshot(&format!("{}@{kind}", trap.id), &report);
    }
    started.stop();
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
}

/// Each of the three accounts' `admin` acts in its own account, as a long-term IAM user.
async fn accounts_are_who_sts_says(kind: BackendKind, url: &str) {
    let backend =
        Backend::start_endpoint(BackendKind::Endpoint, Some(url), BehaviourProfile::Current)
            .await
            .unwrap_or_else(|err| panic!("{kind} at {url}: {err}"));
    assert_eq!(backend.kind(), kind, "the endpoint is recognised");
    for name in ["a", "b", "c"] {
        let admin = Principal::account_admin(&backend, name).unwrap();
        let identity = admin.sts().get_caller_identity().send().await.unwrap();
        assert_eq!(
            identity.account(),
            Some(admin.account.as_str()),
            "{kind}: {name}"
        );
        assert_eq!(identity.arn(), admin.arn.as_deref(), "{kind}: {name}");
        assert!(!admin.is_temporary());
    }
    backend.stop();
}

/// The report fully redacted (the run's random suffix too: `wana-<trap>-<run>`), without its
/// teardown.
fn snapshot(name: &str, report: &RunReport) {
    let line = report.to_json_line(&Redactor::full());
    let mut value: Value = serde_json::from_str(&line).expect("reports are JSON");
    // What a teardown meets on someone else's emulator is not what it reproduces, and it varies:
    // LocalStack deletes a stack whose resource failed in one run and not in the next.
    if let Some(steps) = value["steps"].as_array_mut() {
        steps.retain(|step| step["phase"] != "teardown");
    }
    if let Some(notes) = value["narrative_notes"].as_array_mut() {
        notes.retain(|note| !note.as_str().unwrap_or_default().starts_with("teardown "));
    }
    insta::with_settings!({
        snapshot_path => "../../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_json_snapshot!(name, value);
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn every_trap_on_localstack_concludes_what_it_declares() {
    every_trap_on(Server::Localstack, BackendKind::Localstack).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_trap_on_moto_concludes_what_it_declares() {
    every_trap_on(Server::Moto, BackendKind::Moto).await;
}
