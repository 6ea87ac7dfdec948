//! `mandate session rotate | revoke | uninstall-smart-session | status --all` against real
//! anvil and Alto, with the store on disk: a session granted by the CLI and used, rotated to a
//! new key in one op (the old one refused, the new one used), revoked (its use refused), and
//! SmartSession uninstalled (`isModuleInstalled` false, every stored session revoked).
#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::SolCall;
use mandate::abi::sol::{IERC20, IERC7579Account};
use serde_json::{Value, json};

use crate::run::{mandate, ok_json};

/// anvil's sixth dev key (a public test key): the account's owner.
const OWNER_KEY: &str = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";
const SHOP: Address = Address::repeat_byte(0x5d);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_revoke_and_uninstall_through_alto_on_anvil() {
    let harness = mandate_testing::node::Harness::start().await;
    let d = harness.deployments;
    let dir = tempfile::tempdir().unwrap();
    let deployments = dir.path().join("deployments.json");
    std::fs::write(&deployments, serde_json::to_vec(&d).unwrap()).unwrap();
    let store = dir.path().join("sessions");
    let session_file = |salt: u8| {
        let transfer =
            mandate::abi::Erc20Action::new(mandate::abi::Erc20Function::Transfer, d.test_erc20)
                .recipient(SHOP)
                .amount_limit_per_action(U256::from(10))
                .build(&d.chain.policies, 0)
                .unwrap();
        let session = json!({
            "sessionValidator": Address::ZERO,
            "sessionValidatorInitData": "0x",
            "salt": B256::with_last_byte(salt),
            "userOpPolicies": [],
            "erc7739Policies": {"allowedERC7739Content": [], "erc1271Policies": []},
            "actions": [transfer],
            "permitERC4337Paymaster": false,
        });
        let file = dir.path().join(format!("session-{salt}.json"));
        std::fs::write(&file, serde_json::to_vec(&session).unwrap()).unwrap();
        file.display().to_string()
    };
    let env = [("MANDATE_OWNER_KEY", OWNER_KEY), ("MANDATE_STORE_PASSWORD", "correct horse")];
    let base = |cmd: &'static str, bundler: bool| {
        let mut args = vec![
            "session".to_string(),
            cmd.to_string(),
            "--rpc-url".into(),
            harness.node_url.clone(),
            "--deployments".into(),
            deployments.display().to_string(),
            "--store".into(),
            store.display().to_string(),
            "--json".into(),
        ];
        if bundler {
            args.extend(["--bundler-url".to_string(), harness.bundler_url.clone()]);
        }
        args
    };
    let run = |args: &[String]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        mandate(&args, &env)
    };
    let calls = {
        let file = dir.path().join("calls.json");
        let data = IERC20::transferCall { to: SHOP, amount: U256::from(2) }.abi_encode();
        let calls = json!([{ "target": d.test_erc20, "value": "0", "callData": alloy_primitives::hex::encode_prefixed(data) }]);
        std::fs::write(&file, serde_json::to_vec(&calls).unwrap()).unwrap();
        file.display().to_string()
    };
    let on = |cmd: &'static str, account: Address, pid: &str| {
        let mut args = base(cmd, true);
        args.extend([
            "--account".into(),
            account.to_string(),
            "--permission-id".into(),
            pid.into(),
        ]);
        if cmd == "use" {
            args.extend(["--calls".into(), calls.clone()]);
        }
        args
    };
    let status_of = |all: &Value, pid: &str| -> String {
        let entry = all.as_array().unwrap().iter().find(|s| s["permissionId"] == pid);
        entry.unwrap_or_else(|| panic!("{pid} in {all}"))["state"].as_str().unwrap().to_string()
    };

    // The account, funded and holding tokens, granted a session by its first op.
    let owner: alloy_signer_local::PrivateKeySigner = OWNER_KEY.parse().unwrap();
    let validators =
        mandate::abi::account::mandate::owner_validators(d.k1_validator, owner.address());
    let query = mandate::abi::account::mandate::address_query(validators, Default::default());
    let account: Address = harness.node.call(d.account_factory, &query).await;
    harness.node.set_balance(account, U256::from(10u128.pow(18))).await;
    let mut grant = base("grant", true);
    grant.extend(["--session".into(), session_file(1)]);
    let old = ok_json(&run(&grant))["permissionId"].as_str().unwrap().to_string();
    let mint = IERC20::mintCall { to: account, amount: U256::from(100) }.abi_encode();
    harness.node.transact(Some(d.test_erc20), U256::ZERO, mint.into()).await;
    assert_eq!(ok_json(&run(&on("use", account, &old)))["sent"]["receipt"]["success"], true);

    // Rotate: one op; the old session revoked (refused), the new one used.
    let rotated = ok_json(&run(&on("rotate", account, &old)));
    assert_eq!(rotated["revoked"], old.as_str());
    let new = rotated["permissionId"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    println!("rotate through Alto: {} gas", rotated["gas"]);
    let refused = run(&on("use", account, &old));
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("revoked"), "{stderr}");
    assert!(!stderr.contains(OWNER_KEY.trim_start_matches("0x")));
    assert_eq!(ok_json(&run(&on("use", account, &new)))["sent"]["receipt"]["success"], true);
    let all = ok_json(&run(&[base("status", false), vec!["--all".into()]].concat()));
    assert_eq!(status_of(&all, &old), "revoked");
    assert_eq!(status_of(&all, &new), "enabled");

    // Revoke the new one: its use is refused, status says revoked.
    let revoked = ok_json(&run(&on("revoke", account, &new)));
    assert_eq!(revoked["removed"], true);
    println!("revoke through Alto: {} gas", revoked["gas"]);
    let refused = run(&on("use", account, &new));
    assert!(!refused.status.success());
    let all = ok_json(&run(&[base("status", false), vec!["--all".into()]].concat()));
    assert_eq!(status_of(&all, &new), "revoked");

    // Another grant, then SmartSession uninstalled: not installed, the stored session revoked.
    let mut grant = base("grant", true);
    grant.extend(["--session".into(), session_file(2)]);
    let third = ok_json(&run(&grant))["permissionId"].as_str().unwrap().to_string();
    let mut uninstall = base("uninstall-smart-session", true);
    uninstall.extend(["--account".into(), account.to_string()]);
    let uninstalled = ok_json(&run(&uninstall));
    println!("uninstall through Alto: {} gas", uninstalled["gas"]);
    assert_eq!(uninstalled["revoked"], json!([third]));
    let installed: bool = harness
        .node
        .call(
            account,
            &IERC7579Account::isModuleInstalledCall {
                moduleTypeId: U256::from(1),
                module: d.chain.smart_session,
                additionalContext: Bytes::new(),
            },
        )
        .await;
    assert!(!installed);
    let all = ok_json(&run(&[base("status", false), vec!["--all".into()]].concat()));
    assert_eq!(status_of(&all, &third), "revoked");
    assert!(!run(&on("use", account, &third)).status.success());
}
