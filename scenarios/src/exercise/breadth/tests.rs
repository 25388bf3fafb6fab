use rstest::rstest;
use serde_json::json;
use wana_i18n::Lang;

use super::*;

const ROLE: &str = "arn:aws:iam::333333333333:role/ThirdPartyRole";
const KEY: &str = "arn:aws:kms:us-east-1:333333333333:key/k";

fn cmk_needs() -> Needs {
    Needs {
        principal: Some(ROLE.into()),
        resource: Some(KEY.into()),
        via_service: Some("ec2.us-east-1.amazonaws.com".into()),
        kms: true,
        grant_operations: EBS_GRANT_OPERATIONS.map(String::from).to_vec(),
    }
}

fn baseline() -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::333333333333:root"}, "Action": "kms:*", "Resource": "*"}]})
}

fn key_policy_with(statement: serde_json::Value) -> String {
    let mut policy = baseline();
    // The account's statement as a participant would retype it: another Sid, a list.
    policy["Statement"][0]["Sid"] = json!("Root");
    policy["Statement"][0]["Action"] = json!(["kms:*"]);
    policy["Statement"].as_array_mut().unwrap().push(statement);
    policy.to_string()
}

fn labels(kind: FixKind, document: &str, needs: &Needs) -> Vec<String> {
    let base = baseline().to_string();
    analyse(kind, document, Some(&base), needs).iter().map(Finding::label).collect()
}

#[rstest]
#[case::tight_use_via_ec2(
    json!({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
           "Condition": {"StringEquals": {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}}}),
    &[]
)]
#[case::tight_create_grant(
    json!({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:CreateGrant", "Resource": "*",
           "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}),
    &[]
)]
#[case::everything_for_the_role(
    json!({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:*", "Resource": "*"}),
    &["kms:*", "missing kms:GrantIsForAWSResource", "missing kms:ViaService"]
)]
#[case::create_grant_without_condition(
    json!({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:CreateGrant", "Resource": "*"}),
    &["missing kms:GrantIsForAWSResource"]
)]
#[case::use_without_via_service(
    json!({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": ["kms:Decrypt"], "Resource": "*"}),
    &["missing kms:ViaService"]
)]
#[case::the_whole_vendor_account(
    json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "kms:CreateGrant", "Resource": "*",
           "Condition": {"Bool": {"kms:GrantIsForAWSResource": true}}}),
    &["principal: whole account"]
)]
#[case::everyone_in_the_account(
    json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*",
           "Condition": {"StringEquals": {"kms:CallerAccount": "333333333333", "kms:ViaService": "ec2.us-east-1.amazonaws.com"}}}),
    &["principal: whole account"]
)]
#[case::anyone(
    json!({"Effect": "Allow", "Principal": "*", "Action": "kms:DescribeKey", "Resource": "*"}),
    &["Principal: *"]
)]
#[case::a_deny_is_never_broader(
    json!({"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}),
    &[]
)]
#[case::not_action(
    json!({"Effect": "Allow", "Principal": {"AWS": ROLE}, "NotAction": "kms:ScheduleKeyDeletion", "Resource": "*",
           "Condition": {"StringEquals": {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}}}),
    &["NotAction"]
)]
fn key_policy_statements_are_judged_against_the_trap(#[case] statement: serde_json::Value, #[case] expected: &[&str]) {
    assert_eq!(labels(FixKind::KeyPolicy, &key_policy_with(statement), &cmk_needs()), expected);
}

#[rstest]
#[case::tight(json!({"Effect": "Allow", "Action": "kms:CreateGrant", "Resource": KEY,
                     "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}), &[])]
#[case::any_key(json!({"Effect": "Allow", "Action": "kms:CreateGrant", "Resource": "*",
                     "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}), &["Resource: *"])]
#[case::administrator(json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
                      &["AdministratorAccess", "*", "Resource: *", "missing kms:GrantIsForAWSResource", "missing kms:ViaService"])]
#[case::iam_star(json!({"Effect": "Allow", "Action": ["iam:*"], "Resource": KEY}), &["iam:*"])]
fn identity_policies_name_wildcards_and_resource_star(#[case] statement: serde_json::Value, #[case] expected: &[&str]) {
    let policy = json!({"Version": "2012-10-17", "Statement": statement}).to_string();
    assert_eq!(labels(FixKind::IamPolicy, &policy, &cmk_needs()), expected);
}

