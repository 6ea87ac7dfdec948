//! Lenient serde for JSON-RPC quantities and optional addresses.
//!
//! Bundlers agree on `0x`-prefixed hex quantities in what they are sent, but not in what they
//! answer: some send decimal strings, bare JSON numbers, `null` or `"0x"` for an absent field.
//! These helpers accept all of those and always write minimal hex; text is read by
//! [`super::parse_quantity`], as the SDKs' JSON is.

use super::{QuantityError, parse_quantity};
use alloy_primitives::{Address, U256};
use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

/// A quantity as bundlers send it: hex string, decimal string or JSON number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Text(String),
    Number(u64),
}

fn parse(raw: Raw) -> Result<U256, QuantityError> {
    match raw {
        Raw::Number(n) => Ok(U256::from(n)),
        // Bundlers write "0x" for zero; the SDKs' JSON may not.
        Raw::Text(s) if s.trim() == "0x" => Ok(U256::ZERO),
        Raw::Text(s) => parse_quantity(&s),
    }
}

/// Serde for `U256` quantities.
pub mod u256 {
    use super::*;

    /// Writes `0x`-prefixed minimal hex.
    pub fn serialize<S: Serializer>(value: &U256, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{value:#x}"))
    }

    /// Reads hex, decimal or a number.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
        parse(Raw::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// Serde for `Option<U256>` quantities (`null` and absence are `None`).
pub mod opt_u256 {
    use super::*;

    /// Writes `0x`-prefixed minimal hex, or `null`.
    pub fn serialize<S: Serializer>(value: &Option<U256>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.serialize_str(&format!("{v:#x}")),
            None => s.serialize_none(),
        }
    }

    /// Reads hex, decimal, a number or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<U256>, D::Error> {
        match Option::<Raw>::deserialize(d)? {
            Some(raw) => parse(raw).map(Some).map_err(D::Error::custom),
            None => Ok(None),
        }
    }
}

/// Serde for `Option<u64>` quantities (block numbers, statuses).
pub mod opt_u64 {
    use super::*;

    /// Writes `0x`-prefixed minimal hex, or `null`.
    pub fn serialize<S: Serializer>(value: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.serialize_str(&format!("{v:#x}")),
            None => s.serialize_none(),
        }
    }

    /// Reads hex, decimal, a number or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        match Option::<Raw>::deserialize(d)? {
            Some(raw) => {
                let v = parse(raw).map_err(D::Error::custom)?;
                u64::try_from(v).map(Some).map_err(|_| D::Error::custom("quantity exceeds u64"))
            }
            None => Ok(None),
        }
    }
}

/// Serde for `u64` quantities.
pub mod u64_hex {
    use super::*;

    /// Writes `0x`-prefixed minimal hex.
    pub fn serialize<S: Serializer>(value: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{value:#x}"))
    }

    /// Reads hex, decimal or a number.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let v = parse(Raw::deserialize(d)?).map_err(D::Error::custom)?;
        u64::try_from(v).map_err(|_| D::Error::custom("quantity exceeds u64"))
    }
}

/// Serde for optional addresses where `null`, `""`, `"0x"` and the zero address all mean
/// "none" (bundlers write each of them for an op without factory or paymaster).
pub mod opt_address {
    use super::*;

    /// Writes the checksummed address, or `null`.
    pub fn serialize<S: Serializer>(value: &Option<Address>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(a) => s.serialize_str(&a.to_checksum(None)),
            None => s.serialize_none(),
        }
    }

    /// Reads an address, or one of the spellings of "none".
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Address>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) if s.is_empty() || s == "0x" => Ok(None),
            Some(s) => {
                let address: Address = s.parse().map_err(D::Error::custom)?;
                Ok((!address.is_zero()).then_some(address))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Q {
        #[serde(with = "u256")]
        v: U256,
        #[serde(default, with = "opt_u64")]
        n: Option<u64>,
        #[serde(default, with = "opt_address")]
        a: Option<Address>,
    }

    #[test]
    fn accepts_every_spelling() {
        for (text, v) in [
            (r#"{"v":"0x1f"}"#, 31u64),
            (r#"{"v":"31"}"#, 31),
            (r#"{"v":31}"#, 31),
            (r#"{"v":"0x"}"#, 0),
        ] {
            let q: Q = serde_json::from_str(text).expect(text);
            assert_eq!(q.v, U256::from(v), "{text}");
            assert_eq!(q.n, None);
            assert_eq!(q.a, None);
        }
        let q: Q = serde_json::from_str(r#"{"v":"0x0","n":null,"a":"0x"}"#).expect("nulls");
        assert_eq!((q.n, q.a), (None, None));
        assert!(serde_json::from_str::<Q>(r#"{"v":"0xzz"}"#).is_err());
    }

    #[test]
    fn writes_minimal_hex() {
        let q = Q { v: U256::from(255), n: Some(0), a: None };
        assert_eq!(
            serde_json::to_string(&q).expect("serialises"),
            r#"{"v":"0xff","n":"0x0","a":null}"#
        );
    }
}
