//! EIP-7702 on the devnet through the client: an EOA delegated to Mandate's account
//! implementation for the EntryPoint v0.8 is the account. Its first op carries the `0x7702`
//! marker and the owner's signed authorization (applied by the bundle's type-4 transaction),
//! installs SmartSession and grants a session; the session key then uses it, and no later op
//! carries the authorization. The pre-flight refuses an authorization with a wrong field,
//! naming it; the gas of the first op with its authorization against the same op on an EOA
//! delegated beforehand.

use std::sync::Arc;

use alloy_primitives::{Address, Bytes, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate_abi::{
    Call, EntryPointVersion, Erc20Action, Erc20Function, Session, SessionBuilder,
    alloy_eip7702::{Authorization, SignedAuthorization},
    is_eip7702_init_code,
    sol::IERC20,
};
use mandate_client::{
    Account, ClientError, Eip7702Mandate, SessionClient, SessionKey, SessionRecord, UseMode,
    devnet_bundler::DevnetBundler,
};
use mandate_sim::{AuthorizationError, Devnet, DevnetDeployments, Preflight, RuleViolation};

const SHOP: Address = Address::repeat_byte(0x5b);

alloy_sol_types::sol! {
    struct Init { address module; bytes initData; }
    function initializeAccount(Init[] validators) external;
    function accountId() external view returns (string);
}

struct Eoa {
    client: SessionClient<DevnetBundler>,
    d: DevnetDeployments,
    owner: PrivateKeySigner,
    spec: Account,
}

/// A v0.8 devnet with a funded EOA whose client drives it as a delegated Mandate account.
fn eoa() -> Eoa {
    let chain = Devnet::new().unwrap().on_entry_point(EntryPointVersion::V08);
    let d = *chain.deployments();
    let client = SessionClient::devnet(chain).with_family(Arc::new(Eip7702Mandate::devnet(&d)));
    let owner = PrivateKeySigner::random();
    client.set_balance(owner.address(), U256::from(10u128.pow(18))).unwrap();
    let spec = Account::new(owner.address());
    Eoa { client, d, owner, spec }
}

fn with_devnet<R>(client: &SessionClient<DevnetBundler>, f: impl FnOnce(&mut Devnet) -> R) -> R {
    client.bundler().with_devnet(f).unwrap()
}

fn session(d: &DevnetDeployments, key: &SessionKey) -> Session {
    let transfer = Erc20Action::new(Erc20Function::Transfer, d.test_erc20)
        .recipient(SHOP)
        .amount_limit_per_action(U256::from(10))
        .build(&d.chain.policies, 0)
        .unwrap();
    SessionBuilder::new(d.ecdsa_session_validator().unwrap(), key.address().to_vec())
        .action(transfer)
        .build()
        .unwrap()
}

fn mint(d: &DevnetDeployments, to: Address) -> Call {
    Call::new(d.test_erc20, IERC20::mintCall { to, amount: U256::from(100) }.abi_encode())
}

fn pay(d: &DevnetDeployments, amount: u64) -> Call {
    Call::new(
        d.test_erc20,
        IERC20::transferCall { to: SHOP, amount: U256::from(amount) }.abi_encode(),
    )
}

fn sign(owner: &PrivateKeySigner, auth: Authorization) -> SignedAuthorization {
    let signature = owner.sign_hash_sync(&auth.signature_hash()).unwrap();
    auth.into_signed(signature)
}

#[tokio::test]
async fn a_session_is_granted_on_a_delegated_eoa_by_its_first_op_and_used() {
    let e = eoa();
    let (d, account) = (e.d, e.owner.address());
    assert_eq!(e.client.account_address(&e.spec).await.unwrap(), account, "the EOA is the account");
    assert!(!e.client.bundler().with_devnet(|dev| dev.has_code(account)).unwrap());
    let key = SessionKey::random();
    let session = session(&d, &key);

    let g = e
        .client
        .grant(&e.owner, &e.spec, std::slice::from_ref(&session), &[mint(&d, account)])
        .await
        .unwrap();
    assert!(g.deployed && g.installed);
    let first = g.sent.unwrap();
    assert!(first.receipt.success);
    assert!(is_eip7702_init_code(&first.user_op.initCode), "the first op has the 0x7702 marker");
    assert_eq!(first.user_op.initCode.len(), 20, "and no init call");
    assert_eq!(first.nonce_key, U256::ZERO, "signed by the EOA's own key (validator 0)");
    let auth = first.eip7702_auth.clone().expect("the first op carried the authorization");
    assert_eq!(auth.address, d.v08.account_implementation);
    assert_eq!(auth.nonce, 0);
    assert_eq!(auth.chain_id, U256::from(e.client.chain_id()));
    // The bundle delegated the EOA (and the authorization bumped its nonce).
    let (delegate, nonce, id) = with_devnet(&e.client, |dev| {
        (
            dev.delegate_of(account),
            dev.account_nonce(account),
            dev.call_sol(account, &accountIdCall {}),
        )
    });
    assert_eq!(delegate, Some(d.v08.account_implementation));
    assert_eq!(nonce, 1);
    assert!(id.unwrap().starts_with("mandate."));
    assert!(e.client.is_permission_enabled(account, g.permission_ids[0]).await.unwrap());

    // USE: the session key transfers; the op carries no authorization and no marker.
    let record = SessionRecord::new(
        e.client.chain_id(),
        account,
        key.address(),
        session.clone(),
        d.chain.smart_session,
    );
    let used = e.client.use_session(&key, &record, &[pay(&d, 3)]).await.unwrap();
    assert_eq!(used.mode, UseMode::Use);
    assert!(used.sent.receipt.success);
    assert!(used.sent.eip7702_auth.is_none());
    assert!(used.sent.user_op.initCode.is_empty());
    let balance = with_devnet(&e.client, |dev| {
        dev.call_sol(d.test_erc20, &IERC20::balanceOfCall { owner: SHOP }).unwrap()
    });
    assert_eq!(balance, U256::from(3));
    // Refused locally over the per-transfer limit, as on any account.
    let err = e.client.use_session(&key, &record, &[pay(&d, 11)]).await.unwrap_err();
    assert!(matches!(err, ClientError::Refused { .. }), "{err}");

    // A second owner op (another session) needs and carries no authorization.
    assert_eq!(e.client.eip7702_authorization(&e.spec).await.unwrap(), None);
    let other = self::session(&d, &SessionKey::random());
    let g2 = e.client.grant(&e.owner, &e.spec, &[other], &[]).await.unwrap();
    assert!(!g2.deployed && !g2.installed);
    let second = g2.sent.unwrap();
    assert!(second.receipt.success);
    assert!(second.eip7702_auth.is_none());
    assert!(second.user_op.initCode.is_empty());
    assert_eq!(with_devnet(&e.client, |dev| dev.account_nonce(account)), 1, "not re-delegated");
}

#[tokio::test]
async fn the_preflight_refuses_a_wrong_authorization_naming_the_field() {
    let e = eoa();
    let (d, account) = (e.d, e.owner.address());
    let session = session(&d, &SessionKey::random());
    let unsigned = e.client.eip7702_authorization(&e.spec).await.unwrap().expect("needs one");
    assert_eq!(unsigned.nonce, 0);
    let cases = [
        (Authorization { nonce: 1, ..unsigned.clone() }, "eip7702Auth.nonce"),
        (Authorization { chain_id: U256::from(1), ..unsigned.clone() }, "eip7702Auth.chainId"),
        (
            // Another contract than Mandate's v0.8 account implementation.
            Authorization { address: d.k1_validator, ..unsigned.clone() },
            "eip7702Auth.address",
        ),
    ];
    for (auth, field) in cases {
        let signed = sign(&e.owner, auth);
        let Err(err) = e
            .client
            .prepare_grant_with_authorization(
                &e.spec,
                std::slice::from_ref(&session),
                &[],
                Some(signed),
            )
            .await
        else {
            panic!("accepted: {field}")
        };
        assert!(err.to_string().contains(field), "{field}: {err}");
        let ClientError::Authorization { account: refused, source } = &err else { panic!("{err}") };
        assert_eq!(*refused, account);
        match (field, source) {
            ("eip7702Auth.nonce", AuthorizationError::Nonce { found: 1, current: 0, .. })
            | ("eip7702Auth.chainId", AuthorizationError::ChainId { .. })
            | ("eip7702Auth.address", AuthorizationError::Delegate { .. }) => {}
            other => panic!("{other:?}"),
        }
    }
    // Signed by another key than the EOA's.
    let stranger = PrivateKeySigner::random();
    let Err(err) = e
        .client
        .prepare_grant_with_authorization(
            &e.spec,
            std::slice::from_ref(&session),
            &[],
            Some(sign(&stranger, unsigned.clone())),
        )
        .await
    else {
        panic!("accepted: another key")
    };
    let ClientError::Authorization {
        source: AuthorizationError::Authority { recovered, .. }, ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(*recovered, Some(stranger.address()));
    // Without one the first op is not even built.
    let Err(err) = e.client.prepare_grant(&e.spec, &[session], &[]).await else {
        panic!("accepted without an authorization")
    };
    assert!(matches!(err, ClientError::AuthorizationMissing { .. }), "{err}");
    // Nothing was sent: the EOA is as it was.
    let (code, nonce) =
        with_devnet(&e.client, |dev| (dev.has_code(account), dev.account_nonce(account)));
    assert!(!code);
    assert_eq!(nonce, 0);
    // A chain id of 0 (any chain) is accepted.
    let any_chain = sign(&e.owner, Authorization { chain_id: U256::ZERO, ..unsigned });
    with_devnet(&e.client, |dev| {
        dev.check_authorization(account, &any_chain, d.v08.account_implementation)
    })
    .unwrap();
}

#[test]
fn the_delegated_eoa_is_initialised_only_by_itself_and_a_resent_authorization_warns() {
    let mut dev = Devnet::new().unwrap().on_entry_point(EntryPointVersion::V08);
    let d = *dev.deployments();
    let owner = PrivateKeySigner::random();
    let account = owner.address();
    dev.set_balance(account, U256::from(10u128.pow(18)));
    let auth = sign(
        &owner,
        Authorization {
            chain_id: U256::from(dev.chain_id()),
            address: d.v08.account_implementation,
            nonce: 0,
        },
    );
    dev.apply_authorizations(vec![auth.clone()]).unwrap();
    assert_eq!(dev.delegate_of(account), Some(d.v08.account_implementation));
    // Anyone else calling the initializer of the delegated EOA is refused (the clone's
    // "initialised in the implementation's constructor" does not hold for an EOA).
    let attacker = Address::repeat_byte(0xa7);
    dev.set_balance(attacker, U256::from(10u128.pow(18)));
    let call = initializeAccountCall {
        validators: vec![Init {
            module: d.k1_validator,
            initData: Bytes::copy_from_slice(attacker.as_slice()),
        }],
    };
    let err = dev.transact_sol(attacker, account, &call).unwrap_err();
    assert!(err.to_string().contains("Unauthorized"), "{err}");
    // The EOA itself may (a self-call: its own transaction to itself).
    let mine = initializeAccountCall {
        validators: vec![Init {
            module: d.k1_validator,
            initData: Bytes::copy_from_slice(account.as_slice()),
        }],
    };
    dev.transact_sol(account, account, &mine).unwrap();
    let installed = dev
        .call_sol(
            account,
            &mandate_abi::sol::IERC7579Account::isModuleInstalledCall {
                moduleTypeId: U256::from(1),
                module: d.k1_validator,
                additionalContext: Bytes::new(),
            },
        )
        .unwrap();
    assert!(installed);

    // An op re-sending the authorization the EOA already holds: the pre-flight warns.
    let op = mandate_abi::UserOperation {
        sender: account,
        factory: Some(mandate_abi::EIP7702_FACTORY_MARKER),
        ..Default::default()
    }
    .pack();
    let warnings = match dev.check_with_authorization(&op, Some(&auth)).unwrap() {
        Preflight::Accepted(a) => a.warnings,
        Preflight::Rejected(r) => r.warnings,
    };
    assert!(
        warnings.contains(&RuleViolation::AuthorizationResent {
            sender: account,
            delegate: d.v08.account_implementation
        }),
        "{warnings:?}"
    );
}

/// The gas of the first op of a delegated EOA (install SmartSession + grant + mint), carrying
/// its authorization, against the identical op on an EOA delegated beforehand (no marker, no
/// authorization). Prints both.
#[tokio::test]
async fn the_first_op_with_and_without_the_authorization() {
    let key = SessionKey::random();
    let mut measured = Vec::new();
    for delegated_before in [false, true] {
        let e = eoa();
        let (d, account) = (e.d, e.owner.address());
        if delegated_before {
            let unsigned = e.client.eip7702_authorization(&e.spec).await.unwrap().unwrap();
            let signed = sign(&e.owner, unsigned);
            with_devnet(&e.client, |dev| dev.apply_authorizations(vec![signed])).unwrap();
        }
        let g = e
            .client
            .grant(&e.owner, &e.spec, &[session(&d, &key)], &[mint(&d, account)])
            .await
            .unwrap();
        let sent = g.sent.unwrap();
        assert!(sent.receipt.success);
        assert_eq!(sent.eip7702_auth.is_some(), !delegated_before);
        assert_eq!(is_eip7702_init_code(&sent.user_op.initCode), !delegated_before);
        let op_gas = sent.receipt.actual_gas_used;
        let tx_gas = sent.receipt.receipt.gas_used.unwrap();
        println!(
            "7702 first op {}: actualGasUsed {op_gas}, handleOps tx gas {tx_gas}, preVerificationGas {}",
            if delegated_before {
                "after delegation (no authorization)"
            } else {
                "with its authorization"
            },
            sent.user_op.preVerificationGas,
        );
        measured.push((op_gas, tx_gas));
    }
    let [(with_op, with_tx), (without_op, without_tx)] = measured[..] else { unreachable!() };
    // The authorization costs the bundle (intrinsic gas) and so the op (preVerificationGas).
    assert!(with_tx > without_tx, "{with_tx} vs {without_tx}");
    assert!(with_op > without_op, "{with_op} vs {without_op}");
}

/// ENABLE mode on a delegated EOA: the owner's enable signature goes through the account's
/// ERC-1271 with its own key (20 zero bytes, no owner validator installed), and the session is
/// enabled by its first use; a signature by another key is refused before anything is sent.
#[tokio::test]
async fn a_session_is_enabled_by_its_first_use_on_a_delegated_eoa() {
    let e = eoa();
    let (d, account) = (e.d, e.owner.address());
    let first = session(&d, &SessionKey::random());
    let g = e.client.grant(&e.owner, &e.spec, &[first], &[mint(&d, account)]).await.unwrap();
    assert!(g.sent.unwrap().eip7702_auth.is_some());

    let key = SessionKey::random();
    let second = session(&d, &key);
    let record = |enable| SessionRecord {
        enable: Some(enable),
        ..SessionRecord::new(
            e.client.chain_id(),
            account,
            key.address(),
            second.clone(),
            d.chain.smart_session,
        )
    };
    // Signed by a stranger: the account's own-key check fails, nothing is enabled.
    let stranger = PrivateKeySigner::random();
    let forged = e
        .client
        .prepare_enable(&stranger, account, &second, mandate_abi::SmartSessionMode::Enable)
        .await
        .unwrap();
    let Err(err) = e.client.use_session(&key, &record(forged), &[pay(&d, 2)]).await else {
        panic!("a stranger's enable signature was accepted")
    };
    println!("stranger's enable: {err}");
    assert!(matches!(err, ClientError::Preflight { .. } | ClientError::Refused { .. }), "{err}");
    let enable = e
        .client
        .prepare_enable(&e.owner, account, &second, mandate_abi::SmartSessionMode::Enable)
        .await
        .unwrap();
    let used = e.client.use_session(&key, &record(enable), &[pay(&d, 2)]).await.unwrap();
    assert_eq!(used.mode, UseMode::Enable);
    assert!(used.sent.receipt.success);
    assert!(used.sent.eip7702_auth.is_none());
    assert!(
        e.client
            .is_permission_enabled(account, mandate_abi::PermissionId::of(&second))
            .await
            .unwrap()
    );
}
