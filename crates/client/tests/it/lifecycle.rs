//! After the grant: revoke (an enabled session, a pending ENABLE grant), status from the chain
//! (enabled, pending first use, revoked, expired, exhausted), rotate to a new key in one op,
//! change an enabled session's policies (the local verdict and the chain agreeing after),
//! and uninstall SmartSession with each family's uninstall data — through the client on the
//! devnet's real account bytecode.
//!
//! Gas: `cargo test -p mandate-client --test it lifecycle -- --nocapture`.

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolValue;
use mandate_abi::{
    ActionId, Call, Erc20Action, Erc20Function, Policy, SessionBuilder, SmartSessionMode,
    account::{SENTINEL, install_validator},
    ownable::OwnableData,
    sol::{ActionData, ERC7739Context, ERC7739Data, ISmartSession, PolicyData},
};
use mandate_client::{
    ClientError, GrantState, MemoryStore, SessionChange, SessionKey, SessionRecord, SessionState,
    SessionStore, Sponsor, UseMode,
};
use mandate_sim::PAYMASTER_SIGNER_KEY;

use crate::families::{
    ALL, Family, Modules, SHOP, Setup, Signer, bundler, granted_with_mint, pay, pay_session,
    record, setup, setup_with, shop_balance,
};

/// The families the expiry and exhaustion stories run on (revoke, rotate and uninstall run on
/// every family).
const TWO: [Family; 2] = [Family::Mandate, Family::Nexus];

fn owner_nonce(s: &Setup, account: Address) -> U256 {
    let key = s.client.family().unwrap().owner_nonce_key();
    bundler(&s.client).with_devnet(|d| d.entry_point_nonce(account, key).unwrap()).unwrap()
}

#[tokio::test]
async fn revoking_an_enabled_session_stops_it() {
    for modules in [Modules::Mandate, Modules::Upstream] {
        for family in ALL {
            let s = setup_with(family, modules, Signer::Ecdsa).await;
            let (address, session) = granted_with_mint(&s).await;
            let r = record(&s, address, session);
            assert!(
                s.client
                    .use_session(&s.keys, &r, &[pay(&s, 1)])
                    .await
                    .unwrap()
                    .sent
                    .receipt
                    .success
            );
            let status = s.client.session_status(&r).await.unwrap();
            assert_eq!(status.state, SessionState::Enabled, "{family:?} {modules:?}");

            let revoked = s.client.revoke(&s.owner, &r).await.unwrap();
            assert!(revoked.removed && !revoked.enable_revoked, "{family:?}");
            assert!(revoked.sent.receipt.success);
            println!(
                "revoke (removeSession) {family:?} {modules:?}: {} gas",
                revoked.sent.receipt.actual_gas_used
            );
            assert!(!s.client.is_permission_enabled(address, r.permission_id).await.unwrap());
            // Read from the chain alone (the record still says granted): revoked.
            let status = s.client.session_status(&r).await.unwrap();
            assert_eq!(status.state, SessionState::Revoked, "{family:?} {modules:?}");
            assert!(!status.enabled && status.limits.is_empty());
            // A later use: refused before anything is sent, by the chain's answer...
            let err = s.client.use_session(&s.keys, &r, &[pay(&s, 1)]).await.unwrap_err();
            assert!(matches!(err, ClientError::NotEnabled { .. }), "{family:?}: {err}");
            // ...and by the record once the store says revoked, without reading the chain.
            let marked = SessionRecord { state: GrantState::Revoked, ..r.clone() };
            let err = s.client.use_session(&s.keys, &marked, &[pay(&s, 1)]).await.unwrap_err();
            assert!(
                matches!(err, ClientError::Revoked { permission_id, .. } if permission_id == r.permission_id),
                "{err}"
            );
            assert_eq!(
                s.client.session_status(&marked).await.unwrap().state,
                SessionState::Revoked
            );
            assert_eq!(shop_balance(&s), U256::from(1), "{family:?}: nothing more sent");
            // Nothing left to revoke.
            let err = s.client.revoke(&s.owner, &r).await.unwrap_err();
            assert!(matches!(err, ClientError::NothingToRevoke { .. }), "{err}");
        }
    }
}

