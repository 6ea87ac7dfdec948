//! The SDK's session inputs as JSON: the arguments of `createABISessionDatum` and
//! `createERC20SessionDatum` (`@biconomy/account` v4), with bigints as JSON numbers, decimal
//! strings or 0x-hex strings.

use alloy_primitives::{Address, B256, Bytes, FixedBytes, U256};
use serde::{Deserialize, Serialize};

use super::{ABI_SVM, AbiRule, AbiSessionData, ERC20_SVM, LegacyV2EncodeError, SessionLeaf};
use crate::{
    builder::signature_selector,
    json::{u64_flex, u128_flex, u256_flex},
};

/// `interval`: when the session is valid (both default to 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInterval {
    /// Last valid second (0: no end).
    #[serde(default, with = "u64_flex")]
    pub valid_until: u64,
    /// First valid second.
    #[serde(default, with = "u64_flex")]
    pub valid_after: u64,
}

/// `functionSelector`: a signature such as `"safeMint(address)"`, or `{raw: "0x40d097c3"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FunctionSelector {
    /// The 4 bytes, verbatim.
    Raw {
        /// The selector.
        #[serde(with = "crate::json::hex_bytes")]
        raw: FixedBytes<4>,
    },
    /// A function signature; its selector is that of its canonical form
    /// ([`signature_selector`]).
    Signature(String),
}

impl FunctionSelector {
    /// The 4-byte selector.
    pub fn selector(&self) -> Result<FixedBytes<4>, LegacyV2EncodeError> {
        match self {
            Self::Raw { raw } => Ok(*raw),
            Self::Signature(signature) => {
                signature_selector(signature).ok_or_else(|| LegacyV2EncodeError::Malformed {
                    what: "functionSelector",
                    detail: format!(
                        "{signature:?} is not a signature like \"transfer(address,uint256)\""
                    ),
                })
            }
        }
    }
}

/// `referenceValue`: `{raw}` (32 bytes, verbatim), or an integer (number, decimal string or
/// 0x-hex string, left-padded to 32 bytes: the SDK pads a bigint and a hex string alike).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ReferenceValue {
    /// The word, verbatim.
    Raw {
        /// The 32 bytes.
        #[serde(with = "crate::json::hex_bytes")]
        raw: B256,
    },
    /// A value left-padded to 32 bytes.
    Value(#[serde(with = "u256_flex")] U256),
}

impl ReferenceValue {
    /// The 32-byte word.
    pub fn word(&self) -> B256 {
        match self {
            Self::Raw { raw } => *raw,
            Self::Value(v) => B256::from(*v),
        }
    }
}

/// One SDK `Rule`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleParams {
    /// Byte offset after the selector (`RuleHelpers.OffsetByIndex(i)` = 32·i).
    #[serde(with = "u64_flex")]
    pub offset: u64,
    /// Legacy condition code 0..=5.
    #[serde(with = "u64_flex")]
    pub condition: u64,
    /// The reference value.
    pub reference_value: ReferenceValue,
}

/// The arguments of `createABISessionDatum`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AbiSessionParams {
    /// When the session is valid.
    #[serde(default)]
    pub interval: SessionInterval,
    /// The session key.
    #[serde(with = "crate::json::address")]
    pub session_key_address: Address,
    /// The contract the session may call.
    #[serde(with = "crate::json::address")]
    pub contract_address: Address,
    /// The function it may call.
    pub function_selector: FunctionSelector,
    /// Argument rules.
    #[serde(default)]
    pub rules: Vec<RuleParams>,
    /// Largest native value per call (uint128).
    #[serde(with = "u128_flex")]
    pub value_limit: u128,
}

impl AbiSessionParams {
    /// The ABI module's session key data (typed errors for offsets over uint16, conditions
    /// outside 0..=5, a malformed signature).
    pub fn data(&self) -> Result<AbiSessionData, LegacyV2EncodeError> {
        let rules = self
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| AbiRule::checked(i, r.offset, r.condition, r.reference_value.word()))
            .collect::<Result<_, _>>()?;
        Ok(AbiSessionData {
            session_key: self.session_key_address,
            target: self.contract_address,
            selector: self.function_selector.selector()?,
            value_limit: self.value_limit,
            rules,
        })
    }

    /// The leaf for the SDK's ABI module address ([`ABI_SVM`]).
    pub fn leaf(&self) -> Result<SessionLeaf, LegacyV2EncodeError> {
        self.leaf_for(ABI_SVM)
    }

    /// The leaf for an ABI module at `abi_svm`.
    pub fn leaf_for(&self, abi_svm: Address) -> Result<SessionLeaf, LegacyV2EncodeError> {
        let leaf = SessionLeaf::new(
            self.interval.valid_until,
            self.interval.valid_after,
            abi_svm,
            self.data()?.encode()?,
        );
        leaf.check()?;
        Ok(leaf)
    }
}

