//! A session key signing as the account (ERC-1271 / ERC-7739) on every family, on Mandate's
//! modules and upstream's: the client's signature is accepted by the account's own
//! `isValidSignature` in revm, and for signatures it must not give, the local evaluator's
//! verdict and the account's answer agree (content not allowed, another key, no ERC-1271
//! policy, an expired ERC-1271 time frame).

use alloy_dyn_abi::TypedData;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::SolCall;
use mandate_abi::{
    Call, Session,
    calldata::enable_sessions,
    erc7739::{AccountDomain, Contents},
    sol::{ERC7739Context, ERC7739Data, IERC7579Account, PolicyData},
};
use mandate_client::{ClientError, SessionKey, SessionRecord, SessionSigner};
use mandate_policy::{Deployment, Evaluator, SignatureRefusal, SignatureVerdict};

use crate::families::{
    ALL, Family, Modules, Setup, Signer, bundler, granted_with_mint, pay_session, record,
    setup_with,
};

const MAGIC: [u8; 4] = IERC7579Account::isValidSignatureCall::SELECTOR;
const APP: Address = Address::repeat_byte(0xaa);

fn typed(primary: &str, chain_id: u64) -> TypedData {
    serde_json::from_value(serde_json::json!({
        "types": {
            "EIP712Domain": [
                { "name": "name", "type": "string" },
                { "name": "version", "type": "string" },
                { "name": "chainId", "type": "uint256" },
                { "name": "verifyingContract", "type": "address" },
            ],
            primary: [{ "name": "contents", "type": "string" }],
        },
        "primaryType": primary,
        "domain": { "name": "Mail App", "version": "1", "chainId": chain_id, "verifyingContract": APP },
        "message": { "contents": "hello" },
    }))
    .unwrap()
}

/// `pay_session(s, salt)` also allowing `Mail(string contents)` under the app's domain, with
/// `policies` as its ERC-1271 policies; enabled by an owner op.
async fn enabled_with_content(
    s: &Setup,
    account: Address,
    salt: u8,
    policies: Vec<PolicyData>,
) -> SessionRecord {
    let mut session: Session = pay_session(s, salt);
    let app = typed("Mail", s.client.chain_id()).domain.separator();
    session.erc7739Policies = ERC7739Data {
        allowedERC7739Content: vec![ERC7739Context {
            appDomainSeparator: app,
            contentNames: vec!["Mail(string contents)".into()],
        }],
        erc1271Policies: policies,
    };
    let ss = s.client.deployments().smart_session;
    let enable = Call::new(ss, enable_sessions(std::slice::from_ref(&session)));
    assert!(s.client.owner_op(&s.owner, account, &[enable]).await.unwrap().receipt.success);
    record(s, account, session)
}

/// What the local evaluator and the account (in revm) answer for `inner` (the signature
/// after the routing prefix) over `hash`.
fn judged(
    s: &Setup,
    rec: &SessionRecord,
    hash: B256,
    inner: &Bytes,
) -> (SignatureVerdict, Result<Bytes, String>) {
    let family = s.client.family().unwrap().clone();
    let deployments = *s.client.deployments();
    let (rec, inner) = (rec.clone(), inner.clone());
    bundler(&s.client)
        .with_devnet(move |d| {
            let account = rec.account;
            let domain: AccountDomain = d
                .call_sol(account, &mandate_abi::sol::IERC5267::eip712DomainCall {})
                .unwrap()
                .into();
            let deployment = Deployment::new(&deployments);
            let mut state = if d.holds_mandate_smart_session(deployments.smart_session) {
                mandate_client::policy_sim::load(d, &deployment, account).unwrap()
            } else {
                let mut state = mandate_policy::AccountState::new(account);
                state.enable_sessions(&deployment, std::slice::from_ref(&rec.session)).unwrap();
                state
            };
            if !d.holds_mandate_smart_session(deployments.smart_session) {
                let reader = mandate_client::policy_sim::DevnetStorage(d);
                mandate_policy::load_policy_state(&reader, &deployment, &mut state).unwrap();
            }
            let local = Evaluator::new(deployment)
                .check_signature(&state, APP, hash, &inner, &domain, d.timestamp())
                .unwrap();
            let signature: Bytes =
                [&family.erc1271_prefix(deployments.smart_session)[..], &inner[..]].concat().into();
            let call = IERC7579Account::isValidSignatureCall { hash, signature };
            let chain = d.call(account, call.abi_encode().into()).map_err(|e| e.to_string());
            (local, chain)
        })
        .unwrap()
}

