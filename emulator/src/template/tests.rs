//! Tests of the template engine.

use super::{
    references::{parse_sub, SubPart},
    *,
};

/// The template of the source report (seed 000), byte for byte.
pub(crate) const REPORT_EC2_JSON: &str = r#"{
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

const REPORT_EC2_YAML: &str = r#"
AWSTemplateFormatVersion: 2010-09-09
Outputs:
  InstanceID:
    Value: !Ref Ec2Instance
  RecoveryAlarm:
    Value: !Ref RecoveryAlarm
Resources:
  Ec2Instance:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-374db956
      InstanceType: t2.micro
      BlockDeviceMappings:
        - DeviceName: /dev/xvda
          Ebs:
            VolumeType: gp2
            VolumeSize: 8
  RecoveryAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/EC2
      MetricName: StatusCheckFailed
      Statistic: Minimum
      Period: 60
      EvaluationPeriods: 5
      ComparisonOperator: GreaterThanThreshold
      Threshold: 0
      AlarmActions:
        - !Sub arn:${AWS::Partition}:automate:${AWS::Region}:ec2:recover
      Dimensions:
        - Name: InstanceId
          Value: !Ref Ec2Instance
"#;

struct TestCatalog;

impl Catalog for TestCatalog {
    fn support(&self, type_name: &str) -> TypeSupport {
        match type_name {
            "AWS::EC2::Instance" | "AWS::CloudWatch::Alarm" | "AWS::IAM::Role" => TypeSupport::Emulated,
            "AWS::S3::Bucket" => TypeSupport::NotEmulated,
            _ => TypeSupport::Unknown,
        }
    }

    fn has_attribute(&self, type_name: &str, attribute: &str) -> bool {
        match type_name {
            "AWS::EC2::Instance" => ["AvailabilityZone", "PrivateIp", "PrivateDnsName"].contains(&attribute),
            "AWS::IAM::Role" => ["Arn", "RoleId"].contains(&attribute),
            "AWS::CloudWatch::Alarm" => attribute == "Arn",
            _ => false,
        }
    }
}

/// Resources that exist with made-up physical ids, or do not exist yet.
struct Fixed(Vec<(&'static str, &'static str)>);

impl Resources for Fixed {
    fn physical_id(&self, logical_id: &str) -> Lookup<String> {
        // `Prod` of the FUNCTIONS template has a condition that is false.
        if logical_id == "Prod" {
            return Lookup::Excluded;
        }
        match self.0.iter().find(|(l, _)| *l == logical_id) {
            Some((_, p)) => Lookup::Found(p.to_string()),
            None => Lookup::Unknown,
        }
    }

    fn attribute(&self, logical_id: &str, attribute: &str) -> Lookup<Node> {
        match self.physical_id(logical_id) {
            Lookup::Found(p) => Lookup::Found(Node::Str(format!("{p}.{attribute}"))),
            other => other.map_unknown(),
        }
    }
}

impl Lookup<String> {
    fn map_unknown(self) -> Lookup<Node> {
        match self {
            Lookup::Found(_) | Lookup::Unknown => Lookup::Unknown,
            Lookup::Excluded => Lookup::Excluded,
        }
    }
}

fn pseudo() -> Pseudo {
    Pseudo {
        account: "111111111111".into(),
        region: "ap-northeast-1".into(),
        stack_name: "ec2-recoveryalarm-user".into(),
        stack_id: "arn:aws:cloudformation:ap-northeast-1:111111111111:stack/ec2-recoveryalarm-user/x".into(),
        notification_arns: vec![],
    }
}

fn message(result: Result<impl std::fmt::Debug, AwsError>) -> String {
    let error = result.expect_err("an error");
    assert_eq!(error.code, "ValidationError");
    error.message
}

fn resolve_in(
    template: &Template,
    parameters: &[GivenParameter],
    resources: &Fixed,
    json: &str,
) -> Result<Option<Node>, AwsError> {
    let pseudo = pseudo();
    let parameters = template.resolve_parameters(parameters, &[])?;
    let scope = Scope::new(template, &pseudo, &parameters, resources)?;
    scope.resolve(&serde_json::from_str(json).unwrap())
}

