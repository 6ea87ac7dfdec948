// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ERC-7579 execution calldata decoding (calldata only, no copies)
/// @notice Layouts:
///         - `execute(bytes32 mode, bytes executionCalldata)`: the ABI-encoded call of the account.
///         - single: abi.encodePacked(address target, uint256 value, bytes callData).
///         - batch:  abi.encode(Execution[]) with Execution = (address target, uint256 value, bytes callData).
library ExecutionLib {
    /// @dev Selector of `DecodingError()`, raised for a malformed batch. The error is declared by the contracts
    ///      using this library (ISmartSession, MandateAccount) so that it appears once in their ABI.
    uint256 private constant DECODING_ERROR = 0xba597e7e;

    /// @notice Extracts `executionCalldata` from the calldata of `execute(bytes32,bytes)`.
    /// @dev Reverts with empty data unless the call is at least 68 bytes long, the offset and the length are below
    ///      2^64, and the bytes lie inside `callData`.
    function executionCalldata(bytes calldata callData) internal pure returns (bytes calldata data) {
        assembly ("memory-safe") {
            if lt(callData.length, 68) { revert(0, 0) }
            let offset := calldataload(add(callData.offset, 36))
            let start := add(add(callData.offset, 36), offset)
            let length := calldataload(sub(start, 32))
            if or(shr(64, or(offset, length)), gt(add(start, length), add(callData.offset, callData.length))) {
                revert(0, 0)
            }
            data.offset := start
            data.length := length
        }
    }

    /// @notice Splits a single execution. Reverts with empty data if it is shorter than 52 bytes.
    function decodeSingle(bytes calldata data)
        internal
        pure
        returns (address target, uint256 value, bytes calldata callData)
    {
        assembly ("memory-safe") {
            if lt(data.length, 52) { revert(0, 0) }
            target := shr(96, calldataload(data.offset))
            value := calldataload(add(data.offset, 20))
            callData.offset := add(data.offset, 52)
            callData.length := sub(data.length, 52)
        }
    }

    /// @notice Validates a batch and returns its table of element offsets.
    /// @dev Every offset and length must be below 2^64 and every element (head and callData) must end within the
    ///      batch's last word boundary; otherwise reverts with `DecodingError()`. All elements are checked before
    ///      any is used.
    function decodeBatch(bytes calldata data) internal pure returns (bytes32[] calldata pointers) {
        assembly ("memory-safe") {
            let u := calldataload(data.offset)
            let s := add(data.offset, u)
            let e := sub(add(data.offset, data.length), 0x20)
            pointers.offset := add(s, 0x20)
            pointers.length := calldataload(s)
            let malformed := or(shr(64, u), gt(add(s, shl(5, pointers.length)), e))
            for { let i := 0 } and(iszero(malformed), lt(i, pointers.length)) { i := add(i, 1) } {
                let p := calldataload(add(pointers.offset, shl(5, i)))
                let c := add(pointers.offset, p)
                let q := calldataload(add(c, 0x40))
                let o := add(c, q)
                malformed :=
                    or(shr(64, or(calldataload(o), or(p, q))), or(gt(add(c, 0x40), e), gt(add(o, calldataload(o)), e)))
            }
            if malformed {
                mstore(0x00, DECODING_ERROR)
                revert(0x1c, 0x04)
            }
        }
    }

    /// @notice Reads element `i` of a batch returned by `decodeBatch`.
    /// @dev Reverts with empty data if the target word has non-zero upper 12 bytes (as Solidity's calldata
    ///      validation of an `address` would).
    function getExecution(bytes32[] calldata pointers, uint256 i)
        internal
        pure
        returns (address target, uint256 value, bytes calldata callData)
    {
        assembly ("memory-safe") {
            let c := add(pointers.offset, calldataload(add(pointers.offset, shl(5, i))))
            target := calldataload(c)
            if shr(160, target) { revert(0, 0) }
            value := calldataload(add(c, 0x20))
            let o := add(c, calldataload(add(c, 0x40)))
            callData.offset := add(o, 0x20)
            callData.length := calldataload(o)
        }
    }

    /// @notice The value of element `i` of a batch returned by `decodeBatch` (its target is not read).
    function getValue(bytes32[] calldata pointers, uint256 i) internal pure returns (uint256 value) {
        assembly ("memory-safe") {
            value := calldataload(add(add(pointers.offset, calldataload(add(pointers.offset, shl(5, i)))), 0x20))
        }
    }
}
