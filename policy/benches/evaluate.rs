//! Decisions per second for a 20-statement identity policy, alone and with a permissions
//! boundary and SCPs on three levels (root, OU, account) in play.
//!
//! `cargo bench -p wana-policy --bench evaluate` (or `cargo xtask bench`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use wana_policy::{
    evaluate, EvaluationInput, NamedPolicy, OrganizationPolicies, Policy, PolicyKind, PolicyLevel,
    PrincipalInfo, RequestContext,
};

/// Twenty statements of the kinds real policies hold: service wildcards, exact actions, ARN
/// patterns, a NotAction, conditions, a policy variable and two denies.
fn twenty_statement_policy() -> String {
    let mut statements = vec![
        r#"{"Sid": "S3Home", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::home/${aws:username}/*"}"#.to_string(),
        r#"{"Sid": "Ec2Read", "Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}"#.to_string(),
        r#"{"Sid": "KmsUse", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "arn:aws:kms:*:111122223333:key/*", "Condition": {"StringEquals": {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}}}"#.to_string(),
        r#"{"Sid": "Grants", "Effect": "Allow", "Action": "kms:CreateGrant", "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": true}}}"#.to_string(),
        r#"{"Sid": "NoIam", "Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "arn:aws:logs:*:111122223333:*"}"#.to_string(),
        r#"{"Sid": "DenyOutsideOffice", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}}}"#.to_string(),
        r#"{"Sid": "DenyProdDelete", "Effect": "Deny", "Action": ["s3:DeleteObject", "s3:DeleteBucket"], "Resource": "arn:aws:s3:::prod*"}"#.to_string(),
    ];
    for i in 0..13 {
        statements.push(format!(
            r#"{{"Sid": "Service{i}", "Effect": "Allow", "Action": ["svc{i}:Get*", "svc{i}:List*", "svc{i}:Put{i}"], "Resource": "arn:aws:svc{i}:us-east-1:111122223333:thing/*"}}"#
        ));
    }
    assert_eq!(statements.len(), 20);
    format!(
        r#"{{"Version": "2012-10-17", "Statement": [{}]}}"#,
        statements.join(",")
    )
}

fn main() {
    let policy = Policy::parse(&twenty_statement_policy(), PolicyKind::Identity)
        .expect("valid benchmark policy");
    let policies = [NamedPolicy::new(
        "arn:aws:iam::111122223333:policy/Bench",
        policy,
    )];
    let principal = PrincipalInfo::user("111122223333", "arn:aws:iam::111122223333:user/bob");
    let questions: Vec<RequestContext> = [
        ("ec2:DescribeInstances", "*"),
        ("s3:GetObject", "arn:aws:s3:::home/bob/notes.txt"),
        ("iam:CreateUser", "arn:aws:iam::111122223333:user/eve"),
        (
            "kms:CreateGrant",
            "arn:aws:kms:us-east-1:111122223333:key/k",
        ),
        (
            "svc7:ListThings",
            "arn:aws:svc7:us-east-1:111122223333:thing/x",
        ),
        ("s3:DeleteObject", "arn:aws:s3:::prod-data/k"),
    ]
    .iter()
    .map(|(action, resource)| {
        RequestContext::new(principal.clone(), action, resource)
            .with_key("aws:username", "bob")
            .with_key("aws:SourceIp", "203.0.113.7")
            .with_key("kms:GrantIsForAWSResource", "true")
            .with_key("aws:PrincipalAccount", "111122223333")
    })
    .collect();
    let input = EvaluationInput {
        identity_policies: &policies,
        ..EvaluationInput::default()
    };
    let parse = |name: &str, json: &str| {
        NamedPolicy::new(name, Policy::parse(json, PolicyKind::Identity).expect("valid"))
    };
    let boundary = parse(
        "arn:aws:iam::111122223333:policy/Boundary",
        r#"{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:*", "ec2:*", "kms:*", "svc7:*"], "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}"#,
    );
    let full_aws_access = parse(
        "p-FullAWSAccess",
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#,
    );
    let deny_regions = parse(
        "p-regions",
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}}"#,
    );
    let root = [&full_aws_access, &deny_regions];
    let others = [&full_aws_access];
    let levels = [
        PolicyLevel { target: "r-ab12", policies: &root },
        PolicyLevel { target: "ou-ab12-workload", policies: &others },
        PolicyLevel { target: "111122223333", policies: &others },
    ];
    let guarded = EvaluationInput {
        permissions_boundary: Some(&boundary),
        service_control_policies: Some(OrganizationPolicies {
            management_account: "999988887777",
            levels: &levels,
        }),
        ..input
    };
    let guarded_questions: Vec<RequestContext> = questions
        .iter()
        .map(|q| q.clone().with_key("aws:RequestedRegion", "us-east-1"))
        .collect();

    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this without it, as a
    // smoke test, so it measures only briefly then.
    let full = std::env::args().any(|a| a == "--bench");
    println!("identity-based policy only:");
    measure(&questions, &input, full);
    println!("with a permissions boundary and SCPs on three levels:");
    measure(&guarded_questions, &guarded, full);
}

fn measure(questions: &[RequestContext], input: &EvaluationInput<'_>, full: bool) {
    for question in questions {
        println!(
            "  {:<22} {}",
            question.action(),
            evaluate(question, input).explain()
        );
    }
    let (warm_up, measure_for) = if full { (100_000, Duration::from_secs(2)) } else { (1_000, Duration::from_millis(50)) };
    for question in questions.iter().cycle().take(warm_up) {
        black_box(evaluate(black_box(question), input));
    }
    let mut decisions: u64 = 0;
    let mut allowed: u64 = 0;
    let start = Instant::now();
    while start.elapsed() < measure_for {
        for _ in 0..1000 {
            for question in questions {
                let decision = evaluate(black_box(question), black_box(input));
                allowed += u64::from(decision.is_allowed());
                decisions += 1;
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "  {decisions} decisions ({allowed} allowed) in {elapsed:.2}s: {:.0} decisions/second on one core",
        decisions as f64 / elapsed
    );
}
