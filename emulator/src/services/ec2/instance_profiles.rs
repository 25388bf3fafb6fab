//! IAM instance profile associations: AssociateIamInstanceProfile,
//! DescribeIamInstanceProfileAssociations, ReplaceIamInstanceProfileAssociation and
//! DisassociateIamInstanceProfile (botocore ec2 2016-11-15 shapes: `AssociationId.N`,
//! `Filter.N`, output `iamInstanceProfileAssociation` / `iamInstanceProfileAssociationSet`).
//!
//! Each is authorized as its `ec2:` action on the instance (`*` for Describe); Associate and
//! Replace also need `iam:PassRole` on the profile's role, checked as RunInstances checks it
//! ([`super::instances::instance_profile`]), after the instance and association are found.

use crate::{
    error::AwsError,
    state::{ec2 as model, World},
    value::Value,
};

use super::decode::{any_matches, filters, invalid_filter, required, strings};
use super::instances::instance_profile;
use super::{authorize, dry_run, instance_arn, Call};

fn association_value(association: &model::ProfileAssociation) -> Value {
    Value::structure()
        .with("associationId", association.id.as_str())
        .with("instanceId", association.instance_id.as_str())
        .with(
            "iamInstanceProfile",
            Value::structure().with("arn", association.profile.arn.as_str()).with("id", association.profile.id.as_str()),
        )
        .with("state", association.state.name())
        .with("timestamp", association.timestamp)
}

fn profile_spec<'a>(call: &Call<'a>) -> Result<&'a Value, AwsError> {
    call.params.get("IamInstanceProfile").ok_or_else(|| AwsError::missing_parameter("IamInstanceProfile"))
}

pub(super) fn associate_iam_instance_profile(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let instance_id = required(call.params, "InstanceId")?.to_string();
    let spec = profile_spec(call)?;
    model::existing_instances(world, call.account(), call.region, std::slice::from_ref(&instance_id))?;
    let arn = instance_arn(call.region, call.account(), &instance_id);
    authorize(world, call, "ec2:AssociateIamInstanceProfile", &arn, Vec::new())?;
    let profile = instance_profile(world, call, spec)?;
    dry_run(call)?;
    let association = model::associate_profile(world, call.account(), call.region, &instance_id, profile, call.now)?;
    Ok(Value::structure().with("iamInstanceProfileAssociation", association_value(&association)))
}

pub(super) fn describe_iam_instance_profile_associations(
    world: &mut World,
    call: &Call<'_>,
) -> Result<Value, AwsError> {
    authorize(world, call, "ec2:DescribeIamInstanceProfileAssociations", "*", Vec::new())?;
    dry_run(call)?;
    let ids = strings(call.params, "AssociationId");
    let filters = filters(call.params)?;
    for id in &ids {
        model::profile_association(world, call.account(), call.region, id)?;
    }
    let mut values = Vec::new();
    for association in model::profile_associations(world, call.account(), call.region) {
        if !ids.is_empty() && !ids.contains(&association.id) {
            continue;
        }
        let mut keep = true;
        for filter in &filters {
            let one = |value: &str| any_matches(filter, &[value.to_string()]);
            keep &= match filter.name.as_str() {
                "instance-id" => one(&association.instance_id),
                "state" => one(association.state.name()),
                other => return Err(invalid_filter(other)),
            };
        }
        if keep {
            values.push(association_value(association));
        }
    }
    Ok(Value::structure().with("iamInstanceProfileAssociationSet", Value::List(values)))
}

/// The association the request names, and the ARN of its instance.
fn named_association(world: &World, call: &Call<'_>) -> Result<(String, String), AwsError> {
    let id = required(call.params, "AssociationId")?;
    let association = model::profile_association(world, call.account(), call.region, id)?;
    Ok((association.id.clone(), instance_arn(call.region, call.account(), &association.instance_id)))
}

pub(super) fn replace_iam_instance_profile_association(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let spec = profile_spec(call)?;
    let (id, arn) = named_association(world, call)?;
    authorize(world, call, "ec2:ReplaceIamInstanceProfileAssociation", &arn, Vec::new())?;
    let profile = instance_profile(world, call, spec)?;
    dry_run(call)?;
    let association = model::replace_profile_association(world, call.account(), call.region, &id, profile, call.now)?;
    Ok(Value::structure().with("iamInstanceProfileAssociation", association_value(&association)))
}

pub(super) fn disassociate_iam_instance_profile(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let (id, arn) = named_association(world, call)?;
    authorize(world, call, "ec2:DisassociateIamInstanceProfile", &arn, Vec::new())?;
    dry_run(call)?;
    let association = model::disassociate_profile(world, call.account(), call.region, &id, call.now)?;
    Ok(Value::structure().with("iamInstanceProfileAssociation", association_value(&association)))
}
