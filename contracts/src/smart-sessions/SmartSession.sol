// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC165Checker} from "@openzeppelin/contracts/utils/introspection/ERC165Checker.sol";
import {ISmartSession} from "./interfaces/ISmartSession.sol";
import {ISessionValidator} from "./interfaces/ISessionValidator.sol";
import {IPolicy, IUserOpPolicy, IActionPolicy, I1271Policy} from "./interfaces/IPolicy.sol";
import {AssociatedSet} from "./lib/AssociatedSet.sol";
import {ExecutionLib} from "./lib/ExecutionLib.sol";
import {IdLib} from "./lib/IdLib.sol";
import {SessionStorage} from "./lib/SessionStorage.sol";
import {ValidationDataLib} from "./lib/ValidationDataLib.sol";
import {
    ActionData,
    ActionId,
    ConfigId,
    ERC7739Context,
    PackedUserOperation,
    PermissionId,
    PolicyData,
    PolicyType,
    Session,
    SmartSessionMode,
    EIP1271_FAILED,
    ERC4337_VALIDATION_FAILED,
    ERC7739_DETECTION_HASH,
    ERC7739_SUPPORTED,
    FALLBACK_ACTIONID,
    FALLBACK_ACTIONID_SMARTSESSION_CALL,
    FALLBACK_TARGET_FLAG,
    MODULE_TYPE_STATELESS_VALIDATOR,
    MODULE_TYPE_VALIDATOR,
    VALUE_SELECTOR
} from "./DataTypes.sol";

