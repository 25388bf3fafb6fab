//! Tests of the Auto Scaling wire: members as the query protocol decodes them (text, `member`
//! lists, nested structures), AWS's errors, the authorization of each operation, the
//! service-linked role on first use, and the output shapes.

use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, Duration, TimeZone, Utc};
use rstest::rstest;

use super::*;
use crate::{
    principal::{Caller, CredentialKind, Principal},
    profile::BehaviourProfile,
    protocol::{self, Protocol, ServiceId},
};

const ACCOUNT: &str = "111111111111";
const REGION: &str = "us-east-1";
const ADMIN_KEY: &str = "AKIAWANAADMINA000001";
const SLR_ARN: &str =
    "arn:aws:iam::111111111111:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling";
const AUTOSCALING_ONLY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"autoscaling:*","Resource":"*"}]}"#;
const TRUST_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
/// What the Auto Scaling user guide asks of whoever creates the first group.
const AUTOSCALING_AND_ITS_ROLE: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":"autoscaling:*","Resource":"*"},
    {"Effect":"Allow","Action":"iam:CreateServiceLinkedRole","Resource":"*",
     "Condition":{"StringEquals":{"iam:AWSServiceName":"autoscaling.amazonaws.com"}}}]}"#;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().expect("valid time")
}

fn world() -> World {
    World::new(BehaviourProfile::default(), t0()).with_port(crate::dispatch::pipeline())
}

fn admin(world: &World) -> Caller {
    let principal = world.principal_of(&world.access_keys[ADMIN_KEY]).expect("the admin user");
    Caller {
        principal,
        access_key_id: ADMIN_KEY.to_string(),
        credential_kind: CredentialKind::LongTerm,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        token_issued: None,
        via_service: None,
    }
}

/// A new user of the account with an inline policy (none for `None`).
fn user(world: &mut World, name: &str, policy: Option<&str>) -> Caller {
    let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
    let user = iam.create_user(ids, ACCOUNT, t0(), name, None, Vec::new()).unwrap().clone();
    if let Some(policy) = policy {
        iam.put_user_policy(name, "inline", policy).unwrap();
    }
    Caller {
        principal: Principal::User { account: ACCOUNT.to_string(), name: user.name, path: user.path, user_id: user.id },
        access_key_id: "AKIAWANATESTUSER0001".to_string(),
        credential_kind: CredentialKind::LongTerm,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        token_issued: None,
        via_service: None,
    }
}

/// Members as the query decoder gives them: every scalar is text.
fn members(pairs: &[(&str, Value)]) -> Value {
    pairs.iter().fold(Value::structure(), |params, (name, value)| params.with(name, value.clone()))
}

fn list(items: &[&str]) -> Value {
    items.iter().copied().collect()
}

fn run_at(world: &mut World, caller: &Caller, action: &str, params: Value, now: DateTime<Utc>) -> Result<Value, AwsError> {
    let call = Call { caller, region: REGION, now, action, params: &params };
    crate::services::handle(ServiceId::AutoScaling, world, &call).expect("an operation of Auto Scaling")
}

fn run(world: &mut World, caller: &Caller, action: &str, params: Value) -> Result<Value, AwsError> {
    run_at(world, caller, action, params, t0())
}

fn code_and_message(result: Result<Value, AwsError>) -> (String, u16, String) {
    let error = result.expect_err("expected an error");
    (error.code.to_string(), error.status, error.message)
}

fn create_lc(world: &mut World, caller: &Caller, name: &str) -> Result<Value, AwsError> {
    let params = members(&[
        ("LaunchConfigurationName", name.into()),
        ("ImageId", "ami-374db956".into()),
        ("InstanceType", "t2.micro".into()),
    ]);
    run(world, caller, "CreateLaunchConfiguration", params)
}

fn group_params(name: &str, lc: &str, desired: &str) -> Value {
    members(&[
        ("AutoScalingGroupName", name.into()),
        ("LaunchConfigurationName", lc.into()),
        ("MinSize", "0".into()),
        ("MaxSize", "2".into()),
        ("DesiredCapacity", desired.into()),
        ("AvailabilityZones", list(&["us-east-1a"])),
        (
            "Tags",
            Value::List(vec![members(&[
                ("Key", "team".into()),
                ("Value", "web".into()),
                ("PropagateAtLaunch", "true".into()),
            ])]),
        ),
    ])
}

