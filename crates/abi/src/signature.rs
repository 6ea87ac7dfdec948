//! `userOp.signature` encodings of SmartSession (spec §3.1, §3.4): USE, ENABLE and
//! UNSAFE_ENABLE, with the ENABLE payload FastLZ-compressed and the owner's enable signature
//! prefixed for the account's validator routing.

use alloy_primitives::{Address, B256, Bytes};
use alloy_sol_types::{SolValue, abi::AbiDecoderConfig};
use serde::{Deserialize, Serialize};

use crate::{
    account::AccountType,
    bounds::{self, BoundsError, MAX_DECODE_FACTOR},
    fastlz::{self, FastLzError},
    ids::PermissionId,
    sol::EnableSession,
};

/// The mode byte at the start of a SmartSession signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum SmartSessionMode {
    /// Use an enabled session.
    #[serde(rename = "0x00", alias = "USE")]
    Use = 0,
    /// Enable a session with the owner's signature, then use it.
    #[serde(rename = "0x01", alias = "ENABLE")]
    Enable = 1,
    /// As `Enable`, signing that registry attestations are ignored.
    #[serde(rename = "0x02", alias = "UNSAFE_ENABLE")]
    UnsafeEnable = 2,
}

impl SmartSessionMode {
    /// The mode of a mode byte.
    pub const fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0 => Some(Self::Use),
            1 => Some(Self::Enable),
            2 => Some(Self::UnsafeEnable),
            _ => None,
        }
    }
}

/// Why a signature could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature is empty.
    #[error("signature is empty")]
    Empty,
    /// The mode byte is not 0, 1 or 2.
    #[error("mode byte {0:#04x} is not USE (0x00), ENABLE (0x01) or UNSAFE_ENABLE (0x02)")]
    UnknownMode(u8),
    /// A USE signature shorter than the mode byte and the permission id.
    #[error("USE signature is {0} bytes; it needs at least 33 (mode + permissionId)")]
    TooShort(usize),
    /// The ENABLE payload is not valid FastLZ.
    #[error("ENABLE payload: {0}")]
    Decompress(#[from] FastLzError),
    /// The decompressed ENABLE payload is not `abi.encode(EnableSession, bytes)`.
    #[error("ENABLE payload does not decode as (EnableSession, bytes): {0}")]
    Abi(#[from] alloy_sol_types::Error),
    /// The ENABLE payload holds more than an op can carry, or decodes to far more than its size.
    #[error("ENABLE payload: {0}")]
    Bounds(#[from] BoundsError),
    /// The owner's enable signature lacks the account type's routing prefix.
    #[error(
        "permissionEnableSig does not start with the routing prefix of a {account_type} account"
    )]
    EnableSignaturePrefix {
        /// The account type assumed.
        account_type: AccountType,
    },
    /// An unknown account type name.
    #[error(
        "unknown account type {0:?} (mandate, nexus, kernel, safe, erc7579-implementation or msa)"
    )]
    UnknownAccountType(String),
    /// An ENABLE mode was asked for with USE data or the reverse.
    #[error("mode {0:?} does not take this data")]
    ModeMismatch(SmartSessionMode),
}

/// The data of an ENABLE signature as module-sdk holds it: the `EnableSession` with the
/// owner's raw signature, and how to route it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnableSessionData {
    /// The session, its chain digests and the owner's raw `permissionEnableSig`.
    pub enable_session: EnableSession,
    /// The account's validator that checks the owner's signature.
    #[serde(with = "crate::json::address")]
    pub validator: Address,
    /// How the account routes it.
    pub account_type: AccountType,
}

/// A SmartSession signature, decoded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecodedSignature {
    /// Its mode.
    pub mode: SmartSessionMode,
    /// The permission it uses (recomputed from the session for ENABLE modes).
    pub permission_id: B256,
    /// The session key's signature.
    pub signature: Bytes,
    /// For ENABLE modes: what enables the session.
    pub enable_session_data: Option<EnableSessionData>,
}

/// A USE-mode signature: `0x00 ‖ permissionId ‖ sessionSignature`.
pub fn encode_use(permission_id: PermissionId, session_signature: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(33 + session_signature.len());
    out.push(SmartSessionMode::Use as u8);
    out.extend_from_slice(permission_id.0.as_slice());
    out.extend_from_slice(session_signature);
    out.into()
}

