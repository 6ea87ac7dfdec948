//! The standard policies through SmartSession in revm: for each, ops that pass and ops that
//! fail for each distinct reason, with the exact decoded error. Every test runs on each account
//! family in turn ([`on_every_family`]), SmartSession's refusals as the family reports them
//! ([`World::submit_rejected`]: Safe7579 turns them into its `ExecutionFailed()`).

#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, B256, Bytes, U256, aliases::U48, keccak256};
use alloy_sol_types::{SolCall, SolEvent, SolValue};
use mandate::abi::AccountType;
use mandate::abi::{
    ActionId, CallType, ExecType, ParamCondition, ParamRule, PermissionId, Policy, TokenLimit,
    builder::fallback_action,
    encode_delegatecall, execute_calldata, mode_code,
    sol::{IERC20, IERC721, ISmartSession},
};
use mandate_testing::{policy_data::*, verdict::*, world::*};

const RECIPIENT: Address = Address::repeat_byte(0x7e);
const VALUE_SELECTOR: [u8; 4] = mandate::abi::ids::VALUE_SELECTOR.0;

fn transfer(w: &World, to: Address, amount: u64) -> Call {
    Call::new(
        w.ops.d.test_erc20,
        IERC20::transferCall { to, amount: U256::from(amount) }.abi_encode(),
    )
}

fn approve(w: &World, spender: Address, amount: u64) -> Call {
    let data = IERC20::approveCall { spender, amount: U256::from(amount) }.abi_encode();
    Call::new(w.ops.d.test_erc20, data)
}

/// A safe mint to [`RECIPIENT`], an EOA: Nexus 1.0.x has no `onERC721Received`, so a safe mint
/// to the account itself reverts in execution there (these tests are about validation).
fn mint_nft(w: &World) -> Call {
    Call::new(w.ops.d.test_erc721, IERC721::safeMintCall { to: RECIPIENT }.abi_encode())
}

fn fund(w: &mut World, amount: u64) {
    let (token, account) = (w.ops.d.test_erc20, w.ops.account);
    let call = IERC20::mintCall { to: account, amount: U256::from(amount) };
    w.devnet.transact_sol(mandate::sim::DEPLOYER, token, &call).unwrap();
}

fn balance(w: &mut World, who: Address) -> U256 {
    w.devnet.call_sol(w.ops.d.test_erc20, &IERC20::balanceOfCall { owner: who }).unwrap()
}

fn transfer_selector() -> [u8; 4] {
    IERC20::transferCall::SELECTOR
}

/// A world with 1000 tokens and one session whose only action is `transfer` on the test
/// ERC-20 under `policies`.
fn transfer_session(
    family: AccountType,
    policies: Vec<mandate::abi::PolicyData>,
) -> (World, PermissionId) {
    let mut w = World::with_family(family);
    fund(&mut w, 1_000);
    let token = w.ops.d.test_erc20;
    let s = w.session(1, vec![action(token, transfer_selector(), policies)]);
    let id = w.enable_sessions(vec![s])[0];
    (w, id)
}

fn transfer_config(w: &World, id: PermissionId) -> B256 {
    id.action_config_id(
        w.ops.account,
        ActionId::new(w.ops.d.test_erc20, transfer_selector().into()),
    )
    .0
}

/// First 32 bytes of `error(bytes32 id, ...)` revert data: selector ‖ id[..28].
fn reverted_with_id(signature: &str, id: B256) -> Vec<String> {
    let data = [&keccak256(signature.as_bytes())[..4], id.as_slice()].concat();
    first_word(&data)
}

// ---------------------------------------------------------------- UniActionPolicy

fn uni(w_d: Address, rules: &[ParamRule], value_cap: u64) -> mandate::abi::PolicyData {
    policy(w_d, uni_action(U256::from(value_cap), rules.to_vec()))
}

/// `enableSessions([s])` made by the account.
fn enable_outcome(w: &mut World, s: mandate::abi::Session) -> mandate::sim::BundleOutcome {
    let call = w.smart_session_call(ISmartSession::enableSessionsCall { sessions: vec![s] });
    w.owner_exec_outcome(&[call])
}

