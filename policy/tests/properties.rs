//! Property tests: matchers against naive references, robustness, and evaluation invariants.

use proptest::prelude::*;
use serde_json::{json, Value};
use wana_policy::{
    arn_match, evaluate, fuzz_parse, wildcard_match, Decision, EvaluationInput, NamedPolicy,
    OrganizationPolicies, Outcome, Policy, PolicyKind, PolicyLevel, PrincipalInfo, RequestContext,
};

/// Textbook recursive glob: the specification the fast matcher must agree with.
fn naive_glob(pattern: &[char], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => {
            naive_glob(rest, text) || (!text.is_empty() && naive_glob(pattern, &text[1..]))
        }
        Some(('?', rest)) => !text.is_empty() && naive_glob(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && naive_glob(rest, &text[1..]),
    }
}

/// Recursive ARN glob: a `*` in the middle of a segment (not last, not before `:`) cannot
/// consume a colon.
fn naive_arn(pattern: &[char], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => {
            let crosses = matches!(rest.first(), None | Some(':'));
            naive_arn(rest, text)
                || (!text.is_empty()
                    && (crosses || text[0] != ':')
                    && naive_arn(pattern, &text[1..]))
        }
        Some(('?', rest)) => !text.is_empty() && naive_arn(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && naive_arn(rest, &text[1..]),
    }
}

fn chars_from(alphabet: &'static [char], max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(alphabet), 0..max)
        .prop_map(|cs| cs.into_iter().collect())
}

const PATTERN_CHARS: &[char] = &['a', 'b', ':', '/', 'é', '*', '?'];
const TEXT_CHARS: &[char] = &['a', 'b', ':', '/', 'é'];

const ACCOUNT: &str = "111122223333";
const OTHER_ACCOUNT: &str = "444455556666";

