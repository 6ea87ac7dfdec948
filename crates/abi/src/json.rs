//! JSON as the TypeScript SDKs write it: integers as JSON numbers, decimal strings or 0x-hex
//! strings (viem's bigints reach JSON as any of the three); bytes and hashes as 0x-hex.
//!
//! The Smart Sessions types in [`crate::sol`] derive serde with module-sdk's field names, so a
//! dapp's `Session`, `EnableSession` or `ChainSession[]` deserialises as it is.
//!
//! [`parse_quantity`] is the one lenient reader of integers written as text: these helpers and
//! the JSON-RPC quantities of [`rpc`] (written as hex, as bundlers are sent them) both read
//! through it.
//!
//! serde_json reads an integer past `u64` as a float; [`quote_big_integers`] turns such
//! literals into strings first, so they are read (and, when refused, printed) as written.
//! Error messages quote bad values through [`excerpt`], which cuts long ones.

use std::borrow::Cow;

pub mod rpc;

use alloy_primitives::{
    Address, B256, Bytes, U256,
    hex::{self, FromHex},
    ruint::ParseError,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

use crate::sol::{ActionData, ERC7739Data, PolicyData, Session};

/// A non-negative integer written as text: `0x`- or `0X`-prefixed hex or decimal, surrounding
/// whitespace ignored. A text without digits (`""`, `"0x"`) is an error, not 0 (for a time
/// frame, 0 is "never expires"), as are digit separators (`1_000`).
pub fn parse_quantity(text: &str) -> Result<U256, QuantityError> {
    let text = text.trim();
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).unwrap_or(text);
    if digits.is_empty() {
        return Err(QuantityError::Empty { text: text.into() });
    }
    if digits.contains('_') {
        return Err(QuantityError::Separator { text: text.into() });
    }
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => U256::from_str_radix(hex, 16)
            .map_err(|source| QuantityError::Hex { text: text.into(), source }),
        None => U256::from_str_radix(text, 10)
            .map_err(|source| QuantityError::Decimal { text: text.into(), source }),
    }
}

/// Values up to this many bytes appear whole in error messages (a 32-byte 0x-hex word does);
/// longer ones are cut by [`excerpt`].
pub const EXCERPT_MAX: usize = 66;

/// How many characters of a long value [`excerpt`] keeps.
const EXCERPT_PREFIX: usize = 18;

/// `value` as an error message quotes it: whole when short (at most [`EXCERPT_MAX`] bytes),
/// else its first characters and its length, e.g. `0x1234567890abcdef…(120000 bytes)`.
pub fn excerpt(value: &str) -> Cow<'_, str> {
    if value.len() <= EXCERPT_MAX {
        return Cow::Borrowed(value);
    }
    let cut = value.char_indices().nth(EXCERPT_PREFIX).map_or(value.len(), |(i, _)| i);
    Cow::Owned(format!("{}…({} bytes)", &value[..cut], value.len()))
}

/// `json` with every integer literal too big for `u64` (or, negative, `i64`) written as a
/// string, so that serde_json does not read it as a float: the quantity readers here then take
/// it exactly, and refusals print it as written. Anything else, invalid JSON included, is kept.
pub fn quote_big_integers(json: &str) -> Cow<'_, str> {
    let bytes = json.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len()
                    && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                let token = &json[start..i];
                let digits = token.strip_prefix('-').unwrap_or(token);
                let integer = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
                let fits = token.parse::<u64>().is_ok() || token.parse::<i64>().is_ok();
                if integer && !fits {
                    let out = out.get_or_insert_with(|| String::with_capacity(json.len() + 8));
                    out.push_str(&json[copied..start]);
                    out.push('"');
                    out.push_str(token);
                    out.push('"');
                    copied = i;
                }
            }
            _ => i += 1,
        }
    }
    match out {
        None => Cow::Borrowed(json),
        Some(mut out) => {
            out.push_str(&json[copied..]);
            Cow::Owned(out)
        }
    }
}

/// Why [`parse_quantity`] refused a text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuantityError {
    /// No digits (`""`, `"0x"`).
    #[error("empty quantity {text:?}: no digits")]
    Empty {
        /// The text, trimmed.
        text: String,
    },
    /// Digits with `_` separators.
    #[error("bad quantity {:?}: `_` inside a number", excerpt(text))]
    Separator {
        /// The text, trimmed.
        text: String,
    },
    /// `0x`-prefixed, but not a 256-bit hex number.
    #[error("bad hex quantity {:?}: {source}", excerpt(text))]
    Hex {
        /// The text, trimmed.
        text: String,
        /// Why.
        source: ParseError,
    },
    /// Not a 256-bit decimal number.
    #[error("bad quantity {:?}: {source}", excerpt(text))]
    Decimal {
        /// The text, trimmed.
        text: String,
        /// Why.
        source: ParseError,
    },
}