#[tokio::test]
async fn revoking_a_pending_enable_grant_voids_the_owners_signature() {
    for modules in [Modules::Mandate, Modules::Upstream] {
        for family in ALL {
            let s = setup_with(family, modules, Signer::Ecdsa).await;
            let (address, _) = granted_with_mint(&s).await;
            let second = pay_session(&s, 2);
            let enable = s
                .client
                .prepare_enable(&s.owner, address, &second, SmartSessionMode::Enable)
                .await
                .unwrap();
            let r = SessionRecord { enable: Some(enable), ..record(&s, address, second) };
            let status = s.client.session_status(&r).await.unwrap();
            assert_eq!(status.state, SessionState::PendingFirstUse, "{family:?} {modules:?}");
            assert!(status.enable_pending);

            let revoked = s.client.revoke(&s.owner, &r).await.unwrap();
            assert!(!revoked.removed && revoked.enable_revoked);
            assert!(revoked.sent.receipt.success);
            println!(
                "revoke (revokeEnableSignature) {family:?} {modules:?}: {} gas",
                revoked.sent.receipt.actual_gas_used
            );
            // The enable nonce moved past the signature: revoked, read from the chain.
            let status = s.client.session_status(&r).await.unwrap();
            assert_eq!(status.state, SessionState::Revoked, "{family:?} {modules:?}");
            assert!(!status.enable_pending);
            // Its first use fails: locally...
            let err = s.client.use_session(&s.keys, &r, &[pay(&s, 1)]).await.unwrap_err();
            let ClientError::Refused { error, .. } = &err else { panic!("{family:?}: {err}") };
            assert!(error.starts_with("HashMismatch("), "{family:?} {modules:?}: {error}");
            // ...and in the pre-flight alone.
            let mut options = s.client.options().clone();
            options.checks.local_verdict = false;
            options.checks.estimate_gas = false;
            let devnet = bundler(&s.client).with_devnet(|d| d.clone()).unwrap();
            let blind = crate::families::client_on(devnet, family, modules).with_options(options);
            let err = blind.use_session(&s.keys, &r, &[pay(&s, 1)]).await.unwrap_err();
            let ClientError::Preflight { verdict, .. } = &err else { panic!("{family:?}: {err}") };
            assert_eq!(verdict.rejected().unwrap().rejection.code.as_deref(), Some("AA23"));
            assert!(!s.client.is_permission_enabled(address, r.permission_id).await.unwrap());
            assert_eq!(shop_balance(&s), U256::ZERO, "nothing sent");
        }
    }
}

/// One transfer of at most 10, valid until `until`, at most `uses` times.
async fn limited_session(s: &Setup, uses: u128, until: u64) -> (Address, SessionRecord) {
    let (address, _) = granted_with_mint(s).await;
    let now = bundler(&s.client).with_devnet(|d| d.timestamp()).unwrap();
    let transfer = Erc20Action::new(Erc20Function::Transfer, s.d.test_erc20)
        .recipient(SHOP)
        .amount_limit_per_action(U256::from(10))
        .usage_limit(uses)
        .time_frame(0, until)
        .build(&s.client.deployments().policies, now)
        .unwrap();
    let session = SessionBuilder::new(
        s.d.ecdsa_session_validator().unwrap(),
        s.keys.primary().address().to_vec(),
    )
    .action(transfer)
    .salt(B256::repeat_byte(9))
    .build()
    .unwrap();
    let account = mandate_client::Account::existing(address);
    s.client.grant(&s.owner, &account, std::slice::from_ref(&session), &[]).await.unwrap();
    (address, record(s, address, session))
}

#[tokio::test]
async fn status_says_expired_and_exhausted_from_the_chain() {
    for family in TWO {
        // Exhausted: one use allowed, used.
        let s = setup(family).await;
        let far = bundler(&s.client).with_devnet(|d| d.timestamp()).unwrap() + 86_400;
        let (_, r) = limited_session(&s, 1, far).await;
        assert_eq!(s.client.session_status(&r).await.unwrap().state, SessionState::Enabled);
        s.client.use_session(&s.keys, &r, &[pay(&s, 2)]).await.unwrap();
        let status = s.client.session_status(&r).await.unwrap();
        assert_eq!(status.state, SessionState::Exhausted, "{family:?}: {status:?}");
        let err = s.client.use_session(&s.keys, &r, &[pay(&s, 2)]).await.unwrap_err();
        assert!(matches!(err, ClientError::Refused { .. }), "{family:?}: {err}");

        // Expired: the clock past the time frame's end.
        let s = setup(family).await;
        let now = bundler(&s.client).with_devnet(|d| d.timestamp()).unwrap();
        let (_, r) = limited_session(&s, 5, now + 60).await;
        assert_eq!(s.client.session_status(&r).await.unwrap().state, SessionState::Enabled);
        bundler(&s.client).with_devnet(|d| d.set_timestamp(now + 61)).unwrap();
        let status = s.client.session_status(&r).await.unwrap();
        assert_eq!(status.state, SessionState::Expired, "{family:?}: {status:?}");
        let err = s.client.use_session(&s.keys, &r, &[pay(&s, 2)]).await.unwrap_err();
        assert!(
            matches!(err, ClientError::OutsideTimeWindow { .. } | ClientError::Refused { .. }),
            "{family:?}: {err}"
        );
    }
}

