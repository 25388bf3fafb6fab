//! Alarm actions: the action ARNs CloudWatch accepts, which credentials an EC2 action runs with
//! (the one place that rule lives), and running an action against EC2.

use chrono::{DateTime, Utc};

use crate::{
    error::AwsError,
    port::{Acting, InnerCall},
    profile::BehaviourProfile,
    protocol::ServiceId,
    value::Value,
};

use super::super::ec2::{perform_instance_action, InstanceAction};
use super::{Creator, MetricAlarm, World};

/// The EC2 actions an alarm can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ec2Action {
    Stop,
    Terminate,
    Reboot,
    Recover,
}

impl Ec2Action {
    /// The word in `arn:aws:automate:<region>:ec2:<word>` and in CloudWatch's error text.
    pub fn word(self) -> &'static str {
        match self {
            Ec2Action::Stop => "stop",
            Ec2Action::Terminate => "terminate",
            Ec2Action::Reboot => "reboot",
            Ec2Action::Recover => "recover",
        }
    }

    /// The EC2 operation an action calls (`RecoverInstances` is internal: EC2 has no public API
    /// for it, and only a service's inner call reaches it).
    pub fn api_operation(self) -> &'static str {
        match self {
            Ec2Action::Stop => "StopInstances",
            Ec2Action::Terminate => "TerminateInstances",
            Ec2Action::Reboot => "RebootInstances",
            Ec2Action::Recover => "RecoverInstances",
        }
    }

    /// The IAM action the EC2 call is authorized as.
    pub fn iam_action(self) -> &'static str {
        match self {
            Ec2Action::Stop => "ec2:StopInstances",
            Ec2Action::Terminate => "ec2:TerminateInstances",
            Ec2Action::Reboot => "ec2:RebootInstances",
            Ec2Action::Recover => "ec2:RecoverInstances",
        }
    }

    fn instance_action(self) -> InstanceAction {
        match self {
            Ec2Action::Stop => InstanceAction::Stop,
            Ec2Action::Terminate => InstanceAction::Terminate,
            Ec2Action::Reboot => InstanceAction::Reboot,
            Ec2Action::Recover => InstanceAction::Recover,
        }
    }
}

/// The two ARN spellings of an EC2 action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ec2ArnForm {
    /// `arn:aws:automate:<region>:ec2:stop|terminate|reboot|recover`.
    Automate,
    /// `arn:aws:swf:<region>:<account>:action/actions/AWS_EC2.InstanceId.Stop/1.0`: in 2016 the
    /// ARNs "for use with IAM roles", run as the `EC2ActionsAccess` role.
    Swf,
}

/// An alarm action ARN, as CloudWatch understands it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionTarget {
    Ec2 {
        action: Ec2Action,
        form: Ec2ArnForm,
        region: String,
    },
    /// SNS topics, Auto Scaling policies, Lambda functions, SSM OpsItems…: accepted as ARNs;
    /// wana emulates none of those services, so their delivery is recorded as succeeded.
    Other,
}

/// `None` for text that is not an action CloudWatch accepts.
pub fn parse_action(arn: &str) -> Option<ActionTarget> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
        return None;
    };
    if *prefix != "arn" || partition.is_empty() || service.is_empty() {
        return None;
    }
    match *service {
        "automate" => {
            let action = match (*account, *resource) {
                ("ec2", "stop") => Ec2Action::Stop,
                ("ec2", "terminate") => Ec2Action::Terminate,
                ("ec2", "reboot") => Ec2Action::Reboot,
                ("ec2", "recover") => Ec2Action::Recover,
                _ => return None,
            };
            Some(ActionTarget::Ec2 {
                action,
                form: Ec2ArnForm::Automate,
                region: region.to_string(),
            })
        }
        "swf" => {
            let action = match *resource {
                "action/actions/AWS_EC2.InstanceId.Stop/1.0" => Ec2Action::Stop,
                "action/actions/AWS_EC2.InstanceId.Terminate/1.0" => Ec2Action::Terminate,
                "action/actions/AWS_EC2.InstanceId.Reboot/1.0" => Ec2Action::Reboot,
                "action/actions/AWS_EC2.InstanceId.Recover/1.0" => Ec2Action::Recover,
                _ => return None,
            };
            Some(ActionTarget::Ec2 {
                action,
                form: Ec2ArnForm::Swf,
                region: region.to_string(),
            })
        }
        _ if resource.is_empty() => None,
        _ => Some(ActionTarget::Other),
    }
}

