//! EC2's encoded authorization message through the real AWS CLI (awscli 1.46.3): a user without
//! EC2 permissions meets `UnauthorizedOperation`, and `aws sts decode-authorization-message`
//! turns the message into AWS's document for a caller of the same account who may decode it,
//! and for no one else.

use serde_json::{json, Value};
use wana_emulator::BehaviourProfile;
use wana_harness::{
    provision::{user_with_access_key, UserPolicies},
    AwsCli, Backend, CliCredentials, CliOutput, Principal,
};

async fn aws(cli: &AwsCli, creds: &CliCredentials, args: &[&str]) -> CliOutput {
    cli.run(creds, args).await.expect("the CLI runs")
}

#[tokio::test]
async fn the_cli_decodes_ec2s_message_for_its_own_account_only() {
    let cli = AwsCli::locate().expect("the AWS CLI is part of the test setup");
    let backend = Backend::start_emulator(BehaviourProfile::Current).await.expect("emulator starts");
    let admin = Principal::account_admin(&backend, "a").unwrap();
    let inline = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#;
    let nobody = user_with_access_key(&backend, &admin, "nobody", UserPolicies { inline: Some(inline), ..Default::default() })
        .await
        .unwrap();

    let denied = aws(&cli, &nobody.cli_credentials(), &["ec2", "describe-instances"]).await;
    assert_eq!(denied.error_code(), Some("UnauthorizedOperation"), "{denied:?}");
    let message = denied.error_message().unwrap();
    let (sentence, encoded) = message.split_once(" Encoded authorization failure message: ").expect("an encoded message");
    assert_eq!(
        sentence,
        "You are not authorized to perform this operation. User: arn:aws:iam::111111111111:user/nobody is not \
         authorized to perform: ec2:DescribeInstances on resource: * because no identity-based policy allows the \
         ec2:DescribeInstances action."
    );

    let decoded = aws(&cli, &admin.cli_credentials(), &["sts", "decode-authorization-message", "--encoded-message", encoded]).await;
    assert!(decoded.success(), "{decoded:?}");
    let text = decoded.json().unwrap()["DecodedMessage"].as_str().expect("DecodedMessage is a string").to_string();
    let document: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(document["allowed"], json!(false));
    assert_eq!(document["explicitDeny"], json!(false));
    assert_eq!(document["matchedStatements"], json!({ "items": [] }));
    assert_eq!(document["failures"], json!({ "items": [] }));
    let context = &document["context"];
    assert_eq!(context["principal"]["name"], "nobody");
    assert_eq!(context["principal"]["arn"], "arn:aws:iam::111111111111:user/nobody");
    assert!(context["principal"]["id"].as_str().unwrap().starts_with("AIDA"), "{context}");
    assert_eq!(context["action"], "ec2:DescribeInstances");
    assert_eq!(context["resource"], "*");
    assert_eq!(context["conditions"]["items"][0], json!({ "key": "ec2:Region", "values": { "items": [{ "value": "us-east-1" }] } }));

    // Decoding is a permission of its own, which `nobody` lacks.
    let refused = aws(&cli, &nobody.cli_credentials(), &["sts", "decode-authorization-message", "--encoded-message", encoded]).await;
    assert_eq!(refused.error_code(), Some("AccessDenied"), "{refused:?}");
    assert_eq!(
        refused.error_message(),
        Some(
            "User: arn:aws:iam::111111111111:user/nobody is not authorized to perform: sts:DecodeAuthorizationMessage \
             on resource: * because no identity-based policy allows the sts:DecodeAuthorizationMessage action"
        )
    );

    // Another account's administrator cannot read it.
    let other = Principal::account_admin(&backend, "b").unwrap();
    let foreign = aws(&cli, &other.cli_credentials(), &["sts", "decode-authorization-message", "--encoded-message", encoded]).await;
    assert_eq!(foreign.error_code(), Some("InvalidAuthorizationMessageException"), "{foreign:?}");
    assert_eq!(foreign.error_message(), Some("Message is not valid"));
}
