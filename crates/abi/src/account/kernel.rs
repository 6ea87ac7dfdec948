//! ZeroDev Kernel v3.1 (`kernel.advanced.v0.3.1`).
//!
//! The nonce key is `mode(1) ‖ type(1) ‖ validator(20) ‖ lane(2)`: mode `0x00` (Kernel's enable
//! mode `0x01` is not used); type `0x00` is the root validator (the validator bytes are ignored),
//! `0x01` a validator the account installed — SmartSession needs `0x01` (module-sdk 0.4.0 writes
//! `0x00`, which validates with the root instead). A non-root validator is used only for the
//! selectors installed with it, so SmartSession's install data is Kernel's envelope with hook
//! "none" and `execute`'s selector. ERC-1271 signatures are `0x01 ‖ validator ‖ sig`, and the
//! validator sees the hash wrapped in Kernel's EIP-712 type `Kernel(bytes32 hash)`.

use alloy_primitives::{Address, B256, Bytes, FixedBytes, U256, keccak256};
use alloy_sol_types::{Eip712Domain, SolCall, SolValue, sol};

use crate::sol::IERC7579Account;

/// What `accountId()` of a Kernel account starts with.
pub const ACCOUNT_ID_PREFIX: &str = "kernel.advanced.";
/// The EIP-712 domain name Kernel wraps ERC-1271 hashes under.
pub const DOMAIN_NAME: &str = "Kernel";
/// Its version.
pub const DOMAIN_VERSION: &str = "0.3.1";
/// The validation-type byte before a validator's address in an ERC-1271 signature.
pub const ERC1271_VALIDATOR_LEAD: [u8; 1] = [ValidationType::Validator as u8];

sol! {
    /// Kernel's initialiser.
    #[derive(Debug, PartialEq, Eq)]
    interface IKernel {
        function initialize(bytes21 rootValidator, address hook, bytes validatorData, bytes hookData, bytes[] initConfig) external;
    }

    /// Kernel's factory.
    #[derive(Debug, PartialEq, Eq)]
    interface IKernelFactory {
        function createAccount(bytes data, bytes32 salt) external payable returns (address);
        function getAddress(bytes data, bytes32 salt) external view returns (address);
    }
}

/// Kernel's validation types (the nonce key's second byte, an ERC-1271 signature's first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ValidationType {
    /// The root validator.
    Root = 0x00,
    /// An installed validator named by address.
    Validator = 0x01,
    /// A permission (Kernel's own permission system).
    Permission = 0x02,
}

/// The nonce key of `validation` (`validator` ignored for the root) in lane `lane` (its low 16
/// bits), default mode.
pub fn nonce_key(validation: ValidationType, validator: Address, lane: u32) -> U256 {
    let mut key = [0u8; 24];
    key[1] = validation as u8;
    if validation != ValidationType::Root {
        key[2..22].copy_from_slice(validator.as_slice());
    }
    key[22..].copy_from_slice(&lane.to_be_bytes()[2..]);
    U256::from_be_slice(&key)
}

/// `0x01 ‖ validator`: a validator as Kernel's `initialize` takes the root.
pub fn validation_id(validator: Address) -> FixedBytes<21> {
    let mut id = [0u8; 21];
    id[0] = ValidationType::Validator as u8;
    id[1..].copy_from_slice(validator.as_slice());
    FixedBytes(id)
}

/// SmartSession's `installModule` init data: `hook(20 zero bytes: none) ‖ abi.encode(validatorData
/// = smart_session_init, hookData = "", selectorData = execute's selector)`. Any selector data
/// other than exactly 4 bytes grants nothing, silently; module-sdk 0.4.0 sends none.
pub fn smart_session_install_data(smart_session_init: &[u8]) -> Bytes {
    let selector = Bytes::copy_from_slice(&IERC7579Account::executeCall::SELECTOR);
    let envelope =
        (Bytes::copy_from_slice(smart_session_init), Bytes::new(), selector).abi_encode_params();
    [&[0u8; 20][..], &envelope].concat().into()
}

