//! Instance metadata options through the EC2 handlers: launch, launch templates,
//! ModifyInstanceMetadataOptions, DescribeInstances, their errors and their condition keys.

use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, Duration, Utc};
use rstest::rstest;

use super::handle;
use crate::{
    error::AwsError,
    principal::{Caller, CredentialKind, Principal},
    profile::BehaviourProfile,
    services::Call,
    state::World,
    value::Value,
};

const ACCOUNT: &str = "111111111111";
const REGION: &str = "us-east-1";
const IMAGE: &str = "ami-374db956";

fn t0() -> DateTime<Utc> {
    "2026-01-05T10:00:00Z".parse().unwrap()
}

fn caller(name: &str, user_id: String) -> Caller {
    Caller {
        principal: Principal::User {
            account: ACCOUNT.to_string(),
            name: name.to_string(),
            path: "/".to_string(),
            user_id,
        },
        access_key_id: "AKIAWANAADMINA000001".to_string(),
        credential_kind: CredentialKind::LongTerm,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        token_issued: None,
        via_service: None,
    }
}

fn admin() -> Caller {
    caller("admin", "AIDAWANAEXAMPLE000001".to_string())
}

fn world() -> World {
    World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline())
}

/// A user whose only policy is `policy`.
fn user(world: &mut World, name: &str, policy: &str) -> Caller {
    let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
    let id = iam.create_user(ids, ACCOUNT, t0(), name, None, Vec::new()).unwrap().id.clone();
    iam.put_user_policy(name, "inline", policy).unwrap();
    caller(name, id)
}

fn run_at(world: &mut World, caller: &Caller, now: DateTime<Utc>, action: &str, params: Value) -> Result<Value, AwsError> {
    world.run_due(now);
    let call = Call { caller, region: REGION, now, action, params: &params };
    handle(world, &call).expect("an EC2 operation")
}

fn run(world: &mut World, caller: &Caller, action: &str, params: Value) -> Result<Value, AwsError> {
    run_at(world, caller, t0(), action, params)
}

fn error(result: Result<Value, AwsError>) -> (String, String) {
    let error = result.unwrap_err();
    (error.code.to_string(), error.message)
}

fn structure(members: &[(&str, &str)]) -> Value {
    members.iter().fold(Value::structure(), |value, (name, member)| value.with(name, *member))
}

fn launch_params(options: Option<Value>) -> Value {
    let params = Value::structure().with("ImageId", IMAGE).with("MinCount", "1").with("MaxCount", "1");
    match options {
        Some(options) => params.with("MetadataOptions", options),
        None => params,
    }
}

fn launch(world: &mut World, caller: &Caller, options: Option<Value>) -> Result<String, AwsError> {
    let out = run(world, caller, "RunInstances", launch_params(options))?;
    Ok(instance_of(&out)["instanceId"].to_string())
}

/// The first instance of a reservation, as `member → text` pairs of its `metadataOptions` plus
/// its `instanceId`.
fn instance_of(reservation: &Value) -> std::collections::BTreeMap<String, String> {
    let instance = &reservation.get("instancesSet").unwrap().as_list()[0];
    let mut fields: std::collections::BTreeMap<String, String> = instance
        .get("metadataOptions")
        .unwrap()
        .entries()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.as_i64().unwrap().to_string(), str::to_string)))
        .collect();
    fields.insert("instanceId".to_string(), instance.get("instanceId").unwrap().as_str().unwrap().to_string());
    fields
}

/// DescribeInstances' `metadataOptions` of one instance at `now`, as `(member, text)` pairs.
fn described(world: &mut World, id: &str, now: DateTime<Utc>) -> Vec<(String, String)> {
    let params = Value::structure().with("InstanceId", id);
    let out = run_at(world, &admin(), now, "DescribeInstances", params).unwrap();
    let reservation = &out.get("reservationSet").unwrap().as_list()[0];
    instance_of(reservation).into_iter().filter(|(k, _)| k != "instanceId").collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    pairs.sort();
    pairs
}

const DEFAULTS: [(&str, &str); 6] = [
    ("httpEndpoint", "enabled"),
    ("httpProtocolIpv6", "disabled"),
    ("httpPutResponseHopLimit", "1"),
    ("httpTokens", "optional"),
    ("instanceMetadataTags", "disabled"),
    ("state", "applied"),
];

#[test]
fn an_instance_launched_without_options_shows_aws_defaults_applied() {
    let mut world = world();
    let id = launch(&mut world, &admin(), None).unwrap();
    assert_eq!(described(&mut world, &id, t0()), pairs(&DEFAULTS));
}

