//! Sessions whose session validator is an OwnableValidator (Rhinestone's, at
//! [`OWNABLE_VALIDATOR`](crate::deployments::OWNABLE_VALIDATOR), or Mandate's
//! interface-compatible one): a threshold of owners.
//!
//! The session's `sessionValidatorInitData` is [`OwnableData`], `abi.encode(uint256 threshold,
//! address[] owners)` with the owners strictly ascending. The session signature is `threshold`
//! words of 65 bytes `r ‖ s ‖ v`; Mandate signs each as an EIP-191 personal-sign of the hash with
//! `v + 4` (31/32), the form the validator recovers over the personal-sign hash. A plain
//! personal-sign (v 27/28) is recovered over the raw hash by the validator and so fails.
//!
//! ```
//! use mandate_abi::{alloy_primitives::address, ownable::OwnableData};
//!
//! let a = address!("00000000000000000000000000000000000000aa");
//! let b = address!("00000000000000000000000000000000000000bb");
//! // Owners in any order; the encoding holds them ascending.
//! let data = OwnableData::new(2, vec![b, a])?;
//! assert_eq!(data.owners(), &[a, b]);
//! assert_eq!(OwnableData::decode(&data.encode())?, data);
//! assert_eq!(data.dummy_signature().len(), 2 * 65);
//! # Ok::<(), mandate_abi::ownable::OwnableDataError>(())
//! ```

use alloy_primitives::{Address, Bytes, Signature, U256};
use alloy_sol_types::{SolType, SolValue, sol_data};

use crate::signature::DUMMY_ECDSA_WORD;

/// How much `v` is raised to mark a word as signed over the EIP-191 personal-sign hash.
pub const PERSONAL_SIGN_V_OFFSET: u8 = 4;

/// Bytes of one signer's word in the session signature.
pub const WORD_LEN: usize = 65;

/// An OwnableValidator session's validator data: `threshold` of `owners` must sign. Holds only
/// what the validator accepts: a threshold in 1..=owners, non-zero owners, strictly ascending.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OwnableData {
    threshold: usize,
    owners: Vec<Address>,
}

/// Why threshold and owners are not an OwnableValidator configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OwnableDataError {
    /// The threshold is 0 (the validator refuses every signature).
    #[error("the threshold is 0")]
    ZeroThreshold,
    /// More signers are required than there are owners (no signature can satisfy it).
    #[error("threshold {threshold} is above the {owners} owner(s)")]
    ThresholdAboveOwners {
        /// The threshold.
        threshold: U256,
        /// How many owners there are.
        owners: usize,
    },
    /// An owner is the zero address (a failed ECDSA recovery would count as its signature).
    #[error("owner {index} is the zero address")]
    ZeroOwner {
        /// Its index in the owners as given.
        index: usize,
    },
    /// An owner is listed twice.
    #[error("owner {owner} is listed twice")]
    DuplicateOwner {
        /// The owner.
        owner: Address,
    },
    /// Encoded owners are not strictly ascending (the validator refuses every signature).
    #[error("owner {index} is not above the one before it (owners must be ascending)")]
    NotAscending {
        /// The index of the first owner out of order.
        index: usize,
    },
    /// The bytes are not `abi.encode(uint256, address[])`.
    #[error("not abi.encode(uint256 threshold, address[] owners): {0}")]
    Abi(#[source] alloy_sol_types::Error),
    /// The bytes decode, but are not the canonical encoding (trailing or padded bytes).
    #[error("not the canonical abi.encode(uint256 threshold, address[] owners)")]
    NonCanonical,
}

impl OwnableData {
    /// `threshold` of `owners` (in any order; kept ascending).
    pub fn new(threshold: usize, mut owners: Vec<Address>) -> Result<Self, OwnableDataError> {
        if threshold == 0 {
            return Err(OwnableDataError::ZeroThreshold);
        }
        if let Some(index) = owners.iter().position(|owner| *owner == Address::ZERO) {
            return Err(OwnableDataError::ZeroOwner { index });
        }
        if threshold > owners.len() {
            return Err(OwnableDataError::ThresholdAboveOwners {
                threshold: U256::from(threshold),
                owners: owners.len(),
            });
        }
        owners.sort_unstable();
        if let Some(pair) = owners.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(OwnableDataError::DuplicateOwner { owner: pair[0] });
        }
        Ok(Self { threshold, owners })
    }

    /// Decodes a session's `sessionValidatorInitData`; strict: the canonical encoding of a
    /// configuration [`new`](Self::new) accepts, owners already ascending.
    pub fn decode(data: &[u8]) -> Result<Self, OwnableDataError> {
        let (threshold, owners) =
            <(sol_data::Uint<256>, sol_data::Array<sol_data::Address>)>::abi_decode_params(data)
                .map_err(OwnableDataError::Abi)?;
        if let Some(index) = (1..owners.len()).find(|&i| owners[i - 1] >= owners[i]) {
            return Err(OwnableDataError::NotAscending { index });
        }
        let Ok(threshold) = usize::try_from(threshold) else {
            return Err(OwnableDataError::ThresholdAboveOwners { threshold, owners: owners.len() });
        };
        let decoded = Self::new(threshold, owners)?;
        if decoded.encode().as_ref() != data {
            return Err(OwnableDataError::NonCanonical);
        }
        Ok(decoded)
    }

    /// `abi.encode(uint256 threshold, address[] owners)`, the session's `sessionValidatorInitData`.
    pub fn encode(&self) -> Bytes {
        (U256::from(self.threshold), self.owners.clone()).abi_encode_params().into()
    }

    /// How many distinct owners must sign.
    pub const fn threshold(&self) -> usize {
        self.threshold
    }

    /// The owners, ascending.
    pub fn owners(&self) -> &[Address] {
        &self.owners
    }

    /// Whether `signer` is an owner.
    pub fn is_owner(&self, signer: Address) -> bool {
        self.owners.binary_search(&signer).is_ok()
    }

    /// The gas-estimation stub: `threshold` words shaped as real ones (see
    /// [`SessionValidatorKind::dummy_signature`](crate::SessionValidatorKind::dummy_signature)).
    pub fn dummy_signature(&self) -> Bytes {
        dummy_words(self.threshold)
    }
}

