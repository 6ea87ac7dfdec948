//! Fork mode against a real node: anvil (from npm, started on 127.0.0.1 by the harness) with
//! Mandate's contracts; the simulator forks it at the latest block, and each pre-flight verdict
//! must equal what the node itself says when it runs the same `handleOps` (`eth_call` from a
//! funded account). Then the same on what real chains hold: upstream's runtimes at the
//! canonical addresses and a Nexus account granted a session through Alto. A cold check of a
//! USE op takes at most two round trips after connecting (one), a warm one none.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes, U256, aliases::U192};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolInterface};
use mandate::{
    abi::{
        Call, Deployments, Erc20Action, Erc20Function, PackedUserOperation, PermissionId,
        SessionBuilder, SessionValidators, UserOperation, encode_use, execute_calls,
        sol::{IERC20, IEntryPoint, IEntryPoint::IEntryPointErrors},
    },
    client::{Account, AccountFamily, Nexus, SessionClient, SessionKey},
    sim::{BUNDLER, Devnet, ForkOptions, Preflight},
};
use mandate_testing::node::{Harness, Node};

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
    let mut fork = Devnet::fork_with(&harness.node_url, None, d.chain, &in_memory()).unwrap();
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
    // With the basic methods only (no eth_getProof, access list or prestate trace): the same
    // verdicts, in more round trips.
    let basic = in_memory().with_basic_methods_only();
    for (name, op) in &cases[..3] {
        let mut fork = Devnet::fork_with(&harness.node_url, None, d.chain, &basic).unwrap();
        let verdict = fork.check(op).unwrap();
        eprintln!("{name}, basic methods: {} round trips", verdict.round_trips());
        same(&verdict, &rt.block_on(node_verdict(&harness.node, op)));
        assert!(verdict.round_trips() >= 2, "{name}: {}", verdict.round_trips());
        assert_eq!(fork.check(op).unwrap().round_trips(), 0, "{name}: warm");
    }

    // With the basic methods only and read hints: what a check of this sender read is asked
    // for in the next check's first batch, on a fork of a later block too.
    let without: Vec<u32> = cases[..3]
        .iter()
        .map(|(_, op)| {
            let mut fork = Devnet::fork_with(&harness.node_url, None, d.chain, &basic).unwrap();
            fork.check(op).unwrap().round_trips()
        })
        .collect();
    let hinted = ForkOptions::default().with_code_cache(None).with_basic_methods_only();
    for (_, op) in &cases[..3] {
        let mut fork = Devnet::fork_with(&harness.node_url, None, d.chain, &hinted).unwrap();
        fork.check(op).unwrap();
    }
    rt.block_on(harness.node.mine());
    for ((name, op), without) in cases[..3].iter().zip(without) {
        let mut fork = Devnet::fork_with(&harness.node_url, None, d.chain, &hinted).unwrap();
        let verdict = fork.check(op).unwrap();
        eprintln!(
            "{name}, basic methods, read hints, a later block: {} round trips ({without} without)",
            verdict.round_trips()
        );
        same(&verdict, &rt.block_on(node_verdict(&harness.node, op)));
        assert!(verdict.round_trips() < without, "{name}: {} ≥ {without}", verdict.round_trips());
    }

    // The over-transfer validates but its execution reverts: told apart.
    assert!(!fork.check(&cases[4].1).unwrap().is_success());
    assert!(fork.check(&cases[0].1).unwrap().is_success());

    // On the same node: what real chains hold.
    canonical_nexus(&rt, &harness);
}

