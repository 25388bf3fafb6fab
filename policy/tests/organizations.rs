//! Service control policies and resource control policies, each case with the AWS text it
//! follows ("Organizations guide" is the AWS Organizations User Guide).

use wana_policy::{
    evaluate, Decision, EvaluationInput, Missing, NamedPolicy, OrganizationPolicies, Outcome,
    Policy, PolicyKind, PolicyLevel, PolicySource, PrincipalInfo, RequestContext,
};

const MANAGEMENT: &str = "999988887777";
const MEMBER: &str = "111122223333";
const OUTSIDER: &str = "444455556666";
const ROOT: &str = "r-ab12";
const OU: &str = "ou-ab12-workload";

fn scp(name: &str, statements: &str) -> NamedPolicy {
    let json = format!(r#"{{"Version": "2012-10-17", "Statement": [{statements}]}}"#);
    NamedPolicy::new(name, Policy::parse(&json, PolicyKind::Identity).unwrap())
}

fn rcp(name: &str, statements: &str) -> NamedPolicy {
    let json = format!(r#"{{"Version": "2012-10-17", "Statement": [{statements}]}}"#);
    NamedPolicy::new(name, Policy::parse(&json, PolicyKind::Resource).unwrap())
}

fn full_aws_access() -> NamedPolicy {
    // The AWS managed SCP attached to every target when SCPs are enabled.
    scp(
        "p-FullAWSAccess",
        r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}"#,
    )
}

fn rcp_full_aws_access() -> NamedPolicy {
    // Organizations guide, "Resource control policy examples": RCPFullAWSAccess.
    rcp(
        "p-RCPFullAWSAccess",
        r#"{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}"#,
    )
}

fn admin() -> [NamedPolicy; 1] {
    [scp(
        "AdministratorAccess",
        r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}"#,
    )]
}

fn user(account: &str) -> PrincipalInfo {
    PrincipalInfo::user(account, format!("arn:aws:iam::{account}:user/dev"))
}

fn ask(
    caller: PrincipalInfo,
    action: &str,
    resource: &str,
    input: EvaluationInput<'_>,
) -> Decision {
    evaluate(&RequestContext::new(caller, action, resource), &input)
}

fn reason(decision: &Decision) -> String {
    decision.aws_reason().unwrap_or_else(|| "allowed".into())
}

/// Organizations guide, "SCP evaluation": to allow a permission for an account "there must be
/// an explicit Allow statement at every level from the root through each OU in the direct path
/// to the account (including the target account itself)".
#[test]
fn every_level_of_the_path_must_allow() {
    let full = full_aws_access();
    let ec2_only = scp(
        "p-ec2only",
        r#"{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}"#,
    );
    let root = [&full];
    let ou = [&ec2_only];
    let account = [&full];
    let levels = [
        PolicyLevel {
            target: ROOT,
            policies: &root,
        },
        PolicyLevel {
            target: OU,
            policies: &ou,
        },
        PolicyLevel {
            target: MEMBER,
            policies: &account,
        },
    ];
    let identity = admin();
    let input = EvaluationInput {
        identity_policies: &identity,
        service_control_policies: Some(OrganizationPolicies {
            management_account: MANAGEMENT,
            levels: &levels,
        }),
        ..Default::default()
    };
    assert!(ask(user(MEMBER), "ec2:RunInstances", "*", input).is_allowed());
    let denied = ask(user(MEMBER), "ssm:GetParameter", "*", input);
    assert_eq!(
        denied.outcome,
        Outcome::ImplicitDeny {
            missing: Missing::ServiceControlAllow { level: 1 }
        }
    );
    assert_eq!(denied.missing_at.as_deref(), Some(OU));
    // Recorded AWS answer (a CDK deployment in a sandbox account, quoted in a public
    // repository): "... is not authorized to perform: ssm:GetParameter on resource: ... because
    // no service control policy allows the ssm:GetParameter action".
    assert_eq!(
        reason(&denied),
        "because no service control policy allows the ssm:GetParameter action"
    );
    assert!(denied.explain().contains(OU), "{}", denied.explain());

    // An empty level (FullAWSAccess detached and nothing in its place) allows nothing.
    let empty: [&NamedPolicy; 0] = [];
    let bare = [
        PolicyLevel {
            target: ROOT,
            policies: &root,
        },
        PolicyLevel {
            target: MEMBER,
            policies: &empty,
        },
    ];
    let input = EvaluationInput {
        service_control_policies: Some(OrganizationPolicies {
            management_account: MANAGEMENT,
            levels: &bare,
        }),
        ..input
    };
    assert_eq!(
        ask(user(MEMBER), "ec2:RunInstances", "*", input).outcome,
        Outcome::ImplicitDeny {
            missing: Missing::ServiceControlAllow { level: 1 }
        }
    );
}