#[test]
fn the_report_template_parses_orders_and_resolves() {
    let template = Template::parse(REPORT_EC2_JSON).unwrap();
    template.check(&TestCatalog).unwrap();
    assert_eq!(template.creation_order().unwrap(), vec!["Ec2Instance", "RecoveryAlarm"]);
    assert_eq!(template.dependencies(template.resource("RecoveryAlarm").unwrap()), vec!["Ec2Instance"]);

    let pseudo = pseudo();
    let created = Fixed(vec![("Ec2Instance", "i-0abc")]);
    let scope = Scope::new(&template, &pseudo, &[], &created).unwrap();
    let alarm = scope.properties(template.resource("RecoveryAlarm").unwrap()).unwrap();
    assert_eq!(alarm.get("Period"), Some(&Node::Str("60".into())));
    assert_eq!(
        alarm.get("AlarmActions"),
        Some(&Node::List(vec![Node::Str("arn:aws:automate:ap-northeast-1:ec2:recover".into())]))
    );
    assert_eq!(
        alarm.get("Dimensions").unwrap().as_list().unwrap()[0].get("Value"),
        Some(&Node::Str("i-0abc".into()))
    );
    let outputs =
        Scope::new(&template, &pseudo, &[], &Fixed(vec![("Ec2Instance", "i-0abc"), ("RecoveryAlarm", "alarm-1")]))
            .unwrap()
            .outputs()
            .unwrap();
    assert_eq!(
        outputs.iter().map(|o| (o.key.as_str(), o.value.as_str())).collect::<Vec<_>>(),
        vec![("InstanceID", "i-0abc"), ("RecoveryAlarm", "alarm-1")]
    );
}

#[test]
fn the_yaml_version_with_short_tags_means_the_same() {
    let template = Template::parse(REPORT_EC2_YAML).unwrap();
    template.check(&TestCatalog).unwrap();
    assert_eq!(template.creation_order().unwrap(), vec!["Ec2Instance", "RecoveryAlarm"]);
    let pseudo = pseudo();
    let created = Fixed(vec![("Ec2Instance", "i-0abc")]);
    let scope = Scope::new(&template, &pseudo, &[], &created).unwrap();
    let alarm = scope.properties(template.resource("RecoveryAlarm").unwrap()).unwrap();
    assert_eq!(alarm.get("Period").and_then(Node::text), Some("60".into()));
    assert_eq!(alarm.get("Threshold").and_then(Node::text), Some("0".into()));
    assert_eq!(
        alarm.get("AlarmActions").unwrap().as_list().unwrap()[0],
        Node::Str("arn:aws:automate:ap-northeast-1:ec2:recover".into())
    );
    let instance = scope.properties(template.resource("Ec2Instance").unwrap()).unwrap();
    let ebs = instance.get("BlockDeviceMappings").unwrap().as_list().unwrap()[0].get("Ebs").unwrap().clone();
    assert_eq!(ebs.get("VolumeSize").and_then(Node::text), Some("8".into()));
}

#[test]
fn yaml_tags_become_long_forms() {
    let json = parse_body("A: !GetAtt Role.Arn\nB: !Select [0, !GetAZs '']\nC: !If [Cond, !Ref X, !Ref AWS::NoValue]\nD: !Condition Cond\n").unwrap();
    assert_eq!(json["A"], serde_json::json!({"Fn::GetAtt": ["Role", "Arn"]}));
    assert_eq!(json["B"], serde_json::json!({"Fn::Select": [0, {"Fn::GetAZs": ""}]}));
    assert_eq!(json["C"], serde_json::json!({"Fn::If": ["Cond", {"Ref": "X"}, {"Ref": "AWS::NoValue"}]}));
    assert_eq!(json["D"], serde_json::json!({"Condition": "Cond"}));
}

const FUNCTIONS: &str = r#"{
      "Parameters": {
        "Env": {"Type": "String", "AllowedValues": ["prod", "dev"], "Default": "dev"},
        "Subnets": {"Type": "CommaDelimitedList", "Default": "s-1,s-2,s-3"},
        "Size": {"Type": "Number", "Default": "8"}
      },
      "Mappings": {"Ami": {"ap-northeast-1": {"Id": "ami-123"}}},
      "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
        "Both": {"Fn::And": [{"Condition": "IsDev"}, {"Fn::Equals": ["8", {"Ref": "Size"}]}]},
        "Either": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "Both"}]}
      },
      "Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
        "Prod": {"Type": "AWS::IAM::Role", "Condition": "IsProd", "Properties": {"AssumeRolePolicyDocument": {}}}
      }
    }"#;

