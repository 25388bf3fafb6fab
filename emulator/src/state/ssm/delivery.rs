//! How a command invocation moves once sent: the node's agent takes it, a [`Job`] runs its
//! script on the instance, and the outcome becomes the invocation's result.
//!
//! * Delivery: [`super::commands::DELIVERY_DELAY_SECONDS`] after `SendCommand`, and then at
//!   every poll ([`POLL_RETRY_SECONDS`]) until the delivery timeout, the agent polls
//!   `ec2messages:GetMessages` with the credentials it reads from instance metadata, through
//!   [`World::inner_call`]: authenticated, authorized by IAM against the instance role's policies
//!   and logged like the agent's `UpdateInstanceInformation`. It takes the invocation only if
//!   its instance runs, its node is managed and the call is allowed; otherwise the invocation
//!   stays `Pending` (why is kept in [`Invocation::delivery_error`]) and, at `TimeoutSeconds`,
//!   is `TimedOut`/`DeliveryTimedOut`. At `ExpiresAfter` anything not finished is
//!   `TimedOut`/`DeliveryTimedOut` too (the model's `Command.ExpiresAfter`).
//! * Taken, the invocation is `InProgress` and its first plugin's [`Job`] is queued for the
//!   instance runtime, which runs it outside the world lock; plugins run one after the other.
//! * The job's end ([`finish_job`]): exit 0 is `Success`; exit N is `Failed` with
//!   `ResponseCode` N and `failed to run commands: exit status N` appended to stderr; the
//!   timeout is `TimedOut`/`ExecutionTimedOut` and a cancel `Cancelled`, both with
//!   `ResponseCode` 137 and nothing appended (amazon-ssm-agent: the script is SIGKILLed and
//!   `GetStatus(137)` gives TimedOut or Cancelled).
//!
//! The agent's side, from amazon-ssm-agent (`executers`, `plugins/runscript`, `iohandler`):
//! the script runs as root in the agent's environment (systemd's, which has no `HOME`) plus
//! `SSM_COMMAND_ID` and `AWS_SSM_INSTANCE_ID`, `AWS_SSM_REGION_NAME`,
//! `AWS_SSM_PLATFORM_NAME`, `AWS_SSM_PLATFORM_VERSION`; with no absolute `workingDirectory`
//! it runs in the agent's directory, `/usr/bin` (`WorkingDirectory=/usr/bin/` in its systemd
//! unit; `PWD=/usr/bin` in the environment printed in amazon-ssm-agent issue 427). Its error
//! is written right after what the script wrote to stderr (the terratest SSM example expects
//! `...No such file or directory\nfailed to run commands: exit status 1`). It sends stdout and
//! stderr cut to 24,000 bytes with `--output truncated--` (`StringPrefix`), and builds a
//! plugin's `Output` of 2,500 bytes with `TruncateOutput`; SSM shows the first 24,000 characters
//! of stdout and 8,000 of stderr. An instance role's credentials are never shared through a
//! file, so the agent sets no `AWS_SHARED_CREDENTIALS_FILE` (it does only for Default Host
//! Management credentials).
//!
//! Chosen, unconfirmed: `LANG=C.UTF-8` (Amazon Linux 2023's locale; the older image
//! had `en_US.UTF-8`); `INVOCATION_ID` and `JOURNAL_STREAM` derived from the instance and the
//! agent's start; `SHLVL=1` in the environment handed over, so that the shell running the
//! script shows 2 as on AWS (where `sh -c _script.sh` runs it in a second shell); an instance
//! that stops or terminates under a running script ends it `Failed`/`Failed` with `ResponseCode`
//! -1 (the agent never reports; AWS documents nothing for it); a job the runtime cannot run is
//! `Failed`/`Undeliverable` with the reason as stderr and `ResponseCode` -1; the plugins after
//! one that ended for a reason other than its script's exit or timeout do not run and end like
//! it (`Cancelled` after a cancel).

use chrono::{DateTime, Duration, Utc};

use crate::{
    authz::RequestFacts,
    error::AwsError,
    port::{Acting, InnerCall},
    protocol::ServiceId,
    state::{
        ec2::{self, InstanceStateName},
        World,
    },
    value::Value,
};

use super::{
    access::{authorize, check_reported_by_the_instance, instance_arn},
    agent,
    commands::{self, command_mut, details, is_managed, Invocation, PluginResult, Status},
    documents::PluginRun,
    jobs::{Job, JobEnd, JobOutcome},
    state, Event,
};

