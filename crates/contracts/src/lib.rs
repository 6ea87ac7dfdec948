#![doc = include_str!("../README.md")]

use std::{collections::BTreeMap, sync::OnceLock};

// The `build` feature's dependencies serve the `mandate-build-contracts` binary only.
#[cfg(feature = "build")]
use {clap as _, foundry_compilers as _, sha2 as _, toml as _};

use alloy_json_abi::JsonAbi;
use alloy_primitives::Bytes;
use serde::{Deserialize, Serialize};

/// Where the artifact file sits, relative to the repository root.
pub const ARTIFACT_PATH: &str = "crates/contracts/artifacts.json";

/// Where the legacy Biconomy v2 artifact file sits, relative to the repository root.
#[cfg(feature = "legacy-v2")]
pub const LEGACY_V2_ARTIFACT_PATH: &str = "crates/contracts/legacy-v2-artifacts.json";

/// Where the EntryPoint v0.8 artifact file sits, relative to the repository root.
pub const V08_ARTIFACT_PATH: &str = "crates/contracts/v08-artifacts.json";

/// Where the modulekit artifact file (the account families' creation code) sits, relative to
/// the repository root.
pub const MODULEKIT_ARTIFACT_PATH: &str = "crates/contracts/modulekit-artifacts.json";

const EMBEDDED: &str = include_str!("../artifacts.json");
const EMBEDDED_V08: &str = include_str!("../v08-artifacts.json");
const EMBEDDED_MODULEKIT: &str = include_str!("../modulekit-artifacts.json");
#[cfg(feature = "legacy-v2")]
const EMBEDDED_LEGACY_V2: &str = include_str!("../legacy-v2-artifacts.json");

/// Names of the contracts Mandate deploys.
pub mod names {
    /// ERC-4337 v0.7 EntryPoint, compiled from `@account-abstraction/contracts@0.7.0`.
    pub const ENTRY_POINT: &str = "EntryPoint";
    /// The Smart Sessions validator.
    pub const SMART_SESSION: &str = "SmartSession";
    /// The policy that allows everything.
    pub const SUDO_POLICY: &str = "SudoPolicy";
    /// ECDSA session-key validator (`ISessionValidator`).
    pub const ECDSA_SESSION_VALIDATOR: &str = "EcdsaSessionValidator";
    /// Threshold ECDSA / ERC-1271 validator, interface-compatible with Rhinestone's OwnableValidator
    /// (a session validator, module type 7, and an account validator, type 1).
    pub const OWNABLE_VALIDATOR: &str = "OwnableValidator";
    /// The account owner's ECDSA validator.
    pub const K1_VALIDATOR: &str = "K1Validator";
    /// The ERC-7579 account implementation.
    pub const ACCOUNT: &str = "MandateAccount";
    /// The account factory.
    pub const ACCOUNT_FACTORY: &str = "MandateAccountFactory";
    /// Test ERC-20.
    pub const TEST_ERC20: &str = "TestERC20";
    /// Test ERC-721 with `safeMint(address)`.
    pub const TEST_ERC721: &str = "TestERC721";
    /// Action policy: a native value cap and up to 16 calldata parameter rules.
    pub const UNI_ACTION_POLICY: &str = "UniActionPolicy";
    /// User-op / action / ERC-1271 policy: a time window.
    pub const TIME_FRAME_POLICY: &str = "TimeFramePolicy";
    /// Action policy: per-token ERC-20 spending limits.
    pub const ERC20_SPENDING_LIMIT_POLICY: &str = "ERC20SpendingLimitPolicy";
    /// User-op / action policy: a maximum number of uses.
    pub const USAGE_LIMIT_POLICY: &str = "UsageLimitPolicy";
    /// User-op / action policy: a cumulative native value budget.
    pub const VALUE_LIMIT_POLICY: &str = "ValueLimitPolicy";
    /// ERC-4337 v0.7 sample VerifyingPaymaster, compiled from `@account-abstraction/contracts@0.7.0`.
    pub const VERIFYING_PAYMASTER: &str = "VerifyingPaymaster";
    /// Mandate's factory for the ERC-7579 reference account (MSAAdvanced behind modulekit's
    /// `MSAProxy`): `createAccount(bytes32 salt, bytes initCode)`, `getAddress`.
    pub const MSA_PROXY_FACTORY: &str = "MSAProxyFactory";
    /// Mandate's ERC-5267 fallback module for accounts without `eip712Domain()` (Safe7579,
    /// MSAAdvanced), compatible with upstream's SmartSessionCompatibilityFallback.
    pub const COMPATIBILITY_FALLBACK: &str = "CompatibilityFallback";
    /// Mandate's ABI session validation module for Biconomy session keys v2 (written from the
    /// spec; in [`artifacts`](crate::artifacts)).
    pub const ABI_SESSION_VALIDATION_MODULE: &str = "AbiSessionValidationModule";

