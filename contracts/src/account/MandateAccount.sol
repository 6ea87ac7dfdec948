// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccount} from "@account-abstraction/contracts/interfaces/IAccount.sol";
import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IERC7579Module, IValidator} from "../smart-sessions/interfaces/IERC7579Module.sol";
import {ExecutionLib} from "../smart-sessions/lib/ExecutionLib.sol";
import {
    EIP1271_FAILED,
    EIP1271_SUCCESS,
    ERC4337_VALIDATION_FAILED,
    ERC4337_VALIDATION_SUCCESS,
    MODULE_TYPE_VALIDATOR
} from "../smart-sessions/DataTypes.sol";

/// @notice A validator to install, with its `onInstall` data.
struct ModuleInit {
    address module;
    bytes initData;
}

/// @title MandateAccount
/// @notice Minimal ERC-7579 smart account for the ERC-4337 EntryPoint (v0.7 or v0.8, an immutable), meant to be
///         deployed as EIP-1167 clones by MandateAccountFactory or delegated to by EOAs (EIP-7702). It supports validator modules only.
///         - Validator selection: the top 20 bytes of the user operation nonce
///           (nonce = validator (20) ‖ key extra (4) ‖ sequence (8)).
///         - Execution: ERC-7579 `execute(mode, executionCalldata)` with call types single (0x00), batch (0x01)
///           and delegatecall (0xff), exec types default (0x00, revert) and try (0x01).
///         - ERC-1271: `signature` = validator (20) ‖ that validator's signature.
///         - EIP-7702: an EOA whose code is a delegation to this implementation is the account itself. Its
///           own key is its root validator, named by the zero address: an op whose nonce names validator 0,
///           and an ERC-1271 signature prefixed by 20 zero bytes, are valid when signed by the key of
///           `address(this)` (for a clone, whose address has no key, never). Nothing needs initialising;
///           `initializeAccount` on a delegated EOA may only be called by the EOA itself.
contract MandateAccount is IAccount, IERC1271 {
    /// @notice `initializeAccount` was already called.
    error AlreadyInitialized();
    /// @notice The caller may not use this function.
    error Unauthorized(address caller);
    /// @notice The validator named by the user operation nonce is not installed.
    error ValidatorNotInstalled(address validator);
    error UnsupportedCallType(bytes1 callType);
    error UnsupportedExecType(bytes1 execType);
    error UnsupportedModuleType(uint256 moduleTypeId);
    error ModuleAlreadyInstalled(uint256 moduleTypeId, address module);
    error ModuleNotInstalled(uint256 moduleTypeId, address module);
    /// @notice A batch's encoding is malformed (raised by ExecutionLib).
    error DecodingError();

    event ModuleInstalled(uint256 moduleTypeId, address module);
    event ModuleUninstalled(uint256 moduleTypeId, address module);
    /// @notice An execution in try mode failed; `batchIndex` is 0 for single executions.
    event TryExecuteUnsuccessful(uint256 batchIndex, bytes result);

    /// @notice One call of a batch (ERC-7579).
    struct Execution {
        address target;
        uint256 value;
        bytes callData;
    }

    bytes1 private constant CALLTYPE_SINGLE = 0x00;
    bytes1 private constant CALLTYPE_BATCH = 0x01;
    bytes1 private constant CALLTYPE_DELEGATECALL = 0xff;
    bytes1 private constant EXECTYPE_DEFAULT = 0x00;
    bytes1 private constant EXECTYPE_TRY = 0x01;

    /// @dev The validator "address" of the account's own key (an EIP-7702 delegated EOA's).
    address private constant ROOT_KEY = address(0);
    /// @dev An EIP-7702 delegation designator's prefix, `0xef0100`, and length (prefix ‖ delegate).
    bytes3 private constant EIP7702_PREFIX = 0xef0100;
    uint256 private constant EIP7702_DESIGNATOR_LENGTH = 23;

    address private immutable ENTRY_POINT;

    bool private _initialized;
    mapping(address validator => bool) private _validators;

    modifier onlyEntryPoint() {
        if (msg.sender != ENTRY_POINT) revert Unauthorized(msg.sender);
        _;
    }

    modifier onlyEntryPointOrSelf() {
        if (msg.sender != ENTRY_POINT && msg.sender != address(this)) revert Unauthorized(msg.sender);
        _;
    }

    /// @param entryPoint_ The ERC-4337 EntryPoint this account trusts.
    constructor(address entryPoint_) {
        ENTRY_POINT = entryPoint_;
        // The implementation itself is never used as an account.
        _initialized = true;
    }

    /// @notice Installs the first validators; callable once per account (the factory calls it on creation; on
    ///         an EOA delegated to this implementation only the EOA itself may, directly or through `execute`).
    function initializeAccount(ModuleInit[] calldata validators) external {
        if (_initialized) revert AlreadyInitialized();
        if (msg.sender != address(this) && _isEip7702Delegated()) revert Unauthorized(msg.sender);
        _initialized = true;
        for (uint256 i; i < validators.length; ++i) {
            _installValidator(validators[i].module, validators[i].initData);
        }
    }

    /*//////////////////////////////////////////////////////////////////////////
                                   ERC-4337
    //////////////////////////////////////////////////////////////////////////*/

    /// @notice Validates a user operation with the validator named by the top 20 bytes of its nonce, then pays
    ///         the EntryPoint what it asks for (a failed payment is ignored: the EntryPoint will reject the op).
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash, uint256 missingAccountFunds)
        external
        onlyEntryPoint
        returns (uint256 validationData)
    {
        address validator = address(uint160(userOp.nonce >> 96));
        if (validator == ROOT_KEY) {
            validationData =
                _signedByOwnKey(MessageHashUtils.toEthSignedMessageHash(userOpHash), userOp.signature)
                    ? ERC4337_VALIDATION_SUCCESS
                    : ERC4337_VALIDATION_FAILED;
        } else {
            if (!_validators[validator]) revert ValidatorNotInstalled(validator);
            validationData = IValidator(validator).validateUserOp(userOp, userOpHash);
        }
        assembly ("memory-safe") {
            if missingAccountFunds { pop(call(gas(), caller(), missingAccountFunds, 0, 0, 0, 0)) }
        }
    }

    /// @notice The EntryPoint this account trusts.
    function entryPoint() external view returns (address) {
        return ENTRY_POINT;
    }

    /*//////////////////////////////////////////////////////////////////////////
                                  EXECUTION
    //////////////////////////////////////////////////////////////////////////*/

    /// @notice ERC-7579 execution. `mode` = callType (1) ‖ execType (1) ‖ unused (30); see the contract notes.
    function execute(bytes32 mode, bytes calldata executionCalldata) external payable onlyEntryPointOrSelf {
        bytes1 callType = mode[0];
        bytes1 execType = mode[1];
        if (callType == CALLTYPE_BATCH) {
            _checkExecType(execType);
            bytes32[] calldata executions = ExecutionLib.decodeBatch(executionCalldata);
            for (uint256 i; i < executions.length; ++i) {
                (address target, uint256 value, bytes calldata data) = ExecutionLib.getExecution(executions, i);
                _call(execType, i, target, value, data);
            }
        } else if (callType == CALLTYPE_SINGLE) {
            _checkExecType(execType);
            (address target, uint256 value, bytes calldata data) = ExecutionLib.decodeSingle(executionCalldata);
            _call(execType, 0, target, value, data);
        } else if (callType == CALLTYPE_DELEGATECALL) {
            _checkExecType(execType);
            address target = address(bytes20(executionCalldata[:20]));
            bytes calldata data = executionCalldata[20:];
            bool success;
            bytes memory result;
            (success, result) = target.delegatecall(data);
            _handleResult(execType, 0, success, result);
        } else {
            revert UnsupportedCallType(callType);
        }
    }

    /// @notice Whether `execute` supports `mode` (only its call type and exec type matter).
    function supportsExecutionMode(bytes32 mode) external pure returns (bool) {
        bytes1 callType = mode[0];
        bytes1 execType = mode[1];
        return (callType == CALLTYPE_SINGLE || callType == CALLTYPE_BATCH || callType == CALLTYPE_DELEGATECALL)
            && (execType == EXECTYPE_DEFAULT || execType == EXECTYPE_TRY);
    }

    function _checkExecType(bytes1 execType) private pure {
        if (execType != EXECTYPE_DEFAULT && execType != EXECTYPE_TRY) revert UnsupportedExecType(execType);
    }

    function _call(bytes1 execType, uint256 index, address target, uint256 value, bytes calldata data) private {
        (bool success, bytes memory result) = target.call{value: value}(data);
        _handleResult(execType, index, success, result);
    }

    /// @dev Default mode bubbles a failure up; try mode reports it and goes on.
    function _handleResult(bytes1 execType, uint256 index, bool success, bytes memory result) private {
        if (success) return;
        if (execType == EXECTYPE_DEFAULT) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
        emit TryExecuteUnsuccessful(index, result);
    }

    /*//////////////////////////////////////////////////////////////////////////
                                   MODULES
    //////////////////////////////////////////////////////////////////////////*/

    /// @notice Installs a validator (the only supported module type, 1) and calls its `onInstall(initData)`.
    function installModule(uint256 moduleTypeId, address module, bytes calldata initData)
        external
        payable
        onlyEntryPointOrSelf
    {
        if (moduleTypeId != MODULE_TYPE_VALIDATOR) revert UnsupportedModuleType(moduleTypeId);
        _installValidator(module, initData);
    }

    /// @notice Uninstalls a validator and calls its `onUninstall(deInitData)`.
    function uninstallModule(uint256 moduleTypeId, address module, bytes calldata deInitData)
        external
        payable
        onlyEntryPointOrSelf
    {
        if (moduleTypeId != MODULE_TYPE_VALIDATOR) revert UnsupportedModuleType(moduleTypeId);
        if (!_validators[module]) revert ModuleNotInstalled(moduleTypeId, module);
        _validators[module] = false;
        IERC7579Module(module).onUninstall(deInitData);
        emit ModuleUninstalled(moduleTypeId, module);
    }

    /// @notice Whether `module` is installed as a module of type `moduleTypeId`.
    function isModuleInstalled(uint256 moduleTypeId, address module, bytes calldata)
        external
        view
        returns (bool)
    {
        return moduleTypeId == MODULE_TYPE_VALIDATOR && _validators[module];
    }

    /// @notice Only validators (module type 1) are supported.
    function supportsModule(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR;
    }

    /// @notice ERC-7579 account id: "vendor.account.semver".
    function accountId() external pure returns (string memory) {
        return "mandate.account.0.1.0";
    }

    function _installValidator(address module, bytes calldata initData) private {
        if (_validators[module]) revert ModuleAlreadyInstalled(MODULE_TYPE_VALIDATOR, module);
        _validators[module] = true;
        IERC7579Module(module).onInstall(initData);
        emit ModuleInstalled(MODULE_TYPE_VALIDATOR, module);
    }

    /*//////////////////////////////////////////////////////////////////////////
                                   ERC-1271
    //////////////////////////////////////////////////////////////////////////*/

    /// @notice ERC-5267: the account's EIP-712 domain {name "Mandate Account", version "0.1.0", chainId, this
    ///         account}. ERC-7739 validators (SmartSession) nest typed data under it.
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (hex"0f", "Mandate Account", "0.1.0", block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    /// @notice ERC-1271: the first 20 bytes of `signature` name an installed validator, which checks the rest;
    ///         20 zero bytes name the account's own key (valid if it signed `hash` or its EIP-191 hash).
    /// @return magicValue 0x1626ba7e if valid, 0xffffffff otherwise (also for an unknown validator).
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length < 20) return EIP1271_FAILED;
        address validator = address(bytes20(signature[:20]));
        if (validator == ROOT_KEY) {
            bytes calldata own = signature[20:];
            return _signedByOwnKey(hash, own) || _signedByOwnKey(MessageHashUtils.toEthSignedMessageHash(hash), own)
                ? EIP1271_SUCCESS
                : EIP1271_FAILED;
        }
        if (!_validators[validator]) return EIP1271_FAILED;
        return IValidator(validator).isValidSignatureWithSender(msg.sender, hash, signature[20:]);
    }

    /// @dev Whether `signature` is the signature of `digest` by the key of `address(this)`: an EIP-7702
    ///      delegated EOA's own key (a clone's address has none).
    function _signedByOwnKey(bytes32 digest, bytes calldata signature) private view returns (bool) {
        (address signer, ECDSA.RecoverError error,) = ECDSA.tryRecover(digest, signature);
        return error == ECDSA.RecoverError.NoError && signer == address(this);
    }

    /// @dev Whether this account's code is an EIP-7702 delegation designator (an EOA delegated to this
    ///      implementation) rather than a clone's.
    function _isEip7702Delegated() private view returns (bool) {
        bytes memory code = address(this).code;
        return code.length == EIP7702_DESIGNATOR_LENGTH && bytes3(code) == EIP7702_PREFIX;
    }

    /// @notice Accepts ERC-721 tokens sent with `safeTransferFrom` / `safeMint`.
    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        return this.onERC721Received.selector;
    }

    /// @notice Accepts ERC-1155 tokens.
    function onERC1155Received(address, address, uint256, uint256, bytes calldata) external pure returns (bytes4) {
        return this.onERC1155Received.selector;
    }

    /// @notice Accepts ERC-1155 batch transfers.
    function onERC1155BatchReceived(address, address, uint256[] calldata, uint256[] calldata, bytes calldata)
        external
        pure
        returns (bytes4)
    {
        return this.onERC1155BatchReceived.selector;
    }

    /// @notice Accepts native tokens.
    receive() external payable {}
}
