//! What a pre-flight check says about a user operation.

use std::fmt;

use alloy_primitives::{Address, B256, U256};
use mandate_abi::ValidationData;
use serde::Serialize;

use crate::{
    decode::{DecodedLog, DecodedRevert},
    inspector::{Frame, RuleViolation},
    outcome::Rejection,
};

/// Gas each phase of the op used (as its frame reported it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PhaseGas {
    /// The factory call deploying the account, when the op has `initCode`.
    pub deployment: Option<u64>,
    /// The account's `validateUserOp`.
    pub account_validation: u64,
    /// The paymaster's `validatePaymasterUserOp`, when there is a paymaster.
    pub paymaster_validation: Option<u64>,
    /// `innerHandleOp`: execution and `postOp`.
    pub execution: u64,
    /// The whole `handleOps` transaction.
    pub handle_ops: u64,
}

/// How the execution phase ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ExecutionOutcome {
    /// The account's call succeeded.
    Succeeded,
    /// Validation passed, so the op is included and pays, but its execution reverted.
    Reverted {
        /// The revert, decoded.
        revert: Option<DecodedRevert>,
        /// The calls down to where it reverted.
        path: Vec<Frame>,
    },
}

/// A change of one account's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StateChange {
    /// The account.
    pub address: Address,
    /// Its native balance before and after, if it changed.
    pub balance: Option<(U256, U256)>,
    /// How many of its storage slots changed.
    pub storage_writes: usize,
    /// Whether it got code in this op.
    pub deployed: bool,
}

/// The EntryPoint would include the op.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Accepted {
    /// The op's hash.
    pub user_op_hash: B256,
    /// What the account's validation returned (`validAfter`, `validUntil`, signature bit).
    pub validation: ValidationData,
    /// What the paymaster's validation returned, if there is one.
    pub paymaster_validation: Option<ValidationData>,
    /// Gas per phase.
    pub gas: PhaseGas,
    /// Gas the EntryPoint charges the op (`actualGasUsed`).
    pub actual_gas_used: U256,
    /// Wei the op pays (`actualGasCost`).
    pub actual_gas_cost: U256,
    /// How the execution ended.
    pub execution: ExecutionOutcome,
    /// Every log, decoded where an ABI knows the event ([`crate::Devnet::check_detailed`];
    /// empty from [`crate::Devnet::check`]).
    pub logs: Vec<DecodedLog>,
    /// What changed, per account ([`crate::Devnet::check_detailed`]; empty from
    /// [`crate::Devnet::check`]).
    pub state_changes: Vec<StateChange>,
    /// ERC-7562 rules the validation breaks: a real bundler would drop the op.
    pub warnings: Vec<RuleViolation>,
    /// JSON-RPC round trips the check made one after another on a fork (0 on the devnet and
    /// on a warm fork).
    pub round_trips: u32,
}

/// The EntryPoint would reject the op in validation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// The op's hash.
    pub user_op_hash: B256,
    /// The EntryPoint's code and reason, and the validator's error.
    pub rejection: Rejection,
    /// The calls down to where the failure started.
    pub path: Vec<Frame>,
    /// ERC-7562 rules the validation breaks, as far as it ran.
    pub warnings: Vec<RuleViolation>,
    /// JSON-RPC round trips the check made one after another on a fork (0 on the devnet and
    /// on a warm fork).
    pub round_trips: u32,
}

/// The answer of [`crate::Devnet::check`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Preflight {
    /// Validation passes; the op would be included.
    Accepted(Box<Accepted>),
    /// Validation fails; the op would be dropped.
    Rejected(Box<Rejected>),
}

impl Preflight {
    /// The acceptance, if validation passes.
    pub fn accepted(&self) -> Option<&Accepted> {
        match self {
            Self::Accepted(a) => Some(a),
            Self::Rejected(_) => None,
        }
    }

    /// The rejection, if validation fails.
    pub fn rejected(&self) -> Option<&Rejected> {
        match self {
            Self::Rejected(r) => Some(r),
            Self::Accepted(_) => None,
        }
    }

    /// JSON-RPC round trips the check made one after another on a fork.
    pub fn round_trips(&self) -> u32 {
        match self {
            Self::Accepted(a) => a.round_trips,
            Self::Rejected(r) => r.round_trips,
        }
    }

    /// Whether the op would be included and its execution succeed.
    pub fn is_success(&self) -> bool {
        self.accepted().is_some_and(|a| a.execution == ExecutionOutcome::Succeeded)
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.label, self.selector) {
            (Some(label), _) => write!(f, "{label}"),
            (None, Some(selector)) => write!(f, "{}::{selector}", self.address),
            (None, None) => write!(f, "{}", self.address),
        }
    }
}

fn path(frames: &[Frame]) -> String {
    frames.iter().map(ToString::to_string).collect::<Vec<_>>().join(" → ")
}

impl fmt::Display for Preflight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Accepted(a) => {
                write!(f, "accepted")?;
                if let ExecutionOutcome::Reverted { revert, path: p } = &a.execution {
                    let why = revert
                        .as_ref()
                        .map_or_else(|| "no reason".to_string(), ToString::to_string);
                    write!(f, ", but execution reverts: {why} at {}", path(p))?;
                }
                Ok(())
            }
            Self::Rejected(r) => write!(f, "{} at {}", r.rejection, path(&r.path)),
        }
    }
}
