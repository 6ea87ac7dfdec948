// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Re-exported: the ERC-4337 v0.7 user operation is the one from the EntryPoint package.
import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";

/*//////////////////////////////////////////////////////////////////////////
                               IDENTIFIERS
//////////////////////////////////////////////////////////////////////////*/

/// @dev keccak256(abi.encode(sessionValidator, sessionValidatorInitData, salt)).
type PermissionId is bytes32;

/// @dev keccak256(abi.encodePacked(target, selector)).
type ActionId is bytes32;

/// @dev Key under which a policy stores its per-(permission, slot, account) configuration.
type ConfigId is bytes32;

/*//////////////////////////////////////////////////////////////////////////
                                  ENUMS
//////////////////////////////////////////////////////////////////////////*/

/// @notice First byte of `userOp.signature`.
enum SmartSessionMode {
    USE,
    ENABLE,
    UNSAFE_ENABLE
}

/// @notice Policy slot, as reported by `PolicyEnabled` / `PolicyDisabled`.
enum PolicyType {
    NA,
    USER_OP,
    ACTION,
    ERC1271
}

/*//////////////////////////////////////////////////////////////////////////
                                 STRUCTS
      (field order is ABI order and must not change: it is hashed and signed)
//////////////////////////////////////////////////////////////////////////*/

struct PolicyData {
    address policy;
    bytes initData;
}

struct ActionData {
    bytes4 actionTargetSelector;
    address actionTarget;
    PolicyData[] actionPolicies;
}

struct ERC7739Context {
    bytes32 appDomainSeparator;
    string[] contentNames;
}

struct ERC7739Data {
    ERC7739Context[] allowedERC7739Content;
    PolicyData[] erc1271Policies;
}

struct Session {
    address sessionValidator;
    bytes sessionValidatorInitData;
    bytes32 salt;
    PolicyData[] userOpPolicies;
    ERC7739Data erc7739Policies;
    ActionData[] actions;
    bool permitERC4337Paymaster;
}

/// @notice View type: an app domain separator and the hashes of the content names allowed under it.
struct ERC7739ContextHashes {
    bytes32 appDomainSeparator;
    bytes32[] contentNameHashes;
}

struct ChainDigest {
    uint64 chainId;
    bytes32 sessionDigest;
}

struct EnableSession {
    uint8 chainDigestIndex;
    ChainDigest[] hashesAndChainIds;
    Session sessionToEnable;
    bytes permissionEnableSig;
}

/*//////////////////////////////////////////////////////////////////////////
                                CONSTANTS
//////////////////////////////////////////////////////////////////////////*/

/// @dev Target of the generic fallback actions.
address constant FALLBACK_TARGET_FLAG = address(1);
/// @dev Selector of the fallback action used when no explicit action matches.
bytes4 constant FALLBACK_TARGET_SELECTOR_FLAG = 0x00000001;
/// @dev Selector of the fallback action that authorises calls into SmartSession itself.
bytes4 constant FALLBACK_TARGET_SELECTOR_FLAG_PERMITTED_TO_CALL_SMARTSESSION = 0x00000002;

/// @dev keccak256(abi.encodePacked(address(1), bytes4(0x00000001))).
ActionId constant FALLBACK_ACTIONID =
    ActionId.wrap(0xd884b6afa19f8ace90a388daca691e4e28f20cdac5aeefd46ad8bd1c074d28cf);
/// @dev keccak256(abi.encodePacked(address(1), bytes4(0x00000002))).
ActionId constant FALLBACK_ACTIONID_SMARTSESSION_CALL =
    ActionId.wrap(0x986126569d6396d837d7adeb3ca726199afaf83546f38726e6f331bb92d8e9d6);

/// @dev Pseudo-selector of executions whose calldata is shorter than four bytes.
bytes4 constant VALUE_SELECTOR = 0xffffffff;

/// @dev Upstream's internal "use the fallback action" sentinel. This implementation decides the fallback
///      from the policy count instead, so the value never appears; it is kept for evaluators that mirror upstream.
uint256 constant RETRY_WITH_FALLBACK = 0x50FFBAAD;

uint256 constant ERC4337_VALIDATION_SUCCESS = 0;
uint256 constant ERC4337_VALIDATION_FAILED = 1;

bytes4 constant EIP1271_SUCCESS = 0x1626ba7e;
bytes4 constant EIP1271_FAILED = 0xffffffff;

uint256 constant MODULE_TYPE_VALIDATOR = 1;
uint256 constant MODULE_TYPE_EXECUTOR = 2;
uint256 constant MODULE_TYPE_FALLBACK = 3;
uint256 constant MODULE_TYPE_HOOK = 4;
uint256 constant MODULE_TYPE_STATELESS_VALIDATOR = 7;

/// @dev ERC-7739 support probe: `isValidSignature(ERC7739_DETECTION_HASH, ...)` answers `ERC7739_SUPPORTED`.
bytes32 constant ERC7739_DETECTION_HASH = 0x7739773977397739773977397739773977397739773977397739773977397739;
bytes4 constant ERC7739_SUPPORTED = 0x77390001;

/// @dev Suffix marking an ERC-6492 wrapped signature.
bytes32 constant ERC6492_MAGIC_SUFFIX = 0x6492649264926492649264926492649264926492649264926492649264926492;
