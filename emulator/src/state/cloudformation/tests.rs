//! Tests of the stack engine, through the CloudFormation API as dispatch runs it.

use chrono::TimeZone;

use super::{status::*, *};
use crate::{
    accounts::DEFAULT_ACCOUNTS,
    error::AwsError,
    principal::Caller,
    profile::BehaviourProfile,
    services::{self, Call, ServiceId},
    value::Value,
};

const ACCOUNT: &str = "111111111111";
const REGION: &str = "ap-northeast-1";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2016, 8, 16, 23, 2, 25).unwrap()
}

fn world() -> World {
    World::new(BehaviourProfile::Current, now()).with_port(crate::dispatch::pipeline())
}

fn caller(world: &World, key_id: &str) -> Caller {
    let key = world.access_keys.get(key_id).expect("known key");
    Caller {
        principal: world.principal_of(key).expect("principal"),
        access_key_id: key_id.to_string(),
        credential_kind: key.kind(),
        source_ip: "127.0.0.1".parse().unwrap(),
        token_issued: None,
        via_service: None,
    }
}

fn admin(world: &World) -> Caller {
    caller(world, DEFAULT_ACCOUNTS[0].access_key_id)
}

/// One request, as dispatch runs it: due effects first, then the handler.
fn request(
    world: &mut World,
    who: &Caller,
    service: ServiceId,
    action: &str,
    params: Value,
) -> Result<Value, AwsError> {
    world.run_due(now());
    let call = Call { caller: who, region: REGION, now: now(), action, params: &params };
    let result = services::handle(service, world, &call).expect("operation exists");
    world.run_due(now());
    result
}

fn cfn(world: &mut World, who: &Caller, action: &str, params: Value) -> Result<Value, AwsError> {
    request(world, who, ServiceId::CloudFormation, action, params)
}

/// A user with PowerUserAccess and a long-term key, as in the source report.
fn power_user(world: &mut World) -> Caller {
    let admin = admin(world);
    request(world, &admin, ServiceId::Iam, "CreateUser", Value::structure().with("UserName", "cfn")).unwrap();
    request(
        world,
        &admin,
        ServiceId::Iam,
        "AttachUserPolicy",
        Value::structure().with("UserName", "cfn").with("PolicyArn", "arn:aws:iam::aws:policy/PowerUserAccess"),
    )
    .unwrap();
    let key = request(world, &admin, ServiceId::Iam, "CreateAccessKey", Value::structure().with("UserName", "cfn"))
        .unwrap();
    let id = key.get("AccessKey").and_then(|k| k.get("AccessKeyId")).and_then(Value::as_str).unwrap().to_string();
    caller(world, &id)
}

fn create(name: &str, body: &str) -> Value {
    Value::structure().with("StackName", name).with("TemplateBody", body)
}

fn stack<'w>(world: &'w World, name: &str) -> &'w Stack {
    world.regional(ACCOUNT, REGION).unwrap().cloudformation.find(name).expect("stack exists")
}

fn statuses(stack: &Stack) -> Vec<String> {
    stack.events.iter().map(|e| format!("{} {}", e.logical_id, e.status)).collect()
}

fn role_exists(world: &World, name: &str) -> bool {
    world.account(ACCOUNT).unwrap().iam.roles.contains_key(name)
}

const IAM_TEMPLATE: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Description: a role for instances
Parameters:
  Env:
    Type: String
    Default: dev
Resources:
  InstanceRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { Service: ec2.amazonaws.com }
            Action: sts:AssumeRole
      Policies:
        - PolicyName: read
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: ec2:Describe*
                Resource: "*"
  Profile:
    Type: AWS::IAM::InstanceProfile
    Properties:
      Roles: [!Ref InstanceRole]
Outputs:
  RoleArn:
    Value: !GetAtt InstanceRole.Arn
  Profile:
    Value: !Sub "${Profile}-${Env}"
"#;

fn with_iam(params: Value) -> Value {
    params.with("Capabilities", Value::List(vec!["CAPABILITY_IAM".into()]))
}

