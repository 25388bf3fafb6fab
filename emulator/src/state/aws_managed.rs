//! The AWS managed policies the emulator knows, with their real statements.
//!
//! Each document is the policy's default version as AWS publishes it in the AWS Managed Policy
//! reference (the version is noted beside it). They are parsed once, on first use.

use std::sync::OnceLock;

use wana_policy::{NamedPolicy, Policy, PolicyKind};

/// An AWS managed policy: the same for every account, attachable, never editable.
#[derive(Debug)]
pub struct AwsManagedPolicy {
    pub name: &'static str,
    pub path: &'static str,
    pub description: &'static str,
    pub version_id: &'static str,
    pub document: &'static str,
    pub parsed: NamedPolicy,
}

impl AwsManagedPolicy {
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::aws:policy{}{}", self.path, self.name)
    }
}

struct Source {
    name: &'static str,
    path: &'static str,
    description: &'static str,
    version_id: &'static str,
    document: &'static str,
}

const SOURCES: &[Source] = &[
    Source {
        name: "AdministratorAccess",
        path: "/",
        description: "Provides full access to AWS services and resources.",
        version_id: "v1",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    },
    // PowerUserAccess v12.
    Source {
        name: "PowerUserAccess",
        path: "/",
        description: "Provides full access to AWS services and resources, but does not allow management of Users and groups.",
        version_id: "v12",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},{"Effect":"Allow","Action":["account:GetAccountInformation","account:GetGovCloudAccountInformation","account:GetPrimaryEmail","account:ListRegions","iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeEffectivePolicy","organizations:DescribeOrganization"],"Resource":"*"}]}"#,
    },
    Source {
        name: "ReadOnlyAccess",
        path: "/",
        description: "Provides read-only access to AWS services and resources.",
        version_id: "v1",
        // The published policy lists every service's read actions; the emulator's services are
        // covered by these prefixes.
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["autoscaling:Describe*","cloudformation:Describe*","cloudformation:Get*","cloudformation:List*","cloudwatch:Describe*","cloudwatch:Get*","cloudwatch:List*","ec2:Describe*","ec2:Get*","iam:Generate*","iam:Get*","iam:List*","kms:Describe*","kms:Get*","kms:List*","ssm:Describe*","ssm:Get*","ssm:List*","sts:GetCallerIdentity"],"Resource":"*"}]}"#,
    },
    // AmazonSSMManagedInstanceCore v2.
    Source {
        name: "AmazonSSMManagedInstanceCore",
        path: "/",
        description: "The policy for Amazon EC2 Role to enable AWS Systems Manager service core functionality.",
        version_id: "v2",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:DescribeAssociation","ssm:GetDeployablePatchSnapshotForInstance","ssm:GetDocument","ssm:DescribeDocument","ssm:GetManifest","ssm:GetParameter","ssm:GetParameters","ssm:ListAssociations","ssm:ListInstanceAssociations","ssm:PutInventory","ssm:PutComplianceItems","ssm:PutConfigurePackageResult","ssm:UpdateAssociationStatus","ssm:UpdateInstanceAssociationStatus","ssm:UpdateInstanceInformation"],"Resource":"*"},{"Effect":"Allow","Action":["ssmmessages:CreateControlChannel","ssmmessages:CreateDataChannel","ssmmessages:OpenControlChannel","ssmmessages:OpenDataChannel"],"Resource":"*"},{"Effect":"Allow","Action":["ec2messages:AcknowledgeMessage","ec2messages:DeleteMessage","ec2messages:FailMessage","ec2messages:GetEndpoint","ec2messages:GetMessages","ec2messages:SendReply"],"Resource":"*"}]}"#,
    },
];

/// Every AWS managed policy the emulator knows, parsed.
pub fn catalog() -> &'static [AwsManagedPolicy] {
    static CATALOG: OnceLock<Vec<AwsManagedPolicy>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        SOURCES
            .iter()
            .map(|s| {
                let arn = format!("arn:aws:iam::aws:policy{}{}", s.path, s.name);
                let policy = Policy::parse(s.document, PolicyKind::Identity)
                    .unwrap_or_else(|e| panic!("built-in policy {} does not parse: {e}", s.name));
                AwsManagedPolicy {
                    name: s.name,
                    path: s.path,
                    description: s.description,
                    version_id: s.version_id,
                    document: s.document,
                    parsed: NamedPolicy { name: arn, policy },
                }
            })
            .collect()
    })
}

pub fn find(arn: &str) -> Option<&'static AwsManagedPolicy> {
    catalog().iter().find(|p| p.parsed.name == arn)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_built_in_policy_parses() {
        assert!(super::catalog().len() >= 4);
        assert!(super::find("arn:aws:iam::aws:policy/PowerUserAccess").is_some());
    }
}
