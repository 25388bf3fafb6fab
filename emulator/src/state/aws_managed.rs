//! The AWS managed policies the emulator knows, with their real statements.
//!
//! Each document is the policy's default version as AWS publishes it in the AWS Managed Policy
//! reference (the version is noted beside it). They are parsed once, on first use.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use wana_policy::{NamedPolicy, Policy, PolicyKind};

/// An AWS managed policy: the same for every account, attachable, never editable.
#[derive(Debug)]
pub struct AwsManagedPolicy {
    pub name: &'static str,
    pub path: &'static str,
    /// The policy's `ANPA…` id, the same in every account.
    pub policy_id: &'static str,
    pub description: &'static str,
    pub version_id: &'static str,
    pub document: &'static str,
    pub parsed: NamedPolicy,
    /// `CreateDate` of the policy.
    pub created: DateTime<Utc>,
    /// `UpdateDate` of the policy, which is also the `CreateDate` of its default version.
    pub updated: DateTime<Utc>,
}

impl AwsManagedPolicy {
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::aws:policy{}{}", self.path, self.name)
    }

    /// Policies of service-linked roles (path `/aws-service-role/`): AWS attaches them to the
    /// roles it creates; AttachRolePolicy refuses them for customer roles.
    pub fn is_service_linked_role_policy(&self) -> bool {
        self.path == "/aws-service-role/"
    }
}

struct Source {
    name: &'static str,
    path: &'static str,
    policy_id: &'static str,
    description: &'static str,
    version_id: &'static str,
    /// RFC 3339 `CreateDate` and `UpdateDate` (ListPolicies output of real accounts).
    created: &'static str,
    updated: &'static str,
    document: &'static str,
}

