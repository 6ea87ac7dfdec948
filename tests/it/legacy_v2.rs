//! Biconomy session keys v2 (spec §14) through the real contracts in revm: the EntryPoint v0.6,
//! Smart Account v2, Session Key Manager, Batched Session Router and ERC-20 module compiled from
//! their npm packages, and Mandate's ABI module. The story of the SDK tutorials (seeds 000–002):
//! a batch of sessions created with one merkle root, a single-session NFT mint, a batch of an
//! ERC-20 transfer and an NFT mint; then one failing op per check and per condition, each
//! compared with the local verdict of `mandate-policy` and the exact EntryPoint reason.

#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer::SignerSync;
use alloy_sol_types::{SolCall, sol};
use mandate::{
    abi::{
        Call,
        legacy_v2::{
            AbiCondition, AbiRule, AbiSessionData, BatchEntry, Erc20SessionData, RouterDigest,
            SessionLeaf, UserOperationV06, batch_session_leaves, execute_batch_v2_calldata,
            execute_v2_calldata, personal_hash, router_digest, single_session_leaf,
        },
    },
    policy::legacy_v2::{OpVerdict, Violation, validate_user_op},
    sim::GENESIS_TIMESTAMP,
};
use mandate_testing::legacy_v2::{LegacyV2World, outcome, signer};

sol! {
    interface ITokens {
        function transfer(address to, uint256 amount) returns (bool);
        function mint(address to, uint256 amount);
        function safeMint(address to) returns (uint256);
        function balanceOf(address owner) view returns (uint256);
    }
}

const RECIPIENT: Address = Address::repeat_byte(0x7e);
const MAX_AMOUNT: u64 = 1_000;

fn transfer(to: Address, amount: u64) -> Bytes {
    ITokens::transferCall { to, amount: U256::from(amount) }.abi_encode().into()
}

fn safe_mint(to: Address) -> Bytes {
    ITokens::safeMintCall { to }.abi_encode().into()
}

/// The sessions of the story, plus one per condition for the rule tests. Leaf indexes:
/// 0 ERC-20 session (token, recipient, ≤ 1000); 1 ABI session `safeMint(account)`;
/// 2..=7 ABI `transfer(_, amount)` with `amount <cond> 100` for codes 0..=5; 8 the same with the
/// unknown code 6; 9 ABI `safeMint` with a value limit of 5 wei and no rules; 10 the NFT session
/// expiring 100 s after genesis; 11 the NFT session valid from a day after genesis.
struct Story {
    world: LegacyV2World,
    leaves: Vec<SessionLeaf>,
    token: Address,
    nft: Address,
}

fn abi_leaf(
    session_key: Address,
    target: Address,
    selector: [u8; 4],
    value_limit: u128,
    rules: Vec<AbiRule>,
    abi_svm: Address,
) -> SessionLeaf {
    let data =
        AbiSessionData { session_key, target, selector: selector.into(), value_limit, rules };
    SessionLeaf::new(0, 0, abi_svm, data.encode().unwrap())
}

