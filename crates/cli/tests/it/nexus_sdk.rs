//! `session import` of the Nexus SDK's own SessionData (interop/nexus-sdk/vectors.json): what
//! does not fit is refused in one line naming the field, before the node is asked anything
//! (the RPC URL here has nothing behind it), and the session key never shows.

use std::process::Stdio;

use alloy_primitives::keccak256;
use serde_json::Value;

use crate::run::error_line;

const VECTORS: &str = include_str!("../../../../interop/nexus-sdk/vectors.json");

/// The vectors' fixed test key for `label` (keccak256 of it, as vectors.mjs makes them).
fn test_key(label: &str) -> String {
    format!("0x{}", alloy_primitives::hex::encode(keccak256(label)))
}

fn session_data(name: &str) -> String {
    let all: Value = serde_json::from_str(VECTORS).unwrap();
    let v = all["vectors"].as_array().unwrap().iter().find(|v| v["name"] == name).unwrap();
    v["sessionData"].to_string()
}

fn import(file: &str, key: &str, extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session-data.json");
    std::fs::write(&path, file).unwrap();
    let (path, store) =
        (path.display().to_string(), dir.path().join("store").display().to_string());
    let mut args = vec!["session", "import", path.as_str(), "--rpc-url", "http://127.0.0.1:9"];
    args.extend(["--store", store.as_str(), "--account-type", "nexus"]);
    args.extend(extra);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mandate"))
        .args(&args)
        .env("MANDATE_STORE_PASSWORD", "correct horse")
        .env("MANDATE_SESSION_KEY", key)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let line = error_line(&out);
    assert!(!line.contains(&key[2..]), "the key shows: {line}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&key[2..]));
    line
}

#[test]
fn a_session_data_that_does_not_fit_is_one_line_naming_the_field() {
    let file = session_data("sudo");
    let key = test_key("mandate nexus-sdk session 0");
    let new = ["--deployments", "module-sdk-0.2.3"];

    let other = ["--account", "0x00000000000000000000000000000000000a11ce"];
    let err = import(&file, &key, &[&new[..], &other[..]].concat());
    assert!(
        err.contains("granter is 0x000000000000000000000000000000000000dEaD, --account says 0x"),
        "{err}"
    );

    let wrong = test_key("mandate nexus-sdk session 1");
    let err = import(&file, &wrong, &new);
    assert!(
        err.contains("sessionPublicKey is 0xBdA578EF38aefEe5589AA54418331B4d77836767, the session key in MANDATE_SESSION_KEY is 0x"),
        "{err}"
    );

    // Signed for module-sdk 0.2.3's SmartSession, imported against 0.4.0's: both named.
    let err = import(&file, &key, &["--deployments", "module-sdk-0.4"]);
    assert!(err.contains("the grant response: moduleData.action.target:"), "{err}");
    assert!(err.contains("0x00000000002B0eCfbD0496EE71e01257dA0E37DE"), "{err}");
    assert!(err.contains("0x00000000008bDABA73cD9815d79069c247Eb4bDA"), "{err}");

    let err = import(&file, &key, &[&new[..], &["--format", "abstractjs"][..]].concat());
    assert!(
        err.contains("asked for abstractjs's shape, the file holds the Nexus SDK's SessionData"),
        "{err}"
    );

    // Only a SessionData names its account.
    // (module-sdk 0.4.0's shape: without 0.2.3's `address` beside each `policy`.)
    let mut enable_data: Value = serde_json::from_str(&file).unwrap();
    let mut enable_data = enable_data["moduleData"]["enableSessionData"].take();
    for action in enable_data["enableSession"]["sessionToEnable"]["actions"].as_array_mut().unwrap()
    {
        for policy in action["actionPolicies"].as_array_mut().unwrap() {
            policy.as_object_mut().unwrap().remove("address");
        }
    }
    let enable_data = enable_data.to_string();
    let err = import(&enable_data, &key, &[&new[..], &["--format", "nexus-sdk"][..]].concat());
    assert!(
        err.contains("asked for nexus-sdk's shape, the file holds module-sdk's EnableSessionData"),
        "{err}"
    );
    let err = import(&enable_data, &key, &new);
    assert!(err.contains("--account: required for module-sdk's EnableSessionData"), "{err}");
}
