//! The ERC-7579 reference account, MSAAdvanced ([`mandate_abi::account::msa`]).

use alloy_primitives::{Address, B256, Bytes};
use mandate_abi::account::{AccountType, msa};
use mandate_sim::{Devnet, DevnetDeployments};

use super::{AccountFamily, FirstOp, owner_data};
use crate::ClientError;

/// Reference accounts from Mandate's `MSAProxyFactory`, initialised by the reference bootstrap
/// with `owner_validator` (`singleInitMSA`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Msa {
    /// Mandate's factory of reference accounts.
    pub factory: Address,
    /// The reference bootstrap.
    pub bootstrap: Address,
    /// The owner's validator.
    pub owner_validator: Address,
}

impl Msa {
    /// Reference accounts of `factory` and `bootstrap`, owned through `owner_validator`.
    pub const fn new(factory: Address, bootstrap: Address, owner_validator: Address) -> Self {
        Self { factory, bootstrap, owner_validator }
    }

    /// Reference accounts of the devnet's factory, owned through its K1Validator.
    pub const fn devnet(deployments: &DevnetDeployments) -> Self {
        let msa = &deployments.families.msa;
        Self::new(msa.factory, msa.bootstrap, deployments.k1_validator)
    }

    fn init_code(&self, owner: Address) -> Bytes {
        msa::init_code(self.bootstrap, self.owner_validator, owner_data(owner))
    }
}

impl AccountFamily for Msa {
    fn name(&self) -> &str {
        "erc7579-implementation"
    }

    fn compatibility_fallback_install_data(&self) -> Option<Bytes> {
        AccountType::Msa.compatibility_fallback_install_data()
    }

    fn owner_validator(&self) -> Address {
        self.owner_validator
    }

    fn accepts_account_id(&self, account_id: &str) -> bool {
        account_id.starts_with(msa::ACCOUNT_ID_PREFIX)
    }

    fn address(
        &self,
        chain: &mut Devnet,
        owner: Address,
        salt: B256,
    ) -> Result<Address, ClientError> {
        Ok(chain.call_sol(self.factory, &msa::address_query(salt, self.init_code(owner)))?)
    }

    fn first_op(&self, owner: Address, salt: B256, call_data: Bytes) -> FirstOp {
        FirstOp {
            factory: self.factory,
            factory_data: msa::factory_data(salt, self.init_code(owner)),
            call_data,
        }
    }
}