#[test]
fn launch_options_are_the_instance_options_from_the_start() {
    let mut world = world();
    let options = structure(&[("HttpTokens", "required"), ("HttpPutResponseHopLimit", "2"), ("InstanceMetadataTags", "enabled")]);
    let id = launch(&mut world, &admin(), Some(options)).unwrap();
    assert_eq!(
        described(&mut world, &id, t0()),
        pairs(&[
            ("httpEndpoint", "enabled"),
            ("httpProtocolIpv6", "disabled"),
            ("httpPutResponseHopLimit", "2"),
            ("httpTokens", "required"),
            ("instanceMetadataTags", "enabled"),
            ("state", "applied"),
        ])
    );
}

#[test]
fn a_modification_answers_pending_and_describe_shows_it_applied_after_a_moment() {
    let mut world = world();
    let id = launch(&mut world, &admin(), None).unwrap();
    let running = t0() + Duration::seconds(10);
    let params = structure(&[
        ("InstanceId", &id),
        ("HttpTokens", "required"),
        ("HttpPutResponseHopLimit", "3"),
        ("HttpEndpoint", "enabled"),
    ]);
    let out = run_at(&mut world, &admin(), running, "ModifyInstanceMetadataOptions", params).unwrap();
    assert_eq!(out.get("instanceId").and_then(Value::as_str), Some(id.as_str()));
    let options = out.get("instanceMetadataOptions").unwrap();
    let text = |name: &str| options.get(name).and_then(|v| v.as_str().map(str::to_string).or(v.as_i64().map(|n| n.to_string())));
    assert_eq!(
        (text("state"), text("httpTokens"), text("httpPutResponseHopLimit"), text("httpEndpoint")),
        (Some("pending".into()), Some("required".into()), Some("3".into()), Some("enabled".into()))
    );

    let requested = [
        ("httpEndpoint", "enabled"),
        ("httpProtocolIpv6", "disabled"),
        ("httpPutResponseHopLimit", "3"),
        ("httpTokens", "required"),
        ("instanceMetadataTags", "disabled"),
    ];
    let with_state = |state: &'static str| {
        let mut all = requested.to_vec();
        all.push(("state", state));
        pairs(&all)
    };
    assert_eq!(described(&mut world, &id, running + Duration::seconds(1)), with_state("pending"));
    assert_eq!(described(&mut world, &id, running + Duration::seconds(2)), with_state("applied"));
}

#[test]
fn a_stopped_instance_applies_a_modification_when_it_starts() {
    let mut world = world();
    let id = launch(&mut world, &admin(), None).unwrap();
    let ids = Value::structure().with("InstanceId", id.as_str());
    run_at(&mut world, &admin(), t0() + Duration::seconds(10), "StopInstances", ids.clone()).unwrap();
    let stopped = t0() + Duration::seconds(20);
    let params = structure(&[("InstanceId", &id), ("HttpTokens", "required"), ("HttpEndpoint", "enabled")]);
    run_at(&mut world, &admin(), stopped, "ModifyInstanceMetadataOptions", params).unwrap();
    let state = |world: &mut World, at| described(world, &id, at).into_iter().find(|(k, _)| k == "state").unwrap().1;
    assert_eq!(state(&mut world, stopped + Duration::seconds(60)), "pending");

    run_at(&mut world, &admin(), stopped + Duration::seconds(60), "StartInstances", ids).unwrap();
    assert_eq!(state(&mut world, stopped + Duration::seconds(65)), "applied");
}

