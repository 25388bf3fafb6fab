//! The words of scaling activities: causes, descriptions, status messages and details, and the one
//! rule that changed over time (how a launch that could not use its KMS key is reported).

use chrono::{DateTime, Utc};

use super::cause_time;
use crate::{profile::BehaviourProfile, state::ec2::StateReason};

/// The classic reason of an instance that never reached `running` (shared/aws-traps.md, Trap 2:
/// terratest #693, terraform-aws-autoscaling #109).
pub const UNHEALTHY_WHILE_WAITING: &str =
    "Instance became unhealthy while waiting for instance to be in InService state.";

/// The reason reported since 2025 for a launch whose volumes' key could not be used
/// (aws-cdk issue 34491, eks-workshop-v2 issue 1542; aws-traps.md addendum).
pub const KMS_LAUNCH_FAILURE_2025: &str = "Instance failed to launch. Cause: One or more of the attached Amazon EBS \
     volumes are encrypted with an inaccessible AWS KMS key.";

/// The rest of the 2025 text (the same sources), too long for `StatusMessage` (255 characters).
const KMS_RESOLUTION_2025: &str = "Resolution: Ensure that the KMS keys are in the enabled state. Ensure that you \
     have the following permissions to decrypt and encrypt volumes: \"kms:CreateGrant\" \"kms:Decrypt\" \
     \"kms:DescribeKey\" \"kms:GenerateDataKeyWithoutPlainText\" \"kms:ReEncrypt\". If the instance was launched \
     on your behalf by another AWS service, such as Amazon EC2 Auto Scaling, ensure that the KMS key policies \
     grant that service access to the KMS key.";

/// `StatusMessage` is at most 255 characters (model `XmlStringMaxLen255`).
const STATUS_MESSAGE_MAX: usize = 255;

/// How a failed launch reads: the activity's `StatusMessage`, and the longer reason its
/// `Description` carries after `Status Reason:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureText {
    pub status_message: String,
    pub status_reason: String,
}

/// The one place that words a launch whose instance ended instead of reaching `running`.
///
/// * `legacy-2016`, and any failure that is not a refused key use: the classic text, "Instance
///   became unhealthy while waiting for instance to be in InService state. Termination Reason:
///   <the instance's state reason>" (`Client.InternalError: Client error on launch` for a key
///   EC2 could not use). It is still what most public reports show.
/// * `current`, for a refused key use: the text AWS reports since 2025, "Instance failed to
///   launch. Cause: One or more of the attached Amazon EBS volumes are encrypted with an
///   inaccessible AWS KMS key." with its "Resolution: …" in the description. Which API field
///   carries it on AWS is not confirmed (aws-traps.md addendum); here `StatusMessage` has the
///   cause and `Description` the cause and the resolution.
pub fn failed_launch_reason(
    profile: BehaviourProfile,
    termination: Option<&StateReason>,
    key_use_refused: bool,
) -> FailureText {
    if key_use_refused && profile == BehaviourProfile::Current {
        return FailureText {
            status_message: KMS_LAUNCH_FAILURE_2025.to_string(),
            status_reason: format!("{KMS_LAUNCH_FAILURE_2025} {KMS_RESOLUTION_2025}"),
        };
    }
    let text = match termination {
        Some(reason) => format!("{UNHEALTHY_WHILE_WAITING} Termination Reason: {}", reason.message),
        None => UNHEALTHY_WHILE_WAITING.to_string(),
    };
    FailureText { status_message: truncate(&text), status_reason: text }
}

/// A launch EC2 refused: `Launching a new EC2 instance.  Status Reason: The image id
/// 'ami-4edb0327' does not exist. Launching EC2 instance failed.` and the same without the head
/// as `StatusMessage` (public activity dumps; the Auto Scaling troubleshooting guide lists
/// "… Launching EC2 instance failed." messages).
pub fn refused_launch(message: &str) -> (String, String) {
    let message = message.trim_end().trim_end_matches('.');
    let status = format!("{message}. Launching EC2 instance failed.");
    (format!("Launching a new EC2 instance.  Status Reason: {status}"), truncate(&status))
}

