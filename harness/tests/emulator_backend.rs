//! The harness against a real in-process emulator: a principal is who it says it is, real SDK
//! errors are recorded with their AWS code, and the runner keeps its promises (teardown always
//! runs, failures become verdicts). The CLI side is covered by xtask/tests.

use std::sync::atomic::{AtomicBool, Ordering};

use wana_harness::{
    run_scenario, Backend, BackendKind, BehaviourProfile, HarnessError, Phase, Principal,
    RunContext, Scenario, ScenarioFuture, Verdict,
};

#[tokio::test]
async fn account_admin_is_who_sts_says_it_is() {
    let backend = Backend::start_emulator(BehaviourProfile::Current)
        .await
        .unwrap();
    let admin = Principal::account_admin(&backend, "a").unwrap();
    assert_eq!(admin.label, "admin@a");

    let identity = admin.sts().get_caller_identity().send().await.unwrap();
    assert_eq!(identity.account(), Some("111111111111"));
    assert_eq!(identity.arn(), Some("arn:aws:iam::111111111111:user/admin"));
    assert_eq!(identity.arn(), admin.arn.as_deref());
    backend.stop();
}

#[tokio::test]
async fn a_wrong_secret_is_refused_with_the_aws_error_code() {
    let backend = Backend::start_emulator(BehaviourProfile::Current)
        .await
        .unwrap();
    let account = backend.account("b").unwrap().clone();
    let impostor = Principal::from_keys(
        &backend,
        "impostor@b",
        "b",
        &account.access_key_id,
        "wanaNotTheRightSecret0000000000000000000",
        None,
    )
    .unwrap();
    let mut ctx = RunContext::new(backend, "test");
    let result = impostor.sts().get_caller_identity().send().await;
    let recorded = ctx
        .recorder
        .record_sdk("impostor@b", "sts:GetCallerIdentity", result, |_| {
            serde_json::Value::Null
        });
    assert_eq!(recorded.unwrap_err().code, "SignatureDoesNotMatch");
    assert!(!ctx.recorder.steps()[0].ok);
}

/// Fails its run in a chosen way and remembers whether teardown ran.
struct Broken {
    panics: bool,
    torn_down: AtomicBool,
}

impl Scenario for Broken {
    fn id(&self) -> &'static str {
        "broken"
    }

    fn expected_verdict(&self, _: BackendKind, _: BehaviourProfile) -> Verdict {
        Verdict::ReproducedAndFixed
    }

    fn run<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Verdict> {
        Box::pin(async move {
            let admin = ctx.admin("a")?;
            let identity = admin.sts().get_caller_identity().send().await;
            ctx.recorder
                .record_sdk(&admin.label, "sts:GetCallerIdentity", identity, |_| {
                    serde_json::Value::Null
                })?;
            if self.panics {
                panic!("scenario bug");
            }
            Err(HarnessError::Scenario(
                "the instance never reached stopped".into(),
            ))
        })
    }

    fn teardown<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, ()> {
        assert_eq!(ctx.recorder.phase(), Phase::Teardown);
        self.torn_down.store(true, Ordering::SeqCst);
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test]
async fn teardown_runs_after_an_error_and_after_a_panic() {
    for panics in [false, true] {
        let scenario = Broken {
            panics,
            torn_down: AtomicBool::new(false),
        };
        let report =
            run_scenario(&scenario, BackendKind::Emulator, BehaviourProfile::Current).await;
        assert!(scenario.torn_down.load(Ordering::SeqCst), "panics={panics}");
        assert_eq!(report.verdict, Verdict::Error);
        assert!(!report.matches_expectation);
        let error = report.error.unwrap();
        let expected = if panics {
            "scenario bug"
        } else {
            "never reached stopped"
        };
        assert!(error.contains(expected), "{error}");
        assert_eq!(report.steps.len(), 1, "the call before the failure is kept");
        assert!(report.steps[0].ok, "{:?}", report.steps[0]);
    }
}
