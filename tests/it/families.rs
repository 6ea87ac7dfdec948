//! The account families' real bytecode on the devnet: the ERC-7579 reference account created
//! through Mandate's `MSAProxyFactory` with Mandate's K1Validator as owner validator, and
//! Mandate's ERC-5267 compatibility fallback against upstream's
//! SmartSessionCompatibilityFallback (runtime from `mandate_testing::upstream`, test data).

#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, B256, Bytes, U256, address, hex, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolValue, sol};
use mandate::{
    abi::{Call, UserOperation, execute_calls, sol::IERC7579Account, validator_nonce},
    sim::Devnet,
};
use mandate_testing::{erc7739::IERC5267, upstream, verdict::included};

sol! {
    function createAccount(bytes32 salt, bytes initCode) external payable returns (address);
    function getAddress(bytes32 salt, bytes initCode) external view returns (address);
    function singleInitMSA(address validator, bytes data) external;
    function accountId() external view returns (string);
    function supportsNestedTypedDataSign() external view returns (bytes32);
}

/// ERC-5267's selector, and the call type STATIC (`0xfe`) MSAAdvanced's fallback install data
/// takes after it.
const EIP712_DOMAIN_STATIC: [u8; 5] = [0x84, 0xb0, 0x19, 0x6e, 0xfe];

fn upstream_fallback_runtime() -> Bytes {
    upstream::runtimes().get("SmartSessionCompatibilityFallback").unwrap().clone()
}

/// An MSAAdvanced account of `owner` (K1Validator through `singleInitMSA`), deployed by its
/// first op through the factory, which also sends 1 wei to `recipient`.
fn msa_account(devnet: &mut Devnet, owner: &PrivateKeySigner, recipient: Address) -> Address {
    let d = *devnet.deployments();
    let msa = d.families.msa;
    let bootstrap_call =
        singleInitMSACall { validator: d.k1_validator, data: owner.address().to_vec().into() };
    let init_code: Bytes =
        (msa.bootstrap, Bytes::from(bootstrap_call.abi_encode())).abi_encode_params().into();
    let salt = B256::with_last_byte(1);
    let query = getAddressCall { salt, initCode: init_code.clone() };
    let account = devnet.call_sol(msa.factory, &query).unwrap();
    assert!(!devnet.has_code(account));
    devnet.set_balance(account, U256::from(10u128.pow(18)));

    let mut op = UserOperation {
        sender: account,
        nonce: validator_nonce(d.k1_validator, 0, 0),
        factory: Some(msa.factory),
        factory_data: createAccountCall { salt, initCode: init_code.clone() }.abi_encode().into(),
        call_data: execute_calls(&[Call {
            to: recipient,
            value: U256::from(1),
            data: Bytes::new(),
        }]),
        call_gas_limit: 200_000,
        verification_gas_limit: 2_000_000,
        pre_verification_gas: U256::from(100_000),
        max_fee_per_gas: 2_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        ..Default::default()
    };
    let hash = op.hash(d.chain.entry_point, devnet.chain_id());
    op.signature = owner.sign_message_sync(hash.as_slice()).unwrap().as_bytes().to_vec().into();
    included(&devnet.handle_op(op.pack()).unwrap());

    assert!(devnet.has_code(account));
    assert_eq!(devnet.balance(recipient), U256::from(1));
    // Idempotent: asking again names the same account (and deploys nothing).
    let again = createAccountCall { salt, initCode: init_code };
    assert_eq!(devnet.call_sol(msa.factory, &again).unwrap(), account);
    assert_eq!(devnet.call_sol(msa.factory, &query).unwrap(), account);
    account
}

#[test]
fn a_reference_account_through_the_factory_runs_owner_ops_with_k1() {
    let mut devnet = Devnet::new().unwrap();
    let owner = PrivateKeySigner::random();
    let recipient = address!("00000000000000000000000000000000000000aa");
    let account = msa_account(&mut devnet, &owner, recipient);
    let k1 = devnet.deployments().k1_validator;
    let installed = IERC7579Account::isModuleInstalledCall {
        moduleTypeId: U256::from(1),
        module: k1,
        additionalContext: Bytes::new(),
    };
    assert!(devnet.call_sol(account, &installed).unwrap());
    assert_eq!(devnet.call_sol(account, &accountIdCall {}).unwrap(), "uMSA.advanced/withHook.v0.1");
    // A different owner gives a different account.
    let other = PrivateKeySigner::random();
    let msa = devnet.deployments().families.msa;
    let init: Bytes = (
        msa.bootstrap,
        Bytes::from(
            singleInitMSACall { validator: k1, data: other.address().to_vec().into() }.abi_encode(),
        ),
    )
        .abi_encode_params()
        .into();
    let query = getAddressCall { salt: B256::with_last_byte(1), initCode: init };
    assert_ne!(devnet.call_sol(msa.factory, &query).unwrap(), account);
}

/// The account's `eip712Domain()` and `supportsNestedTypedDataSign()` answers, raw.
fn domain_answers(devnet: &mut Devnet, account: Address) -> (Bytes, Bytes) {
    let domain = devnet.call(account, IERC5267::eip712DomainCall {}.abi_encode().into()).unwrap();
    let nested = devnet.call(account, supportsNestedTypedDataSignCall {}.abi_encode().into());
    (domain, nested.unwrap_or_default())
}

