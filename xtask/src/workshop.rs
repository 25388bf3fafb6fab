//! `workshop <trap>`: the trap set up on an emulator served on loopback, its failure shown, the
//! AWS CLI environment of each account the trap uses printed, then a prompt: `v` verify (the
//! trap's check again), `h` the next hint, `q` quit (teardown). Ctrl-C tears down too.
//!
//! `workshop verify [<trap>]`, from another terminal, asks the running workshop to verify: the
//! workshop listens on a loopback port of its own (the control channel) and writes it into
//! `target/wana-workshop/<trap>.json` (`{"trap", "port", "endpoint"}`); the client connects,
//! sends the line `verify`, and prints the answer. Only one line is read per connection, and
//! only `verify` is understood.

use std::{process::ExitCode, str::FromStr};

use anyhow::Context as _;
use clap::Args;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};
use wana_harness::{BackendKind, RunContext, Verdict};
use wana_i18n::{tr, Lang};
use wana_scenarios::exercise::Session;

use crate::{check::session, target::TargetArgs, UsageError};

#[derive(Debug, Args)]
pub struct WorkshopArgs {
    /// The trap id; or `verify` to ask a running workshop to verify (its trap after it, if
    /// several run).
    pub trap: String,
    /// With `verify`: the trap whose workshop to ask.
    pub of: Option<String>,
    /// Where to run (the trap must reproduce there).
    #[arg(long, default_value = "emulator", value_parser = BackendKind::from_str)]
    pub backend: BackendKind,
    /// Language of the narration: ja or en (default: from LC_ALL, LC_MESSAGES, LANG).
    #[arg(long, value_parser = Lang::from_str)]
    pub lang: Option<Lang>,
    /// When the workshop ends, write report.md and a self-contained report.html of it into DIR:
    /// the set-up, every verify, the calls services made, and whether the last verify found the
    /// failure gone (`reproduced-and-fixed`) or not (`fix-failed`). The participant's own AWS
    /// CLI calls are not steps of the run and are not drawn.
    #[arg(long, value_name = "DIR")]
    pub report: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
}

pub fn run(args: &WorkshopArgs) -> anyhow::Result<ExitCode> {
    let lang = Lang::choose(args.lang);
    if args.trap == "verify" {
        return verify_remotely(args.of.as_deref(), lang);
    }
    if args.of.is_some() {
        return Err(UsageError(format!("unexpected argument {:?}", args.of.as_deref().unwrap_or_default())).into());
    }
    let prepared = match session::prepare(&args.trap, args.backend, &args.target, lang)? {
        Ok(prepared) => prepared,
        Err(code) => return Ok(code),
    };
    let trap = prepared.exercise.trap();
    let runtime = crate::runtime()?;
    runtime.block_on(async {
        say(&tr!(lang, "workshop.setting_up", trap = trap, backend = prepared.backend, profile = prepared.profile));
        let mut ctx = prepared.start().await?;
        let set_up = tokio::select! {
            set_up = prepared.exercise.setup(&mut ctx) => Some(set_up),
            _ = crate::check::interrupted() => None,
        };
        let code = match set_up {
            None => ExitCode::from(crate::sandbox_cli::EXIT_INTERRUPTED),
            Some(Err(err)) => {
                eprintln!("{}", tr!(lang, "check.error", error = err));
                ExitCode::FAILURE
            }
            Some(Ok(mut session)) => {
                let mut gone = None;
                let code = serve(&mut ctx, session.as_mut(), trap, lang, &mut gone).await?;
                if let Some(dir) = &args.report {
                    let verdict = if gone == Some(true) { Verdict::ReproducedAndFixed } else { Verdict::FixFailed };
                    let report = wana_harness::report_so_far(&ctx, prepared.scenario, verdict);
                    let files = wana_harness::write_report(dir, &[report], lang, &wana_harness::Redactor::secrets_only())?;
                    say(&tr!(lang, "report.written", markdown = files.markdown.display(), html = files.html.display()));
                }
                code
            }
        };
        let _ = std::fs::remove_file(session::control_file(trap));
        say(&tr!(lang, "workshop.tearing_down"));
        prepared.finish(ctx).await;
        say(&tr!(lang, "workshop.bye"));
        anyhow::Ok(code)
    })
}

