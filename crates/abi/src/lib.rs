//! Smart Sessions types and encoding, byte for byte as the deployed module and module-sdk.
//!
//! `mandate-abi` holds what every other Mandate crate speaks: the Solidity types of Smart
//! Sessions with builders, their identifiers, USE / ENABLE / UNSAFE_ENABLE signatures (with
//! solady-compatible FastLZ), the multichain EIP-712 enable digest, ERC-7579 executions and
//! ERC-4337 v0.7 user operations with their hash, and JSON in module-sdk's shapes. It depends on
//! alloy types only: no EVM, no runtime, no transport.
//!
//! ```
//! use mandate_abi::{
//!     alloy_primitives::{Address, B256, Bytes, U256},
//!     AccountType, ChainDigest, Call, EnableSession, EnableSessionData, Erc20Action,
//!     Erc20Function, PermissionId, PolicyAddresses, SessionBuilder, SignedSession,
//!     SmartSessionMode, UserOperation, ENTRY_POINT_V07, decode_signature, encode_enable,
//!     encode_use, execute_calls, multichain_digest, validator_nonce,
//! };
//!
//! let (usdc, recipient) = (Address::repeat_byte(0xc0), Address::repeat_byte(0x7e));
//! let session_key = Address::repeat_byte(0x5e);
//! let ecdsa_validator = Address::repeat_byte(0xe1);
//!
//! // A session that may transfer at most 10 USDC per call, 100 in total, to one recipient.
//! let transfer = Erc20Action::new(Erc20Function::Transfer, usdc)
//!     .recipient(recipient)
//!     .amount_limit_per_action(U256::from(10_000_000))
//!     .max_amount_limit(U256::from(100_000_000))
//!     .build(&PolicyAddresses::MODULE_SDK, 0)?;
//! let session = SessionBuilder::new(ecdsa_validator, session_key.to_vec()).action(transfer).build()?;
//! let permission_id = PermissionId::of(&session);
//!
//! // The op the session key signs: the account's calldata, routed to SmartSession by the nonce.
//! let smart_session = Address::repeat_byte(0x55);
//! let op = UserOperation {
//!     sender: Address::repeat_byte(0xac),
//!     nonce: validator_nonce(smart_session, 0, 0),
//!     call_data: execute_calls(&[Call::new(usdc, Bytes::new())]),
//!     ..Default::default()
//! };
//! let _hash = op.hash(ENTRY_POINT_V07, 8453);
//! let use_signature = encode_use(permission_id, &[0u8; 65]);
//!
//! // Or enable it in the same op: the owner signs the multichain digest.
//! let digest = SignedSession::of(&session, op.sender, smart_session, U256::ZERO, SmartSessionMode::Enable).digest();
//! let chains = vec![ChainDigest { chainId: 8453, sessionDigest: digest }];
//! let _owner_signs = multichain_digest(&chains);
//! let data = EnableSessionData {
//!     enable_session: EnableSession {
//!         chainDigestIndex: 0,
//!         hashesAndChainIds: chains,
//!         sessionToEnable: session,
//!         permissionEnableSig: Bytes::from(vec![1u8; 65]),
//!     },
//!     validator: Address::repeat_byte(0x0a),
//!     account_type: AccountType::Nexus,
//! };
//! let enable_signature = encode_enable(SmartSessionMode::Enable, &data, &[2u8; 65])?;
//! let decoded = decode_signature(&enable_signature, AccountType::Nexus)?;
//! assert_eq!(decoded.permission_id, permission_id.0);
//! assert_eq!(decode_signature(&use_signature, AccountType::Nexus)?.permission_id, permission_id.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use alloy_primitives;
pub use alloy_sol_types;

pub mod builder;
pub mod calldata;
pub mod digest;
pub mod execution;
pub mod fastlz;
pub mod ids;
pub mod json;
#[cfg(feature = "legacy-v2")]
pub mod legacy_v2;
pub mod policy;
pub mod signature;
pub mod sol;
pub mod user_op;
pub mod validation;

pub use builder::{BuildError, Erc20Action, Erc20Function, SessionBuilder, custom_action};
pub use digest::{
    EnableTarget, MultichainEnable, chain_digests, hash_chain_sessions, multichain_digest,
    prepare_enable,
};
pub use execution::{
    Call, CallType, ExecType, encode_batch, encode_delegatecall, encode_single, execute_calldata,
    execute_calls, mode_code,
};
pub use ids::{ActionId, ConfigId, PermissionId};
pub use policy::{
    ActionConfig, LimitUsage, ParamCondition, ParamRule, ParamRules, Policy, PolicyAddresses,
    PolicyParamsError, TimeFrame, TokenLimit,
};
pub use signature::{
    AccountType, DUMMY_ECDSA_SIGNATURE, DecodedSignature, EnableSessionData, SignatureError,
    SmartSessionMode, decode as decode_signature, encode_enable, encode_use,
};
pub use sol::{
    ActionData, ChainDigest, ChainSession, ERC7739Context, ERC7739Data, EnableSession, Execution,
    ModuleInit, PackedUserOperation, PolicyData, Session, SignedPermissions, SignedSession,
};
pub use user_op::{
    ENTRY_POINT_V07, UserOperation, nonce_validator, pack_u128s, unpack_u128s, validator_nonce,
    validator_nonce_key,
};
pub use validation::{ValidationData, intersect};
