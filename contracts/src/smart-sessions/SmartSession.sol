// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC165Checker} from "@openzeppelin/contracts/utils/introspection/ERC165Checker.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {LibZip} from "solady/utils/LibZip.sol";
import {ISmartSession} from "./interfaces/ISmartSession.sol";
import {ISessionValidator} from "./interfaces/ISessionValidator.sol";
import {IPolicy, IUserOpPolicy, IActionPolicy, I1271Policy} from "./interfaces/IPolicy.sol";
import {AssociatedSet} from "./lib/AssociatedSet.sol";
import {ExecutionLib} from "./lib/ExecutionLib.sol";
import {HashLib} from "./lib/HashLib.sol";
import {IdLib} from "./lib/IdLib.sol";
import {SessionStorage} from "./lib/SessionStorage.sol";
import {ValidationDataLib} from "./lib/ValidationDataLib.sol";
import {
    ActionData,
    ActionId,
    ChainDigest,
    ConfigId,
    EnableSession,
    ERC7739Context,
    ERC7739ContextHashes,
    ERC7739Data,
    PackedUserOperation,
    PermissionId,
    PolicyData,
    PolicyType,
    Session,
    SmartSessionMode,
    EIP1271_FAILED,
    EIP1271_SUCCESS,
    ERC6492_MAGIC_SUFFIX,
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
/// @dev The user operation signature is `mode (1) ‖ ...`: USE is `0x00 ‖ permissionId (32) ‖ sessionSig`; ENABLE and
///      UNSAFE_ENABLE are `mode ‖ flzCompress(abi.encode(EnableSession, bytes sessionSig))` (spec §3.1).
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
        if (mode == SmartSessionMode.USE) {
            return _enforce(account, PermissionId.wrap(bytes32(signature[1:33])), userOp, userOpHash, signature[33:]);
        }
        // ENABLE / UNSAFE_ENABLE: enable the session the account signed, then use it. A stream that does not
        // decompress to the expected ABI encoding reverts with empty data.
        (EnableSession memory enableData, bytes memory sessionSig) =
            abi.decode(LibZip.flzDecompress(signature[1:]), (EnableSession, bytes));
        PermissionId permissionId = IdLib.permissionId(enableData.sessionToEnable);
        _enableInUserOp(account, permissionId, enableData, mode);
        return _enforce(account, permissionId, userOp, userOpHash, sessionSig);
    }

    /// @dev ENABLE / UNSAFE_ENABLE (spec §6.3): consumes the nonce, checks this chain's digest entry and the
    ///      account's ERC-1271 signature over the multichain digest, then enables the session (user operation
    ///      policies, ERC-7739 content, ERC-1271 policies, actions, paymaster flag, session validator, membership).
    function _enableInUserOp(
        address account,
        PermissionId permissionId,
        EnableSession memory enableData,
        SmartSessionMode mode
    ) internal {
        uint256 nonceSlot = SessionStorage.nonceSlot(account, permissionId);
        uint256 nonce;
        assembly ("memory-safe") {
            nonce := sload(nonceSlot)
            sstore(nonceSlot, add(nonce, 1))
        }
        Session memory session = enableData.sessionToEnable;
        bytes32 computed = HashLib.sessionDigest(session, account, mode, nonce);
        ChainDigest memory entry = enableData.hashesAndChainIds[enableData.chainDigestIndex];
        if (entry.chainId != block.chainid) revert ChainIdMismatch(entry.chainId);
        if (entry.sessionDigest != computed) revert HashMismatch(entry.sessionDigest, computed);

        bytes32 digest = HashLib.multichainDigest(enableData.hashesAndChainIds);
        if (IERC1271(account).isValidSignature(digest, enableData.permissionEnableSig) != EIP1271_SUCCESS) {
            revert InvalidEnableSignature(account, digest);
        }

        _enablePolicies(
            account,
            permissionId,
            PolicyType.USER_OP,
            SessionStorage.userOpPolicies(permissionId),
            IdLib.userOpConfigId(account, permissionId),
            session.userOpPolicies
        );
        _enableERC7739Content(account, permissionId, session.erc7739Policies.allowedERC7739Content);
        _enablePolicies(
            account,
            permissionId,
            PolicyType.ERC1271,
            SessionStorage.erc1271Policies(permissionId),
            IdLib.erc1271ConfigId(account, permissionId),
            session.erc7739Policies.erc1271Policies
        );
        _enableActions(account, permissionId, session.actions);
        _setPermit4337Paymaster(account, permissionId, session.permitERC4337Paymaster);
        if (_header(account, permissionId) & SessionStorage.VALIDATOR_MASK == 0) {
            _enableSessionValidator(account, permissionId, session.sessionValidator, session.sessionValidatorInitData);
        }
        AssociatedSet.add(account, SessionStorage.SESSIONS, PermissionId.unwrap(permissionId));
    }

    /// @notice ERC-1271 for session keys, forwarded by the account (`msg.sender`), ERC-7739 TypedDataSign only.
    /// @dev `signature` (optionally ERC-6492 wrapped) is `permissionId ‖ sessionSig ‖ appDomainSeparator ‖
    ///      contents ‖ contentsDescription ‖ uint16(contentsDescription.length)`. The session key signs the nested
    ///      hash `keccak256(0x1901 ‖ appDomainSeparator ‖ hashStruct(TypedDataSign{contents, account domain}))`.
    ///      As upstream, the `hash` argument is not compared with that hash (spec §8): the session key's
    ///      signature over an allowed (appDomainSeparator, contents) pair is what is checked.
    function isValidSignatureWithSender(address sender, bytes32 hash, bytes calldata signature)
        external
        view
        returns (bytes4)
    {
        if (hash == ERC7739_DETECTION_HASH) return ERC7739_SUPPORTED;
        // A session may not authorise another session's signature through SmartSession.
        if (sender == address(this)) return EIP1271_FAILED;
        return _isValidNestedSignature(sender, _unwrapERC6492(signature)) ? EIP1271_SUCCESS : EIP1271_FAILED;
    }

    /// @dev The inner signature of an ERC-6492 wrapper `abi.encode(factory, factoryCalldata, innerSig) ‖ magic`.
    function _unwrapERC6492(bytes calldata signature) internal pure returns (bytes calldata inner) {
        inner = signature;
        uint256 n = signature.length;
        if (n >= 32 && bytes32(signature[n - 32:]) == ERC6492_MAGIC_SUFFIX) {
            assembly ("memory-safe") {
                let o := add(signature.offset, calldataload(add(signature.offset, 0x40)))
                inner.length := calldataload(o)
                inner.offset := add(o, 0x20)
            }
        }
    }

    /// @dev Rebuilds the nested TypedDataSign hash under the account's EIP-712 domain, then: permission enabled and
    ///      content allowed (else false), every ERC-1271 policy (at least one, else NoPoliciesSet), the session
    ///      validator (SignerNotFound if none).
    function _isValidNestedSignature(address sender, bytes calldata signature) internal view returns (bool) {
        bytes memory accountDomain = _accountDomainWords();
        uint256 length = signature.length;
        uint256 descriptionLength = uint16(bytes2(signature[length - 2:]));
        uint256 start = length - (0x42 + descriptionLength);
        bytes32 appDomainSeparator = bytes32(signature[start:start + 0x20]);
        bytes calldata description = signature[start + 0x40:start + 0x40 + descriptionLength];
        bytes32 finalHash =
            _typedDataSignHash(appDomainSeparator, bytes32(signature[start + 0x20:start + 0x40]), description, accountDomain);
        return _isValidSessionSigner(sender, signature[:start], appDomainSeparator, keccak256(description), finalHash);
    }

    /// @dev `signature` = permissionId ‖ sessionSig: the permission must be enabled and the content allowed (else
    ///      false), then every ERC-1271 policy must pass and the session validator must accept `hash`.
    function _isValidSessionSigner(
        address sender,
        bytes calldata signature,
        bytes32 appDomainSeparator,
        bytes32 contentHash,
        bytes32 hash
    ) internal view returns (bool) {
        PermissionId permissionId = PermissionId.wrap(bytes32(signature[:32]));
        bytes calldata sessionSig = signature[32:];
        if (
            !isPermissionEnabled(permissionId, msg.sender)
                || !AssociatedSet.contains(
                    msg.sender, SessionStorage.erc7739Contents(permissionId, appDomainSeparator), contentHash
                )
        ) return false;
        return _check1271Policies(sender, permissionId, hash, sessionSig)
            && _isValidSessionSignature(msg.sender, permissionId, hash, sessionSig);
    }

    /// @dev STATICCALLs every ERC-1271 policy in storage order (their reverts bubble up); at least one is required.
    function _check1271Policies(address sender, PermissionId permissionId, bytes32 hash, bytes calldata sessionSig)
        internal
        view
        returns (bool)
    {
        (uint256 root, uint256 count) = AssociatedSet.load(msg.sender, SessionStorage.erc1271Policies(permissionId));
        if (count == 0) revert NoPoliciesSet(permissionId);
        ConfigId configId = IdLib.erc1271ConfigId(msg.sender, permissionId);
        for (uint256 i; i < count; ++i) {
            address policy = address(uint160(uint256(AssociatedSet.get(root, i))));
            if (!I1271Policy(policy).check1271SignedAction(configId, sender, msg.sender, hash, sessionSig)) {
                return false;
            }
        }
        return true;
    }

    /// @dev The account's EIP-712 domain as the five TypedDataSign words: keccak256(name), keccak256(version),
    ///      chainId, verifyingContract, salt.
    function _accountDomainWords() internal view returns (bytes memory) {
        (, string memory name, string memory version, uint256 chainId, address verifyingContract, bytes32 salt,) =
            IERC5267(msg.sender).eip712Domain();
        return abi.encode(keccak256(bytes(name)), keccak256(bytes(version)), chainId, verifyingContract, salt);
    }

    /// @dev keccak256(0x1901 ‖ appDomainSeparator ‖ hashStruct(TypedDataSign)); an invalid contents name yields a
    ///      hash no one signs for (one extra zero byte is hashed).
    function _typedDataSignHash(
        bytes32 appDomainSeparator,
        bytes32 contents,
        bytes calldata description,
        bytes memory accountDomain
    ) internal pure returns (bytes32) {
        (bytes calldata contentsType, bytes calldata contentsName, bool invalidName) =
            _splitContentsDescription(description);
        bytes32 typeHash = keccak256(
            abi.encodePacked(
                "TypedDataSign(",
                contentsName,
                " contents,string name,string version,uint256 chainId,address verifyingContract,bytes32 salt)",
                contentsType
            )
        );
        bytes32 structHash = keccak256(abi.encodePacked(typeHash, contents, accountDomain));
        return invalidName
            ? keccak256(abi.encodePacked(hex"1901", appDomainSeparator, structHash, hex"00"))
            : keccak256(abi.encodePacked(hex"1901", appDomainSeparator, structHash));
    }

    /// @dev ERC-7739 contents description: implicit mode `contentsType` (ends with ')', the name is what precedes
    ///      its first '('), or explicit mode `contentsType ‖ contentsName` (the name follows the last ')'). The
    ///      name ends at its first '('; it is invalid if empty, starting with a-z, or holding NUL, ' ', ',' or ')'.
    function _splitContentsDescription(bytes calldata description)
        internal
        pure
        returns (bytes calldata contentsType, bytes calldata contentsName, bool invalid)
    {
        uint256 n = description.length;
        contentsType = description;
        contentsName = description;
        if (description[n - 1] != ")") {
            uint256 e = n;
            for (uint256 i = n; i != 0; --i) {
                if (description[i - 1] == ")") {
                    e = n - i;
                    break;
                }
            }
            contentsType = description[:n - e];
            contentsName = description[n - e:];
        }
        uint256 m = contentsName.length;
        for (uint256 i; i < m; ++i) {
            if (contentsName[i] == "(") {
                m = i;
                break;
            }
        }
        contentsName = contentsName[:m];
        invalid = m == 0 || (contentsName[0] >= "a" && contentsName[0] <= "z");
        for (uint256 i; i < m && !invalid; ++i) {
            bytes1 b = contentsName[i];
            invalid = b == 0x00 || b == " " || b == "," || b == ")";
        }
    }

    /// @dev Checks, in order: permission enabled, paymaster opt-in, user operation policies, the calls made by
    ///      `callData`, then the session validator. Policy side effects persist even when the signature is wrong.
    function _enforce(
        address account,
        PermissionId permissionId,
        PackedUserOperation calldata userOp,
        bytes32 userOpHash,
        bytes memory sessionSig
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
        bytes memory signature
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

    /// @notice Consumes the current enable-signature nonce of `permissionId`: an ENABLE signature over it no longer
    ///         verifies.
    function revokeEnableSignature(PermissionId permissionId) external {
        uint256 slot = SessionStorage.nonceSlot(msg.sender, permissionId);
        uint256 nonce;
        assembly ("memory-safe") {
            nonce := add(sload(slot), 1)
            sstore(slot, nonce)
        }
        emit NonceIterated(permissionId, msg.sender, nonce);
    }

    /// @notice Adds (or re-initialises) user operation policies of an enabled permission.
    function enableUserOpPolicies(PermissionId permissionId, PolicyData[] calldata policies) external {
        _requireEnabled(permissionId);
        _enablePolicies(
            msg.sender,
            permissionId,
            PolicyType.USER_OP,
            SessionStorage.userOpPolicies(permissionId),
            IdLib.userOpConfigId(msg.sender, permissionId),
            policies
        );
        _requireEnabled(permissionId);
    }

    /// @notice Removes user operation policies of an enabled permission (absent ones are skipped silently).
    function disableUserOpPolicies(PermissionId permissionId, address[] calldata policies) external {
        _requireEnabled(permissionId);
        _disablePolicies(permissionId, PolicyType.USER_OP, SessionStorage.userOpPolicies(permissionId), policies);
    }

    /// @notice Allows more ERC-7739 content and adds (or re-initialises) ERC-1271 policies of an enabled permission.
    function enableERC1271Policies(PermissionId permissionId, ERC7739Data calldata erc1271Policies) external {
        _requireEnabled(permissionId);
        _enableERC7739Content(msg.sender, permissionId, erc1271Policies.allowedERC7739Content);
        _enablePolicies(
            msg.sender,
            permissionId,
            PolicyType.ERC1271,
            SessionStorage.erc1271Policies(permissionId),
            IdLib.erc1271ConfigId(msg.sender, permissionId),
            erc1271Policies.erc1271Policies
        );
        _requireEnabled(permissionId);
    }

    /// @notice Forbids the listed ERC-7739 content (a separator goes when none of its content is left), then
    ///         removes ERC-1271 policies of an enabled permission.
    function disableERC1271Policies(
        PermissionId permissionId,
        address[] calldata policies,
        ERC7739Context[] calldata contexts
    ) external {
        _requireEnabled(permissionId);
        bytes32 domains = SessionStorage.erc7739Domains(permissionId);
        for (uint256 i; i < contexts.length; ++i) {
            bytes32 appDomainSeparator = contexts[i].appDomainSeparator;
            bytes32 contents = SessionStorage.erc7739Contents(permissionId, appDomainSeparator);
            string[] calldata names = contexts[i].contentNames;
            for (uint256 j; j < names.length; ++j) {
                AssociatedSet.remove(msg.sender, contents, keccak256(bytes(names[j])));
            }
            if (AssociatedSet.length(msg.sender, contents) == 0) {
                AssociatedSet.remove(msg.sender, domains, appDomainSeparator);
            }
        }
        _disablePolicies(permissionId, PolicyType.ERC1271, SessionStorage.erc1271Policies(permissionId), policies);
    }

    /// @notice Adds actions, or policies to existing actions, of an enabled permission.
    function enableActionPolicies(PermissionId permissionId, ActionData[] calldata actions) external {
        _requireEnabled(permissionId);
        _enableActions(msg.sender, permissionId, actions);
        _requireEnabled(permissionId);
    }

    /// @notice Removes policies of one action; the action goes when it has no policy left.
    function disableActionPolicies(PermissionId permissionId, ActionId actionId, address[] calldata policies)
        external
    {
        _requireEnabled(permissionId);
        bytes32 setId = SessionStorage.actionPolicies(permissionId, actionId);
        _disablePolicies(permissionId, PolicyType.ACTION, setId, policies);
        if (AssociatedSet.length(msg.sender, setId) == 0) _removeActionId(permissionId, actionId);
    }

    /// @notice Removes one action and all its policies.
    function disableActionId(PermissionId permissionId, ActionId actionId) external {
        _requireEnabled(permissionId);
        AssociatedSet.removeAll(msg.sender, SessionStorage.actionPolicies(permissionId, actionId));
        _removeActionId(permissionId, actionId);
    }

    function _requireEnabled(PermissionId permissionId) internal view {
        if (!isPermissionEnabled(permissionId, msg.sender)) revert InvalidPermissionId(permissionId);
    }

    function _removeActionId(PermissionId permissionId, ActionId actionId) internal {
        AssociatedSet.remove(msg.sender, SessionStorage.actionIds(permissionId), ActionId.unwrap(actionId));
        emit ActionIdDisabled(permissionId, actionId, msg.sender);
    }

    /// @dev Removes each listed policy of the set, announcing those that were present.
    function _disablePolicies(
        PermissionId permissionId,
        PolicyType policyType,
        bytes32 setId,
        address[] calldata policies
    ) internal {
        for (uint256 i; i < policies.length; ++i) {
            if (AssociatedSet.remove(msg.sender, setId, bytes32(uint256(uint160(policies[i]))))) {
                emit PolicyDisabled(permissionId, policyType, policies[i], msg.sender);
            }
        }
    }

    /// @notice Installs the module; `data` is empty, or `mode (1 byte: ENABLE or UNSAFE_ENABLE) ‖
    ///         abi.encode(Session[])` to enable sessions right away.
    function onInstall(bytes calldata data) external {
        if (AssociatedSet.length(msg.sender, SessionStorage.SESSIONS) != 0) {
            revert SmartSessionModuleAlreadyInstalled(msg.sender);
        }
        if (data.length == 0) return;
        SmartSessionMode mode = SmartSessionMode(uint8(bytes1(data[:1])));
        if (mode == SmartSessionMode.USE) revert InvalidMode();
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
    function _enableSession(address account, Session memory session) internal returns (PermissionId permissionId) {
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
        PolicyData[] memory policies
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
    function _enableActions(address account, PermissionId permissionId, ActionData[] memory actions) internal {
        if (PermissionId.unwrap(permissionId) == bytes32(0)) revert InvalidPermissionId(permissionId);
        bytes32 actionIds = SessionStorage.actionIds(permissionId);
        uint256 n = actions.length;
        for (uint256 i; i < n; ++i) {
            ActionData memory action = actions[i];
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
    function _enableERC7739Content(address account, PermissionId permissionId, ERC7739Context[] memory contexts)
        internal
    {
        bytes32 domains = SessionStorage.erc7739Domains(permissionId);
        uint256 n = contexts.length;
        for (uint256 i; i < n; ++i) {
            string[] memory names = contexts[i].contentNames;
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
        bytes memory config
    ) internal {
        if (
            sessionValidator == address(0)
                || !ISessionValidator(sessionValidator).isModuleType(MODULE_TYPE_STATELESS_VALIDATOR)
        ) revert InvalidISessionValidator(sessionValidator);

        uint256 slot = SessionStorage.configSlot(account, permissionId);
        uint256 length = config.length;
        assembly ("memory-safe") {
            for { let i := 0 } lt(i, length) { i := add(i, 0x20) } {
                let word := mload(add(add(config, 0x20), i))
                // Keep storage clean past the end of the config.
                if gt(add(i, 0x20), length) { word := and(word, not(shr(shl(3, sub(length, i)), not(0)))) }
                sstore(add(slot, shr(5, i)), word)
            }
        }
        _setHeader(
            account,
            permissionId,
            _header(account, permissionId) | uint160(sessionValidator) | (length << SessionStorage.CONFIG_LENGTH_SHIFT)
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
    /// @dev Only ENABLE mode (post-increment) and `revokeEnableSignature` change it; it is never reset.
    function getNonce(PermissionId permissionId, address account) external view returns (uint256 nonce) {
        uint256 slot = SessionStorage.nonceSlot(account, permissionId);
        assembly ("memory-safe") {
            nonce := sload(slot)
        }
    }

    /// @notice The session digest (EIP-712 struct hash of SignedSession) of `session` for `account` in `mode`, with
    ///         the current enable-signature nonce of `permissionId` (only used to look the nonce up).
    function getSessionDigest(
        PermissionId permissionId,
        address account,
        Session memory session,
        SmartSessionMode mode
    ) external view returns (bytes32) {
        uint256 slot = SessionStorage.nonceSlot(account, permissionId);
        uint256 nonce;
        assembly ("memory-safe") {
            nonce := sload(slot)
        }
        return HashLib.sessionDigest(session, account, mode, nonce);
    }

    /// @notice Whether a session validator is stored for the permission.
    function isISessionValidatorSet(PermissionId permissionId, address account) external view returns (bool) {
        return _header(account, permissionId) & SessionStorage.VALIDATOR_MASK != 0;
    }

    /// @notice The ERC-1271 policies of a permission, in storage order.
    function getERC1271Policies(address account, PermissionId permissionId) external view returns (address[] memory) {
        return _addresses(AssociatedSet.values(account, SessionStorage.erc1271Policies(permissionId)));
    }

    /// @notice The allowed ERC-7739 content of a permission: each app domain separator with its content-name hashes.
    function getEnabledERC7739Content(address account, PermissionId permissionId)
        external
        view
        returns (ERC7739ContextHashes[] memory contexts)
    {
        bytes32[] memory domains = AssociatedSet.values(account, SessionStorage.erc7739Domains(permissionId));
        contexts = new ERC7739ContextHashes[](domains.length);
        for (uint256 i; i < domains.length; ++i) {
            contexts[i].appDomainSeparator = domains[i];
            contexts[i].contentNameHashes =
                AssociatedSet.values(account, SessionStorage.erc7739Contents(permissionId, domains[i]));
        }
    }

    /// @notice Whether every listed policy is a user operation policy of the permission (true for none).
    function areUserOpPoliciesEnabled(address account, PermissionId permissionId, PolicyData[] calldata policies)
        external
        view
        returns (bool)
    {
        return _allIn(account, SessionStorage.userOpPolicies(permissionId), policies);
    }

    /// @notice Whether every listed policy is an ERC-1271 policy of the permission (true for none).
    function areERC1271PoliciesEnabled(address account, PermissionId permissionId, PolicyData[] calldata policies)
        external
        view
        returns (bool)
    {
        return _allIn(account, SessionStorage.erc1271Policies(permissionId), policies);
    }

    /// @notice Whether every listed action has all its listed policies (true for none).
    function areActionsEnabled(address account, PermissionId permissionId, ActionData[] calldata actions)
        external
        view
        returns (bool)
    {
        for (uint256 i; i < actions.length; ++i) {
            ActionId actionId = IdLib.actionId(actions[i].actionTarget, actions[i].actionTargetSelector);
            if (!_allIn(account, SessionStorage.actionPolicies(permissionId, actionId), actions[i].actionPolicies)) {
                return false;
            }
        }
        return true;
    }

    /// @notice Whether `policy` is a user operation policy of the permission.
    function isUserOpPolicyEnabled(address account, PermissionId permissionId, address policy)
        external
        view
        returns (bool)
    {
        return AssociatedSet.contains(account, SessionStorage.userOpPolicies(permissionId), _word(policy));
    }

    /// @notice Whether `policy` is an ERC-1271 policy of the permission.
    function isERC1271PolicyEnabled(address account, PermissionId permissionId, address policy)
        external
        view
        returns (bool)
    {
        return AssociatedSet.contains(account, SessionStorage.erc1271Policies(permissionId), _word(policy));
    }

    /// @notice Whether `policy` is a policy of one action of the permission.
    function isActionPolicyEnabled(address account, PermissionId permissionId, ActionId actionId, address policy)
        external
        view
        returns (bool)
    {
        return AssociatedSet.contains(account, SessionStorage.actionPolicies(permissionId, actionId), _word(policy));
    }

    /// @notice Whether the action is enabled for the permission.
    function isActionIdEnabled(address account, PermissionId permissionId, ActionId actionId)
        external
        view
        returns (bool)
    {
        return AssociatedSet.contains(account, SessionStorage.actionIds(permissionId), ActionId.unwrap(actionId));
    }

    /// @notice Whether the content name is allowed under the app domain separator.
    function isERC7739ContentEnabled(
        address account,
        PermissionId permissionId,
        bytes32 appDomainSeparator,
        string calldata content
    ) external view returns (bool) {
        return AssociatedSet.contains(
            account, SessionStorage.erc7739Contents(permissionId, appDomainSeparator), keccak256(bytes(content))
        );
    }

    function _allIn(address account, bytes32 setId, PolicyData[] calldata policies) internal view returns (bool) {
        for (uint256 i; i < policies.length; ++i) {
            if (!AssociatedSet.contains(account, setId, _word(policies[i].policy))) return false;
        }
        return true;
    }

    function _word(address a) internal pure returns (bytes32) {
        return bytes32(uint256(uint160(a)));
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
