//! JSON as the TypeScript SDKs write it: integers in every form, module-sdk's Session shape.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, B256, Bytes, b256};

use mandate_abi::sol::{ChainDigest, Session};

#[test]
fn integers_in_every_form() {
    let digest = B256::with_last_byte(1);
    for chain_id in ["8453", "\"8453\"", "\"0x2105\""] {
        let text = format!(r#"{{"chainId": {chain_id}, "sessionDigest": "{digest}"}}"#);
        let d: ChainDigest = serde_json::from_str(&text).unwrap();
        assert_eq!(d.chainId, 8453);
        assert_eq!(
            d.sessionDigest,
            b256!("0000000000000000000000000000000000000000000000000000000000000001")
        );
    }
    let err = serde_json::from_str::<ChainDigest>(r#"{"chainId": -1, "sessionDigest": "0x00"}"#);
    assert!(err.is_err());
    let too_big = format!(r#"{{"chainId": "0x10000000000000000", "sessionDigest": "{digest}"}}"#);
    let err = serde_json::from_str::<ChainDigest>(&too_big).unwrap_err();
    assert!(err.to_string().contains("uint64"), "{err}");
}

#[test]
fn module_sdk_session_shape() {
    let text = r#"{
        "sessionValidator": "0x000000000013fdB5234E4E3162a810F54d9f7E98",
        "sessionValidatorInitData": "0x1234",
        "salt": "0x0000000000000000000000000000000000000000000000000000000000000007",
        "userOpPolicies": [],
        "erc7739Policies": {"allowedERC7739Content": [{"appDomainSeparator": "0x0000000000000000000000000000000000000000000000000000000000000000", "contentName": ["Permit(bytes32 stuff)Permit"]}], "erc1271Policies": []},
        "actions": [{"actionTargetSelector": "0xa9059cbb", "actionTarget": "0x1111111111111111111111111111111111111111", "actionPolicies": [{"policy": "0x0000000000FEEc8D74e3143fBaBbca515358d869", "initData": "0x"}]}],
        "permitERC4337Paymaster": true,
        "chainId": "8453"
    }"#;
    let session: Session = serde_json::from_str(text).unwrap();
    assert_eq!(session.sessionValidatorInitData, Bytes::from_static(&[0x12, 0x34]));
    assert_eq!(session.erc7739Policies.allowedERC7739Content[0].contentNames.len(), 1);
    assert_eq!(session.actions[0].actionTarget, Address::repeat_byte(0x11));
    assert!(session.permitERC4337Paymaster);
    let back = serde_json::to_value(&session).unwrap();
    assert!(back["erc7739Policies"]["allowedERC7739Content"][0].get("contentName").is_some());
    let again: Session = serde_json::from_value(back).unwrap();
    assert_eq!(again, session);
}
