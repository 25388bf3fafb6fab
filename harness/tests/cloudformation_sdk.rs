//! CloudFormation seen from the Rust SDK (and once from the AWS CLI, with the source report's
//! own commands): the report's EC2 + recovery-alarm stack created by an IAM user and by a role
//! session, the alarm CloudFormation names, an update that names the alarm and so replaces it, and
//! a stack whose IAM role the caller may not create, which rolls back with the inner AccessDenied
//! in its events.

use aws_sdk_cloudformation::{
    error::ProvideErrorMetadata,
    types::{Capability, ResourceStatus, StackStatus},
};
use wana_emulator::BehaviourProfile;
use wana_harness::{assume::assume_role, AwsCli, Backend, Principal};

/// `ec2.json` of the source report, byte for byte.
const EC2_JSON: &str = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Outputs": {
    "InstanceID" : {
      "Value" : { "Ref" : "Ec2Instance" }
    },
    "RecoveryAlarm" : {
      "Value" : { "Ref" : "RecoveryAlarm" }
    }
  },
  "Resources": {
    "Ec2Instance" : {
      "Type" : "AWS::EC2::Instance",
      "Properties" : {
        "ImageId" : "ami-374db956",
        "InstanceType" : "t2.micro",
        "BlockDeviceMappings" : [
          {
            "DeviceName": "/dev/xvda",
            "Ebs": {
              "VolumeType": "gp2",
              "VolumeSize": "8"
            }
          }
        ]
      }
    },
    "RecoveryAlarm": {
      "Type": "AWS::CloudWatch::Alarm",
      "Properties": {
        "Namespace": "AWS/EC2" ,
        "MetricName": "StatusCheckFailed",
        "Statistic": "Minimum",
        "Period": "60",
        "EvaluationPeriods": "5",
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": "0",
        "AlarmActions": [ {"Fn::Join" : ["", ["arn:aws:automate:", { "Ref" : "AWS::Region" }, ":ec2:recover" ]]} ],
        "Dimensions": [{"Name": "InstanceId","Value": {"Ref": "Ec2Instance"}}]
      }
    }
  }
}
"#;

/// `ec2_update.json`: the report's diff adds an `AlarmName` after line 30.
fn ec2_update_json(alarm_name: &str) -> String {
    let mut lines: Vec<String> = EC2_JSON.lines().map(str::to_string).collect();
    lines.insert(30, format!("        \"AlarmName\": \"{alarm_name}\","));
    lines.join("\n") + "\n"
}

const ROLE_TEMPLATE: &str = r#"
Resources:
  AppRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { Service: ec2.amazonaws.com }
            Action: sts:AssumeRole
"#;

const POWER_USER: &str = "arn:aws:iam::aws:policy/PowerUserAccess";

async fn emulator() -> Backend {
    Backend::start_emulator(BehaviourProfile::Current).await.expect("emulator starts")
}

fn cfn(principal: &Principal) -> aws_sdk_cloudformation::Client {
    aws_sdk_cloudformation::Client::new(&principal.config)
}

fn code_and_message<E: ProvideErrorMetadata>(error: &E) -> (String, String) {
    (error.code().unwrap_or_default().to_string(), error.message().unwrap_or_default().to_string())
}

/// The report's IAM user: PowerUserAccess and long-term keys (the `cfn` profile).
async fn power_user(backend: &Backend, admin: &Principal) -> Principal {
    let iam = admin.iam();
    iam.create_user().user_name("cfn").send().await.unwrap();
    iam.attach_user_policy().user_name("cfn").policy_arn(POWER_USER).send().await.unwrap();
    let key = iam.create_access_key().user_name("cfn").send().await.unwrap().access_key.unwrap();
    Principal::from_keys(backend, "cfn", &admin.account, key.access_key_id(), key.secret_access_key(), None)
        .unwrap()
        .with_arn(format!("arn:aws:iam::{}:user/cfn", admin.account))
}

/// The report's IAM role, also with PowerUserAccess, as a session with temporary credentials.
async fn power_role_session(admin: &Principal) -> Principal {
    let iam = admin.iam();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"sts:AssumeRole"}}]}}"#,
        admin.account
    );
    let role =
        iam.create_role().role_name("PowerRole").assume_role_policy_document(trust).send().await.unwrap().role.unwrap();
    iam.attach_role_policy().role_name("PowerRole").policy_arn(POWER_USER).send().await.unwrap();
    assume_role(admin, role.arn(), "instance", None, "PowerRole@a").await.unwrap()
}

async fn stack(client: &aws_sdk_cloudformation::Client, name: &str) -> aws_sdk_cloudformation::types::Stack {
    let described = client.describe_stacks().stack_name(name).send().await.unwrap();
    described.stacks()[0].clone()
}

