//! Legacy Biconomy session keys v2 (Smart Account v2 on EntryPoint v0.6; spec §14): session
//! leaves and the merkle tree the SDK builds over them, the data of the ERC-20 and ABI session
//! validation modules, the module signatures of a single session (Session Key Manager) and of a
//! batch (Batched Session Router), account calldata, and the v0.6 user operation with its hash.
//!
//! ```
//! use mandate_abi::alloy_primitives::{Address, B256, U256};
//! use mandate_abi::legacy_v2::{
//!     AbiCondition, AbiRule, AbiSessionData, Erc20SessionData, MerkleTree, SessionLeaf,
//!     ABI_SVM, ERC20_SVM, single_session_signature,
//! };
//!
//! let session_key = Address::repeat_byte(0x5e);
//! let erc20 = Erc20SessionData {
//!     session_key,
//!     token: Address::repeat_byte(0x70),
//!     recipient: Address::repeat_byte(0x7e),
//!     max_amount: U256::from(100),
//! };
//! let abi = AbiSessionData {
//!     session_key,
//!     target: Address::repeat_byte(0x72),
//!     selector: [0x40, 0xd0, 0x97, 0xc3].into(), // safeMint(address)
//!     value_limit: 0,
//!     rules: vec![AbiRule::new(0, AbiCondition::Equal, Address::repeat_byte(0xac).into_word())],
//! };
//! let leaves = [SessionLeaf::new(0, 0, ERC20_SVM, erc20.encode()), SessionLeaf::new(0, 0, ABI_SVM, abi.encode()?)];
//! let tree = MerkleTree::from_leaves(&leaves);
//! let proof = tree.proof(leaves[1].hash())?;
//! assert!(MerkleTree::verify(&proof, tree.root(), leaves[1].hash()));
//! let signature = single_session_signature(&leaves[1], &tree, &[0u8; 65], Address::repeat_byte(0x5c))?;
//! assert!(signature.len() > 0);
//! # Ok::<(), mandate_abi::legacy_v2::LegacyV2EncodeError>(())
//! ```

mod merkle;
mod params;
mod signature;
mod svm;
mod user_op;

use alloy_primitives::{Address, address};

pub use merkle::{MerkleTree, SessionLeaf};
pub use params::{
    AbiSessionParams, Erc20SessionParams, FunctionSelector, ReferenceValue, RuleParams,
    SessionInterval,
};
pub use signature::{
    BatchEntry, RouterDigest, account_signature, batch_module_signature, batch_session_leaves,
    batch_session_signature, decode_account_signature, router_digest, router_prehash,
    single_module_signature, single_session_leaf, single_session_signature,
};
pub use svm::{AbiCondition, AbiRule, AbiSessionData, Erc20SessionData, rule_offset_by_index};
pub use user_op::{
    ENTRY_POINT_V06, UserOperationV06, execute_batch_v2_calldata, execute_v2_calldata,
    personal_hash,
};

