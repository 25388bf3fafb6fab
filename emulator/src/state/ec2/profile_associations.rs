//! IAM instance profile associations: which instance profile an instance presents to IMDS, and
//! the life cycle AssociateIamInstanceProfile, ReplaceIamInstanceProfileAssociation and
//! DisassociateIamInstanceProfile drive (`associating` → `associated`, `disassociating` →
//! `disassociated`), plus the one a launch with `IamInstanceProfile` creates.
//!
//! Facts: states and the `iip-assoc-` id shape (botocore ec2 2016-11-15,
//! `IamInstanceProfileAssociationState`; AWS CLI examples, which show Associate and Replace answering
//! `associating` and Replace answering a *new* association id). Error texts as moto
//! (getmoto/moto `ec2/exceptions.py`) reproduces them: `IncorrectState` "There is an existing
//! association for instance i-…", `InvalidAssociationID.NotFound` "An invalid association-id of
//! '…' was given".
//!
//! Not confirmed, chosen: each transition takes [`ASSOCIATION_SECONDS`] (scaled by the world's
//! latency scale); a `disassociated` association stays listed; an instance that is terminated
//! (or shutting down) loses nothing here and cannot be associated (`IncorrectInstanceState`
//! "The instance 'i-…' is not in a valid state for this operation.").

use chrono::{DateTime, Duration, Utc};

use super::{
    instance_not_found, schedule, Event, InstanceProfileAssociation, InstanceStateName, World,
};
use crate::error::AwsError;

/// How long `associating` and `disassociating` last.
pub const ASSOCIATION_SECONDS: i64 = 5;

/// `IamInstanceProfileAssociationState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssociationState {
    Associating,
    Associated,
    Disassociating,
    Disassociated,
}

impl AssociationState {
    pub fn name(self) -> &'static str {
        match self {
            AssociationState::Associating => "associating",
            AssociationState::Associated => "associated",
            AssociationState::Disassociating => "disassociating",
            AssociationState::Disassociated => "disassociated",
        }
    }

    /// Whether the association holds its instance (a second one is refused).
    fn holds_instance(self) -> bool {
        matches!(self, AssociationState::Associating | AssociationState::Associated)
    }
}

/// `IamInstanceProfileAssociation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileAssociation {
    pub id: String,
    pub instance_id: String,
    pub profile: InstanceProfileAssociation,
    pub state: AssociationState,
    pub timestamp: DateTime<Utc>,
}

pub fn association_not_found(id: &str) -> AwsError {
    AwsError::new("InvalidAssociationID.NotFound", 400, format!("An invalid association-id of '{id}' was given"))
}

fn existing_association(instance_id: &str) -> AwsError {
    AwsError::new("IncorrectState", 400, format!("There is an existing association for instance {instance_id}"))
}

fn invalid_instance_state(instance_id: &str) -> AwsError {
    AwsError::new(
        "IncorrectInstanceState",
        400,
        format!("The instance '{instance_id}' is not in a valid state for this operation."),
    )
}

/// The associations of an account in a region, in creation order.
pub fn profile_associations<'w>(world: &'w World, account: &str, region: &str) -> Vec<&'w ProfileAssociation> {
    super::state(world, account, region).map(|s| s.profile_associations.values().collect()).unwrap_or_default()
}

/// An association by id, or `InvalidAssociationID.NotFound`.
pub fn profile_association<'w>(
    world: &'w World,
    account: &str,
    region: &str,
    id: &str,
) -> Result<&'w ProfileAssociation, AwsError> {
    super::state(world, account, region)
        .and_then(|s| s.profile_associations.get(id))
        .ok_or_else(|| association_not_found(id))
}

fn settle_later(world: &mut World, account: &str, region: &str, id: &str, now: DateTime<Utc>) {
    let at = now + world.latency(Duration::seconds(ASSOCIATION_SECONDS));
    schedule(world, at, account, region, Event::AssociationSettled { association_id: id.to_string() });
}

