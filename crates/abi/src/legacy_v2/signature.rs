//! `userOp.signature` for session keys v2: the Session Key Manager's (one session, the SDK's
//! `getSingleSessionTxParams`) and the Batched Session Router's (one session per call, in call
//! order, the SDK's `getBatchSessionTxParams`), each wrapped as the Smart Account v2 reads it:
//! `abi.encode(bytes moduleSignature, address validationModule)`.

use alloy_primitives::{Address, B256, Bytes, keccak256};
use alloy_sol_types::SolValue;

use super::{
    LegacyV2EncodeError, MerkleTree, SessionLeaf, sol::SessionData, user_op::personal_hash,
};

/// `abi.encode(bytes moduleSignature, address validationModule)`.
pub fn account_signature(module_signature: &[u8], module: Address) -> Bytes {
    (Bytes::copy_from_slice(module_signature), module).abi_encode_params().into()
}

/// Splits an account signature into the module signature and the module.
pub fn decode_account_signature(signature: &[u8]) -> Result<(Bytes, Address), LegacyV2EncodeError> {
    <(Bytes, Address)>::abi_decode_params(signature).map_err(|source| LegacyV2EncodeError::Decode {
        what: "Smart Account v2 signature",
        source,
    })
}

/// The Session Key Manager's module signature: `abi.encode(uint48 validUntil, uint48 validAfter,
/// address svm, bytes sessionKeyData, bytes32[] proof, bytes sessionKeySignature)`.
pub fn single_module_signature(
    leaf: &SessionLeaf,
    proof: &[B256],
    session_key_signature: &[u8],
) -> Bytes {
    (
        alloy_primitives::aliases::U48::from(leaf.valid_until & super::merkle::MAX_U48),
        alloy_primitives::aliases::U48::from(leaf.valid_after & super::merkle::MAX_U48),
        leaf.session_validation_module,
        leaf.session_key_data.clone(),
        proof.to_vec(),
        Bytes::copy_from_slice(session_key_signature),
    )
        .abi_encode_params()
        .into()
}

/// The whole `userOp.signature` for one session: the leaf's proof in `tree`, the session key's
/// signature (over [`personal_hash`] of the user-op hash), wrapped for `session_key_manager`.
pub fn single_session_signature(
    leaf: &SessionLeaf,
    tree: &MerkleTree,
    session_key_signature: &[u8],
    session_key_manager: Address,
) -> Result<Bytes, LegacyV2EncodeError> {
    leaf.check()?;
    let proof = tree.proof(leaf.hash())?;
    Ok(account_signature(
        &single_module_signature(leaf, &proof, session_key_signature),
        session_key_manager,
    ))
}

/// One call's session in a batch: the leaf and the SDK's `additionalSessionData` (`0x` when
/// absent).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchEntry {
    /// The session covering the call.
    pub leaf: SessionLeaf,
    /// Passed to the module's `validateSessionParams` as `callSpecificData`.
    pub call_specific_data: Bytes,
}

impl From<SessionLeaf> for BatchEntry {
    fn from(leaf: SessionLeaf) -> Self {
        Self { leaf, call_specific_data: Bytes::new() }
    }
}

/// The leaf `getSingleSessionTxParams` picks from the stored sessions: `index`, or the last one.
pub fn single_session_leaf(
    stored: &[SessionLeaf],
    index: Option<usize>,
) -> Result<&SessionLeaf, LegacyV2EncodeError> {
    let index = index.unwrap_or_else(|| stored.len().saturating_sub(1));
    stored.get(index).ok_or(LegacyV2EncodeError::SessionIndex { index, stored: stored.len() })
}

