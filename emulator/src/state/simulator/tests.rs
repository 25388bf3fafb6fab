//! Tests of where statements are in their documents, as the simulator reports them.

use rstest::rstest;

use super::*;

/// The AWS CLI's `simulate-custom-policy` example: its output gives this statement
/// `StartPosition {Line 1, Column 38}` and `EndPosition {Line 1, Column 167}`.
const CLI_EXAMPLE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}"#;

/// A document as Python's `json.dumps` writes it; a recorded AWS answer to
/// SimulatePrincipalPolicy gives its statement columns 41 to 113 on line 1.
const JSON_DUMPS: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}}"#;

fn positions(text: &str) -> Vec<((usize, usize), (usize, usize))> {
    statement_spans(text).into_iter().map(|(open, close)| (position(text, open), position(text, close))).collect()
}

#[rstest]
#[case::aws_cli_example(CLI_EXAMPLE, vec![((1, 38), (1, 167))])]
#[case::recorded_answer(JSON_DUMPS, vec![((1, 41), (1, 113))])]
#[case::an_array_of_statements(
    r#"{"Statement":[{"Effect":"Allow","Action":"a:b","Resource":"*"},{"Effect":"Deny","Action":"c:d","Resource":"x\"}"}],"Version":"2012-10-17"}"#,
    vec![((1, 16), (1, 63)), ((1, 65), (1, 114))]
)]
#[case::a_document_on_several_lines(
    "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"s3:*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}",
    vec![((4, 6), (8, 6))]
)]
fn statements_are_found_where_aws_reports_them(#[case] text: &str, #[case] expected: Vec<((usize, usize), (usize, usize))>) {
    assert_eq!(positions(text), expected);
}

#[test]
fn text_that_is_not_a_policy_has_no_statements() {
    assert!(statement_spans("[1,2]").is_empty());
    assert!(statement_spans(r#"{"Version":"2012-10-17"}"#).is_empty());
    assert!(statement_spans(r#"{"Statement":[{"#).is_empty());
}