/// Between two `GetMessages` polls that did not get an invocation. Chosen: the agent's long
/// poll returns after about 20 s with nothing; a refused or failed poll is retried on the
/// agent's next round.
pub const POLL_RETRY_SECONDS: i64 = 30;
/// What the agent keeps of stdout and of stderr, in bytes, and what it appends when it cuts.
pub const AGENT_OUTPUT_BYTES: usize = 24_000;
const AGENT_TRUNCATED_SUFFIX: &str = "--output truncated--";
/// What SSM shows: `StandardOutputContent` and `StandardErrorContent`, in characters.
pub const STANDARD_OUTPUT_CHARS: usize = 24_000;
pub const STANDARD_ERROR_CHARS: usize = 8_000;
/// A plugin's `Output` (`CommandPlugin.Output`, `MaximumPluginOutputSize`), in bytes.
pub const PLUGIN_OUTPUT_BYTES: usize = 2_500;
/// The exit status the agent reports for a script it killed (128 + SIGKILL).
pub const KILLED_RESPONSE_CODE: i64 = 137;
/// The agent's `PATH` (amazon-ssm-agent issue 427).
pub const AGENT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin";
/// The agent's working directory, where scripts run without an absolute `workingDirectory`.
pub const AGENT_DIRECTORY: &str = "/usr/bin";

fn invocation_mut<'w>(world: &'w mut World, account: &str, region: &str, command_id: &str, instance_id: &str) -> Option<&'w mut Invocation> {
    command_mut(world, account, region, command_id)?.invocations.iter_mut().find(|i| i.instance_id == instance_id)
}

/// `GetMessages` of `ec2messages`, as the agent calls it: IAM's `ec2messages:GetMessages`, and
/// SSM's rule that a node speaks only for itself (signed with the instance's own credentials).
/// The answer's messages are not modelled: delivery happens in [`deliver`].
pub fn get_messages(world: &mut World, facts: RequestFacts<'_>, destination: &str) -> Result<(), AwsError> {
    let account = facts.caller.principal.account().to_string();
    authorize(world, facts, "ec2messages:GetMessages", "*")?;
    let arn = instance_arn(facts.region, &account, destination);
    check_reported_by_the_instance(world, facts, "ec2messages:GetMessages", &arn)
}

/// The agent of `instance_id` polls: `Ok` if it may take a message now, else why not.
fn poll(world: &mut World, account: &str, region: &str, instance_id: &str, at: DateTime<Utc>) -> Result<(), String> {
    if !agent::agent(world, account, region, instance_id).is_some_and(|a| a.running) {
        return Err("the instance's SSM Agent is not running".to_string());
    }
    if !is_managed(world, account, region, instance_id, at) {
        return Err("the instance is not a managed node that is Online".to_string());
    }
    let credentials = agent::read_credentials(world, at, instance_id).ok_or_else(|| agent::NO_ROLE.to_string())?;
    let params = Value::structure()
        .with("Destination", instance_id)
        .with("MessagesRequestId", format!("{instance_id}-{}", at.timestamp_millis()))
        .with("VisibilityTimeoutInSeconds", 10_i64);
    let call = InnerCall {
        acting: Acting::StoredCredential { access_key_id: credentials.access_key_id, session_token: Some(credentials.token) },
        service: ServiceId::Ssm,
        region,
        now: at,
        action: "GetMessages",
        params,
    };
    world.inner_call(call).map(drop).map_err(|e| format!("{}: {}", e.code, e.message))
}

/// The agent of `instance_id` polls for the invocation of `command_id` at `at`.
pub(super) fn deliver(world: &mut World, account: &str, region: &str, command_id: &str, instance_id: &str, at: DateTime<Utc>) {
    let Some(command) = commands::command(world, account, region, command_id) else {
        return;
    };
    let deadline = command.requested + Duration::seconds(command.timeout_seconds);
    if command.invocation(instance_id).is_none_or(|i| i.status != Status::Pending) || at >= deadline {
        return;
    }
    match poll(world, account, region, instance_id, at) {
        Ok(()) => start(world, account, region, command_id, instance_id, at),
        Err(reason) => {
            tracing::info!(instance_id, command_id, reason = %reason, "the SSM Agent did not take a command");
            if let Some(invocation) = invocation_mut(world, account, region, command_id, instance_id) {
                invocation.delivery_error = Some(reason);
            }
            // A terminated instance's agent never polls again: the invocation waits for its
            // delivery timeout without further polls.
            let gone = ec2::instance(world, account, region, instance_id)
                .is_none_or(|i| matches!(i.state, InstanceStateName::ShuttingDown | InstanceStateName::Terminated));
            let next = at + world.latency(Duration::seconds(POLL_RETRY_SECONDS));
            if next < deadline && !gone {
                let event = Event::Deliver { command_id: command_id.to_string(), instance_id: instance_id.to_string() };
                world.schedule(next, account, region, event);
            }
        }
    }
}

