//! End to end against real components: anvil and the Alto bundler from the pinned npm
//! packages in `e2e/` (installed by the harness if missing), the real EntryPoint v0.7 at its
//! canonical address and Mandate's contracts. An owner deploys an account through the factory
//! in its first op, which installs SmartSession with a session; the session key uses it for a
//! single and a batch call; a session op is sponsored by the VerifyingPaymaster; an op outside
//! the session comes back as the bundler's typed AA error. Round-trip latencies (send →
//! receipt) and the harness's start time are printed (`-- --nocapture`).

use std::time::{Duration, Instant};

use alloy_primitives::{Address, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolValue};
use mandate::{
    abi::{
        ENTRY_POINT_V07, SessionValidatorKind, UserOperation, execute_calls,
        sol::{IERC20, IERC721, IEntryPoint, IVerifyingPaymaster},
    },
    bundler::{
        AccountOverride, Bundler, BundlerClient, RpcErrorKind, StateOverride, UserOperationReceipt,
        WaitOptions,
    },
    sim::PAYMASTER_SIGNER_KEY,
};
use mandate_testing::node::Harness;
use mandate_testing::{op::Gas, session::SessionOps};

/// Polls every 20-100 ms, so that the measured latency is close to the bundler's.
fn receipt_wait() -> WaitOptions {
    WaitOptions {
        timeout: Duration::from_secs(60),
        initial_interval: Duration::from_millis(20),
        max_interval: Duration::from_millis(100),
        cancel: None,
    }
}

/// A send and the wait for its receipt, timed.
async fn submit(
    bundler: &BundlerClient,
    op: &UserOperation,
    latencies: &mut Vec<(String, Duration)>,
    what: &str,
) -> UserOperationReceipt {
    let started = Instant::now();
    let hash = bundler.send_user_operation(op, ENTRY_POINT_V07).await.expect(what);
    let receipt = bundler.wait_for_receipt(hash, &receipt_wait()).await.expect(what);
    latencies.push((what.to_string(), started.elapsed()));
    assert_eq!(receipt.user_op_hash, hash);
    assert!(receipt.success, "{what}: execution failed: {:?}", receipt.reason);
    receipt
}

