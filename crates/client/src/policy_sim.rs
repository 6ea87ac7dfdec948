//! The local evaluator ([`mandate_policy`]) over the devnet: its deployment, and its storage as a
//! [`StorageReader`], so an evaluator can start from any account on the devnet.

use alloy_primitives::{Address, U256};
use mandate_policy::{AccountState, Deployment, LoadError, StorageReader, load_account};
use mandate_sim::Devnet;

/// The devnet's storage, read through [`Devnet::storage`].
#[derive(Clone, Copy, Debug)]
pub struct DevnetStorage<'a>(pub &'a Devnet);

impl StorageReader for DevnetStorage<'_> {
    fn storage(&self, address: Address, slot: U256) -> U256 {
        self.0.storage(address, slot)
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
