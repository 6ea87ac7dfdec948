//! Hostile input through the binary (issue #18, items 3 and 6): bounded work on an aliasing
//! ENABLE signature; no silent defaults in JSON input.

use mandate::abi::{alloy_primitives::U256, fastlz};

use crate::run::{error_line, mandate};

fn word(n: usize) -> [u8; 32] {
    U256::from(n).to_be_bytes()
}

/// An ENABLE signature of about 12 KB: `abi.encode(EnableSession, bytes)` whose session has
/// 16,000 actions all pointing at one `ActionData`, whose 16,000 policies all point at one
/// `PolicyData` (see mandate-abi's `hostile` tests for the layout).
fn aliasing_signature() -> Vec<u8> {
    let n = 16_000;
    let mut w: Vec<[u8; 32]> = vec![word(0x40), word(0)];
    w.extend([word(0), word(4 * 32), word(6 * 32), word(5 * 32), word(0), word(0)]);
    w.extend([word(1), word(7 * 32), word(0), word(7 * 32), word(8 * 32), word(11 * 32), word(0)]);
    w.extend([word(0), word(2 * 32), word(2 * 32), word(0)]);
    w.push(word(n));
    w.extend(std::iter::repeat_n(word(n * 32), n));
    w.extend([word(0), word(2), word(0x60), word(n)]);
    w.extend(std::iter::repeat_n(word(n * 32), n));
    w.extend([word(3), word(0x40), word(0)]);
    w[1] = word(w.len() * 32);
    w.push(word(0));
    [vec![1], fastlz::compress(&w.concat())].concat()
}

#[test]
fn signature_decode_refuses_aliasing_offsets() {
    let signature = aliasing_signature();
    assert!(signature.len() < 13_000, "{} bytes", signature.len());
    let hex = mandate::abi::alloy_primitives::hex::encode_prefixed(&signature);
    let out = mandate(&["signature", "decode", &hex], "");
    let err = error_line(&out);
    assert!(out.stdout.is_empty());
    assert!(err.contains("ENABLE payload") && err.contains("alias"), "{err}");
}

#[test]
fn policy_encode_refuses_duplicate_keys_unknown_fields_and_sudo_parameters() {
    let encode = |kind: &str, params: &str| mandate(&["policy", "encode", kind, "-"], params);
    let ok = encode("usage-limit", r#"{"limit": 5}"#);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));

    let err = error_line(&encode("usage-limit", r#"{"limit": 5, "limit": 6}"#));
    assert!(err.contains("duplicate field `limit`"), "{err}");
    let err = error_line(&encode("usage-limit", r#"{"limit": 5, "period": 86400}"#));
    assert!(err.contains("unknown field `period`"), "{err}");
    let err = error_line(&encode("usage-limit", r#"{"limit": 5} {"#));
    assert!(err.contains("trailing"), "{err}");

    for empty in ["", "{}", "null"] {
        let out = encode("sudo", empty);
        assert!(out.status.success(), "{empty:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0x");
    }
    let err = error_line(&encode("sudo", r#"{"limit": 5}"#));
    assert!(err.contains("unknown field `limit`"), "{err}");
}

#[test]
fn json_input_refuses_unknown_fields_naming_them() {
    let session = format!(
        r#"{{"sessionValidator": "0x000000000013fdB5234E4E3162a810F54d9f7E98",
        "sessionValidatorInitData": "0x", "salt": "0x{}", "userOpPolicies": [],
        "erc7739Policies": {{"allowedERC7739Content": [], "erc1271Policies": []}},
        "actions": [], "permitERC4337Paymaster": false, "chainId": 8453, "expiry": 5}}"#,
        "00".repeat(32)
    );
    let err = error_line(&mandate(&["session", "id", "-"], &session));
    assert!(err.contains("unknown field `expiry`"), "{err}");
    let accepted = session.replace(r#", "expiry": 5"#, "");
    let out = mandate(&["session", "id", "-"], &accepted);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn bytes_take_only_hex_and_addresses_their_checksum() {
    let session = |salt: &str, validator: &str| {
        format!(
            r#"{{"sessionValidator": "{validator}",
            "sessionValidatorInitData": "0x", "salt": {salt}, "userOpPolicies": [],
            "erc7739Policies": {{"allowedERC7739Content": [], "erc1271Policies": []}},
            "actions": [], "permitERC4337Paymaster": false}}"#
        )
    };
    let hex_salt = format!("\"0x{}\"", "00".repeat(32));
    let checksummed = "0x000000000013fdB5234E4E3162a810F54d9f7E98";
    let id = |json: String| mandate(&["session", "id", "-"], &json);
    for validator in [checksummed.to_string(), checksummed.to_lowercase()] {
        let out = id(session(&hex_salt, &validator));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let err = error_line(&id(session(&format!("{:?}", [0u8; 32]), checksummed)));
    assert!(err.contains("at salt: invalid type: sequence, expected bytes as a 0x-hex"), "{err}");
    let wrong = "0x000000000013FdB5234E4E3162a810F54d9f7E98";
    let err = error_line(&id(session(&hex_salt, wrong)));
    assert!(err.contains("at sessionValidator: bad address") && err.contains("EIP-55"), "{err}");
    let limits = format!(
        r#"[{{"token": "0x1111111111111111111111111111111111111111", "limit": 1}},
        {{"token": "{wrong}", "limit": 1}}]"#
    );
    let err = error_line(&mandate(&["policy", "encode", "spending-limits", "-"], &limits));
    assert!(err.contains("at [1].token: bad address") && err.contains("EIP-55"), "{err}");

    let action_id =
        |target: &str| mandate(&["session", "action-id", target, "transfer(address,uint256)"], "");
    for target in [checksummed, &checksummed.to_lowercase()] {
        let out = action_id(target);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let err = error_line(&action_id(wrong));
    assert!(err.contains("TARGET") && err.contains("EIP-55 checksum"), "{err}");
}