/// The uncompressed ENABLE payload `abi.encode(EnableSession, bytes sessionSignature)`, with
/// the owner's signature prefixed for the account type.
pub fn enable_payload(data: &EnableSessionData, session_signature: &[u8]) -> Vec<u8> {
    (formatted_enable_session(data), Bytes::copy_from_slice(session_signature)).abi_encode_params()
}

/// The data's `EnableSession` with the owner's signature prefixed for the account type.
fn formatted_enable_session(data: &EnableSessionData) -> EnableSession {
    let formatted = data
        .account_type
        .format_enable_signature(data.validator, &data.enable_session.permissionEnableSig);
    EnableSession { permissionEnableSig: formatted, ..data.enable_session.clone() }
}

/// An ENABLE or UNSAFE_ENABLE signature: `mode ‖ flzCompress(enable payload)`.
pub fn encode_enable(
    mode: SmartSessionMode,
    data: &EnableSessionData,
    session_signature: &[u8],
) -> Result<Bytes, SignatureError> {
    encode_enable_session(mode, &formatted_enable_session(data), session_signature)
}

/// An ENABLE or UNSAFE_ENABLE signature of an `EnableSession` whose `permissionEnableSig`
/// already carries the account's routing prefix (as an account family formats it).
pub fn encode_enable_session(
    mode: SmartSessionMode,
    enable: &EnableSession,
    session_signature: &[u8],
) -> Result<Bytes, SignatureError> {
    if mode == SmartSessionMode::Use {
        return Err(SignatureError::ModeMismatch(mode));
    }
    let payload = (enable.clone(), Bytes::copy_from_slice(session_signature)).abi_encode_params();
    let compressed = fastlz::compress(&payload);
    let mut out = Vec::with_capacity(1 + compressed.len());
    out.push(mode as u8);
    out.extend_from_slice(&compressed);
    Ok(out.into())
}

/// Decodes a SmartSession signature; ENABLE modes need the account type to strip the
/// routing prefix of the owner's signature.
pub fn decode(
    signature: &[u8],
    account_type: AccountType,
) -> Result<DecodedSignature, SignatureError> {
    let (&mode_byte, rest) = signature.split_first().ok_or(SignatureError::Empty)?;
    let mode =
        SmartSessionMode::from_byte(mode_byte).ok_or(SignatureError::UnknownMode(mode_byte))?;
    if mode == SmartSessionMode::Use {
        if rest.len() < 32 {
            return Err(SignatureError::TooShort(signature.len()));
        }
        return Ok(DecodedSignature {
            mode,
            permission_id: B256::from_slice(&rest[..32]),
            signature: Bytes::copy_from_slice(&rest[32..]),
            enable_session_data: None,
        });
    }
    let payload = fastlz::decompress(rest)?;
    let (mut enable_session, session_signature) = decode_enable_payload(&payload)?;
    let (validator, raw) =
        account_type.parse_enable_signature(&enable_session.permissionEnableSig)?;
    enable_session.permissionEnableSig = raw;
    Ok(DecodedSignature {
        mode,
        permission_id: PermissionId::of(&enable_session.sessionToEnable).0,
        signature: session_signature,
        enable_session_data: Some(EnableSessionData { enable_session, validator, account_type }),
    })
}

/// Decodes a decompressed ENABLE payload, `abi.encode(EnableSession, bytes sessionSignature)`,
/// in bounded memory: decoding stops once it would take more than [`MAX_DECODE_FACTOR`] times
/// the payload's size (offsets aliasing one another), and the lists are checked against
/// [`bounds::check_enable_session`]. The owner's signature keeps its routing prefix.
pub fn decode_enable_payload(payload: &[u8]) -> Result<(EnableSession, Bytes), SignatureError> {
    let limit = payload.len().saturating_mul(MAX_DECODE_FACTOR);
    let config = AbiDecoderConfig::new().memory_limit(limit);
    let decoded = <(EnableSession, Bytes)>::abi_decode_params_with_config(payload, config)
        .map_err(|e| match e {
            alloy_sol_types::Error::MemoryLimitExceeded(limit) => {
                SignatureError::Bounds(BoundsError::Aliased {
                    field: "(EnableSession, bytes)",
                    size: payload.len(),
                    limit,
                })
            }
            e => SignatureError::Abi(e),
        })?;
    bounds::check_enable_session(&decoded.0)?;
    Ok(decoded)
}