#[test]
fn uni_action_passes_while_rules_hold_and_counts_limited_parameters() {
    on_every_family(|family| {
        let d = mandate::sim::Devnet::new().unwrap().deployments().chain.policies.uni_action;
        let rules = [
            rule(ParamCondition::Equal, 1, U256::from_be_slice(RECIPIENT.as_slice())),
            rule(ParamCondition::LessThanOrEqual, 2, U256::from(100)).limited(U256::from(150)),
        ];
        let (mut w, id) = transfer_session(family, vec![uni(d, &rules, 0)]);
        assert_eq!(w.ops.d.chain.policies.uni_action, d);

        let op = w.use_op(id, &[transfer(&w, RECIPIENT, 100)]);
        included(&w.submit(op));
        assert_eq!(balance(&mut w, RECIPIENT), U256::from(100));

        // 60 <= 100 per call, but 100 + 60 > 150 in total.
        let op = w.use_op(id, &[transfer(&w, RECIPIENT, 60)]);
        w.submit_rejected(op, "PolicyViolation", &violation(id, d));

        // 50 fits exactly.
        let op = w.use_op(id, &[transfer(&w, RECIPIENT, 50)]);
        included(&w.submit(op));
        assert_eq!(balance(&mut w, RECIPIENT), U256::from(150));
    });
}

#[test]
fn uni_action_rejects_a_parameter_breaking_its_condition() {
    on_every_family(|family| {
        let d = mandate::sim::Devnet::new().unwrap().deployments().chain.policies.uni_action;
        let rules = [
            rule(ParamCondition::Equal, 1, U256::from_be_slice(RECIPIENT.as_slice())),
            rule(ParamCondition::LessThan, 2, U256::from(100)),
        ];
        let (mut w, id) = transfer_session(family, vec![uni(d, &rules, 0)]);
        let op = w.use_op(id, &[transfer(&w, Address::repeat_byte(0x55), 1)]);
        w.submit_rejected(op, "PolicyViolation", &violation(id, d));
        // LESS_THAN is strict.
        let op = w.use_op(id, &[transfer(&w, RECIPIENT, 100)]);
        w.submit_rejected(op, "PolicyViolation", &violation(id, d));
        let op = w.use_op(id, &[transfer(&w, RECIPIENT, 99)]);
        included(&w.submit(op));
    });
}

#[test]
fn uni_action_in_range_and_not_equal() {
    on_every_family(|family| {
        let d = mandate::sim::Devnet::new().unwrap().deployments().chain.policies.uni_action;
        let range = (U256::from(10) << 128) | U256::from(20);
        let rules = [
            rule(ParamCondition::NotEqual, 1, U256::ZERO),
            rule(ParamCondition::InRange, 2, range),
        ];
        let (mut w, id) = transfer_session(family, vec![uni(d, &rules, 0)]);
        for (amount, ok) in [(9, false), (10, true), (20, true), (21, false)] {
            let op = w.use_op(id, &[transfer(&w, RECIPIENT, amount)]);
            let outcome = w.submit(op);
            if ok {
                included(&outcome);
            } else {
                w.assert_rejected(&outcome, "PolicyViolation", &violation(id, d));
            }
        }
        let op = w.use_op(id, &[transfer(&w, Address::ZERO, 15)]);
        w.submit_rejected(op, "PolicyViolation", &violation(id, d));
    });
}

#[test]
fn uni_action_value_over_the_cap_reverts_in_the_policy() {
    on_every_family(|family| {
        let d = mandate::sim::Devnet::new().unwrap().deployments().chain.policies.uni_action;
        let rules = [rule(ParamCondition::LessThanOrEqual, 2, U256::from(100))];
        let (mut w, id) = transfer_session(family, vec![uni(d, &rules, 5)]);
        let config = transfer_config(&w, id);
        let call = transfer(&w, RECIPIENT, 1).with_value(U256::from(6));
        let op = w.use_op(id, &[call]);
        let expected = reverted_with_id("ValueLimitExceeded(bytes32,uint256,uint256)", config);
        w.submit_rejected(op, "PolicyCheckReverted", &expected);
    });
}

