//! What a scenario's resources carry: the run id in their names and tags, and a ledger line
//! written before each is created.
//!
//! On a sandbox account several runs (and people) share the account, so every name carries the
//! run id and every taggable resource the tags [`RUN_ID_TAG`], [`TRAP_TAG`] and
//! [`EXPIRES_AT_TAG`]; [`RunContext::will_create`] writes the ledger line that lets
//! `cargo xtask cleanup` find a resource even when the run is killed right after creating it. On
//! the emulator a world lives only for one run: names stay as the scenario wrote them (so that
//! snapshots stay stable) and no ledger is written.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::{
    backend::BackendKind,
    principal::Principal,
    sandbox::ledger::{timestamp, Entry, Ledger, ResourceKind},
    scenario::RunContext,
    HarnessError,
};

pub use crate::run_id::{
    new_run_id, run_id_in_name, run_started, RunMeta, DEFAULT_EXPIRY, EXPIRES_AT_TAG, RUN_ID_TAG, TRAP_TAG,
};

impl RunContext {
    /// The trap this run belongs to.
    pub fn trap(&self) -> &str {
        &self.meta.trap
    }

    /// When this run's resources count as leftovers at the latest.
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.meta.expires_at
    }

    /// The name for a resource the scenario calls `base`: on the emulator `base` itself, on
    /// shared backends `<run-id>-<base>` (without a leading `wana-` of `base`), so that the name
    /// says which run made it.
    pub fn name(&self, base: &str) -> String {
        if self.backend.kind() == BackendKind::Emulator {
            return base.to_string();
        }
        format!("{}-{}", self.run_id, base.strip_prefix("wana-").unwrap_or(base))
    }

    /// The run's tags as key and value: run id, trap, expiry.
    pub fn tags(&self) -> [(&'static str, String); 3] {
        [
            (RUN_ID_TAG, self.run_id.clone()),
            (TRAP_TAG, self.meta.trap.clone()),
            (EXPIRES_AT_TAG, timestamp(self.meta.expires_at)),
        ]
    }

    pub fn iam_tags(&self) -> Vec<aws_sdk_iam::types::Tag> {
        self.tags()
            .into_iter()
            .filter_map(|(key, value)| aws_sdk_iam::types::Tag::builder().key(key).value(value).build().ok())
            .collect()
    }

    pub fn ec2_tags(&self) -> Vec<aws_sdk_ec2::types::Tag> {
        self.tags().into_iter().map(|(key, value)| aws_sdk_ec2::types::Tag::builder().key(key).value(value).build()).collect()
    }

    /// The run's tags for one resource type of a `TagSpecifications` member.
    pub fn ec2_tag_specification(&self, resource: aws_sdk_ec2::types::ResourceType) -> aws_sdk_ec2::types::TagSpecification {
        aws_sdk_ec2::types::TagSpecification::builder().resource_type(resource).set_tags(Some(self.ec2_tags())).build()
    }

    pub fn kms_tags(&self) -> Vec<aws_sdk_kms::types::Tag> {
        self.tags()
            .into_iter()
            .filter_map(|(key, value)| aws_sdk_kms::types::Tag::builder().tag_key(key).tag_value(value).build().ok())
            .collect()
    }

    pub fn cloudformation_tags(&self) -> Vec<aws_sdk_cloudformation::types::Tag> {
        self.tags()
            .into_iter()
            .map(|(key, value)| aws_sdk_cloudformation::types::Tag::builder().key(key).value(value).build())
            .collect()
    }

    /// Auto Scaling group tags, passed on to the group's instances.
    pub fn autoscaling_tags(&self) -> Vec<aws_sdk_autoscaling::types::Tag> {
        self.tags()
            .into_iter()
            .map(|(key, value)| aws_sdk_autoscaling::types::Tag::builder().key(key).value(value).propagate_at_launch(true).build())
            .collect()
    }

    /// Writes the ledger line for a resource `who` is about to create: `name` when it has one
    /// before it exists, `None` for resources found by the run's tag until their id is known.
    /// Call it before the create call; a backend without a ledger (the emulator) records
    /// nothing.
    pub fn will_create(&mut self, who: &Principal, kind: ResourceKind, name: Option<&str>) -> Result<(), HarnessError> {
        self.ledger_line(who, kind, name, None)
    }

    /// Adds the id a create call answered with (an instance id, a key ARN, an image id).
    pub fn created(&mut self, who: &Principal, kind: ResourceKind, id: &str) -> Result<(), HarnessError> {
        self.ledger_line(who, kind, None, Some(id))
    }

    fn ledger_line(&mut self, who: &Principal, kind: ResourceKind, name: Option<&str>, id: Option<&str>) -> Result<(), HarnessError> {
        let Some(ledger) = &self.meta.ledger else { return Ok(()) };
        let account = self
            .backend
            .accounts()
            .iter()
            .find(|a| a.id == who.account)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| who.account.clone());
        let entry = Entry::Create {
            at: timestamp(Utc::now()),
            account,
            account_id: who.account.clone(),
            region: who.region().to_string(),
            kind,
            name: name.map(str::to_string),
            id: id.map(str::to_string),
        };
        ledger
            .append(&entry)
            .map_err(|err| HarnessError::io(format!("cannot write the run ledger {}", ledger.path().display()), err))
    }

    /// Opens the run's ledger where the backend keeps them (the sandbox's runs directory) and
    /// sets the run's trap and expiry. Nothing happens on backends without ledgers.
    pub fn begin_run(&mut self, trap: &str, expected: Duration) -> Result<(), HarnessError> {
        self.meta.trap = trap.to_string();
        let keep = expected.saturating_mul(2) + Duration::from_secs(3600);
        self.meta.expires_at = Utc::now() + chrono::Duration::from_std(keep).unwrap_or_default();
        let Some(sandbox) = self.backend.sandbox() else { return Ok(()) };
        let start = Entry::Start {
            run_id: self.run_id.clone(),
            trap: trap.to_string(),
            backend: self.backend.kind().to_string(),
            region: self.backend.region().to_string(),
            pid: std::process::id(),
            host: crate::sandbox::ledger::host_name(),
            started_at: timestamp(Utc::now()),
            expires_at: timestamp(self.meta.expires_at),
        };
        let dir = sandbox.config.runs_dir.clone();
        let ledger = Ledger::create(&dir, &start)
            .map_err(|err| HarnessError::io(format!("cannot create the run ledger in {}", dir.display()), err))?;
        self.meta.ledger = Some(ledger);
        Ok(())
    }

    /// Where this run's ledger is, if it has one.
    pub fn ledger_path(&self) -> Option<&std::path::Path> {
        self.meta.ledger.as_ref().map(Ledger::path)
    }

    /// Records how teardown ended in the ledger.
    pub fn end_run(&mut self, teardown_ok: bool) {
        if let Some(ledger) = &self.meta.ledger {
            if let Err(err) = ledger.append(&Entry::Teardown { at: timestamp(Utc::now()), ok: teardown_ok }) {
                tracing::warn!(%err, "cannot write the end of the run ledger");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_carry_their_start_and_fit_bucket_names() {
        let id = new_run_id("cmk-start-external-role");
        assert!(id.starts_with("wana-cmk-start-external-role-"), "{id}");
        assert_eq!(id.rsplit('-').next().unwrap().len(), 8);
        assert_eq!(id, id.to_ascii_lowercase());
        let started = run_started(&id).unwrap();
        assert!((Utc::now() - started).num_seconds().abs() <= 1, "{started}");
        assert_eq!(run_started("wana-alarm-recover"), None, "the emulator's fixed id has no time");
    }

    #[test]
    fn a_run_id_is_found_at_the_start_of_a_name_for_a_known_trap_only() {
        let traps = ["cmk-start-external-role", "alarm-recover", "instance-profile-ssm"];
        let id = "wana-cmk-start-external-role-sc6ky0ab";
        assert_eq!(run_id_in_name(&format!("{id}-ThirdPartyRole"), &traps).as_deref(), Some(id));
        assert_eq!(run_id_in_name(&format!("alias/{id}"), &traps).as_deref(), Some(id));
        assert_eq!(run_id_in_name("wana-instance-profile-ssm-abcdefgh-role-for-ec2", &traps).as_deref(), Some("wana-instance-profile-ssm-abcdefgh"));
        assert_eq!(run_id_in_name("wana-alarm-operator", &traps), None, "the emulator's names carry no run");
        assert_eq!(run_id_in_name("wana-unknown-trap-abcdefgh", &traps), None);
        assert_eq!(run_id_in_name("wana-alarm-recover-ABCDEFGH-x", &traps), None);
    }
}
