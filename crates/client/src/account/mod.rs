//! The smart accounts a session is granted on: an [`AccountFamily`] says how accounts of one
//! family route ops and signatures to validators and how they are created; an [`Account`] is one
//! account of it, counterfactual (owner + salt) or already deployed (its address).
//!
//! Built in: [`MandateAccount`] (and on an EOA, EIP-7702: [`Eip7702Mandate`]), [`Nexus`], [`Kernel`] v3.1, [`Safe7579`] (Safe 1.4.1 + the
//! adapter) and [`Msa`] (the ERC-7579 reference). The owner signs through the family's owner
//! validator (Mandate's K1Validator on the devnet, for every family): an EIP-191 signature of a
//! 32-byte message. A family of one's own implements the trait; the provided methods are the
//! ERC-7579 reference's routing (`validator ‖ 4 bytes` nonce keys, `validator ‖ sig` ERC-1271
//! signatures, SmartSession's install data unwrapped).

mod eip7702;
mod kernel;
mod mandate;
mod msa;
mod nexus;
mod safe;

use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::SolCall;
use mandate_abi::{NonceKeyError, account::AccountType, sol::IERC7579Account};
use mandate_sim::{Devnet, DevnetDeployments};

pub use self::{
    eip7702::Eip7702Mandate, kernel::Kernel, mandate::MandateAccount, msa::Msa, nexus::Nexus,
    safe::Safe7579,
};
use crate::ClientError;

/// A family of smart accounts: everything that differs between Nexus, Kernel, Safe7579, the
/// ERC-7579 reference and Mandate's account when driving SmartSession.
pub trait AccountFamily: std::fmt::Debug + Send + Sync {
    /// The family's name (in errors and logs).
    fn name(&self) -> &str;

    /// The validator the owner signs through.
    fn owner_validator(&self) -> Address;

    /// Whether a deployed account's `accountId()` is one of this family's.
    fn accepts_account_id(&self, account_id: &str) -> bool;

    /// Where the account of `owner` with `salt` is (or will be), reading `chain` if need be.
    fn address(
        &self,
        chain: &mut Devnet,
        owner: Address,
        salt: B256,
    ) -> Result<Address, ClientError>;

    /// The first op of the account of `owner` with `salt`, which would otherwise run
    /// `call_data`: its factory, factory data and the callData it runs instead.
    fn first_op(&self, owner: Address, salt: B256, call_data: Bytes) -> FirstOp;

    /// The implementation an account of this family is an EOA delegated to (EIP-7702), if it
    /// is one: its first op then carries the `0x7702` marker and the owner's signed
    /// authorization.
    fn eip7702_delegate(&self) -> Option<Address> {
        None
    }

    /// The nonce key of the owner's ops.
    fn owner_nonce_key(&self) -> U256 {
        mandate_abi::validator_nonce_key(self.owner_validator(), 0)
    }

    /// The nonce key that routes an op to a (non-root) `validator` in parallel lane `lane`.
    fn validator_nonce_key(&self, validator: Address, lane: u32) -> Result<U256, NonceKeyError> {
        AccountType::Msa.validator_nonce_key(validator, lane)
    }

    /// How many free bits the family's validator nonce keys have for parallel lanes (Nexus 24,
    /// Kernel 16, the others 32): by default what [`Self::validator_nonce_key`] accepts, read
    /// from its [`NonceKeyError::LaneTooWide`] for the widest lane.
    fn lane_bits(&self) -> u32 {
        match self.validator_nonce_key(Address::ZERO, u32::MAX) {
            Err(NonceKeyError::LaneTooWide { bits, .. }) => bits.min(32),
            // Accepted, or refused for another reason: every bit is the lane's.
            _ => 32,
        }
    }

    /// How many parallel lanes the family's validator nonce keys have (`2^lane_bits`).
    fn lanes(&self) -> u64 {
        1u64 << self.lane_bits().min(32)
    }

    /// SmartSession's `installModule` init data around SmartSession's own (`smart_session_init`).
    fn smart_session_install_data(&self, smart_session_init: &[u8]) -> Bytes {
        AccountType::Msa.smart_session_install_data(smart_session_init)
    }

    /// SmartSession's `uninstallModule` data on `account`: by default (Nexus, Safe7579, the
    /// ERC-7579 reference, whose validators are a sentinel list) `abi.encode(prev, "")`, `prev`
    /// the validator before `smart_session` in the list the account returns from
    /// `getValidatorsPaginated` (read from `chain`, not assumed).
    fn smart_session_uninstall_data(
        &self,
        chain: &mut Devnet,
        account: Address,
        smart_session: Address,
    ) -> Result<Bytes, ClientError> {
        let list = validator_list(chain, account)?;
        let prev = mandate_abi::account::prev_in_list(&list, smart_session).ok_or(
            ClientError::NotInValidatorList { account, module: smart_session, listed: list.len() },
        )?;
        Ok(mandate_abi::account::sentinel_list_deinit(prev, &[]))
    }

    /// The 32-byte message the owner signs (EIP-191) for an op whose hash is `user_op_hash`.
    fn owner_op_message(&self, user_op_hash: B256) -> B256 {
        user_op_hash
    }

    /// The op's signature from the owner's.
    fn owner_op_signature(&self, owner_signature: &[u8]) -> Bytes {
        Bytes::copy_from_slice(owner_signature)
    }

    /// The 32-byte message the owner signs (EIP-191) to enable sessions whose multichain digest
    /// is `digest` on `account` (what the account's `isValidSignature(digest)` hands its
    /// validator).
    fn enable_message(&self, digest: B256, _chain_id: u64, _account: Address) -> B256 {
        digest
    }

