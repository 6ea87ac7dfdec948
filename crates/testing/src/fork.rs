//! A session account on a real node (anvil, from the end-to-end harness): shared by the fork
//! test and the pre-flight bench.

use alloy_primitives::{U256, aliases::U192};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate_abi::{
    UserOperation,
    sol::{IERC20, IEntryPoint},
    validator_nonce_key,
};
use mandate_sim::BUNDLER;
use serde_json::{Value, json};
use tokio::runtime::Runtime;

use crate::{node::Harness, op::Gas, session::SessionOps};

/// Deploys an account with the demo session on the harness's node (funded, with 1,000 test
/// tokens) and returns its ops builder and its session nonce.
pub fn session_account(rt: &Runtime, harness: &Harness) -> (SessionOps, U256) {
    let d = harness.deployments;
    let ops = SessionOps::new(
        d,
        harness.chain_id,
        PrivateKeySigner::random(),
        PrivateKeySigner::random(),
        Gas::SESSION,
    );
    let (factory, query) = ops.account_query();
    let ops = ops.with_account(rt.block_on(harness.node.call(factory, &query)));
    rt.block_on(async {
        harness.node.set_balance(ops.account, U256::from(10u128.pow(18))).await;
        let mut create = ops.create_account_op(vec![ops.session.clone()]);
        ops.sign_owner(&mut create).expect("signs");
        let data = IEntryPoint::handleOpsCall { ops: vec![create.pack()], beneficiary: BUNDLER }
            .abi_encode();
        harness.node.transact(Some(d.chain.entry_point), U256::ZERO, data.into()).await;
        let mint = IERC20::mintCall { to: ops.account, amount: U256::from(1_000) }.abi_encode();
        harness.node.transact(Some(d.test_erc20), U256::ZERO, mint.into()).await;
    });
    let key = U192::from(validator_nonce_key(d.chain.smart_session, 0));
    let nonce = rt.block_on(
        harness
            .node
            .call(d.chain.entry_point, &IEntryPoint::getNonceCall { sender: ops.account, key }),
    );
    (ops, nonce)
}

/// A user operation as ERC-4337 v0.7 JSON-RPC writes it (hex quantities).
pub fn rpc_json(op: &UserOperation) -> Value {
    let q = |v: u128| format!("{v:#x}");
    let mut out = json!({
        "sender": op.sender,
        "nonce": format!("{:#x}", op.nonce),
        "callData": op.call_data,
        "callGasLimit": q(op.call_gas_limit),
        "verificationGasLimit": q(op.verification_gas_limit),
        "preVerificationGas": format!("{:#x}", op.pre_verification_gas),
        "maxFeePerGas": q(op.max_fee_per_gas),
        "maxPriorityFeePerGas": q(op.max_priority_fee_per_gas),
        "signature": op.signature,
    });
    if let Some(factory) = op.factory {
        out["factory"] = json!(factory);
        out["factoryData"] = json!(op.factory_data);
    }
    if let Some(paymaster) = op.paymaster {
        out["paymaster"] = json!(paymaster);
        out["paymasterVerificationGasLimit"] = json!(q(op.paymaster_verification_gas_limit));
        out["paymasterPostOpGasLimit"] = json!(q(op.paymaster_post_op_gas_limit));
        out["paymasterData"] = json!(op.paymaster_data);
    }
    out
}
