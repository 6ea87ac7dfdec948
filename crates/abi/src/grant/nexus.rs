//! The Nexus SDK's `SessionData` (`@biconomy/sdk` 0.0.29): `{granter, sessionPublicKey,
//! moduleData, description?}`, its `moduleData` what `grantDeferredPermission` returns
//! (`permissionIds`, `action`, `sessions`, `mode`, `enableSessionData`) or, for a session the
//! account enabled itself, what `preparePermission` returns (no `mode`: USE, as the SDK's
//! `toSmartSessionsValidator` defaults it).
//!
//! `grantDeferredPermission` fills `enableSessionData` from module-sdk 0.2.3's
//! `getEnableSessionDetails` for account type `nexus`, the enable validator fixed at the Nexus
//! K1 validator, and has the owner sign `permissionEnableHash` (EIP-191 of the raw hash). Two
//! things follow that [`SessionData::enable_entries`] deals with:
//! - the digests are bound to module-sdk 0.2.3's SmartSession
//!   (`0x00000000002B0eCfbD0496EE71e01257dA0E37DE`, the `moduleData.action` target), not the
//!   canonical 0.4.0 one: the session digest signs `smartSession`, so a SessionData is
//!   redeemable only on the SmartSession at [`SessionData::smart_session`];
//! - it names UNSAFE_ENABLE and carries UNSAFE_ENABLE's chain digests (read on-chain), yet the
//!   owner signs the typed data with `ignoreSecurityAttestations` false, which is ENABLE's
//!   multichain digest: the signature verifies only once the chain digests are ENABLE's. The
//!   entries are rebuilt for the mode asked for, every chain digest recomputed, after checking
//!   that the SDK's own digests are the sessions' for this granter, SmartSession and nonces.
//!
//! module-sdk 0.2.3's policy builders add an `address` beside each `policy`; it is dropped
//! when it repeats `policy`, and refused otherwise.

use alloy_primitives::{Address, Bytes, U256};
use serde::Deserialize;
use serde_json::Value;

use super::{GrantEntry, GrantError};
use crate::{
    ChainDigest, EnableSession, EnableSessionData, PermissionId, Session, SignedSession,
    SmartSessionMode,
};

/// The Nexus SDK's `SessionData`, read and checked: one session per permission id, the
/// enable data (if any) one of them.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionData {
    /// The account that granted the permissions.
    pub granter: Address,
    /// The session key's address (the SDK's K1 `sessionPublicKey`).
    pub session_public_key: Address,
    /// The sessions, each with the chain id the SDK gives it, in `permissionIds` order.
    pub sessions: Vec<(u64, Session)>,
    /// The call that enables the sessions (`enableSessions` on the SmartSession they are for).
    pub action: SdkExecution,
    /// `moduleData.mode`; `None` when absent (USE, the SDK's default).
    pub mode: Option<SmartSessionMode>,
    /// `moduleData.enableSessionData`: the owner's signature over every session's chain digest.
    pub enable_session_data: Option<EnableSessionData>,
    /// `moduleData.permissionIdIndex`: which permission the SDK itself would use.
    pub permission_id_index: Option<usize>,
    /// A note for people.
    pub description: Option<String>,
}

