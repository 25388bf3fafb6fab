//! Evaluation rules, scenario by scenario, including the traps the emulator reproduces.

use rstest::rstest;
use wana_policy::{
    evaluate, Decision, Effect, EvaluationInput, Missing, NamedPolicy, Outcome, Policy, PolicyKind,
    PolicySource, PrincipalInfo, PrincipalMatch, RequestContext,
};

const ACCOUNT: &str = "111122223333";
const OTHER_ACCOUNT: &str = "444455556666";
const KEY_ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/ThirdPartyRole";
const SESSION_ARN: &str = "arn:aws:sts::111122223333:assumed-role/ThirdPartyRole/automation";

fn identity(name: &str, json: &str) -> NamedPolicy {
    NamedPolicy::new(
        name,
        Policy::parse(json, PolicyKind::Identity).expect("valid identity policy"),
    )
}

fn resource_policy(name: &str, json: &str) -> NamedPolicy {
    NamedPolicy::new(
        name,
        Policy::parse(json, PolicyKind::Resource).expect("valid resource policy"),
    )
}

fn trust_policy(json: &str) -> NamedPolicy {
    NamedPolicy::new(
        "trust-policy",
        Policy::parse_trust_policy(json).expect("valid trust policy"),
    )
}

fn role_session() -> PrincipalInfo {
    PrincipalInfo::role_session(ACCOUNT, SESSION_ARN, ROLE_ARN)
}

fn user(account: &str, name: &str) -> PrincipalInfo {
    PrincipalInfo::user(account, format!("arn:aws:iam::{account}:user/{name}"))
}

struct Ask<'a> {
    identity: &'a [NamedPolicy],
    resource: Option<&'a NamedPolicy>,
    resource_account: Option<&'a str>,
    authoritative: bool,
}

impl<'a> Ask<'a> {
    fn identity_only(identity: &'a [NamedPolicy]) -> Ask<'a> {
        Ask {
            identity,
            resource: None,
            resource_account: None,
            authoritative: false,
        }
    }

    fn key(identity: &'a [NamedPolicy], key_policy: &'a NamedPolicy) -> Ask<'a> {
        Ask {
            identity,
            resource: Some(key_policy),
            resource_account: Some(ACCOUNT),
            authoritative: true,
        }
    }

    fn run(&self, context: &RequestContext) -> Decision {
        evaluate(
            context,
            &EvaluationInput {
                identity_policies: self.identity,
                resource_policy: self.resource,
                resource_account: self.resource_account,
                resource_policy_is_authoritative: self.authoritative,
                ..EvaluationInput::default()
            },
        )
    }
}

fn deciding(decision: &Decision) -> (String, Option<String>, usize) {
    let entry = decision.deciding_statement().expect("a deciding statement");
    (entry.policy.clone(), entry.sid.clone(), entry.index)
}

const DEFAULT_KEY_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Id": "key-default-1",
  "Statement": [{
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
    "Action": "kms:*",
    "Resource": "*"
  }]
}"#;

/// The key policy of trap 3's fix: the default statement plus two statements for the role.
const FIXED_KEY_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
     "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
    {"Sid": "AllowUseViaEC2", "Effect": "Allow",
     "Principal": {"AWS": "arn:aws:iam::111122223333:role/ThirdPartyRole"},
     "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
     "Resource": "*",
     "Condition": {"StringEquals": {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}}},
    {"Sid": "AllowGrantsForAWSResources", "Effect": "Allow",
     "Principal": {"AWS": "arn:aws:iam::111122223333:role/ThirdPartyRole"},
     "Action": "kms:CreateGrant", "Resource": "*",
     "Condition": {"Bool": {"kms:GrantIsForAWSResource": true}}}
  ]
}"#;

const KEY_POLICY_WITHOUT_IAM_DELEGATION: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "KeyAdmins", "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyAdmin"},
    "Action": "kms:*", "Resource": "*"
  }]
}"#;

const IAM_CREATE_GRANT: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "CreateGrantForEbs", "Effect": "Allow",
    "Action": "kms:CreateGrant", "Resource": "arn:aws:kms:us-east-1:111122223333:key/*",
    "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}
  }]
}"#;

