//! Error lines people can read (issue #18, item 7): a long bad value is cut to a prefix with its
//! length, a big integer is read and printed as written, and a failed stdout write is one line
//! on stderr and a non-zero exit, not a panic.

use std::process::Stdio;

use crate::run::{error_line, mandate, mandate_to};

#[test]
fn a_long_bad_value_is_cut_to_a_prefix_with_its_length() {
    let hex = format!("0x{}", "zz".repeat(60_000));
    let err = error_line(&mandate(&["signature", "decode", &hex], ""));
    assert!(err.len() < 300, "{} bytes: {}", err.len(), &err[..300]);
    assert!(err.contains("0xzzzz") && err.contains("(120002 bytes)"), "{err}");

    let nines = "9".repeat(100_000);
    let params = format!(r#"{{"limit": "{nines}"}}"#);
    let err = error_line(&mandate(&["policy", "encode", "usage-limit", "-"], &params));
    assert!(err.len() < 300, "{} bytes: {}", err.len(), &err[..300]);
    assert!(err.contains("(100000 bytes)"), "{err}");

    // A message of serde's own that quotes the value.
    let session = format!(r#"{{"sessionValidator": "0x{}"}}"#, "ab".repeat(50_000));
    let err = error_line(&mandate(&["session", "id", "-"], &session));
    assert!(err.len() < 400, "{} bytes: {}", err.len(), &err[..400]);
}

#[test]
fn big_integers_are_read_and_printed_as_written() {
    let encode = |params: &str| mandate(&["policy", "encode", "usage-limit", "-"], params);
    let as_number = encode(r#"{"limit": 123456789012345678901234567890}"#);
    let as_string = encode(r#"{"limit": "123456789012345678901234567890"}"#);
    assert!(as_string.status.success());
    assert!(as_number.status.success(), "{}", String::from_utf8_lossy(&as_number.stderr));
    assert_eq!(as_number.stdout, as_string.stdout);

    // Too big for a usage limit (uint128): the error names the number as written.
    let big = "1234567890123456789012345678901234567890";
    let err = error_line(&encode(&format!(r#"{{"limit": {big}}}"#)));
    assert!(err.contains(big) || err.contains("uint128"), "{err}");
    assert!(!err.contains("e+"), "{err}");
    // Past uint256, a decimal literal is printed as given (cut, as it is long).
    let huge = "9".repeat(90);
    let err = error_line(&encode(&format!(r#"{{"limit": {huge}}}"#)));
    assert!(err.contains(&format!("{}…(90 bytes)", &huge[..18])), "{err}");
    assert!(!err.contains("e+"), "{err}");
}

#[test]
fn a_failed_stdout_write_is_an_error_line_not_a_panic() {
    let id = ["session", "action-id", "0x000000000000000000000000000000000000dEaD", "0x12345678"];
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let err = error_line(&mandate_to(&id, "", Stdio::from(full)));
    assert!(err.contains("stdout"), "{err}");

    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let err = error_line(&mandate_to(&id, "", Stdio::from(writer)));
    assert!(err.contains("stdout"), "{err}");

    // The demo's prose too (it printed line by line and panicked on a full disk).
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let err = error_line(&mandate_to(&["demo"], "", Stdio::from(full)));
    assert!(err.contains("stdout"), "{err}");
}

#[test]
fn empty_numbers_and_digit_separators_are_refused() {
    // Issue #18, item 3: these read as 0 ("never expires") or 1000 before.
    for valid_until in [r#""""#, r#""0x""#, r#"" ""#, r#""1_000""#] {
        let params = format!(r#"{{"validUntil": {valid_until}, "validAfter": 0}}"#);
        let out = mandate(&["policy", "encode", "timeframe", "-"], &params);
        let err = error_line(&out);
        assert!(err.contains("quantity"), "{valid_until}: {err}");
    }
    let ok = r#"{"validUntil": "0x0", "validAfter": 0}"#;
    let out = mandate(&["policy", "encode", "timeframe", "-"], ok);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `session import --format` names the SDK whose shape the file must hold: a file holding the
/// other SDK's shape, or no known shape, is refused in one line naming what was seen, before
/// the node is asked anything (the RPC URL here has nothing behind it).
#[test]
fn an_import_of_the_other_sdks_shape_is_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store").display().to_string();
    let import = |file: &str, format: Option<&str>| {
        let path = dir.path().join("grant.json");
        std::fs::write(&path, file).unwrap();
        let path = path.display().to_string();
        let mut args = vec!["session", "import", path.as_str(), "--rpc-url", "http://127.0.0.1:9"];
        args.extend(["--deployments", "module-sdk-0.4", "--store", store.as_str()]);
        args.extend(["--account", "0x00000000000000000000000000000000000a11ce"]);
        if let Some(format) = format {
            args.extend(["--format", format]);
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mandate"))
            .args(&args)
            .env("MANDATE_STORE_PASSWORD", "correct horse")
            .env("MANDATE_SESSION_KEY", format!("0x{}", "11".repeat(32)))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        error_line(&out)
    };
    let enable_data = r#"{"enableSession": {}, "validator": "0x01", "accountType": "nexus"}"#;
    let err = import(enable_data, Some("abstractjs"));
    assert!(err.contains("asked for abstractjs's shape"), "{err}");
    assert!(err.contains("module-sdk's EnableSessionData"), "{err}");
    let response = r#"[{"mode": "0x02", "permissionId": "0x00", "enableSessionData": {}}]"#;
    let err = import(response, Some("module-sdk"));
    assert!(err.contains("asked for module-sdk's shape"), "{err}");
    assert!(err.contains("abstractjs's GrantPermissionResponse"), "{err}");
    let err = import(r#"{"owner": "0x01", "key": "0x02"}"#, None);
    assert!(err.contains("top-level object has none of `enableSessionData`"), "{err}");
    assert!(err.contains("its keys: key, owner"), "{err}");
    let err = import(r#"{"sessionValidator": "0x01"}"#, None);
    assert!(err.contains("module-sdk's Session lacks the owner's enable signature"), "{err}");
    let err = import("[1, 2]", None);
    assert!(err.contains("array element [0] is a number"), "{err}");
}
