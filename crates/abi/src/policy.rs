//! Policies and their init data, as module-sdk's `getSudoPolicy`, `getUniversalActionPolicy`,
//! `getTimeFramePolicy`, `getSpendingLimitsPolicy`, `getUsageLimitPolicy` and
//! `getValueLimitPolicy` build them (spec §9, §11.1), with typed errors for what the contracts
//! would refuse.

use alloy_primitives::{Address, B256, Bytes, U256, address};
use alloy_sol_types::SolValue;
use serde::{Deserialize, Serialize};

use crate::{BuildError, BuildWarning, sol::PolicyData};

/// Most rules a UniActionPolicy config holds.
pub const MAX_RULES: usize = 16;

/// Where the policy contracts are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct PolicyAddresses {
    /// SudoPolicy.
    #[serde(with = "crate::json::address")]
    pub sudo: Address,
    /// UniActionPolicy (JSON: `universalAction`, as module-sdk names it).
    #[serde(rename = "universalAction", with = "crate::json::address")]
    pub uni_action: Address,
    /// TimeFramePolicy.
    #[serde(with = "crate::json::address")]
    pub time_frame: Address,
    /// ERC20SpendingLimitPolicy (JSON: `spendingLimits`, as module-sdk names it).
    #[serde(rename = "spendingLimits", with = "crate::json::address")]
    pub erc20_spending_limit: Address,
    /// UsageLimitPolicy.
    #[serde(with = "crate::json::address")]
    pub usage_limit: Address,
    /// ValueLimitPolicy.
    #[serde(with = "crate::json::address")]
    pub value_limit: Address,
}

impl PolicyAddresses {
    /// The deployments module-sdk 0.4.0 uses (its `GLOBAL_CONSTANTS`).
    pub const MODULE_SDK: Self = Self {
        sudo: address!("0000000000FEEc8D74e3143fBaBbca515358d869"),
        uni_action: address!("0000000000714Cf48FcF88A0bFBa70d313415032"),
        time_frame: address!("0000000000D30f611fA3bf652ac6879428586930"),
        erc20_spending_limit: address!("000000000033212e272655d8a22402db819477a6"),
        usage_limit: address!("00000000001d4479FA2A947026204d0283ceDe4B"),
        value_limit: address!("000000000021dC45451291BCDfc9f0B46d6f0278"),
    };

    /// The policies module-sdk 0.2.3 builds sessions with (its per-policy constants), which the
    /// Nexus SDK 0.0.29 pins.
    pub const MODULE_SDK_0_2_3: Self = Self {
        sudo: address!("0000003111cD8e92337C100F22B7A9dbf8DEE301"),
        uni_action: address!("0000006DDA6c463511C4e9B05CFc34C1247fCF1F"),
        time_frame: address!("8177451511dE0577b911C254E9551D981C26dc72"),
        erc20_spending_limit: address!("00000088D48cF102A8Cdb0137A9b173f957c6343"),
        usage_limit: address!("1F34eF8311345A3A4a4566aF321b313052F51493"),
        value_limit: address!("730DA93267E7E513e932301B47F2ac7D062abC83"),
    };
}

impl Default for PolicyAddresses {
    fn default() -> Self {
        Self::MODULE_SDK
    }
}

/// A UniActionPolicy comparison (`ParamCondition`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ParamCondition {
    /// `param == ref`.
    #[default]
    Equal = 0,
    /// `param > ref`.
    GreaterThan = 1,
    /// `param < ref`.
    LessThan = 2,
    /// `param >= ref`.
    GreaterThanOrEqual = 3,
    /// `param <= ref`.
    LessThanOrEqual = 4,
    /// `param != ref`.
    NotEqual = 5,
    /// `ref >> 128 <= param <= ref & (2^128 - 1)`.
    InRange = 6,
}

impl ParamCondition {
    /// The condition of an enum value.
    pub const fn from_u8(value: u8) -> Option<Self> {
        Some(match value {
            0 => Self::Equal,
            1 => Self::GreaterThan,
            2 => Self::LessThan,
            3 => Self::GreaterThanOrEqual,
            4 => Self::LessThanOrEqual,
            5 => Self::NotEqual,
            6 => Self::InRange,
            _ => return None,
        })
    }

