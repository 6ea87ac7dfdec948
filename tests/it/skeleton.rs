//! The walking skeleton end to end: EntryPoint v0.7, our account, SmartSession in USE mode,
//! the ECDSA session signer and SudoPolicy, all running in revm.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolError, SolEvent};
use mandate::{
    abi::{
        execute_calls,
        sol::{IERC20, IERC721, ISmartSession},
    },
    sim::BundleOutcome,
};
use mandate_testing::{op::Gas, world::World};

fn world() -> World {
    let mut world = World::counterfactual(Gas::SESSION);
    world.devnet.set_balance(world.ops.account, U256::from(10u128.pow(18)));
    let op = world.owner_op(world.ops.create_account_op(vec![world.ops.session.clone()]));
    let outcome = world.devnet.handle_op(op).unwrap();
    let receipt = outcome.receipt().unwrap_or_else(|| panic!("account creation: {outcome:?}"));
    assert!(receipt.success, "installModule reverted: {:?}", receipt.revert_reason);
    world.fund_tokens(U256::from(1_000u64));
    world
}

fn included(outcome: &BundleOutcome) -> &mandate::sim::OpReceipt {
    let receipt = outcome.receipt().unwrap_or_else(|| panic!("not included: {outcome:?}"));
    assert!(receipt.success, "execution reverted: {:?}", receipt.revert_reason);
    receipt
}

#[test]
fn account_is_created_with_the_session_enabled() {
    let mut world = world();
    assert!(world.devnet.has_code(world.ops.account));
    let smart_session = world.devnet.deployments().chain.smart_session;
    let enabled = world
        .devnet
        .call_sol(
            smart_session,
            &ISmartSession::isPermissionEnabledCall {
                permissionId: world.ops.permission_id.0,
                account: world.ops.account,
            },
        )
        .unwrap();
    assert!(enabled);
    // The contract derives the same permission id as mandate-abi.
    let on_chain = world
        .devnet
        .call_sol(
            smart_session,
            &ISmartSession::getPermissionIdCall { session: world.ops.session.clone() },
        )
        .unwrap();
    assert_eq!(on_chain, world.ops.permission_id.0);
}

#[test]
fn session_key_mints_in_a_single_call() {
    let mut world = world();
    let op = world.use_op(world.ops.permission_id, &[world.ops.mint_call()]);
    let hash = world.devnet.user_op_hash(&op).unwrap();
    let outcome = world.devnet.handle_op(op).unwrap();
    let receipt = included(&outcome);
    assert_eq!(receipt.user_op_hash, hash);
    assert_eq!(receipt.sender, world.ops.account);

    let nft = world.devnet.deployments().test_erc721;
    let owner = world.devnet.call_sol(nft, &IERC721::ownerOfCall { tokenId: U256::ZERO }).unwrap();
    assert_eq!(owner, world.ops.account);
    let minted = receipt.logs.iter().any(|log| {
        log.address == nft && log.topics().first() == Some(&IERC721::Transfer::SIGNATURE_HASH)
    });
    assert!(minted, "the op's logs hold the mint's Transfer event");
}

#[test]
fn session_key_mints_and_transfers_in_a_batch() {
    let mut world = world();
    let recipient = Address::repeat_byte(0x7e);
    let calls = [world.ops.mint_call(), world.ops.transfer_call(recipient, U256::from(250u64))];
    let op = world.use_op(world.ops.permission_id, &calls);
    included(&world.devnet.handle_op(op).unwrap());

    assert_eq!(world.nft_balance(world.ops.account), U256::from(1));
    assert_eq!(world.token_balance(recipient), U256::from(250));
    assert_eq!(world.token_balance(world.ops.account), U256::from(750));
}

#[test]
fn call_outside_the_session_is_rejected_with_no_policies_set() {
    let mut world = world();
    let op = world.use_op(
        world.ops.permission_id,
        &[world.ops.approve_call(Address::repeat_byte(1), U256::from(1))],
    );
    let outcome = world.devnet.handle_op(op).unwrap();
    let rejection = outcome.rejection().unwrap_or_else(|| panic!("included: {outcome:?}"));
    assert_eq!(rejection.code.as_deref(), Some("AA23"));
    assert_eq!(rejection.reason, "AA23 reverted");
    let inner = rejection.inner.as_ref().expect("the validator's revert");
    assert!(inner.is("NoPoliciesSet"), "got {inner}");
    assert_eq!(inner.selector(), Some(ISmartSession::NoPoliciesSet::SELECTOR.into()));
    assert_eq!(inner.args, vec![world.ops.permission_id.0.to_string()]);
    // Nothing was written: the approval did not happen.
    let token = world.devnet.deployments().test_erc20;
    let calldata = IERC20::balanceOfCall { owner: world.ops.account };
    assert_eq!(world.devnet.call_sol(token, &calldata).unwrap(), U256::from(1_000));
}

#[test]
fn signature_by_another_key_fails_validation() {
    let mut world = world();
    let mut op = world.session_base(execute_calls(&[world.ops.mint_call()]));
    world.ops.sign_use(world.ops.permission_id, &PrivateKeySigner::random(), &mut op).unwrap();
    let op = op.pack();
    let outcome = world.devnet.handle_op(op).unwrap();
    let rejection = outcome.rejection().unwrap_or_else(|| panic!("included: {outcome:?}"));
    assert_eq!(rejection.code.as_deref(), Some("AA24"));
    assert_eq!(rejection.reason, "AA24 signature error");
    assert!(rejection.inner.is_none());
    assert_eq!(world.nft_balance(world.ops.account), U256::ZERO);
}

#[test]
fn delegatecall_is_rejected_with_unsupported_call_type() {
    let mut world = world();
    let nft = world.devnet.deployments().test_erc721;
    let mint = IERC721::safeMintCall { to: world.ops.account }.abi_encode();
    let op = world.use_op_data(world.ops.permission_id, world.ops.delegatecall_data(nft, &mint));
    let outcome = world.devnet.handle_op(op).unwrap();
    let rejection = outcome.rejection().unwrap_or_else(|| panic!("included: {outcome:?}"));
    assert_eq!(rejection.code.as_deref(), Some("AA23"));
    let inner = rejection.inner.as_ref().expect("the validator's revert");
    assert!(inner.is("UnsupportedCallType"), "got {inner}");
    assert_eq!(inner.args, vec!["0xff".to_string()]);
}