#[test]
fn uni_action_without_rules_is_not_initialised() {
    on_every_family(|family| {
        let d = mandate::sim::Devnet::new().unwrap().deployments().chain.policies.uni_action;
        let (mut w, id) = transfer_session(family, vec![uni(d, &[], 0)]);
        let config = transfer_config(&w, id);
        let op = w.use_op(id, &[transfer(&w, RECIPIENT, 1)]);
        let expected = reverted_with_id("PolicyNotInitialized(bytes32,address,address)", config);
        w.submit_rejected(op, "PolicyCheckReverted", &expected);
    });
}

#[test]
fn uni_action_parameter_past_the_calldata_reverts_without_data() {
    on_every_family(|family| {
        let d = mandate::sim::Devnet::new().unwrap().deployments().chain.policies.uni_action;
        let rules = [rule(ParamCondition::Equal, 3, U256::ZERO)];
        let (mut w, id) = transfer_session(family, vec![uni(d, &rules, 0)]);
        let op = w.use_op(id, &[transfer(&w, RECIPIENT, 1)]);
        w.submit_rejected(op, "PolicyCheckReverted", &first_word(&[]));
    });
}

#[test]
fn uni_action_batch_fitting_one_by_one_but_not_together_is_rejected() {
    on_every_family(|family| {
        let d = mandate::sim::Devnet::new().unwrap().deployments().chain.policies.uni_action;
        let rules =
            [rule(ParamCondition::LessThanOrEqual, 2, U256::from(100)).limited(U256::from(150))];
        let (mut w, id) = transfer_session(family, vec![uni(d, &rules, 0)]);
        let calls = [transfer(&w, RECIPIENT, 100), transfer(&w, RECIPIENT, 100)];
        let op = w.use_op(id, &calls);
        w.submit_rejected(op, "PolicyViolation", &violation(id, d));
        // Nothing was counted: a single 100 still passes, and a second one does not.
        let op = w.use_op(id, &[transfer(&w, RECIPIENT, 100)]);
        included(&w.submit(op));
        let op = w.use_op(id, &[transfer(&w, RECIPIENT, 100)]);
        w.submit_rejected(op, "PolicyViolation", &violation(id, d));
        assert_eq!(balance(&mut w, RECIPIENT), U256::from(100));
    });
}

// ---------------------------------------------------------------- TimeFramePolicy

#[test]
fn time_frame_window_is_enforced_by_the_entry_point() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        fund(&mut w, 1_000);
        let now = w.devnet.timestamp();
        let (token, tf) = (w.ops.d.test_erc20, w.ops.d.chain.policies.time_frame);
        let current = w.session(
            1,
            vec![action(
                token,
                transfer_selector(),
                vec![policy(tf, time_frame(now + 100, now - 100))],
            )],
        );
        let expired = w.session(
            2,
            vec![action(
                token,
                transfer_selector(),
                vec![policy(tf, time_frame(now - 10, now - 100))],
            )],
        );
        let future = w.session(
            3,
            vec![action(token, transfer_selector(), vec![policy(tf, time_frame(0, now + 100))])],
        );
        let ids = w.enable_sessions(vec![current, expired, future]);

        let op = w.use_op(ids[0], &[transfer(&w, RECIPIENT, 1)]);
        included(&w.submit(op));
        for id in [ids[1], ids[2]] {
            let op = w.use_op(id, &[transfer(&w, RECIPIENT, 1)]);
            let outcome = w.submit(op);
            assert_rejected_code(&outcome, "AA22");
            assert_eq!(outcome.rejection().unwrap().reason, "AA22 expired or not due");
        }
        // After the window opens, the future session works.
        w.devnet.set_timestamp(now + 101);
        let op = w.use_op(ids[2], &[transfer(&w, RECIPIENT, 1)]);
        included(&w.submit(op));
        assert_eq!(balance(&mut w, RECIPIENT), U256::from(2));
    });
}