#[test]
fn an_iam_stack_is_created_with_the_callers_credentials_and_deleted() {
    let mut world = world();
    let admin = admin(&world);
    let error = cfn(&mut world, &admin, "CreateStack", create("roles", IAM_TEMPLATE)).unwrap_err();
    assert_eq!(
        (error.code.as_ref(), error.message.as_str()),
        ("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_IAM]")
    );

    let answer = cfn(&mut world, &admin, "CreateStack", with_iam(create("roles", IAM_TEMPLATE))).unwrap();
    let stack_id = answer.get("StackId").and_then(Value::as_str).unwrap().to_string();
    assert!(stack_id.starts_with("arn:aws:cloudformation:ap-northeast-1:111111111111:stack/roles/"));
    let s = stack(&world, "roles");
    assert_eq!(s.status, CREATE_COMPLETE, "{:?}", statuses(s));
    let role = s.resource("InstanceRole").unwrap().physical_id.clone().unwrap();
    assert!(role.starts_with("roles-InstanceRole-") && role.len() == "roles-InstanceRole-".len() + 13, "{role}");
    assert!(role_exists(&world, &role));
    let iam = &world.account(ACCOUNT).unwrap().iam;
    assert!(iam.roles[&role].inline_policies.contains_key("read"));
    let profile = s.resource("Profile").unwrap().physical_id.clone().unwrap();
    assert!(iam.instance_profiles.contains_key(&profile));
    assert_eq!(s.outputs[0].value, format!("arn:aws:iam::111111111111:role/{role}"));
    assert_eq!(s.outputs[1].value, format!("{profile}-dev"));
    assert_eq!(
        statuses(s),
        vec![
            "roles CREATE_IN_PROGRESS",
            "InstanceRole CREATE_IN_PROGRESS",
            "InstanceRole CREATE_IN_PROGRESS",
            "InstanceRole CREATE_COMPLETE",
            "Profile CREATE_IN_PROGRESS",
            "Profile CREATE_IN_PROGRESS",
            "Profile CREATE_COMPLETE",
            "roles CREATE_COMPLETE",
        ]
    );

    let error = cfn(&mut world, &admin, "CreateStack", with_iam(create("roles", IAM_TEMPLATE))).unwrap_err();
    assert_eq!(
        (error.code.as_ref(), error.message.as_str()),
        ("AlreadyExistsException", "Stack [roles] already exists")
    );

    cfn(&mut world, &admin, "DeleteStack", Value::structure().with("StackName", "roles")).unwrap();
    assert!(!role_exists(&world, &role));
    assert!(!world.account(ACCOUNT).unwrap().iam.instance_profiles.contains_key(&profile));
    let error =
        cfn(&mut world, &admin, "DescribeStacks", Value::structure().with("StackName", "roles")).unwrap_err();
    assert_eq!(error.message, "Stack with id roles does not exist");
    let by_id =
        cfn(&mut world, &admin, "DescribeStacks", Value::structure().with("StackName", stack_id.as_str())).unwrap();
    assert_eq!(by_id.get("Stacks").unwrap().as_list()[0].get("StackStatus"), Some(&Value::from(DELETE_COMPLETE)));
}

#[test]
fn a_denied_inner_call_fails_the_resource_and_the_stack_rolls_back() {
    let mut world = world();
    let admin = admin(&world);
    let power = power_user(&mut world);
    // Something PowerUserAccess may create, then the role it may not.
    let body = r#"{"Resources": {
            "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
                "Statistic": "Average", "Period": "60", "EvaluationPeriods": "1", "Threshold": "90", "ComparisonOperator": "GreaterThanThreshold"}},
            "Role": {"Type": "AWS::IAM::Role", "DependsOn": "Alarm", "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}}
        }}"#;
    cfn(&mut world, &power, "CreateStack", with_iam(create("denied", body))).unwrap();
    let s = stack(&world, "denied").clone();
    assert_eq!(s.status, ROLLBACK_COMPLETE, "{:?}", statuses(&s));
    let failed = s.events.iter().find(|e| e.status == CREATE_FAILED).unwrap();
    assert_eq!(failed.logical_id, "Role");
    let reason = failed.reason.clone().unwrap();
    assert!(
        reason.starts_with("Resource handler returned message: \"User: arn:aws:iam::111111111111:user/cfn is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::111111111111:role/denied-Role-"),
        "{reason}"
    );
    assert!(reason.contains("(Service: Iam, Status Code: 403, Request ID: "), "{reason}");
    assert!(reason.ends_with("HandlerErrorCode: AccessDenied)"), "{reason}");
    let rollback = s.events.iter().find(|e| e.status == ROLLBACK_IN_PROGRESS).unwrap();
    assert_eq!(
        rollback.reason.as_deref(),
        Some("The following resource(s) failed to create: [Role]. Rollback requested by user.")
    );
    // The alarm that was created is gone again.
    let alarm = s.resource("Alarm").unwrap();
    assert_eq!(alarm.status, DELETE_COMPLETE);
    assert!(world.regional(ACCOUNT, REGION).unwrap().cloudwatch.alarms.is_empty());
    // A stack in ROLLBACK_COMPLETE cannot be updated, only deleted.
    let error = cfn(&mut world, &power, "UpdateStack", with_iam(create("denied", body))).unwrap_err();
    assert_eq!(error.message, format!("Stack:{} is in ROLLBACK_COMPLETE state and can not be updated.", s.id));
    // The same template works for the administrator.
    cfn(&mut world, &admin, "CreateStack", with_iam(create("allowed", body))).unwrap();
    assert_eq!(stack(&world, "allowed").status, CREATE_COMPLETE);
}

