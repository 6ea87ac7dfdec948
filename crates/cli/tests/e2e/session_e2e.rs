//! `mandate session grant|use|status` against real anvil and Alto, with the store on disk:
//! a session granted by the CLI, used for a transfer, refused locally over its limit (nothing
//! sent, non-zero exit, one line naming the policy's rule), and its limits read back.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use alloy_primitives::{Address, U256};
use alloy_sol_types::SolCall;
use mandate::abi::sol::IERC20;
use serde_json::{Value, json};

use crate::run::{mandate, ok_json};

/// anvil's fourth dev key (a public test key): the account's owner.
const OWNER_KEY: &str = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
const SHOP: Address = Address::repeat_byte(0x5b);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_use_and_status_through_alto_on_anvil() {
    let harness = mandate_testing::node::Harness::start().await;
    let d = harness.deployments;
    let dir = tempfile::tempdir().unwrap();
    let deployments = dir.path().join("deployments.json");
    std::fs::write(&deployments, serde_json::to_vec(&d).unwrap()).unwrap();
    let store = dir.path().join("sessions");

    // Transfers to SHOP, at most 10 each; the key and validator are filled in by `grant`.
    let transfer =
        mandate::abi::Erc20Action::new(mandate::abi::Erc20Function::Transfer, d.test_erc20)
            .recipient(SHOP)
            .amount_limit_per_action(U256::from(10))
            .usage_limit(5)
            .build(&d.chain.policies, 0)
            .unwrap();
    let session = json!({
        "sessionValidator": Address::ZERO,
        "sessionValidatorInitData": "0x",
        "salt": alloy_primitives::B256::ZERO,
        "userOpPolicies": [],
        "erc7739Policies": {"allowedERC7739Content": [], "erc1271Policies": []},
        "actions": [transfer],
        "permitERC4337Paymaster": false,
    });
    let session_file = dir.path().join("session.json");
    std::fs::write(&session_file, serde_json::to_vec(&session).unwrap()).unwrap();

    let env = [("MANDATE_OWNER_KEY", OWNER_KEY), ("MANDATE_STORE_PASSWORD", "correct horse")];
    let chain_args = |cmd: &'static str| {
        vec![
            "session".to_string(),
            cmd.to_string(),
            "--rpc-url".into(),
            harness.node_url.clone(),
            "--deployments".into(),
            deployments.display().to_string(),
            "--store".into(),
            store.display().to_string(),
            "--json".into(),
        ]
    };
    let with_bundler = |cmd: &'static str| {
        let mut args = chain_args(cmd);
        args.extend(["--bundler-url".to_string(), harness.bundler_url.clone()]);
        args
    };
    let run = |args: &[String]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        mandate(&args, &env)
    };

    // The account pays its own gas: fund it where the factory will put it.
    let owner: alloy_signer_local::PrivateKeySigner = OWNER_KEY.parse().unwrap();
    let validators =
        mandate::abi::account::mandate::owner_validators(d.k1_validator, owner.address());
    let query = mandate::abi::account::mandate::address_query(validators, Default::default());
    let account: Address = harness.node.call(d.account_factory, &query).await;
    harness.node.set_balance(account, U256::from(10u128.pow(18))).await;

    let mut args = with_bundler("grant");
    args.extend(["--session".into(), session_file.display().to_string()]);
    let granted = ok_json(&run(&args));
    assert_eq!(granted["account"].as_str().unwrap().parse::<Address>().unwrap(), account);
    assert!(granted["userOpHash"].is_string());
    let pid = granted["permissionId"].as_str().unwrap().to_string();
    // The store holds a keystore and the record, nothing readable of the key.
    let entries: Vec<_> = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name != ".lock")
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");

    // Tokens for the account, minted by anyone (test token).
    let mint = IERC20::mintCall { to: account, amount: U256::from(100) }.abi_encode();
    harness.node.transact(Some(d.test_erc20), U256::ZERO, mint.into()).await;

    let calls = |amount: u64| {
        let file = dir.path().join(format!("calls-{amount}.json"));
        let data = IERC20::transferCall { to: SHOP, amount: U256::from(amount) }.abi_encode();
        let calls = json!([{ "target": d.test_erc20, "value": "0", "callData": alloy_primitives::hex::encode_prefixed(data) }]);
        std::fs::write(&file, serde_json::to_vec(&calls).unwrap()).unwrap();
        file.display().to_string()
    };
    let mut args = with_bundler("use");
    args.extend(["--account".into(), account.to_string(), "--permission-id".into(), pid.clone()]);
    let mut use_7 = args.clone();
    use_7.extend(["--calls".into(), calls(7)]);
    let used = ok_json(&run(&use_7));
    assert_eq!(used["mode"], "use");
    assert_eq!(used["sent"]["receipt"]["success"], true);
    let balance: U256 =
        harness.node.call(d.test_erc20, &IERC20::balanceOfCall { owner: SHOP }).await;
    assert_eq!(balance, U256::from(7));

    let mut use_11 = args.clone();
    use_11.extend(["--calls".into(), calls(11)]);
    let refused = run(&use_11);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("refused locally") && stderr.contains("rule 1"), "{stderr}");

    let status = ok_json(&run(&chain_args("status")));
    let limits = &status[0]["limits"];
    assert!(
        limits
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["remaining"] == json!({"kind": "uses", "limit": 5, "used": 1, "left": 4})),
        "{limits}"
    );

    // A wrong store password: a one-line error naming the session, never password or key.
    let wrong = [("MANDATE_OWNER_KEY", OWNER_KEY), ("MANDATE_STORE_PASSWORD", "battery staple")];
    let out = mandate(&use_7.iter().map(String::as_str).collect::<Vec<_>>(), &wrong);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&pid), "{stderr}");
    assert!(!stderr.contains("battery") && !stderr.contains("correct horse"), "{stderr}");

    // A grant killed after it stored the key and before its op was sent: the key and a
    // pending record survive. The bundler here answers what connecting asks (chain id, entry
    // points) and never answers anything else.
    let (bundler_url, reached) = silent_bundler(harness.chain_id, d.chain.entry_point);
    let mut second = session.clone();
    second["salt"] = json!(alloy_primitives::B256::with_last_byte(2));
    let second_file = dir.path().join("second.json");
    std::fs::write(&second_file, serde_json::to_vec(&second).unwrap()).unwrap();
    let mut args = chain_args("grant");
    args.extend(["--bundler-url".into(), bundler_url, "--session".into()]);
    args.push(second_file.display().to_string());
    let mut child = Command::new(env!("CARGO_BIN_EXE_mandate"))
        .args(&args)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let method = reached.recv_timeout(std::time::Duration::from_secs(120)).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_ne!(method, "eth_sendUserOperation", "the op was sent before the key was stored");
    let store = mandate::client::store::FileStore::open(&store, "correct horse").unwrap();
    let pending: Vec<_> = store
        .list()
        .unwrap()
        .into_iter()
        .filter(|r| r.state == mandate::client::GrantState::Pending)
        .collect();
    assert_eq!(pending.len(), 1, "{pending:?}");
    use mandate::client::store::SessionStore as _;
    let loaded = store.load(&pending[0].reference()).unwrap().unwrap();
    assert_eq!(loaded.key.address(), pending[0].session_key);
    assert_eq!(loaded.record.account, account);
    assert!(loaded.record.granted_by.is_none());
}

