// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IValidator} from "./IERC7579Module.sol";
import {ActionId, PermissionId, PolicyType, Session, SmartSessionMode} from "../DataTypes.sol";

/// @title Smart Sessions
/// @notice ERC-7579 validator that lets session keys act for an account within the limits of policies.
///         All management functions act on the state of `msg.sender` (the account).
interface ISmartSession is IValidator {
    /*//////////////////////////////////////////////////////////////////////////
                                    ERRORS
    //////////////////////////////////////////////////////////////////////////*/

    error AssociatedArray_OutOfBounds(uint256 index);
    error ChainIdMismatch(uint64 providedChainId);
    error HashIndexOutOfBounds(uint256 index);
    error HashMismatch(bytes32 providedHash, bytes32 computedHash);
    error InvalidData();
    error InvalidActionId();
    error NoExecutionsInBatch();
    error InvalidTarget();
    error InvalidEnableSignature(address account, bytes32 hash);
    error InvalidISessionValidator(address sessionValidator);
    error InvalidSelfCall();
    error InvalidSession(PermissionId permissionId);
    error InvalidSessionKeySignature(
        PermissionId permissionId, address sessionValidator, address account, bytes32 userOpHash
    );
    error SmartSessionModuleAlreadyInstalled(address account);
    error InvalidPermissionId(PermissionId permissionId);
    error InvalidCallTarget();
    error InvalidMode();
    error InvalidUserOpSender(address sender);
    error NoPoliciesSet(PermissionId permissionId);
    error PartlyEnabledActions();
    error PartlyEnabledPolicies();
    error PolicyViolation(PermissionId permissionId, address policy);
    error SignerNotFound(PermissionId permissionId, address account);
    error UnsupportedCallType(bytes1 callType);
    error UnsupportedExecutionType();
    error UnsupportedPolicy(address policy);
    error UnsupportedSmartSessionMode(SmartSessionMode mode);
    error ForbiddenValidationData();
    error PaymasterValidationNotEnabled(PermissionId permissionId);
    /// @dev Carries the first 32 bytes of the policy's revert data (zero padded).
    error PolicyCheckReverted(bytes32 revertReason);
    error DecodingError();
    error ERC7579DecodingError();
    error DataTooShort(uint256 length);

    /*//////////////////////////////////////////////////////////////////////////
                                    EVENTS
    //////////////////////////////////////////////////////////////////////////*/

    event NonceIterated(PermissionId permissionId, address account, uint256 newValue);
    event SessionValidatorEnabled(PermissionId permissionId, address sessionValidator, address smartAccount);
    event SessionValidatorDisabled(PermissionId permissionId, address sessionValidator, address smartAccount);
    event PolicyEnabled(PermissionId permissionId, PolicyType policyType, address policy, address smartAccount);
    event PolicyDisabled(PermissionId permissionId, PolicyType policyType, address policy, address smartAccount);
    event ActionIdDisabled(PermissionId permissionId, ActionId actionId, address smartAccount);
    event SessionCreated(PermissionId permissionId, address account);
    event SessionRemoved(PermissionId permissionId, address smartAccount);
    event PermissionIdPermit4337Paymaster(PermissionId permissionId, address smartAccount, bool enabled);

    /*//////////////////////////////////////////////////////////////////////////
                                  MANAGEMENT
    //////////////////////////////////////////////////////////////////////////*/

    /// @notice Enables (or extends) `sessions` for the calling account.
    /// @return permissionIds The id of each session, in input order.
    function enableSessions(Session[] calldata sessions) external returns (PermissionId[] memory permissionIds);

    /// @notice Removes everything stored for `permissionId` of the calling account, except its nonce.
    function removeSession(PermissionId permissionId) external;

    /// @notice Allows or forbids user operations of `permissionId` that use a paymaster.
    function setPermit4337Paymaster(PermissionId permissionId, bool enabled) external;

    /*//////////////////////////////////////////////////////////////////////////
                                    VIEWS
    //////////////////////////////////////////////////////////////////////////*/

    /// @notice Whether `permissionId` is enabled for `account`.
    function isPermissionEnabled(PermissionId permissionId, address account) external view returns (bool);

    /// @notice The id of `session`: keccak256(abi.encode(sessionValidator, sessionValidatorInitData, salt)).
    function getPermissionId(Session calldata session) external pure returns (PermissionId);

    /// @notice The enabled permission ids of `account`, in storage order.
    function getPermissionIDs(address account) external view returns (PermissionId[] memory);

    /// @notice The user operation policies of a permission, in storage order.
    function getUserOpPolicies(address account, PermissionId permissionId) external view returns (address[] memory);

    /// @notice The action policies of one action of a permission, in storage order.
    function getActionPolicies(address account, PermissionId permissionId, ActionId actionId)
        external
        view
        returns (address[] memory);

    /// @notice The enabled action ids of a permission, in storage order.
    function getEnabledActions(address account, PermissionId permissionId) external view returns (ActionId[] memory);

    /// @notice The session validator of a permission and the data it was enabled with.
    function getSessionValidatorAndConfig(address account, PermissionId permissionId)
        external
        view
        returns (address sessionValidator, bytes memory sessionValidatorData);

    /// @notice The enable-signature nonce of a permission.
    function getNonce(PermissionId permissionId, address account) external view returns (uint256);
}
