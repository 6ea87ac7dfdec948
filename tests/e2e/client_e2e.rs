//! The demo story end to end through real Alto on real anvil: the session client grants,
//! uses, refuses and reads limits exactly as on the embedded devnet, with every op estimated
//! by the bundler, pre-flighted on a fork of anvil's latest block and sent to Alto.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use alloy_primitives::U256;
use mandate::client::{
    Remaining, SessionClient, UseMode,
    demo::{Funder, Outcome, Story},
};

use mandate_testing::node::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_story_through_alto_on_anvil() {
    let harness = Harness::start().await;
    let client =
        SessionClient::connect(&harness.node_url, &harness.bundler_url, harness.deployments.chain)
            .await
            .unwrap()
            .with_owner_validator(harness.deployments.k1_validator);
    assert_eq!(client.chain_id(), harness.chain_id);
    let node_url = harness.node_url.clone();
    let fund: Funder<'_> = &move |account| {
        let node = mandate_testing::node::Node::new(&node_url);
        Box::pin(async move {
            node.set_balance(account, U256::from(10u128.pow(18))).await;
            Ok(())
        })
    };
    let started = Instant::now();
    let report = Story::random().run(&client, &harness.deployments, fund).await.unwrap();
    eprintln!("the story through Alto took {:?}", started.elapsed());

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
    assert_eq!(report.refusals().len(), 3);
    // The chain agrees with the story: anvil's state, read through a fork.
    assert_eq!(report.recipient_tokens, U256::from(200));
    assert_eq!(report.nfts_held, U256::from(3));
    assert!(
        report
            .status
            .limits
            .iter()
            .any(|l| l.remaining == Remaining::Uses { limit: 3, used: 2, left: 1 })
    );
    // Every included op has a receipt from Alto, with anvil's transaction.
    for step in &report.steps {
        if let Outcome::Included { user_op_hash, .. } = step.outcome {
            let found = mandate::bundler::BundlerClient::new(&harness.bundler_url)
                .unwrap()
                .get_user_operation_receipt(user_op_hash)
                .await
                .unwrap();
            assert!(found.is_some_and(|r| r.success), "{}", step.title);
        }
    }
}
