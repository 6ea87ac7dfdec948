//! JSON as the TypeScript SDKs write it: integers as JSON numbers, decimal strings or 0x-hex
//! strings (viem's bigints reach JSON as any of the three); bytes and hashes as 0x-hex.
//!
//! The Smart Sessions types in [`crate::sol`] derive serde with module-sdk's field names, so a
//! dapp's `Session`, `EnableSession` or `ChainSession[]` deserialises as it is.
//!
//! [`parse_quantity`] is the one lenient reader of integers written as text: these helpers and
//! the JSON-RPC quantities of [`rpc`] (written as hex, as bundlers are sent them) both read
//! through it.

pub mod rpc;

use alloy_primitives::{U256, ruint::ParseError};
use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

/// A non-negative integer written as text: `0x`- or `0X`-prefixed hex (`0x` alone is 0) or
/// decimal, surrounding whitespace ignored.
pub fn parse_quantity(text: &str) -> Result<U256, QuantityError> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some("") => Ok(U256::ZERO),
        Some(hex) => U256::from_str_radix(hex, 16)
            .map_err(|source| QuantityError::Hex { text: text.into(), source }),
        None => U256::from_str_radix(text, 10)
            .map_err(|source| QuantityError::Decimal { text: text.into(), source }),
    }
}

/// Why [`parse_quantity`] refused a text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuantityError {
    /// `0x`-prefixed, but not a 256-bit hex number.
    #[error("bad hex quantity {text:?}: {source}")]
    Hex {
        /// The text, trimmed.
        text: String,
        /// Why.
        source: ParseError,
    },
    /// Not a 256-bit decimal number.
    #[error("bad quantity {text:?}: {source}")]
    Decimal {
        /// The text, trimmed.
        text: String,
        /// Why.
        source: ParseError,
    },
}

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
        Flexible::Text(s) => parse_quantity(&s)
            .map_err(|_| D::Error::custom(format!("{s:?} is not an integer (decimal or 0x-hex)"))),
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
    use super::*;

    #[test]
    fn quantities_in_hex_or_decimal() {
        for (text, value) in [("0x1f", 31u64), ("0X1F", 31), (" 31 ", 31), ("0x", 0), ("0", 0)] {
            assert_eq!(parse_quantity(text), Ok(U256::from(value)), "{text}");
        }
        for text in ["0xzz", "-1", "1.5", "1e3", "0x 1", "twelve"] {
            assert!(parse_quantity(text).is_err(), "{text}");
        }
        assert_eq!(
            parse_quantity(" 0xzz").unwrap_err().to_string(),
            format!("bad hex quantity \"0xzz\": {}", U256::from_str_radix("zz", 16).unwrap_err())
        );
    }
}
