//! What a TypeScript dapp hands a backend once the user has granted a permission: abstractjs's
//! `GrantPermissionResponse` (from `grantPermissionPersonalSign` / `grantPermissionTypedDataSign`),
//! an array of module-sdk `getEnableSessionDetails` entries — the mode the owner signed for, the
//! permission id, a stub session signature and the [`EnableSessionData`] — written as plain JSON
//! or with abstractjs's `stringify`, which tags every bigint as `{"__type":"bigint","value":"…"}`.
//!
//! ```
//! use mandate_abi::grant::parse_grant_response;
//!
//! // Not an array of entries: an error naming where.
//! let err = parse_grant_response(r#"[{"mode": "0x01"}]"#).unwrap_err();
//! assert!(err.to_string().contains("[0]"), "{err}");
//! // A bigint tag that is not one.
//! let err = parse_grant_response(r#"[{"x": {"__type": "bigint", "value": "1e3"}}]"#).unwrap_err();
//! assert!(err.to_string().contains("[0].x"), "{err}");
//! ```

use alloy_primitives::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{EnableSessionData, PermissionId, SmartSessionMode};

/// One permission a dapp granted: module-sdk's `getEnableSessionDetails` result without its
/// `permissionEnableHash`, as abstractjs returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrantEntry {
    /// The mode the owner signed for: ENABLE or UNSAFE_ENABLE (abstractjs signs UNSAFE_ENABLE).
    pub mode: SmartSessionMode,
    /// The permission id of `enableSessionData.enableSession.sessionToEnable`.
    pub permission_id: PermissionId,
    /// A session signature of the right shape for estimates (abstractjs puts OwnableValidator's
    /// mock signature here): never the session key's.
    #[serde(with = "crate::json::hex_bytes")]
    pub signature: Bytes,
    /// The session, its chain digests and the owner's raw signature, and how the account
    /// routes that signature (the validator and the account type it was signed for).
    pub enable_session_data: EnableSessionData,
}

impl GrantEntry {
    /// The chain the entry enables on: its digest at `chainDigestIndex`, if there is one.
    pub fn chain_id(&self) -> Option<u64> {
        let enable = &self.enable_session_data.enable_session;
        enable.hashesAndChainIds.get(usize::from(enable.chainDigestIndex)).map(|d| d.chainId)
    }
}

/// Why a grant response is not one, naming the entry and field.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GrantError {
    /// Not JSON at all.
    #[error("not JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// A field is missing or malformed.
    #[error("{path}: {source}")]
    Field {
        /// Where, e.g. `[0].enableSessionData.accountType`.
        path: String,
        /// What the parser said.
        source: serde_json::Error,
    },
    /// An object with `__type` that is not abstractjs's bigint tag.
    #[error(
        "{path}: not a bigint tag ({{\"__type\": \"bigint\", \"value\": \"<decimal>\"}}): {why}"
    )]
    BigIntTag {
        /// Where.
        path: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// No entries.
    #[error("the grant response holds no entry")]
    Empty,
    /// An entry for USE mode: nothing for the owner to have signed.
    #[error("[{index}].mode: USE is not an enable mode (ENABLE or UNSAFE_ENABLE)")]
    UseMode {
        /// The entry.
        index: usize,
    },
    /// An entry whose permission id is not its session's.
    #[error("[{index}].permissionId: {given}, the session's is {session}")]
    PermissionId {
        /// The entry.
        index: usize,
        /// What the entry says.
        given: PermissionId,
        /// What its `sessionToEnable` gives.
        session: PermissionId,
    },
    /// An entry whose `chainDigestIndex` names no digest.
    #[error(
        "[{index}].enableSessionData.enableSession.chainDigestIndex: {chain_digest_index}, with \
         {digests} digest(s)"
    )]
    ChainDigestIndex {
        /// The entry.
        index: usize,
        /// Its index.
        chain_digest_index: u8,
        /// How many digests there are.
        digests: usize,
    },
}

/// Reads a grant response: an array of entries (or one entry), plain JSON or with abstractjs's
/// bigint tags; every entry checked (an enable mode, its permission id its session's, its
/// chain digest present).
pub fn parse_grant_response(text: &str) -> Result<Vec<GrantEntry>, GrantError> {
    let mut value: Value = serde_json::from_str(text).map_err(GrantError::Json)?;
    untag_bigints(&mut value, &mut String::new())?;
    let (many, value) = match value {
        Value::Array(_) => (true, value),
        one => (false, Value::Array(vec![one])),
    };
    let Value::Array(items) = value else { unreachable!("made an array above") };
    if items.is_empty() {
        return Err(GrantError::Empty);
    }
    let mut entries = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let at = if many { format!("[{index}]") } else { String::new() };
        let entry: GrantEntry =
            serde_path_to_error::deserialize(item).map_err(|e| GrantError::Field {
                path: format!("{at}{}", dotted(&e.path().to_string())),
                source: e.into_inner(),
            })?;
        check(index, &entry)?;
        entries.push(entry);
    }
    Ok(entries)
}