fn grant_context(via_service: &str) -> RequestContext {
    RequestContext::new(role_session(), "kms:CreateGrant", KEY_ARN)
        .with_key("kms:ViaService", via_service)
        .with_key("kms:GrantIsForAWSResource", "true")
        .with_key("kms:CallerAccount", ACCOUNT)
        .with_key("aws:ViaAWSService", "true")
}

#[test]
fn default_key_policy_delegates_to_iam() {
    let key_policy = resource_policy("key-policy", DEFAULT_KEY_POLICY);
    let iam = [identity("inline:ThirdPartyRole/Ebs", IAM_CREATE_GRANT)];
    let decision = Ask::key(&iam, &key_policy).run(&grant_context("ec2.us-east-1.amazonaws.com"));
    assert!(decision.is_allowed(), "{}", decision.explain());
    assert_eq!(
        deciding(&decision),
        (
            "inline:ThirdPartyRole/Ebs".into(),
            Some("CreateGrantForEbs".into()),
            0
        )
    );
    let support = decision.supporting_statement().expect("the delegation");
    assert_eq!(support.policy, "key-policy");
    assert_eq!(support.matched_via, Some(PrincipalMatch::Account));
    assert_eq!(
        decision.explain(),
        "allowed by inline:ThirdPartyRole/Ebs statement 'CreateGrantForEbs' (#0) together with key-policy statement 'Enable IAM User Permissions' (#0)"
    );
}

#[test]
fn default_key_policy_alone_grants_nothing() {
    let key_policy = resource_policy("key-policy", DEFAULT_KEY_POLICY);
    let decision = Ask::key(&[], &key_policy).run(&grant_context("ec2.us-east-1.amazonaws.com"));
    assert_eq!(
        decision.outcome,
        Outcome::ImplicitDeny {
            missing: Missing::IdentityAllow
        }
    );
    assert_eq!(
        decision.aws_reason().as_deref(),
        Some("because no identity-based policy allows the kms:CreateGrant action")
    );
}

#[test]
fn iam_allow_without_key_policy_delegation_has_no_effect() {
    let key_policy = resource_policy("key-policy", KEY_POLICY_WITHOUT_IAM_DELEGATION);
    let iam = [identity("inline:ThirdPartyRole/Ebs", IAM_CREATE_GRANT)];
    let decision = Ask::key(&iam, &key_policy).run(&grant_context("ec2.us-east-1.amazonaws.com"));
    assert_eq!(
        decision.outcome,
        Outcome::ImplicitDeny {
            missing: Missing::ResourceAllow
        }
    );
    assert_eq!(
        decision.explain(),
        "kms:CreateGrant was allowed only by inline:ThirdPartyRole/Ebs statement 'CreateGrantForEbs' (#0); denied implicitly: no resource-based policy allows it; near miss: key-policy statement 'KeyAdmins' (#0): principal does not match the caller"
    );
    assert_eq!(
        decision.aws_reason().as_deref(),
        Some("because no resource-based policy allows the kms:CreateGrant action")
    );
}

#[test]
fn direct_key_policy_statement_allows_role_sessions_without_iam() {
    let key_policy = resource_policy("key-policy", FIXED_KEY_POLICY);
    let decision = Ask::key(&[], &key_policy).run(&grant_context("ec2.us-east-1.amazonaws.com"));
    assert!(decision.is_allowed(), "{}", decision.explain());
    assert_eq!(
        deciding(&decision),
        (
            "key-policy".into(),
            Some("AllowGrantsForAWSResources".into()),
            2
        )
    );
    // The key policy names the role, the caller is a session of it: a grant to the role
    // (IAM User Guide, policy evaluation: "Resource-based policies that grant permissions to an
    // IAM role ARN are limited by an implicit deny in a permissions boundary or session
    // policy"), with neither present here.
    assert_eq!(
        decision.deciding_statement().unwrap().matched_via,
        Some(PrincipalMatch::Entity)
    );
    assert_eq!(
        decision.explain(),
        "allowed by key-policy statement 'AllowGrantsForAWSResources' (#2)"
    );
}