    /// The Solidity enum member's name (`EQUAL`, `GREATER_THAN`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Equal => "EQUAL",
            Self::GreaterThan => "GREATER_THAN",
            Self::LessThan => "LESS_THAN",
            Self::GreaterThanOrEqual => "GREATER_THAN_OR_EQUAL",
            Self::LessThanOrEqual => "LESS_THAN_OR_EQUAL",
            Self::NotEqual => "NOT_EQUAL",
            Self::InRange => "IN_RANGE",
        }
    }

    /// Whether `param` passes the condition against `reference` (as UniActionPolicy compares
    /// uint256 words; `InRange` reads `reference` as `min << 128 | max`).
    pub fn holds(self, param: U256, reference: U256) -> bool {
        match self {
            Self::Equal => param == reference,
            Self::GreaterThan => param > reference,
            Self::LessThan => param < reference,
            Self::GreaterThanOrEqual => param >= reference,
            Self::LessThanOrEqual => param <= reference,
            Self::NotEqual => param != reference,
            Self::InRange => {
                param >= (reference >> 128) && param <= (reference & U256::from(u128::MAX))
            }
        }
    }

    /// The condition of an abstractjs name (`equal`, `greaterThan`, ...).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "equal" | "EQUAL" => Self::Equal,
            "greaterThan" | "GREATER_THAN" => Self::GreaterThan,
            "lessThan" | "LESS_THAN" => Self::LessThan,
            "greaterThanOrEqual" | "GREATER_THAN_OR_EQUAL" => Self::GreaterThanOrEqual,
            "lessThanOrEqual" | "LESS_THAN_OR_EQUAL" => Self::LessThanOrEqual,
            "notEqual" | "NOT_EQUAL" => Self::NotEqual,
            "inRange" | "IN_RANGE" => Self::InRange,
            _ => return None,
        })
    }
}

impl Serialize for ParamCondition {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(*self as u8)
    }
}

impl<'de> Deserialize<'de> for ParamCondition {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u8),
            Name(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(n) => Self::from_u8(n)
                .ok_or_else(|| serde::de::Error::custom(format!("condition {n} is not 0..=6"))),
            Raw::Name(name) => Self::from_name(&name)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown condition {name:?}"))),
        }
    }
}

/// A rule's usage budget: the sum of the checked parameter over all uses stays `<= limit`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitUsage {
    /// The budget.
    #[serde(with = "crate::json::u256_flex")]
    pub limit: U256,
    /// Already used (normally 0).
    #[serde(with = "crate::json::u256_flex")]
    pub used: U256,
}

/// One UniActionPolicy rule: compare the calldata word at `offset` (bytes after the selector)
/// with `ref`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct ParamRule {
    /// The comparison.
    pub condition: ParamCondition,
    /// Byte offset of the argument word after the 4-byte selector.
    #[serde(with = "crate::json::u64_flex")]
    pub offset: u64,
    /// Whether `usage` is counted.
    pub is_limited: bool,
    /// The reference value.
    #[serde(rename = "ref", with = "crate::json::hex_bytes")]
    pub reference: B256,
    /// The usage budget.
    pub usage: LimitUsage,
}

impl ParamRule {
    /// The filler abstractjs puts in unused slots: `{GREATER_THAN, 0, false, 0, {0, 0}}`.
    pub const FILLER: Self = Self {
        condition: ParamCondition::GreaterThan,
        offset: 0,
        is_limited: false,
        reference: B256::ZERO,
        usage: LimitUsage { limit: U256::ZERO, used: U256::ZERO },
    };

    /// A rule on the `n`-th argument (1-based, as abstractjs's `calldataArgument(n)`).
    pub fn on_argument(
        n: u64,
        condition: ParamCondition,
        reference: B256,
    ) -> Result<Self, BuildError> {
        if n == 0 {
            return Err(BuildError::ArgumentIndex);
        }
        let offset = (n - 1).checked_mul(32).ok_or(BuildError::ArgumentTooFar(n))?;
        Ok(Self { condition, offset, reference, ..Self::default() })
    }

    /// Counts this rule's parameter against `limit` over all uses.
    pub const fn limited(mut self, limit: U256) -> Self {
        self.is_limited = true;
        self.usage = LimitUsage { limit, used: U256::ZERO };
        self
    }
}

/// The active rules of a UniActionPolicy config.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamRules {
    /// How many of `rules` are checked.
    #[serde(with = "crate::json::u256_flex")]
    pub length: U256,
    /// The rules (module-sdk passes all 16 slots; fewer are padded with [`ParamRule::FILLER`]).
    pub rules: Vec<ParamRule>,
}

/// UniActionPolicy's configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct ActionConfig {
    /// Most native value one call may carry.
    #[serde(with = "crate::json::u256_flex")]
    pub value_limit_per_use: U256,
    /// The rules.
    pub param_rules: ParamRules,
}