    /// The smart-account families' contracts, in
    /// [`modulekit_artifacts`](crate::modulekit_artifacts): creation code taken from
    /// `@rhinestone/modulekit@0.5.9`'s precompiles.
    pub mod modulekit {
        /// Biconomy Nexus account implementation (`NEXUS_BYTECODE`; constructor `entryPoint`).
        pub const NEXUS: &str = "Nexus";
        /// Nexus account factory (`NEXUS_ACCOUNT_FACTORY_BYTECODE`; constructor
        /// `implementation, owner`).
        pub const NEXUS_ACCOUNT_FACTORY: &str = "NexusAccountFactory";
        /// Nexus bootstrap (`NEXUS_BOOTSTRAP_BYTECODE`).
        pub const NEXUS_BOOTSTRAP: &str = "NexusBootstrap";
        /// The proxy every Nexus account is (`NEXUS_PROXY_BYTECODE`; the factory's CREATE2
        /// init code with `abi.encode(implementation, initCall)`).
        pub const NEXUS_PROXY: &str = "NexusProxy";
        /// ZeroDev Kernel v3.1 implementation (`KERNEL_BYTECODE`; constructor `entryPoint`).
        pub const KERNEL: &str = "Kernel";
        /// Kernel factory (`KERNEL_FACTORY_BYTECODE`; constructor `implementation`).
        pub const KERNEL_FACTORY: &str = "KernelFactory";
        /// The Safe7579 adapter (`SAFE7579_BYTECODE`).
        pub const SAFE7579: &str = "Safe7579";
        /// The Safe7579 launchpad (`SAFE7579_LAUNCHPAD_BYTECODE`; constructor
        /// `entryPoint, registry`).
        pub const SAFE7579_LAUNCHPAD: &str = "Safe7579Launchpad";
        /// Safe 1.4.1 singleton (`SAFE_SINGLETON_BYTECODE`).
        pub const SAFE_SINGLETON: &str = "SafeSingleton";
        /// Safe 1.4.1 proxy factory (`SAFE_PROXY_FACTORY_BYTECODE`).
        pub const SAFE_PROXY_FACTORY: &str = "SafeProxyFactory";
        /// Safe 1.4.1 proxy (`SAFE_PROXY_BYTECODE`; the proxy factory's CREATE2 init code with
        /// `uint256(singleton)`).
        pub const SAFE_PROXY: &str = "SafeProxy";
        /// The ERC-7579 reference account, MSAAdvanced (`ERC7579_BYTECODE`).
        pub const MSA: &str = "MSAAdvanced";
        /// Its bootstrap (`ERC7579_BOOTSTRAP_BYTECODE`: `initMSA`, `singleInitMSA`).
        pub const MSA_BOOTSTRAP: &str = "MSABootstrap";
        /// The proxy every reference account is (`MSAPROXY_BYTECODE`; init code with
        /// `abi.encode(implementation, initCall)`).
        pub const MSA_PROXY: &str = "MSAProxy";

        /// Every name above, in the artifact file's order.
        pub const ALL: [&str; 14] = [
            KERNEL,
            KERNEL_FACTORY,
            MSA,
            MSA_BOOTSTRAP,
            MSA_PROXY,
            NEXUS,
            NEXUS_ACCOUNT_FACTORY,
            NEXUS_BOOTSTRAP,
            NEXUS_PROXY,
            SAFE7579,
            SAFE7579_LAUNCHPAD,
            SAFE_PROXY,
            SAFE_PROXY_FACTORY,
            SAFE_SINGLETON,
        ];
    }