const SOURCES: &[Source] = &[
    Source {
        name: "AdministratorAccess",
        path: "/",
        policy_id: "ANPAIWMBCKSKIEE64ZLYK",
        created: "2015-02-06T18:39:46Z",
        updated: "2015-02-06T18:39:46Z",
        description: "Provides full access to AWS services and resources.",
        version_id: "v1",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    },
    // PowerUserAccess v12.
    Source {
        name: "PowerUserAccess",
        path: "/",
        policy_id: "ANPAJYRXTHIB4FOVS3ZXS",
        created: "2015-02-06T18:39:47Z",
        updated: "2026-02-12T17:59:14Z",
        description: "Provides full access to AWS services and resources, but does not allow management of Users and groups.",
        version_id: "v12",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},{"Effect":"Allow","Action":["account:GetAccountInformation","account:GetGovCloudAccountInformation","account:GetPrimaryEmail","account:ListRegions","iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeEffectivePolicy","organizations:DescribeOrganization"],"Resource":"*"}]}"#,
    },
    Source {
        name: "ReadOnlyAccess",
        path: "/",
        policy_id: "ANPAILL3HVNFSB6DCOWYQ",
        created: "2015-02-06T18:39:48Z",
        updated: "2015-02-06T18:39:48Z",
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
        policy_id: "ANPAIXSHM2BNB2D3AXXRU",
        // The reference gives the creation time to the minute only.
        created: "2019-03-15T17:22:00Z",
        updated: "2019-05-23T16:54:21Z",
        description: "The policy for Amazon EC2 Role to enable AWS Systems Manager service core functionality.",
        version_id: "v2",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:DescribeAssociation","ssm:GetDeployablePatchSnapshotForInstance","ssm:GetDocument","ssm:DescribeDocument","ssm:GetManifest","ssm:GetParameter","ssm:GetParameters","ssm:ListAssociations","ssm:ListInstanceAssociations","ssm:PutInventory","ssm:PutComplianceItems","ssm:PutConfigurePackageResult","ssm:UpdateAssociationStatus","ssm:UpdateInstanceAssociationStatus","ssm:UpdateInstanceInformation"],"Resource":"*"},{"Effect":"Allow","Action":["ssmmessages:CreateControlChannel","ssmmessages:CreateDataChannel","ssmmessages:OpenControlChannel","ssmmessages:OpenDataChannel"],"Resource":"*"},{"Effect":"Allow","Action":["ec2messages:AcknowledgeMessage","ec2messages:DeleteMessage","ec2messages:FailMessage","ec2messages:GetEndpoint","ec2messages:GetMessages","ec2messages:SendReply"],"Resource":"*"}]}"#,
    },
    // IAMFullAccess v2.
    Source {
        name: "IAMFullAccess",
        path: "/",
        policy_id: "ANPAI7XKCFMBPM3QQRRVQ",
        created: "2015-02-06T18:40:38Z",
        updated: "2019-06-21T19:40:00Z",
        description: "Provides full access to IAM via the AWS Management Console.",
        version_id: "v2",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","organizations:DescribeAccount","organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents","organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies","organizations:ListTargetsForPolicy"],"Resource":"*"}]}"#,
    },
    // IAMReadOnlyAccess v4.
    Source {
        name: "IAMReadOnlyAccess",
        path: "/",
        policy_id: "ANPAJKSO7NDY4T57MWDSQ",
        created: "2015-02-06T18:40:39Z",
        updated: "2018-01-25T19:11:27Z",
        description: "Provides read only access to IAM via the AWS Management Console.",
        version_id: "v4",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GenerateCredentialReport","iam:GenerateServiceLastAccessedDetails","iam:Get*","iam:List*","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"],"Resource":"*"}]}"#,
    },
    // CloudWatchEventsServiceRolePolicy v1: the policy of `AWSServiceRoleForCloudWatchEvents`.
    Source {
        name: "CloudWatchEventsServiceRolePolicy",
        path: "/aws-service-role/",
        policy_id: "ANPAJNVASSNSIDZIP4X7I",
        created: "2017-11-17T00:42:04Z",
        updated: "2017-11-17T00:42:04Z",
        description: "Allow AWS CloudWatch to execute actions on your behalf configured through alarms and events.",
        version_id: "v1",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudwatch:DescribeAlarms","ec2:DescribeInstanceStatus","ec2:DescribeInstances","ec2:DescribeSnapshots","ec2:DescribeVolumeStatus","ec2:DescribeVolumes","ec2:RebootInstances","ec2:StopInstances","ec2:TerminateInstances","ec2:CreateSnapshot"],"Resource":"*"}]}"#,
    },
    // AutoScalingServiceRolePolicy v8 (2024-02-29), the policy of `AWSServiceRoleForAutoScaling`.
    // AWS has since published v9 and v10 (v10 adds ec2:CreateReplaceRootVolumeTask); v8 is the
    // newest version whose whole document could be checked, so it is the one modelled.
    Source {
        name: "AutoScalingServiceRolePolicy",
        path: "/aws-service-role/",
        policy_id: "ANPAIC5D2V7MRWBMHGD7G",
        created: "2018-01-08T23:10:55Z",
        updated: "2024-02-29T17:48:58Z",
        description: "Enables access to AWS services and Resources used or managed by Auto Scaling",
        version_id: "v8",
        document: r#"{"Version":"2012-10-17","Statement":[{"Sid":"EC2InstanceManagement","Effect":"Allow","Action":["ec2:AttachClassicLinkVpc","ec2:CancelSpotInstanceRequests","ec2:CreateFleet","ec2:CreateTags","ec2:DeleteTags","ec2:Describe*","ec2:DetachClassicLinkVpc","ec2:GetInstanceTypesFromInstanceRequirements","ec2:GetSecurityGroupsForVpc","ec2:ModifyInstanceAttribute","ec2:RequestSpotInstances","ec2:RunInstances","ec2:StartInstances","ec2:StopInstances","ec2:TerminateInstances"],"Resource":"*"},{"Sid":"EC2InstanceProfileManagement","Effect":"Allow","Action":["iam:PassRole"],"Resource":"*","Condition":{"StringLike":{"iam:PassedToService":"ec2.amazonaws.com*"}}},{"Sid":"EC2SpotManagement","Effect":"Allow","Action":["iam:CreateServiceLinkedRole"],"Resource":"*","Condition":{"StringEquals":{"iam:AWSServiceName":"spot.amazonaws.com"}}},{"Sid":"ELBManagement","Effect":"Allow","Action":["elasticloadbalancing:Register*","elasticloadbalancing:Deregister*","elasticloadbalancing:Describe*"],"Resource":"*"},{"Sid":"CWManagement","Effect":"Allow","Action":["cloudwatch:DeleteAlarms","cloudwatch:DescribeAlarms","cloudwatch:GetMetricData","cloudwatch:PutMetricAlarm"],"Resource":"*"},{"Sid":"SNSManagement","Effect":"Allow","Action":["sns:Publish"],"Resource":"*"},{"Sid":"EventBridgeRuleManagement","Effect":"Allow","Action":["events:PutRule","events:PutTargets","events:RemoveTargets","events:DeleteRule","events:DescribeRule"],"Resource":"*","Condition":{"StringEquals":{"events:ManagedBy":"autoscaling.amazonaws.com"}}},{"Sid":"SystemsManagerParameterManagement","Effect":"Allow","Action":["ssm:GetParameters"],"Resource":"*"},{"Sid":"VpcLatticeManagement","Effect":"Allow","Action":["vpc-lattice:DeregisterTargets","vpc-lattice:GetTargetGroup","vpc-lattice:ListTargets","vpc-lattice:ListTargetGroups","vpc-lattice:RegisterTargets"],"Resource":"*"}]}"#,
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
                let date = |text: &str| {
                    text.parse::<DateTime<Utc>>()
                        .unwrap_or_else(|e| panic!("built-in policy {} has a bad date {text}: {e}", s.name))
                };
                AwsManagedPolicy {
                    name: s.name,
                    path: s.path,
                    policy_id: s.policy_id,
                    description: s.description,
                    version_id: s.version_id,
                    document: s.document,
                    parsed: NamedPolicy { name: arn, policy },
                    created: date(s.created),
                    updated: date(s.updated),
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
        assert!(super::catalog().len() >= 8);
        assert!(super::find("arn:aws:iam::aws:policy/PowerUserAccess").is_some());
        let autoscaling = super::find("arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy");
        assert!(autoscaling.is_some_and(|p| p.is_service_linked_role_policy()));
        for policy in super::catalog() {
            assert!(policy.policy_id.starts_with("ANPA") && policy.policy_id.len() == 21, "{}", policy.name);
            assert!(policy.created <= policy.updated, "{}", policy.name);
        }
    }
}