#[test]
fn the_legacy_profile_names_the_api_call_in_the_reason() {
    let mut world = World::new(BehaviourProfile::Legacy2016, now()).with_port(crate::dispatch::pipeline());
    let power = power_user(&mut world);
    let body = r#"{"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "app",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}}}}}"#;
    let params = create("legacy", body).with("Capabilities", Value::List(vec!["CAPABILITY_NAMED_IAM".into()]));
    cfn(&mut world, &power, "CreateStack", params).unwrap();
    let s = stack(&world, "legacy");
    assert_eq!(s.status, ROLLBACK_COMPLETE);
    let reason = s.events.iter().find(|e| e.status == CREATE_FAILED).and_then(|e| e.reason.clone()).unwrap();
    assert!(
        reason.starts_with("API: iam:CreateRole User: arn:aws:iam::111111111111:user/cfn is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::111111111111:role/app"),
        "{reason}"
    );
}

#[test]
fn disable_rollback_keeps_what_was_created() {
    let mut world = world();
    let admin = admin(&world);
    let taken = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;
    request(
        &mut world,
        &admin,
        ServiceId::Iam,
        "CreateRole",
        Value::structure().with("RoleName", "Taken").with("AssumeRolePolicyDocument", taken),
    )
    .unwrap();
    let body = r#"{"Resources": {
            "First": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}},
            "Second": {"Type": "AWS::IAM::Role", "DependsOn": "First", "Properties": {"RoleName": "Taken", "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}}
        }}"#;
    let params = create("kept", body)
        .with("Capabilities", Value::List(vec!["CAPABILITY_NAMED_IAM".into()]))
        .with("DisableRollback", "true");
    cfn(&mut world, &admin, "CreateStack", params).unwrap();
    let s = stack(&world, "kept").clone();
    assert_eq!(s.status, CREATE_FAILED);
    assert_eq!(s.status_reason.as_deref(), Some("The following resource(s) failed to create: [Second]. "));
    let reason = s.resource("Second").unwrap().status_reason.clone().unwrap();
    assert!(reason.contains("HandlerErrorCode: AlreadyExists"), "{reason}");
    let first = s.resource("First").unwrap().physical_id.clone().unwrap();
    assert!(role_exists(&world, &first));
    // Deleting the stack deletes it; the pre-existing role is not the stack's.
    cfn(&mut world, &admin, "DeleteStack", Value::structure().with("StackName", "kept")).unwrap();
    assert!(!role_exists(&world, &first));
    assert!(role_exists(&world, "Taken"));
}

