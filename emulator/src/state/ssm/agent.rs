//! The SSM Agent on each running instance, as a model: it does what the real agent does to
//! become and stay a managed node, through the same doors.
//!
//! * It starts when its instance reaches `running` (EC2's model calls [`instance_running`]) and
//!   wakes [`BOOT_DELAY_SECONDS`] later; every start after a stop starts a new agent.
//! * Each time it wakes, it stops for good if the instance no longer runs. Otherwise it reads its
//!   credentials from the instance's metadata service, as the agent's EC2 role provider does
//!   (IMDSv2: `iam/security-credentials/`, then the role's document), and calls
//!   `UpdateInstanceInformation` with them (`AccessKeyId` and `Token`) through
//!   [`World::inner_call`]: authenticated, authorized by IAM against the role's policies and
//!   logged like any request. The trust policy only matters to whether EC2 can obtain the
//!   credentials at all.
//! * Allowed, the node is `Online` and the agent pings again [`HEALTH_PING_SECONDS`] later.
//!   Refused, or without credentials (no instance profile, or a role EC2 may not assume, which
//!   the agent logs as `EC2RoleRequestError: no EC2 instance role found`), it tries again after
//!   a backoff that starts at [`FIRST_RETRY_SECONDS`] and doubles up to [`MAX_RETRY_SECONDS`],
//!   and starts over after a success. So a policy attached later registers the node at the
//!   agent's next try, not at once.
//!
//! Every delay is an AWS latency, scaled by [`World::latency`]. What the agent last got wrong is
//! kept in [`Agent::last_error`] (not an AWS field: SSM shows nothing for a node that never
//! registered; on AWS it is in the agent's log on the instance).

use chrono::{DateTime, Duration, Utc};

use crate::{
    port::{Acting, InnerCall},
    protocol::ServiceId,
    state::{
        ec2::{self, InstanceStateName},
        World,
    },
    value::Value,
};

use super::{state_mut, Event};

/// The agent's name in `UpdateInstanceInformation` (`AgentName`).
pub const AGENT_NAME: &str = "amazon-ssm-agent";
/// The agent version reported (a 3.3 release, as current Amazon Linux 2023 images ship); it is
/// also what the model calls the latest version (`IsLatestVersion`).
pub const AGENT_VERSION: &str = "3.3.1142.0";
/// What the agent reports about the instance's system: the emulated images are Amazon Linux 2023.
pub const PLATFORM_TYPE: &str = "Linux";
pub const PLATFORM_NAME: &str = "Amazon Linux";
pub const PLATFORM_VERSION: &str = "2023";

/// From `running` to the agent's first try. Chosen: the time an instance takes to boot its
/// system and start the agent service, about 20 s for Amazon Linux 2023; AWS publishes no
/// figure (its troubleshooting guide says to wait "5 minutes or so" before troubleshooting).
pub const BOOT_DELAY_SECONDS: i64 = 20;

/// Between two health pings of a registered agent: five minutes (the default of the agent's
/// health check, aws/amazon-ssm-agent issue 479; the troubleshooting guide: "after registration
/// the service health-checks the node roughly every five minutes").
pub const HEALTH_PING_SECONDS: i64 = 300;

/// The first retry after a refused or credential-less try. Chosen: AWS documents no figure for
/// the agent's credential refresher; 30 s keeps a policy attached moments later visible soon.
pub const FIRST_RETRY_SECONDS: i64 = 30;

/// The longest wait between two tries: 30 minutes. An amazon-ssm-agent maintainer: when the
/// agent cannot get credentials at first it "will take up to 30 mins to pick up the credential"
/// (aws/amazon-ssm-agent issue 544). The doubling up to it is chosen.
pub const MAX_RETRY_SECONDS: i64 = 1800;

/// What the agent logs when instance metadata serves it no role credentials (aws/amazon-ssm-agent
/// issues 298 and 609).
pub const NO_ROLE: &str = "EC2RoleRequestError: no EC2 instance role found";

/// The agent of one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// Which start of the instance this agent belongs to: one more at every start.
    boot: u64,
    /// False once the agent found its instance no longer running.
    pub running: bool,
    /// The wait before the next retry if the next try fails.
    retry: Duration,
    /// Why the most recent try failed (`EC2RoleRequestError: ...`, or SSM's error code and
    /// message); `None` after a success.
    pub last_error: Option<String>,
    /// When the agent wakes next, while it runs.
    pub next_try: Option<DateTime<Utc>>,
}

impl Agent {
    /// Which start of its instance this agent belongs to (1 for the first).
    pub fn boot(&self) -> u64 {
        self.boot
    }
}

impl Default for Agent {
    fn default() -> Self {
        Agent {
            boot: 0,
            running: false,
            retry: Duration::seconds(FIRST_RETRY_SECONDS),
            last_error: None,
            next_try: None,
        }
    }
}