impl ActionConfig {
    /// A configuration checking `rules` (at most 16; any offset the policy can read, see
    /// [`warnings`](Self::warnings)).
    pub fn new(value_limit_per_use: U256, rules: Vec<ParamRule>) -> Result<Self, BuildError> {
        let config = Self {
            value_limit_per_use,
            param_rules: ParamRules { length: U256::from(rules.len()), rules },
        };
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), BuildError> {
        let rules = &self.param_rules.rules;
        if rules.len() > MAX_RULES {
            return Err(BuildError::TooManyRules(rules.len()));
        }
        if self.param_rules.length > U256::from(MAX_RULES) {
            return Err(BuildError::RulesLength(self.param_rules.length));
        }
        Ok(())
    }

    /// What the policy accepts but may not be meant: offsets off the argument words, offsets
    /// no check can read.
    pub fn warnings(&self) -> Vec<BuildWarning> {
        let rules = &self.param_rules.rules;
        let checked =
            usize::try_from(self.param_rules.length).unwrap_or(MAX_RULES).min(rules.len());
        rules[..checked]
            .iter()
            .enumerate()
            .filter_map(|(rule, r)| {
                let offset = r.offset;
                // The policy reads 32 bytes at 4 + offset, in uint64 arithmetic.
                if offset.checked_add(4 + 32).is_none() {
                    Some(BuildWarning::UnreadableOffset { rule, offset })
                } else if offset % 32 != 0 {
                    Some(BuildWarning::UnalignedOffset { rule, offset })
                } else {
                    None
                }
            })
            .collect()
    }

    /// `abi.encode(ActionConfig)`: 98 words, the rule table padded to 16 slots.
    pub fn encode(&self) -> Result<Bytes, BuildError> {
        self.check()?;
        let mut out = Vec::with_capacity(98 * 32);
        out.extend_from_slice(&self.value_limit_per_use.to_be_bytes::<32>());
        out.extend_from_slice(&self.param_rules.length.to_be_bytes::<32>());
        let filler = std::iter::repeat(&ParamRule::FILLER);
        for rule in self.param_rules.rules.iter().chain(filler).take(MAX_RULES) {
            out.extend_from_slice(B256::with_last_byte(rule.condition as u8).as_slice());
            out.extend_from_slice(&U256::from(rule.offset).to_be_bytes::<32>());
            out.extend_from_slice(B256::with_last_byte(u8::from(rule.is_limited)).as_slice());
            out.extend_from_slice(rule.reference.as_slice());
            out.extend_from_slice(&rule.usage.limit.to_be_bytes::<32>());
            out.extend_from_slice(&rule.usage.used.to_be_bytes::<32>());
        }
        Ok(out.into())
    }
}

/// A token and how much of it a session may move in total.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenLimit {
    /// The ERC-20.
    #[serde(with = "crate::json::address")]
    pub token: Address,
    /// The total.
    #[serde(with = "crate::json::u256_flex")]
    pub limit: U256,
}

/// A time window (module-sdk's `{validUntil, validAfter}`); `valid_until` 0 means no end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct TimeFrame {
    /// Last valid second (0: none).
    #[serde(with = "crate::json::u64_flex")]
    pub valid_until: u64,
    /// First valid second.
    #[serde(with = "crate::json::u64_flex")]
    pub valid_after: u64,
}

/// A limit parameter (`{limit}`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// The limit.
    #[serde(with = "crate::json::u256_flex")]
    pub limit: U256,
}

const MAX_U48: u64 = (1 << 48) - 1;

/// A policy and its parameters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Policy {
    /// Allows everything (init data empty).
    Sudo,
    /// Per-argument rules and a per-call value limit.
    UniAction(ActionConfig),
    /// A validity window.
    TimeFrame(TimeFrame),
    /// Total ERC-20 amounts per token.
    Erc20SpendingLimit(Vec<TokenLimit>),
    /// How many times (a uint128).
    UsageLimit(u128),
    /// Total native value.
    ValueLimit(U256),
}

impl Policy {
    /// What the policy accepts but may not be meant (see [`ActionConfig::warnings`]).
    pub fn warnings(&self) -> Vec<BuildWarning> {
        match self {
            Self::UniAction(config) => config.warnings(),
            _ => Vec::new(),
        }
    }

