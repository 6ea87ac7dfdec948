//! What a TypeScript dapp hands a backend once the user has granted a permission: abstractjs's
//! `GrantPermissionResponse` (from `grantPermissionPersonalSign` / `grantPermissionTypedDataSign`),
//! an array of module-sdk `getEnableSessionDetails` entries — the mode the owner signed for, the
//! permission id, a stub session signature and the [`EnableSessionData`] — written as plain JSON
//! or with abstractjs's `stringify`, which tags every bigint as `{"__type":"bigint","value":"…"}`.
//! [`read_grant`] also takes module-sdk's `EnableSessionData` (its mode found by
//! [`enable_mode_of`]) and the Nexus SDK's `SessionData` ([`SessionData`]), telling the shape
//! from the keys ([`detect_shape`]) or reading the [`GrantFormat`] asked for.
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

use alloy_primitives::{Address, Bytes, U256};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{EnableSessionData, PermissionId, SignedSession, SmartSessionMode};

mod nexus;
pub use nexus::{SdkExecution, SessionData};

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
    /// A top level that is none of the shapes [`detect_shape`] knows, or more than one.
    #[error("{0}")]
    Shape(String),
    /// The file holds another SDK's shape than the one asked for.
    #[error("asked for {asked}'s shape, the file holds {seen}")]
    FormatMismatch {
        /// The format asked for.
        asked: GrantFormat,
        /// The shape detected.
        seen: GrantShape,
    },
    /// A module-sdk shape that lacks what a stored session needs.
    #[error("{shape} lacks {missing}")]
    Incomplete {
        /// The shape.
        shape: GrantShape,
        /// What is missing, and what to import instead.
        missing: &'static str,
    },
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
    /// A Nexus SDK `SessionData` whose fields do not agree.
    #[error("{field}: {why}")]
    SessionData {
        /// Where, e.g. `moduleData.permissionIds[1]`.
        field: String,
        /// What is wrong.
        why: String,
    },
}

/// Reads a grant response: an array of entries (or one entry), plain JSON or with abstractjs's
/// bigint tags; every entry checked (an enable mode, its permission id its session's, its
/// chain digest present).
pub fn parse_grant_response(text: &str) -> Result<Vec<GrantEntry>, GrantError> {
    let mut value: Value = serde_json::from_str(text).map_err(GrantError::Json)?;
    untag_bigints(&mut value, &mut String::new())?;
    entries(value)
}

fn entries(value: Value) -> Result<Vec<GrantEntry>, GrantError> {
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

impl Bigints {
    fn write(self, n: u64) -> Value {
        match self {
            Self::Tagged => serde_json::json!({"__type": "bigint", "value": n.to_string()}),
            Self::Plain => Value::from(n),
        }
    }
}

/// Writes entries as abstractjs's `GrantPermissionResponse` (an array), each
/// `sessionToEnable` carrying module-sdk's `chainId` (the entry's chain); what
/// [`parse_grant_response`] reads back to the same entries. Holds nothing secret: the
/// owner's signature and a session signature of the right shape, never a key.
pub fn write_grant_response(entries: &[GrantEntry], bigints: Bigints) -> String {
    let items: Vec<Value> = entries
        .iter()
        .map(|entry| {
            let mut item = serde_json::to_value(entry).expect("entries serialize");
            let enable = &mut item["enableSessionData"]["enableSession"];
            if let Some(Value::Array(digests)) = enable.get_mut("hashesAndChainIds") {
                for d in digests {
                    let id = d["chainId"].as_u64().expect("chainId is a uint64 number");
                    d["chainId"] = bigints.write(id);
                }
            }
            if let (Some(id), Some(Value::Object(session))) =
                (entry.chain_id(), enable.get_mut("sessionToEnable"))
            {
                session.insert("chainId".into(), bigints.write(id));
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
        map.insert("chainId".into(), bigints.write(chain_id));
    }
    value
}

/// Which SDK a handed-over grant comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GrantFormat {
    /// abstractjs 1.2.3: a `GrantPermissionResponse`.
    Abstractjs,
    /// module-sdk 0.4.0: `EnableSessionData`, `EnableSession`, `Session` or `ChainSession[]`.
    ModuleSdk,
    /// The Nexus SDK 0.0.29 (`@biconomy/sdk`): a `SessionData`.
    NexusSdk,
}

impl std::fmt::Display for GrantFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Abstractjs => "abstractjs",
            Self::ModuleSdk => "module-sdk",
            Self::NexusSdk => "nexus-sdk",
        })
    }
}

