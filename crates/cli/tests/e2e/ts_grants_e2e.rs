//! Sessions granted by the TypeScript SDKs, imported and redeemed by the `mandate` command
//! through Alto on anvil, with upstream's runtimes placed at module-sdk's canonical addresses:
//! module-sdk's `getEnableSessionDetails` on the ERC-7579 reference account (interop/grant.mjs,
//! UNSAFE_ENABLE with one call, ENABLE with a batch), and abstractjs's
//! `grantPermissionPersonalSign` / `grantPermissionTypedDataSign` on a Nexus account
//! (interop/grant-abstractjs.mjs, UNSAFE_ENABLE); each then used again in USE with a batch. And
//! back: the reference account's session granted by `mandate session grant`, exported, used from
//! TypeScript (interop/live.mjs).
//! Each import → first use → receipt is timed (printed, never asserted).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use alloy_primitives::{Address, B256, U256, hex};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate::abi::sol::IERC20;
use serde_json::{Value, json};

use crate::run::{mandate, ok_json};

const SHOP: Address = Address::repeat_byte(0x5c);
const STORE_PASSWORD: (&str, &str) = ("MANDATE_STORE_PASSWORD", "correct horse");

/// A key's hex, for the environment only.
fn secret(key: &PrivateKeySigner) -> String {
    hex::encode_prefixed(key.to_bytes())
}

fn node_script(script: &str, args: &[String], owner_key: &str) -> Value {
    let out = Command::new("node")
        .current_dir(mandate_testing::node::node_scripts("interop"))
        .arg(script)
        .args(args)
        .env("MANDATE_OWNER_KEY", owner_key)
        .output()
        .unwrap();
    let printed = ok_json(&out);
    assert!(!String::from_utf8_lossy(&out.stdout).contains(owner_key.trim_start_matches("0x")));
    printed
}

/// `[{target, value, callData}]` transferring each amount to [`SHOP`].
fn transfers(dir: &Path, token: Address, amounts: &[u64]) -> String {
    let calls: Vec<Value> = amounts
        .iter()
        .map(|&amount| {
            let data = IERC20::transferCall { to: SHOP, amount: U256::from(amount) }.abi_encode();
            json!({ "target": token, "value": "0", "callData": hex::encode_prefixed(data) })
        })
        .collect();
    let name = amounts.iter().map(u64::to_string).collect::<Vec<_>>().join("-");
    let file = dir.join(format!("calls-{name}.json"));
    std::fs::write(&file, serde_json::to_vec(&calls).unwrap()).unwrap();
    file.display().to_string()
}

