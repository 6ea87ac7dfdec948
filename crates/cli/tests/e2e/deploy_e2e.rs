//! `mandate deploy` on a bare anvil: the genesis plan deployed with the deployer's key from the
//! environment, its JSON what `--deployments` takes; and its failures keep the URL and the key
//! out of what they print.

use std::process::{Command, Output};

use mandate::sim::DevnetDeployments;
use mandate_testing::node::{Anvil, Node};

/// anvil's first dev key (a public test key).
const DEPLOYER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

fn deploy(rpc_url: &str, key: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mandate"));
    cmd.args(["deploy", "--rpc-url", rpc_url]).env_remove("MANDATE_DEPLOYER_KEY");
    if let Some(key) = key {
        cmd.env("MANDATE_DEPLOYER_KEY", key);
    }
    cmd.output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploys_the_genesis_plan_and_prints_its_deployments() {
    let anvil = Anvil::start().await;
    let out = deploy(&anvil.url, Some(DEPLOYER_KEY));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let d: DevnetDeployments = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d.chain.entry_point, mandate::abi::ENTRY_POINT_V07);
    let node = Node::new(&anvil.url);
    let paymaster = d.chain.paymaster.expect("a paymaster");
    let ecdsa = d.ecdsa_session_validator().expect("an ECDSA session validator");
    for (name, at) in [
        ("EntryPoint", d.chain.entry_point),
        ("SmartSession", d.chain.smart_session),
        ("UniActionPolicy", d.chain.policies.uni_action),
        ("EcdsaSessionValidator", ecdsa),
        ("VerifyingPaymaster", paymaster),
        ("K1Validator", d.k1_validator),
        ("MandateAccountFactory", d.account_factory),
    ] {
        assert!(!node.code(at).await.is_empty(), "no code for {name} at {at}");
    }

    // The deployments are what `session status` takes.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deployments.json");
    std::fs::write(&file, &out.stdout).unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_mandate"))
        .args(["session", "status", "--rpc-url", &anvil.url, "--deployments"])
        .arg(&file)
        .arg("--store")
        .arg(dir.path().join("sessions"))
        .env("MANDATE_STORE_PASSWORD", "correct horse")
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
}

#[test]
fn failures_name_what_is_wrong_and_leave_secrets_out() {
    let missing = deploy("http://127.0.0.1:1", None);
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success() && err.contains("MANDATE_DEPLOYER_KEY"), "{err}");

    let bad_key = deploy("http://127.0.0.1:1", Some("0xSECRETKEY"));
    let err = String::from_utf8_lossy(&bad_key.stderr);
    assert!(err.contains("does not hold a hex private key") && !err.contains("SECRETKEY"), "{err}");

    let bad_url = deploy("http://user:SECRET@[::1", Some(DEPLOYER_KEY));
    let err = String::from_utf8_lossy(&bad_url.stderr);
    assert!(err.contains("not a valid URL") && !err.contains("SECRET"), "{err}");

    let unreachable = deploy("http://127.0.0.1:1/v2/SECRET", Some(DEPLOYER_KEY));
    let err = String::from_utf8_lossy(&unreachable.stderr);
    assert!(!unreachable.status.success() && !err.contains("SECRET"), "{err}");
    assert!(!err.contains(&DEPLOYER_KEY[2..]), "{err}");
}
