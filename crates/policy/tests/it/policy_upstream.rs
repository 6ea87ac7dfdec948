//! The differential of `policy_differential` against upstream Smart Sessions' bytecode
//! (`MANDATE_UPSTREAM_DIR`, feature `upstream-parity`): upstream's SmartSession with upstream's
//! policies, and with ours. The local evaluator models our contracts; every case must get the
//! same verdict from upstream.
//!
//! ```text
//! MANDATE_UPSTREAM_DIR="$(cd ../shared/upstream/smartsessions-f5aaf86 && pwd)" \
//!   cargo test -p mandate-policy --features upstream-parity --test it policy_upstream
//! ```

#![cfg(feature = "upstream-parity")]
#![allow(clippy::unwrap_used, missing_docs, unreachable_pub, dead_code)]

use crate::policy_differential::harness::{
    FLAVOR, Flavor, case_strategy, family_strategy, run_case_on,
};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("MANDATE_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(500)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn upstream_smart_session_with_upstream_policies(family in family_strategy(), case in case_strategy()) {
        FLAVOR.with(|f| f.set(Flavor::Upstream));
        run_case_on(family, &case).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn upstream_smart_session_with_our_policies(family in family_strategy(), case in case_strategy()) {
        FLAVOR.with(|f| f.set(Flavor::UpstreamWithOurPolicies));
        run_case_on(family, &case).map_err(TestCaseError::fail)?;
    }
}

/// The upstream runs reach accepted ops and the main rejections (not only reverted enables).
#[test]
fn upstream_runs_cover_verdicts() {
    use proptest::{
        strategy::ValueTree,
        test_runner::{Config, RngAlgorithm, TestRng, TestRunner},
    };
    use std::collections::BTreeMap;

    for flavor in [Flavor::Upstream, Flavor::UpstreamWithOurPolicies] {
        FLAVOR.with(|f| f.set(flavor));
        let mut runner = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &[9; 32]),
        );
        let strategy = case_strategy();
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for i in 0..200 {
            let family = mandate_abi::AccountType::ALL[i % mandate_abi::AccountType::ALL.len()];
            let case = strategy.new_tree(&mut runner).unwrap().current();
            for label in run_case_on(family, &case).unwrap() {
                *counts.entry(label).or_default() += 1;
            }
        }
        println!("{flavor:?}: {counts:#?}");
        for expected in
            ["accept", "accept (enable)", "signature fails", "PolicyViolation", "NoPoliciesSet"]
        {
            assert!(
                counts.contains_key(expected),
                "{flavor:?}: no case gave {expected}: {counts:#?}"
            );
        }
    }
}
