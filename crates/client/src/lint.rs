//! The lints a grant passes before anything is signed ([`mandate_abi::explain`]): each
//! session's own risks, and a key shared by two sessions of one grant.

use std::collections::BTreeSet;

use mandate_abi::{
    Deployments, Session,
    explain::{Findings, Risk, lint as lint_session, shared_key},
};

use crate::ClientError;

/// The findings of `sessions` granted together: each session's own ([`mandate_abi::explain::lint`])
/// and [`Risk::SharedSessionKey`] for a key that signs for two of them.
pub fn lint(sessions: &[Session], deployments: &Deployments) -> Findings {
    let mut findings = Findings::default();
    for (i, session) in sessions.iter().enumerate() {
        findings.extend(lint_session(session, deployments));
        findings.extend(shared_key(session, &sessions[..i], deployments));
    }
    findings
}

/// `Err(ClientError::Risky)` naming every risk of `findings` not in `allowed`.
pub(crate) fn refuse_unallowed(
    findings: &Findings,
    allowed: &BTreeSet<Risk>,
) -> Result<(), ClientError> {
    let refused: Vec<String> = findings.refused(allowed).map(ToString::to_string).collect();
    if refused.is_empty() {
        return Ok(());
    }
    let risks: Vec<Risk> = findings.risks().into_iter().filter(|r| !allowed.contains(r)).collect();
    Err(ClientError::Risky { risks, findings: refused })
}