/// Fees from the bundler, limits from its estimate. While estimating, the op carries a
/// well-formed signature: the owner's validator takes a dummy one; SmartSession reverts on a
/// session signature that does not verify, so session ops are signed with the session key
/// for the op as it is before the estimate (and signed again after).
async fn priced_and_estimated(
    bundler: &BundlerClient,
    op: &mut UserOperation,
    sign_for_estimate: impl Fn(&mut UserOperation),
) {
    let prices = bundler.user_operation_gas_price().await.expect("gas price");
    op.max_fee_per_gas = prices.fast.max_fee_per_gas.to();
    op.max_priority_fee_per_gas = prices.fast.max_priority_fee_per_gas.to();
    sign_for_estimate(op);
    let estimate =
        Bundler::estimate_user_operation_gas(bundler, op, ENTRY_POINT_V07).await.expect("estimate");
    estimate.apply_to(op);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_through_alto_on_anvil() {
    let harness = Harness::start().await;
    eprintln!(
        "harness up in {:?} (anvil + contracts in {:?}, then Alto)",
        harness.started_in, harness.deployed_in
    );
    let node = &harness.node;
    let d = harness.deployments;
    let bundler = BundlerClient::new(&harness.bundler_url).expect("url");
    assert_eq!(bundler.chain_id().await.expect("chain id"), harness.chain_id);
    assert!(
        bundler.supported_entry_points().await.expect("entry points").contains(&ENTRY_POINT_V07)
    );

    let ops = SessionOps::new(
        d,
        harness.chain_id,
        PrivateKeySigner::random(),
        PrivateKeySigner::random(),
        Gas::SESSION,
    )
    .permit_paymaster();
    let (factory, query) = ops.account_query();
    let account = node.call(factory, &query).await;
    let ops = ops.with_account(account);
    let mut latencies = Vec::new();

    // 0. Estimating with a state override: the unfunded account cannot pay its prefund, and
    //    with a balance override it can.
    let mut op = ops.create_account_op(vec![ops.session.clone()]);
    op.signature = SessionValidatorKind::Ecdsa.dummy_signature();
    let unfunded = bundler.estimate_user_operation_gas(&op, ENTRY_POINT_V07, None).await;
    let unfunded = unfunded.expect_err("no prefund");
    assert_eq!(unfunded.rpc().map(|f| f.kind), Some(RpcErrorKind::RejectedByEntryPoint));
    assert_eq!(unfunded.aa_code(), Some("AA21"), "{unfunded}");
    let overrides = StateOverride::from([(
        account,
        AccountOverride { balance: Some(U256::from(10u128.pow(18))), ..Default::default() },
    )]);
    let estimate = bundler
        .estimate_user_operation_gas(&op, ENTRY_POINT_V07, Some(&overrides))
        .await
        .expect("estimate with a balance override");
    assert!(estimate.verification_gas_limit > U256::ZERO);
    node.set_balance(account, U256::from(10u128.pow(18))).await;

    // 1. The owner's first op deploys the account and installs SmartSession with the session.
    let mut op = ops.create_account_op(vec![ops.session.clone()]);
    priced_and_estimated(&bundler, &mut op, |op| {
        op.signature = SessionValidatorKind::Ecdsa.dummy_signature()
    })
    .await;
    ops.sign_owner(&mut op).expect("sign");
    let receipt = submit(&bundler, &op, &mut latencies, "deploy account + enable session").await;
    assert_eq!(receipt.sender, account);
    let code = node.code(account).await;
    assert!(!code.is_empty(), "the account exists");
    node.transact(
        Some(d.test_erc20),
        U256::ZERO,
        IERC20::mintCall { to: account, amount: U256::from(1_000u64) }.abi_encode().into(),
    )
    .await;

    let session_signed =
        |op: &mut UserOperation| ops.sign_use(ops.permission_id, &ops.key, op).expect("sign");
    let nonce_key = alloy_primitives::aliases::U192::from(ops.session_nonce_key());
    let next_nonce = || async {
        node.call(ENTRY_POINT_V07, &IEntryPoint::getNonceCall { sender: account, key: nonce_key })
            .await
    };

    // 2. A single call with the session key.
    let mut op = ops.base_op(next_nonce().await, execute_calls(&[ops.mint_call()]));
    priced_and_estimated(&bundler, &mut op, session_signed).await;
    ops.sign_use(ops.permission_id, &ops.key, &mut op).expect("sign");
    submit(&bundler, &op, &mut latencies, "session: single call (mint)").await;
    let nfts = node.call(d.test_erc721, &IERC721::balanceOfCall { owner: account }).await;
    assert_eq!(nfts, U256::from(1));

    // 3. A batch with the session key.
    let recipient = Address::repeat_byte(0x7e);
    let calls = [ops.mint_call(), ops.transfer_call(recipient, U256::from(250u64))];
    let mut op = ops.base_op(next_nonce().await, execute_calls(&calls));
    priced_and_estimated(&bundler, &mut op, session_signed).await;
    ops.sign_use(ops.permission_id, &ops.key, &mut op).expect("sign");
    let receipt = submit(&bundler, &op, &mut latencies, "session: batch (mint + transfer)").await;
    assert!(receipt.logs.len() >= 2, "the batch's logs are in the receipt");
    assert_eq!(
        node.call(d.test_erc721, &IERC721::balanceOfCall { owner: account }).await,
        U256::from(2)
    );
    assert_eq!(
        node.call(d.test_erc20, &IERC20::balanceOfCall { owner: recipient }).await,
        U256::from(250)
    );

    // 4. A session op sponsored by the VerifyingPaymaster: its signer signs getHash.
    let paymaster_signer = PrivateKeySigner::from_bytes(&PAYMASTER_SIGNER_KEY).expect("key");
    let validity = (alloy_primitives::aliases::U48::ZERO, alloy_primitives::aliases::U48::ZERO);
    let stub_signature =
        PrivateKeySigner::random().sign_message_sync(b"stub").expect("sign").as_bytes();
    let mut op = ops.base_op(next_nonce().await, execute_calls(&[ops.mint_call()]));
    op.paymaster = Some(d.chain.paymaster.expect("the devnet's paymaster"));
    op.paymaster_data = [validity.abi_encode_params(), stub_signature.to_vec()].concat().into();
    priced_and_estimated(&bundler, &mut op, session_signed).await;
    let packed = op.pack();
    let to_sign = node
        .call(
            d.chain.paymaster.expect("the devnet's paymaster"),
            &IVerifyingPaymaster::getHashCall {
                userOp: packed,
                validUntil: validity.0,
                validAfter: validity.1,
            },
        )
        .await;
    let sponsor_signature = paymaster_signer.sign_message_sync(to_sign.as_slice()).expect("sign");
    op.paymaster_data =
        [validity.abi_encode_params(), sponsor_signature.as_bytes().to_vec()].concat().into();
    ops.sign_use(ops.permission_id, &ops.key, &mut op).expect("sign");
    let balance_before = node.balance(account).await;
    let deposit_before = node
        .call(
            ENTRY_POINT_V07,
            &IEntryPoint::balanceOfCall {
                account: d.chain.paymaster.expect("the devnet's paymaster"),
            },
        )
        .await;
    let receipt =
        submit(&bundler, &op, &mut latencies, "session: sponsored by VerifyingPaymaster").await;
    assert_eq!(receipt.paymaster, Some(d.chain.paymaster.expect("the devnet's paymaster")));
    let balance_after = node.balance(account).await;
    let deposit_after = node
        .call(
            ENTRY_POINT_V07,
            &IEntryPoint::balanceOfCall {
                account: d.chain.paymaster.expect("the devnet's paymaster"),
            },
        )
        .await;
    assert_eq!(balance_after, balance_before, "the account paid nothing");
    assert_eq!(deposit_before - deposit_after, receipt.actual_gas_cost, "the paymaster paid");

    // 5. An op outside the session: the bundler's rejection as a typed error with its AA code.
    let approve = ops.approve_call(recipient, U256::from(1u64));
    let mut op = ops.base_op(next_nonce().await, execute_calls(&[approve]));
    let prices = bundler.user_operation_gas_price().await.expect("gas price");
    op.max_fee_per_gas = prices.fast.max_fee_per_gas.to();
    op.max_priority_fee_per_gas = prices.fast.max_priority_fee_per_gas.to();
    ops.sign_use(ops.permission_id, &ops.key, &mut op).expect("sign");
    let error = bundler.send_user_operation(&op, ENTRY_POINT_V07).await.expect_err("rejected");
    eprintln!("op outside the session: {error}");
    let failure = error.rpc().expect("a JSON-RPC error from the bundler");
    assert_eq!(failure.kind, RpcErrorKind::RejectedByEntryPoint, "{error}");
    assert_eq!(error.aa_code(), Some("AA23"), "{error}");
    assert!(!error.is_retryable());
    let unknown: Option<UserOperationReceipt> = bundler
        .get_user_operation_receipt(op.hash(ENTRY_POINT_V07, harness.chain_id))
        .await
        .expect("receipt call");
    assert!(unknown.is_none());

    // The bundle transaction Alto reported is anvil's: same block, the EntryPoint called.
    let tx = node.receipt(receipt.receipt.transaction_hash).await.expect("the bundle's receipt");
    assert!(tx.status());
    let block = tx.block_number.expect("block number");
    assert_eq!(Some(block), receipt.receipt.block_number);
    let to = tx.to.expect("to");
    assert_eq!(to, ENTRY_POINT_V07);

    for (what, latency) in &latencies {
        eprintln!("send -> receipt {latency:>10.1?}  {what}");
    }
}
