//! Calldata of SmartSession's management functions (module-sdk's `getEnableSessionsAction`,
//! `getRemoveSessionAction`, ...) and its install data. The account calls these on SmartSession.

use alloy_primitives::{Address, B256, Bytes};
use alloy_sol_types::{SolCall, SolValue};

use crate::{
    ids::{ActionId, PermissionId},
    signature::SmartSessionMode,
    sol::{ActionData, ERC7739Context, ERC7739Data, ISmartSession, PolicyData, Session},
};

/// `enableSessions(Session[])`.
pub fn enable_sessions(sessions: &[Session]) -> Bytes {
    ISmartSession::enableSessionsCall { sessions: sessions.to_vec() }.abi_encode().into()
}

/// `removeSession(bytes32)`.
pub fn remove_session(permission_id: PermissionId) -> Bytes {
    ISmartSession::removeSessionCall { permissionId: permission_id.0 }.abi_encode().into()
}

/// `revokeEnableSignature(bytes32)`: invalidates signed, not yet used ENABLE data.
pub fn revoke_enable_signature(permission_id: PermissionId) -> Bytes {
    ISmartSession::revokeEnableSignatureCall { permissionId: permission_id.0 }.abi_encode().into()
}

/// `setPermit4337Paymaster(bytes32,bool)`.
pub fn set_permit_paymaster(permission_id: PermissionId, enabled: bool) -> Bytes {
    ISmartSession::setPermit4337PaymasterCall { permissionId: permission_id.0, enabled }
        .abi_encode()
        .into()
}

/// `enableUserOpPolicies(bytes32,(address,bytes)[])`.
pub fn enable_user_op_policies(permission_id: PermissionId, policies: &[PolicyData]) -> Bytes {
    ISmartSession::enableUserOpPoliciesCall {
        permissionId: permission_id.0,
        userOpPolicies: policies.to_vec(),
    }
    .abi_encode()
    .into()
}

/// `disableUserOpPolicies(bytes32,address[])`.
pub fn disable_user_op_policies(permission_id: PermissionId, policies: &[Address]) -> Bytes {
    ISmartSession::disableUserOpPoliciesCall {
        permissionId: permission_id.0,
        policies: policies.to_vec(),
    }
    .abi_encode()
    .into()
}

/// `enableActionPolicies(bytes32,ActionData[])`.
pub fn enable_action_policies(permission_id: PermissionId, actions: &[ActionData]) -> Bytes {
    ISmartSession::enableActionPoliciesCall {
        permissionId: permission_id.0,
        actionPolicies: actions.to_vec(),
    }
    .abi_encode()
    .into()
}

/// `disableActionPolicies(bytes32,bytes32,address[])`.
pub fn disable_action_policies(
    permission_id: PermissionId,
    action: ActionId,
    policies: &[Address],
) -> Bytes {
    ISmartSession::disableActionPoliciesCall {
        permissionId: permission_id.0,
        actionId: action.0,
        policies: policies.to_vec(),
    }
    .abi_encode()
    .into()
}

/// `disableActionId(bytes32,bytes32)`.
pub fn disable_action_id(permission_id: PermissionId, action: ActionId) -> Bytes {
    ISmartSession::disableActionIdCall { permissionId: permission_id.0, actionId: action.0 }
        .abi_encode()
        .into()
}

/// `enableERC1271Policies(bytes32,ERC7739Data)`.
pub fn enable_erc1271_policies(permission_id: PermissionId, data: &ERC7739Data) -> Bytes {
    ISmartSession::enableERC1271PoliciesCall {
        permissionId: permission_id.0,
        erc1271Policies: data.clone(),
    }
    .abi_encode()
    .into()
}

/// `disableERC1271Policies(bytes32,address[],ERC7739Context[])`.
pub fn disable_erc1271_policies(
    permission_id: PermissionId,
    policies: &[Address],
    contexts: &[ERC7739Context],
) -> Bytes {
    ISmartSession::disableERC1271PoliciesCall {
        permissionId: permission_id.0,
        policies: policies.to_vec(),
        contexts: contexts.to_vec(),
    }
    .abi_encode()
    .into()
}

/// SmartSession's `onInstall` data: empty, or `mode ‖ abi.encode(Session[])` to enable sessions
/// at install (module-sdk's `getSmartSessionsValidator` uses mode 0x01 with the registry,
/// 0x02 without; both behave the same).
pub fn install_data(mode: SmartSessionMode, sessions: &[Session]) -> Bytes {
    if sessions.is_empty() {
        return Bytes::new();
    }
    let mut out = vec![mode as u8];
    out.extend_from_slice(&sessions.to_vec().abi_encode());
    out.into()
}

/// The salt of a session as bytes32 from any integer (convenience for CLI input).
pub fn salt(value: u64) -> B256 {
    B256::left_padding_from(&value.to_be_bytes())
}

#[cfg(test)]
mod tests {
    use alloy_primitives::hex;

    use super::*;

    #[test]
    fn selectors_match_the_spec() {
        let id = PermissionId(B256::ZERO);
        assert_eq!(&enable_sessions(&[])[..4], hex!("21712407"));
        assert_eq!(&remove_session(id)[..4], hex!("f867b08e"));
        assert_eq!(&revoke_enable_signature(id)[..4], hex!("f9b80369"));
        assert_eq!(&set_permit_paymaster(id, true)[..4], hex!("2e644d8d"));
        assert_eq!(&enable_user_op_policies(id, &[])[..4], hex!("454c9d82"));
        assert_eq!(&disable_user_op_policies(id, &[])[..4], hex!("d056b06d"));
        assert_eq!(&enable_action_policies(id, &[])[..4], hex!("4e33ad2e"));
        assert_eq!(&disable_action_policies(id, ActionId::default(), &[])[..4], hex!("6e79eee0"));
        assert_eq!(&disable_action_id(id, ActionId::default())[..4], hex!("96e72962"));
        assert_eq!(&enable_erc1271_policies(id, &ERC7739Data::default())[..4], hex!("f5297b77"));
        assert_eq!(&disable_erc1271_policies(id, &[], &[])[..4], hex!("02a1a4cd"));
    }

    #[test]
    fn install_data_layout() {
        assert!(install_data(SmartSessionMode::Enable, &[]).is_empty());
        let data = install_data(SmartSessionMode::UnsafeEnable, &[Session::default()]);
        assert_eq!(data[0], 2);
        assert_eq!(<Vec<Session>>::abi_decode(&data[1..]).unwrap(), vec![Session::default()]);
    }
}
