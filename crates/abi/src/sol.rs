//! Solidity types and interfaces, as `sol!` bindings.
//!
//! Struct field order, function signatures, errors and events are those of the deployed
//! Smart Sessions module, the ERC-4337 v0.7 EntryPoint and ERC-7579.

#![allow(missing_docs)]

use alloy_sol_types::sol;

sol! {
    /// A policy contract and the data it is initialised with.
    #[derive(Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct PolicyData {
        #[serde(with = "crate::json::address")]
        address policy;
        #[serde(with = "crate::json::hex_bytes")]
        bytes initData;
    }

    /// A permitted action (target + selector) and the policies that check it.
    #[derive(Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ActionData {
        #[serde(with = "crate::json::hex_bytes")]
        bytes4 actionTargetSelector;
        #[serde(with = "crate::json::address")]
        address actionTarget;
        PolicyData[] actionPolicies;
    }

    /// ERC-7739 typed-data contents allowed under one app domain separator.
    #[derive(Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ERC7739Context {
        #[serde(with = "crate::json::hex_bytes")]
        bytes32 appDomainSeparator;
        #[serde(rename = "contentName", alias = "contentNames")]
        string[] contentNames;
    }

    /// ERC-1271 permissions of a session.
    #[derive(Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ERC7739Data {
        ERC7739Context[] allowedERC7739Content;
        PolicyData[] erc1271Policies;
    }

    /// A session: who may sign (validator + init data + salt) and what they may do.
    #[derive(Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    #[serde(from = "crate::json::SdkSession")]
    struct Session {
        #[serde(with = "crate::json::address")]
        address sessionValidator;
        #[serde(with = "crate::json::hex_bytes")]
        bytes sessionValidatorInitData;
        #[serde(with = "crate::json::hex_bytes")]
        bytes32 salt;
        PolicyData[] userOpPolicies;
        ERC7739Data erc7739Policies;
        ActionData[] actions;
        bool permitERC4337Paymaster;
    }

    /// A session digest on one chain.
    #[derive(Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ChainDigest {
        #[serde(with = "crate::json::u64_flex")]
        uint64 chainId;
        #[serde(with = "crate::json::hex_bytes")]
        bytes32 sessionDigest;
    }

    /// The data of an ENABLE-mode signature.
    #[derive(Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct EnableSession {
        #[serde(with = "crate::json::u8_flex")]
        uint8 chainDigestIndex;
        ChainDigest[] hashesAndChainIds;
        Session sessionToEnable;
        #[serde(with = "crate::json::hex_bytes")]
        bytes permissionEnableSig;
    }

    /// The permissions of a session as the owner signs them (EIP-712 only; never ABI-encoded
    /// on-chain). The three flags are derived, see [`SignedPermissions::of`].
    #[derive(Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct SignedPermissions {
        bool permitGenericPolicy;
        bool permitAdminAccess;
        bool ignoreSecurityAttestations;
        bool permitERC4337Paymaster;
        PolicyData[] userOpPolicies;
        ERC7739Data erc7739Policies;
        ActionData[] actions;
    }

    /// A session bound to an account, a SmartSession deployment and an enable nonce (EIP-712 only).
    #[derive(Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct SignedSession {
        #[serde(with = "crate::json::address")]
        address account;
        SignedPermissions permissions;
        #[serde(with = "crate::json::address")]
        address sessionValidator;
        #[serde(with = "crate::json::hex_bytes")]
        bytes sessionValidatorInitData;
        #[serde(with = "crate::json::hex_bytes")]
        bytes32 salt;
        #[serde(with = "crate::json::address")]
        address smartSession;
        #[serde(with = "crate::json::u256_flex")]
        uint256 nonce;
    }

    /// A signed session on one chain (EIP-712 only).
    #[derive(Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ChainSession {
        #[serde(with = "crate::json::u64_flex")]
        uint64 chainId;
        SignedSession session;
    }

    /// ERC-4337 v0.7 user operation, as the EntryPoint takes it.
    #[derive(Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct PackedUserOperation {
        #[serde(with = "crate::json::address")]
        address sender;
        #[serde(with = "crate::json::u256_flex")]
        uint256 nonce;
        #[serde(with = "crate::json::hex_bytes")]
        bytes initCode;
        #[serde(with = "crate::json::hex_bytes")]
        bytes callData;
        #[serde(with = "crate::json::hex_bytes")]
        bytes32 accountGasLimits;
        #[serde(with = "crate::json::u256_flex")]
        uint256 preVerificationGas;
        #[serde(with = "crate::json::hex_bytes")]
        bytes32 gasFees;
        #[serde(with = "crate::json::hex_bytes")]
        bytes paymasterAndData;
        #[serde(with = "crate::json::hex_bytes")]
        bytes signature;
    }

    /// One call of an ERC-7579 batch execution.
    #[derive(Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Execution {
        #[serde(with = "crate::json::address")]
        address target;
        #[serde(with = "crate::json::u256_flex")]
        uint256 value;
        #[serde(with = "crate::json::hex_bytes")]
        bytes callData;
    }

    /// A module and its install data, for account initialisation.
    #[derive(Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ModuleInit {
        #[serde(with = "crate::json::address")]
        address module;
        #[serde(with = "crate::json::hex_bytes")]
        bytes initData;
    }

    /// The Smart Sessions validator.
    #[derive(Debug, PartialEq, Eq)]
    interface ISmartSession {
        /// An app domain's enabled ERC-7739 contents, as `getEnabledERC7739Content` returns them.
        struct ERC7739ContextHashes {
            bytes32 appDomainSeparator;
            bytes32[] contentNameHashes;
        }

        function validateUserOp(PackedUserOperation userOp, bytes32 userOpHash) external returns (uint256);
        function isValidSignatureWithSender(address sender, bytes32 hash, bytes signature) external view returns (bytes4);
        function onInstall(bytes data) external;
        function onUninstall(bytes data) external;
        function isInitialized(address account) external view returns (bool);
        function isModuleType(uint256 typeId) external view returns (bool);
        function enableSessions(Session[] sessions) external returns (bytes32[] permissionIds);
        function removeSession(bytes32 permissionId) external;
        function setPermit4337Paymaster(bytes32 permissionId, bool enabled) external;
        function isPermissionEnabled(bytes32 permissionId, address account) external view returns (bool);
        function getPermissionId(Session session) external pure returns (bytes32);
        function getPermissionIDs(address account) external view returns (bytes32[]);
        function getNonce(bytes32 permissionId, address account) external view returns (uint256);
        function revokeEnableSignature(bytes32 permissionId) external;
        function enableUserOpPolicies(bytes32 permissionId, PolicyData[] userOpPolicies) external;
        function disableUserOpPolicies(bytes32 permissionId, address[] policies) external;
        function enableERC1271Policies(bytes32 permissionId, ERC7739Data erc1271Policies) external;
        function disableERC1271Policies(bytes32 permissionId, address[] policies, ERC7739Context[] contexts) external;
        function enableActionPolicies(bytes32 permissionId, ActionData[] actionPolicies) external;
        function disableActionPolicies(bytes32 permissionId, bytes32 actionId, address[] policies) external;
        function disableActionId(bytes32 permissionId, bytes32 actionId) external;
        function getSessionDigest(bytes32 permissionId, address account, Session data, uint8 mode) external view returns (bytes32);
        function isISessionValidatorSet(bytes32 permissionId, address account) external view returns (bool);
        function getSessionValidatorAndConfig(address account, bytes32 permissionId) external view returns (address sessionValidator, bytes sessionValidatorData);
        function getUserOpPolicies(address account, bytes32 permissionId) external view returns (address[]);
        function getERC1271Policies(address account, bytes32 permissionId) external view returns (address[]);
        function getActionPolicies(address account, bytes32 permissionId, bytes32 actionId) external view returns (address[]);
        function getEnabledActions(address account, bytes32 permissionId) external view returns (bytes32[]);
        function getEnabledERC7739Content(address account, bytes32 permissionId) external view returns (ERC7739ContextHashes[] contexts);
        function areUserOpPoliciesEnabled(address account, bytes32 permissionId, PolicyData[] policies) external view returns (bool);
        function areERC1271PoliciesEnabled(address account, bytes32 permissionId, PolicyData[] policies) external view returns (bool);
        function areActionsEnabled(address account, bytes32 permissionId, ActionData[] actions) external view returns (bool);
        function isUserOpPolicyEnabled(address account, bytes32 permissionId, address policy) external view returns (bool);
        function isERC1271PolicyEnabled(address account, bytes32 permissionId, address policy) external view returns (bool);
        function isActionPolicyEnabled(address account, bytes32 permissionId, bytes32 actionId, address policy) external view returns (bool);
        function isActionIdEnabled(address account, bytes32 permissionId, bytes32 actionId) external view returns (bool);
        function isERC7739ContentEnabled(address account, bytes32 permissionId, bytes32 appDomainSeparator, string content) external view returns (bool);

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
        error InvalidSession(bytes32 permissionId);
        error InvalidSessionKeySignature(bytes32 permissionId, address sessionValidator, address account, bytes32 userOpHash);
        error SmartSessionModuleAlreadyInstalled(address account);
        error InvalidPermissionId(bytes32 permissionId);
        error InvalidCallTarget();
        error InvalidMode();
        error InvalidUserOpSender(address sender);
        error NoPoliciesSet(bytes32 permissionId);
        error PartlyEnabledActions();
        error PartlyEnabledPolicies();
        error PolicyViolation(bytes32 permissionId, address policy);
        error SignerNotFound(bytes32 permissionId, address account);
        error UnsupportedCallType(bytes1 callType);
        error UnsupportedExecutionType();
        error UnsupportedPolicy(address policy);
        error UnsupportedSmartSessionMode(uint8 mode);
        error ForbiddenValidationData();
        error PaymasterValidationNotEnabled(bytes32 permissionId);
        error PolicyCheckReverted(bytes32 reason);
        error DecodingError();

        event NonceIterated(bytes32 permissionId, address account, uint256 newValue);
        event SessionValidatorEnabled(bytes32 permissionId, address sessionValidator, address smartAccount);
        event SessionValidatorDisabled(bytes32 permissionId, address sessionValidator, address smartAccount);
        event PolicyEnabled(bytes32 permissionId, uint8 policyType, address policy, address smartAccount);
        event PolicyDisabled(bytes32 permissionId, uint8 policyType, address policy, address smartAccount);
        event ActionIdDisabled(bytes32 permissionId, bytes32 actionId, address smartAccount);
        event SessionCreated(bytes32 permissionId, address account);
        event SessionRemoved(bytes32 permissionId, address smartAccount);
        event PermissionIdPermit4337Paymaster(bytes32 permissionId, address smartAccount, bool enabled);
    }

    /// The ERC-4337 v0.7 EntryPoint (the parts Mandate calls or decodes).
    #[derive(Debug, PartialEq, Eq)]
    interface IEntryPoint {
        function handleOps(PackedUserOperation[] ops, address beneficiary) external;
        function getNonce(address sender, uint192 key) external view returns (uint256 nonce);
        function getUserOpHash(PackedUserOperation userOp) external view returns (bytes32);
        function depositTo(address account) external payable;
        function balanceOf(address account) external view returns (uint256);
        function getDepositInfo(address account) external view returns (DepositInfo info);

        /// An entity's deposit and stake at the EntryPoint.
        struct DepositInfo {
            uint256 deposit;
            bool staked;
            uint112 stake;
            uint32 unstakeDelaySec;
            uint48 withdrawTime;
        }

        error FailedOp(uint256 opIndex, string reason);
        error FailedOpWithRevert(uint256 opIndex, string reason, bytes inner);
        error PostOpReverted(bytes returnData);
        error SignatureValidationFailed(address aggregator);

        event UserOperationEvent(bytes32 indexed userOpHash, address indexed sender, address indexed paymaster, uint256 nonce, bool success, uint256 actualGasCost, uint256 actualGasUsed);
        event AccountDeployed(bytes32 indexed userOpHash, address indexed sender, address factory, address paymaster);
        event UserOperationRevertReason(bytes32 indexed userOpHash, address indexed sender, uint256 nonce, bytes revertReason);
        event PostOpRevertReason(bytes32 indexed userOpHash, address indexed sender, uint256 nonce, bytes revertReason);
        event UserOperationPrefundTooLow(bytes32 indexed userOpHash, address indexed sender, uint256 nonce);
        event BeforeExecution();
        event Deposited(address indexed account, uint256 totalDeposit);
    }

    /// An ERC-7579 account (Mandate's, and the standard's common surface).
    #[derive(Debug, PartialEq, Eq)]
    /// ERC-5267: an EIP-712 domain, as an account answers it (SmartSession reads it to nest a
    /// session key's ERC-7739 signature under the account's domain).
    interface IERC5267 {
        function eip712Domain() external view returns (bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions);
    }

    interface IERC7579Account {
        function execute(bytes32 mode, bytes executionCalldata) external payable;
        function installModule(uint256 moduleTypeId, address module, bytes initData) external payable;
        function uninstallModule(uint256 moduleTypeId, address module, bytes deInitData) external payable;
        function isModuleInstalled(uint256 moduleTypeId, address module, bytes additionalContext) external view returns (bool);
        function isValidSignature(bytes32 hash, bytes signature) external view returns (bytes4);
        function accountId() external view returns (string);

        event ModuleInstalled(uint256 moduleTypeId, address module);
        event ModuleUninstalled(uint256 moduleTypeId, address module);
    }

    /// The validators of an account that keeps them in a sentinel list (Nexus, Safe7579, the
    /// ERC-7579 reference): one page from `cursor` (the sentinel `0x…01` for the first), and the
    /// cursor of the next (the sentinel or zero after the last).
    #[derive(Debug, PartialEq, Eq)]
    interface IValidatorList {
        function getValidatorsPaginated(address cursor, uint256 size) external view returns (address[] array, address next);
    }

    /// An OwnableValidator (Rhinestone's and Mandate's): stateless as a session validator,
    /// installed per account as an account validator. Its errors are what a session signature
    /// can revert with.
    #[derive(Debug, PartialEq, Eq)]
    interface IOwnableValidator {
        function validateSignatureWithData(bytes32 hash, bytes signature, bytes data) external view returns (bool validSig);
        function onInstall(bytes data) external;
        function isValidSignatureWithSender(address sender, bytes32 hash, bytes signature) external view returns (bytes4);
        function isModuleType(uint256 typeId) external view returns (bool);

        error InvalidSignature();
    }

    /// ERC-4337's `IAccountExecute`: the EntryPoint calls `executeUserOp` when an op's
    /// callData starts with its selector (a session may never authorise it).
    #[derive(Debug, PartialEq, Eq)]
    interface IAccountExecute {
        function executeUserOp(PackedUserOperation userOp, bytes32 userOpHash) external;
    }

    /// The sample VerifyingPaymaster of `@account-abstraction/contracts` 0.7.
    #[derive(Debug, PartialEq, Eq)]
    interface IVerifyingPaymaster {
        function verifyingSigner() external view returns (address);
        function getHash(PackedUserOperation userOp, uint48 validUntil, uint48 validAfter) external view returns (bytes32);
    }

    /// Mandate's account factory.
    #[derive(Debug, PartialEq, Eq)]
    interface IMandateAccountFactory {
        function createAccount(ModuleInit[] validators, bytes32 salt) external returns (address account);
        function getAddress(ModuleInit[] validators, bytes32 salt) external view returns (address account);
    }

    /// The Safe7579 launchpad (the proxy's first singleton).
    #[derive(Debug, PartialEq, Eq)]
    interface ISafe7579Launchpad {
        /// What `setupSafe` sets up.
        struct InitData {
            address singleton;
            address[] owners;
            uint256 threshold;
            address setupTo;
            bytes setupData;
            address safe7579;
            ModuleInit[] validators;
            bytes callData;
        }

        function preValidationSetup(bytes32 initHash, address to, bytes preInit) external;
        function setupSafe(InitData initData) external;
        function initSafe7579(address safe7579, ModuleInit[] executors, ModuleInit[] fallbacks, ModuleInit[] hooks, address[] attesters, uint8 threshold) external;
        function hash(InitData data) external pure returns (bytes32);
    }

    /// Safe's proxy factory.
    #[derive(Debug, PartialEq, Eq)]
    interface ISafeProxyFactory {
        function createProxyWithNonce(address singleton, bytes initializer, uint256 saltNonce) external returns (address proxy);
        function proxyCreationCode() external pure returns (bytes);
    }

    /// ERC-20, as far as Mandate uses it.
    #[derive(Debug, PartialEq, Eq)]
    interface IERC20 {
        function transfer(address to, uint256 amount) external returns (bool);
        function approve(address spender, uint256 amount) external returns (bool);
        function increaseAllowance(address spender, uint256 addedValue) external returns (bool);
        function transferFrom(address from, address to, uint256 amount) external returns (bool);
        function balanceOf(address owner) external view returns (uint256);
        function mint(address to, uint256 amount) external;

        event Transfer(address indexed from, address indexed to, uint256 value);
        event Approval(address indexed owner, address indexed spender, uint256 value);
    }

    /// ERC-721 with the seeds' `safeMint(address)`.
    #[derive(Debug, PartialEq, Eq)]
    interface IERC721 {
        function safeMint(address to) external returns (uint256 tokenId);
        function mint(address to) external returns (uint256 tokenId);
        function ownerOf(uint256 tokenId) external view returns (address);
        function balanceOf(address owner) external view returns (uint256);

        event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    }
}