/// The arguments of `createERC20SessionDatum` (the data already ABI-encoded, as the SDK takes it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Erc20SessionParams {
    /// When the session is valid.
    #[serde(default)]
    pub interval: SessionInterval,
    /// The session key.
    #[serde(with = "crate::json::address")]
    pub session_key_address: Address,
    /// `abi.encode(sessionKey, token, recipient, maxAmount)`.
    #[serde(with = "crate::json::hex_bytes")]
    pub session_key_data: Bytes,
}

impl Erc20SessionParams {
    /// The leaf for the SDK's ERC-20 module address ([`ERC20_SVM`]).
    pub fn leaf(&self) -> Result<SessionLeaf, LegacyV2EncodeError> {
        self.leaf_for(ERC20_SVM)
    }

    /// The leaf for an ERC-20 module at `erc20_svm`.
    pub fn leaf_for(&self, erc20_svm: Address) -> Result<SessionLeaf, LegacyV2EncodeError> {
        let leaf = SessionLeaf::new(
            self.interval.valid_until,
            self.interval.valid_after,
            erc20_svm,
            self.session_key_data.clone(),
        );
        leaf.check()?;
        Ok(leaf)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_seed_002_session_reads_as_the_sdk_writes_it() {
        let json = r#"{
            "interval": {"validUntil": 0, "validAfter": 0},
            "sessionKeyAddress": "0x5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e",
            "contractAddress": "0x1758f42Af7026fBbB559Dc60EcE0De3ef81f665e",
            "functionSelector": "safeMint(address)",
            "rules": [{"offset": 0, "condition": 0,
                       "referenceValue": "0xacacacacacacacacacacacacacacacacacacacac"}],
            "valueLimit": "0"
        }"#;
        let params: AbiSessionParams = serde_json::from_str(json).unwrap();
        let data = params.data().unwrap();
        assert_eq!(data.selector, FixedBytes::from([0x40, 0xd0, 0x97, 0xc3]));
        assert_eq!(data.rules[0].reference_value, Address::repeat_byte(0xac).into_word());
        assert_eq!(params.leaf().unwrap().session_validation_module, ABI_SVM);

        let bad = json.replace("\"condition\": 0", "\"condition\": 6");
        let params: AbiSessionParams = serde_json::from_str(&bad).unwrap();
        assert_eq!(params.data(), Err(LegacyV2EncodeError::Condition { rule: 0, code: 6 }));
        let bad = json.replace("\"offset\": 0", "\"offset\": 65536");
        let params: AbiSessionParams = serde_json::from_str(&bad).unwrap();
        assert_eq!(params.data(), Err(LegacyV2EncodeError::RuleOffset { rule: 0, offset: 65_536 }));
        let bad = json.replace("safeMint(address)", "safeMint");
        let params: AbiSessionParams = serde_json::from_str(&bad).unwrap();
        assert!(params.data().is_err());
        let raw = json.replace("\"safeMint(address)\"", "{\"raw\": \"0x40d097c3\"}");
        let params: AbiSessionParams = serde_json::from_str(&raw).unwrap();
        assert_eq!(params.data().unwrap(), data);
        // A decimal string, a number and a short hex string are the same word.
        for v in ["\"255\"", "255", "\"0xff\""] {
            let r: ReferenceValue = serde_json::from_str(v).unwrap();
            assert_eq!(r.word(), B256::with_last_byte(0xff));
        }
    }

    #[test]
    fn v2_params_take_hex_bytes_and_checksummed_addresses_only() {
        let json = r#"{
            "sessionKeyAddress": "0x5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e",
            "contractAddress": "0x1758f42Af7026fBbB559Dc60EcE0De3ef81f665e",
            "functionSelector": {"raw": "0x40d097c3"},
            "valueLimit": "0"
        }"#;
        serde_json::from_str::<AbiSessionParams>(json).unwrap();
        // One letter's case flipped: the EIP-55 checksum no longer holds.
        let bad = json.replace("0x1758f42Af7", "0x1758f42aF7");
        let err = serde_json::from_str::<AbiSessionParams>(&bad).unwrap_err().to_string();
        assert!(err.contains("checksum"), "{err}");
        // Lowercase stays accepted.
        let lower = json.replace(
            "0x1758f42Af7026fBbB559Dc60EcE0De3ef81f665e",
            "0x1758f42af7026fbbb559dc60ece0de3ef81f665e",
        );
        serde_json::from_str::<AbiSessionParams>(&lower).unwrap();
        // Bytes as a number array.
        let bad = json.replace("\"0x40d097c3\"", "[64, 208, 151, 195]");
        assert!(serde_json::from_str::<AbiSessionParams>(&bad).is_err());
        let erc20 = r#"{"sessionKeyAddress": "0x5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e",
                        "sessionKeyData": [1, 2, 3]}"#;
        assert!(serde_json::from_str::<Erc20SessionParams>(erc20).is_err());
    }
}
