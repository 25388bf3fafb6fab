//! The organization's structure: creating it over the built-in accounts, organizational units,
//! and moving accounts between parents.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::{errors, FeatureSet, Member, Organization, OrganizationalUnit, PolicyType, Root};
use crate::{accounts::DEFAULT_ACCOUNTS, error::AwsError, state::World};

/// OUs nest at most five levels below the root (AWS Organizations quotas).
pub const MAX_OU_DEPTH: usize = 5;

impl World {
    /// CreateOrganization: the caller's account becomes the management account, every other
    /// built-in account a member, all under the root; no policy type is enabled yet.
    pub fn create_organization(
        &mut self,
        account: &str,
        feature_set: FeatureSet,
        now: DateTime<Utc>,
    ) -> Result<&Organization, AwsError> {
        if self.organization.is_some() {
            return Err(errors::already_in_organization());
        }
        let id = format!("o-{}", self.ids.lower_suffix("organization", 10));
        let root_id = format!("r-{}", self.ids.lower_suffix("root", 6));
        let mut members = BTreeMap::new();
        for info in DEFAULT_ACCOUNTS.iter().filter(|info| self.accounts.contains_key(info.id)) {
            members.insert(
                info.id.to_string(),
                Member {
                    id: info.id.to_string(),
                    name: format!("account-{}", info.name),
                    email: format!("account-{}@wana.example", info.name),
                    parent: root_id.clone(),
                    joined: now,
                },
            );
        }
        if !members.contains_key(account) {
            return Err(AwsError::internal(format!("account {account} is not a built-in account")));
        }
        let mut organization = Organization {
            id,
            feature_set,
            management_account: account.to_string(),
            root: Root { id: root_id, name: "Root".to_string(), enabled_types: BTreeSet::new() },
            units: BTreeMap::new(),
            members,
            policies: BTreeMap::new(),
            attachments: BTreeMap::new(),
        };
        for kind in [PolicyType::ServiceControl, PolicyType::ResourceControl] {
            let policy = super::policies::full_access_policy(kind);
            organization.policies.insert(policy.id.clone(), policy);
        }
        Ok(self.organization.insert(organization))
    }
}

impl Organization {
    /// How many OUs lie between the root and `parent`, `parent` included.
    fn depth_of(&self, parent: &str) -> usize {
        self.lineage(parent).len() - 1
    }

    /// CreateOrganizationalUnit. The new OU gets each enabled type's full-access policy, as
    /// every OU has at least one policy of an enabled type.
    pub fn create_unit(&mut self, suffix: String, parent: &str, name: &str) -> Result<&OrganizationalUnit, AwsError> {
        if !self.is_parent(parent) {
            return Err(errors::parent_not_found());
        }
        if self.units.values().any(|u| u.parent == parent && u.name == name) {
            return Err(errors::duplicate_unit());
        }
        if self.depth_of(parent) >= MAX_OU_DEPTH {
            return Err(errors::ou_depth());
        }
        let root_part = self.root.id.trim_start_matches("r-").to_string();
        let id = format!("ou-{root_part}-{suffix}");
        for kind in self.root.enabled_types.clone() {
            self.attachments.entry(id.clone()).or_default().push(kind.full_access_id().to_string());
        }
        let unit = OrganizationalUnit { id: id.clone(), name: name.to_string(), parent: parent.to_string() };
        Ok(self.units.entry(id).or_insert(unit))
    }

    /// ListOrganizationalUnitsForParent, by name.
    pub fn units_of(&self, parent: &str) -> Result<Vec<&OrganizationalUnit>, AwsError> {
        if !self.is_parent(parent) {
            return Err(errors::parent_not_found());
        }
        let mut units: Vec<&OrganizationalUnit> = self.units.values().filter(|u| u.parent == parent).collect();
        units.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(units)
    }

    /// MoveAccount: from its current parent, which the request must name, to another.
    pub fn move_account(&mut self, account: &str, source: &str, destination: &str) -> Result<(), AwsError> {
        let member = self.members.get(account).ok_or_else(errors::account_not_found)?;
        if !self.is_parent(source) {
            return Err(errors::source_parent_not_found());
        }
        if !self.is_parent(destination) {
            return Err(errors::destination_parent_not_found());
        }
        if member.parent != source {
            return Err(errors::account_not_found());
        }
        if member.parent == destination {
            return Err(errors::duplicate_account());
        }
        if let Some(member) = self.members.get_mut(account) {
            member.parent = destination.to_string();
        }
        Ok(())
    }
}
