//! Differential property tests for Biconomy session keys v2: random ABI-module sessions (rules
//! with every condition code, in- and out-of-range offsets, value limits) and ERC-20-module
//! sessions, random calls (targets, selectors, values, argument words, truncated calldata), used
//! singly through the Session Key Manager or in batches through the Batched Session Router,
//! with time windows, leaves outside the tree and other signers. Each op is judged by the local
//! evaluator (`mandate_policy::legacy_v2`) and by the v0.6 EntryPoint running the real contracts
//! in revm; the EntryPoint's verdict (passes, or its exact `FailedOp` reason) must be the same.
//!
//! Cases: `MANDATE_PROPTEST_CASES` (default 1,000). Long run:
//! `MANDATE_PROPTEST_CASES=20000 cargo test --release -p mandate-policy --test it legacy_v2_differential`.

#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

use alloy_primitives::{Address, Bytes, U256};
use alloy_signer::SignerSync;
use alloy_sol_types::SolValue;
use mandate_abi::Call;
use mandate_abi::legacy_v2::{
    EXECUTE_BATCH_OPTIMIZED_SELECTOR, EXECUTE_BATCH_SELECTOR, EXECUTE_OPTIMIZED_SELECTOR,
    EXECUTE_SELECTOR, SessionLeaf, account_signature, batch_module_signature,
    execute_batch_v2_calldata, execute_v2_calldata, personal_hash, router_digest,
    single_module_signature, sol::SessionData,
};
use mandate_policy::legacy_v2::validate_user_op;
use mandate_sim::GENESIS_TIMESTAMP;
use mandate_testing::legacy_v2::{LegacyV2World, PACKAGE_ROUTER, outcome, signer};
use std::time::{Duration, Instant};

use proptest::{
    prelude::*,
    test_runner::{Config, RngAlgorithm, TestRng, TestRunner},
};

thread_local! {
    /// Time in the local evaluator and in revm's `handleOps`, summed over cases.
    static TIMES: std::cell::RefCell<(Duration, Duration)> = const {
        std::cell::RefCell::new((Duration::ZERO, Duration::ZERO))
    };
}

fn cases() -> u32 {
    std::env::var("MANDATE_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000)
}

const RECIPIENT: Address = Address::repeat_byte(0x7e);
const STRANGER: Address = Address::repeat_byte(0x51);
const TRANSFER: [u8; 4] =
    <mandate_abi::sol::IERC20::transferCall as alloy_sol_types::SolCall>::SELECTOR;
const SAFE_MINT: [u8; 4] =
    <mandate_abi::sol::IERC721::safeMintCall as alloy_sol_types::SolCall>::SELECTOR;
const OTHER_SELECTOR: [u8; 4] = [0xde, 0xad, 0xbe, 0xef];

/// Addresses of the devnet the indexes of a case resolve to.
#[derive(Clone, Copy)]
struct Env {
    token: Address,
    nft: Address,
    account: Address,
    erc20_svm: Address,
    abi_svm: Address,
}

impl Env {
    fn address(&self, i: u8) -> Address {
        [self.token, self.nft, self.account, RECIPIENT, STRANGER][usize::from(i) % 5]
    }

    fn word(&self, i: u8) -> U256 {
        let dirty = (U256::from(1) << 160) | U256::from_be_slice(RECIPIENT.as_slice());
        [
            U256::ZERO,
            U256::from(1),
            U256::from(99),
            U256::from(100),
            U256::from(101),
            U256::from_be_slice(self.account.as_slice()),
            U256::from_be_slice(RECIPIENT.as_slice()),
            U256::from_be_slice(self.token.as_slice()),
            U256::MAX,
            dirty,
        ][usize::from(i) % 10]
    }
}

fn selector(i: u8) -> [u8; 4] {
    [TRANSFER, SAFE_MINT, OTHER_SELECTOR][usize::from(i) % 3]
}

/// A call; `None` (or a followed word) takes the session's own value, so that most calls get
/// past the first checks and the rules decide.
#[derive(Clone, Debug)]
struct CallCase {
    target: Option<u8>,
    value: u8,
    selector: Option<u8>,
    words: Vec<(bool, u8)>,
    truncate: Option<u8>,
}

#[derive(Clone, Debug)]
enum SessionCase {
    Abi { target: u8, selector: u8, value_limit: u8, rules: Vec<(u8, u8, u8)> },
    Erc20 { token: u8, recipient: u8, max: u8 },
}

#[derive(Clone, Debug)]
struct Item {
    session: SessionCase,
    call: CallCase,
    until: u8,
    after: u8,
    in_tree: bool,
}

#[derive(Clone, Debug)]
struct Case {
    batch: bool,
    items: Vec<Item>,
    fillers: u8,
    wrong_key: bool,
    outer: u8,
    drop_entry: bool,
}

fn call_strategy() -> impl Strategy<Value = CallCase> {
    (
        prop_oneof![6 => Just(None), 1 => (0u8..5).prop_map(Some)],
        prop_oneof![6 => Just(0u8), 1 => 1u8..4],
        prop_oneof![8 => Just(None), 1 => (0u8..3).prop_map(Some)],
        prop_oneof![
            1 => prop::collection::vec((prop::bool::weighted(0.6), 0u8..10), 0..4),
            4 => prop::collection::vec((prop::bool::weighted(0.6), 0u8..10), 2..=2),
        ],
        prop_oneof![12 => Just(None), 1 => (0u8..72).prop_map(Some)],
    )
        .prop_map(|(target, value, selector, words, truncate)| CallCase {
            target,
            value,
            selector,
            words,
            truncate,
        })
}

fn session_strategy() -> impl Strategy<Value = SessionCase> {
    prop_oneof![
        3 => (
            0u8..5,
            prop_oneof![4 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)],
            0u8..3,
            prop::collection::vec(
                (
                    prop_oneof![6 => 0u8..3, 1 => 3u8..6],
                    prop_oneof![12 => 0u8..6, 1 => 6u8..8],
                    0u8..10,
                ),
                0..4,
            ),
        )
            .prop_map(|(target, selector, value_limit, rules)| SessionCase::Abi {
                target,
                selector,
                value_limit,
                rules,
            }),
        2 => (0u8..5, 0u8..5, 0u8..3)
            .prop_map(|(token, recipient, max)| SessionCase::Erc20 { token, recipient, max }),
    ]
}