/// The account's init data: `initialize(0x01 ‖ root_validator, no hook, validator_data, "", [])`.
pub fn init_data(root_validator: Address, validator_data: Bytes) -> Bytes {
    IKernel::initializeCall {
        rootValidator: validation_id(root_validator),
        hook: Address::ZERO,
        validatorData: validator_data,
        hookData: Bytes::new(),
        initConfig: Vec::new(),
    }
    .abi_encode()
    .into()
}

/// The factory call whose answer is the account's address.
pub fn address_query(init_data: Bytes, salt: B256) -> IKernelFactory::getAddressCall {
    IKernelFactory::getAddressCall { data: init_data, salt }
}

/// The factory data of the account's first op.
pub fn factory_data(init_data: Bytes, salt: B256) -> Bytes {
    IKernelFactory::createAccountCall { data: init_data, salt }.abi_encode().into()
}

/// The account's EIP-712 domain: `("Kernel", "0.3.1", chain_id, account)`.
pub fn domain(chain_id: u64, account: Address) -> Eip712Domain {
    Eip712Domain::new(
        Some(DOMAIN_NAME.into()),
        Some(DOMAIN_VERSION.into()),
        Some(U256::from(chain_id)),
        Some(account),
        None,
    )
}

/// The hash Kernel hands its validator for `isValidSignature(hash, …)`:
/// `keccak256(0x1901 ‖ domainSeparator ‖ keccak256(abi.encode(keccak256("Kernel(bytes32 hash)"),
/// hash)))`. An owner signing an ERC-1271 message for a Kernel account signs this.
pub fn wrap_hash(hash: B256, chain_id: u64, account: Address) -> B256 {
    let type_hash = keccak256("Kernel(bytes32 hash)");
    let struct_hash = keccak256((type_hash, hash).abi_encode());
    let separator = domain(chain_id, account).separator();
    keccak256([&[0x19, 0x01][..], separator.as_slice(), struct_hash.as_slice()].concat())
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{address, b256, hex};

    use super::*;

    #[test]
    fn selectors_are_the_deployed_ones() {
        assert_eq!(IKernel::initializeCall::SELECTOR, hex!("3c3b752b"));
    }

    #[test]
    fn smart_session_needs_type_validator_and_the_root_ignores_the_address() {
        let ss = address!("00000000008bDABA73cD9815d79069c247Eb4bDA");
        let word = (nonce_key(ValidationType::Validator, ss, 0) << 64usize).to_be_bytes::<32>();
        assert_eq!(word[..2], hex!("0001"));
        assert_eq!(&word[2..22], ss.as_slice());
        assert_eq!(word[22..], [0u8; 10]);
        assert_eq!(nonce_key(ValidationType::Root, ss, 0), U256::ZERO);
    }

    #[test]
    fn install_data_is_hook_then_three_bytes() {
        let data = smart_session_install_data(&[]);
        assert_eq!(data[..20], [0u8; 20]);
        let (validator, hook, selector) =
            <(Bytes, Bytes, Bytes)>::abi_decode_params(&data[20..]).unwrap();
        assert!(validator.is_empty() && hook.is_empty());
        assert_eq!(selector.as_ref(), hex!("e9ae5c53"));
    }

    #[test]
    fn the_wrapped_hash_follows_eip712() {
        let (hash, account) = (B256::repeat_byte(0x42), Address::repeat_byte(0xac));
        // keccak256("Kernel(bytes32 hash)")
        let type_hash = b256!("1547321c374afde8a591d972a084b071c594c275e36724931ff96c25f2999c83");
        assert_eq!(keccak256("Kernel(bytes32 hash)"), type_hash);
        let domain_type = keccak256(
            "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)",
        );
        let separator = keccak256(
            (domain_type, keccak256("Kernel"), keccak256("0.3.1"), U256::from(31337), account)
                .abi_encode(),
        );
        let expected = keccak256(
            [
                &[0x19, 0x01][..],
                separator.as_slice(),
                keccak256((type_hash, hash).abi_encode()).as_slice(),
            ]
            .concat(),
        );
        assert_eq!(wrap_hash(hash, 31337, account), expected);
        assert_ne!(wrap_hash(hash, 1, account), expected);
    }
}
