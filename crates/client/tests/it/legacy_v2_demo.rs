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

/// A v2 session revoked by a new merkle root without its leaf: its use is refused before
/// anything is sent; the other leaf under the new root still works; a leaf not in the sessions
/// is refused.
#[tokio::test]
async fn a_v2_leaf_revoked_by_a_new_root() {
    use alloy_sol_types::SolCall;
    use mandate_abi::{Call, sol::IERC20};
    use mandate_client::legacy_v2::{V2Account, V2Client, V2ClientError, V2Story};

    let devnet = mandate_sim::Devnet::new().unwrap();
    let (token, nft) = (devnet.deployments().test_erc20, devnet.deployments().test_erc721);
    let client = V2Client::devnet(devnet).unwrap();
    let story = V2Story::random(token, nft);
    let account = client.account(V2Account::new(story.owner.address(), 0)).await.unwrap();
    client.set_balance(account.address, U256::from(10u128.pow(18))).unwrap();
    let (erc20, abi) =
        (story.erc20_leaf(&client), story.abi_leaf(&client, account.address).unwrap());
    let mint = IERC20::mintCall { to: account.address, amount: U256::from(1000) };
    let (sessions, _) = client
        .create_sessions(
            &story.owner,
            &account,
            vec![erc20.clone(), abi.clone()],
            &[Call::new(token, mint.abi_encode())],
        )
        .await
        .unwrap();
    let transfer = || {
        let call = IERC20::transferCall {
            to: mandate_client::legacy_v2::RECIPIENT,
            amount: U256::from(5),
        };
        Call::new(token, call.abi_encode())
    };
    client.use_single(&story.session_key, &sessions, &erc20, transfer()).await.unwrap();

    let (left, sent) = client.revoke_leaf(&story.owner, &sessions, &erc20).await.unwrap();
    assert!(sent.receipt.success);
    println!("v2 revoke (setMerkleRoot): {} gas", sent.receipt.actual_gas_used);
    assert_eq!(left.leaves, vec![abi.clone()]);
    assert_eq!(client.merkle_root(account.address).await.unwrap(), left.root());
    assert_ne!(left.root(), sessions.root());
    // The revoked leaf: with the old tree its proof is against a root the chain no longer
    // holds (refused before anything is sent); the new tree has no proof for it at all.
    let err =
        client.use_single(&story.session_key, &sessions, &erc20, transfer()).await.unwrap_err();
    assert!(matches!(err, V2ClientError::Refused(_)), "{err}");
    let err = client.use_single(&story.session_key, &left, &erc20, transfer()).await.unwrap_err();
    assert!(err.to_string().contains("is not in the merkle tree"), "{err}");
    // The other leaf still works under the new root.
    let mint_nft = Call::new(
        nft,
        mandate_abi::sol::IERC721::safeMintCall { to: account.address }.abi_encode(),
    );
    assert!(
        client.use_single(&story.session_key, &left, &abi, mint_nft).await.unwrap().receipt.success
    );
    let err = client.revoke_leaf(&story.owner, &left, &erc20).await.unwrap_err();
    assert!(matches!(err, V2ClientError::LeafNotInSessions { leaves: 1, .. }), "{err}");
}
