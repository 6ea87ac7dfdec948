//! Biconomy Nexus ([`mandate_abi::account::nexus`]).

use alloy_primitives::{Address, B256, Bytes, U256};
use mandate_abi::{
    NonceKeyError,
    account::{AccountType, nexus},
};
use mandate_sim::{Devnet, DevnetDeployments};

use super::{AccountFamily, FirstOp, owner_data};
use crate::ClientError;

/// Nexus accounts of one factory and bootstrap, owned through `owner_validator` (installed by
/// `initNexusWithSingleValidator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nexus {
    /// The account factory.
    pub factory: Address,
    /// The bootstrap new accounts delegatecall.
    pub bootstrap: Address,
    /// The owner's validator.
    pub owner_validator: Address,
    /// The parallel lane (24 bits) the owner's ops use.
    pub owner_lane: u32,
}

impl Nexus {
    /// Nexus with `factory` and `bootstrap`, owned through `owner_validator`, lane 0.
    pub const fn new(factory: Address, bootstrap: Address, owner_validator: Address) -> Self {
        Self { factory, bootstrap, owner_validator, owner_lane: 0 }
    }

    /// Nexus on the devnet (modulekit's build), owned through its K1Validator.
    pub const fn devnet(deployments: &DevnetDeployments) -> Self {
        let nexus = deployments.families.nexus;
        Self::new(nexus.factory, nexus.bootstrap, deployments.k1_validator)
    }

    fn init_data(&self, owner: Address) -> Bytes {
        nexus::init_data(self.bootstrap, self.owner_validator, owner_data(owner))
    }
}

impl AccountFamily for Nexus {
    fn name(&self) -> &str {
        "nexus"
    }

    fn owner_validator(&self) -> Address {
        self.owner_validator
    }

    fn accepts_account_id(&self, account_id: &str) -> bool {
        account_id.starts_with(nexus::ACCOUNT_ID_PREFIX)
    }

    fn address(
        &self,
        chain: &mut Devnet,
        owner: Address,
        salt: B256,
    ) -> Result<Address, ClientError> {
        Ok(chain.call_sol(self.factory, &nexus::address_query(self.init_data(owner), salt))?)
    }

    fn first_op(&self, owner: Address, salt: B256, call_data: Bytes) -> FirstOp {
        FirstOp {
            factory: self.factory,
            factory_data: nexus::factory_data(self.init_data(owner), salt),
            call_data,
        }
    }

    fn owner_nonce_key(&self) -> U256 {
        nexus::nonce_key(self.owner_validator, self.owner_lane & 0x00ff_ffff)
    }

    fn validator_nonce_key(&self, validator: Address, lane: u32) -> Result<U256, NonceKeyError> {
        AccountType::Nexus.validator_nonce_key(validator, lane)
    }
}
