//! The in-process bundler over the embedded devnet, through the same [`Bundler`] trait as the
//! JSON-RPC client: the owner's first op, a single and a batch session call with real
//! receipts, and an op outside the session rejected with the EntryPoint's AA code.

use std::time::Duration;

use alloy_primitives::{Address, U256};
use alloy_signer_local::PrivateKeySigner;
use mandate::{
    abi::{ENTRY_POINT_V07, UserOperation, execute_calls, sol::IERC20},
    bundler::{Bundler, BundlerError, RpcErrorKind, UserOperationReceipt, WaitOptions},
    client::devnet_bundler::DevnetBundler,
    sim::{DEPLOYER, Devnet},
};
use mandate_testing::{op::Gas, session::SessionOps};

async fn send_and_wait(bundler: &impl Bundler, op: &UserOperation) -> UserOperationReceipt {
    let hash = bundler.send_user_operation(op, ENTRY_POINT_V07).await.expect("sent");
    let options = WaitOptions::with_timeout(Duration::from_secs(5));
    bundler.wait_for_receipt(hash, &options).await.expect("receipt")
}

#[tokio::test]
async fn session_ops_through_the_devnet_bundler() {
    let mut devnet = Devnet::new().expect("devnet");
    let ops = SessionOps::new(
        *devnet.deployments(),
        devnet.chain_id(),
        PrivateKeySigner::random(),
        PrivateKeySigner::random(),
        Gas::SESSION,
    );
    let (factory, query) = ops.account_query();
    let ops = ops.with_account(devnet.call_sol(factory, &query).expect("address"));
    devnet.set_balance(ops.account, U256::from(10u128.pow(18)));
    let bundler = DevnetBundler::new(devnet);
    assert_eq!(
        bundler.supported_entry_points().await.expect("entry points"),
        vec![ENTRY_POINT_V07]
    );
    let chain_id = Bundler::chain_id(&bundler).await.expect("chain id");

    let mut op = ops.create_account_op(vec![ops.session.clone()]);
    bundler
        .estimate_user_operation_gas(&op, ENTRY_POINT_V07)
        .await
        .expect("estimate")
        .apply_to(&mut op);
    ops.sign_owner(&mut op).expect("sign");
    let receipt = send_and_wait(&bundler, &op).await;
    assert!(receipt.success);
    assert_eq!(receipt.user_op_hash, op.hash(ENTRY_POINT_V07, chain_id));
    assert_eq!(receipt.sender, ops.account);
    assert!(receipt.actual_gas_used > U256::ZERO && !receipt.logs.is_empty());

    // Sending the same op again: the bundler already knows it.
    let again = bundler.send_user_operation(&op, ENTRY_POINT_V07).await.expect_err("known");
    assert_eq!(again.rpc().map(|f| f.kind), Some(RpcErrorKind::InvalidParams));

    let token = ops.d.test_erc20;
    let account = ops.account;
    bundler
        .with_devnet(|d| {
            d.transact_sol(
                DEPLOYER,
                token,
                &IERC20::mintCall { to: account, amount: U256::from(500u64) },
            )
        })
        .expect("lock")
        .expect("mint");
    let nonce = |bundler: &DevnetBundler| {
        bundler
            .with_devnet(|d| d.entry_point_nonce(account, ops.session_nonce_key()))
            .expect("lock")
            .expect("nonce")
    };

    let mut op = ops.base_op(nonce(&bundler), execute_calls(&[ops.mint_call()]));
    ops.sign_use(ops.permission_id, &ops.key, &mut op).expect("sign");
    assert!(send_and_wait(&bundler, &op).await.success);

    let recipient = Address::repeat_byte(0x7e);
    let calls = [ops.mint_call(), ops.transfer_call(recipient, U256::from(200u64))];
    let mut op = ops.base_op(nonce(&bundler), execute_calls(&calls));
    ops.sign_use(ops.permission_id, &ops.key, &mut op).expect("sign");
    let receipt = send_and_wait(&bundler, &op).await;
    assert!(receipt.success);
    assert_eq!(receipt.receipt.block_number, Some(3));
    let held = bundler
        .with_devnet(|d| d.call_sol(token, &IERC20::balanceOfCall { owner: recipient }))
        .expect("lock")
        .expect("balance");
    assert_eq!(held, U256::from(200u64));

    let mut op = ops
        .base_op(nonce(&bundler), execute_calls(&[ops.approve_call(recipient, U256::from(1u64))]));
    ops.sign_use(ops.permission_id, &ops.key, &mut op).expect("sign");
    let error =
        bundler.send_user_operation(&op, ENTRY_POINT_V07).await.expect_err("outside the session");
    assert!(
        matches!(&error, BundlerError::Rpc(f) if f.kind == RpcErrorKind::RejectedByEntryPoint),
        "{error}"
    );
    assert_eq!(error.aa_code(), Some("AA23"), "{error}");
    assert!(error.to_string().contains("NoPoliciesSet"), "{error}");
    let missing =
        bundler.get_user_operation_receipt(op.hash(ENTRY_POINT_V07, chain_id)).await.expect("call");
    assert!(missing.is_none());
}
