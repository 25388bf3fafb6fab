//! Policy types, policies and their attachments.
//!
//! Enabling a type attaches its AWS managed full-access policy (`FullAWSAccess`,
//! `RCPFullAWSAccess`) to the root, every OU and every account, and OUs created later get it
//! too; disabling it detaches every policy of the type (AWS Organizations user guide, "Enabling
//! and disabling policy types"). A target keeps at least one and at most five policies of an
//! enabled type.
//!
//! Documents: an SCP is an identity-policy document (no `Principal`); an RCP names `"*"` as its
//! principal, denies (only `RCPFullAWSAccess` allows) and has no `NotAction` (the user guide's
//! "RCP syntax"). Both hold at most 5,120 characters.

use std::collections::BTreeSet;

use wana_policy::{ActionBlock, Effect, NamedPolicy, Policy, PolicyKind, PrincipalBlock};

use super::{errors, FeatureSet, OrgPolicy, Organization, PolicyType};
use crate::error::AwsError;

/// Most policies of one type attached to one target.
pub const MAX_ATTACHED_PER_TYPE: usize = 5;
/// Longest SCP or RCP, in characters.
pub const MAX_CONTENT: usize = 5120;

/// A customer policy to create.
#[derive(Debug, Clone)]
pub struct NewPolicy<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub kind: PolicyType,
    pub content: &'a str,
}

const FULL_ACCESS_SCP: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "*",
      "Resource": "*"
    }
  ]
}"#;

const FULL_ACCESS_RCP: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": "*",
      "Action": "*",
      "Resource": "*"
    }
  ]
}"#;

/// `FullAWSAccess` or `RCPFullAWSAccess`, as the user guide's list of AWS managed policies
/// describes them.
pub(super) fn full_access_policy(kind: PolicyType) -> OrgPolicy {
    let (name, description, content, policy_kind) = match kind {
        PolicyType::ServiceControl => {
            ("FullAWSAccess", "Allows access to every operation", FULL_ACCESS_SCP, PolicyKind::Identity)
        }
        PolicyType::ResourceControl => {
            ("RCPFullAWSAccess", "Allows access to every resource", FULL_ACCESS_RCP, PolicyKind::Resource)
        }
    };
    let id = kind.full_access_id();
    let parsed = Policy::parse(content, policy_kind).unwrap_or(Policy { version: None, id: None, statements: Vec::new() });
    OrgPolicy {
        id: id.to_string(),
        arn: format!("arn:aws:organizations::aws:policy/{}/{id}", kind.arn_segment()),
        name: name.to_string(),
        description: description.to_string(),
        kind,
        aws_managed: true,
        content: content.to_string(),
        parsed: NamedPolicy::new(name, parsed),
    }
}

/// Parses an SCP or RCP, or `MalformedPolicyDocumentException`.
fn parse_content(kind: PolicyType, content: &str) -> Result<Policy, AwsError> {
    let policy = match kind {
        PolicyType::ServiceControl => Policy::parse(content, PolicyKind::Identity),
        PolicyType::ResourceControl => Policy::parse(content, PolicyKind::Resource),
    }
    .map_err(|_| errors::malformed_policy())?;
    if kind == PolicyType::ResourceControl {
        let fits = policy.statements.iter().all(|statement| {
            let everyone = matches!(&statement.principal, Some(PrincipalBlock::Principal(set)) if set.everyone);
            everyone && statement.effect == Effect::Deny && matches!(statement.action, ActionBlock::Action(_))
        });
        if !fits {
            return Err(errors::malformed_policy());
        }
    }
    Ok(policy)
}

impl Organization {
    fn check_type_available(&self, kind: PolicyType) -> Result<(), AwsError> {
        if self.feature_set == FeatureSet::All {
            Ok(())
        } else {
            Err(errors::type_not_available(kind.as_str()))
        }
    }

    /// EnablePolicyType: attaches the type's full-access policy everywhere.
    pub fn enable_type(&mut self, root: &str, kind: PolicyType) -> Result<(), AwsError> {
        if root != self.root.id {
            return Err(errors::root_not_found());
        }
        self.check_type_available(kind)?;
        if self.root.enabled_types.contains(&kind) {
            return Err(errors::type_already_enabled());
        }
        self.root.enabled_types.insert(kind);
        let targets: Vec<String> = std::iter::once(self.root.id.clone())
            .chain(self.units.keys().cloned())
            .chain(self.members.keys().cloned())
            .collect();
        for target in targets {
            self.attachments.entry(target).or_default().push(kind.full_access_id().to_string());
        }
        Ok(())
    }

    /// DisablePolicyType: detaches every policy of the type from everything.
    pub fn disable_type(&mut self, root: &str, kind: PolicyType) -> Result<(), AwsError> {
        if root != self.root.id {
            return Err(errors::root_not_found());
        }
        if !self.root.enabled_types.remove(&kind) {
            return Err(errors::type_not_enabled());
        }
        let of_type: BTreeSet<String> =
            self.policies.values().filter(|p| p.kind == kind).map(|p| p.id.clone()).collect();
        for attached in self.attachments.values_mut() {
            attached.retain(|id| !of_type.contains(id));
        }
        Ok(())
    }

