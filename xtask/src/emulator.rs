//! `emulator`: serve the emulator on a fixed port for the AWS CLI and SDKs, or print the shell
//! environment that points them at it.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use wana_emulator::{
    accounts, BehaviourProfile, Emulator, EmulatorConfig, AWS_INSTANCE_PROFILE_PROPAGATION, DEFAULT_ACCOUNTS,
    DEFAULT_REGION,
};

use crate::{
    out::{out, outln},
    UsageError,
};

/// `--latency-scale`'s default: AWS's service latencies run ten times faster for people typing
/// commands, so an instance starts in half a second and Auto Scaling's retry backoff of up to
/// five minutes becomes at most thirty seconds.
pub const DEFAULT_LATENCY_SCALE: u32 = 10;

#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// The loopback port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 4599)]
    pub port: u16,
    /// AWS behaviour to emulate: current or legacy-2016.
    #[arg(long, default_value = "current", value_parser = parse_profile)]
    pub profile: BehaviourProfile,
    /// Print `export` lines for this account (a, b, c or its id) and exit, without serving:
    /// `eval "$(cargo xtask emulator --print-env a)"`.
    #[arg(long, value_name = "ACCOUNT")]
    pub print_env: Option<String>,
    /// Divide AWS's service latencies (instance transitions, alarm evaluation, Auto Scaling
    /// retries) by this, so asynchronous work shows in seconds; 1 keeps AWS's timings. Session
    /// expiry and key deletion dates are never scaled.
    #[arg(long, default_value_t = DEFAULT_LATENCY_SCALE, value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub latency_scale: u32,
    /// Seconds during which EC2 refuses an instance profile IAM has just created ("Invalid IAM
    /// Instance Profile name"), as AWS does while IAM's change propagates; divided by
    /// --latency-scale like AWS's other latencies. 0 makes new profiles usable at once.
    #[arg(long, value_name = "SECONDS", default_value_t = AWS_INSTANCE_PROFILE_PROPAGATION.as_secs(), value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub instance_profile_propagation: u64,
    /// Inject faults into HTTP requests: `standard`, or e.g.
    /// `throttle=1/5,error=1/7,latency=20ms,iam-propagation=10s,grant-propagation=5s,role-propagation=10s`
    /// (ARCHITECTURE.md, "Fault injection"). Propagation windows are emulator time, not scaled.
    #[arg(long, value_name = "SPEC", value_parser = parse_faults)]
    pub faults: Option<wana_emulator::FaultProfile>,
}

fn parse_faults(text: &str) -> Result<wana_emulator::FaultProfile, String> {
    text.parse().map_err(|err| format!("{err}"))
}

fn parse_profile(text: &str) -> Result<BehaviourProfile, String> {
    text.parse().map_err(|err| format!("{err}"))
}

pub fn run(args: &EmulatorArgs) -> anyhow::Result<ExitCode> {
    match &args.print_env {
        Some(account) => {
            out!("{}", print_env(account, args.port)?);
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let config = EmulatorConfig {
                port: args.port,
                profile: args.profile,
                latency_scale: args.latency_scale,
                instance_profile_propagation: std::time::Duration::from_secs(args.instance_profile_propagation),
                faults: args.faults.unwrap_or_default(),
                ..EmulatorConfig::default()
            };
            crate::runtime()?.block_on(serve(config))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Shell lines that make the AWS CLI (and SDKs) act as `account`'s admin against the emulator.
/// Session token and profile variables are unset because either would override or spoil the
/// keys (botocore prefers a named profile to the key variables).
fn print_env(account: &str, port: u16) -> anyhow::Result<String> {
    let info = accounts::find(account).ok_or_else(|| {
        UsageError(format!(
            "unknown account {account:?}; known accounts: {}",
            DEFAULT_ACCOUNTS
                .iter()
                .map(|a| format!("{} ({})", a.name, a.id))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    Ok(format!(
        "unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE\n\
         export AWS_ACCESS_KEY_ID={key}\n\
         export AWS_SECRET_ACCESS_KEY={secret}\n\
         export AWS_REGION={region}\n\
         export AWS_DEFAULT_REGION={region}\n\
         export AWS_ENDPOINT_URL=http://127.0.0.1:{port}\n",
        key = info.access_key_id,
        secret = info.secret_access_key,
        region = DEFAULT_REGION,
    ))
}

async fn serve(config: EmulatorConfig) -> anyhow::Result<()> {
    let (port, profile, latency_scale) = (config.port, config.profile, config.latency_scale);
    let propagation = config.instance_profile_propagation;
    let faults = config.faults;
    let emulator = Emulator::start(config)
        .await
        .with_context(|| format!("cannot start the emulator on 127.0.0.1:{port}"))?;
    // `start` returns once the listener is bound, so requests are accepted from here on.
    outln!(
        "wana emulator ready on {} (profile {profile})",
        emulator.endpoint_url()
    );
    if latency_scale > 1 {
        outln!("AWS's service latencies run {latency_scale} times faster (--latency-scale 1 for AWS's own).");
    }
    if !propagation.is_zero() {
        outln!(
            "A new instance profile is unknown to EC2 for {:.1} s, as on AWS (--instance-profile-propagation 0 to skip).",
            propagation.as_secs_f64() / f64::from(latency_scale.max(1))
        );
    }
    if !faults.is_none() {
        outln!("Faults injected: {faults} (the AWS CLI and SDKs retry them).");
    }
    outln!();
    out!("{}", accounts_table());
    outln!();
    outln!(
        "In another shell: eval \"$(cargo xtask emulator --print-env a --port {})\"",
        emulator.addr().port()
    );
    outln!("Stop with Ctrl-C.");

    wait_for_shutdown().await?;
    tracing::info!("shutting the emulator down");
    emulator.stop();
    Ok(())
}

/// The built-in accounts with their (public, emulator-only) admin keys.
fn accounts_table() -> String {
    let mut out = format!(
        "{:<8} {:<13} {:<11} {:<21} {}\n",
        "account", "id", "admin user", "access key id", "secret access key"
    );
    for account in DEFAULT_ACCOUNTS {
        out.push_str(&format!(
            "{:<8} {:<13} {:<11} {:<21} {}\n",
            account.name,
            account.id,
            account.admin_user,
            account.access_key_id,
            account.secret_access_key
        ));
    }
    out
}

async fn wait_for_shutdown() -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.context("cannot listen for Ctrl-C")?,
        _ = terminate.recv() => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn print_env_accepts_an_account_id_as_well_as_a_name() {
        assert_eq!(
            print_env("222222222222", 1).unwrap(),
            print_env("b", 1).unwrap()
        );
    }

    #[test]
    fn accounts_table_lists_every_account_with_its_key() {
        let table = accounts_table();
        for account in DEFAULT_ACCOUNTS {
            let row = table
                .lines()
                .find(|line| line.starts_with(&format!("{} ", account.name)))
                .unwrap_or_else(|| panic!("no row for {}", account.name));
            assert!(
                row.contains(account.id) && row.contains(account.access_key_id),
                "{row}"
            );
        }
    }
}
