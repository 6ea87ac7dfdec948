//! Where a chain holds the contracts a session needs: the EntryPoint, SmartSession, its
//! policies, the session validators and, optionally, a paymaster and the ERC-5267
//! compatibility fallback. Devnet-only contracts (test tokens, account factories) are not
//! here: see `mandate_sim::DevnetDeployments`.
//!
//! ```
//! use mandate_abi::Deployments;
//!
//! let canonical = Deployments::preset("module-sdk-0.4").expect("a built-in preset");
//! assert_eq!(canonical, Deployments::MODULE_SDK_0_4);
//! let json = serde_json::to_string(&canonical)?;
//! assert_eq!(serde_json::from_str::<Deployments>(&json)?, canonical);
//! # Ok::<(), serde_json::Error>(())
//! ```

use alloy_primitives::{Address, address};
use serde::{Deserialize, Serialize};

use crate::{ENTRY_POINT_V07, PolicyAddresses};

/// Upstream's SmartSession in the canonical deployment (module-sdk 0.4.0).
pub const SMART_SESSION: Address = address!("00000000008bDABA73cD9815d79069c247Eb4bDA");
/// Rhinestone's OwnableValidator in the canonical deployment (module-sdk 0.4.0's
/// `OWNABLE_VALIDATOR_ADDRESS`), the session validator of abstractjs and the Nexus SDK.
pub const OWNABLE_VALIDATOR: Address = address!("000000000013fdB5234E4E3162a810F54d9f7E98");
/// SmartSession as module-sdk 0.2.3 (and so the Nexus SDK 0.0.29) addresses it.
pub const SMART_SESSION_0_2_3: Address = address!("00000000002B0eCfbD0496EE71e01257dA0E37DE");

/// Rhinestone's OwnableValidator as module-sdk 0.2.3 addresses it.
pub const OWNABLE_VALIDATOR_0_2_3: Address = address!("2483DA3A338895199E5e538530213157e931Bf06");

/// Upstream's SmartSessionCompatibilityFallback in the canonical deployment.
pub const COMPATIBILITY_FALLBACK: Address = address!("000000000052e9685932845660777DF43C2dC496");

/// The session validators a chain holds (JSON: camelCase, `null` for one it lacks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionValidators {
    /// Mandate's ECDSA session signer (session data: the key's 20-byte address).
    #[serde(with = "crate::json::optional_address")]
    pub ecdsa: Option<Address>,
    /// An OwnableValidator (session data: `abi.encode(threshold, owners)`), Rhinestone's or
    /// Mandate's.
    #[serde(with = "crate::json::optional_address")]
    pub ownable: Option<Address>,
}

/// What a chain holds for Smart Sessions (JSON: camelCase names, as `mandate` reads them with
/// `--deployments`; every field present, `null` for an optional contract the chain lacks).
/// The default knows no contract: every address zero, every optional one `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Deployments {
    /// The ERC-4337 v0.7 EntryPoint.
    #[serde(with = "crate::json::address")]
    pub entry_point: Address,
    /// The SmartSession validator.
    #[serde(with = "crate::json::address")]
    pub smart_session: Address,
    /// The six standard policies.
    pub policies: PolicyAddresses,
    /// The session validators.
    pub session_validators: SessionValidators,
    /// The fallback that answers `eip712Domain()` for accounts without one (Safe7579, the
    /// ERC-7579 reference account), for session ERC-1271 signatures.
    #[serde(with = "crate::json::optional_address")]
    pub compatibility_fallback: Option<Address>,
    /// A VerifyingPaymaster that sponsors ops.
    #[serde(with = "crate::json::optional_address")]
    pub paymaster: Option<Address>,
}

impl Default for Deployments {
    fn default() -> Self {
        let zero = Address::ZERO;
        Self {
            entry_point: zero,
            smart_session: zero,
            policies: PolicyAddresses {
                sudo: zero,
                uni_action: zero,
                time_frame: zero,
                erc20_spending_limit: zero,
                usage_limit: zero,
                value_limit: zero,
            },
            session_validators: SessionValidators::default(),
            compatibility_fallback: None,
            paymaster: None,
        }
    }
}

impl Deployments {
    /// The EntryPoint release at [`Self::entry_point`], if it is a canonical address.
    pub fn entry_point_version(&self) -> Option<crate::EntryPointVersion> {
        crate::EntryPointVersion::of(self.entry_point)
    }

