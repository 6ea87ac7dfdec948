//! The OwnableValidator as a session validator: `validateSignatureWithData(hash, signature,
//! data)` with `data = abi.encode(uint256 threshold, address[] owners)`, as the bytecode at
//! module-sdk's address (core-modules 1f97c29) and Mandate's interface-compatible contract
//! answer it (held against both by `tests/it/ownable_parity.rs`).
//!
//! In order:
//! 1. `data` is ABI-decoded as Solidity does: fewer than two words, an offset or a length out of
//!    bounds, or an owner with dirty high bits revert without data; a length whose allocation
//!    passes Solidity's memory limit panics `0x41`.
//! 2. Owners not strictly ascending, or a threshold of 0: `false`.
//! 3. A signature shorter than `threshold × 65` bytes reverts `InvalidSignature()` (for any
//!    threshold: no product overflows).
//! 4. Every whole 65-byte word `r ‖ s ‖ v` has a signer or none: v 27/28 `ecrecover`s the hash,
//!    v > 30 the EIP-191 hash of the hash with v − 4, v 0 names an ERC-1271 signer `r` whose
//!    bytes (length word first) sit at offset `s` (outside the signature: no signer; inside:
//!    the signer's answer, which this evaluator does not have); anything else recovers nobody.
//! 5. Fewer than `threshold` words with a signer revert `InvalidSignature()`.
//! 6. Valid iff the distinct signers — a word without one counts as the zero address — include
//!    at least `threshold` owners.

use alloy_primitives::{Address, B256, U256, eip191_hash_message};
use mandate_abi::sol::IOwnableValidator;

use super::{Reject, Stop, recover::ecrecover};
use crate::error::EvalError;

/// Bytes of one signer's word.
const WORD: usize = 65;

/// Where Solidity's free memory starts when the decoder allocates the owners: an allocation
/// ending past `2^64 − 1` from here panics `0x41`.
const FREE_MEMORY_START: u64 = 0x80;

/// What the OwnableValidator answers to `validateSignatureWithData(hash, signature, data)`:
/// `Ok(Ok(valid))` when it returns, `Ok(Err(revert))` when it reverts, `Err` when the answer
/// depends on what this evaluator does not model (an ERC-1271 owner's answer).
pub fn ownable_validate(
    hash: B256,
    signature: &[u8],
    data: &[u8],
) -> Result<Result<bool, Reject>, EvalError> {
    match validate(hash, signature, data, true) {
        Ok(valid) => Ok(Ok(valid)),
        Err(Stop::Reject(reject)) => Ok(Err(reject)),
        Err(Stop::Eval(error)) => Err(error),
    }
}

/// Steps 1–3 always; with `verify`, steps 4–6 too (else the signature counts as valid once
/// its length fits the threshold).
pub(super) fn validate(
    hash: B256,
    signature: &[u8],
    data: &[u8],
    verify: bool,
) -> Result<bool, Stop> {
    let (threshold, owners) = decode(data)?;
    if owners.windows(2).any(|pair| pair[0] >= pair[1]) || threshold.is_zero() {
        return Ok(false);
    }
    // Whole words against the threshold: no product, so no overflow (as the bytecode).
    if U256::from(signature.len() / WORD) < threshold {
        return Err(invalid_signature(format!(
            "OwnableValidator: the signature has {} bytes, threshold {threshold} needs {threshold} × 65",
            signature.len()
        )));
    }
    if !verify {
        return Ok(true);
    }
    let words = signature.len() / WORD;
    let mut signers = Vec::with_capacity(words);
    let mut recovered = 0usize;
    for i in 0..words {
        let word = &signature[i * WORD..(i + 1) * WORD];
        let signer = word_signer(hash, signature, word, i)?;
        if signer.is_some() {
            recovered += 1;
        }
        signers.push(signer.unwrap_or(Address::ZERO));
    }
    // `recovered` ≤ words < 2^64, so a larger threshold is never met.
    if U256::from(recovered) < threshold {
        return Err(invalid_signature(format!(
            "OwnableValidator: {recovered} of {words} signature words have a signer, threshold {threshold}"
        )));
    }
    let mut found = 0usize;
    for (i, signer) in signers.iter().enumerate() {
        if !signers[..i].contains(signer) && owners.binary_search(signer).is_ok() {
            found += 1;
        }
    }
    Ok(U256::from(found) >= threshold)
}

fn invalid_signature(reason: String) -> Stop {
    Reject::error(&IOwnableValidator::InvalidSignature {}, Vec::new(), reason).into()
}