/// @title SmartSession
/// @notice ERC-7579 validator (module type 1) for session keys: each session ("permission") names a session
///         validator that checks the key's signature, and policies that every user operation, call and ERC-1271
///         request of the session must pass. Sessions are managed by the account itself (`msg.sender`), and all
///         of an account's state lives in storage associated with it (ERC-7562), see contracts/STORAGE.md.
/// @dev The user operation signature is `mode (1) ‖ ...`; USE mode is `0x00 ‖ permissionId (32) ‖ sessionSig`.
contract SmartSession is ISmartSession {
    using ValidationDataLib for uint256;

    /// @dev ERC-7579 `execute(bytes32,bytes)`.
    bytes4 private constant EXECUTE_SELECTOR = 0xe9ae5c53;
    /// @dev ERC-4337 `executeUserOp(PackedUserOperation,bytes32)`.
    bytes4 private constant EXECUTE_USEROP_SELECTOR = 0x8dd7712f;
    bytes1 private constant CALLTYPE_SINGLE = 0x00;
    bytes1 private constant CALLTYPE_BATCH = 0x01;
    bytes1 private constant EXECTYPE_DEFAULT = 0x00;

    /*//////////////////////////////////////////////////////////////////////////
                                  VALIDATION
    //////////////////////////////////////////////////////////////////////////*/

    /// @notice Validates a user operation signed by a session key.
    /// @dev Reverts on any policy violation or misuse; returns 1 only when the session key signature is wrong.
    ///      On success the result is the intersection of all policies' time windows (never 0).
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash) external returns (uint256) {
        address account = userOp.sender;
        if (account != msg.sender) revert InvalidUserOpSender(account);

        bytes calldata signature = userOp.signature;
        // An empty signature reverts with empty data; a mode byte above 2 panics (enum conversion, 0x21).
        SmartSessionMode mode = SmartSessionMode(uint8(bytes1(signature[:1])));
        // ENABLE / UNSAFE_ENABLE (enable a signed session inside the user operation, spec §6.3) are not part of
        // this version: both are rejected here, before any state is read.
        if (mode != SmartSessionMode.USE) revert UnsupportedSmartSessionMode(mode);

        return _enforce(account, PermissionId.wrap(bytes32(signature[1:33])), userOp, userOpHash, signature[33:]);
    }

    /// @notice ERC-1271 check for session keys, forwarded by the account.
    /// @dev Answers the ERC-7739 support probe. Session signatures over ERC-7739 typed data (spec §8) are not
    ///      supported by this version, so every other request is rejected.
    function isValidSignatureWithSender(address, bytes32 hash, bytes calldata) external pure returns (bytes4) {
        if (hash == ERC7739_DETECTION_HASH) return ERC7739_SUPPORTED;
        return EIP1271_FAILED;
    }

    /// @dev Checks, in order: permission enabled, paymaster opt-in, user operation policies, the calls made by
    ///      `callData`, then the session validator. Policy side effects persist even when the signature is wrong.
    function _enforce(
        address account,
        PermissionId permissionId,
        PackedUserOperation calldata userOp,
        bytes32 userOpHash,
        bytes calldata sessionSig
    ) internal returns (uint256 validationData) {
        validationData = _checkUserOpPolicies(account, permissionId, userOp);
        uint256 actionsValidationData = _checkCallData(account, permissionId, userOp.callData);
        validationData = validationData.intersect(actionsValidationData);
        if (!_isValidSessionSignature(account, permissionId, userOpHash, sessionSig)) {
            return ERC4337_VALIDATION_FAILED;
        }
    }

    /// @dev Permission enabled, paymaster opt-in (which requires at least one user operation policy), then the
    ///      user operation policies.
    function _checkUserOpPolicies(address account, PermissionId permissionId, PackedUserOperation calldata userOp)
        internal
        returns (uint256 validationData)
    {
        uint256 header = _header(account, permissionId);
        if (header >> SessionStorage.POSITION_SHIFT == 0) revert InvalidPermissionId(permissionId);

        uint256 minPolicies;
        if (userOp.paymasterAndData.length != 0) {
            if (header & SessionStorage.PAYMASTER_FLAG == 0) revert PaymasterValidationNotEnabled(permissionId);
            minPolicies = 1;
        }

        (uint256 root, uint256 count) = AssociatedSet.load(account, SessionStorage.userOpPolicies(permissionId));
        if (count < minPolicies) revert NoPoliciesSet(permissionId);
        if (count != 0) {
            validationData = _callPolicies(
                permissionId, root, count, _checkUserOpCall(IdLib.userOpConfigId(account, permissionId), userOp)
            );
        }
    }

    /// @dev Calldata of IUserOpPolicy.checkUserOpPolicy(configId, userOp). Rather than re-encoding the user
    ///      operation, its ABI encoding is copied from our own calldata: from its head to the end of the
    ///      calldata, which holds all its parts (their offsets are relative to the head, so they stay valid).
    function _checkUserOpCall(ConfigId configId, PackedUserOperation calldata userOp)
        internal
        pure
        returns (bytes memory data)
    {
        bytes4 selector = IUserOpPolicy.checkUserOpPolicy.selector;
        assembly ("memory-safe") {
            let size := sub(calldatasize(), userOp)
            data := mload(0x40)
            mstore(data, add(0x44, size))
            mstore(add(data, 0x20), selector)
            mstore(add(data, 0x24), configId)
            mstore(add(data, 0x44), 0x40)
            calldatacopy(add(data, 0x64), userOp, size)
            mstore(0x40, and(add(add(data, 0x83), size), not(31)))
        }
    }

    /// @dev STATICCALLs the session validator with the stored config (its reverts bubble up).
    function _isValidSessionSignature(
        address account,
        PermissionId permissionId,
        bytes32 hash,
        bytes calldata signature
    ) internal view returns (bool) {
        uint256 header = _header(account, permissionId);
        address sessionValidator = address(uint160(header));
        if (sessionValidator == address(0)) revert SignerNotFound(permissionId, account);
        return ISessionValidator(sessionValidator).validateSignatureWithData(
            hash, signature, _loadConfig(account, permissionId, header)
        );
    }

    /// @dev Authorises what `callData` (the account call of the user operation) does.
    function _checkCallData(address account, PermissionId permissionId, bytes calldata callData)
        internal
        returns (uint256)
    {
        bytes4 selector = bytes4(callData[:4]);
        if (selector == EXECUTE_SELECTOR) {
            bytes32 mode = bytes32(callData[4:36]);
            if (mode[1] != EXECTYPE_DEFAULT) revert UnsupportedExecutionType();
            bytes1 callType = mode[0];
            if (callType == CALLTYPE_BATCH) {
                return _checkBatch(account, permissionId, ExecutionLib.executionCalldata(callData));
            }
            if (callType == CALLTYPE_SINGLE) {
                (address target, uint256 value, bytes calldata data) =
                    ExecutionLib.decodeSingle(ExecutionLib.executionCalldata(callData));
                return _checkExecution(account, permissionId, target, value, data);
            }
            revert UnsupportedCallType(callType);
        }
        // The calldata executeUserOp runs is not standardised, so it cannot be authorised.
        if (selector == EXECUTE_USEROP_SELECTOR) revert UnsupportedExecutionType();

        return _checkAccountCall(account, permissionId, selector, callData);
    }

    /// @dev A user operation calling another function of the account is authorised by the action
    ///      (account, selector) alone, without fallback.
    function _checkAccountCall(address account, PermissionId permissionId, bytes4 selector, bytes calldata callData)
        internal
        returns (uint256)
    {
        ActionId actionId = IdLib.actionId(account, selector);
        (uint256 root, uint256 count) =
            AssociatedSet.load(account, SessionStorage.actionPolicies(permissionId, actionId));
        if (count == 0) revert NoPoliciesSet(permissionId);
        bytes memory policyCall = _checkActionCall(account, permissionId, actionId, account, 0, callData);
        return _callPolicies(permissionId, root, count, policyCall);
    }

    /// @dev Authorises every execution of a batch, in order, after checking the whole encoding.
    function _checkBatch(address account, PermissionId permissionId, bytes calldata executionCalldata)
        internal
        returns (uint256 validationData)
    {
        bytes32[] calldata executions = ExecutionLib.decodeBatch(executionCalldata);
        uint256 n = executions.length;
        if (n == 0) revert NoExecutionsInBatch();
        for (uint256 i; i < n; ++i) {
            (address target, uint256 value, bytes calldata data) = ExecutionLib.getExecution(executions, i);
            validationData = validationData.intersect(_checkExecution(account, permissionId, target, value, data));
        }
    }

    /// @dev Authorises one execution `account` -> `target`.
    function _checkExecution(
        address account,
        PermissionId permissionId,
        address target,
        uint256 value,
        bytes calldata data
    ) internal returns (uint256) {
        ActionId actionId;
        uint256 root;
        uint256 count;
        {
            bytes4 selector = data.length < 4 ? VALUE_SELECTOR : bytes4(data[:4]);
            if (selector == EXECUTE_SELECTOR && target == account) revert InvalidSelfCall();
            if (target == FALLBACK_TARGET_FLAG) revert InvalidTarget();
            (actionId, root, count) = _resolveAction(account, permissionId, target, selector);
        }
        bytes memory policyCall = _checkActionCall(account, permissionId, actionId, target, value, data);
        return _callPolicies(permissionId, root, count, policyCall);
    }

    /// @dev The action whose policies authorise a call to `target` with `selector`: for SmartSession itself the
    ///      dedicated fallback action; otherwise (target, selector), or the generic fallback action if that one
    ///      has no policy. Reverts NoPoliciesSet if the chosen action has none.
    function _resolveAction(address account, PermissionId permissionId, address target, bytes4 selector)
        internal
        view
        returns (ActionId actionId, uint256 root, uint256 count)
    {
        if (target == address(this)) {
            actionId = FALLBACK_ACTIONID_SMARTSESSION_CALL;
            (root, count) = AssociatedSet.load(account, SessionStorage.actionPolicies(permissionId, actionId));
        } else {
            actionId = IdLib.actionId(target, selector);
            (root, count) = AssociatedSet.load(account, SessionStorage.actionPolicies(permissionId, actionId));
            if (count == 0) {
                actionId = FALLBACK_ACTIONID;
                (root, count) = AssociatedSet.load(account, SessionStorage.actionPolicies(permissionId, actionId));
            }
        }
        if (count == 0) revert NoPoliciesSet(permissionId);
    }

    /// @dev Calldata of IActionPolicy.checkAction for one call under `actionId`.
    function _checkActionCall(
        address account,
        PermissionId permissionId,
        ActionId actionId,
        address target,
        uint256 value,
        bytes calldata data
    ) internal pure returns (bytes memory) {
        ConfigId configId = IdLib.actionConfigId(account, permissionId, actionId);
        return abi.encodeCall(IActionPolicy.checkAction, (configId, account, target, value, data));
    }

    /// @dev Calls every policy of the set at `root` (storage order) with `callData` and intersects the results.
    function _callPolicies(PermissionId permissionId, uint256 root, uint256 count, bytes memory callData)
        internal
        returns (uint256 validationData)
    {
        for (uint256 i; i < count; ++i) {
            address policy = address(uint160(uint256(AssociatedSet.get(root, i))));
            validationData = validationData.intersect(_callPolicy(permissionId, policy, callData));
        }
    }

    /// @dev CALL with all gas, keeping at most 32 bytes of returndata (zero padded). A revert becomes
    ///      PolicyCheckReverted(first 32 bytes of the revert data); non-zero low 160 bits become PolicyViolation.
    function _callPolicy(PermissionId permissionId, address policy, bytes memory callData)
        internal
        returns (uint256 result)
    {
        bool success;
        assembly ("memory-safe") {
            mstore(0x00, 0)
            success := call(gas(), policy, 0, add(callData, 0x20), mload(callData), 0x00, 0x20)
            result := mload(0x00)
        }
        if (!success) revert PolicyCheckReverted(bytes32(result));
        if (uint160(result) != 0) revert PolicyViolation(permissionId, policy);
    }

    /*//////////////////////////////////////////////////////////////////////////
                                  MANAGEMENT
    //////////////////////////////////////////////////////////////////////////*/

    /// @inheritdoc ISmartSession
    /// @dev Enabling an existing permission again adds its new policies and actions, re-initialises the
    ///      configs of the listed policies and overwrites the paymaster flag; the session validator stays.
    function enableSessions(Session[] calldata sessions) external returns (PermissionId[] memory) {
        return _enableSessions(msg.sender, sessions);
    }

    /// @inheritdoc ISmartSession
    /// @dev Clears the policy sets, actions, ERC-7739 content, session validator (and config), paymaster flag
    ///      and membership. Policy-side state is left as is, as is the nonce.
    function removeSession(PermissionId permissionId) external {
        if (PermissionId.unwrap(permissionId) == bytes32(0)) revert InvalidSession(permissionId);
        _removeSession(msg.sender, permissionId);
    }

    /// @inheritdoc ISmartSession
    function setPermit4337Paymaster(PermissionId permissionId, bool enabled) external {
        if (!isPermissionEnabled(permissionId, msg.sender)) revert InvalidPermissionId(permissionId);
        _setPermit4337Paymaster(msg.sender, permissionId, enabled);
    }

    /// @notice Installs the module; `data` is empty, or `mode (1 byte: ENABLE or UNSAFE_ENABLE) ‖
    ///         abi.encode(Session[])` to enable sessions right away.
    function onInstall(bytes calldata data) external {
        if (data.length == 0) return;
        SmartSessionMode mode = SmartSessionMode(uint8(bytes1(data[:1])));
        if (mode == SmartSessionMode.USE) revert InvalidMode();
        if (AssociatedSet.length(msg.sender, SessionStorage.SESSIONS) != 0) {
            revert SmartSessionModuleAlreadyInstalled(msg.sender);
        }
        Session[] calldata sessions;
        assembly ("memory-safe") {
            let head := add(data.offset, 1)
            let array := add(head, calldataload(head))
            sessions.length := calldataload(array)
            sessions.offset := add(array, 0x20)
        }
        _enableSessions(msg.sender, sessions);
    }

    /// @notice Uninstalls the module: removes every session of the account (always the first one, until none).
    function onUninstall(bytes calldata) external {
        (uint256 root, uint256 count) = AssociatedSet.load(msg.sender, SessionStorage.SESSIONS);
        for (; count != 0; --count) {
            _removeSession(msg.sender, PermissionId.wrap(AssociatedSet.get(root, 0)));
        }
    }

    /// @dev Shared by enableSessions and onInstall: at least one session, each enabled in order.
    function _enableSessions(address account, Session[] calldata sessions)
        internal
        returns (PermissionId[] memory permissionIds)
    {
        uint256 n = sessions.length;
        if (n == 0) revert InvalidData();
        permissionIds = new PermissionId[](n);
        for (uint256 i; i < n; ++i) {
            permissionIds[i] = _enableSession(account, sessions[i]);
        }
    }

    /// @dev In order: user operation policies, ERC-1271 policies, ERC-7739 content, actions, membership, paymaster
    ///      flag, then the session validator if the permission has none yet.
    function _enableSession(address account, Session calldata session) internal returns (PermissionId permissionId) {
        permissionId = IdLib.permissionId(session);
        _enablePolicies(
            account,
            permissionId,
            PolicyType.USER_OP,
            SessionStorage.userOpPolicies(permissionId),
            IdLib.userOpConfigId(account, permissionId),
            session.userOpPolicies
        );
        _enablePolicies(
            account,
            permissionId,
            PolicyType.ERC1271,
            SessionStorage.erc1271Policies(permissionId),
            IdLib.erc1271ConfigId(account, permissionId),
            session.erc7739Policies.erc1271Policies
        );
        _enableERC7739Content(account, permissionId, session.erc7739Policies.allowedERC7739Content);
        _enableActions(account, permissionId, session.actions);
        AssociatedSet.add(account, SessionStorage.SESSIONS, PermissionId.unwrap(permissionId));
        _setPermit4337Paymaster(account, permissionId, session.permitERC4337Paymaster);
        if (_header(account, permissionId) & SessionStorage.VALIDATOR_MASK == 0) {
            _enableSessionValidator(account, permissionId, session.sessionValidator, session.sessionValidatorInitData);
        }
        emit SessionCreated(permissionId, account);
    }

    /// @dev Per entry: ERC-165 check for the slot's interface, add to the set (no-op if present), (re)initialise
    ///      the policy's config, emit PolicyEnabled.
    function _enablePolicies(
        address account,
        PermissionId permissionId,
        PolicyType policyType,
        bytes32 setId,
        ConfigId configId,
        PolicyData[] calldata policies
    ) internal {
        bytes4 interfaceId = policyType == PolicyType.USER_OP
            ? type(IUserOpPolicy).interfaceId
            : policyType == PolicyType.ACTION ? type(IActionPolicy).interfaceId : type(I1271Policy).interfaceId;
        uint256 n = policies.length;
        for (uint256 i; i < n; ++i) {
            address policy = policies[i].policy;
            if (!ERC165Checker.supportsInterface(policy, interfaceId)) revert UnsupportedPolicy(policy);
            AssociatedSet.add(account, setId, bytes32(uint256(uint160(policy))));
            IPolicy(policy).initializeWithMultiplexer(account, configId, policies[i].initData);
            emit PolicyEnabled(permissionId, policyType, policy, account);
        }
    }

    /// @dev Per action: validate its id, enable its policies, then record the action id.
    function _enableActions(address account, PermissionId permissionId, ActionData[] calldata actions) internal {
        if (PermissionId.unwrap(permissionId) == bytes32(0)) revert InvalidPermissionId(permissionId);
        bytes32 actionIds = SessionStorage.actionIds(permissionId);
        uint256 n = actions.length;
        for (uint256 i; i < n; ++i) {
            ActionData calldata action = actions[i];
            address target = action.actionTarget;
            ActionId actionId = IdLib.actionId(target, action.actionTargetSelector);
            if (target == address(0) || target == address(this) || ActionId.unwrap(actionId) == bytes32(0)) {
                revert InvalidActionId();
            }
            _enablePolicies(
                account,
                permissionId,
                PolicyType.ACTION,
                SessionStorage.actionPolicies(permissionId, actionId),
                IdLib.actionConfigId(account, permissionId, actionId),
                action.actionPolicies
            );
            AssociatedSet.add(account, actionIds, ActionId.unwrap(actionId));
        }
    }

    /// @dev Allows each content name (by hash) under its app domain separator; a context without names is skipped.
    function _enableERC7739Content(address account, PermissionId permissionId, ERC7739Context[] calldata contexts)
        internal
    {
        bytes32 domains = SessionStorage.erc7739Domains(permissionId);
        uint256 n = contexts.length;
        for (uint256 i; i < n; ++i) {
            string[] calldata names = contexts[i].contentNames;
            uint256 m = names.length;
            if (m == 0) continue;
            bytes32 appDomainSeparator = contexts[i].appDomainSeparator;
            AssociatedSet.add(account, domains, appDomainSeparator);
            bytes32 contents = SessionStorage.erc7739Contents(permissionId, appDomainSeparator);
            for (uint256 j; j < m; ++j) {
                AssociatedSet.add(account, contents, keccak256(bytes(names[j])));
            }
        }
    }

    /// @dev Requires a stateless validator (module type 7), then stores the config words and records the validator
    ///      and the config length in the header.
    function _enableSessionValidator(
        address account,
        PermissionId permissionId,
        address sessionValidator,
        bytes calldata config
    ) internal {
        if (
            sessionValidator == address(0)
                || !ISessionValidator(sessionValidator).isModuleType(MODULE_TYPE_STATELESS_VALIDATOR)
        ) revert InvalidISessionValidator(sessionValidator);

        uint256 slot = SessionStorage.configSlot(account, permissionId);
        assembly ("memory-safe") {
            for { let i := 0 } lt(i, config.length) { i := add(i, 0x20) } {
                let word := calldataload(add(config.offset, i))
                // Keep storage clean past the end of the config.
                if gt(add(i, 0x20), config.length) {
                    word := and(word, not(shr(shl(3, sub(config.length, i)), not(0))))
                }
                sstore(add(slot, shr(5, i)), word)
            }
        }
        _setHeader(
            account,
            permissionId,
            _header(account, permissionId) | uint160(sessionValidator)
                | (config.length << SessionStorage.CONFIG_LENGTH_SHIFT)
        );
        emit SessionValidatorEnabled(permissionId, sessionValidator, account);
    }

    /// @dev Sets or clears the paymaster flag in the header and announces it.
    function _setPermit4337Paymaster(address account, PermissionId permissionId, bool enabled) internal {
        uint256 header = _header(account, permissionId);
        _setHeader(
            account,
            permissionId,
            enabled ? header | SessionStorage.PAYMASTER_FLAG : header & ~SessionStorage.PAYMASTER_FLAG
        );
        emit PermissionIdPermit4337Paymaster(permissionId, account, enabled);
    }

    /// @dev Clears every set and field of the permission (see removeSession), emitting SessionValidatorDisabled
    ///      (with the previous validator, zero if there was none) and SessionRemoved.
    function _removeSession(address account, PermissionId permissionId) internal {
        AssociatedSet.removeAll(account, SessionStorage.userOpPolicies(permissionId));
        AssociatedSet.removeAll(account, SessionStorage.erc1271Policies(permissionId));

        bytes32 actionIds = SessionStorage.actionIds(permissionId);
        (uint256 root, uint256 count) = AssociatedSet.load(account, actionIds);
        for (uint256 i; i < count; ++i) {
            AssociatedSet.removeAll(
                account, SessionStorage.actionPolicies(permissionId, ActionId.wrap(AssociatedSet.get(root, i)))
            );
        }
        AssociatedSet.removeAll(account, actionIds);

        uint256 header = _header(account, permissionId);
        uint256 slot = SessionStorage.configSlot(account, permissionId);
        uint256 words = (_configLength(header) + 31) >> 5;
        for (uint256 i; i < words; ++i) {
            assembly ("memory-safe") {
                sstore(add(slot, i), 0)
            }
        }
        emit SessionValidatorDisabled(permissionId, address(uint160(header)), account);

        bytes32 domains = SessionStorage.erc7739Domains(permissionId);
        (root, count) = AssociatedSet.load(account, domains);
        for (uint256 i; i < count; ++i) {
            AssociatedSet.removeAll(account, SessionStorage.erc7739Contents(permissionId, AssociatedSet.get(root, i)));
        }
        AssociatedSet.removeAll(account, domains);

        // Removing the permission id from the set clears its whole header: validator, config length and flag.
        AssociatedSet.remove(account, SessionStorage.SESSIONS, PermissionId.unwrap(permissionId));
        emit SessionRemoved(permissionId, account);
    }

    /*//////////////////////////////////////////////////////////////////////////
                                    VIEWS
    //////////////////////////////////////////////////////////////////////////*/

    /// @notice The module is installed for `account` while it has at least one session.
    function isInitialized(address account) external view returns (bool) {
        return AssociatedSet.length(account, SessionStorage.SESSIONS) != 0;
    }

    /// @notice SmartSession is a validator (module type 1) only.
    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR;
    }

    /// @inheritdoc ISmartSession
    function isPermissionEnabled(PermissionId permissionId, address account) public view returns (bool) {
        return _header(account, permissionId) >> SessionStorage.POSITION_SHIFT != 0;
    }

    /// @inheritdoc ISmartSession
    function getPermissionId(Session calldata session) external pure returns (PermissionId) {
        return IdLib.permissionId(session);
    }

    /// @inheritdoc ISmartSession
    function getPermissionIDs(address account) external view returns (PermissionId[] memory permissionIds) {
        bytes32[] memory values = AssociatedSet.values(account, SessionStorage.SESSIONS);
        assembly ("memory-safe") {
            permissionIds := values
        }
    }

    /// @inheritdoc ISmartSession
    function getUserOpPolicies(address account, PermissionId permissionId) external view returns (address[] memory) {
        return _addresses(AssociatedSet.values(account, SessionStorage.userOpPolicies(permissionId)));
    }

    /// @inheritdoc ISmartSession
    function getActionPolicies(address account, PermissionId permissionId, ActionId actionId)
        external
        view
        returns (address[] memory)
    {
        return _addresses(AssociatedSet.values(account, SessionStorage.actionPolicies(permissionId, actionId)));
    }

    /// @inheritdoc ISmartSession
    function getEnabledActions(address account, PermissionId permissionId)
        external
        view
        returns (ActionId[] memory actionIds)
    {
        bytes32[] memory values = AssociatedSet.values(account, SessionStorage.actionIds(permissionId));
        assembly ("memory-safe") {
            actionIds := values
        }
    }

    /// @inheritdoc ISmartSession
    function getSessionValidatorAndConfig(address account, PermissionId permissionId)
        external
        view
        returns (address sessionValidator, bytes memory sessionValidatorData)
    {
        uint256 header = _header(account, permissionId);
        return (address(uint160(header)), _loadConfig(account, permissionId, header));
    }

    /// @inheritdoc ISmartSession
    /// @dev Only ENABLE mode and `revokeEnableSignature` will change it; neither is part of this version.
    function getNonce(PermissionId permissionId, address account) external view returns (uint256 nonce) {
        uint256 slot = SessionStorage.nonceSlot(account, permissionId);
        assembly ("memory-safe") {
            nonce := sload(slot)
        }
    }

    /*//////////////////////////////////////////////////////////////////////////
                                   STORAGE
    //////////////////////////////////////////////////////////////////////////*/

    /// @dev The header word of a permission (layout in SessionStorage).
    function _header(address account, PermissionId permissionId) internal view returns (uint256 header) {
        uint256 slot = SessionStorage.headerSlot(account, permissionId);
        assembly ("memory-safe") {
            header := sload(slot)
        }
    }

    /// @dev Overwrites the header word of a permission.
    function _setHeader(address account, PermissionId permissionId, uint256 header) internal {
        uint256 slot = SessionStorage.headerSlot(account, permissionId);
        assembly ("memory-safe") {
            sstore(slot, header)
        }
    }

    /// @dev Length in bytes of the session validator config recorded in a header.
    function _configLength(uint256 header) internal pure returns (uint256) {
        return (header >> SessionStorage.CONFIG_LENGTH_SHIFT) & SessionStorage.CONFIG_LENGTH_MASK;
    }

    /// @dev Copies the session validator config of a permission (length taken from its header) to memory.
    function _loadConfig(address account, PermissionId permissionId, uint256 header)
        internal
        view
        returns (bytes memory config)
    {
        uint256 slot = SessionStorage.configSlot(account, permissionId);
        uint256 length = _configLength(header);
        config = new bytes(length);
        uint256 words = (length + 31) >> 5;
        for (uint256 i; i < words; ++i) {
            assembly ("memory-safe") {
                mstore(add(add(config, 0x20), shl(5, i)), sload(add(slot, i)))
            }
        }
    }

    /// @dev Reinterprets set members holding addresses (left-padded words) as an address array.
    function _addresses(bytes32[] memory values) internal pure returns (address[] memory addresses) {
        assembly ("memory-safe") {
            addresses := values
        }
    }
}