/// The shape of a handed-over grant, as [`detect_shape`] tells it from its keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GrantShape {
    /// abstractjs's `GrantPermissionResponse`: an array of entries (or one entry) with
    /// `mode`, `permissionId`, `signature`, `enableSessionData`.
    GrantResponse,
    /// module-sdk's `EnableSessionData`: `enableSession`, `validator`, `accountType`.
    EnableSessionData,
    /// module-sdk's `EnableSession`: `chainDigestIndex`, `hashesAndChainIds`,
    /// `sessionToEnable`, `permissionEnableSig`.
    EnableSession,
    /// module-sdk's `Session`: `sessionValidator`, `sessionValidatorInitData`, `salt`, ….
    Session,
    /// module-sdk's `ChainSession[]`: entries with `chainId` and `session`.
    ChainSessions,
    /// The Nexus SDK's `SessionData`: `granter`, `sessionPublicKey`, `moduleData`.
    SessionData,
}

impl GrantShape {
    /// The SDK whose shape it is.
    pub const fn format(self) -> GrantFormat {
        match self {
            Self::GrantResponse => GrantFormat::Abstractjs,
            Self::SessionData => GrantFormat::NexusSdk,
            _ => GrantFormat::ModuleSdk,
        }
    }

    /// The key that tells it, e.g. `enableSessionData`.
    const fn marker(self) -> &'static str {
        match self {
            Self::GrantResponse => "enableSessionData",
            Self::EnableSessionData => "enableSession",
            Self::EnableSession => "sessionToEnable",
            Self::Session => "sessionValidator",
            Self::ChainSessions => "session",
            Self::SessionData => "moduleData",
        }
    }
}

impl std::fmt::Display for GrantShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::GrantResponse => "abstractjs's GrantPermissionResponse",
            Self::EnableSessionData => "module-sdk's EnableSessionData",
            Self::EnableSession => "module-sdk's EnableSession",
            Self::Session => "module-sdk's Session",
            Self::ChainSessions => "module-sdk's ChainSession[]",
            Self::SessionData => "the Nexus SDK's SessionData",
        })
    }
}

/// The shapes one object's keys tell (abstractjs's entry keys `mode` and `permissionId` count
/// as its, so that a partial entry is read, and refused naming its missing field).
fn object_shapes(map: &Map<String, Value>) -> Vec<GrantShape> {
    let has = |key: &str| map.contains_key(key);
    let mut shapes = Vec::new();
    if has("enableSessionData") || has("permissionId") || has("mode") {
        shapes.push(GrantShape::GrantResponse);
    }
    if has("enableSession") {
        shapes.push(GrantShape::EnableSessionData);
    }
    if has("sessionToEnable") {
        shapes.push(GrantShape::EnableSession);
    }
    if has("sessionValidator") {
        shapes.push(GrantShape::Session);
    }
    if has("moduleData") || has("granter") || has("sessionPublicKey") {
        shapes.push(GrantShape::SessionData);
    }
    shapes
}

fn keys(map: &Map<String, Value>) -> String {
    let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
    keys.truncate(8);
    if keys.is_empty() { "none".into() } else { keys.join(", ") }
}

