//! The scenario model and its runner.
//!
//! A scenario runs provision → trigger → observe → fix → verify inside [`Scenario::run`] and
//! concludes with a [`Verdict`]; [`Scenario::teardown`] runs afterwards whatever happened (an
//! error, an `unsupported` backend call, even a panic), because on real AWS a skipped teardown
//! costs money.

use std::{
    future::Future,
    panic::AssertUnwindSafe,
    pin::Pin,
    task::{Context, Poll},
};

use wana_emulator::BehaviourProfile;

use crate::{
    assume,
    backend::{Backend, BackendKind},
    outcome::{Phase, Recorder, StepError},
    principal::Principal,
    report::RunReport,
    verdict::Verdict,
    HarnessError,
};

/// A boxed future borrowed from the scenario and its context: what keeps [`Scenario`] usable as
/// `&dyn Scenario` (async fns in traits are not object-safe).
pub type ScenarioFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, HarnessError>> + Send + 'a>>;

pub trait Scenario: Send + Sync {
    /// The trap id (`alarm-recover`).
    fn id(&self) -> &'static str;

    /// What a correct run concludes on this backend and profile, e.g. `reproduced-and-fixed` on
    /// the emulator, `not-reproduced` where AWS no longer behaves so.
    fn expected_verdict(&self, backend: BackendKind, profile: BehaviourProfile) -> Verdict;

    /// The behaviour profiles the scenario runs under on the emulator by default.
    fn profiles(&self) -> &'static [BehaviourProfile] {
        &[BehaviourProfile::Current]
    }

    /// Whether the scenario's instances run the real AWS CLI (Run Command scripts): the command
    /// line then installs it first, as the test command does, so that the emulator's instances
    /// find it.
    fn runs_aws_cli_on_instances(&self) -> bool {
        false
    }

    /// The logical accounts the scenario acts in (`a`, `b`, ...). On a sandbox each must be in
    /// the config, and they must be different accounts.
    fn accounts(&self) -> &'static [&'static str] {
        &["a"]
    }

    /// About how long a run takes on real AWS (it sets the resources' `wana:expires-at`, and
    /// `cargo xtask show` prints it).
    fn expected_duration(&self) -> std::time::Duration {
        std::time::Duration::from_secs(15 * 60)
    }

    /// What a run costs on real AWS, roughly, in words (`cargo xtask show`).
    fn cost_hint(&self) -> &'static str {
        "no estimate yet"
    }

    /// Provision, trigger, observe, fix and verify; returns the verdict.
    fn run<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Verdict>;

    /// Deletes what `run` created. Runs after every `run`, also a failed one, so it must cope
    /// with resources that were never created. The emulator backend is discarded after the run,
    /// so the default does nothing; scenarios that run on real accounts override it.
    fn teardown<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, ()> {
        let _ = ctx;
        Box::pin(async { Ok(()) })
    }
}

/// How much wall time [`RunContext::pause`] lets pass on the emulator per look.
const EMULATOR_WALL_PAUSE: std::time::Duration = std::time::Duration::from_millis(200);

/// Everything a running scenario works with.
pub struct RunContext {
    pub backend: Backend,
    pub recorder: Recorder,
    /// Names this run; on real AWS every resource is tagged with it so a sweep can find leftovers.
    pub run_id: String,
    /// The trap, the expiry and the ledger (`crate::resources`).
    pub(crate) meta: crate::run_id::RunMeta,
}

impl RunContext {
    pub fn new(mut backend: Backend, run_id: impl Into<String>) -> RunContext {
        let run_id = run_id.into();
        let mut recorder = Recorder::new();
        for account in backend.accounts() {
            recorder.register_secret(&account.secret_access_key);
        }
        if let Some(sandbox) = backend.sandbox() {
            for account in &sandbox.accounts {
                for token in account.principal.secrets().skip(1) {
                    recorder.register_session_token(token);
                }
            }
        }
        backend.set_app_name(&run_id);
        if let Some(emulator) = backend.emulator() {
            recorder.watch_authz(emulator.inspector());
        }
        RunContext {
            backend,
            recorder,
            meta: crate::run_id::RunMeta::new(&run_id),
            run_id,
        }
    }

    /// The administrator of a backend account (`"a"`), labelled `admin@a`.
    pub fn admin(&mut self, account: &str) -> Result<Principal, HarnessError> {
        let principal = Principal::account_admin(&self.backend, account)?;
        self.track(&principal);
        Ok(principal)
    }

