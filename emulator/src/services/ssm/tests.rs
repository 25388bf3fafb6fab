//! SSM through its handlers: filters, errors and validation of `DescribeInstanceInformation`,
//! `DescribeInstanceAssociationsStatus`, and Parameter Store.

use rstest::rstest;

use crate::{
    error::AwsError,
    principal::{Caller, Principal},
    protocol::ServiceId,
    state::ssm::tests::{at, nodes, online, Fixture, ACCOUNT, CORE, EC2_TRUST, FIRST_TRY, REGION},
    value::Value,
};

fn error(result: Result<Value, AwsError>) -> (String, u16, String) {
    let error = result.unwrap_err();
    (error.code.to_string(), error.status, error.message)
}

fn strings(values: &[&str]) -> Value {
    values.iter().map(|v| Value::from(*v)).collect()
}

/// `Filters=[{Key, Values}]`.
fn filters(key: &str, values: &[&str]) -> Value {
    Value::structure().with("Filters", Value::List(vec![Value::structure().with("Key", key).with("Values", strings(values))]))
}

/// `InstanceInformationFilterList=[{key, valueSet}]`.
fn legacy(key: &str, values: &[&str]) -> Value {
    Value::structure().with(
        "InstanceInformationFilterList",
        Value::List(vec![Value::structure().with("key", key).with("valueSet", strings(values))]),
    )
}

/// Two managed instances (the second tagged `team=blue`) and one that is not managed; the
/// second's role loses its policy after registering, so that it is `ConnectionLost` at 700 s.
struct Fleet {
    fx: Fixture,
    first: String,
    second: String,
    unmanaged: String,
}

fn fleet() -> Fleet {
    let mut fx = Fixture::new();
    fx.role_in_profile("App", EC2_TRUST);
    fx.attach("App", CORE);
    fx.role_in_profile("Blue", EC2_TRUST);
    fx.attach("Blue", CORE);
    let first = fx.launch(Some("App"));
    let tags = Value::structure().with(
        "TagSpecification",
        Value::List(vec![Value::structure()
            .with("ResourceType", "instance")
            .with("Tag", Value::List(vec![Value::structure().with("Key", "team").with("Value", "blue")]))]),
    );
    let second = fx.launch_many(Some("Blue"), 1, tags).remove(0);
    let unmanaged = fx.launch(None);
    fx.world.run_due(at(FIRST_TRY));
    fx.detach("Blue", CORE);
    Fleet { fx, first, second, unmanaged }
}

const LATER: i64 = FIRST_TRY + 675;

#[test]
fn both_filter_forms_select_by_instance_id_and_ping_status() {
    let Fleet { mut fx, first, second, .. } = fleet();
    let lost = vec![(second.clone(), "ConnectionLost".to_string())];
    for params in [filters("PingStatus", &["ConnectionLost"]), legacy("PingStatus", &["ConnectionLost"])] {
        assert_eq!(nodes(&fx.ssm(at(LATER), "DescribeInstanceInformation", params).unwrap()), lost);
    }
    for params in [filters("InstanceIds", &[&first]), legacy("InstanceIds", &[&first])] {
        assert_eq!(nodes(&fx.ssm(at(LATER), "DescribeInstanceInformation", params).unwrap()), online(&first));
    }
    // Filters must all hold: the first instance is not ConnectionLost.
    let both = Value::structure().with(
        "Filters",
        Value::List(vec![
            Value::structure().with("Key", "InstanceIds").with("Values", strings(&[&first, &second])),
            Value::structure().with("Key", "PingStatus").with("Values", strings(&["Online"])),
        ]),
    );
    assert_eq!(nodes(&fx.ssm(at(LATER), "DescribeInstanceInformation", both).unwrap()), online(&first));
}

#[rstest]
#[case::platform(filters("PlatformTypes", &["Linux"]), 2)]
#[case::other_platform(filters("PlatformTypes", &["Windows"]), 0)]
#[case::resource_type(filters("ResourceType", &["EC2Instance"]), 2)]
#[case::managed_instances_only(filters("ResourceType", &["ManagedInstance"]), 0)]
#[case::agent_version(filters("AgentVersion", &["3.3.1142.0"]), 2)]
#[case::source_type(filters("SourceTypes", &["AWS::EC2::Instance"]), 2)]
#[case::activation_ids(filters("ActivationIds", &["0aa0aaaa-0000-4000-8000-000000000000"]), 0)]
#[case::tag(filters("tag:team", &["blue"]), 1)]
#[case::tag_key(filters("tag-key", &["team"]), 1)]
#[case::other_tag_value(filters("tag:team", &["red"]), 0)]
fn other_filters_select_what_ssm_knows_of_ec2_nodes(#[case] params: Value, #[case] count: usize) {
    let Fleet { mut fx, .. } = fleet();
    assert_eq!(nodes(&fx.ssm(at(LATER), "DescribeInstanceInformation", params).unwrap()).len(), count);
}

