//! [`DevnetDeployments`]: what the embedded devnet's genesis deploys — a chain's
//! [`Deployments`] (Mandate's SmartSession, policies, session validators, paymaster) and what
//! only a devnet adds: the owners' validator, Mandate's account and factory, test tokens.

use alloy_primitives::Address;
use mandate_abi::Deployments;

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
}

impl DevnetDeployments {
    /// Mandate's ECDSA session signer, which the devnet's genesis deploys; `None` on a fork
    /// whose deployments say it has none.
    pub const fn ecdsa_session_validator(&self) -> Option<Address> {
        self.chain.session_validators.ecdsa
    }
}