fn story() -> Story {
    // Addresses are deterministic: learn them on a throwaway devnet, then build the leaves.
    let probe = LegacyV2World::new(&[SessionLeaf::default()]);
    let (v2, account) = (probe.v2, probe.account);
    let token = probe.devnet.deployments().test_erc20;
    let nft = probe.devnet.deployments().test_erc721;
    let key = signer(0x22).address();
    let erc20 = Erc20SessionData {
        session_key: key,
        token,
        recipient: RECIPIENT,
        max_amount: U256::from(MAX_AMOUNT),
    };
    let mint_selector = ITokens::safeMintCall::SELECTOR;
    let transfer_selector = ITokens::transferCall::SELECTOR;
    let mut leaves = vec![
        SessionLeaf::new(0, 0, v2.erc20_svm, erc20.encode()),
        abi_leaf(
            key,
            nft,
            mint_selector,
            0,
            vec![AbiRule::new(0, AbiCondition::Equal, account.into_word())],
            v2.abi_svm,
        ),
    ];
    for condition in AbiCondition::ALL {
        let rule = AbiRule::new(32, condition, B256::from(U256::from(100)));
        leaves.push(abi_leaf(key, token, transfer_selector, 0, vec![rule], v2.abi_svm));
    }
    let mut unknown = abi_leaf(
        key,
        token,
        transfer_selector,
        0,
        vec![AbiRule::new(32, AbiCondition::Equal, B256::from(U256::from(100)))],
        v2.abi_svm,
    );
    let mut raw = unknown.session_key_data.to_vec();
    raw[64] = 6; // the condition byte of rule 0
    unknown.session_key_data = raw.into();
    leaves.push(unknown);
    leaves.push(abi_leaf(key, nft, mint_selector, 5, vec![], v2.abi_svm));
    let mut expiring = leaves[1].clone();
    expiring.valid_until = GENESIS_TIMESTAMP + 100;
    leaves.push(expiring);
    let mut later = leaves[1].clone();
    later.valid_after = GENESIS_TIMESTAMP + 86_400;
    leaves.push(later);

    let mut world = LegacyV2World::new(&leaves);
    assert_eq!(world.account, account);
    let mint = ITokens::mintCall { to: account, amount: U256::from(1_000_000) };
    world.devnet.transact_sol(mandate::sim::DEPLOYER, token, &mint).unwrap();
    Story { world, leaves, token, nft }
}

/// Runs `op` through the local evaluator and through the EntryPoint (on a copy of the chain,
/// or for real when `keep`); both must give `expected`. Returns the EntryPoint's execution
/// success flag when the op went through.
fn judge(
    story: &mut Story,
    op: UserOperationV06,
    hash: B256,
    expected: Result<(), &str>,
    keep: bool,
) -> Option<bool> {
    let f = &mut story.world;
    let local = validate_user_op(&f.deployment(), &f.account_state(), &op, hash).unwrap();
    let now = f.devnet.timestamp();
    assert_eq!(
        local.entry_point_result(now).map_err(|e| e.to_string()),
        expected.map_err(str::to_string),
        "local: {local:?}"
    );
    let result = if keep {
        f.devnet.handle_ops_v06(vec![op]).unwrap()
    } else {
        f.devnet.clone().handle_ops_v06(vec![op]).unwrap()
    };
    if let mandate::sim::BundleOutcome::Included { tx_gas_used, receipts } = &result {
        println!("handleOps gas {tx_gas_used}, op actualGasUsed {}", receipts[0].actual_gas_used);
    }
    let onchain = outcome(result);
    assert_eq!(onchain.clone().map(|_| ()), expected.map_err(str::to_string), "revm");
    onchain.ok()
}

fn balance(story: &mut Story, token: Address, owner: Address) -> U256 {
    let f = &mut story.world;
    f.devnet.call_sol(token, &ITokens::balanceOfCall { owner }).unwrap()
}

#[test]
fn the_root_is_the_sdk_tree_root_and_the_account_uses_the_package_modules() {
    let mut story = story();
    let f = &mut story.world;
    let root = f
        .devnet
        .call_sol(
            f.v2.session_key_manager,
            &mandate::abi::legacy_v2::sol::ISessionKeyManagerV1::getSessionKeysCall {
                smartAccount: f.account,
            },
        )
        .unwrap();
    assert_eq!(root, f.tree.root());
    assert_eq!(f.tree.leaves().len(), story.leaves.len());
    // The EntryPoint's hash is mandate-abi's.
    let op = mandate_testing::legacy_v2::op(&mut f.devnet, f.account, Bytes::new());
    let hash = f.devnet.user_op_hash_v06(&op).unwrap();
    assert_eq!(hash, op.hash(f.v2.entry_point, f.devnet.chain_id()));
}