    /// A principal from explicit keys, whose secrets are kept out of the report.
    pub fn principal_from_keys(
        &mut self,
        label: &str,
        account: &str,
        access_key_id: &str,
        secret_access_key: &str,
        session_token: Option<&str>,
    ) -> Result<Principal, HarnessError> {
        let principal = Principal::from_keys(
            &self.backend,
            label,
            account,
            access_key_id,
            secret_access_key,
            session_token,
        )?;
        self.track(&principal);
        Ok(principal)
    }

    /// `sts:AssumeRole` as `from`, recorded as a step of the current phase; the session's
    /// secrets are registered with the recorder before anything else can see them.
    pub async fn assume_role(
        &mut self,
        from: &Principal,
        role_arn: &str,
        session_name: &str,
        external_id: Option<&str>,
        label: &str,
    ) -> Result<Principal, StepError> {
        let result = assume::assume_role(from, role_arn, session_name, external_id, label).await;
        if let Ok(session) = &result {
            self.track(session);
        }
        self.recorder.record(
            &from.label,
            "sts:AssumeRole",
            &result,
            |session| serde_json::json!({ "AssumedRoleUser": session.arn }),
        );
        result
    }

    /// Lets `duration` of AWS time pass: on the emulator its clock moves forward at once (so
    /// scheduled effects such as instance transitions become due); on real AWS the run sleeps.
    pub async fn wait(&self, duration: std::time::Duration) {
        match self.backend.emulator() {
            Some(emulator) => emulator.clock().advance(duration),
            None => tokio::time::sleep(duration / self.backend.time_scale()).await,
        }
    }

    /// Waits for work that takes wall time even on the emulator (a script running on an
    /// instance): on the emulator the clock moves `duration` forward and the run also sleeps a
    /// moment of wall time, so that the emulator's clock does not race ahead of the script; on
    /// real AWS the run sleeps `duration`.
    pub async fn pause(&self, duration: std::time::Duration) {
        match self.backend.emulator() {
            Some(emulator) => {
                emulator.clock().advance(duration);
                tokio::time::sleep(EMULATOR_WALL_PAUSE.min(duration)).await;
            }
            None => tokio::time::sleep(duration / self.backend.time_scale()).await,
        }
    }

    fn track(&mut self, principal: &Principal) {
        let mut secrets = principal.secrets();
        if let Some(secret_key) = secrets.next() {
            self.recorder.register_secret(secret_key);
        }
        for token in secrets {
            self.recorder.register_session_token(token);
        }
    }
}

/// Runs `scenario` once on a fresh backend and always returns a report: failures to start, errors
/// and panics become the verdicts `unsupported` or `error`, with the reason in `error`.
pub async fn run_scenario(
    scenario: &dyn Scenario,
    backend_kind: BackendKind,
    profile: BehaviourProfile,
) -> RunReport {
    run_scenario_at(scenario, backend_kind, None, profile).await
}

/// [`run_scenario`] on an endpoint backend at `endpoint` (`None`: `AWS_ENDPOINT_URL`, or what
/// the backend finds or starts). The report's backend is what answered (`endpoint` resolves to
/// `localstack` or `moto`), and so is the expectation it is held to.
pub async fn run_scenario_at(
    scenario: &dyn Scenario,
    backend_kind: BackendKind,
    endpoint: Option<&str>,
    profile: BehaviourProfile,
) -> RunReport {
    let expected = scenario.expected_verdict(backend_kind, profile);
    let mut report = unstarted_report(scenario, backend_kind, profile);

    let started = CatchUnwind(AssertUnwindSafe(Box::pin(async move {
        match (backend_kind, endpoint) {
            (_, Some(url)) => Backend::start_endpoint(backend_kind, Some(url), profile).await,
            // The sandbox resolves the accounts this trap needs, and checks that they differ.
            (BackendKind::Sandbox, None) => {
                Backend::start_sandbox(profile, scenario.accounts()).await
            }
            (_, None) => Backend::start(backend_kind, profile).await,
        }
    })))
    .await;
    let backend = match started {
        Ok(Ok(backend)) => backend,
        Ok(Err(err)) => {
            report.verdict = verdict_for_error(&err);
            report.error = Some(err.to_string());
            report.matches_expectation = report.verdict == expected;
            return report;
        }
        Err(panic) => {
            report.error = Some(format!(
                "starting the {backend_kind} backend panicked: {panic}"
            ));
            report.matches_expectation = report.verdict == expected;
            return report;
        }
    };
    run_on(scenario, backend, report).await
}

