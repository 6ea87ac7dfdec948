//! Biconomy session keys v2 through real Alto on real anvil with EntryPoint v0.6: the seeds
//! 000–002 story told by `mandate_client::legacy_v2::V2Client` — every op judged locally,
//! estimated by Alto, pre-flighted on a fork of anvil's latest block, sent to Alto — ends as on
//! the embedded devnet, and the chain agrees.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use alloy_primitives::U256;
use alloy_sol_types::SolCall;
use mandate::{
    abi::Call,
    abi::legacy_v2::ENTRY_POINT_V06,
    abi::sol::{IERC20, IERC721},
    bundler::BundlerClient,
    client::{
        Checks, ClientError, Options,
        demo::Funder,
        legacy_v2::{
            MAX_AMOUNT, RECIPIENT, V2Client, V2ClientError, V2Report, V2Sessions, V2Story, run_demo,
        },
    },
};

use mandate_testing::node::{Harness, Node};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_v2_story_through_alto_on_anvil() {
    let harness = Harness::start_with_legacy_v2().await;
    let v2 = harness.legacy_v2.unwrap();
    let alto = BundlerClient::new(&harness.bundler_url).unwrap();
    assert!(alto.supported_entry_points().await.unwrap().contains(&ENTRY_POINT_V06));

    let client = V2Client::connect(&harness.node_url, &harness.bundler_url, v2).await.unwrap();
    assert_eq!(client.chain_id(), harness.chain_id);
    let node_url = harness.node_url.clone();
    let fund: Funder<'_> = &move |account| {
        let node = Node::new(&node_url);
        Box::pin(async move {
            node.set_balance(account, U256::from(10u128.pow(18))).await;
            Ok(())
        })
    };
    let d = harness.deployments;
    let started = Instant::now();
    let story = V2Story::random(d.test_erc20, d.test_erc721);
    let report = story.run(&client, fund).await.unwrap();
    eprintln!("the v2 story through Alto took {:?}", started.elapsed());

    // The same story on the embedded devnet ends the same way: the same ops included, the same
    // EntryPoint reasons for the refusals (the values after " — " name this run's addresses),
    // and anvil's state, read through a fork, holds what the devnet holds.
    let on_devnet = tokio::task::spawn_blocking(run_demo).await.unwrap().unwrap();
    assert_eq!(report.included(), on_devnet.included());
    let reasons = |r: &V2Report| -> Vec<String> {
        r.refusals().iter().map(|why| why.split(" — ").next().unwrap().to_string()).collect()
    };
    assert_eq!(reasons(&report), reasons(&on_devnet));
    assert_eq!(reasons(&report).len(), 2);
    assert_eq!(
        (report.recipient_tokens, report.nfts_held),
        (on_devnet.recipient_tokens, on_devnet.nfts_held)
    );
    assert_eq!(client.merkle_root(report.account).await.unwrap(), report.merkle_root);
    // Every included op has Alto's receipt from EntryPoint v0.6, with anvil's transaction.
    for step in report.steps.iter().filter(|s| s.included) {
        let receipt =
            alto.get_user_operation_receipt(step.user_op_hash.unwrap()).await.unwrap().unwrap();
        assert!(receipt.success, "{}", step.title);
        assert_eq!(receipt.entry_point, ENTRY_POINT_V06);
        assert_eq!(receipt.sender, report.account);
        assert_eq!(Some(receipt.actual_gas_used), step.gas_used);
        let tx = harness.node.receipt(receipt.receipt.transaction_hash).await;
        assert!(tx.expect("the bundle's receipt").status(), "{}", step.title);
    }

    // The two ops refused locally, sent with every check off: Alto's simulation of the real
    // EntryPoint v0.6 refuses them too, with the same module errors.
    let unchecked = V2Client::connect(&harness.node_url, &harness.bundler_url, v2)
        .await
        .unwrap()
        .with_options(Options {
            checks: Checks { local_verdict: false, estimate_gas: false, preflight: false },
            ..Options::default()
        });
    let (erc20, abi) =
        (story.erc20_leaf(&client), story.abi_leaf(&client, report.account).unwrap());
    let sessions = V2Sessions::new(report.account, vec![erc20.clone(), abi.clone()]);
    let over_max = IERC20::transferCall { to: RECIPIENT, amount: U256::from(MAX_AMOUNT + 1) };
    let to_itself = IERC721::safeMintCall { to: report.session_key };
    for (leaf, call, expected) in [
        (&erc20, Call::new(d.test_erc20, over_max.abi_encode()), "ERC20SV Max Amount Exceeded"),
        (&abi, Call::new(d.test_erc721, to_itself.abi_encode()), "ABISV Arg Rule Violated"),
    ] {
        let error =
            unchecked.use_single(&story.session_key, &sessions, leaf, call).await.unwrap_err();
        let V2ClientError::Client(ClientError::Bundler(error)) = &error else {
            panic!("not refused by Alto: {error}")
        };
        assert_eq!(error.aa_code(), Some("AA23"), "{error}");
        assert!(error.to_string().contains(expected), "{error}");
    }
}
