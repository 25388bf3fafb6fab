//! "Why was that denied?": the calls a service made for a caller that AWS refused.
//!
//! Some traps fail one step removed from the API call: `StartInstances` answers `pending`, and
//! only later does the instance stop, because KMS refused the `kms:CreateGrant` that EC2 made
//! with the caller's forward access session. The API response never says so. This module names
//! such inner calls, backend-neutrally: a scenario asks, and gets an empty answer where the
//! backend cannot tell.
//!
//! - On the emulator, every authorization decision is in the world's authorization log; the
//!   inner calls are those made via a service (`kms:ViaService` / `aws:CalledVia` in the request
//!   context).
//! - On real AWS the answer is in CloudTrail (a `CreateGrant` event with `errorCode`
//!   `AccessDenied`, minutes later). Reading CloudTrail is out of scope for now, so real AWS and
//!   LocalStack answer with nothing.

use serde::{Deserialize, Serialize};

use crate::{
    backend::Backend,
    narration::{Note, NoteArg},
};

/// One refused call that a service made on a caller's behalf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeniedCall {
    /// The caller the call was made for, as KMS saw it
    /// (`arn:aws:sts::333333333333:assumed-role/ThirdPartyRole/automation`).
    pub principal: String,
    /// `kms:CreateGrant`.
    pub action: String,
    /// The resource ARN (the key).
    pub resource: String,
    /// The service endpoint that called (`ec2.us-east-1.amazonaws.com`).
    pub via_service: Option<String>,
    /// The service principal that acted, when a service made the call with its own or a
    /// role's credentials (`ec2.amazonaws.com` assuming an instance's role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acting_service: Option<String>,
    /// Which statements took part and why none allowed it.
    pub explanation: String,
    /// The policies the decision consulted, in evaluation order (identity policies, the key,
    /// trust or bucket policy, a key's grants). Empty for a refusal by a service's rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consulted: Vec<ConsultedPolicy>,
    /// The statement that decided (an explicit Deny), as `<policy> statement '<sid>' (#n)`;
    /// `None` when no statement allowed the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deciding_statement: Option<String>,
}

/// One policy, or a key's grants, that a decision consulted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultedPolicy {
    /// `identity policy`, `key policy`, `trust policy`, `bucket policy`, `grants`,
    /// `permissions boundary`, `service control policy`, ...
    pub kind: String,
    /// The policy's name (`inline:<entity>/<policy>`, a managed policy's ARN, `key policy of
    /// <key ARN>`, `trust:<role>`), or for grants what was found.
    pub name: String,
}

impl DeniedCall {
    /// The call in words, to follow "EC2 called " in a report: `kms:CreateGrant on <key> via
    /// ec2.us-east-1.amazonaws.com as <principal>: denied — <explanation>`.
    pub fn sentence(&self) -> String {
        let via = self.via_service.as_deref().unwrap_or("a service");
        format!(
            "{} on {} via {via} as {}: denied — {}",
            self.action, self.resource, self.principal, self.explanation
        )
    }

    /// [`DeniedCall::sentence`] as a message of the catalog, to follow the note
    /// `notes.ec2_called` (the explanation, the policy engine's, stays English).
    pub fn sentence_note(&self) -> Note {
        let via = match &self.via_service {
            Some(service) => NoteArg::Text(service.clone()),
            None => NoteArg::Note(crate::msg_tr!(_, "notes.denied_call.a_service")),
        };
        crate::msg_tr!(
            _,
            "notes.denied_call",
            action = &self.action,
            resource = &self.resource,
            via = via,
            principal = &self.principal,
            explanation = &self.explanation
        )
    }
}

/// A position in the backend's record of decisions: pass it to [`denied_inner_calls`] to see
/// only what happened afterwards. Always 0 where the backend keeps no such record.
pub fn mark(backend: &Backend) -> usize {
    backend.emulator().map_or(0, |emulator| {
        emulator.inspect(|world| world.authz_log.recorded())
    })
}

/// The calls made via a service for a caller, after `since` (a [`mark`]), that were denied,
/// oldest first. Empty on backends other than the emulator (see the module documentation).
pub fn denied_inner_calls(backend: &Backend, since: usize) -> Vec<DeniedCall> {
    denied_calls(backend, since).into_iter().filter(|call| call.via_service.is_some()).collect()
}

/// Every call denied after `since` (a [`mark`]), oldest first: requests from outside, calls
/// services made for a caller, and calls made with credentials a service or an instance holds
/// (an SSM Agent with its instance role's session, EC2 assuming an instance's role). Empty on
/// backends other than the emulator.
pub fn denied_calls(backend: &Backend, since: usize) -> Vec<DeniedCall> {
    let Some(emulator) = backend.emulator() else {
        return Vec::new();
    };
    emulator.inspect(|world| denied_in(world, since))
}

