//! Biconomy Nexus (modulekit 0.5.9's build, EIP-712 domain `("Nexus","1.0.1")`).
//!
//! The nonce key is `lane(3) ‖ mode(1) ‖ validator(20)`: mode `0x00` validates with the validator
//! (`0x01` is Nexus's own module-enable mode, not SmartSession's ENABLE); the three lane bytes are
//! free. module-sdk 0.4.0 puts the validator in the key's first 20 bytes instead, which Nexus
//! refuses with `ValidatorNotInstalled`. ERC-1271 signatures are `validator ‖ sig`; SmartSession's
//! install data goes in unwrapped. Accounts come from the factory's `createAccount(initData,
//! salt)`, initialised by a bootstrap.

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{SolCall, SolValue, sol};

/// What `accountId()` of a Nexus account starts with.
pub const ACCOUNT_ID_PREFIX: &str = "biconomy.nexus.";
/// The nonce-key mode byte that validates with the validator it names.
pub const MODE_VALIDATION: u8 = 0x00;

sol! {
    /// Nexus's account factory.
    #[derive(Debug, PartialEq, Eq)]
    interface INexusAccountFactory {
        function createAccount(bytes initData, bytes32 salt) external payable returns (address payable);
        function computeAccountAddress(bytes initData, bytes32 salt) external view returns (address payable expectedAddress);
    }

    /// Nexus's bootstrap, delegatecalled by a new account with its init data.
    #[derive(Debug, PartialEq, Eq)]
    interface INexusBootstrap {
        function initNexusWithSingleValidator(address validator, bytes data, address registry, address[] attesters, uint8 threshold) external;
    }
}

/// The nonce key routing to `validator` in lane `lane` (its low 24 bits), validation mode.
pub fn nonce_key(validator: Address, lane: u32) -> U256 {
    let mut key = [0u8; 24];
    key[..3].copy_from_slice(&lane.to_be_bytes()[1..]);
    key[3] = MODE_VALIDATION;
    key[4..].copy_from_slice(validator.as_slice());
    U256::from_be_slice(&key)
}

/// The account's init data: `abi.encode(bootstrap, initNexusWithSingleValidator(validator,
/// validator_data, registry 0, no attesters, 0))`.
pub fn init_data(bootstrap: Address, validator: Address, validator_data: Bytes) -> Bytes {
    let call = INexusBootstrap::initNexusWithSingleValidatorCall {
        validator,
        data: validator_data,
        registry: Address::ZERO,
        attesters: Vec::new(),
        threshold: 0,
    };
    (bootstrap, Bytes::from(call.abi_encode())).abi_encode_params().into()
}

/// The factory call whose answer is the account's address.
pub fn address_query(
    init_data: Bytes,
    salt: B256,
) -> INexusAccountFactory::computeAccountAddressCall {
    INexusAccountFactory::computeAccountAddressCall { initData: init_data, salt }
}

/// The factory data of the account's first op.
pub fn factory_data(init_data: Bytes, salt: B256) -> Bytes {
    INexusAccountFactory::createAccountCall { initData: init_data, salt }.abi_encode().into()
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{address, hex};

    use super::*;

    #[test]
    fn selectors_are_the_deployed_ones() {
        assert_eq!(INexusBootstrap::initNexusWithSingleValidatorCall::SELECTOR, hex!("01fe9ff2"));
        assert_eq!(INexusAccountFactory::createAccountCall::SELECTOR, hex!("ea6d13ac"));
        assert_eq!(INexusAccountFactory::computeAccountAddressCall::SELECTOR, hex!("fafa2b42"));
    }

    #[test]
    fn the_lane_comes_first_then_mode_then_validator() {
        let v = address!("00000000008bDABA73cD9815d79069c247Eb4bDA");
        let word = (nonce_key(v, 0xabcdef) << 64usize).to_be_bytes::<32>();
        assert_eq!(word[..4], hex!("abcdef00"));
        assert_eq!(&word[4..24], v.as_slice());
        assert_eq!(word[24..], [0u8; 8]);
    }

    #[test]
    fn init_data_is_bootstrap_and_call() {
        let (b, v) = (Address::repeat_byte(0xb0), Address::repeat_byte(0x71));
        let data = init_data(b, v, Bytes::from(vec![0x22; 20]));
        let (bootstrap, call) = <(Address, Bytes)>::abi_decode_params(&data).unwrap();
        assert_eq!(bootstrap, b);
        let decoded = INexusBootstrap::initNexusWithSingleValidatorCall::abi_decode(&call).unwrap();
        assert_eq!((decoded.validator, decoded.data.len()), (v, 20));
    }
}
