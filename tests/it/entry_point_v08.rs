//! The EntryPoint v0.8 on the devnet against mandate_abi's hash: for random user ops, the
//! real contract's `getUserOpHash` is `PackedUserOperation::hash_for(V08, …)`, with and without
//! the `0x7702` initCode marker (the sender an EOA delegated by an EIP-7702 designator).

use std::cell::RefCell;

use mandate::{
    abi::{
        ENTRY_POINT_V07, ENTRY_POINT_V08, EntryPointVersion, SessionValidatorKind, UserOpHashError,
        UserOperation,
        alloy_primitives::{Address, B256, Bytes, U256},
        encode_use, execute_calls,
        sol::{IEntryPoint, PackedUserOperation},
    },
    sim::{Devnet, SimError, unused_gas_penalty},
};
use proptest::{prelude::*, test_runner::TestRunner};

/// `0x7702` and 18 zero bytes: the marker v0.8 reads in the first 20 bytes of the initCode.
const MARKER: [u8; 20] = {
    let mut m = [0u8; 20];
    m[0] = 0x77;
    m[1] = 0x02;
    m
};

fn op(marked: bool) -> impl Strategy<Value = PackedUserOperation> {
    let init_code = if marked {
        // The marker alone (2 or 20 bytes, as padded calldata reads the same), or with the
        // initialisation call after it.
        prop_oneof![
            Just(MARKER[..2].to_vec()),
            Just(MARKER.to_vec()),
            prop::collection::vec(any::<u8>(), 1..80)
                .prop_map(|tail| [&MARKER[..], &tail].concat()),
        ]
        .boxed()
    } else {
        prop_oneof![Just(vec![]), prop::collection::vec(any::<u8>(), 1..120)]
            .prop_filter("not the marker", |c| !mandate::abi::is_eip7702_init_code(c))
            .boxed()
    };
    let bytes = |max| prop::collection::vec(any::<u8>(), 0..max);
    (
        any::<[u8; 20]>(),
        any::<[u8; 32]>(),
        init_code,
        bytes(200),
        (any::<[u8; 32]>(), any::<[u8; 32]>(), any::<[u8; 32]>()),
        bytes(120),
        bytes(100),
    )
        .prop_map(|(sender, nonce, init, call, (limits, pvg, fees), paymaster, sig)| {
            PackedUserOperation {
                sender: Address::from(sender),
                nonce: U256::from_be_bytes(nonce),
                initCode: Bytes::from(init),
                callData: Bytes::from(call),
                accountGasLimits: B256::from(limits),
                preVerificationGas: U256::from_be_bytes(pvg),
                gasFees: B256::from(fees),
                paymasterAndData: Bytes::from(paymaster),
                signature: Bytes::from(sig),
            }
        })
}

fn on_chain(devnet: &mut Devnet, op: &PackedUserOperation) -> Result<B256, SimError> {
    devnet.call_sol(ENTRY_POINT_V08, &IEntryPoint::getUserOpHashCall { userOp: op.clone() })
}

