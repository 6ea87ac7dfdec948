//! Differential property tests: every generated user operation is judged by the local evaluator
//! (`mandate-policy`) and by SmartSession's `validateUserOp` running in revm, reached through a
//! real account's `validateUserOp` called by the EntryPoint — each case on one of the five
//! families (Mandate's account, Nexus, Kernel v3.1, Safe 1.4.1 + Safe7579, the ERC-7579
//! reference), so the family's nonce-key routing, ENABLE prefix and ERC-1271 path are on the
//! way — and both must agree exactly: the returned validation data or the revert data byte for
//! byte (where a family changes SmartSession's answer, as the bytecode does:
//! `harness::family_view`), then the whole session and policy state read back from the
//! contracts' storage.
//!
//! Cases: `MANDATE_PROPTEST_CASES` (default 2,000: about 400 per family). Long run:
//! `MANDATE_PROPTEST_CASES=100000 cargo test --release -p mandate-policy --test it policy_differential`.

#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

pub(crate) mod harness;
mod regressions;

use harness::{Case, case_strategy, family_strategy, run_case_on};
use mandate_abi::AccountType;
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
    fn evaluator_matches_contracts(family in family_strategy(), case in case_strategy()) {
        let case: Case = case;
        run_case_on(family, &case).map_err(TestCaseError::fail)?;
    }
}

/// The verdicts every family reaches in [`strategies_cover_every_verdict`].
const FAMILY_VERDICTS: [&str; 6] = [
    "accept",
    "accept (enable)",
    "signature fails",
    "PolicyViolation",
    "empty revert",
    "enable reverts",
];

/// The generators reach every verdict the contracts can give on these inputs (a fixed seed, so
/// the check is deterministic; the families take turns), and every family gives the main ones;
/// prints the distribution.
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
    let mut per_family: BTreeMap<(&str, String), usize> = BTreeMap::new();
    for i in 0..400 {
        let family = AccountType::ALL[i % AccountType::ALL.len()];
        let case = strategy.new_tree(&mut runner).unwrap().current();
        for label in run_case_on(family, &case).unwrap() {
            *per_family.entry((family.name(), label.clone())).or_default() += 1;
            *counts.entry(label).or_default() += 1;
        }
    }
    println!("{counts:#?}");
    println!("{per_family:#?}");
    for family in AccountType::ALL {
        for expected in FAMILY_VERDICTS {
            assert!(
                per_family.contains_key(&(family.name(), expected.to_string())),
                "{family:?}: no case gave {expected}: {per_family:#?}"
            );
        }
    }
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
