//! `explain`: the denied calls of a trap's run on the emulator, with who made them, the
//! policies consulted and what decided. The text of one trap is kept as a snapshot (fully
//! redacted) in `tests/snapshots/` (not the workspace's `snapshots/`, which holds run outcomes
//! only).

use wana_harness::{
    explanation::{explain_on_emulator, ExplainedCall, Origin},
    BehaviourProfile, Redactor, Verdict,
};
use wana_scenarios::{cmk_start_external_role as cmk, cross_account_ami_asg as ami, instance_profile_ssm as ssm};

fn only<'a>(calls: &'a [ExplainedCall], action: &str) -> Vec<&'a ExplainedCall> {
    calls.iter().filter(|c| c.call.action == action).collect()
}

/// The trap's failure: EC2's CreateGrant with the role session's identity, refused because the
/// key policy only delegates to IAM and the role's policies do not allow it. No statement
/// allowed; the key policy and the key's grants were consulted.
#[tokio::test]
async fn cmk_start_external_role_names_the_grant_ec2_asked_for_the_caller() {
    let explanation = explain_on_emulator(&cmk::SCENARIO, BehaviourProfile::Current).await.unwrap();
    assert_eq!(explanation.verdict, Verdict::ReproducedAndFixed);
    let grants = only(&explanation.denied_calls, "kms:CreateGrant");
    let [denied] = grants.as_slice() else { panic!("one refused grant: {:#?}", explanation.denied_calls) };
    assert_eq!(
        denied.origin,
        Origin::ForwardAccess { service: "ec2.us-east-1.amazonaws.com".into(), caller_assumed_by: None }
    );
    let call = &denied.call;
    assert_eq!(call.principal, format!("arn:aws:sts::333333333333:assumed-role/{}/{}", cmk::ROLE_NAME, cmk::SESSION_NAME));
    assert!(call.resource.starts_with("arn:aws:kms:us-east-1:333333333333:key/"), "{}", call.resource);
    let kinds: Vec<&str> = call.consulted.iter().map(|c| c.kind.as_str()).collect();
    assert_eq!(kinds, ["identity policy", "key policy", "grants"]);
    assert_eq!(call.consulted[0].name, format!("inline:{}/{}", cmk::ROLE_NAME, cmk::ROLE_POLICY_NAME));
    assert_eq!(call.consulted[1].name, format!("key policy of {}", call.resource));
    assert_eq!(call.deciding_statement, None, "no statement allowed");
    assert!(call.explanation.contains("denied implicitly"), "{}", call.explanation);

    let text = explanation.render_text(&Redactor::full());
    assert!(text.contains("decided by no statement allowed"), "{text}");
    // Stable across runs once redacted, so it can be a snapshot.
    let again = explain_on_emulator(&cmk::SCENARIO, BehaviourProfile::Current).await.unwrap();
    assert_eq!(again.render_text(&Redactor::full()), text);
    insta::with_settings!({
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("explain-cmk-start-external-role", text);
    });
}

/// Auto Scaling launches as its service-linked role, and EC2 asks KMS with that session's
/// identity: the explanation says so.
#[tokio::test]
async fn cross_account_ami_asg_names_auto_scalings_role_session() {
    let explanation = explain_on_emulator(&ami::SCENARIO, BehaviourProfile::Current).await.unwrap();
    let grants = only(&explanation.denied_calls, "kms:CreateGrant");
    assert!(!grants.is_empty(), "{:#?}", explanation.denied_calls);
    for denied in grants {
        assert_eq!(
            denied.origin,
            Origin::ForwardAccess {
                service: "ec2.us-east-1.amazonaws.com".into(),
                caller_assumed_by: Some("autoscaling.amazonaws.com".into())
            }
        );
        assert!(denied.call.principal.ends_with(&format!("assumed-role/{}/AutoScaling", ami::SERVICE_LINKED_ROLE)));
        assert!(denied.call.consulted.iter().any(|c| c.kind == "key policy"), "{:?}", denied.call.consulted);
    }
    let text = explanation.render_text(&Redactor::secrets_only());
    assert!(text.contains("EC2 (ec2.us-east-1.amazonaws.com) for Auto Scaling's role session"), "{text}");
}

/// The SSM Agent registers with the instance role's session, which may not: an inner call of
/// the agent, with no policy to consult.
#[tokio::test]
async fn instance_profile_ssm_names_the_agent_and_its_instance_role() {
    let explanation = explain_on_emulator(&ssm::SCENARIO, BehaviourProfile::Current).await.unwrap();
    let refused = only(&explanation.denied_calls, "ssm:UpdateInstanceInformation");
    let first = refused.first().unwrap_or_else(|| panic!("{:#?}", explanation.denied_calls));
    let Origin::ServiceRoleSession { service, instance: Some(instance), .. } = &first.origin else {
        panic!("{:?}", first.origin)
    };
    assert_eq!(service, "ec2.amazonaws.com");
    assert!(first.call.principal.ends_with(&format!("/{instance}")), "{}", first.call.principal);
    assert!(first.origin.describe(&first.call.action).starts_with(&format!("the SSM Agent on {instance}, as its instance role")));
    assert_eq!(first.call.deciding_statement, None);
}

/// Under legacy-2016 CloudWatch recovers with the alarm creator's stored role-session key,
/// which EC2 cannot authenticate: denied before any policy, by a service with a stored key.
#[tokio::test]
async fn alarm_recover_names_the_stored_key_refused_at_authentication() {
    let explanation = explain_on_emulator(&wana_scenarios::alarm_recover::AlarmRecover, BehaviourProfile::Legacy2016)
        .await
        .unwrap();
    let recover = only(&explanation.denied_calls, "ec2:RecoverInstances");
    let [denied] = recover.as_slice() else { panic!("{:#?}", explanation.denied_calls) };
    assert_eq!(denied.origin, Origin::StoredCredential);
    assert_eq!(denied.call.consulted.iter().map(|c| c.kind.as_str()).collect::<Vec<_>>(), ["authentication"]);
    let text = explanation.render_text(&Redactor::full());
    assert!(text.contains("decided by authentication, before any policy"), "{text}");
}
