//! ENABLE and UNSAFE_ENABLE: a session the owner signed (EIP-712, spec §7) is enabled inside
//! the session key's first op. Digest, nonce, chain, account and signature checks, replay. Every
//! test runs on each account family in turn ([`on_every_family`]): the owner's signature routed
//! and hashed as the family's `isValidSignature` expects (Kernel's prefix and wrapped hash),
//! SmartSession's refusals as the family reports them; where a family's bytecode answers
//! otherwise (an unknown validator in the prefix), the test says what it does.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, B256, Bytes, U256, address, b256};
use alloy_sol_types::{Eip712Domain, SolCall, SolEvent, SolStruct, eip712_domain};
use mandate::abi::AccountType;
use mandate::abi::{
    ChainDigest, ChainSession, EnableSession, PermissionId, Policy, Session, SignedSession,
    SmartSessionMode,
    builder::fallback_action,
    encode_enable, fastlz, multichain_digest,
    sol::{IERC721, ISmartSession},
};
use mandate_testing::{policy_data::*, verdict::*, world::*};

/// The EIP-712 types the account owner signs for ENABLE (spec §7), declared here independently
/// of mandate-abi's hashing and of the contract, as an oracle: alloy's generic EIP-712 encoder
/// over these declarations must give mandate-abi's digest. Note the field name `contentName`.
mod eip712 {
    use alloy_sol_types::sol;

    sol! {
        #[derive(serde::Deserialize)]
        struct PolicyData {
            address policy;
            bytes initData;
        }

        #[derive(serde::Deserialize)]
        struct ActionData {
            bytes4 actionTargetSelector;
            address actionTarget;
            PolicyData[] actionPolicies;
        }

        #[derive(serde::Deserialize)]
        struct ERC7739Context {
            bytes32 appDomainSeparator;
            string[] contentName;
        }

        #[derive(serde::Deserialize)]
        struct ERC7739Data {
            ERC7739Context[] allowedERC7739Content;
            PolicyData[] erc1271Policies;
        }

        #[derive(serde::Deserialize)]
        struct SignedPermissions {
            bool permitGenericPolicy;
            bool permitAdminAccess;
            bool ignoreSecurityAttestations;
            bool permitERC4337Paymaster;
            PolicyData[] userOpPolicies;
            ERC7739Data erc7739Policies;
            ActionData[] actions;
        }

        #[derive(serde::Deserialize)]
        struct SignedSession {
            address account;
            SignedPermissions permissions;
            address sessionValidator;
            bytes sessionValidatorInitData;
            bytes32 salt;
            address smartSession;
            uint256 nonce;
        }

        #[derive(serde::Deserialize)]
        struct ChainSession {
            uint64 chainId;
            SignedSession session;
        }

        #[derive(serde::Deserialize)]
        struct MultiChainSession {
            ChainSession[] sessionsAndChainIds;
        }
    }
}

/// The EIP-712 domain of the enable signature: {name "SmartSession", version "1"}.
fn smart_session_domain() -> Eip712Domain {
    eip712_domain! { name: "SmartSession", version: "1", }
}

/// Kernel's `InvalidValidator()`.
const KERNEL_INVALID_VALIDATOR: [u8; 4] = alloy_primitives::hex!("682a6e7c");

/// The reference account's `InvalidModule(address)`.
const MSA_INVALID_MODULE: [u8; 4] = alloy_primitives::hex!("b927fe5e");

/// Who the tests' NFTs are minted to: an EOA, as Nexus 1.0.x has no `onERC721Received` (a safe
/// mint to the account itself reverts in execution there; these tests are about validation).
const MINTED_TO: Address = Address::repeat_byte(0x7e);

/// A safe mint to [`MINTED_TO`].
fn mint(w: &World) -> Call {
    Call::new(w.ops.d.test_erc721, IERC721::safeMintCall { to: MINTED_TO }.abi_encode())
}

fn mint_session(w: &World) -> Session {
    let sudo = vec![policy(w.ops.d.chain.policies.sudo, vec![])];
    w.session(7, vec![action(w.ops.d.test_erc721, IERC721::safeMintCall::SELECTOR, sudo)])
}

/// The NFTs [`MINTED_TO`] holds (one world's devnet: every test starts from none).
fn nft_balance(w: &mut World) -> U256 {
    let call = IERC721::balanceOfCall { owner: MINTED_TO };
    w.devnet.call_sol(w.ops.d.test_erc721, &call).unwrap()
}

