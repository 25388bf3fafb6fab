//! Every fix in every `scenarios/fixes/<trap>/fixes.toml` through the exercise `check` uses:
//! set up on a fresh emulator (under the profile where the trap reproduces), apply the file,
//! verify, judge the breadth; the verdict and the findings must be the manifest's.

use rstest::rstest;
use wana_harness::{Backend, RunContext};
use wana_scenarios::exercise::{self, manifest, UserFix, Verdict};

async fn judge_entry(trap: &str, entry: &manifest::Entry) -> Result<(), String> {
    let exercise = exercise::find(trap).ok_or("no exercise")?;
    let scenario = wana_scenarios::find(trap).and_then(|t| t.scenario).ok_or("not runnable")?;
    let kind = entry.kind()?;
    let expected = entry.expected()?;
    let path = manifest::fixes_dir().join(trap).join(&entry.file);
    let document = std::fs::read_to_string(&path).map_err(|err| format!("{}: {err}", path.display()))?;
    exercise::validate(kind, &document)?;
    if !exercise.kinds().contains(&kind) {
        return Err(format!("{trap} takes no {kind} fix"));
    }
    let backend = Backend::start_emulator(exercise.profile()).await.map_err(|e| e.to_string())?;
    let mut ctx = RunContext::new(backend, format!("wana-{trap}"));
    let judged = exercise::judge(exercise, &mut ctx, &UserFix { kind, document }).await;
    let _ = scenario.teardown(&mut ctx).await;
    let judgement = judged.map_err(|err| format!("the run failed: {err}"))?;
    let labels: Vec<String> = judgement.findings.iter().map(|f| f.label()).collect();
    let mut problems = Vec::new();
    if judgement.verdict != expected {
        problems.push(format!(
            "verdict {} instead of {} (applied: {:?}; after: {:?}; findings: {labels:?})",
            judgement.verdict,
            expected,
            judgement.applied.as_ref().map(|a| (&a.call, a.error.as_ref().map(|e| format!("{}: {}", e.code, e.message)))),
            judgement.verified.as_ref().map(|v| &v.detail),
        ));
    }
    if expected == Verdict::Broader || judgement.verdict == Verdict::Broader {
        for named in &entry.broader {
            if !judgement.findings.iter().any(|f| f.is_named_by(named)) {
                problems.push(format!("no finding names {named:?} (found {labels:?})"));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[rstest]
#[case::alarm_recover("alarm-recover")]
#[case::cross_account_ami_asg("cross-account-ami-asg")]
#[case::cmk_start_external_role("cmk-start-external-role")]
#[case::runcommand_shadow_credentials("runcommand-shadow-credentials")]
#[case::instance_profile_ssm("instance-profile-ssm")]
#[tokio::test(flavor = "multi_thread")]
async fn check_judges_every_fix_of_the_manifest_as_the_manifest_says(#[case] trap: &str) {
    let manifest = manifest::load(trap).expect("the manifest parses").expect("every runnable trap has a manifest");
    let expects: Vec<Verdict> = manifest.fix.iter().filter_map(|e| e.expected().ok()).collect();
    for wanted in [Verdict::Resolved, Verdict::Broader, Verdict::NotResolved] {
        assert!(expects.contains(&wanted), "{trap}'s manifest has no {wanted} fix");
    }
    let mut failures = Vec::new();
    for entry in &manifest.fix {
        if let Err(why) = judge_entry(trap, entry).await {
            failures.push(format!("{} ({}, expect {}): {why}", entry.file, entry.kind, entry.expect));
        }
    }
    assert!(failures.is_empty(), "{trap}:\n{}", failures.join("\n"));
}
