//! Permissions boundaries, session policies, VPC endpoint policies and `NotPrincipal`, each case
//! with the AWS text it follows. "Guide" is the IAM User Guide; "evaluation logic" its page "How
//! AWS enforcement code logic evaluates requests to allow or deny access" (and the archived
//! awsdocs/iam-user-guide copy, reference_policies_evaluation-logic.md); "troubleshooting" its
//! page "Troubleshooting access denied error messages".

use wana_policy::{
    evaluate, Decision, EvaluationInput, Missing, NamedPolicy, Outcome, Policy, PolicyKind,
    PolicySource, PrincipalInfo, PrincipalMatch, RequestContext,
};

const ACCOUNT: &str = "111122223333";
const OTHER_ACCOUNT: &str = "444455556666";
const USER_ARN: &str = "arn:aws:iam::111122223333:user/JohnDoe";
const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/app";
const SESSION_ARN: &str = "arn:aws:sts::111122223333:assumed-role/app/ci";
const OBJECT: &str = "arn:aws:s3:::reports/2024/summary.csv";

fn policy(name: &str, statements: &str) -> NamedPolicy {
    let json = format!(r#"{{"Version": "2012-10-17", "Statement": [{statements}]}}"#);
    NamedPolicy::new(name, Policy::parse(&json, PolicyKind::Identity).unwrap())
}

fn resource(name: &str, statements: &str) -> NamedPolicy {
    let json = format!(r#"{{"Version": "2012-10-17", "Statement": [{statements}]}}"#);
    NamedPolicy::new(name, Policy::parse(&json, PolicyKind::Resource).unwrap())
}

fn allow(actions: &str) -> String {
    format!(r#"{{"Effect": "Allow", "Action": {actions}, "Resource": "*"}}"#)
}

fn deny(actions: &str) -> String {
    format!(r#"{{"Effect": "Deny", "Action": {actions}, "Resource": "*"}}"#)
}

fn user() -> PrincipalInfo {
    PrincipalInfo::user(ACCOUNT, USER_ARN)
}

fn session() -> PrincipalInfo {
    PrincipalInfo::role_session(ACCOUNT, SESSION_ARN, ROLE_ARN)
}

fn ask(caller: PrincipalInfo, action: &str, input: EvaluationInput<'_>) -> Decision {
    evaluate(&RequestContext::new(caller, action, OBJECT), &input)
}

fn reason(decision: &Decision) -> String {
    decision.aws_reason().unwrap_or_else(|| "allowed".into())
}

#[test]
fn a_boundary_caps_identity_policies() {
    // Guide, "Permissions boundaries for IAM entities": "An entity's permissions boundary allows
    // it to perform only the actions that are allowed by both its identity-based policies and
    // its permissions boundaries."
    let identity = [policy("admin", &allow(r#""s3:*""#))];
    let boundary = identity_boundary(&allow(r#""s3:GetObject""#));
    let input = EvaluationInput {
        identity_policies: &identity,
        permissions_boundary: Some(&boundary),
        ..Default::default()
    };
    assert!(ask(user(), "s3:GetObject", input).is_allowed());
    let denied = ask(user(), "s3:PutObject", input);
    assert_eq!(
        denied.outcome,
        Outcome::ImplicitDeny {
            missing: Missing::BoundaryAllow
        }
    );
    // Troubleshooting: "... because no permissions boundary allows the
    // codedeploy:ListDeployments action".
    assert_eq!(
        reason(&denied),
        "because no permissions boundary allows the s3:PutObject action"
    );
    assert_eq!(
        denied.deciding_layer(),
        Some(PolicySource::PermissionsBoundary)
    );
    // A boundary grants nothing by itself.
    let boundary_only = ask(
        user(),
        "s3:GetObject",
        EvaluationInput {
            permissions_boundary: Some(&boundary),
            ..Default::default()
        },
    );
    assert_eq!(
        reason(&boundary_only),
        "because no identity-based policy allows the s3:GetObject action"
    );
}

fn identity_boundary(statements: &str) -> NamedPolicy {
    policy("arn:aws:iam::111122223333:policy/Boundary", statements)
}

#[test]
fn explicit_denies_name_their_layer() {
    let identity = [policy("admin", &allow(r#""*""#))];
    let boundary = identity_boundary(&format!(
        "{}, {}",
        allow(r#""*""#),
        deny(r#""sagemaker:ListModels""#)
    ));
    let sessions = [policy("session", &deny(r#""ec2:DescribeImages""#))];
    let input = EvaluationInput {
        identity_policies: &identity,
        permissions_boundary: Some(&boundary),
        session_policies: &sessions,
        ..Default::default()
    };
    // Troubleshooting: "sagemaker:ListModels with an explicit deny in a permissions boundary".
    let by_boundary = ask(session(), "sagemaker:ListModels", input);
    assert_eq!(
        by_boundary.outcome,
        Outcome::ExplicitDeny {
            by: PolicySource::PermissionsBoundary
        }
    );
    assert_eq!(
        reason(&by_boundary),
        "with an explicit deny in a permissions boundary"
    );
    // Recorded AWS answer (Terraform log quoted in a public repository): "... is not authorized
    // to perform: ec2:DescribeImages with an explicit deny in a session policy".
    let by_session = ask(session(), "ec2:DescribeImages", input);
    assert_eq!(
        reason(&by_session),
        "with an explicit deny in a session policy"
    );
    assert_eq!(
        by_session.deciding_statement().map(|entry| entry.source),
        Some(PolicySource::Session)
    );
}

#[test]
fn session_policies_cap_the_role_and_grant_nothing() {
    // STS AssumeRole API reference, `Policy`/`PolicyArns`: "The resulting session's permissions
    // are the intersection of the role's identity-based policy and the session policies. [...]
    // You cannot use session policies to grant more permissions than those allowed by the
    // identity-based policy of the role that is being assumed."
    let role_policies = [policy(
        "role",
        &allow(r#"["s3:GetObject", "s3:PutObject"]"#),
    )];
    let inline = policy("session:inline", &allow(r#""s3:GetObject""#));
    let managed = policy(
        "arn:aws:iam::111122223333:policy/Extra",
        &allow(r#""iam:CreateUser""#),
    );
    let sessions = [inline, managed];
    let input = EvaluationInput {
        identity_policies: &role_policies,
        session_policies: &sessions,
        ..Default::default()
    };
    assert!(ask(session(), "s3:GetObject", input).is_allowed());
    // Troubleshooting: "... because no session policy allows the codecommit:ListRepositories
    // action".
    assert_eq!(
        reason(&ask(session(), "s3:PutObject", input)),
        "because no session policy allows the s3:PutObject action"
    );
    assert_eq!(
        reason(&ask(session(), "iam:CreateUser", input)),
        "because no identity-based policy allows the iam:CreateUser action"
    );
    // Without session policies the role's policies alone decide ("If there is no session
    // policy, the code checks whether the principal is a role session [...] Allowed").
    let unscoped = EvaluationInput {
        session_policies: &[],
        ..input
    };
    assert!(ask(session(), "s3:PutObject", unscoped).is_allowed());
}

/// Evaluation logic, "Resource-based policies and implicit denies in other policy types (same
/// account)": what a bucket policy allow is worth depends on whom it names.
#[test]
fn same_account_resource_grants_and_the_guardrails() {
    let boundary = identity_boundary(&allow(r#""ec2:*""#));
    let sessions = [policy("session", &allow(r#""ec2:*""#))];
    let bucket = |principal: &str| {
        resource(
            "bucket-policy",
            &format!(
                r#"{{"Effect": "Allow", "Principal": {{"AWS": "{principal}"}}, "Action": "s3:GetObject", "Resource": "{OBJECT}"}}"#
            ),
        )
    };
    fn guarded<'a>(
        bucket: &'a NamedPolicy,
        boundary: &'a NamedPolicy,
        sessions: &'a [NamedPolicy],
    ) -> EvaluationInput<'a> {
        EvaluationInput {
            resource_policy: Some(bucket),
            permissions_boundary: Some(boundary),
            session_policies: sessions,
            ..Default::default()
        }
    }
    let input = |bucket| guarded(bucket, &boundary, &sessions);

    // "IAM role session – [...] Permissions granted directly to a session are not limited by an
    // implicit deny in an identity-based policy, a permissions boundary, or session policy."
    let to_session = bucket(SESSION_ARN);
    let decision = ask(session(), "s3:GetObject", input(&to_session));
    assert!(decision.is_allowed(), "{}", decision.explain());
    assert_eq!(
        decision.deciding_statement().unwrap().matched_via,
        Some(PrincipalMatch::Direct)
    );

    // "IAM role – Resource-based policies that grant permissions to an IAM role ARN are
    // limited by an implicit deny in a permissions boundary or session policy."
    let to_role = bucket(ROLE_ARN);
    assert_eq!(
        reason(&ask(session(), "s3:GetObject", input(&to_role))),
        "because no permissions boundary allows the s3:GetObject action"
    );
    let boundary_allows_s3 = identity_boundary(&allow(r#""s3:*""#));
    let within_boundary = EvaluationInput {
        permissions_boundary: Some(&boundary_allows_s3),
        ..input(&to_role)
    };
    assert_eq!(
        reason(&ask(session(), "s3:GetObject", within_boundary)),
        "because no session policy allows the s3:GetObject action"
    );
    // With neither guardrail the role grant needs no identity-based allow.
    let bare = EvaluationInput {
        resource_policy: Some(&to_role),
        ..Default::default()
    };
    assert!(ask(session(), "s3:GetObject", bare).is_allowed());

    // "IAM user – [...] resource-based policies that grant permissions to an IAM user ARN [...]
    // are not limited by an implicit deny in an identity-based policy or permissions boundary."
    let to_user = bucket(USER_ARN);
    assert!(ask(user(), "s3:GetObject", input(&to_user)).is_allowed());

    // Naming the account delegates to the caller's own policies, guardrails included.
    let to_account = bucket(ACCOUNT);
    let identity_allows = [policy("reader", &allow(r#""s3:GetObject""#))];
    let delegated = EvaluationInput {
        identity_policies: &identity_allows,
        ..input(&to_account)
    };
    assert_eq!(
        reason(&ask(user(), "s3:GetObject", delegated)),
        "because no permissions boundary allows the s3:GetObject action"
    );
}

#[test]
fn across_accounts_a_direct_grant_does_not_bypass_the_callers_boundary() {
    // "Cross-account policy evaluation logic": the requester's account must allow the request
    // with its identity-based policies; the bypass of implicit denies in boundaries is
    // documented for the same account only.
    let bucket = resource(
        "bucket-policy",
        &format!(
            r#"{{"Effect": "Allow", "Principal": {{"AWS": "{SESSION_ARN}"}}, "Action": "s3:GetObject", "Resource": "{OBJECT}"}}"#
        ),
    );
    let role_policies = [policy("role", &allow(r#""s3:*""#))];
    let boundary = identity_boundary(&allow(r#""ec2:*""#));
    let input = EvaluationInput {
        identity_policies: &role_policies,
        resource_policy: Some(&bucket),
        resource_account: Some(OTHER_ACCOUNT),
        permissions_boundary: Some(&boundary),
        ..Default::default()
    };
    assert_eq!(
        reason(&ask(session(), "s3:GetObject", input)),
        "because no permissions boundary allows the s3:GetObject action"
    );
    let no_boundary = EvaluationInput {
        permissions_boundary: None,
        ..input
    };
    assert!(ask(session(), "s3:GetObject", no_boundary).is_allowed());
}

#[test]
fn vpc_endpoint_policies_must_allow_too() {
    // Troubleshooting: "codecommit:ListRepositories because no VPC endpoint policy allows the
    // codecommit:ListRepositories action" and "... with an explicit deny in a VPC endpoint
    // policy".
    let identity = [policy("admin", &allow(r#""*""#))];
    let endpoint = resource(
        "vpce-0123",
        r#"{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"},
           {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "*"}"#,
    );
    let input = EvaluationInput {
        identity_policies: &identity,
        vpc_endpoint_policy: Some(&endpoint),
        ..Default::default()
    };
    assert!(ask(user(), "s3:GetObject", input).is_allowed());
    assert_eq!(
        reason(&ask(user(), "s3:PutObject", input)),
        "because no VPC endpoint policy allows the s3:PutObject action"
    );
    assert_eq!(
        reason(&ask(user(), "s3:DeleteObject", input)),
        "with an explicit deny in a VPC endpoint policy"
    );
}

#[test]
fn the_whole_sentence_as_the_troubleshooting_page_prints_it() {
    let context = RequestContext::new(
        PrincipalInfo::user("123456789012", "arn:aws:iam::123456789012:user/JohnDoe"),
        "codedeploy:ListDeployments",
        "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*",
    );
    let identity = [policy("admin", &allow(r#""*""#))];
    let boundary = identity_boundary(&allow(r#""s3:*""#));
    let decision = evaluate(
        &context,
        &EvaluationInput {
            identity_policies: &identity,
            permissions_boundary: Some(&boundary),
            ..Default::default()
        },
    );
    assert_eq!(
        decision
            .access_denied_message(
                "arn:aws:iam::123456789012:user/JohnDoe",
                "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*"
            )
            .as_deref(),
        Some(
            "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \
             codedeploy:ListDeployments on resource: \
             arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* because no \
             permissions boundary allows the codedeploy:ListDeployments action"
        )
    );
    assert!(decision
        .explain()
        .ends_with("denied implicitly: no permissions boundary allows it"));
}

#[test]
fn allow_with_not_principal_never_grants_to_whom_it_names() {
    // Guide, "AWS JSON policy elements: NotPrincipal": "NotPrincipal must be used with
    // "Effect":"Deny". Using it with "Effect":"Allow" is not supported." Issue 13: wana used to
    // let this bucket policy grant the very user it names.
    let named_user = resource(
        "bucket-policy",
        &format!(
            r#"{{"Effect": "Allow", "NotPrincipal": {{"AWS": "{USER_ARN}"}}, "Action": "s3:GetObject", "Resource": "{OBJECT}"}}"#
        ),
    );
    let input = EvaluationInput {
        resource_policy: Some(&named_user),
        ..Default::default()
    };
    let decision = ask(user(), "s3:GetObject", input);
    assert!(!decision.is_allowed(), "{}", decision.explain());
    // Someone it does not name is matched as anyone.
    let other = PrincipalInfo::user(ACCOUNT, "arn:aws:iam::111122223333:user/other");
    assert!(ask(other, "s3:GetObject", input).is_allowed());

    // Naming the role or the account excludes its sessions too.
    for named in [ROLE_ARN, ACCOUNT, "arn:aws:iam::111122223333:root"] {
        let policy = resource(
            "bucket-policy",
            &format!(
                r#"{{"Effect": "Allow", "NotPrincipal": {{"AWS": "{named}"}}, "Action": "s3:GetObject", "Resource": "{OBJECT}"}}"#
            ),
        );
        let decision = ask(
            session(),
            "s3:GetObject",
            EvaluationInput {
                resource_policy: Some(&policy),
                ..Default::default()
            },
        );
        assert!(!decision.is_allowed(), "{named}: {}", decision.explain());
    }
}

#[test]
fn deny_with_not_principal_always_denies_a_caller_with_a_boundary() {
    // Guide, NotPrincipal: "The NotPrincipal element with a Deny effect will always deny any
    // IAM principal that has a permissions boundary policy attached, regardless of the values
    // specified in the NotPrincipal element."
    let bucket = resource(
        "bucket-policy",
        &format!(
            r#"{{"Effect": "Deny", "NotPrincipal": {{"AWS": ["{USER_ARN}", "arn:aws:iam::{ACCOUNT}:root"]}}, "Action": "s3:*", "Resource": "{OBJECT}"}}"#
        ),
    );
    let identity = [policy("reader", &allow(r#""s3:GetObject""#))];
    let boundary = identity_boundary(&allow(r#""s3:*""#));
    let without = EvaluationInput {
        identity_policies: &identity,
        resource_policy: Some(&bucket),
        ..Default::default()
    };
    assert!(ask(user(), "s3:GetObject", without).is_allowed());
    let with = EvaluationInput {
        permissions_boundary: Some(&boundary),
        ..without
    };
    assert_eq!(
        reason(&ask(user(), "s3:GetObject", with)),
        "with an explicit deny in a resource-based policy"
    );
}