#[rstest]
#[case("ec2.us-east-1.amazonaws.com", true)]
#[case("ec2.us-west-2.amazonaws.com", false)]
#[case("s3.us-east-1.amazonaws.com", false)]
fn via_service_condition_pins_the_region(#[case] via_service: &str, #[case] allowed: bool) {
    let key_policy = resource_policy("key-policy", FIXED_KEY_POLICY);
    let context = RequestContext::new(
        role_session(),
        "kms:GenerateDataKeyWithoutPlaintext",
        KEY_ARN,
    )
    .with_key("kms:ViaService", via_service);
    let decision = Ask::key(&[], &key_policy).run(&context);
    assert_eq!(decision.is_allowed(), allowed, "{}", decision.explain());
    if allowed {
        assert_eq!(deciding(&decision).1.as_deref(), Some("AllowUseViaEC2"));
    } else {
        let miss = decision
            .near_misses()
            .next()
            .expect("the ViaService statement nearly applied");
        assert_eq!(miss.sid.as_deref(), Some("AllowUseViaEC2"));
        assert!(miss.note.contains("kms:ViaService"), "{}", miss.note);
        assert_eq!(
            decision.outcome,
            Outcome::ImplicitDeny {
                missing: Missing::IdentityAllow
            }
        );
    }
}

#[rstest]
#[case(Some("true"), true)]
#[case(Some("false"), false)]
#[case(None, false)]
fn grant_is_for_aws_resource_must_be_true(#[case] flag: Option<&str>, #[case] allowed: bool) {
    let key_policy = resource_policy("key-policy", FIXED_KEY_POLICY);
    let mut context = RequestContext::new(role_session(), "kms:CreateGrant", KEY_ARN);
    if let Some(flag) = flag {
        context = context.with_key("kms:GrantIsForAWSResource", flag);
    }
    assert_eq!(
        Ask::key(&[], &key_policy).run(&context).is_allowed(),
        allowed
    );
}

#[test]
fn cross_account_needs_both_the_key_policy_and_iam() {
    let key_policy = resource_policy(
        "key-policy",
        r#"{"Version": "2012-10-17", "Statement": [
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "AllowExternalAccount", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
             "Action": ["kms:Decrypt", "kms:CreateGrant", "kms:DescribeKey"], "Resource": "*"}]}"#,
    );
    let caller = user(OTHER_ACCOUNT, "builder");
    let context = RequestContext::new(caller, "kms:Decrypt", KEY_ARN);
    let iam_allow = [identity(
        "arn:aws:iam::444455556666:policy/UseSharedKey",
        r#"{"Version": "2012-10-17", "Statement": [{"Sid": "UseKey", "Effect": "Allow",
            "Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-east-1:111122223333:key/*"}]}"#,
    )];
    let ask = |identity: &[NamedPolicy], resource: Option<&NamedPolicy>| {
        Ask {
            identity,
            resource,
            resource_account: Some(ACCOUNT),
            authoritative: true,
        }
        .run(&context)
    };

    let both = ask(&iam_allow, Some(&key_policy));
    assert!(both.is_allowed(), "{}", both.explain());
    assert_eq!(deciding(&both).1.as_deref(), Some("UseKey"));
    assert_eq!(
        both.supporting_statement().unwrap().sid.as_deref(),
        Some("AllowExternalAccount")
    );

    assert_eq!(
        ask(&[], Some(&key_policy)).outcome,
        Outcome::ImplicitDeny {
            missing: Missing::IdentityAllow
        }
    );
    assert_eq!(
        ask(&iam_allow, None).outcome,
        Outcome::ImplicitDeny {
            missing: Missing::ResourceAllow
        }
    );
    assert_eq!(
        ask(&[], None).outcome,
        Outcome::ImplicitDeny {
            missing: Missing::Both
        }
    );

    // Only the key's own account delegated: the external account is not named.
    let default_only = resource_policy("key-policy", DEFAULT_KEY_POLICY);
    assert_eq!(
        ask(&iam_allow, Some(&default_only)).outcome,
        Outcome::ImplicitDeny {
            missing: Missing::ResourceAllow
        }
    );
}

