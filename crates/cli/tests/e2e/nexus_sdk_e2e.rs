//! The Nexus SDK's SessionData, granted in TypeScript and redeemed in Rust, on what the SDK's
//! module-sdk (0.2.3) addresses: upstream's SmartSession, policies and OwnableValidator placed
//! at 0.2.3's addresses on the harness anvil, the Nexus K1 validator's address holding the
//! devnet's K1Validator (the enable validator the SDK fixes). A Nexus account granted a first
//! session through the CLI (which installs that SmartSession), then interop/nexus-sdk/grant.mjs
//! runs the SDK's own `grantDeferredPermission` for a fresh key; `mandate session import`
//! stores it and `session use` redeems it through Alto, the first use enabling it.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::SolCall;
use mandate::abi::{
    Deployments, SmartSessionMode,
    sol::{IERC20, IERC7579Account, ISmartSession},
};
use serde_json::json;

use crate::run::{mandate, ok_json};

const SHOP: Address = Address::repeat_byte(0x5c);
/// The Nexus SDK's `MAINNET_ADDRESS_K1_VALIDATOR_ADDRESS`, its fixed enable validator.
const NEXUS_K1: Address = alloy_primitives::address!("0000002D6DB27c52E3C11c1Cf24072004AC75cBa");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nexus_sdk_session_data_through_alto_on_anvil() {
    let harness = mandate_testing::node::Harness::start().await;
    let d = harness.deployments;
    let node = &harness.node;
    let runtimes = mandate_testing::upstream::runtimes();
    let chain = Deployments { entry_point: d.chain.entry_point, ..Deployments::MODULE_SDK_0_2_3 };
    let p = chain.policies;
    for (name, at) in [
        ("SmartSession", chain.smart_session),
        ("SudoPolicy", p.sudo),
        ("UniActionPolicy", p.uni_action),
        ("TimeFramePolicy", p.time_frame),
        ("ERC20SpendingLimitPolicy", p.erc20_spending_limit),
        ("UsageLimitPolicy", p.usage_limit),
        ("ValueLimitPolicy", p.value_limit),
        ("OwnableValidator", chain.session_validators.ownable.unwrap()),
    ] {
        node.set_code(at, runtimes.get(name).unwrap().clone()).await;
    }
    node.set_code(NEXUS_K1, node.code(d.k1_validator).await).await;
    let mut devnet = serde_json::to_value(d).unwrap();
    devnet["chain"] = serde_json::to_value(chain).unwrap();
    devnet["k1Validator"] = json!(NEXUS_K1);
    let dir = tempfile::tempdir().unwrap();
    let deployments = dir.path().join("module-sdk-0.2.3-devnet.json");
    std::fs::write(&deployments, devnet.to_string()).unwrap();
    let (deployments, store) =
        (deployments.display().to_string(), dir.path().join("sessions").display().to_string());

    let owner = alloy_signer_local::PrivateKeySigner::random();
    let owner_key = alloy_primitives::hex::encode_prefixed(owner.to_bytes());
    let owner_env =
        [("MANDATE_OWNER_KEY", owner_key.as_str()), ("MANDATE_STORE_PASSWORD", "correct horse")];
    let init = mandate::abi::account::nexus::init_data(
        d.families.nexus.bootstrap,
        NEXUS_K1,
        owner.address().to_vec().into(),
    );
    let query = mandate::abi::account::nexus::address_query(init, Default::default());
    let account: Address = node.call(d.families.nexus.factory, &query).await;
    node.set_balance(account, U256::from(10u128.pow(18))).await;
    let mint = IERC20::mintCall { to: account, amount: U256::from(100) }.abi_encode();
    node.transact(Some(d.test_erc20), U256::ZERO, mint.into()).await;
    let base = |cmd: &str| {
        vec![
            "session".to_string(),
            cmd.to_string(),
            "--rpc-url".into(),
            harness.node_url.clone(),
            "--deployments".into(),
            deployments.clone(),
            "--store".into(),
            store.clone(),
            "--account-type".into(),
            "nexus".into(),
            "--json".into(),
        ]
    };
    let run = |args: &[String], env: &[(&str, &str)]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        mandate(&args, env)
    };

    // The account, deployed with SmartSession 0.2.3 installed by a first grant of the CLI's.
    let sudo_transfer = json!({
        "actionTargetSelector": "0xa9059cbb",
        "actionTarget": d.test_erc20,
        "actionPolicies": [{"policy": p.sudo, "initData": "0x"}],
    });
    let first = dir.path().join("first-session.json");
    let body = json!({
        "sessionValidator": Address::ZERO,
        "sessionValidatorInitData": "0x",
        "salt": alloy_primitives::B256::with_last_byte(1),
        "userOpPolicies": [],
        "erc7739Policies": {"allowedERC7739Content": [], "erc1271Policies": []},
        "actions": [sudo_transfer],
        "permitERC4337Paymaster": false,
    });
    std::fs::write(&first, body.to_string()).unwrap();
    let mut grant = base("grant");
    grant.extend(["--bundler-url".into(), harness.bundler_url.clone()]);
    grant.extend(["--session".into(), first.display().to_string()]);
    grant.extend(["--session-validator".into(), "ownable".into()]);
    // `transfer` under SudoPolicy alone: granted knowingly.
    grant.extend(["--allow".into(), "unbounded-sudo".into()]);
    let granted = ok_json(&run(&grant, &owner_env));
    assert_eq!(granted["account"].as_str().unwrap().parse::<Address>().unwrap(), account);
    let installed = mandate::abi::account::is_validator_installed(chain.smart_session);
    assert!(node.call::<_>(account, &installed).await, "SmartSession 0.2.3 installed");

    // The Nexus SDK grants a fresh key `transfer` (Sudo): its SessionData, bigint-tagged.
    let key = mandate::client::SessionKey::random();
    let secret = alloy_primitives::hex::encode_prefixed(key.signer().to_bytes());
    let file = dir.path().join("session-data.json");
    let out = Command::new("node")
        .current_dir(mandate_testing::node::node_scripts("interop/nexus-sdk"))
        .args(["grant.mjs", "--rpc-url", harness.node_url.as_str()])
        .args(["--account", &account.to_string(), "--session-key", &key.address().to_string()])
        .args(["--token", &d.test_erc20.to_string(), "--out", &file.display().to_string()])
        .env("MANDATE_OWNER_KEY", &owner_key)
        .output()
        .unwrap();
    let sdk = ok_json(&out);
    assert!(!String::from_utf8_lossy(&out.stdout).contains(owner_key.trim_start_matches("0x")));
    assert_eq!(sdk["mode"], "0x02", "the SDK names UNSAFE_ENABLE");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("__type"), "the SDK's stringify");

    // As handed over, the account refuses the owner's signature over the SDK's own chain
    // digests (UNSAFE_ENABLE's): the SDK signed ENABLE's typed data.
    let Ok(mandate::abi::grant::Grant::SessionData(data)) =
        mandate::abi::grant::read_grant(&text, None)
    else {
        panic!("not a SessionData")
    };
    let given = data.enable_session_data.clone().unwrap();
    let as_given = IERC7579Account::isValidSignatureCall {
        hash: mandate::abi::multichain_digest(&given.enable_session.hashesAndChainIds),
        signature: given
            .account_type
            .format_enable_signature(NEXUS_K1, &given.enable_session.permissionEnableSig),
    };
    let magic = IERC7579Account::isValidSignatureCall::SELECTOR;
    let answer = node.call_from_deployer(account, as_given.abi_encode().into()).await;
    assert!(answer.as_ref().map_or(true, |r| !r.starts_with(&magic)), "{answer:?}");

    let key_env =
        [("MANDATE_SESSION_KEY", secret.as_str()), ("MANDATE_STORE_PASSWORD", "correct horse")];
    let started = std::time::Instant::now();
    let mut import = base("import");
    import.insert(2, file.display().to_string());
    let imported = ok_json(&run(&import, &key_env));
    let imported = imported.as_array().unwrap();
    assert_eq!(imported.len(), 1);
    assert_eq!(imported[0]["state"], "pending first use", "{imported:?}");
    assert_eq!(imported[0]["mode"], serde_json::to_value(SmartSessionMode::Enable).unwrap());
    let pid = imported[0]["permissionId"].as_str().unwrap().to_string();
    assert_eq!(sdk["permissionIds"][0], pid.as_str(), "the SDK's permission id");

    let calls = dir.path().join("calls.json");
    let data = IERC20::transferCall { to: SHOP, amount: U256::from(3) }.abi_encode();
    let body = json!([{ "target": d.test_erc20, "value": "0", "callData": Bytes::from(data) }]);
    std::fs::write(&calls, body.to_string()).unwrap();
    let mut use_it = base("use");
    use_it.extend(["--bundler-url".into(), harness.bundler_url.clone()]);
    use_it.extend(["--account".into(), account.to_string(), "--permission-id".into(), pid.clone()]);
    use_it.extend(["--calls".into(), calls.display().to_string()]);
    let used = ok_json(&run(&use_it, &owner_env));
    let elapsed = started.elapsed();
    eprintln!("Nexus SDK SessionData: import → first use → receipt {elapsed:?}; {sdk}");
    assert_eq!(used["sent"]["receipt"]["success"], true, "{used}");
    let balance: U256 = node.call(d.test_erc20, &IERC20::balanceOfCall { owner: SHOP }).await;
    assert_eq!(balance, U256::from(3));
    let enabled =
        ISmartSession::isPermissionEnabledCall { permissionId: pid.parse().unwrap(), account };
    assert!(node.call(chain.smart_session, &enabled).await, "enabled by its first use");
}