    /// The ERC-4337 v0.8 EntryPoint, in [`v08_artifacts`](crate::v08_artifacts): compiled from
    /// `@account-abstraction/contracts@0.8.0` with OpenZeppelin 5.1.0 under its own profile
    /// (its names clash with v0.7's).
    pub mod v08 {
        /// ERC-4337 v0.8 EntryPoint (its constructor creates its SenderCreator at
        /// `create(entry_point, 1)`).
        pub const ENTRY_POINT: &str = "EntryPoint";
    }

    /// Contracts of the legacy Biconomy v2 stack, in
    /// [`legacy_v2_artifacts`](crate::legacy_v2_artifacts): compiled with solc 0.8.17 from
    /// `@account-abstraction/contracts@0.6.0` and `@biconomy-devx/account-contracts-v2@1.0.1`.
    #[cfg(feature = "legacy-v2")]
    pub mod legacy_v2 {
        /// ERC-4337 v0.6 EntryPoint.
        pub const ENTRY_POINT: &str = "EntryPoint";
        /// Biconomy Smart Account v2 implementation.
        pub const SMART_ACCOUNT: &str = "SmartAccount";
        /// Its factory (`deployCounterFactualAccount`).
        pub const SMART_ACCOUNT_FACTORY: &str = "SmartAccountFactory";
        /// The owner's ECDSA validation module.
        pub const ECDSA_OWNERSHIP_MODULE: &str = "EcdsaOwnershipRegistryModule";
        /// Session Key Manager v1 (merkle root per account).
        pub const SESSION_KEY_MANAGER: &str = "SessionKeyManager";
        /// The batched-session router.
        pub const BATCHED_SESSION_ROUTER: &str = "BatchedSessionRouter";
        /// The ERC-20 session validation module.
        pub const ERC20_SESSION_VALIDATION_MODULE: &str = "ERC20SessionValidationModule";
    }
}

/// Errors reading artifacts.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArtifactError {
    /// No contract of that name was compiled.
    #[error("no compiled contract named {0:?} (known: {1})")]
    Missing(String, String),
    /// The artifact file is not valid JSON of the expected shape.
    #[error("artifact file is malformed: {0}")]
    Malformed(#[from] serde_json::Error),
}

/// The compiler and settings that produced the artifacts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompilerInfo {
    /// Full solc version, e.g. `0.8.28+commit.7893614a.Emscripten.clang`.
    pub version: String,
    /// Whether the optimizer ran.
    pub optimizer: bool,
    /// Optimizer runs.
    pub optimizer_runs: usize,
    /// Whether the IR pipeline was used.
    pub via_ir: bool,
    /// Target EVM version.
    pub evm_version: String,
    /// Metadata hash appended to the bytecode.
    pub bytecode_hash: String,
}

/// One compiled contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompiledContract {
    /// Source file, relative to the repository root.
    pub source: String,
    /// The contract's ABI.
    pub abi: JsonAbi,
    /// Creation bytecode.
    pub bytecode: Bytes,
    /// Runtime bytecode.
    pub deployed_bytecode: Bytes,
}

/// The artifact file: every compiled contract and how it was compiled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactFile {
    /// Compiler and settings.
    pub compiler: CompilerInfo,
    /// SHA-256 over the compiler version, settings and every source file compiled.
    pub input_hash: String,
    /// Contracts by name.
    pub contracts: BTreeMap<String, CompiledContract>,
}

impl ArtifactFile {
    /// Parses an artifact file.
    pub fn from_json(text: &str) -> Result<Self, ArtifactError> {
        Ok(serde_json::from_str(text)?)
    }

    /// Serialises the file as it is committed (pretty, newline-terminated).
    pub fn to_json(&self) -> Result<String, ArtifactError> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        Ok(text)
    }

    /// The contract called `name`.
    pub fn get(&self, name: &str) -> Result<&CompiledContract, ArtifactError> {
        self.contracts.get(name).ok_or_else(|| {
            let known = self.contracts.keys().cloned().collect::<Vec<_>>().join(", ");
            ArtifactError::Missing(name.to_string(), known)
        })
    }
}