/// A grant made in TypeScript, to import and redeem.
struct Grant {
    /// What made it, for the messages.
    what: String,
    file: PathBuf,
    /// The session key's hex (for the environment only).
    key: String,
    account_type: &'static str,
    account: Address,
    permission_id: String,
    /// The mode it was signed for, and the mode `use` reports for its first op.
    mode: mandate::abi::SmartSessionMode,
    used_mode: &'static str,
    /// The first op's calls file, and what it moves to [`SHOP`].
    calls: String,
    moved: u64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ts_grants_redeemed_through_alto_on_anvil() {
    let harness = mandate_testing::node::Harness::start().await;
    let d = harness.deployments;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("sessions").display().to_string();
    let canonical = harness.node.place_canonical(&mandate_testing::upstream::runtimes()).await;
    assert_eq!(canonical, mandate::abi::Deployments::MODULE_SDK_0_4);
    // The devnet's families and K1Validator, module-sdk's SmartSession, policies and validators.
    let mut devnet = serde_json::to_value(d).unwrap();
    devnet["chain"] = serde_json::to_value(canonical).unwrap();
    let devnet_file = dir.path().join("canonical-devnet.json");
    std::fs::write(&devnet_file, devnet.to_string()).unwrap();
    let devnet_file = devnet_file.display().to_string();
    let k1 = d.k1_validator.to_string();
    let token = d.test_erc20.to_string();
    // The closures below share these by reference.
    let (harness, store, devnet_file, k1, dirp) =
        (&harness, store.as_str(), devnet_file.as_str(), k1.as_str(), dir.path());
    let shop_balance = move || async move {
        let balance: U256 =
            harness.node.call(d.test_erc20, &IERC20::balanceOfCall { owner: SHOP }).await;
        balance
    };

    // An account of `account_type` for a fresh owner, funded and holding tokens, made by a
    // `mandate session grant` (its first op deploys it and installs module-sdk's SmartSession).
    let new_account = move |account_type: &'static str, address: Address, owner_key: String| {
        let (node_url, bundler_url) = (harness.node_url.as_str(), harness.bundler_url.as_str());
        async move {
            harness.node.set_balance(address, U256::from(10u128.pow(18))).await;
            let mint = IERC20::mintCall { to: address, amount: U256::from(100) }.abi_encode();
            harness.node.transact(Some(d.test_erc20), U256::ZERO, mint.into()).await;
            let transfer =
                mandate::abi::Erc20Action::new(mandate::abi::Erc20Function::Transfer, d.test_erc20)
                    .recipient(SHOP)
                    .amount_limit_per_action(U256::from(10))
                    .build(&canonical.policies, 0)
                    .unwrap();
            let session = json!({
                "sessionValidator": Address::ZERO,
                "sessionValidatorInitData": "0x",
                "salt": B256::with_last_byte(1),
                "userOpPolicies": [],
                "erc7739Policies": {"allowedERC7739Content": [], "erc1271Policies": []},
                "actions": [transfer],
                "permitERC4337Paymaster": false,
            });
            let session_file = dirp.join(format!("{account_type}-session.json"));
            std::fs::write(&session_file, session.to_string()).unwrap();
            let args: Vec<String> = [
                "session",
                "grant",
                "--rpc-url",
                node_url,
                "--bundler-url",
                bundler_url,
                "--deployments",
                devnet_file,
                "--store",
                store,
                "--account-type",
                account_type,
                "--session-validator",
                "ownable",
                "--session",
                &session_file.display().to_string(),
                "--json",
            ]
            .map(String::from)
            .into();
            let granted =
                ok_json(&mandate(&args, &[("MANDATE_OWNER_KEY", &owner_key), STORE_PASSWORD]));
            assert_eq!(granted["account"].as_str().unwrap().parse::<Address>().unwrap(), address);
            let installed = mandate::abi::account::is_validator_installed(canonical.smart_session);
            let installed: bool = harness.node.call(address, &installed).await;
            assert!(
                installed,
                "module-sdk's SmartSession installed by the grant on {account_type}"
            );
            granted["permissionId"].as_str().unwrap().to_owned()
        }
    };
    // `mandate session import FILE` / `use` on an existing account of `account_type`.
    let session_args = move |cmd: &str, account_type: &str, account: Address| -> Vec<String> {
        let mut args: Vec<String> =
            ["session", cmd, "--rpc-url", &harness.node_url].map(String::from).into();
        args.extend(["--deployments", "module-sdk-0.4", "--owner-validator", k1].map(String::from));
        args.extend(["--store", store, "--account-type", account_type].map(String::from));
        args.extend(["--account".into(), account.to_string(), "--json".into()]);
        args
    };
    // Imports the grant for its session key (pending first use, in its mode, the SDK's
    // permission id), uses it for its calls and checks the op and what reached SHOP (printing
    // the import → first use → receipt wall time), then uses it again: USE, a batch of two.
    let redeem = move |g: Grant| async move {
        let what = g.what;
        let before = shop_balance().await;
        let started = Instant::now();
        let mut import = session_args("import", g.account_type, g.account);
        import.insert(2, g.file.display().to_string());
        let key_env = [("MANDATE_SESSION_KEY", g.key.as_str()), STORE_PASSWORD];
        let out = mandate(&import, &key_env);
        let imported = ok_json(&out);
        assert!(!String::from_utf8_lossy(&out.stdout).contains(g.key.trim_start_matches("0x")));
        let imported_in = started.elapsed();
        assert_eq!(imported[0]["state"], "pending first use", "{what}: {imported}");
        assert_eq!(
            imported[0]["mode"],
            serde_json::to_value(g.mode).unwrap(),
            "{what}: {imported}"
        );
        assert_eq!(imported[0]["permissionId"], g.permission_id.as_str(), "{what}: the SDK's id");
        let use_for = |calls: String| {
            let mut args = session_args("use", g.account_type, g.account);
            args.extend(["--bundler-url".into(), harness.bundler_url.clone()]);
            args.extend(["--permission-id".into(), g.permission_id.clone(), "--calls".into()]);
            args.push(calls);
            ok_json(&mandate(&args, &[STORE_PASSWORD]))
        };
        let used = use_for(g.calls);
        let elapsed = started.elapsed();
        eprintln!("{what}: import {imported_in:?}, import → first use → receipt {elapsed:?}");
        assert_eq!(used["mode"], g.used_mode, "{what}: {used}");
        assert_eq!(used["sent"]["receipt"]["success"], true, "{what}: {used}");
        let after = shop_balance().await;
        assert_eq!(after, before + U256::from(g.moved), "{what}: the first op landed");
        // Enabled by its first op: the next is USE, a batch of two.
        let used = use_for(transfers(dirp, d.test_erc20, &[1, 1]));
        assert_eq!(used["mode"], "use", "{what}: {used}");
        assert_eq!(used["sent"]["receipt"]["success"], true, "{what}: {used}");
        assert_eq!(shop_balance().await, after + U256::from(2), "{what}: the USE batch landed");
    };

