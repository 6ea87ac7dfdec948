//! Grant a session key a narrowly scoped ERC-20 permission on the embedded devnet, use it,
//! watch the client refuse what the session does not allow, and read what is left.
//!
//! ```sh
//! cargo run --example grant_and_use
//! ```

// One crate of several sharing the package's dev-dependencies: not all of them are used here.
#![allow(unused_crate_dependencies)]

use alloy_primitives::{Address, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate::{
    abi::{Call, Erc20Action, Erc20Function, SessionBuilder, sol::IERC20},
    client::{ClientError, OwnerAccount, SessionClient, SessionKey, SessionRecord},
    sim::Devnet,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let devnet = Devnet::new()?;
    let d = *devnet.deployments();
    let client = SessionClient::devnet(devnet);
    let owner = PrivateKeySigner::random();
    let key = SessionKey::random();
    let spec = OwnerAccount::new(&d, owner.address());
    let account = client.account_address(&spec).await?;
    client.set_balance(account, U256::from(10u128.pow(18)))?;

    // At most 10 tokens per transfer, to one shop, twice.
    let shop = Address::repeat_byte(0x5b);
    let transfer = Erc20Action::new(Erc20Function::Transfer, d.test_erc20)
        .recipient(shop)
        .amount_limit_per_action(U256::from(10))
        .usage_limit(2)
        .build(&d.chain.policies, 0)?;
    let session = SessionBuilder::new(
        d.ecdsa_session_validator().ok_or("no ECDSA session validator")?,
        key.address().to_vec(),
    )
    .action(transfer)
    .build()?;

    // One owner op: deploy the account, install SmartSession with the session, mint tokens.
    let mint = Call::new(
        d.test_erc20,
        IERC20::mintCall { to: account, amount: U256::from(100) }.abi_encode(),
    );
    let granted = client.grant(&owner, &spec, std::slice::from_ref(&session), &[mint]).await?;
    println!("granted {} on {account}", granted.permission_ids[0]);

    let record = SessionRecord {
        granted_by: granted.sent.map(|s| s.user_op_hash),
        ..SessionRecord::new(
            client.chain_id(),
            account,
            key.address(),
            session,
            d.chain.smart_session,
        )
    };
    let pay = |amount: u64| {
        Call::new(
            d.test_erc20,
            IERC20::transferCall { to: shop, amount: U256::from(amount) }.abi_encode(),
        )
    };
    let used = client.use_session(&key, &record, &[pay(10)]).await?;
    println!("paid 10: op {} ({} gas)", used.sent.user_op_hash, used.sent.receipt.actual_gas_used);

    match client.use_session(&key, &record, &[pay(11)]).await {
        Err(ClientError::Refused { error, reason }) => println!("11 refused: {error}: {reason}"),
        other => return Err(format!("expected a refusal, got {other:?}").into()),
    }

    let status = client.session_status(&record).await?;
    println!("{}", serde_json::to_string_pretty(&status)?);
    Ok(())
}
