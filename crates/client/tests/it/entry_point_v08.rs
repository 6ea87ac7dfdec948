//! The client on the EntryPoint v0.8: a devnet whose deployments name v0.8 (Mandate's account
//! built for it, created by its own factory) grants and uses a session through v0.8 — hashed
//! with v0.8's EIP-712 hash, `handleOps` sent to v0.8, pre-flight run against v0.8 — and the
//! local verdict and the pre-flight refuse what the chain refuses. The same ops on v0.7 beside
//! it, for the gas.

use alloy_primitives::{Address, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate_abi::{
    Call, ENTRY_POINT_V07, ENTRY_POINT_V08, EntryPointVersion, Erc20Action, Erc20Function,
    SessionBuilder,
    sol::{IERC20, IEntryPoint},
};
use mandate_bundler::BundlerError;
use mandate_client::{
    Account, Chain, ClientError, SessionClient, SessionKey, SessionRecord, UseMode,
    devnet_bundler::DevnetBundler,
};
use mandate_sim::{Devnet, DevnetDeployments};

const SHOP: Address = Address::repeat_byte(0x5b);

alloy_sol_types::sol! {
    function entryPoint() external view returns (address);
}

fn devnet(client: &SessionClient<DevnetBundler>) -> &DevnetBundler {
    let Chain::Devnet(bundler) = client.chain() else { unreachable!() };
    bundler
}

struct Granted {
    client: SessionClient<DevnetBundler>,
    d: DevnetDeployments,
    key: SessionKey,
    account: Address,
    record: SessionRecord,
    grant_gas: U256,
}

/// An account on `version` granted a session that may transfer at most 10 of the test token to
/// `SHOP` per transfer, minted 100.
async fn granted(version: EntryPointVersion) -> Granted {
    let chain = Devnet::new().unwrap().on_entry_point(version);
    let d = *chain.deployments();
    let client = SessionClient::devnet(chain);
    let (owner, key) = (PrivateKeySigner::random(), SessionKey::random());
    let spec = Account::new(owner.address());
    let account = client.account_address(&spec).await.unwrap();
    devnet(&client).with_devnet(|d| d.set_balance(account, U256::from(10u128.pow(18)))).unwrap();
    let transfer = Erc20Action::new(Erc20Function::Transfer, d.test_erc20)
        .recipient(SHOP)
        .amount_limit_per_action(U256::from(10))
        .build(&d.chain.policies, 0)
        .unwrap();
    let session = SessionBuilder::new(d.ecdsa_session_validator().unwrap(), key.address().to_vec())
        .action(transfer)
        .build()
        .unwrap();
    let mint = Call::new(
        d.test_erc20,
        IERC20::mintCall { to: account, amount: U256::from(100) }.abi_encode(),
    );
    let g = client.grant(&owner, &spec, std::slice::from_ref(&session), &[mint]).await.unwrap();
    assert!(g.deployed && g.installed);
    let grant_gas = g.sent.unwrap().receipt.actual_gas_used;
    let record = SessionRecord::new(
        client.chain_id(),
        account,
        key.address(),
        session,
        d.chain.smart_session,
    );
    Granted { client, d, key, account, record, grant_gas }
}

fn pay(d: &DevnetDeployments, amount: u64) -> Call {
    Call::new(
        d.test_erc20,
        IERC20::transferCall { to: SHOP, amount: U256::from(amount) }.abi_encode(),
    )
}

/// The sequence number of `account`'s SmartSession nonce lane 0 at `entry_point`.
fn nonce_at(client: &SessionClient<DevnetBundler>, entry_point: Address, account: Address) -> U256 {
    let key = alloy_primitives::aliases::U192::from(mandate_abi::validator_nonce_key(
        client.deployments().smart_session,
        0,
    ));
    devnet(client)
        .with_devnet(|d| {
            d.call_sol(entry_point, &IEntryPoint::getNonceCall { sender: account, key }).unwrap()
        })
        .unwrap()
        & U256::from(u64::MAX)
}

#[tokio::test]
async fn a_session_is_granted_and_used_through_the_entry_point_v08() {
    let g = granted(EntryPointVersion::V08).await;
    assert_eq!(g.d.chain.entry_point, ENTRY_POINT_V08);
    assert_ne!(g.d.account_factory, Devnet::new().unwrap().deployments().account_factory);
    // The account the v0.8 factory created trusts v0.8.
    let trusted =
        devnet(&g.client).with_devnet(|d| d.call_sol(g.account, &entryPointCall {})).unwrap();
    assert_eq!(trusted.unwrap(), ENTRY_POINT_V08);

    let used = g.client.use_session(&g.key, &g.record, &[pay(&g.d, 3)]).await.unwrap();
    assert_eq!(used.mode, UseMode::Use);
    assert!(used.sent.receipt.success);
    assert_eq!(used.sent.receipt.entry_point, ENTRY_POINT_V08);
    // The hash the client signed is v0.8's, as the real v0.8 computes it, and not v0.7's.
    let op = used.sent.user_op.clone();
    let chain_id = g.client.chain_id();
    let on_chain = devnet(&g.client)
        .with_devnet(|d| {
            d.call_sol(ENTRY_POINT_V08, &IEntryPoint::getUserOpHashCall { userOp: op.clone() })
        })
        .unwrap()
        .unwrap();
    assert_eq!(used.sent.user_op_hash, on_chain);
    assert_eq!(
        on_chain,
        op.hash_for(EntryPointVersion::V08, ENTRY_POINT_V08, chain_id, None).unwrap()
    );
    assert_ne!(on_chain, op.hash(ENTRY_POINT_V07, chain_id));
    // The session lane's nonce moved at v0.8, not at v0.7.
    assert_eq!(nonce_at(&g.client, ENTRY_POINT_V08, g.account), U256::from(1));
    assert_eq!(nonce_at(&g.client, ENTRY_POINT_V07, g.account), U256::ZERO);
    let balance = devnet(&g.client)
        .with_devnet(|d| {
            d.call_sol(g.d.test_erc20, &IERC20::balanceOfCall { owner: SHOP }).unwrap()
        })
        .unwrap();
    assert_eq!(balance, U256::from(3));
    assert!(used.sent.preflight_gas.is_some(), "the pre-flight ran");
}

#[tokio::test]
async fn on_v08_the_local_verdict_and_the_preflight_refuse_what_the_chain_refuses() {
    let mut g = granted(EntryPointVersion::V08).await;
    let before = nonce_at(&g.client, ENTRY_POINT_V08, g.account);
    // Over the per-transfer limit: refused locally.
    let err = g.client.use_session(&g.key, &g.record, &[pay(&g.d, 11)]).await.unwrap_err();
    let ClientError::Refused { error, reason } = err else { panic!("{err}") };
    assert!(error.starts_with("PolicyViolation("), "{error}");
    assert!(reason.contains("UniActionPolicy"), "{reason}");
    // Without the local verdict and the estimate, the pre-flight against v0.8 refuses it.
    g.client.options_mut().checks.local_verdict = false;
    g.client.options_mut().checks.estimate_gas = false;
    let err = g.client.use_session(&g.key, &g.record, &[pay(&g.d, 11)]).await.unwrap_err();
    let ClientError::Preflight { verdict, .. } = err else { panic!("{err}") };
    let rejected = verdict.rejected().unwrap();
    assert_eq!(rejected.rejection.code.as_deref(), Some("AA23"));
    assert!(rejected.rejection.inner.as_ref().unwrap().is("PolicyViolation"));
    assert_eq!(nonce_at(&g.client, ENTRY_POINT_V08, g.account), before, "nothing was sent");

    // The chain: without the pre-flight too, the op goes to the (devnet) bundler, whose
    // handleOps on the real v0.8 rejects it the same way.
    g.client.options_mut().checks.preflight = false;
    let err = g.client.use_session(&g.key, &g.record, &[pay(&g.d, 11)]).await.unwrap_err();
    let ClientError::Bundler(BundlerError::Rpc(failure)) = &err else { panic!("{err}") };
    assert_eq!(failure.code, -32500, "{err}");
    assert!(failure.message.starts_with("AA23"), "{err}");
    assert_eq!(nonce_at(&g.client, ENTRY_POINT_V08, g.account), before, "the chain refused it");
}

/// The same grant and USE op on v0.7 and v0.8: prints the gas each EntryPoint charged.
#[tokio::test]
async fn the_same_ops_on_v07_and_v08_side_by_side() {
    let mut charged = Vec::new();
    for version in [EntryPointVersion::V07, EntryPointVersion::V08] {
        let g = granted(version).await;
        let used = g.client.use_session(&g.key, &g.record, &[pay(&g.d, 3)]).await.unwrap();
        assert!(used.sent.receipt.success);
        assert_eq!(used.sent.receipt.entry_point, version.address());
        let use_gas = used.sent.receipt.actual_gas_used;
        println!(
            "{version:?}: grant (deploy + install + mint) {} gas, USE transfer {use_gas} gas",
            g.grant_gas
        );
        charged.push((g.grant_gas, use_gas));
    }
    // Both charged something; the ops are the same, the EntryPoints differ.
    assert!(charged.iter().all(|(grant, used)| !grant.is_zero() && !used.is_zero()));
}
