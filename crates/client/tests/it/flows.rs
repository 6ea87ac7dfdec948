//! The client's flows on the embedded devnet: each pre-check stops what it should and only
//! that, switched-off checks are reported, ENABLE mode across two chains with one owner
//! signature, sponsorship (and the pre-flight refusing an op its paymaster would refuse), and
//! the errors a caller sees.
#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate_abi::SmartSessionMode::Enable;
use mandate_abi::{
    Call, Erc20Action, Erc20Function, PermissionId, PolicyData, Session, SessionBuilder,
    sol::{IERC20, IEntryPoint},
};
use mandate_client::{
    Account, Chain, Checks, ClientError, SessionClient, SessionKey, SessionRecord, Sponsor,
    UseMode, check_enabled_permissions, devnet_bundler::DevnetBundler, sign_enable,
};
use mandate_sim::{Devnet, DevnetDeployments, PAYMASTER_SIGNER_KEY};

const SHOP: Address = Address::repeat_byte(0x5b);

struct Setup {
    client: SessionClient<DevnetBundler>,
    d: DevnetDeployments,
    owner: PrivateKeySigner,
    key: SessionKey,
    account: Address,
}

fn devnet(client: &SessionClient<DevnetBundler>) -> &DevnetBundler {
    let Chain::Devnet(bundler) = client.chain() else { unreachable!() };
    bundler
}

async fn setup() -> Setup {
    setup_with(PrivateKeySigner::random(), SessionKey::random()).await
}

async fn setup_with(owner: PrivateKeySigner, key: SessionKey) -> Setup {
    let chain = Devnet::new().unwrap();
    let d = *chain.deployments();
    let client = SessionClient::devnet(chain);
    let spec = Account::new(owner.address());
    let account = client.account_address(&spec).await.unwrap();
    devnet(&client).with_devnet(|d| d.set_balance(account, U256::from(10u128.pow(18)))).unwrap();
    Setup { client, d, owner, key, account }
}

fn pay_session(s: &Setup, per_call: u64) -> Session {
    let d = &s.d;
    let transfer = Erc20Action::new(Erc20Function::Transfer, d.test_erc20)
        .recipient(SHOP)
        .amount_limit_per_action(U256::from(per_call))
        .build(&d.chain.policies, 0)
        .unwrap();
    SessionBuilder::new(
        d.ecdsa_session_validator().expect("the devnet's ECDSA validator"),
        s.key.address().to_vec(),
    )
    .action(transfer)
    .build()
    .unwrap()
}

fn record(s: &Setup, session: Session) -> SessionRecord {
    SessionRecord::new(
        s.client.chain_id(),
        s.account,
        s.key.address(),
        session,
        s.client.deployments().smart_session,
    )
}

fn pay(s: &Setup, amount: u64) -> Call {
    let token = s.d.test_erc20;
    Call::new(token, IERC20::transferCall { to: SHOP, amount: U256::from(amount) }.abi_encode())
}

async fn granted(per_call: u64, funds: u64) -> (Setup, SessionRecord) {
    let s = setup().await;
    let session = pay_session(&s, per_call);
    let spec = Account::new(s.owner.address());
    let token = s.d.test_erc20;
    let mint = Call::new(
        token,
        IERC20::mintCall { to: s.account, amount: U256::from(funds) }.abi_encode(),
    );
    let g = s.client.grant(&s.owner, &spec, std::slice::from_ref(&session), &[mint]).await.unwrap();
    assert!(g.deployed && g.installed && g.sent.is_some());
    let r = record(&s, session);
    (s, r)
}

fn nonce(s: &Setup) -> U256 {
    let key = mandate_abi::validator_nonce_key(s.client.deployments().smart_session, 0);
    devnet(&s.client).with_devnet(|d| d.entry_point_nonce(s.account, key).unwrap()).unwrap()
}

#[tokio::test]
async fn a_second_grant_of_the_same_session_sends_nothing() {
    let (s, r) = granted(10, 100).await;
    let spec = Account::new(s.owner.address());
    let again =
        s.client.grant(&s.owner, &spec, std::slice::from_ref(&r.session), &[]).await.unwrap();
    assert!(again.sent.is_none());
    assert!(!again.deployed && !again.installed);
    assert!(s.client.is_permission_enabled(s.account, r.permission_id).await.unwrap());
}

