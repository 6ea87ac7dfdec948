//! [`DevnetDeployments`]: what the embedded devnet's genesis deploys — a chain's
//! [`Deployments`] (Mandate's SmartSession, policies, session validators, paymaster) and what
//! only a devnet adds: the owners' validator, Mandate's account and factory, test tokens.

use alloy_primitives::Address;
use mandate_abi::{Deployments, ENTRY_POINT_V08, EntryPointVersion};

use crate::families::Families;

/// Where the devnet's genesis contracts live (JSON: camelCase names). The default is all
/// zeros: no contract known (a fork of a chain that holds only [`Self::chain`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DevnetDeployments {
    /// What a chain holds: the EntryPoint, SmartSession, policies, session validators and the
    /// sample VerifyingPaymaster (signer [`PAYMASTER_SIGNER`](crate::PAYMASTER_SIGNER), funded
    /// with [`PAYMASTER_DEPOSIT`](crate::PAYMASTER_DEPOSIT) at the EntryPoint).
    pub chain: Deployments,
    /// The owners' ECDSA validator (K1Validator).
    #[serde(with = "mandate_abi::json::address")]
    pub k1_validator: Address,
    /// Mandate's account implementation, behind every account's proxy.
    #[serde(with = "mandate_abi::json::address")]
    pub account_implementation: Address,
    /// Mandate's account factory.
    #[serde(with = "mandate_abi::json::address")]
    pub account_factory: Address,
    /// A test ERC-20.
    #[serde(with = "mandate_abi::json::address")]
    pub test_erc20: Address,
    /// A test ERC-721 with `safeMint(address)`.
    #[serde(with = "mandate_abi::json::address")]
    pub test_erc721: Address,
    /// The smart-account families' contracts (Nexus, Kernel v3.1, Safe + Safe7579, MSA).
    pub families: Families,
    /// Mandate's account and factory for the EntryPoint v0.8 (absent from older JSON: zero).
    #[serde(default)]
    pub v08: AccountV08,
}

/// Mandate's account built for the EntryPoint v0.8 (the account's EntryPoint is an immutable
/// of its implementation, so each release has its own implementation and factory).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountV08 {
    /// The implementation, constructed with [`mandate_abi::ENTRY_POINT_V08`].
    #[serde(with = "mandate_abi::json::address")]
    pub account_implementation: Address,
    /// The factory of proxies to it.
    #[serde(with = "mandate_abi::json::address")]
    pub account_factory: Address,
}

impl DevnetDeployments {
    /// Mandate's ECDSA session signer, which the devnet's genesis deploys; `None` on a fork
    /// whose deployments say it has none.
    pub const fn ecdsa_session_validator(&self) -> Option<Address> {
        self.chain.session_validators.ecdsa
    }

    /// These deployments as seen by ops on the EntryPoint `version`: for v0.8, the chain's
    /// EntryPoint is [`mandate_abi::ENTRY_POINT_V08`] and Mandate's account and factory are the
    /// v0.8 ones, and there is no paymaster (the sample VerifyingPaymaster trusts v0.7 only);
    /// the families' implementations stay those built for v0.7. For v0.7 they are unchanged.
    pub fn on_entry_point(&self, version: EntryPointVersion) -> Self {
        let mut d = *self;
        if version == EntryPointVersion::V08 && d.chain.entry_point != ENTRY_POINT_V08 {
            d.chain.entry_point = ENTRY_POINT_V08;
            d.chain.paymaster = None;
            d.account_implementation = self.v08.account_implementation;
            d.account_factory = self.v08.account_factory;
        }
        d
    }
}