/// An address written as 0x-hex: all lowercase, all uppercase, or mixed case that is its
/// EIP-55 checksum (a mixed-case text with a wrong checksum is a mistyped address, refused).
/// The one reader of addresses given by a user, in JSON ([`address`]) or as an argument.
pub fn parse_address(text: &str) -> Result<Address, AddressTextError> {
    let Some(digits) = text.strip_prefix("0x") else {
        return Err(AddressTextError::Prefix { text: text.into() });
    };
    let address = Address::from_hex(digits)
        .map_err(|source| AddressTextError::Hex { text: text.into(), source })?;
    let mixed = digits.bytes().any(|b| b.is_ascii_lowercase())
        && digits.bytes().any(|b| b.is_ascii_uppercase());
    if mixed && Address::parse_checksummed(text, None).is_err() {
        return Err(AddressTextError::Checksum { text: text.into() });
    }
    Ok(address)
}

/// Why [`parse_address`] refused a text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressTextError {
    /// No `0x` prefix.
    #[error("bad address {:?}: expected 0x-hex", excerpt(text))]
    Prefix {
        /// The text.
        text: String,
    },
    /// Not 20 bytes of hex.
    #[error("bad address {:?}: {source}", excerpt(text))]
    Hex {
        /// The text.
        text: String,
        /// Why.
        source: hex::FromHexError,
    },
    /// Mixed case, but not the address's EIP-55 checksum.
    #[error("bad address {:?}: mixed case but not its EIP-55 checksum", excerpt(text))]
    Checksum {
        /// The text.
        text: String,
    },
}

/// A JSON string, refusing any other JSON type with `expecting` in the message.
struct Text(&'static str);

impl serde::de::Visitor<'_> for Text {
    type Value = String;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
}

/// An address field read through [`parse_address`] (not a number array, not a mistyped
/// checksum); written as alloy writes it.
pub mod address {
    use super::*;

    /// Writes the address as alloy does.
    pub fn serialize<S: Serializer>(value: &Address, serializer: S) -> Result<S::Ok, S::Error> {
        value.serialize(serializer)
    }

    /// Reads a 0x-hex string through [`parse_address`]; other formats than JSON as alloy does.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Address, D::Error> {
        if !deserializer.is_human_readable() {
            return Address::deserialize(deserializer);
        }
        let text = deserializer.deserialize_str(Text("an address as a 0x-hex string"))?;
        parse_address(&text).map_err(D::Error::custom)
    }
}

/// An optional address field: `null` for none, else as [`address`]. The field must be
/// present: a missing one is an error, not a silent none.
pub mod optional_address {
    use super::*;

    /// Writes `null` or the address as alloy does.
    pub fn serialize<S: Serializer>(
        value: &Option<Address>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(serializer)
    }

    /// Reads `null`, or a 0x-hex string through [`parse_address`].
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Address>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapped(#[serde(with = "super::address")] Address);
        Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|Wrapped(address)| address))
    }
}

/// A `bytes` or `bytesN` field ([`Bytes`], [`FixedBytes`](alloy_primitives::FixedBytes)) as a
/// 0x-hex string only: alloy also reads an array of numbers (`[1, 2, 3]`), refused here;
/// written as alloy writes it.
pub mod hex_bytes {
    use super::*;

    /// Writes the bytes as alloy does (0x-hex).
    pub fn serialize<T: Serialize, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(serializer)
    }

    /// Reads a 0x-hex string; other formats than JSON as alloy does.
    pub fn deserialize<'de, D, T>(deserializer: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de> + FromHex<Error = hex::FromHexError>,
    {
        if !deserializer.is_human_readable() {
            return T::deserialize(deserializer);
        }
        let text = deserializer.deserialize_str(Text("bytes as a 0x-hex string"))?;
        let digits = text.strip_prefix("0x").ok_or_else(|| {
            D::Error::custom(format!("bad bytes {:?}: expected 0x-hex", excerpt(&text)))
        })?;
        T::from_hex(digits)
            .map_err(|e| D::Error::custom(format!("bad bytes {:?}: {e}", excerpt(&text))))
    }
}