fn one_shape(
    at: &str,
    map: &Map<String, Value>,
    shapes: &[GrantShape],
) -> Result<GrantShape, GrantError> {
    match shapes {
        [one] => Ok(*one),
        [] => Err(GrantError::Shape(format!(
            "{at} has none of `enableSessionData`/`mode`/`permissionId` (abstractjs's \
             GrantPermissionResponse entry), `enableSession` (module-sdk's EnableSessionData), \
             `sessionToEnable` (EnableSession), `sessionValidator` (Session), \
             `moduleData`/`granter`/`sessionPublicKey` (the Nexus SDK's SessionData); its keys: {}",
            keys(map)
        ))),
        many => Err(GrantError::Shape(format!(
            "{at} is ambiguous: it has {}",
            many.iter()
                .map(|s| format!("`{}` ({s})", s.marker()))
                .collect::<Vec<_>>()
                .join(" and ")
        ))),
    }
}

/// Which shape a handed-over grant (bigint tags already read) holds, from its keys alone; its
/// fields are read afterwards. An array is abstractjs's entries or module-sdk's
/// `ChainSession[]` (every element the same); an object one entry, an `EnableSessionData`, an
/// `EnableSession`, a `Session` or the Nexus SDK's `SessionData`. Anything else, or keys of
/// two shapes, is
/// [`GrantError::Shape`] naming what was seen.
pub fn detect_shape(value: &Value) -> Result<GrantShape, GrantError> {
    match value {
        Value::Object(map) => one_shape("the top-level object", map, &object_shapes(map)),
        Value::Array(items) => {
            let mut seen: Option<GrantShape> = None;
            for (i, item) in items.iter().enumerate() {
                let at = format!("array element [{i}]");
                let Value::Object(map) = item else {
                    return Err(GrantError::Shape(format!(
                        "{at} is {}, not an object",
                        kind(item)
                    )));
                };
                let shape = if map.contains_key("chainId") && map.contains_key("session") {
                    let mut shapes = object_shapes(map);
                    shapes.push(GrantShape::ChainSessions);
                    one_shape(&at, map, &shapes)?
                } else {
                    match one_shape(&at, map, &object_shapes(map))? {
                        GrantShape::GrantResponse => GrantShape::GrantResponse,
                        other => {
                            return Err(GrantError::Shape(format!(
                                "{at} is {other}: an array holds abstractjs's entries or \
                                 module-sdk's ChainSession[] (`chainId` and `session`)"
                            )));
                        }
                    }
                };
                match seen {
                    Some(first) if first != shape => {
                        return Err(GrantError::Shape(format!(
                            "the array mixes shapes: [0] is {first}, [{i}] is {shape}"
                        )));
                    }
                    _ => seen = Some(shape),
                }
            }
            seen.ok_or(GrantError::Empty)
        }
        other => Err(GrantError::Shape(format!(
            "the top level is {}, not an object or an array",
            kind(other)
        ))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A handed-over grant, read as far as its shape allows.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Grant {
    /// abstractjs's entries, each checked as [`parse_grant_response`] checks them.
    Entries(Vec<GrantEntry>),
    /// module-sdk's `EnableSessionData`: all a stored session needs but the mode the owner
    /// signed for, which [`enable_mode_of`] finds from the chain's enable nonce.
    EnableSessionData(Box<EnableSessionData>),
    /// The Nexus SDK's `SessionData`, checked as [`SessionData`] says.
    SessionData(Box<SessionData>),
}

/// Reads a handed-over grant (plain JSON or with abstractjs's bigint tags): its shape detected
/// ([`detect_shape`]), or read as `format`'s when the keys tell no shape; a shape of the other
/// SDK than `format` is [`GrantError::FormatMismatch`]. module-sdk's `Session`,
/// `EnableSession` and `ChainSession[]` are [`GrantError::Incomplete`], naming what they lack.
pub fn read_grant(text: &str, format: Option<GrantFormat>) -> Result<Grant, GrantError> {
    let mut value: Value = serde_json::from_str(text).map_err(GrantError::Json)?;
    untag_bigints(&mut value, &mut String::new())?;
    let shape = match (detect_shape(&value), format) {
        (Ok(seen), Some(asked)) if seen.format() != asked => {
            return Err(GrantError::FormatMismatch { asked, seen });
        }
        (Ok(seen), _) => seen,
        (Err(GrantError::Shape(_)), Some(GrantFormat::Abstractjs)) => GrantShape::GrantResponse,
        (Err(GrantError::Shape(_)), Some(GrantFormat::ModuleSdk)) => GrantShape::EnableSessionData,
        (Err(GrantError::Shape(_)), Some(GrantFormat::NexusSdk)) => GrantShape::SessionData,
        (Err(e), _) => return Err(e),
    };
    match shape {
        GrantShape::GrantResponse => entries(value).map(Grant::Entries),
        GrantShape::EnableSessionData => {
            let data: EnableSessionData = serde_path_to_error::deserialize(value).map_err(|e| {
                GrantError::Field { path: e.path().to_string(), source: e.into_inner() }
            })?;
            Ok(Grant::EnableSessionData(Box::new(data)))
        }
        GrantShape::SessionData => {
            SessionData::read(value).map(|d| Grant::SessionData(Box::new(d)))
        }
        GrantShape::EnableSession => Err(GrantError::Incomplete {
            shape,
            missing: "`validator` and `accountType` (how the account routes the owner's \
                      signature): import the EnableSessionData holding it",
        }),
        GrantShape::Session => Err(GrantError::Incomplete {
            shape,
            missing: "the owner's enable signature, its chain digests, the validator and the \
                      account type: import getEnableSessionDetails's enableSessionData, or grant \
                      it with `mandate session grant --session`",
        }),
        GrantShape::ChainSessions => Err(GrantError::Incomplete {
            shape,
            missing: "the owner's enable signature (`permissionEnableSig`), the validator and the \
                      account type: import getEnableSessionDetails's enableSessionData",
        }),
    }
}

/// The mode the owner signed `data` for, ENABLE or UNSAFE_ENABLE (module-sdk's
/// `EnableSessionData` does not say; the two sign different digests): the one whose session
/// digest for `account` on `smart_session` at enable `nonce` is the digest at
/// `chainDigestIndex`. `None` if neither is (another account, SmartSession or nonce, or no
/// digest at that index).
pub fn enable_mode_of(
    data: &EnableSessionData,
    account: Address,
    smart_session: Address,
    nonce: U256,
) -> Option<SmartSessionMode> {
    let enable = &data.enable_session;
    let digest = enable.hashesAndChainIds.get(usize::from(enable.chainDigestIndex))?;
    [SmartSessionMode::Enable, SmartSessionMode::UnsafeEnable].into_iter().find(|&mode| {
        SignedSession::of(&enable.sessionToEnable, account, smart_session, nonce, mode).digest()
            == digest.sessionDigest
    })
}

impl GrantEntry {
    /// module-sdk's `EnableSessionData` as the entry abstractjs would have written for it,
    /// signed for `mode` (its `signature` empty: only estimates use it).
    pub fn of_enable_data(data: EnableSessionData, mode: SmartSessionMode) -> Self {
        Self {
            mode,
            permission_id: PermissionId::of(&data.enable_session.sessionToEnable),
            signature: Bytes::new(),
            enable_session_data: data,
        }
    }
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

    use alloy_primitives::{address, b256};

    use crate::{
        AccountType, EnableTarget, Session, prepare_enable,
        sol::{ActionData, PolicyData},
    };

    const ACCOUNT: Address = address!("0x00000000000000000000000000000000000a11ce");
    const SMART_SESSION: Address = address!("0x00000000008bdaba73cd9815d79069c247eb4bda");

    /// An EnableSessionData signed (stub signature) for `mode` at `nonce`.
    fn enable_data(mode: SmartSessionMode, nonce: u64) -> EnableSessionData {
        let session = Session {
            sessionValidator: address!("0x000000000013fdb5234e4e3162a810f54d9f7e98"),
            sessionValidatorInitData: Bytes::from(vec![7; 64]),
            salt: b256!("0x0000000000000000000000000000000000000000000000000000000000000001"),
            actions: vec![ActionData {
                actionTargetSelector: [0xa9, 0x05, 0x9c, 0xbb].into(),
                actionTarget: address!("0x00000000000000000000000000000000000000aa"),
                actionPolicies: vec![PolicyData {
                    policy: address!("0x0000003111cd8e92337c100f22b7a9dbf8dee301"),
                    initData: Bytes::new(),
                }],
            }],
            ..Session::default()
        };
        let target = EnableTarget {
            chain_id: 31337,
            account: ACCOUNT,
            smart_session: SMART_SESSION,
            nonce: U256::from(nonce),
        };
        let mut enable_session = prepare_enable(&session, &[target], mode, 0).enable_session;
        enable_session.permissionEnableSig = Bytes::from(vec![1; 65]);
        EnableSessionData {
            enable_session,
            validator: address!("0x0000000000000000000000000000000000000001"),
            account_type: AccountType::Nexus,
        }
    }

    fn json(value: impl Serialize) -> Value {
        serde_json::to_value(value).unwrap()
    }

    #[test]
    fn shapes_are_told_apart_and_read() {
        let data = enable_data(SmartSessionMode::UnsafeEnable, 0);
        let entry = GrantEntry::of_enable_data(data.clone(), SmartSessionMode::UnsafeEnable);
        let session = json(&data.enable_session.sessionToEnable);
        let chain_session = Value::Array(vec![serde_json::json!({
            "chainId": 31337,
            "session": json(crate::SignedSession::of(
                &data.enable_session.sessionToEnable,
                ACCOUNT,
                SMART_SESSION,
                U256::ZERO,
                SmartSessionMode::Enable,
            )),
        })]);
        for (value, shape) in [
            (json([&entry]), GrantShape::GrantResponse),
            (json(&entry), GrantShape::GrantResponse),
            (json(&data), GrantShape::EnableSessionData),
            (json(&data.enable_session), GrantShape::EnableSession),
            (session.clone(), GrantShape::Session),
            (chain_session, GrantShape::ChainSessions),
        ] {
            assert_eq!(detect_shape(&value).unwrap(), shape, "{value}");
            let text = value.to_string();
            match read_grant(&text, None) {
                Ok(Grant::Entries(read)) => {
                    assert_eq!(shape, GrantShape::GrantResponse);
                    assert_eq!(read, vec![entry.clone()]);
                }
                Ok(Grant::EnableSessionData(read)) => {
                    assert_eq!(shape, GrantShape::EnableSessionData);
                    assert_eq!(*read, data);
                }
                Ok(Grant::SessionData(_)) => panic!("no SessionData among these shapes"),
                Err(GrantError::Incomplete { shape: seen, missing }) => {
                    assert_eq!(seen, shape);
                    assert!(!missing.is_empty());
                }
                Err(e) => panic!("{shape}: {e}"),
            }
            // The other SDK's format asked for: a one-line mismatch naming what was seen.
            let other = match shape.format() {
                GrantFormat::Abstractjs => GrantFormat::ModuleSdk,
                GrantFormat::ModuleSdk | GrantFormat::NexusSdk => GrantFormat::Abstractjs,
            };
            let err = read_grant(&text, Some(other)).unwrap_err();
            assert!(
                matches!(err, GrantError::FormatMismatch { seen, .. } if seen == shape),
                "{err}"
            );
            assert!(!err.to_string().contains('\n'), "{err}");
        }
        let err = read_grant(&session.to_string(), None).unwrap_err().to_string();
        assert!(err.contains("enable signature"), "{err}");
    }

    #[test]
    fn bigint_tags_are_read_in_every_shape() {
        let data = enable_data(SmartSessionMode::Enable, 3);
        let entry = GrantEntry::of_enable_data(data.clone(), SmartSessionMode::Enable);
        let tag = serde_json::json!({"__type": "bigint", "value": "31337"});
        let mut tagged = json([&entry]);
        tagged[0]["enableSessionData"]["enableSession"]["hashesAndChainIds"][0]["chainId"] =
            tag.clone();
        assert!(tagged.to_string().contains("__type"));
        let Grant::Entries(read) = read_grant(&tagged.to_string(), None).unwrap() else {
            panic!("not entries")
        };
        assert_eq!(read, vec![entry]);
        let mut tagged = json(&data);
        tagged["enableSession"]["hashesAndChainIds"][0]["chainId"] = tag;
        assert_eq!(
            read_grant(&tagged.to_string(), Some(GrantFormat::ModuleSdk)).unwrap(),
            Grant::EnableSessionData(Box::new(data))
        );
    }

    #[test]
    fn unknown_and_ambiguous_shapes_are_named() {
        let data = json(enable_data(SmartSessionMode::Enable, 0));
        let mut both = data.clone();
        both["sessionToEnable"] = data["enableSession"]["sessionToEnable"].clone();
        let entry = json(GrantEntry::of_enable_data(
            enable_data(SmartSessionMode::Enable, 0),
            SmartSessionMode::Enable,
        ));
        for (text, says) in [
            (r#"{"owner": "0x00", "key": "0x01"}"#.to_owned(), "its keys: key, owner"),
            (
                format!(r#"{{"granter": "0x00", "enableSession": {}}}"#, data["enableSession"]),
                "ambiguous: it has `enableSession` (module-sdk's EnableSessionData) and \
                 `moduleData` (the Nexus SDK's SessionData)",
            ),
            (r#""0x1234""#.to_owned(), "the top level is a string"),
            ("[1]".to_owned(), "array element [0] is a number"),
            (both.to_string(), "ambiguous: it has `enableSession`"),
            (format!("[{entry}, {{\"chainId\": 1, \"session\": {{}}}}]"), "mixes shapes"),
            (format!("[{data}]"), "array element [0] is module-sdk's EnableSessionData"),
        ] {
            let err = read_grant(&text, None).unwrap_err();
            assert!(matches!(err, GrantError::Shape(_)), "{text}: {err}");
            let line = err.to_string();
            assert!(line.contains(says) && !line.contains('\n'), "{text}: {line}");
        }
        // No shape told, but a format asked for: read as it, refused naming the field.
        let err = read_grant(r#"{"validator": "0x00"}"#, Some(GrantFormat::ModuleSdk)).unwrap_err();
        assert!(matches!(&err, GrantError::Field { .. }), "{err}");
        assert!(matches!(read_grant("[]", None), Err(GrantError::Empty)));
        // A partial abstractjs entry is still read as one, naming its missing field.
        let err = read_grant(r#"[{"mode": "0x01"}]"#, None).unwrap_err();
        assert!(matches!(&err, GrantError::Field { path, .. } if path == "[0]"), "{err}");
    }

    #[test]
    fn the_mode_is_the_one_whose_digest_was_signed() {
        for mode in [SmartSessionMode::Enable, SmartSessionMode::UnsafeEnable] {
            let data = enable_data(mode, 5);
            assert_eq!(enable_mode_of(&data, ACCOUNT, SMART_SESSION, U256::from(5)), Some(mode));
            assert_eq!(enable_mode_of(&data, ACCOUNT, SMART_SESSION, U256::from(4)), None);
            assert_eq!(enable_mode_of(&data, SMART_SESSION, SMART_SESSION, U256::from(5)), None);
        }
    }

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
