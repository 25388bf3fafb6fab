//! `.github/workflows/nightly.yml` is a working example: it parses, assumes its AWS role through
//! OIDC, has one job per runnable trap, and every `cargo xtask` command it runs is one this
//! command line accepts (clap's own definition parses it), with trap ids that exist.

use std::path::Path;

use clap::Parser;
use serde_yaml::Value;

use crate::{Cli, Command};

fn workflow() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.github/workflows/nightly.yml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).expect("the workflow is YAML")
}

fn jobs(workflow: &Value) -> Vec<(&str, &Value)> {
    workflow["jobs"]
        .as_mapping()
        .expect("jobs")
        .iter()
        .map(|(name, job)| (name.as_str().unwrap(), job))
        .collect()
}

fn steps(job: &Value) -> &[Value] {
    job["steps"].as_sequence().expect("steps")
}

fn runnable_traps() -> Vec<&'static str> {
    wana_scenarios::catalog()
        .iter()
        .filter(|trap| trap.is_runnable())
        .map(|trap| trap.id)
        .collect()
}

/// The `cargo xtask …` commands of a `run:` script, as argument lists (`cargo xtask` first),
/// with `${{ matrix.trap }}` replaced by `trap` and other expressions by a placeholder.
fn xtask_commands(script: &str, trap: &str) -> Vec<Vec<String>> {
    let script = script.replace("\\\n", " ");
    let mut commands = Vec::new();
    for line in script.lines() {
        let line = substitute(line, trap);
        let words = shell_words(&line);
        let mut rest = &words[..];
        while let Some(at) = rest
            .windows(2)
            .position(|w| w[0] == "cargo" && w[1] == "xtask")
        {
            let after = &rest[at + 2..];
            let end = after
                .iter()
                .position(|w| matches!(w.as_str(), "&&" | "||" | ";" | "|" | ">" | ">>"))
                .unwrap_or(after.len());
            let mut command = vec!["cargo xtask".to_string()];
            command.extend(after[..end].iter().cloned());
            commands.push(command);
            rest = &after[end..];
        }
    }
    commands
}

