//! Mandate's own ERC-7579 account: created by `MandateAccountFactory.createAccount(validators,
//! salt)`; the nonce key is `validator(20) ‖ lane(4)`; ERC-1271 signatures are `validator ‖ sig`;
//! SmartSession's install data goes in unwrapped.

use alloy_primitives::{Address, B256, Bytes};
use alloy_sol_types::SolCall;

use crate::sol::{IMandateAccountFactory, ModuleInit};

/// What `accountId()` of Mandate's account starts with.
pub const ACCOUNT_ID_PREFIX: &str = "mandate.";

/// The validators an account owned through `owner_validator` (e.g. K1Validator) is created with:
/// the owner's address as the validator's init data.
pub fn owner_validators(owner_validator: Address, owner: Address) -> Vec<ModuleInit> {
    vec![ModuleInit { module: owner_validator, initData: Bytes::copy_from_slice(owner.as_slice()) }]
}

/// The factory call whose answer is the account's address.
pub fn address_query(
    validators: Vec<ModuleInit>,
    salt: B256,
) -> IMandateAccountFactory::getAddressCall {
    IMandateAccountFactory::getAddressCall { validators, salt }
}

/// The factory data of the account's first op.
pub fn factory_data(validators: Vec<ModuleInit>, salt: B256) -> Bytes {
    IMandateAccountFactory::createAccountCall { validators, salt }.abi_encode().into()
}