/// The administrator's launch configuration `lc` and group `web` (desired 1), created at t0.
fn web_group(world: &mut World) -> Caller {
    let admin = admin(world);
    create_lc(world, &admin, "lc").unwrap();
    run(world, &admin, "CreateAutoScalingGroup", group_params("web", "lc", "1")).unwrap();
    admin
}

fn first<'v>(output: &'v Value, list: &str) -> &'v Value {
    output.get(list).map(Value::as_list).and_then(|l| l.first()).expect("one item")
}

fn str_of<'v>(value: &'v Value, member: &str) -> &'v str {
    value.get(member).and_then(Value::as_str).unwrap_or_else(|| panic!("no {member} in {value:?}"))
}

#[test]
fn the_first_group_creates_the_service_linked_role_for_a_caller_allowed_to() {
    let mut world = world();
    let ops = user(&mut world, "ops", Some(AUTOSCALING_AND_ITS_ROLE));
    create_lc(&mut world, &ops, "lc").unwrap();
    run(&mut world, &ops, "CreateAutoScalingGroup", group_params("web", "lc", "0")).unwrap();
    let role = world.iam(ACCOUNT).unwrap().role("AWSServiceRoleForAutoScaling").unwrap().clone();
    assert_eq!((role.arn.as_str(), role.path.as_str()), (SLR_ARN, "/aws-service-role/autoscaling.amazonaws.com/"));
    assert_eq!(role.attached_policies, ["arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy"]);
    assert!(role.trust_policy.text.contains(r#""Service":["autoscaling.amazonaws.com"]"#));
    // IAM decided for the caller, through Auto Scaling.
    let decision = world.authz_log.records().find(|r| r.action == "iam:CreateServiceLinkedRole").unwrap();
    assert!(decision.allowed);
    assert_eq!(decision.caller_arn, "arn:aws:iam::111111111111:user/ops");
    assert_eq!(decision.acting_service.as_deref(), Some("autoscaling.amazonaws.com"));
    let group = run(&mut world, &ops, "DescribeAutoScalingGroups", Value::structure()).unwrap();
    assert_eq!(str_of(first(&group, "AutoScalingGroups"), "ServiceLinkedRoleARN"), SLR_ARN);
}

#[test]
fn without_create_service_linked_role_the_first_group_is_refused_and_later_ones_are_not() {
    let mut world = world();
    let ops = user(&mut world, "ops", Some(AUTOSCALING_ONLY));
    create_lc(&mut world, &ops, "lc").unwrap();
    assert_eq!(
        code_and_message(run(&mut world, &ops, "CreateAutoScalingGroup", group_params("web", "lc", "0"))),
        (
            "AccessDenied".to_string(),
            403,
            format!(
                "User: arn:aws:iam::111111111111:user/ops is not authorized to perform: iam:CreateServiceLinkedRole on \
                 resource: {SLR_ARN} because no identity-based policy allows the iam:CreateServiceLinkedRole action"
            )
        )
    );
    let groups = run(&mut world, &ops, "DescribeAutoScalingGroups", Value::structure()).unwrap();
    assert_eq!(groups.get("AutoScalingGroups"), Some(&Value::List(Vec::new())));
    // Once the role exists (an administrator made a group), the same user can make groups.
    let admin = admin(&world);
    run(&mut world, &admin, "CreateAutoScalingGroup", group_params("first", "lc", "0")).unwrap();
    run(&mut world, &ops, "CreateAutoScalingGroup", group_params("web", "lc", "0")).unwrap();
}

#[rstest]
#[case("AttachRolePolicy", &[("PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess")])]
#[case("PutRolePolicy", &[("PolicyName", "kms"), ("PolicyDocument", AUTOSCALING_ONLY)])]
#[case("UpdateAssumeRolePolicy", &[("PolicyDocument", TRUST_EC2)])]
#[case("DeleteRole", &[])]
fn iam_refuses_to_change_the_service_linked_role(#[case] action: &str, #[case] extra: &[(&str, &str)]) {
    let mut world = world();
    let admin = web_group(&mut world);
    let params = extra
        .iter()
        .fold(Value::structure().with("RoleName", "AWSServiceRoleForAutoScaling"), |p, (k, v)| p.with(k, *v));
    let call = Call { caller: &admin, region: REGION, now: t0(), action, params: &params };
    let result = crate::services::handle(ServiceId::Iam, &mut world, &call).expect("an IAM operation");
    assert_eq!(
        code_and_message(result),
        (
            "UnmodifiableEntity".to_string(),
            400,
            "Cannot perform the operation on the protected role 'AWSServiceRoleForAutoScaling' - this role is only \
             modifiable by AWS"
                .to_string()
        )
    );
}

#[rstest]
#[case::missing_min_size(
    "CreateAutoScalingGroup",
    members(&[("AutoScalingGroupName", "g".into()), ("MaxSize", "1".into())]),
    "ValidationError",
    "1 validation error detected: Value null at 'minSize' failed to satisfy constraint: Member must not be null"
)]
#[case::no_launch_source(
    "CreateAutoScalingGroup",
    members(&[("AutoScalingGroupName", "g".into()), ("MinSize", "0".into()), ("MaxSize", "1".into())]),
    "ValidationError",
    "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter."
)]
#[case::template_with_id_and_name(
    "CreateAutoScalingGroup",
    members(&[
        ("AutoScalingGroupName", "g".into()), ("MinSize", "0".into()), ("MaxSize", "1".into()),
        ("LaunchTemplate", members(&[("LaunchTemplateId", "lt-0123456789abcdef0".into()), ("LaunchTemplateName", "web".into())])),
    ]),
    "ValidationError",
    "Valid requests must contain either launchTemplateId or LaunchTemplateName"
)]
#[case::unknown_launch_configuration(
    "CreateAutoScalingGroup",
    group_params("g", "nope", "0"),
    "ValidationError",
    "Launch configuration name not found - Launch configuration nope not found"
)]
#[case::duplicate_group(
    "CreateAutoScalingGroup",
    group_params("web", "lc", "0"),
    "AlreadyExists",
    "AutoScalingGroup by this name already exists - A group with the name web already exists"
)]
#[case::desired_above_max(
    "CreateAutoScalingGroup",
    group_params("g", "lc", "3"),
    "ValidationError",
    "Desired capacity:3 must be between the specified min size:0 and max size:2"
)]
#[case::name_too_long(
    "DeleteAutoScalingGroup",
    members(&[("AutoScalingGroupName", "x".repeat(256).into())]),
    "ValidationError",
    &format!("1 validation error detected: Value '{}' at 'autoScalingGroupName' failed to satisfy constraint: Member must have length less than or equal to 255", "x".repeat(256))
)]
#[case::delete_unknown_group(
    "DeleteAutoScalingGroup",
    members(&[("AutoScalingGroupName", "nope".into())]),
    "ValidationError",
    "AutoScalingGroup name not found - AutoScalingGroup nope not found"
)]
#[case::update_unknown_group(
    "UpdateAutoScalingGroup",
    members(&[("AutoScalingGroupName", "nope".into()), ("MaxSize", "3".into())]),
    "ValidationError",
    "AutoScalingGroup name not found - null"
)]
#[case::update_max_below_min(
    "UpdateAutoScalingGroup",
    members(&[("AutoScalingGroupName", "web".into()), ("MinSize", "2".into()), ("MaxSize", "1".into())]),
    "ValidationError",
    "Max bound, 1, must be greater than or equal to min bound, 2"
)]
#[case::desired_above_max_on_set(
    "SetDesiredCapacity",
    members(&[("AutoScalingGroupName", "web".into()), ("DesiredCapacity", "5".into())]),
    "ValidationError",
    "New SetDesiredCapacity value 5 is above max value 2 for the AutoScalingGroup."
)]
#[case::force_delete_not_a_boolean(
    "DeleteAutoScalingGroup",
    members(&[("AutoScalingGroupName", "web".into()), ("ForceDelete", "maybe".into())]),
    "ValidationError",
    "Invalid value for parameter ForceDelete"
)]
#[case::group_with_instances(
    "DeleteAutoScalingGroup",
    members(&[("AutoScalingGroupName", "web".into())]),
    "ResourceInUse",
    "You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group."
)]
#[case::duplicate_launch_configuration(
    "CreateLaunchConfiguration",
    members(&[("LaunchConfigurationName", "lc".into()), ("ImageId", "ami-374db956".into()), ("InstanceType", "t2.micro".into())]),
    "AlreadyExists",
    "Launch Configuration by this name already exists - A launch configuration already exists with the name lc"
)]
#[case::unknown_image(
    "CreateLaunchConfiguration",
    members(&[("LaunchConfigurationName", "x".into()), ("ImageId", "ami-12345678".into()), ("InstanceType", "t2.micro".into())]),
    "ValidationError",
    "AMI ami-12345678 is invalid: The image id '[ami-12345678]' does not exist"
)]
#[case::no_image(
    "CreateLaunchConfiguration",
    members(&[("LaunchConfigurationName", "x".into()), ("InstanceType", "t2.micro".into())]),
    "ValidationError",
    "Valid requests must contain either the InstanceID parameter or both the ImageId and InstanceType parameters."
)]
#[case::launch_configuration_in_use(
    "DeleteLaunchConfiguration",
    members(&[("LaunchConfigurationName", "lc".into())]),
    "ResourceInUse",
    "Cannot delete launch configuration lc because it is attached to AutoScalingGroup web"
)]
#[case::unknown_launch_configuration_deleted(
    "DeleteLaunchConfiguration",
    members(&[("LaunchConfigurationName", "nope".into())]),
    "ValidationError",
    "Launch configuration name not found - Launch configuration nope not found"
)]
#[case::bad_next_token(
    "DescribeAutoScalingGroups",
    members(&[("NextToken", "abc".into())]),
    "InvalidNextToken",
    "The token 'abc' is invalid."
)]
fn bad_input_is_answered_with_aws_codes(
    #[case] action: &str,
    #[case] params: Value,
    #[case] code: &str,
    #[case] message: &str,
) {
    let mut world = world();
    let admin = web_group(&mut world);
    world.run_due(t0() + Duration::seconds(10));
    assert_eq!(
        code_and_message(run_at(&mut world, &admin, action, params, t0() + Duration::seconds(10))),
        (code.to_string(), 400, message.to_string())
    );
}