/// The session signature from the owners' signatures of the EIP-191 personal-sign hash of the
/// hash (the userOpHash), each as `r ‖ s ‖ v + 4`. The validator sorts the signers, so any order
/// does.
pub fn encode_personal_signatures(signatures: &[Signature]) -> Bytes {
    let mut out = Vec::with_capacity(signatures.len() * WORD_LEN);
    for signature in signatures {
        let mut word = signature.as_bytes();
        word[64] += PERSONAL_SIGN_V_OFFSET;
        out.extend_from_slice(&word);
    }
    out.into()
}

/// `count` stub words with `v` = 27 + [`PERSONAL_SIGN_V_OFFSET`]: each makes the validator hash
/// and `ecrecover` as a real word does.
pub(crate) fn dummy_words(count: usize) -> Bytes {
    let mut word = DUMMY_ECDSA_WORD;
    word[64] = 27 + PERSONAL_SIGN_V_OFFSET;
    word.repeat(count).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Address = Address::repeat_byte(0xaa);
    const B: Address = Address::repeat_byte(0xbb);

    #[test]
    fn refuses_what_the_validator_refuses() {
        assert!(matches!(OwnableData::new(0, vec![A]), Err(OwnableDataError::ZeroThreshold)));
        assert!(matches!(
            OwnableData::new(2, vec![A]),
            Err(OwnableDataError::ThresholdAboveOwners { owners: 1, .. })
        ));
        assert!(matches!(
            OwnableData::new(1, vec![A, Address::ZERO]),
            Err(OwnableDataError::ZeroOwner { index: 1 })
        ));
        assert!(matches!(
            OwnableData::new(1, vec![B, A, B]),
            Err(OwnableDataError::DuplicateOwner { owner: B })
        ));
        let unsorted: Bytes = (U256::from(1), vec![B, A]).abi_encode_params().into();
        assert!(matches!(
            OwnableData::decode(&unsorted),
            Err(OwnableDataError::NotAscending { index: 1 })
        ));
        let huge: Bytes = (U256::MAX, vec![A]).abi_encode_params().into();
        assert!(matches!(
            OwnableData::decode(&huge),
            Err(OwnableDataError::ThresholdAboveOwners { owners: 1, .. })
        ));
        let mut trailing = OwnableData::new(1, vec![A]).unwrap().encode().to_vec();
        trailing.push(0);
        assert!(matches!(OwnableData::decode(&trailing), Err(OwnableDataError::NonCanonical)));
        assert!(matches!(OwnableData::decode(&[1, 2, 3]), Err(OwnableDataError::Abi(_))));
    }

    #[test]
    fn encodes_abi_encode_of_threshold_and_owners() {
        let data = OwnableData::new(1, vec![B, A]).unwrap();
        let bytes = data.encode();
        // threshold, offset 0x40, length 2, A, B
        assert_eq!(bytes.len(), 5 * 32);
        assert_eq!(U256::from_be_slice(&bytes[..32]), U256::from(1));
        assert_eq!(U256::from_be_slice(&bytes[32..64]), U256::from(0x40));
        assert_eq!(U256::from_be_slice(&bytes[64..96]), U256::from(2));
        assert_eq!(&bytes[108..128], A.as_slice());
        assert_eq!(&bytes[140..160], B.as_slice());
        assert!(data.is_owner(A) && !data.is_owner(Address::repeat_byte(1)));
    }

    #[test]
    fn personal_signatures_carry_v_plus_four() {
        let sig = Signature::new(U256::from(7), U256::from(9), true);
        let bytes = encode_personal_signatures(&[sig, sig]);
        assert_eq!(bytes.len(), 130);
        assert_eq!(bytes[64], 32);
        assert_eq!(bytes[129], 32);
        let stub = OwnableData::new(1, vec![A]).unwrap().dummy_signature();
        assert_eq!(stub.len(), 65);
        assert_eq!(stub[64], 31);
    }
}
