//! Revert data: the policies' and the session validator's errors, Solidity panics, and the
//! first word of a revert (all SmartSession keeps of a policy's).

use alloy_primitives::{B256, Bytes, U256};
use alloy_sol_types::{Panic, SolError};

/// The policies' and the session validator's errors (their revert data).
mod contract_errors {
    #![allow(missing_docs, unreachable_pub)]
    alloy_sol_types::sol! {
        error PolicyNotInitialized(bytes32 id, address multiplexer, address account);
        error ValueLimitExceeded(bytes32 id, uint256 value, uint256 limit);
        error InvalidTokenAddress(address token);
        error InvalidLimit(uint256 limit);
        error InvalidInitDataLength();
        error UnsupportedCallType(bytes1 callType);
        error DecodingError();
        error InvalidSessionKeyData();
    }
}
pub(crate) use contract_errors::{
    DecodingError, InvalidInitDataLength, InvalidLimit, InvalidSessionKeyData, InvalidTokenAddress,
    PolicyNotInitialized, UnsupportedCallType, ValueLimitExceeded,
};

/// The name of error `E` (its signature up to the parameters).
pub(crate) fn error_name<E: SolError>() -> &'static str {
    E::SIGNATURE.split_once('(').map_or(E::SIGNATURE, |(name, _)| name)
}

/// `Panic(uint256 code)`.
pub(crate) fn panic_data(code: u8) -> Bytes {
    Panic { code: U256::from(code) }.abi_encode().into()
}

/// The first 32 bytes of `data`, zero-padded.
pub(crate) fn first_word(data: &[u8]) -> B256 {
    let mut w = [0u8; 32];
    let n = data.len().min(32);
    w[..n].copy_from_slice(&data[..n]);
    B256::from(w)
}

/// The first word of any panic: its selector, zero-padded.
pub(crate) fn panic_word() -> B256 {
    first_word(&Panic::SELECTOR)
}

#[cfg(test)]
mod tests {
    use alloy_primitives::hex;

    use super::*;

    #[test]
    fn panics_and_names_are_the_solidity_ones() {
        assert_eq!(
            panic_data(0x32)[..],
            hex!("4e487b710000000000000000000000000000000000000000000000000000000000000032")[..]
        );
        assert_eq!(error_name::<PolicyNotInitialized>(), "PolicyNotInitialized");
        assert_eq!(error_name::<InvalidInitDataLength>(), "InvalidInitDataLength");
    }
}
