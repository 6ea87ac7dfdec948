//! `SmartSession.isValidSignatureWithSender` for a session key's ERC-7739 signature, as the
//! account forwards it: the permission enabled and the content allowed (else `0xffffffff`),
//! every ERC-1271 policy (at least one, else `NoPoliciesSet`), then the session validator over
//! the nested hash ([`mandate_abi::erc7739`]).

use alloy_primitives::{Address, B256, keccak256};
use mandate_abi::{
    PermissionId,
    erc7739::{self, AccountDomain, DETECTION_HASH},
    sol::ISmartSession,
};

use super::{Reject, Stop, ecdsa_ok, ownable};
use crate::{
    error::EvalError,
    revert::{InvalidSessionKeyData, PolicyNotInitialized},
    state::{AccountState, Deployment, PolicyKind, PolicyState},
};

/// SmartSession's answer to a session signature.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureVerdict {
    /// `0x1626ba7e`: valid.
    Valid,
    /// `0xffffffff`, and why.
    Invalid(SignatureRefusal),
    /// `0x77390001`: the ERC-7739 detection hash was asked about.
    Erc7739Supported,
    /// SmartSession reverts.
    Reverts(Reject),
}

/// Why SmartSession answers `0xffffffff`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureRefusal {
    /// The protocol asking is SmartSession itself.
    #[error("the signature is asked for by SmartSession itself")]
    SenderIsSmartSession,
    /// The permission is not enabled on the account.
    #[error("permission {0} is not enabled on the account")]
    NotEnabled(PermissionId),
    /// The session does not allow this description under this app domain separator.
    #[error(
        "the session allows no content {description:?} under app domain separator {app_domain_separator}"
    )]
    ContentNotAllowed {
        /// The separator the signature names.
        app_domain_separator: B256,
        /// The description it carries.
        description: String,
    },
    /// An ERC-1271 policy returned false.
    #[error("ERC-1271 policy {policy} ({kind:?}) says no{}", if why.is_empty() { String::new() } else { format!(": {why}") })]
    PolicyRefused {
        /// The policy.
        policy: Address,
        /// Its kind.
        kind: PolicyKind,
        /// In words.
        why: String,
    },
    /// The session validator does not accept the signature over the nested hash.
    #[error("the session key's signature over the nested hash {0} is not the session's")]
    BadSignature(B256),
}

/// [`super::Evaluator::check_signature`]'s body.
pub(super) fn check(
    d: &Deployment,
    state: &AccountState,
    sender: Address,
    hash: B256,
    signature: &[u8],
    account_domain: &AccountDomain,
    now: u64,
) -> Result<SignatureVerdict, EvalError> {
    if hash == DETECTION_HASH {
        return Ok(SignatureVerdict::Erc7739Supported);
    }
    if sender == d.smart_session {
        return Ok(SignatureVerdict::Invalid(SignatureRefusal::SenderIsSmartSession));
    }
    let decoded =
        erc7739::decode_signature(signature).map_err(EvalError::MalformedSessionSignature)?;
    let contents = &decoded.contents;
    let pid = decoded.permission_id;
    let account = state.account;
    let Some(session) = state.sessions.get(&pid).filter(|_| state.is_enabled(&pid)) else {
        return Ok(SignatureVerdict::Invalid(SignatureRefusal::NotEnabled(pid)));
    };
    let content_hash = keccak256(&contents.description);
    let allowed = session.erc7739_content.iter().any(|(separator, hashes)| {
        *separator == contents.app_domain_separator && hashes.contains(&content_hash)
    });
    if !allowed {
        return Ok(SignatureVerdict::Invalid(SignatureRefusal::ContentNotAllowed {
            app_domain_separator: contents.app_domain_separator,
            description: String::from_utf8_lossy(&contents.description).into_owned(),
        }));
    }
    if session.erc1271_policies.is_empty() {
        return Ok(SignatureVerdict::Reverts(Reject::error(
            &ISmartSession::NoPoliciesSet { permissionId: pid.0 },
            vec![pid.to_string()],
            "the session has no ERC-1271 policy",
        )));
    }
    let id = pid.erc1271_config_id(account);
    for &policy in &session.erc1271_policies {
        let kind = d.kind(policy).ok_or(EvalError::UnknownPolicy(policy))?;
        let refused = |why: String| {
            Ok(SignatureVerdict::Invalid(SignatureRefusal::PolicyRefused { policy, kind, why }))
        };
        match kind {
            PolicyKind::Sudo => {}
            PolicyKind::TimeFrame => {
                let frame = match state.policies.get(&(policy, id)) {
                    Some(PolicyState::TimeFrame(frame)) if *frame != 0 => *frame,
                    _ => {
                        let error = PolicyNotInitialized {
                            id: id.0,
                            multiplexer: d.smart_session,
                            account,
                        };
                        return Ok(SignatureVerdict::Reverts(Reject::error(
                            &error,
                            vec![id.to_string(), d.smart_session.to_string(), account.to_string()],
                            format!("ERC-1271 policy {policy} (TimeFrame) has no window"),
                        )));
                    }
                };
                let (until, after) = ((frame >> 48) as u64, (frame & 0xffff_ffff_ffff) as u64);
                if until != 0 && now >= until {
                    return refused(format!("the window ended at {until}; now is {now}"));
                }
                if now < after {
                    return refused(format!("the window opens at {after}; now is {now}"));
                }
            }
            // Enabling refuses them in the ERC-1271 slot (they lack I1271Policy).
            PolicyKind::UniAction
            | PolicyKind::Erc20SpendingLimit
            | PolicyKind::UsageLimit
            | PolicyKind::ValueLimit => return Err(EvalError::UnknownPolicy(policy)),
        }
    }
    let digest = erc7739::nested_hash(contents, account_domain);
    let validator = session.validator;
    let config = session.validator_config.as_ref();
    let validators = &d.session_validators;
    let valid = if validator.is_zero() {
        return Ok(SignatureVerdict::Reverts(Reject::error(
            &ISmartSession::SignerNotFound { permissionId: pid.0, account },
            vec![pid.to_string(), account.to_string()],
            "the session has no session validator",
        )));
    } else if validators.ecdsa == Some(validator) {
        let Some(key) = config.get(..20).map(Address::from_slice) else {
            return Ok(SignatureVerdict::Reverts(Reject::error(
                &InvalidSessionKeyData {},
                Vec::new(),
                "the session key data is shorter than an address",
            )));
        };
        ecdsa_ok(digest, &decoded.session_sig, key)
    } else if validators.ownable == Some(validator) {
        match ownable::validate(digest, &decoded.session_sig, config, true) {
            Ok(valid) => valid,
            Err(Stop::Reject(reject)) => return Ok(SignatureVerdict::Reverts(reject)),
            Err(Stop::Eval(error)) => return Err(error),
        }
    } else {
        return Err(EvalError::UnknownSessionValidator(validator));
    };
    Ok(if valid {
        SignatureVerdict::Valid
    } else {
        SignatureVerdict::Invalid(SignatureRefusal::BadSignature(digest))
    })
}