#[test]
fn time_frame_as_user_op_policy() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        fund(&mut w, 1_000);
        let now = w.devnet.timestamp();
        let (token, tf, sudo) =
            (w.ops.d.test_erc20, w.ops.d.chain.policies.time_frame, w.ops.d.chain.policies.sudo);
        let mut s =
            w.session(1, vec![action(token, transfer_selector(), vec![policy(sudo, vec![])])]);
        s.userOpPolicies = vec![policy(tf, time_frame(now - 1, now - 100))];
        let id = w.enable_sessions(vec![s])[0];
        let op = w.use_op(id, &[transfer(&w, RECIPIENT, 1)]);
        assert_rejected_code(&w.submit(op), "AA22");
    });
}

#[test]
fn time_frame_refuses_a_window_ending_before_it_starts() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        let now = w.devnet.timestamp();
        let (token, tf) = (w.ops.d.test_erc20, w.ops.d.chain.policies.time_frame);
        // Raw `abi.encodePacked(uint48 validUntil, uint48 validAfter)`: mandate-abi refuses to build
        // a window that ends before it starts, which is what this test sends to the contract.
        let backwards = (U48::from(now), U48::from(now + 1)).abi_encode_packed();
        let s = w.session(1, vec![action(token, transfer_selector(), vec![policy(tf, backwards)])]);
        let id = PermissionId::of(&s);
        let outcome = enable_outcome(&mut w, s);
        let config =
            id.action_config_id(w.ops.account, ActionId::new(token, transfer_selector().into()));
        let args = [config.0.to_string(), addr(w.ops.smart_session), addr(w.ops.account)];
        w.assert_execution_reverted(&outcome, "PolicyNotInitialized", Some(&args));
    });
}

#[test]
fn time_frame_all_zero_initialises_but_fails_the_check() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        fund(&mut w, 10);
        let (token, tf) = (w.ops.d.test_erc20, w.ops.d.chain.policies.time_frame);
        let frame = vec![policy(tf, time_frame(0, 0))];
        let s = w.session(1, vec![action(token, transfer_selector(), frame)]);
        let id = w.enable_sessions(vec![s])[0];
        let config = transfer_config(&w, id);
        let op = w.use_op(id, &[transfer(&w, RECIPIENT, 1)]);
        let expected = reverted_with_id("PolicyNotInitialized(bytes32,address,address)", config);
        w.submit_rejected(op, "PolicyCheckReverted", &expected);
    });
}

// ---------------------------------------------------------------- UsageLimitPolicy

#[test]
fn usage_limit_on_an_action() {
    on_every_family(|family| {
        let d = mandate::sim::Devnet::new().unwrap().deployments().chain.policies.usage_limit;
        let (mut w, id) = transfer_session(family, vec![policy(d, init(Policy::UsageLimit(2)))]);
        for _ in 0..2 {
            let op = w.use_op(id, &[transfer(&w, RECIPIENT, 1)]);
            included(&w.submit(op));
        }
        let op = w.use_op(id, &[transfer(&w, RECIPIENT, 1)]);
        w.submit_rejected(op, "PolicyViolation", &violation(id, d));
        let config = transfer_config(&w, id);
        let used = w
            .devnet
            .call_sol(
                d,
                &IPolicyViews::getUsedCall {
                    id: config,
                    multiplexer: w.ops.smart_session,
                    account: w.ops.account,
                },
            )
            .unwrap();
        assert_eq!(used, U256::from(2));
    });
}

#[test]
fn usage_limit_batch_fitting_one_by_one_but_not_together_is_rejected() {
    on_every_family(|family| {
        let d = mandate::sim::Devnet::new().unwrap().deployments().chain.policies.usage_limit;
        let (mut w, id) = transfer_session(family, vec![policy(d, init(Policy::UsageLimit(2)))]);
        let calls =
            [transfer(&w, RECIPIENT, 1), transfer(&w, RECIPIENT, 1), transfer(&w, RECIPIENT, 1)];
        let op = w.use_op(id, &calls);
        w.submit_rejected(op, "PolicyViolation", &violation(id, d));
        let op = w.use_op(id, &calls[..2]);
        included(&w.submit(op));
        assert_eq!(balance(&mut w, RECIPIENT), U256::from(2));
    });
}

