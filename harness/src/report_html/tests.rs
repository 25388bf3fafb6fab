use serde_json::json;
use wana_emulator::BehaviourProfile;
use wana_i18n::Lang;

use super::*;
use crate::{backend::BackendKind, origin::Origin, outcome::StepError, verdict::Verdict};

const SESSION: &str = "arn:aws:sts::333333333333:assumed-role/ThirdPartyRole/scheduled-start";
const KEY: &str = "arn:aws:kms:us-east-1:333333333333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// A cmk-start-external-role run as the emulator records it: the start answered `pending`, EC2's
/// `kms:CreateGrant` for the role session refused, the key policy fixed, the grant allowed.
fn cmk_report() -> RunReport {
    let grant = |step: usize, allowed: bool| InnerCall {
        step,
        origin: Origin::ForwardAccess {
            service: "ec2.us-east-1.amazonaws.com".into(),
            caller_assumed_by: None,
        },
        principal: SESSION.into(),
        action: "kms:CreateGrant".into(),
        resource: KEY.into(),
        allowed,
        explanation: "denied implicitly: no identity-based policy allows it".into(),
        count: 1,
    };
    RunReport {
        trap: "cmk-start-external-role".into(),
        backend: BackendKind::Emulator,
        profile: BehaviourProfile::Current,
        verdict: Verdict::ReproducedAndFixed,
        expected_verdict: Some(Verdict::ReproducedAndFixed),
        matches_expectation: true,
        error: None,
        steps: vec![
            Step::succeeded(Phase::Provision, "admin@c", "kms:CreateKey").with_detail(json!({ "Arn": KEY })),
            Step::succeeded(Phase::Provision, "admin@b", "sts:AssumeRole").with_detail(json!({
                "Credentials": { "SecretAccessKey": "wanaSecretAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB" }
            })),
            Step::succeeded(Phase::Trigger, "ThirdPartyRole@c", "ec2:StartInstances")
                .with_detail(json!({ "InstanceId": "i-00000000000000001", "CurrentState": "pending" })),
            Step::succeeded(Phase::Observe, "ThirdPartyRole@c", "ec2:DescribeInstances"),
            Step::succeeded(Phase::Fix, "admin@c", "kms:PutKeyPolicy").with_detail(json!({
                "AddedStatements": [{ "Sid": "AllowGrantsForAWSResources", "Action": "kms:CreateGrant" }]
            })),
            Step::succeeded(Phase::Verify, "ThirdPartyRole@c", "ec2:StartInstances"),
            Step::succeeded(Phase::Teardown, "admin@c", "kms:ScheduleKeyDeletion"),
        ],
        narrative_notes: vec!["The role may start the instance but not use its key.".into()],
        left_resources: false,
        inner_calls: vec![grant(2, false), grant(5, true)],
        narration: Default::default(),
    }
}

#[test]
fn the_diagram_has_a_lifeline_per_principal_and_service_and_marks_the_refused_grant() {
    let html = render_html(&[cmk_report()], Lang::En, &Redactor::secrets_only());
    for name in [
        "admin@c",
        "admin@b",
        "ThirdPartyRole@c",
        "KMS",
        "STS",
        "EC2",
    ] {
        assert!(
            html.contains(&format!(">{name}</text>")),
            "no lifeline {name}"
        );
    }
    // Teardown is not drawn, so neither is a lifeline only it would need.
    let failed: Vec<&str> = html
        .match_indices("class=\"call inner failed\"")
        .map(|(i, _)| &html[i..i + html[i..].find("</g>").unwrap()])
        .collect();
    assert_eq!(failed.len(), 1, "{html}");
    assert!(
        failed[0].contains("data-error-code=\"AccessDeniedException\""),
        "{}",
        failed[0]
    );
    assert!(failed[0].contains("kms:CreateGrant as ThirdPartyRole/scheduled-start (forward access session) ✗ AccessDeniedException"), "{}", failed[0]);
    assert_eq!(
        html.matches("class=\"call inner\"").count(),
        1,
        "the allowed grant after the fix"
    );
    for phase in ["provision", "trigger", "observe", "fix", "verify"] {
        assert!(
            html.contains(&format!("data-phase=\"{phase}\"")),
            "no band {phase}"
        );
    }
    assert!(!html.contains("data-phase=\"teardown\""));
}

#[test]
fn a_failed_step_is_red_with_its_code() {
    let mut report = cmk_report();
    report.steps[2] = Step::failed(
        Phase::Trigger,
        "ThirdPartyRole@c",
        "ec2:StartInstances",
        &StepError::new(
            "UnauthorizedOperation",
            "You are not authorized to perform this operation.",
        ),
    );
    let html = render_html(&[report.clone()], Lang::En, &Redactor::secrets_only());
    assert!(
        html.contains("<g class=\"call failed\" data-error-code=\"UnauthorizedOperation\">"),
        "{html}"
    );
    assert!(html.contains("3. ec2:StartInstances ✗ UnauthorizedOperation"));
    let md = render_markdown(&[report], Lang::En, &Redactor::secrets_only());
    assert!(
        md.contains("3. ThirdPartyRole@c → EC2: ec2:StartInstances — ✗ **UnauthorizedOperation**"),
        "{md}"
    );
}

