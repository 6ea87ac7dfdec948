//! A backend that keeps its session keys on disk: the owner signs a session off-chain (ENABLE
//! mode), the backend stores the new key in an encrypted keystore with the session's details,
//! and later — in another process, say — loads it and uses it; the first use enables the
//! session on chain, the store is updated, and later uses are plain USE ops.
//!
//! ```sh
//! cargo run --example enable_on_first_use
//! ```

// One crate of several sharing the package's dev-dependencies: not all of them are used here.
#![allow(unused_crate_dependencies)]

use alloy_primitives::U256;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate::{
    abi::{Call, Policy, SessionBuilder, SmartSessionMode, custom_action, sol::IERC721},
    client::{Account, FileStore, SessionClient, SessionKey, SessionRecord, SessionStore},
    sim::Devnet,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let devnet = Devnet::new()?;
    let d = *devnet.deployments();
    let client = SessionClient::devnet(devnet);
    let owner = PrivateKeySigner::random();
    let spec = Account::new(owner.address());
    let account = client.account_address(&spec).await?;
    client.set_balance(account, U256::from(10u128.pow(18)))?;
    // The account exists with SmartSession installed, no sessions yet.
    client.grant(&owner, &spec, &[], &[]).await?;

    // The owner grants three mints, signing off-chain; nothing is sent.
    let key = SessionKey::random();
    let mint = custom_action(
        d.test_erc721,
        "safeMint(address)",
        &[Policy::UsageLimit(3)],
        &d.chain.policies,
    )?;
    let session = SessionBuilder::new(
        d.ecdsa_session_validator().ok_or("no ECDSA session validator")?,
        key.address().to_vec(),
    )
    .action(mint)
    .build()?;
    let enable = client.prepare_enable(&owner, account, &session, SmartSessionMode::Enable).await?;
    let record = SessionRecord {
        enable: Some(enable),
        label: Some("three mints".into()),
        ..SessionRecord::new(
            client.chain_id(),
            account,
            key.address(),
            session,
            d.chain.smart_session,
        )
    };
    let dir = std::env::temp_dir().join(format!("mandate-example-{}", std::process::id()));
    let store = FileStore::open(&dir, "a password from your secret manager")?;
    store.save(&key, &record)?;
    drop(key);

    // Later: load the key and use it. The first use carries the owner's signature.
    let call = Call::new(d.test_erc721, IERC721::safeMintCall { to: account }.abi_encode());
    for _ in 0..2 {
        let stored = store.load(&record.reference())?.ok_or("the session is stored")?;
        let used =
            client.use_session(&stored.key, &stored.record, std::slice::from_ref(&call)).await?;
        println!("minted in {:?} mode: op {}", used.mode, used.sent.user_op_hash);
        if stored.record.enable.is_some() {
            store.update(&SessionRecord { enable: None, ..stored.record })?;
        }
    }
    let status = client.session_status(&record).await?;
    println!("{}", serde_json::to_string_pretty(&status.limits)?);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
