//! The kinds of fix file (scenarios/fixes/README.md) and how a kind is told from a file.

use std::{fmt, str::FromStr};

/// What a fix file holds, hence which AWS call applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FixKind {
    /// A KMS key policy: `kms put-key-policy`.
    KeyPolicy,
    /// An IAM identity policy (JSON; or the ARN of a managed policy): `iam put-role-policy`
    /// (`iam attach-role-policy` for an ARN).
    IamPolicy,
    /// The arguments of `aws kms create-grant` as JSON.
    Grant,
    /// A role trust policy: `iam update-assume-role-policy`.
    TrustPolicy,
    /// A shell script: the commands of `AWS-RunShellScript`.
    Script,
    /// A CloudFormation template: the stack update.
    Template,
}

impl FixKind {
    pub const ALL: [FixKind; 6] =
        [FixKind::KeyPolicy, FixKind::IamPolicy, FixKind::Grant, FixKind::TrustPolicy, FixKind::Script, FixKind::Template];

    pub fn name(self) -> &'static str {
        match self {
            FixKind::KeyPolicy => "key-policy",
            FixKind::IamPolicy => "iam-policy",
            FixKind::Grant => "grant",
            FixKind::TrustPolicy => "trust-policy",
            FixKind::Script => "script",
            FixKind::Template => "template",
        }
    }

    /// The kind of a file, from its content (and name), where it can be told: a template has
    /// `Resources`; a grant has `GranteePrincipal` or `Operations`; a policy whose statements
    /// name `Principal`s and `sts:AssumeRole` is a trust policy, other statements with
    /// `Principal` a key policy, without an identity policy; a managed policy ARN is an IAM
    /// policy; `#!`, `.sh` or anything else that is not JSON is a script, unless it looks like
    /// YAML with `Resources:`. `None` when the file is JSON of no known shape.
    pub fn infer(file_name: &str, text: &str) -> Option<FixKind> {
        let trimmed = text.trim();
        if trimmed.starts_with("arn:aws:iam::") && !trimmed.contains(char::is_whitespace) {
            return Some(FixKind::IamPolicy);
        }
        let Ok(value) = serde_json::from_str::<serde_json::Value>(trimmed) else {
            let yaml_template = trimmed.lines().any(|l| l.starts_with("Resources:"));
            if yaml_template || file_name.ends_with(".yaml") || file_name.ends_with(".yml") || file_name.ends_with(".template") {
                return Some(FixKind::Template);
            }
            if trimmed.starts_with('{') || file_name.ends_with(".json") {
                return None;
            }
            return Some(FixKind::Script);
        };
        if value.get("Resources").is_some() {
            return Some(FixKind::Template);
        }
        if value.get("GranteePrincipal").is_some() || value.get("Operations").is_some() {
            return Some(FixKind::Grant);
        }
        let statements = match value.get("Statement")? {
            serde_json::Value::Array(list) => list.clone(),
            one => vec![one.clone()],
        };
        let with_principal = statements.iter().any(|s| s.get("Principal").is_some() || s.get("NotPrincipal").is_some());
        let assumes = statements.iter().any(|s| {
            let action = s.get("Action").map(|a| a.to_string()).unwrap_or_default();
            action.contains("sts:AssumeRole") || action.contains("sts:TagSession")
        });
        Some(match (with_principal, assumes) {
            (true, true) => FixKind::TrustPolicy,
            (true, false) => FixKind::KeyPolicy,
            (false, _) => FixKind::IamPolicy,
        })
    }
}

impl fmt::Display for FixKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKind(pub String);

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = FixKind::ALL.iter().map(|k| k.name()).collect();
        write!(f, "unknown kind {:?} (expected one of {})", self.0, names.join(", "))
    }
}

impl std::error::Error for UnknownKind {}

impl FromStr for FixKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FixKind::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| UnknownKind(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::FixKind;

    #[rstest]
    #[case("k.json", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"kms:*","Resource":"*"}]}"#, Some(FixKind::KeyPolicy))]
    #[case("t.json", r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}"#, Some(FixKind::TrustPolicy))]
    #[case("i.json", r#"{"Statement":[{"Effect":"Allow","Action":"ssm:*","Resource":"*"}]}"#, Some(FixKind::IamPolicy))]
    #[case("g.json", r#"{"KeyId":"k","GranteePrincipal":"arn","Operations":["Decrypt"]}"#, Some(FixKind::Grant))]
    #[case("s.json", r#"{"Resources":{}}"#, Some(FixKind::Template))]
    #[case("s.yaml", "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  A: {}\n", Some(FixKind::Template))]
    #[case("fix.sh", "#!/bin/bash\nrm /root/.aws/credentials\n", Some(FixKind::Script))]
    #[case("m.txt", "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore\n", Some(FixKind::IamPolicy))]
    #[case("bad.json", r#"{"Statement": [ oops"#, None)]
    #[case("other.json", r#"{"Hello": 1}"#, None)]
    fn the_kind_is_told_from_the_file(#[case] name: &str, #[case] text: &str, #[case] kind: Option<FixKind>) {
        assert_eq!(FixKind::infer(name, text), kind);
    }

    #[test]
    fn kinds_parse_by_name() {
        for kind in FixKind::ALL {
            assert_eq!(kind.name().parse::<FixKind>(), Ok(kind));
        }
        assert!("policy".parse::<FixKind>().unwrap_err().to_string().contains("key-policy, iam-policy"));
    }
}
