//! Byte equality with @rhinestone/module-sdk 0.4.0 (viem, solady): every vector in
//! `interop/vectors.json`, which `node interop/vectors.mjs` makes from seeded random inputs
//! (CI makes it afresh from the pinned packages before running this).

use std::path::PathBuf;

use alloy_primitives::{Address, B256, Bytes, FixedBytes, U256, hex};
use mandate_abi::{
    ActionId, Call, CallType, ChainSession, ENTRY_POINT_V07, EnableSessionData, ExecType,
    PermissionId, Policy, Session, SmartSessionMode, UserOperation, calldata, decode_signature,
    encode_batch, encode_enable, encode_use, execute_calldata, fastlz, hash_chain_sessions,
    mode_code,
};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vectors {
    sessions: Vec<SessionVector>,
    policies: Vec<PolicyVector>,
    action_ids: Vec<ActionIdVector>,
    use_signatures: Vec<UseVector>,
    enable_signatures: Vec<EnableVector>,
    grant_entries: Vec<GrantVector>,
    digests: Vec<DigestVector>,
    fastlz: Vec<FastLzVector>,
    batches: Vec<BatchVector>,
    user_ops: Vec<UserOpVector>,
    bench: BenchVector,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BenchVector {
    multichain: Vec<ChainSession>,
    multichain_digest: B256,
}

#[derive(Deserialize)]
struct CallJson {
    to: Address,
    #[serde(with = "mandate_abi::json::u256_flex")]
    value: U256,
    data: Bytes,
}

#[derive(Deserialize)]
struct BatchVector {
    calls: Vec<CallJson>,
    calldata: Bytes,
}

/// viem's unpacked v0.7 user operation.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserOpJson {
    sender: Address,
    #[serde(with = "mandate_abi::json::u256_flex")]
    nonce: U256,
    factory: Option<Address>,
    #[serde(default)]
    factory_data: Bytes,
    call_data: Bytes,
    #[serde(with = "mandate_abi::json::u128_flex")]
    call_gas_limit: u128,
    #[serde(with = "mandate_abi::json::u128_flex")]
    verification_gas_limit: u128,
    #[serde(with = "mandate_abi::json::u256_flex")]
    pre_verification_gas: U256,
    #[serde(with = "mandate_abi::json::u128_flex")]
    max_fee_per_gas: u128,
    #[serde(with = "mandate_abi::json::u128_flex")]
    max_priority_fee_per_gas: u128,
    paymaster: Option<Address>,
    #[serde(default, with = "mandate_abi::json::u128_flex")]
    paymaster_verification_gas_limit: u128,
    #[serde(default, with = "mandate_abi::json::u128_flex")]
    paymaster_post_op_gas_limit: u128,
    #[serde(default)]
    paymaster_data: Bytes,
    signature: Bytes,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserOpVector {
    user_operation: UserOpJson,
    chain_id: u64,
    hash: B256,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionVector {
    session: Session,
    permission_id: B256,
    enable_sessions_calldata: Bytes,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PolicyVector {
    kind: String,
    params: serde_json::Value,
    init_data: Bytes,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActionIdVector {
    target: Address,
    selector: FixedBytes<4>,
    action_id: B256,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UseVector {
    permission_id: B256,
    signature: Bytes,
    encoded: Bytes,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnableVector {
    mode: SmartSessionMode,
    enable_session_data: EnableSessionData,
    signature: Bytes,
    encoded: Bytes,
}

/// A grant response as abstractjs writes it (bigint tags), with the session key's signature
/// and module-sdk's encoding of the ENABLE signature it makes.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GrantVector {
    json: String,
    session_signature: Bytes,
    encoded: Bytes,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DigestVector {
    chain_sessions: Vec<ChainSession>,
    digest: B256,
}

#[derive(Deserialize)]
struct FastLzVector {
    input: Bytes,
    compressed: Bytes,
}

fn vectors() -> Vectors {
    let path = std::env::var_os("MANDATE_SDK_VECTORS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../interop/vectors.json")
    });
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).expect("vectors parse")
}

#[test]
fn sessions_permission_ids_and_enable_calldata() {
    let v = vectors();
    assert!(v.sessions.len() >= 20);
    for (i, s) in v.sessions.iter().enumerate() {
        assert_eq!(PermissionId::of(&s.session).0, s.permission_id, "session {i}");
        assert_eq!(
            calldata::enable_sessions(std::slice::from_ref(&s.session)),
            s.enable_sessions_calldata,
            "session {i}"
        );
    }
}

#[test]
fn policy_init_data() {
    let v = vectors();
    let mut kinds = std::collections::BTreeSet::new();
    for (i, p) in v.policies.iter().enumerate() {
        let policy = Policy::from_params(&p.kind, p.params.clone())
            .unwrap_or_else(|e| panic!("policy {i} ({}): {e}", p.kind));
        assert_eq!(policy.init_data().unwrap(), p.init_data, "policy {i} ({})", p.kind);
        kinds.insert(p.kind.clone());
    }
    assert_eq!(kinds.len(), 6, "every policy kind is covered: {kinds:?}");
}

#[test]
fn action_ids() {
    for a in vectors().action_ids {
        assert_eq!(ActionId::new(a.target, a.selector).0, a.action_id);
    }
}

#[test]
fn use_signatures() {
    for u in vectors().use_signatures {
        let encoded = encode_use(PermissionId(u.permission_id), &u.signature);
        assert_eq!(encoded, u.encoded);
        let decoded = decode_signature(&encoded, mandate_abi::AccountType::Nexus).unwrap();
        assert_eq!(decoded.permission_id, u.permission_id);
        assert_eq!(decoded.signature, u.signature);
    }
}

#[test]
fn enable_signatures_for_every_account_type() {
    let v = vectors();
    let mut seen = std::collections::BTreeSet::new();
    for (i, e) in v.enable_signatures.iter().enumerate() {
        let encoded = encode_enable(e.mode, &e.enable_session_data, &e.signature).unwrap();
        assert_eq!(hex::encode(&encoded), hex::encode(&e.encoded), "enable signature {i}");
        let decoded = decode_signature(&e.encoded, e.enable_session_data.account_type).unwrap();
        assert_eq!(decoded.enable_session_data.as_ref(), Some(&e.enable_session_data));
        assert_eq!(decoded.signature, e.signature);
        seen.insert(format!("{:?}", e.enable_session_data.account_type));
    }
    assert_eq!(seen.len(), 4);
}

/// abstractjs's grant responses read back into what module-sdk encoded: the mode, the routing
/// (validator, account type) and the owner's signature make the same ENABLE signature.
#[test]
fn grant_responses_read_back_to_module_sdks_encoding() {
    let v = vectors();
    let mut modes = std::collections::BTreeSet::new();
    for (i, g) in v.grant_entries.iter().enumerate() {
        assert!(g.json.contains(r#""__type":"bigint""#), "entry {i} has bigint tags");
        let entries = mandate_abi::grant::parse_grant_response(&g.json).unwrap();
        assert_eq!(entries.len(), 1);
        let entry = &entries[0];
        let encoded =
            encode_enable(entry.mode, &entry.enable_session_data, &g.session_signature).unwrap();
        assert_eq!(hex::encode(&encoded), hex::encode(&g.encoded), "grant entry {i}");
        assert_eq!(entry.signature.len(), 65, "OwnableValidator's mock signature");
        modes.insert(format!("{:?}", entry.mode));
        // The same entry without tags (plain JSON, chain ids as numbers) reads the same.
        let plain = serde_json::to_string(&entries).unwrap();
        assert_eq!(mandate_abi::grant::parse_grant_response(&plain).unwrap(), entries);
        // Written back as abstractjs's stringify writes it: the SDK's own JSON (but for
        // sessionToEnable.chainId, which the vectors draw apart from the entry's chain), and
        // read back to the same entries, tagged or plain.
        use mandate_abi::grant::{Bigints, write_grant_response};
        for bigints in [Bigints::Tagged, Bigints::Plain] {
            let written = write_grant_response(&entries, bigints);
            assert_eq!(mandate_abi::grant::parse_grant_response(&written).unwrap(), entries);
        }
        let lower = |text: &str| {
            let mut v: serde_json::Value = serde_json::from_str(&text.to_lowercase()).unwrap();
            v[0]["enablesessiondata"]["enablesession"]["sessiontoenable"]
                .as_object_mut()
                .unwrap()
                .remove("chainid");
            v
        };
        let ours = write_grant_response(&entries, Bigints::Tagged);
        assert_eq!(lower(&ours), lower(&g.json), "grant entry {i} as abstractjs writes it");
    }
    assert_eq!(modes.len(), 2, "ENABLE and UNSAFE_ENABLE");
    // A permission id that is not the session's names the entry and field.
    let wrong_id = {
        let mut e: serde_json::Value = serde_json::from_str(&v.grant_entries[0].json).unwrap();
        e[0]["permissionId"] = serde_json::Value::from(format!("0x{}", "11".repeat(32)));
        e.to_string()
    };
    let err = mandate_abi::grant::parse_grant_response(&wrong_id).unwrap_err();
    assert!(err.to_string().starts_with("[0].permissionId"), "{err}");
}

#[test]
fn multichain_digests() {
    let v = vectors();
    for (i, d) in v.digests.iter().enumerate() {
        assert_eq!(hash_chain_sessions(&d.chain_sessions), d.digest, "digest {i}");
    }
    // The same permissions on three chains (hashed once, reused): still module-sdk's digest.
    assert_eq!(hash_chain_sessions(&v.bench.multichain), v.bench.multichain_digest);
}

#[test]
fn fastlz_compression_equals_solady_js() {
    for (i, f) in vectors().fastlz.iter().enumerate() {
        assert_eq!(
            hex::encode(fastlz::compress(&f.input)),
            hex::encode(&f.compressed),
            "input {i}"
        );
        assert_eq!(fastlz::decompress(&f.compressed).unwrap(), f.input.to_vec(), "input {i}");
    }
}

#[test]
fn batch_execution_calldata() {
    for (i, b) in vectors().batches.iter().enumerate() {
        let calls: Vec<Call> =
            b.calls.iter().map(|c| Call::new(c.to, c.data.clone()).with_value(c.value)).collect();
        let data =
            execute_calldata(mode_code(CallType::Batch, ExecType::Default), encode_batch(&calls));
        assert_eq!(data, b.calldata, "batch {i}");
    }
}

#[test]
fn user_op_hashes() {
    for (i, v) in vectors().user_ops.into_iter().enumerate() {
        let u = v.user_operation;
        let op = UserOperation {
            sender: u.sender,
            nonce: u.nonce,
            factory: u.factory,
            factory_data: u.factory_data,
            call_data: u.call_data,
            call_gas_limit: u.call_gas_limit,
            verification_gas_limit: u.verification_gas_limit,
            pre_verification_gas: u.pre_verification_gas,
            max_fee_per_gas: u.max_fee_per_gas,
            max_priority_fee_per_gas: u.max_priority_fee_per_gas,
            paymaster: u.paymaster,
            paymaster_verification_gas_limit: u.paymaster_verification_gas_limit,
            paymaster_post_op_gas_limit: u.paymaster_post_op_gas_limit,
            paymaster_data: u.paymaster_data,
            signature: u.signature,
            eip7702_auth: None,
        };
        assert_eq!(op.hash(ENTRY_POINT_V07, v.chain_id), v.hash, "user op {i}");
    }
}

#[test]
fn enable_mode_json_names() {
    let mode: SmartSessionMode = serde_json::from_str("\"0x01\"").unwrap();
    assert_eq!(mode, SmartSessionMode::Enable);
    let _ = Address::ZERO;
}