#[test]
fn updates_apply_in_place_or_replace_and_roll_back_on_failure() {
    let mut world = world();
    let admin = admin(&world);
    cfn(&mut world, &admin, "CreateStack", with_iam(create("up", IAM_TEMPLATE))).unwrap();
    let before = stack(&world, "up").clone();
    let role = before.resource("InstanceRole").unwrap().physical_id.clone().unwrap();
    let profile = before.resource("Profile").unwrap().physical_id.clone().unwrap();

    let error = cfn(&mut world, &admin, "UpdateStack", with_iam(create("up", IAM_TEMPLATE))).unwrap_err();
    assert_eq!(error.message, "No updates are to be performed.");

    // In place: the inline policy changes, the role stays.
    let changed = IAM_TEMPLATE.replace("ec2:Describe*", "ec2:DescribeInstances");
    cfn(&mut world, &admin, "UpdateStack", with_iam(create("up", &changed))).unwrap();
    let s = stack(&world, "up").clone();
    assert_eq!(s.status, UPDATE_COMPLETE, "{:?}", statuses(&s));
    assert_eq!(s.resource("InstanceRole").unwrap().physical_id.as_deref(), Some(role.as_str()));
    let text = &world.account(ACCOUNT).unwrap().iam.roles[&role].inline_policies["read"].text;
    assert!(text.contains("ec2:DescribeInstances"), "{text}");

    // Replacement: a named profile is a new profile; the old one goes in the cleanup phase.
    let renamed = changed.replace(
        "Roles: [!Ref InstanceRole]",
        "InstanceProfileName: named-profile\n      Roles: [!Ref InstanceRole]",
    );
    let params = create("up", &renamed).with("Capabilities", Value::List(vec!["CAPABILITY_NAMED_IAM".into()]));
    cfn(&mut world, &admin, "UpdateStack", params).unwrap();
    let s = stack(&world, "up").clone();
    assert_eq!(s.status, UPDATE_COMPLETE, "{:?}", statuses(&s));
    let profiles = &world.account(ACCOUNT).unwrap().iam.instance_profiles;
    assert!(profiles.contains_key("named-profile") && !profiles.contains_key(&profile));
    let tail: Vec<String> = statuses(&s).into_iter().skip(before.events.len() + 5).collect();
    assert_eq!(
        tail,
        vec![
            "up UPDATE_IN_PROGRESS",
            "Profile UPDATE_IN_PROGRESS",
            "Profile UPDATE_IN_PROGRESS",
            "Profile UPDATE_COMPLETE",
            "up UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            "Profile DELETE_IN_PROGRESS",
            "Profile DELETE_COMPLETE",
            "up UPDATE_COMPLETE",
        ]
    );

    // A malformed policy fails the update; the previous policy is put back.
    let broken = renamed.replace("Action: ec2:DescribeInstances", "Action: 42\n                Bogus: x");
    let params = create("up", &broken).with("Capabilities", Value::List(vec!["CAPABILITY_NAMED_IAM".into()]));
    cfn(&mut world, &admin, "UpdateStack", params).unwrap();
    let s = stack(&world, "up").clone();
    assert_eq!(s.status, UPDATE_ROLLBACK_COMPLETE, "{:?}", statuses(&s));
    let failed = s.events.iter().rev().find(|e| e.status == UPDATE_FAILED).unwrap();
    assert!(
        failed.reason.as_deref().unwrap().contains("MalformedPolicyDocument")
            || failed.reason.as_deref().unwrap().contains("HandlerErrorCode: InvalidRequest"),
        "{:?}",
        failed.reason
    );
    let text = &world.account(ACCOUNT).unwrap().iam.roles[&role].inline_policies["read"].text;
    assert!(text.contains("ec2:DescribeInstances"), "{text}");
    assert_eq!(s.template.body, renamed);
}

/// The source report: EC2 instance plus recovery alarm, the alarm named by CloudFormation,
/// then an update that names the alarm, which replaces it.
#[test]
fn the_report_stack_creates_an_instance_and_a_recovery_alarm() {
    let mut world = world();
    let power = power_user(&mut world);
    let body = crate::template::tests::REPORT_EC2_JSON.to_string();
    cfn(&mut world, &power, "CreateStack", create("ec2-recoveryalarm-user", &body)).unwrap();
    let s = stack(&world, "ec2-recoveryalarm-user").clone();
    assert_eq!(
        s.status,
        CREATE_COMPLETE,
        "{:?}",
        s.events.iter().map(|e| (&e.logical_id, e.status, &e.reason)).collect::<Vec<_>>()
    );
    let instance = s.resource("Ec2Instance").unwrap().physical_id.clone().unwrap();
    assert!(instance.starts_with("i-"));
    let alarm = s.resource("RecoveryAlarm").unwrap().physical_id.clone().unwrap();
    let suffix = alarm.strip_prefix("ec2-recoveryalarm-user-RecoveryAlarm-").expect("generated name");
    assert!(suffix.len() == 13 && suffix.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()), "{alarm}");
    let cloudwatch = &world.regional(ACCOUNT, REGION).unwrap().cloudwatch;
    let stored = &cloudwatch.alarms[&alarm];
    assert_eq!(stored.creator().principal, power.principal);
    assert_eq!(stored.creator().credential_kind, power.credential_kind);
    assert_eq!(
        s.outputs.iter().map(|o| o.value.clone()).collect::<Vec<_>>(),
        vec![instance.clone(), alarm.clone()]
    );

    let renamed = body.replacen(
        "\"Namespace\": \"AWS/EC2\" ,",
        "\"Namespace\": \"AWS/EC2\" ,\n        \"AlarmName\": \"ec2-recoveryalarm-user-RecoveryAlarm-renew\",",
        1,
    );
    cfn(&mut world, &power, "UpdateStack", create("ec2-recoveryalarm-user", &renamed)).unwrap();
    let s = stack(&world, "ec2-recoveryalarm-user").clone();
    assert_eq!(s.status, UPDATE_COMPLETE, "{:?}", statuses(&s));
    let alarms = &world.regional(ACCOUNT, REGION).unwrap().cloudwatch.alarms;
    assert!(alarms.contains_key("ec2-recoveryalarm-user-RecoveryAlarm-renew") && !alarms.contains_key(&alarm));
    assert_eq!(s.resource("Ec2Instance").unwrap().physical_id.as_deref(), Some(instance.as_str()));

    cfn(&mut world, &power, "DeleteStack", Value::structure().with("StackName", "ec2-recoveryalarm-user")).unwrap();
    let s = world.regional(ACCOUNT, REGION).unwrap().cloudformation.stacks[0].clone();
    assert_eq!(s.status, DELETE_COMPLETE, "{:?}", statuses(&s));
    assert!(world.regional(ACCOUNT, REGION).unwrap().cloudwatch.alarms.is_empty());
}

