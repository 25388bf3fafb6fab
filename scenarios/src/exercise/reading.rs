//! The few patterns of scripts and templates that make a fix broader than needed (pure).

use serde_json::Value;

use super::finding::{Finding, FindingKind};

/// Properties of `AWS::EC2::Instance` whose change replaces the instance (CloudFormation user
/// guide, AWS::EC2::Instance, "Update requires: Replacement").
const INSTANCE_REPLACEMENT_PROPERTIES: [&str; 13] = [
    "AvailabilityZone", "BlockDeviceMappings", "CpuOptions", "HibernationOptions", "ImageId", "Ipv6Addresses", "KeyName",
    "LaunchTemplate", "NetworkInterfaces", "PlacementGroupName", "PrivateIpAddress", "SecurityGroups", "SubnetId",
];

/// A script printing or storing the instance role's credentials.
pub fn script_findings(script: &str) -> Vec<Finding> {
    // Variables holding what the metadata service's security-credentials answer.
    let mut holders: Vec<String> = vec!["AWS_SECRET_ACCESS_KEY".into(), "AWS_SESSION_TOKEN".into()];
    let mut findings = Vec::new();
    for line in script.lines().map(str::trim).filter(|l| !l.starts_with('#') && !l.is_empty()) {
        if let Some((name, value)) = line.trim_start_matches("export ").split_once('=') {
            if value.contains("security-credentials") && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                holders.push(name.to_string());
                continue;
            }
        }
        let mentions_credentials =
            holders.iter().any(|h| line.contains(&format!("${h}")) || line.contains(&format!("${{{h}}}"))) || line.contains("security-credentials/");
        let first = line.split_whitespace().next().unwrap_or_default();
        let writes = line.contains("aws configure set aws_secret_access_key")
            || line.contains("aws configure set aws_session_token")
            || (mentions_credentials && (line.contains(" > ") || line.contains(">>") || line.contains("| tee ")));
        let prints = matches!(first, "echo" | "printf" | "cat")
            || (first == "curl" && !line.contains("$("))
            || matches!(line, "env" | "printenv" | "set")
            || line.starts_with("aws configure export-credentials");
        if writes {
            findings.push(Finding { kind: FindingKind::CredentialsOnDisk { line: line.to_string() } });
        } else if prints && (mentions_credentials || matches!(line, "env" | "printenv" | "set") || line.starts_with("aws configure export")) {
            findings.push(Finding { kind: FindingKind::CredentialsInOutput { line: line.to_string() } });
        }
    }
    findings
}

/// A template that replaces an instance of `baseline` (removed under its logical id, or a
/// property that requires replacement changed).
pub fn template_findings(template: &str, baseline: Option<&str>) -> Vec<Finding> {
    let (Ok(new), Some(Ok(old))) = (serde_json::from_str::<Value>(template), baseline.map(serde_json::from_str::<Value>)) else {
        return Vec::new();
    };
    let resources = |t: &Value| t.get("Resources").and_then(Value::as_object).cloned().unwrap_or_default();
    let (old, new) = (resources(&old), resources(&new));
    let mut findings = Vec::new();
    for (id, before) in &old {
        if before.get("Type").and_then(Value::as_str) != Some("AWS::EC2::Instance") {
            continue;
        }
        let replaced = match new.get(id) {
            None => new.values().any(|r| r.get("Type") == before.get("Type")),
            Some(after) => INSTANCE_REPLACEMENT_PROPERTIES
                .iter()
                .any(|p| before.pointer(&format!("/Properties/{p}")) != after.pointer(&format!("/Properties/{p}"))),
        };
        if replaced {
            findings.push(Finding { kind: FindingKind::Replaces { logical_id: id.clone() } });
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    const FETCH: &str = "ROLE_NAME=$(curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/)\nCREDS=$(curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/$ROLE_NAME)\nexport AWS_SECRET_ACCESS_KEY=$(echo \"$CREDS\" | grep SecretAccessKey | cut -d'\"' -f4)\n";

    fn labels(findings: Vec<Finding>) -> Vec<String> {
        findings.iter().map(Finding::label).collect()
    }

    #[rstest]
    #[case::the_reports_script("aws s3 cp a s3://b/a", &[])]
    #[case::prints_them("echo \"$CREDS\"\naws s3 cp a s3://b/a", &["credentials in command output"])]
    #[case::prints_the_secret("echo $AWS_SECRET_ACCESS_KEY", &["credentials in command output"])]
    #[case::curl_to_output("curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/$ROLE_NAME", &["credentials in command output"])]
    #[case::configure_set("aws configure set aws_secret_access_key \"$(echo \"$CREDS\" | grep SecretAccessKey)\"", &["credentials written to disk"])]
    #[case::redirect("echo \"$CREDS\" > /root/creds.json", &["credentials written to disk"])]
    #[case::remove_the_file("rm /root/.aws/credentials", &[])]
    fn scripts_that_expose_the_roles_credentials_are_named(#[case] tail: &str, #[case] expected: &[&str]) {
        assert_eq!(labels(script_findings(&format!("#!/bin/sh\n{FETCH}{tail}\n"))), expected);
    }

    #[test]
    fn a_template_that_changes_the_instances_volume_replaces_it() {
        let old = r#"{"Resources": {"Ec2Instance": {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": "ami-1", "BlockDeviceMappings": [{"Ebs": {"VolumeSize": "8"}}]}},
                      "RecoveryAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {}}}}"#;
        let renamed = old.replace("\"Properties\": {}", "\"Properties\": {\"AlarmName\": \"x\"}");
        assert!(template_findings(&renamed, Some(old)).is_empty());
        let bigger = renamed.replace("\"8\"", "\"16\"");
        assert_eq!(labels(template_findings(&bigger, Some(old))), ["replaces Ec2Instance"]);
        let moved = old.replace("\"Ec2Instance\"", "\"Server\"");
        assert_eq!(labels(template_findings(&moved, Some(old))), ["replaces Ec2Instance"]);
        assert!(template_findings("not json", Some(old)).is_empty());
    }
}