/// A bundler on a local port that answers `eth_chainId` and `eth_supportedEntryPoints` and
/// holds every other request unanswered, telling its method on the channel.
fn silent_bundler(
    chain_id: u64,
    entry_point: Address,
) -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader, Read, Write};

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tell, reached) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let tell = tell.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                loop {
                    let mut length = 0usize;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let line = line.trim_end();
                        if line.is_empty() {
                            break;
                        }
                        if let Some((name, value)) = line.split_once(':')
                            && name.eq_ignore_ascii_case("content-length")
                        {
                            length = value.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let request: Value = serde_json::from_slice(&body).unwrap();
                    let result = match request["method"].as_str().unwrap() {
                        "eth_chainId" => json!(format!("{chain_id:#x}")),
                        "eth_supportedEntryPoints" => json!([entry_point]),
                        other => {
                            let _ = tell.send(other.to_owned());
                            // Never answered; the connection stays open until the kill.
                            loop {
                                std::thread::park();
                            }
                        }
                    };
                    let response = serde_json::to_vec(
                        &json!({"jsonrpc": "2.0", "id": request["id"], "result": result}),
                    )
                    .unwrap();
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        response.len()
                    );
                    writer.write_all(head.as_bytes()).unwrap();
                    writer.write_all(&response).unwrap();
                }
            });
        }
    });
    (url, reached)
}