fn insert(
    world: &mut World,
    account: &str,
    region: &str,
    instance_id: &str,
    profile: InstanceProfileAssociation,
    state: AssociationState,
    now: DateTime<Utc>,
) -> Result<ProfileAssociation, AwsError> {
    let id = world.ids.hex_id("iip-assoc");
    let association = ProfileAssociation { id: id.clone(), instance_id: instance_id.to_string(), profile, state, timestamp: now };
    let regional = world.regional_mut(account, region).ok_or_else(|| instance_not_found(&[instance_id]))?;
    regional.ec2.profile_associations.insert(id, association.clone());
    Ok(association)
}

/// The association a launch with `IamInstanceProfile` creates: `associated` from the start.
pub(super) fn launched_with(
    world: &mut World,
    account: &str,
    region: &str,
    instance_id: &str,
    profile: InstanceProfileAssociation,
    now: DateTime<Utc>,
) {
    let _ = insert(world, account, region, instance_id, profile, AssociationState::Associated, now);
}

/// AssociateIamInstanceProfile: refused while the instance holds an association.
pub fn associate_profile(
    world: &mut World,
    account: &str,
    region: &str,
    instance_id: &str,
    profile: InstanceProfileAssociation,
    now: DateTime<Utc>,
) -> Result<ProfileAssociation, AwsError> {
    let instance = super::instance(world, account, region, instance_id).ok_or_else(|| instance_not_found(&[instance_id]))?;
    if matches!(instance.state, InstanceStateName::ShuttingDown | InstanceStateName::Terminated) {
        return Err(invalid_instance_state(instance_id));
    }
    if profile_associations(world, account, region).iter().any(|a| a.instance_id == instance_id && a.state.holds_instance()) {
        return Err(existing_association(instance_id));
    }
    let association = insert(world, account, region, instance_id, profile, AssociationState::Associating, now)?;
    settle_later(world, account, region, &association.id, now);
    Ok(association)
}

/// ReplaceIamInstanceProfileAssociation: the old association ends at once, a new one (new id)
/// starts `associating`.
pub fn replace_profile_association(
    world: &mut World,
    account: &str,
    region: &str,
    association_id: &str,
    profile: InstanceProfileAssociation,
    now: DateTime<Utc>,
) -> Result<ProfileAssociation, AwsError> {
    let old = profile_association(world, account, region, association_id)?;
    if !old.state.holds_instance() {
        return Err(association_not_found(association_id));
    }
    let instance_id = old.instance_id.clone();
    if let Some(old) = world.regional_mut(account, region).and_then(|r| r.ec2.profile_associations.get_mut(association_id)) {
        old.state = AssociationState::Disassociated;
    }
    let association = insert(world, account, region, &instance_id, profile, AssociationState::Associating, now)?;
    settle_later(world, account, region, &association.id, now);
    Ok(association)
}

/// DisassociateIamInstanceProfile: `disassociating`, then `disassociated`, when the instance
/// stops presenting the profile.
pub fn disassociate_profile(
    world: &mut World,
    account: &str,
    region: &str,
    association_id: &str,
    now: DateTime<Utc>,
) -> Result<ProfileAssociation, AwsError> {
    let current = profile_association(world, account, region, association_id)?;
    if !current.state.holds_instance() {
        return Err(association_not_found(association_id));
    }
    let association = world
        .regional_mut(account, region)
        .and_then(|r| r.ec2.profile_associations.get_mut(association_id))
        .ok_or_else(|| association_not_found(association_id))?;
    association.state = AssociationState::Disassociating;
    let answer = association.clone();
    settle_later(world, account, region, association_id, now);
    Ok(answer)
}

/// A due [`Event::AssociationSettled`]: the transition completes and the instance presents
/// (or stops presenting) the profile.
pub(super) fn settle_association(world: &mut World, account: &str, region: &str, id: &str) {
    let Some(ec2) = world.regional_mut(account, region).map(|r| &mut r.ec2) else {
        return;
    };
    let Some(association) = ec2.profile_associations.get_mut(id) else {
        return;
    };
    let presented = match association.state {
        AssociationState::Associating => {
            association.state = AssociationState::Associated;
            Some(association.profile.clone())
        }
        AssociationState::Disassociating => {
            association.state = AssociationState::Disassociated;
            None
        }
        AssociationState::Associated | AssociationState::Disassociated => return,
    };
    let instance_id = association.instance_id.clone();
    if let Some(instance) = ec2.instances.get_mut(&instance_id) {
        instance.iam_instance_profile = presented;
    }
}
