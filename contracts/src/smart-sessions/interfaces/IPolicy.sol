// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {ConfigId} from "../DataTypes.sol";

// Each interface declares only its own function, so that its ERC-165 id is that function's selector:
// IPolicy 0x989c9e46, IUserOpPolicy 0x7129edce, IActionPolicy 0x05c00895, I1271Policy 0xcbf34505.
//
// Return convention of the checks: 0 = pass; any non-zero value in the low 160 bits = fail; the upper bits
// may carry an ERC-4337 time window (validUntil << 160 | validAfter << 208).

/// @title Policy
/// @notice Common base of all Smart Sessions policies. State is kept per (configId, multiplexer, account).
interface IPolicy is IERC165 {
    /// @notice A multiplexer (re)initialised the config of `account` under `id`.
    event PolicySet(ConfigId id, address multiplexer, address account);

    /// @notice The config of `account` under `id` is missing or not usable.
    error PolicyNotInitialized(ConfigId id, address multiplexer, address account);

    /// @notice (Re)initialises the policy for `account` under `configId`; the caller is the multiplexer.
    ///         Must overwrite any existing configuration for that key.
    function initializeWithMultiplexer(address account, ConfigId configId, bytes calldata initData) external;
}

/// @title User operation policy
interface IUserOpPolicy is IPolicy {
    /// @notice Checks a whole user operation.
    /// @return validationData 0, a time window, or a failure (non-zero low 160 bits).
    function checkUserOpPolicy(ConfigId id, PackedUserOperation calldata userOp) external returns (uint256);
}

/// @title Action policy
interface IActionPolicy is IPolicy {
    /// @notice Checks one call `account` -> `target` with `value` and `data`.
    /// @return validationData 0, a time window, or a failure (non-zero low 160 bits).
    function checkAction(ConfigId id, address account, address target, uint256 value, bytes calldata data)
        external
        returns (uint256);
}

/// @title ERC-1271 policy
interface I1271Policy is IPolicy {
    /// @notice Checks an ERC-1271 signature request made by `requestSender` to `account`.
    /// @return allowed Whether the request passes the policy.
    function check1271SignedAction(
        ConfigId id,
        address requestSender,
        address account,
        bytes32 hash,
        bytes calldata signature
    ) external view returns (bool);
}
