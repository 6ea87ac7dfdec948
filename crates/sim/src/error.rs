//! Errors of the simulator.

use alloy_primitives::{Address, hex::FromHexError};
use revm::context::{
    result::{EVMError, HaltReason},
    tx::TxEnvBuildError,
};

use crate::{BundleOutcome, decode::DecodedRevert, fork::ForkError, verdict::Rejected};

/// What can go wrong running the EVM.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A compiled contract is missing from the embedded artifacts.
    #[error(transparent)]
    Artifact(#[from] mandate_contracts::ArtifactError),
    /// revm refused the transaction (bad nonce, not enough balance for gas, ...).
    #[error("the EVM refused the transaction: {0}")]
    Evm(#[source] Box<EVMError<ForkError>>),
    /// The transaction's environment is inconsistent (revm's builder refused it).
    #[error("the EVM refused the transaction: {0:?}")]
    TxEnv(#[source] TxEnvBuildError),
    /// A contract deployment did not leave code behind.
    #[error("deploying {name} failed: {reason}")]
    Deploy {
        /// The contract's name.
        name: String,
        /// Why.
        #[source]
        reason: DeployError,
    },
    /// A call reverted.
    #[error("call to {to} reverted: {revert}")]
    Reverted {
        /// The contract called.
        to: Address,
        /// The decoded revert.
        revert: DecodedRevert,
    },
    /// A call halted (out of gas, invalid opcode, ...).
    #[error("call to {to} halted: {reason:?}")]
    Halted {
        /// The contract called.
        to: Address,
        /// The halt reason.
        reason: HaltReason,
    },
    /// The fork's node could not be reached or answered wrongly.
    #[error("fork: {0}")]
    Fork(#[from] ForkError),
    /// The op's hash cannot be computed (a v0.8 `0x7702` op whose sender has no delegate).
    #[error(transparent)]
    UserOpHash(#[from] mandate_abi::UserOpHashError),
    /// `handleOps` went through without a `UserOperationEvent` (not an EntryPoint).
    #[error("handleOps succeeded without a UserOperationEvent")]
    NoUserOperationEvent,
    /// `handleOps` reverted, but not with the EntryPoint's `FailedOp` (not an EntryPoint).
    #[error("handleOps reverted outside validation: {0:?}")]
    RevertedOutsideValidation(Box<BundleOutcome>),
    /// Validation fails whatever the gas: the op cannot be estimated.
    #[error("validation fails: {}", .0.rejection)]
    ValidationFails(Box<Rejected>),
    /// The account's execution reverts whatever the gas.
    #[error("execution reverts: {0}")]
    ExecutionReverts(DecodedRevert),
    /// A call's return data did not decode as its ABI says.
    #[error("return data of a call to {to} did not decode: {source}")]
    Decode {
        /// The contract called.
        to: Address,
        /// The decoding error.
        source: alloy_sol_types::Error,
    },
}

impl From<EVMError<ForkError>> for SimError {
    fn from(e: EVMError<ForkError>) -> Self {
        Self::Evm(Box::new(e))
    }
}

/// Why a deployment failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeployError {
    /// The creation transaction failed (reverted, halted, refused).
    #[error("{0}")]
    Transaction(#[source] Box<SimError>),
    /// The creation left no code at the address.
    #[error("no code")]
    NoCode,
    /// The step names a contract the plan has not deployed before it.
    #[error("names a contract not deployed before it")]
    NotDeployed,
    /// The deployed account was not in the state to move.
    #[error("deployed account vanished")]
    Vanished,
    /// The artifact file could not be read.
    #[error("{0}")]
    Read(#[source] std::io::Error),
    /// The artifact file is not JSON.
    #[error("{0}")]
    Json(#[source] serde_json::Error),
    /// The artifact has neither `bytecode.object` nor `bytecode`.
    #[error("no bytecode.object in the artifact")]
    NoBytecode,
    /// The bytecode is not hex.
    #[error("bytecode is not hex (unlinked libraries?): {0}")]
    Hex(#[source] FromHexError),
}
