//! ZeroDev Kernel v3.1 ([`mandate_abi::account::kernel`]).

use alloy_primitives::{Address, B256, Bytes, U256};
use mandate_abi::{
    NonceKeyError,
    account::{
        AccountType,
        kernel::{self, ValidationType},
    },
};
use mandate_sim::{Devnet, DevnetDeployments};

use super::{AccountFamily, FirstOp, owner_data};
use crate::ClientError;

/// Kernel v3.1 accounts of one factory with `owner_validator` as root validator. The owner's
/// ops use the root (nonce type `0x00`); SmartSession's use type `0x01`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kernel {
    /// The factory.
    pub factory: Address,
    /// The root validator.
    pub owner_validator: Address,
}

impl Kernel {
    /// Kernel with `factory`, rooted in `owner_validator`.
    pub const fn new(factory: Address, owner_validator: Address) -> Self {
        Self { factory, owner_validator }
    }

    /// Kernel v3.1 on the devnet, rooted in its K1Validator.
    pub const fn devnet(deployments: &DevnetDeployments) -> Self {
        Self::new(deployments.families.kernel.factory, deployments.k1_validator)
    }

    fn init_data(&self, owner: Address) -> Bytes {
        kernel::init_data(self.owner_validator, owner_data(owner))
    }
}

impl AccountFamily for Kernel {
    /// SmartSession's own (empty) deinit data: the account keeps no validator list.
    fn smart_session_uninstall_data(
        &self,
        _chain: &mut Devnet,
        _account: Address,
        _smart_session: Address,
    ) -> Result<Bytes, ClientError> {
        Ok(Bytes::new())
    }

    fn name(&self) -> &str {
        "kernel"
    }

    fn owner_validator(&self) -> Address {
        self.owner_validator
    }

    fn accepts_account_id(&self, account_id: &str) -> bool {
        account_id.starts_with(kernel::ACCOUNT_ID_PREFIX)
    }

    fn address(
        &self,
        chain: &mut Devnet,
        owner: Address,
        salt: B256,
    ) -> Result<Address, ClientError> {
        Ok(chain.call_sol(self.factory, &kernel::address_query(self.init_data(owner), salt))?)
    }

    fn first_op(&self, owner: Address, salt: B256, call_data: Bytes) -> FirstOp {
        FirstOp {
            factory: self.factory,
            factory_data: kernel::factory_data(self.init_data(owner), salt),
            call_data,
        }
    }

    fn owner_nonce_key(&self) -> U256 {
        kernel::nonce_key(ValidationType::Root, Address::ZERO, 0)
    }

    fn validator_nonce_key(&self, validator: Address, lane: u32) -> Result<U256, NonceKeyError> {
        AccountType::Kernel.validator_nonce_key(validator, lane)
    }

    fn smart_session_install_data(&self, smart_session_init: &[u8]) -> Bytes {
        AccountType::Kernel.smart_session_install_data(smart_session_init)
    }

    fn enable_message(&self, digest: B256, chain_id: u64, account: Address) -> B256 {
        AccountType::Kernel.erc1271_hash(digest, chain_id, account)
    }

    fn erc1271_prefix(&self, validator: Address) -> Bytes {
        AccountType::Kernel.erc1271_prefix(validator).into()
    }
}