#[test]
fn cross_account_service_linked_role_without_kms_permissions_is_denied() {
    // Trap 2: the ASG service-linked role of account B uses A's key. A's key policy names B,
    // but the SLR's fixed policy grants no KMS access to a foreign key: identity side missing.
    let key_policy = resource_policy(
        "key-policy",
        r#"{"Version": "2012-10-17", "Statement": [{"Sid": "AllowB", "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "kms:*", "Resource": "*"}]}"#,
    );
    let slr = PrincipalInfo::role_session(
        OTHER_ACCOUNT,
        "arn:aws:sts::444455556666:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling",
        "arn:aws:iam::444455556666:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
    );
    let slr_policy = [identity(
        "arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy",
        r#"{"Version": "2012-10-17", "Statement": [{"Sid": "EC2InstanceManagement", "Effect": "Allow",
            "Action": ["ec2:RunInstances", "ec2:CreateTags"], "Resource": "*"}]}"#,
    )];
    let context = RequestContext::new(slr, "kms:CreateGrant", KEY_ARN)
        .with_key("kms:GrantIsForAWSResource", "true");
    let decision = Ask {
        identity: &slr_policy,
        resource: Some(&key_policy),
        resource_account: Some(ACCOUNT),
        authoritative: true,
    }
    .run(&context);
    assert_eq!(
        decision.outcome,
        Outcome::ImplicitDeny {
            missing: Missing::IdentityAllow
        }
    );
}

const TRUST_WITH_EXTERNAL_ID: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "TrustVendor", "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
    "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"sts:ExternalId": "vendor-42"}}
  }]
}"#;

