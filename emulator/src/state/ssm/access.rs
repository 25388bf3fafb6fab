//! Who may do what in SSM. Every operation asks IAM (`ssm:<Operation>` on the operation's
//! resource, identity policies only: SSM has no resource policies for these resources), decided
//! by `wana-policy` in `World::authorize` and logged there. On top of IAM, SSM has one rule of
//! its own, [`check_reported_by_the_instance`].

use crate::{
    authz::{denied_message, AuthzRequest, RequestFacts},
    error::AwsError,
    state::World,
};

use super::errors;

/// Asks IAM whether the caller may perform `action` on `resource`; a refusal is SSM's
/// `AccessDeniedException` (HTTP 400) with IAM's sentence.
pub fn authorize(world: &mut World, facts: RequestFacts<'_>, action: &str, resource: &str) -> Result<(), AwsError> {
    let decision = world.authorize(facts, &AuthzRequest::new(action, resource));
    if decision.is_allowed() {
        Ok(())
    } else {
        Err(errors::access_denied(denied_message(&facts.caller.principal.arn(), action, resource, &decision)))
    }
}

/// `arn:aws:ec2:<region>:<account>:instance/<id>`: the resource of the operations on a node.
pub fn instance_arn(region: &str, account: &str, instance_id: &str) -> String {
    format!("arn:aws:ec2:{region}:{account}:instance/{instance_id}")
}

/// SSM's rule for `UpdateInstanceInformation`: a node reports for itself only. The request must
/// be signed with the credentials EC2 delivered to that very instance through its metadata
/// service (`assumed-role/<role>/<instance-id>`, carrying `ec2:SourceInstanceARN` = the
/// instance); anyone else (an administrator typing the call to make an instance look managed,
/// or a role session merely named after the instance) is refused, whatever IAM allows.
///
/// Why: SSM identifies a node by the credentials of the request, not by what the request says.
/// AWS attaches `ec2:SourceInstanceARN` only to requests signed with an instance's role
/// credentials (and `ssm:SourceInstanceARN` to those of hybrid nodes), and the SSM user guide
/// uses these keys to tie a node's own calls to the node. The error is chosen, unconfirmed:
/// `AccessDeniedException` with IAM's sentence and no reason clause, as SSM refuses the agent's
/// call for lack of permission (`UpdateInstanceInformation` is not in the public model, and no
/// public report shows the answer to a forged registration). The refusal is recorded in the
/// authorization log with the caller.
pub fn check_reported_by_the_instance(
    world: &mut World,
    facts: RequestFacts<'_>,
    action: &str,
    instance_arn: &str,
) -> Result<(), AwsError> {
    if world.source_instance_arn(facts.caller) == Some(instance_arn) {
        return Ok(());
    }
    let caller = facts.caller.principal.arn();
    world.record_rule_refusal(
        &caller,
        action,
        instance_arn,
        "SSM: a node speaks only for itself (registration, its messages); the request was not signed with the instance's own credentials (no matching ec2:SourceInstanceARN)",
    );
    Err(errors::access_denied(format!(
        "User: {caller} is not authorized to perform: {action} on resource: {instance_arn}"
    )))
}