/// Which kind of session validator checks a session's signature: the shape its signature has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionValidatorKind {
    /// Mandate's ECDSA session signer: one 65-byte signature of the EIP-191 personal-sign hash,
    /// `v` 27/28.
    Ecdsa,
    /// An OwnableValidator ([`crate::ownable`]): `threshold` words of 65 bytes, `v` 31/32.
    Ownable {
        /// How many owners must sign.
        threshold: usize,
    },
}

impl SessionValidatorKind {
    /// The gas-estimation stub for this kind: the length and `v` of a real signature, every
    /// other byte non-zero (the calldata costs what a real one may) and `s` in the lower half of
    /// the curve order, so the validator gets as far as the `ecrecover`s a real one costs. A stub
    /// of another shape estimates another path (a short one reverts; a long one overpays).
    pub fn dummy_signature(self) -> Bytes {
        match self {
            Self::Ecdsa => Bytes::copy_from_slice(&DUMMY_ECDSA_WORD),
            Self::Ownable { threshold } => crate::ownable::dummy_words(threshold),
        }
    }
}

/// One stub ECDSA word `r ‖ s ‖ v` (see [`SessionValidatorKind::dummy_signature`]): `r` is
/// the x-coordinate of the secp256k1 generator, so `ecrecover` finds a signer for any hash (an
/// `r` off the curve recovers nobody, which an OwnableValidator answers with a revert, not a
/// failed signature); `s` is below half the curve order.
pub(crate) const DUMMY_ECDSA_WORD: [u8; 65] = {
    let generator_x =
        alloy_primitives::hex!("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
    let mut sig = [0xffu8; 65];
    let mut i = 0;
    while i < 32 {
        sig[i] = generator_x[i];
        i += 1;
    }
    sig[32] = 0x5f;
    sig[64] = 27;
    sig
};

#[cfg(test)]
mod tests {
    use alloy_primitives::{B256, address};

    use super::*;
    use crate::sol::{ChainDigest, Session};

    #[test]
    fn use_layout_and_decode() {
        let id = PermissionId(B256::repeat_byte(0x42));
        let sig = encode_use(id, &[1, 2, 3]);
        assert_eq!(sig.len(), 36);
        assert_eq!(sig[0], 0);
        assert_eq!(&sig[1..33], id.0.as_slice());
        let decoded = decode(&sig, AccountType::Nexus).unwrap();
        assert_eq!(decoded.permission_id, id.0);
        assert_eq!(decoded.signature.as_ref(), &[1, 2, 3]);
    }

    #[test]
    fn enable_round_trips_for_every_account_type() {
        let session = Session { salt: B256::repeat_byte(3), ..Default::default() };
        for account_type in AccountType::ALL {
            let data = EnableSessionData {
                enable_session: EnableSession {
                    chainDigestIndex: 1,
                    hashesAndChainIds: vec![
                        ChainDigest { chainId: 1, sessionDigest: B256::repeat_byte(1) },
                        ChainDigest { chainId: 10, sessionDigest: B256::repeat_byte(2) },
                    ],
                    sessionToEnable: session.clone(),
                    permissionEnableSig: Bytes::from_static(&[9; 65]),
                },
                validator: address!("000000000013fdB5234E4E3162a810F54d9f7E98"),
                account_type,
            };
            for mode in [SmartSessionMode::Enable, SmartSessionMode::UnsafeEnable] {
                let sig = encode_enable(mode, &data, &[7; 65]).unwrap();
                assert_eq!(sig[0], mode as u8);
                let decoded = decode(&sig, account_type).unwrap();
                assert_eq!(decoded.mode, mode);
                assert_eq!(decoded.permission_id, PermissionId::of(&session).0);
                assert_eq!(decoded.signature.as_ref(), &[7; 65]);
                assert_eq!(decoded.enable_session_data.as_ref(), Some(&data));
            }
        }
    }

    #[test]
    fn bad_signatures_are_typed_errors() {
        assert!(matches!(decode(&[], AccountType::Nexus), Err(SignatureError::Empty)));
        assert!(matches!(decode(&[3], AccountType::Nexus), Err(SignatureError::UnknownMode(3))));
        assert!(matches!(decode(&[0, 1, 2], AccountType::Nexus), Err(SignatureError::TooShort(3))));
        assert!(matches!(
            decode(&[1, 0x20, 0], AccountType::Nexus),
            Err(SignatureError::Decompress(_))
        ));
        assert!(matches!(decode(&[1, 0, 5], AccountType::Nexus), Err(SignatureError::Abi(_))));
    }
}
