//! Session key data of the ERC-20 and ABI session validation modules (spec §14.4–§14.7).

use alloy_primitives::{Address, B256, Bytes, FixedBytes, U256};
use alloy_sol_types::SolValue;
use serde::{Deserialize, Serialize};

use super::LegacyV2EncodeError;

/// ERC-20 SVM session key data: `abi.encode(sessionKey, token, recipient, maxAmount)` (the
/// `main` / npm-package module: no usage counter).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Erc20SessionData {
    /// The key that signs.
    pub session_key: Address,
    /// The only token the session may call.
    pub token: Address,
    /// The only recipient of `transfer(to, amount)` (or any `f(address, uint256)`).
    pub recipient: Address,
    /// Largest amount per call (JSON: number, decimal or 0x-hex string).
    #[serde(with = "crate::json::u256_flex")]
    pub max_amount: U256,
}

impl Erc20SessionData {
    /// The 128-byte encoding.
    pub fn encode(&self) -> Bytes {
        (self.session_key, self.token, self.recipient, self.max_amount).abi_encode_params().into()
    }

    /// Decodes it (as the module's `abi.decode`: exactly four clean words at least).
    pub fn decode(data: &[u8]) -> Result<Self, LegacyV2EncodeError> {
        let (session_key, token, recipient, max_amount) =
            <(Address, Address, Address, U256)>::abi_decode_params(data).map_err(|source| {
                LegacyV2EncodeError::Decode { what: "ERC-20 session key data", source }
            })?;
        Ok(Self { session_key, token, recipient, max_amount })
    }
}

/// An ABI SVM condition: how the calldata word compares with the reference value (legacy codes,
/// not Smart Sessions' — spec §14.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u64")]
pub enum AbiCondition {
    /// 0: `param == reference`.
    Equal,
    /// 1: `param <= reference` (the SDK's `"LASS_THAN_OR_EQUAL"`).
    LessThanOrEqual,
    /// 2: `param < reference`.
    LessThan,
    /// 3: `param >= reference`.
    GreaterThanOrEqual,
    /// 4: `param > reference`.
    GreaterThan,
    /// 5: `param != reference`.
    NotEqual,
}

impl AbiCondition {
    /// All six, by code.
    pub const ALL: [Self; 6] = [
        Self::Equal,
        Self::LessThanOrEqual,
        Self::LessThan,
        Self::GreaterThanOrEqual,
        Self::GreaterThan,
        Self::NotEqual,
    ];

    /// The code in session key data.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The condition of a code; `None` outside 0..=5 (the module fails such a rule).
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code)).copied()
    }

    /// The SDK's name (`RuleHelpers.Condition`), typo included.
    pub const fn sdk_name(self) -> &'static str {
        match self {
            Self::Equal => "EQUAL",
            Self::LessThanOrEqual => "LASS_THAN_OR_EQUAL",
            Self::LessThan => "LESS_THAN",
            Self::GreaterThanOrEqual => "GREATER_THAN_OR_EQUAL",
            Self::GreaterThan => "GREATER_THAN",
            Self::NotEqual => "NOT_EQUAL",
        }
    }

    /// The operator, for messages.
    pub const fn symbol(self) -> &'static str {
        match self {
            Self::Equal => "==",
            Self::LessThanOrEqual => "<=",
            Self::LessThan => "<",
            Self::GreaterThanOrEqual => ">=",
            Self::GreaterThan => ">",
            Self::NotEqual => "!=",
        }
    }

    /// Whether `param <op> reference` holds (as uint256).
    pub fn holds(self, param: U256, reference: U256) -> bool {
        match self {
            Self::Equal => param == reference,
            Self::LessThanOrEqual => param <= reference,
            Self::LessThan => param < reference,
            Self::GreaterThanOrEqual => param >= reference,
            Self::GreaterThan => param > reference,
            Self::NotEqual => param != reference,
        }
    }
}

