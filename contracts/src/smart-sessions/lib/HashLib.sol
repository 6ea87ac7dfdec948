// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {
    ActionData,
    ChainDigest,
    ERC7739Context,
    ERC7739Data,
    PolicyData,
    Session,
    SmartSessionMode,
    FALLBACK_TARGET_FLAG,
    FALLBACK_TARGET_SELECTOR_FLAG,
    FALLBACK_TARGET_SELECTOR_FLAG_PERMITTED_TO_CALL_SMARTSESSION
} from "../DataTypes.sol";

/// @title EIP-712 hashes of the ENABLE flow (spec §7)
/// @notice The account owner signs `MultiChainSession{sessionsAndChainIds: ChainSession[]}` under the domain
///         {name: "SmartSession", version: "1"} (no chain id, no verifying contract). Each ChainSession binds a
///         chain id to a SignedSession, whose struct hash is the "session digest" SmartSession recomputes.
///         Arrays hash as keccak256 of their elements' hashes concatenated; strings and bytes as their keccak256.
library HashLib {
    bytes32 internal constant POLICY_DATA_TYPEHASH = keccak256("PolicyData(address policy,bytes initData)");
    bytes32 internal constant ACTION_DATA_TYPEHASH = keccak256(
        "ActionData(bytes4 actionTargetSelector,address actionTarget,PolicyData[] actionPolicies)PolicyData(address policy,bytes initData)"
    );
    bytes32 internal constant ERC7739_CONTEXT_TYPEHASH =
        keccak256("ERC7739Context(bytes32 appDomainSeparator,string[] contentName)");
    bytes32 internal constant ERC7739_DATA_TYPEHASH = keccak256(
        "ERC7739Data(ERC7739Context[] allowedERC7739Content,PolicyData[] erc1271Policies)ERC7739Context(bytes32 appDomainSeparator,string[] contentName)PolicyData(address policy,bytes initData)"
    );
    bytes32 internal constant SIGNED_PERMISSIONS_TYPEHASH = keccak256(
        "SignedPermissions(bool permitGenericPolicy,bool permitAdminAccess,bool ignoreSecurityAttestations,bool permitERC4337Paymaster,PolicyData[] userOpPolicies,ERC7739Data erc7739Policies,ActionData[] actions)ActionData(bytes4 actionTargetSelector,address actionTarget,PolicyData[] actionPolicies)ERC7739Context(bytes32 appDomainSeparator,string[] contentName)ERC7739Data(ERC7739Context[] allowedERC7739Content,PolicyData[] erc1271Policies)PolicyData(address policy,bytes initData)"
    );
    bytes32 internal constant SESSION_TYPEHASH = keccak256(
        "SignedSession(address account,SignedPermissions permissions,address sessionValidator,bytes sessionValidatorInitData,bytes32 salt,address smartSession,uint256 nonce)ActionData(bytes4 actionTargetSelector,address actionTarget,PolicyData[] actionPolicies)ERC7739Context(bytes32 appDomainSeparator,string[] contentName)ERC7739Data(ERC7739Context[] allowedERC7739Content,PolicyData[] erc1271Policies)PolicyData(address policy,bytes initData)SignedPermissions(bool permitGenericPolicy,bool permitAdminAccess,bool ignoreSecurityAttestations,bool permitERC4337Paymaster,PolicyData[] userOpPolicies,ERC7739Data erc7739Policies,ActionData[] actions)"
    );
    bytes32 internal constant CHAIN_SESSION_TYPEHASH = keccak256(
        "ChainSession(uint64 chainId,SignedSession session)ActionData(bytes4 actionTargetSelector,address actionTarget,PolicyData[] actionPolicies)ERC7739Context(bytes32 appDomainSeparator,string[] contentName)ERC7739Data(ERC7739Context[] allowedERC7739Content,PolicyData[] erc1271Policies)PolicyData(address policy,bytes initData)SignedPermissions(bool permitGenericPolicy,bool permitAdminAccess,bool ignoreSecurityAttestations,bool permitERC4337Paymaster,PolicyData[] userOpPolicies,ERC7739Data erc7739Policies,ActionData[] actions)SignedSession(address account,SignedPermissions permissions,address sessionValidator,bytes sessionValidatorInitData,bytes32 salt,address smartSession,uint256 nonce)"
    );
    bytes32 internal constant MULTICHAIN_SESSION_TYPEHASH = keccak256(
        "MultiChainSession(ChainSession[] sessionsAndChainIds)ActionData(bytes4 actionTargetSelector,address actionTarget,PolicyData[] actionPolicies)ChainSession(uint64 chainId,SignedSession session)ERC7739Context(bytes32 appDomainSeparator,string[] contentName)ERC7739Data(ERC7739Context[] allowedERC7739Content,PolicyData[] erc1271Policies)PolicyData(address policy,bytes initData)SignedPermissions(bool permitGenericPolicy,bool permitAdminAccess,bool ignoreSecurityAttestations,bool permitERC4337Paymaster,PolicyData[] userOpPolicies,ERC7739Data erc7739Policies,ActionData[] actions)SignedSession(address account,SignedPermissions permissions,address sessionValidator,bytes sessionValidatorInitData,bytes32 salt,address smartSession,uint256 nonce)"
    );
    /// @dev keccak256(abi.encode(keccak256("EIP712Domain(string name,string version)"), keccak256("SmartSession"),
    ///      keccak256("1"))).
    bytes32 internal constant DOMAIN_SEPARATOR = keccak256(
        abi.encode(keccak256("EIP712Domain(string name,string version)"), keccak256("SmartSession"), keccak256("1"))
    );

    /// @notice Struct hash of SignedSession: what `ChainDigest.sessionDigest` must equal on this chain.
    /// @dev The three SignedPermissions flags are derived from the session and the mode, never taken as input.
    function sessionDigest(Session memory session, address account, SmartSessionMode mode, uint256 nonce)
        internal
        view
        returns (bytes32)
    {
        return keccak256(
            abi.encode(
                SESSION_TYPEHASH,
                account,
                permissionsHash(session, mode == SmartSessionMode.UNSAFE_ENABLE),
                session.sessionValidator,
                keccak256(session.sessionValidatorInitData),
                session.salt,
                address(this),
                nonce
            )
        );
    }

    /// @notice Struct hash of SignedPermissions.
    function permissionsHash(Session memory session, bool ignoreSecurityAttestations)
        internal
        pure
        returns (bytes32)
    {
        (bool permitGenericPolicy, bool permitAdminAccess) = _fallbackFlags(session.actions);
        return keccak256(
            abi.encode(
                SIGNED_PERMISSIONS_TYPEHASH,
                permitGenericPolicy,
                permitAdminAccess,
                ignoreSecurityAttestations,
                session.permitERC4337Paymaster,
                policiesHash(session.userOpPolicies),
                erc7739Hash(session.erc7739Policies),
                actionsHash(session.actions)
            )
        );
    }

    /// @notice The EIP-712 digest the account signs: domain-wrapped MultiChainSession over all chain entries.
    function multichainDigest(ChainDigest[] memory chainDigests) internal pure returns (bytes32) {
        uint256 n = chainDigests.length;
        bytes32[] memory hashes = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            hashes[i] = keccak256(
                abi.encode(CHAIN_SESSION_TYPEHASH, chainDigests[i].chainId, chainDigests[i].sessionDigest)
            );
        }
        bytes32 structHash = keccak256(abi.encode(MULTICHAIN_SESSION_TYPEHASH, _concatHash(hashes)));
        return keccak256(abi.encodePacked(hex"1901", DOMAIN_SEPARATOR, structHash));
    }

    /// @notice Hash of PolicyData[].
    function policiesHash(PolicyData[] memory policies) internal pure returns (bytes32) {
        uint256 n = policies.length;
        bytes32[] memory hashes = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            hashes[i] =
                keccak256(abi.encode(POLICY_DATA_TYPEHASH, policies[i].policy, keccak256(policies[i].initData)));
        }
        return _concatHash(hashes);
    }

    /// @notice Hash of ActionData[].
    function actionsHash(ActionData[] memory actions) internal pure returns (bytes32) {
        uint256 n = actions.length;
        bytes32[] memory hashes = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            hashes[i] = keccak256(
                abi.encode(
                    ACTION_DATA_TYPEHASH,
                    actions[i].actionTargetSelector,
                    actions[i].actionTarget,
                    policiesHash(actions[i].actionPolicies)
                )
            );
        }
        return _concatHash(hashes);
    }

    /// @notice Struct hash of ERC7739Data.
    function erc7739Hash(ERC7739Data memory data) internal pure returns (bytes32) {
        ERC7739Context[] memory contexts = data.allowedERC7739Content;
        uint256 n = contexts.length;
        bytes32[] memory hashes = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            string[] memory names = contexts[i].contentNames;
            bytes32[] memory nameHashes = new bytes32[](names.length);
            for (uint256 j; j < names.length; ++j) {
                nameHashes[j] = keccak256(bytes(names[j]));
            }
            hashes[i] = keccak256(
                abi.encode(ERC7739_CONTEXT_TYPEHASH, contexts[i].appDomainSeparator, _concatHash(nameHashes))
            );
        }
        return keccak256(abi.encode(ERC7739_DATA_TYPEHASH, _concatHash(hashes), policiesHash(data.erc1271Policies)));
    }

    /// @dev Whether the actions include the generic fallback action and the SmartSession-call fallback action.
    function _fallbackFlags(ActionData[] memory actions) private pure returns (bool generic, bool admin) {
        for (uint256 i; i < actions.length; ++i) {
            if (actions[i].actionTarget != FALLBACK_TARGET_FLAG) continue;
            bytes4 selector = actions[i].actionTargetSelector;
            if (selector == FALLBACK_TARGET_SELECTOR_FLAG) generic = true;
            else if (selector == FALLBACK_TARGET_SELECTOR_FLAG_PERMITTED_TO_CALL_SMARTSESSION) admin = true;
        }
    }

    /// @dev keccak256 of the words of `hashes`, concatenated (no length prefix).
    function _concatHash(bytes32[] memory hashes) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            h := keccak256(add(hashes, 0x20), shl(5, mload(hashes)))
        }
    }
}