#[tokio::test]
async fn rotating_moves_the_permissions_to_a_new_key_in_one_op() {
    for family in ALL {
        let s = setup(family).await;
        let (address, session) = granted_with_mint(&s).await;
        let old = record(&s, address, session);
        let store = MemoryStore::new();
        store.save(s.keys.primary(), &old).unwrap();
        let new_key = SessionKey::random();
        let nonce = owner_nonce(&s, address);
        let rotated = s.client.rotate(&s.owner, &old, new_key.address()).await.unwrap();
        assert!(rotated.sent.receipt.success);
        println!("rotate {family:?}: {} gas", rotated.sent.receipt.actual_gas_used);
        assert_eq!(owner_nonce(&s, address), nonce + U256::from(1), "{family:?}: one owner op");
        assert_eq!(rotated.revoked, old.permission_id);
        assert_ne!(rotated.record.permission_id, old.permission_id);
        assert_eq!(rotated.record.session.actions, old.session.actions, "the same permissions");
        assert_eq!(rotated.record.session_key, new_key.address());
        // The store: the new record with its key, the old one marked revoked, in one write.
        let retired = SessionRecord { state: GrantState::Revoked, ..old.clone() };
        store.save_all(&[(&new_key, &rotated.record), (s.keys.primary(), &retired)]).unwrap();
        let loaded = store.load(&old.reference()).unwrap().unwrap();
        assert_eq!(loaded.record.state, GrantState::Revoked);
        let loaded = store.load(&rotated.record.reference()).unwrap().unwrap();
        assert_eq!(loaded.key.address(), new_key.address());

        assert!(!s.client.is_permission_enabled(address, old.permission_id).await.unwrap());
        assert!(
            s.client.is_permission_enabled(address, rotated.record.permission_id).await.unwrap()
        );
        // The old key is refused (by the chain's answer, and by its record once revoked).
        let err = s.client.use_session(&s.keys, &old, &[pay(&s, 1)]).await.unwrap_err();
        assert!(matches!(err, ClientError::NotEnabled { .. }), "{err}");
        let err = s.client.use_session(&s.keys, &retired, &[pay(&s, 1)]).await.unwrap_err();
        assert!(matches!(err, ClientError::Revoked { .. }), "{err}");
        // The old key cannot sign for the new permission either.
        let err = s.client.use_session(&s.keys, &rotated.record, &[pay(&s, 1)]).await.unwrap_err();
        assert!(matches!(err, ClientError::Signer { .. }), "{family:?}: {err}");
        // The new key works.
        let used = s.client.use_session(&new_key, &rotated.record, &[pay(&s, 3)]).await.unwrap();
        assert_eq!(used.mode, UseMode::Use);
        assert!(used.sent.receipt.success);
        assert_eq!(shop_balance(&s), U256::from(3));
    }
}

