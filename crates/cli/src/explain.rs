//! `mandate session explain FILE`: what a session allows, in words, and its risks; the lint
//! `grant` and `import` refuse with unless `--allow`ed.

use std::collections::BTreeSet;

use clap::Args;
use mandate::abi::{
    Deployments, Session,
    explain::{Explanation, Finding, Findings, Risk, explain_with, lint_explained},
};
use serde::Serialize;

use crate::{
    flows::DeploymentsArg,
    input::{CliError, read_json},
    prose::say,
};

/// Separates the lines of one error that `main` prints as several (one per refused risk).
pub(crate) const ERROR_LINE_BREAK: char = '\u{1e}';

/// `session explain`.
#[derive(Args, Clone, Debug)]
pub(crate) struct ExplainArgs {
    /// A JSON Session (module-sdk shape), or - for stdin.
    file: String,
    /// Whose policies the session names: a preset (`module-sdk-0.4`, `module-sdk-0.2.3`) or a
    /// deployments JSON file (a chain's, or what `mandate deploy` prints).
    #[arg(long, default_value = "module-sdk-0.4")]
    deployments: String,
    #[command(flatten)]
    lint: LintArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// What the lints may let through, and what they know of the actions' functions.
#[derive(Args, Clone, Debug, Default)]
pub(crate) struct LintArgs {
    /// Grant despite this risk (repeatable): erc1271-any-hash, fallback-action,
    /// unbounded-sudo, unbounded-paymaster, shared-session-key.
    #[arg(long = "allow", value_name = "RISK")]
    allow: Vec<Risk>,
    /// The signature of an action's function (repeatable), e.g. `mint(address,uint256)`: it
    /// names the actions of its selector, and a universal-action rule off its arguments is
    /// warned of (well-known ERC-20 / ERC-721 functions are known without it).
    #[arg(long = "function", value_name = "SIGNATURE")]
    functions: Vec<String>,
}

impl LintArgs {
    /// The risks allowed.
    pub(crate) fn allowed(&self) -> BTreeSet<Risk> {
        self.allow.iter().copied().collect()
    }

    /// `session` explained and linted.
    pub(crate) fn explain(&self, session: &Session, d: &Deployments) -> (Explanation, Findings) {
        let functions: Vec<&str> = self.functions.iter().map(String::as_str).collect();
        let explanation = explain_with(session, d, &functions);
        let findings = lint_explained(&explanation);
        (explanation, findings)
    }

    /// `Err` with one line per risk of `findings` not allowed, each naming its `--allow`;
    /// `before` says what did not happen (`signing`, `storing`).
    pub(crate) fn refuse(&self, findings: &Findings, before: &str) -> Result<(), CliError> {
        let allowed = self.allowed();
        let lines: Vec<String> =
            findings.refused(&allowed).map(|f| format!("refused before {before}: {f}")).collect();
        if lines.is_empty() {
            return Ok(());
        }
        Err(CliError::Invalid {
            what: "the session",
            reason: lines.join(&ERROR_LINE_BREAK.to_string()),
        })
    }
}

/// What `explain` prints as JSON, and `grant` beside its own.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Explained {
    /// The decoded session and its lines.
    pub(crate) explanation: Explanation,
    /// Risks and warnings.
    pub(crate) findings: Findings,
}

impl Explained {
    /// The explanation's lines, then each finding's (risks marked allowed or not).
    pub(crate) fn lines(&self, allowed: &BTreeSet<Risk>) -> Vec<String> {
        let mut lines = self.explanation.lines.clone();
        for finding in &self.findings.0 {
            lines.push(match finding {
                Finding::Risk { risk, detail } if allowed.contains(risk) => {
                    format!("risk {risk} (allowed): {detail}")
                }
                Finding::Risk { risk, detail } => format!("risk {risk}: {detail}"),
                Finding::Warning(w) => format!("warning: {w}"),
                _ => finding.to_string(),
            });
        }
        lines
    }
}

pub(crate) fn explain(args: ExplainArgs) -> Result<String, CliError> {
    let d = DeploymentsArg::read(&args.deployments)?.chain();
    let session: Session = read_json(&args.file, "a Session")?;
    let (explanation, findings) = args.lint.explain(&session, &d);
    let explained = Explained { explanation, findings };
    if args.json {
        return serde_json::to_string_pretty(&explained).map_err(CliError::other);
    }
    let mut out = String::new();
    for line in explained.lines(&args.lint.allowed()) {
        say!(out, "{line}");
    }
    out.pop();
    Ok(out)
}
