//! Where the devnet's smart-account families are: the contracts of Biconomy Nexus, ZeroDev
//! Kernel v3.1, Safe 1.4.1 + Safe7579 and the ERC-7579 reference account (MSAAdvanced), from
//! `@rhinestone/modulekit`'s precompiles ([`mandate_contracts::modulekit_artifacts`]).

use alloy_primitives::Address;
use serde::{Deserialize, Serialize};

/// Biconomy Nexus.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NexusDeployment {
    /// The account implementation (constructed with the EntryPoint).
    pub implementation: Address,
    /// The account factory (`createAccount(initData, salt)`, `computeAccountAddress`), owned
    /// by the deployer.
    pub factory: Address,
    /// The bootstrap an account's init data delegatecalls (`initNexusWithSingleValidator`).
    pub bootstrap: Address,
}

/// ZeroDev Kernel v3.1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KernelDeployment {
    /// The account implementation (constructed with the EntryPoint).
    pub implementation: Address,
    /// The factory (`createAccount(data, salt)`, `getAddress`).
    pub factory: Address,
}

/// Safe 1.4.1 with the Safe7579 adapter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SafeDeployment {
    /// The Safe singleton.
    pub singleton: Address,
    /// The Safe proxy factory (`createProxyWithNonce`).
    pub proxy_factory: Address,
    /// The Safe7579 adapter (the Safe's module and fallback handler).
    pub adapter: Address,
    /// The Safe7579 launchpad (constructed with the EntryPoint and registry zero).
    pub launchpad: Address,
}

/// The ERC-7579 reference account, MSAAdvanced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MsaDeployment {
    /// The account implementation (the EntryPoint is hard-coded in it).
    pub implementation: Address,
    /// The bootstrap an account's init data delegatecalls (`initMSA`, `singleInitMSA`).
    pub bootstrap: Address,
    /// Mandate's factory (`MSAProxyFactory`: `createAccount(bytes32 salt, bytes initCode)`,
    /// `getAddress`); the reference implementation ships none.
    pub factory: Address,
}

/// The four families on the devnet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Families {
    /// Biconomy Nexus.
    pub nexus: NexusDeployment,
    /// ZeroDev Kernel v3.1.
    pub kernel: KernelDeployment,
    /// Safe 1.4.1 + Safe7579.
    pub safe: SafeDeployment,
    /// The ERC-7579 reference account.
    pub msa: MsaDeployment,
}
