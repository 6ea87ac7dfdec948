//! Fork mode against a real node: anvil (from npm, started on 127.0.0.1 by the harness) with
//! Mandate's contracts; the simulator forks it at the latest block, and each pre-flight verdict
//! must equal what the node itself says when it runs the same `handleOps` (`eth_call` from a
//! funded account).

#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, Bytes, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolInterface};
use mandate::{
    abi::{
        PackedUserOperation, execute_calls,
        sol::{IEntryPoint, IEntryPoint::IEntryPointErrors},
    },
    sim::{BUNDLER, Devnet, Preflight},
};
use mandate_testing::node::Node;

/// The node's answer to `handleOps([op])`: Ok, or the revert data.
async fn node_verdict(node: &Node, op: &PackedUserOperation) -> Result<(), Bytes> {
    let data: Bytes = IEntryPoint::handleOpsCall { ops: vec![op.clone()], beneficiary: BUNDLER }
        .abi_encode()
        .into();
    node.call_from_deployer(mandate::abi::ENTRY_POINT_V07, data).await.map(|_| ())
}

fn same(verdict: &Preflight, node: &Result<(), Bytes>) {
    match (verdict, node) {
        (Preflight::Accepted(_), Ok(())) => {}
        (Preflight::Rejected(r), Err(data)) => match IEntryPointErrors::abi_decode(data).unwrap() {
            IEntryPointErrors::FailedOp(e) => {
                assert_eq!(r.rejection.reason, e.reason);
                assert!(r.rejection.inner.is_none());
            }
            IEntryPointErrors::FailedOpWithRevert(e) => {
                assert_eq!(r.rejection.reason, e.reason);
                assert_eq!(r.rejection.inner.as_ref().unwrap().data, e.inner);
            }
            other => panic!("node reverted with {other:?}"),
        },
        (verdict, node) => panic!("fork says {verdict}, node says {node:?}"),
    }
}

#[test]
fn fork_verdicts_equal_the_nodes() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let harness = rt.block_on(mandate_testing::node::Harness::start());
    let d = harness.deployments;
    let (ops, nonce) = mandate_testing::fork::session_account(&rt, &harness);
    let op = |calls: &[mandate::abi::Call], signer: Option<&PrivateKeySigner>| {
        let mut op = ops.base_op(nonce, execute_calls(calls));
        match signer {
            Some(other) => ops.sign_use(ops.permission_id, other, &mut op).unwrap(),
            None => ops.sign_use(ops.permission_id, &ops.key, &mut op).unwrap(),
        }
        op.pack()
    };
    let stranger = PrivateKeySigner::random();
    let cases = [
        ("mint", op(&[ops.mint_call()], None)),
        (
            "mint and transfer",
            op(&[ops.mint_call(), ops.transfer_call(Address::repeat_byte(7), U256::from(5))], None),
        ),
        (
            "approve outside the session",
            op(&[ops.approve_call(Address::repeat_byte(7), U256::from(1))], None),
        ),
        ("another key", op(&[ops.mint_call()], Some(&stranger))),
        (
            "transfer more than held",
            op(&[ops.transfer_call(Address::repeat_byte(7), U256::from(5_000))], None),
        ),
    ];

    // Sync code: the fork reads the node on a runtime of its own.
    let mut fork = Devnet::fork(&harness.node_url, None, d.chain).unwrap();
    assert_eq!(fork.chain_id(), harness.chain_id);
    assert_eq!(fork.round_trips(), 1, "connecting is one batch");
    let mut accepted = 0;
    for (i, (name, op)) in cases.iter().enumerate() {
        let verdict = fork.check(op).unwrap();
        let node = rt.block_on(node_verdict(&harness.node, op));
        eprintln!(
            "{name}: fork {verdict} in {} round trips; node {}",
            verdict.round_trips(),
            if node.is_ok() { "ok" } else { "reverts" }
        );
        same(&verdict, &node);
        accepted += usize::from(verdict.accepted().is_some());
        if i == 0 {
            // Cold: the batch of what was missed, what is known and the access list, then
            // what the access list and the second run named.
            assert!(verdict.round_trips() <= 2, "{} round trips", verdict.round_trips());
            assert_eq!(fork.check(op).unwrap().round_trips(), 0, "warm");
        }
    }
    assert_eq!(accepted, 3, "mint, batch and the over-transfer validate; two do not");
    // The over-transfer validates but its execution reverts: told apart.
    assert!(!fork.check(&cases[4].1).unwrap().is_success());
    assert!(fork.check(&cases[0].1).unwrap().is_success());
}
