//! The evaluator's verdict against the whole ERC-4337 path: real accounts of every family
//! (Mandate's, Nexus, Kernel v3.1, Safe 1.4.1 + Safe7579, the ERC-7579 reference — each case
//! picks one), ops nonce-keyed to SmartSession as that family routes them, signed by the session
//! key and submitted to the EntryPoint v0.7 in revm, at times around the policies' windows. The
//! pre-flight (`Devnet::check`) must say what the EntryPoint then does; a local Accept must be
//! included exactly when the EntryPoint's time check passes (`AA22` otherwise, `AA24` for a
//! wrong session signature); a local Reject must be the `AA23` revert with the same data (on
//! Safe7579: its `ExecutionFailed()`, see [`expected_aa23`]); the state read back must equal the
//! evaluator's.
//!
//! Cases: `MANDATE_PROPTEST_CASES / 10` (default 200, about 40 per family).

#![allow(clippy::unwrap_used, missing_docs, unreachable_pub, dead_code)]

use alloy_primitives::{Address, B256, Bytes, U256};
use mandate_abi::{AccountType, Call, Session, sol::IERC20};
use mandate_client::policy_sim;
use mandate_policy::{Deployment, Evaluator, Verdict};
use mandate_sim::{BundleOutcome, GENESIS_TIMESTAMP, Preflight};
use mandate_testing::{policy_data::*, verdict::SAFE7579_EXECUTION_FAILED, world::*};
use proptest::prelude::*;

const RECIPIENT: Address = Address::repeat_byte(0x7e);