#[test]
fn a_launch_template_ec2_cannot_resolve_is_not_fully_formed() {
    let mut world = world();
    let admin = admin(&world);
    let params = members(&[
        ("AutoScalingGroupName", "g".into()),
        ("MinSize", "0".into()),
        ("MaxSize", "1".into()),
        ("AvailabilityZones", list(&["us-east-1a"])),
        ("LaunchTemplate", members(&[("LaunchTemplateName", "missing".into())])),
    ]);
    let (code, status, message) = code_and_message(run(&mut world, &admin, "CreateAutoScalingGroup", params));
    assert_eq!((code.as_str(), status), ("ValidationError", 400));
    assert!(message.starts_with("You must use a valid fully-formed launch template. "), "{message}");
    let groups = run(&mut world, &admin, "DescribeAutoScalingGroups", Value::structure()).unwrap();
    assert_eq!(groups.get("AutoScalingGroups"), Some(&Value::List(Vec::new())));
}

#[rstest]
#[case("CreateAutoScalingGroup", group_params("g", "lc", "0"), "autoscaling:CreateAutoScalingGroup",
    "arn:aws:autoscaling:us-east-1:111111111111:autoScalingGroup:*:autoScalingGroupName/g")]
#[case("SetDesiredCapacity", members(&[("AutoScalingGroupName", "web".into()), ("DesiredCapacity", "1".into())]),
    "autoscaling:SetDesiredCapacity", "<web>")]