fn say(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// The failure, how to reach the emulator, then the prompt until `q`, end of input or Ctrl-C.
async fn serve(ctx: &mut RunContext, session: &mut dyn Session, trap: &'static str, lang: Lang, gone: &mut Option<bool>) -> anyhow::Result<ExitCode> {
    let observed = session.observed().clone();
    if !observed.reproduced {
        say(&tr!(lang, "workshop.not_reproduced", failure = observed.failure));
        return Ok(ExitCode::FAILURE);
    }
    say(&tr!(lang, "workshop.failure", failure = observed.failure));
    for denied in &observed.denied {
        say(&format!("  {denied}"));
    }
    say("");
    if let Some(endpoint) = ctx.backend.endpoint_url().filter(|_| ctx.backend.kind() == BackendKind::Emulator) {
        say(&tr!(lang, "workshop.reach"));
        for (account, _) in session.accounts() {
            say(&environment(account, &account_role(trap, account, lang), endpoint));
        }
    }
    say(&tr!(lang, "workshop.values"));
    let mut seen = Vec::new();
    for (name, value) in session.placeholders(wana_scenarios::exercise::FixKind::IamPolicy) {
        if !seen.contains(&name) && !value.is_empty() {
            say(&format!("  {name} = {value}"));
            seen.push(name);
        }
    }
    say(&look_at(trap, lang));

    let listener = TcpListener::bind("127.0.0.1:0").await.context("cannot listen on loopback for workshop verify")?;
    let port = listener.local_addr()?.port();
    let file = session::control_file(trap);
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let control = serde_json::json!({ "trap": trap, "port": port, "endpoint": ctx.backend.endpoint_url() });
    std::fs::write(&file, control.to_string())?;
    say(&tr!(lang, "workshop.control", file = file.display()));

    // Standard input is read on a thread of its own (a blocking read), line by line.
    let (lines, mut input) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut hint = 0;
    loop {
        say(&tr!(lang, "workshop.prompt"));
        tokio::select! {
            line = input.recv() => {
                let Some(line) = line else { return Ok(ExitCode::SUCCESS) };
                match line.trim() {
                    "v" | "verify" => say(&verify(ctx, session, lang, gone).await),
                    "h" | "hint" => {
                        hint += 1;
                        say(&hint_text(trap, hint, lang));
                    }
                    "q" | "quit" => return Ok(ExitCode::SUCCESS),
                    "" => {}
                    other => say(&tr!(lang, "workshop.unknown_key", key = other)),
                }
            }
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let (read, mut write) = stream.into_split();
                let mut request = String::new();
                let _ = BufReader::new(read).read_line(&mut request).await;
                let answer = if request.trim() == "verify" {
                    let answer = verify(ctx, session, lang, gone).await;
                    say(&answer);
                    answer
                } else {
                    tr!(lang, "workshop.unknown_key", key = request.trim())
                };
                let _ = write.write_all(format!("{answer}\n").as_bytes()).await;
            }
            _ = crate::check::interrupted() => {
                say(&tr!(lang, "workshop.interrupted"));
                return Ok(ExitCode::from(crate::sandbox_cli::EXIT_INTERRUPTED));
            }
        }
    }
}

/// The trap's check again, in words; `gone` keeps what the last one found.
async fn verify(ctx: &mut RunContext, session: &mut dyn Session, lang: Lang, gone: &mut Option<bool>) -> String {
    say(&tr!(lang, "workshop.verifying"));
    match session.verify(ctx).await {
        Ok(verified) => {
            *gone = Some(verified.gone);
            if verified.gone {
                tr!(lang, "workshop.gone", detail = verified.detail)
            } else {
                tr!(lang, "workshop.still", detail = verified.detail)
            }
        }
        Err(err) => tr!(lang, "check.error", error = err),
    }
}

