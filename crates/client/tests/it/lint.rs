//! Grants that say what they allow, through the client on the devnet's real bytecode (Mandate's
//! account and Nexus): a session with a risk its options do not allow is refused before the
//! owner signs — the account stays undeployed, nothing reaches the bundler — and the same grant
//! with the risk allowed goes through and the key uses it.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use alloy_primitives::{Address, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate_abi::{
    Call, Policy, Session, SessionBuilder, SmartSessionMode, custom_action, explain::Risk,
    sol::IERC20,
};
use mandate_client::{
    Account, AccountFamily, Chain, ClientError, MandateAccount, Nexus, SessionClient, SessionKey,
    SessionRecord, UseMode, devnet_bundler::DevnetBundler,
};
use mandate_sim::{Devnet, DevnetDeployments};

const SHOP: Address = Address::repeat_byte(0x5b);

fn bundler(client: &SessionClient<DevnetBundler>) -> &DevnetBundler {
    let Chain::Devnet(bundler) = client.chain() else { unreachable!("a devnet client") };
    bundler
}

fn client(
    family: fn(&DevnetDeployments) -> Arc<dyn AccountFamily>,
) -> SessionClient<DevnetBundler> {
    let devnet = Devnet::new().unwrap();
    let d = *devnet.deployments();
    SessionClient::devnet(devnet).with_family(family(&d))
}

/// `transfer` on the test token under SudoPolicy alone: no time frame, no usage limit.
fn sudo_session(d: &DevnetDeployments, key: &SessionKey, salt: u8) -> Session {
    let transfer = custom_action(
        d.test_erc20,
        "transfer(address,uint256)",
        &[Policy::Sudo],
        &d.chain.policies,
    )
    .unwrap();
    SessionBuilder::new(d.ecdsa_session_validator().unwrap(), key.address().to_vec())
        .action(transfer)
        .salt(B256::repeat_byte(salt))
        .build()
        .unwrap()
}

async fn refused_then_allowed(family: fn(&DevnetDeployments) -> Arc<dyn AccountFamily>) {
    let mut client = client(family);
    let d = bundler(&client).with_devnet(|d| *d.deployments()).unwrap();
    let owner = PrivateKeySigner::random();
    let key = SessionKey::random();
    let spec = Account::new(owner.address());
    let account = client.account_address(&spec).await.unwrap();
    client.set_balance(account, U256::from(10u128.pow(18))).unwrap();
    let session = sudo_session(&d, &key, 1);
    let mint = Call::new(
        d.test_erc20,
        IERC20::mintCall { to: account, amount: U256::from(1000) }.abi_encode(),
    );

    let err = client
        .grant(&owner, &spec, std::slice::from_ref(&session), std::slice::from_ref(&mint))
        .await;
    let Err(ClientError::Risky { risks, findings }) = err else {
        panic!("an unbounded sudo session is refused: {err:?}")
    };
    assert_eq!(risks, [Risk::UnboundedSudo]);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(findings[0].contains("--allow unbounded-sudo"), "{findings:?}");
    assert!(
        !bundler(&client).with_devnet(|d| d.has_code(account)).unwrap(),
        "nothing was sent: the account is still undeployed"
    );
    // Two sessions of one key in one grant: the shared key is refused too, each risk named.
    let second = sudo_session(&d, &key, 2);
    let both = [session.clone(), second];
    let Err(ClientError::Risky { risks, .. }) = client.prepare_grant(&spec, &both, &[]).await
    else {
        panic!("two permissions of one key are refused")
    };
    assert_eq!(risks, [Risk::UnboundedSudo, Risk::SharedSessionKey]);

    client.options_mut().allow.insert(Risk::UnboundedSudo);
    assert!(matches!(
        client.prepare_grant(&spec, &both, &[]).await,
        Err(ClientError::Risky { risks, .. }) if risks == [Risk::SharedSessionKey]
    ));
    let granted =
        client.grant(&owner, &spec, std::slice::from_ref(&session), &[mint]).await.unwrap();
    assert!(granted.sent.is_some());
    assert!(client.is_permission_enabled(account, granted.permission_ids[0]).await.unwrap());
    let record = SessionRecord::new(
        client.chain_id(),
        account,
        key.address(),
        session,
        d.chain.smart_session,
    );
    let pay = Call::new(
        d.test_erc20,
        IERC20::transferCall { to: SHOP, amount: U256::from(7) }.abi_encode(),
    );
    let used = client.use_session(&key, &record, &[pay]).await.unwrap();
    assert_eq!(used.mode, UseMode::Use);
    assert!(used.sent.receipt.success);

    // ENABLE mode is linted as well: a second session of the same key, signed by nobody.
    client.options_mut().allow.clear();
    let fallback =
        SessionBuilder::new(d.ecdsa_session_validator().unwrap(), key.address().to_vec())
            .action(mandate_abi::builder::fallback_action(vec![
                Policy::UsageLimit(1).to_policy_data(&d.chain.policies).unwrap(),
            ]))
            .salt(B256::repeat_byte(3))
            .build()
            .unwrap();
    let refused = client.prepare_enable(&owner, account, &fallback, SmartSessionMode::Enable).await;
    assert!(
        matches!(&refused, Err(ClientError::Risky { risks, .. }) if *risks == [Risk::FallbackAction]),
        "{refused:?}"
    );
    client.options_mut().allow.insert(Risk::FallbackAction);
    client.prepare_enable(&owner, account, &fallback, SmartSessionMode::Enable).await.unwrap();
}

#[tokio::test]
async fn mandates_account_refuses_a_risky_grant_until_allowed() {
    refused_then_allowed(|d| Arc::new(MandateAccount::devnet(d))).await;
}

#[tokio::test]
async fn nexus_refuses_a_risky_grant_until_allowed() {
    refused_then_allowed(|d| Arc::new(Nexus::devnet(d))).await;
}