fn on_chain_digest(w: &mut World, session: &Session, mode: SmartSessionMode) -> B256 {
    w.view(&ISmartSession::getSessionDigestCall {
        permissionId: PermissionId::of(session).0,
        account: w.ops.account,
        data: session.clone(),
        mode: mode as u8,
    })
}

#[test]
fn enable_then_use_in_one_op_and_use_mode_afterwards() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        let session = mint_session(&w);
        let id = PermissionId::of(&session);
        let enable = w.enable_data(&session, SmartSessionMode::Enable);
        let op = w.enable_op(SmartSessionMode::Enable, &enable, &[mint(&w)]);
        included(&w.submit(op));
        assert_eq!(nft_balance(&mut w), U256::from(1));
        assert!(w.view(&ISmartSession::isPermissionEnabledCall {
            permissionId: id.0,
            account: w.ops.account
        }));
        assert_eq!(w.enable_nonce(id), U256::from(1));

        let op = w.use_op(id, &[mint(&w)]);
        included(&w.submit(op));
        assert_eq!(nft_balance(&mut w), U256::from(2));
    });
}

#[test]
fn unsafe_enable_signs_its_own_flag() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        let session = mint_session(&w);
        // Signed for ENABLE, sent as UNSAFE_ENABLE: the recomputed digest differs.
        let enable = w.enable_data(&session, SmartSessionMode::Enable);
        let op = w.enable_op(SmartSessionMode::UnsafeEnable, &enable, &[mint(&w)]);
        let provided = enable.hashesAndChainIds[0].sessionDigest;
        let computed = w.session_digest(&session, SmartSessionMode::UnsafeEnable, U256::ZERO);
        assert_ne!(provided, computed);
        w.submit_rejected(op, "HashMismatch", &[provided.to_string(), computed.to_string()]);

        let enable = w.enable_data(&session, SmartSessionMode::UnsafeEnable);
        let op = w.enable_op(SmartSessionMode::UnsafeEnable, &enable, &[mint(&w)]);
        included(&w.submit(op));
        assert_eq!(nft_balance(&mut w), U256::from(1));
    });
}

#[test]
fn contract_digest_matches_independent_eip712_hashing() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        let mut session = mint_session(&w);
        // Exercise every part of the type: user-op policies, ERC-7739 content, fallback flags.
        session.userOpPolicies =
            vec![policy(w.ops.d.chain.policies.usage_limit, init(Policy::UsageLimit(3)))];
        session.erc7739Policies.allowedERC7739Content = vec![mandate::abi::ERC7739Context {
            appDomainSeparator: B256::repeat_byte(4),
            contentNames: vec!["Mail(string a)".into(), "X(uint256 y)".into()],
        }];
        session.erc7739Policies.erc1271Policies =
            vec![policy(w.ops.d.chain.policies.sudo, vec![1, 2, 3])];
        session.actions.push(fallback_action(vec![policy(w.ops.d.chain.policies.sudo, vec![])]));
        session.actions.push(action(Address::with_last_byte(1), [0, 0, 0, 2], vec![]));
        session.permitERC4337Paymaster = true;
        for mode in [SmartSessionMode::Enable, SmartSessionMode::UnsafeEnable] {
            assert_eq!(
                on_chain_digest(&mut w, &session, mode),
                w.session_digest(&session, mode, U256::ZERO)
            );
        }
        let signed = SignedSession::of(
            &session,
            w.ops.account,
            w.ops.smart_session,
            U256::ZERO,
            SmartSessionMode::Enable,
        );
        assert!(signed.permissions.permitGenericPolicy && signed.permissions.permitAdminAccess);

        // The multichain digest equals eth_signTypedData_v4 over MultiChainSession.
        let other = SignedSession::of(
            &session,
            Address::repeat_byte(2),
            Address::repeat_byte(3),
            U256::from(9),
            SmartSessionMode::UnsafeEnable,
        );
        let entries = [
            ChainDigest { chainId: 1, sessionDigest: other.digest() },
            ChainDigest { chainId: 31337, sessionDigest: signed.digest() },
        ];
        // The same chain sessions as the oracle's types (mandate-abi's JSON uses the EIP-712 names).
        let chains = vec![
            ChainSession { chainId: 1, session: other },
            ChainSession { chainId: 31337, session: signed },
        ];
        let json = serde_json::json!({ "sessionsAndChainIds": chains });
        let full: eip712::MultiChainSession = serde_json::from_value(json).unwrap();
        assert_eq!(multichain_digest(&entries), full.eip712_signing_hash(&smart_session_domain()));
    });
}