#[tokio::test]
async fn the_local_verdict_refuses_before_anything_is_sent() {
    let (s, r) = granted(10, 100).await;
    let before = nonce(&s);
    let err = s.client.use_session(&s.key, &r, &[pay(&s, 11)]).await.unwrap_err();
    let ClientError::Refused { error, reason } = err else { panic!("{err}") };
    assert!(error.starts_with("PolicyViolation("), "{error}");
    assert!(reason.contains("UniActionPolicy") && reason.contains("rule 1"), "{reason}");
    assert_eq!(nonce(&s), before, "nothing was sent");
}

#[tokio::test]
async fn without_the_local_verdict_the_preflight_still_refuses() {
    let (mut s, r) = granted(10, 100).await;
    s.client.options_mut().checks.local_verdict = false;
    let before = nonce(&s);
    let err = s.client.use_session(&s.key, &r, &[pay(&s, 11)]).await.unwrap_err();
    // Estimation runs first and meets the same refusal in simulation.
    let text = err.to_string();
    assert!(text.contains("PolicyViolation"), "{text}");
    assert_eq!(nonce(&s), before, "nothing was sent");

    s.client.options_mut().checks.estimate_gas = false;
    let err = s.client.use_session(&s.key, &r, &[pay(&s, 11)]).await.unwrap_err();
    let ClientError::Preflight { verdict, .. } = err else { panic!("{err}") };
    let rejected = verdict.rejected().unwrap();
    assert_eq!(rejected.rejection.code.as_deref(), Some("AA23"));
    assert!(rejected.rejection.inner.as_ref().unwrap().is("PolicyViolation"));
    assert_eq!(nonce(&s), before, "nothing was sent");
}

#[tokio::test]
async fn an_execution_revert_is_caught_by_the_preflight() {
    // Within the session (10 per call), but the account holds only 5 tokens.
    let (mut s, r) = granted(10, 5).await;
    s.client.options_mut().checks.estimate_gas = false;
    let before = nonce(&s);
    let err = s.client.use_session(&s.key, &r, &[pay(&s, 10)]).await.unwrap_err();
    let ClientError::Preflight { summary, verdict } = err else { panic!("{err}") };
    assert!(verdict.accepted().is_some(), "validation passes");
    assert!(summary.contains("execution reverts"), "{summary}");
    assert_eq!(nonce(&s), before, "nothing was sent");
}

#[tokio::test]
async fn checks_switched_off_are_reported_and_the_bundler_has_the_last_word() {
    let (mut s, r) = granted(10, 100).await;
    s.client.options_mut().checks =
        Checks { local_verdict: false, estimate_gas: false, preflight: false };
    let used = s.client.use_session(&s.key, &r, &[pay(&s, 10)]).await.unwrap();
    assert_eq!(used.sent.skipped, vec!["local verdict", "gas estimate", "pre-flight"]);
    assert_eq!(used.sent.preflight_gas, None);
    // An op the session refuses now reaches the bundler, which refuses it with AA23.
    let err = s.client.use_session(&s.key, &r, &[pay(&s, 11)]).await.unwrap_err();
    let ClientError::Bundler(e) = err else { panic!("{err}") };
    assert_eq!(e.aa_code(), Some("AA23"));
}

#[tokio::test]
async fn a_used_op_reports_what_was_checked() {
    let (s, r) = granted(10, 100).await;
    let used = s.client.use_session(&s.key, &r, &[pay(&s, 4), pay(&s, 6)]).await.unwrap();
    assert_eq!(used.mode, UseMode::Use);
    assert!(used.sent.skipped.is_empty());
    assert!(used.sent.preflight_gas.is_some_and(|g| g > 0));
    assert!(used.sent.receipt.success);
    // The limits the estimate chose are the op's.
    assert!(used.sent.user_op.accountGasLimits != alloy_primitives::B256::ZERO);
}