/// Whose permissions an EC2 alarm action runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionCredentials {
    /// None are needed (CloudWatch user guide, recover actions): the action just runs.
    NotNeeded,
    /// A session of the account's role of that name, which `service` assumes: the role's trust
    /// policy must allow the service, and the role's policies authorize the EC2 call.
    RoleSession { role_name: &'static str, service: &'static str },
    /// The access key of whoever created or last updated the alarm, as CloudWatch stored it (the
    /// key id, no session token). EC2 authenticates it as it would a signed request, so a
    /// temporary key is refused with `AuthFailure` (401) and a long-term one is authorized by
    /// its identity's policies at the time the action runs.
    Creator,
}

/// The role CloudWatch's EC2 actions use since 2017-12.
pub const EVENTS_SERVICE_LINKED_ROLE: &str = "AWSServiceRoleForCloudWatchEvents";
/// The service `AWSServiceRoleForCloudWatchEvents` belongs to.
pub const EVENTS_SERVICE: &str = "events.amazonaws.com";
/// The role of the 2016 "for use with IAM roles" action ARNs.
pub const LEGACY_ACTIONS_ROLE: &str = "EC2ActionsAccess";
/// Who assumed `EC2ActionsAccess`: the era's helper scripts create it trusting
/// `swf.amazonaws.com` (shared/aws-traps.md, Trap 1; secondary evidence), matching the
/// `arn:aws:swf:…` action ARNs that use it.
pub const LEGACY_ACTIONS_SERVICE: &str = "swf.amazonaws.com";
/// The session name an action role session carries in traces.
const ACTION_SESSION_NAME: &str = "CloudWatchAlarms";

/// The one place that says which credentials an EC2 alarm action runs with
/// (shared/aws-traps.md, Trap 1, "How the documentation evolved"):
///
/// * `legacy-2016` (before 2017-12-18):
///   - recover, and stop/terminate/reboot with the plain `arn:aws:automate:…` ARNs, act with the
///     alarm creator's credentials. The API reference of the time: with an IAM role or STS
///     temporary credentials you cannot stop or terminate an instance with alarm actions; the
///     Japanese EC2 guide quoted by the source report: with STS temporary credentials an instance
///     cannot be recovered. The report observed exactly that: an alarm created through
///     CloudFormation with role credentials fails `(401: AWS was not able to validate the
///     provided access credentials)`, the same alarm re-created by an IAM user succeeds. The
///     401 is not decided here: it is EC2 failing to authenticate a temporary key that comes
///     without its session token.
///   - stop/terminate/reboot with the `arn:aws:swf:…AWS_EC2.InstanceId.*/1.0` ARNs act as the
///     `EC2ActionsAccess` role, which must exist in the account and trust `swf.amazonaws.com`.
/// * `current`: recover needs no permissions ("No specific permissions are needed for alarms with
///   recover actions", CloudWatch user guide); stop/terminate/reboot act as the service-linked
///   role `AWSServiceRoleForCloudWatchEvents`, assumed by `events.amazonaws.com`, whose policy
///   `CloudWatchEventsServiceRolePolicy` allows them. The creator's credentials play no part.
pub fn ec2_action_credentials(profile: BehaviourProfile, action: Ec2Action, form: Ec2ArnForm) -> ActionCredentials {
    match profile {
        BehaviourProfile::Current => match action {
            Ec2Action::Recover => ActionCredentials::NotNeeded,
            Ec2Action::Stop | Ec2Action::Terminate | Ec2Action::Reboot => {
                ActionCredentials::RoleSession { role_name: EVENTS_SERVICE_LINKED_ROLE, service: EVENTS_SERVICE }
            }
        },
        BehaviourProfile::Legacy2016 => {
            if form == Ec2ArnForm::Swf && action != Ec2Action::Recover {
                ActionCredentials::RoleSession { role_name: LEGACY_ACTIONS_ROLE, service: LEGACY_ACTIONS_SERVICE }
            } else {
                ActionCredentials::Creator
            }
        }
    }
}