    /// The policy's init data, as the contract decodes it.
    pub fn init_data(&self) -> Result<Bytes, BuildError> {
        match self {
            Self::Sudo => Ok(Bytes::new()),
            Self::UniAction(config) => config.encode(),
            Self::TimeFrame(frame) => {
                for (field, value) in
                    [("validUntil", frame.valid_until), ("validAfter", frame.valid_after)]
                {
                    if value > MAX_U48 {
                        return Err(BuildError::TimeOutOfRange { field, value });
                    }
                }
                if frame.valid_until != 0 && frame.valid_after > frame.valid_until {
                    return Err(BuildError::TimeFrame {
                        valid_after: frame.valid_after,
                        valid_until: frame.valid_until,
                    });
                }
                let mut out = Vec::with_capacity(12);
                out.extend_from_slice(&frame.valid_until.to_be_bytes()[2..]);
                out.extend_from_slice(&frame.valid_after.to_be_bytes()[2..]);
                Ok(out.into())
            }
            Self::Erc20SpendingLimit(limits) => {
                for (index, limit) in limits.iter().enumerate() {
                    if limit.token == Address::ZERO {
                        return Err(BuildError::ZeroToken { index });
                    }
                    if limit.limit.is_zero() {
                        return Err(BuildError::ZeroLimit { policy: "spendingLimits" });
                    }
                }
                let tokens: Vec<Address> = limits.iter().map(|l| l.token).collect();
                let amounts: Vec<U256> = limits.iter().map(|l| l.limit).collect();
                Ok((tokens, amounts).abi_encode_params().into())
            }
            Self::UsageLimit(limit) => {
                if *limit == 0 {
                    return Err(BuildError::ZeroLimit { policy: "usageLimit" });
                }
                Ok(Bytes::copy_from_slice(&limit.to_be_bytes()))
            }
            Self::ValueLimit(limit) => {
                if limit.is_zero() {
                    return Err(BuildError::ZeroLimit { policy: "valueLimit" });
                }
                Ok(Bytes::copy_from_slice(&limit.to_be_bytes::<32>()))
            }
        }
    }

    /// The contract implementing this policy.
    pub const fn address(&self, addresses: &PolicyAddresses) -> Address {
        match self {
            Self::Sudo => addresses.sudo,
            Self::UniAction(_) => addresses.uni_action,
            Self::TimeFrame(_) => addresses.time_frame,
            Self::Erc20SpendingLimit(_) => addresses.erc20_spending_limit,
            Self::UsageLimit(_) => addresses.usage_limit,
            Self::ValueLimit(_) => addresses.value_limit,
        }
    }

    /// The `PolicyData` entry of a session.
    pub fn to_policy_data(&self, addresses: &PolicyAddresses) -> Result<PolicyData, BuildError> {
        Ok(PolicyData { policy: self.address(addresses), initData: self.init_data()? })
    }
}

/// Why module-sdk-shaped policy parameters could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyParamsError {
    /// Not one of the six kinds.
    #[error(
        "unknown policy kind {0:?} (sudo, universal, timeframe, spending-limits, usage-limit, value-limit)"
    )]
    UnknownKind(String),
    /// The JSON does not have the kind's shape.
    #[error("{kind} parameters: {source}")]
    Json {
        /// The kind.
        kind: &'static str,
        /// What serde found.
        source: serde_json::Error,
    },
    /// The parameters are well-formed but the policy would refuse them.
    #[error(transparent)]
    Build(#[from] BuildError),
}