#[tokio::test]
async fn the_wrong_key_or_no_enable_data_are_errors() {
    let (s, r) = granted(10, 100).await;
    let other = SessionKey::random();
    let err = s.client.use_session(&other, &r, &[pay(&s, 1)]).await.unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Signer { source: mandate_client::SignerError::NotTheKey { .. }, .. }
        ),
        "{err}"
    );
    let mut relabelled = r.clone();
    relabelled.permission_id = PermissionId(alloy_primitives::B256::repeat_byte(9));
    let err = s.client.use_session(&s.key, &relabelled, &[pay(&s, 1)]).await.unwrap_err();
    assert!(matches!(err, ClientError::RecordMismatch { .. }), "{err}");
    assert!(!err.to_string().contains(&alloy_primitives::hex::encode(other.signer().to_bytes())));

    let mut other_session = pay_session(&s, 3);
    other_session.salt = alloy_primitives::B256::repeat_byte(1);
    let not_granted = record(&s, other_session);
    let err = s.client.use_session(&s.key, &not_granted, &[pay(&s, 1)]).await.unwrap_err();
    assert!(matches!(err, ClientError::NotEnabled { .. }), "{err}");
    let err = s.client.use_session(&s.key, &r, &[]).await.unwrap_err();
    assert!(matches!(err, ClientError::Empty(_)), "{err}");
}

#[tokio::test]
async fn one_owner_signature_enables_a_session_on_two_chains() {
    // Two chains, each with the owner's account and SmartSession installed without sessions.
    let a = setup().await;
    let b = setup_with(a.owner.clone(), a.key.clone()).await;
    assert_eq!(a.account, b.account);
    for s in [&a, &b] {
        let spec = Account::new(s.owner.address());
        let g = s.client.grant(&s.owner, &spec, &[], &[]).await.unwrap();
        assert!(g.installed);
    }
    let session = pay_session(&a, 10);
    let pid = PermissionId::of(&session);
    let targets = [
        a.client.enable_target(a.account, pid).await.unwrap(),
        b.client.enable_target(b.account, pid).await.unwrap(),
    ];
    let enables =
        sign_enable(&a.owner, a.client.family().unwrap().as_ref(), &session, &targets, Enable)
            .unwrap();
    assert_eq!(enables.len(), 2);
    assert_eq!(enables[0].permissionEnableSig, enables[1].permissionEnableSig, "one signature");
    assert_eq!((enables[0].chainDigestIndex, enables[1].chainDigestIndex), (0, 1));

    let before =
        check_enabled_permissions(&[(&a.client, a.account), (&b.client, b.account)], &[pid])
            .await
            .unwrap();
    assert!(before[&pid].values().all(|on| !on));
    for (s, enable) in [(&a, &enables[0]), (&b, &enables[1])] {
        let token = s.d.test_erc20;
        devnet(&s.client)
            .with_devnet(|d| {
                d.transact_sol(
                    mandate_sim::DEPLOYER,
                    token,
                    &IERC20::mintCall { to: s.account, amount: U256::from(50) },
                )
                .unwrap();
            })
            .unwrap();
        let r = SessionRecord { enable: Some(enable.clone()), ..record(s, session.clone()) };
        let used = s.client.use_session(&s.key, &r, &[pay(s, 10)]).await.unwrap();
        assert_eq!(used.mode, UseMode::Enable);
        // Once enabled, the same record is used in USE mode.
        let used = s.client.use_session(&s.key, &r, &[pay(s, 10)]).await.unwrap();
        assert_eq!(used.mode, UseMode::Use);
    }
    let after =
        check_enabled_permissions(&[(&a.client, a.account), (&b.client, b.account)], &[pid])
            .await
            .unwrap();
    assert_eq!(after[&pid].len(), 1, "both devnets are chain 31337");
    assert!(after[&pid].values().all(|on| *on));
}

#[tokio::test]
async fn a_forged_enable_signature_is_refused_locally() {
    let s = setup().await;
    let spec = Account::new(s.owner.address());
    s.client.grant(&s.owner, &spec, &[], &[]).await.unwrap();
    let session = pay_session(&s, 10);
    let target = s.client.enable_target(s.account, PermissionId::of(&session)).await.unwrap();
    let forged = sign_enable(
        &PrivateKeySigner::random(),
        s.client.family().unwrap().as_ref(),
        &session,
        &[target],
        Enable,
    )
    .unwrap();
    let r = SessionRecord { enable: Some(forged[0].clone()), ..record(&s, session) };
    let err = s.client.use_session(&s.key, &r, &[pay(&s, 1)]).await.unwrap_err();
    let ClientError::Refused { error, .. } = err else { panic!("{err}") };
    assert!(error.starts_with("InvalidEnableSignature"), "{error}");
}