/// Whether PutMetricAlarm must make sure `AWSServiceRoleForCloudWatchEvents` exists before it
/// accepts an alarm with EC2 actions: since 2017-12-18 it creates the role on first use, as the
/// caller, who needs `iam:CreateServiceLinkedRole` (What's New 2017-12, PutMetricAlarm reference).
/// The role did not exist before, so `legacy-2016` asks for nothing.
pub fn ec2_actions_need_service_linked_role(profile: BehaviourProfile) -> bool {
    match profile {
        BehaviourProfile::Current => true,
        BehaviourProfile::Legacy2016 => false,
    }
}

/// CloudWatch's wording of an EC2 call that failed, after the only one observed (source report):
/// `Encountered error calling EC2 recover. (401: AWS was not able to validate the provided access
/// credentials)`. The other actions and errors follow the same pattern, with the first sentence
/// of EC2's message (an `UnauthorizedOperation` goes on with the IAM sentence and an encoded
/// authorization message, which the alarm history does not repeat).
fn ec2_error(action: Ec2Action, error: &AwsError) -> String {
    let message = match error.message.find(". ") {
        Some(end) => &error.message[..=end],
        None => error.message.as_str(),
    };
    format!("Encountered error calling EC2 {}. ({}: {message})", action.word(), error.status)
}

/// Runs one action of an alarm that entered a state. `Err` holds the error text CloudWatch
/// records in the `Action` history item.
///
/// The EC2 call goes through the port ([`World::inner_call`]) as whoever
/// [`ec2_action_credentials`] names, so authentication, the trust policy of a role and the
/// acting identity's policies decide, and every decision is in the authorization log.
pub(super) fn execute_action(
    world: &mut World,
    account: &str,
    region: &str,
    alarm: &MetricAlarm,
    arn: &str,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let (action, form) = match parse_action(arn) {
        Some(ActionTarget::Ec2 { action, form, .. }) => (action, form),
        // Validated at PutMetricAlarm; an opaque target is delivered without an emulated service.
        Some(ActionTarget::Other) | None => return Ok(()),
    };
    let Some(instance_id) = alarm.config.instance_id().map(str::to_string) else {
        return Err(
            "Invalid use of EC2 action. An EC2 action can only be used if the alarm is monitoring an EC2 instance."
                .to_string(),
        );
    };
    let acting = match ec2_action_credentials(world.profile, action, form) {
        ActionCredentials::NotNeeded => {
            let resource = format!("arn:aws:ec2:{region}:{account}:instance/{instance_id}");
            world.record_rule(
                EVENTS_SERVICE,
                action.iam_action(),
                &resource,
                "allowed without permissions: CloudWatch needs none for recover actions (CloudWatch user guide)",
            );
            return perform_instance_action(world, account, region, &instance_id, action.instance_action(), now)
                .map_err(|e| ec2_error(action, &e));
        }
        ActionCredentials::RoleSession { role_name, service } => Acting::ServiceRole {
            account: account.to_string(),
            role_name: role_name.to_string(),
            service: service.to_string(),
            session_name: ACTION_SESSION_NAME.to_string(),
        },
        ActionCredentials::Creator => stored_credential(&alarm.creator),
    };
    let call = InnerCall {
        acting,
        service: ServiceId::Ec2,
        region,
        now,
        action: action.api_operation(),
        params: Value::structure().with("InstanceId", Value::List(vec![Value::from(instance_id)])),
    };
    world.inner_call(call).map(drop).map_err(|e| ec2_error(action, &e))
}

/// What CloudWatch kept of the alarm's creator: the access key id, without a session token.
fn stored_credential(creator: &Creator) -> Acting {
    Acting::StoredCredential { access_key_id: creator.access_key_id.clone(), session_token: None }
}
