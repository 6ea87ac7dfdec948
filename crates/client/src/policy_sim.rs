//! The local evaluator ([`mandate_policy`]) over the devnet: its deployment, and its storage as a
//! [`StorageReader`], so an evaluator can start from any account on the devnet.

use alloy_primitives::{Address, U256};
use mandate_policy::{
    AccountState, Deployment, LoadError, PolicyKind, StorageReader, load_account,
};
use mandate_sim::{Deployments, Devnet};

/// The devnet's storage, read through [`Devnet::storage`].
#[derive(Clone, Copy, Debug)]
pub struct DevnetStorage<'a>(pub &'a Devnet);

impl StorageReader for DevnetStorage<'_> {
    fn storage(&self, address: Address, slot: U256) -> U256 {
        self.0.storage(address, slot)
    }
}

/// The evaluator's view of the genesis contracts of a devnet.
pub fn deployment(d: &Deployments) -> Deployment {
    Deployment {
        smart_session: d.smart_session,
        ecdsa_session_validator: d.ecdsa_session_validator,
        policies: vec![
            (d.sudo_policy, PolicyKind::Sudo),
            (d.uni_action_policy, PolicyKind::UniAction),
            (d.time_frame_policy, PolicyKind::TimeFrame),
            (d.erc20_spending_limit_policy, PolicyKind::Erc20SpendingLimit),
            (d.usage_limit_policy, PolicyKind::UsageLimit),
            (d.value_limit_policy, PolicyKind::ValueLimit),
        ],
    }
}

/// Reads `account`'s sessions and policy state out of the devnet.
pub fn load(
    devnet: &Devnet,
    deployment: &Deployment,
    account: Address,
) -> Result<AccountState, LoadError> {
    load_account(&DevnetStorage(devnet), deployment, account)
}