#[tokio::test]
async fn uninstalling_smart_session_on_every_family() {
    for family in ALL {
        let s = setup(family).await;
        let (address, session) = granted_with_mint(&s).await;
        let r = record(&s, address, session);
        let listed = matches!(family, Family::Nexus | Family::Safe | Family::Msa);
        let ownable = s.client.deployments().session_validators.ownable.unwrap();
        if listed {
            // Another validator installed after SmartSession heads the list: SmartSession's
            // `prev` is then that validator, not the sentinel.
            let data = OwnableData::new(1, vec![s.owner.address()]).unwrap().encode();
            let install = Call::new(address, install_validator(ownable, data));
            assert!(
                s.client.owner_op(&s.owner, address, &[install]).await.unwrap().receipt.success
            );
        }
        assert!(s.client.is_smart_session_installed(address).await.unwrap());
        let uninstalled = s
            .client
            .uninstall_smart_session(&s.owner, address)
            .await
            .unwrap_or_else(|e| panic!("{family:?}: {e}"));
        assert!(uninstalled.sent.receipt.success, "{family:?}");
        println!("uninstall {family:?}: {} gas", uninstalled.sent.receipt.actual_gas_used);
        if listed {
            let (prev, inner) =
                <(Address, Bytes)>::abi_decode_params(&uninstalled.deinit_data).unwrap();
            assert_eq!(prev, ownable, "{family:?}: prev read from the list");
            assert_ne!(prev, SENTINEL);
            assert!(inner.is_empty());
        } else {
            assert!(uninstalled.deinit_data.is_empty(), "{family:?}");
        }
        assert!(!s.client.is_smart_session_installed(address).await.unwrap(), "{family:?}");
        assert!(!s.client.is_permission_enabled(address, r.permission_id).await.unwrap());
        let status = s.client.session_status(&r).await.unwrap();
        assert_eq!(status.state, SessionState::Revoked, "{family:?}");
        let err = s.client.use_session(&s.keys, &r, &[pay(&s, 1)]).await.unwrap_err();
        assert!(matches!(err, ClientError::NotEnabled { .. }), "{family:?}: {err}");
        // Uninstalled already: refused before anything is sent.
        let err = s.client.uninstall_smart_session(&s.owner, address).await.unwrap_err();
        assert!(matches!(err, ClientError::NotInstalled { .. }), "{err}");
    }
}

/// The families and module sets the change stories run on.
const CASES: [(Family, Modules); 4] = [
    (Family::Mandate, Modules::Mandate),
    (Family::Nexus, Modules::Mandate),
    (Family::Mandate, Modules::Upstream),
    (Family::Nexus, Modules::Upstream),
];

/// A client on a copy of `s`'s devnet that asks no local verdict and estimates nothing: its
/// refusals are the pre-flight's (the chain's) alone.
fn chain_only(
    s: &Setup,
    family: Family,
    modules: Modules,
) -> mandate_client::SessionClient<mandate_client::devnet_bundler::DevnetBundler> {
    let mut options = s.client.options().clone();
    options.checks.local_verdict = false;
    options.checks.estimate_gas = false;
    let devnet = bundler(&s.client).with_devnet(|d| d.clone()).unwrap();
    crate::families::client_on(devnet, family, modules).with_options(options)
}

/// The use of `r` is refused by the local verdict (its error name returned) and, on a copy
/// of the chain, by the pre-flight alone.
async fn refused_both_ways(
    s: &Setup,
    (family, modules): (Family, Modules),
    r: &SessionRecord,
    call: Call,
) -> String {
    let err = s.client.use_session(&s.keys, r, std::slice::from_ref(&call)).await.unwrap_err();
    let ClientError::Refused { error, .. } = err else { panic!("{family:?}: local: {err}") };
    let err = chain_only(s, family, modules).use_session(&s.keys, r, &[call]).await.unwrap_err();
    let ClientError::Preflight { verdict, .. } = &err else { panic!("{family:?}: chain: {err}") };
    assert_eq!(verdict.rejected().unwrap().rejection.code.as_deref(), Some("AA23"), "{family:?}");
    error
}

fn change_gas(what: &str, (family, modules): (Family, Modules), changed: &mandate_client::Changed) {
    assert!(changed.sent.receipt.success, "{what} {family:?} {modules:?}");
    println!(
        "change ({what}) {family:?} {modules:?}: {} gas",
        changed.sent.receipt.actual_gas_used
    );
}