#[rstest]
#[case(Some("vendor-42"), true)]
#[case(Some("VENDOR-42"), false)]
#[case(None, false)]
fn assume_role_trust_checks_external_id(#[case] external_id: Option<&str>, #[case] allowed: bool) {
    let trust = trust_policy(TRUST_WITH_EXTERNAL_ID);
    let vendor_policy = [identity(
        "inline:vendor/AssumeCustomerRoles",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/*"}]}"#,
    )];
    let mut context =
        RequestContext::new(user(OTHER_ACCOUNT, "vendor"), "sts:AssumeRole", ROLE_ARN);
    if let Some(id) = external_id {
        context = context.with_key("sts:ExternalId", id);
    }
    let decision = Ask {
        identity: &vendor_policy,
        resource: Some(&trust),
        resource_account: Some(ACCOUNT),
        authoritative: true,
    }
    .run(&context);
    assert_eq!(decision.is_allowed(), allowed, "{}", decision.explain());
    if allowed {
        assert_eq!(
            decision.supporting_statement().unwrap().label(),
            "trust-policy statement 'TrustVendor' (#0)"
        );
    } else {
        assert_eq!(
            decision.outcome,
            Outcome::ImplicitDeny {
                missing: Missing::ResourceAllow
            }
        );
    }
}

#[test]
fn same_account_trust_policy_naming_the_account_needs_iam() {
    let trust = trust_policy(
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"}]}"#,
    );
    let context = RequestContext::new(user(ACCOUNT, "alice"), "sts:AssumeRole", ROLE_ARN);
    let without = Ask {
        identity: &[],
        resource: Some(&trust),
        resource_account: Some(ACCOUNT),
        authoritative: true,
    }
    .run(&context);
    assert_eq!(
        without.outcome,
        Outcome::ImplicitDeny {
            missing: Missing::IdentityAllow
        }
    );
    let iam = [identity(
        "inline:alice/Assume",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}"#,
    )];
    let with = Ask {
        identity: &iam,
        resource: Some(&trust),
        resource_account: Some(ACCOUNT),
        authoritative: true,
    }
    .run(&context);
    assert!(with.is_allowed());
}

#[test]
fn service_principal_is_allowed_only_by_the_resource_policy() {
    let trust = trust_policy(
        r#"{"Version": "2012-10-17", "Statement": [{"Sid": "EC2", "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#,
    );
    let ask = |service: &str| {
        let context =
            RequestContext::new(PrincipalInfo::service(service), "sts:AssumeRole", ROLE_ARN);
        Ask {
            identity: &[],
            resource: Some(&trust),
            resource_account: Some(ACCOUNT),
            authoritative: true,
        }
        .run(&context)
    };
    let ec2 = ask("ec2.amazonaws.com");
    assert!(ec2.is_allowed());
    assert_eq!(
        ec2.deciding_statement().unwrap().matched_via,
        Some(PrincipalMatch::Service)
    );
    assert_eq!(
        ask("lambda.amazonaws.com").outcome,
        Outcome::ImplicitDeny {
            missing: Missing::ResourceAllow
        }
    );
}

#[test]
fn explicit_deny_in_iam_beats_a_direct_key_policy_allow() {
    let key_policy = resource_policy("key-policy", FIXED_KEY_POLICY);
    let deny = [identity(
        "arn:aws:iam::111122223333:policy/NoGrants",
        r#"{"Version": "2012-10-17", "Statement": [
            {"Sid": "AllowAll", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "NoGrants", "Effect": "Deny", "Action": "kms:*Grant*", "Resource": "*"}]}"#,
    )];
    let decision = Ask::key(&deny, &key_policy).run(&grant_context("ec2.us-east-1.amazonaws.com"));
    assert_eq!(
        decision.outcome,
        Outcome::ExplicitDeny {
            by: PolicySource::Identity
        }
    );
    assert_eq!(
        deciding(&decision),
        (
            "arn:aws:iam::111122223333:policy/NoGrants".into(),
            Some("NoGrants".into()),
            1
        )
    );
    assert_eq!(
        decision.explain(),
        "explicitly denied by arn:aws:iam::111122223333:policy/NoGrants statement 'NoGrants' (#1) (identity-based policy)"
    );
    assert_eq!(
        decision.aws_reason().as_deref(),
        Some("with an explicit deny in an identity-based policy")
    );
}

#[test]
fn explicit_deny_in_a_bucket_policy_beats_an_admin() {
    let admin = [identity(
        "arn:aws:iam::aws:policy/AdministratorAccess",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}"#,
    )];
    let bucket_policy = resource_policy(
        "bucket-policy",
        r#"{"Version": "2012-10-17", "Statement": [{"Sid": "DenyInsecure", "Effect": "Deny", "Principal": "*",
            "Action": "s3:*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
            "Condition": {"Bool": {"aws:SecureTransport": false}}}]}"#,
    );
    let context = |secure: &str| {
        RequestContext::new(user(ACCOUNT, "admin"), "s3:GetObject", "arn:aws:s3:::b/k")
            .with_key("aws:SecureTransport", secure)
    };
    let ask = Ask {
        identity: &admin,
        resource: Some(&bucket_policy),
        resource_account: Some(ACCOUNT),
        authoritative: false,
    };
    let insecure = ask.run(&context("false"));
    assert_eq!(
        insecure.outcome,
        Outcome::ExplicitDeny {
            by: PolicySource::Resource
        }
    );
    assert_eq!(
        insecure.deciding_statement().unwrap().matched_via,
        Some(PrincipalMatch::Anyone)
    );
    assert!(ask.run(&context("true")).is_allowed());
}

const POWER_USER_ACCESS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
    {"Effect": "Allow",
     "Action": ["account:GetAccountInformation", "account:GetPrimaryEmail", "account:ListRegions",
                "iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole", "iam:ListRoles",
                "organizations:DescribeEffectivePolicy", "organizations:DescribeOrganization"],
     "Resource": "*"}
  ]
}"#;

#[rstest]
#[case("ec2:RunInstances", Some(0))]
#[case("kms:CreateKey", Some(0))]
#[case("IAM:CreateServiceLinkedRole", Some(1))]
#[case("iam:ListRoles", Some(1))]
#[case("iam:CreateUser", None)]
#[case("iam:PassRole", None)]
#[case("iam:CreateInstanceProfile", None)]
#[case("organizations:LeaveOrganization", None)]
fn power_user_access_not_action(#[case] action: &str, #[case] allowed_by: Option<usize>) {
    let policies = [identity(
        "arn:aws:iam::aws:policy/PowerUserAccess",
        POWER_USER_ACCESS,
    )];
    let context = RequestContext::new(user(ACCOUNT, "dev"), action, "*");
    let decision = Ask::identity_only(&policies).run(&context);
    match allowed_by {
        Some(index) => {
            assert!(decision.is_allowed(), "{action}: {}", decision.explain());
            assert_eq!(
                deciding(&decision),
                (
                    "arn:aws:iam::aws:policy/PowerUserAccess".into(),
                    None,
                    index
                )
            );
            assert_eq!(
                decision.explain(),
                format!("allowed by arn:aws:iam::aws:policy/PowerUserAccess statement #{index}")
            );
        }
        None => {
            assert_eq!(
                decision.outcome,
                Outcome::ImplicitDeny {
                    missing: Missing::IdentityAllow
                }
            );
            assert_eq!(decision.explain(), format!("no statement allowed {action}; denied implicitly: no identity-based policy allows it"));
        }
    }
}

#[rstest]
#[case("2012-10-17", "arn:aws:s3:::home/bob/notes.txt", "bob", true)]
#[case("2012-10-17", "arn:aws:s3:::home/alice/notes.txt", "bob", false)]
#[case("2012-10-17", "arn:aws:s3:::home/bob/x", "b*", false)]
#[case("2012-10-17", "arn:aws:s3:::home/b*/x", "b*", true)]
#[case("2008-10-17", "arn:aws:s3:::home/bob/notes.txt", "bob", false)]
#[case(
    "2008-10-17",
    "arn:aws:s3:::home/${aws:username}/notes.txt",
    "bob",
    true
)]
fn policy_variables_in_resources(
    #[case] version: &str,
    #[case] resource: &str,
    #[case] username: &str,
    #[case] allowed: bool,
) {
    let json = format!(
        r#"{{"Version": "{version}", "Statement": [{{"Effect": "Allow", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::home/${{aws:username}}/*"}}]}}"#
    );
    let policies = [identity("inline:home", &json)];
    let context = RequestContext::new(user(ACCOUNT, username), "s3:GetObject", resource)
        .with_key("aws:username", username);
    assert_eq!(
        Ask::identity_only(&policies).run(&context).is_allowed(),
        allowed
    );
}

#[test]
fn unresolvable_variables_match_nothing_and_defaults_apply() {
    let policies = [identity(
        "inline:team",
        r#"{"Version": "2012-10-17", "Statement": [
            {"Sid": "Team", "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::team-${aws:PrincipalTag/team}/*"},
            {"Sid": "Shared", "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::shared-${aws:PrincipalTag/team, 'none'}/*"}]}"#,
    )];
    let ask = |resource: &str, team: Option<&str>| {
        let mut context = RequestContext::new(role_session(), "s3:GetObject", resource);
        if let Some(team) = team {
            context = context.with_key("aws:PrincipalTag/team", team);
        }
        Ask::identity_only(&policies).run(&context).is_allowed()
    };
    assert!(ask("arn:aws:s3:::team-red/x", Some("red")));
    assert!(!ask("arn:aws:s3:::team-/x", None));
    assert!(ask("arn:aws:s3:::shared-none/x", None));
    assert!(!ask("arn:aws:s3:::shared-none/x", Some("red")));
}

