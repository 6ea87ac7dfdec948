#![doc = include_str!("../README.md")]

pub use mandate_abi;

mod bundler;
mod client;
mod error;
mod types;
#[cfg(feature = "legacy-v2")]
mod types_v06;
mod wait;

pub use bundler::Bundler;
#[cfg(feature = "legacy-v2")]
pub use bundler::BundlerV06;
pub use client::{
    AccountOverride, BundlerClient, ClientConfig, NonceFuture, NonceReader, RetryPolicy,
    StateOverride,
};
pub use error::{BundlerError, RpcErrorKind, RpcFailure, UrlError, aa_code};
pub use tokio_util::sync::CancellationToken;
pub use types::{
    Factory, GasPrice, GasPrices, PaymasterData, PaymasterStubData, QuantityOverflow,
    RpcAuthorization, RpcLog, RpcTransactionReceipt, RpcUserOperation, Sponsor,
    UserOperationByHash, UserOperationReceipt,
};
#[cfg(feature = "legacy-v2")]
pub use types_v06::RpcUserOperationV06;
pub use wait::{WaitOptions, poll_receipt};
