//! `mandate session change` against real anvil and Alto, with the store on disk: a session
//! granted by the CLI and used; a usage limit added to its action and the paymaster permit
//! withdrawn in one owner op (the stored record updated, so the next use past the limit is
//! refused by the local verdict); the limit removed (the use passes again); then its action id
//! disabled (its use refused); then `session sign` of typed data as the account, before and
//! after ERC-7739 content is added (`--allow erc1271-any-hash`) and removed.
#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolCall;
use mandate::abi::{
    ActionId, Policy, alloy_dyn_abi,
    sol::{ActionData, ERC7739Context, ERC7739Data, IERC20, IERC7579Account, PolicyData},
};
use serde_json::json;

use crate::run::{mandate, ok_json};

/// anvil's sixth dev key (a public test key): the account's owner.
const OWNER_KEY: &str = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";
const SHOP: Address = Address::repeat_byte(0x5d);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_policies_through_alto_on_anvil() {
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

    // One op: a usage limit of 2 on the transfer (one use spent after it) and the paymaster
    // permit withdrawn.
    let transfer_id =
        ActionId::new(d.test_erc20, IERC20::transferCall::SELECTOR.into()).0.to_string();
    let limit = ActionData {
        actionTargetSelector: IERC20::transferCall::SELECTOR.into(),
        actionTarget: d.test_erc20,
        actionPolicies: vec![Policy::UsageLimit(2).to_policy_data(&d.chain.policies).unwrap()],
    };
    let file = dir.path().join("limit.json");
    std::fs::write(&file, serde_json::to_vec(&[limit]).unwrap()).unwrap();
    let mut change = on("change", account, &old);
    change.extend([
        "--add-action-policies".into(),
        file.display().to_string(),
        "--permit-paymaster".into(),
        "false".into(),
    ]);
    let changed = ok_json(&run(&change));
    assert_eq!(changed["changes"], 2);
    println!("change (usage limit + paymaster permit) through Alto: {} gas", changed["gas"]);
    for _ in 0..2 {
        assert_eq!(ok_json(&run(&on("use", account, &old)))["sent"]["receipt"]["success"], true);
    }
    let refused = run(&on("use", account, &old));
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("PolicyViolation"), "{stderr}");
    assert!(!stderr.contains(OWNER_KEY.trim_start_matches("0x")));

    // The usage limit removed again: the transfer passes.
    let mut change = on("change", account, &old);
    change.extend([
        "--disable-action-policies".into(),
        format!("{transfer_id}={}", d.chain.policies.usage_limit),
    ]);
    let changed = ok_json(&run(&change));
    println!("change (disableActionPolicies) through Alto: {} gas", changed["gas"]);
    assert_eq!(ok_json(&run(&on("use", account, &old)))["sent"]["receipt"]["success"], true);

    // The action id disabled: its use refused.
    let mut change = on("change", account, &old);
    change.extend(["--disable-action-id".into(), transfer_id]);
    let changed = ok_json(&run(&change));
    println!("change (disableActionId) through Alto: {} gas", changed["gas"]);
    let refused = run(&on("use", account, &old));
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("NoPoliciesSet"), "{stderr}");
    // No change asked: refused before anything is read.
    let none = run(&on("change", account, &old));
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("no change given"));

    // Signing as the account: refused while the session allows no content; ERC-7739 content
    // added (a risk: refused without --allow), the key's signature accepted by the account on
    // anvil; the content removed, the signature refused again.
    let typed = json!({
        "types": {
            "EIP712Domain": [
                { "name": "name", "type": "string" },
                { "name": "chainId", "type": "uint256" },
                { "name": "verifyingContract", "type": "address" },
            ],
            "Mail": [{ "name": "contents", "type": "string" }],
        },
        "primaryType": "Mail",
        "domain": { "name": "Mail App", "chainId": harness.chain_id, "verifyingContract": SHOP },
        "message": { "contents": "hello" },
    });
    let typed_file = dir.path().join("typed.json");
    std::fs::write(&typed_file, serde_json::to_vec(&typed).unwrap()).unwrap();
    let typed: alloy_dyn_abi::TypedData = serde_json::from_value(typed).unwrap();
    let mut sign = on("sign", account, &old);
    sign.extend(["--typed-data".into(), typed_file.display().to_string()]);
    let refused = run(&sign);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("allows no content"));
    let context = ERC7739Context {
        appDomainSeparator: typed.domain.separator(),
        contentNames: vec!["Mail(string contents)".into()],
    };
    let data = ERC7739Data {
        allowedERC7739Content: vec![context.clone()],
        erc1271Policies: vec![PolicyData {
            policy: d.chain.policies.sudo,
            initData: Default::default(),
        }],
    };
    let file = dir.path().join("erc7739.json");
    std::fs::write(&file, serde_json::to_vec(&data).unwrap()).unwrap();
    let mut change = on("change", account, &old);
    change.extend(["--add-erc1271-policies".into(), file.display().to_string()]);
    let risky = run(&change);
    assert!(!risky.status.success());
    assert!(String::from_utf8_lossy(&risky.stderr).contains("--allow erc1271-any-hash"));
    change.extend(["--allow".into(), "erc1271-any-hash".into()]);
    let changed = ok_json(&run(&change));
    println!("change (enableERC1271Policies) through Alto: {} gas", changed["gas"]);
    let signed = ok_json(&run(&sign));
    let hash: B256 = signed["hash"].as_str().unwrap().parse().unwrap();
    assert_eq!(hash, typed.eip712_signing_hash().unwrap());
    let signature: alloy_primitives::Bytes = signed["signature"].as_str().unwrap().parse().unwrap();
    let call = IERC7579Account::isValidSignatureCall { hash, signature };
    let magic = harness.node.call(account, &call).await;
    assert_eq!(
        magic.0,
        IERC7579Account::isValidSignatureCall::SELECTOR,
        "anvil's account accepts it"
    );

    let file = dir.path().join("contexts.json");
    std::fs::write(&file, serde_json::to_vec(&[context]).unwrap()).unwrap();
    let mut change = on("change", account, &old);
    change.extend(["--remove-erc7739-content".into(), file.display().to_string()]);
    ok_json(&run(&change));
    let refused = run(&sign);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("allows no content"));
}
