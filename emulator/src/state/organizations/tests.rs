//! Tests of which organization policies bear on a request (`effective`), and of the structure
//! the model keeps.

use chrono::{DateTime, TimeZone, Utc};
use rstest::rstest;

use super::*;
use crate::profile::BehaviourProfile;

const A: &str = "111111111111";
const B: &str = "222222222222";
const DENY_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
const RCP_DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}"#;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().expect("valid time")
}

/// An organization managed by account a, with both types enabled, an OU `Sandbox` holding
/// account b, and `DenyS3` (SCP) and `DenyS3Rcp` (RCP) attached to the OU.
fn organization() -> World {
    let mut world = World::new(BehaviourProfile::default(), now());
    world.create_organization(A, FeatureSet::All, now()).unwrap();
    let suffixes = [world.ids.lower_suffix("ou", 8), world.ids.lower_suffix("p", 10), world.ids.lower_suffix("p", 10)];
    let org = world.organization.as_mut().unwrap();
    let root = org.root.id.clone();
    org.enable_type(&root, PolicyType::ServiceControl).unwrap();
    org.enable_type(&root, PolicyType::ResourceControl).unwrap();
    let [ou, scp, rcp] = suffixes;
    let ou = org.create_unit(ou, &root, "Sandbox").unwrap().id.clone();
    org.move_account(B, &root, &ou).unwrap();
    let scp = org
        .create_policy(scp, NewPolicy { name: "DenyS3", description: "", kind: PolicyType::ServiceControl, content: DENY_S3 })
        .unwrap()
        .id
        .clone();
    let rcp = org
        .create_policy(rcp, NewPolicy { name: "DenyS3Rcp", description: "", kind: PolicyType::ResourceControl, content: RCP_DENY })
        .unwrap()
        .id
        .clone();
    org.attach_policy(&scp, &ou).unwrap();
    org.attach_policy(&rcp, &ou).unwrap();
    world
}

fn level_names(levels: &Option<Vec<Level>>) -> Vec<Vec<&str>> {
    let levels = levels.as_deref().expect("levels");
    levels.iter().map(|level| level.policies.iter().map(|p| p.name.as_str()).collect()).collect()
}

#[test]
fn outside_an_organization_no_policy_applies() {
    let world = World::new(BehaviourProfile::default(), now());
    assert!(world.organization_layers(B, B, "s3:GetObject").is_empty());
}

#[test]
fn a_type_that_is_not_enabled_contributes_no_level() {
    let mut world = World::new(BehaviourProfile::default(), now());
    world.create_organization(A, FeatureSet::All, now()).unwrap();
    assert!(world.organization_layers(B, B, "s3:GetObject").is_empty());
}

#[test]
fn a_members_requests_meet_every_level_from_the_root_down() {
    let world = organization();
    let layers = world.organization_layers(B, B, "s3:GetObject");
    assert_eq!(layers.management_account, A);
    let targets: Vec<&str> = layers.scp_levels.as_deref().unwrap().iter().map(|l| l.target.as_str()).collect();
    let org = world.organization.as_ref().unwrap();
    assert_eq!(targets, org.lineage(B));
    assert_eq!(targets.len(), 3);
    assert_eq!(
        level_names(&layers.scp_levels),
        [vec!["FullAWSAccess"], vec!["FullAWSAccess", "DenyS3"], vec!["FullAWSAccess"]]
    );
    assert_eq!(
        level_names(&layers.rcp_levels),
        [vec!["RCPFullAWSAccess"], vec!["RCPFullAWSAccess", "DenyS3Rcp"], vec!["RCPFullAWSAccess"]]
    );
}

/// The engine exempts the management account and service-linked roles; the gathering only
/// leaves out RCPs for services they do not cover.
#[rstest]
#[case::the_management_accounts_principal(A, B, "s3:GetObject", true, true)]
#[case::a_resource_of_the_management_account(B, A, "s3:GetObject", true, true)]
#[case::a_service_rcps_do_not_cover(B, B, "ec2:RunInstances", true, false)]
#[case::kms_is_covered(B, B, "kms:Decrypt", true, true)]
#[case::a_service_principal("", B, "sts:AssumeRole", false, true)]
fn what_is_gathered(#[case] principal: &str, #[case] resource: &str, #[case] action: &str, #[case] scps: bool, #[case] rcps: bool) {
    let world = organization();
    let layers = world.organization_layers(principal, resource, action);
    assert_eq!((layers.scp_levels.is_some(), layers.rcp_levels.is_some()), (scps, rcps));
}

#[test]
fn disabling_a_type_removes_its_levels() {
    let mut world = organization();
    let org = world.organization.as_mut().unwrap();
    let root = org.root.id.clone();
    org.disable_type(&root, PolicyType::ServiceControl).unwrap();
    let layers = world.organization_layers(B, B, "s3:GetObject");
    assert!(layers.scp_levels.is_none());
    assert_eq!(layers.rcp_levels.map(|l| l.len()), Some(3));
}