#[test]
fn scps_grant_nothing_and_their_denies_reach_the_root_user() {
    // Organizations guide, "Service control policies": SCPs "don't grant permissions"; "SCPs
    // affect [...] the root user" of member accounts.
    let full = full_aws_access();
    let deny_leave = scp(
        "p-denyleave",
        r#"{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}"#,
    );
    let root = [&full, &deny_leave];
    let account = [&full];
    let levels = [
        PolicyLevel {
            target: ROOT,
            policies: &root,
        },
        PolicyLevel {
            target: MEMBER,
            policies: &account,
        },
    ];
    let scps = OrganizationPolicies {
        management_account: MANAGEMENT,
        levels: &levels,
    };
    let input = EvaluationInput {
        service_control_policies: Some(scps),
        ..Default::default()
    };
    assert_eq!(
        reason(&ask(user(MEMBER), "s3:ListAllMyBuckets", "*", input)),
        "because no identity-based policy allows the s3:ListAllMyBuckets action"
    );
    let by_scp = ask(
        PrincipalInfo::root(MEMBER),
        "organizations:LeaveOrganization",
        "*",
        input,
    );
    // IAM troubleshooting page: "codecommit:ListRepositories with an explicit deny in a service
    // control policy".
    assert_eq!(
        reason(&by_scp),
        "with an explicit deny in a service control policy"
    );
    assert_eq!(by_scp.deciding_layer(), Some(PolicySource::ServiceControl));
    assert_eq!(by_scp.deciding_statement().unwrap().policy, "p-denyleave");
    // The root user's implicit permissions still need the SCPs.
    assert!(ask(
        PrincipalInfo::root(MEMBER),
        "s3:ListAllMyBuckets",
        "*",
        input
    )
    .is_allowed());
}

#[test]
fn who_scps_do_not_restrict() {
    // Organizations guide, "Service control policies": SCPs do not affect users or roles in the
    // management account, nor service-linked roles; they restrict IAM principals of member
    // accounts only, so AWS service principals are outside them.
    let deny_all = scp(
        "p-denyall",
        r#"{"Effect": "Deny", "Action": "*", "Resource": "*"}"#,
    );
    let root = [&deny_all];
    let levels = [PolicyLevel {
        target: ROOT,
        policies: &root,
    }];
    let identity = admin();
    let input = EvaluationInput {
        identity_policies: &identity,
        service_control_policies: Some(OrganizationPolicies {
            management_account: MANAGEMENT,
            levels: &levels,
        }),
        ..Default::default()
    };
    assert_eq!(
        reason(&ask(user(MEMBER), "s3:GetObject", "*", input)),
        "with an explicit deny in a service control policy"
    );
    assert!(ask(user(MANAGEMENT), "s3:GetObject", "*", input).is_allowed());
    let service_linked = PrincipalInfo::role_session(
        MEMBER,
        "arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling",
        "arn:aws:iam::111122223333:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
    );
    assert!(ask(service_linked, "ec2:RunInstances", "*", input).is_allowed());
    let key_policy = rcp(
        "key-policy",
        r#"{"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "kms:Decrypt", "Resource": "*"}"#,
    );
    let for_service = EvaluationInput {
        resource_policy: Some(&key_policy),
        resource_account: Some(MEMBER),
        ..input
    };
    assert!(ask(
        PrincipalInfo::service("logs.amazonaws.com"),
        "kms:Decrypt",
        "*",
        for_service
    )
    .is_allowed());
}

