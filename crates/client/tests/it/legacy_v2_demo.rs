//! The Biconomy session keys v2 story (seeds 000–002) on the embedded devnet: every op is
//! judged locally, pre-flighted and submitted; the two refusals name the module's check.
#![allow(clippy::unwrap_used)]

use alloy_primitives::U256;
use mandate_client::legacy_v2::{MAX_AMOUNT, run_demo};

#[test]
fn the_v2_story_on_the_devnet() {
    let report = run_demo().unwrap();
    assert_eq!(report.included(), vec![true, true, true, true, false, false]);
    assert!(report.steps[..4].iter().all(|s| s.gas_used.is_some_and(|g| g > U256::ZERO)));
    let refusals = report.refusals();
    assert!(
        refusals[0].starts_with("AA23 reverted: ERC20SV Max Amount Exceeded"),
        "{}",
        refusals[0]
    );
    assert!(refusals[0].contains(&(MAX_AMOUNT + 1).to_string()), "{}", refusals[0]);
    assert!(refusals[1].starts_with("AA23 reverted: ABISV Arg Rule Violated"), "{}", refusals[1]);
    assert_eq!(report.recipient_tokens, U256::from(500));
    assert_eq!(report.nfts_held, U256::from(2));
}