#[test]
fn untrusted_text_comes_out_escaped_in_both_files() {
    let attack = "</script><img src=x onerror=alert(1)>";
    let mut report = cmk_report();
    report.narrative_notes.push(format!("a note {attack}"));
    report.steps[4].detail = json!({ "Script": attack });
    report.steps[0].principal = format!("admin{attack}");
    report.error = Some(attack.to_string());
    let html = render_html(&[report.clone()], Lang::En, &Redactor::secrets_only());
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("</script>"));
    assert!(!html.contains("<script"));
    assert!(
        html.contains("a note &lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"),
        "{html}"
    );
    // In Markdown, text outside code blocks is escaped; inside a fenced block (the JSON of a
    // step, the error) it is shown verbatim, which is inert, and the fence cannot be closed early.
    let md = render_markdown(&[report], Lang::En, &Redactor::secrets_only());
    let mut in_fence = false;
    for line in md.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        } else if !in_fence {
            assert!(
                !line.contains("<img") && !line.contains("</script>"),
                "{line}"
            );
        }
    }
    assert!(
        md.contains("- a note &lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"),
        "{md}"
    );
}

#[test]
fn secrets_never_and_ids_only_without_redact() {
    let kept = render_html(&[cmk_report()], Lang::En, &Redactor::secrets_only());
    assert!(!kept.contains("wanaSecretAAAA"));
    assert!(kept.contains("333333333333"), "ids stay without --redact");
    let redacted = Redactor::full();
    for text in [
        render_html(&[cmk_report()], Lang::En, &redacted),
        render_markdown(&[cmk_report()], Lang::En, &redacted),
    ] {
        assert!(!text.contains("wanaSecretAAAA"));
        assert!(!text.contains("333333333333"), "{text}");
        assert!(!text.contains("1234abcd-12ab"), "{text}");
    }
}

#[test]
fn the_page_names_no_external_resource() {
    let html = render_html(
        &[cmk_report(), cmk_report()],
        Lang::En,
        &Redactor::secrets_only(),
    );
    for forbidden in [
        "<script",
        "<link",
        "src=",
        "@import",
        "url(http",
        "href=\"http",
        "href=\"//",
    ] {
        assert!(!html.contains(forbidden), "{forbidden}");
    }
    assert!(html.contains("default-src 'none'"));
    // Two runs: two diagrams whose marker ids do not collide.
    assert!(html.contains("id=\"run1-red\"") && html.contains("id=\"run2-red\""));
}

#[test]
fn labels_follow_the_language() {
    let ja = render_html(&[cmk_report()], Lang::Ja, &Redactor::secrets_only());
    assert!(ja.starts_with("<!DOCTYPE html>\n<html lang=\"ja\">"));
    for label in [
        "シーケンス図",
        "適用した修正",
        "期待どおりです (reproduced-and-fixed)",
        "転送アクセスセッション",
        ">準備</text>",
    ] {
        assert!(ja.contains(label), "{label}");
    }
    // AWS's codes stay as AWS writes them.
    assert!(ja.contains("AccessDeniedException"));
    let md = render_markdown(&[cmk_report()], Lang::Ja, &Redactor::secrets_only());
    assert!(
        md.starts_with("# wana 実行レポート: cmk-start-external-role\n"),
        "{md}"
    );
}

#[test]
fn markdown_lists_the_calls_with_inner_calls_under_them_and_the_fix() {
    let md = render_markdown(&[cmk_report()], Lang::En, &Redactor::secrets_only());
    let expected = "3. ThirdPartyRole@c → EC2: ec2:StartInstances\n    - EC2 → KMS: kms:CreateGrant as ThirdPartyRole/scheduled-start (forward access session) — ✗ **AccessDeniedException**\n";
    assert!(md.contains(expected), "{md}");
    assert!(
        md.contains("- admin@c → kms:PutKeyPolicy: ok\n\n  ```json\n"),
        "{md}"
    );
    assert!(md.contains("| Verdict | **reproduced-and-fixed** |"));
}

#[test]
fn write_report_writes_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_report(
        &dir.path().join("new"),
        &[cmk_report()],
        Lang::En,
        &Redactor::full(),
    )
    .unwrap();
    assert!(std::fs::read_to_string(files.html)
        .unwrap()
        .contains("<svg"));
    assert!(std::fs::read_to_string(files.markdown)
        .unwrap()
        .starts_with("# wana run report"));
}