#[rstest]
#[case(&["env", "team"], true, true)]
#[case(&["env"], true, false)]
#[case(&["env", "secret"], false, false)]
#[case(&["team", "secret"], false, true)]
#[case(&[], true, false)]
fn set_operators_on_tag_keys(
    #[case] tag_keys: &[&str],
    #[case] all_allowed_keys: bool,
    #[case] any_team: bool,
) {
    let policies = [identity(
        "inline:tags",
        r#"{"Version": "2012-10-17", "Statement": [
            {"Sid": "OnlyKnownKeys", "Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*",
             "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team"]}}},
            {"Sid": "NeedsTeam", "Effect": "Allow", "Action": "ec2:DeleteTags", "Resource": "*",
             "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": "team"}}}]}"#,
    )];
    let keys: Vec<String> = tag_keys.iter().map(|k| k.to_string()).collect();
    let ask = |action: &str| {
        let context = RequestContext::new(role_session(), action, "*")
            .with_multi("aws:TagKeys", keys.clone());
        Ask::identity_only(&policies).run(&context).is_allowed()
    };
    assert_eq!(ask("ec2:CreateTags"), all_allowed_keys, "ForAllValues");
    assert_eq!(ask("ec2:DeleteTags"), any_team, "ForAnyValue");
}

#[rstest]
#[case(None, true)]
#[case(Some("true"), true)]
#[case(Some("false"), false)]
fn if_exists_passes_absent_keys(#[case] mfa: Option<&str>, #[case] allowed: bool) {
    let policies = [identity(
        "inline:mfa",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:StopInstances", "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}}]}"#,
    )];
    let mut context = RequestContext::new(user(ACCOUNT, "op"), "ec2:StopInstances", "*");
    if let Some(mfa) = mfa {
        context = context.with_key("aws:MultiFactorAuthPresent", mfa);
    }
    assert_eq!(
        Ask::identity_only(&policies).run(&context).is_allowed(),
        allowed
    );
}