fn item_strategy() -> impl Strategy<Value = Item> {
    (
        session_strategy(),
        call_strategy(),
        prop_oneof![8 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)],
        prop_oneof![9 => Just(0u8), 1 => Just(1u8)],
        prop::bool::weighted(0.95),
    )
        .prop_map(|(session, call, until, after, in_tree)| Item {
            session,
            call,
            until,
            after,
            in_tree,
        })
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        any::<bool>(),
        prop::collection::vec(item_strategy(), 1..4),
        0u8..4,
        prop::bool::weighted(0.08),
        prop_oneof![10 => Just(0u8), 3 => Just(1u8), 1 => Just(2u8)],
        prop::bool::weighted(0.04),
    )
        .prop_map(|(batch, items, fillers, wrong_key, outer, drop_entry)| Case {
            batch,
            items,
            fillers,
            wrong_key,
            outer,
            drop_entry,
        })
}

fn leaf_of(env: &Env, item: &Item) -> SessionLeaf {
    let key = signer(0x22).address();
    let data: Vec<u8> = match &item.session {
        SessionCase::Abi { target, selector: s, value_limit, rules } => {
            let mut out = Vec::new();
            out.extend_from_slice(key.as_slice());
            out.extend_from_slice(env.address(*target).as_slice());
            out.extend_from_slice(&selector(*s));
            out.extend_from_slice(&[0u128, 5, u128::MAX][usize::from(*value_limit)].to_be_bytes());
            out.extend_from_slice(&u16::try_from(rules.len()).unwrap().to_be_bytes());
            for (offset, condition, reference) in rules {
                let offset: u16 = [0, 32, 64, 31, 3, 200][usize::from(*offset)];
                out.extend_from_slice(&offset.to_be_bytes());
                out.push(*condition);
                out.extend_from_slice(&env.word(*reference).to_be_bytes::<32>());
            }
            out
        }
        SessionCase::Erc20 { token, recipient, max } => (
            key,
            env.address(*token),
            env.address(*recipient),
            U256::from([0u64, 100, 1000][usize::from(*max)]),
        )
            .abi_encode_params(),
    };
    let until = [0, GENESIS_TIMESTAMP - 1, GENESIS_TIMESTAMP + 1000][usize::from(item.until)];
    let after = [0, GENESIS_TIMESTAMP + 1000][usize::from(item.after)];
    let svm = match item.session {
        SessionCase::Abi { .. } => env.abi_svm,
        SessionCase::Erc20 { .. } => env.erc20_svm,
    };
    SessionLeaf::new(until, after, svm, data)
}