/// Seed 002: one session, `safeMint(account)` under the ABI module, used with the proof of leaf 1.
#[test]
fn single_session_mints_the_nft() {
    let mut story = story();
    let (nft, account) = (story.nft, story.world.account);
    // getSingleSessionTxParams(account, chain, 1): the stored session at index 1.
    let leaf = single_session_leaf(&story.leaves, Some(1)).unwrap().clone();
    let key = story.world.session_key.clone();
    let call = execute_v2_calldata(nft, U256::ZERO, safe_mint(account));
    let (op, hash) = story.world.single_op(call, &leaf, &key);
    assert_eq!(judge(&mut story, op, hash, Ok(()), true), Some(true));
    assert_eq!(balance(&mut story, nft, account), U256::from(1));
}

/// Seeds 000–001: two sessions created together (one root), used in one `executeBatch`: an
/// ERC-20 transfer under the ERC-20 module and a mint under the ABI module, leaves in call order.
#[test]
fn batch_session_transfers_and_mints() {
    let mut story = story();
    let (token, nft, account) = (story.token, story.nft, story.world.account);
    let key = story.world.session_key.clone();
    let calls =
        [Call::new(token, transfer(RECIPIENT, MAX_AMOUNT)), Call::new(nft, safe_mint(account))];
    // getBatchSessionTxParams(txs, [0, 1], …): one stored session per call, in call order.
    let entries = batch_session_leaves(&story.leaves, Some(&[0, 1]), calls.len()).unwrap();
    let (op, hash) = story.world.batch_op(&calls, &entries, &key);
    assert_eq!(judge(&mut story, op, hash, Ok(()), true), Some(true));
    assert_eq!(balance(&mut story, token, RECIPIENT), U256::from(MAX_AMOUNT));
    assert_eq!(balance(&mut story, nft, account), U256::from(1));

    // The same calls with the leaves swapped: the first call meets the ABI module.
    let swapped = vec![entries[1].clone(), entries[0].clone()];
    let (op, hash) = story.world.batch_op(&calls, &swapped, &key);
    judge(&mut story, op, hash, Err("AA23 reverted: ABISV Destination Forbidden"), false);
}

#[test]
fn single_erc20_session_transfers_and_each_check_fails_alone() {
    let mut story = story();
    let token = story.token;
    let key = story.world.session_key.clone();
    let leaf = story.leaves[0].clone();
    let cases: [(Bytes, Result<(), &str>); 6] = [
        (execute_v2_calldata(token, U256::ZERO, transfer(RECIPIENT, MAX_AMOUNT)), Ok(())),
        (
            execute_v2_calldata(story.nft, U256::ZERO, transfer(RECIPIENT, 1)),
            Err("AA23 reverted: ERC20SV Wrong Token"),
        ),
        (
            execute_v2_calldata(token, U256::from(1), transfer(RECIPIENT, 1)),
            Err("AA23 reverted: ERC20SV Non Zero Value"),
        ),
        (
            execute_v2_calldata(token, U256::ZERO, transfer(Address::repeat_byte(1), 1)),
            Err("AA23 reverted: ERC20SV Wrong Recipient"),
        ),
        (
            execute_v2_calldata(token, U256::ZERO, transfer(RECIPIENT, MAX_AMOUNT + 1)),
            Err("AA23 reverted: ERC20SV Max Amount Exceeded"),
        ),
        (
            execute_batch_v2_calldata(&[Call::new(token, transfer(RECIPIENT, 1))]),
            Err("AA23 reverted: ERC20SV Invalid Selector"),
        ),
    ];
    for (call, expected) in cases {
        let (op, hash) = story.world.single_op(call, &leaf, &key);
        judge(&mut story, op, hash, expected, false);
    }
    let (op, hash) = story.world.single_op(
        execute_v2_calldata(token, U256::ZERO, transfer(RECIPIENT, 7)),
        &leaf,
        &key,
    );
    assert_eq!(judge(&mut story, op, hash, Ok(()), true), Some(true));
    assert_eq!(balance(&mut story, token, RECIPIENT), U256::from(7));
}

