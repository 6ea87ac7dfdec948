//! Errors of the simulator.

use alloy_primitives::Address;

use crate::{decode::DecodedRevert, verdict::Rejected};

/// What can go wrong running the EVM.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A compiled contract is missing from the embedded artifacts.
    #[error(transparent)]
    Artifact(#[from] mandate_contracts::ArtifactError),
    /// revm refused the transaction (bad nonce, not enough balance for gas, ...).
    #[error("the EVM refused the transaction: {0}")]
    Evm(String),
    /// A contract deployment did not leave code behind.
    #[error("deploying {name} failed: {reason}")]
    Deploy {
        /// The contract's name.
        name: String,
        /// Why.
        reason: String,
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
    #[error("call to {to} halted: {reason}")]
    Halted {
        /// The contract called.
        to: Address,
        /// The halt reason.
        reason: String,
    },
    /// The fork's node could not be reached or answered wrongly.
    #[error("fork: {0}")]
    Fork(String),
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
