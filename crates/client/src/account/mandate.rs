//! Mandate's own ERC-7579 account ([`mandate_abi::account::mandate`]).

use alloy_primitives::{Address, B256, Bytes};
use mandate_abi::account::mandate;
use mandate_sim::{Devnet, DevnetDeployments};

use super::{AccountFamily, FirstOp};
use crate::ClientError;

/// Mandate's account, created by its factory and owned through `owner_validator`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MandateAccount {
    /// The account factory.
    pub factory: Address,
    /// The owner's validator.
    pub owner_validator: Address,
}

impl MandateAccount {
    /// Mandate's account on the devnet (its factory, K1Validator owners).
    pub const fn devnet(deployments: &DevnetDeployments) -> Self {
        Self { factory: deployments.account_factory, owner_validator: deployments.k1_validator }
    }
}

impl AccountFamily for MandateAccount {
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
        "mandate"
    }

    fn owner_validator(&self) -> Address {
        self.owner_validator
    }

    fn accepts_account_id(&self, account_id: &str) -> bool {
        account_id.starts_with(mandate::ACCOUNT_ID_PREFIX)
    }

    fn address(
        &self,
        chain: &mut Devnet,
        owner: Address,
        salt: B256,
    ) -> Result<Address, ClientError> {
        let validators = mandate::owner_validators(self.owner_validator, owner);
        Ok(chain.call_sol(self.factory, &mandate::address_query(validators, salt))?)
    }

    fn first_op(&self, owner: Address, salt: B256, call_data: Bytes) -> FirstOp {
        let validators = mandate::owner_validators(self.owner_validator, owner);
        FirstOp {
            factory: self.factory,
            factory_data: mandate::factory_data(validators, salt),
            call_data,
        }
    }
}