fn output(stack: &aws_sdk_cloudformation::types::Stack, key: &str) -> String {
    stack.outputs().iter().find(|o| o.output_key() == Some(key)).and_then(|o| o.output_value()).unwrap().to_string()
}

/// `<stack>-RecoveryAlarm-` and 13 upper-case letters or digits, as CloudFormation names it.
fn assert_generated_alarm_name(stack_name: &str, alarm: &str) {
    let suffix = alarm.strip_prefix(&format!("{stack_name}-RecoveryAlarm-")).unwrap_or_else(|| panic!("{alarm}"));
    assert_eq!(suffix.len(), 13, "{alarm}");
    assert!(suffix.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()), "{alarm}");
}

#[tokio::test]
async fn the_report_stack_is_created_by_a_user_and_by_a_role_session() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let user = power_user(&backend, &admin).await;
    let session = power_role_session(&admin).await;
    assert!(session.is_temporary() && !user.is_temporary());

    for (principal, name) in [(&session, "ec2-recoveryalarm-role"), (&user, "ec2-recoveryalarm-user")] {
        let created = cfn(principal).create_stack().stack_name(name).template_body(EC2_JSON).send().await.unwrap();
        let stack_id = created.stack_id().unwrap().to_string();
        assert!(
            stack_id.starts_with(&format!("arn:aws:cloudformation:us-east-1:111111111111:stack/{name}/")),
            "{stack_id}"
        );

        let described = stack(&cfn(principal), name).await;
        assert_eq!(described.stack_status(), Some(&StackStatus::CreateComplete), "{described:?}");
        assert_eq!(described.stack_id(), Some(stack_id.as_str()));
        let instance = output(&described, "InstanceID");
        assert!(instance.starts_with("i-"), "{instance}");
        let alarm = output(&described, "RecoveryAlarm");
        assert_generated_alarm_name(name, &alarm);

        // The alarm exists as CloudFormation passed it on: numbers given as strings, the joined
        // action ARN, the instance as dimension.
        let alarms = aws_sdk_cloudwatch::Client::new(&principal.config)
            .describe_alarms()
            .alarm_names(&alarm)
            .send()
            .await
            .unwrap();
        let metric_alarm = &alarms.metric_alarms()[0];
        assert_eq!(metric_alarm.alarm_actions(), ["arn:aws:automate:us-east-1:ec2:recover"]);
        assert_eq!(metric_alarm.period(), Some(60));
        assert_eq!(metric_alarm.evaluation_periods(), Some(5));
        assert_eq!(metric_alarm.threshold(), Some(0.0));
        assert_eq!(metric_alarm.dimensions()[0].value(), Some(instance.as_str()));

        let resources = cfn(principal).describe_stack_resources().stack_name(name).send().await.unwrap();
        let summary: Vec<(&str, Option<&ResourceStatus>, Option<&str>)> = resources
            .stack_resources()
            .iter()
            .map(|r| (r.logical_resource_id().unwrap_or_default(), r.resource_status(), r.physical_resource_id()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("Ec2Instance", Some(&ResourceStatus::CreateComplete), Some(instance.as_str())),
                ("RecoveryAlarm", Some(&ResourceStatus::CreateComplete), Some(alarm.as_str())),
            ]
        );
        let by_physical = cfn(principal).describe_stack_resources().physical_resource_id(&alarm).send().await.unwrap();
        assert_eq!(by_physical.stack_resources()[0].stack_name(), Some(name));

        let events = cfn(principal).describe_stack_events().stack_name(name).send().await.unwrap();
        let newest = &events.stack_events()[0];
        assert_eq!(
            (newest.logical_resource_id(), newest.resource_status()),
            (Some(name), Some(&ResourceStatus::CreateComplete))
        );
        let oldest = events.stack_events().last().unwrap();
        assert_eq!(oldest.resource_status_reason(), Some("User Initiated"));
    }
}

