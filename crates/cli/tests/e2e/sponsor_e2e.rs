//! Sponsorship through a real ERC-7677 paymaster service: `@pimlico/mock-paymaster` (pinned in
//! `e2e/`, verifying mode, over Pimlico's singleton paymaster for EntryPoint v0.7, which it
//! deploys) on anvil beside Alto. On Mandate's account and on Nexus the session client asks the
//! service for stub data before estimation and for the signed data after; the op goes through
//! Alto, the paymaster's deposit pays and the account's ether does not move. A session that
//! does not permit ERC-4337 paymasters is refused locally, naming it; a request the service
//! refuses is reported as the paymaster service's, without its URL. The gas of an unsponsored
//! and a sponsored op of the same transfer is measured from their `UserOperationEvent`s. In
//! ERC-20 mode the paymaster takes the fee in its token, to its treasury. Then the verifying
//! mode through the command: `mandate session use … --paymaster-url URL`.
//!
//! The gas per family: `cargo test -p mandate-cli --test e2e sponsor -- --nocapture`.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use alloy_primitives::{Address, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use mandate::abi::explain::Risk;
use mandate::abi::{
    Call, Erc20Action, Erc20Function, PolicyData, Session, SessionBuilder, UserOperation,
    sol::{IERC20, IEntryPoint},
};
use mandate::bundler::{BundlerClient, BundlerError, UserOperationReceipt};
use mandate::client::{
    Account, AccountFamily, ClientError, MandateAccount, Nexus, Options, PaymasterService,
    SessionClient, SessionKey, SessionRecord, Sponsor,
};
use mandate_testing::node::{Harness, Node};
use serde_json::json;

use crate::run::mandate;

const SHOP: Address = Address::repeat_byte(0x5b);
/// Where the mock paymaster's ERC-20 mode sends the fees (its `constants.treasury`).
const TREASURY: Address = alloy_primitives::address!("D8Baa107006C93a030d1455A2eF43261b384F21c");

alloy_sol_types::sol! {
    /// The mock paymaster's test token: minted by anyone.
    function sudoMint(address to, uint256 amount);
}
/// anvil's fifth dev key (a public test key): the owner of the account the command grants on.
const OWNER_KEY: &str = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a";
/// Stands for an API key in the service's URL: it must never show.
const API_KEY: &str = "SECRET-API-KEY-0123";

/// What the session may let the paymaster take of the service's token (18 decimals).
const FEE_ALLOWANCE: U256 = U256::from_limbs([0, 0x10, 0, 0]);

/// The transfer session; `sponsorable` permits ERC-4337 paymasters with the Sudo user-op
/// policy SmartSession then asks for.
/// The transfer session; `fee` = (the service's token, its paymaster) adds an `approve` of at
/// most [`FEE_ALLOWANCE`] of that token to that paymaster (ERC-20 mode).
fn transfer_session(
    d: &mandate::sim::DevnetDeployments,
    key: &SessionKey,
    sponsorable: bool,
    fee: Option<(Address, Address)>,
) -> Session {
    let transfer = Erc20Action::new(Erc20Function::Transfer, d.test_erc20)
        .recipient(SHOP)
        .amount_limit_per_action(U256::from(10))
        .build(&d.chain.policies, 0)
        .unwrap();
    let mut builder = SessionBuilder::new(
        d.ecdsa_session_validator().expect("the ECDSA session validator"),
        key.address().to_vec(),
    )
    .action(transfer);
    if let Some((token, paymaster)) = fee {
        let approve = Erc20Action::new(Erc20Function::Approve, token)
            .recipient(paymaster)
            .amount_limit_per_action(FEE_ALLOWANCE)
            .build(&d.chain.policies, 0)
            .unwrap();
        builder = builder.action(approve);
    }
    let mut session = builder.build().unwrap();
    session.salt = B256::with_last_byte(u8::from(sponsorable));
    if sponsorable {
        session.permitERC4337Paymaster = true;
        session
            .userOpPolicies
            .push(PolicyData { policy: d.chain.policies.sudo, initData: Default::default() });
    }
    session
}

