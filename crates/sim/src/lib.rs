//! Runs ERC-4337 v0.7 user operations through the EntryPoint and Mandate's Smart Sessions
//! modules in revm.
//!
//! [`Devnet`] is an embedded chain whose genesis holds the EntryPoint (at its canonical
//! address), SmartSession, its policies, the session signer, an ERC-7579 account factory and
//! test tokens. [`Devnet::handle_ops`] submits a bundle as a bundler would and returns a typed
//! [`BundleOutcome`]: receipts with gas and logs, or the EntryPoint's rejection with the
//! validator's custom error decoded.
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
//! let outcome = devnet.handle_op(op.pack())?;
//! let rejection = outcome.rejection().expect("rejected in validation");
//! assert_eq!(rejection.code.as_deref(), Some("AA13"));
//! # Ok::<(), mandate_sim::SimError>(())
//! ```

mod devnet;
mod error;
mod outcome;
mod revert;

pub use devnet::{
    BASE_FEE, BLOCK_GAS_LIMIT, BUNDLER, BUNDLER_FUNDS, DEPLOYER, DEVNET_CHAIN_ID, Deployments,
    Devnet, GENESIS_TIMESTAMP, PAYMASTER_DEPOSIT, PAYMASTER_SIGNER, PAYMASTER_SIGNER_KEY,
    TxReceipt,
};
pub use error::SimError;
pub use outcome::{BundleOutcome, OpReceipt, Rejection};
pub use revert::{DecodedRevert, RevertDecoder};
