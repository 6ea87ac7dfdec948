//! `mandate`: Smart Sessions for Rust, on the command line.

mod encode;
mod input;

use std::process::ExitCode;

use alloy_signer_local::PrivateKeySigner;
use clap::{Parser, Subcommand};
use mandate::client::demo::{self, DemoReport};

use crate::encode::{PolicyCommand, SessionCommand, SignatureCommand};

#[derive(Parser)]
#[command(name = "mandate", version, about = "Smart Sessions for Rust")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Grant a session on the embedded devnet, use it, and watch the account refuse what the
    /// session does not allow.
    Demo {
        /// Print one JSON document instead of prose.
        #[arg(long)]
        json: bool,
    },
    /// Sessions: permission ids, enableSessions calldata, action ids, multichain digests.
    #[command(subcommand)]
    Session(SessionCommand),
    /// SmartSession signatures: USE, ENABLE, decode.
    #[command(subcommand)]
    Signature(SignatureCommand),
    /// Policy init data.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

fn print_prose(report: &DemoReport) {
    println!("Mandate demo on the embedded devnet (chain {})", report.chain_id);
    println!("  EntryPoint v0.7   {}", report.entry_point);
    println!("  SmartSession      {}", report.smart_session);
    println!("  account           {}", report.account);
    println!("  owner             {}", report.owner);
    println!("  session key       {}", report.session_key);
    println!("  permissionId      {}", report.permission_id);
    println!();
    for (i, step) in report.steps.iter().enumerate() {
        println!("{}. {}", i + 1, step.title);
        println!("   userOpHash {}", step.user_op_hash);
        if step.included {
            let gas = step.gas_used.map_or_else(String::new, |g| format!(", {g} gas charged"));
            let tx =
                step.tx_gas_used.map_or_else(String::new, |g| format!(", handleOps used {g} gas"));
            let verdict = if step.success { "done" } else { "executed but reverted" };
            println!("   {verdict}{gas}{tx}");
        } else {
            let code = step.code.as_deref().unwrap_or("rejected");
            let reason = step.reason.as_deref().unwrap_or("handleOps reverted");
            println!("   REJECTED by the EntryPoint: {reason} [{code}]");
        }
        if let Some(error) = &step.error {
            println!("   reason: {error}");
        }
        if let Some(effect) = &step.effect {
            println!("   {effect}");
        }
    }
}

fn run_demo(json: bool) -> Result<String, String> {
    let report = demo::run(PrivateKeySigner::random(), PrivateKeySigner::random())
        .map_err(|e| e.to_string())?;
    if json {
        serde_json::to_string_pretty(&report).map_err(|e| e.to_string())
    } else {
        print_prose(&report);
        Ok(String::new())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (name, result) = match cli.command {
        Command::Demo { json } => ("demo", run_demo(json)),
        Command::Session(c) => ("session", encode::session(c).map_err(|e| e.to_string())),
        Command::Signature(c) => ("signature", encode::signature(c).map_err(|e| e.to_string())),
        Command::Policy(c) => ("policy", encode::policy(c).map_err(|e| e.to_string())),
    };
    match result {
        Ok(out) => {
            if !out.is_empty() {
                println!("{out}");
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("mandate {name}: {}", err.replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