#[test]
fn usage_limit_on_user_ops() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        let (nft, sudo, usage) =
            (w.ops.d.test_erc721, w.ops.d.chain.policies.sudo, w.ops.d.chain.policies.usage_limit);
        let mut s = w.session(
            1,
            vec![action(nft, IERC721::safeMintCall::SELECTOR, vec![policy(sudo, vec![])])],
        );
        s.userOpPolicies = vec![policy(usage, init(Policy::UsageLimit(1)))];
        let id = w.enable_sessions(vec![s])[0];
        // One op with two mints counts once.
        let op = w.use_op(id, &[mint_nft(&w), mint_nft(&w)]);
        included(&w.submit(op));
        let op = w.use_op(id, &[mint_nft(&w)]);
        w.submit_rejected(op, "PolicyViolation", &violation(id, usage));
    });
}

#[test]
fn usage_limit_of_zero_is_refused() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        let usage = w.ops.d.chain.policies.usage_limit;
        // Raw `abi.encodePacked(uint128 0)`: mandate-abi refuses a zero limit.
        let zero = 0u128.to_be_bytes();
        let s = w.session(
            1,
            vec![action(
                w.ops.d.test_erc20,
                transfer_selector(),
                vec![policy(usage, zero.to_vec())],
            )],
        );
        let outcome = enable_outcome(&mut w, s);
        w.assert_execution_reverted(&outcome, "PolicyNotInitialized", None);
    });
}

// ---------------------------------------------------------------- ValueLimitPolicy

fn ether(tenths: u64) -> U256 {
    U256::from(tenths) * U256::from(10u64.pow(17))
}

#[test]
fn value_limit_on_an_action_is_cumulative() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        let value_limit = w.ops.d.chain.policies.value_limit;
        let s = w.session(
            1,
            vec![action(
                RECIPIENT,
                VALUE_SELECTOR,
                vec![policy(value_limit, init(Policy::ValueLimit(ether(10))))],
            )],
        );
        let id = w.enable_sessions(vec![s])[0];
        let send = |v| Call::new(RECIPIENT, Bytes::new()).with_value(v);
        let op = w.use_op(id, &[send(ether(6))]);
        included(&w.submit(op));
        assert_eq!(w.devnet.balance(RECIPIENT), ether(6));
        let op = w.use_op(id, &[send(ether(6))]);
        w.submit_rejected(op, "PolicyViolation", &violation(id, value_limit));
        let op = w.use_op(id, &[send(ether(4))]);
        included(&w.submit(op));
        assert_eq!(w.devnet.balance(RECIPIENT), ether(10));
    });
}

#[test]
fn value_limit_on_user_ops_sums_a_batch() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        let (sudo, value_limit) = (w.ops.d.chain.policies.sudo, w.ops.d.chain.policies.value_limit);
        let mut s =
            w.session(1, vec![action(RECIPIENT, VALUE_SELECTOR, vec![policy(sudo, vec![])])]);
        s.userOpPolicies = vec![policy(value_limit, init(Policy::ValueLimit(ether(10))))];
        let id = w.enable_sessions(vec![s])[0];
        let send = |v| Call::new(RECIPIENT, Bytes::new()).with_value(v);
        let op = w.use_op(id, &[send(ether(6)), send(ether(6))]);
        w.submit_rejected(op, "PolicyViolation", &violation(id, value_limit));
        let op = w.use_op(id, &[send(ether(5)), send(ether(5))]);
        included(&w.submit(op));
        assert_eq!(w.devnet.balance(RECIPIENT), ether(10));
    });
}

