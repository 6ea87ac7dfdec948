//! Runs ERC-4337 v0.7 user operations through the EntryPoint and Mandate's Smart Sessions
//! modules in revm, before anything is sent.
//!
//! [`Devnet`] is an embedded chain whose genesis holds the EntryPoint (at its canonical
//! address), SmartSession, its policies, the session signer, an ERC-7579 account factory, a
//! verifying paymaster and test tokens — or, with [`Devnet::fork`], a node's state at a pinned
//! block, read lazily and cached. On either:
//!
//! - [`Devnet::check`] runs an op through the whole EntryPoint path without keeping its effects
//!   and returns a [`Verdict`]: accepted, with gas per phase, validation data, decoded logs,
//!   state changes and ERC-7562 warnings; or rejected, with the AA code, the validator's custom
//!   error decoded and the call path to it. An execution that reverts after validation passed
//!   is told apart.
//! - [`Devnet::estimate_gas`] finds the op's gas limits by simulation, and
//!   [`Devnet::check_limits`] says whether the op's own limits are enough.
//! - [`Devnet::handle_ops`] submits a bundle as a bundler would and keeps its effects.
//!
//! ```
//! use alloy_primitives::Address;
//! use mandate_abi::{ENTRY_POINT_V07, UserOperation};
//! use mandate_sim::Devnet;
//!
//! let mut devnet = Devnet::new()?;
//! assert_eq!(devnet.deployments().entry_point, ENTRY_POINT_V07);
//!
//! // An op whose initCode calls the factory with no calldata: the deployment fails.
//! let op = UserOperation {
//!     sender: Address::repeat_byte(1),
//!     factory: Some(devnet.deployments().account_factory),
//!     verification_gas_limit: 1_000_000,
//!     ..Default::default()
//! };
//! let verdict = devnet.check(&op.pack())?;
//! let rejected = verdict.rejected().expect("rejected in validation");
//! assert_eq!(rejected.rejection.code.as_deref(), Some("AA13"));
//! // The call path names the contracts and functions down to the failure.
//! assert_eq!(rejected.path[0].to_string(), "EntryPoint.handleOps");
//!
//! // check keeps nothing; handle_op submits for real.
//! let outcome = devnet.handle_op(op.pack())?;
//! assert_eq!(outcome.rejection().and_then(|r| r.code.as_deref()), Some("AA13"));
//! # Ok::<(), mandate_sim::SimError>(())
//! ```

mod decode;
mod devnet;
mod error;
mod fork;
pub mod genesis;
mod inspector;
#[cfg(feature = "legacy-v2")]
pub mod legacy_v2;
mod outcome;
mod preflight;
mod verdict;

pub use decode::{DecodedLog, DecodedRevert, LogDecoder, RevertDecoder};
pub use devnet::{
    BASE_FEE, BLOCK_GAS_LIMIT, BUNDLER, BUNDLER_FUNDS, DEPLOYER, DEVNET_CHAIN_ID, Deployments,
    Devnet, GENESIS_TIMESTAMP, PAYMASTER_DEPOSIT, PAYMASTER_SIGNER, PAYMASTER_SIGNER_KEY, Snapshot,
    TxReceipt,
};
pub use error::{DeployError, SimError};
pub use fork::ForkError;
pub use inspector::{Frame, Phase, RuleViolation};
pub use outcome::{BundleOutcome, OpReceipt, Rejection};
pub use preflight::{GasEstimate, LimitsReport, VALIDATION_MARGIN, pre_verification_gas};
pub use verdict::{Accepted, Execution, PhaseGas, Rejected, StateChange, Verdict};