#[test]
fn an_instance_that_is_not_managed_is_absent_and_an_unknown_one_is_invalid() {
    let Fleet { mut fx, unmanaged, .. } = fleet();
    let out = fx.ssm(at(LATER), "DescribeInstanceInformation", filters("InstanceIds", &[&unmanaged])).unwrap();
    assert!(nodes(&out).is_empty());
    for id in ["i-0123456789abcdef0", "not-an-instance"] {
        let result = fx.ssm(at(LATER), "DescribeInstanceInformation", filters("InstanceIds", &[id]));
        assert_eq!(error(result), ("InvalidInstanceId".to_string(), 400, String::new()), "{id}");
    }
}

#[test]
fn an_instance_of_another_account_is_invalid() {
    let Fleet { mut fx, first, .. } = fleet();
    let other = Caller {
        principal: Principal::User {
            account: "222222222222".to_string(),
            name: "admin".to_string(),
            path: "/".to_string(),
            user_id: fx.world.iam("222222222222").unwrap().user("admin").unwrap().id.clone(),
        },
        access_key_id: "AKIAWANAADMINB000002".to_string(),
        ..fx.admin()
    };
    let result = fx.call(&other, ServiceId::Ssm, at(LATER), "DescribeInstanceInformation", filters("InstanceIds", &[&first]));
    assert_eq!(error(result).0, "InvalidInstanceId");
    let listed = fx.call(&other, ServiceId::Ssm, at(LATER), "DescribeInstanceInformation", Value::structure()).unwrap();
    assert!(nodes(&listed).is_empty(), "another account's nodes are not listed");
}

#[rstest]
#[case::unknown_key(filters("Colour", &["x"]), "InvalidFilterKey", "")]
#[case::ping_status(filters("PingStatus", &["Sleeping"]), "InvalidInstanceInformationFilterValue", "PingStatus filter is invalid, valid values are Online, ConnectionLost, Inactive")]
#[case::two_resource_types(filters("ResourceType", &["EC2Instance", "ManagedInstance"]), "InvalidInstanceInformationFilterValue", "ResourceType filter may contain only one value.")]
#[case::resource_type(filters("ResourceType", &["Document"]), "InvalidInstanceInformationFilterValue", "ResourceType filter is invalid, valid values are EC2Instance, ManagedInstance")]
#[case::legacy_key_outside_the_enum(
    legacy("Colour", &["x"]),
    "ValidationException",
    "1 validation error detected: Value 'Colour' at 'instanceInformationFilterList.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: [InstanceIds, AgentVersion, PingStatus, PlatformTypes, ActivationIds, IamRole, ResourceType, AssociationStatus]"
)]
#[case::no_values(filters("PingStatus", &[]), "ValidationException", "1 validation error detected: Value '[]' at 'filters.1.member.values' failed to satisfy constraint: Member must have length greater than or equal to 1")]
#[case::max_results(
    Value::structure().with("MaxResults", 4i64),
    "ValidationException",
    "1 validation error detected: Value '4' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 5"
)]
fn bad_filters_have_ssms_errors(#[case] params: Value, #[case] code: &str, #[case] message: &str) {
    let Fleet { mut fx, .. } = fleet();
    assert_eq!(error(fx.ssm(at(LATER), "DescribeInstanceInformation", params)), (code.to_string(), 400, message.to_string()));
}

#[test]
fn tag_filters_do_not_mix_and_the_two_filter_lists_do_not_either() {
    let Fleet { mut fx, .. } = fleet();
    let mixed = Value::structure().with(
        "Filters",
        Value::List(vec![
            Value::structure().with("Key", "tag:team").with("Values", strings(&["blue"])),
            Value::structure().with("Key", "PingStatus").with("Values", strings(&["Online"])),
        ]),
    );
    assert_eq!(
        error(fx.ssm(at(LATER), "DescribeInstanceInformation", mixed)),
        ("ValidationException".to_string(), 400, "Cannot mix tag or inventory filter with any other filter.".to_string())
    );
    let mut both = filters("PingStatus", &["Online"]);
    both.push("InstanceInformationFilterList", legacy("PingStatus", &["Online"]).get("InstanceInformationFilterList").unwrap().clone());
    assert_eq!(error(fx.ssm(at(LATER), "DescribeInstanceInformation", both)).0, "ValidationException");
}