/// Runs `scenario` once on a backend already started (a sandbox the command line has connected
/// and confirmed), with the same guarantees as [`run_scenario`].
pub async fn run_scenario_on(scenario: &dyn Scenario, backend: Backend) -> RunReport {
    let report = unstarted_report(scenario, backend.kind(), backend.profile());
    run_on(scenario, backend, report).await
}

/// The report of a run still open (the workshop's, whose participant acts between the steps):
/// what `ctx` recorded so far, with the calls services made for it, concluded `verdict`. The
/// context stays usable; teardown is not in it.
pub fn report_so_far(ctx: &RunContext, scenario: &dyn Scenario, verdict: Verdict) -> RunReport {
    let mut report = unstarted_report(scenario, ctx.backend.kind(), ctx.backend.profile());
    report.verdict = verdict;
    report.matches_expectation = report.expected_verdict == Some(verdict);
    report.steps = ctx.recorder.steps().to_vec();
    report.narrative_notes = ctx.recorder.notes().to_vec();
    report.narration = ctx.recorder.narration().clone();
    report.inner_calls = crate::report_html::inner::of_run(&ctx.backend, &ctx.recorder);
    report
}

/// The report of a run that has not started: `error` until the run says otherwise.
pub(crate) fn unstarted_report(
    scenario: &dyn Scenario,
    backend: BackendKind,
    profile: BehaviourProfile,
) -> RunReport {
    RunReport {
        trap: scenario.id().to_string(),
        backend,
        profile,
        verdict: Verdict::Error,
        expected_verdict: Some(scenario.expected_verdict(backend, profile)),
        matches_expectation: false,
        error: None,
        steps: Vec::new(),
        narrative_notes: Vec::new(),
        left_resources: false,
        inner_calls: Vec::new(),
        narration: Default::default(),
    }
}

/// The run itself: the scenario (stopped by Ctrl-C), then teardown whatever happened.
async fn run_on(scenario: &dyn Scenario, backend: Backend, mut report: RunReport) -> RunReport {
    // The report's backend is what answered (`endpoint` resolves to `localstack` or `moto`), and
    // so is the expectation it is held to.
    let backend_kind = backend.kind();
    let expected = scenario.expected_verdict(backend_kind, backend.profile());
    report.backend = backend_kind;
    report.expected_verdict = Some(expected);
    let backend_name = backend_kind.to_string();
    let product = crate::endpoint::product_name(backend_kind);
    let mut ctx = RunContext::new(backend, run_id(scenario.id(), backend_kind));
    if let Err(err) = ctx.begin_run(scenario.id(), scenario.expected_duration()) {
        // Without its ledger a run on a shared account could leave what no cleanup finds.
        ctx.backend.stop();
        report.error = Some(err.to_string());
        report.matches_expectation = report.verdict == expected;
        return report;
    }

    let run_result =
        crate::interrupt::unless_interrupted(CatchUnwind(AssertUnwindSafe(scenario.run(&mut ctx))))
            .await;
    let ended_on_divergence = match &run_result {
        Some(Ok(Err(HarnessError::Aws(err)))) if is_service_answer(err) => {
            Some(divergence(&ctx, err))
        }
        Some(Ok(Err(HarnessError::Scenario(why)))) => Some(format!("the run stopped: {why}")),
        _ => None,
    };
    let ended_on_unimplemented = match &run_result {
        Some(Ok(Err(HarnessError::Aws(err)))) if err.is_unimplemented() => {
            Some(err.unimplemented_call())
        }
        _ => None,
    };
    let (mut verdict, mut error) = match run_result {
        Some(Ok(Ok(verdict))) => (verdict, None),
        Some(Ok(Err(err))) => (verdict_for_error(&err), Some(err.to_string())),
        Some(Err(panic)) => (
            Verdict::Error,
            Some(format!("the scenario panicked: {panic}")),
        ),
        None => (Verdict::Error, Some("interrupted (Ctrl-C or SIGTERM); teardown ran".to_string())),
    };
    // A call the backend lacks makes whatever the scenario concluded meaningless: the run is
    // `unsupported`, naming the first such call (recorded, or the error the run ended with).
    let missing = ctx.recorder.unimplemented().first().cloned().or(ended_on_unimplemented);
    if let Some(missing) = missing {
        let sentence = missing.sentence(product);
        crate::note_tr!(ctx.recorder, "notes.runner.missing", backend = &backend_name, sentence = &sentence);
        verdict = Verdict::Unsupported;
        error = Some(format!("unsupported: {sentence}"));
    } else if let (Some(divergence), true) = (ended_on_divergence, ctx.backend.kind().is_endpoint())
    {
        // Someone else's emulator answered where AWS goes on: the failure the trap is about
        // never came, which is what `not-reproduced` says; the note says what differed.
        crate::note_tr!(
            ctx.recorder,
            "notes.runner.divergence",
            backend = &backend_name,
            divergence = &divergence,
            product = product
        );
        verdict = Verdict::NotReproduced;
        error = None;
    }

    ctx.recorder.set_phase(Phase::Teardown);
    let teardown_result = CatchUnwind(AssertUnwindSafe(scenario.teardown(&mut ctx))).await;
    let teardown_failure = match teardown_result {
        Ok(Ok(())) => None,
        // What the backend cannot do, it cannot have created either.
        Ok(Err(HarnessError::Aws(err))) if err.is_unimplemented() => {
            crate::note_tr!(ctx.recorder, "notes.runner.teardown_unimplemented", sentence = err.unimplemented_call().sentence(product));
            None
        }
        Ok(Err(err)) => Some(err.to_string()),
        Err(panic) => Some(format!("teardown panicked: {panic}")),
    };
    ctx.end_run(teardown_failure.is_none());
    if let (Some(failure), true) = (&teardown_failure, ctx.backend.kind().is_endpoint()) {
        // Someone else's emulator costs nothing when something is left behind, and a deletion
        // it fails is one more of its differences: said, but not the run's verdict.
        crate::note_tr!(ctx.recorder, "notes.runner.teardown_left", product = product, failure = failure);
    } else if let Some(failure) = teardown_failure {
        // Resources may be left behind: the run cannot be called a success whatever it found.
        error = Some(match error {
            Some(run_error) => format!("{run_error}; teardown failed too: {failure}"),
            None => format!("the scenario concluded {verdict}, but teardown failed: {failure}"),
        });
        verdict = Verdict::Error;
        report.left_resources = ctx.backend.kind() == BackendKind::Sandbox;
    }

    let inner_calls = crate::report_html::inner::of_run(&ctx.backend, &ctx.recorder);
    let RunContext {
        backend, recorder, ..
    } = ctx;
    backend.stop();
    report.narration = recorder.narration().clone();
    let (steps, notes) = recorder.into_parts();
    report.inner_calls = inner_calls;
    report.verdict = verdict;
    report.matches_expectation = verdict == expected;
    report.error = error;
    report.steps = steps;
    report.narrative_notes = notes;
    report
}