    // 1. module-sdk + viem on the ERC-7579 reference account (module-sdk's
    //    'erc7579-implementation'): UNSAFE_ENABLE with one call, then ENABLE with a batch.
    let msa_owner = PrivateKeySigner::random();
    let init = mandate::abi::account::msa::init_code(
        d.families.msa.bootstrap,
        d.k1_validator,
        msa_owner.address().to_vec().into(),
    );
    let query = mandate::abi::account::msa::address_query(B256::ZERO, init);
    let msa: Address = harness.node.call(d.families.msa.factory, &query).await;
    let cli_granted = new_account("erc7579-implementation", msa, secret(&msa_owner)).await;
    let rounds = [
        (
            "unsafe-enable",
            mandate::abi::SmartSessionMode::UnsafeEnable,
            "unsafeEnable",
            &[3u64][..],
        ),
        ("enable", mandate::abi::SmartSessionMode::Enable, "enable", &[3, 4][..]),
    ];
    for (round, (arg, mode, used_mode, amounts)) in rounds.into_iter().enumerate() {
        let key = PrivateKeySigner::random();
        let file = dir.path().join(format!("msa-{arg}.json"));
        let salt = B256::with_last_byte(7 + round as u8);
        let args: Vec<String> = [
            "grant.mjs",
            "--rpc-url",
            &harness.node_url,
            "--mode",
            arg,
            "--account-type",
            "erc7579-implementation",
            "--account",
            &msa.to_string(),
            "--owner-validator",
            k1,
            "--session-key",
            &key.address().to_string(),
            "--token",
            &token,
            "--salt",
            &salt.to_string(),
            "--out",
            &file.display().to_string(),
        ]
        .map(String::from)
        .into();
        let granted = node_script(&args[0], &args[1..], &secret(&msa_owner));
        eprintln!("module-sdk getEnableSessionDetails ({arg}) in Node: {granted}");
        assert_eq!(granted["accountType"], "erc7579-implementation", "{granted}");
        let data: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(data["accountType"], "erc7579-implementation");
        let pid = granted["permissionId"].as_str().unwrap().to_string();
        let calls = transfers(dir.path(), d.test_erc20, amounts);
        redeem(Grant {
            what: format!("module-sdk getEnableSessionDetails, erc7579-implementation, {arg}"),
            file,
            key: secret(&key),
            account_type: "erc7579-implementation",
            account: msa,
            permission_id: pid,
            mode,
            used_mode,
            calls,
            moved: amounts.iter().sum(),
        })
        .await;
    }