/// An instance reached `running` at `at`: its agent starts and wakes after the boot delay.
pub fn instance_running(world: &mut World, account: &str, region: &str, instance_id: &str, at: DateTime<Utc>) {
    let next = at + world.latency(Duration::seconds(BOOT_DELAY_SECONDS));
    let Some(ssm) = state_mut(world, account, region) else {
        return;
    };
    let agent = ssm.agents.entry(instance_id.to_string()).or_default();
    agent.boot += 1;
    agent.running = true;
    agent.retry = Duration::seconds(FIRST_RETRY_SECONDS);
    agent.next_try = Some(next);
    let event = Event::AgentTick { instance_id: instance_id.to_string(), boot: agent.boot };
    world.schedule(next, account, region, event);
}

/// The agent of `instance_id`, if the instance ever ran.
pub fn agent<'w>(world: &'w World, account: &str, region: &str, instance_id: &str) -> Option<&'w Agent> {
    super::state(world, account, region)?.agents.get(instance_id)
}

/// Role credentials as instance metadata serves them.
pub(super) struct RoleCredentials {
    pub(super) access_key_id: String,
    pub(super) token: String,
}

/// Reads the instance role's credentials from instance metadata, as the agent does: the role
/// name from `iam/security-credentials/`, then its document.
pub(super) fn read_credentials(world: &mut World, at: DateTime<Utc>, instance_id: &str) -> Option<RoleCredentials> {
    const ROLES: &str = "/latest/meta-data/iam/security-credentials/";
    let listing = world.instance_metadata(at, instance_id, ROLES)?;
    let role = listing.lines().next().map(str::trim).filter(|r| !r.is_empty())?.to_string();
    let document = world.instance_metadata(at, instance_id, &format!("{ROLES}{role}"))?;
    let document: serde_json::Value = serde_json::from_str(&document).ok()?;
    Some(RoleCredentials {
        access_key_id: document.get("AccessKeyId")?.as_str()?.to_string(),
        token: document.get("Token")?.as_str()?.to_string(),
    })
}

/// `UpdateInstanceInformation` as the agent sends it, signed with the role credentials.
fn report(
    world: &mut World,
    at: DateTime<Utc>,
    region: &str,
    instance: &ec2::Instance,
    credentials: RoleCredentials,
) -> Result<(), String> {
    let params = Value::structure()
        .with("AgentName", AGENT_NAME)
        .with("AgentStatus", "Active")
        .with("AgentVersion", AGENT_VERSION)
        .with("ComputerName", instance.private_dns_name(region))
        .with("IPAddress", instance.private_ip_address.as_str())
        .with("InstanceId", instance.id.as_str())
        .with("PlatformName", PLATFORM_NAME)
        .with("PlatformType", PLATFORM_TYPE)
        .with("PlatformVersion", PLATFORM_VERSION);
    let call = InnerCall {
        acting: Acting::StoredCredential {
            access_key_id: credentials.access_key_id,
            session_token: Some(credentials.token),
        },
        service: ServiceId::Ssm,
        region,
        now: at,
        action: "UpdateInstanceInformation",
        params,
    };
    world.inner_call(call).map(drop).map_err(|e| format!("{}: {}", e.code, e.message))
}

/// The agent of `instance_id` wakes at `at` (see the module documentation).
pub(super) fn tick(world: &mut World, account: &str, region: &str, instance_id: &str, boot: u64, at: DateTime<Utc>) {
    let current = agent(world, account, region, instance_id).is_some_and(|a| a.boot == boot && a.running);
    if !current {
        return;
    }
    let instance = ec2::instance(world, account, region, instance_id)
        .filter(|i| i.state == InstanceStateName::Running)
        .cloned();
    let Some(instance) = instance else {
        if let Some(agent) = state_mut(world, account, region).and_then(|s| s.agents.get_mut(instance_id)) {
            agent.running = false;
            agent.next_try = None;
        }
        return;
    };
    let outcome = match read_credentials(world, at, instance_id) {
        None => Err(NO_ROLE.to_string()),
        Some(credentials) => report(world, at, region, &instance, credentials),
    };
    match &outcome {
        Ok(()) => tracing::debug!(instance_id, "SSM agent health ping succeeded"),
        Err(error) if error == NO_ROLE => tracing::debug!(instance_id, "{NO_ROLE}"),
        Err(error) => tracing::debug!(instance_id, error = %error, "SSM agent could not report to Systems Manager"),
    }
    let Some(agent) = state_mut(world, account, region).and_then(|s| s.agents.get_mut(instance_id)) else {
        return;
    };
    let wait = match outcome {
        Ok(()) => {
            agent.retry = Duration::seconds(FIRST_RETRY_SECONDS);
            agent.last_error = None;
            Duration::seconds(HEALTH_PING_SECONDS)
        }
        Err(error) => {
            agent.last_error = Some(error);
            let wait = agent.retry;
            agent.retry = (wait * 2).min(Duration::seconds(MAX_RETRY_SECONDS));
            wait
        }
    };
    let next = at + world.latency(wait);
    if let Some(agent) = state_mut(world, account, region).and_then(|s| s.agents.get_mut(instance_id)) {
        agent.next_try = Some(next);
    }
    let event = Event::AgentTick { instance_id: instance_id.to_string(), boot };
    world.schedule(next, account, region, event);
}