#[tokio::test]
async fn a_sponsored_session_op_is_paid_by_the_paymaster() {
    let mut s = setup().await;
    // Sudo on every op and no usage limit: the paymaster is open to the key, knowingly.
    s.client.options_mut().allow.insert(mandate_abi::explain::Risk::UnboundedPaymaster);
    let d = s.d;
    let mut session = pay_session(&s, 10);
    session.permitERC4337Paymaster = true;
    session
        .userOpPolicies
        .push(PolicyData { policy: d.chain.policies.sudo, initData: Default::default() });
    let spec = Account::new(s.owner.address());
    let mint = Call::new(
        d.test_erc20,
        IERC20::mintCall { to: s.account, amount: U256::from(50) }.abi_encode(),
    );
    s.client.grant(&s.owner, &spec, std::slice::from_ref(&session), &[mint]).await.unwrap();
    let r = record(&s, session);
    let signer = PrivateKeySigner::from_bytes(&PAYMASTER_SIGNER_KEY).unwrap();
    let mut client = s.client;
    client.options_mut().sponsor = Some(Sponsor::Verifying {
        paymaster: d.chain.paymaster.expect("the devnet's paymaster"),
        signer,
    });
    let deposit = |c: &SessionClient<DevnetBundler>| {
        devnet(c)
            .with_devnet(|dn| {
                dn.call_sol(
                    d.chain.entry_point,
                    &IEntryPoint::balanceOfCall {
                        account: d.chain.paymaster.expect("the devnet's paymaster"),
                    },
                )
                .unwrap()
            })
            .unwrap()
    };
    let balance = |c: &SessionClient<DevnetBundler>| {
        devnet(c).with_devnet(|dn| dn.balance(s.account)).unwrap()
    };
    let (deposit_before, balance_before) = (deposit(&client), balance(&client));
    let s = Setup { client, ..s };
    let used = s.client.use_session(&s.key, &r, &[pay(&s, 10)]).await.unwrap();
    assert_eq!(
        used.sent.receipt.paymaster,
        Some(d.chain.paymaster.expect("the devnet's paymaster"))
    );
    assert_eq!(deposit_before - deposit(&s.client), used.sent.receipt.actual_gas_cost);
    assert_eq!(balance(&s.client), balance_before, "the account paid nothing");
}

#[tokio::test]
async fn a_paymaster_refusal_is_reported_by_the_preflight_as_the_paymasters() {
    let mut s = setup().await;
    // Paymasters with no bound (a sudo user-op policy), allowed knowingly.
    s.client.options_mut().allow.insert(mandate_abi::explain::Risk::UnboundedPaymaster);
    let d = s.d;
    let mut session = pay_session(&s, 10);
    session.permitERC4337Paymaster = true;
    session
        .userOpPolicies
        .push(PolicyData { policy: d.chain.policies.sudo, initData: Default::default() });
    let spec = Account::new(s.owner.address());
    let mint = Call::new(
        d.test_erc20,
        IERC20::mintCall { to: s.account, amount: U256::from(50) }.abi_encode(),
    );
    s.client.grant(&s.owner, &spec, std::slice::from_ref(&session), &[mint]).await.unwrap();
    let r = record(&s, session);
    let mut client = s.client;
    // A key the paymaster does not trust.
    client.options_mut().sponsor = Some(Sponsor::Verifying {
        paymaster: d.chain.paymaster.expect("the devnet's paymaster"),
        signer: PrivateKeySigner::random(),
    });
    let s = Setup { client, ..s };
    let before = nonce(&s);
    let err = s.client.use_session(&s.key, &r, &[pay(&s, 10)]).await.unwrap_err();
    let ClientError::Preflight { summary, .. } = &err else { panic!("{err}") };
    assert!(summary.contains("AA34 signature error"), "{summary}");
    assert_eq!(nonce(&s), before, "nothing was sent");
}