#[test]
fn abi_module_checks_target_selector_value_and_signer() {
    let mut story = story();
    let (nft, token, account) = (story.nft, story.token, story.world.account);
    let key = story.world.session_key.clone();
    let mint = story.leaves[1].clone();
    let valued = story.leaves[9].clone();
    let cases: Vec<(Bytes, &SessionLeaf, Result<(), &str>)> = vec![
        (
            execute_v2_calldata(token, U256::ZERO, safe_mint(account)),
            &mint,
            Err("AA23 reverted: ABISV Destination Forbidden"),
        ),
        (
            execute_v2_calldata(nft, U256::ZERO, transfer(account, 1)),
            &mint,
            Err("AA23 reverted: ABISV Selector Forbidden"),
        ),
        (
            execute_v2_calldata(nft, U256::ZERO, safe_mint(RECIPIENT)),
            &mint,
            Err("AA23 reverted: ABISV Arg Rule Violated"),
        ),
        (execute_v2_calldata(nft, U256::from(5), safe_mint(account)), &valued, Ok(())),
        (
            execute_v2_calldata(nft, U256::from(6), safe_mint(account)),
            &valued,
            Err("AA23 reverted: ABISV Permitted Value Exceeded"),
        ),
        (
            execute_batch_v2_calldata(&[Call::new(nft, safe_mint(account))]),
            &mint,
            Err("AA23 reverted: ABISV Not Execute Selector"),
        ),
    ];
    for (call, leaf, expected) in cases {
        let (op, hash) = story.world.single_op(call, leaf, &key);
        judge(&mut story, op, hash, expected, false);
    }
    // Another key signs: the module returns false, the EntryPoint says AA24.
    let call = execute_v2_calldata(nft, U256::ZERO, safe_mint(account));
    let (op, hash) = story.world.single_op(call.clone(), &mint, &signer(0x33));
    judge(&mut story, op, hash, Err("AA24 signature error"), false);
    // A leaf that is not in the tree.
    let mut stranger = mint.clone();
    stranger.valid_until = 1;
    let mut op = mandate_testing::legacy_v2::op(&mut story.world.devnet, account, call);
    let hash = story.world.devnet.user_op_hash_v06(&op).unwrap();
    let sig = key.sign_hash_sync(&personal_hash(hash)).unwrap().as_bytes();
    let module_sig = mandate::abi::legacy_v2::single_module_signature(&stranger, &[], &sig);
    op.signature =
        mandate::abi::legacy_v2::account_signature(&module_sig, story.world.v2.session_key_manager);
    judge(&mut story, op, hash, Err("AA23 reverted: SessionNotApproved"), false);
}

/// Each legacy condition code (0 ==, 1 <=, 2 <, 3 >=, 4 >, 5 !=) on `amount` against 100, one
/// passing and one failing amount each; the unknown code 6 fails every amount.
#[test]
fn every_condition_passes_and_fails() {
    let mut story = story();
    let token = story.token;
    let key = story.world.session_key.clone();
    let amounts: [(u64, u64); 6] =
        [(100, 101), (100, 101), (99, 100), (100, 99), (101, 100), (5, 100)];
    for (code, (pass, fail)) in amounts.into_iter().enumerate() {
        let leaf = story.leaves[2 + code].clone();
        for (amount, expected) in
            [(pass, Ok(())), (fail, Err("AA23 reverted: ABISV Arg Rule Violated"))]
        {
            let call = execute_v2_calldata(token, U256::ZERO, transfer(RECIPIENT, amount));
            let (op, hash) = story.world.single_op(call, &leaf, &key);
            let f = &story.world;
            if expected.is_err() {
                let local =
                    validate_user_op(&f.deployment(), &f.account_state(), &op, hash).unwrap();
                let OpVerdict::Reverted(Violation::RuleViolated { rule, condition, param, .. }) =
                    local
                else {
                    panic!("code {code}: {local:?}")
                };
                assert_eq!(
                    (rule, usize::from(condition.code()), param),
                    (0, code, U256::from(amount))
                );
            }
            judge(&mut story, op, hash, expected, false);
        }
    }
    let leaf = story.leaves[8].clone();
    for amount in [99, 100, 101] {
        let call = execute_v2_calldata(token, U256::ZERO, transfer(RECIPIENT, amount));
        let (op, hash) = story.world.single_op(call, &leaf, &key);
        judge(&mut story, op, hash, Err("AA23 reverted: ABISV Arg Rule Violated"), false);
    }
}