/// Every denial of an emulator's world after `since`, oldest first.
pub(crate) fn denied_in(world: &wana_emulator::state::World, since: usize) -> Vec<DeniedCall> {
    world
        .authz_log
        .since(since)
        .filter(|record| !record.allowed)
        .map(|record| DeniedCall {
            principal: record.caller_arn.clone(),
            action: record.action.clone(),
            resource: record.resource.clone(),
            via_service: record.via_service.clone(),
            acting_service: record.acting_service.clone(),
            explanation: record.explanation.clone(),
            consulted: record
                .consulted
                .iter()
                .map(|c| ConsultedPolicy { kind: c.kind.as_str().to_string(), name: c.name.clone() })
                .collect(),
            deciding_statement: record.deciding.as_ref().map(|d| d.label()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use aws_sdk_kms::types::GrantOperation;
    use wana_emulator::BehaviourProfile;

    use super::*;
    use crate::principal::Principal;

    #[test]
    fn the_sentence_names_service_action_key_and_caller() {
        let call = DeniedCall {
            principal: "arn:aws:sts::333333333333:assumed-role/R/s".into(),
            action: "kms:CreateGrant".into(),
            resource: "arn:aws:kms:us-east-1:333333333333:key/k".into(),
            via_service: Some("ec2.us-east-1.amazonaws.com".into()),
            acting_service: None,
            explanation: "no statement allowed kms:CreateGrant".into(),
            consulted: Vec::new(),
            deciding_statement: None,
        };
        assert_eq!(
            call.sentence(),
            "kms:CreateGrant on arn:aws:kms:us-east-1:333333333333:key/k via \
             ec2.us-east-1.amazonaws.com as arn:aws:sts::333333333333:assumed-role/R/s: \
             denied — no statement allowed kms:CreateGrant"
        );
    }

    /// A caller's own denied request is not an inner call; nothing before the mark is listed.
    #[tokio::test]
    async fn only_calls_via_a_service_after_the_mark_are_listed() {
        let backend = Backend::start_emulator(BehaviourProfile::Current)
            .await
            .unwrap();
        let admin = Principal::account_admin(&backend, "a").unwrap();
        let kms = aws_sdk_kms::Client::new(&admin.config);
        let key = kms.create_key().send().await.unwrap();
        let key_arn = key.key_metadata().unwrap().arn().unwrap().to_string();
        let before = mark(&backend);
        assert!(before > 0);
        // The admin creating a grant directly: allowed, and not via a service anyway.
        kms.create_grant()
            .key_id(&key_arn)
            .grantee_principal("arn:aws:iam::111111111111:user/admin")
            .operations(GrantOperation::Decrypt)
            .send()
            .await
            .unwrap();
        assert!(denied_inner_calls(&backend, before).is_empty());
        assert!(denied_inner_calls(&backend, 0).is_empty());
    }

    /// A launch by a user who may use EC2 but not the volume's key: EC2's CreateGrant for the
    /// user is listed with the service it came through.
    #[tokio::test]
    async fn a_refused_grant_for_an_encrypted_launch_is_listed() {
        let backend = Backend::start_emulator(BehaviourProfile::Current)
            .await
            .unwrap();
        let admin = Principal::account_admin(&backend, "a").unwrap();
        let key = aws_sdk_kms::Client::new(&admin.config)
            .create_key()
            .send()
            .await
            .unwrap();
        let key_arn = key.key_metadata().unwrap().arn().unwrap().to_string();
        let operator = crate::provision::user_with_access_key(
            &backend,
            &admin,
            "operator",
            crate::provision::UserPolicies {
                inline: Some(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#,
                ),
                ..Default::default()
            },
        )
        .await
        .unwrap();

        let before = mark(&backend);
        aws_sdk_ec2::Client::new(&operator.config)
            .run_instances()
            .image_id("ami-374db956")
            .min_count(1)
            .max_count(1)
            .block_device_mappings(
                aws_sdk_ec2::types::BlockDeviceMapping::builder()
                    .device_name("/dev/xvda")
                    .ebs(
                        aws_sdk_ec2::types::EbsBlockDevice::builder()
                            .encrypted(true)
                            .kms_key_id(&key_arn)
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let denied = denied_inner_calls(&backend, before);
        let [call] = denied.as_slice() else {
            panic!("one denied inner call: {denied:?}")
        };
        assert_eq!(call.principal, "arn:aws:iam::111111111111:user/operator");
        assert_eq!(call.action, "kms:CreateGrant");
        assert_eq!(call.resource, key_arn);
        assert_eq!(
            call.via_service.as_deref(),
            Some("ec2.us-east-1.amazonaws.com")
        );
        assert!(
            call.explanation.contains("denied implicitly"),
            "{}",
            call.explanation
        );
    }
}
