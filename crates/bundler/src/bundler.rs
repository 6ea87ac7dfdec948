//! The [`Bundler`] trait: what Mandate needs from any ERC-4337 bundler.

use std::future::Future;

use alloy_primitives::{Address, B256};
#[cfg(feature = "legacy-v2")]
use mandate_abi::legacy_v2::UserOperationV06;
use mandate_abi::{GasEstimate, UserOperation};

use crate::{BundlerError, UserOperationReceipt, WaitOptions, wait::poll_receipt};

/// An ERC-4337 v0.7 bundler: a JSON-RPC server ([`crate::BundlerClient`]) or an in-process one
/// (`mandate_client::devnet_bundler::DevnetBundler`, over the embedded devnet).
pub trait Bundler: Send + Sync {
    /// The chain the bundler submits to.
    fn chain_id(&self) -> impl Future<Output = Result<u64, BundlerError>> + Send;

    /// The EntryPoints it accepts ops for.
    fn supported_entry_points(
        &self,
    ) -> impl Future<Output = Result<Vec<Address>, BundlerError>> + Send;

    /// Gas limits for `op` (whose signature must be well formed, e.g. a dummy one).
    fn estimate_user_operation_gas(
        &self,
        op: &UserOperation,
        entry_point: Address,
    ) -> impl Future<Output = Result<GasEstimate, BundlerError>> + Send;

    /// Submits `op`; returns its hash.
    fn send_user_operation(
        &self,
        op: &UserOperation,
        entry_point: Address,
    ) -> impl Future<Output = Result<B256, BundlerError>> + Send;

    /// The receipt of an included op; `None` while it is pending or unknown.
    fn get_user_operation_receipt(
        &self,
        user_op_hash: B256,
    ) -> impl Future<Output = Result<Option<UserOperationReceipt>, BundlerError>> + Send;

    /// Polls for the receipt with backoff until `options.timeout` or cancellation.
    fn wait_for_receipt(
        &self,
        user_op_hash: B256,
        options: &WaitOptions,
    ) -> impl Future<Output = Result<UserOperationReceipt, BundlerError>> + Send {
        poll_receipt(user_op_hash, options, move || self.get_user_operation_receipt(user_op_hash))
    }
}

#[cfg(feature = "legacy-v2")]
/// A bundler that also serves an ERC-4337 v0.6 EntryPoint, for legacy accounts (Biconomy's
/// Smart Account v2 with session keys v2). Receipts and waiting are the same as for v0.7.
pub trait BundlerV06: Bundler {
    /// Gas limits for a v0.6 `op`.
    fn estimate_user_operation_gas_v06(
        &self,
        op: &UserOperationV06,
        entry_point: Address,
    ) -> impl Future<Output = Result<GasEstimate, BundlerError>> + Send;

    /// Submits a v0.6 `op`; returns its hash.
    fn send_user_operation_v06(
        &self,
        op: &UserOperationV06,
        entry_point: Address,
    ) -> impl Future<Output = Result<B256, BundlerError>> + Send;
}