/// The leaves `getBatchSessionTxParams` picks for `calls` calls, in call order: `indexes` (one
/// per call), or the last `calls` stored sessions.
pub fn batch_session_leaves(
    stored: &[SessionLeaf],
    indexes: Option<&[usize]>,
    calls: usize,
) -> Result<Vec<BatchEntry>, LegacyV2EncodeError> {
    match indexes {
        Some(indexes) if indexes.len() != calls => {
            Err(LegacyV2EncodeError::SessionIndexes { indexes: indexes.len(), calls })
        }
        Some(indexes) => indexes
            .iter()
            .map(|&index| {
                stored
                    .get(index)
                    .map(|leaf| leaf.clone().into())
                    .ok_or(LegacyV2EncodeError::SessionIndex { index, stored: stored.len() })
            })
            .collect(),
        None if calls > stored.len() => {
            Err(LegacyV2EncodeError::NotEnoughSessions { stored: stored.len(), calls })
        }
        None => Ok(stored[stored.len() - calls..].iter().cloned().map(Into::into).collect()),
    }
}

/// The router's module signature: `abi.encode(address sessionKeyManager, SessionData[],
/// bytes sessionKeySignature)`.
pub fn batch_module_signature(
    session_key_manager: Address,
    sessions: &[SessionData],
    session_key_signature: &[u8],
) -> Bytes {
    (session_key_manager, sessions.to_vec(), Bytes::copy_from_slice(session_key_signature))
        .abi_encode_params()
        .into()
}

/// The whole `userOp.signature` for a batch: one entry per call of `executeBatch`, in call
/// order, each with its proof in `tree`, wrapped for `router`.
pub fn batch_session_signature(
    entries: &[BatchEntry],
    tree: &MerkleTree,
    session_key_manager: Address,
    router: Address,
    session_key_signature: &[u8],
) -> Result<Bytes, LegacyV2EncodeError> {
    if entries.is_empty() {
        return Err(LegacyV2EncodeError::EmptyBatch);
    }
    let sessions = entries
        .iter()
        .map(|e| {
            e.leaf.check()?;
            Ok(SessionData {
                validUntil: alloy_primitives::aliases::U48::from(e.leaf.valid_until),
                validAfter: alloy_primitives::aliases::U48::from(e.leaf.valid_after),
                sessionValidationModule: e.leaf.session_validation_module,
                sessionKeyData: e.leaf.session_key_data.clone(),
                merkleProof: tree.proof(e.leaf.hash())?,
                callSpecificData: e.call_specific_data.clone(),
            })
        })
        .collect::<Result<Vec<_>, LegacyV2EncodeError>>()?;
    Ok(account_signature(
        &batch_module_signature(session_key_manager, &sessions, session_key_signature),
        router,
    ))
}

/// What the Batched Session Router recovers the session key over. The versions differ (spec
/// §14.3 vs the npm package): see [`router_digest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RouterDigest {
    /// `toEthSignedMessageHash(userOpHash)`: the router the SDK v4 targets (it signs the
    /// user-op hash as a raw message) and spec §14.3.
    UserOpHash,
    /// `toEthSignedMessageHash(keccak256(abi.encodePacked(userOpHash, sessionKeyManager)))`:
    /// the router of `@biconomy-devx/account-contracts-v2@1.0.1`.
    UserOpHashAndManager,
}

/// The 32-byte message the session key signs (EIP-191 `personal_sign`) for a batch; the hash the
/// router recovers over is [`personal_hash`] of it.
pub fn router_digest(
    user_op_hash: B256,
    session_key_manager: Address,
    version: RouterDigest,
) -> B256 {
    match version {
        RouterDigest::UserOpHash => user_op_hash,
        RouterDigest::UserOpHashAndManager => {
            keccak256([user_op_hash.as_slice(), session_key_manager.as_slice()].concat())
        }
    }
}

