#![doc = include_str!("../README.md")]
// Unit-test builds also see the dev-dependencies, which only the integration tests use.
#![cfg_attr(test, allow(unused_crate_dependencies))]

mod calldata;
pub mod error;
pub mod eval;
#[cfg(feature = "legacy-v2")]
pub mod legacy_v2;
pub mod loader;
mod revert;
pub mod state;

pub use error::{EnableError, EvalError, LoadError, UniConfigError};
pub use eval::{
    Accept, Checkpoint, EnableSignatureVerifier, Evaluator, PolicyRun, Reject, SignatureRefusal,
    SignatureVerdict, Verdict, ecdsa_ok, ownable_validate,
};
pub use loader::{StorageReader, load_account, load_policy_state};
pub use state::{
    AccountState, Deployment, Erc20Config, IdMap, PolicyKind, PolicySlot, PolicyState,
    SessionState, TokenBudget, UniConfig, UniRule,
};
