//! AWS Organizations, as much of it as issue 13 needs: one organization over the emulator's
//! built-in accounts, its root and organizational units, and service control policies (SCPs)
//! and resource control policies (RCPs) attached to them. What the policies do to requests is
//! gathered in `effective` and decided by `wana-policy`.
//!
//! The files: `structure` (the organization, its OUs, moving accounts), `policies` (policy
//! types, policies and attachments), `effective` (the SCPs and RCPs that bear on a request),
//! `errors` (the service's errors and texts).
//!
//! # The emulator's organization
//!
//! The world holds at most one organization. `CreateOrganization` makes the caller's account
//! the management account and every other built-in account (`crate::accounts`) a member under
//! the root, as if each had accepted an invitation (`JoinedMethod` `INVITED`). Accounts are
//! named and addressed after their short names (`account-b`, `account-b@wana.example`).

mod effective;
pub mod errors;
mod policies;
mod structure;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use wana_policy::NamedPolicy;

pub use effective::{Level, OrganizationLayers, RCP_SERVICES};
pub use policies::NewPolicy;

use crate::error::AwsError;

use super::World;

/// The policy types the emulator models; the others of the API's enum are refused as not
/// available (see `errors::type_not_available`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyType {
    ServiceControl,
    ResourceControl,
}

impl PolicyType {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::ServiceControl => "SERVICE_CONTROL_POLICY",
            PolicyType::ResourceControl => "RESOURCE_CONTROL_POLICY",
        }
    }

    pub fn parse(text: &str) -> Option<PolicyType> {
        match text {
            "SERVICE_CONTROL_POLICY" => Some(PolicyType::ServiceControl),
            "RESOURCE_CONTROL_POLICY" => Some(PolicyType::ResourceControl),
            _ => None,
        }
    }

    /// The segment of a policy ARN (`.../service_control_policy/p-...`).
    pub fn arn_segment(self) -> &'static str {
        match self {
            PolicyType::ServiceControl => "service_control_policy",
            PolicyType::ResourceControl => "resource_control_policy",
        }
    }

    /// How the type is named in AWS's AccessDenied sentences.
    pub fn description(self) -> &'static str {
        match self {
            PolicyType::ServiceControl => "service control policy",
            PolicyType::ResourceControl => "resource control policy",
        }
    }

    /// The AWS managed policy attached everywhere when the type is enabled.
    pub fn full_access_id(self) -> &'static str {
        match self {
            PolicyType::ServiceControl => "p-FullAWSAccess",
            PolicyType::ResourceControl => "p-RCPFullAWSAccess",
        }
    }
}

/// `ALL` or `CONSOLIDATED_BILLING`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureSet {
    All,
    ConsolidatedBilling,
}

impl FeatureSet {
    pub fn as_str(self) -> &'static str {
        match self {
            FeatureSet::All => "ALL",
            FeatureSet::ConsolidatedBilling => "CONSOLIDATED_BILLING",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Root {
    pub id: String,
    pub name: String,
    pub enabled_types: BTreeSet<PolicyType>,
}

#[derive(Debug, Clone)]
pub struct OrganizationalUnit {
    pub id: String,
    pub name: String,
    /// The root or OU that holds it.
    pub parent: String,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub email: String,
    pub parent: String,
    pub joined: DateTime<Utc>,
}

/// A policy of the organization, or one of AWS's (`FullAWSAccess`, `RCPFullAWSAccess`).
#[derive(Debug, Clone)]
pub struct OrgPolicy {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub description: String,
    pub kind: PolicyType,
    pub aws_managed: bool,
    /// The document as written.
    pub content: String,
    /// The document parsed, named by its id for decision traces.
    pub parsed: NamedPolicy,
}

/// The organization.
#[derive(Debug, Clone)]
pub struct Organization {
    pub id: String,
    pub feature_set: FeatureSet,
    pub management_account: String,
    pub root: Root,
    pub units: BTreeMap<String, OrganizationalUnit>,
    pub members: BTreeMap<String, Member>,
    /// Customer policies and AWS's, by id.
    pub policies: BTreeMap<String, OrgPolicy>,
    /// Policy ids attached to each target (root, OU or account id), in attach order.
    pub attachments: BTreeMap<String, Vec<String>>,
}

/// What a policy is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Root,
    OrganizationalUnit,
    Account,
}

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Root => "ROOT",
            TargetKind::OrganizationalUnit => "ORGANIZATIONAL_UNIT",
            TargetKind::Account => "ACCOUNT",
        }
    }
}