/// The identity-perimeter RCP of AWS's data perimeter examples (KMS Developer Guide, "Resource
/// control policies in AWS KMS").
fn identity_perimeter() -> NamedPolicy {
    rcp(
        "p-perimeter",
        r#"{"Sid": "RCPEnforceIdentityPerimeter", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
            "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-example"}, "Bool": {"aws:PrincipalIsAWSService": "false"}}}"#,
    )
}

#[test]
fn rcps_restrict_the_resources_of_member_accounts_whoever_calls() {
    // Organizations guide, "Resource control policies": an RCP of the account owning a bucket
    // applies "even if accessed by users from account B" outside the organization; "RCPs don't
    // affect resources in the management account".
    let full = rcp_full_aws_access();
    let perimeter = identity_perimeter();
    let root = [&full, &perimeter];
    let account = [&full];
    let levels = [
        PolicyLevel {
            target: ROOT,
            policies: &root,
        },
        PolicyLevel {
            target: MEMBER,
            policies: &account,
        },
    ];
    let bucket = rcp(
        "bucket-policy",
        r#"{"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared/*"}"#,
    );
    let outsider_policies = [scp(
        "reader",
        r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}"#,
    )];
    let rcps = |management| OrganizationPolicies {
        management_account: management,
        levels: &levels,
    };
    let input = EvaluationInput {
        identity_policies: &outsider_policies,
        resource_policy: Some(&bucket),
        resource_account: Some(MEMBER),
        resource_control_policies: Some(rcps(MANAGEMENT)),
        ..Default::default()
    };
    let context = RequestContext::new(user(OUTSIDER), "s3:GetObject", "arn:aws:s3:::shared/report")
        .with_key("aws:PrincipalIsAWSService", "false");
    let denied = evaluate(&context, &input);
    // The pattern of the troubleshooting page ("with an explicit deny in a <type>").
    assert_eq!(
        reason(&denied),
        "with an explicit deny in a resource control policy"
    );
    assert_eq!(denied.deciding_layer(), Some(PolicySource::ResourceControl));
    // A caller of the organization passes the perimeter.
    let insider = context.clone().with_key("aws:PrincipalOrgID", "o-example");
    assert!(evaluate(&insider, &input).is_allowed());
    // The same bucket in the management account is outside every RCP.
    let in_management = EvaluationInput {
        resource_account: Some(MANAGEMENT),
        resource_control_policies: Some(rcps(MANAGEMENT)),
        ..input
    };
    let bucket_in_management = evaluate(&context, &in_management);
    assert!(
        bucket_in_management.is_allowed(),
        "{}",
        bucket_in_management.explain()
    );
}