#[test]
fn value_limit_on_user_ops_refuses_other_call_types() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        let (sudo, value_limit) = (w.ops.d.chain.policies.sudo, w.ops.d.chain.policies.value_limit);
        let mut s = w.session(1, vec![fallback_action(vec![policy(sudo, vec![])])]);
        s.userOpPolicies = vec![policy(value_limit, init(Policy::ValueLimit(ether(10))))];
        let id = w.enable_sessions(vec![s])[0];
        let data = execute_calldata(
            mode_code(CallType::DelegateCall, ExecType::Default),
            encode_delegatecall(RECIPIENT, &[]),
        );
        let op = w.use_op_data(id, data);
        // The user-op policy runs before SmartSession looks at the call type.
        let revert = [&keccak256("UnsupportedCallType(bytes1)")[..4], &[0xff][..]].concat();
        w.submit_rejected(op, "PolicyCheckReverted", &first_word(&revert));
    });
}

#[test]
fn value_limit_of_zero_is_refused() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        let value_limit = w.ops.d.chain.policies.value_limit;
        let s = w.session(
            1,
            vec![action(
                RECIPIENT,
                VALUE_SELECTOR,
                // Raw `abi.encode(uint256 0)`: mandate-abi refuses a zero limit.
                vec![policy(value_limit, U256::ZERO.abi_encode())],
            )],
        );
        let outcome = enable_outcome(&mut w, s);
        w.assert_execution_reverted(&outcome, "PolicyNotInitialized", None);
    });
}

// ---------------------------------------------------------------- ERC20SpendingLimitPolicy

fn spending(w_token: Address, limit: u64) -> (Bytes, Address) {
    let limits = vec![TokenLimit { token: w_token, limit: U256::from(limit) }];
    (init(Policy::Erc20SpendingLimit(limits)), w_token)
}

#[test]
fn spending_limit_counts_transfers_and_approvals_together() {
    on_every_family(|family| {
        let devnet = mandate::sim::Devnet::new().unwrap();
        let (sl, token) = (
            devnet.deployments().chain.policies.erc20_spending_limit,
            devnet.deployments().test_erc20,
        );
        let (init, _) = spending(token, 100);
        let mut w = World::with_family(family);
        fund(&mut w, 1_000);
        let s = w.session(
            1,
            vec![
                action(token, transfer_selector(), vec![policy(sl, init.clone())]),
                action(token, IERC20::approveCall::SELECTOR, vec![policy(sl, init)]),
            ],
        );
        let id = w.enable_sessions(vec![s])[0];

        let op = w.use_op(id, &[transfer(&w, RECIPIENT, 60)]);
        let receipt = included(&w.submit(op)).clone();
        let spent = receipt
            .logs
            .iter()
            .find(|l| l.address == sl && l.topics()[0] == IPolicyViews::TokenSpent::SIGNATURE_HASH)
            .map(|l| IPolicyViews::TokenSpent::decode_log_data(&l.data).unwrap())
            .unwrap();
        assert_eq!(
            (spent.token, spent.account, spent.amount, spent.remaining),
            (token, w.ops.account, U256::from(60), U256::from(40))
        );

        // Each 30 fits; together with the 60 already spent they do not... 60+30+30 = 120 > 100.
        let op = w.use_op(id, &[transfer(&w, RECIPIENT, 30), transfer(&w, RECIPIENT, 30)]);
        w.submit_rejected(op, "PolicyViolation", &violation(id, sl));

        // The approve action has its own config (another action id): it starts from zero.
        let op = w.use_op(id, &[approve(&w, RECIPIENT, 100)]);
        included(&w.submit(op));
        let op = w.use_op(id, &[approve(&w, RECIPIENT, 1)]);
        w.submit_rejected(op, "PolicyViolation", &violation(id, sl));

        let op = w.use_op(id, &[transfer(&w, RECIPIENT, 40)]);
        included(&w.submit(op));
        let op = w.use_op(id, &[transfer(&w, RECIPIENT, 1)]);
        w.submit_rejected(op, "PolicyViolation", &violation(id, sl));
        assert_eq!(balance(&mut w, RECIPIENT), U256::from(100));

        let config = transfer_config(&w, id);
        let data = w
            .devnet
            .call_sol(
                sl,
                &IPolicyViews::getPolicyDataCall {
                    id: config,
                    multiplexer: w.ops.smart_session,
                    token,
                    account: w.ops.account,
                },
            )
            .unwrap();
        assert_eq!(
            (data.spendingLimit, data.alreadySpent, data.approvedAmount),
            (U256::from(100), U256::from(100), U256::ZERO)
        );
    });
}

