// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";

/// @title ERC-7579 module
/// @notice The part every ERC-7579 module implements.
interface IERC7579Module {
    /// @notice Called by the account when the module is installed.
    /// @param data Module-specific initialisation data.
    function onInstall(bytes calldata data) external;

    /// @notice Called by the account when the module is uninstalled.
    /// @param data Module-specific de-initialisation data.
    function onUninstall(bytes calldata data) external;

    /// @notice Whether the module is of ERC-7579 module type `moduleTypeId`.
    function isModuleType(uint256 moduleTypeId) external view returns (bool);

    /// @notice Whether the module has been initialised for `smartAccount`.
    function isInitialized(address smartAccount) external view returns (bool);
}

/// @title ERC-7579 validator (module type 1)
interface IValidator is IERC7579Module {
    /// @notice Validates a user operation on behalf of `userOp.sender` (the calling account).
    /// @return validationData ERC-4337 validation data: 0 = valid, 1 = signature failure, or a time window.
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash) external returns (uint256);

    /// @notice ERC-1271 check forwarded by the account (`msg.sender`) for a request made by `sender`.
    /// @return magicValue 0x1626ba7e if the signature is valid, 0xffffffff otherwise.
    function isValidSignatureWithSender(address sender, bytes32 hash, bytes calldata signature)
        external
        view
        returns (bytes4);
}
