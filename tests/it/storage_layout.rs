//! contracts/STORAGE.md's policy formulas and SmartSession's nonce slot, checked against the
//! raw storage the contracts write.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_sol_types::{SolCall, SolValue};
use mandate::abi::{
    ActionId, ParamCondition, PermissionId, Policy, TokenLimit,
    builder::fallback_action,
    sol::{IERC20, ISmartSession},
};
use mandate_testing::{policy_data::*, verdict::*, world::*};

const RECIPIENT: Address = Address::repeat_byte(0x7e);

fn h(words: &[B256]) -> B256 {
    keccak256(words.iter().flat_map(|w| w.0).collect::<Vec<u8>>())
}

fn word(a: Address) -> B256 {
    a.into_word()
}

/// BASE(ID, M, A) = H(enc(A, H(enc(M, H(enc(ID, 0)))))).
fn base(id: B256, m: Address, a: Address) -> U256 {
    let inner = h(&[id, B256::ZERO]);
    U256::from_be_bytes(h(&[word(a), h(&[word(m), inner])]).0)
}

#[test]
fn policy_state_is_where_storage_md_says() {
    let mut w = World::new();
    let d = w.ops.d;
    let call = IERC20::mintCall { to: w.ops.account, amount: U256::from(1_000) };
    w.devnet.transact_sol(mandate::sim::DEPLOYER, d.test_erc20, &call).unwrap();
    let now = w.devnet.timestamp();
    let rules =
        vec![rule(ParamCondition::LessThanOrEqual, 2, U256::from(100)).limited(U256::from(500))];
    let limits = vec![TokenLimit { token: d.test_erc20, limit: U256::from(700) }];
    let selector = IERC20::transferCall::SELECTOR;
    let s = w.session(
        1,
        vec![action(
            d.test_erc20,
            selector,
            vec![
                policy(d.chain.policies.usage_limit, init(Policy::UsageLimit(9))),
                policy(d.chain.policies.uni_action, uni_action(U256::from(3), rules)),
                policy(d.chain.policies.time_frame, time_frame(now + 50, now - 50)),
                policy(
                    d.chain.policies.erc20_spending_limit,
                    init(Policy::Erc20SpendingLimit(limits)),
                ),
            ],
        )],
    );
    let id = w.enable_sessions(vec![s])[0];
    let transfer = IERC20::transferCall { to: RECIPIENT, amount: U256::from(40) }.abi_encode();
    let op = w.use_op(id, &[Call::new(d.test_erc20, transfer)]);
    included(&w.submit(op));

    let config = id.action_config_id(w.ops.account, ActionId::new(d.test_erc20, selector.into())).0;
    let (ss, acct) = (w.ops.smart_session, w.ops.account);

    let usage = w.devnet.storage(d.chain.policies.usage_limit, base(config, ss, acct));
    assert_eq!(usage, (U256::from(1) << 128) | U256::from(9));

    let frame = w.devnet.storage(d.chain.policies.time_frame, base(config, ss, acct));
    assert_eq!(frame, (U256::from(now + 50) << 48) | U256::from(now - 50));

    let b = base(config, ss, acct);
    let uni = &d.chain.policies.uni_action;
    assert_eq!(w.devnet.storage(*uni, b), U256::from(3));
    assert_eq!(w.devnet.storage(*uni, b + U256::from(1)), U256::from(1));
    let rule0 = w.devnet.storage(*uni, b + U256::from(2));
    assert_eq!(
        rule0,
        U256::from(ParamCondition::LessThanOrEqual as u8)
            | (U256::from(32) << 8)
            | (U256::from(1) << 72)
    );
    assert_eq!(w.devnet.storage(*uni, b + U256::from(3)), U256::from(100));
    assert_eq!(w.devnet.storage(*uni, b + U256::from(4)), U256::from(500));
    assert_eq!(w.devnet.storage(*uni, b + U256::from(5)), U256::from(40));

    let sl = d.chain.policies.erc20_spending_limit;
    let inner = h(&[word(ss), h(&[config, B256::ZERO])]);
    let token_base = U256::from_be_bytes(h(&[word(acct), h(&[word(d.test_erc20), inner])]).0);
    assert_eq!(w.devnet.storage(sl, token_base), U256::from(40));
    assert_eq!(w.devnet.storage(sl, token_base + U256::from(1)), U256::ZERO);
    assert_eq!(w.devnet.storage(sl, token_base + U256::from(2)), U256::from(700));
    // The token set: count at S(A, setId), member 0 right after.
    let set_id = keccak256((config, ss).abi_encode());
    let root = U256::from_be_bytes(h(&[word(acct), set_id]).0);
    assert_eq!(w.devnet.storage(sl, root), U256::from(1));
    assert_eq!(
        w.devnet.storage(sl, root + U256::from(1)),
        U256::from_be_slice(d.test_erc20.as_slice())
    );
}

#[test]
fn enable_nonce_is_where_storage_md_says() {
    let mut w = World::new();
    let s = w.session(1, vec![fallback_action(vec![policy(w.ops.d.chain.policies.sudo, vec![])])]);
    let id: PermissionId = PermissionId::of(&s);
    let call = ISmartSession::revokeEnableSignatureCall { permissionId: id.0 };
    w.owner_exec(&[w.smart_session_call(call.clone()), w.smart_session_call(call)]);
    // S(A, KEY(8, P, 0)) with KEY(tag, P, x) = H(enc(tag, P, x)).
    let key = h(&[B256::with_last_byte(8), id.0, B256::ZERO]);
    let slot = U256::from_be_bytes(h(&[word(w.ops.account), key]).0);
    assert_eq!(w.devnet.storage(w.ops.smart_session, slot), U256::from(2));
    assert_eq!(w.enable_nonce(id), U256::from(2));
}
