//! Safe 1.4.1 with the Safe7579 adapter ([`mandate_abi::account::safe`]). The owner signs
//! through the owner validator (nonce key `validator ‖ 00000000`), not through the Safe's owners;
//! the Safe's single owner (threshold 1) is the owner's address all the same.

use alloy_primitives::{Address, B256, Bytes, U256};
use mandate_abi::{
    AccountType,
    account::safe::{self, ISafeProxyFactory, SafeContracts},
    sol::ModuleInit,
};
use mandate_sim::{Devnet, DevnetDeployments};

use super::{AccountFamily, FirstOp, owner_data};
use crate::ClientError;

/// Safe7579 accounts of one deployment, created through the launchpad with `owner_validator`
/// as their validator. The salt is the proxy factory's salt nonce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Safe7579 {
    /// The Safe singleton, proxy factory, adapter and launchpad.
    pub contracts: SafeContracts,
    /// The owner's validator.
    pub owner_validator: Address,
}

impl Safe7579 {
    /// Safe7579 on `contracts`, owned through `owner_validator`.
    pub const fn new(contracts: SafeContracts, owner_validator: Address) -> Self {
        Self { contracts, owner_validator }
    }

    /// Safe7579 on the devnet, owned through its K1Validator.
    pub const fn devnet(deployments: &DevnetDeployments) -> Self {
        let safe = deployments.families.safe;
        let contracts = SafeContracts {
            singleton: safe.singleton,
            proxy_factory: safe.proxy_factory,
            adapter: safe.adapter,
            launchpad: safe.launchpad,
        };
        Self::new(contracts, deployments.k1_validator)
    }

    fn init_data(&self, owner: Address, call_data: Bytes) -> safe::ISafe7579Launchpad::InitData {
        let validators =
            vec![ModuleInit { module: self.owner_validator, initData: owner_data(owner) }];
        safe::init_data(&self.contracts, vec![owner], 1, validators, call_data)
    }

    fn initializer(&self, owner: Address) -> Bytes {
        safe::initializer(safe::init_hash(&self.init_data(owner, Bytes::new())))
    }
}

impl AccountFamily for Safe7579 {
    fn name(&self) -> &str {
        "safe"
    }

    fn compatibility_fallback_install_data(&self) -> Option<Bytes> {
        AccountType::Safe.compatibility_fallback_install_data()
    }

    fn owner_validator(&self) -> Address {
        self.owner_validator
    }

    fn accepts_account_id(&self, account_id: &str) -> bool {
        account_id.starts_with(safe::ACCOUNT_ID_PREFIX)
    }

    fn address(
        &self,
        chain: &mut Devnet,
        owner: Address,
        salt: B256,
    ) -> Result<Address, ClientError> {
        let code = chain
            .call_sol(self.contracts.proxy_factory, &ISafeProxyFactory::proxyCreationCodeCall {})?;
        Ok(safe::address(
            &self.contracts,
            &code,
            &self.initializer(owner),
            U256::from_be_bytes(salt.0),
        ))
    }

    fn first_op(&self, owner: Address, salt: B256, call_data: Bytes) -> FirstOp {
        FirstOp {
            factory: self.contracts.proxy_factory,
            factory_data: safe::factory_data(
                &self.contracts,
                self.initializer(owner),
                U256::from_be_bytes(salt.0),
            ),
            call_data: safe::setup_call(self.init_data(owner, call_data)),
        }
    }
}
