//! A backend that keeps its session keys on disk: the owner signs a session off-chain (ENABLE
//! mode), the backend stores the new key in an encrypted keystore with the session's details,
//! and later — in another process, say — loads it and uses it; the first use enables the
//! session on chain, the store is updated, and later uses are plain USE ops.
//!
//! ```sh
//! cargo run --example enable_on_first_use
//! ```

use alloy_primitives::U256;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate::{
    abi::{Call, Policy, SessionBuilder, custom_action, sol::IERC721},
    client::{
        FileStore, OwnerAccount, SessionClient, SessionKey, SessionRecord, SessionStore,
        demo::policy_addresses,
    },
    sim::Devnet,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = SessionClient::devnet(Devnet::new()?);
    let d = *client.deployments();
    let owner = PrivateKeySigner::random();
    let spec = OwnerAccount::new(&d, owner.address());
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
        &policy_addresses(&d),
    )?;
    let session = SessionBuilder::new(d.ecdsa_session_validator, key.address().to_vec())
        .action(mint)
        .build()?;
    let enable = client.prepare_enable(&owner, account, &session).await?;
    let record = SessionRecord {
        chain_id: client.chain_id(),
        account,
        permission_id: mandate::abi::PermissionId::of(&session),
        session_key: key.address(),
        session,
        enable: Some(enable),
        smart_session: d.smart_session,
        label: Some("three mints".into()),
        granted_by: None,
        state: mandate::client::GrantState::Granted,
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
