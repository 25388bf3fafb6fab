//! An instance's metadata options: whether its instance metadata service (IMDS) answers at all
//! (`HttpEndpoint`), whether it requires IMDSv2 session tokens (`HttpTokens`), the token's hop
//! limit, the IPv6 endpoint and instance tags in the metadata. RunInstances sets them (or a launch
//! template does), ModifyInstanceMetadataOptions changes them; `crate::imds` reads the applied ones.
//!
//! Facts (botocore ec2 2016-11-15, `InstanceMetadataOptionsRequest`/`Response`,
//! `ModifyInstanceMetadataOptions`): defaults `HttpTokens` optional (when neither the image's
//! `ImdsSupport` nor an account default says otherwise), hop limit 1, `HttpEndpoint` enabled,
//! `HttpProtocolIpv6` and `InstanceMetadataTags` disabled; hop limits 1 to 64. A modification of a
//! running instance answers `pending` and later shows `applied` in DescribeInstances; on a stopped
//! instance it is "applied when the instance is started".
//!
//! Not confirmed, chosen: a modification takes [`METADATA_OPTIONS_SECONDS`] to apply (scaled by
//! the world's latency scale), and until then the metadata service keeps the old options (the
//! model's words: "the instance is not ready to process metadata traffic with the new
//! selection"); an instance that is launching applies them when it becomes `running`; a
//! terminated or shutting-down instance cannot be modified (`IncorrectInstanceState`). The hop
//! limit is kept and shown but not enforced: the emulator's metadata listener is on loopback.

use chrono::{DateTime, Duration, Utc};

use super::{instance_not_found, schedule, Event, InstanceStateName, World};
use crate::error::AwsError;

/// How long a modification stays `pending` on a running instance.
pub const METADATA_OPTIONS_SECONDS: i64 = 2;

/// `HttpTokensState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpTokens {
    /// IMDSv1 and IMDSv2 both work.
    #[default]
    Optional,
    /// Only IMDSv2: a request without a live session token is refused.
    Required,
}

impl HttpTokens {
    pub fn name(self) -> &'static str {
        match self {
            HttpTokens::Optional => "optional",
            HttpTokens::Required => "required",
        }
    }

    pub fn from_name(name: &str) -> Option<HttpTokens> {
        [HttpTokens::Optional, HttpTokens::Required].into_iter().find(|t| t.name() == name)
    }
}

/// `InstanceMetadataEndpointState`, `InstanceMetadataProtocolState` and
/// `InstanceMetadataTagsState`: the same two values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    Enabled,
    Disabled,
}

impl Switch {
    pub fn name(self) -> &'static str {
        match self {
            Switch::Enabled => "enabled",
            Switch::Disabled => "disabled",
        }
    }

    pub fn from_name(name: &str) -> Option<Switch> {
        [Switch::Enabled, Switch::Disabled].into_iter().find(|s| s.name() == name)
    }

    pub fn is_enabled(self) -> bool {
        self == Switch::Enabled
    }
}

/// The hop limits AWS accepts.
pub const HOP_LIMITS: std::ops::RangeInclusive<i64> = 1..=64;

/// A complete set of metadata options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataOptions {
    pub http_tokens: HttpTokens,
    pub http_put_response_hop_limit: i64,
    pub http_endpoint: Switch,
    pub http_protocol_ipv6: Switch,
    pub instance_metadata_tags: Switch,
}

impl Default for MetadataOptions {
    /// AWS's defaults for an instance whose image and account set none.
    fn default() -> Self {
        MetadataOptions {
            http_tokens: HttpTokens::Optional,
            http_put_response_hop_limit: 1,
            http_endpoint: Switch::Enabled,
            http_protocol_ipv6: Switch::Disabled,
            instance_metadata_tags: Switch::Disabled,
        }
    }
}

/// The options a request names (RunInstances' `MetadataOptions`, a launch template's, or
/// ModifyInstanceMetadataOptions' members); `None` keeps what is there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetadataOptionsChange {
    pub http_tokens: Option<HttpTokens>,
    pub http_put_response_hop_limit: Option<i64>,
    pub http_endpoint: Option<Switch>,
    pub http_protocol_ipv6: Option<Switch>,
    pub instance_metadata_tags: Option<Switch>,
}

