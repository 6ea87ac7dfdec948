//! ERC-1271 through SmartSession (spec §8): ERC-7739 TypedDataSign signatures of session
//! keys, checked by the account's `isValidSignature` routed to SmartSession.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, B256, Bytes, FixedBytes};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolStruct, SolValue, eip712_domain};
use mandate::{
    abi::{
        ERC7739Context, ERC7739Data, PermissionId, PolicyData, Session,
        sol::{IERC7579Account, ISmartSession},
    },
    sim::SimError,
};
use mandate_testing::{policy_data::*, world::*};

use mandate_testing::erc7739::{IERC5267, Mail, TypedDataSign};

const MAIL_TYPE: &str = "Mail(string contents)";
const MAGIC: [u8; 4] =
    <IERC7579Account::isValidSignatureCall as alloy_sol_types::SolCall>::SELECTOR;
const FAILED: [u8; 4] = [0xff; 4];

fn app_domain() -> alloy_sol_types::Eip712Domain {
    eip712_domain! {
        name: "Mail App",
        version: "1",
        chain_id: 31337,
        verifying_contract: Address::repeat_byte(0xaa),
    }
}

fn mail() -> Mail {
    Mail { contents: "hello".into() }
}

/// A world whose session allows `content` under the app domain with `policies`.
fn world(content: &str, policies: Vec<PolicyData>) -> (World, PermissionId) {
    let mut w = World::new();
    let mut s: Session = w.session(1, vec![]);
    s.erc7739Policies = ERC7739Data {
        allowedERC7739Content: vec![ERC7739Context {
            appDomainSeparator: app_domain().separator(),
            contentNames: vec![content.into()],
        }],
        erc1271Policies: policies,
    };
    let id = w.enable_sessions(vec![s])[0];
    (w, id)
}

/// The hash the session key signs: TypedDataSign{mail, account domain} under the app domain.
fn nested_hash(w: &mut World) -> B256 {
    let domain = w.devnet.call_sol(w.ops.account, &IERC5267::eip712DomainCall {}).unwrap();
    assert_eq!((domain.name.as_str(), domain.version.as_str()), ("Mandate Account", "0.1.0"));
    let wrapped = TypedDataSign {
        contents: mail(),
        name: domain.name,
        version: domain.version,
        chainId: domain.chainId,
        verifyingContract: domain.verifyingContract,
        salt: domain.salt,
    };
    wrapped.eip712_signing_hash(&app_domain())
}

/// permissionId ‖ sessionSig ‖ appDomainSeparator ‖ contents ‖ description ‖ uint16(len).
fn signature(id: PermissionId, key: &PrivateKeySigner, hash: B256, description: &str) -> Vec<u8> {
    let sig = key.sign_message_sync(hash.as_slice()).unwrap();
    let len = u16::try_from(description.len()).unwrap();
    [
        id.0.as_slice(),
        &sig.as_bytes(),
        app_domain().separator().as_slice(),
        mail().eip712_hash_struct().as_slice(),
        description.as_bytes(),
        &len.to_be_bytes(),
    ]
    .concat()
}

/// The account's `isValidSignature(hash, smartSession ‖ sig)`.
fn is_valid(w: &mut World, hash: B256, sig: &[u8]) -> Result<FixedBytes<4>, SimError> {
    let signature: Bytes = [w.ops.smart_session.as_slice(), sig].concat().into();
    w.devnet.call_sol(w.ops.account, &IERC7579Account::isValidSignatureCall { hash, signature })
}

fn sudo(w_policy: Address) -> Vec<PolicyData> {
    vec![policy(w_policy, vec![])]
}

fn sudo_policy() -> Address {
    mandate::sim::Devnet::new().unwrap().deployments().chain.policies.sudo
}

#[test]
fn session_key_typed_data_signature_is_valid() {
    let (mut w, id) = world(MAIL_TYPE, sudo(sudo_policy()));
    let hash = nested_hash(&mut w);
    let key = w.ops.key.clone();
    let sig = signature(id, &key, hash, MAIL_TYPE);
    let app_hash = mail().eip712_signing_hash(&app_domain());
    assert_eq!(is_valid(&mut w, app_hash, &sig).unwrap(), MAGIC);
    // As upstream, the `hash` argument itself is not compared (spec §8).
    assert_eq!(is_valid(&mut w, B256::repeat_byte(1), &sig).unwrap(), MAGIC);
}