#[tokio::test]
async fn an_update_that_names_the_alarm_replaces_it() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let user = power_user(&backend, &admin).await;
    let session = power_role_session(&admin).await;
    let name = "ec2-recoveryalarm-role";
    cfn(&session).create_stack().stack_name(name).template_body(EC2_JSON).send().await.unwrap();
    let before = stack(&cfn(&session), name).await;
    let old_alarm = output(&before, "RecoveryAlarm");
    let instance = output(&before, "InstanceID");

    // As in the report, the IAM user updates the role's stack.
    let renewed = "ec2-recoveryalarm-role-RecoveryAlarm-renew";
    cfn(&user).update_stack().stack_name(name).template_body(ec2_update_json(renewed)).send().await.unwrap();
    let after = stack(&cfn(&user), name).await;
    assert_eq!(after.stack_status(), Some(&StackStatus::UpdateComplete), "{after:?}");
    assert_eq!(output(&after, "RecoveryAlarm"), renewed);
    assert_eq!(output(&after, "InstanceID"), instance, "the instance is not replaced");
    assert!(after.last_updated_time().is_some());

    let cloudwatch = aws_sdk_cloudwatch::Client::new(&user.config);
    let names: Vec<String> = cloudwatch
        .describe_alarms()
        .send()
        .await
        .unwrap()
        .metric_alarms()
        .iter()
        .filter_map(|a| a.alarm_name().map(str::to_string))
        .collect();
    assert_eq!(names, vec![renewed.to_string()]);

    let events = cfn(&user).describe_stack_events().stack_name(name).send().await.unwrap();
    let deleted_old = events.stack_events().iter().any(|e| {
        e.physical_resource_id() == Some(old_alarm.as_str())
            && e.resource_status() == Some(&ResourceStatus::DeleteComplete)
    });
    assert!(deleted_old, "the old alarm is deleted in the cleanup phase");

    let error =
        cfn(&user).update_stack().stack_name(name).template_body(ec2_update_json(renewed)).send().await.unwrap_err();
    assert_eq!(
        code_and_message(&error.into_service_error()),
        ("ValidationError".to_string(), "No updates are to be performed.".to_string())
    );
}

#[tokio::test]
async fn a_power_user_cannot_create_a_role_and_the_stack_rolls_back() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let user = power_user(&backend, &admin).await;

    let error = cfn(&user).create_stack().stack_name("app").template_body(ROLE_TEMPLATE).send().await.unwrap_err();
    assert_eq!(
        code_and_message(&error.into_service_error()),
        ("InsufficientCapabilitiesException".to_string(), "Requires capabilities : [CAPABILITY_IAM]".to_string())
    );

    cfn(&user)
        .create_stack()
        .stack_name("app")
        .template_body(ROLE_TEMPLATE)
        .capabilities(Capability::CapabilityIam)
        .send()
        .await
        .unwrap();
    let described = stack(&cfn(&user), "app").await;
    assert_eq!(described.stack_status(), Some(&StackStatus::RollbackComplete));

    let events = cfn(&user).describe_stack_events().stack_name("app").send().await.unwrap();
    let statuses: Vec<(&str, &ResourceStatus)> = events
        .stack_events()
        .iter()
        .rev()
        .map(|e| (e.logical_resource_id().unwrap(), e.resource_status().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("app", &ResourceStatus::CreateInProgress),
            ("AppRole", &ResourceStatus::CreateInProgress),
            ("AppRole", &ResourceStatus::CreateFailed),
            ("app", &ResourceStatus::RollbackInProgress),
            ("AppRole", &ResourceStatus::DeleteComplete),
            ("app", &ResourceStatus::RollbackComplete),
        ]
    );
    let failed =
        events.stack_events().iter().find(|e| e.resource_status() == Some(&ResourceStatus::CreateFailed)).unwrap();
    let reason = failed.resource_status_reason().unwrap();
    assert!(
        reason.starts_with(
            "Resource handler returned message: \"User: arn:aws:iam::111111111111:user/cfn is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::111111111111:role/app-AppRole-"
        ),
        "{reason}"
    );
    assert!(reason.contains("because no identity-based policy allows the iam:CreateRole action (Service: Iam, Status Code: 403, Request ID: "), "{reason}");
    assert!(reason.ends_with(", HandlerErrorCode: AccessDenied)"), "{reason}");
    let rollback = events
        .stack_events()
        .iter()
        .find(|e| e.resource_status() == Some(&ResourceStatus::RollbackInProgress))
        .unwrap();
    assert_eq!(
        rollback.resource_status_reason(),
        Some("The following resource(s) failed to create: [AppRole]. Rollback requested by user.")
    );

    // The administrator may create the role; the user's stack must be deleted first.
    let error = cfn(&admin)
        .create_stack()
        .stack_name("app")
        .template_body(ROLE_TEMPLATE)
        .capabilities(Capability::CapabilityIam)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code_and_message(&error.into_service_error()).0, "AlreadyExistsException");
    cfn(&admin).delete_stack().stack_name("app").send().await.unwrap();
    cfn(&admin)
        .create_stack()
        .stack_name("app")
        .template_body(ROLE_TEMPLATE)
        .capabilities(Capability::CapabilityIam)
        .send()
        .await
        .unwrap();
    assert_eq!(stack(&cfn(&admin), "app").await.stack_status(), Some(&StackStatus::CreateComplete));
    let listed = cfn(&admin).list_stacks().send().await.unwrap();
    let summaries: Vec<(&str, &StackStatus)> =
        listed.stack_summaries().iter().map(|s| (s.stack_name().unwrap(), s.stack_status().unwrap())).collect();
    assert_eq!(summaries, vec![("app", &StackStatus::CreateComplete), ("app", &StackStatus::DeleteComplete)]);
}

