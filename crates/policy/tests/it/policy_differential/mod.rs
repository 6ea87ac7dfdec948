//! Differential property tests: every generated user operation is judged by the local evaluator
//! (`mandate-policy`) and by SmartSession's `validateUserOp` running in revm (called by the
//! account, as the account does inside the EntryPoint), and both must agree exactly: the
//! returned validation data or the revert data byte for byte, then the whole session and policy
//! state read back from the contracts' storage.
//!
//! Cases: `MANDATE_PROPTEST_CASES` (default 2,000). Long run:
//! `MANDATE_PROPTEST_CASES=100000 cargo test --release -p mandate-policy --test it policy_differential`.

#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

pub(crate) mod harness;
mod regressions;

use harness::{Case, case_strategy, run_case};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("MANDATE_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..ProptestConfig::default()
    })]

    /// Sessions of every policy kind, then a sequence of operations: same verdict, same state.
    #[test]
    fn evaluator_matches_contracts(case in case_strategy()) {
        let case: Case = case;
        run_case(&case).map_err(TestCaseError::fail)?;
    }
}

/// The generators reach every verdict the contracts can give on these inputs (a fixed seed, so
/// the check is deterministic); prints the distribution.
#[test]
fn strategies_cover_every_verdict() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    use std::collections::BTreeMap;

    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let strategy = case_strategy();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..400 {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        for label in run_case(&case).unwrap() {
            *counts.entry(label).or_default() += 1;
        }
    }
    println!("{counts:#?}");
    for expected in [
        "accept",
        "signature fails",
        "enable reverts",
        "empty revert",
        "PolicyViolation",
        "NoPoliciesSet",
        "InvalidPermissionId",
        "PaymasterValidationNotEnabled",
        "UnsupportedCallType",
        "UnsupportedExecutionType",
        "InvalidSelfCall",
        "InvalidTarget",
        "Panic",
        "InvalidSessionKeyData",
        "PolicyCheckReverted 0x6d3a33ce",
        "PolicyCheckReverted 0x8a8a722d",
        "accept (enable)",
        "ChainIdMismatch",
        "HashMismatch",
        "InvalidEnableSignature",
        "PolicyNotInitialized",
    ] {
        assert!(counts.contains_key(expected), "no case gave {expected}: {counts:#?}");
    }
}
