//! Errors of the simulator.

use alloy_primitives::Address;

use crate::revert::DecodedRevert;

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
    /// A call's return data did not decode as its ABI says.
    #[error("return data of a call to {to} did not decode: {source}")]
    Decode {
        /// The contract called.
        to: Address,
        /// The decoding error.
        source: alloy_sol_types::Error,
    },
}