#[rstest]
#[case("203.0.113.10", false)]
#[case("198.51.100.10", true)]
#[case("2001:db8::10", false)]
fn ip_address_deny_outside_the_office(#[case] source_ip: &str, #[case] denied: bool) {
    let policies = [identity(
        "inline:office",
        r#"{"Version": "2012-10-17", "Statement": [
            {"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "OfficeOnly", "Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}}}]}"#,
    )];
    let context = RequestContext::new(user(ACCOUNT, "op"), "s3:ListBucket", "arn:aws:s3:::b")
        .with_key("aws:SourceIp", source_ip);
    let decision = Ask::identity_only(&policies).run(&context);
    assert_eq!(
        decision.outcome
            == (Outcome::ExplicitDeny {
                by: PolicySource::Identity
            }),
        denied,
        "{}",
        decision.explain()
    );
    if denied {
        assert_eq!(deciding(&decision).1.as_deref(), Some("OfficeOnly"));
    }
}

#[rstest]
#[case("2024-06-30T23:59:59Z", true)]
#[case("2024-07-01T00:00:00Z", false)]
#[case("2023-12-31T23:59:59Z", false)]
fn date_window(#[case] now: &str, #[case] allowed: bool) {
    let policies = [identity(
        "inline:window",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*",
            "Condition": {"DateGreaterThanEquals": {"aws:CurrentTime": "2024-01-01T00:00:00Z"},
                          "DateLessThan": {"aws:CurrentTime": "2024-07-01"}}}]}"#,
    )];
    let context = RequestContext::new(user(ACCOUNT, "op"), "ec2:RunInstances", "*")
        .with_key("aws:CurrentTime", now);
    assert_eq!(
        Ask::identity_only(&policies).run(&context).is_allowed(),
        allowed
    );
}

#[test]
fn same_account_bucket_policy_naming_the_user_grants_without_iam() {
    let bucket_policy = resource_policy(
        "bucket-policy",
        r#"{"Version": "2012-10-17", "Statement": [
            {"Sid": "Bob", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:user/bob"]},
             "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
            {"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": "111122223333"},
             "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"}]}"#,
    );
    let ask = |who: &str, action: &str| {
        let context = RequestContext::new(user(ACCOUNT, who), action, "arn:aws:s3:::b/k");
        Ask {
            identity: &[],
            resource: Some(&bucket_policy),
            resource_account: Some(ACCOUNT),
            authoritative: false,
        }
        .run(&context)
    };
    let bob = ask("bob", "s3:GetObject");
    assert!(bob.is_allowed());
    assert_eq!(
        bob.deciding_statement().unwrap().matched_via,
        Some(PrincipalMatch::Direct)
    );
    assert_eq!(
        ask("alice", "s3:GetObject").outcome,
        Outcome::ImplicitDeny {
            missing: Missing::IdentityAllow
        }
    );
    // Naming the account only delegates to IAM.
    assert_eq!(
        ask("bob", "s3:PutObject").outcome,
        Outcome::ImplicitDeny {
            missing: Missing::IdentityAllow
        }
    );
}

#[test]
fn root_user_has_implicit_permissions_except_under_an_authoritative_policy() {
    let root = PrincipalInfo::root(ACCOUNT);
    let context = RequestContext::new(
        root.clone(),
        "iam:CreateUser",
        "arn:aws:iam::111122223333:user/x",
    );
    let decision = Ask::identity_only(&[]).run(&context);
    assert!(decision.is_allowed());
    assert!(decision.allowed_as_root);
    assert_eq!(
        decision.explain(),
        "allowed: iam:CreateUser by the root user of the owning account"
    );

    let kms = RequestContext::new(root, "kms:Decrypt", KEY_ARN);
    let locked_out = resource_policy("key-policy", KEY_POLICY_WITHOUT_IAM_DELEGATION);
    assert_eq!(
        Ask::key(&[], &locked_out).run(&kms).outcome,
        Outcome::ImplicitDeny {
            missing: Missing::ResourceAllow
        }
    );
    let default = resource_policy("key-policy", DEFAULT_KEY_POLICY);
    let allowed = Ask::key(&[], &default).run(&kms);
    assert!(allowed.is_allowed());
    assert_eq!(
        allowed.deciding_statement().unwrap().matched_via,
        Some(PrincipalMatch::Direct)
    );
}