#[tokio::test]
async fn disabling_an_action_id_refuses_its_use_locally_and_on_chain() {
    for (family, modules) in CASES {
        let s = setup_with(family, modules, Signer::Ecdsa).await;
        let (address, session) = granted_with_mint(&s).await;
        let r = record(&s, address, session);
        assert!(
            s.client.use_session(&s.keys, &r, &[pay(&s, 1)]).await.unwrap().sent.receipt.success
        );
        let action = &r.session.actions[0];
        let id = ActionId::new(action.actionTarget, action.actionTargetSelector);
        let nonce = owner_nonce(&s, address);
        let changed = s
            .client
            .change_session(&s.owner, &r, &[SessionChange::DisableActionId(id)])
            .await
            .unwrap();
        change_gas("disableActionId", (family, modules), &changed);
        assert_eq!(owner_nonce(&s, address), nonce + U256::from(1), "one owner op");
        assert_eq!(changed.record.permission_id, r.permission_id, "the same permission");
        assert!(changed.record.session.actions.is_empty(), "{family:?}");
        assert!(s.client.is_permission_enabled(address, r.permission_id).await.unwrap());
        let error = refused_both_ways(&s, (family, modules), &changed.record, pay(&s, 1)).await;
        println!("disabled action, local verdict {family:?}: {error}");
        // The record as it was: Mandate's SmartSession is read from its storage, so the local
        // verdict refuses it too; upstream's is judged from the record, so it passes locally
        // and only the chain (the bundler's gas estimate) refuses it — what the changed record
        // avoids.
        let err = s.client.use_session(&s.keys, &r, &[pay(&s, 1)]).await.unwrap_err();
        match modules {
            Modules::Mandate => assert!(matches!(err, ClientError::Refused { .. }), "{err}"),
            Modules::Upstream => assert!(
                matches!(err, ClientError::Bundler(_)) && err.to_string().contains("NoPoliciesSet"),
                "{err}"
            ),
        }
        assert_eq!(shop_balance(&s), U256::from(1), "{family:?}: nothing more sent");
        // Refused before anything is sent: no change, a revoked record, a session not enabled.
        let err = s.client.change_session(&s.owner, &changed.record, &[]).await.unwrap_err();
        assert!(matches!(err, ClientError::Empty(_)), "{err}");
        let revoked = SessionRecord { state: GrantState::Revoked, ..changed.record.clone() };
        let permit = [SessionChange::SetPermitPaymaster(true)];
        let err = s.client.change_session(&s.owner, &revoked, &permit).await.unwrap_err();
        assert!(matches!(err, ClientError::Revoked { .. }), "{err}");
        let never = record(&s, address, pay_session(&s, 7));
        let err = s.client.change_session(&s.owner, &never, &permit).await.unwrap_err();
        assert!(matches!(err, ClientError::NotEnabled { .. }), "{err}");
        assert_eq!(owner_nonce(&s, address), nonce + U256::from(1), "no op sent");
    }
}

#[tokio::test]
async fn a_tighter_action_policy_and_a_user_op_policy_added_are_judged_locally() {
    for (family, modules) in CASES {
        // An action usage limit of 2 added to the transfer.
        let s = setup_with(family, modules, Signer::Ecdsa).await;
        let (address, session) = granted_with_mint(&s).await;
        let r = record(&s, address, session);
        let addresses = s.client.deployments().policies;
        let action = &r.session.actions[0];
        let limit = Policy::UsageLimit(2).to_policy_data(&addresses).unwrap();
        let tighter = ActionData { actionPolicies: vec![limit.clone()], ..action.clone() };
        let changed = s
            .client
            .change_session(&s.owner, &r, &[SessionChange::EnableActionPolicies(vec![tighter])])
            .await
            .unwrap();
        change_gas("enableActionPolicies usage limit", (family, modules), &changed);
        let policies = &changed.record.session.actions[0].actionPolicies;
        assert_eq!(policies.len(), action.actionPolicies.len() + 1);
        assert_eq!(policies.last(), Some(&limit));
        let r = changed.record;
        for _ in 0..2 {
            assert!(
                s.client
                    .use_session(&s.keys, &r, &[pay(&s, 1)])
                    .await
                    .unwrap()
                    .sent
                    .receipt
                    .success
            );
        }
        let error = refused_both_ways(&s, (family, modules), &r, pay(&s, 1)).await;
        assert!(error.starts_with("PolicyViolation("), "{family:?}: {error}");
        assert_eq!(shop_balance(&s), U256::from(2));

        // A user-op usage limit of 1 added.
        let s = setup_with(family, modules, Signer::Ecdsa).await;
        let (address, session) = granted_with_mint(&s).await;
        let r = record(&s, address, session);
        assert!(r.session.userOpPolicies.is_empty());
        let limit = Policy::UsageLimit(1).to_policy_data(&addresses).unwrap();
        let changed = s
            .client
            .change_session(
                &s.owner,
                &r,
                &[SessionChange::EnableUserOpPolicies(vec![limit.clone()])],
            )
            .await
            .unwrap();
        change_gas("enableUserOpPolicies usage limit", (family, modules), &changed);
        assert_eq!(changed.record.session.userOpPolicies, vec![limit]);
        let r = changed.record;
        assert!(
            s.client.use_session(&s.keys, &r, &[pay(&s, 1)]).await.unwrap().sent.receipt.success
        );
        let error = refused_both_ways(&s, (family, modules), &r, pay(&s, 1)).await;
        assert!(error.starts_with("PolicyViolation("), "{family:?}: {error}");
        assert_eq!(shop_balance(&s), U256::from(1));
    }
}