    /// The routing prefix of an ERC-1271 signature to `validator` (before the validator's
    /// own signature): the owner's ENABLE signature, a session's ERC-1271 signature.
    fn erc1271_prefix(&self, validator: Address) -> Bytes {
        AccountType::Msa.erc1271_prefix(validator).into()
    }

    /// The `installModule(3, fallback, data)` data routing `eip712Domain()` to the
    /// compatibility fallback, for a family whose accounts answer no EIP-712 domain themselves
    /// (`None`: they do; [`AccountType::compatibility_fallback_install_data`]).
    fn compatibility_fallback_install_data(&self) -> Option<Bytes> {
        None
    }

    /// The account's `isModuleInstalled(module_type, module, "")` calldata.
    fn is_module_installed(&self, module_type: u64, module: Address) -> Bytes {
        IERC7579Account::isModuleInstalledCall {
            moduleTypeId: U256::from(module_type),
            module,
            additionalContext: Bytes::new(),
        }
        .abi_encode()
        .into()
    }
}

/// An account's first op, as its family builds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirstOp {
    /// The factory that deploys the account.
    pub factory: Address,
    /// Its calldata.
    pub factory_data: Bytes,
    /// The op's callData.
    pub call_data: Bytes,
}

/// One account: counterfactual (created by its first op) or already deployed — by Mandate or
/// by any other wallet (a TypeScript dapp), with SmartSession installed or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Account {
    /// The account of `owner` with `salt`, deployed by its first op if it has no code yet.
    Counterfactual {
        /// The owner's address (the owner validator's init data).
        owner: Address,
        /// The factory salt (several accounts per owner).
        salt: B256,
    },
    /// An account that exists at this address.
    Existing(Address),
}

impl Account {
    /// The account of `owner` with salt zero.
    pub const fn new(owner: Address) -> Self {
        Self::Counterfactual { owner, salt: B256::ZERO }
    }

    /// The account at `address`, already deployed.
    pub const fn existing(address: Address) -> Self {
        Self::Existing(address)
    }

    /// With another salt (a counterfactual account only; an existing one is left as it is).
    pub const fn with_salt(self, salt: B256) -> Self {
        match self {
            Self::Counterfactual { owner, .. } => Self::Counterfactual { owner, salt },
            existing @ Self::Existing(_) => existing,
        }
    }
}

/// Pages read of an account's validator list before giving up (a list that does not end).
const MAX_VALIDATOR_PAGES: usize = 64;
/// Validators per page.
const VALIDATOR_PAGE: u64 = 32;

/// `account`'s validators in list order, read page by page with `getValidatorsPaginated` from
/// the sentinel.
pub fn validator_list(chain: &mut Devnet, account: Address) -> Result<Vec<Address>, ClientError> {
    use mandate_abi::{account::SENTINEL, sol::IValidatorList};
    let mut out = Vec::new();
    let mut cursor = SENTINEL;
    for _ in 0..MAX_VALIDATOR_PAGES {
        let page =
            IValidatorList::getValidatorsPaginatedCall { cursor, size: U256::from(VALIDATOR_PAGE) };
        let page = chain.call_sol(account, &page)?;
        out.extend(page.array.iter().copied());
        if page.array.is_empty() || page.next == SENTINEL || page.next == Address::ZERO {
            return Ok(out);
        }
        cursor = page.next;
    }
    Err(ClientError::ValidatorListTooLong { account, read: out.len() })
}

/// The owner's K1Validator init data: the owner's 20 bytes.
fn owner_data(owner: Address) -> Bytes {
    Bytes::copy_from_slice(owner.as_slice())
}

/// The built-in family `account_type` with the contracts of `deployments` (the devnet's
/// factories and K1Validator, or `mandate deploy`'s on a node).
pub fn built_in(
    account_type: AccountType,
    deployments: &DevnetDeployments,
) -> Arc<dyn AccountFamily> {
    match account_type {
        AccountType::Mandate => Arc::new(MandateAccount::devnet(deployments)),
        AccountType::Nexus => Arc::new(Nexus::devnet(deployments)),
        AccountType::Kernel => Arc::new(Kernel::devnet(deployments)),
        AccountType::Safe => Arc::new(Safe7579::devnet(deployments)),
        AccountType::Msa => Arc::new(Msa::devnet(deployments)),
    }
}

#[cfg(test)]
mod tests {
    use mandate_abi::account::safe::SafeContracts;

    use super::*;

    fn safe_contracts() -> SafeContracts {
        let d = Address::ZERO;
        SafeContracts { singleton: d, proxy_factory: d, adapter: d, launchpad: d }
    }

    #[test]
    fn each_family_has_the_lanes_its_nonce_key_leaves_free() {
        let d = Address::ZERO;
        let widths: [(&dyn AccountFamily, u32); 5] = [
            (&Nexus::new(d, d, d), 24),
            (&Kernel::new(d, d), 16),
            (&Safe7579::new(safe_contracts(), d), 32),
            (&Msa::new(d, d, d), 32),
            (&MandateAccount { factory: d, owner_validator: d }, 32),
        ];
        for (family, bits) in widths {
            assert_eq!(family.lane_bits(), bits, "{}", family.name());
            assert_eq!(family.lanes(), 1 << bits, "{}", family.name());
            let top = u32::try_from(family.lanes() - 1).unwrap();
            assert!(family.validator_nonce_key(d, top).is_ok(), "{}", family.name());
            if bits < 32 {
                assert!(family.validator_nonce_key(d, top + 1).is_err(), "{}", family.name());
            }
        }
    }
}