    // And back: the reference account's session granted by `mandate session grant` (its key
    // made by the CLI, read here from the store), exported by `mandate session export` and
    // used from TypeScript (interop/live.mjs: module-sdk's encodeSmartSessionSignature in USE
    // mode, viem's bundler client, the nonce key of the export's accountType) on module-sdk's
    // canonical SmartSession.
    let pid = cli_granted;
    let chain_id = harness.node.chain_id().await;
    let key = {
        use mandate::client::store::{FileStore, SessionStore};
        let store = FileStore::open(store, STORE_PASSWORD.1).unwrap();
        let reference = mandate::client::SessionRef {
            chain_id,
            account: msa,
            permission_id: pid.parse().unwrap(),
        };
        store.load(&reference).unwrap().unwrap().key.signer().clone()
    };
    let chain_id = chain_id.to_string();
    let export: Vec<String> = [
        "session",
        "export",
        "--chain-id",
        &chain_id,
        "--account",
        &msa.to_string(),
        "--permission-id",
        &pid,
        "--store",
        store,
    ]
    .map(String::from)
    .into();
    let exported = ok_json(&mandate(&export, &[STORE_PASSWORD]));
    assert_eq!(exported["accountType"], "erc7579-implementation", "{exported}");
    assert_eq!(
        exported["smartSession"].as_str().unwrap().parse::<Address>().unwrap(),
        canonical.smart_session
    );
    assert!(exported.get("grantResponse").is_none(), "enabled: nothing to enable on first use");
    let export_file = dir.path().join("msa-export.json");
    std::fs::write(&export_file, exported.to_string()).unwrap();
    let before = shop_balance().await;
    let data = IERC20::transferCall { to: SHOP, amount: U256::from(2) }.abi_encode();
    let out = Command::new("node")
        .current_dir(mandate_testing::node::node_scripts("interop"))
        .args(["live.mjs", "--rpc-url", &harness.node_url, "--bundler-url", &harness.bundler_url])
        .args(["--session", &export_file.display().to_string(), "--target", &token])
        .args(["--calldata", &hex::encode_prefixed(data)])
        .env("MANDATE_SESSION_KEY", secret(&key))
        .output()
        .unwrap();
    let live = ok_json(&out);
    eprintln!("live.mjs on the reference account: {live}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(secret(&key).trim_start_matches("0x")));
    assert_eq!(live["success"], true, "{live}");
    assert_eq!(live["userOpHash"], live["computedHash"], "{live}");
    assert_eq!(live["validator"], "ownable", "{live}");
    assert_eq!(shop_balance().await, before + U256::from(2), "the TypeScript op landed");

    // 2. abstractjs 1.2.3 on a Nexus account: its GrantPermissionResponse (UNSAFE_ENABLE, the
    //    account's default validator, bigint tags from its `stringify`), personal-sign and
    //    typed-data-sign, each first used for one call.
    let nexus_owner = PrivateKeySigner::random();
    let init = mandate::abi::account::nexus::init_data(
        d.families.nexus.bootstrap,
        d.k1_validator,
        nexus_owner.address().to_vec().into(),
    );
    let query = mandate::abi::account::nexus::address_query(init, Default::default());
    let nexus: Address = harness.node.call(d.families.nexus.factory, &query).await;
    new_account("nexus", nexus, secret(&nexus_owner)).await;
    for sign in ["personal", "typed-data"] {
        let key = PrivateKeySigner::random();
        let file = dir.path().join(format!("abstractjs-{sign}.json"));
        let args: Vec<String> = [
            "--rpc-url",
            &harness.node_url,
            "--bundler-url",
            &harness.bundler_url,
            "--account",
            &nexus.to_string(),
            "--factory",
            &d.families.nexus.factory.to_string(),
            "--bootstrap",
            &d.families.nexus.bootstrap.to_string(),
            "--implementation",
            &d.families.nexus.implementation.to_string(),
            "--owner-validator",
            k1,
            "--session-key",
            &key.address().to_string(),
            "--token",
            &token,
            "--sign",
            sign,
            "--out",
            &file.display().to_string(),
        ]
        .map(String::from)
        .into();
        let granted = node_script("grant-abstractjs.mjs", &args, &secret(&nexus_owner));
        eprintln!("abstractjs grantPermission ({sign}) in Node: {granted}");
        assert_eq!(
            granted["validator"].as_str().unwrap().parse::<Address>().unwrap(),
            d.k1_validator
        );
        let written = std::fs::read_to_string(&file).unwrap();
        let response: Value = serde_json::from_str(&written).unwrap();
        assert!(response.is_array(), "a GrantPermissionResponse is an array: {written}");
        assert!(written.contains(r#""__type":"bigint""#), "abstractjs's stringify: {written}");
        assert_eq!(response[0]["enableSessionData"]["accountType"], "nexus");
        assert_eq!(response[0]["mode"], "0x02", "abstractjs signs for UNSAFE_ENABLE");
        let pid = granted["permissionId"].as_str().unwrap().to_string();
        // The owner's enable signature is checked against the account before anything is
        // stored: another signature in the same response is one line naming the entry.
        let mut forged = response.clone();
        let sig = &mut forged[0]["enableSessionData"]["enableSession"]["permissionEnableSig"];
        *sig = json!(hex::encode_prefixed([0x11; 65]));
        let forged_file = dir.path().join(format!("abstractjs-{sign}-forged.json"));
        std::fs::write(&forged_file, forged.to_string()).unwrap();
        let mut import = session_args("import", "nexus", nexus);
        import.insert(2, forged_file.display().to_string());
        let out =
            mandate(&import, &[("MANDATE_SESSION_KEY", secret(&key).as_str()), STORE_PASSWORD]);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("[0]") && stderr.contains("owner's signature"), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        let calls = transfers(dir.path(), d.test_erc20, &[2]);
        let mode = mandate::abi::SmartSessionMode::UnsafeEnable;
        redeem(Grant {
            what: format!("abstractjs grantPermission ({sign}), nexus, unsafe-enable"),
            file,
            key: secret(&key),
            account_type: "nexus",
            account: nexus,
            permission_id: pid,
            mode,
            used_mode: "unsafeEnable",
            calls,
            moved: 2,
        })
        .await;
    }
}
