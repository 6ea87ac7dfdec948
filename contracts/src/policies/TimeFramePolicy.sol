// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {IPolicy, IUserOpPolicy, IActionPolicy, I1271Policy} from "../smart-sessions/interfaces/IPolicy.sol";
import {ConfigId} from "../smart-sessions/DataTypes.sol";

/// @title TimeFramePolicy
/// @notice Limits a session (or one of its actions, or its ERC-1271 signatures) to a time window.
///         initData: abi.encodePacked(uint48 validUntil, uint48 validAfter) (the first 12 bytes are read);
///         validUntil 0 means "no end". For user operations and actions the window is returned as ERC-4337
///         validation data and the EntryPoint enforces it; ERC-1271 checks compare with the block time.
/// @dev One word per (configId, multiplexer, account): `validUntil << 48 | validAfter` (see STORAGE.md).
contract TimeFramePolicy is IUserOpPolicy, IActionPolicy, I1271Policy {
    mapping(ConfigId => mapping(address multiplexer => mapping(address account => uint256))) private _frames;

    /// @notice Stores the window; a window ending before it starts is refused.
    function initializeWithMultiplexer(address account, ConfigId configId, bytes calldata initData) external {
        uint256 frame = uint96(bytes12(initData[:12]));
        uint256 validUntil = frame >> 48;
        if (validUntil != 0 && uint48(frame) > validUntil) {
            revert PolicyNotInitialized(configId, msg.sender, account);
        }
        _frames[configId][msg.sender][account] = frame;
        emit PolicySet(configId, msg.sender, account);
    }

    /// @notice The window as validation data (validUntil << 160 | validAfter << 208).
    function checkUserOpPolicy(ConfigId id, PackedUserOperation calldata userOp) external view returns (uint256) {
        return _validationData(id, userOp.sender);
    }

    /// @notice The window as validation data (validUntil << 160 | validAfter << 208).
    function checkAction(ConfigId id, address account, address, uint256, bytes calldata)
        external
        view
        returns (uint256)
    {
        return _validationData(id, account);
    }

    /// @notice Whether now is inside the window: validAfter <= now < validUntil (or no end).
    function check1271SignedAction(ConfigId id, address, address account, bytes32, bytes calldata)
        external
        view
        returns (bool)
    {
        uint256 frame = _frame(id, account);
        uint256 validUntil = frame >> 48;
        return (validUntil == 0 || block.timestamp < validUntil) && block.timestamp >= uint48(frame);
    }

    /// @notice The stored window `validUntil << 48 | validAfter` (0 if none).
    function getTimeFrameConfig(ConfigId id, address multiplexer, address account) external view returns (uint256) {
        return _frames[id][multiplexer][account];
    }

    /// @notice ERC-165: IERC165, IPolicy and the three check interfaces.
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId || interfaceId == type(IPolicy).interfaceId
            || interfaceId == type(IUserOpPolicy).interfaceId || interfaceId == type(IActionPolicy).interfaceId
            || interfaceId == type(I1271Policy).interfaceId;
    }

    /// @dev The stored window of the caller's config; an all-zero window counts as not initialised.
    function _frame(ConfigId id, address account) private view returns (uint256 frame) {
        frame = _frames[id][msg.sender][account];
        if (frame == 0) revert PolicyNotInitialized(id, msg.sender, account);
    }

    function _validationData(ConfigId id, address account) private view returns (uint256) {
        uint256 frame = _frame(id, account);
        return (uint256(uint48(frame)) << 208) | ((frame >> 48) << 160);
    }
}