/// `--account-type`: a Nexus account granted and used through the CLI; the same session
/// driven as a Kernel account is a one-line error before anything is sent; and a grant on an
/// existing account (`--account`) with a chain-only preset and `--owner-validator`; a dapp's
/// grant imported, used, exported, and used again from TypeScript (interop/live.mjs); and
/// module-sdk's own grant (interop/grant.mjs, its default addresses) on upstream's runtimes
/// placed at the canonical addresses, imported and used with `--deployments module-sdk-0.4`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_types_through_alto_on_anvil() {
    let harness = mandate_testing::node::Harness::start().await;
    let d = harness.deployments;
    let dir = tempfile::tempdir().unwrap();
    let deployments = dir.path().join("deployments.json");
    std::fs::write(&deployments, serde_json::to_vec(&d).unwrap()).unwrap();
    let store = dir.path().join("sessions");
    let transfer =
        mandate::abi::Erc20Action::new(mandate::abi::Erc20Function::Transfer, d.test_erc20)
            .recipient(SHOP)
            .amount_limit_per_action(U256::from(10))
            .build(&d.chain.policies, 0)
            .unwrap();
    let session = |salt: u8| {
        let file = dir.path().join(format!("session-{salt}.json"));
        let session = json!({
            "sessionValidator": Address::ZERO,
            "sessionValidatorInitData": "0x",
            "salt": alloy_primitives::B256::with_last_byte(salt),
            "userOpPolicies": [],
            "erc7739Policies": {"allowedERC7739Content": [], "erc1271Policies": []},
            "actions": [transfer],
            "permitERC4337Paymaster": false,
        });
        std::fs::write(&file, serde_json::to_vec(&session).unwrap()).unwrap();
        file.display().to_string()
    };
    let owner = alloy_signer_local::PrivateKeySigner::random();
    let owner_key = alloy_primitives::hex::encode_prefixed(owner.to_bytes());
    let env =
        [("MANDATE_OWNER_KEY", owner_key.as_str()), ("MANDATE_STORE_PASSWORD", "correct horse")];
    let base = |cmd: &str, account_type: &str, deployments: &str| {
        vec![
            "session".to_string(),
            cmd.to_string(),
            "--rpc-url".into(),
            harness.node_url.clone(),
            "--bundler-url".into(),
            harness.bundler_url.clone(),
            "--deployments".into(),
            deployments.to_string(),
            "--store".into(),
            store.display().to_string(),
            "--account-type".into(),
            account_type.into(),
            "--json".into(),
        ]
    };
    let run = |args: &[String]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        mandate(&args, &env)
    };
    let file = deployments.display().to_string();

    // The owner's Nexus account, funded where the factory puts it.
    let init = mandate::abi::account::nexus::init_data(
        d.families.nexus.bootstrap,
        d.k1_validator,
        owner.address().to_vec().into(),
    );
    let query = mandate::abi::account::nexus::address_query(init, Default::default());
    let account: Address = harness.node.call(d.families.nexus.factory, &query).await;
    harness.node.set_balance(account, U256::from(10u128.pow(18))).await;
    let mut grant = base("grant", "nexus", &file);
    grant.extend(["--session".into(), session(1)]);
    let granted = ok_json(&run(&grant));
    assert_eq!(granted["account"].as_str().unwrap().parse::<Address>().unwrap(), account);
    assert!(!harness.node.code(account).await.is_empty(), "deployed by the grant");
    let pid = granted["permissionId"].as_str().unwrap().to_string();
    let mint = IERC20::mintCall { to: account, amount: U256::from(100) }.abi_encode();
    harness.node.transact(Some(d.test_erc20), U256::ZERO, mint.into()).await;
    let data = IERC20::transferCall { to: SHOP, amount: U256::from(3) }.abi_encode();
    let calls = dir.path().join("calls.json");
    let body = json!([{ "target": d.test_erc20, "value": "0", "callData": alloy_primitives::hex::encode_prefixed(data) }]);
    std::fs::write(&calls, serde_json::to_vec(&body).unwrap()).unwrap();
    let use_as = |account_type: &str| {
        let mut args = base("use", account_type, &file);
        args.extend(["--account".into(), account.to_string(), "--permission-id".into()]);
        args.extend([pid.clone(), "--calls".into(), calls.display().to_string()]);
        args
    };

    // Kernel routing on a Nexus account's session: refused before anything is sent.
    let nonce = |node: mandate_testing::node::Node| async move {
        // The lane SmartSession's ops take on a Nexus account.
        let key = mandate::abi::account::nexus::nonce_key(d.chain.smart_session, 0).to();
        let call = mandate::abi::sol::IEntryPoint::getNonceCall { sender: account, key };
        let nonce: U256 = node.call(d.chain.entry_point, &call).await;
        nonce
    };
    let before = nonce(mandate_testing::node::Node::new(&harness.node_url)).await;
    let wrong = run(&use_as("kernel"));
    assert!(!wrong.status.success());
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    // The record holds the family it was granted on.
    assert!(
        stderr.contains("was granted on a nexus account; the client drives kernel accounts"),
        "{stderr}"
    );
    let balance: U256 =
        harness.node.call(d.test_erc20, &IERC20::balanceOfCall { owner: SHOP }).await;
    assert_eq!(balance, U256::ZERO, "nothing sent");
    assert_eq!(nonce(mandate_testing::node::Node::new(&harness.node_url)).await, before);

    let used = ok_json(&run(&use_as("nexus")));
    assert_eq!(used["sent"]["receipt"]["success"], true);
    let balance: U256 =
        harness.node.call(d.test_erc20, &IERC20::balanceOfCall { owner: SHOP }).await;
    assert_eq!(balance, U256::from(3));

    // An OwnableValidator session (1-of-1 with the new key, as TypeScript dapps grant), used.
    let mut grant = base("grant", "nexus", &file);
    grant.extend(["--session".into(), session(4), "--session-validator".into(), "ownable".into()]);
    let granted = ok_json(&run(&grant));
    let ownable_pid = granted["permissionId"].as_str().unwrap().to_string();
    let stored = mandate::client::FileStore::open(&store, "correct horse").unwrap();
    let record = mandate::client::SessionStore::list(&stored)
        .unwrap()
        .into_iter()
        .find(|r| r.permission_id.to_string() == ownable_pid)
        .unwrap();
    assert_eq!(record.session.sessionValidator, d.chain.session_validators.ownable.unwrap());
    let owners =
        mandate::abi::ownable::OwnableData::decode(&record.session.sessionValidatorInitData)
            .unwrap();
    assert_eq!((owners.threshold(), owners.owners()), (1, &[record.session_key][..]));
    let mut use_ownable = base("use", "nexus", &file);
    use_ownable.extend(["--account".into(), account.to_string(), "--permission-id".into()]);
    use_ownable.extend([ownable_pid, "--calls".into(), calls.display().to_string()]);
    let used = ok_json(&run(&use_ownable));
    assert_eq!(used["sent"]["receipt"]["success"], true);
    let balance: U256 =
        harness.node.call(d.test_erc20, &IERC20::balanceOfCall { owner: SHOP }).await;
    assert_eq!(balance, U256::from(6));

    // A dapp's grant (abstractjs's shape: UNSAFE_ENABLE through the account's validator,
    // bigint tags) for an OwnableValidator session of a key this backend holds: imported,
    // checked against the node, used; its first op enables it.
    let import_key = mandate::client::SessionKey::random();
    let ownable = d.chain.session_validators.ownable.unwrap();
    let owners = mandate::abi::ownable::OwnableData::new(1, vec![import_key.address()]).unwrap();
    let granted_session = mandate::abi::SessionBuilder::new(ownable, owners.encode().to_vec())
        .action(transfer.clone())
        .salt(alloy_primitives::B256::with_last_byte(5))
        .build()
        .unwrap();
    let lib =
        mandate::client::SessionClient::connect(&harness.node_url, &harness.bundler_url, d.chain)
            .await
            .unwrap()
            .with_family(std::sync::Arc::new(mandate::client::Nexus::devnet(&d)));
    let unsafe_enable = mandate::abi::SmartSessionMode::UnsafeEnable;
    let enable =
        lib.prepare_enable(&owner, account, &granted_session, unsafe_enable).await.unwrap();
    let entry = mandate::abi::grant::GrantEntry {
        mode: unsafe_enable,
        permission_id: mandate::abi::PermissionId::of(&granted_session),
        signature: owners.dummy_signature(),
        enable_session_data: mandate::abi::EnableSessionData {
            enable_session: enable,
            validator: d.k1_validator,
            account_type: mandate::abi::account::AccountType::Nexus,
        },
    };
    let mut response = serde_json::to_value(vec![entry]).unwrap();
    for digest in response[0]["enableSessionData"]["enableSession"]["hashesAndChainIds"]
        .as_array_mut()
        .unwrap()
    {
        let id = digest["chainId"].to_string();
        digest["chainId"] = json!({ "__type": "bigint", "value": id.trim_matches('"') });
    }
    let response_file = dir.path().join("grant-response.json");
    std::fs::write(&response_file, response.to_string()).unwrap();
    let import_secret = alloy_primitives::hex::encode_prefixed(import_key.signer().to_bytes());
    let import_env = [
        ("MANDATE_SESSION_KEY", import_secret.as_str()),
        ("MANDATE_STORE_PASSWORD", "correct horse"),
    ];
    let import_with = |account_type: &str,
                       response_file: &std::path::Path,
                       key: &[&str],
                       env: &[(&str, &str)]| {
        let store = store.display().to_string();
        let response = response_file.display().to_string();
        let account = account.to_string();
        let mut args = vec![
            "session",
            "import",
            response.as_str(),
            "--rpc-url",
            harness.node_url.as_str(),
            "--deployments",
            file.as_str(),
            "--store",
            store.as_str(),
            "--account-type",
            account_type,
            "--account",
            account.as_str(),
            "--json",
        ];
        args.extend_from_slice(key);
        mandate(&args, env)
    };
    let import = |account_type: &str| import_with(account_type, &response_file, &[], &import_env);
    // All or nothing: entry [0] passes every check, entry [1] names another account type;
    // the import fails naming [1] and stores neither.
    let mut two = response.clone();
    let mut second = two[0].clone();
    second["enableSessionData"]["accountType"] = json!("kernel");
    two.as_array_mut().unwrap().push(second);
    std::fs::write(&response_file, two.to_string()).unwrap();
    let half = import("nexus");
    assert!(!half.status.success());
    let stderr = String::from_utf8_lossy(&half.stderr);
    assert!(stderr.contains("[1].enableSessionData.accountType"), "{stderr}");
    let store_dir = store.display().to_string();
    let status_args = [
        "session",
        "status",
        "--rpc-url",
        harness.node_url.as_str(),
        "--deployments",
        file.as_str(),
        "--store",
        store_dir.as_str(),
        "--json",
    ];
    let pid = mandate::abi::PermissionId::of(&granted_session).to_string();
    let stored = ok_json(&mandate(&status_args, &import_env));
    let stored_pids: Vec<&Value> =
        stored.as_array().unwrap().iter().map(|s| &s["permissionId"]).collect();
    assert!(!stored_pids.is_empty(), "{stored}");
    assert!(!stored_pids.iter().any(|p| p.as_str() == Some(pid.as_str())), "{stored}");
    std::fs::write(&response_file, response.to_string()).unwrap();
    let wrong = import("kernel");
    assert!(!wrong.status.success());
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(stderr.contains("accountType"), "{stderr}");
    let imported = ok_json(&import("nexus"));
    assert_eq!(imported[0]["state"], "pending first use", "{imported}");
    let imported_pid = imported[0]["permissionId"].as_str().unwrap().to_string();
    assert_eq!(imported_pid, pid);
    let stored = ok_json(&mandate(&status_args, &import_env));
    assert!(stored.as_array().unwrap().iter().any(|s| s["permissionId"] == pid.as_str()));
    // Exported as the SDKs read it (no key: only its address), and imported back from the
    // export: the same record (its export the same), still pending first use.
    let chain_id = harness.node.chain_id().await;
    let export_as = |account_type: Option<&str>| {
        let store = store.display().to_string();
        let chain_id = chain_id.to_string();
        let account = account.to_string();
        let mut args = vec![
            "session",
            "export",
            "--chain-id",
            chain_id.as_str(),
            "--account",
            account.as_str(),
            "--permission-id",
            imported_pid.as_str(),
            "--store",
            store.as_str(),
        ];
        if let Some(account_type) = account_type {
            args.extend(["--account-type", account_type]);
        }
        mandate(&args, &import_env[1..])
    };
    let export = || ok_json(&export_as(None));
    // An enable-mode record's export names the account's family, which the record holds:
    // the same export with --account-type naming it; another family refused in one line,
    // never written as another's.
    assert_eq!(ok_json(&export_as(Some("nexus"))), export());
    let mistyped = export_as(Some("kernel"));
    assert!(!mistyped.status.success());
    let stderr = String::from_utf8_lossy(&mistyped.stderr);
    assert!(
        stderr.contains("--account-type") && stderr.contains("nexus account, not kernel"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(mistyped.stdout.is_empty(), "nothing written on a refusal");
    let exported = export();
    assert!(!exported.to_string().contains(import_secret.trim_start_matches("0x")));
    assert_eq!(
        exported["sessionKey"].as_str().unwrap().parse::<Address>().unwrap(),
        import_key.address()
    );
    let mut sdk_shape = exported["grantResponse"].clone();
    let entry = sdk_shape[0].as_object_mut().unwrap();
    assert_eq!(entry.remove("signature").unwrap().as_str().unwrap().len(), 2 + 130);
    let session_chain =
        entry["enableSessionData"]["enableSession"]["sessionToEnable"].as_object_mut().unwrap();
    assert_eq!(session_chain.remove("chainId").unwrap()["__type"], "bigint");
    let mut original = response.clone();
    original[0].as_object_mut().unwrap().remove("signature");
    assert_eq!(sdk_shape, original, "the export is the grant response imported");
    let exported_file = dir.path().join("exported.json");
    std::fs::write(&exported_file, exported["grantResponse"].to_string()).unwrap();
    let reimported = ok_json(&import_with("nexus", &exported_file, &[], &import_env));
    assert_eq!(reimported[0]["state"], "pending first use", "{reimported}");
    assert_eq!(reimported[0]["permissionId"], imported_pid.as_str());
    assert_eq!(export(), exported, "export → import reads back the same record");
    let mut use_imported = base("use", "nexus", &file);
    use_imported.extend(["--account".into(), account.to_string(), "--permission-id".into()]);
    use_imported.extend([imported_pid, "--calls".into(), calls.display().to_string()]);
    let used = ok_json(&run(&use_imported));
    assert_eq!(used["mode"], "unsafeEnable", "{used}");
    assert_eq!(used["sent"]["receipt"]["success"], true);
    let balance: U256 =
        harness.node.call(d.test_erc20, &IERC20::balanceOfCall { owner: SHOP }).await;
    assert_eq!(balance, U256::from(9));
    // The same key from an Ethereum JSON keystore, its password from the environment: a
    // wrong password is one line naming the file and the variable; the right one re-imports.
    let keystore_dir = dir.path().join("keystore");
    std::fs::create_dir(&keystore_dir).unwrap();
    let key_bytes = import_key.signer().to_bytes();
    alloy_signer_local::PrivateKeySigner::encrypt_keystore(
        &keystore_dir,
        &mut rand::thread_rng(),
        key_bytes,
        "keystore pass",
        Some("session-key.json"),
    )
    .unwrap();
    let keystore = keystore_dir.join("session-key.json").display().to_string();
    let key_file = ["--key-file", keystore.as_str(), "--password-env", "KS_PASS"];
    let store_password = ("MANDATE_STORE_PASSWORD", "correct horse");
    let wrong =
        import_with("nexus", &response_file, &key_file, &[store_password, ("KS_PASS", "not it")]);
    assert!(!wrong.status.success());
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(stderr.contains("KS_PASS") && stderr.contains("session-key.json"), "{stderr}");
    assert!(!stderr.contains("not it"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    let reimported = import_with(
        "nexus",
        &response_file,
        &key_file,
        &[store_password, ("KS_PASS", "keystore pass")],
    );
    assert_eq!(ok_json(&reimported)[0]["state"], "enabled");
    // The reverse: the session, now enabled, exported and used from TypeScript (interop/live.mjs:
    // module-sdk's encodeSmartSessionSignature in USE mode, viem's bundler client) with the key.
    let chain_id_arg = chain_id.to_string();
    let account_arg = account.to_string();
    let export_args = [
        "session",
        "export",
        "--chain-id",
        chain_id_arg.as_str(),
        "--account",
        account_arg.as_str(),
        "--permission-id",
        pid.as_str(),
        "--store",
        store_dir.as_str(),
    ];
    let enabled_file = dir.path().join("enabled-export.json");
    let enabled = ok_json(&mandate(&export_args, &[store_password]));
    std::fs::write(&enabled_file, enabled.to_string()).unwrap();
    let data = IERC20::transferCall { to: SHOP, amount: U256::from(2) }.abi_encode();
    let started = std::time::Instant::now();
    let out = Command::new("node")
        .current_dir(mandate_testing::node::node_scripts("interop"))
        .args(["live.mjs", "--rpc-url", harness.node_url.as_str()])
        .args(["--bundler-url", harness.bundler_url.as_str()])
        .args(["--entry-point", &d.chain.entry_point.to_string()])
        .args(["--session", &enabled_file.display().to_string()])
        .args(["--target", &d.test_erc20.to_string()])
        .args(["--calldata", &alloy_primitives::hex::encode_prefixed(data)])
        .env("MANDATE_SESSION_KEY", &import_secret)
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let live = ok_json(&out);
    eprintln!("node live.mjs wall time (start to receipt): {elapsed:?}; {live}");
    assert_eq!(live["success"], true, "{live}");
    assert_eq!(live["userOpHash"], live["computedHash"], "{live}");
    assert_eq!(live["validator"], "ownable", "{live}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(import_secret.trim_start_matches("0x")));
    let balance: U256 =
        harness.node.call(d.test_erc20, &IERC20::balanceOfCall { owner: SHOP }).await;
    assert_eq!(balance, U256::from(11), "the transfer from TypeScript landed");

    // module-sdk's EnableSessionData as it is (no mode: ENABLE here, found from the account's
    // enable nonce): its shape detected, imported pending first use, used; `--format
    // abstractjs` on it is one line naming what the file holds.
    let sdk_session = mandate::abi::SessionBuilder::new(ownable, owners.encode().to_vec())
        .action(transfer.clone())
        .salt(alloy_primitives::B256::with_last_byte(6))
        .build()
        .unwrap();
    let enable_mode = mandate::abi::SmartSessionMode::Enable;
    let sdk_data = mandate::abi::EnableSessionData {
        enable_session: lib
            .prepare_enable(&owner, account, &sdk_session, enable_mode)
            .await
            .unwrap(),
        validator: d.k1_validator,
        account_type: mandate::abi::account::AccountType::Nexus,
    };
    std::fs::write(&response_file, serde_json::to_string(&sdk_data).unwrap()).unwrap();
    let mismatch = import_with("nexus", &response_file, &["--format", "abstractjs"], &import_env);
    assert!(!mismatch.status.success());
    let stderr = String::from_utf8_lossy(&mismatch.stderr);
    assert!(stderr.contains("the file holds module-sdk's EnableSessionData"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    // The same key already holds the abstractjs permission on this account: one key per
    // permission, unless allowed.
    let shared = import("nexus");
    assert!(!shared.status.success());
    let stderr = String::from_utf8_lossy(&shared.stderr);
    assert!(stderr.contains("--allow shared-session-key"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    let allow = ["--allow", "shared-session-key"];
    let imported = ok_json(&import_with("nexus", &response_file, &allow, &import_env));
    assert_eq!(imported[0]["state"], "pending first use", "{imported}");
    assert_eq!(imported[0]["mode"], serde_json::to_value(enable_mode).unwrap(), "{imported}");
    let sdk_pid = mandate::abi::PermissionId::of(&sdk_session).to_string();
    assert_eq!(imported[0]["permissionId"], sdk_pid.as_str());
    let mut use_sdk = base("use", "nexus", &file);
    use_sdk.extend(["--account".into(), account.to_string(), "--permission-id".into()]);
    use_sdk.extend([sdk_pid, "--calls".into(), calls.display().to_string()]);
    let before: U256 =
        harness.node.call(d.test_erc20, &IERC20::balanceOfCall { owner: SHOP }).await;
    let used = ok_json(&run(&use_sdk));
    assert_eq!(used["mode"], "enable", "{used}");
    assert_eq!(used["sent"]["receipt"]["success"], true);
    let balance: U256 =
        harness.node.call(d.test_erc20, &IERC20::balanceOfCall { owner: SHOP }).await;
    assert_eq!(balance, before + U256::from(3), "the calls transfer 3");

    // An existing account and a chain's deployments only: the family's routing from
    // --owner-validator; SmartSession is installed already, so the grant enables.
    let chain_file = dir.path().join("chain.json");
    std::fs::write(&chain_file, serde_json::to_vec(&d.chain).unwrap()).unwrap();
    let mut grant = base("grant", "nexus", &chain_file.display().to_string());
    grant.extend(["--session".into(), session(2), "--account".into(), account.to_string()]);
    grant.extend(["--owner-validator".into(), d.k1_validator.to_string()]);
    let granted = ok_json(&run(&grant));
    assert_eq!(granted["account"].as_str().unwrap().parse::<Address>().unwrap(), account);
    assert!(granted["userOpHash"].is_string());
    // Without --account, a chain's deployments cannot make a new account.
    let mut grant = base("grant", "nexus", &chain_file.display().to_string());
    grant.extend(["--session".into(), session(3)]);
    let out = run(&grant);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs its factory"));
    // The TypeScript → Rust direction on what real chains hold: upstream's runtimes placed at
    // the canonical addresses, a new Nexus account (a second owner) granted through the CLI
    // with those deployments (upstream's SmartSession installed by the grant), then
    // interop/grant.mjs at module-sdk's defaults (getEnableSessionDetails: UNSAFE_ENABLE, then
    // ENABLE; the owner's K1 validator, the nonce and digest read from anvil; an
    // OwnableValidator session for a fresh key, `transfer` under Sudo) writes module-sdk's
    // EnableSessionData; imported and used with `--deployments module-sdk-0.4`, pending first
    // use, the first use enabling it.
    let canonical = harness.node.place_canonical(&mandate_testing::upstream::runtimes()).await;
    assert_eq!(canonical, mandate::abi::Deployments::MODULE_SDK_0_4);
    let mut canonical_devnet = serde_json::to_value(d).unwrap();
    canonical_devnet["chain"] = serde_json::to_value(canonical).unwrap();
    let canonical_file = dir.path().join("canonical-devnet.json");
    std::fs::write(&canonical_file, canonical_devnet.to_string()).unwrap();
    let canonical_owner = alloy_signer_local::PrivateKeySigner::random();
    let canonical_owner_key = alloy_primitives::hex::encode_prefixed(canonical_owner.to_bytes());
    let canonical_env = [
        ("MANDATE_OWNER_KEY", canonical_owner_key.as_str()),
        ("MANDATE_STORE_PASSWORD", "correct horse"),
    ];
    let init = mandate::abi::account::nexus::init_data(
        d.families.nexus.bootstrap,
        d.k1_validator,
        canonical_owner.address().to_vec().into(),
    );
    let query = mandate::abi::account::nexus::address_query(init, Default::default());
    let canonical_account: Address = harness.node.call(d.families.nexus.factory, &query).await;
    harness.node.set_balance(canonical_account, U256::from(10u128.pow(18))).await;
    let mint = IERC20::mintCall { to: canonical_account, amount: U256::from(100) }.abi_encode();
    harness.node.transact(Some(d.test_erc20), U256::ZERO, mint.into()).await;
    let canonical_transfer =
        mandate::abi::Erc20Action::new(mandate::abi::Erc20Function::Transfer, d.test_erc20)
            .recipient(SHOP)
            .amount_limit_per_action(U256::from(10))
            .build(&canonical.policies, 0)
            .unwrap();
    let canonical_session = dir.path().join("canonical-session.json");
    let body = json!({
        "sessionValidator": Address::ZERO,
        "sessionValidatorInitData": "0x",
        "salt": alloy_primitives::B256::with_last_byte(1),
        "userOpPolicies": [],
        "erc7739Policies": {"allowedERC7739Content": [], "erc1271Policies": []},
        "actions": [canonical_transfer],
        "permitERC4337Paymaster": false,
    });
    std::fs::write(&canonical_session, body.to_string()).unwrap();
    let mut grant = base("grant", "nexus", &canonical_file.display().to_string());
    grant.extend(["--session".into(), canonical_session.display().to_string()]);
    grant.extend(["--session-validator".into(), "ownable".into()]);
    let args: Vec<&str> = grant.iter().map(String::as_str).collect();
    let granted = ok_json(&mandate(&args, &canonical_env));
    assert_eq!(granted["account"].as_str().unwrap().parse::<Address>().unwrap(), canonical_account);
    let installed = mandate::abi::account::is_validator_installed(canonical.smart_session);
    let installed: bool = harness.node.call(canonical_account, &installed).await;
    assert!(installed, "upstream's SmartSession installed by the grant");
    let k1 = d.k1_validator.to_string();
    let canonical_account_arg = canonical_account.to_string();
    let preset = |cmd: &str| {
        vec![
            "session".to_string(),
            cmd.to_string(),
            "--rpc-url".into(),
            harness.node_url.clone(),
            "--deployments".into(),
            "module-sdk-0.4".into(),
            "--owner-validator".into(),
            k1.clone(),
            "--store".into(),
            store.display().to_string(),
            "--account-type".into(),
            "nexus".into(),
            "--account".into(),
            canonical_account_arg.clone(),
            "--json".into(),
        ]
    };
    // The ENABLE round's first use is a batch: two transfers (3 and 4) in one op.
    let batch = dir.path().join("calls-batch.json");
    let transfer_of = |amount: u64| {
        let data = IERC20::transferCall { to: SHOP, amount: U256::from(amount) }.abi_encode();
        json!({ "target": d.test_erc20, "value": "0", "callData": alloy_primitives::hex::encode_prefixed(data) })
    };
    std::fs::write(&batch, serde_json::to_vec(&json!([transfer_of(3), transfer_of(4)])).unwrap())
        .unwrap();
    let modes = [
        ("unsafe-enable", unsafe_enable, "unsafeEnable", &calls, 3u64),
        ("enable", enable_mode, "enable", &batch, 7),
    ];
    for (round, (arg, mode, used_mode, calls, moved)) in modes.into_iter().enumerate() {
        let ts_key = mandate::client::SessionKey::random();
        let ts_secret = alloy_primitives::hex::encode_prefixed(ts_key.signer().to_bytes());
        let ts_file = dir.path().join(format!("module-sdk-grant-{arg}.json"));
        let salt = alloy_primitives::B256::with_last_byte(7 + round as u8);
        let out = Command::new("node")
            .current_dir(mandate_testing::node::node_scripts("interop"))
            .args(["grant.mjs", "--rpc-url", harness.node_url.as_str(), "--mode", arg])
            .args(["--account", &canonical_account_arg])
            .args(["--owner-validator", &k1])
            .args(["--session-key", &ts_key.address().to_string()])
            .args(["--token", &d.test_erc20.to_string()])
            .args(["--salt", &salt.to_string(), "--out", &ts_file.display().to_string()])
            .env("MANDATE_OWNER_KEY", &canonical_owner_key)
            .output()
            .unwrap();
        let ts_grant = ok_json(&out);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!stdout.contains(canonical_owner_key.trim_start_matches("0x")));
        let ts_env = [
            ("MANDATE_SESSION_KEY", ts_secret.as_str()),
            ("MANDATE_STORE_PASSWORD", "correct horse"),
        ];
        let before: U256 =
            harness.node.call(d.test_erc20, &IERC20::balanceOfCall { owner: SHOP }).await;
        let started = std::time::Instant::now();
        let mut import = preset("import");
        import.insert(2, ts_file.display().to_string());
        let args: Vec<&str> = import.iter().map(String::as_str).collect();
        let imported = ok_json(&mandate(&args, &ts_env));
        assert_eq!(imported[0]["state"], "pending first use", "{imported}");
        assert_eq!(imported[0]["mode"], serde_json::to_value(mode).unwrap(), "{imported}");
        let ts_pid = imported[0]["permissionId"].as_str().unwrap().to_string();
        assert_eq!(ts_grant["permissionId"], ts_pid.as_str(), "module-sdk's permissionId");
        let mut use_ts = preset("use");
        use_ts.extend(["--bundler-url".into(), harness.bundler_url.clone()]);
        use_ts.extend(["--permission-id".into(), ts_pid, "--calls".into()]);
        use_ts.push(calls.display().to_string());
        let args: Vec<&str> = use_ts.iter().map(String::as_str).collect();
        let used = ok_json(&mandate(&args, &canonical_env));
        let elapsed = started.elapsed();
        eprintln!("module-sdk grant ({arg}): import → first use → receipt {elapsed:?}; {ts_grant}");
        assert_eq!(used["mode"], used_mode, "{used}");
        assert_eq!(used["sent"]["receipt"]["success"], true);
        let balance: U256 =
            harness.node.call(d.test_erc20, &IERC20::balanceOfCall { owner: SHOP }).await;
        assert_eq!(balance, before + U256::from(moved), "module-sdk's grant: the {arg} op landed");
    }
}
