//! `localstack install|start|stop` and `moto install|start|stop`: the emulators of the endpoint
//! backends in host mode (no Docker), each in a venv of its own at the workspace root.

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use wana_harness::aws_cli::workspace_root;
use wana_localstack::{host, HostServer, Server};

use crate::out::outln;

#[derive(Debug, Args)]
pub struct ServerArgs {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Install the pinned release into its own venv (`.venv-localstack`, `.venv-moto`).
    Install,
    /// Serve on 127.0.0.1 until Ctrl-C (or, with --background, until `stop`).
    Start {
        /// The loopback port; default LocalStack's 4566, moto's 5000.
        #[arg(long)]
        port: Option<u16>,
        /// Return once it answers, leaving it running; `stop` ends it.
        #[arg(long)]
        background: bool,
    },
    /// Stop a server started with --background.
    Stop {
        #[arg(long)]
        port: Option<u16>,
    },
}

fn default_port(server: Server) -> u16 {
    match server {
        Server::Localstack => wana_localstack::DEFAULT_PORT,
        Server::Moto => 5000,
    }
}

fn pid_file(server: Server, port: u16) -> PathBuf {
    workspace_root()
        .join("target")
        .join("wana")
        .join(server.name())
        .join(format!("{port}.pid"))
}

pub fn run(server: Server, args: &ServerArgs) -> anyhow::Result<ExitCode> {
    let root = workspace_root();
    match &args.action {
        Action::Install => {
            let started = std::time::Instant::now();
            let venv = host::install(server, &root)?;
            eprintln!(
                "{}: {} installed in {} ({:.0} s)",
                server.name(),
                server.requirements().join(" "),
                venv.display(),
                started.elapsed().as_secs_f64()
            );
        }
        Action::Start { port, background } => {
            let port = port.unwrap_or_else(|| default_port(server));
            let runtime = crate::runtime()?;
            let started = runtime.block_on(HostServer::start(server, &root, port))?;
            let url = started.endpoint_url().to_string();
            eprintln!(
                "{} answers at {url} (log: {})",
                server.name(),
                started.log().display()
            );
            outln!("export AWS_ENDPOINT_URL={url}");
            if *background {
                let pid = started.detach().context("the server has no process")?;
                let file = pid_file(server, port);
                std::fs::write(&file, pid.to_string())
                    .with_context(|| format!("writing {}", file.display()))?;
                eprintln!("running in the background as process {pid}; stop it with `cargo xtask {} stop`", server.name());
            } else {
                eprintln!("Ctrl-C stops it");
                runtime.block_on(tokio::signal::ctrl_c())?;
                started.stop();
            }
        }
        Action::Stop { port } => {
            let port = port.unwrap_or_else(|| default_port(server));
            let file = pid_file(server, port);
            let pid: u32 = std::fs::read_to_string(&file)
                .with_context(|| {
                    format!(
                        "no {} started with --background on port {port}",
                        server.name()
                    )
                })?
                .trim()
                .parse()
                .with_context(|| format!("{} holds no process id", file.display()))?;
            host::stop_group(pid);
            std::fs::remove_file(&file).ok();
            eprintln!("{} on port {port} stopped", server.name());
        }
    }
    Ok(ExitCode::SUCCESS)
}
