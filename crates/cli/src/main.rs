#![doc = include_str!("../README.md")]
// Unit-test builds also see the dev-dependencies, which only the integration tests use.
#![cfg_attr(test, allow(unused_crate_dependencies))]

mod demo;
mod deploy;
mod encode;
mod explain;
mod flows;
mod input;
mod lifecycle;
mod prose;

use std::{
    io::{self, Write},
    process::ExitCode,
};

use clap::{Parser, Subcommand};
use mandate::abi::json::excerpt;

use crate::encode::{PolicyCommand, SessionCommand, SignatureCommand};

#[derive(Parser)]
#[command(name = "mandate", version, about = "Smart Sessions for Rust")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The whole story on the embedded devnet: grant a session with limits, use it for a call
    /// and a batch, see ops refused locally with the policy and rule named, enable a second
    /// session by its first use, and read what is left of each limit.
    Demo {
        /// Print one JSON document instead of prose.
        #[arg(long)]
        json: bool,
        /// The account's family: mandate, nexus, kernel, safe or msa (the ERC-7579 reference).
        #[arg(long, default_value = "mandate")]
        account: mandate::abi::account::AccountType,
        /// Tell the Biconomy session keys v2 story instead (EntryPoint v0.6, seeds 000–002).
        #[cfg(feature = "legacy-v2")]
        #[arg(long)]
        legacy_v2: bool,
    },
    /// Deploys Mandate's contracts (the embedded devnet's genesis) on a node and prints the
    /// deployments JSON the other commands take with `--deployments`.
    Deploy(deploy::DeployArgs),
    /// Sessions: grant, use and status on a real chain; permission ids, enableSessions
    /// calldata, action ids, multichain digests.
    #[command(subcommand)]
    Session(SessionCommand),
    /// SmartSession signatures: USE, ENABLE, decode.
    #[command(subcommand)]
    Signature(SignatureCommand),
    /// Policy init data.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (name, result) = match cli.command {
        #[cfg(feature = "legacy-v2")]
        Command::Demo { json, legacy_v2: true, .. } => {
            ("demo", demo::run_legacy_v2(json).map_err(|e| e.to_string()))
        }
        Command::Demo { json, account, .. } => {
            ("demo", demo::run(json, account).map_err(|e| e.to_string()))
        }
        Command::Deploy(args) => ("deploy", deploy::deploy(args).map_err(|e| e.to_string())),
        Command::Session(c) => ("session", encode::session(c).map_err(|e| e.to_string())),
        Command::Signature(c) => ("signature", encode::signature(c).map_err(|e| e.to_string())),
        Command::Policy(c) => ("policy", encode::policy(c).map_err(|e| e.to_string())),
    };
    let result = result.and_then(|out| write_out(&out));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Nothing is left to tell anyone if stderr fails too.
            // An error of several lines (one per refused risk) is printed line by line.
            let mut stderr = std::io::stderr().lock();
            for line in err.split(explain::ERROR_LINE_BREAK) {
                let _ = writeln!(stderr, "mandate {name}: {}", one_line(line));
            }
            ExitCode::FAILURE
        }
    }
}

/// Prints `out` (if any) and a newline on stdout; a closed pipe or a full disk is an error.
fn write_out(out: &str) -> Result<(), String> {
    if out.is_empty() {
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{out}").and_then(|()| stdout.flush()).map_err(|e| match e.kind() {
        io::ErrorKind::BrokenPipe => "writing to stdout: the reader closed the pipe".to_string(),
        _ => format!("writing to stdout: {e}"),
    })
}

/// `message` on one line, each overlong word (a bad value quoted whole) cut to an excerpt.
fn one_line(message: &str) -> String {
    message.split_whitespace().map(excerpt).collect::<Vec<_>>().join(" ")
}