/// The local verdict and the account's answer agree: valid exactly when the account returns
/// the magic value.
fn agree(what: &str, (local, chain): &(SignatureVerdict, Result<Bytes, String>)) {
    let magic = chain.as_ref().is_ok_and(|out| out.starts_with(&MAGIC));
    assert_eq!(matches!(local, SignatureVerdict::Valid), magic, "{what}: {local:?} / {chain:?}");
    if let SignatureVerdict::Reverts(_) = local {
        // The account lets SmartSession's revert through, or (Nexus) catches it.
        assert!(
            chain.is_err() || chain.as_ref().is_ok_and(|out| out.starts_with(&[0xff; 4])),
            "{what}: {chain:?}"
        );
    }
}

/// The session signature for `typed` signed by `keys`, without the client's checks.
fn raw_signature(
    s: &Setup,
    keys: &SessionSigner,
    rec: &SessionRecord,
    typed: &TypedData,
    domain: &AccountDomain,
) -> (B256, Bytes) {
    let contents = Contents::from_typed_data(typed).unwrap();
    let scheme = keys.scheme(&rec.session, &s.client.deployments().session_validators);
    // Another key than the session's: sign as the session's scheme would, with that key.
    let digest = contents.signing_hash(domain).unwrap();
    let sig = match scheme {
        Ok(scheme) => scheme.sign(digest).unwrap(),
        Err(_) => keys.primary().sign_hash_personal(digest).unwrap().as_bytes().to_vec().into(),
    };
    (contents.app_hash(), contents.encode_signature(rec.permission_id, &sig).unwrap())
}

#[tokio::test]
async fn a_session_key_signs_typed_data_as_the_account_on_every_family() {
    for modules in [Modules::Mandate, Modules::Upstream] {
        for family in ALL {
            let what = format!("{family:?} on {modules:?}'s modules");
            let s = setup_with(family, modules, Signer::Ecdsa).await;
            let (account, _) = granted_with_mint(&s).await;
            let policies = s.client.deployments().policies;
            let sudo = PolicyData { policy: policies.sudo, initData: Bytes::new() };
            let rec = enabled_with_content(&s, account, 2, vec![sudo.clone()]).await;
            let mail = typed("Mail", s.client.chain_id());

            let installed = s.client.install_compatibility_fallback(&s.owner, account).await;
            if matches!(family, Family::Safe | Family::Msa) {
                // No domain of their own: the client says so until the fallback is installed.
                assert!(installed.unwrap().receipt.success, "{what}");
            } else {
                assert!(matches!(installed, Err(ClientError::Empty(_))), "{what}: {installed:?}");
            }

            let signed = s
                .client
                .sign_typed_data(&s.keys, &rec, &mail)
                .await
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(signed.hash, mail.eip712_signing_hash().unwrap(), "{what}");
            assert_eq!(signed.account_domain.verifying_contract, account, "{what}");
            assert_eq!(signed.account_domain.chain_id, U256::from(s.client.chain_id()));
            let inner = Bytes::copy_from_slice(
                &signed.signature
                    [s.client.family().unwrap().erc1271_prefix(rec.smart_session).len()..],
            );
            agree(&format!("{what}: signed"), &judged(&s, &rec, signed.hash, &inner));
            // Spec §8: valid for any hash asked of the account.
            let any = judged(&s, &rec, B256::repeat_byte(0x42), &inner);
            assert!(matches!(any.0, SignatureVerdict::Valid), "{what}: {any:?}");
            agree(&format!("{what}: another hash"), &any);

            // Content the session does not allow: the client refuses, the account too.
            let order = typed("Order", s.client.chain_id());
            let err = s.client.sign_typed_data(&s.keys, &rec, &order).await.unwrap_err();
            assert!(matches!(err, ClientError::SignatureRefused { .. }), "{what}: {err}");
            let (hash, raw) = raw_signature(&s, &s.keys, &rec, &order, &signed.account_domain);
            let verdict = judged(&s, &rec, hash, &raw);
            assert!(
                matches!(
                    verdict.0,
                    SignatureVerdict::Invalid(SignatureRefusal::ContentNotAllowed { .. })
                ),
                "{what}: {verdict:?}"
            );
            agree(&format!("{what}: other content"), &verdict);

            // Another key.
            let stranger = SessionSigner::from(SessionKey::random());
            let (hash, raw) = raw_signature(&s, &stranger, &rec, &mail, &signed.account_domain);
            let verdict = judged(&s, &rec, hash, &raw);
            assert!(
                matches!(verdict.0, SignatureVerdict::Invalid(SignatureRefusal::BadSignature(_))),
                "{what}: {verdict:?}"
            );
            agree(&format!("{what}: another key"), &verdict);

            // Content allowed, but no ERC-1271 policy: SmartSession reverts NoPoliciesSet.
            let bare = enabled_with_content(&s, account, 3, vec![]).await;
            let err = s.client.sign_typed_data(&s.keys, &bare, &mail).await.unwrap_err();
            assert!(err.to_string().contains("NoPoliciesSet"), "{what}: {err}");
            let (hash, raw) = raw_signature(&s, &s.keys, &bare, &mail, &signed.account_domain);
            let verdict = judged(&s, &bare, hash, &raw);
            assert!(matches!(verdict.0, SignatureVerdict::Reverts(_)), "{what}: {verdict:?}");
            agree(&format!("{what}: no policy"), &verdict);

            // An ERC-1271 time frame that has ended (validUntil 1, validAfter 0).
            let ended = PolicyData {
                policy: policies.time_frame,
                initData: [1u64.to_be_bytes()[2..].to_vec(), vec![0u8; 6]].concat().into(),
            };
            let late = enabled_with_content(&s, account, 4, vec![sudo, ended]).await;
            let err = s.client.sign_typed_data(&s.keys, &late, &mail).await.unwrap_err();
            assert!(matches!(err, ClientError::SignatureRefused { .. }), "{what}: {err}");
            let (hash, raw) = raw_signature(&s, &s.keys, &late, &mail, &signed.account_domain);
            let verdict = judged(&s, &late, hash, &raw);
            assert!(
                matches!(
                    verdict.0,
                    SignatureVerdict::Invalid(SignatureRefusal::PolicyRefused { .. })
                ),
                "{what}: {verdict:?}"
            );
            agree(&format!("{what}: time frame ended"), &verdict);
        }
    }
}

