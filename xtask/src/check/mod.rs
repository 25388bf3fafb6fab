//! `check <trap> --fix FILE`: set the trap up, apply a participant's fix instead of the
//! reference fix, run the trap's check, and say whether the failure is gone and whether the fix
//! grants more than needed.
//!
//! Exit codes: 0 resolved and tight, 1 not resolved (or the run failed), 5 resolved but broader
//! than needed, 2 usage error (unknown trap, unreadable file, a kind the trap does not take), 3
//! the trap is not runnable on that backend, 130 interrupted (teardown ran).

pub mod session;

use std::{path::PathBuf, process::ExitCode, str::FromStr};

use clap::Args;
use serde_json::json;
use wana_harness::BackendKind;
use wana_i18n::{tr, Lang};
use wana_scenarios::exercise::{self, FixKind, Judgement, UserFix, Verdict};

use crate::{out::outln, target::TargetArgs, UsageError};

pub const EXIT_BROADER: u8 = 5;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The trap id, as `cargo xtask list` shows it.
    pub trap: String,
    /// The fix: a key policy, IAM policy, grant (create-grant arguments as JSON), trust policy,
    /// script or CloudFormation template; see scenarios/fixes/README.md.
    #[arg(long, value_name = "FILE")]
    pub fix: PathBuf,
    /// What the file is (key-policy, iam-policy, grant, trust-policy, script, template); told
    /// from the file when left out.
    #[arg(long, value_parser = FixKind::from_str)]
    pub kind: Option<FixKind>,
    /// Where to run (the trap must reproduce there).
    #[arg(long, default_value = "emulator", value_parser = BackendKind::from_str)]
    pub backend: BackendKind,
    /// Language of the narration: ja or en (default: from LC_ALL, LC_MESSAGES, LANG).
    #[arg(long, value_parser = Lang::from_str)]
    pub lang: Option<Lang>,
    /// One JSON object (English) instead of the narration.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub target: TargetArgs,
}

/// The file, its kind, checked against what the trap takes (usage errors otherwise).
pub(crate) fn read_fix(path: &std::path::Path, kind: Option<FixKind>, takes: &[FixKind], trap: &str, lang: Lang) -> anyhow::Result<UserFix> {
    let file = path.display().to_string();
    let document = std::fs::read_to_string(path)
        .map_err(|err| UsageError(tr!(lang, "check.bad_file", file = file, error = err)))?;
    let names = |kinds: &[FixKind]| kinds.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ");
    let kind = match kind.or_else(|| FixKind::infer(&file, &document)) {
        Some(kind) => kind,
        None => return Err(UsageError(tr!(lang, "check.unknown_kind", file = file, kinds = names(takes))).into()),
    };
    if !takes.contains(&kind) {
        return Err(UsageError(tr!(lang, "check.wrong_kind", trap = trap, kind = kind, kinds = names(takes))).into());
    }
    exercise::validate(kind, &document).map_err(|error| UsageError(tr!(lang, "check.bad_file", file = file, error = error)))?;
    Ok(UserFix { kind, document })
}

pub fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let lang = Lang::choose(args.lang);
    let info = crate::catalog::find_trap(&args.trap)?;
    // The file is read first: a bad file is a usage error before anything starts.
    let takes = exercise::find(info.id).map(|e| e.kinds()).unwrap_or(&[]);
    let fix = if takes.is_empty() { None } else { Some(read_fix(&args.fix, args.kind, takes, info.id, lang)?) };
    let prepared = match session::prepare(info.id, args.backend, &args.target, lang)? {
        Ok(prepared) => prepared,
        Err(code) => return Ok(code),
    };
    let fix = fix.expect("a trap with an exercise takes some kind");
    let runtime = crate::runtime()?;
    let outcome = runtime.block_on(async {
        let mut ctx = prepared.start().await?;
        let judged = tokio::select! {
            judged = exercise::judge(prepared.exercise, &mut ctx, &fix) => Some(judged),
            _ = interrupted() => None,
        };
        let torn_down = prepared.finish(ctx).await;
        anyhow::Ok((judged, torn_down))
    })?;
    let (judged, torn_down) = outcome;
    let Some(judged) = judged else {
        eprintln!("interrupted: the run stopped and its teardown ran");
        return Ok(ExitCode::from(crate::sandbox_cli::EXIT_INTERRUPTED));
    };
    let header = Header { trap: info.id, backend: prepared.backend, profile: prepared.profile, file: args.fix.display().to_string(), kind: fix.kind };
    let code = match judged {
        Ok(judgement) => {
            if args.json {
                outln!("{}", to_json(&header, &judgement));
            } else {
                print!("{}", render(&header, &judgement, lang));
            }
            match judgement.verdict {
                Verdict::Resolved => 0,
                Verdict::Broader => EXIT_BROADER,
                Verdict::NotResolved => 1,
            }
        }
        Err(err) => {
            eprintln!("{}", tr!(lang, "check.error", error = err));
            1
        }
    };
    if !torn_down && prepared.backend == BackendKind::Sandbox {
        return Ok(ExitCode::from(crate::sandbox_cli::EXIT_LEAKED));
    }
    Ok(ExitCode::from(code))
}