fn substitute(line: &str, trap: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .map_or(rest.len(), |e| start + e + 2);
        let expression = rest[start + 3..end.saturating_sub(2)].trim();
        out.push_str(if expression == "matrix.trap" {
            trap
        } else {
            "EXPR"
        });
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Splits a shell line into words: quotes group, operators stand alone.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (None, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

#[test]
fn the_tokenizer_finds_commands_behind_sudo_and_before_operators() {
    let commands = xtask_commands(
        "sudo env \"PATH=$PATH\" cargo xtask nightly --traps ${{ matrix.trap }} --out 'a b' && cat x\n\
         echo; cargo xtask list | head",
        "alarm-recover",
    );
    assert_eq!(
        commands,
        [
            vec![
                "cargo xtask",
                "nightly",
                "--traps",
                "alarm-recover",
                "--out",
                "a b"
            ],
            vec!["cargo xtask", "list"],
        ]
    );
    // What the workflow test relies on: a flag clap does not define is refused.
    assert!(Cli::try_parse_from([
        "cargo xtask",
        "nightly",
        "--backend",
        "sandbox",
        "--out",
        "d",
        "--trap",
        "x"
    ])
    .is_err());
}

#[test]
fn every_xtask_command_of_the_workflow_parses_with_the_real_definition() {
    let workflow = workflow();
    let mut nightly_backends = Vec::new();
    for (job_name, job) in jobs(&workflow) {
        let matrix_traps: Vec<&str> = job["strategy"]["matrix"]["trap"]
            .as_sequence()
            .map(|traps| traps.iter().map(|t| t.as_str().unwrap()).collect())
            .unwrap_or_else(|| vec!["no-matrix"]);
        for step in steps(job) {
            let Some(script) = step["run"].as_str() else {
                continue;
            };
            for trap in &matrix_traps {
                for command in xtask_commands(script, trap) {
                    let cli = Cli::try_parse_from(&command)
                        .unwrap_or_else(|err| panic!("{job_name}: {command:?}:\n{err}"));
                    if let Command::Nightly(args) = cli.command {
                        for name in &args.traps {
                            assert!(
                                wana_scenarios::find(name).is_some(),
                                "{job_name}: unknown trap {name}"
                            );
                        }
                        nightly_backends.push((
                            job_name.to_string(),
                            args.backend.name(),
                            args.out,
                        ));
                    }
                }
            }
        }
    }
    let backends: Vec<&str> = nightly_backends.iter().map(|(_, b, _)| *b).collect();
    assert!(
        backends.contains(&"emulator") && backends.contains(&"sandbox"),
        "{nightly_backends:?}"
    );

    // Each job shows its drift report as the summary and keeps its output directory.
    for (job_name, _, out) in &nightly_backends {
        let job = &workflow["jobs"][job_name.as_str()];
        let out = out.to_str().unwrap();
        let summary = format!("cat {out}/report.md >> \"$GITHUB_STEP_SUMMARY\"");
        assert!(
            steps(job)
                .iter()
                .any(|s| s["run"].as_str() == Some(summary.as_str())
                    && s["if"].as_str() == Some("always()")),
            "{job_name}: no `{summary}` step that runs always"
        );
        assert!(
            steps(job).iter().any(|s| {
                s["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("actions/upload-artifact@"))
                    && s["with"]["path"]
                        .as_str()
                        .is_some_and(|p| p.trim_end_matches('/') == out)
            }),
            "{job_name}: {out} is not uploaded"
        );
    }
}

#[test]
fn the_sandbox_jobs_are_one_per_runnable_trap_and_assume_their_role_through_oidc() {
    let workflow = workflow();
    assert_eq!(workflow["permissions"]["id-token"].as_str(), Some("write"));
    assert!(workflow["on"]["schedule"]
        .as_sequence()
        .is_some_and(|s| !s.is_empty()));
    let sandbox = &workflow["jobs"]["sandbox"];
    let matrix: Vec<&str> = sandbox["strategy"]["matrix"]["trap"]
        .as_sequence()
        .expect("a matrix of traps")
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        matrix,
        runnable_traps(),
        "one job per runnable trap, in the catalog's order"
    );
    assert_eq!(sandbox["strategy"]["fail-fast"].as_bool(), Some(false));

    let steps = steps(sandbox);
    let position = |pred: &dyn Fn(&Value) -> bool| steps.iter().position(pred);
    let credentials = position(&|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("aws-actions/configure-aws-credentials@"))
    })
    .expect("configure-aws-credentials");
    let with = &steps[credentials]["with"];
    assert!(
        with["role-to-assume"]
            .as_str()
            .is_some_and(|r| r.contains("${{ vars.")),
        "a role, no stored key"
    );
    assert!(with["aws-access-key-id"].is_null() && with["aws-secret-access-key"].is_null());
    let nightly = position(&|s| {
        s["run"]
            .as_str()
            .is_some_and(|r| r.contains("cargo xtask nightly"))
    })
    .expect("the nightly step");
    assert!(credentials < nightly, "credentials come before the run");

    // The emulator's results reach the sandbox run's --out, where nightly compares with them.
    let download = position(&|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("actions/download-artifact@"))
    })
    .expect("the emulator's results are downloaded");
    assert!(download < nightly);
    let artifact = steps[download]["with"]["name"].as_str().unwrap();
    let uploaded = self::steps(&workflow["jobs"]["emulator"])
        .iter()
        .find(|s| s["with"]["name"].as_str() == Some(artifact))
        .expect("the emulator job uploads what the sandbox jobs download");
    assert!(uploaded["with"]["path"]
        .as_str()
        .unwrap()
        .ends_with("/results.json"));
    let script = steps[nightly]["run"].as_str().unwrap();
    let command = &xtask_commands(script, "alarm-recover")[0];
    let out = &command[command.iter().position(|w| w == "--out").unwrap() + 1];
    assert_eq!(steps[download]["with"]["path"].as_str(), Some(out.as_str()));
    assert_eq!(sandbox["needs"].as_str(), Some("emulator"));
}
