#![doc = include_str!("../README.md")]
// Unit-test builds also see the dev-dependencies, which only the integration tests use.
#![cfg_attr(test, allow(unused_crate_dependencies))]

pub use alloy_dyn_abi;
pub use alloy_eip7702;
pub use alloy_primitives;
pub use alloy_sol_types;

pub mod account;
pub mod bounds;
pub mod builder;
pub mod calldata;
pub mod deployments;
pub mod digest;
pub mod erc7739;
pub mod execution;
pub mod explain;
pub mod fastlz;
pub mod gas;
pub mod grant;
pub mod ids;
pub mod json;
#[cfg(feature = "legacy-v2")]
pub mod legacy_v2;
pub mod ownable;
pub mod policy;
pub mod signature;
pub mod sol;
pub mod user_op;
pub mod validation;

pub use account::{AccountType, MODULE_TYPE_VALIDATOR, NonceKeyError};
pub use builder::{
    BuildError, BuildWarning, Erc20Action, Erc20Function, SessionBuilder, custom_action,
};
pub use deployments::{Deployments, SessionValidators};
pub use digest::{
    EnableTarget, MultichainEnable, chain_digests, hash_chain_sessions, multichain_digest,
    prepare_enable,
};
pub use execution::{
    Call, CallType, ExecType, encode_batch, encode_delegatecall, encode_single, execute_calldata,
    execute_calls, mode_code,
};
pub use gas::GasEstimate;
pub use ids::{ActionId, ConfigId, PermissionId};
pub use policy::{
    ActionConfig, LimitUsage, ParamCondition, ParamRule, ParamRules, Policy, PolicyAddresses,
    PolicyParamsError, TimeFrame, TokenLimit,
};
pub use signature::{
    DecodedSignature, EnableSessionData, SessionValidatorKind, SignatureError, SmartSessionMode,
    decode as decode_signature, decode_enable_payload, encode_enable, encode_enable_session,
    encode_use,
};
pub use sol::{
    ActionData, ChainDigest, ChainSession, ERC7739Context, ERC7739Data, EnableSession, Execution,
    ModuleInit, PackedUserOperation, PolicyData, Session, SignedPermissions, SignedSession,
};
pub use user_op::{
    EIP7702_FACTORY_MARKER, ENTRY_POINT_V07, ENTRY_POINT_V08, EntryPointVersion, UserOpHashError,
    UserOperation, entry_point_v08_domain_separator, is_eip7702_init_code, nonce_validator,
    pack_u128s, packed_user_op_typehash, unpack_u128s, validator_nonce, validator_nonce_key,
};
pub use validation::{ValidationData, intersect};