impl MetadataOptionsChange {
    /// `base` with the options this change names.
    pub fn over(&self, base: MetadataOptions) -> MetadataOptions {
        MetadataOptions {
            http_tokens: self.http_tokens.unwrap_or(base.http_tokens),
            http_put_response_hop_limit: self.http_put_response_hop_limit.unwrap_or(base.http_put_response_hop_limit),
            http_endpoint: self.http_endpoint.unwrap_or(base.http_endpoint),
            http_protocol_ipv6: self.http_protocol_ipv6.unwrap_or(base.http_protocol_ipv6),
            instance_metadata_tags: self.instance_metadata_tags.unwrap_or(base.instance_metadata_tags),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == MetadataOptionsChange::default()
    }
}

/// `InstanceMetadataOptionsState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionsState {
    Pending,
    Applied,
}

impl OptionsState {
    pub fn name(self) -> &'static str {
        match self {
            OptionsState::Pending => "pending",
            OptionsState::Applied => "applied",
        }
    }
}

/// An instance's options: those its metadata service uses, and those a modification asked for
/// and that are not applied yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InstanceMetadataOptions {
    applied: MetadataOptions,
    pending: Option<MetadataOptions>,
}

impl InstanceMetadataOptions {
    /// Options in force from the launch on.
    pub fn launched_with(options: MetadataOptions) -> Self {
        InstanceMetadataOptions { applied: options, pending: None }
    }

    /// What the metadata service of the instance honours now.
    pub fn applied(&self) -> &MetadataOptions {
        &self.applied
    }

    /// What DescribeInstances shows: the latest options asked for, and whether they apply yet.
    pub fn shown(&self) -> (&MetadataOptions, OptionsState) {
        match &self.pending {
            Some(pending) => (pending, OptionsState::Pending),
            None => (&self.applied, OptionsState::Applied),
        }
    }

    /// Applies the pending options, if any (the instance is running, or just became so).
    pub(super) fn apply_pending(&mut self) {
        if let Some(pending) = self.pending.take() {
            self.applied = pending;
        }
    }
}

fn invalid_state(instance_id: &str) -> AwsError {
    AwsError::new(
        "IncorrectInstanceState",
        400,
        format!("The instance '{instance_id}' is not in a valid state for this operation."),
    )
}

/// ModifyInstanceMetadataOptions: the options after `change`, `pending` until EC2 applies them.
pub fn modify_metadata_options(
    world: &mut World,
    account: &str,
    region: &str,
    instance_id: &str,
    change: &MetadataOptionsChange,
    now: DateTime<Utc>,
) -> Result<MetadataOptions, AwsError> {
    let instance = world
        .regional_mut(account, region)
        .and_then(|r| r.ec2.instances.get_mut(instance_id))
        .ok_or_else(|| instance_not_found(&[instance_id]))?;
    if matches!(instance.state, InstanceStateName::ShuttingDown | InstanceStateName::Terminated) {
        return Err(invalid_state(instance_id));
    }
    let (current, _) = instance.metadata_options.shown();
    let requested = change.over(*current);
    instance.metadata_options.pending = Some(requested);
    let at = now + world.latency(Duration::seconds(METADATA_OPTIONS_SECONDS));
    schedule(world, at, account, region, Event::MetadataOptionsApplied { instance_id: instance_id.to_string() });
    Ok(requested)
}

/// A due [`Event::MetadataOptionsApplied`]: a running instance applies what is pending; any
/// other keeps it pending until it next becomes `running`.
pub(super) fn settle_metadata_options(world: &mut World, account: &str, region: &str, instance_id: &str) {
    if let Some(instance) = world
        .regional_mut(account, region)
        .and_then(|r| r.ec2.instances.get_mut(instance_id))
        .filter(|i| i.state == InstanceStateName::Running)
    {
        instance.metadata_options.apply_pending();
    }
}