#[test]
fn the_agents_policy_with_resource_star_is_tight_where_aws_itself_uses_star() {
    let needs = Needs { principal: Some("arn:aws:iam::111111111111:role/role-for-ec2".into()), ..Needs::default() };
    let agent = json!({"Statement": [{"Effect": "Allow", "Action": ["ssm:UpdateInstanceInformation", "ec2messages:GetMessages"], "Resource": "*"}]});
    assert!(analyse(FixKind::IamPolicy, &agent.to_string(), None, &needs).is_empty());
    let all = json!({"Statement": [{"Effect": "Allow", "Action": ["ssm:*", "ec2messages:*"], "Resource": "*"}]});
    let found: Vec<String> = analyse(FixKind::IamPolicy, &all.to_string(), None, &needs).iter().map(Finding::label).collect();
    assert_eq!(found, ["ssm:*", "ec2messages:*"]);
}

#[rstest]
#[case::core("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", &[])]
#[case::admin("arn:aws:iam::aws:policy/AdministratorAccess", &["AdministratorAccess"])]
#[case::power_user("arn:aws:iam::aws:policy/PowerUserAccess\n", &["PowerUserAccess"])]
fn managed_policies_that_grant_everything_are_named(#[case] document: &str, #[case] expected: &[&str]) {
    let found: Vec<String> = analyse(FixKind::IamPolicy, document, None, &Needs::default()).iter().map(Finding::label).collect();
    assert_eq!(found, expected);
}

#[test]
fn a_template_attaching_administrator_access_is_named() {
    let template = r#"{"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"ManagedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]}}}}"#;
    let found: Vec<String> = analyse(FixKind::Template, template, None, &Needs::default()).iter().map(Finding::label).collect();
    assert_eq!(found, ["AdministratorAccess"]);
}

#[rstest]
#[case::the_reports_operations(json!({"KeyId": KEY, "GranteePrincipal": ROLE, "Operations": ["Decrypt", "CreateGrant"]}), &[])]
#[case::more_operations(json!({"KeyId": KEY, "GranteePrincipal": ROLE, "Operations": ["Decrypt", "CreateGrant", "Encrypt", "RetireGrant", "Sign"]}),
                        &["grant operation: RetireGrant", "grant operation: Sign"])]
#[case::an_account(json!({"KeyId": KEY, "GranteePrincipal": "arn:aws:iam::222222222222:root", "Operations": ["Decrypt"]}),
                   &["principal: whole account"])]
fn grants_name_extra_operations_and_whole_accounts(#[case] grant: serde_json::Value, #[case] expected: &[&str]) {
    assert_eq!(labels(FixKind::Grant, &grant.to_string(), &cmk_needs()), expected);
}

#[test]
fn a_trust_policy_for_a_service_is_tight_and_for_anyone_is_not() {
    let needs = Needs { principal: Some("arn:aws:iam::111111111111:role/role-for-ec2".into()), ..Needs::default() };
    let ec2 = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    assert!(analyse(FixKind::TrustPolicy, &ec2.to_string(), None, &needs).is_empty());
    let anyone = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]});
    let found: Vec<String> = analyse(FixKind::TrustPolicy, &anyone.to_string(), None, &needs).iter().map(Finding::label).collect();
    assert_eq!(found, ["Principal: *"]);
}

#[test]
fn malformed_documents_give_no_findings_and_no_panic() {
    for text in ["", "{", "[1,2]", r#"{"Statement": 3}"#, r#"{"Statement": [{"Effect": "Allow", "Action": 5}]}"#] {
        for kind in FixKind::ALL {
            let _ = analyse(kind, text, Some("{"), &cmk_needs());
        }
    }
}

#[test]
fn every_finding_reads_in_both_languages_and_a_manifest_may_name_it_by_label_or_words() {
    let finding = Finding::new(FindingKind::PrincipalAccount { principal: "arn:aws:iam::222222222222:root".into(), needed: ROLE.into() });
    let en = finding.message(Lang::En);
    let ja = finding.message(Lang::Ja);
    assert!(en.contains("222222222222") && ja.contains("222222222222"), "{en} / {ja}");
    assert_ne!(en, ja);
    assert!(finding.is_named_by("principal: whole account"));
    assert!(finding.is_named_by("Whole Account"));
    assert!(!finding.is_named_by("kms:*"));
}
