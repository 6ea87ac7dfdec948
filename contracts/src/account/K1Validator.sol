// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {IValidator} from "../smart-sessions/interfaces/IERC7579Module.sol";
import {
    EIP1271_FAILED,
    EIP1271_SUCCESS,
    ERC4337_VALIDATION_FAILED,
    ERC4337_VALIDATION_SUCCESS,
    MODULE_TYPE_VALIDATOR
} from "../smart-sessions/DataTypes.sol";

/// @title K1Validator
/// @notice Owner validator (ERC-7579 module type 1): one secp256k1 owner per account. The owner is kept in a
///         mapping keyed by the account, which is storage associated with it (ERC-7562).
contract K1Validator is IValidator {
    /// @notice The owner given at installation is the zero address.
    error InvalidOwner();
    /// @notice The validator is already installed for `smartAccount`.
    error AlreadyInitialized(address smartAccount);

    mapping(address account => address owner) private _owners;

    /// @notice Installs the validator for the calling account. `data` = abi.encodePacked(address owner).
    function onInstall(bytes calldata data) external {
        address owner = address(bytes20(data[:20]));
        if (owner == address(0)) revert InvalidOwner();
        if (_owners[msg.sender] != address(0)) revert AlreadyInitialized(msg.sender);
        _owners[msg.sender] = owner;
    }

    /// @notice Forgets the owner of the calling account.
    function onUninstall(bytes calldata) external {
        delete _owners[msg.sender];
    }

    /// @notice Only a validator (module type 1).
    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR;
    }

    /// @notice Whether `smartAccount` has an owner.
    function isInitialized(address smartAccount) external view returns (bool) {
        return _owners[smartAccount] != address(0);
    }

    /// @notice The owner of `account` (zero if not installed).
    function getOwner(address account) external view returns (address) {
        return _owners[account];
    }

    /// @notice 0 if `userOp.signature` is the owner's 65-byte signature of the EIP-191 personal-sign hash of
    ///         `userOpHash`, else 1.
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash) external view returns (uint256) {
        return _isOwnerSignature(msg.sender, MessageHashUtils.toEthSignedMessageHash(userOpHash), userOp.signature)
            ? ERC4337_VALIDATION_SUCCESS
            : ERC4337_VALIDATION_FAILED;
    }

    /// @notice ERC-1271 for the calling account: valid if the owner signed `hash` itself or its EIP-191
    ///         personal-sign hash.
    function isValidSignatureWithSender(address, bytes32 hash, bytes calldata signature)
        external
        view
        returns (bytes4)
    {
        return _isOwnerSignature(msg.sender, hash, signature)
            || _isOwnerSignature(msg.sender, MessageHashUtils.toEthSignedMessageHash(hash), signature)
            ? EIP1271_SUCCESS
            : EIP1271_FAILED;
    }

    function _isOwnerSignature(address account, bytes32 digest, bytes calldata signature)
        private
        view
        returns (bool)
    {
        (address signer, ECDSA.RecoverError error,) = ECDSA.tryRecover(digest, signature);
        return error == ECDSA.RecoverError.NoError && signer == _owners[account];
    }
}
