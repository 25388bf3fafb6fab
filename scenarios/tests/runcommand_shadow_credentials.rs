//! `runcommand-shadow-credentials` on the emulator, whose instances run the scripts for real: the
//! real AWS CLI inside each instance's sandbox, root's files, the instance's metadata service.
//! The report's run as a snapshot, and the same steps with other fixes, judged by what happens.

use rstest::rstest;
use serde_json::Value;
use wana_harness::{run_scenario, Backend, BackendKind, BehaviourProfile, Redactor, RunContext, RunReport, Scenario, Verdict};
use wana_scenarios::runcommand_shadow_credentials::{self as trap, Fix, SCENARIO};

async fn context() -> RunContext {
    let backend = Backend::start_emulator(BehaviourProfile::Current).await.expect("the emulator starts");
    RunContext::new(backend, "wana-shadow-test")
}

fn redacted_json(report: &RunReport) -> Value {
    serde_json::from_str(&report.to_json_line(&Redactor::full())).expect("reports are JSON")
}

#[tokio::test]
async fn the_report_matches_its_snapshot() {
    let report = run_scenario(&SCENARIO, BackendKind::Emulator, BehaviourProfile::Current).await;
    assert_eq!(report.verdict, Verdict::ReproducedAndFixed, "{report:#?}");
    assert!(report.matches_expectation);
    let value = redacted_json(&report);
    insta::with_settings!({
        snapshot_path => "../../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_json_snapshot!("runcommand-shadow-credentials@emulator", value);
    });
}

#[rstest]
#[case::the_reports_exports(Fix::ReportExports, true)]
#[case::removing_the_file(Fix::RemoveCredentialsFile, true)]
#[case::no_shared_credentials_file(Fix::SharedCredentialsFileDevNull, true)]
#[case::exports_without_the_session_token(Fix::ExportsWithoutToken, false)]
#[tokio::test]
async fn a_fix_works_only_if_the_cli_ends_up_with_the_whole_role_session(#[case] fix: Fix, #[case] works: bool) {
    let mut ctx = context().await;
    let run = trap::reproduce(&mut ctx, fix).await.expect("the run completes");
    let bucket = &run.provisioned.bucket;
    let stale = &run.provisioned.stale;

    // The trap, as the report saw it.
    assert_eq!(run.healthy_upload.status, "Success", "{:?}", run.healthy_upload);
    assert_eq!(run.stale_upload.status, "Failed");
    assert_eq!(run.stale_upload.response_code, 1);
    assert!(
        run.stale_upload.stderr.contains(&format!("upload failed: ./hogehoge.txt to s3://{bucket}/{stale}/hogehoge.txt {}", trap::INVALID_KEY_LINE)),
        "{}",
        run.stale_upload.stderr
    );
    assert!(run.stale_upload.stderr.ends_with("failed to run commands: exit status 1"), "{}", run.stale_upload.stderr);
    let kind = |i: &Option<trap::Invocation>| {
        i.as_ref().and_then(|i| trap::access_key_type(&i.stdout)).map(str::to_string)
    };
    assert_eq!(kind(&run.healthy_configure_list).as_deref(), Some("iam-role"));
    assert_eq!(kind(&run.stale_configure_list).as_deref(), Some("shared-credentials-file"));
    assert_eq!(kind(&run.ssm_user_configure_list).as_deref(), Some("iam-role"), "Session Manager's user has no credentials file");

    // The fix, judged by what happened.
    let after = run.after_fix.as_ref().expect("the fix ran");
    assert_eq!(after.status == "Success", works, "{after:?}");
    assert_eq!(run.verdict, if works { Verdict::ReproducedAndFixed } else { Verdict::FixFailed });
    if works {
        assert_eq!(run.stale_objects.len(), 2, "{:?}", run.stale_objects);
    } else {
        assert!(after.stderr.contains(trap::INVALID_KEY_LINE), "{}", after.stderr);
        assert!(run.stale_objects.is_empty());
    }
    SCENARIO.teardown(&mut ctx).await.unwrap();
}