#[test]
fn explicit_mode_description_is_its_own_content() {
    let explicit = "Mail(string contents)Mail";
    let (mut w, id) = world(explicit, sudo(sudo_policy()));
    let hash = nested_hash(&mut w);
    let key = w.ops.key.clone();
    assert_eq!(is_valid(&mut w, hash, &signature(id, &key, hash, explicit)).unwrap(), MAGIC);
    // The implicit description is another content, not allowed here.
    assert_eq!(is_valid(&mut w, hash, &signature(id, &key, hash, MAIL_TYPE)).unwrap(), FAILED);
}

#[test]
fn erc6492_wrapped_signature_is_unwrapped() {
    let (mut w, id) = world(MAIL_TYPE, sudo(sudo_policy()));
    let hash = nested_hash(&mut w);
    let key = w.ops.key.clone();
    let inner = signature(id, &key, hash, MAIL_TYPE);
    let wrapped = (Address::repeat_byte(0xfa), Bytes::from_static(&[1, 2]), Bytes::from(inner))
        .abi_encode_params();
    let sig = [wrapped, [0x64, 0x92].repeat(16)].concat();
    assert_eq!(is_valid(&mut w, hash, &sig).unwrap(), MAGIC);
}

#[test]
fn wrong_key_unknown_content_or_permission_fail() {
    let (mut w, id) = world(MAIL_TYPE, sudo(sudo_policy()));
    let hash = nested_hash(&mut w);
    let key = w.ops.key.clone();
    let stranger = PrivateKeySigner::random();
    assert_eq!(is_valid(&mut w, hash, &signature(id, &stranger, hash, MAIL_TYPE)).unwrap(), FAILED);
    let other = "Other(string contents)";
    assert_eq!(is_valid(&mut w, hash, &signature(id, &key, hash, other)).unwrap(), FAILED);
    let unknown = PermissionId(B256::repeat_byte(5));
    assert_eq!(is_valid(&mut w, hash, &signature(unknown, &key, hash, MAIL_TYPE)).unwrap(), FAILED);
    // Removing the session invalidates its signatures.
    let sig = signature(id, &key, hash, MAIL_TYPE);
    assert_eq!(is_valid(&mut w, hash, &sig).unwrap(), MAGIC);
    w.owner_exec(&[w.smart_session_call(ISmartSession::removeSessionCall { permissionId: id.0 })]);
    assert_eq!(is_valid(&mut w, hash, &sig).unwrap(), FAILED);
}

#[test]
fn invalid_contents_name_corrupts_the_hash() {
    // A lower-case name is invalid: the signature over the well-formed nested hash fails.
    let lower = "mail(string contents)";
    let (mut w, id) = world(lower, sudo(sudo_policy()));
    let hash = nested_hash(&mut w);
    let key = w.ops.key.clone();
    assert_eq!(is_valid(&mut w, hash, &signature(id, &key, hash, lower)).unwrap(), FAILED);
}

#[test]
fn at_least_one_erc1271_policy_is_required() {
    let (mut w, id) = world(MAIL_TYPE, vec![]);
    let hash = nested_hash(&mut w);
    let key = w.ops.key.clone();
    match is_valid(&mut w, hash, &signature(id, &key, hash, MAIL_TYPE)) {
        Err(SimError::Reverted { revert, .. }) => {
            assert_eq!(revert.name.as_deref(), Some("NoPoliciesSet"), "{revert}");
            assert_eq!(revert.args, vec![id.0.to_string()]);
        }
        other => panic!("expected NoPoliciesSet, got {other:?}"),
    }
}

#[test]
fn time_frame_policy_bounds_erc1271_signatures() {
    let devnet = mandate::sim::Devnet::new().unwrap();
    let (tf, now) = (devnet.deployments().chain.policies.time_frame, devnet.timestamp());
    let (mut w, id) = world(MAIL_TYPE, vec![policy(tf, time_frame(now + 100, now - 100))]);
    let hash = nested_hash(&mut w);
    let key = w.ops.key.clone();
    let sig = signature(id, &key, hash, MAIL_TYPE);
    assert_eq!(is_valid(&mut w, hash, &sig).unwrap(), MAGIC);
    // validUntil is exclusive for ERC-1271.
    w.devnet.set_timestamp(now + 100);
    assert_eq!(is_valid(&mut w, hash, &sig).unwrap(), FAILED);
}

#[test]
fn erc7739_support_probe() {
    let (mut w, _) = world(MAIL_TYPE, sudo(sudo_policy()));
    let probe = B256::from_slice(&[0x77, 0x39].repeat(16));
    assert_eq!(is_valid(&mut w, probe, &[]).unwrap(), FixedBytes([0x77, 0x39, 0x00, 0x01]));
}