#[test]
fn digest_matches_the_spec_test_vector() {
    on_every_family(|family| {
        // Spec §7.5: S0 with account = smartSession = 0x6605…4503, ENABLE, nonce 0. Our runtime is
        // placed at that address so that `address(this)` is the vector's.
        let mut w = World::with_family(family);
        let at = address!("6605F8785E09a245DD558e55F9A0f4A508434503");
        let runtime =
            mandate::contracts::artifacts().get("SmartSession").unwrap().deployed_bytecode.clone();
        w.devnet.set_code(at, runtime);
        let zero = || policy(Address::ZERO, Bytes::new());
        let s0 = Session {
            userOpPolicies: vec![zero()],
            erc7739Policies: mandate::abi::ERC7739Data {
                allowedERC7739Content: vec![mandate::abi::ERC7739Context {
                    appDomainSeparator: b256!(
                        "506da236a69b2f437f547d7900eb350f6a4cb145b6b850a499f29954b24c5739"
                    ),
                    contentNames: vec!["mockContent".into()],
                }],
                erc1271Policies: vec![zero()],
            },
            actions: vec![action(Address::ZERO, [0; 4], vec![zero()])],
            permitERC4337Paymaster: true,
            ..Default::default()
        };
        let call = ISmartSession::getSessionDigestCall {
            permissionId: B256::ZERO,
            account: at,
            data: s0.clone(),
            mode: SmartSessionMode::Enable as u8,
        };
        let digest = w.devnet.call_sol(at, &call).unwrap();
        let expected = b256!("fe5ab8aab1e51d73d0ff471e7bc35458db292e47e8edcca72bab35a26bde6460");
        assert_eq!(digest, expected);
        assert_eq!(
            SignedSession::of(&s0, at, at, U256::ZERO, SmartSessionMode::Enable).digest(),
            expected
        );
        let entries = [ChainDigest { chainId: 1, sessionDigest: expected }];
        assert_eq!(
            multichain_digest(&entries),
            b256!("0c72e36a501d54cd5fd8a537862caee2b492b60d7daa8cdd12fd526205267e16")
        );
    });
}

#[test]
fn replaying_an_enable_signature_fails_the_digest() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        let session = mint_session(&w);
        let enable = w.enable_data(&session, SmartSessionMode::Enable);
        let op = w.enable_op(SmartSessionMode::Enable, &enable, &[mint(&w)]);
        included(&w.submit(op));
        // Same enable data in a new op: nonce 1 is now signed for, the data carries nonce 0's digest.
        let op = w.enable_op(SmartSessionMode::Enable, &enable, &[mint(&w)]);
        let computed = w.session_digest(&session, SmartSessionMode::Enable, U256::from(1));
        let provided = enable.hashesAndChainIds[0].sessionDigest;
        w.submit_rejected(op, "HashMismatch", &[provided.to_string(), computed.to_string()]);

        // Also after removeSession: the nonce is never reset.
        let id = PermissionId::of(&session);
        w.owner_exec(&[
            w.smart_session_call(ISmartSession::removeSessionCall { permissionId: id.0 })
        ]);
        let op = w.enable_op(SmartSessionMode::Enable, &enable, &[mint(&w)]);
        w.submit_rejected(op, "HashMismatch", &[provided.to_string(), computed.to_string()]);
        assert_eq!(nft_balance(&mut w), U256::from(1));
    });
}

#[test]
fn revoked_enable_signature_no_longer_verifies() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        let session = mint_session(&w);
        let id = PermissionId::of(&session);
        let enable = w.enable_data(&session, SmartSessionMode::Enable);
        let receipt =
            w.owner_exec(&[w.smart_session_call(ISmartSession::revokeEnableSignatureCall {
                permissionId: id.0,
            })]);
        let event = receipt
            .logs
            .iter()
            .find(|l| l.topics()[0] == ISmartSession::NonceIterated::SIGNATURE_HASH)
            .map(|l| ISmartSession::NonceIterated::decode_log_data(&l.data).unwrap())
            .unwrap();
        assert_eq!(
            (event.permissionId, event.account, event.newValue),
            (id.0, w.ops.account, U256::from(1))
        );
        let op = w.enable_op(SmartSessionMode::Enable, &enable, &[mint(&w)]);
        let computed = w.session_digest(&session, SmartSessionMode::Enable, U256::from(1));
        let provided = enable.hashesAndChainIds[0].sessionDigest;
        w.submit_rejected(op, "HashMismatch", &[provided.to_string(), computed.to_string()]);
    });
}