fn pay(token: Address) -> Call {
    Call::new(token, IERC20::transferCall { to: SHOP, amount: U256::from(10) }.abi_encode())
}

/// `actualGasUsed` of the op's `UserOperationEvent` in its bundle's logs.
fn event_gas(receipt: &UserOperationReceipt) -> U256 {
    let event = receipt
        .receipt
        .logs
        .iter()
        .find(|log| {
            log.topics.first() == Some(&IEntryPoint::UserOperationEvent::SIGNATURE_HASH)
                && log.topics.get(1) == Some(&receipt.user_op_hash)
        })
        .expect("the op's UserOperationEvent");
    let decoded =
        IEntryPoint::UserOperationEvent::decode_raw_log(event.topics.iter().copied(), &event.data)
            .unwrap();
    assert!(decoded.success);
    assert_eq!(decoded.actualGasUsed, receipt.actual_gas_used, "Alto's receipt and the event");
    decoded.actualGasUsed
}

async fn deposit(node: &Node, entry_point: Address, paymaster: Address) -> U256 {
    node.call(entry_point, &IEntryPoint::balanceOfCall { account: paymaster }).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_op_sponsored_by_an_erc7677_service_through_alto_on_anvil() {
    let harness = Harness::start().await;
    let service = harness.start_paymaster().await;
    let d = harness.deployments;
    let (node, entry_point) = (&harness.node, d.chain.entry_point);
    let url = format!("{}/?apikey={API_KEY}", service.url);

    // The service's paymaster for EntryPoint v0.7, as its stub data names it.
    let stub = BundlerClient::new(&url)
        .unwrap()
        .paymaster_stub_data(&UserOperation::default(), entry_point, harness.chain_id, json!({}))
        .await
        .unwrap();
    let paymaster = stub.paymaster.expect("a paymaster");
    assert!(!node.code(paymaster).await.is_empty(), "the service deployed its paymaster");
    assert!(deposit(node, entry_point, paymaster).await >= U256::from(50u128 * 10u128.pow(18)));

    let families: [(&str, Arc<dyn AccountFamily>); 2] =
        [("Mandate", Arc::new(MandateAccount::devnet(&d))), ("Nexus", Arc::new(Nexus::devnet(&d)))];
    for (name, family) in families {
        sponsored_story(&harness, &url, paymaster, service.erc20, name, family).await;
    }

    cli_sponsored_use(&harness, &url, paymaster).await;
}

/// On one family's account: a grant of a session that permits paymasters and of one that
/// does not, two unsponsored ops (the account pays), a sponsored one (the paymaster's deposit
/// pays), the second session refused locally, a context the service refuses, and an op whose
/// fee the paymaster takes in its test token (ERC-20 mode).
async fn sponsored_story(
    harness: &Harness,
    url: &str,
    paymaster: Address,
    fee_token: Address,
    name: &str,
    family: Arc<dyn AccountFamily>,
) {
    let d = harness.deployments;
    let (node, entry_point) = (&harness.node, d.chain.entry_point);
    let connect = |sponsor: Option<Sponsor>| {
        let (node_url, bundler_url) = (harness.node_url.clone(), harness.bundler_url.clone());
        let family = Arc::clone(&family);
        async move {
            SessionClient::connect(&node_url, &bundler_url, d.chain)
                .await
                .unwrap()
                .with_family(family)
                // One key behind both sessions and paymasters with no bound: the comparison
                // is between two sessions alike but for the permit, taken knowingly.
                .with_options(Options {
                    sponsor,
                    allow: [Risk::UnboundedPaymaster, Risk::SharedSessionKey].into(),
                    ..Options::default()
                })
        }
    };
    let client = connect(None).await;
    let shop_balance = || node.call(d.test_erc20, &IERC20::balanceOfCall { owner: SHOP });
    let shop_before = shop_balance().await;

    // The owner grants both sessions and mints the account its tokens (paying for that op).
    let (owner, key) = (PrivateKeySigner::random(), SessionKey::random());
    let spec = Account::new(owner.address());
    let account = client.account_address(&spec).await.unwrap();
    node.set_balance(account, U256::from(10u128.pow(18))).await;
    let (sponsorable, plain) = (
        transfer_session(&d, &key, true, Some((fee_token, paymaster))),
        transfer_session(&d, &key, false, None),
    );
    let mint = Call::new(
        d.test_erc20,
        IERC20::mintCall { to: account, amount: U256::from(1000) }.abi_encode(),
    );
    let sessions = [sponsorable.clone(), plain.clone()];
    client.grant(&owner, &spec, &sessions, &[mint]).await.unwrap();
    let record = |session: Session| {
        SessionRecord::new(
            client.chain_id(),
            account,
            key.address(),
            session,
            d.chain.smart_session,
        )
    };
    let (sponsorable, plain) = (record(sponsorable), record(plain));
    let transfer = [pay(d.test_erc20)];

    // Unsponsored, twice: the first warms the counters and SHOP's balance, the second is the
    // baseline; the account pays.
    // (v0.7 refunds an op's unused prefund to the account's deposit at the EntryPoint, which
    // the next op draws on first: what the account holds is its balance and that deposit.)
    let holds =
        || async { node.balance(account).await + deposit(node, entry_point, account).await };
    client.use_session(&key, &sponsorable, &transfer).await.unwrap();
    let before = holds().await;
    let unsponsored = client.use_session(&key, &sponsorable, &transfer).await.unwrap().sent;
    assert_eq!(unsponsored.receipt.paymaster, None);
    assert_eq!(before - holds().await, unsponsored.receipt.actual_gas_cost);
    let unsponsored_gas = event_gas(&unsponsored.receipt);

    // Sponsored by the service: the paymaster's deposit pays, the account's ether stays.
    let sponsor = PaymasterService::new(url).unwrap().with_context(json!({}));
    let sponsored_client = connect(Some(Sponsor::Service(sponsor))).await;
    let options = format!("{:?}", sponsored_client.options());
    assert!(!options.contains(API_KEY) && !options.contains(url), "{options}");
    let (balance, held, deposit_before) =
        (node.balance(account).await, holds().await, deposit(node, entry_point, paymaster).await);
    let sponsored = sponsored_client.use_session(&key, &sponsorable, &transfer).await.unwrap().sent;
    assert_eq!(sponsored.receipt.paymaster, Some(paymaster));
    assert_eq!(node.balance(account).await, balance, "the account's ether did not move");
    assert_eq!(holds().await, held, "nor its deposit at the EntryPoint");
    let paid = deposit_before - deposit(node, entry_point, paymaster).await;
    assert!(!paid.is_zero(), "the paymaster's deposit paid");
    assert_eq!(paid, sponsored.receipt.actual_gas_cost);
    let sponsored_gas = event_gas(&sponsored.receipt);
    assert_eq!(shop_balance().await - shop_before, U256::from(30), "three transfers of 10");
    let pm = &sponsored.user_op.paymasterAndData;
    let limit = |at: usize| u128::from_be_bytes(pm[at..at + 16].try_into().unwrap());
    eprintln!(
        "{name}: actualGasUsed (UserOperationEvent): unsponsored {unsponsored_gas}, sponsored \
         by the mock paymaster (verifying) {sponsored_gas}, overhead {}; the sponsored op's \
         paymasterAndData {} bytes, paymaster limits: validation {}, postOp {}",
        sponsored_gas.saturating_sub(unsponsored_gas),
        pm.len(),
        limit(20),
        limit(36),
    );
    assert!(sponsored_gas > unsponsored_gas, "the paymaster's validation costs gas");

    // A session that does not permit paymasters: refused locally, naming it; nothing sent.
    let (nonce, nonce_key) = (sponsored.user_op.nonce, sponsored.nonce_key);
    let err = sponsored_client.use_session(&key, &plain, &transfer).await.unwrap_err();
    let ClientError::Refused { error, reason } = &err else { panic!("{err}") };
    assert!(error.starts_with("PaymasterValidationNotEnabled("), "{error}");
    assert!(reason.contains("does not permit ERC-4337 paymasters"), "{reason}");
    assert_eq!(node.balance(account).await, balance);
    let key_nonce = node
        .call(entry_point, &IEntryPoint::getNonceCall { sender: account, key: nonce_key.to() })
        .await;
    assert_eq!(key_nonce, nonce + U256::from(1), "nothing was sent");

    // A request the service refuses (a context it does not take): the paymaster service's
    // error, with its method and message, never its URL.
    let picky = PaymasterService::new(url).unwrap().with_context(json!({"sponsorshipPolicyId": 7}));
    let refused = connect(Some(Sponsor::Service(picky))).await;
    let err = refused.use_session(&key, &sponsorable, &transfer).await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains(API_KEY) && !text.contains(url), "{text}");
    let ClientError::PaymasterService(BundlerError::Rpc(failure)) = &err else { panic!("{err}") };
    assert_eq!(failure.method, "pm_getPaymasterStubData");
    assert!(text.starts_with("paymaster service"), "{text}");

    // ERC-20 mode (context {"token": …}): the paymaster's postOp takes the fee in the token,
    // to the service's treasury, once the account has approved it (here in an op of its own).
    // Alto 0.0.20's estimate of such an op fails (AA50: the postOp's TransferFromFailed, with
    // allowance and balance in place; the same op passes the pre-flight in revm and
    // handleOps), so this op carries the client's placeholder limits: its gas includes the
    // EntryPoint's 10% charge on unused execution gas and is no overhead measurement.
    let mint = sudoMintCall { to: account, amount: U256::from(10u128.pow(21)) }.abi_encode();
    node.transact(Some(fee_token), U256::ZERO, mint.into()).await;
    let tokens = |owner: Address| async move {
        node.call(fee_token, &IERC20::balanceOfCall { owner }).await
    };
    let in_token = PaymasterService::new(url).unwrap().with_context(json!({"token": fee_token}));
    let mut erc20_client = connect(Some(Sponsor::Service(in_token))).await;
    erc20_client.options_mut().checks.estimate_gas = false;
    let approve = Call::new(
        fee_token,
        IERC20::approveCall { spender: paymaster, amount: FEE_ALLOWANCE }.abi_encode(),
    );
    client.use_session(&key, &sponsorable, &[approve]).await.unwrap();
    let (held, tokens_before, treasury_before, deposit_before) = (
        holds().await,
        tokens(account).await,
        tokens(TREASURY).await,
        deposit(node, entry_point, paymaster).await,
    );
    let in_token = erc20_client.use_session(&key, &sponsorable, &transfer).await.unwrap().sent;
    assert_eq!(in_token.receipt.paymaster, Some(paymaster));
    assert_eq!(holds().await, held, "the account paid no ether");
    assert_eq!(
        deposit_before - deposit(node, entry_point, paymaster).await,
        in_token.receipt.actual_gas_cost
    );
    let fee = tokens_before - tokens(account).await;
    assert!(!fee.is_zero(), "the account paid in the token");
    assert_eq!(tokens(TREASURY).await - treasury_before, fee, "to the service's treasury");
    assert_eq!(in_token.skipped, vec!["gas estimate"]);
    eprintln!(
        "{name}: ERC-20 mode (placeholder limits, not comparable): actualGasUsed {}, fee {fee} \
         token units for {} wei",
        event_gas(&in_token.receipt),
        in_token.receipt.actual_gas_cost
    );
}