#[tokio::test]
async fn errors_carry_cloudformation_codes_and_texts() {
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let client = cfn(&admin);

    let error = client.describe_stacks().stack_name("nope").send().await.unwrap_err();
    assert_eq!(
        code_and_message(&error.into_service_error()),
        ("ValidationError".to_string(), "Stack with id nope does not exist".to_string())
    );
    let error =
        client.create_stack().stack_name("bad").template_body("{\n  \"Resources\": {\n    ,").send().await.unwrap_err();
    assert_eq!(
        code_and_message(&error.into_service_error()),
        ("ValidationError".to_string(), "Template format error: JSON not well-formed. (line 3, column 5)".to_string())
    );
    let error = client
        .validate_template()
        .template_body(
            r#"{"Resources": {"A": {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": {"Ref": "Ami"}}}}}"#,
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_and_message(&error.into_service_error()).1,
        "Template format error: Unresolved resource dependencies [Ami] in the Resources block of the template"
    );
    client.delete_stack().stack_name("never-existed").send().await.expect("deleting an unknown stack succeeds");

    // A user without CloudFormation permissions is denied by CloudFormation itself.
    let iam = admin.iam();
    iam.create_user().user_name("nobody").send().await.unwrap();
    let key = iam.create_access_key().user_name("nobody").send().await.unwrap().access_key.unwrap();
    let nobody =
        Principal::from_keys(&backend, "nobody", "a", key.access_key_id(), key.secret_access_key(), None).unwrap();
    let error = cfn(&nobody).create_stack().stack_name("x").template_body(EC2_JSON).send().await.unwrap_err();
    assert_eq!(
        code_and_message(&error.into_service_error()),
        (
            "AccessDenied".to_string(),
            "User: arn:aws:iam::111111111111:user/nobody is not authorized to perform: cloudformation:CreateStack on resource: arn:aws:cloudformation:us-east-1:111111111111:stack/x/* because no identity-based policy allows the cloudformation:CreateStack action".to_string()
        )
    );

    let template = client.validate_template().template_body(ROLE_TEMPLATE).send().await.unwrap();
    assert_eq!(template.capabilities(), [Capability::CapabilityIam]);
    assert_eq!(
        template.capabilities_reason(),
        Some("The following resource(s) require capabilities: [AWS::IAM::Role]")
    );
}

/// The report's own commands, through the real AWS CLI: `create-stack --template-body
/// file://ec2.json`, then the stack as `describe-stacks` shows it.
#[tokio::test]
async fn the_aws_cli_creates_the_report_stack_from_a_file() {
    let cli = AwsCli::locate().expect("the AWS CLI is part of the test setup");
    let backend = emulator().await;
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let user = power_user(&backend, &admin).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ec2.json");
    std::fs::write(&path, EC2_JSON).unwrap();
    let template = format!("file://{}", path.display());

    let created = cli
        .run(
            &user.cli_credentials(),
            &["cloudformation", "create-stack", "--stack-name", "ec2-recoveryalarm-user", "--template-body", &template],
        )
        .await
        .unwrap();
    assert!(created.success(), "{created:?}");
    assert!(created.json().unwrap()["StackId"].as_str().unwrap().contains(":stack/ec2-recoveryalarm-user/"));

    let described = cli
        .run(&user.cli_credentials(), &["cloudformation", "describe-stacks", "--stack-name", "ec2-recoveryalarm-user"])
        .await
        .unwrap();
    assert!(described.success(), "{described:?}");
    let stack = &described.json().unwrap()["Stacks"][0];
    assert_eq!(stack["StackStatus"], "CREATE_COMPLETE");
    let outputs = stack["Outputs"].as_array().unwrap();
    let alarm = outputs.iter().find(|o| o["OutputKey"] == "RecoveryAlarm").unwrap()["OutputValue"].as_str().unwrap();
    assert_generated_alarm_name("ec2-recoveryalarm-user", alarm);

    let missing = cli
        .run(&user.cli_credentials(), &["cloudformation", "describe-stacks", "--stack-name", "ec2-recoveryalarm-nope"])
        .await
        .unwrap();
    assert_eq!(missing.error_code(), Some("ValidationError"), "{missing:?}");
    assert_eq!(missing.error_message(), Some("Stack with id ec2-recoveryalarm-nope does not exist"));
}