#[test]
fn the_list_pages_with_max_results_and_next_token() {
    let mut fx = Fixture::new();
    fx.role_in_profile("App", EC2_TRUST);
    fx.attach("App", CORE);
    let ids = fx.launch_many(Some("App"), 7, Value::structure());
    let first = fx.ssm(at(FIRST_TRY), "DescribeInstanceInformation", Value::structure().with("MaxResults", 5i64)).unwrap();
    let token = first.get("NextToken").and_then(Value::as_str).expect("a next page").to_string();
    let params = Value::structure().with("MaxResults", 5i64).with("NextToken", token.as_str());
    let second = fx.ssm(at(FIRST_TRY), "DescribeInstanceInformation", params).unwrap();
    assert_eq!(second.get("NextToken"), None);
    let listed: Vec<String> = nodes(&first).into_iter().chain(nodes(&second)).map(|(id, _)| id).collect();
    assert_eq!(listed, ids);
    let bad = Value::structure().with("NextToken", "not-a-token");
    assert_eq!(error(fx.ssm(at(FIRST_TRY), "DescribeInstanceInformation", bad)).0, "InvalidNextToken");
}

#[test]
fn describing_nodes_needs_the_permission() {
    let Fleet { mut fx, .. } = fleet();
    let (iam, ids) = fx.world.iam_and_ids(ACCOUNT).unwrap();
    let user_id = iam.create_user(ids, ACCOUNT, at(0), "viewer", None, Vec::new()).unwrap().id.clone();
    let viewer = Caller {
        principal: Principal::User { account: ACCOUNT.to_string(), name: "viewer".to_string(), path: "/".to_string(), user_id },
        ..fx.admin()
    };
    let (code, status, message) = error(fx.call(&viewer, ServiceId::Ssm, at(LATER), "DescribeInstanceInformation", Value::structure()));
    assert_eq!((code.as_str(), status), ("AccessDeniedException", 400));
    assert_eq!(
        message,
        format!("User: arn:aws:iam::{ACCOUNT}:user/viewer is not authorized to perform: ssm:DescribeInstanceInformation on resource: * because no identity-based policy allows the ssm:DescribeInstanceInformation action")
    );
}

#[test]
fn associations_status_tells_a_registered_node_from_others() {
    let Fleet { mut fx, first, unmanaged, .. } = fleet();
    let ask = |id: &str| Value::structure().with("InstanceId", id);
    let out = fx.ssm(at(LATER), "DescribeInstanceAssociationsStatus", ask(&first)).unwrap();
    assert_eq!(out, Value::structure().with("InstanceAssociationStatusInfos", Value::List(Vec::new())));
    assert_eq!(error(fx.ssm(at(LATER), "DescribeInstanceAssociationsStatus", ask(&unmanaged))).0, "InvalidInstanceId");
    assert_eq!(
        error(fx.ssm(at(LATER), "DescribeInstanceAssociationsStatus", ask("i-1"))),
        (
            "ValidationException".to_string(),
            400,
            r"1 validation error detected: Value 'i-1' at 'instanceId' failed to satisfy constraint: Member must satisfy regular expression pattern: (^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)".to_string()
        )
    );
    assert_eq!(
        error(fx.ssm(at(LATER), "DescribeInstanceAssociationsStatus", Value::structure())).2,
        "1 validation error detected: Value null at 'instanceId' failed to satisfy constraint: Member must not be null"
    );
}

// ---------------------------------------------------------------------------------------------
// Parameter Store.

fn put(name: &str, value: &str) -> Value {
    Value::structure().with("Name", name).with("Value", value).with("Type", "String")
}

fn get(name: &str) -> Value {
    Value::structure().with("Name", name).with("WithDecryption", true)
}