/// ERC-7739 content added to and removed from an enabled session with `change_session`: the
/// addition is a risk the session did not have (refused unless allowed), the signature is
/// accepted while the content is allowed and refused, by the client and by the account, once it
/// is removed.
#[tokio::test]
async fn content_added_and_removed_by_a_change_is_judged_as_the_account_judges() {
    use mandate_abi::explain::Risk;
    use mandate_client::SessionChange;
    for (family, modules) in [
        (Family::Mandate, Modules::Mandate),
        (Family::Nexus, Modules::Mandate),
        (Family::Nexus, Modules::Upstream),
    ] {
        let what = format!("{family:?} on {modules:?}'s modules");
        let mut s = setup_with(family, modules, Signer::Ecdsa).await;
        let (account, session) = granted_with_mint(&s).await;
        let rec = record(&s, account, session);
        let mail = typed("Mail", s.client.chain_id());
        let context = ERC7739Context {
            appDomainSeparator: mail.domain.separator(),
            contentNames: vec!["Mail(string contents)".into()],
        };
        let add = SessionChange::EnableErc1271Policies(ERC7739Data {
            allowedERC7739Content: vec![context.clone()],
            erc1271Policies: vec![PolicyData {
                policy: s.client.deployments().policies.sudo,
                initData: Bytes::new(),
            }],
        });
        // Not allowed: refused before anything is sent.
        let err =
            s.client.change_session(&s.owner, &rec, std::slice::from_ref(&add)).await.unwrap_err();
        assert!(
            matches!(&err, ClientError::Risky { risks, .. } if risks == &[Risk::Erc1271AnyHash]),
            "{what}: {err}"
        );
        let err = s.client.sign_typed_data(&s.keys, &rec, &mail).await.unwrap_err();
        assert!(matches!(err, ClientError::SignatureRefused { .. }), "{what}: {err}");

        s.client.options_mut().allow.insert(Risk::Erc1271AnyHash);
        let changed = s.client.change_session(&s.owner, &rec, &[add]).await.unwrap().record;
        let signed = s.client.sign_typed_data(&s.keys, &changed, &mail).await.unwrap();
        let prefix = s.client.family().unwrap().erc1271_prefix(changed.smart_session).len();
        let inner = Bytes::copy_from_slice(&signed.signature[prefix..]);
        agree(&format!("{what}: added"), &judged(&s, &changed, signed.hash, &inner));

        // The risk it now has stays allowed for later changes; the content removed.
        s.client.options_mut().allow.clear();
        let remove =
            SessionChange::DisableErc1271Policies { policies: vec![], contents: vec![context] };
        let removed = s.client.change_session(&s.owner, &changed, &[remove]).await.unwrap().record;
        assert!(removed.session.erc7739Policies.allowedERC7739Content.is_empty(), "{what}");
        let err = s.client.sign_typed_data(&s.keys, &removed, &mail).await.unwrap_err();
        assert!(
            matches!(&err, ClientError::SignatureRefused { reason } if reason.contains("allows no content")),
            "{what}: {err}"
        );
        let verdict = judged(&s, &removed, signed.hash, &inner);
        assert!(
            matches!(
                verdict.0,
                SignatureVerdict::Invalid(SignatureRefusal::ContentNotAllowed { .. })
            ),
            "{what}: {verdict:?}"
        );
        agree(&format!("{what}: removed"), &verdict);
    }
}
