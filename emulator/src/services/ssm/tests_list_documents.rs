//! `ListDocuments` through its handler: the owner, name, type and tag filters in both forms,
//! paging, and the errors.

use rstest::rstest;

use crate::{
    error::AwsError,
    state::ssm::tests::{at, Fixture},
    value::Value,
};

const SCRIPT: &str = "schemaVersion: \"2.2\"\ndescription: d\nmainSteps:\n- action: aws:runShellScript\n  name: run\n  inputs:\n    runCommand: [\"true\"]\n";

fn create(fx: &mut Fixture, name: &str, tags: &[(&str, &str)]) {
    let tags: Value = tags.iter().map(|(k, v)| Value::structure().with("Key", *k).with("Value", *v)).collect();
    let params = Value::structure()
        .with("Name", name)
        .with("Content", SCRIPT)
        .with("DocumentType", "Command")
        .with("DocumentFormat", "YAML")
        .with("Tags", tags);
    fx.ssm(at(0), "CreateDocument", params).unwrap();
}

fn strings(values: &[&str]) -> Value {
    values.iter().map(|v| Value::from(*v)).collect()
}

/// `Filters=[{Key, Values}, ...]`.
fn filters(pairs: &[(&str, &[&str])]) -> Value {
    Value::structure().with(
        "Filters",
        pairs.iter().map(|(k, values)| Value::structure().with("Key", *k).with("Values", strings(values))).collect::<Value>(),
    )
}

/// `DocumentFilterList=[{key, value}]`.
fn legacy(key: &str, value: &str) -> Value {
    Value::structure().with("DocumentFilterList", Value::List(vec![Value::structure().with("key", key).with("value", value)]))
}

fn names(out: &Value) -> Vec<String> {
    out.get("DocumentIdentifiers")
        .unwrap()
        .as_list()
        .iter()
        .map(|d| d.get("Name").and_then(Value::as_str).unwrap().to_string())
        .collect()
}

fn error(result: Result<Value, AwsError>) -> (String, String) {
    let error = result.unwrap_err();
    (error.code.to_string(), error.message)
}

fn fixture() -> Fixture {
    let mut fx = Fixture::new();
    create(&mut fx, "wana-some-trap-abcdefgh-upload", &[("wana:run-id", "wana-some-trap-abcdefgh")]);
    create(&mut fx, "Deploy", &[("team", "blue")]);
    fx
}

#[rstest]
#[case::everything(Value::structure(), &["AWS-RunShellScript", "Deploy", "wana-some-trap-abcdefgh-upload"])]
#[case::own(filters(&[("Owner", &["Self"])]), &["Deploy", "wana-some-trap-abcdefgh-upload"])]
#[case::amazons(filters(&[("Owner", &["Amazon"])]), &["AWS-RunShellScript"])]
#[case::legacy_owner(legacy("Owner", "Self"), &["Deploy", "wana-some-trap-abcdefgh-upload"])]
#[case::name_prefix(filters(&[("Name", &["wana-"])]), &["wana-some-trap-abcdefgh-upload"])]
#[case::legacy_name(legacy("Name", "AWS-"), &["AWS-RunShellScript"])]
#[case::tag(filters(&[("tag:team", &["red", "blue"])]), &["Deploy"])]
#[case::all_keys_hold(filters(&[("Owner", &["Self"]), ("Name", &["AWS"])]), &[])]
#[case::type_and_platform(filters(&[("DocumentType", &["Command"]), ("PlatformTypes", &["Linux"])]), &["AWS-RunShellScript", "Deploy", "wana-some-trap-abcdefgh-upload"])]
fn filters_select_documents(#[case] params: Value, #[case] expected: &[&str]) {
    let mut fx = fixture();
    assert_eq!(names(&fx.ssm(at(1), "ListDocuments", params).unwrap()), expected);
}

#[test]
fn an_identifier_carries_what_describe_document_shows() {
    let mut fx = fixture();
    let out = fx.ssm(at(1), "ListDocuments", filters(&[("Name", &["Deploy"])])).unwrap();
    let listed = &out.get("DocumentIdentifiers").unwrap().as_list()[0];
    let field = |name: &str| listed.get(name).and_then(Value::as_str).map(str::to_string);
    assert_eq!(field("Owner").as_deref(), Some("111111111111"));
    assert_eq!(field("DocumentType").as_deref(), Some("Command"));
    assert_eq!(field("DocumentFormat").as_deref(), Some("YAML"));
    assert_eq!(field("DocumentVersion").as_deref(), Some("1"));
    assert_eq!(field("SchemaVersion").as_deref(), Some("2.2"));
    assert!(listed.get("CreatedDate").is_some());
    let tags = listed.get("Tags").unwrap().as_list();
    assert_eq!(tags[0].get("Key").and_then(Value::as_str), Some("team"));
    let amazon = fx.ssm(at(1), "ListDocuments", filters(&[("Owner", &["Amazon"])])).unwrap();
    assert_eq!(amazon.get("DocumentIdentifiers").unwrap().as_list()[0].get("Owner").and_then(Value::as_str), Some("Amazon"));
}

#[test]
fn pages_follow_next_token_until_the_last() {
    let mut fx = Fixture::new();
    for n in 0..5 {
        create(&mut fx, &format!("Doc{n}"), &[]);
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let params = filters(&[("Owner", &["Self"])]).with("MaxResults", 2).with_opt("NextToken", token.clone());
        let out = fx.ssm(at(1), "ListDocuments", params).unwrap();
        seen.extend(names(&out));
        pages += 1;
        token = out.get("NextToken").and_then(Value::as_str).map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["Doc0", "Doc1", "Doc2", "Doc3", "Doc4"]);
    let bad = Value::structure().with("NextToken", "not-a-token");
    assert_eq!(error(fx.ssm(at(1), "ListDocuments", bad)), ("InvalidNextToken".to_string(), String::new()));
}

#[rstest]
#[case::unknown_key(filters(&[("Colour", &["red"])]), "InvalidFilterKey", "")]
#[case::max_results(Value::structure().with("MaxResults", 51), "ValidationException", "1 validation error detected: Value '51' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50")]
#[case::legacy_key(legacy("Colour", "red"), "ValidationException", "1 validation error detected: Value 'Colour' at 'documentFilterList.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: [Name, Owner, PlatformTypes, DocumentType]")]
#[case::two_owners(filters(&[("Owner", &["Self", "Amazon"])]), "ValidationException", "Only one owner can be specified.")]
fn bad_requests_are_refused(#[case] params: Value, #[case] code: &str, #[case] message: &str) {
    let mut fx = fixture();
    assert_eq!(error(fx.ssm(at(1), "ListDocuments", params)), (code.to_string(), message.to_string()));
}
