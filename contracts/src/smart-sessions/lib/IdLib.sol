// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ActionId, ConfigId, PermissionId, Session} from "../DataTypes.sol";

/// @title Smart Sessions identifiers (spec §1.2)
library IdLib {
    /// @notice keccak256(abi.encode(sessionValidator, sessionValidatorInitData, salt)).
    function permissionId(Session memory session) internal pure returns (PermissionId) {
        return PermissionId.wrap(
            keccak256(abi.encode(session.sessionValidator, session.sessionValidatorInitData, session.salt))
        );
    }

    /// @notice keccak256(abi.encodePacked(target, selector)).
    function actionId(address target, bytes4 selector) internal pure returns (ActionId id) {
        assembly ("memory-safe") {
            mstore(0x00, shl(96, target))
            mstore(0x14, selector)
            id := keccak256(0x00, 0x18)
        }
    }

    /// @notice Config id of the user operation policies: keccak256(abi.encodePacked(account, permissionId)).
    function userOpConfigId(address account, PermissionId permissionId_) internal pure returns (ConfigId id) {
        assembly ("memory-safe") {
            mstore(0x00, shl(96, account))
            mstore(0x14, permissionId_)
            id := keccak256(0x00, 0x34)
        }
    }

    /// @notice Config id of the policies of one action:
    ///         keccak256(abi.encodePacked(account, keccak256(abi.encodePacked(permissionId, actionId)))).
    function actionConfigId(address account, PermissionId permissionId_, ActionId actionId_)
        internal
        pure
        returns (ConfigId id)
    {
        assembly ("memory-safe") {
            mstore(0x00, permissionId_)
            mstore(0x20, actionId_)
            let actionPolicyId := keccak256(0x00, 0x40)
            mstore(0x00, shl(96, account))
            mstore(0x14, actionPolicyId)
            id := keccak256(0x00, 0x34)
        }
    }

    /// @notice Config id of the ERC-1271 policies:
    ///         keccak256(abi.encodePacked(account, keccak256(abi.encodePacked("ERC1271: ", permissionId)))).
    function erc1271ConfigId(address account, PermissionId permissionId_) internal pure returns (ConfigId) {
        return ConfigId.wrap(
            keccak256(abi.encodePacked(account, keccak256(abi.encodePacked("ERC1271: ", permissionId_))))
        );
    }
}