#[test]
fn time_windows_become_validation_data() {
    let mut story = story();
    let (nft, account) = (story.nft, story.world.account);
    let key = story.world.session_key.clone();
    let call = execute_v2_calldata(nft, U256::ZERO, safe_mint(account));
    let (expiring, later) = (story.leaves[10].clone(), story.leaves[11].clone());
    let (op, hash) = story.world.single_op(call.clone(), &later, &key);
    judge(&mut story, op, hash, Err("AA22 expired or not due"), false);
    let (op, hash) = story.world.single_op(call.clone(), &expiring, &key);
    judge(&mut story, op, hash, Ok(()), false);
    story.world.devnet.set_timestamp(GENESIS_TIMESTAMP + 101);
    let (op, hash) = story.world.single_op(call, &expiring, &key);
    judge(&mut story, op, hash, Err("AA22 expired or not due"), false);
    // In a batch the router intersects the windows: the expired leaf expires the batch.
    let calls = [Call::new(nft, safe_mint(account)), Call::new(nft, safe_mint(account))];
    let both = [story.leaves[1].clone().into(), expiring.into()];
    let (op, hash) = story.world.batch_op(&calls, &both, &key);
    judge(&mut story, op, hash, Err("AA22 expired or not due"), false);
    story.world.devnet.set_timestamp(GENESIS_TIMESTAMP + 86_400);
    let both = [story.leaves[1].clone().into(), later.into()];
    let (op, hash) = story.world.batch_op(&calls, &both, &key);
    judge(&mut story, op, hash, Ok(()), false);
}

#[test]
fn router_checks_selector_lengths_modules_and_signer() {
    let mut story = story();
    let (token, nft, account) = (story.token, story.nft, story.world.account);
    let key = story.world.session_key.clone();
    let erc20: BatchEntry = story.leaves[0].clone().into();
    let mint: BatchEntry = story.leaves[1].clone().into();
    let good = [Call::new(token, transfer(RECIPIENT, 1)), Call::new(nft, safe_mint(account))];
    // One session for two calls.
    let (op, hash) = story.world.batch_op(&good, std::slice::from_ref(&erc20), &key);
    judge(&mut story, op, hash, Err("AA23 reverted: Lengths mismatch"), false);
    // The ERC-20 module in a batch: its own messages.
    let cases: [(Call, &str); 4] = [
        (Call::new(nft, transfer(RECIPIENT, 1)), "AA23 reverted: ERC20SV Invalid Token"),
        (
            Call::new(token, transfer(RECIPIENT, 1)).with_value(U256::from(1)),
            "AA23 reverted: ERC20SV Non Zero Value",
        ),
        (Call::new(token, transfer(account, 1)), "AA23 reverted: ERC20SV Wrong Recipient"),
        (
            Call::new(token, transfer(RECIPIENT, MAX_AMOUNT + 1)),
            "AA23 reverted: ERC20SV Max Amount Exceeded",
        ),
    ];
    for (first, expected) in cases {
        let calls = [first, good[1].clone()];
        let (op, hash) = story.world.batch_op(&calls, &[erc20.clone(), mint.clone()], &key);
        judge(&mut story, op, hash, Err(expected), false);
    }
    // The second call breaks the ABI rule.
    let calls = [good[0].clone(), Call::new(nft, safe_mint(RECIPIENT))];
    let (op, hash) = story.world.batch_op(&calls, &[erc20.clone(), mint.clone()], &key);
    judge(&mut story, op, hash, Err("AA23 reverted: ABISV Arg Rule Violated"), false);
    // Another key.
    let (op, hash) = story.world.batch_op(&good, &[erc20.clone(), mint.clone()], &signer(0x44));
    judge(&mut story, op, hash, Err("AA24 signature error"), false);
    // A router signature on an `execute` op.
    let (mut op, hash) = story.world.batch_op(&good, &[erc20, mint], &key);
    op.callData = execute_v2_calldata(token, U256::ZERO, transfer(RECIPIENT, 1));
    let hash2 = op.hash(story.world.v2.entry_point, story.world.devnet.chain_id());
    assert_ne!(hash, hash2);
    judge(&mut story, op, hash2, Err("AA23 reverted: SR Invalid Selector"), false);
}