/// Solidity types of the v2 stack (EntryPoint v0.6, Smart Account v2 and its modules).
pub mod sol {
    alloy_sol_types::sol! {
        /// An ERC-4337 v0.6 user operation.
        #[derive(Debug, Default, PartialEq, Eq)]
        struct UserOperation06 {
            address sender;
            uint256 nonce;
            bytes initCode;
            bytes callData;
            uint256 callGasLimit;
            uint256 verificationGasLimit;
            uint256 preVerificationGas;
            uint256 maxFeePerGas;
            uint256 maxPriorityFeePerGas;
            bytes paymasterAndData;
            bytes signature;
        }

        /// One call's session in a Batched Session Router signature.
        #[derive(Debug, Default, PartialEq, Eq)]
        struct SessionData {
            uint48 validUntil;
            uint48 validAfter;
            address sessionValidationModule;
            bytes sessionKeyData;
            bytes32[] merkleProof;
            bytes callSpecificData;
        }

        /// The ERC-4337 v0.6 EntryPoint.
        #[derive(Debug, PartialEq, Eq)]
        interface IEntryPointV06 {
            function handleOps(UserOperation06[] ops, address beneficiary);
            function getUserOpHash(UserOperation06 userOp) external view returns (bytes32);
            function getNonce(address sender, uint192 key) external view returns (uint256 nonce);
            function depositTo(address account) external payable;
            function balanceOf(address account) external view returns (uint256);
            error FailedOp(uint256 opIndex, string reason);
        }

        /// Biconomy Smart Account v2.
        #[derive(Debug, PartialEq, Eq)]
        interface ISmartAccountV2 {
            function execute(address dest, uint256 value, bytes func);
            function execute_ncC(address dest, uint256 value, bytes func);
            function executeBatch(address[] dest, uint256[] value, bytes[] func);
            function executeBatch_y6U(address[] dest, uint256[] value, bytes[] func);
            function enableModule(address module);
            function isModuleEnabled(address module) external view returns (bool);
        }

        /// Biconomy Smart Account v2 factory.
        #[derive(Debug, PartialEq, Eq)]
        interface ISmartAccountFactoryV2 {
            function deployCounterFactualAccount(address moduleSetupContract, bytes moduleSetupData, uint256 index) returns (address proxy);
            function getAddressForCounterFactualAccount(address moduleSetupContract, bytes moduleSetupData, uint256 index) external view returns (address _account);
        }

        /// The owner's ECDSA module (its setup call, made by the factory).
        #[derive(Debug, PartialEq, Eq)]
        interface IEcdsaOwnershipRegistryModule {
            function initForSmartAccount(address eoaOwner) returns (address);
            function getOwner(address smartAccount) external view returns (address);
        }

        /// Session Key Manager v1 (merkle).
        #[derive(Debug, PartialEq, Eq)]
        interface ISessionKeyManagerV1 {
            function setMerkleRoot(bytes32 _merkleRoot);
            function getSessionKeys(address smartAccount) external view returns (bytes32 merkleRoot);
        }

        /// A session validation module.
        #[derive(Debug, PartialEq, Eq)]
        interface ISessionValidationModule {
            function validateSessionUserOp(UserOperation06 _op, bytes32 _userOpHash, bytes _sessionKeyData, bytes _sessionKeySignature) external returns (bool);
            function validateSessionParams(address destinationContract, uint256 callValue, bytes funcCallData, bytes sessionKeyData, bytes callSpecificData) external returns (address);
        }
    }
}

/// Session Key Manager v1.0.1, the SDK v4 default (spec §14.2).
pub const SESSION_KEY_MANAGER_V1: Address = address!("000002FbFfedd9B33F4E7156F2DE8D48945E7489");
/// Batched Session Router of the SDK v4.
pub const BATCHED_SESSION_ROUTER: Address = address!("00000D09967410f8C76752A104c9848b57ebba55");
/// ABI session validation module of the SDK v4.
pub const ABI_SVM: Address = address!("000006bC2eCdAe38113929293d241Cf252D91861");
/// ERC-20 session validation module of the SDK v4.
pub const ERC20_SVM: Address = address!("000000D50C68705bd6897B2d17c7de32FB519fDA");

/// Where the v2 stack lives on a devnet (or a node: the JSON form is a deployments file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyV2Deployments {
    /// ERC-4337 v0.6 EntryPoint, at [`ENTRY_POINT_V06`].
    pub entry_point: Address,
    /// Smart Account v2 implementation (behind every account's proxy).
    pub account_implementation: Address,
    /// Smart Account v2 factory.
    pub account_factory: Address,
    /// The owner's ECDSA validation module.
    pub ecdsa_module: Address,
    /// Session Key Manager v1 (merkle root per account).
    pub session_key_manager: Address,
    /// Batched Session Router.
    pub batched_session_router: Address,
    /// ERC-20 session validation module (from the package).
    pub erc20_svm: Address,
    /// ABI session validation module (Mandate's).
    pub abi_svm: Address,
}