#[rstest]
#[case::tokens(&[("HttpTokens", "sometimes"), ("HttpEndpoint", "enabled")], "Value (sometimes) for parameter httpTokens is invalid.")]
#[case::endpoint(&[("HttpEndpoint", "on")], "Value (on) for parameter httpEndpoint is invalid.")]
#[case::ipv6(&[("HttpProtocolIpv6", "yes"), ("HttpEndpoint", "enabled")], "Value (yes) for parameter httpProtocolIpv6 is invalid.")]
#[case::tags(&[("InstanceMetadataTags", "true")], "Value (true) for parameter instanceMetadataTags is invalid.")]
#[case::hop_limit_zero(&[("HttpPutResponseHopLimit", "0"), ("HttpEndpoint", "enabled")], "Value (0) for parameter httpPutResponseHopLimit is invalid. Expected a value between 1 and 64.")]
#[case::hop_limit_65(&[("HttpPutResponseHopLimit", "65"), ("HttpEndpoint", "enabled")], "Value (65) for parameter httpPutResponseHopLimit is invalid. Expected a value between 1 and 64.")]
#[case::tokens_without_endpoint(&[("HttpTokens", "required")], "The HttpEndpoint is not set to 'enabled' in this request. To specify a value for HttpTokens, set HttpEndpoint to 'enabled'.")]
#[case::hop_limit_with_endpoint_off(&[("HttpPutResponseHopLimit", "2"), ("HttpEndpoint", "disabled")], "The HttpEndpoint is not set to 'enabled' in this request. To specify a value for HttpPutResponseHopLimit, set HttpEndpoint to 'enabled'.")]
fn bad_modifications_are_invalid_parameter_values(#[case] options: &[(&str, &str)], #[case] message: &str) {
    let mut world = world();
    let id = launch(&mut world, &admin(), None).unwrap();
    let mut params = Value::structure().with("InstanceId", id.as_str());
    for (name, value) in options {
        params.push(name, *value);
    }
    let answer = run(&mut world, &admin(), "ModifyInstanceMetadataOptions", params);
    assert_eq!(error(answer), ("InvalidParameterValue".to_string(), message.to_string()));
    assert_eq!(described(&mut world, &id, t0()), pairs(&DEFAULTS), "nothing changed");
}

#[rstest]
#[case::tokens(&[("HttpTokens", "v2")], "Value (v2) for parameter metadataOptions.httpTokens is invalid.")]
#[case::hop_limit(&[("HttpPutResponseHopLimit", "100")], "Value (100) for parameter metadataOptions.httpPutResponseHopLimit is invalid. Expected a value between 1 and 64.")]
#[case::endpoint_off(&[("HttpEndpoint", "disabled"), ("HttpTokens", "required")], "The HttpEndpoint is not set to 'enabled' in this request. To specify a value for HttpTokens, set HttpEndpoint to 'enabled'.")]
fn bad_launch_options_are_invalid_parameter_values(#[case] options: &[(&str, &str)], #[case] message: &str) {
    let mut world = world();
    let answer = launch(&mut world, &admin(), Some(structure(options)));
    let answer = answer.map(Value::from);
    assert_eq!(error(answer), ("InvalidParameterValue".to_string(), message.to_string()));
}

#[rstest]
#[case::unknown("i-0123456789abcdef0", "InvalidInstanceID.NotFound", "The instance ID 'i-0123456789abcdef0' does not exist")]
#[case::malformed("web-1", "InvalidInstanceID.Malformed", "Invalid id: \"web-1\"")]
fn a_modification_of_an_instance_that_is_not_there_is_refused(
    #[case] id: &str,
    #[case] code: &str,
    #[case] message: &str,
) {
    let mut world = world();
    let params = structure(&[("InstanceId", id), ("HttpEndpoint", "disabled")]);
    let answer = run(&mut world, &admin(), "ModifyInstanceMetadataOptions", params);
    assert_eq!(error(answer), (code.to_string(), message.to_string()));
}

#[test]
fn a_terminated_instance_cannot_be_modified() {
    let mut world = world();
    let id = launch(&mut world, &admin(), None).unwrap();
    run(&mut world, &admin(), "TerminateInstances", Value::structure().with("InstanceId", id.as_str())).unwrap();
    let params = structure(&[("InstanceId", &id), ("HttpEndpoint", "disabled")]);
    let answer = run_at(&mut world, &admin(), t0() + Duration::seconds(30), "ModifyInstanceMetadataOptions", params);
    assert_eq!(
        error(answer),
        ("IncorrectInstanceState".to_string(), format!("The instance '{id}' is not in a valid state for this operation."))
    );
}

/// AWS's "Deny opt-out of IMDSv2" example policy (EC2 User Guide, example policies), with an
/// allow for everything else on EC2.
const DENY_IMDSV1_OPT_OUT: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":"ec2:*","Resource":"*"},
    {"Effect":"Deny","Action":"ec2:ModifyInstanceMetadataOptions","Resource":"arn:aws:ec2:*:*:instance/*",
     "Condition":{"StringEquals":{"ec2:Attribute":"HttpTokens"},"StringNotEquals":{"ec2:Attribute/HttpTokens":"required"}}}]}"#;