#[test]
fn generated_names_fit_the_limit() {
    let mut world = world();
    let admin = admin(&world);
    let long_stack = "a-very-long-stack-name-that-goes-on-and-on-and-on";
    let body = r#"{"Resources": {"AnExtremelyLongLogicalIdForTheRole": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}}}}"#;
    cfn(&mut world, &admin, "CreateStack", with_iam(create(long_stack, body))).unwrap();
    let s = stack(&world, long_stack);
    let name = s.resources[0].physical_id.clone().unwrap();
    assert_eq!(name.len(), 64, "{name}");
    assert!(name.starts_with("a-very-long-stack-name") && name.contains("-AnExtremelyLong"), "{name}");
}

#[test]
fn template_errors_answer_synchronously() {
    let mut world = world();
    let admin = admin(&world);
    let cases = [
        ("{\n  \"Resources\": {\n    ,", "Template format error: JSON not well-formed. (line 3, column 5)"),
        (
            r#"{"Resources": {"A": {"Type": "AWS::Foo::Bar"}}}"#,
            "Template format error: Unrecognized resource types: [AWS::Foo::Bar]",
        ),
        (
            r#"{"Parameters": {"X": {"Type": "String"}}, "Resources": {"A": {"Type": "AWS::CloudWatch::Alarm"}}}"#,
            "Parameters: [X] must have values",
        ),
        (
            r#"{"Parameters": {"X": {"Type": "String", "Default": "a"}}, "Conditions": {"C": {"Fn::Equals": [{"Ref": "X"}, "b"]}},
                   "Resources": {"A": {"Type": "AWS::CloudWatch::Alarm", "Condition": "C"}, "B": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmDescription": {"Ref": "A"}}}}}"#,
            "Template format error: Unresolved resource dependencies [A] in the Resources block of the template",
        ),
    ];
    for (body, expected) in cases {
        let error = cfn(&mut world, &admin, "CreateStack", create("bad", body)).unwrap_err();
        assert_eq!((error.code.as_ref(), error.message.as_str()), ("ValidationError", expected));
    }
    let error = cfn(&mut world, &admin, "CreateStack", create("bad_name", "{}")).unwrap_err();
    assert_eq!(error.message, "1 validation error detected: Value 'bad_name' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*");
    let error = cfn(
        &mut world,
        &admin,
        "CreateStack",
        create("x", "{}").with("RoleARN", "arn:aws:iam::111111111111:role/cfn"),
    )
    .unwrap_err();
    assert!(error.message.starts_with("wana: service roles"));
    assert!(world.regional(ACCOUNT, REGION).is_none_or(|r| r.cloudformation.stacks.is_empty()));
}

#[test]
fn validate_template_reports_parameters_and_capabilities() {
    let mut world = world();
    let admin = admin(&world);
    let out =
        cfn(&mut world, &admin, "ValidateTemplate", Value::structure().with("TemplateBody", IAM_TEMPLATE)).unwrap();
    assert_eq!(out.get("Description"), Some(&Value::from("a role for instances")));
    assert_eq!(out.get("Capabilities"), Some(&Value::List(vec!["CAPABILITY_IAM".into()])));
    assert_eq!(
        out.get("CapabilitiesReason"),
        Some(&Value::from(
            "The following resource(s) require capabilities: [AWS::IAM::InstanceProfile, AWS::IAM::Role]"
        ))
    );
    let parameters = out.get("Parameters").unwrap().as_list();
    assert_eq!(parameters[0].get("ParameterKey"), Some(&Value::from("Env")));
    assert_eq!(parameters[0].get("DefaultValue"), Some(&Value::from("dev")));
}
