//! `mandate demo`: the seeds' story on the embedded devnet, in prose or JSON.

use std::time::Instant;

use mandate::client::{
    Remaining, Scope, SessionStatus,
    demo::{DemoReport, Outcome, Story, run_on_devnet},
};

use crate::input::CliError;

pub(crate) fn run(json: bool) -> Result<String, CliError> {
    let started = Instant::now();
    let report = run_on_devnet(&Story::random()).map_err(CliError::other)?;
    if json {
        return serde_json::to_string_pretty(&report).map_err(CliError::other);
    }
    print_prose(&report);
    Ok(format!("\n(the story took {:.2} s)", started.elapsed().as_secs_f64()))
}

fn print_prose(report: &DemoReport) {
    println!("Mandate demo on the embedded devnet (chain {})", report.chain_id);
    println!("  EntryPoint v0.7   {}", report.entry_point);
    println!("  SmartSession      {}", report.smart_session);
    println!("  account           {}", report.account);
    println!("  owner             {}", report.owner);
    println!("  session key       {}", report.session_key);
    println!("  permissionId      {}", report.session.permission_id);
    println!();
    println!("The session: transfer(to, amount) on the test token — only to 0x7e7e…7e7e, at most");
    println!(
        "100 per transfer and 250 in total, 3 transfers, for one day — and safeMint(to) on the"
    );
    println!("test NFT, only to the account itself.");
    println!();
    for (i, step) in report.steps.iter().enumerate() {
        println!("{}. {}", i + 1, step.title);
        match &step.outcome {
            Outcome::Included { user_op_hash, gas_used, mode } => {
                let mode = mode.map_or(String::new(), |m| format!(" in {m:?} mode").to_uppercase());
                println!("   included{mode}: {gas_used} gas charged, userOpHash {user_op_hash}");
            }
            Outcome::Refused { error, reason } => {
                println!("   REFUSED locally, nothing sent: {error}");
                println!("   why: {reason}");
            }
        }
    }
    println!();
    print_status("What the session has left", &report.status);
    print_status("What the ENABLE-mode session has left", &report.enable_mode_status);
    println!();
    println!(
        "The recipient holds {} tokens; the account holds {} NFTs.",
        report.recipient_tokens, report.nfts_held
    );
}

pub(crate) fn print_status(title: &str, status: &SessionStatus) {
    let state = if status.enabled {
        "enabled"
    } else if status.enable_pending {
        "not enabled yet (its first use enables it)"
    } else {
        "not enabled"
    };
    println!("{title} ({} on chain {}, {state}):", status.permission_id, status.chain_id);
    for limit in &status.limits {
        let scope = match limit.scope {
            Scope::UserOp => "every op".to_string(),
            Scope::Action { target, selector } => format!("{selector} on {target}"),
        };
        let what = match limit.remaining {
            Remaining::Uses { limit, used, left } => {
                format!("{left} of {limit} uses left ({used} used)")
            }
            Remaining::Value { limit, used, left } => {
                format!("{left} of {limit} wei left ({used} used)")
            }
            Remaining::Spend { token, limit, spent, left } => {
                format!("{left} of {limit} of token {token} left ({spent} spent)")
            }
            Remaining::Rule { rule, offset, limit, used, left } => format!(
                "rule {rule} (argument at byte {offset}): {left} of {limit} left ({used} used)"
            ),
            Remaining::ValuePerCall { limit } => format!("at most {limit} wei per call"),
            Remaining::Window { valid_after, valid_until, open } => format!(
                "valid from {valid_after} until {valid_until} ({}, chain time {})",
                if open { "open" } else { "closed" },
                status.now
            ),
        };
        println!("  - {scope}: {what}");
    }
}

/// `mandate demo --legacy-v2`: the Biconomy session keys v2 story.
#[cfg(feature = "legacy-v2")]
pub(crate) fn run_legacy_v2(json: bool) -> Result<String, CliError> {
    let started = Instant::now();
    let report = mandate::client::legacy_v2::run_demo().map_err(CliError::other)?;
    if json {
        return serde_json::to_string_pretty(&report).map_err(CliError::other);
    }
    print_legacy(&report);
    Ok(format!("\n(the story took {:.2} s)", started.elapsed().as_secs_f64()))
}

#[cfg(feature = "legacy-v2")]
fn print_legacy(report: &mandate::client::legacy_v2::V2Report) {
    println!(
        "Biconomy session keys v2 on the embedded devnet (EntryPoint v0.6 {})",
        report.entry_point
    );
    println!("  Smart Account v2  {}", report.account);
    println!("  session key       {}", report.session_key);
    println!("  merkle root       {}", report.merkle_root);
    println!();
    for (i, step) in report.steps.iter().enumerate() {
        println!("{}. {}", i + 1, step.title);
        match (&step.gas_used, &step.refused) {
            (Some(gas), _) => println!("   included: {gas} gas charged"),
            (None, Some(why)) => println!("   REFUSED locally, nothing sent: {why}"),
            (None, None) => println!("   not sent"),
        }
    }
    println!();
    println!(
        "The recipient holds {} tokens; the account holds {} NFTs.",
        report.recipient_tokens, report.nfts_held
    );
}