#[test]
fn spending_limit_fails_native_value_other_selectors_and_other_tokens() {
    on_every_family(|family| {
        let devnet = mandate::sim::Devnet::new().unwrap();
        let (sl, token) = (
            devnet.deployments().chain.policies.erc20_spending_limit,
            devnet.deployments().test_erc20,
        );
        let mut w = World::with_family(family);
        fund(&mut w, 1_000);
        let (init, _) = spending(token, 100);
        let (init_other, _) = spending(Address::repeat_byte(0x44), 100);
        let mint = IERC20::mintCall::SELECTOR;
        let s = w.session(
            1,
            vec![
                action(token, transfer_selector(), vec![policy(sl, init.clone())]),
                action(token, mint, vec![policy(sl, init)]),
                action(
                    w.ops.d.test_erc721,
                    IERC721::safeMintCall::SELECTOR,
                    vec![policy(sl, init_other)],
                ),
            ],
        );
        let id = w.enable_sessions(vec![s])[0];
        let with_value = transfer(&w, RECIPIENT, 1).with_value(U256::from(1));
        let mint_call = Call::new(
            token,
            IERC20::mintCall { to: RECIPIENT, amount: U256::from(1) }.abi_encode(),
        );
        let op = w.use_op(id, &[with_value]);
        w.submit_rejected(op, "PolicyViolation", &violation(id, sl));
        let op = w.use_op(id, &[mint_call]);
        w.submit_rejected(op, "PolicyViolation", &violation(id, sl));
        // safeMint is not an ERC-20 call either.
        let op = w.use_op(id, &[mint_nft(&w)]);
        w.submit_rejected(op, "PolicyViolation", &violation(id, sl));
    });
}

#[test]
fn spending_limit_init_errors() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        let (sl, token) = (w.ops.d.chain.policies.erc20_spending_limit, w.ops.d.test_erc20);
        // Raw `abi.encode(address[] tokens, uint256[] limits)`: these are what mandate-abi's
        // `Policy::Erc20SpendingLimit` cannot express or refuses, sent to provoke the policy's errors.
        let raw = |tokens: &[Address], limits: &[U256]| -> Bytes {
            (tokens.to_vec(), limits.to_vec()).abi_encode_params().into()
        };
        let cases = [
            (raw(&[token], &[]), "InvalidInitDataLength", vec![]),
            (
                raw(&[Address::ZERO], &[U256::from(1)]),
                "InvalidTokenAddress",
                vec![addr(Address::ZERO)],
            ),
            (raw(&[token], &[U256::ZERO]), "InvalidLimit", vec!["0".to_string()]),
        ];
        for (i, (init, name, args)) in cases.into_iter().enumerate() {
            let s = w.session(
                u8::try_from(i).unwrap(),
                vec![action(token, transfer_selector(), vec![policy(sl, init)])],
            );
            let outcome = enable_outcome(&mut w, s);
            w.assert_execution_reverted(&outcome, name, Some(&args));
        }
    });
}

#[test]
fn spending_limit_reinit_forgets_previous_usage() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        fund(&mut w, 1_000);
        let (sl, token) = (w.ops.d.chain.policies.erc20_spending_limit, w.ops.d.test_erc20);
        let (init, _) = spending(token, 50);
        let s = w.session(1, vec![action(token, transfer_selector(), vec![policy(sl, init)])]);
        let id = w.enable_sessions(vec![s.clone()])[0];
        let op = w.use_op(id, &[transfer(&w, RECIPIENT, 50)]);
        included(&w.submit(op));
        let op = w.use_op(id, &[transfer(&w, RECIPIENT, 1)]);
        w.submit_rejected(op, "PolicyViolation", &violation(id, sl));
        // Enabling the same session again re-initialises the policy.
        w.enable_sessions(vec![s]);
        let op = w.use_op(id, &[transfer(&w, RECIPIENT, 50)]);
        included(&w.submit(op));
        assert_eq!(balance(&mut w, RECIPIENT), U256::from(100));
    });
}
