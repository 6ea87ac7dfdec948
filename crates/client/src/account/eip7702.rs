//! Mandate's account on an EOA (EIP-7702): the EOA delegates to Mandate's account
//! implementation and is the account itself, its own key the root validator.

use alloy_primitives::{Address, B256, Bytes};
use mandate_abi::{EIP7702_FACTORY_MARKER, account::mandate};
use mandate_sim::{Devnet, DevnetDeployments};

use super::{AccountFamily, FirstOp};
use crate::ClientError;

/// Mandate's account on an EOA delegated to `implementation` (EIP-7702, EntryPoint v0.8).
///
/// The account is the owner's own address. Its first op carries the `0x7702` initCode marker
/// (no init call: nothing needs initialising) and, sent with it once, the owner's signed
/// authorization; the owner signs ops through the account's own key — the zero validator in
/// the nonce key, and 20 zero bytes before an ERC-1271 signature (the ENABLE signature) —
/// with no owner validator installed. The salt of an [`crate::Account`] plays no part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Eip7702Mandate {
    /// Mandate's account implementation the EOA delegates to (built for the EntryPoint v0.8).
    pub implementation: Address,
}

impl Eip7702Mandate {
    /// On the devnet: its account implementation for the EntryPoint v0.8.
    pub const fn devnet(deployments: &DevnetDeployments) -> Self {
        Self { implementation: deployments.v08.account_implementation }
    }
}

impl AccountFamily for Eip7702Mandate {
    fn name(&self) -> &str {
        "mandate"
    }

    /// The account's own key: the zero address.
    fn owner_validator(&self) -> Address {
        Address::ZERO
    }

    fn accepts_account_id(&self, account_id: &str) -> bool {
        account_id.starts_with(mandate::ACCOUNT_ID_PREFIX)
    }

    fn address(
        &self,
        _chain: &mut Devnet,
        owner: Address,
        _salt: B256,
    ) -> Result<Address, ClientError> {
        Ok(owner)
    }

    fn first_op(&self, _owner: Address, _salt: B256, call_data: Bytes) -> FirstOp {
        FirstOp { factory: EIP7702_FACTORY_MARKER, factory_data: Bytes::new(), call_data }
    }

    fn eip7702_delegate(&self) -> Option<Address> {
        Some(self.implementation)
    }
}