#[case("DeleteAutoScalingGroup", members(&[("AutoScalingGroupName", "web".into())]),
    "autoscaling:DeleteAutoScalingGroup", "<web>")]
#[case("DescribeScalingActivities", Value::structure(), "autoscaling:DescribeScalingActivities", "*")]
#[case("CreateLaunchConfiguration", members(&[("LaunchConfigurationName", "x".into()), ("ImageId", "ami-374db956".into()), ("InstanceType", "t2.micro".into())]),
    "autoscaling:CreateLaunchConfiguration",
    "arn:aws:autoscaling:us-east-1:111111111111:launchConfiguration:*:launchConfigurationName/x")]
fn each_operation_is_authorized_as_its_autoscaling_action(
    #[case] action: &str,
    #[case] params: Value,
    #[case] iam_action: &str,
    #[case] resource: &str,
) {
    let mut world = world();
    web_group(&mut world);
    let nobody = user(&mut world, "nobody", None);
    let resource = match resource {
        "<web>" => model::group(&world, ACCOUNT, REGION, "web").unwrap().arn.clone(),
        other => other.to_string(),
    };
    assert_eq!(
        code_and_message(run(&mut world, &nobody, action, params)),
        (
            "AccessDenied".to_string(),
            403,
            format!(
                "User: arn:aws:iam::111111111111:user/nobody is not authorized to perform: {iam_action} on resource: \
                 {resource} because no identity-based policy allows the {iam_action} action"
            )
        )
    );
}