/// Creation code shipped as a hex constant by an npm package (no ABI, not compiled here).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrecompiledContract {
    /// The npm package it is taken from, e.g. `@rhinestone/modulekit`.
    pub package: String,
    /// That package's version.
    pub version: String,
    /// The file in the package holding the constant.
    pub file: String,
    /// The constant's name in that file.
    pub constant: String,
    /// What the bytecode is a build of (project and version).
    pub origin: String,
    /// SPDX licence of the contract's own sources (not of the package that ships it).
    pub license: String,
    /// Creation bytecode.
    pub bytecode: Bytes,
}

/// The modulekit artifact file: precompiled contracts by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrecompiledFile {
    /// SPDX licence of the package that ships the bytecode.
    pub package_license: String,
    /// Contracts by name.
    pub contracts: BTreeMap<String, PrecompiledContract>,
}

impl PrecompiledFile {
    /// Parses a precompiled artifact file.
    pub fn from_json(text: &str) -> Result<Self, ArtifactError> {
        Ok(serde_json::from_str(text)?)
    }

    /// Serialises the file as it is committed (pretty, newline-terminated).
    pub fn to_json(&self) -> Result<String, ArtifactError> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        Ok(text)
    }

    /// The contract called `name`.
    pub fn get(&self, name: &str) -> Result<&PrecompiledContract, ArtifactError> {
        self.contracts.get(name).ok_or_else(|| {
            let known = self.contracts.keys().cloned().collect::<Vec<_>>().join(", ");
            ArtifactError::Missing(name.to_string(), known)
        })
    }
}

/// The embedded artifacts, parsed once.
///
/// # Panics
///
/// Never for a published crate: the embedded file is checked by this crate's tests and by CI.
pub fn artifacts() -> &'static ArtifactFile {
    static PARSED: OnceLock<ArtifactFile> = OnceLock::new();
    PARSED.get_or_init(|| {
        #[allow(clippy::expect_used)]
        ArtifactFile::from_json(EMBEDDED).expect("embedded artifacts.json is well-formed")
    })
}

/// The embedded legacy Biconomy v2 artifacts (EntryPoint v0.6, Smart Account v2 and its session
/// modules), parsed once; names in [`names::legacy_v2`].
///
/// # Panics
///
/// Never for a published crate: the embedded file is checked by this crate's tests and by CI.
#[cfg(feature = "legacy-v2")]
pub fn legacy_v2_artifacts() -> &'static ArtifactFile {
    static PARSED: OnceLock<ArtifactFile> = OnceLock::new();
    PARSED.get_or_init(|| {
        #[allow(clippy::expect_used)]
        ArtifactFile::from_json(EMBEDDED_LEGACY_V2)
            .expect("embedded legacy-v2-artifacts.json is well-formed")
    })
}

/// The embedded EntryPoint v0.8 artifacts, parsed once; names in [`names::v08`].
///
/// # Panics
///
/// Never for a published crate: the embedded file is checked by this crate's tests and by CI.
pub fn v08_artifacts() -> &'static ArtifactFile {
    static PARSED: OnceLock<ArtifactFile> = OnceLock::new();
    PARSED.get_or_init(|| {
        #[allow(clippy::expect_used)]
        ArtifactFile::from_json(EMBEDDED_V08).expect("embedded v08-artifacts.json is well-formed")
    })
}