#[tokio::test]
async fn withdrawing_the_paymaster_permit_refuses_a_sponsored_use() {
    for (family, modules) in CASES {
        let mut s = setup_with(family, modules, Signer::Ecdsa).await;
        let account = mandate_client::Account::new(s.owner.address());
        let address = s.client.account_address(&account).await.unwrap();
        s.client.set_balance(address, U256::from(10u128.pow(18))).unwrap();
        let mut session = pay_session(&s, 3);
        session.permitERC4337Paymaster = true;
        session.userOpPolicies.push(PolicyData {
            policy: s.client.deployments().policies.sudo,
            initData: Bytes::new(),
        });
        // Paymasters under a sudo user-op policy: unbounded, allowed knowingly.
        s.client.options_mut().allow.insert(mandate_abi::explain::Risk::UnboundedPaymaster);
        let mint = crate::families::mint(&s, address);
        s.client.grant(&s.owner, &account, std::slice::from_ref(&session), &[mint]).await.unwrap();
        let r = record(&s, address, session);
        let paymaster = s.d.chain.paymaster.expect("the devnet's paymaster");
        s.client.options_mut().sponsor = Some(Sponsor::Verifying {
            paymaster,
            signer: PrivateKeySigner::from_bytes(&PAYMASTER_SIGNER_KEY).unwrap(),
        });
        let used = s.client.use_session(&s.keys, &r, &[pay(&s, 1)]).await.unwrap();
        assert_eq!(used.sent.receipt.paymaster, Some(paymaster), "{family:?}: sponsored");
        let changed = s
            .client
            .change_session(&s.owner, &r, &[SessionChange::SetPermitPaymaster(false)])
            .await
            .unwrap();
        change_gas("setPermit4337Paymaster(false)", (family, modules), &changed);
        assert!(!changed.record.session.permitERC4337Paymaster);
        let error = refused_both_ways(&s, (family, modules), &changed.record, pay(&s, 1)).await;
        println!("paymaster withdrawn, local verdict {family:?}: {error}");
        // Unsponsored, the same use passes.
        s.client.options_mut().sponsor = None;
        let used = s.client.use_session(&s.keys, &changed.record, &[pay(&s, 1)]).await.unwrap();
        assert_eq!(used.sent.receipt.paymaster, None);
        assert_eq!(shop_balance(&s), U256::from(2));
    }
}

