//! Bounded work on hostile input (issue #18, item 6): an ENABLE signature of a few kilobytes
//! whose ABI offsets point every entry at one `ActionData` (and every policy of it at one
//! `PolicyData`) is refused with a typed error naming what it is, before decoding blows up.

use alloy_primitives::{Address, B256, Bytes, U256};
use mandate_abi::{
    AccountType, ActionData, EnableSession, PolicyData, Session, SignatureError, SmartSessionMode,
    bounds::{BoundsError, MAX_DECODE_FACTOR, MAX_SESSION_ENTRIES},
    decode_enable_payload, decode_signature, encode_enable, fastlz,
    signature::EnableSessionData,
};

fn word(n: usize) -> [u8; 32] {
    U256::from(n).to_be_bytes()
}

/// `abi.encode(EnableSession, bytes)` whose session has `actions` entries all pointing at one
/// `ActionData`, whose `policies` entries all point at one `PolicyData`.
fn aliasing_payload(actions: usize, policies: usize) -> Vec<u8> {
    let mut w: Vec<[u8; 32]> = vec![word(0x40), word(0)]; // (EnableSession, bytes): heads
    let enable = w.len();
    // EnableSession: chainDigestIndex, hashesAndChainIds, sessionToEnable, permissionEnableSig
    w.extend([word(0), word(4 * 32), word(6 * 32), word(5 * 32)]);
    w.extend([word(0), word(0)]); // no digests; an empty signature
    let session = w.len();
    // Session: validator, initData, salt, userOpPolicies, erc7739Policies, actions, paymaster
    w.extend([word(1), word(7 * 32), word(0), word(7 * 32), word(8 * 32), word(11 * 32), word(0)]);
    // empty initData and userOpPolicies; ERC-7739 data whose two lists are one empty list
    w.extend([word(0), word(2 * 32), word(2 * 32), word(0)]);
    w.push(word(actions));
    w.extend(std::iter::repeat_n(word(actions * 32), actions)); // every action: the same one
    w.extend([word(0), word(2), word(0x60), word(policies)]); // ActionData: its policies
    w.extend(std::iter::repeat_n(word(policies * 32), policies)); // every policy: the same one
    w.extend([word(3), word(0x40), word(0)]); // PolicyData, empty initData
    let total = w.len();
    w[1] = word(total * 32); // the session signature: empty, at the end
    w.push(word(0));
    assert_eq!((enable, session), (2, 8));
    w.concat()
}

fn aliasing_signature() -> Vec<u8> {
    let payload = aliasing_payload(16_000, 16_000);
    [vec![SmartSessionMode::Enable as u8], fastlz::compress(&payload)].concat()
}