#[test]
fn get_user_op_hash_of_the_real_v08_is_hash_for_v08() {
    let devnet = RefCell::new(Devnet::new().unwrap());
    let chain_id = devnet.borrow().chain_id();
    let mut runner = TestRunner::new(ProptestConfig { cases: 200, ..ProptestConfig::default() });
    runner
        .run(&op(false), |op| {
            let mut devnet = devnet.borrow_mut();
            let real = on_chain(&mut devnet, &op).unwrap();
            let ours =
                op.hash_for(EntryPointVersion::V08, ENTRY_POINT_V08, chain_id, None).unwrap();
            prop_assert_eq!(real, ours);
            // And v0.7's hash of the same op is another one (v0.7 at its own address).
            prop_assert_ne!(real, op.hash(ENTRY_POINT_V07, chain_id));
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_7702_marker_hashes_the_senders_delegate_as_the_real_v08_does() {
    let devnet = RefCell::new(Devnet::new().unwrap());
    let chain_id = devnet.borrow().chain_id();
    let mut runner = TestRunner::new(ProptestConfig { cases: 200, ..ProptestConfig::default() });
    runner
        .run(&(op(true), any::<[u8; 20]>()), |(op, delegate)| {
            let delegate = Address::from(delegate);
            let mut devnet = devnet.borrow_mut();
            // Not delegated (no code): the real EntryPoint refuses, ours asks for the delegate.
            prop_assert!(on_chain(&mut devnet, &op).is_err());
            let missing = op.hash_for(EntryPointVersion::V08, ENTRY_POINT_V08, chain_id, None);
            let named = matches!(
                missing,
                Err(UserOpHashError::MissingDelegate { sender, .. }) if sender == op.sender
            );
            prop_assert!(named, "hash_for without the delegate: {:?}", missing);
            // The EIP-7702 delegation designator as the sender's code.
            let designator = [&[0xef, 0x01, 0x00][..], delegate.as_slice()].concat();
            devnet.set_code(op.sender, designator.into());
            let real = on_chain(&mut devnet, &op).unwrap();
            let ours = op
                .hash_for(EntryPointVersion::V08, ENTRY_POINT_V08, chain_id, Some(delegate))
                .unwrap();
            prop_assert_eq!(real, ours);
            // The delegate is in the hash: another one gives another hash.
            let other = Address::from([0x11; 20]);
            if other != delegate {
                let theirs =
                    op.hash_for(EntryPointVersion::V08, ENTRY_POINT_V08, chain_id, Some(other));
                prop_assert_ne!(real, theirs.unwrap());
            }
            Ok(())
        })
        .unwrap();
}

/// A devnet on `version` with a deployed Mandate account granted the fixed session, funded.
fn session_world(version: EntryPointVersion) -> mandate_testing::world::World {
    use mandate_testing::{op::Gas, world::World};
    let devnet = Devnet::new().unwrap().on_entry_point(version);
    let smart_session = devnet.deployments().chain.smart_session;
    let mut world = World::on(devnet, smart_session, B256::with_last_byte(8));
    let _ = Gas::SESSION;
    let ids = world.enable_sessions(vec![world.ops.session.clone()]);
    assert_eq!(ids, vec![world.ops.permission_id]);
    world.fund_tokens(U256::from(1_000u64));
    world
}

/// `actualGasUsed` the real EntryPoint charges `op` (USE of the session, signed) with
/// `call_gas_limit`, in a pre-flight run of `handleOps`.
fn charged(
    world: &mut mandate_testing::world::World,
    op: &UserOperation,
    call_gas_limit: u128,
) -> u128 {
    let mut op = op.clone();
    op.call_gas_limit = call_gas_limit;
    world.ops.sign_use(world.ops.permission_id, &world.ops.key, &mut op).unwrap();
    let verdict = world.devnet.check(&op.pack()).unwrap();
    let accepted = verdict.accepted().unwrap_or_else(|| panic!("rejected: {verdict}"));
    assert!(verdict.is_success(), "{verdict}");
    accepted.actual_gas_used.to()
}

/// How far the estimate's measured execution gas may be from what the EntryPoint counts: the
/// estimate runs the execution on its own, where what validation warmed is cold (a cold slot
/// read costs 2,000 more than a warm one).
const MEASUREMENT_BOUND: u128 = 10_000;

/// What v0.8 spends computing a non-zero penalty beyond its early return for none (seen as
/// 18 gas: charged once the penalty starts, on top of it).
const PENALTY_BRANCH_GAS: u128 = 20;

/// The estimate's unused-gas penalty against what the real EntryPoints charge: for a USE op
/// (a mint) estimated on v0.7 and on v0.8, and the same op with more call gas than estimated,
/// the change in `actualGasUsed` is the change in the penalty the estimate's formula gives
/// from the execution gas it measured — to within 10% of how far that measurement is from the
/// EntryPoint's own (found from where v0.8 starts charging) plus rounding.
#[test]
fn the_estimated_unused_gas_penalty_is_what_the_entry_points_charge() {
    let mut measured = Vec::new();
    for version in [EntryPointVersion::V07, EntryPointVersion::V08] {
        let mut world = session_world(version);
        assert_eq!(world.devnet.deployments().chain.entry_point, version.address());
        let key = world.ops.session_nonce_key();
        let nonce = world.devnet.entry_point_nonce(world.ops.account, key).unwrap();
        let mut op = world.ops.base_op(nonce, execute_calls(&[world.ops.mint_call()]));
        op.signature =
            encode_use(world.ops.permission_id, &SessionValidatorKind::Ecdsa.dummy_signature());
        let estimate = world.devnet.estimate_charge(&op).unwrap();
        assert_eq!(estimate.version, version);
        estimate.limits.apply_to(&mut op);
        let limit: u128 = estimate.limits.call_gas_limit.to();
        let used = estimate.execution_gas_used;
        assert!(used > 20_000 && used < limit, "{estimate:?}");
        let predicted = |call_gas_limit: u128| {
            let mut limits = estimate.limits;
            limits.call_gas_limit = U256::from(call_gas_limit);
            unused_gas_penalty(version, used, &limits, false)
        };
        assert_eq!(predicted(limit), estimate.unused_gas_penalty);
        let at_estimate = charged(&mut world, &op, limit);
        // How far the measured execution gas is from what the EntryPoint counts. v0.8 reveals
        // it: the penalty starts once callGasLimit > used + 40,000. (On v0.7 every change of
        // the limit is charged at a tenth whatever the gas used, so it cancels out.)
        let miss = if version == EntryPointVersion::V08 {
            let (mut low, mut high) = (0u128, 100_000u128);
            while low < high {
                let mid = (low + high) / 2;
                if charged(&mut world, &op, limit + mid) > at_estimate {
                    high = mid;
                } else {
                    low = mid + 1;
                }
            }
            let entry_point_used = limit + high - 40_001;
            println!("v0.8 counts {entry_point_used} gas as the execution's, the estimate {used}");
            entry_point_used.abs_diff(used)
        } else {
            0
        };
        assert!(
            miss < MEASUREMENT_BOUND,
            "{version:?}: the estimate's execution gas is {miss} off"
        );
        // Well below and well above v0.8's threshold, and far above it.
        for extra in [0u128, 10_000, 25_000, 60_000, 150_000, 1_000_000] {
            let actual = charged(&mut world, &op, limit + extra) - at_estimate;
            let expected = predicted(limit + extra) - predicted(limit);
            assert!(
                actual.abs_diff(expected) <= miss / 10 + 1 + PENALTY_BRANCH_GAS,
                "{version:?}: {extra} more call gas: charged {actual} more, the formula says {expected}"
            );
            measured.push((version, extra, actual));
        }
        match version {
            // v0.7: every unused unit costs a tenth; the estimate's own margin too.
            EntryPointVersion::V07 => assert!(estimate.unused_gas_penalty > 0, "{estimate:?}"),
            // v0.8: the estimate's margin is far under 40,000: no penalty.
            _ => assert_eq!(estimate.unused_gas_penalty, 0, "{estimate:?}"),
        }
        println!(
            "{version:?}: estimate callGasLimit {limit}, execution uses {used}, penalty {}, charged {at_estimate}",
            estimate.unused_gas_penalty
        );
    }
    // The EntryPoints differ where the formula says: 10,000 more call gas costs 1,000 on v0.7
    // and nothing on v0.8.
    let cost = |v, e| measured.iter().find(|(mv, me, _)| *mv == v && *me == e).unwrap().2;
    assert_eq!(cost(EntryPointVersion::V07, 10_000), 1_000);
    assert_eq!(cost(EntryPointVersion::V08, 10_000), 0);
    for (version, extra, actual) in &measured {
        println!("{version:?}: +{extra} call gas → +{actual} charged");
    }
}