impl Organization {
    pub fn arn(&self) -> String {
        format!("arn:aws:organizations::{}:organization/{}", self.management_account, self.id)
    }

    pub fn account_arn(&self, account: &str) -> String {
        format!("arn:aws:organizations::{}:account/{}/{account}", self.management_account, self.id)
    }

    pub fn root_arn(&self) -> String {
        format!("arn:aws:organizations::{}:root/{}/{}", self.management_account, self.id, self.root.id)
    }

    pub fn unit_arn(&self, unit: &str) -> String {
        format!("arn:aws:organizations::{}:ou/{}/{unit}", self.management_account, self.id)
    }

    /// What a root, OU or account id names, if it is in the organization.
    pub fn target_kind(&self, id: &str) -> Option<TargetKind> {
        if id == self.root.id {
            Some(TargetKind::Root)
        } else if self.units.contains_key(id) {
            Some(TargetKind::OrganizationalUnit)
        } else if self.members.contains_key(id) {
            Some(TargetKind::Account)
        } else {
            None
        }
    }

    /// The name and ARN of a target (ListTargetsForPolicy).
    pub fn target_name_and_arn(&self, id: &str) -> Option<(String, String)> {
        match self.target_kind(id)? {
            TargetKind::Root => Some((self.root.name.clone(), self.root_arn())),
            TargetKind::OrganizationalUnit => Some((self.units[id].name.clone(), self.unit_arn(id))),
            TargetKind::Account => Some((self.members[id].name.clone(), self.account_arn(id))),
        }
    }

    /// Whether a root or OU id exists (a parent of OUs and accounts).
    pub fn is_parent(&self, id: &str) -> bool {
        id == self.root.id || self.units.contains_key(id)
    }

    /// The ids from the root down to `id`'s parent, then `id` itself: the levels at which
    /// policies attach to what `id` holds.
    pub fn lineage(&self, id: &str) -> Vec<String> {
        let mut chain = vec![id.to_string()];
        let mut current = id;
        loop {
            let parent = if let Some(member) = self.members.get(current) {
                member.parent.as_str()
            } else if let Some(unit) = self.units.get(current) {
                unit.parent.as_str()
            } else {
                break;
            };
            chain.push(parent.to_string());
            current = parent;
        }
        chain.reverse();
        chain
    }

    /// `Path` of an OU or account: `o-…/r-…/ou-…/…/` (the account's id last for an account).
    pub fn path(&self, id: &str) -> String {
        let mut path = self.id.clone();
        for level in self.lineage(id) {
            path.push('/');
            path.push_str(&level);
        }
        path.push('/');
        path
    }

    pub fn policy(&self, id: &str) -> Result<&OrgPolicy, AwsError> {
        self.policies.get(id).ok_or_else(errors::policy_not_found)
    }
}

impl World {
    /// The organization an account belongs to, or `AWSOrganizationsNotInUseException`.
    pub fn organization_of(&self, account: &str) -> Result<&Organization, AwsError> {
        self.organization
            .as_ref()
            .filter(|org| org.members.contains_key(account))
            .ok_or_else(errors::not_in_use)
    }

    /// The organization, for a request only its management account may make: a member gets
    /// `AccessDeniedException`, an account outside any organization
    /// `AWSOrganizationsNotInUseException`.
    pub fn managed_organization(&self, account: &str) -> Result<&Organization, AwsError> {
        let org = self.organization_of(account)?;
        if org.management_account == account {
            Ok(org)
        } else {
            Err(errors::access_denied())
        }
    }

    /// `aws:PrincipalOrgID` and `aws:ResourceOrgID`: the organization of the principal's
    /// account and of the resource's, for the accounts that are members.
    pub fn organization_keys(&self, principal_account: &str, resource_account: &str) -> Vec<(&'static str, String)> {
        let Some(org) = self.organization.as_ref() else {
            return Vec::new();
        };
        let mut keys = Vec::new();
        if org.members.contains_key(principal_account) {
            keys.push(("aws:PrincipalOrgID", org.id.clone()));
        }
        if org.members.contains_key(resource_account) {
            keys.push(("aws:ResourceOrgID", org.id.clone()));
        }
        keys
    }

    pub fn managed_organization_mut(&mut self, account: &str) -> Result<&mut Organization, AwsError> {
        self.managed_organization(account)?;
        self.organization.as_mut().ok_or_else(errors::not_in_use)
    }
}