fn cases() -> u32 {
    std::env::var("MANDATE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .map_or(200, |n| (n / 10).max(1))
}

#[derive(Clone, Debug)]
struct Step {
    amount: u64,
    /// Seconds from genesis at which the op is submitted.
    at: i64,
    wrong_key: bool,
}

#[derive(Clone, Debug)]
struct Scenario {
    /// The account's family.
    family: AccountType,
    /// (validUntil, validAfter) offsets from genesis for the user-op TimeFramePolicy.
    user_op_window: Option<(i64, i64)>,
    /// Same for an action TimeFramePolicy.
    action_window: Option<(i64, i64)>,
    usage: Option<u128>,
    /// Per-transfer cap and total of a limited UniActionPolicy rule on the amount.
    amount_rule: Option<(u64, u64)>,
    steps: Vec<Step>,
}

fn offset() -> impl Strategy<Value = i64> {
    prop::sample::select(vec![-100i64, -1, 0, 1, 2, 100, 1000])
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let window = || (offset(), offset()).prop_map(|(a, b)| (a.max(b) + 1, a.min(b)));
    (
        prop::sample::select(AccountType::ALL.to_vec()),
        prop::option::of(window()),
        prop::option::of(window()),
        prop::option::of(1u128..4),
        prop::option::of((50u64..150, 100u64..400)),
        prop::collection::vec(
            (
                prop::sample::select(vec![0u64, 50, 100, 101, 149]),
                offset(),
                prop::bool::weighted(0.1),
            )
                .prop_map(|(amount, at, wrong_key)| Step { amount, at, wrong_key }),
            1..5,
        ),
    )
        .prop_map(|(family, user_op_window, action_window, usage, amount_rule, steps)| {
            Scenario { family, user_op_window, action_window, usage, amount_rule, steps }
        })
}

fn at(offset: i64) -> u64 {
    GENESIS_TIMESTAMP.checked_add_signed(offset).unwrap()
}

fn session_of(world: &World, s: &Scenario) -> Session {
    use mandate_abi::{ParamCondition, ParamRule};
    let d = world.ops.d;
    let mut policies = vec![policy(d.chain.policies.sudo, Vec::<u8>::new())];
    if let Some((until, after)) = s.action_window {
        policies.push(policy(d.chain.policies.time_frame, time_frame(at(until), at(after))));
    }
    if let Some(limit) = s.usage {
        policies.push(policy(d.chain.policies.usage_limit, limit.to_be_bytes().to_vec()));
    }
    if let Some((cap, total)) = s.amount_rule {
        // `transfer(to, amount)`: the amount is argument 2.
        let rule =
            ParamRule::on_argument(2, ParamCondition::LessThanOrEqual, B256::from(U256::from(cap)))
                .unwrap()
                .limited(U256::from(total));
        policies.push(policy(d.chain.policies.uni_action, uni_action(U256::ZERO, vec![rule])));
    }
    let mut session = world.session(
        1,
        vec![action(
            d.test_erc20,
            <IERC20::transferCall as alloy_sol_types::SolCall>::SELECTOR,
            policies,
        )],
    );
    if let Some((until, after)) = s.user_op_window {
        session
            .userOpPolicies
            .push(policy(d.chain.policies.time_frame, time_frame(at(until), at(after))));
    }
    session
}

/// The `AA23` inner revert data the EntryPoint reports for a SmartSession revert with `data`
/// on `family`'s account.
fn expected_aa23(family: AccountType, data: &Bytes) -> Bytes {
    match family {
        // Safe7579 calls SmartSession through the Safe (`execTransactionFromModuleReturnData`),
        // which returns `false` on a revert and drops its data; the adapter then reverts with
        // its own `ExecutionFailed()`, whatever SmartSession said.
        AccountType::Safe => Bytes::from_static(&SAFE7579_EXECUTION_FAILED),
        // The others call SmartSession directly and bubble its revert data up unchanged.
        _ => data.clone(),
    }
}

/// The pre-flight (`Devnet::check`) said what the EntryPoint then did: accepted exactly when
/// included, else the same code and inner revert; on Safe7579 a SmartSession refusal's path
/// ends at the adapter (which reverted `ExecutionFailed()` for it).
fn same_as_preflight(
    world: &World,
    verdict: &Verdict,
    preflight: &Preflight,
    outcome: &BundleOutcome,
) -> Result<(), String> {
    match (preflight, outcome) {
        (Preflight::Accepted(_), BundleOutcome::Included { .. }) => Ok(()),
        (Preflight::Rejected(p), BundleOutcome::Rejected(r))
            if p.rejection.code == r.code
                && p.rejection.inner.as_ref().map(|x| &x.data)
                    == r.inner.as_ref().map(|x| &x.data) =>
        {
            let adapter = world.ops.d.families.safe.adapter;
            let from_adapter = p.path.last().is_some_and(|frame| frame.address == adapter);
            if world.account_type() == AccountType::Safe
                && matches!(verdict, Verdict::Reject(_))
                && !from_adapter
            {
                return Err(format!("Safe7579's refusal not from its adapter: {preflight}"));
            }
            Ok(())
        }
        _ => Err(format!("pre-flight {preflight}, EntryPoint {outcome:?}")),
    }
}

fn run(world: &mut World, s: &Scenario) -> Result<Vec<String>, String> {
    assert_eq!(world.account_type(), s.family);
    let mut labels = Vec::new();
    world.devnet.set_timestamp(GENESIS_TIMESTAMP);
    let session = session_of(world, s);
    let [pid] = world.enable_sessions(vec![session])[..] else { unreachable!() };
    let deployment = Deployment::new(&world.ops.d.chain);
    let mut local = policy_sim::load(&world.devnet, &deployment, world.ops.account)
        .map_err(|e| e.to_string())?;
    let evaluator = Evaluator::new(deployment.clone());
    for (i, step) in s.steps.iter().enumerate() {
        world.devnet.set_timestamp(at(step.at));
        let call = Call::new(
            world.ops.d.test_erc20,
            alloy_sol_types::SolCall::abi_encode(&IERC20::transferCall {
                to: RECIPIENT,
                amount: U256::from(step.amount),
            }),
        );
        let mut op = world.use_op(pid, &[call]);
        if step.wrong_key {
            let other = alloy_signer_local::PrivateKeySigner::random();
            let hash = world.devnet.user_op_hash(&op).unwrap();
            let sig = alloy_signer::SignerSync::sign_message_sync(&other, hash.as_slice()).unwrap();
            op.signature = mandate_abi::encode_use(pid, &sig.as_bytes());
        }
        let hash = world.devnet.user_op_hash(&op).unwrap();
        let mut next = local.clone();
        let verdict = evaluator.validate(&mut next, &op, hash).map_err(|e| e.to_string())?;
        let preflight = world.devnet.check(&op).map_err(|e| e.to_string())?;
        let outcome = world.devnet.handle_op(op).unwrap();
        let now = at(step.at);
        same_as_preflight(world, &verdict, &preflight, &outcome)
            .map_err(|e| format!("{:?} step {i} at {now}: {e}", s.family))?;
        let expect_included = match &verdict {
            Verdict::Accept(a) => a.signature_valid && now >= a.valid_after && now <= a.valid_until,
            Verdict::Reject(_) => false,
        };
        match (&verdict, &outcome) {
            (_, BundleOutcome::Included { .. }) if expect_included => {
                labels.push("included".to_string());
                local = next;
            }
            (Verdict::Accept(a), BundleOutcome::Rejected(r)) if !expect_included => {
                let code = if a.signature_valid { "AA22" } else { "AA24" };
                if r.code.as_deref() != Some(code) {
                    return Err(format!("step {i}: expected {code}, got {r}"));
                }
                labels.push(code.to_string());
            }
            (Verdict::Reject(rej), BundleOutcome::Rejected(r))
                if r.code.as_deref() == Some("AA23")
                    && r.inner.as_ref().map(|x| &x.data)
                        == Some(&expected_aa23(s.family, &rej.data)) =>
            {
                labels.push(format!("AA23 {}", rej.name));
            }
            _ => {
                return Err(format!(
                    "{:?} step {i} at {now}: local {verdict:?}, EntryPoint {outcome:?}",
                    s.family
                ));
            }
        }
        let loaded = policy_sim::load(&world.devnet, &deployment, world.ops.account)
            .map_err(|e| e.to_string())?;
        if loaded != local {
            return Err(format!(
                "step {i}: state differs\n contracts {loaded:#?}\n local {local:#?}"
            ));
        }
    }
    Ok(labels)
}

/// Runs `f` on this thread's account of `family` (one devnet, cloned per family), reverting
/// the devnet afterwards.
fn with_world<T>(family: AccountType, f: impl FnOnce(&mut World) -> T) -> T {
    thread_local! {
        static WORLDS: std::cell::RefCell<Vec<World>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    WORLDS.with(|w| {
        let mut worlds = w.borrow_mut();
        if worlds.is_empty() {
            let first = World::new();
            let (devnet, ss) = (first.devnet.clone(), first.ops.smart_session);
            worlds.push(first);
            for t in &AccountType::ALL[1..] {
                worlds.push(World::on_family(devnet.clone(), *t, ss, B256::ZERO));
            }
        }
        let world = worlds.iter_mut().find(|w| w.account_type() == family).unwrap();
        let saved = world.devnet.snapshot();
        let result = f(world);
        world.devnet.revert_to(saved);
        result
    })
}

/// The scenarios reach every outcome on every family (fixed seed; the families take turns).
#[test]
fn scenarios_cover_every_outcome() {
    use proptest::{
        strategy::ValueTree,
        test_runner::{Config, RngAlgorithm, TestRng, TestRunner},
    };
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[3; 32]),
    );
    let strategy = scenario();
    let mut counts = std::collections::BTreeMap::<(String, String), usize>::new();
    for i in 0..75 {
        let family = AccountType::ALL[i % AccountType::ALL.len()];
        let s = Scenario { family, ..strategy.new_tree(&mut runner).unwrap().current() };
        for label in with_world(family, |w| run(w, &s)).unwrap() {
            *counts.entry((family.name().to_string(), label)).or_default() += 1;
        }
    }
    println!("{counts:#?}");
    for family in AccountType::ALL {
        for expected in ["included", "AA22", "AA24", "AA23 PolicyViolation"] {
            let key = (family.name().to_string(), expected.to_string());
            assert!(counts.contains_key(&key), "no scenario gave {key:?}: {counts:#?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn entry_point_agrees_with_the_evaluator(s in scenario()) {
        with_world(s.family, |world| run(world, &s)).map_err(TestCaseError::fail)?;
    }
}
