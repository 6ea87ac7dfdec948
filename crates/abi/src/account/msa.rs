//! The ERC-7579 reference implementation, MSAAdvanced (`uMSA.advanced/withHook.v0.1`).
//!
//! The nonce key is `validator(20) ‖ lane(4)` (a validator not installed fails validation
//! without a revert); ERC-1271 signatures are `validator ‖ sig`; SmartSession's install data goes
//! in unwrapped. The reference ships no factory: accounts come from Mandate's `MSAProxyFactory`
//! (`createAccount(salt, initCode)`), whose proxy is initialised in its constructor with
//! `initCode = abi.encode(bootstrap, bootstrapCall)`.

use alloy_primitives::{Address, B256, Bytes};
use alloy_sol_types::{SolCall, SolValue, sol};

/// What `accountId()` of an MSAAdvanced account starts with.
pub const ACCOUNT_ID_PREFIX: &str = "uMSA.advanced";

sol! {
    /// The reference account's bootstrap.
    #[derive(Debug, PartialEq, Eq)]
    interface IMSABootstrap {
        function singleInitMSA(address validator, bytes data) external;
    }

    /// Mandate's factory of reference accounts.
    #[derive(Debug, PartialEq, Eq)]
    interface IMSAProxyFactory {
        function createAccount(bytes32 salt, bytes initCode) external payable returns (address account);
        function getAddress(bytes32 salt, bytes initCode) external view returns (address);
    }
}

/// The account's init code: `abi.encode(bootstrap, singleInitMSA(validator, validator_data))`.
pub fn init_code(bootstrap: Address, validator: Address, validator_data: Bytes) -> Bytes {
    let call = IMSABootstrap::singleInitMSACall { validator, data: validator_data };
    (bootstrap, Bytes::from(call.abi_encode())).abi_encode_params().into()
}

/// The factory call whose answer is the account's address.
pub fn address_query(salt: B256, init_code: Bytes) -> IMSAProxyFactory::getAddressCall {
    IMSAProxyFactory::getAddressCall { salt, initCode: init_code }
}

/// The factory data of the account's first op.
pub fn factory_data(salt: B256, init_code: Bytes) -> Bytes {
    IMSAProxyFactory::createAccountCall { salt, initCode: init_code }.abi_encode().into()
}

#[cfg(test)]
mod tests {
    use alloy_primitives::hex;

    use super::*;

    #[test]
    fn selectors_are_the_deployed_ones() {
        assert_eq!(IMSABootstrap::singleInitMSACall::SELECTOR, hex!("6b0d5cc4"));
    }

    #[test]
    fn the_salt_comes_first() {
        let data = factory_data(B256::repeat_byte(5), Bytes::from(vec![1]));
        assert_eq!(data[4..36], [5u8; 32]);
    }
}
