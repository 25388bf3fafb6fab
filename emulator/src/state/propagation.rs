//! AWS's eventual consistency as windows of emulator time, opened by a fault profile
//! (`crate::faults`): none by default, so that a world without faults answers at once.
//!
//! - **IAM identity policies**: after a put, attach, detach or delete of a user's or role's
//!   policies, requests are decided with the policies as they were before the change for
//!   `iam` (the previous set is kept on the entity's account, by the entity's id, with its
//!   expiry); a further change within the window keeps the set in force and moves the expiry.
//! - **New roles**: STS refuses to assume a role for `role` after its creation.
//! - **KMS grants**: a grant allows nothing for `grant` after its creation, unless the request
//!   carries its grant token (`GrantTokens`), as KMS documents ("Eventual consistency" and
//!   "Using a grant token" in the KMS developer guide).
//!
//! Each decision a window changes is in the authorization log with "not yet propagated".

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use wana_policy::NamedPolicy;

use super::{
    iam::{IamState, PolicyDocument, PreviousPolicies},
    kms::Grant,
    World,
};
use crate::{error::AwsError, faults::FaultProfile, principal::Principal};

/// The windows, in emulator time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Propagation {
    pub iam: Duration,
    pub role: Duration,
    pub grant: Duration,
}

impl Default for Propagation {
    fn default() -> Self {
        Propagation { iam: Duration::zero(), role: Duration::zero(), grant: Duration::zero() }
    }
}

impl Propagation {
    pub fn of(profile: &FaultProfile) -> Propagation {
        let window = |d: std::time::Duration| Duration::from_std(d).unwrap_or(Duration::MAX);
        Propagation {
            iam: window(profile.iam_propagation),
            role: window(profile.role_propagation),
            grant: window(profile.grant_propagation),
        }
    }
}

/// Which kind of IAM entity a policy change is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityKind {
    User,
    Role,
}

/// The log's words for a decision made with the previous policies.
pub fn not_propagated_note(who: &str, until: DateTime<Utc>) -> String {
    format!(
        "not yet propagated: {who}'s identity policies as they were before the latest change decided (the change applies from {})",
        until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )
}

impl World {
    /// Sets the windows (the server does, from its fault profile).
    pub fn with_propagation(mut self, propagation: Propagation) -> World {
        self.propagation = propagation;
        self
    }

    pub fn propagation(&self) -> Propagation {
        self.propagation
    }

    /// Runs `change` on the account's IAM state (a put, attach, detach or delete of the
    /// entity's policies); when it succeeds within an IAM window, the entity's policies before
    /// the change stay in force until the window ends.
    pub fn change_identity_policies<R>(
        &mut self,
        account: &str,
        kind: EntityKind,
        name: &str,
        now: DateTime<Utc>,
        change: impl FnOnce(&mut IamState) -> Result<R, AwsError>,
    ) -> Result<R, AwsError> {
        let window = self.propagation.iam;
        let iam = self.iam_mut(account)?;
        let before = if window > Duration::zero() { current_policies(iam, kind, name) } else { None };
        let result = change(iam)?;
        if let Some((id, inline, attached)) = before {
            let until = now + window;
            match iam.unpropagated.get_mut(&id) {
                Some(previous) if previous.until > now => previous.until = until,
                _ => {
                    iam.unpropagated.insert(id, PreviousPolicies { inline, attached, until });
                }
            }
        }
        Ok(result)
    }

    /// The identity policies `principal`'s requests are decided with at `now` while a change
    /// of its user's or role's policies propagates, with the end of the window; `None` when no
    /// change is pending.
    pub fn unpropagated_identity(&self, principal: &Principal, now: DateTime<Utc>) -> Option<(Vec<NamedPolicy>, DateTime<Utc>)> {
        let iam = &self.account(principal.account())?.iam;
        if iam.unpropagated.is_empty() {
            return None;
        }
        let id = match principal {
            Principal::User { name, .. } => &iam.users.get(name)?.id,
            Principal::AssumedRole { role_name, .. } => &iam.roles.get(role_name)?.id,
        };
        let previous = iam.unpropagated.get(id).filter(|p| now < p.until)?;
        Some((iam.identity_policies(&previous.inline, &previous.attached).cloned().collect(), previous.until))
    }

    /// When a role created at `created` becomes assumable, if that is after `now`.
    pub fn role_propagating(&self, created: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let from = created + self.propagation.role;
        (now < from).then_some(from)
    }

    /// When `grant` becomes usable without its token, if that is after `now`.
    pub fn grant_propagating(&self, grant: &Grant, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let from = grant.created + self.propagation.grant;
        (now < from).then_some(from)
    }
}

fn current_policies(iam: &IamState, kind: EntityKind, name: &str) -> Option<(String, BTreeMap<String, PolicyDocument>, Vec<String>)> {
    match kind {
        EntityKind::User => iam.user(name).ok().map(|u| (u.id.clone(), u.inline_policies.clone(), u.attached_policies.clone())),
        EntityKind::Role => iam.role(name).ok().map(|r| (r.id.clone(), r.inline_policies.clone(), r.attached_policies.clone())),
    }
}

#[cfg(test)]
#[path = "propagation_tests.rs"]
mod tests;
