//! The organization's policies that bear on one request: the SCPs over the principal's
//! account and the RCPs over the resource's, one level per root, OU and account from the top
//! down. The policy engine requires, at every level, an allow and no deny.
//!
//! Given whenever the account is a member and the type is enabled: the engine itself leaves
//! out the management account, service-linked roles and, for SCPs, service principals (AWS
//! Organizations user guide, "Service control policies" and "Resource control policies"). What
//! the engine cannot know is which services RCPs cover: an RCP level is given only for the
//! actions of [`RCP_SERVICES`].

use wana_policy::NamedPolicy;

use super::{Organization, PolicyType};
use crate::state::World;

/// The services whose resources RCPs cover (action prefixes), from the user guide's list:
/// Amazon S3, AWS STS, AWS KMS, Amazon SQS, AWS Secrets Manager, Amazon Cognito, Amazon
/// CloudWatch Logs, Amazon DynamoDB, Amazon ECR and Amazon OpenSearch Serverless.
pub const RCP_SERVICES: [&str; 11] =
    ["s3", "sts", "kms", "sqs", "secretsmanager", "cognito-identity", "cognito-idp", "logs", "dynamodb", "ecr", "aoss"];

/// The policies of one type attached directly to one target.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    /// The root, OU or account id.
    pub target: String,
    pub policies: Vec<NamedPolicy>,
}

/// The SCP and RCP levels of one request; `None` outside an organization or with the type
/// disabled.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrganizationLayers {
    pub management_account: String,
    /// From the root down to the principal's account, the SCPs attached at each level.
    pub scp_levels: Option<Vec<Level>>,
    /// From the root down to the resource's account, the RCPs attached at each level.
    pub rcp_levels: Option<Vec<Level>>,
}

impl OrganizationLayers {
    pub fn is_empty(&self) -> bool {
        self.scp_levels.is_none() && self.rcp_levels.is_none()
    }
}

impl Organization {
    /// The policies of `kind` at each level above and at `account`, if the type is enabled and
    /// the account a member.
    fn levels(&self, account: &str, kind: PolicyType) -> Option<Vec<Level>> {
        if !self.root.enabled_types.contains(&kind) || !self.members.contains_key(account) {
            return None;
        }
        let levels = self
            .lineage(account)
            .into_iter()
            .map(|target| {
                let policies = self.attached(&target, kind).into_iter().map(|p| p.parsed.clone()).collect();
                Level { target, policies }
            })
            .collect();
        Some(levels)
    }
}

impl World {
    /// The organization's policies for a request by a principal of `principal_account` (empty
    /// for a service principal) on a resource of `resource_account`.
    pub fn organization_layers(&self, principal_account: &str, resource_account: &str, action: &str) -> OrganizationLayers {
        let Some(org) = self.organization.as_ref() else {
            return OrganizationLayers::default();
        };
        let service = action.split(':').next().unwrap_or("").to_ascii_lowercase();
        let rcp_levels = if RCP_SERVICES.contains(&service.as_str()) {
            org.levels(resource_account, PolicyType::ResourceControl)
        } else {
            None
        };
        OrganizationLayers {
            management_account: org.management_account.clone(),
            scp_levels: org.levels(principal_account, PolicyType::ServiceControl),
            rcp_levels,
        }
    }
}