    /// CreatePolicy.
    pub fn create_policy(&mut self, suffix: String, spec: NewPolicy<'_>) -> Result<&OrgPolicy, AwsError> {
        self.check_type_available(spec.kind)?;
        if spec.content.chars().count() > MAX_CONTENT {
            return Err(errors::content_too_large(spec.kind));
        }
        let policy = parse_content(spec.kind, spec.content)?;
        if self.policies.values().any(|p| p.kind == spec.kind && p.name == spec.name) {
            return Err(errors::duplicate_policy());
        }
        let id = format!("p-{suffix}");
        let arn = format!(
            "arn:aws:organizations::{}:policy/{}/{}/{id}",
            self.management_account,
            self.id,
            spec.kind.arn_segment()
        );
        let created = OrgPolicy {
            id: id.clone(),
            arn,
            name: spec.name.to_string(),
            description: spec.description.to_string(),
            kind: spec.kind,
            aws_managed: false,
            content: spec.content.to_string(),
            parsed: NamedPolicy::new(spec.name, policy),
        };
        Ok(self.policies.entry(id).or_insert(created))
    }

    /// DeletePolicy: only customer policies, and only when attached nowhere.
    pub fn delete_policy(&mut self, id: &str) -> Result<(), AwsError> {
        let policy = self.policy(id)?;
        if policy.aws_managed {
            return Err(errors::immutable_policy());
        }
        if self.attachments.values().any(|attached| attached.iter().any(|a| a == id)) {
            return Err(errors::policy_in_use());
        }
        self.policies.remove(id);
        Ok(())
    }

    /// ListPolicies: the type's policies, AWS's first, then by name.
    pub fn policies_of_type(&self, kind: PolicyType) -> Vec<&OrgPolicy> {
        let mut policies: Vec<&OrgPolicy> = self.policies.values().filter(|p| p.kind == kind).collect();
        policies.sort_by(|a, b| (!a.aws_managed, &a.name).cmp(&(!b.aws_managed, &b.name)));
        policies
    }

    /// The policies of a type attached directly to a target, in attach order.
    pub fn attached(&self, target: &str, kind: PolicyType) -> Vec<&OrgPolicy> {
        self.attachments
            .get(target)
            .map(|ids| ids.iter().filter_map(|id| self.policies.get(id)).filter(|p| p.kind == kind).collect())
            .unwrap_or_default()
    }

    /// ListPoliciesForTarget.
    pub fn policies_for_target(&self, target: &str, kind: PolicyType) -> Result<Vec<&OrgPolicy>, AwsError> {
        if self.target_kind(target).is_none() {
            return Err(errors::target_not_found());
        }
        Ok(self.attached(target, kind))
    }

    /// ListTargetsForPolicy: the targets' ids, root first, then OUs, then accounts.
    pub fn targets_for_policy(&self, id: &str) -> Result<Vec<String>, AwsError> {
        self.policy(id)?;
        let holds = |target: &String| self.attachments.get(target).is_some_and(|a| a.iter().any(|p| p == id));
        Ok(std::iter::once(self.root.id.clone())
            .chain(self.units.keys().cloned())
            .chain(self.members.keys().cloned())
            .filter(|target| holds(target))
            .collect())
    }

    /// AttachPolicy.
    pub fn attach_policy(&mut self, id: &str, target: &str) -> Result<(), AwsError> {
        let kind = self.policy(id)?.kind;
        if self.target_kind(target).is_none() {
            return Err(errors::target_not_found());
        }
        if !self.root.enabled_types.contains(&kind) {
            return Err(errors::type_not_enabled());
        }
        let attached = self.attached(target, kind);
        if attached.iter().any(|p| p.id == id) {
            return Err(errors::duplicate_attachment());
        }
        if attached.len() >= MAX_ATTACHED_PER_TYPE {
            return Err(errors::too_many_attached());
        }
        self.attachments.entry(target.to_string()).or_default().push(id.to_string());
        Ok(())
    }

    /// DetachPolicy: never the last policy of an enabled type.
    pub fn detach_policy(&mut self, id: &str, target: &str) -> Result<(), AwsError> {
        let kind = self.policy(id)?.kind;
        if self.target_kind(target).is_none() {
            return Err(errors::target_not_found());
        }
        let attached = self.attached(target, kind);
        if !attached.iter().any(|p| p.id == id) {
            return Err(errors::not_attached());
        }
        if attached.len() == 1 {
            return Err(errors::last_policy());
        }
        if let Some(ids) = self.attachments.get_mut(target) {
            ids.retain(|a| a != id);
        }
        Ok(())
    }
}