/// `mandate session grant` of a transfer session that permits paymasters and of one that does
/// not, then `mandate session use … --paymaster-url URL` of each: the first paid by the
/// service's paymaster, the second refused locally in one line naming the missing permit.
async fn cli_sponsored_use(harness: &Harness, url: &str, paymaster: Address) {
    let d = harness.deployments;
    let dir = tempfile::tempdir().unwrap();
    let deployments = dir.path().join("deployments.json");
    std::fs::write(&deployments, serde_json::to_vec(&d).unwrap()).unwrap();
    let store = dir.path().join("sessions");
    let env = [("MANDATE_OWNER_KEY", OWNER_KEY), ("MANDATE_STORE_PASSWORD", "correct horse")];
    let args = |cmd: &str, more: &[String]| {
        let mut args: Vec<String> = ["session", cmd, "--rpc-url", &harness.node_url]
            .into_iter()
            .map(String::from)
            .collect();
        args.extend(["--bundler-url".into(), harness.bundler_url.clone()]);
        args.extend(["--deployments".into(), deployments.display().to_string()]);
        args.extend(["--store".into(), store.display().to_string(), "--json".into()]);
        args.extend_from_slice(more);
        args
    };
    let owner: PrivateKeySigner = OWNER_KEY.parse().unwrap();
    let validators =
        mandate::abi::account::mandate::owner_validators(d.k1_validator, owner.address());
    let query = mandate::abi::account::mandate::address_query(validators, Default::default());
    let account: Address = harness.node.call(d.account_factory, &query).await;
    harness.node.set_balance(account, U256::from(10u128.pow(18))).await;

    let transfer = Erc20Action::new(Erc20Function::Transfer, d.test_erc20)
        .recipient(SHOP)
        .amount_limit_per_action(U256::from(10))
        .build(&d.chain.policies, 0)
        .unwrap();
    let grant = |sponsorable: bool| {
        let user_op_policies = if sponsorable {
            json!([{"policy": d.chain.policies.sudo, "initData": "0x"}])
        } else {
            json!([])
        };
        let session = json!({
            "sessionValidator": Address::ZERO,
            "sessionValidatorInitData": "0x",
            "salt": B256::with_last_byte(0x70 + u8::from(sponsorable)),
            "userOpPolicies": user_op_policies,
            "erc7739Policies": {"allowedERC7739Content": [], "erc1271Policies": []},
            "actions": [transfer],
            "permitERC4337Paymaster": sponsorable,
        });
        let file = dir.path().join(format!("session-{sponsorable}.json"));
        std::fs::write(&file, serde_json::to_vec(&session).unwrap()).unwrap();
        let mut extra = vec!["--session".to_string(), file.display().to_string()];
        if sponsorable {
            // Paymasters under a sudo user-op policy: unbounded, allowed knowingly.
            extra.extend(["--allow".into(), "unbounded-paymaster".into()]);
        }
        let out = mandate(&args("grant", &extra), &env);
        assert!(out.status.success(), "grant: {}", String::from_utf8_lossy(&out.stderr));
        let granted: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        granted["permissionId"].as_str().unwrap().to_string()
    };
    let (sponsorable, plain) = (grant(true), grant(false));
    let mint = IERC20::mintCall { to: account, amount: U256::from(100) }.abi_encode();
    harness.node.transact(Some(d.test_erc20), U256::ZERO, mint.into()).await;

    let calls = dir.path().join("calls.json");
    let data = IERC20::transferCall { to: SHOP, amount: U256::from(10) }.abi_encode();
    let call_data = alloy_primitives::hex::encode_prefixed(data);
    let calls_json = json!([{ "target": d.test_erc20, "value": "0", "callData": call_data }]);
    std::fs::write(&calls, serde_json::to_vec(&calls_json).unwrap()).unwrap();
    let use_args = |pid: &str| {
        args(
            "use",
            &[
                "--account".into(),
                account.to_string(),
                "--permission-id".into(),
                pid.to_string(),
                "--calls".into(),
                calls.display().to_string(),
                "--paymaster-url".into(),
                url.to_string(),
            ],
        )
    };
    let node = &harness.node;
    let held = || async {
        node.balance(account).await + deposit(node, d.chain.entry_point, account).await
    };
    let before = held().await;
    let out = mandate(&use_args(&sponsorable), &env);
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "use: {stderr}");
    assert!(!stdout.contains(API_KEY) && !stderr.contains(API_KEY), "{stdout} {stderr}");
    let used: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(used["sent"]["receipt"]["success"], true);
    let paid_by: Address =
        serde_json::from_value(used["sent"]["receipt"]["paymaster"].clone()).unwrap();
    assert_eq!(paid_by, paymaster);
    assert_eq!(held().await, before, "the account paid nothing");

    let out = mandate(&use_args(&plain), &env);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("refused locally")
            && stderr.contains("does not permit ERC-4337 paymasters"),
        "{stderr}"
    );
    assert!(!stderr.contains(API_KEY), "{stderr}");
}
