//! What running user operations through the EntryPoint gives.

use std::fmt;

use alloy_primitives::{Address, B256, Log, U256};

use crate::decode::DecodedRevert;

/// A user operation the EntryPoint included: validation passed and execution ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpReceipt {
    /// Its hash.
    pub user_op_hash: B256,
    /// The account.
    pub sender: Address,
    /// Its nonce.
    pub nonce: U256,
    /// Whether the account's execution succeeded (`UserOperationEvent.success`).
    pub success: bool,
    /// Gas the EntryPoint charged the op for (`actualGasUsed`).
    pub actual_gas_used: U256,
    /// Wei the op paid (`actualGasCost`).
    pub actual_gas_cost: U256,
    /// Why the execution reverted, when it did (`UserOperationRevertReason`).
    pub revert_reason: Option<DecodedRevert>,
    /// The logs emitted while this op ran (deployment, validation and execution).
    pub logs: Vec<Log>,
}

/// The EntryPoint rejected an op in validation: `FailedOp` or `FailedOpWithRevert`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Rejection {
    /// Index of the op in the bundle.
    pub op_index: usize,
    /// The ERC-4337 code, e.g. `AA23`, when the reason carries one.
    pub code: Option<String>,
    /// The EntryPoint's reason, e.g. `AA23 reverted`.
    pub reason: String,
    /// The revert from the account or its validator (`FailedOpWithRevert.inner`), decoded.
    pub inner: Option<DecodedRevert>,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "op {} rejected: {}", self.op_index, self.reason)?;
        if let Some(inner) = &self.inner {
            write!(f, ": {inner}")?;
        }
        Ok(())
    }
}

/// The result of one `handleOps` transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BundleOutcome {
    /// The bundle went through; one receipt per op, in order.
    Included {
        /// Gas the whole `handleOps` transaction used.
        tx_gas_used: u64,
        /// Per-op receipts.
        receipts: Vec<OpReceipt>,
    },
    /// An op failed validation; nothing was written.
    Rejected(Rejection),
    /// `handleOps` reverted for another reason; nothing was written.
    Reverted(DecodedRevert),
}

impl BundleOutcome {
    /// The single receipt of a one-op bundle, if it was included.
    pub fn receipt(&self) -> Option<&OpReceipt> {
        match self {
            Self::Included { receipts, .. } => receipts.first(),
            _ => None,
        }
    }

    /// The rejection, if validation failed.
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            Self::Rejected(r) => Some(r),
            _ => None,
        }
    }
}
