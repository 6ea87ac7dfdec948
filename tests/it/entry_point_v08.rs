//! The EntryPoint v0.8 on the devnet against mandate_abi's hash: for random user ops, the
//! real contract's `getUserOpHash` is `PackedUserOperation::hash_for(V08, …)`, with and without
//! the `0x7702` initCode marker (the sender an EOA delegated by an EIP-7702 designator).

use std::cell::RefCell;

use mandate::{
    abi::{
        ENTRY_POINT_V07, ENTRY_POINT_V08, EntryPointVersion, UserOpHashError,
        alloy_primitives::{Address, B256, Bytes, U256},
        sol::{IEntryPoint, PackedUserOperation},
    },
    sim::{Devnet, SimError},
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