/// An answer from the service (an AWS error code), rather than no answer at all.
fn is_service_answer(err: &StepError) -> bool {
    !matches!(
        err.code.as_str(),
        "DispatchFailure" | "TimeoutError" | "ConstructionFailure" | "ResponseError" | "SdkError"
    )
}

/// `the run stopped at ec2:RunInstances (NoSuchEntity: …)`, naming the recorded step that failed
/// so, else the SDK's operation.
fn divergence(ctx: &RunContext, err: &StepError) -> String {
    let recorded = ctx.recorder.steps().iter().rev().find(|step| {
        !step.ok && step.error_code.as_deref() == Some(err.code.as_str())
    });
    let call = recorded
        .map(|step| step.call.clone())
        .or_else(|| err.operation.clone())
        .unwrap_or_else(|| "a call".to_string());
    format!("the run stopped at {call} ({}: {})", err.code, err.message)
}

fn verdict_for_error(err: &HarnessError) -> Verdict {
    match err {
        HarnessError::Unsupported(_) => Verdict::Unsupported,
        _ => Verdict::Error,
    }
}

/// On the emulator every run has a world of its own, so a fixed id keeps snapshots identical; on
/// shared accounts the id must be unique to tell this run's resources from any other's.
fn run_id(trap: &str, backend: BackendKind) -> String {
    match backend {
        BackendKind::Emulator => format!("wana-{trap}"),
        _ => crate::run_id::new_run_id(trap),
    }
}