/// The agent took the invocation: it is `InProgress` and its first plugin runs.
fn start(world: &mut World, account: &str, region: &str, command_id: &str, instance_id: &str, at: DateTime<Utc>) {
    let Some(invocation) = invocation_mut(world, account, region, command_id, instance_id) else {
        return;
    };
    invocation.status = Status::InProgress;
    invocation.details = details::IN_PROGRESS;
    invocation.delivery_error = None;
    let Some(first) = invocation.plugins.first_mut() else {
        return;
    };
    first.status = Status::InProgress;
    first.details = details::IN_PROGRESS;
    first.started = Some(at);
    let run = first.run.clone();
    queue_job(world, account, region, command_id, instance_id, &run);
}

/// A working directory the agent uses as given: an absolute one. A relative one names a folder
/// of the document's downloads, which Command documents here never have, so the agent falls
/// back to its own directory.
fn working_directory(run: &PluginRun) -> Option<String> {
    run.working_directory.clone().filter(|d| d.starts_with('/'))
}

/// The environment the agent gives a script (see the module documentation).
fn environment(world: &World, account: &str, region: &str, command_id: &str, instance_id: &str, run: &PluginRun) -> Vec<(String, String)> {
    use sha2::{Digest, Sha256};
    let node = state(world, account, region).and_then(|s| s.nodes.get(instance_id));
    let platform_name = node.and_then(|n| n.platform_name.clone()).unwrap_or_else(|| agent::PLATFORM_NAME.to_string());
    let platform_version = node.and_then(|n| n.platform_version.clone()).unwrap_or_else(|| agent::PLATFORM_VERSION.to_string());
    let boot = agent::agent(world, account, region, instance_id).map_or(0, agent::Agent::boot);
    let digest = Sha256::digest(format!("wana-ssm-agent/{instance_id}/{boot}").as_bytes());
    let journal_inode = 10_000 + u32::from(u16::from_be_bytes([digest[16], digest[17]]));
    let directory = working_directory(run).unwrap_or_else(|| AGENT_DIRECTORY.to_string());
    [
        ("LANG", "C.UTF-8".to_string()),
        ("PATH", AGENT_PATH.to_string()),
        ("INVOCATION_ID", hex::encode(&digest[..16])),
        ("JOURNAL_STREAM", format!("8:{journal_inode}")),
        ("PWD", directory),
        ("SHLVL", "1".to_string()),
        ("SSM_COMMAND_ID", command_id.to_string()),
        ("AWS_SSM_INSTANCE_ID", instance_id.to_string()),
        ("AWS_SSM_REGION_NAME", region.to_string()),
        ("AWS_SSM_PLATFORM_NAME", platform_name),
        ("AWS_SSM_PLATFORM_VERSION", platform_version),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn queue_job(world: &mut World, account: &str, region: &str, command_id: &str, instance_id: &str, run: &PluginRun) {
    let job = Job {
        account: account.to_string(),
        region: region.to_string(),
        command_id: command_id.to_string(),
        instance_id: instance_id.to_string(),
        plugin: run.name.clone(),
        script: run.script.clone(),
        working_directory: working_directory(run),
        timeout: std::time::Duration::from_secs(run.timeout_seconds),
        env: environment(world, account, region, command_id, instance_id, run),
        run_as: "root".to_string(),
    };
    world.queue_ssm_job(job);
}

/// The command's delivery timeout: invocations the agent never took time out.
pub(super) fn delivery_timeout(world: &mut World, account: &str, region: &str, command_id: &str) {
    let Some(command) = command_mut(world, account, region, command_id) else {
        return;
    };
    for invocation in &mut command.invocations {
        if matches!(invocation.status, Status::Pending | Status::Delayed) {
            end_undelivered(invocation);
        }
    }
}

fn end_undelivered(invocation: &mut Invocation) {
    invocation.status = Status::TimedOut;
    invocation.details = details::DELIVERY_TIMED_OUT;
    for plugin in &mut invocation.plugins {
        if !plugin.status.is_terminal() {
            plugin.status = Status::TimedOut;
            plugin.details = details::DELIVERY_TIMED_OUT;
        }
    }
}

/// `ExpiresAfter`: what has not finished times out (a running script's job is then told to
/// stop by [`job_cancelled`], and its late outcome is ignored).
pub(super) fn expire(world: &mut World, account: &str, region: &str, command_id: &str, at: DateTime<Utc>) {
    let Some(command) = command_mut(world, account, region, command_id) else {
        return;
    };
    if at < command.expires_after {
        return;
    }
    for invocation in &mut command.invocations {
        match invocation.status {
            Status::Cancelling => settle_all(invocation, Status::Cancelled, details::CANCELLED),
            status if !status.is_terminal() => end_undelivered(invocation),
            _ => {}
        }
    }
}

/// Ends every plugin not finished, then the invocation as [`settle`] says.
fn settle_all(invocation: &mut Invocation, status: Status, details: &'static str) {
    for plugin in &mut invocation.plugins {
        if !plugin.status.is_terminal() {
            plugin.status = status;
            plugin.details = details;
        }
    }
    settle(invocation);
}

/// The invocation's status once all its plugins ended: the first cancel, timeout or failure
/// decides, else `Success`.
fn settle(invocation: &mut Invocation) {
    if !invocation.plugins.iter().all(|p| p.status.is_terminal()) {
        return;
    }
    let first = |status: Status| invocation.plugins.iter().find(|p| p.status == status).map(|p| p.details);
    let (status, details) = if let Some(d) = first(Status::Cancelled) {
        (Status::Cancelled, d)
    } else if let Some(d) = first(Status::TimedOut) {
        (Status::TimedOut, d)
    } else if let Some(d) = first(Status::Failed) {
        (Status::Failed, d)
    } else {
        (Status::Success, details::SUCCESS)
    };
    invocation.status = status;
    invocation.details = details;
}

/// Whether the instance runtime must kill a running job now, and why: the invocation was
/// cancelled, has ended meanwhile (expired) or is unknown, or its instance no longer runs.
pub fn job_cancelled(world: &World, job: &Job) -> Option<JobEnd> {
    let invocation = commands::command(world, &job.account, &job.region, &job.command_id)
        .and_then(|c| c.invocation(&job.instance_id));
    // A job whose invocation the model does not know (a job queued by hand) is not cancelled
    // by Run Command; it still dies with its instance.
    if let Some(invocation) = invocation {
        let running = invocation.plugins.iter().any(|p| p.run.name == job.plugin && p.status == Status::InProgress);
        if !running || invocation.status != Status::InProgress {
            return Some(JobEnd::Cancelled);
        }
    }
    let instance_runs = ec2::instance(world, &job.account, &job.region, &job.instance_id)
        .is_some_and(|i| i.state == InstanceStateName::Running);
    (!instance_runs).then_some(JobEnd::InstanceGone)
}

/// The agent's `StringPrefix`: input of `max` bytes or more is cut to leave room for the
/// suffix (at a character boundary).
fn agent_prefix(input: &str, max: usize, suffix: &str) -> String {
    if input.len() < max {
        return input.to_string();
    }
    format!("{}{suffix}", byte_prefix(input, max.saturating_sub(suffix.len())))
}

/// The longest prefix of at most `bytes` bytes that ends at a character boundary.
fn byte_prefix(text: &str, bytes: usize) -> &str {
    let mut end = bytes.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn char_prefix(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

/// The agent's `TruncateOutput`: stdout, then stderr under an error title, cut to `capacity`
/// bytes with the agent's markers.
fn truncate_output(stdout: &str, stderr: &str, capacity: usize) -> String {
    const ERROR_TITLE: &str = "\n----------ERROR-------\n";
    const OUT_CUT: &str = "\n---Output truncated---";
    const ERROR_CUT: &str = "\n---Error truncated----";
    let title = if stderr.is_empty() { "" } else { ERROR_TITLE };
    let available = capacity.saturating_sub(title.len());
    let (out, err) = (stdout.len(), stderr.len());
    if out + err < available {
        return format!("{stdout}{title}{stderr}");
    }
    if out > available / 2 && err > available / 2 {
        let size = available.saturating_sub(ERROR_CUT.len() + OUT_CUT.len()) / 2;
        return format!("{}{OUT_CUT}{title}{}{ERROR_CUT}", byte_prefix(stdout, size), byte_prefix(stderr, size));
    }
    if out <= available / 2 {
        let size = available.saturating_sub(ERROR_CUT.len()).saturating_sub(out);
        return format!("{stdout}{title}{}{ERROR_CUT}", byte_prefix(stderr, size));
    }
    let size = available.saturating_sub(OUT_CUT.len()).saturating_sub(err);
    format!("{}{OUT_CUT}{title}{stderr}", byte_prefix(stdout, size))
}

impl PluginResult {
    /// `StandardOutputContent`: the first 24,000 characters the agent sent.
    pub fn standard_output_content(&self) -> String {
        char_prefix(&self.stdout, STANDARD_OUTPUT_CHARS)
    }

    /// `StandardErrorContent`: the first 8,000 characters the agent sent.
    pub fn standard_error_content(&self) -> String {
        char_prefix(&self.stderr, STANDARD_ERROR_CHARS)
    }

    /// `CommandPlugin.Output`: stdout and stderr as the agent sums them up in 2,500 bytes.
    pub fn output(&self) -> String {
        truncate_output(&self.stdout, &self.stderr, PLUGIN_OUTPUT_BYTES)
    }

    /// Records a job's end as the agent reports it.
    fn record(&mut self, outcome: &JobOutcome) {
        let mut stderr = outcome.stderr.clone();
        let (status, details, code) = match &outcome.end {
            JobEnd::Exited(0) => (Status::Success, details::SUCCESS, 0),
            JobEnd::Exited(code) => {
                stderr.push_str(&format!("failed to run commands: exit status {code}"));
                (Status::Failed, details::FAILED, i64::from(*code))
            }
            JobEnd::TimedOut => (Status::TimedOut, details::EXECUTION_TIMED_OUT, KILLED_RESPONSE_CODE),
            JobEnd::Cancelled => (Status::Cancelled, details::CANCELLED, KILLED_RESPONSE_CODE),
            JobEnd::InstanceGone => (Status::Failed, details::FAILED, -1),
            JobEnd::Undeliverable(reason) => {
                stderr = reason.clone();
                (Status::Failed, details::UNDELIVERABLE, -1)
            }
        };
        self.status = status;
        self.details = details;
        self.response_code = code;
        self.stdout = agent_prefix(&outcome.stdout, AGENT_OUTPUT_BYTES, AGENT_TRUNCATED_SUFFIX);
        self.stderr = agent_prefix(&stderr, AGENT_OUTPUT_BYTES, AGENT_TRUNCATED_SUFFIX);
        self.started = Some(outcome.started);
        self.finished = Some(outcome.finished);
    }
}

/// Records a job's outcome on its invocation; the next plugin runs after a script that exited
/// or timed out, while the instance runs and nobody cancelled. An outcome for a plugin that is
/// no longer running (the command expired) is ignored.
pub fn finish_job(world: &mut World, job: &Job, outcome: JobOutcome) {
    let instance_runs = ec2::instance(world, &job.account, &job.region, &job.instance_id)
        .is_some_and(|i| i.state == InstanceStateName::Running);
    let Some(invocation) = invocation_mut(world, &job.account, &job.region, &job.command_id, &job.instance_id) else {
        return;
    };
    let Some(index) = invocation.plugins.iter().position(|p| p.run.name == job.plugin && p.status == Status::InProgress) else {
        return;
    };
    invocation.plugins[index].record(&outcome);
    let cancelling = invocation.status == Status::Cancelling;
    let script_ended = matches!(outcome.end, JobEnd::Exited(_) | JobEnd::TimedOut);
    let next = invocation.plugins.get_mut(index + 1).filter(|_| script_ended && !cancelling && instance_runs);
    let Some(next) = next else {
        let (status, details) = match (&outcome.end, cancelling) {
            (JobEnd::Cancelled, _) | (_, true) => (Status::Cancelled, details::CANCELLED),
            (JobEnd::Undeliverable(_), _) => (Status::Failed, details::UNDELIVERABLE),
            _ => (Status::Failed, details::FAILED),
        };
        settle_all(invocation, status, details);
        return;
    };
    next.status = Status::InProgress;
    next.details = details::IN_PROGRESS;
    next.started = Some(outcome.finished);
    let run = next.run.clone();
    queue_job(world, &job.account, &job.region, &job.command_id, &job.instance_id, &run);
}