#[test]
fn an_entry_for_another_chain_is_refused() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        let session = mint_session(&w);
        let mut enable = w.enable_data(&session, SmartSessionMode::Enable);
        enable.hashesAndChainIds[0].chainId = 1;
        enable.permissionEnableSig = w.owner_enable_sig(&enable.hashesAndChainIds);
        let op = w.enable_op(SmartSessionMode::Enable, &enable, &[mint(&w)]);
        w.submit_rejected(op, "ChainIdMismatch", &["1".to_string()]);
    });
}

#[test]
fn multichain_enable_uses_this_chains_entry() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        let session = mint_session(&w);
        let here = w.enable_data(&session, SmartSessionMode::Enable).hashesAndChainIds[0].clone();
        let elsewhere = ChainDigest { chainId: 10, sessionDigest: B256::repeat_byte(0xaa) };
        let entries = vec![elsewhere, here];
        let mut enable = EnableSession {
            chainDigestIndex: 1,
            permissionEnableSig: w.owner_enable_sig(&entries),
            hashesAndChainIds: entries,
            sessionToEnable: session,
        };
        let op = w.enable_op(SmartSessionMode::Enable, &enable, &[mint(&w)]);
        included(&w.submit(op));

        // An index past the entries panics (0x32).
        let mut w = World::with_family(family);
        enable.sessionToEnable = mint_session(&w);
        enable.chainDigestIndex = 2;
        let op = w.enable_op(SmartSessionMode::Enable, &enable, &[mint(&w)]);
        w.submit_rejected(op, "Panic", &["0x32".to_string()]);
    });
}

#[test]
fn a_session_signed_for_another_account_is_refused() {
    on_every_family(|family| {
        let mut alice = World::with_family(family);
        let session = mint_session(&alice);
        let enable = alice.enable_data(&session, SmartSessionMode::Enable);
        // Bob's account on the same chain, same SmartSession, same session key.
        let mut bob =
            World::on_family(alice.devnet.clone(), family, alice.ops.smart_session, B256::ZERO);
        bob.ops.key = alice.ops.key.clone();
        assert_ne!(bob.ops.account, alice.ops.account);
        let op = bob.enable_op(SmartSessionMode::Enable, &enable, &[mint(&bob)]);
        let computed = bob.session_digest(&session, SmartSessionMode::Enable, U256::ZERO);
        let provided = enable.hashesAndChainIds[0].sessionDigest;
        bob.submit_rejected(op, "HashMismatch", &[provided.to_string(), computed.to_string()]);

        // Bob's digest with Alice's owner signature fails the account's ERC-1271 check.
        let mut forged = bob.enable_data(&session, SmartSessionMode::Enable);
        forged.permissionEnableSig = alice.owner_enable_sig(&forged.hashesAndChainIds);
        let digest = multichain_digest(&forged.hashesAndChainIds);
        let op = bob.enable_op(SmartSessionMode::Enable, &forged, &[mint(&bob)]);
        bob.submit_rejected(
            op,
            "InvalidEnableSignature",
            &[addr(bob.ops.account), digest.to_string()],
        );
    });
}

