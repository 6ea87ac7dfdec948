//! `mandate demo`: the seeds' story on the embedded devnet, in prose or JSON.

use std::time::Instant;

use mandate::abi::account::AccountType;
use mandate::abi::explain::utc;
use mandate::client::{
    Remaining, Scope, SessionState, SessionStatus,
    demo::{DemoReport, Outcome, Story, run_on_devnet},
};

use crate::{input::CliError, prose::say};

pub(crate) fn run(json: bool, account: AccountType) -> Result<String, CliError> {
    let started = Instant::now();
    let report = run_on_devnet(&Story::random(), account).map_err(CliError::other)?;
    if json {
        return serde_json::to_string_pretty(&report).map_err(CliError::other);
    }
    let mut out = String::new();
    print_prose(&mut out, &report);
    say!(out);
    out.push_str(&format!("(the story took {:.2} s)", started.elapsed().as_secs_f64()));
    Ok(out)
}

fn print_prose(out: &mut String, report: &DemoReport) {
    say!(out, "Mandate demo on the embedded devnet (chain {})", report.chain_id);
    say!(out, "  EntryPoint v0.7   {}", report.entry_point);
    say!(out, "  SmartSession      {}", report.smart_session);
    say!(out, "  account           {} ({})", report.account, report.account_family);
    say!(out, "  owner             {}", report.owner);
    say!(out, "  session key       {}", report.session_key);
    say!(out, "  permissionId      {}", report.session.permission_id);
    say!(out);
    say!(out, "The session: transfer(to, amount) on the test token — only to 0x7e7e…7e7e, at most");
    say!(out, "100 per transfer and 250 in total, 3 transfers, for one day — and mint(to) on the");
    say!(out, "test NFT, only to the account itself.");
    say!(out);
    for (i, step) in report.steps.iter().enumerate() {
        say!(out, "{}. {}", i + 1, step.title);
        match &step.outcome {
            Outcome::Included { user_op_hash, gas_used, mode } => {
                let mode = mode.map_or(String::new(), |m| format!(" in {m:?} mode").to_uppercase());
                say!(out, "   included{mode}: {gas_used} gas charged, userOpHash {user_op_hash}");
            }
            Outcome::Refused { error, reason } => {
                say!(out, "   REFUSED locally, nothing sent: {error}");
                say!(out, "   why: {reason}");
            }
        }
    }
    say!(out);
    print_status(out, "What the session has left", &report.status);
    print_status(out, "What the ENABLE-mode session has left", &report.enable_mode_status);
    say!(out);
    say!(
        out,
        "The recipient holds {} tokens; the account holds {} NFTs.",
        report.recipient_tokens,
        report.nfts_held
    );
}

pub(crate) fn print_status(out: &mut String, title: &str, status: &SessionStatus) {
    let state = match status.state {
        SessionState::PendingFirstUse => "pending first use (its first use enables it)",
        state => state.describe(),
    };
    say!(out, "{title} ({} on chain {}, {state}):", status.permission_id, status.chain_id);
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
                "valid from {} until {} ({}, chain time {})",
                utc(valid_after),
                if valid_until == 0 { "no end".into() } else { utc(valid_until) },
                if open { "open" } else { "closed" },
                utc(status.now)
            ),
        };
        say!(out, "  - {scope}: {what}");
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
    let mut out = String::new();
    print_legacy(&mut out, &report);
    say!(out);
    out.push_str(&format!("(the story took {:.2} s)", started.elapsed().as_secs_f64()));
    Ok(out)
}

#[cfg(feature = "legacy-v2")]
fn print_legacy(out: &mut String, report: &mandate::client::legacy_v2::V2Report) {
    say!(
        out,
        "Biconomy session keys v2 on the embedded devnet (EntryPoint v0.6 {})",
        report.entry_point
    );
    say!(out, "  Smart Account v2  {}", report.account);
    say!(out, "  session key       {}", report.session_key);
    say!(out, "  merkle root       {}", report.merkle_root);
    say!(out);
    for (i, step) in report.steps.iter().enumerate() {
        say!(out, "{}. {}", i + 1, step.title);
        match (&step.gas_used, &step.refused) {
            (Some(gas), _) => say!(out, "   included: {gas} gas charged"),
            (None, Some(why)) => say!(out, "   REFUSED locally, nothing sent: {why}"),
            (None, None) => say!(out, "   not sent"),
        }
    }
    say!(out);
    say!(
        out,
        "The recipient holds {} tokens; the account holds {} NFTs.",
        report.recipient_tokens,
        report.nfts_held
    );
}
