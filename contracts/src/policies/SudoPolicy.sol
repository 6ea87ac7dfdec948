// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {IPolicy, IUserOpPolicy, IActionPolicy, I1271Policy} from "../smart-sessions/interfaces/IPolicy.sol";
import {ConfigId} from "../smart-sessions/DataTypes.sol";

/// @title SudoPolicy
/// @notice Allows everything, in every slot (user operation, action, ERC-1271). Keeps no state.
contract SudoPolicy is IUserOpPolicy, IActionPolicy, I1271Policy {
    /// @notice Records nothing; only announces the configuration. `initData` is ignored.
    function initializeWithMultiplexer(address account, ConfigId configId, bytes calldata) external {
        emit PolicySet(configId, msg.sender, account);
    }

    /// @notice Always passes.
    function checkUserOpPolicy(ConfigId, PackedUserOperation calldata) external pure returns (uint256) {
        return 0;
    }

    /// @notice Always passes.
    function checkAction(ConfigId, address, address, uint256, bytes calldata) external pure returns (uint256) {
        return 0;
    }

    /// @notice Always passes.
    function check1271SignedAction(ConfigId, address, address, bytes32, bytes calldata)
        external
        pure
        returns (bool)
    {
        return true;
    }

    /// @notice ERC-165: IERC165 and all four policy interfaces.
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId || interfaceId == type(IPolicy).interfaceId
            || interfaceId == type(IUserOpPolicy).interfaceId || interfaceId == type(IActionPolicy).interfaceId
            || interfaceId == type(I1271Policy).interfaceId;
    }
}