/// Hint `n` of the trap (`hints.<trap>.<n>` in the catalog), or why there is none.
fn hint_text(trap: &str, n: usize, lang: Lang) -> String {
    match wana_i18n::catalog().get(&format!("hints.{trap}.{n}")) {
        Some(message) => tr!(lang, "workshop.hint", n = n, text = message.render(lang, &[])),
        None if n > 1 && wana_i18n::catalog().get(&format!("hints.{trap}.1")).is_some() => tr!(lang, "workshop.no_more_hints"),
        None => tr!(lang, "workshop.no_hint", trap = trap),
    }
}

/// Who an account is in the trap's story.
fn account_role(trap: &str, account: &str, lang: Lang) -> String {
    match (trap, account) {
        ("cmk-start-external-role", "c") => tr!(lang, "workshop.account.cmk_customer"),
        ("cmk-start-external-role", _) => tr!(lang, "workshop.account.cmk_vendor"),
        ("cross-account-ami-asg", "a") => tr!(lang, "workshop.account.asg_owner"),
        ("cross-account-ami-asg", _) => tr!(lang, "workshop.account.asg_consumer"),
        ("alarm-recover", _) => tr!(lang, "workshop.account.alarm"),
        ("runcommand-shadow-credentials", _) => tr!(lang, "workshop.account.runcommand"),
        _ => tr!(lang, "workshop.account.ssm"),
    }
}

/// What to look at first, per trap.
fn look_at(trap: &str, lang: Lang) -> String {
    match trap {
        "alarm-recover" => tr!(lang, "workshop.look.alarm_recover"),
        "cross-account-ami-asg" => tr!(lang, "workshop.look.cross_account_ami_asg"),
        "cmk-start-external-role" => tr!(lang, "workshop.look.cmk_start_external_role"),
        "runcommand-shadow-credentials" => tr!(lang, "workshop.look.runcommand_shadow_credentials"),
        _ => tr!(lang, "workshop.look.instance_profile_ssm"),
    }
}

/// The shell lines that make the AWS CLI act as `account`'s administrator against the emulator
/// (the lines of `cargo xtask emulator --print-env`), under a comment naming the account.
fn environment(account: &str, role: &str, endpoint: &str) -> String {
    let Some(info) = wana_emulator::accounts::find(account) else { return String::new() };
    format!(
        "# account {name} ({id}): {role}\n\
         unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE\n\
         export AWS_ACCESS_KEY_ID={key}\n\
         export AWS_SECRET_ACCESS_KEY={secret}\n\
         export AWS_REGION={region}\n\
         export AWS_DEFAULT_REGION={region}\n\
         export AWS_ENDPOINT_URL={endpoint}\n",
        name = info.name,
        id = info.id,
        key = info.access_key_id,
        secret = info.secret_access_key,
        region = wana_emulator::DEFAULT_REGION,
    )
}

/// `workshop verify`: asks the running workshop (of `trap`, or the only one running).
fn verify_remotely(trap: Option<&str>, lang: Lang) -> anyhow::Result<ExitCode> {
    let file = match trap {
        Some(trap) => session::control_file(trap),
        None => {
            let dir = session::control_file("x").parent().map(|p| p.to_path_buf()).unwrap_or_default();
            let running: Vec<_> = std::fs::read_dir(&dir).into_iter().flatten().flatten().map(|e| e.path()).collect();
            match running.as_slice() {
                [one] => one.clone(),
                _ => dir.join("<trap>.json"),
            }
        }
    };
    let Ok(text) = std::fs::read_to_string(&file) else {
        eprintln!("{}", tr!(lang, "workshop.none_running", file = file.display()));
        return Ok(ExitCode::from(crate::EXIT_USAGE));
    };
    let control: serde_json::Value = serde_json::from_str(&text).context("the workshop's control file is not JSON")?;
    let port = control["port"].as_u64().and_then(|p| u16::try_from(p).ok()).context("the control file names no port")?;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|err| {
        eprintln!("{}", tr!(lang, "workshop.none_running", file = file.display()));
        err
    })?;
    use std::io::{Read, Write};
    stream.write_all(b"verify\n")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    print!("{answer}");
    Ok(ExitCode::SUCCESS)
}