/// Spec §14.3 (and the SDK v4) sign the plain user-op hash for a batch; the router of the npm
/// package recovers over `keccak256(userOpHash ‖ sessionKeyManager)`. An SDK-v4-style batch
/// signature is refused by the package's router; the local evaluator says the same when told
/// which router it faces.
#[test]
fn package_router_signs_hash_and_manager_not_the_plain_hash() {
    let mut story = story();
    let (token, nft, account) = (story.token, story.nft, story.world.account);
    let key = story.world.session_key.clone();
    let entries: Vec<BatchEntry> =
        vec![story.leaves[0].clone().into(), story.leaves[1].clone().into()];
    let calls = [Call::new(token, transfer(RECIPIENT, 1)), Call::new(nft, safe_mint(account))];
    let f = &mut story.world;
    let mut op =
        mandate_testing::legacy_v2::op(&mut f.devnet, account, execute_batch_v2_calldata(&calls));
    let hash = f.devnet.user_op_hash_v06(&op).unwrap();
    let plain = router_digest(hash, f.v2.session_key_manager, RouterDigest::UserOpHash);
    let sig = key.sign_hash_sync(&personal_hash(plain)).unwrap().as_bytes();
    op.signature = mandate::abi::legacy_v2::batch_session_signature(
        &entries,
        &f.tree,
        f.v2.session_key_manager,
        f.v2.batched_session_router,
        &sig,
    )
    .unwrap();
    let mut sdk_router = f.deployment();
    sdk_router.router_digest = RouterDigest::UserOpHash;
    let local = validate_user_op(&sdk_router, &f.account_state(), &op, hash).unwrap();
    assert_eq!(local.entry_point_result(f.devnet.timestamp()), Ok(()));
    judge(&mut story, op, hash, Err("AA24 signature error"), false);
}

/// The simulator's v0.6 estimate (what the devnet bundler answers) suffices for the op with
/// its real signature, and is within a quarter of what it needs: a quarter less call gas
/// fails the execution, a quarter less verification gas fails validation.
#[test]
fn the_v06_gas_estimate_is_enough_and_within_a_quarter() {
    let mut story = story();
    let (token, key, leaf) =
        (story.token, story.world.session_key.clone(), story.leaves[0].clone());
    let call = execute_v2_calldata(token, U256::ZERO, transfer(RECIPIENT, 10));
    let (op, _) = story.world.single_op(call, &leaf, &key);
    let estimate = story.world.devnet.estimate_gas_v06(&op).unwrap();
    let mut run = |verification: u128, call_gas: u128| {
        let mut sized = op.clone();
        sized.verificationGasLimit = U256::from(verification);
        sized.callGasLimit = U256::from(call_gas);
        sized.preVerificationGas = estimate.pre_verification_gas;
        story.world.sign_single(&mut sized, &leaf, &key);
        outcome(story.world.devnet.clone().handle_ops_v06(vec![sized]).unwrap())
    };
    let (v, c): (u128, u128) = (estimate.verification_gas_limit.to(), estimate.call_gas_limit.to());
    assert_eq!(run(v, c), Ok(true));
    // Measured: the execution needs 85–90 % of the call estimate (the estimate runs the call
    // alone, paying cold accesses validation has already warmed), validation ~81 % of the
    // verification estimate (a stale signature takes a longer path in the modules).
    assert_eq!(run(v, c * 3 / 4), Ok(false));
    let starved = run(v * 3 / 4, c).unwrap_err();
    assert!(starved.starts_with("AA40") || starved.starts_with("AA23"), "{starved}");
    assert!(estimate.pre_verification_gas > U256::from(21_000 + 18_300));
}
