// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ActionId, PermissionId} from "../DataTypes.sol";
import {AssociatedSet} from "./AssociatedSet.sol";

/// @title Where SmartSession keeps each account's state
/// @notice contracts/STORAGE.md gives the same layout as formulas. All state lives in slots associated with the
///         account (see AssociatedSet). Per-permission keys are keccak256(abi.encode(tag, permissionId, x)),
///         a distinct tag per kind so that no two kinds can share a key whatever values users choose.
///
///         The set of enabled permission ids has id 0. The position word of a permission id in it is the
///         permission's header:
///           bits   0..159  session validator (0 = none)
///           bit  160       permitERC4337Paymaster
///           bits 192..223  length in bytes of the session validator config
///           bits 224..255  index + 1 in the set of enabled permission ids (0 = not enabled)
library SessionStorage {
    bytes32 internal constant SESSIONS = 0;

    uint256 internal constant USER_OP_POLICIES = 1;
    uint256 internal constant ERC1271_POLICIES = 2;
    uint256 internal constant ACTION_IDS = 3;
    uint256 internal constant ACTION_POLICIES = 4;
    uint256 internal constant ERC7739_DOMAINS = 5;
    uint256 internal constant ERC7739_CONTENTS = 6;
    uint256 internal constant VALIDATOR_CONFIG = 7;
    uint256 internal constant NONCE = 8;

    uint256 internal constant VALIDATOR_MASK = (1 << 160) - 1;
    uint256 internal constant PAYMASTER_FLAG = 1 << 160;
    uint256 internal constant CONFIG_LENGTH_SHIFT = 192;
    uint256 internal constant CONFIG_LENGTH_MASK = 0xffffffff;
    uint256 internal constant POSITION_SHIFT = AssociatedSet.POSITION_SHIFT;

    /// @notice keccak256(abi.encode(tag, permissionId, x)).
    function key(uint256 tag, PermissionId permissionId, bytes32 x) internal pure returns (bytes32 k) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, tag)
            mstore(add(m, 0x20), permissionId)
            mstore(add(m, 0x40), x)
            k := keccak256(m, 0x60)
        }
    }

    /// @notice Set id of the user operation policies of a permission.
    function userOpPolicies(PermissionId permissionId) internal pure returns (bytes32) {
        return key(USER_OP_POLICIES, permissionId, 0);
    }

    /// @notice Set id of the ERC-1271 policies of a permission.
    function erc1271Policies(PermissionId permissionId) internal pure returns (bytes32) {
        return key(ERC1271_POLICIES, permissionId, 0);
    }

    /// @notice Set id of the enabled action ids of a permission.
    function actionIds(PermissionId permissionId) internal pure returns (bytes32) {
        return key(ACTION_IDS, permissionId, 0);
    }

    /// @notice Set id of the policies of one action of a permission.
    function actionPolicies(PermissionId permissionId, ActionId actionId) internal pure returns (bytes32) {
        return key(ACTION_POLICIES, permissionId, ActionId.unwrap(actionId));
    }

    /// @notice Set id of the ERC-7739 app domain separators of a permission.
    function erc7739Domains(PermissionId permissionId) internal pure returns (bytes32) {
        return key(ERC7739_DOMAINS, permissionId, 0);
    }

    /// @notice Set id of the ERC-7739 content name hashes allowed under one app domain separator.
    function erc7739Contents(PermissionId permissionId, bytes32 appDomainSeparator) internal pure returns (bytes32) {
        return key(ERC7739_CONTENTS, permissionId, appDomainSeparator);
    }

    /// @notice Slot of the header of a permission (its position word in the set of enabled permission ids).
    function headerSlot(address account, PermissionId permissionId) internal pure returns (uint256) {
        return AssociatedSet.positionSlot(account, SESSIONS, PermissionId.unwrap(permissionId));
    }

    /// @notice First slot of the session validator config; word i of the config is at this slot + i.
    function configSlot(address account, PermissionId permissionId) internal pure returns (uint256) {
        return AssociatedSet.slotOf(account, key(VALIDATOR_CONFIG, permissionId, 0));
    }

    /// @notice Slot of the enable-signature nonce of a permission.
    function nonceSlot(address account, PermissionId permissionId) internal pure returns (uint256) {
        return AssociatedSet.slotOf(account, key(NONCE, permissionId, 0));
    }
}
