//! The demo story on the embedded devnet: every step ends as the seeds' story says, and the
//! limits read back from the chain are what the uses left.
#![allow(clippy::unwrap_used)]

use alloy_primitives::U256;
use mandate_abi::account::AccountType;
use mandate_client::{
    Remaining, Scope, UseMode,
    demo::{RECIPIENT, Story, TOTAL, TRANSFERS, run_on_devnet},
};

#[test]
fn the_story_on_the_devnet() {
    let story = Story::random();
    let report = run_on_devnet(&story, AccountType::Mandate).unwrap();
    let text = serde_json::to_string_pretty(&report).unwrap();
    assert!(!text.contains(&alloy_primitives::hex::encode(story.session_key.signer().to_bytes())));

    assert_eq!(report.steps.len(), 8);
    assert_eq!(
        report.included_modes(),
        vec![
            None,
            Some(UseMode::Use),
            Some(UseMode::Use),
            Some(UseMode::Enable),
            Some(UseMode::Use)
        ]
    );
    let refusals = report.refusals();
    assert_eq!(refusals.len(), 3);
    for (error, reason) in &refusals {
        assert!(error.starts_with("PolicyViolation("), "{error}");
        assert!(reason.contains("UniActionPolicy"), "{reason}");
    }
    assert!(
        refusals[0].1.contains("rule 1: usage 200 + 60 exceeds the limit 250"),
        "{}",
        refusals[0].1
    );
    assert!(refusals[1].1.contains("rule 1: parameter 150"), "{}", refusals[1].1);
    assert!(refusals[2].1.contains("rule 0"), "{}", refusals[2].1);

    assert_eq!(report.recipient_tokens, U256::from(200));
    assert_eq!(report.nfts_held, U256::from(3));

    // What is left: one transfer of three, 50 of 250 tokens, the window open.
    let transfer = report
        .status
        .limits
        .iter()
        .filter(|l| matches!(l.scope, Scope::Action { target, .. } if target != RECIPIENT))
        .map(|l| l.remaining)
        .collect::<Vec<_>>();
    assert!(transfer.contains(&Remaining::Uses { limit: TRANSFERS, used: 2, left: 1 }));
    assert!(transfer.contains(&Remaining::Rule {
        rule: 1,
        offset: 32,
        limit: U256::from(TOTAL),
        used: U256::from(200),
        left: U256::from(50),
    }));
    assert!(transfer.iter().any(|r| matches!(r, Remaining::Window { open: true, .. })));
    assert!(report.status.enabled);
    assert!(
        report
            .enable_mode_status
            .limits
            .iter()
            .any(|l| l.remaining == Remaining::Uses { limit: 2, used: 2, left: 0 })
    );
}

#[test]
fn the_story_on_every_family_takes_the_same_steps() {
    let story = Story::random();
    let ours = run_on_devnet(&story, AccountType::Mandate).unwrap();
    for family in AccountType::ALL {
        let report =
            run_on_devnet(&Story::random(), family).unwrap_or_else(|e| panic!("{family}: {e}"));
        assert_eq!(report.account_family, family.name(), "{family}");
        let titles = |r: &mandate_client::demo::DemoReport| {
            let steps = r.steps.iter();
            steps.map(|s| (s.title.clone(), std::mem::discriminant(&s.outcome))).collect::<Vec<_>>()
        };
        assert_eq!(titles(&report), titles(&ours), "{family}");
        assert_eq!(report.recipient_tokens, ours.recipient_tokens, "{family}");
        assert_eq!(report.nfts_held, ours.nfts_held, "{family}");
    }
}
