//! CreateAccountAlias, ListAccountAliases and DeleteAccountAlias. The actions have no resource
//! type: they are authorized on `*`.

use super::{authorize, paging::list_output, validate::Validation, Target};
use crate::{error::AwsError, services::Call, state::World, value::Value};

fn target() -> Target {
    Target::shown_as("*".to_string(), "*".to_string())
}

fn alias_param<'c>(call: &'c Call<'_>) -> Result<&'c str, AwsError> {
    let alias = call.required("AccountAlias")?;
    Validation::new().account_alias("accountAlias", alias).finish()?;
    Ok(alias)
}

pub(super) fn create_account_alias(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let alias = alias_param(call)?;
    authorize(world, call, "iam:CreateAccountAlias", target())?;
    world.create_account_alias(call.account(), alias)?;
    Ok(Value::structure())
}

pub(super) fn list_account_aliases(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    authorize(world, call, "iam:ListAccountAliases", target())?;
    let aliases = world.account_aliases(call.account())?;
    Ok(list_output("AccountAliases", aliases.into_iter().map(Value::from).collect(), None))
}

pub(super) fn delete_account_alias(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let alias = alias_param(call)?;
    authorize(world, call, "iam:DeleteAccountAlias", target())?;
    world.delete_account_alias(call.account(), alias)?;
    Ok(Value::structure())
}
