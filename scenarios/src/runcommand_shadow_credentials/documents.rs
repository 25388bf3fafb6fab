//! The report's Command documents (schema 2.2, YAML), with its bucket and file names made the
//! run's own: objects go under the instance's id so the two instances' uploads stay apart.

/// The files the report's document copies.
pub const UPLOADED_FILES: [&str; 2] = ["hogehoge.txt", "mochimochi.txt"];

/// The copy lines of the report's document, for `bucket`.
pub fn copy_lines(bucket: &str) -> String {
    UPLOADED_FILES
        .iter()
        .map(|file| format!("aws s3 cp {file} s3://{bucket}/$AWS_SSM_INSTANCE_ID/{file}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn command_document(description: &str, step: &str, working_directory: Option<&str>, script: &str) -> String {
    let mut text = format!(
        "schemaVersion: '2.2'\ndescription: \"{description}\"\nmainSteps:\n- action: aws:runShellScript\n  name: {step}\n  inputs:\n"
    );
    if let Some(dir) = working_directory {
        text.push_str(&format!("    workingDirectory: {dir}\n"));
    }
    text.push_str("    runCommand:\n    - |\n");
    for line in script.lines() {
        text.push_str(&format!("      {line}\n"));
    }
    text
}

/// The report's failing document: a plain `aws s3 cp` of two files.
pub fn upload_document(bucket: &str) -> String {
    command_document("cred test document", "testdocuments", Some(super::REPORT_DIR), &format!("# Upload to S3\n{}", copy_lines(bucket)))
}

/// The report's diagnostic document.
pub fn configure_list_document() -> String {
    command_document("Run `aws configure list` to check AWS CLI configuration", "RunAwsConfigureList", None, "aws configure list")
}

/// The report's credential lines (the variant without jq), optionally without the token.
pub fn imds_exports(with_token: bool) -> String {
    let mut lines = vec![
        "# IAM role credentials (no jq)",
        "ROLE_NAME=$(curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/)",
        "CREDS=$(curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/$ROLE_NAME)",
        "export AWS_ACCESS_KEY_ID=$(echo \"$CREDS\" | grep AccessKeyId | cut -d'\"' -f4)",
        "export AWS_SECRET_ACCESS_KEY=$(echo \"$CREDS\" | grep SecretAccessKey | cut -d'\"' -f4)",
    ];
    if with_token {
        lines.push("export AWS_SESSION_TOKEN=$(echo \"$CREDS\" | grep Token | cut -d'\"' -f4)");
    }
    lines.join("\n")
}

/// The report's fixed document: the credential lines, then the copies.
pub fn fixed_upload_document(bucket: &str, with_token: bool) -> String {
    command_document(
        "cred test document",
        "testdocuments",
        Some(super::REPORT_DIR),
        &format!("{}\n# Upload to S3\n{}", imds_exports(with_token), copy_lines(bucket)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixed_document_is_the_reports_script_with_the_runs_bucket() {
        let doc = fixed_upload_document("wana-bucket", true);
        assert!(doc.starts_with("schemaVersion: '2.2'\ndescription: \"cred test document\"\nmainSteps:\n- action: aws:runShellScript\n  name: testdocuments\n"));
        assert!(doc.contains("      export AWS_SESSION_TOKEN=$(echo \"$CREDS\" | grep Token | cut -d'\"' -f4)\n"));
        assert!(doc.contains("      aws s3 cp hogehoge.txt s3://wana-bucket/$AWS_SSM_INSTANCE_ID/hogehoge.txt\n"));
        assert!(!fixed_upload_document("b", false).contains("AWS_SESSION_TOKEN"));
        assert!(configure_list_document().contains("    - |\n      aws configure list\n"));
    }
}