    /// The user-op hash of `op` as this chain's EntryPoint computes it: v0.8's EIP-712 hash at
    /// [`crate::ENTRY_POINT_V08`], v0.7's at any other address. A v0.8 op with the `0x7702`
    /// initCode marker needs the sender's delegate: [`crate::UserOpHashError::MissingDelegate`].
    pub fn user_op_hash(
        &self,
        op: &crate::PackedUserOperation,
        chain_id: u64,
    ) -> Result<alloy_primitives::B256, crate::UserOpHashError> {
        let version = self.entry_point_version().unwrap_or(crate::EntryPointVersion::V07);
        op.hash_for(version, self.entry_point, chain_id, None)
    }

    /// [`Self::user_op_hash`] of an unpacked op: a v0.8 op with the `0x7702` initCode marker
    /// hashes with the delegate of the EIP-7702 authorization it carries (the sender's delegate
    /// once the bundle applies it), or `delegate` (the sender's current one) without one.
    pub fn user_op_hash_of(
        &self,
        op: &crate::UserOperation,
        chain_id: u64,
        delegate: Option<alloy_primitives::Address>,
    ) -> Result<alloy_primitives::B256, crate::UserOpHashError> {
        let version = self.entry_point_version().unwrap_or(crate::EntryPointVersion::V07);
        let delegate = op.eip7702_auth.as_ref().map(|auth| auth.address).or(delegate);
        op.pack().hash_for(version, self.entry_point, chain_id, delegate)
    }

    /// The canonical deployment that `@rhinestone/module-sdk` 0.4.0 builds sessions for (its
    /// `GLOBAL_CONSTANTS`), and that abstractjs and the Nexus SDK use: upstream's SmartSession,
    /// policies and compatibility fallback, and Rhinestone's OwnableValidator. There is no
    /// ECDSA session signer or paymaster in it.
    pub const MODULE_SDK_0_4: Self = Self {
        entry_point: ENTRY_POINT_V07,
        smart_session: SMART_SESSION,
        policies: PolicyAddresses::MODULE_SDK,
        session_validators: SessionValidators { ecdsa: None, ownable: Some(OWNABLE_VALIDATOR) },
        compatibility_fallback: Some(COMPATIBILITY_FALLBACK),
        paymaster: None,
    };

    /// The deployment module-sdk 0.2.3 builds sessions for, and so the Nexus SDK 0.0.29's
    /// `SessionData`: its SmartSession, per-policy constants and OwnableValidator, each
    /// elsewhere than 0.4.0's (module-sdk 0.2.3's compatibility fallback is not listed: its
    /// runtime is not known here).
    pub const MODULE_SDK_0_2_3: Self = Self {
        entry_point: ENTRY_POINT_V07,
        smart_session: SMART_SESSION_0_2_3,
        policies: PolicyAddresses::MODULE_SDK_0_2_3,
        session_validators: SessionValidators {
            ecdsa: None,
            ownable: Some(OWNABLE_VALIDATOR_0_2_3),
        },
        compatibility_fallback: None,
        paymaster: None,
    };

    /// The built-in presets, by the name `mandate --deployments` takes.
    pub const PRESETS: &[(&str, Self)] =
        &[("module-sdk-0.4", Self::MODULE_SDK_0_4), ("module-sdk-0.2.3", Self::MODULE_SDK_0_2_3)];

    /// The built-in preset called `name`.
    pub fn preset(name: &str) -> Option<Self> {
        Self::PRESETS.iter().find(|(preset, _)| *preset == name).map(|(_, d)| *d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_must_be_present() {
        let mut json = serde_json::to_value(Deployments::MODULE_SDK_0_4).unwrap();
        json.as_object_mut().unwrap().remove("paymaster");
        let err = serde_json::from_value::<Deployments>(json).unwrap_err().to_string();
        assert!(err.contains("paymaster"), "{err}");
    }

    #[test]
    fn null_is_none_and_unknown_names_are_refused() {
        let json = serde_json::to_value(Deployments::MODULE_SDK_0_4).unwrap();
        assert_eq!(json["paymaster"], serde_json::Value::Null);
        assert_eq!(json["sessionValidators"]["ecdsa"], serde_json::Value::Null);
        let mut extra = json;
        extra["accountFactory"] = serde_json::json!("0x0000000000000000000000000000000000000001");
        assert!(serde_json::from_value::<Deployments>(extra).is_err());
        assert_eq!(Deployments::preset("module-sdk-0.3"), None);
    }
}