/// How [`write_grant_response`] writes the bigints abstractjs's types hold (each
/// `hashesAndChainIds[].chainId`, and `sessionToEnable.chainId`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Bigints {
    /// As abstractjs's `stringify` writes them: `{"__type": "bigint", "value": "<decimal>"}`.
    Tagged,
    /// As JSON numbers.
    Plain,
}

/// Writes entries as abstractjs's `GrantPermissionResponse` (an array), each
/// `sessionToEnable` carrying module-sdk's `chainId` (the entry's chain); what
/// [`parse_grant_response`] reads back to the same entries. Holds nothing secret: the
/// owner's signature and a session signature of the right shape, never a key.
pub fn write_grant_response(entries: &[GrantEntry], bigints: Bigints) -> String {
    let tag = |n: u64| match bigints {
        Bigints::Tagged => serde_json::json!({"__type": "bigint", "value": n.to_string()}),
        Bigints::Plain => Value::from(n),
    };
    let items: Vec<Value> = entries
        .iter()
        .map(|entry| {
            let mut item = serde_json::to_value(entry).expect("entries serialize");
            let enable = &mut item["enableSessionData"]["enableSession"];
            if let Some(Value::Array(digests)) = enable.get_mut("hashesAndChainIds") {
                for d in digests {
                    let id = d["chainId"].as_u64().expect("chainId is a uint64 number");
                    d["chainId"] = tag(id);
                }
            }
            if let (Some(id), Some(Value::Object(session))) =
                (entry.chain_id(), enable.get_mut("sessionToEnable"))
            {
                session.insert("chainId".into(), tag(id));
            }
            item
        })
        .collect();
    Value::Array(items).to_string()
}

/// A [`Session`](crate::Session) as module-sdk's `Session` type writes it: the struct's fields
/// and its `chainId` (a bigint, written as `bigints` says).
pub fn session_json(session: &crate::Session, chain_id: u64, bigints: Bigints) -> Value {
    let mut value = serde_json::to_value(session).expect("sessions serialize");
    if let Value::Object(map) = &mut value {
        let id = match bigints {
            Bigints::Tagged => {
                serde_json::json!({"__type": "bigint", "value": chain_id.to_string()})
            }
            Bigints::Plain => Value::from(chain_id),
        };
        map.insert("chainId".into(), id);
    }
    value
}

fn dotted(path: &str) -> String {
    if path == "." || path.is_empty() { String::new() } else { format!(".{path}") }
}

fn check(index: usize, entry: &GrantEntry) -> Result<(), GrantError> {
    if entry.mode == SmartSessionMode::Use {
        return Err(GrantError::UseMode { index });
    }
    let session = PermissionId::of(&entry.enable_session_data.enable_session.sessionToEnable);
    if session != entry.permission_id {
        return Err(GrantError::PermissionId { index, given: entry.permission_id, session });
    }
    if entry.chain_id().is_none() {
        let enable = &entry.enable_session_data.enable_session;
        return Err(GrantError::ChainDigestIndex {
            index,
            chain_digest_index: enable.chainDigestIndex,
            digests: enable.hashesAndChainIds.len(),
        });
    }
    Ok(())
}

/// Replaces every `{"__type": "bigint", "value": "<decimal>"}` with the decimal string (which
/// the numeric fields read), refusing any other object with a `__type`.
fn untag_bigints(value: &mut Value, path: &mut String) -> Result<(), GrantError> {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                untag_bigints(item, path)?;
                path.truncate(len);
            }
        }
        Value::Object(map) if map.contains_key("__type") => {
            let bad = |why| GrantError::BigIntTag { path: path.clone(), why };
            if map.len() != 2 || map.get("__type") != Some(&Value::from("bigint")) {
                return Err(bad("it must hold exactly __type \"bigint\" and value"));
            }
            let Some(Value::String(digits)) = map.get("value") else {
                return Err(bad("its value is not a string"));
            };
            let unsigned = digits.strip_prefix('-').unwrap_or(digits);
            if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("its value is not a decimal integer"));
            }
            *value = Value::String(digits.clone());
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                untag_bigints(item, path)?;
                path.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_untagged_and_bad_ones_named() {
        let mut v: Value =
            serde_json::from_str(r#"{"a": [{"__type": "bigint", "value": "123"}]}"#).unwrap();
        untag_bigints(&mut v, &mut String::new()).unwrap();
        assert_eq!(v["a"][0], Value::from("123"));
        for (text, at) in [
            (r#"{"a": {"__type": "bigint", "value": 5}}"#, "a"),
            (r#"{"a": {"b": {"__type": "date", "value": "1"}}}"#, "a.b"),
            (r#"[{"__type": "bigint", "value": "1", "x": 1}]"#, "[0]"),
            (r#"{"a": {"__type": "bigint", "value": ""}}"#, "a"),
        ] {
            let mut v: Value = serde_json::from_str(text).unwrap();
            let err = untag_bigints(&mut v, &mut String::new()).unwrap_err();
            assert!(matches!(&err, GrantError::BigIntTag { path, .. } if path == at), "{err}");
        }
        assert!(matches!(parse_grant_response("[]"), Err(GrantError::Empty)));
        assert!(matches!(parse_grant_response("{"), Err(GrantError::Json(_))));
    }
}