/// A [`Session`] as module-sdk writes it: the struct's fields, and its documented extra
/// `chainId` (which chain the session is meant for; not part of the struct on-chain, and
/// ignored). Any other field is an error, not silently dropped.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SdkSession {
    #[serde(rename = "sessionValidator", with = "address")]
    session_validator: Address,
    #[serde(rename = "sessionValidatorInitData", with = "hex_bytes")]
    session_validator_init_data: Bytes,
    #[serde(with = "hex_bytes")]
    salt: B256,
    #[serde(rename = "userOpPolicies")]
    user_op_policies: Vec<PolicyData>,
    #[serde(rename = "erc7739Policies")]
    erc7739_policies: ERC7739Data,
    actions: Vec<ActionData>,
    #[serde(rename = "permitERC4337Paymaster")]
    permit_erc4337_paymaster: bool,
    #[serde(rename = "chainId", default)]
    _chain_id: Option<serde::de::IgnoredAny>,
}

impl From<SdkSession> for Session {
    fn from(s: SdkSession) -> Self {
        Self {
            sessionValidator: s.session_validator,
            sessionValidatorInitData: s.session_validator_init_data,
            salt: s.salt,
            userOpPolicies: s.user_op_policies,
            erc7739Policies: s.erc7739_policies,
            actions: s.actions,
            permitERC4337Paymaster: s.permit_erc4337_paymaster,
        }
    }
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
            U256::from_str_radix(&text, 10).map_err(|_| {
                D::Error::custom(format!("{} is not a non-negative integer", excerpt(&text)))
            })
        }
        Flexible::Text(s) => parse_quantity(&s)
            .map_err(|e| D::Error::custom(format!("{e} (expected an integer, decimal or 0x-hex)"))),
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
        for (text, value) in [("0x1f", 31u64), ("0X1F", 31), (" 31 ", 31), ("0x0", 0), ("0", 0)] {
            assert_eq!(parse_quantity(text), Ok(U256::from(value)), "{text}");
        }
        for text in ["0xzz", "-1", "1.5", "1e3", "0x 1", "twelve"] {
            assert!(parse_quantity(text).is_err(), "{text}");
        }
        assert_eq!(
            parse_quantity(" 0xzz").unwrap_err().to_string(),
            format!("bad hex quantity \"0xzz\": {}", U256::from_str_radix("zz", 16).unwrap_err())
        );
        let long = format!("0x{}", "zz".repeat(60_000));
        let message = parse_quantity(&long).unwrap_err().to_string();
        assert!(
            message.starts_with("bad hex quantity \"0xzzzzzzzzzzzzzzzz…(120002 bytes)\""),
            "{message}"
        );
    }

    #[test]
    fn no_silent_zeros_or_separators() {
        for text in ["", " ", "0x", "0X", " 0x "] {
            assert!(matches!(parse_quantity(text), Err(QuantityError::Empty { .. })), "{text:?}");
        }
        for text in ["1_000", "0x1_f", "_1", "1_"] {
            assert!(matches!(parse_quantity(text), Err(QuantityError::Separator { .. })), "{text}");
        }
        #[derive(Debug, Deserialize)]
        struct TimeFrame {
            #[serde(rename = "validUntil", with = "u64_flex")]
            _valid_until: u64,
        }
        for json in [r#"{"validUntil": ""}"#, r#"{"validUntil": "0x"}"#, r#"{"validUntil": "1_0"}"#]
        {
            let error = serde_json::from_str::<TimeFrame>(json).unwrap_err().to_string();
            assert!(error.contains("quantity"), "{json}: {error}");
        }
    }

    #[test]
    fn excerpts_keep_short_values_and_words() {
        let word = format!("0x{}", "ab".repeat(32));
        assert_eq!(excerpt(&word), word.as_str());
        let long = format!("0x{}", "é".repeat(100));
        assert_eq!(excerpt(&long), format!("0x{}…(202 bytes)", "é".repeat(16)));
    }

    #[test]
    fn big_integer_literals_become_strings() {
        let big = "123456789012345678901234567890";
        for (json, quoted) in [
            (format!(r#"{{"a": {big}}}"#), format!(r#"{{"a": "{big}"}}"#)),
            (format!("[-{big},1,{big}]"), format!(r#"["-{big}",1,"{big}"]"#)),
            (
                format!(r#"{{"{big}": "x {big} \" {big}"}}"#),
                format!(r#"{{"{big}": "x {big} \" {big}"}}"#),
            ),
        ] {
            assert_eq!(quote_big_integers(&json), quoted);
        }
        for kept in [
            "18446744073709551615",
            "-9223372036854775808",
            "1.5e400",
            "1e30",
            "{\"a\": [1, -2, 0.5]}",
            "[1",
        ] {
            assert!(matches!(quote_big_integers(kept), Cow::Borrowed(_)), "{kept}");
        }
        #[derive(Deserialize)]
        struct Limit {
            #[serde(with = "u256_flex")]
            limit: U256,
        }
        let limit: Limit =
            serde_json::from_str(&quote_big_integers(&format!(r#"{{"limit": {big}}}"#))).unwrap();
        assert_eq!(limit.limit.to_string(), big);
    }
}