#[test]
fn a_parameter_is_put_read_and_overwritten_with_a_new_version() {
    let mut fx = Fixture::new();
    let out = fx.ssm(at(0), "PutParameter", put("/app/db-host", "db.internal")).unwrap();
    assert_eq!(out, Value::structure().with("Version", 1i64).with("Tier", "Standard"));
    let out = fx.ssm(at(1), "GetParameter", get("/app/db-host")).unwrap();
    assert_eq!(
        out.get("Parameter").unwrap(),
        &Value::structure()
            .with("Name", "/app/db-host")
            .with("Type", "String")
            .with("Value", "db.internal")
            .with("Version", 1i64)
            .with("LastModifiedDate", at(0))
            .with("ARN", format!("arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/db-host"))
            .with("DataType", "text")
    );

    let again = fx.ssm(at(2), "PutParameter", put("/app/db-host", "db2.internal"));
    assert_eq!(
        error(again),
        (
            "ParameterAlreadyExists".to_string(),
            400,
            "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.".to_string()
        )
    );
    // Overwriting needs no Type: the parameter keeps its own.
    let overwrite = Value::structure().with("Name", "/app/db-host").with("Value", "db2.internal").with("Overwrite", true);
    assert_eq!(fx.ssm(at(3), "PutParameter", overwrite).unwrap().get("Version"), Some(&Value::Int(2)));
    let parameter = fx.ssm(at(4), "GetParameter", get("/app/db-host")).unwrap().get("Parameter").unwrap().clone();
    assert_eq!(
        (parameter.get("Value"), parameter.get("Version"), parameter.get("Type")),
        (Some(&Value::from("db2.internal")), Some(&Value::Int(2)), Some(&Value::from("String")))
    );
    // A name without a slash has the same form of ARN.
    fx.ssm(at(5), "PutParameter", put("plain", "x")).unwrap();
    let parameter = fx.ssm(at(5), "GetParameter", get("plain")).unwrap();
    assert_eq!(parameter.get("Parameter").unwrap().get("ARN"), Some(&Value::from(format!("arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/plain"))));
}

#[rstest]
#[case::unknown(get("/nothing/here"), "GetParameter", "ParameterNotFound", "")]
#[case::no_type(Value::structure().with("Name", "/app/x").with("Value", "v"), "PutParameter", "ValidationException", "A parameter type is required when you create a parameter.")]
#[case::relative_path(put("app/x", "v"), "PutParameter", "ValidationException", "Parameter name must be a fully qualified name")]
#[case::reserved_name(put("awsConfig", "v"), "PutParameter", "ValidationException", "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive).")]
#[case::reserved_path(put("/ssm/x", "v"), "PutParameter", "ValidationException", "Parameter name: can't be prefixed with \"ssm\" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_")]
#[case::missing_members(Value::structure(), "PutParameter", "ValidationException", "2 validation errors detected: Value null at 'name' failed to satisfy constraint: Member must not be null; Value null at 'value' failed to satisfy constraint: Member must not be null")]
#[case::bad_type(Value::structure().with("Name", "/x").with("Value", "v").with("Type", "Number"), "PutParameter", "ValidationException", "1 validation error detected: Value 'Number' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [String, StringList, SecureString]")]
#[case::secure_string(Value::structure().with("Name", "/x").with("Value", "v").with("Type", "SecureString"), "PutParameter", "UnsupportedParameterType", "wana emulates String and StringList parameters; SecureString is not emulated.")]
fn parameter_errors_have_ssms_codes(#[case] params: Value, #[case] action: &str, #[case] code: &str, #[case] message: &str) {
    let mut fx = Fixture::new();
    assert_eq!(error(fx.ssm(at(0), action, params)), (code.to_string(), 400, message.to_string()));
}

#[test]
fn parameters_are_authorized_on_their_arn() {
    let mut fx = Fixture::new();
    fx.ssm(at(0), "PutParameter", put("/app/x", "v")).unwrap();
    let reader = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:GetParameter","Resource":"arn:aws:ssm:*:*:parameter/app/*"}]}"#;
    let (iam, ids) = fx.world.iam_and_ids(ACCOUNT).unwrap();
    let user_id = iam.create_user(ids, ACCOUNT, at(0), "reader", None, Vec::new()).unwrap().id.clone();
    iam.put_user_policy("reader", "read", reader).unwrap();
    let reader = Caller {
        principal: Principal::User { account: ACCOUNT.to_string(), name: "reader".to_string(), path: "/".to_string(), user_id },
        ..fx.admin()
    };
    assert!(fx.call(&reader, ServiceId::Ssm, at(1), "GetParameter", get("/app/x")).is_ok());
    let (code, status, message) = error(fx.call(&reader, ServiceId::Ssm, at(1), "PutParameter", put("/app/x", "w")));
    assert_eq!((code.as_str(), status), ("AccessDeniedException", 400));
    assert!(message.contains(&format!("ssm:PutParameter on resource: arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/x")), "{message}");
    assert_eq!(error(fx.call(&reader, ServiceId::Ssm, at(1), "GetParameter", get("/other"))).0, "AccessDeniedException");
}