#[test]
fn enable_signature_routed_to_an_unknown_validator_is_refused() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        let session = mint_session(&w);
        let enable = w.enable_data(&session, SmartSessionMode::Enable);
        let digest = multichain_digest(&enable.hashesAndChainIds);
        let mut routed = w.routed(&enable);
        routed.validator = w.ops.d.chain.policies.sudo;
        let op = w.enable_op_routed(SmartSessionMode::Enable, &routed, &[mint(&w)]);
        let outcome = w.submit(op);
        if family == AccountType::Nexus {
            // Nexus 1.0.x's `isValidSignature` reverts `ValidatorNotInstalled(validator)` for a
            // validator it does not hold, and SmartSession passes that revert on.
            assert_rejected(&outcome, "ValidatorNotInstalled", &[addr(routed.validator)]);
        } else if family == AccountType::Kernel {
            // Kernel v3.1's `isValidSignature` reverts `InvalidValidator()` for a validation id
            // it does not hold, and SmartSession passes that revert on.
            let rejection = outcome.rejection().unwrap_or_else(|| panic!("{outcome:?}"));
            assert_eq!(rejection.code.as_deref(), Some("AA23"), "{rejection}");
            let inner = rejection.inner.as_ref().unwrap();
            assert_eq!(inner.data.as_ref(), KERNEL_INVALID_VALIDATOR, "{inner}");
        } else if family == AccountType::Msa {
            // The reference account's `isValidSignature` reverts `InvalidModule(validator)` for a
            // validator it does not hold, and SmartSession passes that revert on.
            let rejection = outcome.rejection().unwrap_or_else(|| panic!("{outcome:?}"));
            assert_eq!(rejection.code.as_deref(), Some("AA23"), "{rejection}");
            let inner = rejection.inner.as_ref().unwrap();
            let word = routed.validator.into_word();
            assert_eq!(
                inner.data.as_ref(),
                [&MSA_INVALID_MODULE[..], &word[..]].concat(),
                "{inner}"
            );
        } else {
            // Mandate's account refuses it (not the magic value); Safe7579 reports SmartSession's
            // refusal as its `ExecutionFailed()`.
            let args = [addr(w.ops.account), digest.to_string()];
            w.assert_rejected(&outcome, "InvalidEnableSignature", &args);
        }
    });
}

#[test]
fn session_key_signature_is_still_required_after_enabling() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        let session = mint_session(&w);
        let enable = w.enable_data(&session, SmartSessionMode::Enable);
        let mut op = w.session_base(mandate::abi::execute_calls(&[mint(&w)])).pack();
        op.signature =
            encode_enable(SmartSessionMode::Enable, &w.routed(&enable), &[0x11; 65]).unwrap();
        assert_rejected_code(&w.submit(op), "AA24");
        // Nothing persisted: the permission is not enabled and the nonce is unchanged.
        let id = PermissionId::of(&session);
        assert!(!w.view(&ISmartSession::isPermissionEnabledCall {
            permissionId: id.0,
            account: w.ops.account
        }));
        assert_eq!(w.enable_nonce(id), U256::ZERO);
    });
}

#[test]
fn malformed_signatures() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        let session = mint_session(&w);
        let enable = w.enable_data(&session, SmartSessionMode::Enable);
        let mut op = w.enable_op(SmartSessionMode::Enable, &enable, &[mint(&w)]);
        let mut bad = op.signature.to_vec();
        bad[0] = 3;
        op.signature = bad.into();
        w.submit_rejected(op.clone(), "Panic", &["0x21".to_string()]);
        // A payload that does not decode reverts without data.
        op.signature =
            [&[SmartSessionMode::Enable as u8][..], &fastlz::compress(&[1, 2, 3])].concat().into();
        let outcome = w.submit(op);
        let inner = outcome.rejection().unwrap().inner.clone().unwrap();
        if family == AccountType::Safe {
            // Safe7579 reports every SmartSession revert as its `ExecutionFailed()`.
            assert_eq!(inner.data.as_ref(), SAFE7579_EXECUTION_FAILED, "{inner}");
        } else {
            assert!(inner.data.is_empty(), "{inner}");
        }
    });
}

#[test]
fn policies_enabled_in_the_op_apply_to_it_and_later_ops() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        let mut session = mint_session(&w);
        let usage = w.ops.d.chain.policies.usage_limit;
        session.userOpPolicies = vec![policy(usage, init(Policy::UsageLimit(2)))];
        let id = PermissionId::of(&session);
        let enable = w.enable_data(&session, SmartSessionMode::Enable);
        let op = w.enable_op(SmartSessionMode::Enable, &enable, &[mint(&w)]);
        included(&w.submit(op));
        let op = w.use_op(id, &[mint(&w)]);
        included(&w.submit(op));
        let op = w.use_op(id, &[mint(&w)]);
        w.submit_rejected(op, "PolicyViolation", &violation(id, usage));
        assert_eq!(nft_balance(&mut w), U256::from(2));
        let policies = w.view(&ISmartSession::getUserOpPoliciesCall {
            account: w.ops.account,
            permissionId: id.0,
        });
        assert_eq!(policies, vec![usage]);
    });
}