/// Polls a future and turns a panic inside it into an error carrying the panic message, so
/// that teardown still runs (the futures crate's `catch_unwind` without the dependency).
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<AssertUnwindSafe<F>> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(&mut inner.0).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(payload) => Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a non-text panic payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    /// A scenario whose run fails in a chosen way, recording whether teardown ran.
    struct Failing {
        how: &'static str,
        torn_down: AtomicBool,
    }

    impl Scenario for Failing {
        fn id(&self) -> &'static str {
            "failing"
        }

        fn expected_verdict(&self, _: BackendKind, _: BehaviourProfile) -> Verdict {
            Verdict::ReproducedAndFixed
        }

        fn run<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Verdict> {
            Box::pin(async move {
                ctx.recorder.note("started");
                match self.how {
                    "panic" => panic!("boom"),
                    "error" => Err(HarnessError::Scenario("the instance never stopped".into())),
                    _ => Ok(Verdict::NotReproduced),
                }
            })
        }

        fn teardown<'a>(&'a self, _: &'a mut RunContext) -> ScenarioFuture<'a, ()> {
            self.torn_down.store(true, Ordering::SeqCst);
            Box::pin(async { Ok(()) })
        }
    }

    #[tokio::test]
    async fn an_endpoint_where_nothing_answers_runs_nothing() {
        let scenario = Failing {
            how: "error",
            torn_down: AtomicBool::new(false),
        };
        // A loopback port nobody listens on any more.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let report = run_scenario_at(
            &scenario,
            BackendKind::Endpoint,
            Some(&url),
            BehaviourProfile::Current,
        )
        .await;
        assert_eq!(report.verdict, Verdict::Error);
        assert!(!report.matches_expectation);
        let error = report.error.unwrap();
        assert!(error.contains(&format!("nothing answers HTTP at {url}")), "{error}");
        assert!(
            !scenario.torn_down.load(Ordering::SeqCst),
            "nothing was provisioned"
        );
    }


    /// Records one failed call, then concludes `not-reproduced` or ends on the error.
    struct MeetsError {
        error: StepError,
        propagate: bool,
    }

    impl Scenario for MeetsError {
        fn id(&self) -> &'static str {
            "meets-error"
        }

        fn expected_verdict(&self, _: BackendKind, _: BehaviourProfile) -> Verdict {
            Verdict::Unsupported
        }

        fn run<'a>(&'a self, ctx: &'a mut RunContext) -> ScenarioFuture<'a, Verdict> {
            Box::pin(async move {
                ctx.recorder.set_phase(Phase::Trigger);
                let failed: Result<(), StepError> = Err(self.error.clone());
                ctx.recorder.record("admin@a", "autoscaling:CreateAutoScalingGroup", &failed, |_| {
                    serde_json::Value::Null
                });
                if self.propagate {
                    failed?;
                }
                Ok(Verdict::NotReproduced)
            })
        }
    }

    fn licence_error() -> StepError {
        StepError {
            http_status: Some(501),
            ..StepError::new(
                "InternalFailure",
                "The API for service autoscaling is either not included in your current license \
                 plan or has not yet been emulated by LocalStack.",
            )
        }
    }

    #[tokio::test]
    async fn a_call_the_backend_lacks_makes_the_run_unsupported_naming_the_call() {
        for propagate in [false, true] {
            let scenario = MeetsError { error: licence_error(), propagate };
            let report =
                run_scenario(&scenario, BackendKind::Emulator, BehaviourProfile::Current).await;
            assert_eq!(report.verdict, Verdict::Unsupported, "{report:#?}");
            assert!(report.matches_expectation);
            let error = report.error.unwrap();
            assert!(
                error.starts_with(
                    "unsupported: wana's emulator does not implement autoscaling:CreateAutoScalingGroup \
                     (InternalFailure: The API for service autoscaling"
                ),
                "{error}"
            );
            assert!(report
                .narrative_notes
                .iter()
                .any(|note| note.starts_with("Missing on emulator: wana's emulator does not implement")));
        }
    }

    #[tokio::test]
    async fn on_wanas_emulator_a_different_answer_is_an_error_not_a_verdict_about_aws() {
        let scenario = MeetsError {
            error: StepError { http_status: Some(400), ..StepError::new("ValidationError", "no") },
            propagate: true,
        };
        let report = run_scenario(&scenario, BackendKind::Emulator, BehaviourProfile::Current).await;
        assert_eq!(report.verdict, Verdict::Error);
        assert_eq!(report.error.as_deref(), Some("AWS call failed: ValidationError: no"));
    }

    #[test]
    fn catch_unwind_turns_a_panic_into_its_message() {
        let result = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(CatchUnwind(AssertUnwindSafe(Box::pin(async {
                if true {
                    panic!("boom at step 3");
                }
            }))));
        assert_eq!(result.unwrap_err(), "boom at step 3");
    }

    #[test]
    fn emulator_run_ids_are_stable_and_others_unique_per_run() {
        assert_eq!(
            run_id("alarm-recover", BackendKind::Emulator),
            "wana-alarm-recover"
        );
        assert!(run_id("alarm-recover", BackendKind::Sandbox).starts_with("wana-alarm-recover-"));
    }
}
