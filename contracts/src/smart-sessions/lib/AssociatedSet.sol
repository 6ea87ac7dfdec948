// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Ordered sets in ERC-7562 "associated" storage
/// @notice Every slot used here is `keccak256(abi.encode(account, key)) + n` with a small `n`, so a bundler lets
///         the validation of `account`'s user operations read it. A set is named by `setId`:
///         - root   = keccak256(abi.encode(account, setId)): the number of members;
///         - root + 1 + i: member i (insertion order; removal moves the last member into the gap);
///         - the position word of `value`, at keccak256(abi.encode(account, keccak256(abi.encode(setId, value)))),
///           holds (index + 1) in its upper 32 bits, 0 when absent. Its lower 224 bits are left to the caller,
///           which may pack data about the member there; `remove` clears the whole word.
library AssociatedSet {
    uint256 internal constant POSITION_SHIFT = 224;
    /// @dev (1 << POSITION_SHIFT) - 1: the caller's part of a position word.
    uint256 private constant LOW_BITS = 0x00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff;

    /// @notice keccak256(abi.encode(account, key)): the base of an associated storage area.
    function slotOf(address account, bytes32 key) internal pure returns (uint256 slot) {
        assembly ("memory-safe") {
            mstore(0x00, shr(96, shl(96, account)))
            mstore(0x20, key)
            slot := keccak256(0x00, 0x40)
        }
    }

    /// @notice The slot of the position word of `value` in set `setId` of `account`.
    function positionSlot(address account, bytes32 setId, bytes32 value) internal pure returns (uint256 slot) {
        assembly ("memory-safe") {
            mstore(0x00, setId)
            mstore(0x20, value)
            mstore(0x20, keccak256(0x00, 0x40))
            mstore(0x00, shr(96, shl(96, account)))
            slot := keccak256(0x00, 0x40)
        }
    }

    /// @notice The root slot and the member count of a set.
    function load(address account, bytes32 setId) internal view returns (uint256 root, uint256 count) {
        root = slotOf(account, setId);
        assembly ("memory-safe") {
            count := sload(root)
        }
    }

    /// @notice Member `index` of the set at `root`; the caller guarantees `index` < the member count.
    function get(uint256 root, uint256 index) internal view returns (bytes32 value) {
        assembly ("memory-safe") {
            value := sload(add(root, add(index, 1)))
        }
    }

    /// @notice The number of members of a set.
    function length(address account, bytes32 setId) internal view returns (uint256 n) {
        (, n) = load(account, setId);
    }

    /// @notice Whether `value` is a member.
    function contains(address account, bytes32 setId, bytes32 value) internal view returns (bool found) {
        uint256 slot = positionSlot(account, setId, value);
        assembly ("memory-safe") {
            found := iszero(iszero(shr(POSITION_SHIFT, sload(slot))))
        }
    }

    /// @notice Appends `value` unless it is already a member (then nothing changes).
    /// @return added Whether `value` was appended.
    function add(address account, bytes32 setId, bytes32 value) internal returns (bool added) {
        uint256 position = positionSlot(account, setId, value);
        uint256 word;
        assembly ("memory-safe") {
            word := sload(position)
        }
        if (word >> POSITION_SHIFT != 0) return false;
        uint256 root = slotOf(account, setId);
        assembly ("memory-safe") {
            let n := add(sload(root), 1)
            sstore(add(root, n), value)
            sstore(root, n)
            sstore(position, or(word, shl(POSITION_SHIFT, n)))
        }
        return true;
    }

    /// @notice Removes `value` if present: the last member takes its place, then the set shrinks by one.
    /// @return removed Whether `value` was a member.
    function remove(address account, bytes32 setId, bytes32 value) internal returns (bool removed) {
        uint256 position = positionSlot(account, setId, value);
        uint256 index;
        assembly ("memory-safe") {
            index := shr(POSITION_SHIFT, sload(position))
        }
        if (index == 0) return false;
        uint256 root = slotOf(account, setId);
        uint256 last;
        assembly ("memory-safe") {
            last := sload(root)
        }
        if (index != last) {
            bytes32 moved = get(root, last - 1);
            uint256 movedPosition = positionSlot(account, setId, moved);
            assembly ("memory-safe") {
                sstore(add(root, index), moved)
                sstore(movedPosition, or(and(sload(movedPosition), LOW_BITS), shl(POSITION_SHIFT, index)))
            }
        }
        assembly ("memory-safe") {
            sstore(add(root, last), 0)
            sstore(root, sub(last, 1))
            sstore(position, 0)
        }
        return true;
    }

    /// @notice Removes every member (clearing their position words).
    function removeAll(address account, bytes32 setId) internal {
        (uint256 root, uint256 n) = load(account, setId);
        for (uint256 i; i < n; ++i) {
            bytes32 value = get(root, i);
            uint256 position = positionSlot(account, setId, value);
            assembly ("memory-safe") {
                sstore(add(root, add(i, 1)), 0)
                sstore(position, 0)
            }
        }
        assembly ("memory-safe") {
            sstore(root, 0)
        }
    }

    /// @notice All members in storage order.
    function values(address account, bytes32 setId) internal view returns (bytes32[] memory out) {
        (uint256 root, uint256 n) = load(account, setId);
        out = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            out[i] = get(root, i);
        }
    }
}