/// The Nexus SDK's `Execution`: `{target, value, callData}`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct SdkExecution {
    /// The called contract.
    #[serde(with = "crate::json::address")]
    pub target: Address,
    /// Wei sent.
    #[serde(with = "crate::json::u256_flex")]
    pub value: U256,
    /// The calldata.
    #[serde(with = "crate::json::hex_bytes")]
    pub call_data: Bytes,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Raw {
    #[serde(with = "crate::json::address")]
    granter: Address,
    #[serde(with = "crate::json::address")]
    session_public_key: Address,
    module_data: RawModuleData,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawModuleData {
    permission_ids: Vec<PermissionId>,
    action: SdkExecution,
    sessions: Vec<Value>,
    #[serde(default)]
    mode: Option<SmartSessionMode>,
    #[serde(default)]
    enable_session_data: Option<EnableSessionData>,
    #[serde(default)]
    permission_id_index: Option<usize>,
}

#[derive(Deserialize)]
struct ChainIdOf {
    #[serde(rename = "chainId", with = "crate::json::u64_flex")]
    chain_id: u64,
}

const ENABLE_SESSION: &str = "moduleData.enableSessionData.enableSession";

fn bad(field: impl Into<String>, why: impl Into<String>) -> GrantError {
    GrantError::SessionData { field: field.into(), why: why.into() }
}

fn field_error(prefix: &str, e: serde_path_to_error::Error<serde_json::Error>) -> GrantError {
    let path = e.path().to_string();
    let path = if path == "." { prefix.to_owned() } else { format!("{prefix}{path}") };
    GrantError::Field { path, source: e.into_inner() }
}

/// Drops module-sdk 0.2.3's `address` beside `policy` in every PolicyData of a session.
fn drop_policy_addresses(session: &mut Value, at: &str) -> Result<(), GrantError> {
    let mut lists: Vec<(String, &mut Value)> = Vec::new();
    let Value::Object(map) = session else { return Ok(()) };
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "userOpPolicies" => lists.push((format!("{at}.userOpPolicies"), value)),
            "erc7739Policies" => {
                if let Some(list) = value.get_mut("erc1271Policies") {
                    lists.push((format!("{at}.erc7739Policies.erc1271Policies"), list));
                }
            }
            "actions" => {
                if let Value::Array(actions) = value {
                    for (i, action) in actions.iter_mut().enumerate() {
                        if let Some(list) = action.get_mut("actionPolicies") {
                            lists.push((format!("{at}.actions[{i}].actionPolicies"), list));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for (path, list) in lists {
        let Value::Array(items) = list else { continue };
        for (i, item) in items.iter_mut().enumerate() {
            let Value::Object(policy) = item else { continue };
            let Some(extra) = policy.remove("address") else { continue };
            let same = match (extra.as_str(), policy.get("policy").and_then(Value::as_str)) {
                (Some(a), Some(p)) => a.eq_ignore_ascii_case(p),
                _ => false,
            };
            if !same {
                return Err(bad(
                    format!("{path}[{i}].address"),
                    format!("{extra} is not its `policy`"),
                ));
            }
        }
    }
    Ok(())
}

impl SessionData {
    /// Reads a SessionData whose bigint tags are already read, checking every permission id
    /// against its session and the enable data against the sessions.
    pub(super) fn read(mut value: Value) -> Result<Self, GrantError> {
        if let Some(Value::Array(sessions)) = value.pointer_mut("/moduleData/sessions") {
            for (i, s) in sessions.iter_mut().enumerate() {
                drop_policy_addresses(s, &format!("moduleData.sessions[{i}]"))?;
            }
        }
        if let Some(s) =
            value.pointer_mut("/moduleData/enableSessionData/enableSession/sessionToEnable")
        {
            drop_policy_addresses(s, &format!("{ENABLE_SESSION}.sessionToEnable"))?;
        }
        let raw: Raw = serde_path_to_error::deserialize(value).map_err(|e| field_error("", e))?;
        let m = raw.module_data;
        if m.sessions.is_empty() || m.sessions.len() > 256 {
            return Err(bad(
                "moduleData.sessions",
                format!(
                    "holds {} sessions (1 to 256: a chain digest index is a uint8)",
                    m.sessions.len()
                ),
            ));
        }
        let mut sessions = Vec::with_capacity(m.sessions.len());
        for (i, s) in m.sessions.into_iter().enumerate() {
            let at = format!("moduleData.sessions[{i}]");
            let ChainIdOf { chain_id } = serde_path_to_error::deserialize(&s)
                .map_err(|e| field_error(&format!("{at}."), e))?;
            let session: Session = serde_path_to_error::deserialize(s)
                .map_err(|e| field_error(&format!("{at}."), e))?;
            sessions.push((chain_id, session));
        }
        if m.permission_ids.len() != sessions.len() {
            return Err(bad(
                "moduleData.permissionIds",
                format!("{} id(s) for {} session(s)", m.permission_ids.len(), sessions.len()),
            ));
        }
        for (i, (given, (_, session))) in m.permission_ids.iter().zip(&sessions).enumerate() {
            let id = PermissionId::of(session);
            if *given != id {
                return Err(bad(
                    format!("moduleData.permissionIds[{i}]"),
                    format!("{given}, moduleData.sessions[{i}]'s is {id}"),
                ));
            }
        }
        if let Some(index) = m.permission_id_index.filter(|&i| i >= sessions.len()) {
            return Err(bad(
                "moduleData.permissionIdIndex",
                format!("{index}, with {} permission id(s)", sessions.len()),
            ));
        }
        let data = Self {
            granter: raw.granter,
            session_public_key: raw.session_public_key,
            sessions,
            action: m.action,
            mode: m.mode,
            enable_session_data: m.enable_session_data,
            permission_id_index: m.permission_id_index,
            description: raw.description,
        };
        if data.is_use() {
            return Ok(data);
        }
        let Some(enable) = data.enable_session_data.as_ref().map(|d| &d.enable_session) else {
            return Err(bad(
                "moduleData.enableSessionData",
                format!("missing, and moduleData.mode is {:?}", data.mode),
            ));
        };
        let digests = enable.hashesAndChainIds.len();
        if digests != data.sessions.len() {
            return Err(bad(
                format!("{ENABLE_SESSION}.hashesAndChainIds"),
                format!("{digests} digest(s) for {} session(s)", data.sessions.len()),
            ));
        }
        let index = usize::from(enable.chainDigestIndex);
        match data.sessions.get(index) {
            None => Err(bad(
                format!("{ENABLE_SESSION}.chainDigestIndex"),
                format!("{index}, with {digests} digest(s)"),
            )),
            Some((_, session)) if *session != enable.sessionToEnable => Err(bad(
                format!("{ENABLE_SESSION}.sessionToEnable"),
                format!("not moduleData.sessions[{index}]"),
            )),
            Some(_) => Ok(data),
        }
    }

    /// Whether the sessions are redeemed in USE mode (enabled by the account itself): no
    /// `moduleData.mode`, or USE.
    pub fn is_use(&self) -> bool {
        matches!(self.mode, None | Some(SmartSessionMode::Use))
    }

    /// The SmartSession the sessions are for: `moduleData.action`'s target (the SDK's
    /// `enableSessions` call), whose address every enable digest binds.
    pub const fn smart_session(&self) -> Address {
        self.action.target
    }

    /// The permission ids, in order.
    pub fn permission_ids(&self) -> Vec<PermissionId> {
        self.sessions.iter().map(|(_, s)| PermissionId::of(s)).collect()
    }

    /// One entry per permission, to be redeemed in `mode` (ENABLE or UNSAFE_ENABLE) on
    /// [`Self::smart_session`]: entry `i` enables `moduleData.sessions[i]` (chain digest index
    /// `i`), every chain digest recomputed for `mode` at the enable nonce `nonces[i]` of its
    /// permission, with the owner's one signature. The SDK's own digests must be the
    /// sessions' (in either mode) for the granter, that SmartSession and those nonces; else
    /// the error names the digest. Which mode the owner signed is the account's to say
    /// (ERC-1271 on [`crate::multichain_digest`] of the entry's digests): the Nexus SDK 0.0.29
    /// signs ENABLE's.
    pub fn enable_entries(
        &self,
        mode: SmartSessionMode,
        nonces: &[U256],
    ) -> Result<Vec<GrantEntry>, GrantError> {
        if mode == SmartSessionMode::Use {
            return Err(bad("mode", "USE is not an enable mode (ENABLE or UNSAFE_ENABLE)"));
        }
        let data = self
            .enable_session_data
            .as_ref()
            .ok_or_else(|| bad("moduleData.enableSessionData", "missing: nothing to enable"))?;
        if nonces.len() != self.sessions.len() {
            return Err(bad(
                "nonces",
                format!("{} for {} session(s)", nonces.len(), self.sessions.len()),
            ));
        }
        let given = &data.enable_session.hashesAndChainIds;
        let ss = self.smart_session();
        let mut digests = Vec::with_capacity(given.len());
        for (j, ((chain_id, session), nonce)) in self.sessions.iter().zip(nonces).enumerate() {
            let digest = |m| SignedSession::of(session, self.granter, ss, *nonce, m).digest();
            let at = format!("{ENABLE_SESSION}.hashesAndChainIds[{j}]");
            if given[j].chainId != *chain_id {
                return Err(bad(
                    format!("{at}.chainId"),
                    format!("{}, moduleData.sessions[{j}].chainId is {chain_id}", given[j].chainId),
                ));
            }
            let modes = [SmartSessionMode::Enable, SmartSessionMode::UnsafeEnable];
            if !modes.iter().any(|&m| digest(m) == given[j].sessionDigest) {
                return Err(bad(
                    format!("{at}.sessionDigest"),
                    format!(
                        "not moduleData.sessions[{j}]'s digest (ENABLE or UNSAFE_ENABLE) for \
                         granter {} on SmartSession {ss} at enable nonce {nonce}",
                        self.granter
                    ),
                ));
            }
            digests.push(ChainDigest { chainId: *chain_id, sessionDigest: digest(mode) });
        }
        Ok(self
            .sessions
            .iter()
            .enumerate()
            .map(|(i, (_, session))| {
                let enable_data = EnableSessionData {
                    enable_session: EnableSession {
                        chainDigestIndex: u8::try_from(i).expect("checked: at most 256 digests"),
                        hashesAndChainIds: digests.clone(),
                        sessionToEnable: session.clone(),
                        permissionEnableSig: data.enable_session.permissionEnableSig.clone(),
                    },
                    validator: data.validator,
                    account_type: data.account_type,
                };
                GrantEntry::of_enable_data(enable_data, mode)
            })
            .collect())
    }
}

/// Differential: the Nexus SDK's own output (interop/nexus-sdk/vectors.json, made by
/// `grantDeferredPermission` and `preparePermission` against upstream's SmartSession).
#[cfg(test)]
mod tests {
    use alloy_primitives::{Signature, eip191_hash_message};

    use super::*;
    use crate::deployments::SMART_SESSION_0_2_3;
    use crate::grant::{Grant, GrantFormat, GrantShape, detect_shape, read_grant};

    const VECTORS: &str = include_str!("../../../../interop/nexus-sdk/vectors.json");

    fn vectors() -> Vec<Value> {
        let all: Value = serde_json::from_str(VECTORS).expect("vectors.json is JSON");
        all["vectors"].as_array().expect("a vectors array").clone()
    }

    fn vector(name: &str) -> Value {
        vectors().into_iter().find(|v| v["name"] == name).expect("a vector of that name")
    }

    fn read(value: &Value) -> Result<SessionData, GrantError> {
        match read_grant(&value.to_string(), None)? {
            Grant::SessionData(data) => Ok(*data),
            other => panic!("not a SessionData: {other:?}"),
        }
    }

    fn address(v: &Value) -> Address {
        v.as_str().expect("an address string").parse().expect("an address")
    }

    /// Who signed `digest` as the SDK's owner signs (EIP-191 of the raw hash).
    fn signer(sig: &Bytes, digest: alloy_primitives::B256) -> Address {
        let sig = Signature::try_from(sig.as_ref()).expect("a 65-byte signature");
        sig.recover_address_from_prehash(&eip191_hash_message(digest)).expect("recovers")
    }

    #[test]
    fn every_sdk_session_data_is_read_as_it_was_written() {
        let all = vectors();
        assert_eq!(all.len(), 4);
        for v in &all {
            let text = v["sessionData"].to_string();
            assert!(text.contains("__type"), "the SDK's stringify tags bigints");
            assert_eq!(detect_shape(&v["sessionData"]).ok(), Some(GrantShape::SessionData));
            let data = read(&v["sessionData"]).unwrap_or_else(|e| panic!("{}: {e}", v["name"]));
            let module = &v["sessionData"]["moduleData"];
            assert_eq!(data.granter, address(&v["sessionData"]["granter"]));
            assert_eq!(data.session_public_key, address(&v["sessionData"]["sessionPublicKey"]));
            let ids: Vec<PermissionId> =
                serde_json::from_value(module["permissionIds"].clone()).unwrap();
            assert_eq!(data.permission_ids(), ids);
            assert_eq!(data.smart_session(), address(&v["smartSession"]));
            assert_eq!(data.smart_session(), SMART_SESSION_0_2_3);
            assert_eq!(data.description.as_deref(), v["sessionData"]["description"].as_str());
            for (chain_id, session) in &data.sessions {
                assert_eq!(*chain_id, 31337);
                // The session key is the OwnableValidator's one owner.
                let ownable =
                    crate::ownable::OwnableData::decode(&session.sessionValidatorInitData)
                        .expect("an OwnableValidator configuration");
                assert_eq!(ownable.owners(), [data.session_public_key]);
            }
            assert_eq!(
                read_grant(&text, Some(GrantFormat::NexusSdk))
                    .map(|g| matches!(g, Grant::SessionData(_)))
                    .ok(),
                Some(true)
            );
            let err = read_grant(&text, Some(GrantFormat::ModuleSdk)).unwrap_err();
            assert!(
                matches!(err, GrantError::FormatMismatch { seen: GrantShape::SessionData, .. }),
                "{err}"
            );
        }
    }

    #[test]
    fn the_owner_signs_enable_while_the_sdk_names_unsafe_enable() {
        for name in ["sudo", "rules-and-limits", "two-sessions"] {
            let v = vector(name);
            assert_eq!(v["ownerSignedFor"], serde_json::json!(["ENABLE"]), "{name}");
            let owner = address(&v["owner"]);
            let data = read(&v["sessionData"]).unwrap();
            assert_eq!(data.mode, Some(SmartSessionMode::UnsafeEnable));
            let given = data.enable_session_data.clone().unwrap();
            assert_eq!(given.validator, address(&v["enableValidator"]));
            assert_eq!(given.account_type, crate::AccountType::Nexus);
            // The chain digests the SDK read from SmartSession are UNSAFE_ENABLE's, ours.
            for ((_, session), d) in
                data.sessions.iter().zip(&given.enable_session.hashesAndChainIds)
            {
                let ours = SignedSession::of(
                    session,
                    data.granter,
                    SMART_SESSION_0_2_3,
                    U256::ZERO,
                    SmartSessionMode::UnsafeEnable,
                );
                assert_eq!(ours.digest(), d.sessionDigest, "{name}");
            }
            // As handed over, the signature is not over those digests.
            let sig = &given.enable_session.permissionEnableSig;
            assert_ne!(
                signer(sig, crate::multichain_digest(&given.enable_session.hashesAndChainIds)),
                owner
            );
            let zeros = vec![U256::ZERO; data.sessions.len()];
            let enable = data.enable_entries(SmartSessionMode::Enable, &zeros).unwrap();
            let unsafe_ = data.enable_entries(SmartSessionMode::UnsafeEnable, &zeros).unwrap();
            assert_eq!(enable.len(), data.sessions.len());
            for (i, (e, u)) in enable.iter().zip(&unsafe_).enumerate() {
                let es = &e.enable_session_data.enable_session;
                assert_eq!(usize::from(es.chainDigestIndex), i);
                assert_eq!(es.sessionToEnable, data.sessions[i].1);
                assert_eq!(e.permission_id, data.permission_ids()[i]);
                assert_eq!(e.mode, SmartSessionMode::Enable);
                assert_eq!(
                    signer(
                        &es.permissionEnableSig,
                        crate::multichain_digest(&es.hashesAndChainIds)
                    ),
                    owner,
                    "{name}[{i}]"
                );
                // UNSAFE_ENABLE's rebuilt entry is exactly the SDK's, and not what was signed.
                let us = &u.enable_session_data.enable_session;
                assert_eq!(us.hashesAndChainIds, given.enable_session.hashesAndChainIds);
                assert_ne!(
                    signer(
                        &us.permissionEnableSig,
                        crate::multichain_digest(&us.hashesAndChainIds)
                    ),
                    owner
                );
            }
            assert_eq!(enable[0].enable_session_data.enable_session, {
                let mut e = given.enable_session.clone();
                e.hashesAndChainIds =
                    enable[0].enable_session_data.enable_session.hashesAndChainIds.clone();
                e
            });
        }
    }

    #[test]
    fn digests_of_another_smart_session_or_nonce_are_refused_naming_them() {
        let data = read(&vector("sudo")["sessionData"]).unwrap();
        let err = data.enable_entries(SmartSessionMode::Enable, &[U256::from(1)]).unwrap_err();
        let line = err.to_string();
        assert!(
            line.starts_with(
                "moduleData.enableSessionData.enableSession.hashesAndChainIds[0].sessionDigest"
            ) && line.contains("0x00000000002B0eCfbD0496EE71e01257dA0E37DE")
                && line.contains("nonce 1"),
            "{line}"
        );
        // The same session said to target 0.4.0's SmartSession: its digests are not for it.
        let mut moved = data.clone();
        moved.action.target = crate::deployments::SMART_SESSION;
        let line =
            moved.enable_entries(SmartSessionMode::Enable, &[U256::ZERO]).unwrap_err().to_string();
        assert!(line.contains("0x00000000008bDABA73cD9815d79069c247Eb4bDA"), "{line}");
        assert!(matches!(
            data.enable_entries(SmartSessionMode::Use, &[U256::ZERO]),
            Err(GrantError::SessionData { .. })
        ));
        assert!(matches!(
            data.enable_entries(SmartSessionMode::Enable, &[]),
            Err(GrantError::SessionData { .. })
        ));
    }

    #[test]
    fn the_sdk_builds_on_the_module_sdk_0_2_3_preset() {
        let preset = crate::Deployments::preset("module-sdk-0.2.3").expect("a preset");
        assert_eq!(preset, crate::Deployments::MODULE_SDK_0_2_3);
        let policies = |name: &str| -> Vec<Address> {
            let data = read(&vector(name)["sessionData"]).unwrap();
            let (_, session) = &data.sessions[0];
            assert_eq!(session.sessionValidator, preset.session_validators.ownable.unwrap());
            assert_eq!(data.smart_session(), preset.smart_session);
            session.actions[0].actionPolicies.iter().map(|p| p.policy).collect()
        };
        let p = preset.policies;
        assert_eq!(policies("sudo"), [p.sudo]);
        assert_eq!(policies("rules-and-limits"), [p.uni_action, p.value_limit, p.usage_limit]);
    }

    #[test]
    fn a_use_session_data_is_use() {
        let data = read(&vector("use")["sessionData"]).unwrap();
        assert!(data.is_use());
        assert_eq!(data.mode, None);
        assert_eq!(data.enable_session_data, None);
        assert!(data.enable_entries(SmartSessionMode::Enable, &[U256::ZERO]).is_err());
    }

    #[test]
    fn fields_that_disagree_are_named() {
        let base = vector("two-sessions")["sessionData"].clone();
        type Mutation = Box<dyn Fn(&mut Value)>;
        let cases: Vec<(Mutation, &str)> = vec![
            (
                Box::new(|v| {
                    v["moduleData"]["permissionIds"][1] =
                        v["moduleData"]["permissionIds"][0].clone()
                }),
                "moduleData.permissionIds[1]",
            ),
            (
                Box::new(|v| {
                    v["moduleData"]["permissionIds"].as_array_mut().unwrap().pop();
                }),
                "moduleData.permissionIds",
            ),
            (
                Box::new(|v| {
                    v["moduleData"]["sessions"][0]["actions"][0]["actionPolicies"][0]["address"] =
                        Value::from("0x0000000000000000000000000000000000000001")
                }),
                "moduleData.sessions[0].actions[0].actionPolicies[0].address",
            ),
            (
                Box::new(|v| {
                    v["moduleData"].as_object_mut().unwrap().remove("enableSessionData");
                }),
                "moduleData.enableSessionData",
            ),
            (
                Box::new(|v| {
                    v["moduleData"]["enableSessionData"]["enableSession"]["chainDigestIndex"] =
                        Value::from(1)
                }),
                "moduleData.enableSessionData.enableSession.sessionToEnable",
            ),
            (
                Box::new(|v| {
                    v["moduleData"]["enableSessionData"]["enableSession"]["chainDigestIndex"] =
                        Value::from(2)
                }),
                "moduleData.enableSessionData.enableSession.chainDigestIndex",
            ),
            (
                Box::new(|v| v["moduleData"]["permissionIdIndex"] = Value::from(2)),
                "moduleData.permissionIdIndex",
            ),
            (Box::new(|v| v["granter"] = Value::from("0x12")), "granter"),
            (Box::new(|v| v["extra"] = Value::from(1)), ""),
        ];
        for (mutate, field) in cases {
            let mut v = base.clone();
            mutate(&mut v);
            let err = read(&v).unwrap_err();
            let line = err.to_string();
            assert!(line.starts_with(field) && !line.contains('\n'), "{field}: {line}");
            if field.is_empty() {
                assert!(line.contains("extra"), "{line}");
            }
        }
        // The two permissions of one grant are each redeemable.
        let data = read(&base).unwrap();
        assert_eq!(
            data.enable_entries(SmartSessionMode::Enable, &[U256::ZERO; 2]).unwrap().len(),
            2
        );
    }
}