#[test]
fn not_principal_deny_must_list_every_identity_of_the_caller() {
    let only_role = resource_policy(
        "bucket-policy",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny",
            "NotPrincipal": {"AWS": ["arn:aws:iam::111122223333:role/ThirdPartyRole",
                                     "arn:aws:sts::111122223333:assumed-role/ThirdPartyRole/automation"]},
            "Action": "s3:*", "Resource": "*"}]}"#,
    );
    let with_account = resource_policy(
        "bucket-policy",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny",
            "NotPrincipal": {"AWS": ["arn:aws:iam::111122223333:role/ThirdPartyRole",
                                     "arn:aws:sts::111122223333:assumed-role/ThirdPartyRole/automation",
                                     "arn:aws:iam::111122223333:root"]},
            "Action": "s3:*", "Resource": "*"}]}"#,
    );
    let allow_all = [identity(
        "inline:all",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}"#,
    )];
    let ask = |policy: &NamedPolicy, who: PrincipalInfo| {
        let context = RequestContext::new(who, "s3:GetObject", "arn:aws:s3:::b/k");
        Ask {
            identity: &allow_all,
            resource: Some(policy),
            resource_account: Some(ACCOUNT),
            authoritative: false,
        }
        .run(&context)
    };
    assert!(
        !ask(&only_role, role_session()).is_allowed(),
        "account not listed: the role is denied too"
    );
    assert!(ask(&with_account, role_session()).is_allowed());
    assert_eq!(
        ask(&with_account, user(ACCOUNT, "eve")).outcome,
        Outcome::ExplicitDeny {
            by: PolicySource::Resource
        }
    );
}

#[test]
fn not_resource_excludes_listed_resources() {
    let policies = [identity(
        "inline:not-prod",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
            "NotResource": ["arn:aws:s3:::prod", "arn:aws:s3:::prod/*"]}]}"#,
    )];
    let ask = |resource: &str| {
        Ask::identity_only(&policies)
            .run(&RequestContext::new(
                user(ACCOUNT, "dev"),
                "s3:PutObject",
                resource,
            ))
            .is_allowed()
    };
    assert!(ask("arn:aws:s3:::dev/k"));
    assert!(!ask("arn:aws:s3:::prod/k"));
}

#[test]
fn trace_lists_applied_statements_in_order() {
    let policies = [
        identity(
            "p1",
            r#"{"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}"#,
        ),
        identity(
            "p2",
            r#"{"Version": "2012-10-17", "Statement": [
            {"Sid": "Unrelated", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Sid": "B", "Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*"}]}"#,
        ),
    ];
    let decision = Ask::identity_only(&policies).run(&RequestContext::new(
        user(ACCOUNT, "dev"),
        "ec2:RunInstances",
        "*",
    ));
    let applied: Vec<(String, usize, Effect)> = decision
        .trace
        .iter()
        .map(|e| (e.label(), e.index, e.effect))
        .collect();
    assert_eq!(
        applied,
        vec![
            ("p1 statement 'A' (#0)".to_string(), 0, Effect::Allow),
            ("p2 statement 'B' (#1)".to_string(), 1, Effect::Allow)
        ]
    );
    assert_eq!(deciding(&decision), ("p1".into(), Some("A".into()), 0));
}

#[test]
fn statement_without_resource_in_a_resource_policy_covers_the_resource() {
    let queue_policy = resource_policy(
        "queue-policy",
        r#"{"Version": "2012-10-17", "Statement": [{"Sid": "Sns", "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:topic"}}}]}"#,
    );
    let context = RequestContext::new(
        PrincipalInfo::service("sns.amazonaws.com"),
        "sqs:SendMessage",
        "arn:aws:sqs:us-east-1:111122223333:q",
    )
    .with_key("aws:SourceArn", "arn:aws:sns:us-east-1:111122223333:topic");
    let ask = Ask {
        identity: &[],
        resource: Some(&queue_policy),
        resource_account: Some(ACCOUNT),
        authoritative: false,
    };
    assert!(ask.run(&context).is_allowed());
}