/// `execute(address,uint256,bytes)` of the Smart Account v2.
pub const EXECUTE_SELECTOR: [u8; 4] =
    <sol::ISmartAccountV2::executeCall as alloy_sol_types::SolCall>::SELECTOR;
/// `execute_ncC(address,uint256,bytes)`.
pub const EXECUTE_OPTIMIZED_SELECTOR: [u8; 4] =
    <sol::ISmartAccountV2::execute_ncCCall as alloy_sol_types::SolCall>::SELECTOR;
/// `executeBatch(address[],uint256[],bytes[])`.
pub const EXECUTE_BATCH_SELECTOR: [u8; 4] =
    <sol::ISmartAccountV2::executeBatchCall as alloy_sol_types::SolCall>::SELECTOR;
/// `executeBatch_y6U(address[],uint256[],bytes[])`.
pub const EXECUTE_BATCH_OPTIMIZED_SELECTOR: [u8; 4] =
    <sol::ISmartAccountV2::executeBatch_y6UCall as alloy_sol_types::SolCall>::SELECTOR;

/// Bad input to the legacy v2 encoders.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LegacyV2EncodeError {
    /// An ABI SVM rule offset does not fit the 16-bit field.
    #[error("ABI SVM rules[{rule}].offset {offset} does not fit in uint16")]
    RuleOffset {
        /// Index of the rule.
        rule: usize,
        /// The offset given.
        offset: u64,
    },
    /// An ABI SVM condition code outside 0..=5.
    #[error("ABI SVM rules[{rule}].condition {code} is not one of 0..=5 (==, <=, <, >=, >, !=)")]
    Condition {
        /// Index of the rule.
        rule: usize,
        /// The code given.
        code: u64,
    },
    /// More ABI SVM rules than the 16-bit count holds.
    #[error("ABI SVM: {0} rules, at most 65535")]
    TooManyRules(usize),
    /// A timestamp that does not fit in uint48.
    #[error("{field} {value} does not fit in uint48")]
    Timestamp {
        /// `validUntil` or `validAfter`.
        field: &'static str,
        /// The value given.
        value: u64,
    },
    /// The leaf is not in the tree (the SDK would send an empty proof: `SessionNotApproved`).
    #[error("session leaf {0} is not in the merkle tree")]
    LeafNotInTree(alloy_primitives::B256),
    /// Data that does not ABI-decode as what it should hold.
    #[error("{what}: {source}")]
    Decode {
        /// What was decoded.
        what: &'static str,
        /// What the decoder said.
        source: alloy_sol_types::Error,
    },
    /// Session key data too short or malformed.
    #[error("{what}: {detail}")]
    Malformed {
        /// What was decoded.
        what: &'static str,
        /// Why it failed.
        detail: String,
    },
    /// A batch with no calls.
    #[error("a batch session signature needs at least one session")]
    EmptyBatch,
    /// Batch session indexes that do not match the calls one to one (the SDK's
    /// `INVALID_SESSION_INDEXES`).
    #[error("{indexes} session indexes for {calls} calls: one per call, in call order")]
    SessionIndexes {
        /// Indexes given.
        indexes: usize,
        /// Calls in the batch.
        calls: usize,
    },
    /// A session index past the stored sessions.
    #[error("session index {index}, but {stored} sessions are stored")]
    SessionIndex {
        /// The index.
        index: usize,
        /// Sessions stored.
        stored: usize,
    },
    /// Fewer stored sessions than calls (the SDK would send fewer sessions than calls and the
    /// router would revert `Lengths mismatch`).
    #[error("{calls} calls but only {stored} sessions are stored")]
    NotEnoughSessions {
        /// Sessions stored.
        stored: usize,
        /// Calls in the batch.
        calls: usize,
    },
}