#[test]
fn rcps_reach_service_principals_but_not_service_linked_roles() {
    // KMS Developer Guide, "Resource control policies in AWS KMS": an RCP that "requires AWS
    // service principals to access your customer managed KMS keys only when the request
    // originates from your organization" (so RCPs apply to service principals; the identity
    // perimeter exempts them only through `aws:PrincipalIsAWSService`). Organizations guide:
    // RCPs do not apply to calls made by service-linked roles.
    let full = rcp_full_aws_access();
    let confused_deputy = rcp(
        "p-deputy",
        r#"{"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
            "Condition": {"StringNotEqualsIfExists": {"aws:SourceOrgID": "o-example"}, "Bool": {"aws:PrincipalIsAWSService": "true"}, "Null": {"aws:SourceAccount": "false"}}}"#,
    );
    let root = [&full, &confused_deputy];
    let levels = [PolicyLevel {
        target: ROOT,
        policies: &root,
    }];
    let key_policy = rcp(
        "key-policy",
        r#"{"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "kms:Decrypt", "Resource": "*"},
           {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}"#,
    );
    let input = EvaluationInput {
        resource_policy: Some(&key_policy),
        resource_account: Some(MEMBER),
        resource_policy_is_authoritative: true,
        resource_control_policies: Some(OrganizationPolicies {
            management_account: MANAGEMENT,
            levels: &levels,
        }),
        ..Default::default()
    };
    let from_elsewhere = RequestContext::new(
        PrincipalInfo::service("logs.amazonaws.com"),
        "kms:Decrypt",
        "arn:aws:kms:us-east-1:111122223333:key/k",
    )
    .with_key("aws:PrincipalIsAWSService", "true")
    .with_key("aws:SourceAccount", OUTSIDER)
    .with_key("aws:SourceOrgID", "o-other");
    assert_eq!(
        reason(&evaluate(&from_elsewhere, &input)),
        "with an explicit deny in a resource control policy"
    );
    let from_inside = from_elsewhere
        .clone()
        .with_key("aws:SourceOrgID", "o-example");
    assert!(evaluate(&from_inside, &input).is_allowed());

    let deny_all = rcp(
        "p-denyall",
        r#"{"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}"#,
    );
    let strict = [&full, &deny_all];
    let strict_levels = [PolicyLevel {
        target: ROOT,
        policies: &strict,
    }];
    let strict_input = EvaluationInput {
        resource_control_policies: Some(OrganizationPolicies {
            management_account: MANAGEMENT,
            levels: &strict_levels,
        }),
        identity_policies: &[],
        ..input
    };
    let slr_policies = admin();
    let service_linked = RequestContext::new(
        PrincipalInfo::role_session(
            MEMBER,
            "arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling",
            "arn:aws:iam::111122223333:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
        ),
        "kms:Decrypt",
        "arn:aws:kms:us-east-1:111122223333:key/k",
    );
    let decision = evaluate(
        &service_linked,
        &EvaluationInput {
            identity_policies: &slr_policies,
            ..strict_input
        },
    );
    assert!(decision.is_allowed(), "{}", decision.explain());
    assert_eq!(
        reason(&evaluate(&from_inside, &strict_input)),
        "with an explicit deny in a resource control policy"
    );
}

#[test]
fn an_rcp_level_without_an_allow_denies() {
    // RCPFullAWSAccess "cannot be detached" on AWS, so this never shows there; the wording
    // follows the troubleshooting page's pattern.
    let empty: [&NamedPolicy; 0] = [];
    let levels = [PolicyLevel {
        target: MEMBER,
        policies: &empty,
    }];
    let identity = admin();
    let decision = ask(
        user(MEMBER),
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        EvaluationInput {
            identity_policies: &identity,
            resource_control_policies: Some(OrganizationPolicies {
                management_account: MANAGEMENT,
                levels: &levels,
            }),
            ..Default::default()
        },
    );
    assert_eq!(
        decision.outcome,
        Outcome::ImplicitDeny {
            missing: Missing::ResourceControlAllow { level: 0 }
        }
    );
    assert_eq!(
        reason(&decision),
        "because no resource control policy allows the s3:GetObject action"
    );
}

#[test]
fn several_explicit_denies_name_the_first_layer_in_evaluation_order() {
    // IAM troubleshooting page: "If multiple policy types deny an authorization request, AWS
    // includes only one of those policy types in the error message." Which one is not
    // documented; wana names the first in the evaluation order (SCPs before identity-based).
    let deny_s3 = scp(
        "p-denys3",
        r#"{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}"#,
    );
    let full = full_aws_access();
    let root = [&full, &deny_s3];
    let levels = [PolicyLevel {
        target: ROOT,
        policies: &root,
    }];
    let identity = [scp(
        "inline",
        r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}"#,
    )];
    let decision = ask(
        user(MEMBER),
        "s3:GetObject",
        "*",
        EvaluationInput {
            identity_policies: &identity,
            service_control_policies: Some(OrganizationPolicies {
                management_account: MANAGEMENT,
                levels: &levels,
            }),
            ..Default::default()
        },
    );
    assert_eq!(
        reason(&decision),
        "with an explicit deny in a service control policy"
    );
    // Both denies are in the trace, each with its layer.
    let layers: Vec<PolicySource> = decision
        .trace
        .iter()
        .filter(|entry| entry.applied && entry.effect == wana_policy::Effect::Deny)
        .map(|entry| entry.source)
        .collect();
    assert_eq!(
        layers,
        [PolicySource::Identity, PolicySource::ServiceControl]
    );
}
