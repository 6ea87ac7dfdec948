//! A local evaluator of Smart Sessions: given a user operation and the state of the account's
//! sessions, it answers what `SmartSession.validateUserOp` answers — the validation data it
//! returns, or the exact error it reverts with and, in words, why — without an EVM, and updates
//! the policies' counters as the contracts update their storage.
//!
//! The state comes from the sessions the user enabled ([`AccountState::enable_sessions`]) or from
//! contract storage ([`load_account`] over any [`StorageReader`]). Its semantics are those of
//! Mandate's contracts (`contracts/src`), checked by differential property tests against them in
//! revm (this crate's `tests/it`: `policy_differential`, `policy_entry_point`, `policy_upstream`).
//!
//! What is modelled: USE, ENABLE and UNSAFE_ENABLE signatures (the owner's ERC-1271 answer comes
//! from an [`EnableSignatureVerifier`] given to [`Evaluator::with_enable`]); single, batch and
//! other execution modes and direct account calls, malformed encodings included; explicit and
//! fallback actions; `permitERC4337Paymaster`; every policy in `contracts/src/policies` in
//! every slot it supports; and the ECDSA session validator (recovery with alloy's k256, or
//! skipped with [`Evaluator::verify_signatures`]). What is not: other policy or validator
//! contracts ([`EvalError::UnknownPolicy`], [`EvalError::UnknownSessionValidator`]), ERC-1271 /
//! ERC-7739 session signatures and their content sets, and the EntryPoint's own checks (the
//! time window of [`Accept`] is what the EntryPoint then compares with the block time).
//!
//! ```
//! use mandate_abi::{
//!     alloy_primitives::{Address, B256, Bytes, U256},
//!     ActionData, Call, PackedUserOperation, PermissionId, PolicyData, Session, encode_use,
//!     execute_calls, sol::IERC20,
//! };
//! use mandate_abi::alloy_sol_types::SolCall;
//! use mandate_policy::{AccountState, Deployment, Evaluator, PolicyKind, Verdict};
//!
//! let (smart_session, validator) = (Address::repeat_byte(0x55), Address::repeat_byte(0xe1));
//! let (usage, sudo) = (Address::repeat_byte(0x0b), Address::repeat_byte(0x0a));
//! let deployment = Deployment {
//!     smart_session,
//!     ecdsa_session_validator: validator,
//!     policies: vec![(sudo, PolicyKind::Sudo), (usage, PolicyKind::UsageLimit)],
//! };
//! let token = Address::repeat_byte(0x20);
//! // Any call to `token`, at most twice.
//! let session = Session {
//!     sessionValidator: validator,
//!     sessionValidatorInitData: Address::repeat_byte(0x5e).to_vec().into(),
//!     actions: vec![ActionData {
//!         actionTargetSelector: IERC20::transferCall::SELECTOR.into(),
//!         actionTarget: token,
//!         actionPolicies: vec![PolicyData {
//!             policy: usage,
//!             initData: U256::from(2).to_be_bytes::<32>()[16..].to_vec().into(),
//!         }],
//!     }],
//!     ..Default::default()
//! };
//! let account = Address::repeat_byte(0xac);
//! let mut state = AccountState::new(account);
//! let [pid] = state.enable_sessions(&deployment, &[session])?[..] else { unreachable!() };
//!
//! let evaluator = Evaluator::new(deployment).verify_signatures(false);
//! let op = PackedUserOperation {
//!     sender: account,
//!     callData: execute_calls(&[Call::new(token, Bytes::from(IERC20::transferCall::SELECTOR))]),
//!     signature: encode_use(pid, &[0u8; 65]),
//!     ..Default::default()
//! };
//! for _ in 0..2 {
//!     let verdict = evaluator.validate(&mut state, &op, B256::ZERO)?;
//!     assert!(matches!(verdict, Verdict::Accept(_)));
//! }
//! // The third use is refused: UsageLimitPolicy returns 1, SmartSession reverts.
//! let Verdict::Reject(reject) = evaluator.validate(&mut state, &op, B256::ZERO)? else { panic!() };
//! assert_eq!(reject.name, "PolicyViolation");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
    Accept, Checkpoint, EnableSignatureVerifier, Evaluator, PolicyRun, Reject, Verdict, ecdsa_ok,
};
pub use loader::{StorageReader, load_account};
pub use state::{
    AccountState, Deployment, Erc20Config, IdMap, PolicyKind, PolicySlot, PolicyState,
    SessionState, TokenBudget, UniConfig, UniRule,
};
