// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {ISessionValidator} from "../smart-sessions/interfaces/ISessionValidator.sol";
import {IValidator} from "../smart-sessions/interfaces/IERC7579Module.sol";
import {
    EIP1271_FAILED,
    EIP1271_SUCCESS,
    ERC4337_VALIDATION_FAILED,
    ERC4337_VALIDATION_SUCCESS,
    MODULE_TYPE_STATELESS_VALIDATOR,
    MODULE_TYPE_VALIDATOR
} from "../smart-sessions/DataTypes.sol";

/// @notice ERC-1271: whether `signature` is valid for `hash` on behalf of the callee.
interface IERC1271 {
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4);
}

/// @title OwnableValidator
/// @notice A threshold of ECDSA (or ERC-1271) owners, interface-compatible with Rhinestone's OwnableValidator.
///         As a session validator (ERC-7780 stateless, module type 7) its data is
///         `abi.encode(uint256 threshold, address[] owners)`, owners strictly ascending. As an account validator
///         (module type 1) the same data is installed per account.
///
///         Signature: at least `threshold` words of 65 bytes `r ‖ s ‖ v`; every whole word is read:
///         - v 27/28: ECDSA over `hash` itself;
///         - v > 30: ECDSA over the EIP-191 personal-sign hash of `hash`, with recovery byte v − 4;
///         - v 0: an ERC-1271 signer at address `r`, whose signature bytes (length word, then the bytes) start at
///           offset `s` of the signature (a reverting signer's revert bubbles up).
///         A word that recovers nobody, or a refused or out-of-bounds contract word, has no signer. Reverts
///         `InvalidSignature()` if the signature is shorter than `threshold × 65` bytes or fewer than `threshold` words
///         have a signer; else valid iff at least `threshold` distinct signers are owners (a word without a signer
///         counts as the zero address: listing it as an owner lets one such word stand in for it).
contract OwnableValidator is ISessionValidator, IValidator {
    /// @notice The signature holds fewer than `threshold` words of 65 bytes, or fewer than `threshold` words with a
    ///         signer.
    error InvalidSignature();
    /// @notice Installation data with a zero threshold.
    error ThresholdNotSet();
    /// @notice Installation data with a threshold above the number of owners.
    error InvalidThreshold();
    /// @notice Owners not strictly ascending.
    error NotSortedAndUnique();
    /// @notice More than `MAX_OWNERS` owners.
    error MaxOwnersReached();
    /// @notice The zero address among the installed owners.
    error InvalidOwner(address owner);
    /// @notice The validator is already installed for `smartAccount`.
    error AlreadyInitialized(address smartAccount);

    /// @notice The most owners an account can install.
    uint256 public constant MAX_OWNERS = 32;

    /// @dev One account's configuration. The fixed-size owner array keeps every slot at `keccak(account ‖ slot) + n`
    ///      with n < 34: storage associated with the account (ERC-7562).
    struct Config {
        uint256 threshold;
        uint256 ownerCount;
        address[MAX_OWNERS] owners;
    }

    mapping(address account => Config) private _configs;

    // ------------------------------------------------------------------ stateless (session validator)

    /// @notice Whether `signature` carries `threshold` distinct owners' signatures of `hash`, with
    ///         `data = abi.encode(threshold, owners)`. False if the owners are not strictly ascending or the threshold
    ///         is 0.
    /// @dev Reverts on undecodable `data`, a short signature, or a bad contract signature.
    function validateSignatureWithData(bytes32 hash, bytes calldata signature, bytes calldata data)
        external
        view
        returns (bool)
    {
        (uint256 threshold, address[] memory owners) = abi.decode(data, (uint256, address[]));
        if (!_strictlyAscending(owners)) return false;
        if (threshold == 0) return false;
        address[] memory signers = _recover(hash, signature, threshold);
        return _ownerSigners(signers, owners) >= threshold;
    }

    // ------------------------------------------------------------------ stateful (account validator)

    /// @notice Installs `data = abi.encode(uint256 threshold, address[] owners)` for the calling account: owners
    ///         strictly ascending, non-zero, at most `MAX_OWNERS`; 0 < threshold ≤ number of owners.
    function onInstall(bytes calldata data) external {
        (uint256 threshold, address[] memory owners) = abi.decode(data, (uint256, address[]));
        if (!_strictlyAscending(owners)) revert NotSortedAndUnique();
        if (threshold == 0) revert ThresholdNotSet();
        uint256 count = owners.length;
        if (count < threshold) revert InvalidThreshold();
        if (count > MAX_OWNERS) revert MaxOwnersReached();
        Config storage config = _configs[msg.sender];
        if (config.threshold != 0) revert AlreadyInitialized(msg.sender);
        // Ascending and unique, so only the first can be zero.
        if (count != 0 && owners[0] == address(0)) revert InvalidOwner(address(0));
        config.threshold = threshold;
        config.ownerCount = count;
        for (uint256 i; i < count; ++i) {
            config.owners[i] = owners[i];
        }
    }

    /// @notice Forgets the calling account's configuration.
    function onUninstall(bytes calldata) external {
        delete _configs[msg.sender];
    }

    /// @notice Whether `smartAccount` has a configuration.
    function isInitialized(address smartAccount) external view returns (bool) {
        return _configs[smartAccount].threshold != 0;
    }

    /// @notice The threshold and owners installed for `account` (0 and none if not installed).
    function getConfig(address account) external view returns (uint256 threshold, address[] memory owners) {
        Config storage config = _configs[account];
        owners = _loadOwners(config);
        threshold = config.threshold;
    }

    /// @notice 0 if `userOp.signature` satisfies the calling account's configuration over `userOpHash`, else 1.
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash) external view returns (uint256) {
        return _isValidForAccount(msg.sender, userOpHash, userOp.signature)
            ? ERC4337_VALIDATION_SUCCESS
            : ERC4337_VALIDATION_FAILED;
    }

    /// @notice ERC-1271 for the calling account.
    function isValidSignatureWithSender(address, bytes32 hash, bytes calldata signature)
        external
        view
        returns (bytes4)
    {
        return _isValidForAccount(msg.sender, hash, signature) ? EIP1271_SUCCESS : EIP1271_FAILED;
    }

    /// @notice An account validator (type 1) and a stateless validator (type 7).
    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR || moduleTypeId == MODULE_TYPE_STATELESS_VALIDATOR;
    }

    // ------------------------------------------------------------------ internal

    function _isValidForAccount(address account, bytes32 hash, bytes calldata signature) private view returns (bool) {
        Config storage config = _configs[account];
        uint256 threshold = config.threshold;
        if (threshold == 0) return false;
        address[] memory owners = _loadOwners(config);
        address[] memory signers = _recover(hash, signature, threshold);
        return _ownerSigners(signers, owners) >= threshold;
    }

    function _loadOwners(Config storage config) private view returns (address[] memory owners) {
        uint256 count = config.ownerCount;
        owners = new address[](count);
        for (uint256 i; i < count; ++i) {
            owners[i] = config.owners[i];
        }
    }

    /// @dev The signer of every whole 65-byte word of `signature` (zero for a word that recovers nobody or a refused
    ///      or out-of-bounds contract signature); reverts `InvalidSignature()` when the signature is shorter than
    ///      `threshold` words or fewer than `threshold` words have a signer.
    function _recover(bytes32 hash, bytes calldata signature, uint256 threshold)
        private
        view
        returns (address[] memory signers)
    {
        uint256 total = signature.length;
        // Fewer whole words than the threshold (no product that could overflow, as upstream's).
        if (total / 65 < threshold) revert InvalidSignature();
        uint256 words = total / 65;
        signers = new address[](words);
        uint256 recovered;
        for (uint256 i; i < words; ++i) {
            uint256 at = i * 65;
            bytes32 r = bytes32(signature[at:at + 32]);
            bytes32 s = bytes32(signature[at + 32:at + 64]);
            uint8 v = uint8(signature[at + 64]);
            address signer;
            if (v == 0) {
                signer = _contractSigner(hash, signature, r, uint256(s));
            } else if (v > 30) {
                signer = ecrecover(MessageHashUtils.toEthSignedMessageHash(hash), v - 4, r, s);
            } else {
                signer = ecrecover(hash, v, r, s);
            }
            if (signer != address(0)) {
                signers[i] = signer;
                ++recovered;
            }
        }
        if (recovered < threshold) revert InvalidSignature();
    }

    /// @dev The ERC-1271 signer `r` of a contract signature whose length word and bytes are at `offset`, or zero if
    ///      they do not fit in the signature or the signer refuses them (its own revert bubbles up).
    function _contractSigner(bytes32 hash, bytes calldata signature, bytes32 r, uint256 offset)
        private
        view
        returns (address)
    {
        uint256 total = signature.length;
        // Checked sums: an offset or length near 2^256 panics (0x11), as upstream's does.
        if (offset + 32 > total) return address(0);
        uint256 length = uint256(bytes32(signature[offset:offset + 32]));
        if (offset + 32 + length > total) return address(0);
        bytes calldata contractSignature = signature[offset + 32:offset + 32 + length];
        address signer = address(uint160(uint256(r)));
        return IERC1271(signer).isValidSignature(hash, contractSignature) == EIP1271_SUCCESS ? signer : address(0);
    }

    /// @dev How many distinct entries of `signers` (zero included) are among the ascending `owners`.
    function _ownerSigners(address[] memory signers, address[] memory owners)
        private
        pure
        returns (uint256 found)
    {
        for (uint256 i; i < signers.length; ++i) {
            address signer = signers[i];
            bool seen;
            for (uint256 j; j < i; ++j) {
                if (signers[j] == signer) {
                    seen = true;
                    break;
                }
            }
            if (!seen && _contains(owners, signer)) ++found;
        }
    }

    /// @dev Binary search in the ascending `owners`.
    function _contains(address[] memory owners, address wanted) private pure returns (bool) {
        uint256 low;
        uint256 high = owners.length;
        while (low < high) {
            uint256 mid = (low + high) / 2;
            address owner = owners[mid];
            if (owner == wanted) return true;
            if (owner < wanted) low = mid + 1;
            else high = mid;
        }
        return false;
    }

    function _strictlyAscending(address[] memory owners) private pure returns (bool) {
        for (uint256 i = 1; i < owners.length; ++i) {
            if (owners[i - 1] >= owners[i]) return false;
        }
        return true;
    }
}
