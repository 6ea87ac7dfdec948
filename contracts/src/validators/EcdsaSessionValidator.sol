// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {ISessionValidator} from "../smart-sessions/interfaces/ISessionValidator.sol";
import {MODULE_TYPE_STATELESS_VALIDATOR} from "../smart-sessions/DataTypes.sol";

/// @title EcdsaSessionValidator
/// @notice Stateless session validator (ERC-7579 module type 7) for one ECDSA session key.
///         Session data: the key's address in its first 20 bytes (anything after is ignored).
///         Signature: 65 bytes r ‖ s ‖ v by that key over the EIP-191 personal-sign hash of `hash`, low s.
contract EcdsaSessionValidator is ISessionValidator {
    /// @notice The session data is shorter than an address.
    error InvalidSessionKeyData();

    /// @notice Whether `signature` is the session key's signature of `hash`. Malformed signatures give false.
    /// @dev Reverts only if `data` is shorter than 20 bytes.
    function validateSignatureWithData(bytes32 hash, bytes calldata signature, bytes calldata data)
        external
        pure
        returns (bool)
    {
        if (data.length < 20) revert InvalidSessionKeyData();
        address sessionKey = address(bytes20(data[:20]));
        (address signer, ECDSA.RecoverError error,) =
            ECDSA.tryRecover(MessageHashUtils.toEthSignedMessageHash(hash), signature);
        return error == ECDSA.RecoverError.NoError && signer == sessionKey;
    }

    /// @notice Stateless: nothing to install.
    function onInstall(bytes calldata) external {}

    /// @notice Stateless: nothing to uninstall.
    function onUninstall(bytes calldata) external {}

    /// @notice Only a stateless validator (module type 7).
    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_STATELESS_VALIDATOR;
    }

    /// @notice Stateless, hence always ready.
    function isInitialized(address) external pure returns (bool) {
        return true;
    }
}
