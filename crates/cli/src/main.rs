//! `mandate`: Smart Sessions for Rust, on the command line.

use std::process::ExitCode;

use alloy_signer_local::PrivateKeySigner;
use clap::{Parser, Subcommand};
use mandate::demo::{self, DemoReport};

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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo { json } => {
            match demo::run(PrivateKeySigner::random(), PrivateKeySigner::random()) {
                Ok(report) if json => match serde_json::to_string_pretty(&report) {
                    Ok(text) => println!("{text}"),
                    Err(err) => {
                        eprintln!("mandate demo: {err}");
                        return ExitCode::FAILURE;
                    }
                },
                Ok(report) => print_prose(&report),
                Err(err) => {
                    eprintln!("mandate demo: {err}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    ExitCode::SUCCESS
}