/// A Nexus account with a session on upstream's SmartSession and policies at the canonical
/// addresses (Mandate's ECDSA session validator beside them), granted through Alto; USE ops
/// checked on cold forks.
fn canonical_nexus(rt: &tokio::runtime::Runtime, harness: &Harness) {
    let d = harness.deployments;
    let canonical =
        rt.block_on(harness.node.place_canonical(&mandate_testing::upstream::runtimes()));
    let deployments = Deployments {
        session_validators: SessionValidators {
            ecdsa: d.chain.session_validators.ecdsa,
            ..canonical.session_validators
        },
        paymaster: d.chain.paymaster,
        ..canonical
    };
    let family: Arc<dyn AccountFamily> = Arc::new(Nexus::devnet(&d));
    let client = rt
        .block_on(SessionClient::connect(&harness.node_url, &harness.bundler_url, deployments))
        .unwrap()
        .with_family(Arc::clone(&family));
    let (owner, key, shop) =
        (PrivateKeySigner::random(), SessionKey::random(), Address::repeat_byte(0x5c));
    let transfer = Erc20Action::new(Erc20Function::Transfer, d.test_erc20)
        .recipient(shop)
        .amount_limit_per_action(U256::from(10))
        .max_amount_limit(U256::from(100))
        .build(&deployments.policies, 0)
        .unwrap();
    let session = SessionBuilder::new(d.ecdsa_session_validator().unwrap(), key.address().to_vec())
        .action(transfer)
        .salt(B256::repeat_byte(9))
        .build()
        .unwrap();
    let account = Account::new(owner.address());
    let address = rt.block_on(client.account_address(&account)).unwrap();
    rt.block_on(harness.node.set_balance(address, U256::from(10u128.pow(18))));
    let mint = Call::new(
        d.test_erc20,
        IERC20::mintCall { to: address, amount: U256::from(1000) }.abi_encode(),
    );
    let granted = rt
        .block_on(client.grant(&owner, &account, std::slice::from_ref(&session), &[mint]))
        .unwrap();
    assert!(granted.deployed && granted.installed && granted.sent.unwrap().receipt.success);

    let nonce_key = family.validator_nonce_key(deployments.smart_session, 0).unwrap();
    let nonce = rt.block_on(harness.node.call(
        deployments.entry_point,
        &IEntryPoint::getNonceCall { sender: address, key: U192::from(nonce_key) },
    ));
    let permission_id = PermissionId::of(&session);
    let use_op = |amount: u64, signer: &SessionKey| {
        let pay = Call::new(
            d.test_erc20,
            IERC20::transferCall { to: shop, amount: U256::from(amount) }.abi_encode(),
        );
        let mut op = UserOperation {
            sender: address,
            nonce,
            call_data: execute_calls(&[pay]),
            call_gas_limit: 500_000,
            verification_gas_limit: 2_000_000,
            pre_verification_gas: U256::from(100_000),
            max_fee_per_gas: 10_000_000_000,
            max_priority_fee_per_gas: 1,
            ..Default::default()
        };
        let hash = op.hash(deployments.entry_point, harness.chain_id);
        let signature = signer.sign_hash_personal(hash).unwrap().as_bytes();
        op.signature = encode_use(permission_id, &signature);
        op.pack()
    };
    let cases = [
        ("pay 7", use_op(7, &key), true),
        ("pay 11, over the per-call limit", use_op(11, &key), false),
        ("pay 7 signed by another key", use_op(7, &SessionKey::random()), false),
    ];
    for (name, op, accepted) in &cases {
        // A fork of its own for each: every check is cold.
        let mut fork =
            Devnet::fork_with(&harness.node_url, None, deployments, &in_memory()).unwrap();
        let verdict = fork.check(op).unwrap();
        let node = rt.block_on(node_verdict(&harness.node, op));
        eprintln!(
            "Nexus on canonical, {name}: fork {verdict} in {} round trips",
            verdict.round_trips()
        );
        same(&verdict, &node);
        assert_eq!(verdict.is_success(), *accepted, "{name}: {verdict}");
        assert!(verdict.round_trips() <= 2, "{name}: {} round trips", verdict.round_trips());
        assert_eq!(fork.check(op).unwrap().round_trips(), 0, "{name}: warm");
        assert_eq!(fork.round_trips(), 1 + verdict.round_trips());
    }
}

/// Fork options without the on-disk code cache and without read hints: a check here is cold
/// whatever earlier runs cached (a cached hint for code that has changed since would cost a
/// round trip).
fn in_memory() -> ForkOptions {
    ForkOptions::default().with_code_cache(None).without_read_hints()
}
