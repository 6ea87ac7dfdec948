//! ENABLE and UNSAFE_ENABLE mode: the session enabled inside `validateUserOp`.

use alloy_primitives::{Bytes, U256};
use mandate_abi::{
    PermissionId, SignatureError, SignedSession, SmartSessionMode, decode_enable_payload,
    multichain_digest, sol::ISmartSession,
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
    let (enable, session_sig) = decode_enable_payload(&payload).map_err(|e| match e {
        SignatureError::Bounds(bounds) => Stop::Eval(EvalError::EnablePayloadBounds(bounds)),
        _ => Reject::empty("the ENABLE payload is not abi.encode(EnableSession, bytes)").into(),
    })?;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use alloy_primitives::{Address, B256};
    use alloy_sol_types::SolCall;
    use mandate_abi::{
        Deployments, PackedUserOperation, PolicyAddresses, SessionValidators, bounds::BoundsError,
        fastlz, sol::ISmartSession,
    };

    use super::U256;
    use crate::{AccountState, Deployment, EvalError, Evaluator};

    fn word(n: usize) -> [u8; 32] {
        U256::from(n).to_be_bytes()
    }

    /// `abi.encode(EnableSession, bytes)` with 16,000 actions pointing at one `ActionData`
    /// whose 16,000 policies point at one `PolicyData` (mandate-abi's `hostile` tests).
    fn aliasing_payload() -> Vec<u8> {
        let n = 16_000;
        let mut w: Vec<[u8; 32]> = vec![word(0x40), word(0)];
        w.extend([word(0), word(4 * 32), word(6 * 32), word(5 * 32), word(0), word(0)]);
        w.extend([word(1), word(224), word(0), word(224), word(256), word(352), word(0)]);
        w.extend([word(0), word(2 * 32), word(2 * 32), word(0)]);
        w.push(word(n));
        w.extend(std::iter::repeat_n(word(n * 32), n));
        w.extend([word(0), word(2), word(0x60), word(n)]);
        w.extend(std::iter::repeat_n(word(n * 32), n));
        w.extend([word(3), word(0x40), word(0)]);
        w[1] = word(w.len() * 32);
        w.push(word(0));
        w.concat()
    }

    #[test]
    fn aliasing_enable_payload_is_refused_in_bounded_memory() {
        let account = Address::with_last_byte(0xaa);
        let deployment = Deployment::new(&Deployments {
            smart_session: Address::with_last_byte(1),
            session_validators: SessionValidators {
                ecdsa: Some(Address::with_last_byte(2)),
                ownable: None,
            },
            policies: PolicyAddresses::MODULE_SDK,
            ..Deployments::default()
        });
        let evaluator = Evaluator::new(deployment)
            .with_enable(1, Arc::new(|_: Address, _: B256, _: &[u8]| true));
        let signature = [vec![1], fastlz::compress(&aliasing_payload())].concat();
        assert!(signature.len() < 13_000, "{} bytes", signature.len());
        let op = PackedUserOperation {
            sender: account,
            callData: ISmartSession::isInitializedCall { account }.abi_encode().into(),
            signature: signature.into(),
            ..Default::default()
        };
        let err = evaluator.check(&mut AccountState::new(account), &op, B256::ZERO).unwrap_err();
        assert!(
            matches!(err, EvalError::EnablePayloadBounds(BoundsError::Aliased { .. })),
            "{err:?}"
        );
    }
}
