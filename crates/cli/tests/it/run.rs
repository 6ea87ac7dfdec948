//! Running the `mandate` binary the way a shell would.

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

/// Runs `mandate args…` with `stdin` as its input and its stdout going to `stdout`.
pub(crate) fn mandate_to(args: &[&str], stdin: &str, stdout: Stdio) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mandate"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("writes");
    child.wait_with_output().expect("finishes")
}

/// Runs `mandate args…` with `stdin` as its input, capturing both outputs.
pub(crate) fn mandate(args: &[&str], stdin: &str) -> Output {
    mandate_to(args, stdin, Stdio::piped())
}

/// What a successful run printed, trimmed.
pub(crate) fn stdout(out: &Output) -> String {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).expect("utf-8").trim().to_string()
}

/// The one error line of a failed run: exit 1 (a panic exits 101), nothing else on stderr.
pub(crate) fn error_line(out: &Output) -> String {
    assert!(!out.status.success(), "succeeded: {}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(out.status.code(), Some(1), "a panic exits 101");
    let err = String::from_utf8(out.stderr.clone()).expect("utf-8");
    assert!(err.starts_with("mandate ") && err.ends_with('\n'), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}