#[test]
fn intrinsic_functions_resolve() {
    let template = Template::parse(FUNCTIONS).unwrap();
    template.check(&TestCatalog).unwrap();
    let created = Fixed(vec![("Role", "my-role")]);
    let cases: &[(&str, Node)] = &[
        (
            r#"{"Fn::Sub": "${AWS::StackName}-${Role}-${Role.Arn}-${!Literal}"}"#,
            Node::Str("ec2-recoveryalarm-user-my-role-my-role.Arn-${Literal}".into()),
        ),
        (r#"{"Fn::Sub": ["${A}/${AWS::AccountId}", {"A": {"Ref": "Env"}}]}"#, Node::Str("dev/111111111111".into())),
        (r#"{"Fn::Join": [",", {"Ref": "Subnets"}]}"#, Node::Str("s-1,s-2,s-3".into())),
        (r#"{"Fn::Select": ["1", {"Ref": "Subnets"}]}"#, Node::Str("s-2".into())),
        (r#"{"Fn::Select": [0, {"Fn::GetAZs": ""}]}"#, Node::Str("ap-northeast-1a".into())),
        (r#"{"Fn::Select": [2, {"Fn::Split": ["/", "a/b/c"]}]}"#, Node::Str("c".into())),
        (r#"{"Fn::GetAtt": ["Role", "Arn"]}"#, Node::Str("my-role.Arn".into())),
        (r#"{"Fn::GetAtt": "Role.RoleId"}"#, Node::Str("my-role.RoleId".into())),
        (r#"{"Fn::If": ["IsProd", "p", "d"]}"#, Node::Str("d".into())),
        (r#"{"Fn::If": ["Either", "yes", "no"]}"#, Node::Str("yes".into())),
        (r#"{"Fn::Base64": "hello"}"#, Node::Str("aGVsbG8=".into())),
        (r#"{"Fn::FindInMap": ["Ami", {"Ref": "AWS::Region"}, "Id"]}"#, Node::Str("ami-123".into())),
        (r#"{"Ref": "AWS::Partition"}"#, Node::Str("aws".into())),
        (r#"{"Ref": "AWS::URLSuffix"}"#, Node::Str("amazonaws.com".into())),
        (
            r#"[1, {"Ref": "AWS::NoValue"}, {"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]}]"#,
            Node::List(vec![Node::Num(1.into())]),
        ),
    ];
    for (json, expected) in cases {
        assert_eq!(resolve_in(&template, &[], &created, json).unwrap().as_ref(), Some(expected), "{json}");
    }
    // Before the role exists, everything built from it is unknown, not an error.
    let nothing = Fixed(vec![]);
    assert_eq!(
        resolve_in(&template, &[], &nothing, r#"{"Fn::Join": ["", ["a", {"Fn::GetAtt": ["Role", "Arn"]}]]}"#)
            .unwrap(),
        Some(Node::Unknown)
    );
}

#[test]
fn function_errors_use_aws_texts() {
    let template = Template::parse(FUNCTIONS).unwrap();
    let created = Fixed(vec![("Role", "my-role")]);
    let cases = [
        (r#"{"Fn::Select": [5, {"Ref": "Subnets"}]}"#, "Template error: Fn::Select cannot select nonexistent value at index 5"),
        (r#"{"Fn::Join": [","]}"#, "Template error: every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined."),
        (r#"{"Fn::FindInMap": ["Ami", "us-east-1", "Id"]}"#, "Template error: Unable to get mapping for Ami::us-east-1::Id"),
        (r#"{"Ref": "Prod"}"#, "Template format error: Unresolved resource dependencies [Prod] in the Resources block of the template"),
        (r#"{"Fn::GetAtt": ["Nope", "Arn"]}"#, "Template error: instance of Fn::GetAtt references undefined resource Nope"),
    ];
    for (json, expected) in cases {
        assert_eq!(message(resolve_in(&template, &[], &created, json)), expected, "{json}");
    }
    assert!(message(resolve_in(&template, &[], &created, r#"{"Fn::Foo": 1}"#)).starts_with(
        "Template format error: Encountered unsupported function: Fn::Foo Supported functions are: ["
    ));
}

#[test]
fn parameters_are_checked_like_aws() {
    let template = Template::parse(
        r#"{"Parameters": {"A": {"Type": "String"}, "B": {"Type": "String"}, "N": {"Type": "Number", "Default": "1"},
                "E": {"Type": "String", "Default": "x", "AllowedValues": ["x", "y"]}},
               "Resources": {"R": {"Type": "AWS::IAM::Role"}}}"#,
    )
    .unwrap();
    let given = |k: &str, v: &str| GivenParameter { key: k.into(), value: Some(v.into()), use_previous: false };
    assert_eq!(message(template.resolve_parameters(&[], &[])), "Parameters: [A, B] must have values");
    assert_eq!(
        message(template.resolve_parameters(&[given("A", "1"), given("B", "2"), given("Z", "3")], &[])),
        "Parameters: [Z] do not exist in the template"
    );
    assert_eq!(
        message(template.resolve_parameters(&[given("A", "1"), given("B", "2"), given("E", "z")], &[])),
        "Parameter 'E' must be one of AllowedValues"
    );
    assert_eq!(
        message(template.resolve_parameters(&[given("A", "1"), given("B", "2"), given("N", "x")], &[])),
        "Parameter 'N' must be a number."
    );
    let ok = template.resolve_parameters(&[given("A", "1"), given("B", "2")], &[]).unwrap();
    assert_eq!(ok.iter().map(|p| p.value.as_str()).collect::<Vec<_>>(), vec!["1", "2", "1", "x"]);
    let none = Template::parse(r#"{"Resources": {"R": {"Type": "AWS::IAM::Role"}}}"#).unwrap();
    assert_eq!(
        message(none.resolve_parameters(&[given("A", "1")], &[])),
        "Parameter values specified for a template which does not require them."
    );
}

#[test]
fn structural_errors_use_aws_texts() {
    let cases = [
        ("{\n  \"Resources\": {,\n}", "Template format error: JSON not well-formed. (line 2, column 17)"),
        ("Resources:\n  A: [\n", "Template format error: YAML not well-formed. (line 3, column 1)"),
        (r#"{"Parameters": {}}"#, "Template format error: At least one Resources member must be defined."),
        (r#"{"Resource": {}}"#, "Template format error: Invalid template property or properties [Resource]"),
        (
            r#"{"Resources": {"A": {"Type": "AWS::IAM::Role", "Propertes": {}}}}"#,
            "Invalid template resource property 'Propertes'",
        ),
        (
            r#"{"Parameters": {"E": {"Type": "String", "AllowedValues": "x"}}, "Resources": {"A": {"Type": "X"}}}"#,
            "Template format error: Every AllowedValues member must be a list.",
        ),
        (
            r#"{"Resources": {"My-Role": {"Type": "AWS::IAM::Role"}}}"#,
            "Template format error: Resource name My-Role is non alphanumeric.",
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(message(Template::parse(body)), expected, "{body}");
    }
}

#[test]
fn reference_and_type_errors_use_aws_texts() {
    let check = |body: &str| Template::parse(body).and_then(|t| t.check(&TestCatalog));
    let cases = [
        (r#"{"Resources": {"A": {"Type": "AWS::Foo::Bar"}, "B": {"Type": "AWS::Foo::Baz"}}}"#, "Template format error: Unrecognized resource types: [AWS::Foo::Bar, AWS::Foo::Baz]"),
        (r#"{"Resources": {"A": {"Type": "AWS::IAM::Role", "Properties": {"X": {"Ref": "Missing"}}}}}"#, "Template format error: Unresolved resource dependencies [Missing] in the Resources block of the template"),
        (r#"{"Resources": {"A": {"Type": "AWS::IAM::Role", "DependsOn": "Gone"}}}"#, "Template format error: Unresolved resource dependencies [Gone] in the Resources block of the template"),
        (r#"{"Resources": {"A": {"Type": "AWS::IAM::Role", "Properties": {"X": {"Fn::Sub": "${Nope}"}}}}}"#, "Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template"),
        (r#"{"Resources": {"A": {"Type": "AWS::IAM::Role"}}, "Outputs": {"O": {"Value": {"Ref": "B"}}}}"#, "Template format error: Unresolved resource dependencies [B] in the Outputs block of the template"),
        (r#"{"Resources": {"A": {"Type": "AWS::IAM::Role", "Properties": {"X": {"Fn::GetAtt": ["A", "Nope"]}}}}}"#, "Template error: resource A does not support attribute type Nope in Fn::GetAtt"),
        (r#"{"Resources": {"A": {"Type": "AWS::IAM::Role", "Properties": {"X": {"Fn::GetAtt": ["B", "Arn"]}}}, "B": {"Type": "AWS::IAM::Role", "DependsOn": "A"}}}"#, "Circular dependency between resources: [A, B]"),
        (r#"{"Resources": {"A": {"Type": "AWS::IAM::Role", "Properties": {"X": {"Ref": "A"}}}}}"#, "Circular dependency between resources: [A]"),
        (r#"{"Conditions": {"C": {"Fn::Equals": [{"Ref": "A"}, "x"]}}, "Resources": {"A": {"Type": "AWS::IAM::Role"}}}"#, "Template format error: Unresolved dependencies [A]. Cannot reference resources in the Conditions block of the template"),
        (r#"{"Resources": {"A": {"Type": "AWS::S3::Bucket"}}}"#, "wana does not emulate the resource type(s) [AWS::S3::Bucket] yet"),
    ];
    for (body, expected) in cases {
        assert_eq!(message(check(body)), expected, "{body}");
    }
}

#[test]
fn sub_strings_split_into_literals_and_variables() {
    assert_eq!(
        parse_sub("a${B}c${!D}${ E.F }"),
        vec![
            SubPart::Literal("a".into()),
            SubPart::Var("B".into()),
            SubPart::Literal("c${D}".into()),
            SubPart::Var("E.F".into()),
        ]
    );
    assert_eq!(parse_sub("${unterminated"), vec![SubPart::Literal("${unterminated".into())]);
}
