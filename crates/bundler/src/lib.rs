//! An ERC-4337 v0.7 bundler client for Mandate (and v0.6, for legacy accounts).
//!
//! [`BundlerClient`] speaks a bundler's JSON-RPC API over alloy's transport on tokio:
//! `eth_sendUserOperation`, `eth_estimateUserOperationGas` (with state overrides),
//! `eth_getUserOperationByHash`, `eth_getUserOperationReceipt`, `eth_supportedEntryPoints`,
//! `eth_chainId`, `pimlico_getUserOperationGasPrice` and the ERC-7677 paymaster calls. Its serde
//! types ([`RpcUserOperation`], [`GasEstimate`], [`UserOperationReceipt`], ...) read what real
//! bundlers send: bare hashes, `null` receipts while pending, v0.7 gas names, optional fields
//! as `null` or absent, hex or decimal quantities.
//!
//! Failures are a [`BundlerError`]: the ERC-7769 codes ([`RpcErrorKind`], with the
//! EntryPoint's `AAxx` code pulled out), HTTP statuses with `Retry-After`, transport failures,
//! timeouts and malformed answers, each with [`BundlerError::is_retryable`]. The client repeats
//! only what is safe: an op is never sent again while the bundler may already hold it.
//!
//! [`Bundler`] is the trait Mandate submits through; the umbrella crate `mandate` implements it
//! in process over its embedded devnet as well. [`BundlerV06`] adds the v0.6 shape
//! ([`RpcUserOperationV06`]: `initCode`, `paymasterAndData`) for EntryPoint v0.6 accounts.
//!
//! ```
//! use mandate_bundler::{
//!     BundlerError, GasEstimate, RpcErrorKind, RpcFailure, RpcUserOperation,
//!     mandate_abi::UserOperation,
//! };
//!
//! // Alto's estimate for an op, as it answers it.
//! let estimate: GasEstimate = serde_json::from_str(
//!     r#"{"preVerificationGas":"0xc6c4","verificationGasLimit":"0x5f7f0",
//!         "callGasLimit":"0x4e20","paymasterVerificationGasLimit":null}"#,
//! )?;
//! let mut op = UserOperation::default();
//! estimate.apply_to(&mut op);
//! assert_eq!(op.verification_gas_limit, 0x5f7f0);
//! let json = serde_json::to_value(RpcUserOperation::from(&op))?;
//! assert_eq!(json["callGasLimit"], "0x4e20");
//!
//! // A rejection by the EntryPoint, typed.
//! let error = BundlerError::Rpc(RpcFailure::new(
//!     "eth_sendUserOperation",
//!     -32500,
//!     "UserOperation reverted during simulation with reason: AA24 signature error".into(),
//!     None,
//! ));
//! assert_eq!(error.rpc().map(|f| f.kind), Some(RpcErrorKind::RejectedByEntryPoint));
//! assert_eq!(error.aa_code(), Some("AA24"));
//! assert!(!error.is_retryable());
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! Against a running bundler:
//!
//! ```no_run
//! use mandate_bundler::{BundlerClient, WaitOptions, mandate_abi::{ENTRY_POINT_V07, UserOperation}};
//!
//! # async fn send(op: UserOperation) -> Result<(), mandate_bundler::BundlerError> {
//! let bundler = BundlerClient::new("http://127.0.0.1:4337")?;
//! let hash = bundler.send_user_operation(&op, ENTRY_POINT_V07).await?;
//! let receipt = bundler.wait_for_receipt(hash, &WaitOptions::default()).await?;
//! println!("included in {} (success: {})", receipt.receipt.transaction_hash, receipt.success);
//! # Ok(())
//! # }
//! ```

pub use mandate_abi;

mod bundler;
mod client;
mod error;
pub mod quantity;
mod types;
mod types_v06;
mod wait;

pub use bundler::{Bundler, BundlerV06};
pub use client::{
    AccountOverride, BundlerClient, ClientConfig, NonceFuture, NonceReader, RetryPolicy,
    StateOverride,
};
pub use error::{BundlerError, RpcErrorKind, RpcFailure, UrlError, aa_code};
pub use tokio_util::sync::CancellationToken;
pub use types::{
    GasEstimate, GasPrice, GasPrices, PaymasterData, PaymasterStubData, QuantityOverflow, RpcLog,
    RpcTransactionReceipt, RpcUserOperation, Sponsor, UserOperationByHash, UserOperationReceipt,
};
pub use types_v06::RpcUserOperationV06;
pub use wait::{WaitOptions, poll_receipt};
