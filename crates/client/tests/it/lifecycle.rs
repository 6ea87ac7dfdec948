//! After the grant: revoke (an enabled session, a pending ENABLE grant), status from the chain
//! (enabled, pending first use, revoked, expired, exhausted), rotate to a new key in one op,
//! and uninstall SmartSession with each family's uninstall data — through the client on the
//! devnet's real account bytecode.
//!
//! Gas: `cargo test -p mandate-client --test it lifecycle -- --nocapture`.

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::SolValue;
use mandate_abi::{
    Call, Erc20Action, Erc20Function, SessionBuilder, SmartSessionMode,
    account::{SENTINEL, install_validator},
    ownable::OwnableData,
};
use mandate_client::{
    ClientError, GrantState, MemoryStore, SessionKey, SessionRecord, SessionState, SessionStore,
    UseMode,
};

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