/// `abi.decode(data, (uint256, address[]))` as Solidity's decoder does it.
fn decode(data: &[u8]) -> Result<(U256, Vec<Address>), Stop> {
    let bad = |why: &str| Stop::from(Reject::empty(format!("OwnableValidator data: {why}")));
    let word = |at: usize| U256::from_be_slice(&data[at..at + 32]);
    if data.len() < 64 {
        return Err(bad("shorter than two words"));
    }
    let threshold = word(0);
    let offset = word(32);
    // The array's head must start inside the data: offset + 31 < len (and offset < 2^64).
    let Some(offset) = u64::try_from(offset)
        .ok()
        .and_then(|o| usize::try_from(o).ok())
        .filter(|o| o.checked_add(31).is_some_and(|end| end < data.len()))
    else {
        return Err(bad("the owners' offset is out of bounds"));
    };
    let Some(head) = offset.checked_add(32).filter(|&h| h <= data.len()) else {
        return Err(bad("the owners' length word is out of bounds"));
    };
    let length = word(offset);
    // The decoder allocates `32 + 32 × length` bytes of memory before it checks the bounds.
    let limit = U256::from(u64::MAX - FREE_MEMORY_START - 32) / U256::from(32);
    if length > limit {
        return Err(
            Reject::panic(0x41, "OwnableValidator data: the owners' length is absurd").into()
        );
    }
    let available = (data.len() - head) / 32;
    let Some(length) = usize::try_from(length).ok().filter(|&n| n <= available) else {
        return Err(bad("the owners run past the data"));
    };
    let mut owners = Vec::with_capacity(length);
    for i in 0..length {
        let at = head + 32 * i;
        if data[at..at + 12].iter().any(|&b| b != 0) {
            return Err(bad("an owner has bits above its 160"));
        }
        owners.push(Address::from_slice(&data[at + 12..at + 32]));
    }
    Ok((threshold, owners))
}

/// The signer of word `i`, or `None`.
fn word_signer(
    hash: B256,
    signature: &[u8],
    word: &[u8],
    i: usize,
) -> Result<Option<Address>, Stop> {
    let r = U256::from_be_slice(&word[..32]);
    let s = U256::from_be_slice(&word[32..64]);
    let v = word[64];
    match v {
        0 => {
            let total = U256::from(signature.len());
            let overflow = || Stop::from(Reject::panic(0x11, "OwnableValidator: offset overflows"));
            let head = s.checked_add(U256::from(32)).ok_or_else(overflow)?;
            if head > total {
                return Ok(None);
            }
            // head ≤ len, so these fit.
            let start = head.to::<usize>();
            let length = U256::from_be_slice(&signature[start - 32..start]);
            let end = head.checked_add(length).ok_or_else(overflow)?;
            if end > total {
                return Ok(None);
            }
            Err(Stop::Eval(EvalError::ContractSessionSigner {
                word: i,
                signer: Address::from_word(B256::from(r)),
            }))
        }
        27 | 28 => Ok(ecrecover(hash, v, r, s)),
        31.. => Ok(ecrecover(eip191_hash_message(hash), v - 4, r, s)),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{Bytes, keccak256};
    use alloy_sol_types::{SolError, SolValue};

    use super::*;

    const A: Address = Address::repeat_byte(0xaa);

    fn data(threshold: u64, owners: Vec<Address>) -> Bytes {
        (U256::from(threshold), owners).abi_encode_params().into()
    }

    fn answer(sig: &[u8], data: &[u8]) -> Result<bool, Reject> {
        ownable_validate(keccak256("op"), sig, data).unwrap()
    }

    #[test]
    fn configuration_refusals() {
        assert_eq!(answer(&[0; 65], &data(1, vec![A, Address::repeat_byte(1)])), Ok(false));
        assert_eq!(answer(&[0; 65], &data(0, vec![A])), Ok(false));
        assert_eq!(answer(&[], &data(0, vec![A])), Ok(false));
        let short = answer(&[0; 64], &data(1, vec![A])).unwrap_err();
        assert_eq!(short.data.as_ref(), IOwnableValidator::InvalidSignature::SELECTOR);
        let huge = (U256::MAX, vec![A]).abi_encode_params();
        assert_eq!(answer(&[0; 65], &huge).unwrap_err().name, "InvalidSignature");
        assert_eq!(answer(&[0; 65], &[0; 63]).unwrap_err().data.len(), 0);
        let mut dirty = data(1, vec![A]).to_vec();
        dirty[96] = 1;
        assert_eq!(answer(&[0; 65], &dirty).unwrap_err().data.len(), 0);
    }

    #[test]
    fn words_without_signers() {
        // v 1 recovers nobody: fewer than threshold signers reverts.
        let mut nobody = [0u8; 65];
        nobody[64] = 1;
        let none = answer(&nobody, &data(1, vec![A])).unwrap_err();
        assert_eq!(none.name, "InvalidSignature");
        // A contract word whose bytes lie outside the signature has no signer.
        let mut word = [0u8; 65];
        word[63] = 200;
        assert_eq!(answer(&word, &data(1, vec![A])).unwrap_err().name, "InvalidSignature");
        // One inside asks the signer: not modelled.
        word[63] = 0;
        let err = ownable_validate(
            keccak256("op"),
            &[word.as_slice(), &[0; 32]].concat(),
            &data(1, vec![A]),
        );
        assert!(matches!(err, Err(EvalError::ContractSessionSigner { word: 0, .. })), "{err:?}");
    }
}