/// The prehash a session key's signature is checked against for a batch.
pub fn router_prehash(
    user_op_hash: B256,
    session_key_manager: Address,
    version: RouterDigest,
) -> B256 {
    personal_hash(router_digest(user_op_hash, session_key_manager, version))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn single_signature_decodes_back() {
        let leaf = SessionLeaf::new(10, 2, Address::repeat_byte(5), vec![1, 2, 3]);
        let other = SessionLeaf::new(0, 0, Address::repeat_byte(6), vec![4]);
        let tree = MerkleTree::from_leaves(&[leaf.clone(), other]);
        let skm = Address::repeat_byte(0x5c);
        let sig = single_session_signature(&leaf, &tree, &[7u8; 65], skm).unwrap();
        let (module_sig, module) = decode_account_signature(&sig).unwrap();
        assert_eq!(module, skm);
        type Single = (
            alloy_primitives::aliases::U48,
            alloy_primitives::aliases::U48,
            Address,
            Bytes,
            Vec<B256>,
            Bytes,
        );
        let (until, after, svm, data, proof, key_sig) =
            Single::abi_decode_params(&module_sig).unwrap();
        assert_eq!(
            (until.to::<u64>(), after.to::<u64>(), svm),
            (10, 2, leaf.session_validation_module)
        );
        assert_eq!(data, leaf.session_key_data);
        assert!(MerkleTree::verify(&proof, tree.root(), leaf.hash()));
        assert_eq!(key_sig.len(), 65);
        let stranger = SessionLeaf::new(0, 0, Address::ZERO, vec![]);
        assert!(single_session_signature(&stranger, &tree, &[0u8; 65], skm).is_err());
    }

    #[test]
    fn sessions_are_picked_as_the_sdk_picks_them() {
        let stored: Vec<SessionLeaf> =
            (0..4u8).map(|i| SessionLeaf::new(0, 0, Address::repeat_byte(i), vec![i])).collect();
        assert_eq!(single_session_leaf(&stored, None).unwrap(), &stored[3]);
        assert_eq!(single_session_leaf(&stored, Some(1)).unwrap(), &stored[1]);
        assert_eq!(
            single_session_leaf(&stored, Some(4)),
            Err(LegacyV2EncodeError::SessionIndex { index: 4, stored: 4 })
        );
        assert!(single_session_leaf(&[], None).is_err());
        let picked = batch_session_leaves(&stored, Some(&[2, 0]), 2).unwrap();
        assert_eq!((&picked[0].leaf, &picked[1].leaf), (&stored[2], &stored[0]));
        let last = batch_session_leaves(&stored, None, 3).unwrap();
        assert_eq!(last[0].leaf, stored[1]);
        assert_eq!(
            batch_session_leaves(&stored, Some(&[0]), 2),
            Err(LegacyV2EncodeError::SessionIndexes { indexes: 1, calls: 2 })
        );
        assert_eq!(
            batch_session_leaves(&stored, None, 5),
            Err(LegacyV2EncodeError::NotEnoughSessions { stored: 4, calls: 5 })
        );
        assert_eq!(
            batch_session_leaves(&stored, Some(&[0, 9]), 2),
            Err(LegacyV2EncodeError::SessionIndex { index: 9, stored: 4 })
        );
    }

    #[test]
    fn batch_signature_keeps_call_order() {
        let a = SessionLeaf::new(0, 0, Address::repeat_byte(1), vec![1]);
        let b = SessionLeaf::new(0, 0, Address::repeat_byte(2), vec![2]);
        let tree = MerkleTree::from_leaves(&[a.clone(), b.clone()]);
        let (skm, router) = (Address::repeat_byte(0x5c), Address::repeat_byte(0xb5));
        let sig =
            batch_session_signature(&[b.clone().into(), a.into()], &tree, skm, router, &[0u8; 65])
                .unwrap();
        let (module_sig, module) = decode_account_signature(&sig).unwrap();
        assert_eq!(module, router);
        let (manager, sessions, _) =
            <(Address, Vec<SessionData>, Bytes)>::abi_decode_params(&module_sig).unwrap();
        assert_eq!(manager, skm);
        assert_eq!(sessions[0].sessionValidationModule, b.session_validation_module);
        assert!(batch_session_signature(&[], &tree, skm, router, &[]).is_err());
        let h = B256::repeat_byte(3);
        assert_eq!(router_digest(h, skm, RouterDigest::UserOpHash), h);
        assert_ne!(router_digest(h, skm, RouterDigest::UserOpHashAndManager), h);
    }
}
