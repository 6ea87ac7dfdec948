//! SmartSession's verdict on one USE op — a batch of 4 ERC-20 transfers, each checked by a
//! 16-rule UniActionPolicy — computed locally by `mandate-policy` (with and without the session
//! key's ECDSA recovery) and by the contract in revm (`validateUserOp` called by the account), in
//! the same run so the ratio can be read off.
//!
//! `cargo bench --bench validate`

// One crate of several sharing the package's dev-dependencies: not all of them are used here.
#![allow(unused_crate_dependencies)]
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use alloy_primitives::{Address, B256, Bytes, FixedBytes, U256, address};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use criterion::{Criterion, criterion_group, criterion_main};
use mandate::{
    abi::{
        ActionData, Call, PackedUserOperation, PermissionId, PolicyData, Session, encode_use,
        execute_calls, sol::ISmartSession,
    },
    client::policy_sim,
    policy::{Deployment, Evaluator, Verdict},
    sim::Devnet,
};

const ACCOUNT: Address = address!("acc0000000000000000000000000000000000acc");
const RECIPIENT: Address = address!("0000000000000000000000000000000000007e7e");

/// 16 rules that all hold for `transfer(RECIPIENT, 100)`: every condition, on both arguments,
/// half of them with a cumulative limit.
fn uni_action_init() -> Bytes {
    let recipient = U256::from_be_slice(RECIPIENT.as_slice());
    let amount = U256::from(100);
    let mut words = vec![U256::ZERO, U256::from(16)];
    for i in 0..16u64 {
        let (offset, param) = if i % 2 == 0 { (0u64, recipient) } else { (32, amount) };
        let (condition, reference) = match i % 7 {
            0 => (0u8, param),
            1 => (1, param - U256::from(1)),
            2 => (2, param + U256::from(1)),
            3 => (3, param),
            4 => (4, param),
            5 => (5, param + U256::from(7)),
            _ => (6, (U256::ZERO << 128) | U256::from(u128::MAX)),
        };
        let limited = i % 2 == 1;
        words.extend([
            U256::from(condition),
            U256::from(offset),
            U256::from(u8::from(limited)),
            reference,
            U256::MAX,
            U256::ZERO,
        ]);
    }
    words.iter().flat_map(|w| w.to_be_bytes::<32>()).collect::<Vec<u8>>().into()
}

fn bench(c: &mut Criterion) {
    let mut devnet = Devnet::new().unwrap();
    devnet.set_balance(ACCOUNT, U256::from(10u128.pow(24)));
    let d = *devnet.deployments();
    let deployment = Deployment::new(&d.chain);
    let key = PrivateKeySigner::from_bytes(&B256::repeat_byte(0x11)).unwrap();
    let session = Session {
        sessionValidator: d.ecdsa_session_validator().expect("the devnet's ECDSA validator"),
        sessionValidatorInitData: key.address().to_vec().into(),
        actions: vec![ActionData {
            actionTargetSelector: FixedBytes(mandate::abi::sol::IERC20::transferCall::SELECTOR),
            actionTarget: d.test_erc20,
            actionPolicies: vec![PolicyData {
                policy: d.chain.policies.uni_action,
                initData: uni_action_init(),
            }],
        }],
        ..Default::default()
    };
    let call = ISmartSession::enableSessionsCall { sessions: vec![session.clone()] };
    devnet.transact(ACCOUNT, d.chain.smart_session, U256::ZERO, call.abi_encode().into()).unwrap();
    let mut state = policy_sim::load(&devnet, &deployment, ACCOUNT).unwrap();

    let transfer = Call::new(
        d.test_erc20,
        mandate::abi::sol::IERC20::transferCall { to: RECIPIENT, amount: U256::from(100) }
            .abi_encode(),
    );
    let hash = B256::repeat_byte(0x42);
    let signature = key.sign_message_sync(hash.as_slice()).unwrap().as_bytes();
    let op = PackedUserOperation {
        sender: ACCOUNT,
        callData: execute_calls(&[transfer.clone(), transfer.clone(), transfer.clone(), transfer]),
        signature: encode_use(PermissionId::of(&session), &signature),
        ..Default::default()
    };

    let with_ecdsa = Evaluator::new(deployment.clone());
    let without_ecdsa = Evaluator::new(deployment).verify_signatures(false);
    // Sanity: both sides accept it with the same validation data.
    let Verdict::Accept(local) = with_ecdsa.check(&mut state, &op, hash).unwrap() else {
        panic!("the benchmarked op must be accepted")
    };
    assert!(local.signature_valid);
    let validate =
        ISmartSession::validateUserOpCall { userOp: op.clone(), userOpHash: hash }.abi_encode();
    let out = devnet
        .transact(ACCOUNT, d.chain.smart_session, U256::ZERO, validate.clone().into())
        .unwrap();
    assert_eq!(U256::from_be_slice(&out.output), local.validation_data);

    let mut group = c.benchmark_group("validate_use_16_rules_batch_4");
    group.bench_function("local_without_ecdsa", |b| {
        b.iter(|| black_box(without_ecdsa.check(&mut state, black_box(&op), hash).unwrap()))
    });
    group.bench_function("local_with_ecdsa", |b| {
        b.iter(|| black_box(with_ecdsa.check(&mut state, black_box(&op), hash).unwrap()))
    });
    group.bench_function("revm_validate_user_op", |b| {
        b.iter(|| {
            black_box(
                devnet
                    .transact(ACCOUNT, d.chain.smart_session, U256::ZERO, validate.clone().into())
                    .unwrap(),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