/// Resolves on the first Ctrl-C or SIGTERM (never where signals cannot be listened for).
pub(crate) async fn interrupted() {
    match wana_harness::interrupt::Signals::register() {
        Ok(mut signals) => {
            signals.next().await;
        }
        Err(_) => std::future::pending::<()>().await,
    }
}

pub(crate) struct Header<'a> {
    pub trap: &'a str,
    pub backend: BackendKind,
    pub profile: wana_harness::BehaviourProfile,
    pub file: String,
    pub kind: FixKind,
}

/// The narration of a check in `lang`.
pub(crate) fn render(header: &Header<'_>, judgement: &Judgement, lang: Lang) -> String {
    let mut out = Vec::new();
    out.push(tr!(lang, "check.header", trap = header.trap, backend = header.backend, profile = header.profile));
    if header.profile != wana_harness::BehaviourProfile::Current {
        out.push(tr!(lang, "check.profile_note", profile = header.profile));
    }
    out.push(tr!(lang, "check.fix_line", file = header.file, kind = header.kind));
    let observed = &judgement.observed;
    if !observed.reproduced {
        out.push(tr!(lang, "check.not_reproduced", failure = observed.failure));
        out.push(tr!(lang, "check.verdict_not_resolved"));
        return out.join("\n") + "\n";
    }
    out.push(tr!(lang, "check.before", failure = observed.failure));
    out.extend(observed.denied.iter().map(|d| format!("  {d}")));
    if let Some(applied) = &judgement.applied {
        out.push(tr!(lang, "check.applied", principal = applied.principal, call = applied.call));
        if let Some(error) = &applied.error {
            out.push(tr!(lang, "check.refused", code = error.code, message = error.message));
        }
        if let Some(output) = applied.output.as_deref().filter(|o| !o.is_empty()) {
            out.push(tr!(lang, "check.output"));
            out.extend(output.lines().map(|l| format!("  {l}")));
        }
    }
    if let Some(verified) = &judgement.verified {
        out.push(if verified.gone {
            tr!(lang, "check.after_gone", detail = verified.detail)
        } else {
            tr!(lang, "check.after_still", detail = verified.detail)
        });
    }
    if !judgement.findings.is_empty() {
        out.push(tr!(lang, "check.findings"));
        out.extend(judgement.findings.iter().map(|f| format!("  - {}", f.message(lang))));
    }
    out.push(match judgement.verdict {
        Verdict::Resolved => tr!(lang, "check.verdict_resolved"),
        Verdict::Broader => tr!(lang, "check.verdict_broader"),
        Verdict::NotResolved => tr!(lang, "check.verdict_not_resolved"),
    });
    out.join("\n") + "\n"
}

/// The check as one JSON object, English.
pub(crate) fn to_json(header: &Header<'_>, judgement: &Judgement) -> serde_json::Value {
    let observed = &judgement.observed;
    json!({
        "trap": header.trap,
        "backend": header.backend.name(),
        "profile": header.profile.to_string(),
        "file": header.file,
        "kind": header.kind.name(),
        "reproduced": observed.reproduced,
        "failure": observed.failure,
        "denied": observed.denied,
        "applied": judgement.applied.as_ref().map(|a| json!({
            "call": a.call,
            "principal": a.principal,
            "error": a.error.as_ref().map(|e| json!({ "code": e.code, "message": e.message })),
            "output": a.output,
        })),
        "gone": judgement.verified.as_ref().map(|v| v.gone),
        "detail": judgement.verified.as_ref().map(|v| v.detail.clone()),
        "findings": judgement.findings.iter().map(|f| json!({ "label": f.label(), "message": f.message(Lang::En) })).collect::<Vec<_>>(),
        "verdict": judgement.verdict.name(),
    })
}