/// The embedded account-family contracts (Nexus, Kernel v3.1, Safe 1.4.1 + Safe7579, the
/// ERC-7579 reference account) from `@rhinestone/modulekit`'s precompiles, parsed once; names
/// in [`names::modulekit`].
///
/// # Panics
///
/// Never for a published crate: the embedded file is checked by this crate's tests and by CI.
pub fn modulekit_artifacts() -> &'static PrecompiledFile {
    static PARSED: OnceLock<PrecompiledFile> = OnceLock::new();
    PARSED.get_or_init(|| {
        #[allow(clippy::expect_used)]
        PrecompiledFile::from_json(EMBEDDED_MODULEKIT)
            .expect("embedded modulekit-artifacts.json is well-formed")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_artifacts_hold_every_deployed_contract() {
        let file = artifacts();
        for name in [
            names::ENTRY_POINT,
            names::SMART_SESSION,
            names::SUDO_POLICY,
            names::ECDSA_SESSION_VALIDATOR,
            names::OWNABLE_VALIDATOR,
            names::K1_VALIDATOR,
            names::ACCOUNT,
            names::ACCOUNT_FACTORY,
            names::TEST_ERC20,
            names::TEST_ERC721,
            names::UNI_ACTION_POLICY,
            names::TIME_FRAME_POLICY,
            names::ERC20_SPENDING_LIMIT_POLICY,
            names::USAGE_LIMIT_POLICY,
            names::VALUE_LIMIT_POLICY,
            names::VERIFYING_PAYMASTER,
            names::ABI_SESSION_VALIDATION_MODULE,
            names::MSA_PROXY_FACTORY,
            names::COMPATIBILITY_FALLBACK,
        ] {
            let contract = file.get(name).expect(name);
            assert!(!contract.bytecode.is_empty(), "{name} has no creation code");
            assert!(contract.deployed_bytecode.len() <= 24_576, "{name} is over EIP-170");
        }
    }

    #[test]
    fn json_round_trips_byte_for_byte() {
        let text = artifacts().to_json().expect("serialises");
        assert_eq!(text, EMBEDDED);
    }

    #[test]
    fn v08_json_round_trips_and_holds_the_entry_point() {
        let file = v08_artifacts();
        assert_eq!(file.to_json().expect("serialises"), EMBEDDED_V08);
        assert!(file.compiler.via_ir && file.compiler.optimizer_runs == 1_000_000);
        let entry_point = file.get(names::v08::ENTRY_POINT).expect("EntryPoint v0.8");
        assert!(entry_point.source.contains("contracts-v08/core/EntryPoint.sol"));
        assert!(entry_point.deployed_bytecode.len() <= 24_576, "over EIP-170");
        // v0.8's ABI differs from v0.7's: its EIP-712 domain separator getter.
        assert!(entry_point.abi.functions.contains_key("getDomainSeparatorV4"));
        assert_ne!(
            entry_point.deployed_bytecode,
            artifacts().get(names::ENTRY_POINT).expect("v0.7").deployed_bytecode
        );
    }

    #[cfg(feature = "legacy-v2")]
    #[test]
    fn legacy_v2_json_round_trips_byte_for_byte() {
        let text = legacy_v2_artifacts().to_json().expect("serialises");
        assert_eq!(text, EMBEDDED_LEGACY_V2);
    }

    #[cfg(feature = "legacy-v2")]
    #[test]
    fn embedded_legacy_v2_artifacts_hold_the_v2_stack() {
        use names::legacy_v2::*;
        let file = legacy_v2_artifacts();
        assert!(file.compiler.version.starts_with("0.8.17"), "{}", file.compiler.version);
        for name in [
            ENTRY_POINT,
            SMART_ACCOUNT,
            SMART_ACCOUNT_FACTORY,
            ECDSA_OWNERSHIP_MODULE,
            SESSION_KEY_MANAGER,
            BATCHED_SESSION_ROUTER,
            ERC20_SESSION_VALIDATION_MODULE,
        ] {
            let contract = file.get(name).expect(name);
            assert!(!contract.bytecode.is_empty(), "{name} has no creation code");
            assert!(contract.deployed_bytecode.len() <= 24_576, "{name} is over EIP-170");
        }
    }

    #[test]
    fn modulekit_artifacts_hold_the_four_families_with_their_provenance() {
        let file = modulekit_artifacts();
        assert_eq!(file.package_license, "GPL-3.0");
        let names: Vec<&str> = file.contracts.keys().map(String::as_str).collect();
        assert_eq!(names, names::modulekit::ALL);
        for (name, contract) in &file.contracts {
            assert_eq!(contract.package, "@rhinestone/modulekit", "{name}");
            assert_eq!(contract.version, "0.5.9", "{name}");
            assert!(contract.bytecode.len() > 100, "{name} has no creation code");
            assert!(contract.bytecode.len() <= 49_152, "{name} is over EIP-3860");
        }
        let safe = file.get(names::modulekit::SAFE_SINGLETON).expect("safe");
        assert_eq!(safe.license, "LGPL-3.0-only");
        assert_eq!(safe.constant, "SAFE_SINGLETON_BYTECODE");
        assert_eq!(file.to_json().expect("serialises"), EMBEDDED_MODULEKIT);
    }

    #[test]
    fn unknown_contract_is_a_typed_error() {
        let err = artifacts().get("NoSuchContract").unwrap_err();
        assert!(matches!(err, ArtifactError::Missing(ref n, _) if n == "NoSuchContract"));
    }
}
