//! Running the `mandate` binary from the end-to-end tests.

use std::ffi::OsStr;
use std::process::{Command, Output};

use serde_json::Value;

/// `mandate ARGS` with `env` added to the environment (keys and passwords go there, never
/// into the arguments).
pub(crate) fn mandate<S: AsRef<OsStr>>(args: &[S], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mandate"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// The JSON a successful run printed; its stderr in the panic otherwise.
pub(crate) fn ok_json(out: &Output) -> Value {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}
