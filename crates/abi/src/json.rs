//! JSON as the TypeScript SDKs write it: integers as JSON numbers, decimal strings or 0x-hex
//! strings (viem's bigints reach JSON as any of the three); bytes and hashes as 0x-hex.
//!
//! The Smart Sessions types in [`crate::sol`] derive serde with module-sdk's field names, so a
//! dapp's `Session`, `EnableSession` or `ChainSession[]` deserialises as it is.

use alloy_primitives::U256;
use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

#[derive(Deserialize)]
#[serde(untagged)]
enum Flexible {
    Number(serde_json::Number),
    Text(String),
}

fn parse_u256<'de, D: Deserializer<'de>>(deserializer: D) -> Result<U256, D::Error> {
    match Flexible::deserialize(deserializer)? {
        Flexible::Number(n) => {
            let text = n.to_string();
            U256::from_str_radix(&text, 10)
                .map_err(|_| D::Error::custom(format!("{text} is not a non-negative integer")))
        }
        Flexible::Text(s) => {
            let t = s.trim();
            let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                Some(hex) if !hex.is_empty() => U256::from_str_radix(hex, 16),
                Some(_) => Ok(U256::ZERO),
                None => U256::from_str_radix(t, 10),
            };
            parsed.map_err(|_| {
                D::Error::custom(format!("{s:?} is not an integer (decimal or 0x-hex)"))
            })
        }
    }
}

/// `u64` from a number, a decimal string or a 0x-hex string; written as a number.
pub mod u64_flex {
    use super::*;

    /// Writes a JSON number.
    pub fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(*value)
    }

    /// Reads any of the three forms; values over `u64::MAX` are errors.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        let value = parse_u256(deserializer)?;
        u64::try_from(value)
            .map_err(|_| D::Error::custom(format!("{value} does not fit in uint64")))
    }
}

/// `u8` from a number, a decimal string or a 0x-hex string; written as a number.
pub mod u8_flex {
    use super::*;

    /// Writes a JSON number.
    pub fn serialize<S: Serializer>(value: &u8, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(*value)
    }

    /// Reads any of the three forms; values over 255 are errors.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u8, D::Error> {
        let value = parse_u256(deserializer)?;
        u8::try_from(value).map_err(|_| D::Error::custom(format!("{value} does not fit in uint8")))
    }
}

/// `U256` from a number, a decimal string or a 0x-hex string; written as a decimal string.
pub mod u256_flex {
    use super::*;

    /// Writes a decimal string (exact for any size, unlike a JSON number).
    pub fn serialize<S: Serializer>(value: &U256, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_string())
    }

    /// Reads any of the three forms.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<U256, D::Error> {
        parse_u256(deserializer)
    }
}

/// `u128` from a number, a decimal string or a 0x-hex string; written as a decimal string.
pub mod u128_flex {
    use super::*;

    /// Writes a decimal string.
    pub fn serialize<S: Serializer>(value: &u128, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_string())
    }

    /// Reads any of the three forms; values over `u128::MAX` are errors.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u128, D::Error> {
        let value = parse_u256(deserializer)?;
        u128::try_from(value)
            .map_err(|_| D::Error::custom(format!("{value} does not fit in uint128")))
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{Address, Bytes, b256};

    use crate::sol::{ChainDigest, Session};

    #[test]
    fn integers_in_every_form() {
        for text in [
            r#"{"chainId": 8453, "sessionDigest": "0x0000000000000000000000000000000000000000000000000000000000000001"}"#,
            r#"{"chainId": "8453", "sessionDigest": "0x0000000000000000000000000000000000000000000000000000000000000001"}"#,
            r#"{"chainId": "0x2105", "sessionDigest": "0x0000000000000000000000000000000000000000000000000000000000000001"}"#,
        ] {
            let d: ChainDigest = serde_json::from_str(text).unwrap();
            assert_eq!(d.chainId, 8453);
            assert_eq!(
                d.sessionDigest,
                b256!("0000000000000000000000000000000000000000000000000000000000000001")
            );
        }
        let err =
            serde_json::from_str::<ChainDigest>(r#"{"chainId": -1, "sessionDigest": "0x00"}"#);
        assert!(err.is_err());
        let err = serde_json::from_str::<ChainDigest>(
            r#"{"chainId": "0x10000000000000000", "sessionDigest": "0x0000000000000000000000000000000000000000000000000000000000000001"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("uint64"), "{err}");
    }

    #[test]
    fn module_sdk_session_shape() {
        let text = r#"{
            "sessionValidator": "0x000000000013fdB5234E4E3162a810F54d9f7E98",
            "sessionValidatorInitData": "0x1234",
            "salt": "0x0000000000000000000000000000000000000000000000000000000000000007",
            "userOpPolicies": [],
            "erc7739Policies": {"allowedERC7739Content": [{"appDomainSeparator": "0x0000000000000000000000000000000000000000000000000000000000000000", "contentName": ["Permit(bytes32 stuff)Permit"]}], "erc1271Policies": []},
            "actions": [{"actionTargetSelector": "0xa9059cbb", "actionTarget": "0x1111111111111111111111111111111111111111", "actionPolicies": [{"policy": "0x0000000000FEEc8D74e3143fBaBbca515358d869", "initData": "0x"}]}],
            "permitERC4337Paymaster": true,
            "chainId": "8453"
        }"#;
        let session: Session = serde_json::from_str(text).unwrap();
        assert_eq!(session.sessionValidatorInitData, Bytes::from_static(&[0x12, 0x34]));
        assert_eq!(session.erc7739Policies.allowedERC7739Content[0].contentNames.len(), 1);
        assert_eq!(session.actions[0].actionTarget, Address::repeat_byte(0x11));
        assert!(session.permitERC4337Paymaster);
        let back = serde_json::to_value(&session).unwrap();
        assert!(back["erc7739Policies"]["allowedERC7739Content"][0].get("contentName").is_some());
        let again: Session = serde_json::from_value(back).unwrap();
        assert_eq!(again, session);
    }
}
