//! Safe 1.4.1 with the Safe7579 adapter and its launchpad.
//!
//! The nonce key is `validator(20) ‖ lane(4)` (an unknown or zero validator means the Safe's
//! owners); ERC-1271 signatures are `validator ‖ sig`; SmartSession's install data goes in
//! unwrapped. A new account is a Safe proxy of the launchpad, created by the proxy factory with an
//! initializer that records the hash of its [`ISafe7579Launchpad::InitData`]; its first op must
//! be `setupSafe(InitData)`, which turns the proxy into a Safe with the adapter and runs
//! `InitData.callData` (a real ERC-7579 call: empty reverts).

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_sol_types::{SolCall, SolValue};

use crate::sol::ModuleInit;
pub use crate::sol::{ISafe7579Launchpad, ISafeProxyFactory};

/// What `accountId()` of a Safe7579 account starts with.
pub const ACCOUNT_ID_PREFIX: &str = "rhinestone.safe7579.";

/// The Safe7579 deployment an account is set up with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SafeContracts {
    /// The Safe singleton.
    pub singleton: Address,
    /// The Safe proxy factory.
    pub proxy_factory: Address,
    /// The Safe7579 adapter.
    pub adapter: Address,
    /// The Safe7579 launchpad.
    pub launchpad: Address,
}

/// The [`ISafe7579Launchpad::InitData`] of a Safe with `owners` (threshold `threshold`), the
/// adapter, `validators` and no executors, fallbacks, hooks or attesters; `call_data` runs in
/// the first op.
pub fn init_data(
    contracts: &SafeContracts,
    owners: Vec<Address>,
    threshold: u64,
    validators: Vec<ModuleInit>,
    call_data: Bytes,
) -> ISafe7579Launchpad::InitData {
    let setup = ISafe7579Launchpad::initSafe7579Call {
        safe7579: contracts.adapter,
        executors: Vec::new(),
        fallbacks: Vec::new(),
        hooks: Vec::new(),
        attesters: Vec::new(),
        threshold: 0,
    };
    ISafe7579Launchpad::InitData {
        singleton: contracts.singleton,
        owners,
        threshold: U256::from(threshold),
        setupTo: contracts.launchpad,
        setupData: setup.abi_encode().into(),
        safe7579: contracts.adapter,
        validators,
        callData: call_data,
    }
}

/// The launchpad's `hash(InitData)`: every field but `callData`, ABI-encoded and hashed — so the
/// address does not depend on what the first op runs.
pub fn init_hash(data: &ISafe7579Launchpad::InitData) -> B256 {
    keccak256(
        (
            data.singleton,
            data.owners.clone(),
            data.threshold,
            data.setupTo,
            data.setupData.clone(),
            data.safe7579,
            data.validators.clone(),
        )
            .abi_encode_params(),
    )
}

/// The proxy's initializer: `preValidationSetup(initHash, 0, "")`.
pub fn initializer(init_hash: B256) -> Bytes {
    ISafe7579Launchpad::preValidationSetupCall {
        initHash: init_hash,
        to: Address::ZERO,
        preInit: Bytes::new(),
    }
    .abi_encode()
    .into()
}

/// The factory data of the account's first op: `createProxyWithNonce(launchpad, initializer,
/// salt_nonce)`.
pub fn factory_data(contracts: &SafeContracts, initializer: Bytes, salt_nonce: U256) -> Bytes {
    ISafeProxyFactory::createProxyWithNonceCall {
        singleton: contracts.launchpad,
        initializer,
        saltNonce: salt_nonce,
    }
    .abi_encode()
    .into()
}

/// The first op's callData: `setupSafe(data)`.
pub fn setup_call(data: ISafe7579Launchpad::InitData) -> Bytes {
    ISafe7579Launchpad::setupSafeCall { initData: data }.abi_encode().into()
}

/// Where the proxy factory puts the account: CREATE2 from the factory with salt
/// `keccak256(keccak256(initializer) ‖ salt_nonce)` over `proxy_creation_code ‖
/// uint256(launchpad)` (`proxy_creation_code` is the factory's `proxyCreationCode()`).
pub fn address(
    contracts: &SafeContracts,
    proxy_creation_code: &[u8],
    initializer: &[u8],
    salt_nonce: U256,
) -> Address {
    let salt = keccak256((keccak256(initializer), salt_nonce).abi_encode_params());
    let init_code = [proxy_creation_code, contracts.launchpad.into_word().as_slice()].concat();
    contracts.proxy_factory.create2(salt, keccak256(init_code))
}

#[cfg(test)]
mod tests {
    use alloy_primitives::hex;

    use super::*;

    fn contracts() -> SafeContracts {
        SafeContracts {
            singleton: Address::repeat_byte(1),
            proxy_factory: Address::repeat_byte(2),
            adapter: Address::repeat_byte(3),
            launchpad: Address::repeat_byte(4),
        }
    }

    #[test]
    fn selectors_are_the_deployed_ones() {
        assert_eq!(ISafe7579Launchpad::setupSafeCall::SELECTOR, hex!("d9ed0e8f"));
        assert_eq!(ISafe7579Launchpad::initSafe7579Call::SELECTOR, hex!("15cca638"));
        assert_eq!(ISafe7579Launchpad::preValidationSetupCall::SELECTOR, hex!("4fff40e1"));
        assert_eq!(ISafeProxyFactory::createProxyWithNonceCall::SELECTOR, hex!("1688f0b9"));
    }

    #[test]
    fn the_init_hash_leaves_the_call_data_out() {
        let data = |call: &[u8]| {
            init_data(
                &contracts(),
                vec![Address::repeat_byte(9)],
                1,
                Vec::new(),
                call.to_vec().into(),
            )
        };
        assert_eq!(init_hash(&data(&[1])), init_hash(&data(&[2])));
        let other = ISafe7579Launchpad::InitData { threshold: U256::from(2), ..data(&[1]) };
        assert_ne!(init_hash(&other), init_hash(&data(&[1])));
    }

    #[test]
    fn the_address_is_create2_of_the_factory() {
        let (c, code, init) = (contracts(), [0x60u8, 0x00], initializer(B256::ZERO));
        let salt = keccak256([keccak256(&init).as_slice(), &[0u8; 31], &[7]].concat());
        let hash = keccak256([&code[..], &[0u8; 12], c.launchpad.as_slice()].concat());
        let expected = keccak256(
            [&[0xff][..], c.proxy_factory.as_slice(), salt.as_slice(), hash.as_slice()].concat(),
        );
        assert_eq!(address(&c, &code, &init, U256::from(7)).as_slice(), &expected[12..]);
    }
}
