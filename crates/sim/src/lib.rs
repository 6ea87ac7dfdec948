#![doc = include_str!("../README.md")]

pub mod canonical;
mod decode;
mod deployments;
mod devnet;
mod eip7702;
mod error;
pub mod families;
mod fork;
pub mod genesis;
mod inspector;
#[cfg(feature = "legacy-v2")]
pub mod legacy_v2;
mod outcome;
mod preflight;
mod read_hints;
mod verdict;

pub use decode::{DecodedLog, DecodedRevert, LogDecoder, RevertDecoder};
pub use deployments::{AccountV08, DevnetDeployments};
pub use devnet::{
    BASE_FEE, BLOCK_GAS_LIMIT, BUNDLER, BUNDLER_FUNDS, CODE_SIZE_LIMIT, DEPLOYER, DEVNET_CHAIN_ID,
    Devnet, GENESIS_TIMESTAMP, PAYMASTER_DEPOSIT, PAYMASTER_SIGNER, PAYMASTER_SIGNER_KEY, Snapshot,
    TxReceipt,
};
pub use eip7702::AuthorizationError;
pub use error::{DeployError, SimError};
pub use fork::{ForkError, ForkOptions};
pub use inspector::{Frame, Phase, RuleViolation};
pub use outcome::{BundleOutcome, OpReceipt, Rejection};
pub use preflight::{
    ChargeEstimate, EIP7702_AUTHORIZATION_GAS, LimitsReport, VALIDATION_MARGIN,
    pre_verification_gas, unused_gas_penalty,
};
pub use verdict::{Accepted, ExecutionOutcome, PhaseGas, Preflight, Rejected, StateChange};