#[test]
fn the_compatibility_fallback_answers_as_upstreams_on_a_reference_account() {
    let mut devnet = Devnet::new().unwrap();
    let owner = PrivateKeySigner::random();
    let account = msa_account(&mut devnet, &owner, Address::repeat_byte(0xbb));
    let fallback = devnet.deployments().chain.compatibility_fallback.unwrap();
    // No domain before the fallback is installed.
    assert!(devnet.call(account, IERC5267::eip712DomainCall {}.abi_encode().into()).is_err());

    // The account installs the fallback for eip712Domain() with call type STATIC.
    let install = IERC7579Account::installModuleCall {
        moduleTypeId: U256::from(3),
        module: fallback,
        initData: EIP712_DOMAIN_STATIC.to_vec().into(),
    };
    let entry_point = devnet.deployments().chain.entry_point;
    devnet.transact(entry_point, account, U256::ZERO, install.abi_encode().into()).unwrap();

    let ours = domain_answers(&mut devnet, account);
    let domain = IERC5267::eip712DomainCall::abi_decode_returns(&ours.0).unwrap();
    assert_eq!(domain.fields.0, [0x0f]);
    assert_eq!(domain.name, "uMSA advanced/withHook");
    assert_eq!(domain.version, "v0.1");
    assert_eq!(domain.chainId, U256::from(devnet.chain_id()));
    assert_eq!(domain.verifyingContract, account);

    // The same account with upstream's runtime in the fallback's place answers the same bytes.
    devnet.set_code(fallback, upstream_fallback_runtime());
    assert_eq!(domain_answers(&mut devnet, account), ours);
}

/// A stand-in account whose `accountId()` is `id` and which forwards every other call to
/// `fallback` with STATICCALL, the caller appended (ERC-2771), as an ERC-7579 account's fallback
/// does: varies the id, which the real accounts fix.
fn forwarder(fallback: Address, id: &str) -> Bytes {
    let data = id.to_string().abi_encode();
    let selector = &keccak256("accountId()")[..4];
    let mut c = vec![0x60, 0x00, 0x35, 0x60, 0xe0, 0x1c, 0x63];
    c.extend_from_slice(selector);
    c.extend([0x14, 0x61, 0, 0, 0x57]); // EQ, PUSH2 ret, JUMPI
    let ret_at = c.len() - 3;
    // calldatacopy(0, 0, cds); mstore(cds, shl(96, caller)); staticcall(gas, fallback, 0, cds + 20, 0, 0)
    c.extend([0x36, 0x60, 0x00, 0x60, 0x00, 0x37, 0x33, 0x60, 0x60, 0x1b, 0x36, 0x52]);
    c.extend([0x60, 0x00, 0x60, 0x00, 0x60, 0x14, 0x36, 0x01, 0x60, 0x00, 0x73]);
    c.extend_from_slice(fallback.as_slice());
    c.extend([0x5a, 0xfa, 0x3d, 0x60, 0x00, 0x60, 0x00, 0x3e, 0x61, 0, 0, 0x57]);
    let ok_at = c.len() - 3;
    c.extend([0x3d, 0x60, 0x00, 0xfd]); // revert(0, rds)
    let ok = c.len();
    c.extend([0x5b, 0x3d, 0x60, 0x00, 0xf3]); // return(0, rds)
    let ret = c.len();
    c.extend([0x5b, 0x61, 0, 0, 0x61, 0, 0, 0x60, 0x00, 0x39, 0x61, 0, 0, 0x60, 0x00, 0xf3]);
    let data_at = c.len();
    let len = u16::try_from(data.len()).unwrap().to_be_bytes();
    c[ret_at..ret_at + 2].copy_from_slice(&u16::try_from(ret).unwrap().to_be_bytes());
    c[ok_at..ok_at + 2].copy_from_slice(&u16::try_from(ok).unwrap().to_be_bytes());
    c[ret + 2..ret + 4].copy_from_slice(&len);
    c[ret + 5..ret + 7].copy_from_slice(&u16::try_from(data_at).unwrap().to_be_bytes());
    c[ret + 11..ret + 13].copy_from_slice(&len);
    c.extend(data);
    c.into()
}

#[test]
fn the_compatibility_fallback_parses_account_ids_as_upstreams() {
    let mut devnet = Devnet::new().unwrap();
    let ours = devnet.deployments().chain.compatibility_fallback.unwrap();
    let upstream = Address::repeat_byte(0x5f);
    devnet.set_code(upstream, upstream_fallback_runtime());
    let account = Address::repeat_byte(0xac);
    for id in [
        "biconomy.nexus.1.0.2",
        "rhinestone.safe7579.v1.0.0",
        "uMSA.advanced/withHook.v0.1",
        "a.b.c.d",
        "a.b",
        "a.",
        "a..b",
        "..",
        "abc",
        "",
    ] {
        let mut answers = Vec::new();
        for fallback in [ours, upstream] {
            devnet.set_code(account, forwarder(fallback, id));
            answers.push(domain_answers(&mut devnet, account));
        }
        assert_eq!(answers[0], answers[1], "accountId {id:?}");
        let domain = IERC5267::eip712DomainCall::abi_decode_returns(&answers[0].0).unwrap();
        assert_eq!(domain.verifyingContract, account, "{id:?}");
    }
    // Unknown selectors revert on both.
    for fallback in [ours, upstream] {
        devnet.set_code(account, forwarder(fallback, "a.b.c"));
        assert!(devnet.call(account, hex!("deadbeef").to_vec().into()).is_err());
    }
}