fn call_of(env: &Env, item: &Item) -> Call {
    let call = &item.call;
    let (own_target, own_selector) = match &item.session {
        SessionCase::Abi { target, selector: s, .. } => (env.address(*target), selector(*s)),
        SessionCase::Erc20 { token, .. } => (env.address(*token), TRANSFER),
    };
    let mut data = call.selector.map_or(own_selector, selector).to_vec();
    for (k, (follow, w)) in call.words.iter().enumerate() {
        let own = match &item.session {
            SessionCase::Abi { rules, .. } => rules
                .iter()
                .find(|r| [0usize, 32, 64, 31, 3, 200][usize::from(r.0)] == 32 * k)
                .map(|r| env.word(r.2)),
            SessionCase::Erc20 { recipient, max, .. } => match k {
                0 => Some(U256::from_be_slice(env.address(*recipient).as_slice())),
                1 => Some(U256::from([0u64, 100, 1000][usize::from(*max)])),
                _ => None,
            },
        };
        let word = own.filter(|_| *follow).unwrap_or_else(|| env.word(*w));
        data.extend_from_slice(&word.to_be_bytes::<32>());
    }
    if let Some(len) = call.truncate {
        data.truncate(usize::from(len));
    }
    let target = call.target.map_or(own_target, |t| env.address(t));
    Call::new(target, data).with_value(U256::from([0u64, 1, 5, 6][usize::from(call.value)]))
}

fn with_selector(mut data: Vec<u8>, selector: [u8; 4]) -> Bytes {
    data[..4].copy_from_slice(&selector);
    data.into()
}

/// Runs one case; returns the EntryPoint's verdict, or why local and revm disagree.
fn run_case(base: &LegacyV2World, env: &Env, case: &Case) -> Result<String, String> {
    let mut f = base.clone();
    let leaves: Vec<SessionLeaf> = case.items.iter().map(|i| leaf_of(env, i)).collect();
    let mut tree_leaves: Vec<SessionLeaf> =
        leaves.iter().zip(&case.items).filter(|(_, i)| i.in_tree).map(|(l, _)| l.clone()).collect();
    for n in 0..case.fillers {
        tree_leaves.push(SessionLeaf::new(0, 0, env.abi_svm, vec![n; 70]));
    }
    if tree_leaves.is_empty() {
        tree_leaves.push(SessionLeaf::new(0, 0, env.abi_svm, vec![0xff; 62]));
    }
    f.set_leaves(&tree_leaves);
    let proof_of = |leaf: &SessionLeaf| f.tree.proof(leaf.hash()).unwrap_or_default();
    let key = if case.wrong_key { signer(0x33) } else { signer(0x22) };
    let calls: Vec<Call> = case.items.iter().map(|i| call_of(env, i)).collect();

    let (call_data, module) = if case.batch {
        let batch = execute_batch_v2_calldata(&calls).to_vec();
        let selector = [EXECUTE_BATCH_SELECTOR, EXECUTE_BATCH_OPTIMIZED_SELECTOR, EXECUTE_SELECTOR]
            [usize::from(case.outer)];
        (with_selector(batch, selector), f.v2.batched_session_router)
    } else {
        let Call { to: target, value, data } = calls[0].clone();
        let single = execute_v2_calldata(target, value, data).to_vec();
        let call_data = match case.outer {
            0 => single.into(),
            1 => with_selector(single, EXECUTE_OPTIMIZED_SELECTOR),
            _ => execute_batch_v2_calldata(&calls[..1]),
        };
        (call_data, f.v2.session_key_manager)
    };
    let mut op = mandate_testing::legacy_v2::op(&mut f.devnet, f.account, call_data);
    let hash = f.devnet.user_op_hash_v06(&op).unwrap();
    op.signature = if case.batch {
        let digest = router_digest(hash, f.v2.session_key_manager, PACKAGE_ROUTER);
        let sig = key.sign_hash_sync(&personal_hash(digest)).unwrap().as_bytes();
        let mut sessions: Vec<SessionData> = leaves
            .iter()
            .map(|l| SessionData {
                validUntil: alloy_primitives::aliases::U48::from(l.valid_until),
                validAfter: alloy_primitives::aliases::U48::from(l.valid_after),
                sessionValidationModule: l.session_validation_module,
                sessionKeyData: l.session_key_data.clone(),
                merkleProof: proof_of(l),
                callSpecificData: Bytes::new(),
            })
            .collect();
        if case.drop_entry {
            sessions.pop();
        }
        account_signature(
            &batch_module_signature(f.v2.session_key_manager, &sessions, &sig),
            module,
        )
    } else {
        let sig = key.sign_hash_sync(&personal_hash(hash)).unwrap().as_bytes();
        account_signature(&single_module_signature(&leaves[0], &proof_of(&leaves[0]), &sig), module)
    };

    let started = Instant::now();
    let local = validate_user_op(&f.deployment(), &f.account_state(), &op, hash)
        .map_err(|e| format!("not modelled: {e}"))?;
    let expected = local.entry_point_result(f.devnet.timestamp()).map_err(|e| e.to_string());
    let local_time = started.elapsed();
    let started = Instant::now();
    let onchain = outcome(f.devnet.handle_ops_v06(vec![op]).unwrap()).map(|_| ());
    TIMES.with(|t| {
        let mut t = t.borrow_mut();
        t.0 += local_time;
        t.1 += started.elapsed();
    });
    if expected != onchain {
        return Err(format!("local {expected:?} ({local:?}) but revm {onchain:?}"));
    }
    Ok(expected.err().unwrap_or_else(|| "passes".into()))
}