impl Policy {
    /// A policy from its kind and the parameters module-sdk's builder takes:
    /// `sudo` (none: `{}` or `null`), `universal` (`ActionConfig`), `timeframe`
    /// (`{validUntil, validAfter}`), `spending-limits` (`[{token, limit}]`), `usage-limit` and
    /// `value-limit` (`{limit}`). Read straight from `params` (a `serde_json::Value`, or a
    /// `serde_json::Deserializer` over the text, which also refuses duplicate keys); unknown
    /// fields are errors.
    pub fn from_params<'de, D>(kind: &str, params: D) -> Result<Self, PolicyParamsError>
    where
        D: serde::Deserializer<'de, Error = serde_json::Error>,
    {
        fn parse<'de, T: Deserialize<'de>, D>(
            kind: &'static str,
            params: D,
        ) -> Result<T, PolicyParamsError>
        where
            D: serde::Deserializer<'de, Error = serde_json::Error>,
        {
            T::deserialize(params).map_err(|source| PolicyParamsError::Json { kind, source })
        }
        /// `getSudoPolicy()` takes nothing.
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct NoParams {}
        Ok(match kind {
            "sudo" => {
                parse::<Option<NoParams>, _>("sudo", params)?;
                Self::Sudo
            }
            "universal" => Self::UniAction(parse("universal", params)?),
            "timeframe" => Self::TimeFrame(parse("timeframe", params)?),
            "spending-limits" => Self::Erc20SpendingLimit(parse("spending-limits", params)?),
            "usage-limit" => {
                let limit: Limit = parse("usage-limit", params)?;
                let limit = u128::try_from(limit.limit).map_err(|_| PolicyParamsError::Json {
                    kind: "usage-limit",
                    source: serde::de::Error::custom("limit does not fit in uint128"),
                })?;
                Self::UsageLimit(limit)
            }
            "value-limit" => Self::ValueLimit(parse::<Limit, _>("value-limit", params)?.limit),
            other => return Err(PolicyParamsError::UnknownKind(other.to_string())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_addresses_json_keeps_the_module_sdk_names() {
        let json = serde_json::to_value(PolicyAddresses::MODULE_SDK).expect("serialises");
        let mut keys: Vec<&str> =
            json.as_object().expect("an object").keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["spendingLimits", "sudo", "timeFrame", "universalAction", "usageLimit", "valueLimit"]
        );
        let back: PolicyAddresses = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, PolicyAddresses::MODULE_SDK);
    }

    #[test]
    fn uni_action_init_data_is_98_words() {
        let rule =
            ParamRule::on_argument(2, ParamCondition::LessThanOrEqual, B256::with_last_byte(9))
                .unwrap()
                .limited(U256::from(100));
        let config = ActionConfig::new(U256::ZERO, vec![rule]).unwrap();
        let data = config.encode().unwrap();
        assert_eq!(data.len(), 3136);
        assert_eq!(U256::from_be_slice(&data[32..64]), U256::from(1));
        // rule 0: condition 4, offset 32, limited, ref 9, limit 100
        assert_eq!(data[95], 4);
        assert_eq!(U256::from_be_slice(&data[96..128]), U256::from(32));
        assert_eq!(data[159], 1);
        // rule 1 is the filler: GREATER_THAN
        assert_eq!(data[64 + 6 * 32 + 31], 1);
    }

    #[test]
    fn bad_policies_name_the_field() {
        let rules = vec![ParamRule::default(); 17];
        assert!(matches!(ActionConfig::new(U256::ZERO, rules), Err(BuildError::TooManyRules(17))));
        // An offset off the argument words is what module-sdk encodes too: a warning only.
        let nested = ParamRule { offset: 4 + 32, ..ParamRule::default() };
        let config = ActionConfig::new(U256::ZERO, vec![ParamRule::default(), nested]).unwrap();
        assert_eq!(config.warnings(), [BuildWarning::UnalignedOffset { rule: 1, offset: 36 }]);
        assert_eq!(
            U256::from_be_slice(&config.encode().unwrap()[64 + 7 * 32..64 + 8 * 32]),
            U256::from(36)
        );
        let far = ParamRule { offset: u64::MAX - 20, ..ParamRule::default() };
        let config = ActionConfig::new(U256::ZERO, vec![far]).unwrap();
        assert!(matches!(config.warnings()[..], [BuildWarning::UnreadableOffset { rule: 0, .. }]));
        // Rules past paramRules.length are never checked: no warning.
        let mut unchecked = config;
        unchecked.param_rules.length = U256::ZERO;
        assert!(unchecked.warnings().is_empty());
        assert!(matches!(
            ParamRule::on_argument(u64::MAX, ParamCondition::Equal, B256::ZERO),
            Err(BuildError::ArgumentTooFar(u64::MAX))
        ));
        assert!(matches!(
            ParamRule::on_argument(0, ParamCondition::Equal, B256::ZERO),
            Err(BuildError::ArgumentIndex)
        ));
        let frame = TimeFrame { valid_until: 10, valid_after: 11 };
        assert!(matches!(Policy::TimeFrame(frame).init_data(), Err(BuildError::TimeFrame { .. })));
        assert!(matches!(
            Policy::UsageLimit(0).init_data(),
            Err(BuildError::ZeroLimit { policy: "usageLimit" })
        ));
        let zero_token = vec![TokenLimit { token: Address::ZERO, limit: U256::from(1) }];
        assert!(matches!(
            Policy::Erc20SpendingLimit(zero_token).init_data(),
            Err(BuildError::ZeroToken { index: 0 })
        ));
    }

    #[test]
    fn packed_layouts() {
        let frame = TimeFrame { valid_until: 0x0a0b_0c0d_0e0f, valid_after: 0x0102_0304_0506 };
        assert_eq!(
            Policy::TimeFrame(frame).init_data().unwrap().as_ref(),
            &[10, 11, 12, 13, 14, 15, 1, 2, 3, 4, 5, 6]
        );
        assert_eq!(Policy::UsageLimit(5).init_data().unwrap().len(), 16);
        assert_eq!(Policy::ValueLimit(U256::from(5)).init_data().unwrap().len(), 32);
        assert!(Policy::Sudo.init_data().unwrap().is_empty());
    }
}