#[test]
fn the_describe_operations_show_groups_instances_activities_and_launch_configurations() {
    let mut world = world();
    let admin = web_group(&mut world);
    world.run_due(t0() + Duration::seconds(10));
    let group = run(&mut world, &admin, "DescribeAutoScalingGroups", members(&[("AutoScalingGroupNames", list(&["web", "other"]))])).unwrap();
    let [group] = group.get("AutoScalingGroups").map(Value::as_list).unwrap() else {
        panic!("one group");
    };
    assert!(str_of(group, "AutoScalingGroupARN").starts_with("arn:aws:autoscaling:us-east-1:111111111111:autoScalingGroup:"));
    assert!(str_of(group, "AutoScalingGroupARN").ends_with(":autoScalingGroupName/web"));
    assert_eq!(str_of(group, "LaunchConfigurationName"), "lc");
    assert_eq!(group.get("DesiredCapacity"), Some(&Value::Int(1)));
    assert_eq!(group.get("AvailabilityZones"), Some(&list(&["us-east-1a"])));
    assert_eq!(group.get("Status"), None);
    let instance = first(group, "Instances");
    assert_eq!((str_of(instance, "LifecycleState"), str_of(instance, "HealthStatus")), ("InService", "Healthy"));
    let tag = first(group, "Tags");
    assert_eq!((str_of(tag, "ResourceType"), str_of(tag, "Key")), ("auto-scaling-group", "team"));
    let instance_id = str_of(instance, "InstanceId").to_string();

    let details = run(&mut world, &admin, "DescribeAutoScalingInstances", members(&[("InstanceIds", list(&[&instance_id]))])).unwrap();
    let details = first(&details, "AutoScalingInstances");
    assert_eq!((str_of(details, "AutoScalingGroupName"), str_of(details, "HealthStatus")), ("web", "HEALTHY"));

    let output = run(&mut world, &admin, "DescribeScalingActivities", members(&[("AutoScalingGroupName", "web".into())])).unwrap();
    let activity = first(&output, "Activities");
    assert_eq!(str_of(activity, "StatusCode"), "Successful");
    assert_eq!(str_of(activity, "Description"), format!("Launching a new EC2 instance: {instance_id}"));
    assert_eq!(activity.get("Progress"), Some(&Value::Int(100)));
    assert_eq!(str_of(activity, "Details"), r#"{"Availability Zone":"us-east-1a"}"#);
    // On the wire: awsQuery's result wrapper and `member` lists, as botocore reads them.
    let encoded = protocol::encode_output(Protocol::AwsQuery, ServiceId::AutoScaling.wire(), "DescribeScalingActivities", &output, "req-1");
    let body = String::from_utf8(encoded.body).unwrap();
    assert!(body.contains("<DescribeScalingActivitiesResult><Activities><member><ActivityId>"), "{body}");
    assert!(body.contains("<StatusCode>Successful</StatusCode>"), "{body}");

    let lcs = run(&mut world, &admin, "DescribeLaunchConfigurations", Value::structure()).unwrap();
    let lc = first(&lcs, "LaunchConfigurations");
    assert_eq!((str_of(lc, "ImageId"), str_of(lc, "InstanceType")), ("ami-374db956", "t2.micro"));
    assert!(str_of(lc, "LaunchConfigurationARN").ends_with(":launchConfigurationName/lc"));
}

#[test]
fn a_forced_deletion_shows_delete_in_progress_and_deleted_groups_keep_their_activities() {
    let mut world = world();
    let admin = web_group(&mut world);
    let later = |s| t0() + Duration::seconds(s);
    world.run_due(later(10));
    let force = members(&[("AutoScalingGroupName", "web".into()), ("ForceDelete", "true".into())]);
    run_at(&mut world, &admin, "DeleteAutoScalingGroup", force, later(10)).unwrap();
    let groups = run_at(&mut world, &admin, "DescribeAutoScalingGroups", Value::structure(), later(10)).unwrap();
    assert_eq!(str_of(first(&groups, "AutoScalingGroups"), "Status"), "Delete in progress");
    world.run_due(later(30));
    let groups = run_at(&mut world, &admin, "DescribeAutoScalingGroups", Value::structure(), later(30)).unwrap();
    assert_eq!(groups.get("AutoScalingGroups"), Some(&Value::List(Vec::new())));
    let by_name = members(&[("AutoScalingGroupName", "web".into())]);
    let current = run_at(&mut world, &admin, "DescribeScalingActivities", by_name.clone(), later(30)).unwrap();
    assert_eq!(current.get("Activities"), Some(&Value::List(Vec::new())));
    let all = by_name.with("IncludeDeletedGroups", "true");
    let deleted = run_at(&mut world, &admin, "DescribeScalingActivities", all, later(30)).unwrap();
    let activities = deleted.get("Activities").map(Value::as_list).unwrap();
    assert_eq!(activities.len(), 2);
    assert!(str_of(&activities[0], "Description").starts_with("Terminating EC2 instance: i-"));
    assert_eq!(str_of(&activities[0], "AutoScalingGroupState"), "Deleted");
}

#[test]
fn activities_are_paged_newest_first() {
    let mut world = world();
    let admin = web_group(&mut world);
    world.run_due(t0() + Duration::seconds(10));
    let set = members(&[("AutoScalingGroupName", "web".into()), ("DesiredCapacity", "2".into())]);
    run_at(&mut world, &admin, "SetDesiredCapacity", set, t0() + Duration::seconds(10)).unwrap();
    world.run_due(t0() + Duration::seconds(20));
    let page = run(&mut world, &admin, "DescribeScalingActivities", members(&[("MaxRecords", "1".into())])).unwrap();
    let newest = first(&page, "Activities");
    assert!(str_of(newest, "Cause").contains("explicitly set group desired capacity"));
    let token = str_of(&page, "NextToken").to_string();
    let rest = run(&mut world, &admin, "DescribeScalingActivities", members(&[("NextToken", token.into())])).unwrap();
    assert!(str_of(first(&rest, "Activities"), "Cause").contains("created an AutoScalingGroup"));
    assert_eq!(rest.get("NextToken"), None);
}

/// A port that resolves one launch template as EC2 would (EC2's launch templates are another
/// branch's work) and carries every other inner call through the request pipeline.
struct WithTemplate;

impl crate::port::Services<World> for WithTemplate {
    fn call(&self, world: &mut World, call: crate::port::InnerCall<'_>) -> Result<Value, AwsError> {
        if call.service == ServiceId::Ec2 && call.action == "DescribeLaunchTemplates" {
            let template =
                Value::structure().with("launchTemplateId", "lt-0123456789abcdef0").with("launchTemplateName", "web");
            return Ok(Value::structure().with("launchTemplates", Value::List(vec![template])));
        }
        crate::port::Services::call(&crate::dispatch::Pipeline, world, call)
    }
}

#[test]
fn a_group_with_a_launch_template_needs_the_callers_run_instances() {
    let mut world = World::new(BehaviourProfile::default(), t0()).with_port(crate::state::Port::new(WithTemplate));
    let params = members(&[
        ("AutoScalingGroupName", "web".into()),
        ("MinSize", "0".into()),
        ("MaxSize", "1".into()),
        ("AvailabilityZones", list(&["us-east-1a"])),
        ("LaunchTemplate", members(&[("LaunchTemplateName", "web".into()), ("Version", "$Latest".into())])),
    ]);
    let ops = user(&mut world, "ops", Some(AUTOSCALING_AND_ITS_ROLE));
    assert_eq!(
        code_and_message(run(&mut world, &ops, "CreateAutoScalingGroup", params.clone())),
        ("AccessDenied".to_string(), 403, "You are not authorized to use launch template: lt-0123456789abcdef0".to_string())
    );
    let decision = world.authz_log.records().filter(|r| r.action == "ec2:RunInstances").last().unwrap();
    assert_eq!(decision.resource, "arn:aws:ec2:us-east-1:111111111111:launch-template/lt-0123456789abcdef0");

    let (iam, _) = world.iam_and_ids(ACCOUNT).unwrap();
    let run_instances = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*"}]}"#;
    iam.put_user_policy("ops", "launch", run_instances).unwrap();
    run(&mut world, &ops, "CreateAutoScalingGroup", params).unwrap();
    let groups = run(&mut world, &ops, "DescribeAutoScalingGroups", Value::structure()).unwrap();
    let group = first(&groups, "AutoScalingGroups");
    assert_eq!(group.get("LaunchConfigurationName"), None);
    let template = group.get("LaunchTemplate").unwrap();
    assert_eq!(
        (str_of(template, "LaunchTemplateId"), str_of(template, "LaunchTemplateName"), str_of(template, "Version")),
        ("lt-0123456789abcdef0", "web", "$Latest")
    );
}
