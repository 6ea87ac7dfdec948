//! ENABLE and UNSAFE_ENABLE mode: the session enabled inside `validateUserOp`.

use alloy_primitives::{Bytes, U256};
use alloy_sol_types::SolValue;
use mandate_abi::{
    EnableSession, PermissionId, SignedSession, SmartSessionMode, multichain_digest,
    sol::ISmartSession,
};

use super::{EnableSignatureVerifier, Reject, Stop};
use crate::{
    calldata::flz_decompress,
    error::{EnableError, EvalError},
    state::{AccountState, Deployment},
};

/// `_enableInUserOp`: decode, consume the nonce, check this chain's digest entry and the
/// owner's signature, enable the session. Returns the permission id and the session signature.
pub(super) fn enable_in_user_op(
    deployment: &Deployment,
    state: &mut AccountState,
    compressed: &[u8],
    mode: u8,
    chain_id: u64,
    verifier: &dyn EnableSignatureVerifier,
) -> Result<(PermissionId, Bytes), Stop> {
    let account = state.account;
    let payload =
        flz_decompress(compressed).ok_or(Stop::Eval(EvalError::MalformedEnablePayload))?;
    let (enable, session_sig) = <(EnableSession, Bytes)>::abi_decode_params(&payload)
        .map_err(|_| Reject::empty("the ENABLE payload is not abi.encode(EnableSession, bytes)"))?;
    let session = &enable.sessionToEnable;
    let pid = PermissionId::of(session);
    let entry = state.sessions.entry(pid).or_default();
    let nonce = entry.nonce;
    entry.nonce = nonce.wrapping_add(U256::from(1));
    let smode = if mode == 1 { SmartSessionMode::Enable } else { SmartSessionMode::UnsafeEnable };
    let computed =
        SignedSession::of(session, account, deployment.smart_session, nonce, smode).digest();
    let index = usize::from(enable.chainDigestIndex);
    let Some(chain) = enable.hashesAndChainIds.get(index) else {
        return Err(Reject::panic(
            0x32,
            format!(
                "chainDigestIndex {index} is past the {} digests",
                enable.hashesAndChainIds.len()
            ),
        )
        .into());
    };
    if chain.chainId != chain_id {
        return Err(Reject::error(
            &ISmartSession::ChainIdMismatch { providedChainId: chain.chainId },
            vec![chain.chainId.to_string()],
            format!("digest {index} is for chain {}, this is chain {chain_id}", chain.chainId),
        )
        .into());
    }
    if chain.sessionDigest != computed {
        return Err(Reject::error(
            &ISmartSession::HashMismatch {
                providedHash: chain.sessionDigest,
                computedHash: computed,
            },
            vec![chain.sessionDigest.to_string(), computed.to_string()],
            format!("the signed session digest is not the session's under nonce {nonce}"),
        )
        .into());
    }
    let digest = multichain_digest(&enable.hashesAndChainIds);
    if !verifier.is_valid_signature(account, digest, &enable.permissionEnableSig) {
        return Err(Reject::error(
            &ISmartSession::InvalidEnableSignature { account, hash: digest },
            vec![account.to_string(), digest.to_string()],
            "the account does not accept the owner's signature over the multichain digest",
        )
        .into());
    }
    state.enable_session(deployment, session).map_err(|e| enable_stop(&e))?;
    Ok((pid, session_sig))
}

/// The revert an enable failure surfaces as inside `validateUserOp`.
fn enable_stop(e: &EnableError) -> Stop {
    let reason = e.to_string();
    match e {
        EnableError::InvalidData => {
            Reject::error(&ISmartSession::InvalidData {}, Vec::new(), reason).into()
        }
        EnableError::InvalidPermissionId(pid) => Reject::error(
            &ISmartSession::InvalidPermissionId { permissionId: pid.0 },
            vec![pid.to_string()],
            reason,
        )
        .into(),
        EnableError::InvalidActionId => {
            Reject::error(&ISmartSession::InvalidActionId {}, Vec::new(), reason).into()
        }
        EnableError::UnsupportedPolicy(p) => Reject::error(
            &ISmartSession::UnsupportedPolicy { policy: *p },
            vec![p.to_string()],
            reason,
        )
        .into(),
        EnableError::InvalidSessionValidator(v) => Reject::error(
            &ISmartSession::InvalidISessionValidator { sessionValidator: *v },
            vec![v.to_string()],
            reason,
        )
        .into(),
        EnableError::PolicyInit { data, reason: name, .. } => {
            Reject { data: data.clone(), name, args: Vec::new(), reason }.into()
        }
        EnableError::UnknownPolicy(p) => Stop::Eval(EvalError::UnknownPolicy(*p)),
        EnableError::UnknownSessionValidator(v) => {
            Stop::Eval(EvalError::UnknownSessionValidator(*v))
        }
    }
}