#[tokio::test]
async fn a_batch_of_changes_leaves_the_record_describing_the_chains_session() {
    for (family, modules) in CASES {
        let mut s = setup_with(family, modules, Signer::Ecdsa).await;
        // The changes add ERC-7739 content: a risk the session did not have, allowed here.
        s.client.options_mut().allow.insert(mandate_abi::explain::Risk::Erc1271AnyHash);
        let (address, session) = granted_with_mint(&s).await;
        let r = record(&s, address, session);
        let addresses = s.client.deployments().policies;
        let sudo = PolicyData { policy: addresses.sudo, initData: Bytes::new() };
        let uses = Policy::UsageLimit(5).to_policy_data(&addresses).unwrap();
        let domain = B256::repeat_byte(0xd0);
        let content = |names: &[&str]| ERC7739Context {
            appDomainSeparator: domain,
            contentNames: names.iter().map(|n| (*n).to_owned()).collect(),
        };
        let transfer = &r.session.actions[0];
        let transfer_id = ActionId::new(transfer.actionTarget, transfer.actionTargetSelector);
        let other = ActionData {
            actionTargetSelector: [0xaa; 4].into(),
            actionTarget: SHOP,
            actionPolicies: vec![sudo.clone()],
        };
        let changes = [
            SessionChange::EnableUserOpPolicies(vec![sudo.clone(), uses.clone()]),
            SessionChange::DisableUserOpPolicies(vec![addresses.sudo]),
            SessionChange::EnableErc1271Policies(ERC7739Data {
                allowedERC7739Content: vec![content(&["Permit", "Order"])],
                erc1271Policies: vec![sudo.clone()],
            }),
            SessionChange::DisableErc1271Policies {
                policies: Vec::new(),
                contents: vec![content(&["Permit"])],
            },
            // A usage limit added to the transfer and an action added, then the transfer's
            // first policy removed (the limit swapped into its place).
            SessionChange::EnableActionPolicies(vec![
                ActionData { actionPolicies: vec![uses.clone()], ..transfer.clone() },
                other.clone(),
            ]),
            SessionChange::DisableActionPolicies {
                action: transfer_id,
                policies: vec![transfer.actionPolicies[0].policy],
            },
        ];
        let nonce = owner_nonce(&s, address);
        let changed = s.client.change_session(&s.owner, &r, &changes).await.unwrap();
        change_gas("six changes in one op", (family, modules), &changed);
        assert_eq!(owner_nonce(&s, address), nonce + U256::from(1), "one owner op");
        let session = &changed.record.session;

        // The record's session, set by set and in order, is the chain's.
        let (ss, pid) = (s.client.deployments().smart_session, r.permission_id.0);
        let chain = |call: &dyn Fn(&mut mandate_sim::Devnet) -> Vec<Address>| {
            bundler(&s.client).with_devnet(|d| call(d)).unwrap()
        };
        let user_op = chain(&|d| {
            d.call_sol(
                ss,
                &ISmartSession::getUserOpPoliciesCall { account: address, permissionId: pid },
            )
            .unwrap()
        });
        assert_eq!(user_op, vec![uses.policy], "{family:?} {modules:?}");
        assert_eq!(session.userOpPolicies.iter().map(|p| p.policy).collect::<Vec<_>>(), user_op);
        let erc1271 = chain(&|d| {
            d.call_sol(
                ss,
                &ISmartSession::getERC1271PoliciesCall { account: address, permissionId: pid },
            )
            .unwrap()
        });
        assert_eq!(erc1271, vec![addresses.sudo]);
        assert_eq!(
            session.erc7739Policies.erc1271Policies.iter().map(|p| p.policy).collect::<Vec<_>>(),
            erc1271
        );
        assert_eq!(session.erc7739Policies.allowedERC7739Content, vec![content(&["Order"])]);
        for (name, enabled) in [("Order", true), ("Permit", false)] {
            let on = bundler(&s.client)
                .with_devnet(|d| {
                    d.call_sol(
                        ss,
                        &ISmartSession::isERC7739ContentEnabledCall {
                            account: address,
                            permissionId: pid,
                            appDomainSeparator: domain,
                            content: name.to_owned(),
                        },
                    )
                    .unwrap()
                })
                .unwrap();
            assert_eq!(on, enabled, "{family:?} {modules:?}: {name}");
        }
        let actions: Vec<B256> = bundler(&s.client)
            .with_devnet(|d| {
                d.call_sol(
                    ss,
                    &ISmartSession::getEnabledActionsCall { account: address, permissionId: pid },
                )
                .unwrap()
            })
            .unwrap();
        let ids: Vec<B256> = session
            .actions
            .iter()
            .map(|a| ActionId::new(a.actionTarget, a.actionTargetSelector).0)
            .collect();
        assert_eq!(ids, actions, "{family:?} {modules:?}");
        for action in &session.actions {
            let id = ActionId::new(action.actionTarget, action.actionTargetSelector).0;
            let on_chain = chain(&|d| {
                d.call_sol(
                    ss,
                    &ISmartSession::getActionPoliciesCall {
                        account: address,
                        permissionId: pid,
                        actionId: id,
                    },
                )
                .unwrap()
            });
            let recorded: Vec<Address> = action.actionPolicies.iter().map(|p| p.policy).collect();
            assert_eq!(recorded, on_chain, "{family:?} {modules:?}: action {id}");
        }
        assert_eq!(session.actions[0].actionPolicies.len(), transfer.actionPolicies.len());
        assert_eq!(session.actions[0].actionPolicies.last(), Some(&uses));
        // The changed session is still usable where its policies allow.
        let used = s.client.use_session(&s.keys, &changed.record, &[pay(&s, 1)]).await.unwrap();
        assert!(used.sent.receipt.success, "{family:?} {modules:?}");
    }
}