impl From<AbiCondition> for u8 {
    fn from(c: AbiCondition) -> Self {
        c.code()
    }
}

impl TryFrom<u64> for AbiCondition {
    type Error = LegacyV2EncodeError;
    fn try_from(code: u64) -> Result<Self, LegacyV2EncodeError> {
        u8::try_from(code)
            .ok()
            .and_then(Self::from_code)
            .ok_or(LegacyV2EncodeError::Condition { rule: 0, code })
    }
}

/// `RuleHelpers.OffsetByIndex(i)`: the byte offset of the `i`-th (0-indexed) head word after the
/// selector.
pub const fn rule_offset_by_index(index: u16) -> u32 {
    32 * index as u32
}

/// One ABI SVM rule: the word at `offset` bytes after the inner call's selector, compared with
/// `reference_value`. JSON as the SDK's `Rule` (`{offset, condition, referenceValue}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AbiRule {
    /// Byte offset after the selector (32·i for the i-th head word).
    pub offset: u16,
    /// The comparison.
    pub condition: AbiCondition,
    /// The 32-byte reference value.
    pub reference_value: B256,
}

impl AbiRule {
    /// A rule.
    pub const fn new(offset: u16, condition: AbiCondition, reference_value: B256) -> Self {
        Self { offset, condition, reference_value }
    }

    /// A rule from unchecked numbers (as JSON or a CLI gives them): the offset must fit in
    /// uint16 and the condition be 0..=5. `rule` only labels errors.
    pub fn checked(
        rule: usize,
        offset: u64,
        condition: u64,
        reference_value: B256,
    ) -> Result<Self, LegacyV2EncodeError> {
        let offset =
            u16::try_from(offset).map_err(|_| LegacyV2EncodeError::RuleOffset { rule, offset })?;
        let condition = AbiCondition::try_from(condition)
            .map_err(|_| LegacyV2EncodeError::Condition { rule, code: condition })?;
        Ok(Self { offset, condition, reference_value })
    }

    /// The 35 encoded bytes: `uint16 offset ‖ uint8 condition ‖ bytes32 referenceValue`.
    pub fn encode(&self) -> [u8; 35] {
        let mut out = [0u8; 35];
        out[..2].copy_from_slice(&self.offset.to_be_bytes());
        out[2] = self.condition.code();
        out[3..].copy_from_slice(self.reference_value.as_slice());
        out
    }
}

/// ABI SVM session key data: `sessionKey (20) ‖ target (20) ‖ selector (4) ‖ uint128 valueLimit
/// (16) ‖ uint16 ruleCount (2) ‖ rules (35 each)`, as `createABISessionDatum` builds it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AbiSessionData {
    /// The key that signs.
    pub session_key: Address,
    /// The only contract the session may call.
    pub target: Address,
    /// The only function.
    pub selector: FixedBytes<4>,
    /// Largest native value per call.
    pub value_limit: u128,
    /// Argument rules, all of which must hold.
    pub rules: Vec<AbiRule>,
}

impl AbiSessionData {
    /// The encoded bytes; at most 65535 rules.
    pub fn encode(&self) -> Result<Bytes, LegacyV2EncodeError> {
        let count = u16::try_from(self.rules.len())
            .map_err(|_| LegacyV2EncodeError::TooManyRules(self.rules.len()))?;
        let mut out = Vec::with_capacity(62 + 35 * self.rules.len());
        out.extend_from_slice(self.session_key.as_slice());
        out.extend_from_slice(self.target.as_slice());
        out.extend_from_slice(self.selector.as_slice());
        out.extend_from_slice(&self.value_limit.to_be_bytes());
        out.extend_from_slice(&count.to_be_bytes());
        for rule in &self.rules {
            out.extend_from_slice(&rule.encode());
        }
        Ok(out.into())
    }

