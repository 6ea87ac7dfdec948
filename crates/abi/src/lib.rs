//! Smart Sessions types and encoding.
//!
//! `mandate-abi` holds what every other Mandate crate speaks: the Solidity types of Smart
//! Sessions (sessions, policies, actions), their identifiers, the USE-mode signature, ERC-7579
//! executions and ERC-4337 v0.7 user operations with their hash. It depends on alloy types
//! only: no EVM, no runtime, no transport.
//!
//! ```
//! use alloy_primitives::{Address, B256, Bytes, address};
//! use mandate_abi::{
//!     ActionId, Call, PermissionId, Session, UserOperation, ENTRY_POINT_V07, encode_use,
//!     execute_calls, validator_nonce,
//! };
//!
//! let session_validator = address!("00000000000000000000000000000000000000e1");
//! let session = Session {
//!     sessionValidator: session_validator,
//!     sessionValidatorInitData: Bytes::copy_from_slice(Address::repeat_byte(7).as_slice()),
//!     ..Default::default()
//! };
//! let permission_id = PermissionId::of(&session);
//!
//! let nft = address!("00000000000000000000000000000000000000a1");
//! let mint = Call::new(nft, Bytes::from_static(&[0x40, 0xd0, 0x97, 0xc3]));
//! let smart_session = address!("00000000000000000000000000000000000000b2");
//! let op = UserOperation {
//!     sender: address!("00000000000000000000000000000000000000c3"),
//!     nonce: validator_nonce(smart_session, 0, 0),
//!     call_data: execute_calls(&[mint]),
//!     ..Default::default()
//! };
//! let hash = op.hash(ENTRY_POINT_V07, 31337);
//! let signature = encode_use(permission_id, &[0u8; 65]);
//! assert_eq!(signature[0], 0);
//! assert_ne!(hash, B256::ZERO);
//! assert_ne!(ActionId::new(nft, [0x40, 0xd0, 0x97, 0xc3].into()), ActionId::fallback());
//! ```

pub mod execution;
pub mod ids;
pub mod signature;
pub mod sol;
pub mod user_op;

pub use execution::{
    Call, CallType, ExecType, encode_batch, encode_delegatecall, encode_single, execute_calldata,
    execute_calls, mode_code,
};
pub use ids::{ActionId, ConfigId, PermissionId};
pub use signature::{DUMMY_ECDSA_SIGNATURE, SmartSessionMode, encode_use};
pub use sol::{
    ActionData, ChainDigest, ERC7739Context, ERC7739Data, EnableSession, Execution, ModuleInit,
    PackedUserOperation, PolicyData, Session,
};
pub use user_op::{
    ENTRY_POINT_V07, UserOperation, nonce_validator, pack_u128s, unpack_u128s, validator_nonce,
    validator_nonce_key,
};
