//! The organization's policies that bear on one request: the SCPs over the principal's
//! account and the RCPs over the resource's, one level per root, OU and account from the top
//! down. The policy engine requires, at every level, an allow and no deny.
//!
//! Who is exempt (AWS Organizations user guide, "Service control policies" and "Resource
//! control policies"): SCPs do not restrict the management account's principals nor
//! service-linked roles; RCPs do not restrict the management account's resources nor
//! service-linked roles, and apply only to the services that support them ([`RCP_SERVICES`]).
//! A policy type that is not enabled contributes no level.

use wana_policy::NamedPolicy;

use super::{Organization, PolicyType};
use crate::state::World;

/// The services whose resources RCPs cover (action prefixes), from the user guide's list:
/// Amazon S3, AWS STS, AWS KMS, Amazon SQS, AWS Secrets Manager, Amazon Cognito, Amazon
/// CloudWatch Logs, Amazon DynamoDB, Amazon ECR and Amazon OpenSearch Serverless.
pub const RCP_SERVICES: [&str; 11] =
    ["s3", "sts", "kms", "sqs", "secretsmanager", "cognito-identity", "cognito-idp", "logs", "dynamodb", "ecr", "aoss"];

/// The SCP and RCP levels of one request; both empty outside an organization.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrganizationLayers {
    /// From the root down to the principal's account, the SCPs attached at each level.
    pub scp_levels: Vec<Vec<NamedPolicy>>,
    /// From the root down to the resource's account, the RCPs attached at each level.
    pub rcp_levels: Vec<Vec<NamedPolicy>>,
}

impl OrganizationLayers {
    pub fn is_empty(&self) -> bool {
        self.scp_levels.is_empty() && self.rcp_levels.is_empty()
    }
}

impl Organization {
    /// The policies of `kind` at each level above and at `account`, if the type applies to it.
    fn levels(&self, account: &str, kind: PolicyType) -> Vec<Vec<NamedPolicy>> {
        let applies = self.root.enabled_types.contains(&kind)
            && self.members.contains_key(account)
            && account != self.management_account;
        if !applies {
            return Vec::new();
        }
        self.lineage(account)
            .iter()
            .map(|level| self.attached(level, kind).into_iter().map(|p| p.parsed.clone()).collect())
            .collect()
    }
}

impl World {
    /// The organization's policies for a request by a principal of `principal_account` on a
    /// resource of `resource_account`. `service_linked` is true for a service-linked role's
    /// session, which neither SCPs nor RCPs restrict.
    pub fn organization_layers(
        &self,
        principal_account: &str,
        resource_account: &str,
        action: &str,
        service_linked: bool,
    ) -> OrganizationLayers {
        let Some(org) = self.organization.as_ref().filter(|_| !service_linked) else {
            return OrganizationLayers::default();
        };
        let service = action.split(':').next().unwrap_or("").to_ascii_lowercase();
        let rcp_levels = if RCP_SERVICES.contains(&service.as_str()) {
            org.levels(resource_account, PolicyType::ResourceControl)
        } else {
            Vec::new()
        };
        OrganizationLayers { scp_levels: org.levels(principal_account, PolicyType::ServiceControl), rcp_levels }
    }
}
