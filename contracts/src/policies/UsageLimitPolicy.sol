// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {IPolicy, IUserOpPolicy, IActionPolicy} from "../smart-sessions/interfaces/IPolicy.sol";
import {ConfigId} from "../smart-sessions/DataTypes.sol";

/// @title UsageLimitPolicy
/// @notice Allows a session (user operation slot) or an action at most `limit` times.
///         initData: abi.encodePacked(uint128 limit) (the first 16 bytes are read; must not be 0).
/// @dev One word per (configId, multiplexer, account): `used << 128 | limit` (see STORAGE.md).
contract UsageLimitPolicy is IUserOpPolicy, IActionPolicy {
    struct Usage {
        uint128 limit;
        uint128 used;
    }

    mapping(ConfigId => mapping(address multiplexer => mapping(address account => Usage))) private _usages;

    /// @notice Sets the limit and restarts the count.
    function initializeWithMultiplexer(address account, ConfigId configId, bytes calldata initData) external {
        uint128 limit = uint128(bytes16(initData[:16]));
        if (limit == 0) revert PolicyNotInitialized(configId, msg.sender, account);
        _usages[configId][msg.sender][account] = Usage({limit: limit, used: 0});
    }

    /// @notice Counts one use of the session; fails (1) once the limit is reached.
    function checkUserOpPolicy(ConfigId id, PackedUserOperation calldata userOp) external returns (uint256) {
        return _use(id, userOp.sender);
    }

    /// @notice Counts one use of the action; fails (1) once the limit is reached.
    function checkAction(ConfigId id, address account, address, uint256, bytes calldata) external returns (uint256) {
        return _use(id, account);
    }

    /// @notice The configured limit.
    function getUsageLimit(ConfigId id, address multiplexer, address account) external view returns (uint128) {
        return _usages[id][multiplexer][account].limit;
    }

    /// @notice How many uses were counted.
    function getUsed(ConfigId id, address multiplexer, address account) external view returns (uint128) {
        return _usages[id][multiplexer][account].used;
    }

    /// @notice ERC-165: IERC165, IPolicy, IUserOpPolicy, IActionPolicy.
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId || interfaceId == type(IPolicy).interfaceId
            || interfaceId == type(IUserOpPolicy).interfaceId || interfaceId == type(IActionPolicy).interfaceId;
    }

    /// @dev An unconfigured key has limit 0, so its first use already fails.
    function _use(ConfigId id, address account) private returns (uint256) {
        Usage storage usage = _usages[id][msg.sender][account];
        uint128 used = usage.used + 1;
        if (used > usage.limit) return 1;
        usage.used = used;
        return 0;
    }
}
