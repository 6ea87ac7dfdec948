// SPDX-License-Identifier: MIT
pragma solidity ^0.8.17;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

/// @notice An ERC-4337 v0.6 user operation: the struct Biconomy Smart Account v2 modules are
/// called with (same ABI as `@account-abstraction/contracts@0.6.0`'s `UserOperation`).
struct UserOperationV06 {
    address sender;
    uint256 nonce;
    bytes initCode;
    bytes callData;
    uint256 callGasLimit;
    uint256 verificationGasLimit;
    uint256 preVerificationGas;
    uint256 maxFeePerGas;
    uint256 maxPriorityFeePerGas;
    bytes paymasterAndData;
    bytes signature;
}

/// @title ABI session validation module for Biconomy session keys v2 (Mandate's, from the spec)
/// @notice Session key data:
///   sessionKey (20) | target (20) | selector (4) | uint128 valueLimit (16) | uint16 ruleCount (2)
///   | ruleCount x [uint16 offset (2) | uint8 condition (1) | bytes32 referenceValue (32)].
/// A rule compares the 32-byte word at `offset` bytes after the inner call's selector (as a
/// uint256) with its referenceValue value: 0 ==, 1 <=, 2 <, 3 >=, 4 >, 5 !=; any other code fails.
/// Checks run in this order: target, selector, value, rules (first failing rule reverts);
/// the session key signature is checked last (a mismatch returns false, no revert).
contract AbiSessionValidationModule {
    /// @notice `execute(address,uint256,bytes)` of the Smart Account v2.
    bytes4 public constant EXECUTE_SELECTOR = 0xb61d27f6;
    /// @notice `execute_ncC(address,uint256,bytes)` of the Smart Account v2.
    bytes4 public constant EXECUTE_OPTIMIZED_SELECTOR = 0x0000189a;

    /// @notice Single-session path (called by the Session Key Manager): the op must call
    /// `execute` / `execute_ncC`; returns whether the session key signed the op.
    function validateSessionUserOp(
        UserOperationV06 calldata op,
        bytes32 userOpHash,
        bytes calldata sessionKeyData,
        bytes calldata sessionKeySignature
    ) external pure returns (bool) {
        (address target, uint256 value, bytes calldata inner) = _executeCall(op.callData);
        address sessionKey = _validate(target, value, inner, sessionKeyData);
        return ECDSA.recover(MessageHashUtils.toEthSignedMessageHash(userOpHash), sessionKeySignature)
            == sessionKey;
    }

    /// @dev Reads `execute(target, value, data)` calldata: the target is the low 160 bits of the
    /// first word, the data is found through the offset word (relative to after the selector).
    function _executeCall(bytes calldata callData)
        internal
        pure
        returns (address target, uint256 value, bytes calldata inner)
    {
        bytes4 selector = bytes4(callData[0:4]);
        require(
            selector == EXECUTE_SELECTOR || selector == EXECUTE_OPTIMIZED_SELECTOR,
            "ABISV Not Execute Selector"
        );
        target = address(uint160(uint256(bytes32(callData[4:36]))));
        value = uint256(bytes32(callData[36:68]));
        uint256 start = 4 + uint256(bytes32(callData[68:100]));
        uint256 length = uint256(bytes32(callData[start:start + 32]));
        inner = callData[start + 32:start + 32 + length];
    }

    /// @notice Batch path (called by the Batched Session Router for one call of the batch):
    /// reverts when the call is outside the session, else returns the session key.
    function validateSessionParams(
        address destinationContract,
        uint256 callValue,
        bytes calldata funcCallData,
        bytes calldata sessionKeyData,
        bytes calldata /* callSpecificData */
    ) external pure returns (address) {
        return _validate(destinationContract, callValue, funcCallData, sessionKeyData);
    }

    function _validate(
        address target,
        uint256 value,
        bytes calldata data,
        bytes calldata sessionKeyData
    ) internal pure returns (address sessionKey) {
        sessionKey = address(bytes20(sessionKeyData[0:20]));
        require(target == address(bytes20(sessionKeyData[20:40])), "ABISV Destination Forbidden");
        require(bytes4(data[0:4]) == bytes4(sessionKeyData[40:44]), "ABISV Selector Forbidden");
        require(value <= uint128(bytes16(sessionKeyData[44:60])), "ABISV Permitted Value Exceeded");
        uint256 ruleCount = uint16(bytes2(sessionKeyData[60:62]));
        for (uint256 i; i < ruleCount; ++i) {
            bytes calldata rule = sessionKeyData[62 + 35 * i:97 + 35 * i];
            uint256 offset = uint16(bytes2(rule[0:2]));
            uint8 condition = uint8(rule[2]);
            uint256 referenceValue = uint256(bytes32(rule[3:35]));
            uint256 param = uint256(bytes32(data[4 + offset:36 + offset]));
            require(_holds(param, condition, referenceValue), "ABISV Arg Rule Violated");
        }
    }

    function _holds(uint256 param, uint8 condition, uint256 referenceValue) internal pure returns (bool) {
        if (condition == 0) return param == referenceValue;
        if (condition == 1) return param <= referenceValue;
        if (condition == 2) return param < referenceValue;
        if (condition == 3) return param >= referenceValue;
        if (condition == 4) return param > referenceValue;
        if (condition == 5) return param != referenceValue;
        return false;
    }
}
