//! The encode hot path against the same inputs module-sdk and viem get in
//! `interop/bench.mjs` (both read `interop/vectors.json`); `interop/bench.sh` runs both and
//! prints the ratios.

// One crate of several sharing the package's dev-dependencies: not all of them are used here.
#![allow(unused_crate_dependencies)]

use std::hint::black_box;

use alloy_primitives::{Address, B256, Bytes, U256};
use criterion::{Criterion, criterion_group, criterion_main};
use mandate::abi::{
    Call, ChainSession, ENTRY_POINT_V07, EnableSessionData, PermissionId, Session,
    SmartSessionMode, UserOperation, encode_enable, encode_use, execute_calls, hash_chain_sessions,
    json::{u128_flex, u256_flex},
};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Inputs {
    sessions: Vec<SessionInput>,
    use_signatures: Vec<UseInput>,
    enable_signatures: Vec<EnableInput>,
    digests: Vec<DigestInput>,
    bench: BenchInput,
}

#[derive(Deserialize)]
struct SessionInput {
    session: Session,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UseInput {
    permission_id: B256,
    signature: Bytes,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnableInput {
    mode: SmartSessionMode,
    enable_session_data: EnableSessionData,
    signature: Bytes,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DigestInput {
    chain_sessions: Vec<ChainSession>,
}

#[derive(Deserialize)]
struct CallInput {
    to: Address,
    #[serde(with = "u256_flex")]
    value: U256,
    data: Bytes,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BenchInput {
    calls: Vec<CallInput>,
    sender: Address,
    #[serde(with = "u256_flex")]
    nonce: U256,
    #[serde(with = "u128_flex")]
    gas: u128,
    chain_id: u64,
    multichain: Vec<ChainSession>,
}

fn inputs() -> Inputs {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/interop/vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("interop/vectors.json"))
        .expect("parses")
}

fn encode(c: &mut Criterion) {
    let inputs = inputs();
    let session = &inputs.sessions[0].session;
    let use_sig = &inputs.use_signatures[0];
    let enable = &inputs.enable_signatures[0];
    let digest = &inputs.digests[0].chain_sessions;
    let calls: Vec<Call> = inputs
        .bench
        .calls
        .iter()
        .map(|c| Call::new(c.to, c.data.clone()).with_value(c.value))
        .collect();
    let b = &inputs.bench;
    let op = UserOperation {
        sender: b.sender,
        nonce: b.nonce,
        call_data: execute_calls(&calls),
        call_gas_limit: b.gas,
        verification_gas_limit: b.gas,
        pre_verification_gas: U256::from(b.gas),
        max_fee_per_gas: b.gas,
        max_priority_fee_per_gas: b.gas,
        signature: use_sig.signature.clone(),
        ..Default::default()
    };

    let mut group = c.benchmark_group("encode");
    group.bench_function("permission_id", |bench| {
        bench.iter(|| PermissionId::of(black_box(session)))
    });
    group.bench_function("use_signature", |bench| {
        bench.iter(|| {
            encode_use(
                PermissionId(black_box(use_sig.permission_id)),
                black_box(&use_sig.signature),
            )
        })
    });
    group.bench_function("enable_signature", |bench| {
        bench.iter(|| {
            encode_enable(enable.mode, black_box(&enable.enable_session_data), &enable.signature)
        })
    });
    group.bench_function("multichain_digest", |bench| {
        bench.iter(|| hash_chain_sessions(black_box(&inputs.bench.multichain)))
    });
    group.bench_function("multichain_digest_distinct", |bench| {
        bench.iter(|| hash_chain_sessions(black_box(digest)))
    });
    group.bench_function("batch_calldata_4", |bench| {
        bench.iter(|| execute_calls(black_box(&calls)))
    });
    group.bench_function("user_op_hash", |bench| {
        bench.iter(|| black_box(&op).hash(ENTRY_POINT_V07, b.chain_id))
    });
    // The USE path of one op: permission id, 4-call calldata, user-op hash, USE signature.
    group.bench_function("use_path", |bench| {
        bench.iter(|| {
            let id = PermissionId::of(black_box(session));
            let mut op = op.clone();
            op.call_data = execute_calls(black_box(&calls));
            let hash = op.hash(ENTRY_POINT_V07, b.chain_id);
            black_box(hash);
            encode_use(id, &use_sig.signature)
        })
    });
    // One Keccak-f[1600] permutation (keccak256 of 32 bytes), the unit of the hashing above:
    // the USE path needs 14 (permissionId 2, the batch calldata 9, userOpHash's two words 3).
    group.bench_function("keccak256_one_permutation", |bench| {
        bench.iter(|| alloy_primitives::keccak256(black_box([0x5au8; 32])))
    });
    group.finish();
}

criterion_group!(benches, encode);
criterion_main!(benches);