#[test]
fn a_modification_is_authorized_on_the_instance_with_the_attributes_it_names() {
    let mut world = world();
    let operator = user(&mut world, "operator", DENY_IMDSV1_OPT_OUT);
    let id = launch(&mut world, &admin(), None).unwrap();
    let to = |tokens: &str| structure(&[("InstanceId", &id), ("HttpTokens", tokens), ("HttpEndpoint", "enabled")]);

    assert!(run(&mut world, &operator, "ModifyInstanceMetadataOptions", to("required")).is_ok());
    let (code, message) = error(run(&mut world, &operator, "ModifyInstanceMetadataOptions", to("optional")));
    assert_eq!(code, "UnauthorizedOperation");
    let expected = format!(
        "User: arn:aws:iam::{ACCOUNT}:user/operator is not authorized to perform: ec2:ModifyInstanceMetadataOptions on resource: arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{id} with an explicit deny"
    );
    assert!(message.contains(&expected), "{message}");
    // Options that are not HttpTokens are not the policy's business.
    let hop_limit = structure(&[("InstanceId", &id), ("HttpPutResponseHopLimit", "2"), ("HttpEndpoint", "enabled")]);
    assert!(run(&mut world, &operator, "ModifyInstanceMetadataOptions", hop_limit).is_ok());

    let nobody = user(&mut world, "nobody", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}"#);
    let (code, _) = error(run(&mut world, &nobody, "ModifyInstanceMetadataOptions", to("required")));
    assert_eq!(code, "UnauthorizedOperation");
}

/// AWS's "Require the use of IMDSv2" example policy, with an allow for everything else on EC2.
const REQUIRE_IMDSV2: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":"ec2:*","Resource":"*"},
    {"Effect":"Deny","Action":"ec2:RunInstances","Resource":"arn:aws:ec2:*:*:instance/*",
     "Condition":{"StringNotEquals":{"ec2:MetadataHttpTokens":"required"}}}]}"#;

#[test]
fn a_launch_names_its_metadata_options_in_the_authorization() {
    let mut world = world();
    let operator = user(&mut world, "operator", REQUIRE_IMDSV2);
    let (code, message) = error(launch(&mut world, &operator, None).map(Value::from));
    assert_eq!(code, "UnauthorizedOperation");
    assert!(message.contains("ec2:RunInstances on resource: arn:aws:ec2:us-east-1:111111111111:instance/*"), "{message}");
    assert!(launch(&mut world, &operator, Some(structure(&[("HttpTokens", "required")]))).is_ok());
}

#[test]
fn a_launch_template_gives_its_metadata_options_to_the_instances_it_launches() {
    let mut world = world();
    let data = Value::structure()
        .with("ImageId", IMAGE)
        .with("MetadataOptions", structure(&[("HttpTokens", "required"), ("HttpPutResponseHopLimit", "2")]));
    let params = Value::structure().with("LaunchTemplateName", "imdsv2").with("LaunchTemplateData", data);
    run(&mut world, &admin(), "CreateLaunchTemplate", params).unwrap();

    let versions = run(
        &mut world,
        &admin(),
        "DescribeLaunchTemplateVersions",
        Value::structure().with("LaunchTemplateName", "imdsv2"),
    )
    .unwrap();
    let shown = versions.get("launchTemplateVersionSet").unwrap().as_list()[0]
        .get("launchTemplateData")
        .and_then(|d| d.get("metadataOptions"))
        .cloned()
        .unwrap();
    assert_eq!(shown, Value::structure().with("httpTokens", "required").with("httpPutResponseHopLimit", 2_i64));

    let template = Value::structure().with("LaunchTemplateName", "imdsv2");
    let from_template = |options: Option<Value>| {
        let params = Value::structure().with("MinCount", "1").with("MaxCount", "1").with("LaunchTemplate", template.clone());
        match options {
            Some(options) => params.with("MetadataOptions", options),
            None => params,
        }
    };
    let out = run(&mut world, &admin(), "RunInstances", from_template(None)).unwrap();
    let launched = instance_of(&out);
    assert_eq!((launched["httpTokens"].as_str(), launched["httpPutResponseHopLimit"].as_str()), ("required", "2"));

    // The request's MetadataOptions replace the template's.
    let out = run(&mut world, &admin(), "RunInstances", from_template(Some(structure(&[("InstanceMetadataTags", "enabled")]))))
        .unwrap();
    let launched = instance_of(&out);
    assert_eq!(
        (launched["httpTokens"].as_str(), launched["httpPutResponseHopLimit"].as_str(), launched["instanceMetadataTags"].as_str()),
        ("optional", "1", "enabled")
    );
}