fn setup() -> (LegacyV2World, Env) {
    let base = LegacyV2World::new(&[SessionLeaf::default()]);
    let env = Env {
        token: base.devnet.deployments().test_erc20,
        nft: base.devnet.deployments().test_erc721,
        account: base.account,
        erc20_svm: base.v2.erc20_svm,
        abi_svm: base.v2.abi_svm,
    };
    (base, env)
}

/// Local verdict ≡ the EntryPoint's verdict over the real contracts, for random cases.
#[test]
fn local_verdict_matches_revm() {
    let (base, env) = setup();
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 1_000,
        ..Config::default()
    });
    runner
        .run(&case_strategy(), |case| {
            run_case(&base, &env, &case).map(|_| ()).map_err(TestCaseError::fail)
        })
        .unwrap();
}

/// The generators reach every verdict the contracts give on these inputs (a fixed seed, so the
/// check is deterministic); prints the distribution.
#[test]
fn strategies_cover_every_verdict() {
    use proptest::strategy::ValueTree;
    use std::collections::BTreeMap;

    let (base, env) = setup();
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let strategy = case_strategy();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..400 {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        let label = run_case(&base, &env, &case).unwrap();
        *counts.entry(label).or_default() += 1;
    }
    println!("{counts:#?}");
    let (local, revm) = TIMES.with(|t| *t.borrow());
    println!("400 ops: local evaluator {local:?}, revm handleOps {revm:?}");
    for expected in [
        "passes",
        "AA24 signature error",
        "AA22 expired or not due",
        "AA23 reverted (or OOG)",
        "AA23 reverted: SessionNotApproved",
        "AA23 reverted: ABISV Destination Forbidden",
        "AA23 reverted: ABISV Selector Forbidden",
        "AA23 reverted: ABISV Permitted Value Exceeded",
        "AA23 reverted: ABISV Arg Rule Violated",
        "AA23 reverted: ABISV Not Execute Selector",
        "AA23 reverted: ERC20SV Wrong Token",
        "AA23 reverted: ERC20SV Invalid Token",
        "AA23 reverted: ERC20SV Non Zero Value",
        "AA23 reverted: ERC20SV Wrong Recipient",
        "AA23 reverted: ERC20SV Max Amount Exceeded",
        "AA23 reverted: SR Invalid Selector",
        "AA23 reverted: ERC20SV Invalid Selector",
        "AA23 reverted: Lengths mismatch",
    ] {
        assert!(counts.contains_key(expected), "no case gave {expected}: {counts:#?}");
    }
}