#[test]
fn aliasing_offsets_are_refused_in_bounded_memory() {
    let signature = aliasing_signature();
    assert!(signature.len() < 13_000, "{} bytes", signature.len());
    // 16,000 × 16,000 policies, 128 bytes each canonically: 32 GB.
    let err = decode_signature(&signature, AccountType::Mandate).unwrap_err();
    let payload = aliasing_payload(16_000, 16_000);
    match &err {
        SignatureError::Bounds(BoundsError::Aliased { field, size, limit }) => {
            assert_eq!(*field, "(EnableSession, bytes)");
            assert_eq!(*size, payload.len());
            assert_eq!(*limit, payload.len() * MAX_DECODE_FACTOR);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("alias"), "{err}");

    // A small aliasing stays decodable: what it decodes to is within bounds.
    let (enable, _) = decode_enable_payload(&aliasing_payload(3, 2)).unwrap();
    assert_eq!(enable.sessionToEnable.actions.len(), 3);
    assert_eq!(enable.sessionToEnable.actions[2].actionPolicies.len(), 2);
}

#[test]
fn more_entries_than_an_op_can_carry_are_refused_naming_the_list() {
    let policy = PolicyData { policy: Address::with_last_byte(3), initData: Bytes::new() };
    let action = |policies: usize| ActionData {
        actionTargetSelector: [1, 2, 3, 4].into(),
        actionTarget: Address::with_last_byte(2),
        actionPolicies: vec![policy.clone(); policies],
    };
    let data = |actions: Vec<ActionData>| EnableSessionData {
        enable_session: EnableSession {
            sessionToEnable: Session { salt: B256::repeat_byte(1), actions, ..Default::default() },
            ..Default::default()
        },
        validator: Address::with_last_byte(9),
        account_type: AccountType::Nexus,
    };
    let at_bound = data(vec![action(MAX_SESSION_ENTRIES / 2 - 1); 2]);
    let signature = encode_enable(SmartSessionMode::Enable, &at_bound, &[7; 65]).unwrap();
    decode_signature(&signature, AccountType::Nexus).unwrap();

    let past = data(vec![action(1), action(MAX_SESSION_ENTRIES)]);
    let signature = encode_enable(SmartSessionMode::Enable, &past, &[7; 65]).unwrap();
    let err = decode_signature(&signature, AccountType::Nexus).unwrap_err();
    match err {
        SignatureError::Bounds(BoundsError::TooManyEntries { field, limit, .. }) => {
            assert_eq!(field, "sessionToEnable.actions[1].actionPolicies");
            assert_eq!(limit, MAX_SESSION_ENTRIES);
        }
        other => panic!("{other:?}"),
    }
}

/// No silent defaults in JSON input (issue #18, item 3): duplicate keys, unknown fields and
/// parameters where none are taken are errors naming the field.
mod json_input {
    use mandate_abi::{Policy, PolicyParamsError, Session};

    fn params(kind: &str, json: &str) -> Result<Policy, PolicyParamsError> {
        let mut de = serde_json::Deserializer::from_str(json);
        Policy::from_params(kind, &mut de)
    }

    #[test]
    fn policy_params_refuse_duplicates_unknown_fields_and_sudo_parameters() {
        assert_eq!(params("usage-limit", r#"{"limit": 5}"#).unwrap(), Policy::UsageLimit(5));
        let err = params("usage-limit", r#"{"limit": 5, "limit": 6}"#).unwrap_err().to_string();
        assert!(err.contains("duplicate field `limit`"), "{err}");
        let err = params("usage-limit", r#"{"limit": 5, "period": 86400}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `period`"), "{err}");
        let err = params("timeframe", r#"{"validUntil": 9, "validAfter": 1, "validFrom": 2}"#)
            .unwrap_err();
        assert!(err.to_string().contains("unknown field `validFrom`"), "{err}");
        let err = params(
            "spending-limits",
            r#"[{"token": "0x1111111111111111111111111111111111111111", "limit": 1, "period": 1}]"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `period`"), "{err}");

        assert_eq!(params("sudo", "{}").unwrap(), Policy::Sudo);
        assert_eq!(params("sudo", "null").unwrap(), Policy::Sudo);
        assert_eq!(Policy::from_params("sudo", serde_json::Value::Null).unwrap(), Policy::Sudo);
        let err = params("sudo", r#"{"limit": 5}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `limit`"), "{err}");
    }

    #[test]
    fn sessions_refuse_unknown_fields_but_take_module_sdks_chain_id() {
        let session = |extra: &str| {
            format!(
                r#"{{"sessionValidator": "0x000000000013fdB5234E4E3162a810F54d9f7E98",
                "sessionValidatorInitData": "0x", "salt": "0x{}", "userOpPolicies": [],
                "erc7739Policies": {{"allowedERC7739Content": [], "erc1271Policies": []}},
                "actions": [], "permitERC4337Paymaster": false{extra}}}"#,
                "00".repeat(32)
            )
        };
        serde_json::from_str::<Session>(&session("")).unwrap();
        serde_json::from_str::<Session>(&session(r#", "chainId": 8453"#)).unwrap();
        let err = serde_json::from_str::<Session>(&session(r#", "validUntil": 5"#)).unwrap_err();
        assert!(err.to_string().contains("unknown field `validUntil`"), "{err}");
        let err = serde_json::from_str::<Session>(&session(r#", "salt": "0x01""#)).unwrap_err();
        assert!(err.to_string().contains("duplicate field `salt`"), "{err}");
        let policy =
            r#"{"policy": "0x0000000000FEEc8D74e3143fBaBbca515358d869", "initData": "0x", "x": 1}"#;
        let err = serde_json::from_str::<mandate_abi::PolicyData>(policy).unwrap_err();
        assert!(err.to_string().contains("unknown field `x`"), "{err}");
    }

    #[test]
    fn bytes_are_hex_strings_not_number_arrays() {
        use mandate_abi::{Execution, PolicyData};
        let policy = |init: &str| {
            format!(
                r#"{{"policy": "0x0000000000feec8d74e3143fbabbca515358d869", "initData": {init}}}"#
            )
        };
        serde_json::from_str::<PolicyData>(&policy(r#""0x0001""#)).unwrap();
        for init in ["[0, 1]", "[]", r#""0001""#] {
            let err = serde_json::from_str::<PolicyData>(&policy(init)).unwrap_err().to_string();
            assert!(err.contains("0x-hex"), "{init}: {err}");
        }
        let call = r#"{"target": "0x1111111111111111111111111111111111111111", "value": 0, "callData": [1, 2, 3]}"#;
        let err = serde_json::from_str::<Execution>(call).unwrap_err().to_string();
        assert!(err.contains("bytes as a 0x-hex string"), "{err}");
        let salt = format!("{:?}", vec![0u8; 32]);
        let session = format!(
            r#"{{"sessionValidator": "0x000000000013fdB5234E4E3162a810F54d9f7E98",
            "sessionValidatorInitData": "0x", "salt": {salt}, "userOpPolicies": [],
            "erc7739Policies": {{"allowedERC7739Content": [], "erc1271Policies": []}},
            "actions": [], "permitERC4337Paymaster": false}}"#
        );
        let err = serde_json::from_str::<Session>(&session).unwrap_err().to_string();
        assert!(err.contains("bytes as a 0x-hex string"), "{err}");
        let rule = format!(
            r#"{{"condition": 0, "offset": 0, "isLimited": false, "ref": {salt},
            "usage": {{"limit": 0, "used": 0}}}}"#
        );
        let err = serde_json::from_str::<mandate_abi::ParamRule>(&rule).unwrap_err().to_string();
        assert!(err.contains("bytes as a 0x-hex string"), "{err}");
    }

    #[test]
    fn mixed_case_addresses_must_be_checksummed() {
        use mandate_abi::json::{AddressTextError, parse_address};
        let checksummed = "0x000000000013fdB5234E4E3162a810F54d9f7E98";
        let expected = parse_address(&checksummed.to_lowercase()).unwrap();
        for text in [
            checksummed,
            &checksummed.to_lowercase(),
            &format!("0x{}", checksummed[2..].to_uppercase()),
        ] {
            assert_eq!(parse_address(text), Ok(expected), "{text}");
        }
        let wrong = "0x000000000013FdB5234E4E3162a810F54d9f7E98";
        assert!(matches!(parse_address(wrong), Err(AddressTextError::Checksum { .. })));
        for bad in [
            "000000000013fdb5234e4e3162a810f54d9f7e98",
            "0x1234",
            "0xzz00000013fdb5234e4e3162a810f54d9f7e98",
        ] {
            assert!(parse_address(bad).is_err(), "{bad}");
        }
        let policy = |address: &str| format!(r#"{{"policy": "{address}", "initData": "0x"}}"#);
        serde_json::from_str::<mandate_abi::PolicyData>(&policy(checksummed)).unwrap();
        let err = serde_json::from_str::<mandate_abi::PolicyData>(&policy(wrong))
            .unwrap_err()
            .to_string();
        assert!(err.contains("EIP-55 checksum"), "{err}");
        let numbers = format!("{:?}", vec![1u8; 20]);
        let json = format!(r#"{{"policy": {numbers}, "initData": "0x"}}"#);
        let err = serde_json::from_str::<mandate_abi::PolicyData>(&json).unwrap_err().to_string();
        assert!(err.contains("an address as a 0x-hex string"), "{err}");
        let limits = format!(r#"[{{"token": "{wrong}", "limit": 1}}]"#);
        let err = params("spending-limits", &limits).unwrap_err().to_string();
        assert!(err.contains("EIP-55 checksum"), "{err}");
    }
}