const ACTIONS: &[&str] = &[
    "*",
    "s3:*",
    "s3:Get*",
    "s3:GetObject",
    "iam:CreateUser",
    "iam:*",
    "kms:*",
    "kms:CreateGrant",
    "kms:ReEncrypt*",
    "ec2:RunInstances",
    "ec2:?unInstances",
    "sts:AssumeRole",
];
const REQUEST_ACTIONS: &[&str] = &[
    "s3:GetObject",
    "S3:PutObject",
    "iam:CreateUser",
    "kms:CreateGrant",
    "kms:ReEncryptFrom",
    "ec2:RunInstances",
    "sts:AssumeRole",
];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b/${aws:username}/*",
    "arn:aws:kms:*:111122223333:key/*",
    "arn:aws:iam::111122223333:user/*",
    "arn:aws:iam::*:role/R*",
];
const REQUEST_RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::b/bob/k",
    "arn:aws:kms:us-east-1:111122223333:key/k",
    "arn:aws:iam::111122223333:user/bob",
    "arn:aws:iam::111122223333:role/Runner",
];

fn condition_strategy() -> impl Strategy<Value = Option<Value>> {
    proptest::option::of(proptest::sample::select(vec![
        json!({"StringEquals": {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}}),
        json!({"Bool": {"kms:GrantIsForAWSResource": true}}),
        json!({"StringNotEquals": {"aws:username": ["eve", "${aws:PrincipalTag/x}"]}}),
        json!({"ForAnyValue:StringLike": {"aws:TagKeys": "t*"}}),
        json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}}),
        json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
        json!({"NotIpAddress": {"aws:SourceIp": ["2001:db8::/32"]}}),
        json!({"DateLessThan": {"aws:CurrentTime": "2025-01-01T00:00:00Z"}}),
        json!({"Null": {"aws:TokenIssueTime": "true"}}),
        json!({"StringEqualsIfExists": {"sts:ExternalId": "x"}}),
        json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}}),
    ]))
}

fn principal_strategy() -> impl Strategy<Value = Value> {
    proptest::sample::select(vec![
        json!("*"),
        json!({"AWS": "*"}),
        json!({"AWS": ACCOUNT}),
        json!({"AWS": format!("arn:aws:iam::{OTHER_ACCOUNT}:root")}),
        json!({"AWS": "arn:aws:iam::111122223333:role/Runner"}),
        json!({"AWS": ["arn:aws:iam::111122223333:user/bob", "arn:aws:sts::111122223333:assumed-role/Runner/s"]}),
        json!({"Service": "ec2.amazonaws.com"}),
    ])
}

fn statement_strategy(with_principal: bool) -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(proptest::sample::select(ACTIONS), 1..3),
        any::<bool>(),
        proptest::collection::vec(proptest::sample::select(RESOURCES), 1..3),
        any::<bool>(),
        condition_strategy(),
        principal_strategy(),
        any::<bool>(),
    )
        .prop_map(
            move |(
                allow,
                not_action,
                actions,
                not_resource,
                resources,
                omit_resource,
                condition,
                principal,
                not_principal,
            )| {
                let mut statement = serde_json::Map::new();
                statement.insert("Effect".into(), json!(if allow { "Allow" } else { "Deny" }));
                statement.insert(
                    (if not_action { "NotAction" } else { "Action" }).into(),
                    json!(actions),
                );
                if !(with_principal && omit_resource) {
                    statement.insert(
                        (if not_resource {
                            "NotResource"
                        } else {
                            "Resource"
                        })
                        .into(),
                        json!(resources),
                    );
                }
                if let Some(condition) = condition {
                    statement.insert("Condition".into(), condition);
                }
                if with_principal {
                    statement.insert(
                        (if not_principal {
                            "NotPrincipal"
                        } else {
                            "Principal"
                        })
                        .into(),
                        principal,
                    );
                }
                Value::Object(statement)
            },
        )
}

fn policy_json(statements: &[Value]) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

#[derive(Debug, Clone)]
struct Scenario {
    identity: Vec<Value>,
    resource: Option<Vec<Value>>,
    caller: usize,
    action: &'static str,
    resource_arn: &'static str,
    resource_account: Option<&'static str>,
    authoritative: bool,
    tag_keys: Vec<String>,
}

fn scenario_strategy() -> impl Strategy<Value = Scenario> {
    (
        proptest::collection::vec(statement_strategy(false), 0..4),
        proptest::option::of(proptest::collection::vec(statement_strategy(true), 1..4)),
        0usize..4,
        proptest::sample::select(REQUEST_ACTIONS),
        proptest::sample::select(REQUEST_RESOURCES),
        proptest::option::of(proptest::sample::select(vec![ACCOUNT, OTHER_ACCOUNT])),
        any::<bool>(),
        proptest::collection::vec(
            proptest::sample::select(vec!["team".to_string(), "env".to_string(), "x".to_string()]),
            0..3,
        ),
    )
        .prop_map(
            |(
                identity,
                resource,
                caller,
                action,
                resource_arn,
                resource_account,
                authoritative,
                tag_keys,
            )| Scenario {
                identity,
                resource,
                caller,
                action,
                resource_arn,
                resource_account,
                authoritative,
                tag_keys,
            },
        )
}

fn caller(index: usize) -> PrincipalInfo {
    match index {
        0 => PrincipalInfo::role_session(
            ACCOUNT,
            "arn:aws:sts::111122223333:assumed-role/Runner/s",
            "arn:aws:iam::111122223333:role/Runner",
        ),
        1 => PrincipalInfo::root(ACCOUNT),
        2 => PrincipalInfo::service("ec2.amazonaws.com"),
        _ => PrincipalInfo::user(OTHER_ACCOUNT, "arn:aws:iam::444455556666:user/bob"),
    }
}

fn run(scenario: &Scenario) -> Decision {
    run_with(scenario, &Guardrails::default())
}

/// The layers that only take permissions away, as generated statements.
#[derive(Debug, Clone, Default)]
struct Guardrails {
    boundary: Option<Vec<Value>>,
    sessions: Vec<Vec<Value>>,
    /// (management account, levels of policies of statements)
    scps: Option<(&'static str, Vec<Vec<Vec<Value>>>)>,
    rcps: Option<(&'static str, Vec<Vec<Vec<Value>>>)>,
    vpc_endpoint: Option<Vec<Value>>,
}

fn parsed(name: &str, statements: &[Value], kind: PolicyKind) -> NamedPolicy {
    NamedPolicy::new(
        name,
        Policy::parse(&policy_json(statements), kind).expect("generated policies are valid"),
    )
}

fn parsed_levels(levels: &[Vec<Vec<Value>>], kind: PolicyKind) -> Vec<Vec<NamedPolicy>> {
    levels
        .iter()
        .map(|level| {
            level
                .iter()
                .map(|statements| parsed("org", statements, kind))
                .collect()
        })
        .collect()
}

fn policy_strategy(with_principal: bool) -> impl Strategy<Value = Vec<Value>> {
    proptest::collection::vec(statement_strategy(with_principal), 1..3)
}

fn levels_strategy(with_principal: bool) -> impl Strategy<Value = Vec<Vec<Vec<Value>>>> {
    proptest::collection::vec(
        proptest::collection::vec(policy_strategy(with_principal), 0..3),
        1..4,
    )
}

const MANAGEMENT_ACCOUNTS: &[&str] = &[ACCOUNT, OTHER_ACCOUNT, "999988887777"];

fn guardrails_strategy() -> impl Strategy<Value = Guardrails> {
    (
        proptest::option::of(policy_strategy(false)),
        proptest::collection::vec(policy_strategy(false), 0..3),
        proptest::option::of((
            proptest::sample::select(MANAGEMENT_ACCOUNTS),
            levels_strategy(false),
        )),
        proptest::option::of((
            proptest::sample::select(MANAGEMENT_ACCOUNTS),
            levels_strategy(true),
        )),
        proptest::option::of(policy_strategy(true)),
    )
        .prop_map(
            |(boundary, sessions, scps, rcps, vpc_endpoint)| Guardrails {
                boundary,
                sessions,
                scps,
                rcps,
                vpc_endpoint,
            },
        )
}

fn run_with(scenario: &Scenario, guardrails: &Guardrails) -> Decision {
    let boundary = guardrails
        .boundary
        .as_ref()
        .map(|statements| parsed("boundary", statements, PolicyKind::Identity));
    let sessions: Vec<NamedPolicy> = guardrails
        .sessions
        .iter()
        .map(|statements| parsed("session", statements, PolicyKind::Identity))
        .collect();
    let vpc_endpoint = guardrails
        .vpc_endpoint
        .as_ref()
        .map(|statements| parsed("vpce", statements, PolicyKind::Resource));
    let scp_policies = guardrails
        .scps
        .as_ref()
        .map(|(_, levels)| parsed_levels(levels, PolicyKind::Identity))
        .unwrap_or_default();
    let rcp_policies = guardrails
        .rcps
        .as_ref()
        .map(|(_, levels)| parsed_levels(levels, PolicyKind::Resource))
        .unwrap_or_default();
    let scp_refs: Vec<Vec<&NamedPolicy>> =
        scp_policies.iter().map(|l| l.iter().collect()).collect();
    let rcp_refs: Vec<Vec<&NamedPolicy>> =
        rcp_policies.iter().map(|l| l.iter().collect()).collect();
    let scp_levels: Vec<PolicyLevel> = scp_refs
        .iter()
        .map(|policies| PolicyLevel {
            target: "scp-level",
            policies,
        })
        .collect();
    let rcp_levels: Vec<PolicyLevel> = rcp_refs
        .iter()
        .map(|policies| PolicyLevel {
            target: "rcp-level",
            policies,
        })
        .collect();
    let organization = |spec: &Option<(&'static str, Vec<Vec<Vec<Value>>>)>, levels| {
        spec.as_ref()
            .map(|(management_account, _)| OrganizationPolicies {
                management_account,
                levels,
            })
    };
    run_layers(
        scenario,
        EvaluationInput {
            permissions_boundary: boundary.as_ref(),
            session_policies: &sessions,
            service_control_policies: organization(&guardrails.scps, &scp_levels),
            resource_control_policies: organization(&guardrails.rcps, &rcp_levels),
            vpc_endpoint_policy: vpc_endpoint.as_ref(),
            ..EvaluationInput::default()
        },
    )
}

/// Evaluates the scenario's identity and resource policies with the other layers of `extra`.
fn run_layers(scenario: &Scenario, extra: EvaluationInput<'_>) -> Decision {
    let identity: Vec<NamedPolicy> = if scenario.identity.is_empty() {
        Vec::new()
    } else {
        vec![NamedPolicy::new(
            "identity",
            Policy::parse(&policy_json(&scenario.identity), PolicyKind::Identity)
                .expect("generated identity policies are valid"),
        )]
    };
    let resource = scenario.resource.as_ref().map(|statements| {
        NamedPolicy::new(
            "resource",
            Policy::parse(&policy_json(statements), PolicyKind::Resource)
                .expect("generated resource policies are valid"),
        )
    });
    let context = RequestContext::new(
        caller(scenario.caller),
        scenario.action,
        scenario.resource_arn,
    )
    .with_key("aws:username", "bob")
    .with_key("kms:ViaService", "ec2.us-east-1.amazonaws.com")
    .with_key("aws:SourceIp", "203.0.113.9")
    .with_key("aws:CurrentTime", "2024-06-01T00:00:00Z")
    .with_multi("aws:TagKeys", scenario.tag_keys.clone());
    evaluate(
        &context,
        &EvaluationInput {
            identity_policies: &identity,
            resource_policy: resource.as_ref(),
            resource_account: scenario.resource_account,
            resource_policy_is_authoritative: scenario.authoritative,
            ..extra
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn wildcard_matcher_agrees_with_the_naive_reference(pattern in chars_from(PATTERN_CHARS, 9), text in chars_from(TEXT_CHARS, 10)) {
        let p: Vec<char> = pattern.chars().collect();
        let t: Vec<char> = text.chars().collect();
        prop_assert_eq!(wildcard_match(&pattern, &text), naive_glob(&p, &t), "{:?} vs {:?}", pattern, text);
    }

    #[test]
    fn arn_matcher_agrees_with_the_naive_reference(pattern in chars_from(PATTERN_CHARS, 9), text in chars_from(TEXT_CHARS, 10)) {
        let p: Vec<char> = pattern.chars().collect();
        let t: Vec<char> = text.chars().collect();
        prop_assert_eq!(arn_match(&pattern, &text), naive_arn(&p, &t), "{:?} vs {:?}", pattern, text);
    }

    #[test]
    fn fuzz_parse_never_panics_on_bytes(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        fuzz_parse(&data);
    }

    #[test]
    fn fuzz_parse_never_panics_on_policy_shaped_text(
        statements in proptest::collection::vec(statement_strategy(true), 1..3),
        cut in any::<prop::sample::Index>(),
        junk in "[\\[\\]{}\":,*?$a-zA-Z0-9 /-]{0,12}",
    ) {
        let text = policy_json(&statements);
        fuzz_parse(text.as_bytes());
        let cut_at = cut.index(text.len() + 1);
        let mut mangled = text.as_bytes()[..cut_at].to_vec();
        mangled.extend_from_slice(junk.as_bytes());
        mangled.extend_from_slice(&text.as_bytes()[cut_at..]);
        fuzz_parse(&mangled);
    }

    #[test]
    fn evaluation_is_deterministic(scenario in scenario_strategy()) {
        prop_assert_eq!(run(&scenario), run(&scenario));
    }

    #[test]
    fn adding_a_deny_never_turns_a_denial_into_an_allow(
        scenario in scenario_strategy(),
        extra in statement_strategy(false),
        to_resource in any::<bool>(),
        principal in principal_strategy(),
    ) {
        let before = run(&scenario);
        let mut deny = extra;
        deny["Effect"] = json!("Deny");
        let mut after_scenario = scenario.clone();
        match (&mut after_scenario.resource, to_resource) {
            (Some(statements), true) => {
                deny["Principal"] = principal;
                statements.push(deny);
            }
            _ => after_scenario.identity.push(deny),
        }
        let after = run(&after_scenario);
        if !before.is_allowed() {
            prop_assert!(!after.is_allowed(), "before: {} / after: {}", before.explain(), after.explain());
        }
        if matches!(before.outcome, Outcome::ExplicitDeny { .. }) {
            let explicit = matches!(after.outcome, Outcome::ExplicitDeny { .. });
            prop_assert!(explicit, "after: {}", after.explain());
        }
    }

    #[test]
    fn a_matching_deny_always_wins(scenario in scenario_strategy()) {
        let mut with_deny = scenario.clone();
        with_deny.identity.push(json!({"Sid": "DenyAll", "Effect": "Deny", "Action": "*", "Resource": "*"}));
        let decision = run(&with_deny);
        let explicit = matches!(decision.outcome, Outcome::ExplicitDeny { .. });
        prop_assert!(explicit, "{}", decision.explain());
        prop_assert!(decision.deciding_statement().is_some_and(|e| e.effect == wana_policy::Effect::Deny));
    }

    #[test]
    fn allow_everything_allows_any_action_unless_denied(
        service in "[a-z][a-z0-9-]{0,8}",
        name in "[A-Za-z][A-Za-z0-9]{0,12}",
        deny_pattern in proptest::option::of(proptest::sample::select(ACTIONS)),
    ) {
        let action = format!("{service}:{name}");
        let mut statements = vec![json!({"Effect": "Allow", "Action": "*", "Resource": "*"})];
        if let Some(pattern) = deny_pattern {
            statements.push(json!({"Effect": "Deny", "Action": pattern, "Resource": "*"}));
        }
        let policies = [NamedPolicy::new("admin", Policy::parse(&policy_json(&statements), PolicyKind::Identity).unwrap())];
        let context = RequestContext::new(PrincipalInfo::user(ACCOUNT, "arn:aws:iam::111122223333:user/admin"), &action, "arn:aws:s3:::b/k");
        let decision = evaluate(&context, &EvaluationInput {
            identity_policies: &policies,
            resource_policy: None,
            resource_account: None,
            resource_policy_is_authoritative: false,
            ..EvaluationInput::default()
        });
        let denied = deny_pattern.is_some_and(|p| wildcard_match(&p.to_lowercase(), &action.to_lowercase()));
        prop_assert_eq!(decision.is_allowed(), !denied, "{} vs {:?}", action, deny_pattern);
    }

    // Monotonicity (issue 13): guardrail layers only ever take permissions away. Each property
    // starts from arbitrary other layers, so the layers also combine monotonically.

    #[test]
    fn adding_a_boundary_never_allows_more(
        scenario in scenario_strategy(),
        mut guardrails in guardrails_strategy(),
        boundary in policy_strategy(false),
    ) {
        guardrails.boundary = None;
        let before = run_with(&scenario, &guardrails);
        guardrails.boundary = Some(boundary);
        let after = run_with(&scenario, &guardrails);
        prop_assert!(before.is_allowed() || !after.is_allowed(), "before: {} / after: {}", before.explain(), after.explain());
    }

    #[test]
    fn passing_session_policies_never_allows_more(
        scenario in scenario_strategy(),
        mut guardrails in guardrails_strategy(),
        sessions in proptest::collection::vec(policy_strategy(false), 1..3),
    ) {
        guardrails.sessions = Vec::new();
        let before = run_with(&scenario, &guardrails);
        guardrails.sessions = sessions;
        let after = run_with(&scenario, &guardrails);
        prop_assert!(before.is_allowed() || !after.is_allowed(), "before: {} / after: {}", before.explain(), after.explain());
    }

    #[test]
    fn enabling_scps_or_rcps_never_allows_more(
        scenario in scenario_strategy(),
        mut guardrails in guardrails_strategy(),
        management in proptest::sample::select(MANAGEMENT_ACCOUNTS),
        levels in levels_strategy(false),
        resource_levels in levels_strategy(true),
    ) {
        guardrails.scps = None;
        let before = run_with(&scenario, &guardrails);
        guardrails.scps = Some((management, levels));
        let after = run_with(&scenario, &guardrails);
        prop_assert!(before.is_allowed() || !after.is_allowed(), "SCPs: before: {} / after: {}", before.explain(), after.explain());

        guardrails.rcps = None;
        let before = run_with(&scenario, &guardrails);
        guardrails.rcps = Some((management, resource_levels));
        let after = run_with(&scenario, &guardrails);
        prop_assert!(before.is_allowed() || !after.is_allowed(), "RCPs: before: {} / after: {}", before.explain(), after.explain());
    }

    #[test]
    fn attaching_an_scp_on_a_new_level_or_a_deny_anywhere_never_allows_more(
        scenario in scenario_strategy(),
        guardrails in guardrails_strategy(),
        level in proptest::collection::vec(policy_strategy(false), 0..3),
        extra in statement_strategy(false),
        layer in 0usize..4,
    ) {
        let before = run_with(&scenario, &guardrails);
        let mut after_guardrails = guardrails.clone();
        if let Some((_, levels)) = &mut after_guardrails.scps {
            levels.push(level);
        }
        let mut deny = extra;
        deny["Effect"] = json!("Deny");
        match layer {
            0 => after_guardrails.boundary.get_or_insert_with(Vec::new).push(deny),
            1 => after_guardrails.sessions.push(vec![deny]),
            2 => {
                if let Some((_, levels)) = &mut after_guardrails.scps {
                    levels[0].push(vec![deny]);
                }
            }
            _ => {
                if let Some((_, levels)) = &mut after_guardrails.rcps {
                    deny["Principal"] = json!("*");
                    levels[0].push(vec![deny]);
                }
            }
        }
        let after = run_with(&scenario, &after_guardrails);
        prop_assert!(before.is_allowed() || !after.is_allowed(), "before: {} / after: {}", before.explain(), after.explain());
        if matches!(before.outcome, Outcome::ExplicitDeny { .. }) {
            let explicit = matches!(after.outcome, Outcome::ExplicitDeny { .. });
            prop_assert!(explicit, "after: {}", after.explain());
        }
    }

    #[test]
    fn guardrails_never_allow_what_the_other_policies_deny(
        scenario in scenario_strategy(),
        guardrails in guardrails_strategy(),
    ) {
        let without = run(&scenario);
        let with = run_with(&scenario, &guardrails);
        prop_assert!(without.is_allowed() || !with.is_allowed(), "without: {} / with: {}", without.explain(), with.explain());
    }
}