    /// Decodes it strictly: the length must be exactly `62 + 35·ruleCount` and every condition
    /// 0..=5 (the module itself ignores trailing bytes and fails unknown conditions).
    pub fn decode(data: &[u8]) -> Result<Self, LegacyV2EncodeError> {
        let bad = |detail: String| LegacyV2EncodeError::Malformed {
            what: "ABI session key data",
            detail,
        };
        if data.len() < 62 {
            return Err(bad(format!("{} bytes, at least 62", data.len())));
        }
        let count = usize::from(u16::from_be_bytes([data[60], data[61]]));
        if data.len() != 62 + 35 * count {
            return Err(bad(format!(
                "{} bytes for {count} rules, expected {}",
                data.len(),
                62 + 35 * count
            )));
        }
        let mut value = [0u8; 16];
        value.copy_from_slice(&data[44..60]);
        let rules = data[62..]
            .chunks_exact(35)
            .enumerate()
            .map(|(i, r)| {
                AbiRule::checked(
                    i,
                    u64::from(u16::from_be_bytes([r[0], r[1]])),
                    u64::from(r[2]),
                    B256::from_slice(&r[3..]),
                )
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            session_key: Address::from_slice(&data[..20]),
            target: Address::from_slice(&data[20..40]),
            selector: FixedBytes::from_slice(&data[40..44]),
            value_limit: u128::from_be_bytes(value),
            rules,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn abi_data_round_trips_and_has_the_sdk_layout() {
        let data = AbiSessionData {
            session_key: Address::repeat_byte(1),
            target: Address::repeat_byte(2),
            selector: [0xa9, 0x05, 0x9c, 0xbb].into(),
            value_limit: 5,
            rules: vec![
                AbiRule::new(32, AbiCondition::LessThanOrEqual, B256::with_last_byte(9)),
                AbiRule::new(0, AbiCondition::NotEqual, B256::ZERO),
            ],
        };
        let bytes = data.encode().unwrap();
        assert_eq!(bytes.len(), 62 + 70);
        assert_eq!(&bytes[60..62], &[0, 2]);
        assert_eq!(&bytes[62..65], &[0, 32, 1]);
        assert_eq!(bytes[59], 5);
        assert_eq!(AbiSessionData::decode(&bytes).unwrap(), data);
        let mut bad = bytes.to_vec();
        bad[64] = 6;
        assert_eq!(
            AbiSessionData::decode(&bad),
            Err(LegacyV2EncodeError::Condition { rule: 0, code: 6 })
        );
        assert!(AbiSessionData::decode(&bytes[..61]).is_err());
    }

    #[test]
    fn checked_rules_refuse_big_offsets_and_unknown_conditions() {
        assert_eq!(
            AbiRule::checked(3, 70_000, 0, B256::ZERO),
            Err(LegacyV2EncodeError::RuleOffset { rule: 3, offset: 70_000 })
        );
        assert_eq!(
            AbiRule::checked(1, 0, 6, B256::ZERO),
            Err(LegacyV2EncodeError::Condition { rule: 1, code: 6 })
        );
        assert_eq!(rule_offset_by_index(2), 64);
        let json = r#"{"offset":32,"condition":4,"referenceValue":"0x00000000000000000000000000000000000000000000000000000000000000ff"}"#;
        let rule: AbiRule = serde_json::from_str(json).unwrap();
        assert_eq!(rule.condition, AbiCondition::GreaterThan);
        assert_eq!(serde_json::to_string(&rule).unwrap(), json);
        assert!(serde_json::from_str::<AbiRule>(&json.replace(":4", ":9")).is_err());
    }

    #[test]
    fn erc20_data_is_four_words() {
        let data = Erc20SessionData {
            session_key: Address::repeat_byte(1),
            token: Address::repeat_byte(2),
            recipient: Address::repeat_byte(3),
            max_amount: U256::from(7),
        };
        let bytes = data.encode();
        assert_eq!(bytes.len(), 128);
        assert_eq!(Erc20SessionData::decode(&bytes).unwrap(), data);
        assert!(Erc20SessionData::decode(&bytes[..100]).is_err());
    }
}
