//! The smart account a session is granted on: Mandate's ERC-7579 account, created by its
//! factory with one owner key behind K1Validator.

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate_abi::{
    ModuleInit, UserOperation,
    sol::{IERC7579Account, IMandateAccountFactory},
    validator_nonce_key,
};
use mandate_sim::DevnetDeployments;

/// ERC-7579 module type of validators.
pub const MODULE_TYPE_VALIDATOR: u64 = 1;

/// An account of Mandate's factory owned by one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnerAccount {
    /// The factory.
    pub factory: Address,
    /// The owner's validator (K1Validator).
    pub owner_validator: Address,
    /// The owner's address.
    pub owner: Address,
    /// The factory salt (several accounts per owner).
    pub salt: B256,
}

impl OwnerAccount {
    /// The account of `owner` with salt zero on a chain with `deployments`.
    pub const fn new(deployments: &DevnetDeployments, owner: Address) -> Self {
        Self {
            factory: deployments.account_factory,
            owner_validator: deployments.k1_validator,
            owner,
            salt: B256::ZERO,
        }
    }

    /// With another salt.
    pub const fn with_salt(mut self, salt: B256) -> Self {
        self.salt = salt;
        self
    }

    fn validators(&self) -> Vec<ModuleInit> {
        vec![ModuleInit {
            module: self.owner_validator,
            initData: Bytes::copy_from_slice(self.owner.as_slice()),
        }]
    }

    /// The factory call whose answer is the account's address.
    pub fn address_query(&self) -> IMandateAccountFactory::getAddressCall {
        IMandateAccountFactory::getAddressCall { validators: self.validators(), salt: self.salt }
    }

    /// The factory data of the account's first op.
    pub fn factory_data(&self) -> Bytes {
        IMandateAccountFactory::createAccountCall { validators: self.validators(), salt: self.salt }
            .abi_encode()
            .into()
    }

    /// The EntryPoint nonce key that routes an op to the owner's validator.
    pub fn nonce_key(&self) -> U256 {
        validator_nonce_key(self.owner_validator, 0)
    }

    /// The account's `isModuleInstalled(validator, module)` call.
    pub fn is_validator_installed(module: Address) -> IERC7579Account::isModuleInstalledCall {
        IERC7579Account::isModuleInstalledCall {
            moduleTypeId: U256::from(MODULE_TYPE_VALIDATOR),
            module,
            additionalContext: Bytes::new(),
        }
    }

    /// Signs `op` as the owner: K1Validator checks a personal-sign of the userOpHash.
    pub fn sign(
        signer: &PrivateKeySigner,
        op: &mut UserOperation,
        entry_point: Address,
        chain_id: u64,
    ) -> Result<(), alloy_signer::Error> {
        let hash = op.hash(entry_point, chain_id);
        op.signature = signer.sign_message_sync(hash.as_slice())?.as_bytes().to_vec().into();
        Ok(())
    }
}
