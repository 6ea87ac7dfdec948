//! `--deployments`: a preset name, a chain's JSON or `mandate deploy`'s, each read exactly: a
//! missing or misspelt field is named, never filled with a default.

use std::process::{Command, Output};

use mandate::abi::Deployments;

fn status(deployments: &str, stdin: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mandate"))
        .args(["session", "status", "--rpc-url", "http://127.0.0.1:1", "--deployments"])
        .arg(deployments)
        .arg("--store")
        .arg(dir.path().join("sessions"))
        .env("MANDATE_STORE_PASSWORD", "correct horse")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn error(out: &Output) -> String {
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_preset_or_a_file_is_read_and_a_bad_field_named() {
    // The preset parses: what fails is reaching the node.
    let err = error(&status("module-sdk-0.4", ""));
    assert!(err.contains("request") && !err.contains("deployments"), "{err}");

    let mut chain = serde_json::to_value(Deployments::MODULE_SDK_0_4).unwrap();
    let err = error(&status("-", &chain.to_string()));
    assert!(!err.contains("deployments"), "a chain's JSON is taken: {err}");

    chain.as_object_mut().unwrap().remove("paymaster");
    let err = error(&status("-", &chain.to_string()));
    assert!(err.contains("paymaster"), "{err}");

    let devnet = serde_json::json!({ "chain": { "entryPoint": "0x12" } });
    let err = error(&status("-", &devnet.to_string()));
    assert!(err.contains("devnet") && err.contains("chain.entryPoint"), "{err}");

    let err = error(&status("module-sdk-9", ""));
    assert!(err.contains("module-sdk-9"), "{err}");
}