/// `Launching a new EC2 instance: i-…`.
pub fn launching(instance_id: &str) -> String {
    format!("Launching a new EC2 instance: {instance_id}")
}

/// A launch's description once its instance failed: `Launching a new EC2 instance: i-….  Status
/// Reason: …` (the form of AWS's activity dumps).
pub fn launching_failed(instance_id: &str, reason: &str) -> String {
    format!("Launching a new EC2 instance: {instance_id}.  Status Reason: {reason}")
}

/// `Terminating EC2 instance: i-…`.
pub fn terminating(instance_id: &str) -> String {
    format!("Terminating EC2 instance: {instance_id}")
}

// ---------------------------------------------------------------------------------------------
// Causes. AWS writes a user request's sentence and the group's reaction as one cause, joined
// with two spaces.

pub fn join(first: Option<String>, then: String) -> String {
    match first {
        Some(first) => format!("{first}  {then}"),
        None => then,
    }
}

/// CreateAutoScalingGroup (AWS CLI examples of describe-scaling-activities).
pub fn created(now: DateTime<Utc>, desired: i64) -> String {
    format!(
        "At {} a user request created an AutoScalingGroup changing the desired capacity from 0 to {desired}.",
        cause_time(now)
    )
}

/// SetDesiredCapacity (AWS's wording as public activity dumps show it).
pub fn desired_set(now: DateTime<Utc>, from: i64, to: i64) -> String {
    format!(
        "At {} a user request explicitly set group desired capacity changing the desired capacity from {from} to {to}.",
        cause_time(now)
    )
}

/// UpdateAutoScalingGroup that changed the desired capacity.
pub fn constraints_updated(now: DateTime<Utc>, min: i64, max: i64, from: i64, to: i64) -> String {
    format!(
        "At {} a user request update of AutoScalingGroup constraints to min: {min}, max: {max}, desired: {to} \
         changing the desired capacity from {from} to {to}.",
        cause_time(now)
    )
}

/// DeleteAutoScalingGroup with `ForceDelete`: the emulator's wording (not confirmed).
pub fn force_deleted(now: DateTime<Utc>, from: i64) -> String {
    format!(
        "At {} a user request deleted the AutoScalingGroup with ForceDelete changing the desired capacity from {from} to 0.",
        cause_time(now)
    )
}

/// The group's own launch (AWS CLI examples; Trap 2).
pub fn started(now: DateTime<Utc>, from: i64, to: i64) -> String {
    format!(
        "At {} an instance was started in response to a difference between desired and actual capacity, \
         increasing the capacity from {from} to {to}.",
        cause_time(now)
    )
}

/// The group's own scale-in (AWS's wording as public activity dumps show it).
pub fn taken_out(now: DateTime<Utc>, from: i64, to: i64, instance_id: &str) -> String {
    let at = cause_time(now);
    format!(
        "At {at} an instance was taken out of service in response to a difference between desired and actual \
         capacity, shrinking the capacity from {from} to {to}.  At {at} instance {instance_id} was selected for termination."
    )
}

/// An instance a forced deletion terminates.
pub fn selected(now: DateTime<Utc>, instance_id: &str) -> String {
    format!("At {} instance {instance_id} was selected for termination.", cause_time(now))
}

/// `Details`: `{"Subnet ID":"subnet-…","Availability Zone":"us-east-1b"}`, in AWS's key order;
/// a group without subnets has no subnet to name.
pub fn details(subnet: Option<&str>, zone: &str) -> String {
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    match subnet {
        Some(subnet) => format!("{{\"Subnet ID\":{},\"Availability Zone\":{}}}", quote(subnet), quote(zone)),
        None => format!("{{\"Availability Zone\":{}}}", quote(zone)),
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(STATUS_MESSAGE_MAX).collect()
}
